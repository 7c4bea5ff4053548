"""The automatic breaker: a burst of matching incidents engages a switch for T seconds."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis.asyncio as aioredis
import structlog.testing
from prometheus_client import CollectorRegistry

from guard.incidents.query import Query
from guard.incidents.reader import JournalReader
from guard.incidents.recorder import IncidentRecorder
from guard.incidents.settings import IncidentSettings
from guard.killswitch.breaker import SWEEP_S, Breaker
from guard.killswitch.held import HELD_DIR_ENV
from guard.killswitch.service import KillSwitchService, build_service
from guard.killswitch.settings import BreakerRule, KillSwitchSettings
from guard.observability.metrics import Metrics
from guard.types import Action, Decision, GuardContext, Mode, RuleMatch, Stage, Switch, Verdict
from tests.support import (
    POLICIES,
    EventLog,
    GuardServer,
    MockUpstream,
    RedisServer,
    SmallVolume,
    free_port,
    start_together,
)


def decision(action: Action, label: str = "prompt_injection", mode: Mode = Mode.ENFORCE
             ) -> Decision:
    verdict = Verdict(classifier="pi", segment=0, labels=frozenset({label}), score=0.9)
    match = RuleMatch(rule="no-injection", action=action, mode=mode, severity="high",
                      category="injection", verdicts=(verdict,))
    return Decision(action=action if mode is Mode.ENFORCE else Action.ALLOW,
                    stage=Stage.PROMPT, matches=(match,), verdicts=(verdict,))


def ctx(model: str = "gpt-4o", tenant: str | None = None) -> GuardContext:
    return GuardContext(request_id="r", route="/v1/chat/completions", model=model, tenant=tenant)


RULE = BreakerRule(name="injection-burst", action="block", label="prompt_injection",
                   model="gpt-*", threshold=5, window_s=10, scope="model:{model}",
                   mode="block", duration_s=1.0)


async def eventually(condition: Callable[[], bool], within: float) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not met within {within}s")
        await asyncio.sleep(0.01)


async def make(tmp_path: Path, redis_url: str | None, name: str
               ) -> tuple[KillSwitchService, Breaker, EventLog, CollectorRegistry]:
    registry, log = CollectorRegistry(), EventLog()
    metrics = Metrics(registry)
    service = build_service(KillSwitchSettings(resync_interval_s=0.5, breakers=[RULE]),
                            redis_url=redis_url, state_dir=tmp_path / name, recorder=log,
                            metrics=metrics)
    breaker = Breaker([RULE], service, metrics, redis_url=redis_url)
    await service.start()
    await breaker.start()
    return service, breaker, log, registry


async def test_breaker_trips_on_a_burst_and_lets_go_after_duration(tmp_path: Path) -> None:
    """5 blocked injections on gpt-4o engage model:gpt-4o (actor breaker) for 1 s, then lift."""
    service, breaker, log, registry = await make(tmp_path, None, "solo")
    for _ in range(4):
        breaker.observe(ctx(), decision(Action.BLOCK))
    await asyncio.sleep(0.1)
    assert service.check(ctx()) is None  # below the threshold
    breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx()) is not None, 1.0)
    switch = service.check(ctx())
    assert switch is not None and switch.scope == "model:gpt-4o" and switch.actor == "breaker"
    assert service.check(ctx("gpt-3.5")) is None  # only the tripping model is stopped
    assert log.events[0][1]["actor"] == "breaker"
    assert registry.get_sample_value("guard_breaker_trips_total",
                                     {"breaker": "injection-burst"}) == 1
    await eventually(lambda: service.check(ctx()) is None, within=1.5)
    await breaker.aclose()
    await service.aclose()


async def test_breaker_ignores_what_its_rule_does_not_count(tmp_path: Path) -> None:
    """Shadow matches, other actions, other labels and other models never trip it."""
    service, breaker, _, _ = await make(tmp_path, None, "solo")
    for _ in range(10):
        breaker.observe(ctx(), decision(Action.BLOCK, mode=Mode.SHADOW))
        breaker.observe(ctx(), decision(Action.FLAG))
        breaker.observe(ctx(), decision(Action.BLOCK, label="pii"))
        breaker.observe(ctx("llama-3"), decision(Action.BLOCK))
    await asyncio.sleep(0.2)
    assert service.entries() == []
    await breaker.aclose()
    await service.aclose()


async def test_breaker_counts_fleet_wide_through_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """3 incidents on A and 2 on B reach the threshold of 5 together: one switch, both enforce."""
    a, breaker_a, log_a, _ = await make(tmp_path, redis_server.url, "a")
    b, breaker_b, log_b, _ = await make(tmp_path, redis_server.url, "b")
    for _ in range(3):
        breaker_a.observe(ctx(), decision(Action.BLOCK))
    await asyncio.sleep(0.2)
    assert a.entries() == [] and b.entries() == []
    for _ in range(2):
        breaker_b.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: a.check(ctx()) is not None and b.check(ctx()) is not None, 1.0)
    assert len(a.entries()) == 1
    engagements = [e for log in (log_a, log_b) for _, e in log.events if e["action"] == "engage"]
    assert len(engagements) == 1 and engagements[0]["actor"] == "breaker"
    await eventually(lambda: a.check(ctx()) is None and b.check(ctx()) is None, within=1.5)
    for closer in (breaker_a, breaker_b, a, b):
        await closer.aclose()


async def test_breaker_trips_during_a_redis_outage_and_the_fleet_learns_after(
    tmp_path: Path, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redis down: a burst on A still trips A's breaker, which enforces the switch at once; once
    Redis is back the switch is written there and B enforces it too. The outage is logged once,
    however many batches were counted locally, and its end once."""
    rule = BreakerRule(name="injection-burst", action="block", label="prompt_injection",
                       model="gpt-*", threshold=5, window_s=10, scope="model:{model}",
                       mode="block", duration_s=30.0)
    made = []
    for name in ("a", "b"):
        registry = CollectorRegistry()
        metrics = Metrics(registry)
        service = build_service(KillSwitchSettings(resync_interval_s=0.3, breakers=[rule]),
                                redis_url=redis_server.url, state_dir=tmp_path / name,
                                recorder=EventLog(), metrics=metrics)
        breaker = Breaker([rule], service, metrics, redis_url=redis_server.url)
        await service.start()
        await breaker.start()
        made.append((service, breaker, registry))
    (a, breaker_a, registry_a), (b, breaker_b, _) = made
    try:
        redis_server.stop()
        for _ in range(5):  # one batch each
            breaker_a.observe(ctx(), decision(Action.BLOCK))
            await asyncio.sleep(0.05)
        await eventually(lambda: a.check(ctx()) is not None, within=5.0)
        assert b.check(ctx()) is None
        assert registry_a.get_sample_value("guard_breaker_trips_total",
                                           {"breaker": "injection-burst"}) == 1
        redis_server.start()
        await eventually(lambda: b.check(ctx()) is not None, within=5.0)
        assert a.check(ctx()) == b.check(ctx())
        breaker_a.observe(ctx(), decision(Action.BLOCK))
        said: list[str] = []

        def logged() -> bool:
            said.append(capsys.readouterr().out)
            return "breaker_counting_fleet_wide_again" in "".join(said)

        await eventually(logged, within=5.0)
        assert "".join(said).count("breaker_redis_unreachable_counting_locally") == 1
    finally:
        for closer in (breaker_a, breaker_b, a, b):
            await closer.aclose()


