"""Paths forwarded without inspection: `GET /v1/models`, and those an operator lists under
`passthrough:`. Nothing else reaches the upstream unguarded."""

from __future__ import annotations

import re
import urllib.parse

import aiohttp
import structlog
from aiohttp import web

from guard.components import Components, Exchange
from guard.errors import RequestError
from guard.proxy.handler import downstream_headers, send_upstream, timed_chunks
from guard.proxy.middleware import prepare

log = structlog.get_logger("guard.proxy")


async def forward(request: web.Request, exchange: Exchange, *, c: Components,
                  ) -> web.StreamResponse:
    check_segments(request.rel_url.raw_path)
    body = await request.read() if request.body_exists else None
    upstream = await send_upstream(request, c, "default", body or b"", exchange)
    try:
        response = web.StreamResponse(status=upstream.status, headers=downstream_headers(upstream))
        response.headers["X-Request-Id"] = exchange.request_id
        await prepare(request, response)
        try:
            async for chunk in timed_chunks(upstream, exchange, c.upstreams.silence.waiting):
                if chunk:
                    await response.write(chunk)
        except ConnectionResetError:  # first: aiohttp's ClientConnectionResetError is a ClientError
            return response  # the client left
        except (aiohttp.ClientError, TimeoutError) as exc:
            # the headers are sent: an unfinished body is the only honest signal left
            log.warning("upstream_stream_broken", request_id=exchange.request_id,
                        error=type(exc).__name__)
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        return response
    finally:
        upstream.close()


def check_segments(raw_path: str) -> None:
    """Refuse (400) a path with a `.` or `..` segment, however it is spelled (`%2E%2E`,
    `..%2F`, a backslash): a passthrough template's variable part would take it, and the URL
    library on the way upstream, or the upstream itself, resolves it to another path, a guarded
    route among them, which would then be reached uninspected."""
    if {".", ".."} & set(_SEPARATORS.split(urllib.parse.unquote(raw_path))):
        raise RequestError("a path segment must not be '.' or '..', in any spelling",
                           code="invalid_path")


_SEPARATORS = re.compile(r"[/\\]")
