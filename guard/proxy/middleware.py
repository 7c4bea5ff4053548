"""Cross-cutting concerns of the data plane, and nothing else: request id, timing, access log,
request metrics, mapping errors to OpenAI-shaped answers (the one place that does), and pacing
large answers sent whole so that a client that stops reading does not hold them.

`observed(handler, route, components)` wraps each data-plane route's handler when the app is
built, rather than being an aiohttp middleware: a middleware is re-wrapped around the handler on
every request, and the route label and components are known once, at registration. The handler
gets the request's `Exchange` as an argument. Unknown paths reach `unrouted`, registered last, so
they get the same treatment.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from aiohttp import HttpVersion11, hdrs, web
from aiohttp.helpers import must_be_empty_body
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import _default_expect_handler

from guard.components import COMPONENTS, Components, Exchange
from guard.errors import ClientStalled, Overloaded, RequestError, SwitchedOff, UpstreamError
from guard.observability.logging import access_line
from guard.observability.metrics import Metrics
from guard.observability.shown import shown_model
from guard.proxy.answers import CODE, DECISION, SWITCH, error_response
from guard.proxy.model_routes import model_route, path_pattern, under_guarded
from guard.proxy.silence import ClientWait
from guard.proxy.tenant import logged_tenant

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GuardHandler = Callable[[web.Request, Exchange], Awaitable[web.StreamResponse]]
ExpectHandler = Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse | None]]
proxy_log = structlog.get_logger("guard.proxy")

_MAX_REQUEST_ID = 128
# nginx's convention for a request the client abandoned before the answer was complete.
CLIENT_CLOSED = 499
# The route label of requests for paths guard does not serve.
# the admin port's paths, which a data-port client that asks for them is told of
ADMIN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/admin"})
UNROUTED = "unmatched"
# The route label of requests aiohttp's HTTP parser refused with its own 400 before any handler
# (a header line over `limits.max_header_bytes`, more than `limits.max_headers`, a malformed
# request line): no route, nor model, was read (`parser_refusals`).
UNPARSED = "unparsed"
# An answer sent whole that is longer than this goes out in pieces of this size, each of which the
# client must take within `limits.client_write_timeout_s` (`send_paced`).
PIECE_BYTES = 64 * 1024


def _request_id(request: web.Request) -> str:
    return loggable_id(request.headers.get("X-Request-Id", "")) or next(_IDS).to_bytes(16).hex()


def loggable_id(given: str) -> str | None:
    """An id another party chose (a client's, an upstream's `X-Request-Id`), if it is one guard
    logs as it is: 1 to 128 printable characters."""
    return given if 0 < len(given) <= _MAX_REQUEST_ID and given.isprintable() else None


# Generated ids: 16 random hex digits per process, then a counter's 16: unique across replicas
# and restarts without a system call per request. One 128-bit count, written as 32 hex digits
# (1.7k instructions, where the counter formatted with `016x` after the prefix took 3.1k).
_IDS = itertools.count(int.from_bytes(os.urandom(8)) << 64)


def observed(handler: GuardHandler, route: str, components: Components) -> Handler:
    """`handler` with a request id in and out, timing, one access line, the request metrics, and
    errors answered in OpenAI's shape. `route` labels its metrics and log lines."""
    metrics = components.metrics
    tally = metrics.tally
    tenant_header = components.settings.tenant_header
    tenant_shown = logged_tenant(tenant_header)

    async def observed_handler(request: web.Request) -> web.StreamResponse:
        exchange = Exchange(_request_id(request))
        exchange.task = asyncio.current_task()  # as a keyword argument: 1.1k instructions more
        status = 500
        response: web.StreamResponse | None = None
        begun = False  # a paced answer's first bytes are out: nothing else can follow them
        tally.inflight += 1
        components.inflight.add(exchange)
        try:
            try:
                response = await handler(request, exchange)
            except (RequestError, UpstreamError, web.HTTPException) as exc:
                response = error_answer(request, exchange, exc, components)
            await components.recorder.settled()  # its incidents are written before it is seen
            if not response.prepared:  # streamed answers set both before `prepare` (below)
                response.headers["X-Request-Id"] = exchange.request_id
                if not components.ready:
                    response.force_close()
            status = response.status
            if isinstance(response, web.Response) and paced(request, response):
                begun = True
                return await send_paced(request, response, exchange, components)
            return response
        except web.HTTPException as exc:  # a redirect, re-raised by error_answer
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            if begun or not ended_by_shutdown(exchange):
                raise
            # guard's shutdown grace ran out: a request not yet answered hears so (a stream in
            # progress has ended itself with an error event, and returned)
            response = error_response(503, "guard is shutting down; retry", "server_shutting_down")
            response.headers["X-Request-Id"] = exchange.request_id
            response.force_close()
            status = 503
            return response
        finally:
            components.inflight.discard(exchange)
            tally.inflight -= 1
            overhead = timed(metrics, route, exchange)
            ctx = exchange.ctx
            model = metrics.model_label(ctx.model if ctx else None)
            metrics.answered[route, model, status // 100].pending += 1
            if components.access_log:
                access_line({"request_id": exchange.request_id, "method": request.method,
                             "route": route, "model": shown_model(ctx.model) or None if ctx else None,
                             "status": status,
                             "upstream_ms": round(exchange.upstream_s * 1000, 3),
                             "guard_ms": round(overhead * 1000, 3),
                             "stream": bool(ctx and ctx.stream),
                             "upstream_request_id": loggable_id(
                                 exchange.upstream_request_id or ""),
                             "tenant": tenant_shown(request.headers.get(tenant_header, "")),
                             **said(response)})

    return observed_handler


def parser_refusals(metrics: Metrics) -> logging.LoggerAdapter[logging.Logger]:
    """The data listener's aiohttp server logger ("aiohttp.server", as before), which also counts
    in guard_requests_total, under route `UNPARSED`, each request aiohttp's parser refused with
    its own 400 before any handler: `observed` never sees those. aiohttp logs each with the
    parser's error (`bad_client_request` in guard's log; at debug level for a first request
    whose method is not HTTP's, such as TLS spoken to the plain port). Counted there rather than
    by an access logger, which aiohttp would call on every request."""
    refused = metrics.answered[UNPARSED, metrics.model_label(None), 4]  # at 0 from the start

    class ParserRefusals(logging.LoggerAdapter[logging.Logger]):
        def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
            if isinstance(kwargs.get("exc_info"), HttpProcessingError):
                refused.pending += 1
            super().log(level, msg, *args, **kwargs)

    return ParserRefusals(logging.getLogger("aiohttp.server"))


def timed(metrics: Metrics, route: str, exchange: Exchange) -> float:
    """Observe a request's guard-added wait (`added_wait`) and, for an answer relayed as it
    arrives, guard's work on it after its head; returns the added wait."""
    own = exchange.own_s()
    overhead = added_wait(exchange, own)
    metrics.overhead_on[route].observe(overhead)
    if exchange.head_s is not None:
        metrics.stream_work_on[route].observe(own - exchange.head_s)
    return overhead


def added_wait(exchange: Exchange, own: float) -> float:
    """What the client waited for because of guard (`guard_overhead_seconds`, the latency SLO's
    measure), given guard's `own` time on the request: all of it for an answer sent whole; for
    one relayed as it arrives, the part before its first text went out (before its head, if it
    sent none). A stream's work on its later chunks (about 0.1 ms each) delays no one by more
    than a chunk's: summed over a 1,000-chunk answer it is `guard_stream_work_seconds`, not
    overhead. Text held back in buffered mode waits for the upstream's next text or for
    `max_holdback_ms`, the operator's choice: `guard_stream_first_token_added_seconds`."""
    if exchange.head_s is None:
        return own
    return exchange.head_s if exchange.first_text_s is None else exchange.first_text_s


def said(response: web.StreamResponse | None) -> dict[str, str | None]:
    """What the access line tells of an answer: guard's decision (a stream's once it ended,
    else `X-Guard-Decision`), and for an answer guard made, its error code and the kill switch
    that stopped the request."""
    if response is None:
        return {"decision": None, "code": None, "switch": None}
    return {"decision": response.get(DECISION) or response.headers.get("X-Guard-Decision"),
            "code": response.get(CODE), "switch": response.get(SWITCH)}


def ended_by_shutdown(exchange: Exchange) -> bool:
    """Whether guard's own shutdown cancelled this request (its grace ran out, `app.drain`): then
    the cancellation is withdrawn, so the request can say so before it ends."""
    if not exchange.shutting_down or exchange.task is None:
        return False
    exchange.task.uncancel()
    return True


async def prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Send a streamed answer's headers; while guard drains, with `Connection: close`, so the
    client does not send its next request on a connection about to close. (`observed` does the
    same for answers sent whole.) The headers name the prompt's incident: it is written first."""
    components = request.app[COMPONENTS]
    if not components.ready:
        response.force_close()
    await components.recorder.settled()
    await response.prepare(request)


def paced(request: web.Request, response: web.Response) -> bool:
    """Whether `response` is an answer sent whole of more than one piece (PIECE_BYTES)."""
    return (not response.prepared and isinstance(response.body, bytes) and len(response.body) > PIECE_BYTES
            and not must_be_empty_body(request.method, response.status))


async def send_paced(request: web.Request, response: web.Response, exchange: Exchange,
                     components: Components) -> web.StreamResponse:
    """Send `response`'s body piece by piece, each piece bounded like a stream's write
    (`proxy.silence`): a client that takes none for `client_write_timeout_s`, or whose request a
    kill switch stops meanwhile, has its connection aborted (`drop_client`) and the answer let
    go. Sent whole by aiohttp, it waited for a client that never read for as long as the client
    stayed connected. A client reading slowly but steadily gets it all."""
    body = response.body
    assert isinstance(body, bytes)
    sent = web.StreamResponse(status=response.status, reason=response.reason,
                              headers=response.headers)
    sent.content_length = len(body)
    if response.keep_alive is False:
        sent.force_close()
    try:
        with ClientWait(exchange, components.upstreams.silence.writing):
            await sent.prepare(request)
        for start in range(0, len(body), PIECE_BYTES):
            with ClientWait(exchange, components.upstreams.silence.writing):
                await sent.write(body[start:start + PIECE_BYTES])
        await sent.write_eof()
    except (ClientStalled, SwitchedOff) as stop:
        drop_client(request, exchange, components, stop)
    except ConnectionResetError:  # the client left
        proxy_log.info("client_disconnected", request_id=exchange.request_id)
    except asyncio.CancelledError:  # guard's shutdown: a begun answer can be followed by nothing
        if exchange.shutting_down:
            components.metrics.broken_by["server_shutting_down"].pending += 1
        abort(request)
        raise
    return sent


def drop_client(request: web.Request, exchange: Exchange, components: Components,
                stop: ClientStalled | SwitchedOff) -> None:
    """Abort the connection of a client whose answer `stop` ended (`proxy.silence`): it took no
    write for `client_write_timeout_s`, or a kill switch engaged while guard waited for it."""
    abort(request)
    if isinstance(stop, SwitchedOff):
        components.metrics.killswitch_refusals.labels(stop.switch.mode).inc()
        proxy_log.info("stopped_in_flight", request_id=exchange.request_id, switch=stop.switch.id)
    else:
        components.metrics.broken_by["client_stalled"].pending += 1
        proxy_log.warning("client_write_timeout", request_id=exchange.request_id,
                          timeout_s=components.settings.limits.client_write_timeout_s)


def abort(request: web.Request) -> None:
    """Close the client's connection at once, with a reset: what guard wrote that the kernel
    still holds is dropped, not delivered after the close (up to the socket's send buffer,
    4 MiB here: a paced answer cut by a kill switch had gone on arriving for 45 s)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def error_answer(request: web.Request, exchange: Exchange, exc: Exception,
                 components: Components) -> web.Response:
    """The OpenAI-shaped answer to a GuardError or an HTTP error; re-raises anything below 400."""
    if isinstance(exc, RequestError):
        response = error_response(exc.status, str(exc), exc.code, param=exc.param,
                                  headers=exc.headers)
        if exc.status == 408:
            response.force_close()  # the rest of that body may still be on its way
        return response
    if isinstance(exc, Overloaded):
        proxy_log.warning("guard_overloaded", request_id=exchange.request_id, error=str(exc))
        return error_response(exc.status, str(exc), exc.code, headers={"Retry-After": "1"})
    if isinstance(exc, UpstreamError):
        structlog.get_logger("guard.upstream").warning(
            "upstream_error", request_id=exchange.request_id, code=exc.code,
            error=str(exc), detail=exc.detail)
        return error_response(exc.status, str(exc), exc.code)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = components.settings.max_body_bytes
        return error_response(413, f"request body is larger than {limit} bytes",
                              "request_too_large")
    assert isinstance(exc, web.HTTPException)
    if exc.status < 400:
        raise exc
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
    message = f"{request.method} {request.path}: {exc.reason}"
    allow = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return error_response(exc.status, message, code, headers=allow)


def expect_header(refused: Handler) -> ExpectHandler:
    """A route's `Expect` handling: aiohttp's for `100-continue` (a 100 Continue on HTTP/1.1);
    any other expectation is answered by `refused` (an `observed` `expectation_failed`, so
    with a request id, an access line and its count like any answer)."""

    async def expect_handler(request: web.Request) -> web.StreamResponse | None:
        if request.version == HttpVersion11 and _expectation(request).lower() != "100-continue":
            return await refused(request)
        await _default_expect_handler(request)  # aiohttp's: writes the 100 Continue
        return None

    return expect_handler


async def expectation_failed(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """417 in OpenAI's shape, not aiohttp's plain text, before the body is read."""
    raise RequestError(unmet_expectation(request), status=417, code="expectation_failed")


def unmet_expectation(request: web.Request) -> str:
    return (f"Expect: {_expectation(request)!r} cannot be met; only 100-continue is understood")


def _expectation(request: web.Request) -> str:
    """The request's expectations, every `Expect` line's (a second line is not ignored)."""
    return ", ".join(request.headers.getall(hdrs.EXPECT, ()))


def unrouted(methods_by_path: dict[str, set[str]], admin_listen: str) -> GuardHandler:
    """The handler of every path no route serves: 405 (with Allow) for a known path asked with
    another method, else 404, saying what was likely meant (`unrouted_hint`)."""

    patterns = {path: path_pattern(path) for path in methods_by_path}

    def allowed(raw_path: str) -> set[str]:
        # (a path that only decodes to a known one, "/v1/chat%2Fcompletions", is not that path)
        return {method for path, methods in methods_by_path.items()
                if patterns[path].fullmatch(raw_path) for method in methods}

    async def unrouted_handler(request: web.Request, exchange: Exchange) -> web.StreamResponse:
        methods = allowed(request.rel_url.raw_path)
        if methods and request.method not in methods:
            raise web.HTTPMethodNotAllowed(request.method, methods)
        hint = unrouted_hint(request.rel_url.raw_path, request.method,
                             bool(allowed("/v1" + request.rel_url.raw_path)), admin_listen)
        raise RequestError(f"{request.method} {request.path}: Not Found{hint}", status=404,
                           code="not_found")

    return unrouted_handler


def unrouted_hint(raw_path: str, method: str, under_v1: bool, admin_listen: str) -> str:
    """What a path no route serves was likely meant to be: the route under /v1 (a client's
    base_url without it), the admin port's (health, metrics, the admin API), a route guard
    refuses whatever is listed (`model_routes`), or a path to list under `passthrough:`; ""
    when nothing is likely."""
    if under_v1:
        return (f"; did you mean /v1{raw_path}? (a client's base_url ends in /v1: "
                "http://<guard's listen>/v1)")
    if raw_path in ADMIN_PATHS or raw_path.startswith("/admin/"):
        return (f"; {raw_path} is served on the admin port (admin_listen {admin_listen}), not on "
                "the data port")
    refused = model_route(raw_path, method)
    if refused is not None:
        return (f"; guard refuses {method} {raw_path} whatever `passthrough:` lists: "
                f"{refused.refusal()}")
    route = under_guarded(raw_path)
    if route is not None:
        return (f"; guard serves no such path under the guarded route {route}, and it is not "
                "forwarded: what an upstream keeps there (stored answers, their messages or "
                "input items) would reach the client unread")
    if raw_path.startswith("/v1/"):
        return ("; guard neither guards nor forwards this path: list it under `passthrough:` in "
                "guard.yaml to forward it to the upstream unguarded")
    return ""