async def solo(tmp_path: Path, rule: BreakerRule) -> tuple[KillSwitchService, Breaker]:
    """A service without Redis and a breaker with `rule`, both started."""
    metrics = Metrics(CollectorRegistry())
    service = build_service(KillSwitchSettings(resync_interval_s=0.5, breakers=[rule]),
                            redis_url=None, state_dir=tmp_path / "s", recorder=EventLog(),
                            metrics=metrics)
    breaker = Breaker([rule], service, metrics)
    await service.start()
    await breaker.start()
    return service, breaker


async def test_a_model_named_like_a_glob_stops_only_itself(tmp_path: Path) -> None:
    """From a probe: five blocked prompts naming the model `*` engaged `model:*`, which stopped
    every model on every replica. The client's name is taken literally."""
    service, breaker = await solo(tmp_path, RULE.model_copy(update={"model": "*"}))
    for name in ("*", "gpt-[4]o?"):
        for _ in range(5):
            breaker.observe(ctx(name), decision(Action.BLOCK))
        await eventually(lambda name=name: service.check(ctx(name)) is not None, 1.0)  # type: ignore[misc]
    assert service.check(ctx("gpt-4o")) is None and service.check(ctx("gpt-4ox")) is None
    assert {e.switch.scope for e in service.entries()} == {"model:[*]", "model:gpt-[[]4]o[?]"}
    await breaker.aclose()
    await service.aclose()


