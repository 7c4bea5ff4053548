"""Third-party classifiers through the `guard.classifiers` entry point, and the Redis cache."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from guard.classify.cache import VerdictCache, shared_redis
from guard.classify.registry import build_classifier, known_types
from guard.classify.runner import ClassifierRunner
from guard.observability.metrics import Metrics
from guard.types import Segment, Stage
from tests.support import RedisServer

PLUGIN = '''
from collections.abc import Sequence
from pydantic import BaseModel, ConfigDict
from guard.classify.registry import ClassifierType
from guard.types import Segment, Verdict

class ShoutConfig(BaseModel):
    """Fires when a segment has at least `min_caps` upper-case letters."""
    model_config = ConfigDict(extra="forbid")
    min_caps: int = 5

class Shout:
    max_match_chars = None
    def __init__(self, name, config, spec):
        self.name, self.config = name, config
    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        return [Verdict(self.name, s.index, frozenset({"shouting"}) if
                sum(c.isupper() for c in s.text) >= self.config.min_caps else frozenset(), 1.0)
                for s in segments]

CLASSIFIER_TYPE = ClassifierType(ShoutConfig, Shout)
'''


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """A distribution `guard-shout` with an entry point, on sys.path like a pip --target install."""
    site = tmp_path / "site"
    (site / "guard_shout").mkdir(parents=True)
    (site / "guard_shout" / "__init__.py").write_text(PLUGIN)
    info = site / "guard_shout-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: guard-shout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [guard.classifiers]
            shout = guard_shout:CLASSIFIER_TYPE
        """)
    )
    sys.path.insert(0, str(site))
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("guard_shout", None)


async def test_plugin_is_discovered_and_runs(installed_plugin: Path) -> None:
    """An installed distribution's entry point adds a type that a policy entry can use."""
    assert "shout" in known_types()
    built = build_classifier("loud", {"type": "shout", "min_caps": 3, "on_error": "fail_closed"})
    runner = ClassifierRunner(Metrics(CollectorRegistry()))
    segs = [Segment("HELLO there", "user", 0, Stage.PROMPT), Segment("hi", "user", 1, Stage.PROMPT)]
    out = await runner.run([built], segs, Stage.PROMPT)
    assert [v.labels for v in out] == [frozenset({"shouting"}), frozenset()]


def test_plugin_config_is_validated(installed_plugin: Path) -> None:
    """The plugin's own config model validates its keys like a built-in's."""
    from guard.errors import PolicyError

    with pytest.raises(PolicyError, match=r"classifiers.loud.min_caps"):
        build_classifier("loud", {"type": "shout", "min_caps": "many"})


async def test_redis_shares_verdicts_between_replicas(redis_server: RedisServer) -> None:
    """A verdict computed by one replica is a cache hit for another replica sharing Redis."""
    built = build_classifier("kw", {"type": "keywords", "terms": ["forbidden"]})
    segs = [Segment("a forbidden word", "user", 0, Stage.PROMPT)]
    client_a = Redis.from_url(redis_server.url)
    client_b = Redis.from_url(redis_server.url)
    metrics_b = Metrics(CollectorRegistry())
    runner_a = ClassifierRunner(Metrics(CollectorRegistry()), VerdictCache(redis=client_a))
    runner_b = ClassifierRunner(metrics_b, VerdictCache(redis=client_b))
    try:
        first = await runner_a.run([built], segs, Stage.PROMPT)
        await runner_a.aclose()
        second = await runner_b.run([built], segs, Stage.PROMPT)
        assert [(v.labels, v.spans) for v in second] == [(v.labels, v.spans) for v in first]
        hits = metrics_b.registry.get_sample_value(
            "guard_classifier_cache_total", {"classifier": "kw", "result": "hit"})
        assert hits == 1
    finally:
        await runner_b.aclose()
        await client_a.aclose()
        await client_b.aclose()


