"""Reading the journal forward, a page at a time, each page going on where the last one ended.

A forward read (a query with `since`, or `after` a cursor) takes the journal's files in the
order of their names (`<time_ns>-<pid>.jsonl`: the order they were created) and each file in
the order its lines were written, and hands back a cursor saying where it stopped: the file
and byte it stopped at, and how far it read every file a process may still append to (the
newest file of each pid; a rotated file never grows again). The next page reads only what
lies past that, so an export reads each line once however many pages it takes, and a line
appended while it pages (to any process's file, or to a file a rotation started) is read once,
on a later page. A file retention deleted between pages is passed over.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from guard.incidents.lines import read_lines
from guard.incidents.query import JOURNAL_PREFIX
from guard.incidents.records import parse_incident
from guard.incidents.retention import journal_files, newest_of_live_pids

if TYPE_CHECKING:
    from guard.incidents.query import Query

MAX_CURSOR = 16_384  # characters; the cursor of a journal of thousands of processes' files
# How much newer than its file's mtime an incident in it can be: the kernel stamps a write with a
# clock a tick behind time.time(), and some filesystems keep mtimes to the second (FAT: 2 s).
MTIME_SLACK_S = 2.0
# A journal file is read this many bytes at a time: what a query holds besides its `limit`.
JOURNAL_CHUNK = 1 << 16


@dataclass(frozen=True)
class JournalCursor:
    """Where a forward read goes on. Files named up to `last` were reached: those in `offsets`
    go on from that byte (the file a page stopped in, and files a process may still append
    to), the others were read to their end for good. Files named after `last` are read from
    their start."""

    last: str = ""
    offsets: Mapping[str, int] = field(default_factory=dict)

    def encode(self) -> str:
        data = orjson.dumps({"last": self.last, "offsets": self.offsets})
        return JOURNAL_PREFIX + base64.urlsafe_b64encode(zlib.compress(data)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> JournalCursor:
        """A cursor an earlier answer gave; ValueError for anything else."""
        state = _unpack(text[len(JOURNAL_PREFIX):]) \
            if text.startswith(JOURNAL_PREFIX) and len(text) <= MAX_CURSOR else None
        if not _well_formed(state):
            raise ValueError(f"after: {text[:40]!r} is not a cursor from an earlier answer")
        return cls(state["last"], state["offsets"])  # type: ignore[index]


def _unpack(packed: str) -> Any:
    """What a cursor packs; None when it is not what `encode` writes (base64 of deflated
    JSON, of at most 8 times `MAX_CURSOR` bytes)."""
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)),
                                  MAX_CURSOR * 8)
        whole = inflate.eof and not inflate.unconsumed_tail and not inflate.unused_data
        return orjson.loads(data) if whole else None
    except (ValueError, zlib.error):  # binascii.Error and orjson's are ValueErrors
        return None


def _well_formed(state: Any) -> bool:
    return (type(state) is dict and type(state.get("last")) is str
            and type(state.get("offsets")) is dict
            and all(type(offset) is int and 0 <= offset < 2**63
                    for offset in state["offsets"].values()))


def read_forward(directory: Path, query: Query, skipped: list[tuple[str, int]]
                 ) -> tuple[list[dict[str, Any]], str]:
    """The first `query.limit` matches from `query.after` on (the journal's start when None),
    and the cursor after them. A file no incident at or after `query.since` can be in (last
    written before then) is not read. The lines it cannot read are added to `skipped`."""
    start = JournalCursor.decode(query.after) if query.after is not None else JournalCursor()
    files = sorted(journal_files(directory) if directory.exists() else [],
                   key=lambda f: f.path.name)
    growing = newest_of_live_pids(files, alive=lambda _: True)
    listed = {f.path.name for f in files}
    offsets = {name: at for name, at in start.offsets.items() if name in listed}  # not pruned
    last, found = start.last, list[dict[str, Any]]()
    for file in files:
        name = file.path.name
        if name <= start.last and name not in offsets:
            continue  # read to its end for good
        last = max(last, name)
        if name > start.last and query.since is not None \
                and file.mtime + MTIME_SLACK_S < query.since:
            if file.path in growing:  # nothing in it is recent enough, but what comes may be
                offsets[name] = file.size
            continue
        offsets[name] = _read(file.path, offsets.get(name, 0), query, found, skipped)
        if len(found) == query.limit:
            break
        if file.path not in growing:
            del offsets[name]  # rotated away: it never grows again
    return found, JournalCursor(last, offsets).encode()


def _read(path: Path, start: int, query: Query, found: list[dict[str, Any]],
          skipped: list[tuple[str, int]]) -> int:
    """Add the matches of `path` from byte `start` on to `found`, until it holds `query.limit`;
    the byte reading stopped at. A last line without its newline that is no incident stops it
    (counted in `skipped`): it may be one being written, read whole next time."""
    at, lines = start, read_lines(path, start, chunk=JOURNAL_CHUNK)
    numbers = _LineNumbers(path, start)
    try:
        for index, (line, end, newline) in enumerate(lines):
            record = None if line is None else parse_incident(line)
            if record is None and (line is None or line.strip()):
                skipped.append((str(path), numbers.of(index)))
                if not newline:
                    break
            at = end
            if record is not None and query.matches(record):
                found.append(record)
                if len(found) == query.limit:
                    break
    except FileNotFoundError:
        pass  # pruned since the listing
    finally:
        lines.close()
    return at


class _LineNumbers:
    """The line numbers of a file read from byte `start` on, counted only when one is asked
    for (a line that cannot be read is named by its number)."""

    def __init__(self, path: Path, start: int) -> None:
        self.path, self.start = path, start
        self.before: int | None = None

    def of(self, index: int) -> int:
        """The number of the `index`th line read from `start` (0: the first)."""
        if self.before is None:
            self.before = _newlines(self.path, self.start)
        return self.before + index + 1


def _newlines(path: Path, end: int) -> int:
    """How many newlines the first `end` bytes of `path` hold."""
    count = 0
    with path.open("rb") as f:
        while end > 0 and (data := f.read(min(end, JOURNAL_CHUNK))):
            count += data.count(b"\n")
            end -= len(data)
    return count