async def test_a_tenant_named_like_a_glob_stops_only_itself(tmp_path: Path) -> None:
    """Tenant scopes take globs (`tenant:acme-*`), so a breaker's `tenant:{tenant}` takes the
    tenant a client names literally: a tenant `*` must not stop every tenant."""
    service, breaker = await solo(tmp_path, RULE.model_copy(update={"scope": "tenant:{tenant}"}))
    for _ in range(5):
        breaker.observe(ctx(tenant="*"), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx(tenant="*")) is not None, 1.0)
    assert service.check(ctx(tenant="acme")) is None
    assert {e.switch.scope for e in service.entries()} == {"tenant:[*]"}
    await breaker.aclose()
    await service.aclose()


async def test_a_flood_of_model_names_engages_at_most_max_switches(tmp_path: Path) -> None:
    """From a probe: 1,000 blocked requests under junk model names engaged 427 fleet-wide
    switches. A breaker holds at most `max_switches` at once."""
    service, breaker = await solo(tmp_path, RULE.model_copy(update={
        "model": "*", "threshold": 1, "max_switches": 3, "duration_s": 30.0}))
    for n in range(20):
        breaker.observe(ctx(f"junk-{n}"), decision(Action.BLOCK))
    await eventually(lambda: len(service.entries()) == 3, 2.0)
    await asyncio.sleep(0.2)
    assert len(service.entries()) == 3
    await breaker.aclose()
    await service.aclose()


async def test_spellings_of_one_model_count_together(tmp_path: Path) -> None:
    """From a second probe: ten blocked prompts spread over `GPT-4o`, `gPt-4o`, `gpt-4o ` made
    no switch, though the switch would have matched them all (switches fold case and spaces).
    From a re-probe: the rule's own glob is read the same way (`GPT-* ` had counted nothing)."""
    service, breaker = await solo(tmp_path, RULE.model_copy(update={"model": "GPT-* "}))
    for name in ("GPT-4o", "gPt-4o", "gpt-4o ", " gpt-4O", "gpt-4o"):
        breaker.observe(ctx(name), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx("gpt-4o")) is not None, 1.0)
    assert [e.switch.scope for e in service.entries()] == ["model:gpt-4o"]
    await breaker.aclose()
    await service.aclose()


async def test_a_trip_and_a_trip_held_back_are_breaker_incidents(tmp_path: Path) -> None:
    """From a probe: no incident of kind `breaker` was ever recorded (the docs, the metric table
    and the report name one): a trip was only a `killswitch` engage, and a trip `max_switches`
    held back only a log line. Each is now a `breaker` incident in the journal."""
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(IncidentSettings(log=False), tmp_path, None, metrics)
    await recorder.start()
    rule = RULE.model_copy(update={"model": "*", "threshold": 2, "max_switches": 1,
                                   "duration_s": 30.0})
    service = build_service(KillSwitchSettings(breakers=[rule]), redis_url=None,
                            state_dir=tmp_path, recorder=recorder, metrics=metrics)
    breaker = Breaker([rule], service, metrics)
    await service.start()
    await breaker.start()
    for model in ("m1", "m1", "m2", "m2"):  # m1 trips; m2 crosses too, held back
        breaker.observe(ctx(model), decision(Action.BLOCK))
        await asyncio.sleep(0.05)
    await eventually(lambda: len(service.entries()) == 1, 2.0)
    await asyncio.sleep(0.1)
    await breaker.aclose()
    await service.aclose()
    await recorder.aclose()
    found = JournalReader(tmp_path).query_now(Query(kind="breaker"))
    [switch] = JournalReader(tmp_path).query_now(Query(kind="killswitch"))
    assert [(i["action"], i["details"]["scope"]) for i in found] == [
        ("trip", "model:m1"), ("held_back", "model:m2")]
    assert found[0]["details"]["id"] == switch["details"]["id"]
    assert found[1]["details"]["max_switches"] == 1


