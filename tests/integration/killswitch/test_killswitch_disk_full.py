"""The embedded kill switch state on a full volume (a real tmpfs, filled): an engage still stops
the traffic, and is saved once there is room again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from guard.killswitch.service import ApprovalConflict, KillSwitchService, build_service
from guard.killswitch.settings import KillSwitchSettings
from guard.killswitch.store import StoreUnavailable
from guard.observability.metrics import Metrics
from guard.types import GuardContext
from tests.support import EventLog, GuardServer, MockUpstream, SmallVolume, guard_before_mock, start_together

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="gpt-4o")
TOKEN = "tok-alice-123456"


def killswitch(admin_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "guard", "killswitch", *args,
                           "--admin-url", admin_url], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "GUARD_ADMIN_TOKEN": TOKEN}, check=False)


def on_volume(workdir: Path, volume: SmallVolume) -> contextlib.AbstractContextManager[GuardServer]:
    """guard in front of the stand-in model, its state_dir on `volume`, alice's admin token."""
    return guard_before_mock(workdir, None, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"},
                             state_dir=str(volume.path / "state"))


def ask(guard: GuardServer, model: str = "m") -> int:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(f"{guard.url}/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_an_engage_on_a_full_state_volume_stops_traffic_and_is_saved_once_there_is_room(
        tmp_path: Path, volume: SmallVolume) -> None:
    """guard started on a full state_dir: `engage` exits 0 with a warning naming the cause and
    the switch stops traffic; it is saved once there is room; a release on a full volume again
    answers 503 naming the cause and changes nothing. No traceback."""
    volume.fill()
    with on_volume(tmp_path, volume) as guard:
        engaged = killswitch(guard.admin_url, "engage", "--scope", "global", "--reason", "INC-1")
        state = volume.path / "state" / "killswitch.json"
        assert engaged.returncode == 0 and engaged.stdout.startswith("engaged ks_")
        assert f"warning: not saved (cannot write {state}: No space left on device)" \
            in engaged.stderr
        assert ask(guard) == 503
        switch_id = engaged.stdout.split()[1].rstrip(":")
        volume.free()
        assert within(5, lambda: state.exists() and switch_id in state.read_text())
        volume.fill()
        released = killswitch(guard.admin_url, "release", switch_id)
        assert released.returncode == 1
        assert "HTTP 503" in released.stderr and "No space left on device" in released.stderr
        assert "free space on the state volume, then release it again" in released.stderr
        assert ask(guard) == 503  # nothing changed
        volume.free()
        assert killswitch(guard.admin_url, "release", switch_id).returncode == 0
        assert ask(guard) == 200
        log = guard.output()
        assert "Traceback" not in log
        assert "killswitch_state_unsaved" in log and "killswitch_state_saved" in log


async def started(state_dir: Path, recorder: EventLog | None = None,
                  settings: KillSwitchSettings | None = None) -> KillSwitchService:
    service = build_service(settings or KillSwitchSettings(), redis_url=None,
                            state_dir=state_dir, recorder=recorder or EventLog(),
                            metrics=Metrics(CollectorRegistry()))
    await service.start()
    return service


async def test_a_switch_held_on_a_full_volume_reaches_the_other_workers_once_saved(
        volume: SmallVolume) -> None:
    """Two workers on one full state_dir: the engage is enforced by the worker that took it, said
    to be held there; once there is room it is saved and the other worker enforces it too."""
    a, b = await started(volume.path), await started(volume.path)
    volume.fill()
    switch = await a.engage("global", "block", "INC-1", actor="alice")
    assert a.check(CTX) == switch
    assert "No space left on device" in (a.held(switch.id) or "")
    await asyncio.sleep(0.5)
    assert b.check(CTX) is None  # the limit the engage's warning states
    volume.free()
    for _ in range(100):
        if b.check(CTX) is not None:
            break
        await asyncio.sleep(0.02)
    assert b.check(CTX) == switch and a.held(switch.id) is None
    await a.aclose()
    await b.aclose()


