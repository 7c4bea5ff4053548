"""A sink's spool: incidents it could not take, kept on disk in order until it takes them.

Layout: `<dir>/<time_ns>-<pid>.jsonl`, one incident per line, plus `<file>.pos`, the byte offset
already delivered. Each file is held under an exclusive `flock` by the process using it, so with
`guard serve --workers N` every worker replays its own files, and the files of a process that
died (SIGKILL, power loss) are picked up by whichever process starts next.

A line that is no incident (damaged on disk, or longer than `MAX_LINE`) is skipped when read,
reported to `on_unreadable` and never offered to a sink: one bad line does not stop the others.

Blocking file I/O: call these methods from a worker thread (`asyncio.to_thread`), never from the
event loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import orjson

from guard.incidents.lines import READ_CHUNK, ShortWrite, read_lines, write_lines

# (file, offset, bytes, reason): a line skipped as unreadable ("not_an_incident", "too_long")
OnUnreadable = Callable[[Path, int, int, str], None]


class Spool:
    """An append-only, replay-in-order queue of JSON lines on disk, bounded by `max_bytes`."""

    def __init__(self, directory: Path, max_bytes: int,
                 on_unreadable: OnUnreadable = lambda *_: None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.on_unreadable = on_unreadable
        directory.mkdir(parents=True, exist_ok=True)
        self._files: list[Path] = []
        self._locks: dict[Path, BinaryIO] = {}
        self._writer: BinaryIO | None = None
        self._writing: Path | None = None
        self._dirty = False
        self._offset: dict[Path, int] = {}
        self._uncommitted: tuple[Path, list[int]] | None = None  # the last batch's line ends
        self._waiting: dict[Path, int] = {}  # per file, the lines not yet delivered nor skipped
        self._size = 0
        self._adopt_orphans()

    # -- writing -----------------------------------------------------------------------------

    def append(self, lines: Sequence[bytes]) -> int:
        """Add `lines` at the end; returns how many fit within `max_bytes` (the rest are lost).
        Raises ShortWrite, saying how many went in, when the disk refuses the write."""
        room = self.max_bytes - self._size
        fitting: list[bytes] = []
        for line in lines:
            room -= len(line) + 1
            if room < 0:
                break
            fitting.append(line)
        if fitting:
            writer = self._writer or self._open_writer()
            path = self._writing
            assert path is not None
            try:
                # unbuffered: in the page cache at once (survives a SIGKILL of this process)
                self._size += write_lines(writer, fitting)
            except ShortWrite as exc:
                # a full disk: the file may end in part of a line; later lines go to a new
                # file (that part is never read: a torn last line is skipped)
                self._size += exc.written
                self._add_waiting(path, exc.taken)
                self._stop_writing()
                raise
            self._dirty = True
            self._add_waiting(path, len(fitting))
        return len(fitting)

    def _add_waiting(self, path: Path, count: int) -> None:
        self._waiting[path] = self._waiting.get(path, 0) + count

    def _stop_writing(self) -> None:
        """After a failed write: close the file (removed if nothing is in it)."""
        assert self._writer is not None and self._writing is not None
        with contextlib.suppress(OSError):
            os.fsync(self._writer.fileno())  # the lines that went in are kept
        with contextlib.suppress(OSError):
            self._writer.close()
        if self._size_of(self._writing) == 0:
            self._writing.unlink(missing_ok=True)
            self._files.remove(self._writing)
            self._waiting.pop(self._writing, None)
        self._writer, self._writing, self._dirty = None, None, False

    def sync(self) -> None:
        """fsync what was appended since the last sync (survives power loss from then on)."""
        if self._writer is not None and self._dirty:
            os.fsync(self._writer.fileno())
            self._dirty = False

    # -- replaying ---------------------------------------------------------------------------

    def pending(self) -> bool:
        return bool(self._files)

    @property
    def waiting(self) -> int:
        """Incidents spooled and not yet delivered (nor skipped as unreadable)."""
        return sum(self._waiting.values())

    def read_batch(self, limit: int) -> list[bytes]:
        """Up to `limit` of the oldest lines not yet delivered; `commit()` once delivered."""
        while self._files:
            path = self._files[0]
            lines: list[bytes] = []
            ends: list[int] = []
            with contextlib.closing(read_lines(path, self._offset.get(path, 0))) as found:
                for line, end, ended in found:
                    if line is not None and _is_incident(line):
                        lines.append(line)
                        ends.append(end)
                        if len(lines) == limit:
                            break
                    elif not ended or lines:
                        break  # a torn last line (its write was retried), or the batch ends here
                    else:
                        self._skip(path, end, "too_long" if line is None else "not_an_incident")
            if lines:
                self._uncommitted = (path, ends)
                return lines
            self._retire(path)
        return []

    def commit(self, count: int | None = None) -> None:
        """Mark the last batch read (or its first `count` lines) as delivered (persisted, so a
        restart does not resend it)."""
        if self._uncommitted is None or count == 0:
            return
        path, ends = self._uncommitted
        self._uncommitted = None
        self._mark_delivered(path, ends[-1] if count is None else ends[count - 1])
        self._add_waiting(path, -(len(ends) if count is None else count))

    def _mark_delivered(self, path: Path, offset: int) -> None:
        self._offset[path] = offset
        _pos_path(path).write_text(str(offset))

    def _skip(self, path: Path, end: int, reason: str) -> None:
        start = self._offset.get(path, 0)
        self._mark_delivered(path, end)
        self._add_waiting(path, -1)
        self.on_unreadable(path, start, end - start, reason)

    def close(self) -> None:
        self.sync()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for lock in self._locks.values():
            lock.close()
        self._locks.clear()

    # -- files -------------------------------------------------------------------------------

    @staticmethod
    def _size_of(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return -1

    def _open_writer(self) -> BinaryIO:
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}.jsonl"
        writer = path.open("ab", buffering=0)
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        self._writer, self._writing = writer, path
        self._files.append(path)
        return writer

    def _retire(self, path: Path) -> None:
        """A fully delivered file: delete it (and stop writing to it if it is ours)."""
        if path == self._writing and self._writer is not None:
            self._writer.close()
            self._writer, self._writing, self._dirty = None, None, False
        lock = self._locks.pop(path, None)
        size = path.stat().st_size if path.exists() else 0
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            _pos_path(path).unlink()
        if lock is not None:
            lock.close()
        self._offset.pop(path, None)
        self._waiting.pop(path, None)
        self._files.remove(path)
        self._size = max(0, self._size - size)

    def _adopt_orphans(self) -> None:
        """Files left by processes that are gone (no lock held on them), oldest first."""
        for path in sorted(self.directory.glob("*.jsonl")):
            handle = path.open("rb")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()  # a live process owns it and replays it itself
                continue
            self._locks[path] = handle
            self._files.append(path)
            self._size += path.stat().st_size
            pos = _pos_path(path)
            if pos.exists():
                with contextlib.suppress(ValueError):
                    self._offset[path] = int(pos.read_text() or 0)
            self._waiting[path] = _lines_after(handle, self._offset.get(path, 0))


def _is_incident(line: bytes) -> bool:
    """A JSON object with an `id`: what every sink can take (a damaged line is not)."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("id"), str)


def _lines_after(file: BinaryIO, offset: int) -> int:
    """How many lines `file` holds after `offset`, a last one without its newline included."""
    file.seek(offset)
    count, last = 0, b"\n"
    while data := file.read(READ_CHUNK):
        count += data.count(b"\n")
        last = data[-1:]
    return count + (last != b"\n")


def _pos_path(path: Path) -> Path:
    return path.with_suffix(".pos")
