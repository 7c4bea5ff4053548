"""Incidents lost at shutdown, carried to the next start so that Prometheus sees them.

What a sink and its spool would not take by the end of a shutdown (a full disk) is lost; counted
in the stopping process, it would go up only as its admin listener closes, and no scrape would
see it. So the count is saved in `state_dir/incidents/lost/<time_ns>-<pid>.count` (written aside,
then renamed), and the next process to start adds it to `guard_incident_dropped_total` and
removes the file. Each process keeps `RESERVE_BYTES` of the volume for that file
(`<pid>.reserve`, locked while it runs), given back just before the write when the disk is full.
If even that cannot be written, the `incident_lost_at_shutdown` log line is the record.

Blocking file I/O: call these from a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import BinaryIO

import structlog

from guard.killswitch.held import write_atomically

log = structlog.get_logger("guard.incidents")

RESERVE_BYTES = 8192


class ShutdownLoss:
    """This process's reserve in `directory`, and the counts earlier processes left there."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._reserve: BinaryIO | None = None

    @property
    def _reserve_path(self) -> Path:
        return self.directory / f"{os.getpid()}.reserve"

    def open(self) -> int:
        """Claim the counts left by processes stopped before (each claimed by one process: the
        one whose unlink succeeds), remove reserves of processes that are gone, and take this
        process's reserve; the incidents claimed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        claimed = sum(self._claim(path) for path in sorted(self.directory.glob("*.count")))
        for path in self.directory.glob("*.reserve"):
            with path.open("rb") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process's
                path.unlink(missing_ok=True)
        try:
            self._reserve = self._reserve_path.open("wb", buffering=0)
            fcntl.flock(self._reserve.fileno(), fcntl.LOCK_EX)
            os.posix_fallocate(self._reserve.fileno(), 0, RESERVE_BYTES)  # blocks, not a sync
        except OSError as exc:
            log.warning("incident_loss_reserve_failed", dir=str(self.directory),
                        error=str(exc), detail="incidents lost at this process's shutdown on a "
                        "full disk may be recorded only in its log")
        return claimed

    @staticmethod
    def _claim(path: Path) -> int:
        try:
            text = path.read_text(encoding="utf-8")
            path.unlink()
        except FileNotFoundError:
            return 0  # claimed by another process starting at the same time
        if not text.isdigit():
            log.error("incident_loss_file_unreadable", file=str(path), content=text[:40])
            return 0
        return int(text)

    def save(self, lost: int) -> bool:
        """Keep `lost` for the next start (nothing to keep when 0); False when it could not be
        written even with the reserve given back. Lets the reserve go either way."""
        try:
            if lost:
                return self._write(lost)
            return True
        finally:
            self.close()

    def _write(self, lost: int) -> bool:
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}.count"
        error = _write_count(path, lost)
        if error is not None and self._reserve is not None:
            self.close()  # the room kept for this write
            error = _write_count(path, lost)
        if error is not None:
            log.error("incident_loss_not_saved", file=str(path), dropped=lost, error=str(error))
            return False
        return True

    def close(self) -> None:
        """Give the reserve back (a clean stop)."""
        if self._reserve is not None:
            self._reserve_path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._reserve.close()
            self._reserve = None


def _write_count(path: Path, lost: int) -> OSError | None:
    """Write `lost` as `path`, whole or not at all; the error if the disk refused it."""
    try:
        write_atomically(path, str(lost), durable=True)
    except OSError as exc:
        return exc
    return None
