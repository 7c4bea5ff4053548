"""Breaker trips claimed by one worker of a `--workers` group that counts without Redis.

Each worker counts a breaker's incidents on its own (without Redis, or while it is unreachable).
The first to cross a threshold claims the scope in the group's directory (GUARD_HELD_DIR:
guard.killswitch.held), as a replica claims it in Redis with `SET NX` for the switch's duration:
one file per claimed scope holding when the claim ends and the claiming worker's pid, written
under one lock. The other workers then engage nothing for that scope until the claim ends; a
worker whose engage failed drops its claim so that another may try, and a claim whose worker
died before it engaged (SIGKILL, the OOM killer) is taken over (`take_over`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from guard.incidents.retention import pid_alive
from guard.killswitch.held import HELD_DIR_ENV, file_lock, write_atomically


class GroupTrips:
    """Claims of breaker scopes shared by the workers of one group. The calls block (a file
    lock): call them from a thread. OSError when the directory refuses them."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory / "trips"
        self._lock = directory / ".trips.lock"

    @classmethod
    def of_group(cls) -> GroupTrips | None:
        """The claims of this worker's group, or None outside a `--workers` group."""
        named = os.environ.get(HELD_DIR_ENV)
        return cls(Path(named)) if named else None

    def claim(self, key: str, duration_s: float, now: float) -> bool:
        """Whether this worker trips `key` (a breaker and scope): False while another holds it."""
        with self._locked():
            if self._holder(key, now) is not None:
                return False
            for ended in self._dir.glob("*"):  # few: one per trip within a switch's duration
                with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                    if float(ended.read_text().split()[0]) <= now:
                        ended.unlink(missing_ok=True)
            self._write(key, duration_s, now)
            return True

    def take_over(self, key: str, duration_s: float, now: float) -> int | None:
        """`key` claimed by this worker if the worker that holds it no longer runs (killed
        between its claim and its engage): None; else that worker's pid."""
        with self._locked():
            holder = self._holder(key, now)
            if holder is not None and pid_alive(holder):
                return holder
            self._write(key, duration_s, now)
            return None

    def drop(self, key: str) -> None:
        """This worker's claim of `key` ended early (its switch could not be engaged)."""
        with self._locked():
            if self._holder(key, float("-inf")) == os.getpid():
                self._path(key).unlink(missing_ok=True)

    def _holder(self, key: str, now: float) -> int | None:
        """The pid of the worker holding `key` after `now`, or None."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            until, pid = self._path(key).read_text().split()
            if float(until) > now:
                return int(pid)
        return None

    def _write(self, key: str, duration_s: float, now: float) -> None:
        write_atomically(self._path(key), f"{now + duration_s!r} {os.getpid()}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._dir.mkdir(exist_ok=True)
        with file_lock(self._lock):
            yield

    def _path(self, key: str) -> Path:
        # scopes hold what clients chose (model names): hashed into a file name
        return self._dir / hashlib.sha256(key.encode()).hexdigest()[:32]
