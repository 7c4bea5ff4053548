"""guard.incidents.budget: the most guard's incident limits let it write to state_dir."""

from __future__ import annotations

import shutil

from guard.incidents.budget import KILLSWITCH_BYTES, room, state_budget
from guard.incidents.settings import IncidentSettings
from tests.support import SmallVolume

MIB = 1 << 20


def test_each_worker_has_its_open_journal_file_and_a_spool_per_sink() -> None:
    """512 MiB journal + 64 MiB x 3 workers + 32 MiB x 3 sinks (log, journal, Redis) x 3."""
    settings = IncidentSettings(journal_keep_bytes=512 * MIB, spool_max_bytes=32 * MIB)
    budget = state_budget(settings, processes=3, redis=True)
    assert budget.bounded == (512 + 64 * 3 + 32 * 3 * 3) * MIB + KILLSWITCH_BYTES


def test_without_a_journal_only_the_other_spools_count() -> None:
    """No journal: no journal files and no journal spool; an unbounded journal is not summed."""
    settings = IncidentSettings(journal=False, spool_max_bytes=MIB)
    assert state_budget(settings, processes=2, redis=False).bounded == 2 * MIB + KILLSWITCH_BYTES
    unbounded = state_budget(IncidentSettings(spool_max_bytes=MIB), processes=1, redis=False)
    assert unbounded.journal is None and unbounded.bounded == 66 * MIB + KILLSWITCH_BYTES


def test_room_counts_what_state_dir_holds_already(volume: SmallVolume) -> None:
    """Files already in state_dir are part of the budget, so they count as room (a 256 KiB
    tmpfs: 128 KiB written takes that much free space, and no room)."""
    state_dir = volume.path / "state"
    (state_dir / "incidents").mkdir(parents=True)
    before = room(state_dir)
    (state_dir / "incidents" / "j.jsonl").write_bytes(bytes(128 << 10))
    assert shutil.disk_usage(state_dir).free <= before - (128 << 10)
    assert room(state_dir) >= before - (8 << 10)  # a few blocks of tmpfs bookkeeping at most
