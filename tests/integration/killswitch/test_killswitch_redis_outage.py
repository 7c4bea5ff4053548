"""Manual kill switch changes while Redis is down (a real redis-server, stopped and restarted):
they take effect on this host at once and reach Redis, and the fleet, once it is back."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from guard.killswitch.service import KillSwitchService, build_service
from guard.killswitch.settings import KillSwitchSettings
from guard.observability.metrics import Metrics
from guard.types import GuardContext
from tests.integration.killswitch.test_killswitch_disk_full import ask, within
from tests.integration.killswitch.test_killswitch_redis import eventually
from tests.support import EventLog, GuardServer, MockUpstream, RedisServer, start_together

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="gpt-4o")
TOKEN = "tok-alice-123456"
HASH = "guard:killswitch:switches"


def admin(guard: GuardServer, method: str, path: str, body: dict[str, Any] | None = None
          ) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{guard.admin_url}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status), json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_an_engage_and_a_release_during_a_redis_outage_act_on_every_worker_at_once(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """From a probe under `--workers 2` with Redis down: the engage answered 503
    `killswitch_state_unavailable`, nothing was engaged and traffic flowed. Now it answers 201
    `"saved": false` with a warning that it reaches this host only, every worker refuses, the
    release lifts it on every worker; a second switch engaged during the outage is written to
    Redis once it is back (logged), and then listed saved."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "redis_url": redis_server.url},
                        "--workers", "2", env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    try:
        start_together(mock, guard)
        redis_server.stop()
        status, body = admin(guard, "POST", "/admin/killswitch",
                             {"scope": "global", "reason": "INC-1"})
        assert status == 201, body
        assert body["saved"] is False and body["switch"]["saved"] is False
        assert "this host only" in body["warning"]
        assert within(2, lambda: [ask(guard) for _ in range(20)] == [503] * 20)
        status, released = admin(guard, "DELETE", f"/admin/killswitch/{body['switch']['id']}")
        assert status == 200 and released["released"] is True, released
        assert within(2, lambda: [ask(guard) for _ in range(20)] == [200] * 20)
        status, body = admin(guard, "POST", "/admin/killswitch",
                             {"scope": "model:m", "reason": "INC-2"})
        second = body["switch"]["id"]
        assert within(2, lambda: [ask(guard, "m") for _ in range(20)] == [503] * 20)
        assert guard.metric("guard_killswitch_unsaved") >= 1
        redis_server.start()
        shared = redis.Redis.from_url(redis_server.url)
        answers: list[int] = []

        def saved() -> bool:
            """In Redis, and every worker lists it saved (6 calls); model m asked meanwhile."""
            answers.extend(ask(guard, "m") for _ in range(4))
            return shared.hkeys(HASH) == [second.encode()] and all(
                [(s["id"], s["saved"]) for s in admin(
                    guard, "GET", "/admin/killswitch")[1]["switches"]] == [(second, True)]
                for _ in range(6))

        assert within(10, saved)
        assert set(answers) == {503}  # in force all along, on both workers
        log = guard.output()
        assert "killswitch_unsaved_changes_written" in log and "Traceback" not in log
    finally:
        guard.stop()
        mock.stop()


@pytest.fixture
async def pair(redis_server: RedisServer, tmp_path: Path
               ) -> AsyncIterator[tuple[KillSwitchService, KillSwitchService]]:
    """Two replicas on one Redis, two approvals needed for a release."""
    made = []
    for name in ("a", "b"):
        service = build_service(KillSwitchSettings(release_approvals=2, resync_interval_s=0.3),
                                redis_url=redis_server.url, state_dir=tmp_path / name,
                                recorder=EventLog(), metrics=Metrics(CollectorRegistry()))
        await service.start()
        made.append(service)
    yield made[0], made[1]
    for service in made:
        await service.aclose()


