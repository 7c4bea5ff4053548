"""The kill switch's files in state_dir: the switches as one JSON file, and such a file shared by
the processes of one state_dir (`guard serve --workers N`)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

from guard.errors import GuardError
from guard.killswitch.model import Entry

log = structlog.get_logger("guard.killswitch")


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a state file holds: the switches, and (from a Redis store) the epoch and the count
    of changes it had read them at, which tell on start whether Redis lost data meanwhile."""

    entries: dict[str, Entry]
    exists: bool
    epoch: str | None = None
    generation: int = 0


def change_count(value: object) -> int:
    """A change count as Redis or a file holds it; 0 for anything but a whole number."""
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        log.warning("killswitch_generation_unreadable", value=str(value)[:40])
        return 0


class StateFile:
    """The switches as one JSON file, replaced atomically so a crash never leaves half a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Entry]:
        return self.load_state().entries

    def load_state(self) -> SavedState:
        """The switches saved, and the Redis state they were read from (epoch, generation)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return SavedState({}, exists=False)
        except (OSError, ValueError) as exc:
            # Starting without the switches it holds would silently lift them: refuse instead.
            raise GuardError(f"{self.path}: kill switch state unreadable: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("switches"), list):
            raise GuardError(f"{self.path}: kill switch state unreadable: not an object with a "
                             "list of switches")
        try:
            entries = [Entry.from_dict(item) for item in raw["switches"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise GuardError(f"{self.path}: kill switch state unreadable: a switch is "
                             f"malformed ({type(exc).__name__})") from exc
        redis = raw.get("redis")
        redis = redis if isinstance(redis, dict) else {}
        epoch = redis.get("epoch")
        return SavedState({e.switch.id: e for e in entries}, exists=True,
                          epoch=epoch if isinstance(epoch, str) else None,
                          generation=change_count(redis.get("generation")))

    def save(self, entries: Mapping[str, Entry], epoch: str | None = None,
             generation: int = 0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state: dict[str, object] = {"version": 1,
                                    "switches": [e.as_dict() for e in entries.values()]}
        if epoch is not None:
            state["redis"] = {"epoch": epoch, "generation": generation}
        body = json.dumps(state, indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".killswitch.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SharedFile:
    """A state file the processes of one state_dir share (`guard serve --workers N`): changed
    by a read-modify-write under an exclusive file lock, and re-read by the others when its
    signature (mtime, size, inode) is not the one this process last read or wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = StateFile(path)
        self._lock_path = path.with_name(f".{path.stem}.lock")
        self._seen: tuple[int, int, int] | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held by one process at a time; blocks while another holds it (run it in a thread)."""
        with self._open_lock() as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    @contextlib.asynccontextmanager
    async def locked_async(self) -> AsyncIterator[None]:
        """`locked` for a coroutine that awaits while holding it: the lock is tried, never
        waited for in a thread that a cancellation would leave holding it."""
        with await asyncio.to_thread(self._open_lock) as lock:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.01)
            yield

    def _open_lock(self) -> IO[str]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        return self._lock_path.open("a")

    def load(self) -> dict[str, Entry]:
        """The entries the file holds (under the lock: the latest)."""
        self._seen = self._signature()
        return self._file.load()

    def save(self, entries: Mapping[str, Entry]) -> None:
        self._file.save(entries)
        self._seen = self._signature()

    def add(self, more: Mapping[str, Entry]) -> dict[str, Entry]:
        """Add `more` to the entries, under the lock; returns them all."""
        with self.locked():
            entries = {**self.load(), **more}
            self.save(entries)
            return entries

    def reload(self) -> dict[str, Entry] | None:
        """The entries, if another process changed the file since this one last read or wrote
        it; None if not."""
        seen = self._signature()
        if seen == self._seen:
            return None
        entries = self._file.load()
        self._seen = seen
        return entries

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino
