"""Upstream silence timeouts, enforced by one periodic sweep rather than a timer per read.

An upstream may stay silent for its `timeout_s`: before its answer's headers, between reads of a
body, between stream chunks. aiohttp's `sock_read` timeout would enforce that by re-arming a timer
on every read from the upstream, about 4k instructions each, twice per pass-through request. Here
each wait for the upstream marks its Exchange (`silent_since`) and joins `SilenceWatch.waiting`; a
sweep every `interval_s` cancels the task of a wait that has outlasted its limit, and the wait site
turns that cancellation into aiohttp's own `ServerTimeoutError` (`raise_if_silent`), which the data
path already answers: 504, or an error event once a stream has begun. A timeout fires between
`timeout_s` and `timeout_s + interval_s` after the upstream last spoke.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

import aiohttp

from guard.periodic import every

if TYPE_CHECKING:  # components imports upstream, which imports this
    from guard.components import Exchange

# Sweep at least this often, and four times per shortest timeout, so a timeout overshoots by at
# most a quarter of itself (and never more than this).
MAX_INTERVAL_S = 1.0
MIN_INTERVAL_S = 0.01


class SilenceWatch:
    """The upstream waits in progress, and the sweep that times them out."""

    def __init__(self, timeouts_s: Iterable[float]) -> None:
        self.waiting: set[Exchange] = set()
        shortest = min(timeouts_s, default=MAX_INTERVAL_S * 4)
        self.interval_s = max(MIN_INTERVAL_S, min(MAX_INTERVAL_S, shortest / 4))

    def sweep(self, now: float) -> None:
        """Cancel every wait silent for longer than its limit (`now` from time.perf_counter)."""
        for exchange in [e for e in self.waiting if now - e.silent_since > e.silence_limit_s]:
            if not exchange.went_silent and exchange.task is not None:
                exchange.went_silent = True
                exchange.task.cancel()

    def run(self) -> AsyncIterator[None]:
        """Lifecycle: sweep every `interval_s` while guard runs."""
        return every(self.interval_s, lambda: self.sweep(time.perf_counter()))


def raise_if_silent(exchange: Exchange) -> None:
    """Call in a wait's `except asyncio.CancelledError`: if the sweep cancelled the wait, raise
    ServerTimeoutError in its place (and withdraw the cancellation); else return, to re-raise."""
    if exchange.went_silent and exchange.task is not None:
        exchange.went_silent = False
        exchange.task.uncancel()
        raise aiohttp.ServerTimeoutError(
            f"upstream silent for more than {exchange.silence_limit_s:g} s")
