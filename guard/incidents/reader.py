"""Reading incidents back: from the Redis Stream when there is one, else from the journal.

Both readers answer the same `Query` with incidents (as dicts, `IncidentV1.to_dict()` shape):
without `since`, the last `limit` matches in time order; with `since`, the first `limit` matches
at or after it in the order they were kept (the order they reached the stream, or were written to
the journal file by file), with a cursor: `after` it, the next page goes on where that one ended,
so a follower or an export sees each incident once, however late a replica replays its spool and
however many files the journal's processes write meanwhile.
"""

from __future__ import annotations

import asyncio
import heapq
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from guard.incidents.journal_pages import (
    JOURNAL_CHUNK,
    MTIME_SLACK_S,
    JournalCursor,
    read_forward,
)
from guard.incidents.lines import read_lines
from guard.incidents.query import Page, Query, is_journal_cursor
from guard.incidents.recorder import epoch_file, journal_dir
from guard.incidents.records import parse_incident
from guard.incidents.retention import journal_files
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import epoch_key, epoch_ms, lost_key, read_epoch, redis_address

log = structlog.get_logger("guard.incidents")

# A query looks at this many stream entries at most, however selective its filters are.
MAX_SCAN = 200_000
_SCAN_STEP = 1000
_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")


class NoCursor(ValueError):
    """`after` a cursor of the other source (a stream entry id asked of the journal, or a journal
    cursor asked of the stream)."""


