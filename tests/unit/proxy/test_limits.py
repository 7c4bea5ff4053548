"""The connection wrapper of the data plane, on real sockets, on asyncio's loop and on uvloop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from guard.proxy import limits
from guard.proxy.limits import Reject, Watched


class Inner(asyncio.Protocol):
    """Stands for aiohttp's protocol: records what reaches it."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()


async def exchange(header_timeout_s: float, *chunks: bytes,
                   hold_s: float = 0.0) -> tuple[Inner, Watched, list[int], bool]:
    """A server whose connections are Watched(Inner); a client sends `chunks`, waits `hold_s`,
    then closes. The last item: whether the server had closed the connection by then."""
    closed: list[int] = []
    made: list[tuple[Inner, Watched]] = []

    def factory() -> asyncio.Protocol:
        inner = Inner()
        watched = Watched(inner, lambda: closed.append(1), header_timeout_s)
        made.append((inner, watched))
        return watched

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with socket.create_connection(("127.0.0.1", port)) as client:
        for chunk in chunks:
            client.sendall(chunk)
            await asyncio.sleep(0.05)
        await asyncio.sleep(hold_s)
        inner, watched = made[0]
        cut_by_server = inner.lost.is_set()
    await asyncio.wait_for(inner.lost.wait(), 5)
    server.close()
    return inner, watched, closed, cut_by_server


def on_each_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[str], None]:
    @pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
    def run(loop: str) -> None:
        (uvloop.run if loop == "uvloop" else asyncio.run)(test())

    run.__doc__ = test.__doc__
    return run


@on_each_loop
async def test_every_byte_reaches_aiohttp_before_and_after_the_wrapper_steps_aside() -> None:
    """Once the first request's headers are in, reads go straight to aiohttp; nothing is lost
    on the way, and the connection's close is still counted."""
    inner, watched, closed, cut = await exchange(
        0.5, b"POST / HTTP/1.1\r\nHost: x\r\n", b"Content-Length: 2\r\n\r\nab",
        b"GET / HTTP/1.1\r\n\r\n", hold_s=0.7)
    assert b"".join(inner.received) == (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
                                       b"abGET / HTTP/1.1\r\n\r\n")
    assert watched.data_received == inner.data_received  # the transport calls aiohttp directly
    assert closed == [1]
    assert not cut  # past the header deadline, and still open: the deadline was for headers


@on_each_loop
async def test_a_client_that_never_finishes_its_headers_is_cut_off() -> None:
    """Headers that do not all arrive within the deadline close the connection."""
    inner, _, closed, cut = await exchange(0.2, b"POST / HTTP/1.1\r\nHost: x\r\n", hold_s=0.6)
    assert b"".join(inner.received) == b"POST / HTTP/1.1\r\nHost: x\r\n"
    assert cut
    assert closed == [1]


async def rejections(*sends: bytes) -> list[float]:
    """A server whose every connection is a Reject; a client per item of `sends` connects, sends
    it, and holds its socket open. How long the server took to close each one (seconds), in the
    order they connected."""
    lingering: set[Reject] = set()
    closed: dict[int, float] = {}
    loop = asyncio.get_running_loop()

    class Timed(Reject):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.number = len(made)
            made.append(self)
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            closed[self.number] = loop.time() - opened

    made: list[Timed] = []
    server = await loop.create_server(lambda: Timed(lingering), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    opened = loop.time()
    clients = []
    for data in sends:
        client = socket.create_connection(("127.0.0.1", port))
        client.setblocking(False)
        while len(made) < len(clients) + 1:  # accepted in this order
            await asyncio.sleep(0.01)
        with contextlib.suppress(OSError):  # closed by the server before all of it went
            client.send(data)
        clients.append(client)
    while len(closed) < len(sends) and loop.time() - opened < 5:
        await asyncio.sleep(0.02)
    for client in clients:
        client.close()
    server.close()
    assert not lingering
    return [closed[number] for number in range(len(sends))]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_rejected_connection_is_read_for_a_bounded_time_and_amount(
        loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected client's request is read (so the 503 is not lost to a reset), but the server
    closes the connection after LINGER_S, or once the client sent more than LINGER_BYTES, and
    beyond MAX_LINGERING such connections at once it closes at once."""
    monkeypatch.setattr(limits, "LINGER_S", 0.5)
    monkeypatch.setattr(limits, "LINGER_BYTES", 100_000)
    run = uvloop.run if loop == "uvloop" else asyncio.run
    request = b"POST / HTTP/1.1\r\n\r\n"
    quiet, flood = run(rejections(request, b"x" * 500_000))
    assert 0.45 < quiet < 1.5  # after LINGER_S
    assert flood < 0.3  # at once
    monkeypatch.setattr(limits, "MAX_LINGERING", 2)
    *quiet_ones, beyond = run(rejections(request, request, b""))
    assert all(0.45 < quiet < 1.5 for quiet in quiet_ones)
    assert beyond < 0.3
