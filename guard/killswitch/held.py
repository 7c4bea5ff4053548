"""Switches held unsaved (the state volume is full), shared by the workers of one group.

`guard serve --workers N` makes a directory on a memory file system (/dev/shm when there is
one: a full state volume cannot refuse it) and names it in GUARD_HELD_DIR. A worker that holds
a switch it cannot save writes it there, one file per switch (`<id>.json`: the entry, why it is
unsaved, the worker's pid); every worker reads the directory as it polls the state file, so
each enforces and lists what any of them holds. Whichever worker then saves them removes their
files; a release of a held switch removes its file, which lifts it on every worker.

Without the variable (one process), or if the directory refuses a write, held switches live in
this process's memory only.

With Redis, a change made while Redis is unreachable is held the same way, and its `kind` says
what it is to do once Redis is back (`Held.written`): an ENGAGE adds a new switch, a RELEASE
removes one, an APPROVE adds approvals of a release (the two-person rule) to a switch. The Redis
store also saves them in its state file (apart from the shared switches), so they outlive the
process and its group's directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import structlog

from guard.killswitch.model import Entry

log = structlog.get_logger("guard.killswitch")

HELD_DIR_ENV = "GUARD_HELD_DIR"
MEMORY_FS = Path("/dev/shm")  # noqa: S108 - the group's own directory is made in it (mkdtemp)


ENGAGE, APPROVE, RELEASE = "engage", "approve", "release"


@dataclass(frozen=True, slots=True)
class Held:
    """A change enforced but not saved: the switch (as engaged or approved, or as it was before
    its release), why it is unsaved, the pid of the worker that took it, and the change's kind."""

    entry: Entry
    reason: str
    pid: int
    kind: str = ENGAGE

    @property
    def enforced(self) -> Entry | None:
        """The switch as this host enforces it meanwhile (None: released here)."""
        return None if self.kind == RELEASE else self.entry

    def written(self, current: Entry | None, needed: int) -> Entry | None:
        """What the shared state holds once this change is written over `current`, what it
        holds now (other replicas may have changed it meanwhile). No change made during an
        outage is dropped, and none undoes a newer one: a switch engaged here is new (its id is
        fresh), so it is added whatever else was engaged; a release removes its switch if it is
        still there (a switch's only other change is an approval, older than a release); an
        approval is merged with those given elsewhere, and releases the switch once they are
        `needed`, but does not bring back a switch released elsewhere meanwhile."""
        if self.kind == ENGAGE:
            return current or self.entry
        if self.kind == RELEASE or current is None:
            return None
        approvals = tuple(dict.fromkeys((*current.release_approvals,
                                         *self.entry.release_approvals)))
        return None if len(approvals) >= needed else replace(current, release_approvals=approvals)

    def as_dict(self) -> dict[str, Any]:
        """As a held switch's file (and the Redis store's state file) keeps it."""
        return {"switch": self.entry.as_dict(), "reason": self.reason, "pid": self.pid,
                "kind": self.kind}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Held:
        """KeyError, TypeError or ValueError for a malformed one."""
        return cls(Entry.from_dict(raw["switch"]), str(raw["reason"]), int(raw["pid"]),
                   str(raw.get("kind", ENGAGE)))


GROUP_DIR_PREFIX = "guard-held-"


def group_dir_parent() -> Path:
    """Where `--workers` groups make their directories: a memory file system when there is one."""
    if MEMORY_FS.is_dir() and os.access(MEMORY_FS, os.W_OK):
        return MEMORY_FS
    return Path(tempfile.gettempdir())


def make_group_dir(supervisor: int) -> Path:
    """The directory a `--workers` group shares its held switches in, named after its
    supervisor's pid (removed when the group stops, or by the next group if it was killed)."""
    return Path(tempfile.mkdtemp(prefix=f"{GROUP_DIR_PREFIX}{supervisor}-", dir=group_dir_parent()))


class HeldSwitches:
    """The held switches this process knows: its own, and (with a group directory) its
    group's. `add` is for the event loop (no I/O); the others block: call them from a thread."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is None and (named := os.environ.get(HELD_DIR_ENV)):
            directory = Path(named)
        self.directory = directory
        self._mutex = threading.Lock()
        self._own: dict[str, Held] = {}  # not (yet) in the directory
        self._unshared: set[str] = set()  # the directory refused them: this process's alone

    def add(self, held: Held) -> None:
        """Hold `held` in this process at once; `share` then hands it to the group."""
        with self._mutex:
            self._own[held.entry.switch.id] = held

    def share(self, switch_id: str) -> None:
        """Write a switch `add`ed here to the group's directory (kept here if it refuses)."""
        with self._mutex:
            held = self._own.get(switch_id)
            if held is None or self.directory is None:
                return
            body = json.dumps(held.as_dict())
            try:
                write_atomically(self.directory / f"{switch_id}.json", body)
            except OSError as exc:
                self._unshared.add(switch_id)
                log.warning("killswitch_held_not_shared", id=switch_id, dir=str(self.directory),
                            error=str(exc))
                return
            del self._own[switch_id]

    def local_only(self, switch_id: str) -> bool:
        """Whether the other workers (if any) cannot see this held switch."""
        return self.directory is None or switch_id in self._unshared

    def read(self) -> dict[str, Held]:
        """Every switch held now: this process's, and those in the group's directory."""
        with self._mutex:
            found = dict(self._own)
            if self.directory is None:
                return found
            with contextlib.suppress(FileNotFoundError):
                for path in self.directory.glob("ks_*.json"):
                    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
                        held = Held.from_dict(json.loads(path.read_text(encoding="utf-8")))
                        found[held.entry.switch.id] = held
            return found

    def change(self, held: Held, entry: Entry | None) -> None:
        """`held`'s switch released (None), or changed (an approval of its release), unsaved:
        on every worker of the group."""
        if entry is None:
            self.discard([held.entry.switch.id])
            return
        self.add(replace(held, entry=entry))
        self.share(entry.switch.id)

    def discard(self, switch_ids: Iterable[str]) -> None:
        """No longer held (saved, or released): on every worker of the group."""
        with self._mutex:
            for switch_id in switch_ids:
                self._own.pop(switch_id, None)
                self._unshared.discard(switch_id)
                if self.directory is not None:
                    (self.directory / f"{switch_id}.json").unlink(missing_ok=True)


def write_atomically(path: Path, body: str, *, durable: bool = False) -> None:
    """`body` as `path`, whole or not at all (written aside, then renamed over it); `durable`:
    on the disk before the rename (the state file; a held switch's file is in memory)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive `flock` on `path` (made if missing, mode 0600, never through a symlink),
    held while the block runs: the processes sharing a file take turns with it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
