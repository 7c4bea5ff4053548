"""The data path's per-request metric updates, kept in plain Python and folded into the
prometheus-client metrics in batches.

Six locked metric updates per request (in-flight up and down, the request counter, two histograms,
the upstream counter) cost about a tenth of a pass-through request's CPU. Here each is an update of
a cell: one per label set of a metric, made on first use and kept, holding the labelled child it
applies to, so a request makes one dict look-up per metric and no prometheus-client call.
`flush()` applies what the cells hold, one locked update per label set and bucket. It runs before
every read of the registry (a scrape, `get_sample_value`), every `FLUSH_INTERVAL_S` and at
shutdown, so a single process's /metrics is always exact; with `--workers N` another worker's
figures reach /metrics within `FLUSH_INTERVAL_S`.

The cells of a metric are as many as its label sets: the callers' keys are bounded as labels are
(a model folds to `other` past `bounded_label`'s limit). Everything runs on the event loop thread;
nothing here is thread-safe, nor needs to be.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram

from guard.periodic import every

FLUSH_INTERVAL_S = 1.0

K = TypeVar("K", bound=Hashable)
C = TypeVar("C", "Count", "Observations")


class Count:
    """A labelled counter's pending increments: `cell.pending += n` is the whole update."""

    __slots__ = ("child", "pending")

    def __init__(self, counter: Counter) -> None:
        self.child = counter
        self.pending = 0.0

    def apply(self) -> None:
        if self.pending:
            self.child.inc(self.pending)
            self.pending = 0.0


class Observations:
    """A labelled histogram's pending observations: their sum and a count per bucket."""

    __slots__ = ("bounds", "buckets", "child", "sum")

    def __init__(self, histogram: Histogram, bounds: list[float]) -> None:
        self.child = histogram
        self.bounds = bounds  # the parent's; the last one is +Inf
        self.sum = 0.0
        self.buckets = [0] * len(bounds)

    def observe(self, value: float) -> None:
        self.sum += value
        # prometheus-client files a value under the first bound at or above it: bisect_left
        self.buckets[bisect_left(self.bounds, value)] += 1

    def apply(self) -> None:
        """Adds the pending observations to the child. prometheus-client has no public call for
        this: it uses the child's `_sum` and per-bucket (not cumulative) `_buckets`, the layout
        `observe()` itself writes. tests/unit/observability/test_tally.py pins it against
        `observe()`."""
        if not any(self.buckets):
            return
        self.child._sum.inc(self.sum)
        for bucket, n in zip(self.child._buckets, self.buckets, strict=True):
            if n:
                bucket.inc(n)
        self.sum = 0.0
        self.buckets = [0] * len(self.bounds)


class Cells(dict[K, C]):
    """One metric's cells by the caller's key, each made (with its labelled child) the first
    time its key is looked up, and kept."""

    def __init__(self, make: Callable[[K], C]) -> None:
        super().__init__()
        self._make: Callable[[K], C] = make

    def __missing__(self, key: K) -> C:
        cell = self[key] = self._make(key)
        return cell


class Followed:
    """A counter following a count kept elsewhere, from 0: `apply` adds what it grew by (a count
    begun again, logging set up anew, is followed from its new start)."""

    __slots__ = ("counter", "seen", "total")

    def __init__(self, counter: Counter, total: Callable[[], int]) -> None:
        self.counter, self.total, self.seen = counter, total, 0

    def apply(self) -> None:
        now = self.total()
        if now > self.seen:
            self.counter.inc(now - self.seen)
        self.seen = now


class Tally:
    """Cells of pending counts and observations for labelled counters and histograms, and one
    in-flight gauge, applied to the real metrics by `flush()`."""

    def __init__(self, inflight: Gauge) -> None:
        self.inflight = 0  # requests being served by this process right now
        self._inflight_gauge = inflight
        self._cells: list[Cells[Any, Any]] = []
        self._followed: list[Followed] = []

    def counts(self, counter: Counter, labels: Callable[[K], tuple[str, ...]]) -> Cells[K, Count]:
        """Cells of `counter` by key; `labels(key)` gives a key's label values."""
        cells: Cells[K, Count] = Cells(lambda key: Count(counter.labels(*labels(key))))
        self._cells.append(cells)
        return cells

    def observations(self, histogram: Histogram,
                     labels: Callable[[K], tuple[str, ...]]) -> Cells[K, Observations]:
        """Cells of `histogram` by key; `labels(key)` gives a key's label values."""
        # a labelled histogram keeps its bounds on the parent
        bounds = list(histogram._upper_bounds)
        cells: Cells[K, Observations] = Cells(
            lambda key: Observations(histogram.labels(*labels(key)), bounds))
        self._cells.append(cells)
        return cells

    def follow(self, counter: Counter, total: Callable[[], int]) -> None:
        """Have `counter` follow `total()`, a count kept outside the metrics (log lines dropped,
        `observability.logging`): each flush adds what it grew by."""
        self._followed.append(Followed(counter, total))

    def flush(self) -> None:
        """Apply everything pending to the prometheus-client metrics."""
        for cells in self._cells:
            for cell in cells.values():
                cell.apply()
        for followed in self._followed:
            followed.apply()
        self._inflight_gauge.set(self.inflight)

    async def run(self) -> AsyncIterator[None]:
        """Lifecycle: flush every FLUSH_INTERVAL_S while guard runs, and once at the end."""
        try:
            async with contextlib.asynccontextmanager(every)(FLUSH_INTERVAL_S, self.flush):
                yield
        finally:
            self.flush()

