"""Incidents on a real redis-server: the stream, trimming, de-duplication, and an outage."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import RedisStreamSink
from guard.observability.metrics import Metrics
from tests.support import RedisServer
from tests.unit.incidents.helpers import context, decision

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
    incident_id = recorder.record_decision(context(), decision(), "text")
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
    before = [recorder.record_decision(context(f"a{i}"), decision(), "t") for i in range(20)]
    await recorder.flush()
    redis_server.stop()
    during = []
    for i in range(1000):
        during.append(recorder.record_decision(context(f"b{i}"), decision(), "t"))
        if i % 100 == 0:
            await asyncio.sleep(0.01)  # requests arrive over time, not in one burst
    await recorder.flush()
    assert metrics.registry.get_sample_value("guard_incident_spooled_total",
                                             {"sink": "redis"}) == 1000
    redis_server.start()
    after = [recorder.record_decision(context(f"c{i}"), decision(), "t") for i in range(20)]
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
