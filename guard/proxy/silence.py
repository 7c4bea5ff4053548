"""Upstream silence and client write timeouts, enforced by one periodic sweep rather than a timer
per read or write.

An upstream may stay silent for its `timeout_s` before its answer's headers and between stream
chunks (or reads of a body passed through uninspected). A body read whole is one wait: it must be
complete within `timeout_s` of its headers, however steadily it arrives (a drip cannot hold a
request open). aiohttp's `sock_read` timeout would enforce silence by re-arming a timer on every
read from the upstream, about 4k instructions each, twice per pass-through request. Here
each wait for the upstream begins with `upstream_wait_begins`, which marks its Exchange
(`silent_since`) and puts it in `SilenceWatch.waiting`, and ends in a `finally:` with
`upstream_wait_ends`; a sweep every `interval_s` cancels the task of a wait that has outlasted its
limit, and the wait site's `except asyncio.CancelledError:` turns that cancellation into aiohttp's
own `ServerTimeoutError` (`raise_if_stopped`), which the data path already answers: 504, or an
error event once a stream has begun. (Two calls and a try statement, not a context manager: a
`with` statement's calls cost 6.8k instructions a wait, these 3.4k; two waits a request.) A
timeout fires between
`timeout_s` and `timeout_s + interval_s` after the wait began: after the upstream last spoke.

A client must take each write of an answer (streamed, or sent whole) within
`limits.client_write_timeout_s`: a write in progress runs inside `ClientWait`, which puts its
Exchange in `SilenceWatch.writing` (`write_since`); the sweep ends a write outlasting it with
`ClientStalled`, and the data path closes the model's connection (a stream's) and the client's.
A client that stops reading would otherwise hold a generation, or an answer, for as long as it
stays connected.

The same sweep stops the requests a kill switch engaged since they began: a wait for the upstream,
or for the client to take a write, whose request a switch now matches is ended with
`SwitchedOff`, which the data path answers as the switch would have (503 or a refusal), or, once
a stream has begun, by closing the model's connection and ending the stream.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

import aiohttp

from guard.errors import ClientStalled, SwitchedOff
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
    """The upstream waits and client writes in progress, and the sweep that times them out.

    timeouts_s:     the upstreams' silence limits (each wait carries its own).
    write_limit_s:  how long a client may take to accept one write (client_write_timeout_s).
    """

    def __init__(self, timeouts_s: Iterable[float], write_limit_s: float = math.inf) -> None:
        self.waiting: set[Exchange] = set()
        self.writing: set[Exchange] = set()
        self.write_limit_s = write_limit_s
        self.gate: Gate | None = None  # the kill switches, once they are wired
        shortest = min([*timeouts_s, write_limit_s, MAX_INTERVAL_S * 4])
        self.interval_s = max(MIN_INTERVAL_S, min(MAX_INTERVAL_S, shortest / 4))

    def sweep(self, now: float) -> None:
        """Cancel every wait silent for longer than its limit and every write the client has not
        taken within `write_limit_s` (`now` from time.perf_counter), and every wait or write
        whose request a kill switch now stops. (A write goes on being timed after a switch: the
        stream's last event is written to a client that may not read it either.)"""
        for exchange in list(self.waiting):
            if exchange.task is None or exchange.went_silent or exchange.switched_off is not None:
                continue
            if now - exchange.silent_since > exchange.silence_limit_s:
                exchange.went_silent = True
                exchange.task.cancel()
            elif self.stops(exchange):
                exchange.task.cancel()
        for exchange in list(self.writing):
            if exchange.task is None or exchange.client_stalled:
                continue
            if now - exchange.write_since > self.write_limit_s:
                exchange.client_stalled = True
                exchange.task.cancel()
            elif exchange.switched_off is None and self.stops(exchange):
                exchange.task.cancel()

    def stops(self, exchange: Exchange) -> bool:
        """Whether a kill switch now stops the exchange's request (kept in `switched_off`)."""
        if self.gate is not None and exchange.ctx is not None and exchange.gated:
            exchange.switched_off = self.gate.check(exchange.ctx)
        return exchange.switched_off is not None

    def run(self) -> AsyncIterator[None]:
        """Lifecycle: sweep every `interval_s` while guard runs."""
        return every(self.interval_s, lambda: self.sweep(time.perf_counter()))


def raise_if_stopped(exchange: Exchange) -> None:
    """Where a wait meets CancelledError (an upstream wait's site and `ClientWait` do this): if
    the sweep cancelled the wait, raise ServerTimeoutError (silence), ClientStalled (a write not
    taken) or SwitchedOff (a kill switch) in its place, and withdraw the cancellation; else
    return, so the cancellation goes on."""
    if exchange.task is None:
        return
    if exchange.went_silent:
        exchange.went_silent = False
        exchange.task.uncancel()
        raise aiohttp.ServerTimeoutError(
            f"upstream silent for more than {exchange.silence_limit_s:g} s")
    if exchange.client_stalled:
        exchange.client_stalled = False
        exchange.task.uncancel()
        raise ClientStalled("the client took no write within client_write_timeout_s")
    if exchange.switched_off is not None and not exchange.stop_raised:
        exchange.stop_raised = True
        exchange.task.uncancel()
        raise SwitchedOff(exchange.switched_off)


def upstream_wait_begins(exchange: Exchange, waiting: set[Exchange],
                         restart_clock: bool = True) -> float:
    """A wait for the upstream begins: the sweep watches it for silence (it joins `waiting`).
    Returns when it began (time.perf_counter), for `upstream_wait_ends`.

    restart_clock: False when the wait goes on from an earlier one that ended without the
    upstream speaking (a stream guard's hold-back tick), so the silence is counted from before.
    """
    started = time.perf_counter()
    if restart_clock:
        exchange.silent_since = started
    waiting.add(exchange)
    return started


def upstream_wait_ends(exchange: Exchange, waiting: set[Exchange], started: float) -> float:
    """A wait for the upstream ends: its time (returned) is added to the exchange's upstream and
    waited time, and the sweep no longer watches it."""
    waiting.discard(exchange)
    elapsed = time.perf_counter() - started
    exchange.waited_s += elapsed
    exchange.upstream_s += elapsed
    return elapsed


class ClientWait:
    """One write to the client (`with ClientWait(...):`): its time is added to the exchange's
    waited time, and the sweep ends it with ClientStalled once it outlasts `write_limit_s`, or
    with SwitchedOff when a kill switch now stops its request."""

    __slots__ = ("_exchange", "_writing")

    def __init__(self, exchange: Exchange, writing: set[Exchange]) -> None:
        self._exchange = exchange
        self._writing = writing

    def __enter__(self) -> ClientWait:
        self._exchange.write_since = time.perf_counter()
        self._writing.add(self._exchange)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        exchange = self._exchange
        self._writing.discard(exchange)
        exchange.waited_s += time.perf_counter() - exchange.write_since
        if kind is asyncio.CancelledError:
            raise_if_stopped(exchange)