async def test_a_release_on_a_full_volume_changes_nothing(volume: SmallVolume) -> None:
    """A release of a saved switch that cannot be saved is refused (StoreUnavailable, the admin
    API's 503): the switch stays engaged rather than lifted until the next restart brings it
    back. The refusal says why a release needs the write and what to do."""
    service = await started(volume.path)
    switch = await service.engage("global", "block", "INC-1", actor="alice")
    volume.fill()
    with pytest.raises(StoreUnavailable, match=r"cannot write .*killswitch\.json: No space left")\
            as refused:
        await service.release(switch.id, actor="bob")
    assert f"{switch.id} is saved in that file, so releasing it needs the write: free space " \
        "on the state volume, then release it again" in str(refused.value)
    assert service.check(CTX) == switch
    await service.aclose()


def test_a_switch_held_unsaved_is_marked_in_status_and_counted_until_saved(
        tmp_path: Path, volume: SmallVolume) -> None:
    """Engaged on a full volume: `GET /admin/killswitch` marks it `"saved": false` with the
    reason, `guard killswitch status` shows SAVED no and prints why, and
    guard_killswitch_unsaved is 1; once saved, `"saved": true`, yes, and 0."""
    with on_volume(tmp_path, volume) as guard:
        volume.fill()
        engaged = killswitch(guard.admin_url, "engage", "--scope", "global", "--reason", "INC-1")
        switch_id = engaged.stdout.split()[1].rstrip(":")
        listed = json.loads(killswitch(guard.admin_url, "status", "--json").stdout)["switches"]
        assert [(s["id"], s["saved"]) for s in listed] == [(switch_id, False)]
        assert "No space left on device" in listed[0]["unsaved_reason"]
        status = killswitch(guard.admin_url, "status")
        assert status.stdout.splitlines()[0].split()[-2:] == ["SAVED", "REASON"]
        assert status.stdout.splitlines()[1].split()[-2:] == ["no", "INC-1"]
        assert f"warning: {switch_id} not saved (cannot write" in status.stderr
        assert within(2, lambda: guard.metric("guard_killswitch_unsaved") == 1)
        volume.free()
        assert within(5, lambda: guard.metric("guard_killswitch_unsaved") == 0)
        listed = json.loads(killswitch(guard.admin_url, "status", "--json").stdout)["switches"]
        assert [(s["id"], s["saved"]) for s in listed] == [(switch_id, True)]
        assert "unsaved_reason" not in listed[0]
        status = killswitch(guard.admin_url, "status")
        assert status.stdout.splitlines()[1].split()[-2:] == ["yes", "INC-1"]
        assert status.stderr == ""


