"""The space guard's settings let it take in `state_dir`, against the room its volume has.

At most, the state volume holds:
  incidents.journal_keep_bytes                the journal, pruned down to it (None: unbounded)
  incidents.rotate_bytes x processes          the file each process writes, never pruned
  incidents.spool_max_bytes x sinks x processes   a spool per sink and process while it is down
  KILLSWITCH_BYTES                            the kill switch file and its copy while it is saved

The Helm chart refuses a state volume smaller than this sum (`guard.stateBudget` in its
_helpers.tpl); `guard serve` logs `state_volume_too_small` when the file system of `state_dir`
has less room for it (free space, plus what guard's files there take already).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from guard.incidents.settings import IncidentSettings

KILLSWITCH_BYTES = 128 << 10  # ~150 switches, twice over (a save writes a copy first)
MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class StateBudget:
    """What the settings let guard write to `state_dir` at most, part by part (bytes)."""

    journal: int | None  # None: no journal_keep_bytes, the journal is not bounded
    open_journal_files: int
    spools: int
    killswitch: int = KILLSWITCH_BYTES

    @property
    def bounded(self) -> int:
        """The sum of the bounded parts (the whole, unless the journal is unbounded)."""
        return (self.journal or 0) + self.open_journal_files + self.spools + self.killswitch


def spooling_sinks(incidents: IncidentSettings, *, redis: bool) -> int:
    """The sinks that each spool to `state_dir` while down: log, journal, Redis Stream (as
    guard.incidents.recorder.default_sinks makes them)."""
    return int(incidents.log) + int(incidents.journal) + int(redis)


def state_budget(incidents: IncidentSettings, *, processes: int, redis: bool) -> StateBudget:
    """The most `processes` guard processes (`--workers`) may write to one `state_dir`."""
    journal = incidents.journal_keep_bytes if incidents.journal else 0
    return StateBudget(
        journal=journal,
        open_journal_files=incidents.rotate_bytes * processes if incidents.journal else 0,
        spools=incidents.spool_max_bytes * spooling_sinks(incidents, redis=redis) * processes,
    )


def room(state_dir: Path) -> int:
    """Bytes `state_dir` may grow to: its file system's free space plus what is in it already.
    Blocking (walks the directory): call at start, before the event loop runs."""
    used = 0
    for directory, _, files in os.walk(state_dir):
        for name in files:
            try:
                used += (Path(directory) / name).lstat().st_size
            except OSError:
                continue  # deleted meanwhile (a journal file pruned by another process)
    return shutil.disk_usage(state_dir).free + used


def too_small(incidents: IncidentSettings, state_dir: Path, *, processes: int,
              redis: bool) -> dict[str, object] | None:
    """The figures of a `state_volume_too_small` warning when the bounded parts of the budget
    exceed the room of `state_dir`, else None."""
    budget = state_budget(incidents, processes=processes, redis=redis)
    available = room(state_dir)
    if budget.bounded <= available:
        return None
    return {
        "state_dir": str(state_dir), "room_mib": round(available / MIB, 1),
        "needs_mib": round(budget.bounded / MIB, 1),
        "journal_keep_bytes": incidents.journal_keep_bytes if incidents.journal else "no journal",
        "rotate_bytes": incidents.rotate_bytes, "spool_max_bytes": incidents.spool_max_bytes,
        "sinks": spooling_sinks(incidents, redis=redis), "processes": processes,
        "hint": "lower incidents.journal_keep_bytes / spool_max_bytes / rotate_bytes, or give "
                "state_dir a larger volume: once it is full incidents wait in memory and kill "
                "switches are held unsaved (docs/incidents.md, \"Retention\")",
    }
