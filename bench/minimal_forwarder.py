"""The baseline for the proxy benchmark: the least an aiohttp forwarder can do.

It reads the body, posts it to the upstream with a pooled session, and returns the answer. No
parsing, no checks, no metrics: guard's throughput is reported as a ratio to this.
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web

UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def forward(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    async with request.app[SESSION].post(request.app[UPSTREAM] + request.path, data=body,
                                         headers={"Content-Type": "application/json"}) as up:
        if up.content_type == "text/event-stream":
            response = web.StreamResponse(status=up.status,
                                          headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
        return web.Response(status=up.status, body=await up.read(),
                            content_type="application/json")


async def session_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    yield
    await app[SESSION].close()


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2]
    app = web.Application()
    app[UPSTREAM] = upstream
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/v1/chat/completions", forward)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=lambda *_: None)


if __name__ == "__main__":
    main()
