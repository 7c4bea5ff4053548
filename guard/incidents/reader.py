"""Reading incidents back: from the Redis Stream when there is one, else from the journal.

Both readers answer the same `Query` with incidents (as dicts, `IncidentV1.to_dict()` shape) in
time order: with `since`, the first `limit` matches at or after it; without, the last `limit`.
The Redis reader also answers `after` a cursor (an entry id it gave before) in the order incidents
reached the stream, so a follower sees each once, however late a replica replays its spool.
"""

from __future__ import annotations

import asyncio
import heapq
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from guard.incidents.lines import read_lines
from guard.incidents.recorder import journal_dir
from guard.incidents.settings import IncidentSettings

log = structlog.get_logger("guard.incidents")

MAX_LIMIT = 10_000
# A query looks at this many stream entries at most, however selective its filters are.
MAX_SCAN = 200_000
_SCAN_STEP = 1000
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# An incident's fields that hold a text, or nothing (absent or null).
_TEXTS = ("kind", "request_id", "tenant", "model", "route", "stage", "action", "mode", "policy",
          "policy_version", "severity", "category", "content_hash", "excerpt")
_TEXT_OR_NONE, _STR = frozenset({str, type(None)}), frozenset({str})
_DICT, _DICT_OR_NONE, _NUMBER = frozenset({dict}), frozenset({dict, type(None)}), (int, float)
_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")
MAX_SINCE = 253_402_300_799.0  # 9999-12-31T23:59:59Z
# How much newer than its file's mtime an incident in it can be: the kernel stamps a write with a
# clock a tick behind time.time(), and some filesystems keep mtimes to the second (FAT: 2 s).
MTIME_SLACK_S = 2.0
# A journal file is read this many bytes at a time: what a query holds besides its `limit`.
JOURNAL_CHUNK = 1 << 16


class NoCursor(ValueError):
    """`after` asked of a source that keeps no arrival order (the journal)."""


@dataclass(frozen=True)
class Query:
    """Which incidents: at or after `since` (Unix seconds), with this action, rule or tenant;
    `after`: only those that reached the Redis Stream after this cursor, in arrival order."""

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
    """One query's answer: the incidents, what they were read from, and where a follower asks
    `after` next (None when the source keeps no arrival order). Returned, never kept on the
    reader: queries run at once (two operators' tails, an export beside them)."""

    incidents: list[dict[str, Any]]
    source: str
    cursor: str | None = None


