"""Which incidents a read asks for (`Query`), what it answers (`Page`), the `since` a person
writes, and which reader a page's cursor came from: what the readers (`reader`), the admin API
and `guard incidents` share. Light on purpose (no Redis client, no journal code): the command line
reads its arguments with it before it knows which reader it needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guard.durations import duration_s

MAX_LIMIT = 10_000
MAX_SINCE = 253_402_300_799.0  # 9999-12-31T23:59:59Z
JOURNAL_PREFIX = "j1."  # a journal cursor; a Redis Stream's is an entry id, `1700000000000-0`


@dataclass(frozen=True)
class Query:
    """Which incidents: at or after `since` (Unix seconds), with this action, rule or tenant;
    `after`: only those kept after this cursor (a page's), in the order they were kept."""

    since: float | None = None
    action: str | None = None
    rule: str | None = None
    tenant: str | None = None
    kind: str | None = None
    limit: int = 100
    after: str | None = None

    def matches(self, incident: dict[str, Any]) -> bool:
        return ((self.since is None or float(incident.get("time", 0)) >= self.since)
                and (self.action is None or incident.get("action") == self.action)
                and (self.rule is None or self.rule in (incident.get("rules") or ()))
                and (self.tenant is None or incident.get("tenant") == self.tenant)
                and (self.kind is None or incident.get("kind") == self.kind))


@dataclass(frozen=True)
class Page:
    """One query's answer: the incidents, what they were read from, where a follower asks
    `after` next (None for the journal's last `limit`, read from its end back), and a warning
    when the source cannot hold all the query asked for. Returned, never kept on the reader:
    queries run at once (two operators' tails, an export beside them)."""

    incidents: list[dict[str, Any]]
    source: str
    cursor: str | None = None
    warning: str | None = None  # what the answer may lack, and where to find it


def parse_since(value: str, now: float | None = None) -> float:
    """`15m`, `2h`, `7d`, `1h30m` (ago: `guard.durations`), Unix seconds, or an ISO 8601 time →
    Unix seconds, a time from 1970 to the year 9999 (nan, inf and times out of that range are a
    ValueError)."""
    value = value.strip()
    since = _seconds(value, time.time() if now is None else now)
    if not 0 <= since <= MAX_SINCE:  # nan too
        raise ValueError(f"since: {value[:40]!r} is not a time from 1970 to the year 9999")
    return since


def _seconds(value: str, now: float) -> float:
    ago = duration_s(value)
    if ago is not None:
        return now - ago
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"since: {value!r} is not 15m/2h/7d/1h30m, Unix seconds or ISO 8601") from exc
    try:
        return (parsed.astimezone() if parsed.tzinfo is None else parsed).timestamp()
    except (ValueError, OverflowError) as exc:  # "year 0 is out of range" in local time
        raise ValueError(f"since: {value!r} is out of range: {exc}") from exc


def is_journal_cursor(text: str) -> bool:
    return text.startswith(JOURNAL_PREFIX)


def stream_cursor_ms(cursor: str) -> int | None:
    """The Redis clock (ms) at which a stream cursor's entry was added; None for a journal
    cursor."""
    return None if is_journal_cursor(cursor) else int(cursor.partition("-")[0])