async def test_counts_of_names_seen_once_are_dropped_once_their_window_ends(tmp_path: Path) -> None:
    """From a probe: counting in process (no Redis, or Redis down) kept one entry per model name
    ever seen, and clients choose model names: 20,000 names grew guard by 12.9 MB, no plateau.
    Once a name's window has drained, its count goes; a burst still trips."""
    now = [1000.0]
    metrics = Metrics(CollectorRegistry())
    service = build_service(KillSwitchSettings(breakers=[RULE]), redis_url=None,
                            state_dir=tmp_path, recorder=EventLog(), metrics=metrics)
    breaker = Breaker([RULE], service, metrics, clock=lambda: now[0])
    await service.start()
    await breaker.start()
    try:
        for n in range(2000):
            breaker.observe(ctx(f"gpt-{n}"), decision(Action.BLOCK))
        await eventually(breaker._queue.empty, 5.0)
        await asyncio.sleep(0.05)
        now[0] += RULE.window_s + SWEEP_S
        for _ in range(RULE.threshold):
            breaker.observe(ctx("gpt-burst"), decision(Action.BLOCK))
        await eventually(lambda: service.check(ctx("gpt-burst")) is not None, 2.0)
        assert len(breaker._local) <= 1, len(breaker._local)
    finally:
        await breaker.aclose()
        await service.aclose()


async def test_a_breaker_trips_on_a_full_state_volume(volume: SmallVolume) -> None:
    """From a probe: with no room for the state file the trip failed (OSError) and left the
    scope marked tripped. It is held now: enforced at once, saved once there is room."""
    service, breaker = await solo(volume.path, RULE.model_copy(update={"duration_s": 30.0}))
    volume.fill()
    for _ in range(5):
        breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx()) is not None, within=2.0)
    switch = service.check(ctx())
    assert switch is not None and service.held(switch.id) is not None
    volume.free()
    await eventually(lambda: service.held(switch.id) is None, within=2.0)
    assert switch.id in (volume.path / "s" / "killswitch.json").read_text()
    await breaker.aclose()
    await service.aclose()