class IncidentReader(Protocol):
    """Where incidents are read from (`source` names it)."""

    source: str

    async def page(self, query: Query) -> Page: ...

    async def query(self, query: Query) -> list[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


def parse_since(value: str, now: float | None = None) -> float:
    """`15m`, `2h`, `7d` (ago), Unix seconds, or an ISO 8601 time → Unix seconds, a time from
    1970 to the year 9999 (nan, inf and times out of that range are a ValueError)."""
    value = value.strip()
    since = _seconds(value, time.time() if now is None else now)
    if not 0 <= since <= MAX_SINCE:  # nan too
        raise ValueError(f"since: {value[:40]!r} is not a time from 1970 to the year 9999")
    return since


def _seconds(value: str, now: float) -> float:
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


def parse_cursor(value: str) -> str:
    """A cursor given back by an earlier answer (a Redis Stream entry id, `1700000000000-0`)."""
    if not _CURSOR.match(value) or max(map(int, value.split("-"))) >= 2**64:
        raise ValueError(f"after: {value[:40]!r} is not a cursor from an earlier answer")
    return value


class JournalReader:
    """Reads the JSONL journal files of `state_dir` (every process's, every rotation)."""

    source = "journal"

    def __init__(self, state_dir: Path) -> None:
        self.directory = journal_dir(state_dir)
        # (file, line) the queries of `query_now` could not read, each once (the CLI's pages)
        self.skipped: dict[tuple[str, int], None] = {}

    async def page(self, query: Query) -> Page:
        skipped: list[tuple[str, int]] = []  # this query's own: others may run beside it
        found = await asyncio.to_thread(self._read, query, skipped)
        if skipped:
            file, line = skipped[0]
            log.warning("journal_lines_unreadable", count=len(skipped), first_file=file,
                        first_line=line)
        return Page(found, self.source)

    async def query(self, query: Query) -> list[dict[str, Any]]:
        return (await self.page(query)).incidents

    def query_now(self, query: Query) -> list[dict[str, Any]]:
        """The answer to `query`; the lines it could not read join `skipped`."""
        skipped: list[tuple[str, int]] = []
        found = self._read(query, skipped)
        self.skipped.update(dict.fromkeys(skipped))
        return found

    def _read(self, query: Query, skipped: list[tuple[str, int]]) -> list[dict[str, Any]]:
        """The answer to `query`, holding at most `limit` incidents at a time: without `since`,
        files are read from the last written back, and no further once an older file cannot
        hold an incident newer than the `limit` kept (an incident is written after it is made,
        and a replayed spool writes old ones into new files, so a file's name bounds nothing).
        The lines it cannot read are added to `skipped`."""
        if query.after is not None:
            raise NoCursor("after: a cursor follows the Redis incident stream, and this guard "
                             "keeps its incidents in the journal only (read with since)")
        files = self._files(query.since)
        if query.since is not None:
            found = (i for _, path in files for i in self._matching(path, query, skipped))
            return heapq.nsmallest(query.limit, found, key=_order)
        newest: list[dict[str, Any]] = []  # the newest `limit` matches so far, newest first
        for written, path in sorted(files, reverse=True):
            if len(newest) == query.limit and written < newest[-1]["time"]:
                break
            newest = heapq.nlargest(
                query.limit, chain(newest, self._matching(path, query, skipped)), key=_order)
        return newest[::-1]

    def _files(self, since: float | None) -> list[tuple[float, Path]]:
        """The journal files that can hold an incident at or after `since`, each with the
        latest time an incident in it can have (its mtime, plus `MTIME_SLACK_S`)."""
        if not self.directory.exists():
            return []
        files = []
        for path in sorted(self.directory.glob("*.jsonl")):
            try:
                written = path.stat().st_mtime + MTIME_SLACK_S
            except FileNotFoundError:
                continue  # pruned since the listing
            if since is None or written >= since:
                files.append((written, path))
        return files

    def _matching(self, path: Path, query: Query, skipped: list[tuple[str, int]]
                  ) -> Iterator[dict[str, Any]]:
        """The incidents of one file `query` matches; a line too long to be one (MAX_LINE: a
        file of NULs a power loss left has no newline) is read past, not held."""
        lines = read_lines(path, chunk=JOURNAL_CHUNK)
        try:
            for number, (line, _, _) in enumerate(lines, start=1):
                if line is not None and not line.strip():
                    continue  # a blank line holds nothing to miss
                record = None if line is None else _record(line)
                if record is None:
                    skipped.append((str(path), number))
                elif query.matches(record):
                    yield record
        except FileNotFoundError:
            return  # pruned since the listing
        finally:
            lines.close()

    async def aclose(self) -> None:
        return None


def _order(incident: dict[str, Any]) -> tuple[Any, Any]:
    return incident["time"], incident["id"]


def _record(line: bytes) -> dict[str, Any] | None:
    """One journal line as an incident; None for a line a crash tore (SIGKILL mid-write) or
    that is not an incident: one bad line must not hide the others."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if _well_formed(record) else None


def _well_formed(record: Any) -> bool:
    """Whether `record` has an incident's types in every field readers use (filters, the CSV,
    the report): a line written otherwise (a bug, a hand edit, another writer) is skipped like
    a torn one rather than failing every query it falls in. (Types are compared in C, map over
    map: this runs for every line a query reads.)"""
    if type(record) is not dict or type(record.get("id")) is not str \
            or type(record.get("time")) not in _NUMBER:
        return False
    rules, matches = record.get("rules") or [], record.get("matches") or []
    return (_TEXT_OR_NONE.issuperset(map(type, map(record.get, _TEXTS)))
            and type(rules) is list and _STR.issuperset(map(type, rules))
            and type(matches) is list and _DICT.issuperset(map(type, matches))
            and _verdicts(record.get("verdicts")) and _verdicts(record.get("prompt_verdicts"))
            and type(record.get("details")) in _DICT_OR_NONE)


def _verdicts(verdicts: Any) -> bool:
    return verdicts is None or (type(verdicts) is list and all(
        type(v) is dict and type(v.get("classifier")) is str and type(v.get("score")) in _NUMBER
        and type(v.get("joined", 0)) is int for v in verdicts))


class RedisReader:
    """Reads the Redis Stream the recorder writes (entry ids are Redis's clock at XADD)."""

    source = "redis"

    def __init__(self, url: str, stream: str) -> None:
        self.stream = stream
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    async def query(self, query: Query) -> list[dict[str, Any]]:
        return (await self.page(query)).incidents

    async def page(self, query: Query) -> Page:
        found: list[dict[str, Any]] = []
        scanned = 0
        forward = query.since is not None or query.after is not None
        start = _first_entry(query)
        # Where a follower goes on from: the last entry looked at going forward, the newest
        # entry going back (or the stream's end when it is empty).
        cursor = query.after if query.after is not None else "0-0"
        while len(found) < query.limit and scanned < MAX_SCAN:
            if forward:
                entries = await self._redis.xrange(self.stream, min=start, max="+",
                                                   count=_SCAN_STEP)
            else:
                entries = await self._redis.xrevrange(self.stream, max=start, min="-",
                                                      count=_SCAN_STEP)
            if not entries:
                break
            if not forward and scanned == 0:
                cursor = _text(entries[0][0])
            for entry, fields in entries:
                if forward:
                    cursor = _text(entry)
                data = _field(fields, b"data")
                incident = None if data is None else _record(data)
                if incident is None:
                    continue  # not an incident guard's recorder wrote
                if query.matches(incident):
                    found.append(incident)
                    if len(found) == query.limit:
                        break
            scanned += len(entries)
            start = "(" + _text(entries[-1][0])
        if forward and query.after is None and cursor == "0-0":
            cursor = await self._end()
        return Page(found if forward else found[::-1], self.source, cursor)

    async def _end(self) -> str:
        """The newest entry's id, "0-0" for an empty stream."""
        newest = await self._redis.xrevrange(self.stream, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    async def aclose(self) -> None:
        await self._redis.aclose()


def _first_entry(query: Query) -> str:
    """The stream entry id a query starts from (going forward, else back from the end)."""
    if query.after is not None:
        return "(" + query.after
    if query.since is not None:
        # An entry is added after its incident was made, so its id is never before its time.
        return f"{int(query.since * 1000)}-0"
    return "+"


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
        return (await self.page(query)).incidents

    async def page(self, query: Query) -> Page:
        try:
            return await self.primary.page(query)
        except ResponseError:
            raise  # Redis is up and refused the command: the journal would hide why
        except (RedisError, OSError) as exc:
            if query.after is not None:
                raise  # the journal cannot go on from a stream cursor: 503, and ask again
            log.warning("incidents_read_from_journal", error=type(exc).__name__)
            found = await self.fallback.page(query)
            return Page(found.incidents,
                        "journal (Redis unreachable: this replica's incidents only)")

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