async def test_changes_made_on_two_replicas_during_an_outage_all_reach_redis(
        pair: tuple[KillSwitchService, KillSwitchService], redis_server: RedisServer) -> None:
    """Redis down: A releases a switch saved before (alice and bob approve on A), B approves
    another one (carol), each engages a new one. Nothing is lost once Redis is back: both new
    switches are in force on both replicas, the released one on neither, and B's approval is
    merged with the one dave gave A (two approvals: released)."""
    a, b = pair
    old = await a.engage("model:old", "block", "INC-0", actor="alice")
    other = await a.engage("model:other", "block", "INC-0", actor="alice")
    await eventually(lambda: len(b.entries()) == 2, within=2.0)
    redis_server.stop()
    await eventually(lambda: a.stale and b.stale, within=3.0)
    assert not (await a.release(old.id, actor="alice")).released
    assert (await a.release(old.id, actor="bob")).released
    assert not (await b.release(other.id, actor="carol")).released
    assert not (await a.release(other.id, actor="dave")).released
    new_a = await a.engage("model:new-a", "block", "INC-a", actor="alice")
    new_b = await b.engage("model:new-b", "block", "INC-b", actor="bob")
    assert a.check(replace(CTX, model="old")) is None and b.check(replace(CTX, model="old"))
    assert a.held(new_a.id) is not None
    redis_server.start()
    wanted = {new_a.id, new_b.id}
    await eventually(lambda: {e.switch.id for e in a.entries()} == wanted
                     and {e.switch.id for e in b.entries()} == wanted, within=10.0)
    assert a.held(new_a.id) is None and b.held(new_b.id) is None
    assert set(redis.Redis.from_url(redis_server.url, decode_responses=True).hkeys(HASH)) == wanted