class IncidentReader(Protocol):
    """Where incidents are read from (`source` names it)."""

    source: str

    async def page(self, query: Query) -> Page: ...

    async def query(self, query: Query) -> list[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


def parse_cursor(value: str) -> str:
    """A cursor given back by an earlier answer: a Redis Stream entry id (`1700000000000-0`)
    or a journal cursor (`j1.` and what it packs)."""
    if is_journal_cursor(value):
        JournalCursor.decode(value)
    elif not _CURSOR.match(value) or max(map(int, value.split("-"))) >= 2**64:
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
        answer = await asyncio.to_thread(self._read, query, skipped)
        if skipped:
            file, line = skipped[0]
            log.warning("journal_lines_unreadable", count=len(skipped), first_file=file,
                        first_line=line)
        return answer

    async def query(self, query: Query) -> list[dict[str, Any]]:
        return (await self.page(query)).incidents

    def page_now(self, query: Query) -> Page:
        """The answer to `query`; the lines it could not read join `skipped`."""
        skipped: list[tuple[str, int]] = []
        answer = self._read(query, skipped)
        self.skipped.update(dict.fromkeys(skipped))
        return answer

    def query_now(self, query: Query) -> list[dict[str, Any]]:
        return self.page_now(query).incidents

    def _read(self, query: Query, skipped: list[tuple[str, int]]) -> Page:
        """The answer to `query`, holding at most `limit` incidents at a time. With `since` or
        `after`, read forward from the cursor (`journal_pages`). Without, files are read from
        the last written back, and no further once an older file cannot hold an incident newer
        than the `limit` kept (an incident is written after it is made, and a replayed spool
        writes old ones into new files, so a file's name bounds nothing). The lines it cannot
        read are added to `skipped`."""
        if query.after is not None and not is_journal_cursor(query.after):
            raise NoCursor("after: a Redis Stream cursor, and this guard keeps its incidents in "
                           "the journal only (start again with since)")
        if query.since is not None or query.after is not None:
            found, cursor = read_forward(self.directory, query, skipped)
            return Page(found, self.source, cursor)
        return Page(self._newest(query, skipped), self.source)

    def _newest(self, query: Query, skipped: list[tuple[str, int]]) -> list[dict[str, Any]]:
        """The last `limit` matches, in time order."""
        newest: list[dict[str, Any]] = []  # the newest `limit` matches so far, newest first
        for written, path in sorted(self._files(), reverse=True):
            if len(newest) == query.limit and written < newest[-1]["time"]:
                break
            newest = heapq.nlargest(
                query.limit, chain(newest, self._matching(path, query, skipped)), key=_order)
        return newest[::-1]

    def _files(self) -> list[tuple[float, Path]]:
        """The journal files, each with the latest time an incident in it can have (its mtime,
        plus `MTIME_SLACK_S`)."""
        if not self.directory.exists():
            return []
        return [(file.mtime + MTIME_SLACK_S, file.path) for file in journal_files(self.directory)]

    def _matching(self, path: Path, query: Query, skipped: list[tuple[str, int]]
                  ) -> Iterator[dict[str, Any]]:
        """The incidents of one file `query` matches; a line too long to be one (MAX_LINE: a
        file of NULs a power loss left has no newline) is read past, not held."""
        lines = read_lines(path, chunk=JOURNAL_CHUNK)
        try:
            for number, (line, _, _) in enumerate(lines, start=1):
                if line is not None and not line.strip():
                    continue  # a blank line holds nothing to miss
                record = None if line is None else parse_incident(line)
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


class RedisReader:
    """Reads the Redis Stream the recorder writes (entry ids are Redis's clock at XADD).
    `epoch_file` is this replica's record of the stream's epoch (the sink's): a stream Redis
    holds no epoch of though this replica wrote to it was lost, even before anyone writes again."""

    source = "redis"

    def __init__(self, url: str, stream: str, epoch_file: Path | None = None) -> None:
        self.stream = stream
        self.epoch_file = epoch_file
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    async def query(self, query: Query) -> list[dict[str, Any]]:
        return (await self.page(query)).incidents

    async def page(self, query: Query) -> Page:
        if query.after is not None and is_journal_cursor(query.after):
            raise NoCursor("after: a journal cursor, and these incidents are read from the Redis "
                           "Stream (start again with since)")
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
                incident = None if data is None else parse_incident(data)
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
        reached = _first_entry(query) if forward else ("-" if len(found) < query.limit else None)
        return Page(found if forward else found[::-1], self.source, cursor,
                    await self._lost_before(reached))

    async def _lost_before(self, reached: str | None) -> str | None:
        """A warning when the query reached back to before the stream's epoch and the stream
        was lost then (Redis restarted empty: guard.incidents.sinks marks it)."""
        if reached is None:
            return None
        lost = await self._redis.get(lost_key(self.stream))
        if lost is None and await self._emptied():
            return ("the Redis Stream holds no epoch though this replica wrote to it: Redis lost "
                    "the stream (it restarted empty; the stream needs Redis persistence) and no "
                    "incident was written since. Every replica's journal still holds its own: "
                    "read it with `guard incidents export --state-dir <state_dir>` on each "
                    "replica.")
        began = None if lost is None else epoch_ms(_text(lost))
        if began is None or (reached not in ("-", "+")
                             and int(reached.lstrip("(").partition("-")[0]) >= began):
            return None
        at = datetime.fromtimestamp(began / 1000, UTC).isoformat(timespec="seconds")
        return (f"the Redis Stream holds no incident added before {at}: Redis lost the stream "
                "then (it restarted empty; the stream needs Redis persistence). Every replica's "
                "journal still holds its own: read it with `guard incidents export --state-dir "
                "<state_dir>` on each replica.")

    async def _emptied(self) -> bool:
        """Redis holds no epoch of the stream, and this replica saw one there: lost since."""
        if self.epoch_file is None or await self._redis.exists(epoch_key(self.stream)):
            return False
        seen = await asyncio.to_thread(read_epoch, self.epoch_file, self.stream,
                                       redis_address(self._redis))
        return seen is not None

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


FALLBACK_SOURCE = "journal (Redis unreachable: this replica's incidents only)"


class FallbackReader:
    """The Redis Stream, and this replica's journal while Redis cannot be read: every replica
    writes both, so an outage does not hide the incidents it kept."""

    def __init__(self, primary: IncidentReader, fallback: IncidentReader) -> None:
        self.primary, self.fallback = primary, fallback
        self.source = primary.source

    async def query(self, query: Query) -> list[dict[str, Any]]:
        return (await self.page(query)).incidents

    async def page(self, query: Query) -> Page:
        if query.after is not None and is_journal_cursor(query.after):
            # pages begun from the journal while Redis was away go on there, each incident once
            found = await self.fallback.page(query)
            return replace(found, source=FALLBACK_SOURCE)
        try:
            return await self.primary.page(query)
        except ResponseError:
            raise  # Redis is up and refused the command: the journal would hide why
        except (RedisError, OSError) as exc:
            if query.after is not None:
                raise  # the journal cannot go on from a stream cursor: 503, and ask again
            log.warning("incidents_read_from_journal", error=type(exc).__name__)
            return replace(await self.fallback.page(query), source=FALLBACK_SOURCE)

    async def aclose(self) -> None:
        await self.primary.aclose()
        await self.fallback.aclose()


def build_reader(settings: IncidentSettings, state_dir: Path,
                 redis_url: str | None) -> IncidentReader:
    """The Redis Stream reader when Redis is configured (falling back to the journal, when one
    is written), else the journal reader."""
    if redis_url:
        shared = RedisReader(redis_url, settings.redis_stream, epoch_file(state_dir))
        return FallbackReader(shared, JournalReader(state_dir)) if settings.journal else shared
    return JournalReader(state_dir)
