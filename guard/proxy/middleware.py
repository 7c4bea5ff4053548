"""Cross-cutting concerns of the data plane, and nothing else: request id, timing, access log,
request metrics, and mapping errors to OpenAI-shaped answers (the one place that does).

One aiohttp middleware (`observe`) wraps the error mapping (`answer_errors`): aiohttp re-wraps
every middleware on every request, and this is the hot path.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from guard.components import COMPONENTS, CONTEXT, REQUEST_ID, TIMER, Timer
from guard.errors import RequestError, UpstreamError
from guard.observability.metrics import child
from guard.proxy.answers import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("guard.access")

_MAX_REQUEST_ID = 128
# nginx's convention for a request the client abandoned before the answer was complete.
CLIENT_CLOSED = 499


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id", "")
    if 0 < len(given) <= _MAX_REQUEST_ID and given.isprintable():
        return given
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


# Generated ids: 16 random hex digits per process, then a counter: unique across replicas and
# restarts without a system call per request.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, timing, one access line and the request metrics per request."""
    components = request.app[COMPONENTS]
    metrics = components.metrics
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    timer = request[TIMER] = Timer()
    status = 500
    metrics.inflight.inc()
    try:
        response = await answer_errors(request, handler)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        metrics.inflight.dec()
        total = time.perf_counter() - timer.start
        overhead = max(0.0, total - timer.waited_s)
        ctx = request.get(CONTEXT)
        route = ctx.route if ctx else _route_label(request)
        model = metrics.model_label(ctx.model if ctx else None)
        child(metrics.requests, route, model, f"{status // 100}xx").inc()
        child(metrics.overhead, route).observe(overhead)
        if components.access_log:
            log.info("request", request_id=request_id, method=request.method, route=route,
                     model=model, status=status, upstream_ms=round(timer.upstream_s * 1000, 3),
                     guard_ms=round(overhead * 1000, 3), stream=bool(ctx and ctx.stream))


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """GuardError and HTTP errors become OpenAI-shaped JSON answers with the request id."""
    try:
        response = await handler(request)
    except RequestError as exc:
        response = error_response(exc.status, str(exc), exc.code, param=exc.param)
        if exc.status == 408:
            response.force_close()  # the rest of that body may still be on its way
    except UpstreamError as exc:
        structlog.get_logger("guard.upstream").warning(
            "upstream_error", request_id=request[REQUEST_ID], code=exc.code, error=str(exc))
        response = error_response(exc.status, str(exc), exc.code)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[COMPONENTS].settings.max_body_bytes
        response = error_response(413, f"request body is larger than {limit} bytes",
                                  "request_too_large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
        message = f"{request.method} {request.path}: {exc.reason}"
        allow = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        response = error_response(exc.status, message, code, headers=allow)
    if not response.prepared:
        response.headers["X-Request-Id"] = request[REQUEST_ID]
    return response