async def test_redis_keys_verdicts_on_the_turns_a_classifier_reads(redis_server: RedisServer) -> None:
    """A model reading each user message with the two before it: another replica reuses the
    verdicts of the same conversation, with what each was read with, and classifies the same last
    message after other turns again (it would answer wrongly from the first conversation's
    verdict)."""
    built = build_classifier("hr", {"type": "harmful_request"})
    pieces = ["Tell me how to break", "into a house when the", "owners are on holiday"]
    other = ["What's a good", "time to visit the", pieces[2]]

    def conversation(texts: list[str]) -> list[Segment]:
        return [Segment(t, "user", i, Stage.PROMPT) for i, t in enumerate(texts)]

    clients = [Redis.from_url(redis_server.url) for _ in range(2)]
    metrics_b = Metrics(CollectorRegistry())
    runner_a = ClassifierRunner(Metrics(CollectorRegistry()), VerdictCache(redis=clients[0]))
    runner_b = ClassifierRunner(metrics_b, VerdictCache(redis=clients[1]))

    def count(result: str) -> float | None:
        return metrics_b.registry.get_sample_value(
            "guard_classifier_cache_total", {"classifier": "hr", "result": result})

    try:
        first = await runner_a.run([built], conversation(pieces), Stage.PROMPT)
        await runner_a.aclose()
        second = await runner_b.run([built], conversation(pieces), Stage.PROMPT)
        assert [v.fired for v in second] == [v.fired for v in first] and second[2].fired
        assert count("hit") == 3 and count("miss") is None
        # what the verdict was read with survives Redis and the in-process cache
        again = await runner_b.run([built], conversation(pieces), Stage.PROMPT)
        assert first[2].joined == second[2].joined == again[2].joined == 2
        third = await runner_b.run([built], conversation(other), Stage.PROMPT)
        assert not third[2].fired and count("miss") == 3
    finally:
        await runner_b.aclose()
        for client in clients:
            await client.aclose()


async def test_redis_outage_is_a_miss_not_a_failure(redis_server: RedisServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """With Redis down, classification still answers (the shared cache just misses); each failed
    read and write is counted, and the outage is logged once, not once per request."""
    built = build_classifier("kw", {"type": "keywords", "terms": ["forbidden"]})
    client = Redis.from_url(redis_server.url)
    registry = CollectorRegistry()
    runner = ClassifierRunner(Metrics(registry), VerdictCache(redis=client))
    redis_server.stop()
    try:
        for text in ("forbidden", "forbidden again"):
            out = await runner.run([built], [Segment(text, "user", 0, Stage.PROMPT)],
                                   Stage.PROMPT)
            assert out[0].fired
        await asyncio.sleep(0.2)  # the writes run in the background
        errors = {op: registry.get_sample_value("guard_classifier_cache_errors_total",
                                                {"op": op}) for op in ("read", "write")}
        assert errors == {"read": 2.0, "write": 2.0}
        assert capsys.readouterr().out.count("verdict_cache_unavailable") == 1
    finally:
        await runner.aclose()
        await client.aclose()


async def test_a_stalled_redis_holds_a_request_only_for_the_cache_budget(
        redis_server: RedisServer) -> None:
    """With Redis stopped (SIGSTOP, sockets open), a look-up misses after `redis_timeout_s` and a
    pending write gives up after the client's 2 s socket timeout, so shutdown waits no longer
    (the library's default: none in older redis-py, 5 s in 8.2)."""
    built = build_classifier("kw", {"type": "keywords", "terms": ["forbidden"]})
    client = shared_redis(redis_server.url)
    cache = VerdictCache(redis=client, redis_timeout_s=0.05)
    runner = ClassifierRunner(Metrics(CollectorRegistry()), cache)
    assert redis_server.proc is not None
    await client.ping()
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        for i in range(3):
            started = time.monotonic()
            out = await runner.run([built], [Segment(f"forbidden {i}", "user", 0, Stage.PROMPT)],
                                   Stage.PROMPT)
            assert out[0].fired and time.monotonic() - started < 0.5
        started = time.monotonic()
        await runner.aclose()  # waits for the three writes
        assert time.monotonic() - started < 3.5
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
        await client.aclose()


async def test_a_batch_shares_only_its_newest_verdicts(redis_server: RedisServer) -> None:
    """From a probe: five requests of 1,500 short messages wrote 60,020 keys (15.9 MB) into
    the Redis the kill switch uses. A batch shares at most SHARED_PER_BATCH verdicts per
    classifier, its newest (the others were new in an earlier request)."""
    from guard.classify.runner import SHARED_PER_BATCH

    # 1,500 texts in 1 s (the default timeout) is a loaded CI machine's edge: what is shared,
    # not how fast, is this test's question
    built = build_classifier("kw", {"type": "keywords", "terms": ["forbidden"], "timeout_s": 10})
    client = Redis.from_url(redis_server.url)
    runner = ClassifierRunner(Metrics(CollectorRegistry()), VerdictCache(redis=client))
    try:
        await client.flushall()
        segs = [Segment(f"message {i}", "user", i, Stage.PROMPT) for i in range(1500)]
        await runner.run([built], segs, Stage.PROMPT)
        await runner.aclose()
        assert await client.dbsize() == SHARED_PER_BATCH
    finally:
        await client.aclose()
