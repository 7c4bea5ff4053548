"""Pooled HTTP connections that hold an answer nobody asked for, shared by the upstream client
and the remote classifiers' client: such a connection is closed, never written on."""

from __future__ import annotations

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

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        if conn.protocol is not None and conn.protocol.should_close:
            raise UnaskedAnswer("a pooled connection holds an answer nobody asked for")
        return await super().send(conn)
