"""Upstream silence timeouts, enforced by one periodic sweep rather than a timer per read.

An upstream may stay silent for its `timeout_s` before its answer's headers and between stream
chunks (or reads of a body passed through uninspected). A body read whole is one wait: it must be
complete within `timeout_s` of its headers, however steadily it arrives (a drip cannot hold a
request open). aiohttp's `sock_read` timeout would enforce silence by re-arming a timer on every
read from the upstream, about 4k instructions each, twice per pass-through request. Here
each wait for the upstream runs inside `UpstreamWait`, which marks its Exchange (`silent_since`)
and puts it in `SilenceWatch.waiting`; a sweep every `interval_s` cancels the task of a wait that
has outlasted its limit, and `UpstreamWait` turns that cancellation into aiohttp's own
`ServerTimeoutError` (`raise_if_silent`), which the data path already answers: 504, or an error
event once a stream has begun. A timeout fires between
`timeout_s` and `timeout_s + interval_s` after the wait began: after the upstream last spoke.

The same sweep stops the requests a kill switch engaged since they began: a wait for the upstream
whose request a switch now matches is ended with `SwitchedOff`, which the data path answers as the
switch would have (503 or a refusal), or, once a stream has begun, by ending the stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

import aiohttp

from guard.errors import SwitchedOff
from guard.periodic import every
from guard.types import Gate

if TYPE_CHECKING:  # components imports upstream, which imports this
    from guard.components import Exchange

# Sweep at least this often, and four times per shortest timeout, so a timeout overshoots by at
# most a quarter of itself (and never more than this), and a kill switch stops a request waiting
# for its model within this of reaching the replica.
MAX_INTERVAL_S = 0.25
MIN_INTERVAL_S = 0.01


class SilenceWatch:
    """The upstream waits in progress, and the sweep that times them out."""

    def __init__(self, timeouts_s: Iterable[float]) -> None:
        self.waiting: set[Exchange] = set()
        self.gate: Gate | None = None  # the kill switches, once they are wired
        shortest = min(timeouts_s, default=MAX_INTERVAL_S * 4)
        self.interval_s = max(MIN_INTERVAL_S, min(MAX_INTERVAL_S, shortest / 4))

    def sweep(self, now: float) -> None:
        """Cancel every wait silent for longer than its limit (`now` from time.perf_counter), and
        every wait whose request a kill switch now stops."""
        for exchange in list(self.waiting):
            if exchange.task is None or exchange.went_silent or exchange.switched_off is not None:
                continue
            if now - exchange.silent_since > exchange.silence_limit_s:
                exchange.went_silent = True
                exchange.task.cancel()
            elif self.gate is not None and exchange.ctx is not None:
                exchange.switched_off = self.gate.check(exchange.ctx)
                if exchange.switched_off is not None:
                    exchange.task.cancel()

    def run(self) -> AsyncIterator[None]:
        """Lifecycle: sweep every `interval_s` while guard runs."""
        return every(self.interval_s, lambda: self.sweep(time.perf_counter()))


def raise_if_silent(exchange: Exchange) -> None:
    """Where a wait meets CancelledError (`UpstreamWait` does this): if the sweep cancelled the
    wait, raise ServerTimeoutError (silence) or SwitchedOff (a kill switch) in its place, and
    withdraw the cancellation; else return, so the cancellation goes on."""
    if exchange.task is None:
        return
    if exchange.went_silent:
        exchange.went_silent = False
        exchange.task.uncancel()
        raise aiohttp.ServerTimeoutError(
            f"upstream silent for more than {exchange.silence_limit_s:g} s")
    if exchange.switched_off is not None and not exchange.stop_raised:
        exchange.stop_raised = True
        exchange.task.uncancel()
        raise SwitchedOff(exchange.switched_off)


class UpstreamWait:
    """One wait for the upstream (`with UpstreamWait(...):`): its time is added to the exchange's
    upstream and waited time (`elapsed` afterwards), the sweep watches it for silence, and a
    cancellation by the sweep leaves it as ServerTimeoutError.

    restart_clock: False when the wait goes on from an earlier one that ended without the
    upstream speaking (a stream guard's hold-back tick), so the silence is counted from before.
    """

    __slots__ = ("_exchange", "_restart_clock", "_started", "_waiting", "elapsed")

    def __init__(self, exchange: Exchange, waiting: set[Exchange], *,
                 restart_clock: bool = True) -> None:
        self._exchange = exchange
        self._waiting = waiting
        self._restart_clock = restart_clock
        self._started = 0.0
        self.elapsed = 0.0

    def __enter__(self) -> UpstreamWait:
        self._started = time.perf_counter()
        if self._restart_clock:
            self._exchange.silent_since = self._started
        self._waiting.add(self._exchange)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        exchange = self._exchange
        self._waiting.discard(exchange)
        self.elapsed = time.perf_counter() - self._started
        exchange.waited_s += self.elapsed
        exchange.upstream_s += self.elapsed
        if kind is asyncio.CancelledError:
            raise_if_silent(exchange)
