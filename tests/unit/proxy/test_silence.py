"""The upstream silence timeout: one sweep cancels waits that outlast their limit, and the wait
site answers with a timeout. Real sockets: a small aiohttp upstream that speaks, then stalls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from guard.components import Exchange
from guard.errors import ClientStalled, SwitchedOff
from guard.proxy.handler import timed_chunks
from guard.proxy.silence import ClientWait, SilenceWatch, raise_if_stopped
from guard.types import GuardContext, Switch


@contextlib.asynccontextmanager
async def stalling_upstream(chunks: int, gap_s: float) -> AsyncIterator[str]:
    """An upstream streaming `chunks` chunks `gap_s` apart, then falling silent for good."""

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(chunks):
            await response.write(b"data: {}\n\n")
            await asyncio.sleep(gap_s)
        await asyncio.sleep(3600)
        return response

    app = web.Application()
    app.router.add_get("/", stream)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def read_until_silent(url: str, limit_s: float, *, tick_s: float | None,
                            ) -> tuple[int, int, float, BaseException | None]:
    """Chunks and holdback ticks read through timed_chunks under a running SilenceWatch, the
    seconds since the last chunk when it ended, and the error it ended with."""
    watch = SilenceWatch([limit_s])
    exchange = Exchange("r1", task=asyncio.current_task(), silence_limit_s=limit_s)
    chunks = ticks = 0
    last_chunk = time.perf_counter()

    def deadline() -> float | None:
        return None if tick_s is None else time.monotonic() + tick_s

    error: BaseException | None = None
    async with contextlib.asynccontextmanager(watch.run)(), aiohttp.ClientSession() as session, \
            session.get(url) as response:
        try:
            async for chunk in timed_chunks(response, exchange, watch.waiting, deadline):
                if chunk is None:
                    ticks += 1
                else:
                    chunks += 1
                    last_chunk = time.perf_counter()
        except aiohttp.ServerTimeoutError as exc:
            error = exc
    return chunks, ticks, time.perf_counter() - last_chunk, error


async def test_a_stream_that_falls_silent_times_out_within_a_sweep() -> None:
    """Chunks 0.1 s apart pass a 0.3 s limit; the silence after them ends the read with
    ServerTimeoutError 0.3 s plus at most one sweep interval later (and some room)."""
    async with stalling_upstream(chunks=6, gap_s=0.1) as url:
        chunks, _, silent_for, error = await read_until_silent(url, 0.3, tick_s=None)
    assert isinstance(error, aiohttp.ServerTimeoutError)
    assert chunks == 6
    # the limit, one sweep interval (limit / 4), and room for a busy machine
    assert 0.3 <= silent_for < 0.3 + 0.075 + 0.6


async def test_holdback_ticks_do_not_restart_the_silence_clock() -> None:
    """A stream guard's holdback ticks (every 0.05 s) are not the upstream speaking: the silence
    still ends the read about 0.3 s after the last chunk."""
    async with stalling_upstream(chunks=2, gap_s=0.05) as url:
        chunks, ticks, silent_for, error = await read_until_silent(url, 0.3, tick_s=0.05)
    assert isinstance(error, aiohttp.ServerTimeoutError)
    assert chunks == 2
    assert ticks >= 2  # several ticks, none of which restarted the clock
    assert silent_for < 0.3 + 0.075 + 0.6


async def test_the_cancellation_is_withdrawn_and_others_are_left_alone() -> None:
    """The sweep cancels only a wait past its limit; `raise_if_stopped` turns that into a timeout
    and withdraws the cancellation; a cancellation from elsewhere is re-raised as it was."""
    watch = SilenceWatch([10.0])
    fresh = Exchange("fresh", task=asyncio.current_task(), silence_limit_s=10.0,
                     silent_since=time.perf_counter())
    stale = Exchange("stale", silence_limit_s=0.1, silent_since=time.perf_counter() - 1)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait(exchange: Exchange) -> None:  # a wait site, as in the data path
        try:
            await never
        except asyncio.CancelledError:
            raise_if_stopped(exchange)
            raise

    stale.task = asyncio.create_task(wait(stale))
    await asyncio.sleep(0)
    watch.waiting.update({fresh, stale})
    watch.sweep(time.perf_counter())
    with pytest.raises(aiohttp.ServerTimeoutError, match=r"silent for more than 0\.1 s"):
        await stale.task
    assert stale.task.cancelling() == 0
    assert not fresh.went_silent

    other = Exchange("other", silence_limit_s=10.0)
    other.task = asyncio.create_task(wait(other))
    await asyncio.sleep(0)
    other.task.cancel()  # a client that left, say: not the sweep
    with pytest.raises(asyncio.CancelledError):
        await other.task


def test_the_sweep_interval_follows_the_shortest_limit() -> None:
    """A quarter of the shortest limit, at most 0.25 s (a kill switch's reach) and at least 10 ms."""
    assert SilenceWatch([600.0, 0.4]).interval_s == 0.1
    assert SilenceWatch([600.0]).interval_s == 0.25
    assert SilenceWatch([0.001]).interval_s == 0.01
    assert SilenceWatch([600.0], write_limit_s=0.4).interval_s == 0.1


class OneModelStopped:
    """A kill switch gate that stops one model."""

    def __init__(self, model: str) -> None:
        self.switch = Switch(id="ks_1", scope="model:" + model, mode="block", reason="drill",
                             actor="alice", created_at=0.0)
        self.model = model

    def check(self, ctx: GuardContext) -> Switch | None:
        return self.switch if ctx.model == self.model else None


async def test_a_wait_whose_request_a_switch_now_stops_ends_with_switched_off() -> None:
    """The sweep ends a wait whose request a kill switch now matches, once, with SwitchedOff
    (the cancellation withdrawn); a wait for another model is left alone."""
    watch = SilenceWatch([10.0])
    watch.gate = OneModelStopped("m1")

    async def wait(exchange: Exchange) -> None:
        try:
            await asyncio.get_running_loop().create_future()  # never done
        except asyncio.CancelledError:
            raise_if_stopped(exchange)
            raise

    def waiting(model: str) -> Exchange:
        exchange = Exchange(model, silence_limit_s=10.0, silent_since=time.perf_counter(),
                            ctx=GuardContext(request_id=model, route="/v1/chat/completions",
                                             model=model, stream=False))
        exchange.task = asyncio.create_task(wait(exchange))
        watch.waiting.add(exchange)
        return exchange

    stopped, spared = waiting("m1"), waiting("m2")
    await asyncio.sleep(0)
    watch.sweep(time.perf_counter())
    watch.sweep(time.perf_counter())  # a second sweep does not cancel it again
    with pytest.raises(SwitchedOff, match="ks_1: drill"):
        await stopped.task
    assert stopped.task is not None and stopped.task.cancelling() == 0
    assert spared.switched_off is None and spared.task is not None and not spared.task.done()
    spared.task.cancel()


async def test_a_write_the_client_does_not_take_ends_with_client_stalled_or_switched_off(
        ) -> None:
    """A write waiting past `write_limit_s` ends with ClientStalled; one whose request a switch
    now stops ends with SwitchedOff, and the next write (the stream's last event) is still timed
    (the cancellations withdrawn)."""
    watch = SilenceWatch([10.0], write_limit_s=0.3)
    watch.gate = OneModelStopped("m1")

    async def write(exchange: Exchange) -> None:  # a write the client does not take
        with ClientWait(exchange, watch.writing):
            await asyncio.get_running_loop().create_future()

    def writing(model: str) -> Exchange:
        exchange = Exchange(model, ctx=GuardContext(request_id=model, model=model, stream=True,
                                                    route="/v1/chat/completions"))
        exchange.task = asyncio.create_task(write(exchange))
        return exchange

    stopped, stalled = writing("m1"), writing("m2")
    await asyncio.sleep(0)
    watch.sweep(time.perf_counter())
    with pytest.raises(SwitchedOff, match="ks_1: drill"):
        await stopped.task
    assert stalled.task is not None and not stalled.task.done()
    stopped.task = asyncio.create_task(write(stopped))  # its last event
    await asyncio.sleep(0)
    watch.sweep(time.perf_counter())
    assert not stopped.task.done()  # the switch does not end it twice
    for exchange in (stopped, stalled):
        watch.sweep(time.perf_counter() + 0.5)
        with pytest.raises(ClientStalled):
            await exchange.task
        assert exchange.task.cancelling() == 0 and exchange.waited_s > 0
    assert not watch.writing
