"""The kill switch service on the embedded store: engage, release, two-person rule, TTL, audit."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from guard.errors import GuardError
from guard.killswitch.service import (
    ApprovalConflict,
    KillSwitchService,
    SwitchNotFound,
    build_service,
)
from guard.killswitch.settings import KillSwitchSettings
from guard.observability.metrics import Metrics
from guard.types import GuardContext
from tests.support import EventLog

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="gpt-4o", tenant="acme")


async def started(tmp_path: Path, approvals: int = 1, metrics: Metrics | None = None
                  ) -> tuple[KillSwitchService, EventLog]:
    log = EventLog()
    service = build_service(
        KillSwitchSettings(release_approvals=approvals),  # type: ignore[arg-type]
        redis_url=None, state_dir=tmp_path, recorder=log,
        metrics=metrics or Metrics(CollectorRegistry()),
    )
    await service.start()
    return service, log


async def test_engage_stops_matching_requests_and_release_restores(tmp_path: Path) -> None:
    """An engaged switch is enforced at once; releasing it lets traffic through again."""
    service, log = await started(tmp_path)
    assert service.check(CTX) is None
    switch = await service.engage("model:gpt-4*", "block", "leaking PII", actor="alice")
    assert service.check(CTX) == switch
    result = await service.release(switch.id, actor="bob")
    assert result.released
    assert service.check(CTX) is None
    assert [e["action"] for _, e in log.events] == ["engage", "release"]
    await service.aclose()


async def test_every_change_is_audited_with_before_and_after(tmp_path: Path) -> None:
    """Audit events carry actor, reason, scope, mode, and the state before and after."""
    service, log = await started(tmp_path)
    switch = await service.engage("tenant:acme", "refuse", "abuse report", actor="alice")
    await service.release(switch.id, actor="alice", reason="false alarm")
    (kind1, engage), (kind2, release) = log.events
    assert kind1 == kind2 == "killswitch"
    assert engage["actor"] == "alice" and engage["reason"] == "abuse report"
    assert engage["scope"] == "tenant:acme" and engage["mode"] == "refuse"
    assert engage["before"] is None and engage["after"]["id"] == switch.id
    assert release["reason"] == "false alarm" and release["after"] is None
    assert release["before"]["id"] == switch.id and release["approvers"] == ["alice"]
    await service.aclose()


async def test_two_person_rule_needs_a_second_different_actor(tmp_path: Path) -> None:
    """With release_approvals 2, one approval keeps the switch; a repeat is refused; a second
    actor releases it, and both approvers are recorded."""
    service, log = await started(tmp_path, approvals=2)
    switch = await service.engage("global", "block", "incident 42", actor="alice")
    first = await service.release(switch.id, actor="alice")
    assert not first.released and first.approvals == ("alice",) and first.needed == 2
    assert service.check(CTX) is not None
    with pytest.raises(ApprovalConflict):
        await service.release(switch.id, actor="alice")
    second = await service.release(switch.id, actor="bob")
    assert second.released and second.approvals == ("alice", "bob")
    assert service.check(CTX) is None
    assert log.events[-1][1]["approvers"] == ["alice", "bob"]
    with pytest.raises(SwitchNotFound):
        await service.release(switch.id, actor="carol")
    await service.aclose()


async def test_ttl_expiry_lifts_the_switch_and_is_audited(tmp_path: Path) -> None:
    """A switch with a TTL stops traffic until it runs out, then expires with an audit event."""
    service, log = await started(tmp_path)
    await service.engage("global", "block", "cool down", actor="alice", ttl_s=1.0)
    assert service.check(CTX) is not None
    await asyncio.sleep(1.05)
    assert service.check(CTX) is None  # the gate itself honours expiry, before any reaping
    for _ in range(40):
        if log.events[-1][1]["action"] == "expire":
            break
        await asyncio.sleep(0.05)
    assert log.events[-1][1]["action"] == "expire"
    assert log.events[-1][1]["actor"] == "ttl"
    assert service.entries() == []
    await service.aclose()


async def test_a_restart_keeps_the_switches(tmp_path: Path) -> None:
    """The embedded store persists to state_dir: a new service on the same dir enforces them."""
    service, _ = await started(tmp_path)
    switch = await service.engage("route:/v1/chat/completions", "refuse", "bad deploy", "alice")
    await service.aclose()
    data = json.loads((tmp_path / "killswitch.json").read_text())
    assert data["switches"][0]["id"] == switch.id
    again, _ = await started(tmp_path)
    assert again.check(CTX) == switch
    await again.aclose()


async def test_engaged_gauge_counts_by_scope_kind_and_mode(tmp_path: Path) -> None:
    """guard_killswitch_engaged{scope,mode} follows engagements and releases."""
    registry = CollectorRegistry()
    service, _ = await started(tmp_path, metrics=Metrics(registry))

    def gauge(scope: str, mode: str) -> float | None:
        return registry.get_sample_value("guard_killswitch_engaged",
                                         {"scope": scope, "mode": mode})

    a = await service.engage("model:a", "block", "x", "alice")
    await service.engage("model:b", "block", "x", "alice")
    await service.engage("global", "refuse", "x", "alice")
    assert gauge("model", "block") == 2 and gauge("global", "refuse") == 1
    await service.release(a.id, "alice")
    assert gauge("model", "block") == 1 and gauge("tenant", "block") == 0
    await service.aclose()


async def test_invalid_requests_change_nothing(tmp_path: Path) -> None:
    """A bad scope or a missing reason raises and engages nothing."""
    service, log = await started(tmp_path)
    with pytest.raises(ValueError, match="scope"):
        await service.engage("planet:earth", "block", "x", "alice")
    with pytest.raises(ValueError, match="reason"):
        await service.engage("global", "block", "", "alice")
    assert service.entries() == [] and log.events == []
    await service.aclose()


async def test_workers_sharing_a_state_dir_see_each_others_changes(tmp_path: Path) -> None:
    """Two processes' services on one state_dir (guard serve --workers): a change made by one
    is enforced by the other within a second, and approvals from both add up."""
    a, _ = await started(tmp_path, approvals=2)
    b, _ = await started(tmp_path, approvals=2)
    switch = await a.engage("global", "block", "drill", actor="alice")
    for _ in range(100):
        if b.check(CTX) is not None:
            break
        await asyncio.sleep(0.01)
    assert b.check(CTX) == switch
    await a.release(switch.id, actor="alice")
    result = await b.release(switch.id, actor="bob")  # b reads alice's approval from the file
    assert result.released and result.approvals == ("alice", "bob")
    for _ in range(100):
        if a.check(CTX) is None:
            break
        await asyncio.sleep(0.01)
    assert a.check(CTX) is None
    await a.aclose()
    await b.aclose()


async def test_a_damaged_state_file_stops_start_up(tmp_path: Path) -> None:
    """An unreadable killswitch.json is an error at start, never a silent loss of switches."""
    (tmp_path / "killswitch.json").write_text("{not json")
    with pytest.raises(GuardError, match=r"killswitch\.json"):
        await started(tmp_path)
