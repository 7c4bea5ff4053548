"""`guard serve` warns, naming the settings and the figures, when what its incident limits let it
write to state_dir exceeds the room on that volume (a real 256 KiB tmpfs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import GuardServer, SmallVolume, guard_before_mock


def events(guard: GuardServer) -> dict[str, list[dict[str, Any]]]:
    """guard's JSON log lines so far, by event."""
    by_event: dict[str, list[dict[str, Any]]] = {}
    for line in guard.output().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            by_event.setdefault(event.get("event"), []).append(event)
    return by_event


def test_limits_larger_than_the_state_volume_are_logged_at_start(
        tmp_path: Path, volume: SmallVolume) -> None:
    """The default spool_max_bytes (1 GiB per sink) on a 256 KiB volume: one warning with the
    settings, the room and the need; guard serves all the same."""
    with guard_before_mock(tmp_path, None, state_dir=str(volume.path / "state")) as guard:
        (warning,) = events(guard)["state_volume_too_small"]
    assert warning["level"] == "warning"
    assert warning["spool_max_bytes"] == 1 << 30 and warning["sinks"] == 2
    assert warning["processes"] == 1 and warning["state_dir"] == str(volume.path / "state")
    assert warning["room_mib"] <= 0.25 < warning["needs_mib"]


def test_limits_that_fit_the_state_volume_are_not_logged(
        tmp_path: Path, volume: SmallVolume) -> None:
    """One 64 KiB spool (the log sink's; no journal) and the kill switch's share fit: no warning."""
    incidents = {"journal": False, "spool_max_bytes": 65536}
    with guard_before_mock(tmp_path, None, state_dir=str(volume.path / "state"),
                           incidents=incidents) as guard:
        logged = events(guard)
    assert "guard_started" in logged and "state_volume_too_small" not in logged
