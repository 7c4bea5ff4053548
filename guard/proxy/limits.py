"""Connection-level limits of the data plane: how many clients at once, and how long a client may
take to send its request headers (slow-header clients tie up sockets without ever asking)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

from guard.config import LimitSettings
from guard.proxy.answers import error_body

_OVERLOADED = error_body("guard is at its connection limit; retry shortly", type_="server_error",
                         code="too_many_connections")
REJECTION = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             b"Retry-After: 1\r\nConnection: close\r\nContent-Length: "
             + str(len(_OVERLOADED)).encode() + b"\r\n\r\n" + _OVERLOADED)
END_OF_HEADERS = b"\r\n\r\n"


# A rejected client reads the 503 only if its request is read too: closed with the request
# unread, the socket sends a reset, which discards the 503 on the client's side and fails the
# send of its body (most HTTP clients send the whole request before they read). So what the
# client sends is read and dropped, for this long and this much at most, and by this many
# rejected connections at once (beyond them, and beyond a flood's worth, a rejection closes at
# once as it did before).
LINGER_S = 2.0
LINGER_BYTES = 1 << 20
MAX_LINGERING = 256


class Reject(asyncio.Protocol):
    """Answers 503 at once: a clear answer beats a silent queue when over the limit. Then it
    closes its side and reads what the client still sends, dropped, until the client closes
    too, bounded by LINGER_S and LINGER_BYTES; `lingering` counts the connections doing so."""

    def __init__(self, lingering: set[Reject]) -> None:
        self._lingering = lingering
        self._received = 0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, hence the cast.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(REJECTION)
        if len(self._lingering) >= MAX_LINGERING:
            self._transport.close()
            return
        self._lingering.add(self)
        self._transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(LINGER_S, self._transport.close)

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > LINGER_BYTES:
            self._transport.close()

    def eof_received(self) -> bool:
        return False  # the client has closed its side too: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        self._lingering.discard(self)
        if self._timer is not None:
            self._timer.cancel()


class Watched(asyncio.Protocol):
    """Wraps aiohttp's protocol: counts the connection and closes it if the first request's
    headers have not all arrived within the deadline."""

    def __init__(self, inner: Any, on_close: Callable[[], None], header_timeout_s: float) -> None:
        self._inner = inner
        self._on_close = on_close
        self._timeout = header_timeout_s
        self._tail = b""
        self._headers_done = False
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._timer = asyncio.get_running_loop().call_later(self._timeout, self._expire)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        window = self._tail + data
        if END_OF_HEADERS in window:
            self._headers_done = True
            self._cancel_timer()
            self._step_aside()
        else:
            self._tail = window[-3:]
        self._inner.data_received(data)

    def _step_aside(self) -> None:
        """From here on the transport hands data straight to aiohttp, with no call through this
        wrapper per read: the transport looks `data_received` up again on `set_protocol` (uvloop
        keeps the bound method it found then; asyncio looks it up on every read)."""
        self.data_received = self._inner.data_received  # type: ignore[method-assign]
        if self._transport is not None:
            self._transport.set_protocol(self)

    def eof_received(self) -> bool | None:
        return bool(self._inner.eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._on_close()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _expire(self) -> None:
        if not self._headers_done and self._transport is not None:
            self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class LimitedSite(web.TCPSite):
    """A TCP site enforcing `limits.max_connections` and `limits.header_timeout_s`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: LimitSettings,
                 **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self._limits = limits
        self.open_connections = 0
        self._rejected: set[Reject] = set()

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self._host, self._port, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port)

    def _protocol(self) -> asyncio.Protocol:
        if self.open_connections >= self._limits.max_connections:
            return Reject(self._rejected)
        self.open_connections += 1
        server = self._runner.server
        assert server is not None
        return Watched(server(), self._closed, self._limits.header_timeout_s)

    def _closed(self) -> None:
        self.open_connections -= 1
