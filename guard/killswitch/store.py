"""Where switches live: the store protocol, the state file, and the embedded store (memory +
a JSON file in state_dir); the Redis store is guard.killswitch.redis_store.

Both stores keep the last known state in memory and hand every new state to `on_change`; the
service turns it into the index the gate reads, so no request ever waits on a store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog

from guard.errors import GuardError
from guard.killswitch.held import Held, HeldSwitches, file_lock, write_atomically
from guard.killswitch.model import Entry

log = structlog.get_logger("guard.killswitch")

STATE_FILE = "killswitch.json"
OnChange = Callable[[Mapping[str, Entry]], None]
Update = Callable[[Entry | None], Entry | None]


class StoreUnavailable(GuardError):
    """The shared state cannot be written right now (Redis is down); nothing was changed."""


class StateUnsaved(StoreUnavailable):
    """The embedded state's file cannot be written (a full disk); nothing was changed."""


class SwitchStore(Protocol):
    """Keeps the switches; reports every new state through `on_change`."""

    @property
    def stale(self) -> bool: ...

    @property
    def known(self) -> bool:
        """Whether this replica has read the switches (shared, or saved before)."""
        ...

    def snapshot(self) -> Mapping[str, Entry]: ...

    async def start(self, on_change: OnChange) -> None: ...

    async def update(self, switch_id: str, change: Update) -> tuple[Entry | None, Entry | None]:
        """Apply `change` to the entry atomically (None: absent/remove); returns (before, after)."""
        ...

    async def refresh(self) -> None:
        """Re-read the state now (the periodic resync does this by itself)."""
        ...

    def hold(self, entry: Entry) -> None:
        """Enforce `entry` here at once, while the shared state cannot be written; it is
        written there as soon as it can be (an engage during a Redis outage)."""
        ...

    async def change_here(self, switch_id: str, change: Update
                          ) -> tuple[Entry | None, Entry | None]:
        """`update` in this process (and its group) alone, while the shared state cannot be
        written (a release during a Redis outage); written there as soon as it can be.
        StoreUnavailable where a change must be saved to be made."""
        ...

    def held(self, switch_id: str) -> str | None:
        """Why a change to `switch_id` is enforced here but not yet written to the shared
        state, or None."""
        ...

    def unsaved(self) -> int:
        """How many switches have a change enforced here but not yet saved."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a state file holds: the switches, and (from a Redis store) the epoch and the count
    of changes it had read them at, which tell on start whether Redis lost data meanwhile, and
    the changes held unsaved (made during an outage, not yet written to Redis), kept apart from
    the shared switches so a restart keeps them held."""

    entries: dict[str, Entry]
    exists: bool
    epoch: str | None = None
    generation: int = 0
    held: dict[str, Held] = field(default_factory=dict)


