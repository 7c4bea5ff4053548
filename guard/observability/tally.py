"""The data path's per-request metric updates, kept in plain Python and folded into the
prometheus-client metrics in batches.

Six locked metric updates per request (in-flight up and down, the request counter, two histograms,
the upstream counter) cost about a tenth of a pass-through request's CPU. Here each is a dict
update; `flush()` applies the sums, one locked update per label set and bucket. It runs before
every read of the registry (a scrape, `get_sample_value`), every `FLUSH_INTERVAL_S` and at
shutdown, so a single process's /metrics is always exact; with `--workers N` another worker's
figures reach /metrics within `FLUSH_INTERVAL_S`.

Everything runs on the event loop thread; nothing here is thread-safe, nor needs to be.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from guard.periodic import every

FLUSH_INTERVAL_S = 1.0

Key = tuple[Any, tuple[str, ...]]


class Tally:
    """Pending counts and observations for labelled counters and histograms, and one in-flight
    gauge, applied to the real metrics by `flush()`."""

    def __init__(self, inflight: Gauge) -> None:
        self.inflight = 0  # requests being served by this process right now
        self._inflight_gauge = inflight
        self._counts: dict[Key, float] = {}
        self._observed: dict[Key, list[float]] = {}  # [sum, count in bucket 0, bucket 1, ...]
        self._bounds: dict[Histogram, list[float]] = {}

    def count(self, counter: Counter, labels: tuple[str, ...], amount: float = 1.0) -> None:
        key = (counter, labels)
        self._counts[key] = self._counts.get(key, 0.0) + amount

    def observe(self, histogram: Histogram, labels: tuple[str, ...], value: float) -> None:
        key = (histogram, labels)
        bounds = self._bounds.get(histogram)
        if bounds is None:
            # a labelled histogram keeps its bounds on the parent; the last one is +Inf
            bounds = self._bounds[histogram] = list(histogram._upper_bounds)
        cell = self._observed.get(key)
        if cell is None:
            cell = self._observed[key] = [0.0] * (len(bounds) + 1)
        cell[0] += value
        # prometheus-client files a value under the first bound at or above it: bisect_left
        cell[1 + bisect_left(bounds, value)] += 1

    def flush(self) -> None:
        """Apply everything pending to the prometheus-client metrics."""
        counts, self._counts = self._counts, {}
        observed, self._observed = self._observed, {}
        for (counter, labels), amount in counts.items():
            counter.labels(*labels).inc(amount)
        for (histogram, labels), cell in observed.items():
            _add_observations(histogram.labels(*labels), cell)
        self._inflight_gauge.set(self.inflight)

    async def run(self) -> AsyncIterator[None]:
        """Lifecycle: flush every FLUSH_INTERVAL_S while guard runs, and once at the end."""
        try:
            async with contextlib.asynccontextmanager(every)(FLUSH_INTERVAL_S, self.flush):
                yield
        finally:
            self.flush()


def _add_observations(histogram: Histogram, cell: list[float]) -> None:
    """Adds pre-bucketed observations to one histogram child. prometheus-client has no public
    call for this: it uses the child's `_sum` and per-bucket (not cumulative) `_buckets`, the
    layout `observe()` itself writes. tests/unit/test_tally.py pins it against `observe()`."""
    histogram._sum.inc(cell[0])
    for bucket, n in zip(histogram._buckets, cell[1:], strict=True):
        if n:
            bucket.inc(n)