def test_a_switch_engaged_during_an_outage_stays_unsaved_through_a_restart_of_guard(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """From a re-probe: guard restarted while Redis was still down enforced a switch engaged
    during the outage but listed it `"saved": true` and guard_killswitch_unsaved read 0 (the
    held engage was saved in the state file as a shared switch, so the alert cleared). Now the
    restarted guard lists it `"saved": false`, counts it, and writes it to Redis once it is
    back."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "redis_url": redis_server.url},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    try:
        start_together(mock, guard)
        redis_server.stop()
        status, body = admin(guard, "POST", "/admin/killswitch",
                             {"scope": "model:m", "reason": "INC-1"})
        assert status == 201 and body["saved"] is False, body
        held = body["switch"]["id"]
        guard.stop()
        guard.start()  # Redis still down
        assert ask(guard, "m") == 503
        listed = admin(guard, "GET", "/admin/killswitch")[1]["switches"]
        assert [(s["id"], s["saved"]) for s in listed] == [(held, False)]
        assert guard.metric("guard_killswitch_unsaved") == 1
        assert guard.logged("killswitch_unsaved_changes_reloaded")
        redis_server.start()
        shared = redis.Redis.from_url(redis_server.url)
        assert within(10, lambda: shared.hkeys(HASH) == [held.encode()]
                      and guard.metric("guard_killswitch_unsaved") == 0)
        listed = admin(guard, "GET", "/admin/killswitch")[1]["switches"]
        assert [(s["id"], s["saved"]) for s in listed] == [(held, True)]
    finally:
        guard.stop()
        mock.stop()


async def test_a_change_held_through_a_restart_reaches_redis_after_other_changes(
        redis_server: RedisServer, tmp_path: Path) -> None:
    """From a re-probe: A engaged model:x during an outage and restarted before Redis was back;
    Redis came back with its data and B released another switch before A read it: Redis held
    no switch, neither replica enforced x, and A logged nothing of it (A had saved x as shared,
    and only puts back what vanished with no change counted). Now A reloads x as held and
    writes it whatever else changed: in Redis, enforced by both replicas."""
    def replica(name: str) -> KillSwitchService:
        return build_service(KillSwitchSettings(resync_interval_s=0.3),
                             redis_url=redis_server.url, state_dir=tmp_path / name,
                             recorder=EventLog(), metrics=Metrics(CollectorRegistry()))

    a, b = replica("a"), replica("b")
    await a.start()
    await b.start()
    try:
        s0 = await b.engage("model:s0", "block", "INC-0", actor="bob")
        await eventually(lambda: a.check(replace(CTX, model="s0")) is not None, within=2.0)
        shared = redis.Redis.from_url(redis_server.url, decode_responses=True)
        shared.save()  # Redis comes back with its data
        redis_server.stop()
        await eventually(lambda: a.stale and b.stale, within=3.0)
        x = await a.engage("model:x", "block", "INC-x", actor="alice")
        await a.aclose()
        redis_server.start()
        assert (await b.release(s0.id, actor="bob")).released  # changed before A reads Redis
        a = replica("a")
        await a.start()
        await eventually(lambda: a.held(x.id) is None
                         and b.check(replace(CTX, model="x")) is not None, within=10.0)
        assert shared.hkeys(HASH) == [x.id]
        assert a.check(replace(CTX, model="x")) is not None
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_switch_gone_from_redis_with_no_release_heard_is_logged(
        pair: tuple[KillSwitchService, KillSwitchService], redis_server: RedisServer) -> None:
    """A switch deleted from Redis outside guard, with a change counted (so not put back as
    evicted), was dropped by every replica with only `killswitch_state_resynced` logged. Now
    each replica that enforced it logs `killswitch_switch_vanished` naming it; a release made
    by a replica (announced) is not logged so."""
    a, b = pair
    gone = await a.engage("model:gone", "block", "INC-1", actor="alice")
    released = await a.engage("model:released", "block", "INC-2", actor="alice")
    await eventually(lambda: len(b.entries()) == 2, within=2.0)
    with capture_logs() as logs:
        await b.release(released.id, actor="alice")
        assert (await b.release(released.id, actor="bob")).released
        shared = redis.Redis.from_url(redis_server.url)
        with shared.pipeline() as pipe:
            pipe.hdel(HASH, gone.id).incr("guard:killswitch:generation").execute()
        await eventually(lambda: not a.entries() and not b.entries(), within=3.0)
        await eventually(lambda: sum(e["event"] == "killswitch_switch_vanished"
                                     for e in logs) == 2, within=3.0)
    vanished = [e["switches"] for e in logs if e["event"] == "killswitch_switch_vanished"]
    assert vanished == [{gone.id: "model:gone"}] * 2


async def test_a_release_not_heard_but_noted_in_redis_is_not_logged_as_vanished(
        pair: tuple[KillSwitchService, KillSwitchService], redis_server: RedisServer) -> None:
    """A release a replica did not hear (made while its subscription was down, across an
    outage: a replica that had approved a two-approval release logged it in about half the runs)
    was logged `killswitch_switch_vanished`, as if deleted outside guard. A release notes its id
    in `guard:killswitch:released`: such a switch is dropped without that line; one deleted
    outside guard is still logged."""
    a, b = pair
    gone = await a.engage("model:gone", "block", "INC-1", actor="alice")
    unheard = await a.engage("model:unheard", "block", "INC-2", actor="alice")
    await eventually(lambda: len(b.entries()) == 2, within=2.0)
    with capture_logs() as logs:
        shared = redis.Redis.from_url(redis_server.url)
        with shared.pipeline() as pipe:  # as a release writes it, its announcement not heard
            pipe.hdel(HASH, gone.id, unheard.id).zadd("guard:killswitch:released", {unheard.id: 1e12})
            pipe.incr("guard:killswitch:generation").execute()
        await eventually(lambda: not a.entries() and not b.entries(), within=3.0)
        await eventually(lambda: sum(e["event"] == "killswitch_switch_vanished"
                                     for e in logs) == 2, within=3.0)
    vanished = [e["switches"] for e in logs if e["event"] == "killswitch_switch_vanished"]
    assert vanished == [{gone.id: "model:gone"}] * 2
