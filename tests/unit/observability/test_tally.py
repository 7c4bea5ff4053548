"""The batched hot-path metrics (guard.observability.tally) expose exactly what direct updates would."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

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
    """While running, pending updates (of a series scraped at 0) reach the metrics every
    interval; the rest at shutdown."""
    metrics = Metrics(CollectorRegistry())
    monkeypatch.setattr(tally_module, "FLUSH_INTERVAL_S", 0.05)
    metrics.answered["/r", "m", 2]  # made, then scraped at 0
    metrics.exposition()

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


def test_a_new_counter_series_is_scraped_at_0_before_its_counts() -> None:
    """A counter's series made since the last scrape is exposed at 0 and its counts after that
    scrape: Prometheus counts no increase in a series' first sample. Other reads are exact."""
    metrics = Metrics(CollectorRegistry())
    metrics.decided["prompt", "allow", "enforce", "", "new-model"].pending += 3
    sample = 'guard_decisions_total{action="allow",mode="enforce",model="new-model",rule="",stage="prompt"}'
    assert f"{sample} 0.0" in metrics.exposition().decode()
    metrics.tally.flush(everything=False)  # the periodic flush, after that scrape
    metrics.decided["prompt", "allow", "enforce", "", "new-model"].pending += 1
    assert f"{sample} 4.0" in metrics.exposition().decode()
    metrics.decided["prompt", "allow", "enforce", "", "newer-model"].pending += 2
    assert metrics.registry.get_sample_value("guard_decisions_total", {
        "stage": "prompt", "action": "allow", "mode": "enforce", "rule": "",
        "model": "newer-model"}) == 2.0


def test_workers_apply_held_counts_after_a_scrape_another_worker_answered(tmp_path: Path) -> None:
    """With --workers, the worker answering a scrape marks when it began in the shared
    directory; another worker's periodic flush then applies the counts it held for series made
    before, not those of series made after."""
    marker = tmp_path / "scraped"
    answering, other = (Metrics(CollectorRegistry()) for _ in range(2))
    answering.tally, other.tally = (tally_module.Tally(m.inflight, marker)
                                    for m in (answering, other))
    other.cut_by = other.tally.counts(other.stream_cutoffs, lambda rule: (rule,))
    other.cut_by["early"].pending += 1
    answering.tally.scraped(time.time_ns())
    other.cut_by["late"].pending += 1
    other.tally.flush(everything=False)
    cutoffs = other.stream_cutoffs
    assert [cutoffs.labels(rule)._value.get() for rule in ("early", "late")] == [1.0, 0.0]
