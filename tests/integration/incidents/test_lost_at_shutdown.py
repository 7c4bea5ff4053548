"""Incidents lost at shutdown on a full state volume reach Prometheus: counted by the next
process to start (`guard serve` on a real 256 KiB tmpfs, the stand-in model, real sockets)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support import GuardServer, MockUpstream, SmallVolume, start_together

POLICIES = Path(__file__).resolve().parents[3] / "policies"
KEY = "ghp_Q7w9Xk2LmN4pR8sT1vY3zA5bC6dE0fGhJ7kL"


def lost_in_log(guard: GuardServer) -> int:
    return sum(json.loads(line)["dropped"] for line in guard.output().splitlines()
               if '"incident_lost_at_shutdown"' in line)


def test_incidents_lost_at_shutdown_are_counted_at_the_next_start(
        tmp_path: Path, volume: SmallVolume) -> None:
    """From a probe: `incident_lost_at_shutdown dropped=36` was logged, but the dropped counter
    went up only as the admin listener closed, so no scrape saw it and GuardIncidentsDropped
    never fired. The count is saved in state_dir (in room kept for it, the volume being full)
    and the next process's guard_incident_dropped_total starts at it; the file is removed."""
    mock = MockUpstream(tmp_path)
    config = {"upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
              "state_dir": str(volume.path / "state")}
    first = GuardServer(tmp_path, config)
    second = GuardServer(tmp_path, config)
    try:
        start_together(mock, first)
        volume.fill()
        for n in range(8):  # blocked: each an incident neither the journal nor its spool takes
            answer = httpx.post(f"{first.url}/v1/chat/completions", timeout=20, json={
                "model": "gpt-4o", "messages": [{"role": "user", "content": f"{n} {KEY}"}]})
            assert answer.status_code == 400
        assert first.stop() == 0
        lost = lost_in_log(first)
        assert lost >= 8
        volume.free()
        second.start()
        assert second.metric("guard_incident_dropped_total") == lost
        assert list((volume.path / "state" / "incidents" / "lost").glob("*.count")) == []
        assert "incident_lost_at_last_shutdown" in second.output()
    finally:
        second.stop()
        first.stop()
        mock.stop()
