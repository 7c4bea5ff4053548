"""Pooled HTTP connections that hold an answer nobody asked for, shared by the upstream client
and the remote classifiers' client: such a connection is closed, never written on."""

from __future__ import annotations

import errno
import os
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp.connector import Connection

# How many pooled connections holding answers nobody asked for a request passes over (each is
# closed) before it fails.
UNASKED_RETRIES = 3


class UnaskedAnswer(aiohttp.ClientConnectionError):
    """A pooled connection holds an answer no request asked for: the server wrote again after
    its last answer ended (a framework's late error, an idle timeout's 408). Raised before a byte
    of the request is written, so the request can go out on another connection."""


class CleanConnectionRequest(aiohttp.ClientRequest):
    """A request that is not written on a pooled connection holding unread bytes: they would be
    read as its answer, and the answer to it left for the next request on that connection. (The
    pool checks this as it takes a connection back; an answer that arrives later sits there.)
    The connection is closed."""

    def send(self, conn: Connection) -> Coroutine[Any, Any, aiohttp.ClientResponse]:
        # aiohttp's own send for aiohttp to await: no coroutine of this one's on every request
        if conn.protocol is not None and conn.protocol.should_close:
            raise UnaskedAnswer("a pooled connection holds an answer nobody asked for")
        return super().send(conn)


def connection_failure(exc: BaseException) -> tuple[str, str]:
    """Why a connection to a server failed: in words that name no address (a client may be told
    them), and in the system's own words (for the log: they may name the host)."""
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    said = str(cause) if isinstance(cause, OSError) else type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "name not resolved", said
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate not accepted", str(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientSSLError):
        return "TLS handshake failed", said
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed before an answer", said
    code = cause.errno if isinstance(cause, OSError) else None
    if code is not None and code in errno.errorcode:
        return os.strerror(code).lower(), said  # "connection refused", "network is unreachable"
    return type(exc).__name__, said
