"""Kill switch state shared through a real redis-server by two services (two replicas)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis
import structlog
from prometheus_client import CollectorRegistry

from guard.killswitch.service import KillSwitchService, build_service
from guard.killswitch.settings import KillSwitchSettings
from guard.observability.metrics import Metrics
from guard.types import GuardContext, Switch
from tests.support import EventLog, RedisServer, SmallVolume

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="gpt-4o")


class Replica:
    def __init__(self, service: KillSwitchService, log: EventLog, registry: CollectorRegistry):
        self.service, self.log, self.registry = service, log, registry

    def stale(self) -> float | None:
        return self.registry.get_sample_value("guard_killswitch_state_stale")


async def eventually(condition: Callable[[], bool], within: float) -> float:
    """Seconds until `condition()` held; fails the test after `within` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not met within {within}s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


@pytest.fixture
async def replicas(
    redis_server: RedisServer, tmp_path: Path
) -> AsyncIterator[tuple[Replica, Replica]]:
    settings = KillSwitchSettings(release_approvals=2, resync_interval_s=0.5)
    made = []
    for name in ("a", "b"):
        registry, log = CollectorRegistry(), EventLog()
        service = build_service(settings, redis_url=redis_server.url, state_dir=tmp_path / name,
                                recorder=log, metrics=Metrics(registry))
        await service.start()
        made.append(Replica(service, log, registry))
    yield made[0], made[1]
    for replica in made:
        await replica.service.aclose()


async def test_a_change_on_one_replica_applies_on_the_other_within_a_second(
    replicas: tuple[Replica, Replica],
) -> None:
    """Engage on A → B enforces it within 1 s; release on A (two actors) → B lets traffic in."""
    a, b = replicas
    switch = await a.service.engage("model:gpt-*", "block", "bad outputs", actor="alice")
    assert a.service.check(CTX) == switch
    await eventually(lambda: b.service.check(CTX) == switch, within=1.0)
    await a.service.release(switch.id, actor="alice")
    await b.service.release(switch.id, actor="bob")
    await eventually(lambda: a.service.check(CTX) is None, within=1.0)
    assert b.service.check(CTX) is None


async def test_two_person_release_across_replicas_records_both_actors(
    replicas: tuple[Replica, Replica],
) -> None:
    """The first approval made on A is seen by B; B's second actor completes the release."""
    a, b = replicas
    switch = await a.service.engage("global", "refuse", "incident 7", actor="alice")
    pending = await a.service.release(switch.id, actor="alice")
    assert not pending.released
    await eventually(lambda: b.service.entries()[0].release_approvals == ("alice",), 1.0)
    done = await b.service.release(switch.id, actor="bob")
    assert done.released and done.approvals == ("alice", "bob")
    audit = b.log.events[-1][1]
    assert audit["action"] == "release" and audit["approvers"] == ["alice", "bob"]


