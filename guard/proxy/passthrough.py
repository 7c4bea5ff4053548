"""Paths forwarded without inspection: `GET /v1/models`, and those an operator lists under
`passthrough:`. Nothing else reaches the upstream unguarded."""

from __future__ import annotations

from aiohttp import web

from guard.components import COMPONENTS, REQUEST_ID, TIMER
from guard.proxy.handler import downstream_headers, send_upstream, timed_chunks


async def forward(request: web.Request) -> web.StreamResponse:
    c = request.app[COMPONENTS]
    timer = request[TIMER]
    body = await request.read() if request.body_exists else None
    upstream = await send_upstream(request, c, "default", body or b"", timer)
    try:
        response = web.StreamResponse(status=upstream.status, headers=downstream_headers(upstream))
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        await response.prepare(request)
        async for chunk in timed_chunks(upstream, timer):
            if chunk:
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        upstream.close()
