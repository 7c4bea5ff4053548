"""The admin listener: health, readiness and metrics (open), and `/admin/*` (bearer token)."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from guard.admin.auth import Handler, error_body
from guard.components import COMPONENTS
from guard.errors import RequestError
from guard.proxy.coding import content_coding
from guard.proxy.middleware import expect_header, unmet_expectation


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers. Kubernetes restarts a pod that stops answering this."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: components started, not shutting down, and the fleet's kill switches known (a
    replica started during a Redis outage with none saved would serve what the fleet stops).
    Load balancers stop sending otherwise."""
    components = request.app[COMPONENTS]
    if not components.ready:
        reason = "shutting down" if components.stopping else "starting"
        return web.json_response({"status": "not ready", "reason": reason}, status=503)
    if not components.gate.known:
        return web.json_response({"status": "not ready", "reason": "kill switch state unknown: "
                                  "the shared state is unreachable and none was saved"},
                                 status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[COMPONENTS].metrics.exposition())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own errors (`unrouted`'s 404 and 405, a handler's HTTPException) in OpenAI's
    error shape, as every other admin answer, instead of plain text."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        code = exc.reason.lower().replace(" ", "_")  # not_found, method_not_allowed
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return _error_answer(exc.status, f"{exc.reason}: {request.method} {request.path}", code,
                             headers)


async def unrouted(request: web.Request) -> web.StreamResponse:
    """The handler of every path no admin route serves: 405 (with Allow) for a served path asked
    with another method, else 404. A route of its own, so that an Expect to such a path is
    answered by the admin listener's handler too, not by aiohttp's plain-text 417."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():  # the request's path, as aiohttp reads it
        if resource is not request.match_info.route.resource:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


@web.middleware
async def unencoded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A body in any Content-Encoding (admin bodies are small JSON) refused with 415, in the
    error shape, before it is read: the listener does not decode bodies (`proxy.coding`)."""
    if request.body_exists and request.match_info.handler is not unrouted:  # else its 404, 405
        try:
            content_coding(request.headers, {})
        except RequestError as exc:
            return _error_answer(exc.status, str(exc), exc.code, exc.headers)
    return await handler(request)


async def expectation_failed(request: web.Request) -> web.StreamResponse:
    """417 in the error shape, not aiohttp's plain text (`proxy.middleware.expect_header`)."""
    return _error_answer(417, unmet_expectation(request), "expectation_failed")


# Each admin route's Expect handling: a 100 Continue, or a 417 in the error shape.
EXPECTING = expect_header(expectation_failed)


def add_routes(app: web.Application, routes: Iterable[web.RouteDef]) -> None:
    """Mount `routes` on the admin application, each with the admin listener's `Expect`
    handling (aiohttp takes an Expect handler route by route only)."""
    app.router.add_routes([web.RouteDef(route.method, route.path, route.handler,
                                        {**route.kwargs, "expect_handler": EXPECTING})
                           for route in routes])


def _error_answer(status: int, message: str, code: str,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        error_body(message, "invalid_request_error" if status < 500 else "server_error", code),
        status=status, headers=headers)


@web.middleware
async def audit_written(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An admin change's audit incident (a kill switch engaged or released) is written before
    the answer says the change is done (`Recorder.settled`)."""
    response = await handler(request)
    await request.app[COMPONENTS].recorder.settled()
    return response


def open_routes() -> list[web.RouteDef]:
    return [web.get("/healthz", healthz), web.get("/readyz", readyz),
            web.get("/metrics", metrics)]


# Mounted last: every path the routes before it do not serve.
UNROUTED = web.route("*", "/{path:.*}", unrouted)
