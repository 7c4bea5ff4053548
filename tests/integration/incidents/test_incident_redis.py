"""Incidents on a real redis-server: the stream, trimming, de-duplication, and an outage."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from structlog.testing import capture_logs

from guard.incidents.query import Query
from guard.incidents.reader import RedisReader, build_reader
from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import RedisStreamSink, lost_key
from guard.observability.metrics import Metrics
from guard.types import GuardContext
from tests.support import RedisServer
from tests.unit.incidents.helpers import context, decision, prompt

SETTINGS = IncidentSettings(fsync_interval_ms=20, retry_interval_ms=50, retry_max_ms=200,
                            log=False)


async def stream_ids(url: str, stream: str = "guard:incidents") -> list[str]:
    client = Redis.from_url(url)
    try:
        entries = await client.xrange(stream)
    finally:
        await client.aclose()
    return [fields[b"id"].decode() for _, fields in entries]


def journal_ids(state_dir: Path) -> list[str]:
    return [orjson.loads(line)["id"]
            for path in sorted(journal_dir(state_dir).glob("*.jsonl"))
            for line in path.read_bytes().splitlines()]


async def test_incidents_reach_the_stream(tmp_path: Path, redis_server: RedisServer) -> None:
    """Each incident is one stream entry with its id and its full JSON."""
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, Metrics(CollectorRegistry()))
    await recorder.start()
    incident_id = recorder.record_decision(context(), decision(), prompt("text"))
    await recorder.aclose()
    client = Redis.from_url(redis_server.url)
    [(_, fields)] = await client.xrange("guard:incidents")
    await client.aclose()
    assert fields[b"id"].decode() == incident_id
    assert orjson.loads(fields[b"data"])["rules"] == ["no-secrets"]


async def test_resent_batch_is_added_once(redis_server: RedisServer) -> None:
    """A batch written twice (as after a lost reply) adds each incident once."""
    sink = RedisStreamSink(redis_server.url, "s", 10_000, 600)
    batch = [orjson.dumps({"id": f"inc-{i}"}) for i in range(10)]
    await sink.write(batch)
    await sink.write(batch)
    await sink.aclose()
    assert await stream_ids(redis_server.url, "s") == [f"inc-{i}" for i in range(10)]


async def test_stream_is_trimmed_to_about_maxlen(redis_server: RedisServer) -> None:
    """XADD MAXLEN ~ keeps the stream near the configured length."""
    sink = RedisStreamSink(redis_server.url, "s", 1000, 600)
    for start in range(0, 5000, 500):
        await sink.write([orjson.dumps({"id": f"i{n}"}) for n in range(start, start + 500)])
    await sink.aclose()
    assert 1000 <= len(await stream_ids(redis_server.url, "s")) < 2000


async def test_redis_outage_loses_and_duplicates_nothing(tmp_path: Path,
                                                         redis_server: RedisServer) -> None:
    """1,000 incidents made while Redis is down all land in the stream once, and in the journal."""
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, metrics)
    await recorder.start()
    before = [recorder.record_decision(context(f"a{i}"), decision(), prompt("t")) for i in range(20)]
    await recorder.flush()
    redis_server.stop()
    during = []
    for i in range(1000):
        during.append(recorder.record_decision(context(f"b{i}"), decision(), prompt("t")))
        if i % 100 == 0:
            await asyncio.sleep(0.01)  # requests arrive over time, not in one burst
    await recorder.flush()
    assert metrics.registry.get_sample_value("guard_incident_spooled_total",
                                             {"sink": "redis"}) == 1000
    assert waiting(metrics) == 1000
    redis_server.start()
    after = [recorder.record_decision(context(f"c{i}"), decision(), prompt("t")) for i in range(20)]
    deadline = asyncio.get_running_loop().time() + 10
    # the test server keeps nothing across a restart, so the stream starts again from `during`
    expected = [*during, *after]
    while await stream_ids(redis_server.url) != expected:
        assert asyncio.get_running_loop().time() < deadline, "spool not replayed in time"
        await asyncio.sleep(0.05)
    await recorder.aclose()
    assert await stream_ids(redis_server.url) == expected
    assert journal_ids(tmp_path) == [*before, *during, *after]
    assert metrics.registry.get_sample_value("guard_incident_dropped_total") == 0
    assert waiting(metrics) == 0


def waiting(metrics: Metrics, sink: str = "redis") -> float | None:
    return metrics.registry.get_sample_value("guard_incident_spool_waiting", {"sink": sink})


async def test_spool_waiting_counts_what_is_not_replayed_yet(tmp_path: Path,
                                                            redis_server: RedisServer) -> None:
    """From a probe: the spooling alert read how many incidents were spooled lately, and paged for
    10 min after a 10 s outage. The gauge it reads now counts what waits: a spool left by a
    process that stopped during an outage counts in the next one, and 0 once it is replayed."""
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, Metrics(CollectorRegistry()))
    await recorder.start()
    redis_server.stop()
    spooled = [recorder.record_decision(context(f"r{i}"), decision(), prompt("t")) for i in range(30)]
    with capture_logs() as logs:  # an operator's probe: the log said nothing of them at stop
        await recorder.aclose()
    left = [line for line in logs if line["event"] == "incident_spool_left"]
    assert [(line["sink"], line["incidents"]) for line in left] == [("redis", 30)]
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, metrics)
    await recorder.start()
    assert waiting(metrics) == 30
    redis_server.start()
    await wait_for_stream(redis_server.url, spooled)
    deadline = asyncio.get_running_loop().time() + 10
    while waiting(metrics) != 0:  # set once the replayed batch is committed, after the write
        assert asyncio.get_running_loop().time() < deadline, waiting(metrics)
        await asyncio.sleep(0.05)
    await recorder.aclose()


async def wait_for_stream(url: str, expected: list[str]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while await stream_ids(url) != expected:
        assert asyncio.get_running_loop().time() < deadline, "spool not replayed in time"
        await asyncio.sleep(0.05)


async def test_a_damaged_spool_line_does_not_stop_the_stream(tmp_path: Path,
                                                             redis_server: RedisServer) -> None:
    """From a probe: one line of NUL bytes in the Redis spool failed every replay, across
    restarts: 0 of 20 spooled and 0 of 10 new incidents reached the stream. The line is skipped
    and counted as dropped; the other 19 and the new ones reach it."""
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, Metrics(CollectorRegistry()))
    await recorder.start()
    redis_server.stop()
    spooled = [recorder.record_decision(context(f"r{i}"), decision(), prompt("t")) for i in range(20)]
    await recorder.aclose()
    [spool] = (tmp_path / "incidents/spool/redis").glob("*.jsonl")
    damaged = spool.read_bytes().split(b"\n")
    damaged[5] = b"\x00" * 40
    spool.write_bytes(b"\n".join(damaged))
    redis_server.start()
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, metrics)
    await recorder.start()
    new = [recorder.record_decision(context(f"n{i}"), decision(), prompt("t")) for i in range(10)]
    await wait_for_stream(redis_server.url, [*spooled[:5], *spooled[6:], *new])
    await recorder.aclose()
    assert metrics.registry.get_sample_value("guard_incident_dropped_total") == 1


async def test_an_oversized_incident_does_not_stop_the_stream(tmp_path: Path,
                                                              redis_server: RedisServer) -> None:
    """From a probe: a 1.2 MB incident spooled during an outage made every replay read nothing,
    so every later incident went on being spooled, and a restart deleted them all, uncounted.
    It is skipped and counted as dropped; every other incident reaches the stream."""
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(SETTINGS, tmp_path, redis_server.url, metrics)
    await recorder.start()
    redis_server.stop()
    huge = GuardContext(request_id="big", route="/v1/chat/completions", model="x" * 1_200_000)
    recorder.record_decision(huge, decision(), prompt("t"))
    spooled = [recorder.record_decision(context(f"r{i}"), decision(), prompt("t")) for i in range(20)]
    await recorder.flush()
    redis_server.start()
    new = [recorder.record_decision(context(f"n{i}"), decision(), prompt("t")) for i in range(10)]
    await wait_for_stream(redis_server.url, [*spooled, *new])
    await recorder.aclose()
    assert metrics.registry.get_sample_value("guard_incident_dropped_total") == 1
    assert list((tmp_path / "incidents/spool/redis").glob("*.jsonl")) == []


async def test_a_stream_lost_before_any_write_since_is_reported(tmp_path: Path,
                                                                redis_server: RedisServer) -> None:
    """From a probe: 5 incidents in the stream, Redis restarted empty (FLUSHALL), no incident
    written since: `since=1h` and newest-first answered nothing, with no warning. Now the
    reader sees Redis holds no epoch of a stream this replica wrote to, and says so."""
    settings = IncidentSettings(fsync_interval_ms=10, log=False)
    recorder = IncidentRecorder(settings, tmp_path, redis_server.url, Metrics(CollectorRegistry()))
    await recorder.start()
    for n in range(5):
        recorder.record_decision(context(f"r{n}"), decision(), prompt("a"))
    await recorder.aclose()
    reader = build_reader(settings, tmp_path, redis_server.url)
    assert (await reader.page(Query(since=time.time() - 3600))).warning is None
    client = Redis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    for query in (Query(since=time.time() - 3600), Query()):
        answer = await reader.page(query)
        assert answer.incidents == [] and "Redis lost the stream" in (answer.warning or "")
    await reader.aclose()
    elsewhere = build_reader(settings, tmp_path / "another-replica", redis_server.url)
    assert (await elsewhere.page(Query())).warning is None  # it never wrote there
    await elsewhere.aclose()


@pytest.mark.parametrize("change", ["stream renamed", "another Redis"])
async def test_a_new_stream_or_redis_is_not_a_lost_stream(tmp_path: Path, redis_server: RedisServer,
                                                          change: str) -> None:
    """From a probe: the epoch file was one whatever the stream and Redis: renaming
    `redis_stream` (or pointing `redis_url` at another, healthy Redis) logged
    incident_stream_lost and set `<stream>:lost`, so every query reaching back warned for good.
    Now the epoch is remembered with the stream's name and Redis's address."""
    epoch_file = tmp_path / "incidents" / "stream-epoch"
    old = RedisStreamSink(redis_server.url, "guard:incidents", 1000, 60, epoch_file=epoch_file)
    await old.write([orjson.dumps({"id": "inc_1"})])
    await old.aclose()
    other = RedisServer(tmp_path / "other-redis")
    other.start()
    try:
        url, stream = ((redis_server.url, "guard:incidents:prod") if change == "stream renamed"
                       else (other.url, "guard:incidents"))
        with capture_logs() as logs:
            new = RedisStreamSink(url, stream, 1000, 60, epoch_file=epoch_file)
            await new.write([orjson.dumps({"id": "inc_2"})])
            marked = await new._redis.get(lost_key(stream))
            await new.aclose()
        assert marked is None and "incident_stream_lost" not in [e["event"] for e in logs]
        reader = RedisReader(url, stream, epoch_file)
        assert (await reader.page(Query())).warning is None
        await reader.aclose()
        # a real loss of the new stream is still seen
        client = Redis.from_url(url)
        await client.flushall()
        await client.aclose()
        again = RedisStreamSink(url, stream, 1000, 60, epoch_file=epoch_file)
        with capture_logs() as logs:
            await again.write([orjson.dumps({"id": "inc_3"})])
        await again.aclose()
        assert "incident_stream_lost" in [e["event"] for e in logs]
    finally:
        other.stop()
