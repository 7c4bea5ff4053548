"""The data path's per-request metric updates, kept in plain Python and folded into the
prometheus-client metrics in batches.

Six locked metric updates per request (in-flight up and down, the request counter, two histograms,
the upstream counter) cost about a tenth of a pass-through request's CPU. Here each is an update of
a cell: one per label set of a metric, made on first use and kept, holding the labelled child it
applies to, so a request makes one dict look-up per metric and no prometheus-client call.
`flush()` applies what the cells hold, one locked update per label set and bucket. It runs before
every read of the registry (a scrape, `get_sample_value`), every `FLUSH_INTERVAL_S` and at
shutdown, so a single process's /metrics is exact but for new series (below); with `--workers N`
another worker's figures reach /metrics within `FLUSH_INTERVAL_S`.

A counter's new series must be scraped at 0 before its first counts: Prometheus takes a series'
first sample as its start, so `increase()` never counts what a series first appears with (a probe
saw 12 kill switch refusals as 0.0-1.1 more 5xx requests). A counter's cell holds its counts, its
child made at 0, until a scrape that began after the cell was made (`scraped`); the next flush
applies them. Other reads of the registry apply everything (`flush()`), so tests and figures read
exact values. With `--workers N` one worker answers a scrape: it records when the scrape began as
the mtime of a file in the multiprocess directory, which every worker's periodic flush reads.

The cells of a metric are as many as its label sets: the callers' keys are bounded as labels are
(a model folds to `other` past `bounded_label`'s limit). Everything runs on the event loop thread;
nothing here is thread-safe, nor needs to be.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from bisect import bisect_left
from collections.abc import AsyncIterator, Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram

from guard.periodic import every

FLUSH_INTERVAL_S = 1.0

K = TypeVar("K", bound=Hashable)
C = TypeVar("C", "Count", "Observations")


SHOWN = -1  # a Count's `made` once its series has been scraped at 0 (or counted anyway)


class Count:
    """A labelled counter's pending increments: `cell.pending += n` is the whole update. They are
    held until a scrape has read the series at 0: `made`, when the cell was made (time.time_ns),
    until then."""

    __slots__ = ("child", "made", "pending")

    def __init__(self, counter: Counter) -> None:
        self.child = counter
        self.pending = 0.0
        self.made = time.time_ns()

    def apply(self, scraped_at: float) -> None:
        """Applies the pending counts if the series was read at 0 by a scrape begun at
        `scraped_at` or before (math.inf: apply them anyway)."""
        if self.pending and self.made < scraped_at:
            self.child.inc(self.pending)
            self.pending = 0.0
            self.made = SHOWN


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

    def apply(self, scraped_at: float) -> None:
        """Adds the pending observations to the child. prometheus-client has no public call for
        this: it uses the child's `_sum` and per-bucket (not cumulative) `_buckets`, the layout
        `observe()` itself writes. tests/unit/observability/test_tally.py pins it against
        `observe()`. Not held as counts are (`scraped_at` unused): a histogram's panels read
        quantiles, which its first observations barely move."""
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

    def apply(self, scraped_at: float) -> None:
        """Made at 0 with the metrics, so never held (`scraped_at` unused)."""
        now = self.total()
        if now > self.seen:
            self.counter.inc(now - self.seen)
        self.seen = now


class Tally:
    """Cells of pending counts and observations for labelled counters and histograms, and one
    in-flight gauge, applied to the real metrics by `flush()`."""

    def __init__(self, inflight: Gauge, scrapes: Path | None = None) -> None:
        self.inflight = 0  # requests being served by this process right now
        self.scraped_at = 0  # when the last scrape began (time.time_ns); 0: none yet
        self._scrapes = scrapes  # with --workers: a file whose mtime is that, for every worker
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

    def flush(self, everything: bool = True) -> None:
        """Apply what is pending to the prometheus-client metrics: everything, or (for a scrape
        and the periodic flush) all but the counts of series no scrape has read at 0 yet."""
        scraped_at = math.inf if everything else self.last_scrape()
        for cells in self._cells:
            for cell in cells.values():
                cell.apply(scraped_at)
        for followed in self._followed:
            followed.apply(scraped_at)
        self._inflight_gauge.set(self.inflight)

    def scraped(self, began: int) -> None:
        """Record a scrape that began at `began` (time.time_ns): it read every series made
        before at 0, or at what was applied to it."""
        self.scraped_at = max(self.scraped_at, began)
        if self._scrapes is not None:
            self._scrapes.touch()
            os.utime(self._scrapes, ns=(began, began))

    def last_scrape(self) -> int:
        """When the last scrape this process (or, with --workers, any worker) answered began."""
        if self._scrapes is not None:
            with contextlib.suppress(FileNotFoundError):  # no scrape yet
                self.scraped_at = max(self.scraped_at, self._scrapes.stat().st_mtime_ns)
        return self.scraped_at

    async def run(self) -> AsyncIterator[None]:
        """Lifecycle: flush every FLUSH_INTERVAL_S while guard runs, and once at the end."""
        try:
            async with contextlib.asynccontextmanager(every)(FLUSH_INTERVAL_S, self._flush_shown):
                yield
        finally:
            self.flush()  # held counts too: this process's series may outlive it (--workers)

    def _flush_shown(self) -> None:
        self.flush(everything=False)