def _count(value: object) -> int:
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
        held = raw.get("held", [])
        try:
            entries = [Entry.from_dict(item) for item in raw["switches"]]
            changes = [Held.from_dict(item) for item in held] if isinstance(held, list) else []
        except (KeyError, TypeError, ValueError) as exc:
            raise GuardError(f"{self.path}: kill switch state unreadable: a switch or a held "
                             f"change is malformed ({type(exc).__name__})") from exc
        redis = raw.get("redis")
        redis = redis if isinstance(redis, dict) else {}
        epoch = redis.get("epoch")
        return SavedState({e.switch.id: e for e in entries}, exists=True,
                          epoch=epoch if isinstance(epoch, str) else None,
                          generation=_count(redis.get("generation")),
                          held={h.entry.switch.id: h for h in changes})

    def save(self, entries: Mapping[str, Entry], epoch: str | None = None,
             generation: int = 0, held: Mapping[str, Held] | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state: dict[str, object] = {"version": 1,
                                    "switches": [e.as_dict() for e in entries.values()]}
        if epoch is not None:
            state["redis"] = {"epoch": epoch, "generation": generation}
        if held:
            state["held"] = [h.as_dict() for h in held.values()]
        body = json.dumps(state, indent=1)
        write_atomically(self.path, body, durable=True)


@dataclass(frozen=True, slots=True)
class _Updated:
    """What `EmbeddedStore._locked_update` did: the entry before and after, the file's switches
    and its signature, the switches still held unsaved, whether it wrote the file and how many
    held ones that saved, and why
    the file was not written when the change was made to a held switch's file instead."""

    before: Entry | None
    after: Entry | None
    saved: dict[str, Entry]
    held: dict[str, Held]
    seen: tuple[int, int, int] | None
    wrote: bool = False
    saved_held: int = 0
    unwritten: OSError | None = None


class EmbeddedStore:
    """Single-node state: memory, persisted to `state_dir/killswitch.json` on every change.

    Several processes on one machine (`guard serve --workers N`) share the file: a change is a
    read-modify-write under an exclusive file lock, and every process polls the file's
    signature (mtime, size, inode) every `poll_interval_s` to pick up the others' changes.

    A switch engaged while the file cannot be written (a full disk) is held: enforced at once,
    by every worker of the group when they share a directory for it (guard.killswitch.held),
    and written with the next change or poll, of any of them, that can write the file. Its
    release, or an approval of one, needs no write: it changes the held file alone.
    """

    def __init__(self, state_dir: Path, *, poll_interval_s: float = 0.25,
                 held: HeldSwitches | None = None) -> None:
        self._file = StateFile(state_dir / STATE_FILE)
        self._lock_path = state_dir / ".killswitch.lock"
        self._poll_interval = poll_interval_s
        self._entries: dict[str, Entry] = {}
        self._saved: dict[str, Entry] = {}  # the file's switches, as last read or written
        self._holding = held or HeldSwitches()
        self._held: dict[str, Held] = {}  # enforced, not yet in the file (as last read)
        self._unsaved: str | None = None  # why the file could not be written, while it cannot
        self._seen: tuple[int, int, int] | None = None
        self._lock = asyncio.Lock()
        self._on_change: OnChange = lambda _entries: None
        self._poller: asyncio.Task[None] | None = None
        self._sharing: set[asyncio.Task[None]] = set()

    @property
    def stale(self) -> bool:
        return False

    @property
    def known(self) -> bool:
        return True

    def snapshot(self) -> Mapping[str, Entry]:
        return dict(self._entries)

    async def start(self, on_change: OnChange) -> None:
        self._on_change = on_change
        await self.refresh()
        on_change(dict(self._entries))
        self._poller = asyncio.create_task(self._poll(), name="killswitch-file-poll")

    async def update(self, switch_id: str, change: Update) -> tuple[Entry | None, Entry | None]:
        """StateUnsaved when the file cannot be written (nothing changed then), unless the
        change is to a switch held unsaved: that needs no write (its held file carries it)."""
        async with self._lock:
            try:
                done = await asyncio.to_thread(self._locked_update, switch_id, change)
            except OSError as exc:
                self._unwritable(exc)
                why = f"kill switch state unavailable: {self._unsaved}; nothing changed"
                if switch_id in self._saved:  # as last read: a release (or its approval)
                    why += (f"; {switch_id} is saved in that file, so releasing it needs the "
                            "write: free space on the state volume, then release it again")
                raise StateUnsaved(why) from exc
            # held here meanwhile (an engage while the file was being written) stays held
            meanwhile = {i: h for i, h in self._held.items()
                         if i != switch_id and i not in done.saved}
            self._held = {**meanwhile, **done.held}
            self._saved, self._seen = done.saved, done.seen
            entries = {**{i: h.entry for i, h in self._held.items()}, **done.saved}
            changed = entries != self._entries
            self._entries = entries
        if done.unwritten is not None:
            self._unwritable(done.unwritten)
        elif done.wrote and (done.saved_held or self._unsaved):
            log.info("killswitch_state_saved", path=str(self._file.path), held=done.saved_held)
            self._unsaved = None
        if changed:
            self._on_change(dict(entries))
        return done.before, done.after

    def _unwritable(self, exc: OSError) -> None:
        if self._unsaved is None:  # once, not once per retry
            log.warning("killswitch_state_unwritable", path=str(self._file.path), error=str(exc))
        self._unsaved = f"cannot write {self._file.path}: {exc.strerror or exc}"

    def _locked_update(self, switch_id: str, change: Update) -> _Updated:
        """The change, under the file lock: the file and the group's held switches are read
        under it, so a switch another worker released or saved meanwhile is not written back.
        A held switch is saved with any change that writes the file; a change to a held switch
        (a release, an approval of one) is made to its held file when the file cannot be."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self._lock_path):
            held = self._holding.read()
            saved = self._file.load()  # the file, not memory: another process may have written
            entries = {**{i: h.entry for i, h in held.items()}, **saved}
            before = entries.get(switch_id)
            after = change(before)
            if after is not before:
                if after is None:
                    entries.pop(switch_id, None)
                else:
                    entries[switch_id] = after
            wrote = entries != saved
            if wrote:
                try:
                    self._file.save(entries)
                except OSError as exc:
                    if after is before or switch_id in saved or switch_id not in held:
                        raise
                    self._holding.change(held[switch_id], after)
                    return _Updated(before, after, saved, self._holding.read(),
                                    self._signature(), unwritten=exc)
            self._holding.discard(held)  # in the file now, or released: held by no worker
            return _Updated(before, after, entries, {}, self._signature(), wrote=wrote,
                            saved_held=len(held.keys() & entries.keys()))

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self._file.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def hold(self, entry: Entry) -> None:
        held = Held(entry, self._unsaved or f"cannot write {self._file.path}", os.getpid())
        self._holding.add(held)  # enforced here at once; the group's within a poll
        self._held[entry.switch.id] = held
        task = asyncio.create_task(asyncio.to_thread(self._holding.share, entry.switch.id))
        self._sharing.add(task)
        task.add_done_callback(self._sharing.discard)
        log.warning("killswitch_state_unsaved", id=entry.switch.id, scope=entry.switch.scope,
                    error=self._unsaved, held=len(self._held),
                    group=not self._holding.local_only(entry.switch.id),
                    retry_every_s=self._poll_interval)
        self._entries = {**self._entries, entry.switch.id: entry}
        self._on_change(dict(self._entries))

    async def change_here(self, switch_id: str, change: Update
                          ) -> tuple[Entry | None, Entry | None]:
        # `update` already changes a held switch without a write; a saved one needs the write,
        # or a restart would undo the change
        raise StateUnsaved(f"kill switch state unavailable: {self._unsaved}; nothing changed")

    def unsaved(self) -> int:
        return len(self._held)

    def held(self, switch_id: str) -> str | None:
        held = self._held.get(switch_id)
        if held is None:
            return None
        retry = f"guard tries to save it again every {self._poll_interval:g} s"
        if self._holding.local_only(switch_id):
            return (f"not saved ({held.reason}): enforced by this process (pid {held.pid}) only "
                    "until it is, so a restart would lift it and the other workers of `guard "
                    f"serve --workers` do not see it; {retry}")
        return (f"not saved ({held.reason}): enforced by every worker of this `guard serve "
                f"--workers` group (held for them by pid {held.pid}) until it is, but a restart "
                f"of guard would lift it; {retry}")

    async def refresh(self) -> None:
        """Re-read the file if another process changed it since this one last looked, and the
        switches held by the group."""
        seen = await asyncio.to_thread(self._signature)
        self._held = await asyncio.to_thread(self._holding.read)
        if seen != self._seen:
            self._saved = await asyncio.to_thread(self._file.load)
            self._seen = seen
        entries = {**{i: h.entry for i, h in self._held.items()}, **self._saved}
        if entries != self._entries:
            self._entries = entries
            self._on_change(dict(entries))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                if self._held:
                    await self._save_held()
                await self.refresh()
            except GuardError:
                log.exception("killswitch_state_file_unreadable")  # keep the last good state

    async def _save_held(self) -> None:
        """Write the switches held here, if the file can be written now."""
        with contextlib.suppress(StateUnsaved):  # said when held; tried again next poll
            await self.update(next(iter(self._held)), lambda current: current)

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._sharing:
            await asyncio.gather(*self._sharing, return_exceptions=True)
