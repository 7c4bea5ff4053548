"""The batched hot-path metrics (guard.observability.tally) expose exactly what direct updates would."""

from __future__ import annotations

import asyncio
import random

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from guard.observability import tally as tally_module
from guard.observability.metrics import LATENCY_BUCKETS, Metrics

Sample = tuple[str, tuple[tuple[str, str], ...]]


def _samples(registry: CollectorRegistry, prefix: str) -> dict[Sample, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect() for s in family.samples
            if s.name.startswith(prefix) and not s.name.endswith("_created")}


def test_batched_counts_and_observations_equal_direct_updates() -> None:
    """Counters and histograms fed through the tally read the same as ones fed directly,
    bucket edges included (a value equal to a bound lands in that bound's bucket)."""
    metrics = Metrics(CollectorRegistry())
    reference = CollectorRegistry()
    requests = Counter("guard_requests", "x", ["route", "model", "status_class"],
                       registry=reference)
    overhead = Histogram("guard_overhead_seconds", "x", ["route"], buckets=LATENCY_BUCKETS,
                         registry=reference)
    rng = random.Random(7)
    values = [rng.choice([*LATENCY_BUCKETS, 0.0, 7.0]) for _ in range(200)]
    values += [rng.uniform(0, 3) for _ in range(800)]
    for i, value in enumerate(values):
        status = 200 if i % 5 else 404
        metrics.answered["/v1/chat/completions", f"m{i % 3}", status // 100].pending += 1
        requests.labels("/v1/chat/completions", f"m{i % 3}", f"{status // 100}xx").inc()
        metrics.overhead_on["/v1/chat/completions"].observe(value)
        overhead.labels("/v1/chat/completions").observe(value)
        if i % 97 == 0:  # a flush between updates: what a cell holds is applied once
            metrics.tally.flush()

    batched = _samples(metrics.registry, "guard_")  # reading the registry flushes first
    direct = _samples(reference, "guard_")
    assert batched.keys() >= direct.keys()
    for key, value in direct.items():
        assert abs(batched[key] - value) < 1e-9, key
    assert batched[("guard_requests_total", (("model", "m0"), ("route", "/v1/chat/completions"),
                                             ("status_class", "2xx")))] > 0


def test_inflight_gauge_and_scrape_see_pending_updates() -> None:
    """The in-flight count and anything pending appear in the very next exposition."""
    metrics = Metrics(CollectorRegistry())
    metrics.tally.inflight = 3
    metrics.upstream_answered["default", 2].pending += 2
    text = generate_latest(metrics.registry).decode()
    assert "guard_inflight_requests 3.0" in text
    assert 'guard_upstream_responses_total{status_class="2xx",upstream="default"} 2.0' in text


def test_lifecycle_flushes_periodically_and_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """While running, pending updates reach the metrics every interval; the rest at shutdown."""
    metrics = Metrics(CollectorRegistry())
    monkeypatch.setattr(tally_module, "FLUSH_INTERVAL_S", 0.05)

    def applied() -> float:  # the metric's own value: a registry read would flush first
        return float(metrics.requests.labels("/r", "m", "2xx")._value.get())

    async def run() -> tuple[float, float, float]:
        lifecycle = metrics.tally.run()
        await anext(lifecycle)
        metrics.answered["/r", "m", 2].pending += 1
        before = applied()
        await asyncio.sleep(0.2)
        during = applied()
        metrics.answered["/r", "m", 2].pending += 1
        await lifecycle.aclose()
        return before, during, applied()

    assert asyncio.run(run()) == (0.0, 1.0, 2.0)