async def test_redis_outage_keeps_the_last_state_then_resyncs(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """Redis stopped with a switch engaged: both keep enforcing and report stale; Redis back
    (empty, it keeps no data): the state is re-seeded, both resync, and a release propagates."""
    a, b = replicas
    switch = await a.service.engage("global", "block", "outage drill", actor="alice")
    await eventually(lambda: b.service.check(CTX) is not None, 1.0)
    redis_server.stop()
    await eventually(lambda: a.stale() == 1 and b.stale() == 1, within=3.0)
    assert a.service.check(CTX) == switch and b.service.check(CTX) == switch
    redis_server.start()
    await eventually(lambda: a.stale() == 0 and b.stale() == 0, within=5.0)
    assert a.service.check(CTX) == switch and b.service.check(CTX) == switch
    await a.service.release(switch.id, actor="alice")
    await b.service.release(switch.id, actor="bob")
    await eventually(lambda: a.service.check(CTX) is None, within=1.0)


async def engaged_then_redis_restarted(a: Replica, b: Replica, redis_server: RedisServer
                                       ) -> Switch:
    """A switch engaged on A and seen by B, then Redis down (both stale) and back, empty."""
    switch = await a.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
    await eventually(lambda: b.service.check(CTX) is not None, 1.0)
    redis_server.stop()
    await eventually(lambda: a.stale() == 1 and b.stale() == 1, within=3.0)
    redis_server.start()
    return switch


async def test_switches_survive_redis_coming_back_under_another_replicas_epoch(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """Redis restarts empty and a replica that knew no switch (one started during the outage)
    marks the new epoch first, with nothing to put back: the replicas that held the switch put it
    back all the same, instead of adopting the empty state."""
    import redis.asyncio as aioredis

    a, b = replicas
    switch = await engaged_then_redis_restarted(a, b, redis_server)
    client = aioredis.Redis.from_url(redis_server.url)
    await client.set("guard:killswitch:epoch", "set-by-an-empty-replica")  # before a or b look
    await eventually(lambda: a.stale() == 0 and b.stale() == 0, within=5.0)
    assert await client.hexists("guard:killswitch:switches", switch.id)
    await client.aclose()
    assert a.service.check(CTX) == switch and b.service.check(CTX) == switch


async def test_a_missed_announcement_heals_by_resync(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """A switch written to Redis without an announcement still reaches B by the periodic resync."""
    import redis.asyncio as aioredis

    a, b = replicas
    switch = await a.service.engage("tenant:acme", "block", "x", actor="alice")
    await eventually(lambda: len(b.service.entries()) == 1, 1.0)
    client = aioredis.Redis.from_url(redis_server.url)
    raw = await client.hget("guard:killswitch:switches", switch.id)
    await client.hset("guard:killswitch:switches", "ks_quiet", raw.replace(  # type: ignore[union-attr]
        switch.id.encode(), b"ks_quiet"))
    await client.aclose()
    await eventually(lambda: len(b.service.entries()) == 2, within=1.5)


async def test_ttl_expiry_is_applied_everywhere_and_audited_once(
    replicas: tuple[Replica, Replica],
) -> None:
    """A switch with a TTL stops traffic on both replicas, then lifts on both; one expire event."""
    a, b = replicas
    await a.service.engage("global", "block", "short", actor="alice", ttl_s=1.0)
    await eventually(lambda: b.service.check(CTX) is not None, 1.0)
    await eventually(lambda: a.service.check(CTX) is None and b.service.check(CTX) is None, 1.5)
    await eventually(lambda: not a.service.entries() and not b.service.entries(), 2.0)
    await asyncio.sleep(0.6)
    expiries = [e for r in (a, b) for _, e in r.log.events if e["action"] == "expire"]
    assert len(expiries) == 1


async def test_an_engage_right_after_redis_came_back_empty_keeps_every_switch(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """From a probe: an engage retried until Redis was back (the runbook's advice) wrote the old
    epoch back, so no replica noticed the loss and the earlier switch was lifted everywhere."""
    a, b = replicas
    first = await engaged_then_redis_restarted(a, b, redis_server)
    second = await b.service.engage("tenant:acme", "block", "INC-2", actor="bob")  # at once
    both = {first.id, second.id}
    await eventually(lambda: {e.switch.id for e in a.service.entries()} == both, 2.0)
    await eventually(lambda: {e.switch.id for e in b.service.entries()} == both, 2.0)


async def test_switches_lost_to_an_older_snapshot_are_put_back(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """From a probe: Redis restored from an older snapshot (or a replica behind promoted) kept
    its epoch, so switches engaged since were lifted with nothing logged. The count of changes
    going back gives the loss away; the replicas put back what they knew."""
    import redis.asyncio as aioredis

    a, b = replicas
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    kept = await a.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
    before = await client.get("guard:killswitch:generation")
    lost = await a.service.engage("tenant:acme", "block", "INC-2", actor="alice")
    both = {kept.id, lost.id}
    await eventually(lambda: {e.switch.id for e in b.service.entries()} == both, 1.0)
    async with client.pipeline(transaction=True) as pipe:  # the snapshot, as taken before
        pipe.hdel("guard:killswitch:switches", lost.id)
        pipe.set("guard:killswitch:generation", before)
        await pipe.execute()
    await eventually(lambda: len(b.service.entries()) == 2
                     and len(a.service.entries()) == 2, 2.0)
    await asyncio.sleep(1.2)  # two resyncs later, still both
    assert await client.hexists("guard:killswitch:switches", lost.id)
    assert {e.switch.id for e in a.service.entries()} == both
    await client.aclose()


async def one_replica(redis_server: RedisServer, state_dir: Path) -> Replica:
    registry, log = CollectorRegistry(), EventLog()
    service = build_service(KillSwitchSettings(resync_interval_s=0.5),
                            redis_url=redis_server.url, state_dir=state_dir, recorder=log,
                            metrics=Metrics(registry))
    await service.start()
    return Replica(service, log, registry)


@pytest.mark.parametrize("redis_at_start", [False, True])
async def test_switches_saved_before_a_restart_survive_redis_coming_back_empty(
    redis_server: RedisServer, tmp_path: Path, redis_at_start: bool,
) -> None:
    """From a second probe: a replica restarted during an outage enforced its saved switch, but
    an engage right after Redis came back empty wrote over it (the saved state kept no epoch);
    restarted with Redis already back and empty (a host reboot), it ignored its saved state.
    The state file keeps the epoch and count it was read at: an empty Redis gets it back."""
    first = await one_replica(redis_server, tmp_path / "a")
    switch = await first.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
    await first.service.aclose()
    redis_server.stop()  # it keeps no data: it comes back empty
    if redis_at_start:
        redis_server.start()
    again = await one_replica(redis_server, tmp_path / "a")
    try:
        assert again.service.check(CTX) == switch  # from the file, at once
        if not redis_at_start:
            redis_server.start()
            await again.service.engage("tenant:acme", "block", "INC-2", actor="bob")
        await eventually(lambda: again.stale() == 0, 5.0)
        assert again.service.check(CTX) == switch
        other = await one_replica(redis_server, tmp_path / "b")  # reads Redis only
        assert other.service.check(CTX) == switch
        await other.service.aclose()
    finally:
        await again.service.aclose()


async def test_a_switch_released_after_redis_came_back_empty_stays_released(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a CI failure: Redis restarted empty, one replica put its switch back and an operator
    released it there; a replica that noticed the restart later put the released switch back
    with what it knew (the documented "release again" case, seen by a test as a flaky wait).
    Every release leaves the switch's id in Redis for a while: a write-back skips it."""
    first = await one_replica(redis_server, tmp_path / "a")
    switch = await first.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
    late = await one_replica(redis_server, tmp_path / "b")
    await eventually(lambda: late.service.check(CTX) == switch, 1.0)
    await late.service.aclose()  # it notices the restart only when it starts again
    redis_server.stop()
    redis_server.start()
    try:
        await eventually(lambda: first.stale() == 0, 5.0)
        assert (await first.service.release(switch.id, actor="alice")).released
        again = await one_replica(redis_server, tmp_path / "b")
        await again.service.aclose()
        client = redis.Redis.from_url(redis_server.url)
        assert not client.hexists("guard:killswitch:switches", switch.id)
        assert first.service.check(CTX) is None
    finally:
        await first.service.aclose()


async def test_a_stray_key_where_releases_are_noted_fails_no_release(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a re-probe: with a string at `guard:killswitch:released` (not guard's), a release's
    transaction failed half-done (the switch deleted, no announcement): the other replica kept
    enforcing it, and the CLI said Redis was unreachable. Now the release goes on without noting
    its id, says why in the log, and a write-back after a loss still works."""
    a = await one_replica(redis_server, tmp_path / "a")
    b = await one_replica(redis_server, tmp_path / "b")
    client = redis.Redis.from_url(redis_server.url)
    client.set("guard:killswitch:released", "oops")
    try:
        switch = await a.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
        kept = await a.service.engage("tenant:acme", "block", "INC-2", actor="alice")
        await eventually(lambda: b.service.check(CTX) == switch, 1.0)
        with structlog.testing.capture_logs() as logs:
            assert (await a.service.release(switch.id, actor="alice")).released
        assert not a.stale() and a.service.check(CTX) is None
        assert [line["type"] for line in logs
                if line["event"] == "killswitch_released_key_unusable"] == ["string"]
        await eventually(lambda: b.service.check(CTX) is None, 1.0)
        client.delete("guard:killswitch:switches", "guard:killswitch:epoch")  # data lost
        await eventually(lambda: client.hexists("guard:killswitch:switches", kept.id), 3.0)
        assert not client.hexists("guard:killswitch:switches", switch.id)
    finally:
        await a.service.aclose()
        await b.service.aclose()


async def test_an_engage_after_a_long_outage_reaches_the_other_replica_within_a_second(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a re-probe: after an outage of more than ~6 s the subscription was tried again
    only every `resync_interval_s` (the back-off doubled up to it), so an engage made just after
    Redis came back took 1.4-2.6 s to reach the other replica."""
    made = []
    for name in ("a", "b"):
        service = build_service(KillSwitchSettings(resync_interval_s=10.0),
                                redis_url=redis_server.url, state_dir=tmp_path / name,
                                recorder=EventLog(), metrics=Metrics(CollectorRegistry()))
        await service.start()
        made.append(service)
    a, b = made
    try:
        redis_server.stop()
        await eventually(lambda: a.stale and b.stale, within=3.0)
        await asyncio.sleep(8.0)  # past the try at 6.35 s: the next was due at 12.75 s
        redis_server.start()
        switch = await a.engage("model:gpt-*", "block", "INC-1", actor="alice")
        assert a.held(switch.id) is None  # written to Redis, not held
        await eventually(lambda: b.check(CTX) == switch, within=1.0)
    finally:
        for service in made:
            await service.aclose()


async def test_a_full_redis_is_not_called_unreachable(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a re-probe: under maxmemory with noeviction an engage was held and the operator told
    "not saved (Redis is unreachable)", though Redis answered: the cause, and the fix, differ."""
    replica = await one_replica(redis_server, tmp_path / "a")
    client = redis.Redis.from_url(redis_server.url)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)
    try:
        switch = await replica.service.engage("model:gpt-*", "block", "INC-1", actor="alice")
        why = replica.service.held(switch.id)
        assert why is not None and why.startswith(
            "not saved (Redis is full: it refuses writes past its maxmemory)")
        client.config_set("maxmemory", 0)
        await eventually(lambda: replica.service.held(switch.id) is None, 3.0)
        assert client.hexists("guard:killswitch:switches", switch.id)
    finally:
        await replica.service.aclose()


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "allkeys-lru, up later"])
async def test_a_redis_that_may_evict_the_state_is_warned_of_at_start(
    redis_server: RedisServer, tmp_path: Path, policy: str,
) -> None:
    """From a re-probe: under allkeys-lru the switches' hash was the first of guard's keys
    evicted, and a switch was lifted on every replica for good. Start says so, or the first
    read once Redis is up (a second re-probe: not said when Redis was down at start)."""
    later = policy.endswith("up later")
    policy = policy.split(",", maxsplit=1)[0]
    if later:
        redis_server.stop()
    else:
        redis.Redis.from_url(redis_server.url).config_set("maxmemory-policy", policy)
    with structlog.testing.capture_logs() as logs:
        replica = await one_replica(redis_server, tmp_path / "a")
        if later:
            redis_server.options = ["--maxmemory-policy", policy]
            redis_server.start()
            switch = await replica.service.engage("model:x", "block", "INC-1", actor="alice")
            assert replica.service.held(switch.id) is None  # written: Redis was read
        await replica.service.aclose()
    warned = [line["maxmemory_policy"] for line in logs
              if line["event"] == "redis_may_evict_kill_switch_state"]
    assert warned == ([policy] if policy.startswith("allkeys-") else [])


async def test_switches_whose_keys_vanish_with_no_change_counted_are_put_back(
    replicas: tuple[Replica, Replica], redis_server: RedisServer,
) -> None:
    """From a second probe: the switches' hash deleted (or evicted) alone was adopted as empty
    by every replica, with nothing logged. Every release and expiry counts a change, so keys
    gone with none counted are a loss: the replicas put back what they knew."""
    import redis.asyncio as aioredis

    a, b = replicas
    switch = await a.service.engage("global", "block", "INC-1", actor="alice")
    await eventually(lambda: b.service.check(CTX) is not None, 1.0)
    client = aioredis.Redis.from_url(redis_server.url)
    await client.delete("guard:killswitch:switches")
    await asyncio.sleep(1.2)  # two resyncs
    assert await client.hexists("guard:killswitch:switches", switch.id)
    assert a.service.check(CTX) == switch and b.service.check(CTX) == switch
    await client.aclose()


async def test_a_flushed_redis_is_reseeded_within_a_second(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a probe: after a FLUSHALL, a replica started before the next resync read Redis empty
    and served a stopped model. The replicas check the epoch with each PING (every 0.5 s) and
    put back what they knew at once, whatever the resync interval."""
    import redis.asyncio as aioredis

    registry, log = CollectorRegistry(), EventLog()
    old = build_service(KillSwitchSettings(resync_interval_s=60), redis_url=redis_server.url,
                        state_dir=tmp_path / "old", recorder=log, metrics=Metrics(registry))
    await old.start()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        switch = await old.engage("model:gpt-4o", "block", "INC-1", actor="alice")
        await asyncio.sleep(0.3)
        await client.flushall()
        start = time.monotonic()
        while not await client.hexists("guard:killswitch:switches", switch.id):
            assert time.monotonic() - start < 1.5, "not reseeded within 1.5 s"
            await asyncio.sleep(0.02)
        new = await one_replica(redis_server, tmp_path / "new")
        assert new.service.check(CTX) == switch
        await new.service.aclose()
    finally:
        await client.aclose()
        await old.aclose()


class FreezableProxy:
    """A TCP relay to Redis; `freeze()` stops carrying the connections open at that moment
    without closing them (a NAT entry dropped, a failover blackholing established flows), while
    new connections still get through."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.links: list[asyncio.Event] = []  # set while a connection is carried
        self.writers: list[asyncio.StreamWriter] = []
        self.pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        carried = asyncio.Event()
        carried.set()
        self.links.append(carried)
        self.writers += [writer, up_writer]
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, carried))
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                    carried: asyncio.Event) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                await carried.wait()  # frozen: the bytes are held, the connection stays open
                sink.write(data)
                await sink.drain()
        sink.close()

    def freeze(self) -> None:
        for carried in self.links:
            carried.clear()

    async def aclose(self) -> None:
        self.server.close()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


async def test_a_subscription_frozen_without_a_reset_is_found_and_replaced(
    redis_server: RedisServer, tmp_path: Path,
) -> None:
    """From a probe: B's connections to Redis frozen without a reset (NAT expiry, failover) left
    its subscription dead unnoticed; B heard changes only at each resync and said it was not
    stale. Its subscription is PINGed: about 1 s after an engage (2.5 s allowed here, for a
    loaded machine) B enforces it, or says it is stale."""
    proxy = FreezableProxy(redis_server.port)
    settings = KillSwitchSettings(resync_interval_s=60)  # only the subscription can tell B
    made = []
    for name, url in (("a", redis_server.url), ("b", await proxy.start())):
        registry, log = CollectorRegistry(), EventLog()
        service = build_service(settings, redis_url=url, state_dir=tmp_path / name,
                                recorder=log, metrics=Metrics(registry))
        await service.start()
        made.append(Replica(service, log, registry))
    a, b = made
    try:
        first = await a.service.engage("global", "block", "before", actor="alice")
        await eventually(lambda: b.service.check(CTX) == first, within=1.0)
        await a.service.release(first.id, actor="alice")
        await eventually(lambda: b.service.check(CTX) is None, within=1.0)
        proxy.freeze()
        switch = await a.service.engage("global", "block", "after", actor="alice")
        await eventually(lambda: b.service.check(CTX) == switch or b.stale() == 1, within=2.5)
        await eventually(lambda: b.service.check(CTX) == switch and b.stale() == 0, within=3.0)
        await a.service.release(switch.id, actor="alice")  # the new subscription carries it
        await eventually(lambda: b.service.check(CTX) is None, within=1.0)
    finally:
        for replica in made:
            await replica.service.aclose()
        await proxy.aclose()


@pytest.mark.parametrize("text", ["[]", "{}", '{"switches": [{"id": 1}]}'])
def test_a_state_file_of_another_shape_is_a_clear_error(tmp_path: Path, text: str) -> None:
    """From a second probe: `[]` crashed start-up with a traceback and `{}` started with no
    switches; both are refused, naming the file, like a file that is not JSON."""
    from guard.errors import GuardError
    from guard.killswitch.store import StateFile

    path = tmp_path / "killswitch.json"
    path.write_text(text)
    with pytest.raises(GuardError, match="kill switch state unreadable"):
        StateFile(path).load_state()


async def test_a_local_copy_on_a_full_volume_is_logged_once_per_outage(
        redis_server: RedisServer, volume: SmallVolume) -> None:
    """From a probe: every change logged killswitch_state_file_unwritable with a traceback while
    the local copy's volume was full. Now: once, without one, and once writable again."""
    service = build_service(KillSwitchSettings(), redis_url=redis_server.url,
                            state_dir=volume.path, recorder=EventLog(),
                            metrics=Metrics(CollectorRegistry()))
    await service.start()
    try:
        volume.fill()
        with structlog.testing.capture_logs() as logs:
            for n in range(5):
                switch = await service.engage("global", "block", f"INC-{n}", actor="alice")
                await service.release(switch.id, actor="alice")
            await asyncio.sleep(0.2)
            volume.free()
            await service.engage("global", "block", "INC-after", actor="alice")
            await eventually(lambda: any(e["event"] == "killswitch_state_file_writable_again"
                                         for e in logs), within=2.0)
        said = [e for e in logs if e["event"].startswith("killswitch_state_file")]
        assert [e["event"] for e in said] == ["killswitch_state_file_unwritable",
                                              "killswitch_state_file_writable_again"]
        assert "No space left on device" in said[0]["error"]
        assert not any("exc_info" in e for e in said)
        assert "INC-after" in (volume.path / "killswitch.json").read_text()
    finally:
        await service.aclose()
