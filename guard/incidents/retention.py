"""Journal retention: whole journal files are deleted once last written more than
`journal_keep_days` ago, and, oldest first, while the journal is larger than `journal_keep_bytes`.

A file a running process may still write to is never deleted. A process holds an exclusive
`flock` on the journal file it writes (`JournalSink`), and the newest file of a pid
(`<time_ns>-<pid>.jsonl`) is kept while that pid lives, locked or not (the moment between a
file's creation and its lock; a process of a release that did not lock). Several processes
(`guard serve --workers N`) prune the one directory: a file another pruner holds or has already
deleted is passed over, and each deletion is logged and counted once.

Blocking file I/O: `prune` runs in a worker thread (`run` puts it there), never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from guard.observability.metrics import Metrics

log = structlog.get_logger("guard.incidents")

PRUNE_INTERVAL_S = 60.0  # how often each process looks (and once as it starts)
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class JournalFile:
    path: Path
    pid: int
    mtime: float
    size: int


def journal_files(directory: Path) -> list[JournalFile]:
    """The journal's files, least recently written first (the order readers give up in)."""
    files = []
    for path in directory.glob("*.jsonl"):
        _, _, pid = path.stem.partition("-")
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # pruned since the listing
        pid_of = int(pid) if pid.isascii() and pid.isdigit() else 0  # "²".isdigit() too
        files.append(JournalFile(path, pid_of, stat.st_mtime, stat.st_size))
    return sorted(files, key=lambda f: (f.mtime, f.path.name))


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def newest_of_live_pids(files: Iterable[JournalFile],
                        alive: Callable[[int], bool] = pid_alive) -> set[Path]:
    """The file each running pid writes to, by name (names sort by creation time)."""
    newest: dict[int, Path] = {}
    for file in files:
        if file.pid not in newest or file.path.name > newest[file.pid].name:
            newest[file.pid] = file.path
    return {path for pid, path in newest.items() if alive(pid)}


class JournalPruner:
    """Deletes whole journal files past `keep_days` (days since their last write) or beyond
    `keep_bytes` (the journal's size, oldest deleted first); None: no such limit."""

    def __init__(self, directory: Path, keep_days: float | None, keep_bytes: int | None,
                 metrics: Metrics, *, interval_s: float = PRUNE_INTERVAL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.keep_days = keep_days
        self.keep_bytes = keep_bytes
        self.metrics = metrics
        self.interval_s = interval_s
        self.clock = clock

    async def run(self) -> None:
        """Prune now and every `interval_s`, until cancelled; never raises otherwise."""
        while True:
            try:
                await asyncio.to_thread(self.prune)
            except OSError as exc:  # an unreadable directory: said, and tried again later
                log.warning("incident_journal_prune_failed", dir=str(self.directory),
                            error=str(exc))
            await asyncio.sleep(self.interval_s)

    def prune(self) -> list[Path]:
        """Delete what the limits no longer keep; the files this call deleted."""
        now = self.clock()
        files = journal_files(self.directory)
        held = newest_of_live_pids(files)
        oldest_kept = None if self.keep_days is None else now - self.keep_days * DAY_S
        total = sum(f.size for f in files)
        deleted: list[Path] = []
        for file in files:
            if oldest_kept is not None and file.mtime < oldest_kept:
                reason = "keep_days"
            elif self.keep_bytes is not None and total > self.keep_bytes:
                reason = "keep_bytes"
            else:
                break  # every file after it was written later
            if file.path in held:
                continue
            deleted_here = self._delete(file.path, reason, now)
            if deleted_here is None:  # held: kept
                continue
            total -= file.size
            if deleted_here:
                deleted.append(file.path)
        return deleted

    def _delete(self, path: Path, reason: str, now: float) -> bool | None:
        """Delete `path` unless a process holds it: True when this call deleted it, False when
        another pruner did first, None when it is held (kept)."""
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # its writer, or another pruner deleting it now
            stat = os.fstat(handle.fileno())
            if stat.st_nlink == 0:
                return False  # deleted by another pruner between the open and the lock
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.metrics.incident_journal_pruned.labels(reason).inc()
        log.info("incident_journal_pruned", file=str(path), bytes=stat.st_size,
                 age_s=round(now - stat.st_mtime), reason=reason)
        return True