def test_a_switch_held_on_a_full_volume_holds_on_every_worker(
        tmp_path: Path, volume: SmallVolume) -> None:
    """From a probe under `--workers 3` on a full volume: the engage stopped only the requests
    of the worker that took it (6 of 30 answered 503, 24 reached the model) and 7 of 12 status
    calls did not list it. The group shares held switches now: 30 of 30 answer 503, every status
    lists it unsaved; a release taken by any worker lifts it on all, and one saved once there is
    room is listed saved by all."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "state_dir": str(volume.path / "state")},
                        "--workers", "3", env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    try:
        start_together(mock, guard)
        volume.fill()

        def statuses() -> list[list[tuple[str, bool]]]:
            """GET /admin/killswitch 12 times, a connection each (spread over the workers)."""
            request = urllib.request.Request(f"{guard.admin_url}/admin/killswitch",
                                             headers={"Authorization": f"Bearer {TOKEN}"})
            listed = []
            for _ in range(12):
                with urllib.request.urlopen(request, timeout=10) as answer:
                    listed.append([(s["id"], s["saved"]) for s in json.load(answer)["switches"]])
            return listed

        engaged = killswitch(guard.admin_url, "engage", "--scope", "global", "--reason", "INC-1")
        first = engaged.stdout.split()[1].rstrip(":")
        assert within(2, lambda: [ask(guard) for _ in range(30)] == [503] * 30)
        assert within(2, lambda: statuses() == [[(first, False)]] * 12)
        assert "enforced by every worker" in engaged.stderr
        assert killswitch(guard.admin_url, "release", first).returncode == 0
        assert within(2, lambda: statuses() == [[]] * 12)
        # twelve status calls need not reach every worker: a CI run's next requests met one
        # that had not read the release yet
        assert within(2, lambda: [ask(guard) for _ in range(30)] == [200] * 30)
        engaged = killswitch(guard.admin_url, "engage", "--scope", "global", "--reason", "INC-2")
        second = engaged.stdout.split()[1].rstrip(":")
        volume.free()
        assert within(5, lambda: statuses() == [[(second, True)]] * 12)
        assert [ask(guard) for _ in range(30)] == [503] * 30
        assert "Traceback" not in guard.output()
    finally:
        guard.stop()
        mock.stop()


def test_releasing_one_of_two_held_switches_lifts_it_on_every_worker(
        tmp_path: Path, volume: SmallVolume) -> None:
    """From a probe under `--workers 2` on a full volume: with two switches held unsaved
    (model:a, model:b), releasing one answered 503 `killswitch_state_unavailable` ("No space
    left on device; nothing changed") and model a stayed stopped until there was room: a release
    wrote every held switch to the file. A held switch's release needs no write now: it answers
    200 and model a flows on every worker while model b stays stopped, the release is audited,
    and once there is room only model b is saved."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "state_dir": str(volume.path / "state")},
                        "--workers", "2", env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    try:
        start_together(mock, guard)
        volume.fill()
        ids = {}
        for model in ("a", "b"):
            engaged = killswitch(guard.admin_url, "engage", "--scope", f"model:{model}",
                                 "--reason", f"INC-{model}")
            assert engaged.returncode == 0 and "not saved" in engaged.stderr
            ids[model] = engaged.stdout.split()[1].rstrip(":")
        assert within(2, lambda: {ask(guard, m) for m in "ab" for _ in range(10)} == {503})
        released = killswitch(guard.admin_url, "release", ids["a"])
        assert released.returncode == 0, released.stderr
        assert within(2, lambda: [ask(guard, "a") for _ in range(20)] == [200] * 20)
        assert [ask(guard, "b") for _ in range(20)] == [503] * 20
        state = volume.path / "state" / "killswitch.json"
        volume.free()
        assert within(5, lambda: state.exists() and ids["b"] in state.read_text())
        assert ids["a"] not in state.read_text()
        assert [ask(guard, "a") for _ in range(20)] == [200] * 20
        log = guard.output()
        assert "Traceback" not in log
        assert any("killswitch_change" in line and ids["a"] in line and '"release"' in line
                   for line in log.splitlines())
    finally:
        guard.stop()
        mock.stop()


async def test_the_two_person_release_of_a_held_switch_needs_no_write(
        volume: SmallVolume) -> None:
    """One process (no group directory), two switches held on a full volume, two approvals
    needed: the first approval is recorded on the held switch (still enforced, still unsaved),
    the same actor again is refused, another actor's approval releases it; each step is on the
    audit trail, and the other held switch stays enforced and is saved once there is room."""
    events = EventLog()
    service = await started(volume.path, events, KillSwitchSettings(release_approvals=2))
    volume.fill()
    a = await service.engage("model:a", "block", "INC-a", actor="alice")
    b = await service.engage("model:b", "block", "INC-b", actor="alice")
    model_a, model_b = replace(CTX, model="a"), replace(CTX, model="b")
    first = await service.release(a.id, actor="alice")
    assert not first.released and first.approvals == ("alice",)
    assert service.check(model_a) is not None and service.held(a.id) is not None
    with pytest.raises(ApprovalConflict):
        await service.release(a.id, actor="alice")
    second = await service.release(a.id, actor="bob", reason="mistaken")
    assert second.released and second.approvals == ("alice", "bob")
    assert service.check(model_a) is None and service.check(model_b) == b
    assert [(d["action"], d["id"]) for kind, d in events.events if kind == "killswitch"] == [
        ("engage", a.id), ("engage", b.id), ("release_requested", a.id), ("release", a.id)]
    volume.free()
    for _ in range(100):
        if service.held(b.id) is None:
            break
        await asyncio.sleep(0.02)
    saved = (volume.path / "killswitch.json").read_text()
    assert b.id in saved and a.id not in saved
    await service.aclose()
