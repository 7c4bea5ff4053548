"""Reading incidents back: from the Redis Stream when there is one, else from the journal.

Both readers answer the same `Query` with incidents (as dicts, `IncidentV1.to_dict()` shape) in
time order: with `since`, the first `limit` matches at or after it; without, the last `limit`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from guard.incidents.recorder import journal_dir
from guard.incidents.settings import IncidentSettings

log = structlog.get_logger("guard.incidents")

MAX_LIMIT = 10_000
# A query looks at this many stream entries at most, however selective its filters are.
MAX_SCAN = 200_000
_SCAN_STEP = 1000
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Query:
    """Which incidents: at or after `since` (Unix seconds), with this action, rule or tenant."""

    since: float | None = None
    action: str | None = None
    rule: str | None = None
    tenant: str | None = None
    kind: str | None = None
    limit: int = 100

    def matches(self, incident: dict[str, Any]) -> bool:
        return ((self.since is None or float(incident.get("time", 0)) >= self.since)
                and (self.action is None or incident.get("action") == self.action)
                and (self.rule is None or self.rule in (incident.get("rules") or ()))
                and (self.tenant is None or incident.get("tenant") == self.tenant)
                and (self.kind is None or incident.get("kind") == self.kind))


class IncidentReader(Protocol):
    """Where incidents are read from (`source` names it in answers)."""

    source: str

    async def query(self, query: Query) -> list[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


def parse_since(value: str, now: float | None = None) -> float:
    """`15m`, `2h`, `7d` (ago), Unix seconds, or an ISO 8601 time → Unix seconds."""
    value = value.strip()
    now = time.time() if now is None else now
    relative = _RELATIVE.match(value)
    if relative:
        return now - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"since: {value!r} is not 15m/2h/7d, Unix seconds or ISO 8601") from exc
    try:
        return (parsed.astimezone() if parsed.tzinfo is None else parsed).timestamp()
    except (ValueError, OverflowError) as exc:  # "year 0 is out of range" in local time
        raise ValueError(f"since: {value!r} is out of range: {exc}") from exc


class JournalReader:
    """Reads the JSONL journal files of `state_dir` (every process's, every rotation)."""

    source = "journal"

    def __init__(self, state_dir: Path) -> None:
        self.directory = journal_dir(state_dir)
        self.skipped: list[tuple[str, int]] = []  # (file, line) the last query could not read

    async def query(self, query: Query) -> list[dict[str, Any]]:
        found = await asyncio.to_thread(self.query_now, query)
        if self.skipped:
            file, line = self.skipped[0]
            log.warning("journal_lines_unreadable", count=len(self.skipped), first_file=file,
                        first_line=line)
        return found

    def query_now(self, query: Query) -> list[dict[str, Any]]:
        self.skipped = []
        found = sorted((i for i in self._incidents(query.since) if query.matches(i)),
                       key=lambda i: (i["time"], i["id"]))
        return found[:query.limit] if query.since is not None else found[-query.limit:]

    def _incidents(self, since: float | None) -> Iterator[dict[str, Any]]:
        if not self.directory.exists():
            return
        for path in sorted(self.directory.glob("*.jsonl")):
            if since is not None and path.stat().st_mtime < since:
                continue  # last written before `since`: nothing in it is recent enough
            with path.open("rb") as f:
                for number, line in enumerate(f, start=1):
                    if line.endswith(b"}\n") or line.endswith(b"}"):
                        record = _record(line)
                        if record is None:
                            self.skipped.append((str(path), number))
                            continue
                        yield record

    async def aclose(self) -> None:
        return None


def _record(line: bytes) -> dict[str, Any] | None:
    """One journal line as an incident; None for a line a crash tore (SIGKILL mid-write) or
    that is not an incident: one bad line must not hide the others."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("time"), (int, float)) \
            or not isinstance(record.get("id"), str):
        return None
    return record


class RedisReader:
    """Reads the Redis Stream the recorder writes (entry ids are Redis's clock at XADD)."""

    source = "redis"

    def __init__(self, url: str, stream: str) -> None:
        self.stream = stream
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    async def query(self, query: Query) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        scanned = 0
        forward = query.since is not None
        # An entry is added after its incident was made, so its id is never before its time.
        cursor = f"{int(query.since * 1000)}-0" if query.since is not None else "+"
        while len(found) < query.limit and scanned < MAX_SCAN:
            if forward:
                entries = await self._redis.xrange(self.stream, min=cursor, max="+",
                                                   count=_SCAN_STEP)
            else:
                entries = await self._redis.xrevrange(self.stream, max=cursor, min="-",
                                                      count=_SCAN_STEP)
            if not entries:
                break
            for _, fields in entries:
                data = _field(fields, b"data")
                if data is None:
                    continue  # not written by guard's recorder
                incident = orjson.loads(data)
                if query.matches(incident):
                    found.append(incident)
                    if len(found) == query.limit:
                        break
            scanned += len(entries)
            cursor = "(" + _text(entries[-1][0])
        return found if forward else found[::-1]

    async def aclose(self) -> None:
        await self._redis.aclose()


def _field(fields: Any, name: bytes) -> bytes | None:
    value = fields.get(name) if isinstance(fields, dict) else None
    return value if isinstance(value, bytes) else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FallbackReader:
    """The Redis Stream, and this replica's journal while Redis cannot be read: every replica
    writes both, so an outage does not hide the incidents it kept."""

    def __init__(self, primary: IncidentReader, fallback: IncidentReader) -> None:
        self.primary, self.fallback = primary, fallback
        self.source = primary.source

    async def query(self, query: Query) -> list[dict[str, Any]]:
        try:
            found = await self.primary.query(query)
            self.source = self.primary.source  # read by the caller before it awaits again
        except (RedisError, OSError) as exc:
            log.warning("incidents_read_from_journal", error=type(exc).__name__)
            found = await self.fallback.query(query)
            self.source = "journal (Redis unreachable: this replica's incidents only)"
        return found

    async def aclose(self) -> None:
        await self.primary.aclose()
        await self.fallback.aclose()


def build_reader(settings: IncidentSettings, state_dir: Path,
                 redis_url: str | None) -> IncidentReader:
    """The Redis Stream reader when Redis is configured (falling back to the journal, when one
    is written), else the journal reader."""
    if redis_url:
        shared = RedisReader(redis_url, settings.redis_stream)
        return FallbackReader(shared, JournalReader(state_dir)) if settings.journal else shared
    return JournalReader(state_dir)