async def test_a_trip_that_fails_is_tried_again_on_the_next_incident(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engage failing with an error no one foresaw (not a GuardError) no longer leaves the
    scope marked tripped for duration_s: its count is kept, and the next incident trips it."""
    service, breaker = await solo(tmp_path, RULE.model_copy(update={"duration_s": 30.0}))
    engage = service.engage
    failures = []

    async def failing_once(*args: Any, **kwargs: Any) -> Switch:
        if not failures:
            failures.append(1)
            raise RuntimeError("unforeseen")
        return await engage(*args, **kwargs)

    monkeypatch.setattr(service, "engage", failing_once)
    for _ in range(5):
        breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: bool(failures), within=2.0)
    await asyncio.sleep(0.1)
    assert service.check(ctx()) is None
    breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx()) is not None, within=2.0)
    await breaker.aclose()
    await service.aclose()


async def test_a_trip_that_fails_is_tried_again_on_the_next_incident_with_redis(
        tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting in Redis, a trip whose engage failed was tried again only once the count had
    reached the threshold anew: the replica that won the trip had deleted the shared count
    before engaging, and a replica that lost it meanwhile stayed marked tripped for
    duration_s. The count is now kept until a switch is engaged, and the next incident on any
    replica trips it."""
    rule = RULE.model_copy(update={"duration_s": 30.0})
    made = []
    for name in ("a", "b"):
        metrics = Metrics(CollectorRegistry())
        service = build_service(KillSwitchSettings(resync_interval_s=0.5, breakers=[rule]),
                                redis_url=redis_server.url, state_dir=tmp_path / name,
                                recorder=EventLog(), metrics=metrics)
        breaker = Breaker([rule], service, metrics, redis_url=redis_server.url)
        await service.start()
        await breaker.start()
        made.append((service, breaker))
    (a, breaker_a), (b, breaker_b) = made
    counts = aioredis.Redis.from_url(redis_server.url)
    counted = "guard:breaker:injection-burst:model:gpt-4o"
    engage = a.engage
    failures = []

    async def failing_once(*args: Any, **kwargs: Any) -> Switch:
        if failures:
            return await engage(*args, **kwargs)
        failures.append(1)
        # B's incident lands while A holds the trip: B finds it taken by A
        breaker_b.observe(ctx(), decision(Action.BLOCK))
        start = time.monotonic()
        while await counts.zcard(counted) < 6 and time.monotonic() - start < 5:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # B's attempt at the trip follows its count
        failures.append(2)
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(a, "engage", failing_once)
    try:
        for _ in range(5):
            breaker_a.observe(ctx(), decision(Action.BLOCK))
        await eventually(lambda: len(failures) == 2, within=7.0)
        await asyncio.sleep(0.2)
        assert a.check(ctx()) is None and b.check(ctx()) is None
        breaker_b.observe(ctx(), decision(Action.BLOCK))
        await eventually(lambda: a.check(ctx()) is not None and b.check(ctx()) is not None,
                         within=3.0)
        assert len(b.entries()) == 1 and b.entries()[0].switch.actor == "breaker"
        assert await counts.zcard(counted) == 0  # deleted once a switch is engaged
    finally:
        await counts.aclose()
        for closer in (breaker_a, breaker_b, a, b):
            await closer.aclose()


def test_one_worker_of_a_group_without_redis_trips_a_scope(tmp_path: Path) -> None:
    """From a probe: under `--workers 2` without Redis each worker tripped its own switch on the
    same scope (2 switches on model:gpt-4o, 2 trips). The first worker to trip claims the scope
    in the group's directory; the other engages nothing for it."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {
        "upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
        "killswitch": {"breakers": [{"name": "burst", "action": "block", "model": "gpt-*",
                                     "threshold": 2, "window_s": 60, "scope": "model:{model}",
                                     "mode": "block", "duration_s": 30}]}}, "--workers", "2")
    try:
        start_together(mock, guard)

        def blocked(i: int) -> int:
            with httpx.Client() as fresh:  # a connection of its own: both workers get some
                return fresh.post(f"{guard.url}/v1/chat/completions", timeout=30, json={
                    "model": "gpt-4o", "messages": [{"role": "user", "content":
                        f"my key is sk_live_a1B2c3D4e5F6g7H8{i:06d}xyzzy please store it"}],
                }).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(blocked, range(24)))
        assert set(statuses) <= {400, 503}, statuses
        time.sleep(1.0)  # every worker's breaker has counted its share
        assert guard.metric("guard_breaker_trips_total", breaker="burst") == 1, guard.output()
        state = json.loads((tmp_path / "state" / "killswitch.json").read_text())
        assert [switch["scope"] for switch in state["switches"]] == ["model:gpt-4o"], state
    finally:
        guard.stop()
        mock.stop()


@pytest.mark.parametrize("redis", [False, True], ids=["without_redis", "redis_unreachable"])
async def test_workers_of_a_group_crossing_together_engage_one_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis: bool) -> None:
    """Two workers of one group (one state dir, one GUARD_HELD_DIR) crossing the threshold in
    the same instant, each on its own count: one switch and one trip, not one per worker; and
    both count from zero after it, as one process does. So too while Redis is unreachable
    (from a probe: during an outage each worker tripped its own switch, 2 trips)."""
    (tmp_path / "group").mkdir()
    monkeypatch.setenv(HELD_DIR_ENV, str(tmp_path / "group"))
    down = f"redis://127.0.0.1:{free_port()}/0" if redis else None
    workers = [await make(tmp_path, down, "state") for _ in range(2)]
    for _, breaker, _, _ in workers:
        for _ in range(5):
            breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: all(w[0].check(ctx()) is not None for w in workers), 2.0)
    await asyncio.sleep(0.3)  # both breakers have counted
    assert [len(w[0].entries()) for w in workers] == [1, 1]
    trips = [w[3].get_sample_value("guard_breaker_trips_total", {"breaker": RULE.name}) or 0
             for w in workers]
    assert sorted(trips) == [0, 1]
    # once it lifts, each counts from zero: one more incident on either trips nothing
    await eventually(lambda: all(w[0].check(ctx()) is None for w in workers), 2.0)
    for _, breaker, _, _ in workers:
        breaker.observe(ctx(), decision(Action.BLOCK))
    await asyncio.sleep(0.3)
    assert [w[0].entries() for w in workers] == [[], []]
    for service, breaker, _, _ in workers:
        await breaker.aclose()
        await service.aclose()


async def test_a_claim_left_by_a_worker_killed_before_it_engaged_is_taken_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a probe: a worker SIGKILLed between its claim of a scope and its engage left the
    scope claimed for the switch's duration with no switch engaged, and the other workers lost
    the claim without a word. A worker losing a claim with no switch engaged logs
    `breaker_claim_held` while the claimer runs, and takes the claim over once it does not."""
    (tmp_path / "group").mkdir()
    monkeypatch.setenv(HELD_DIR_ENV, str(tmp_path / "group"))
    claims = (f"import time; from guard.killswitch.trips import GroupTrips; "
              f"GroupTrips.of_group().claim('guard:breaker:{RULE.name}:model:gpt-4o', 60, "
              f"time.time()); print(flush=True); time.sleep(60)")
    claimer = subprocess.Popen([sys.executable, "-c", claims], stdout=subprocess.PIPE)
    assert claimer.stdout is not None and claimer.stdout.readline() == b"\n"  # claimed
    service, breaker, _, registry = await make(tmp_path, None, "state")
    try:
        with structlog.testing.capture_logs() as logs:
            for _ in range(RULE.threshold):
                breaker.observe(ctx(), decision(Action.BLOCK))
            await eventually(lambda: any(e["event"] == "breaker_claim_held" for e in logs), 2.0)
            assert service.entries() == []
            claimer.kill()  # between its claim and its engage
            claimer.wait()
            for _ in range(RULE.threshold):
                breaker.observe(ctx(), decision(Action.BLOCK))
            await eventually(lambda: service.check(ctx()) is not None, 2.0)
        assert [e["event"] for e in logs if e["event"].startswith("breaker_claim")] == [
            "breaker_claim_held", "breaker_claim_taken_over"]
        assert registry.get_sample_value("guard_breaker_trips_total",
                                         {"breaker": RULE.name}) == 1
    finally:
        claimer.kill()
        claimer.communicate()
        await breaker.aclose()
        await service.aclose()


KEY_AS_MODEL = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7dEf0h"
KEY_SWITCH = "model:sha256:abdb489a41392867"  # its digest, in any spelling
ALICE = "alice-token-0123456789abcdef"


def model_breaker(tmp_path: Path) -> tuple[MockUpstream, GuardServer]:
    """The stand-in and a guard whose breaker stops a `model:{model}` after 3 answers with
    personal data in a minute, `ALICE` an admin."""
    mock = MockUpstream(tmp_path)
    return mock, GuardServer(tmp_path, {
        "upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
        "killswitch": {"breakers": [{"name": "pii-leak", "label": "pii", "model": "*",
                                     "threshold": 3, "window_s": 60, "scope": "model:{model}",
                                     "mode": "block", "duration_s": 300}]}},
        env={"GUARD_ADMIN_TOKENS": f"alice:{ALICE}"})


def asked_model(guard: GuardServer, model: str, i: int) -> int:
    """The status of a prompt with an e-mail address (the breaker's label) asked of `model`."""
    return httpx.post(f"{guard.url}/v1/chat/completions", timeout=30, json={
        "model": model, "messages": [{"role": "user", "content":
                                      f"mail me at jane{i}@example.com"}]}).status_code


def tripped_by(guard: GuardServer, model: str) -> str:
    """Ask `model` until the breaker trips; the switches then listed (GET /admin/killswitch)."""
    for i in range(3):
        asked_model(guard, model, i)
    deadline = time.monotonic() + 10
    while not guard.metric("guard_breaker_trips_total", breaker="pii-leak"):
        assert time.monotonic() < deadline, guard.output()
        time.sleep(0.05)
    return httpx.get(f"{guard.admin_url}/admin/killswitch", timeout=10,
                     headers={"Authorization": f"Bearer {ALICE}"}).text


def test_a_key_sent_as_the_model_trips_a_switch_named_by_its_digest(tmp_path: Path) -> None:
    """From a probe: a client that sent its key as the model (`"model": "sk-proj-…"`) tripped
    `model:sk-proj-…`, and the key reached the state file, /admin/killswitch, the breaker and
    killswitch incidents and the log. The scope names the key by digest (`model:sha256:…`), and
    the switch still stops that model, and only it."""
    mock, guard = model_breaker(tmp_path)
    try:
        start_together(mock, guard)
        switches = tripped_by(guard, KEY_AS_MODEL)
        incidents = httpx.get(f"{guard.admin_url}/admin/incidents", timeout=10,
                              headers={"Authorization": f"Bearer {ALICE}"}).text
        stopped, other = asked_model(guard, KEY_AS_MODEL, 9), asked_model(guard, "gpt-4o", 9)
    finally:
        guard.stop()
        mock.stop()
    assert [s["scope"] for s in json.loads(switches)["switches"]] == [KEY_SWITCH], switches
    assert (stopped, other) == (503, 200)
    state = b"".join(p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file())
    places = {"switches": switches, "incidents": incidents, "state": state.decode("latin-1"),
              "log": guard.output()}
    assert guard.logged("breaker_tripped")
    assert [place for place, text in places.items()
            if KEY_AS_MODEL[:20].lower() in text.lower()] == []


def test_a_key_sent_upper_cased_trips_the_same_digest_switch(tmp_path: Path) -> None:
    """From a re-probe: a key sent upper-cased as the model (`SK-PROJ-…`, no key's shape as
    sent) tripped `model:sk-proj-…` in clear, the lower-cased key written into the switch, and
    the key's own spelling was not stopped by the digest switch it trips. Every spelling now
    maps to the one digest switch, which stops them all."""
    mock, guard = model_breaker(tmp_path)
    try:
        start_together(mock, guard)
        switches = tripped_by(guard, KEY_AS_MODEL.upper())
        stopped = [asked_model(guard, spelling, 9)
                   for spelling in (KEY_AS_MODEL, KEY_AS_MODEL.upper(), KEY_AS_MODEL.lower())]
        other = asked_model(guard, "gpt-4o", 9)
    finally:
        guard.stop()
        mock.stop()
    assert [s["scope"] for s in json.loads(switches)["switches"]] == [KEY_SWITCH], switches
    assert (stopped, other) == ([503, 503, 503], 200)


def test_clients_are_not_told_a_breakers_threshold_or_window(tmp_path: Path) -> None:
    """From a probe: a breaker's switch answered every client "This service is paused: breaker
    pii-leak: 3 matching incidents within 60s (threshold 3)", so a client learnt how many
    incidents in how long trip it, and could stay just under. Clients now read that the breaker
    stopped it; the figures stay in the `breaker` incident and the log, for operators."""
    mock, guard = model_breaker(tmp_path)
    try:
        start_together(mock, guard)
        tripped_by(guard, "gpt-4o")
        client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-test", max_retries=0)
        with pytest.raises(openai.APIStatusError) as stopped:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
        [trip] = httpx.get(f"{guard.admin_url}/admin/incidents?kind=breaker", timeout=10,
                           headers={"Authorization": f"Bearer {ALICE}"}).json()["incidents"]
    finally:
        guard.stop()
        mock.stop()
    assert stopped.value.status_code == 503
    assert stopped.value.body["message"] == (  # type: ignore[index]
        "This service is paused: stopped automatically by breaker pii-leak")
    assert trip["details"]["reason"] == (
        "breaker pii-leak: 3 matching incidents within 60s (threshold 3)")
    assert trip["details"]["switch_reason"] == "stopped automatically by breaker pii-leak"
    tripped = [line for line in guard.output().splitlines() if "breaker_tripped" in line]
    assert len(tripped) == 1 and "within 60s (threshold 3)" in tripped[0], tripped


async def test_a_breaker_gives_its_switch_the_reason_configured(tmp_path: Path) -> None:
    """A breaker's `reason` is its switch's: what clients read, an incident number for them."""
    rule = RULE.model_copy(update={"reason": "automatic stop, see status.example.com"})
    metrics = Metrics(CollectorRegistry())
    service = build_service(KillSwitchSettings(breakers=[rule]), redis_url=None,
                            state_dir=tmp_path, recorder=EventLog(), metrics=metrics)
    breaker = Breaker([rule], service, metrics)
    await service.start()
    await breaker.start()
    for _ in range(rule.threshold):
        breaker.observe(ctx(), decision(Action.BLOCK))
    await eventually(lambda: service.check(ctx()) is not None, 2.0)
    switch = service.check(ctx())
    await breaker.aclose()
    await service.aclose()
    assert switch is not None and switch.reason == "automatic stop, see status.example.com"
