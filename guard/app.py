"""Composition root: builds guard's components from settings, the two aiohttp applications, and
runs them until SIGTERM with a graceful drain."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import structlog
from aiohttp import web, web_response
from aiohttp.typedefs import Middleware

from guard import __version__
from guard.admin import api as admin_api
from guard.admin.auth import (
    Refusals,
    admin_auth_middleware,
    load_admin_tokens,
    no_tokens_warning,
    short_tokens_warning,
)
from guard.build import running_source
from guard.components import COMPONENTS, Components, NoPolicy, NoSwitches
from guard.config import Settings, parse_host_port
from guard.config_load import (
    admin_exposed,
    broad_passthrough,
    cache_not_shared,
    doubled_paths,
    passthrough_model_routes,
    passthrough_under_guarded,
    unused_upstreams,
)
from guard.errors import cannot_listen
from guard.incidents import wiring as incidents
from guard.killswitch import wiring as killswitch
from guard.observability.metrics import Metrics
from guard.policy import wiring as policies
from guard.proxy import fetch, handler, middleware, passthrough
from guard.proxy.limits import LimitedSite
from guard.proxy.model_routes import path_pattern
from guard.proxy.protocols import DIALECTS
from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.protocols.openai_responses import RESPONSES
from guard.proxy.upstream import Upstreams

log = structlog.get_logger("guard")

# How long a refused request's unread body is drained before the connection closes.
LINGER_S = 1.0
# The Server header of every answer. aiohttp's names its version and Python's, for any client to
# match against advisories; its own answers to malformed requests (which reach no handler, no
# middleware, no signal) would carry it too.
SERVER = "guard"

Lifecycle = Callable[[Components], AsyncIterator[None]]


def build_components(settings: Settings, metrics: Metrics | None = None) -> Components:
    """Everything a guard process shares, not yet started (see `lifecycle`)."""
    metrics = metrics or Metrics()
    components = Components(
        settings=settings,
        metrics=metrics,
        upstreams=Upstreams(settings),
        policies=NoPolicy(),
        gate=NoSwitches(),
        recorder=incidents.build_recorder(settings, metrics),
        access_log=settings.log_level in ("debug", "info"),
    )
    incidents.attach(components)
    if policies.attach(components) is None:
        log.warning("no_policies", detail="policies: null, every request is allowed unguarded")
    killswitch.attach(components)
    components.observers.append(components.extras[killswitch.BREAKER].observe)
    return components


async def lifecycle(components: Components) -> AsyncIterator[None]:
    """Start resources in order, mark ready, and close them in reverse order on shutdown."""
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            contextlib.asynccontextmanager(components.metrics.tally.run)())
        await components.upstreams.start()
        stack.push_async_callback(components.upstreams.aclose)
        await stack.enter_async_context(
            contextlib.asynccontextmanager(components.upstreams.silence.run)())
        for start in STARTERS:
            await stack.enter_async_context(contextlib.asynccontextmanager(start)(components))
        components.ready = True
        yield
        components.ready = False


# Parts that need starting, in order; each closes in reverse order on shutdown.
STARTERS: list[Lifecycle] = [incidents.lifecycle, policies.lifecycle, killswitch.lifecycle]


def expect_header(route: str, components: Components) -> middleware.ExpectHandler:
    """A route's `Expect` handling, its refusals observed under the route's label."""
    return middleware.expect_header(
        middleware.observed(middleware.expectation_failed, route, components))


def data_app(components: Components) -> web.Application:
    app = web.Application(client_max_size=components.settings.max_body_bytes)
    app[COMPONENTS] = components
    forward = functools.partial(passthrough.forward, c=components)
    routes = [("POST", route, handler.for_dialect(dialect, components))
              for route, dialect in DIALECTS.items()]
    # an answer kept upstream, by an id of plain characters (no escape reaches another path)
    deleted = fetch.bodiless(functools.partial(  # no text in its answer
        passthrough.forward, c=components, gated=False), components.settings.limits.body_timeout_s)
    fetched = functools.partial(fetch.fetch, c=components, dialect=RESPONSES, streams=True)
    by_id = f"{RESPONSES.route}/{{id:{fetch.RESPONSE_ID}}}"
    routes += [("GET", by_id, fetched),                # the answer, read
               ("POST", f"{by_id}/cancel", fetched),   # the answer so far, read
               ("DELETE", by_id, deleted)]
    chat_by_id = f"{CHAT.route}/{{id:{fetch.ID}}}"      # a chat completion asked with `store`
    fetched_chat = functools.partial(fetch.fetch, c=components, dialect=CHAT, updates=True)
    routes += [("GET", chat_by_id, fetched_chat),      # the answer, read
               ("POST", chat_by_id, fetched_chat),     # its metadata set; the answer, read
               ("DELETE", chat_by_id, deleted)]
    routes += [("GET", passthrough.MODELS, forward), ("GET", passthrough.MODEL, forward)]
    listed = components.settings.passthrough
    methods_by_path: dict[str, set[str]] = {}
    for method, path, serve_path in routes:  # labelled without the id's pattern
        label = path.replace(f":{fetch.RESPONSE_ID}", "").replace(f":{fetch.ID}", "")
        app.router.add_route(method, path, middleware.observed(serve_path, label, components),
                             expect_handler=expect_header(label, components))
        methods_by_path.setdefault(path, set()).add(method)
    # stored completions listed (warned of), counted under the template that lists them, as
    # any path it forwards, not with the completions guard reads
    listing = next((template for template in listed
                    if path_pattern(template).fullmatch(CHAT.route)), None)
    if listing is not None:
        app.router.add_route("GET", CHAT.route, middleware.observed(forward, listing, components),
                             expect_handler=expect_header(listing, components))
        methods_by_path.setdefault(CHAT.route, set()).add("GET")
    unrouted = middleware.observed(
        middleware.unrouted(methods_by_path, components.settings.admin_listen), middleware.UNROUTED,
        components)
    unrouted_expect = expect_header(middleware.UNROUTED, components)
    # a guarded route asked with another method: 405, before any template takes it
    for route in DIALECTS:
        app.router.add_route("*", route, unrouted, expect_handler=unrouted_expect)
    for path in listed:
        app.router.add_route("*", path, middleware.observed(forward, path, components),
                             expect_handler=expect_header(path, components))
    # last: every other path, answered 404 (or 405) in OpenAI's shape
    app.router.add_route("*", "/{path:.*}", unrouted, expect_handler=unrouted_expect)

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in lifecycle(app[COMPONENTS]):
            yield

    app.cleanup_ctx.append(context)
    return app


def admin_app(components: Components) -> web.Application:
    tokens = load_admin_tokens(components.settings.admin_tokens_env)
    if warning := no_tokens_warning(tokens, components.settings.admin_tokens_env):
        log.warning("no_admin_tokens", detail=warning)
    if warning := short_tokens_warning(tokens, components.settings.admin_tokens_env):
        log.warning("short_admin_tokens", detail=warning)
    refused = Refusals(components.metrics.admin_refusals)
    app = web.Application(middlewares=[admin_api.json_errors, cast(Middleware, admin_auth_middleware(
        tokens, refused=refused, tokens_env=components.settings.admin_tokens_env)),
        admin_api.unencoded, admin_api.audit_written])
    app[COMPONENTS] = components
    admin_api.add_routes(app, admin_api.open_routes())
    for add_routes in ADMIN_ROUTES:
        add_routes(app, components)
    admin_api.add_routes(app, [admin_api.UNROUTED])
    return app


# Admin route groups, each behind the bearer-token middleware, mounted by `admin_api.add_routes`.
ADMIN_ROUTES: list[Callable[[web.Application, Components], None]] = [
    killswitch.admin_routes, policies.admin_routes, incidents.admin_routes]


def data_runner(components: Components) -> web.AppRunner:
    """The data listener's runner, as `serve` runs it. Bodies are decoded by guard
    (`proxy.coding`), not by aiohttp, which answers one in br or zstd with a plain-text 400
    before any handler runs. `drain` waits out the grace itself: aiohttp's own wait (twice
    shutdown_timeout, the second after a cancel that does not reach a handler streaming from its
    upstream) is kept short. Its server logger counts the requests aiohttp's parser refuses
    (`middleware.parser_refusals`); `observed` logs and counts the others."""
    limits = components.settings.limits
    return web.AppRunner(data_app(components), access_log=None, handler_cancellation=True,
                         logger=middleware.parser_refusals(components.metrics),
                         shutdown_timeout=ENDING_S, keepalive_timeout=limits.keepalive_timeout_s,
                         max_line_size=limits.max_header_bytes,
                         max_field_size=limits.max_header_bytes, max_headers=limits.max_headers,
                         lingering_time=LINGER_S, auto_decompress=False)


def admin_runner(components: Components) -> web.AppRunner:
    """The admin listener's runner, as `serve` runs it (its bodies undecoded too:
    `admin_api.unencoded`)."""
    return web.AppRunner(admin_app(components), access_log=None, shutdown_timeout=1.0,
                         auto_decompress=False)


async def serve(settings: Settings, *, reuse_port: bool = False,
                on_ready: Callable[[Components], Awaitable[None]] | None = None,
                stop: asyncio.Event | None = None, ignore_later_signals: bool = False) -> None:
    """Run the data and admin listeners until SIGTERM/SIGINT, then drain in-flight requests.
    The handlers found for the stop and reload signals are put back at the end; with
    `ignore_later_signals` (a process that ends with it: the CLI's, the demo's) those signals
    are ignored from then on instead (one more, repeated until the process is gone, had ended
    it by the signal)."""
    # what aiohttp sends unless an answer says otherwise (not exported, but read on each answer;
    # test_proxy.py::test_guard_names_no_versions notices if that changes)
    web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]
    stop = stop or asyncio.Event()
    hurry = asyncio.Event()  # a second signal: in-flight requests are ended, not waited for
    # before policies and models load: a stop meanwhile is heard once they have, and guard ends
    # without listening (until here the CLI's handler ends it: `errors.StoppedStarting`)
    found = {sig: signal.SIG_IGN if ignore_later_signals else signal.getsignal(sig)
             for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    heard = _stop_on_signals(stop, hurry)
    try:
        await _serve(settings, reuse_port, on_ready, stop, hurry, heard)
    finally:
        _restore_signals(found)


async def _serve(settings: Settings, reuse_port: bool,
                 on_ready: Callable[[Components], Awaitable[None]] | None,
                 stop: asyncio.Event, hurry: asyncio.Event, heard: list[str]) -> None:
    """`heard`: the stop signal heard, by name (none: `stop` was set by the caller)."""
    components = build_components(settings)
    grace = settings.shutdown_grace_s
    limits = settings.limits
    data, admin = data_runner(components), admin_runner(components)
    await data.setup()
    await admin.setup()
    served = False  # the last line: guard_stopped, or stopped_while_starting (as errors says it)
    try:
        await asyncio.sleep(0)  # a signal that came while guard loaded is handled now
        if stop.is_set():
            log.info("stopped_while_starting", signal=next(iter(heard), None), exit_status=0,
                     pid=os.getpid(),
                     detail="a stop signal before guard listened: nothing was served")
            return
        served = True
        host, port = parse_host_port(settings.listen)
        await listening(LimitedSite(data, host, port, limits, reuse_port=reuse_port,
                                    backlog=1024), settings.listen)
        admin_host, admin_port = parse_host_port(settings.admin_listen)
        await listening(web.TCPSite(admin, admin_host, admin_port, reuse_port=reuse_port),
                        settings.admin_listen)
        if exposed := admin_exposed(settings):
            log.warning("admin_beyond_loopback", detail=exposed)
        for unused in unused_upstreams(settings):
            log.warning("upstream_unused", detail=unused)
        for doubled in doubled_paths(settings):
            log.warning("upstream_path_doubled", detail=doubled)
        for broad in broad_passthrough(settings):
            log.warning("passthrough_beyond_v1", detail=broad)
        for reaching in passthrough_model_routes(settings):
            log.warning("passthrough_reaches_model_routes", detail=reaching)
        for under in passthrough_under_guarded(settings):
            log.warning("passthrough_under_guarded_route", detail=under)
        if not_shared := cache_not_shared(settings):
            log.warning("cache_not_shared", detail=not_shared)
        log.info("guard_started", listen=settings.listen, admin_listen=settings.admin_listen,
                 policies=str(settings.policies), redis=bool(settings.redis_url),
                 version=__version__, source=running_source())
        # before on_ready: a worker of a group is sent reloads once it says it serves
        _reload_on_sighup(components)
        if on_ready is not None:
            await on_ready(components)
        # What exists now lives as long as the process: keep it out of the cyclic collector's
        # full passes, each of which would otherwise walk it (~40 ms here, a p99 spike).
        gc.collect()
        gc.freeze()
        await stop.wait()
        log.info("guard_stopping", signal=next(iter(heard), None),
                 in_flight=len(components.inflight), grace_s=grace,
                 drain_s=settings.shutdown_drain_s)
        components.ready = False  # from here on answers say Connection: close
        components.stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurry.wait(), settings.shutdown_drain_s)
    finally:
        components.ready, components.stopping = False, True
        await drain(data, components, grace, hurry)
        await data.cleanup()
        await admin.cleanup()
        if served:
            log.info("guard_stopped")


# After the grace, how long requests ended by guard get to write their last words.
ENDING_S = 1.0


async def drain(runner: web.AppRunner, components: Components, grace: float,
                hurry: asyncio.Event | None = None) -> None:
    """Stop accepting, let the requests in flight finish within `grace` (or until `hurry` is
    set: a second SIGTERM or Ctrl-C), then end the rest: a stream with an error event
    `server_shutting_down`, a request not yet answered with a 503. What is ended is logged once,
    with why: `shutdown_cut`, reason `hurried` (the second signal) or `grace_over`."""
    for site in list(runner.sites):
        await site.stop()
    loop = asyncio.get_running_loop()
    for limit, ending in ((grace, False), (ENDING_S, True)):
        deadline = loop.time() + limit
        # the set empties as many handlers finish: looked at 50 times a second, for at most `limit`
        while components.inflight and loop.time() < deadline and not (  # noqa: ASYNC110
                hurry is not None and hurry.is_set() and not ending):
            await asyncio.sleep(0.02)
        if not components.inflight or ending:
            return
        if hurry is not None and hurry.is_set():
            log.warning("shutdown_cut", reason="hurried", cut=len(components.inflight))
        else:
            log.warning("shutdown_cut", reason="grace_over", cut=len(components.inflight),
                        grace_s=grace)
        for exchange in list(components.inflight):
            exchange.shutting_down = True
            if exchange.task is not None:
                exchange.task.cancel()


async def listening(site: web.BaseSite, address: str) -> None:
    """Start a listener; a port that is taken (or an address not this machine's) is a clear
    StartupError naming it, not a traceback."""
    try:
        await site.start()
    except OSError as exc:
        raise cannot_listen(address, exc) from exc


# A stop signal this soon after the first is the same request: a signal to the process group
# of `--workers` reaches each worker from its sender and again from the supervisor.
REPEAT_S = 1.0


def _stop_on_signals(stop: asyncio.Event, hurry: asyncio.Event) -> list[str]:
    """SIGTERM or SIGINT sets `stop`; a second one, REPEAT_S or more after the first, sets
    `hurry` (the drain ends what is in flight). Returned: the name of the first signal heard,
    once it is."""
    loop = asyncio.get_running_loop()
    first = 0.0
    heard: list[str] = []

    def signalled(sig: signal.Signals) -> None:
        nonlocal first
        if not stop.is_set():
            first = loop.time()
            heard.append(sig.name)
        elif loop.time() - first < REPEAT_S:
            log.info("shutdown_signal_repeated", detail=f"within {REPEAT_S:g} s of the first: "
                     "the same request; send it again later to end what is in flight")
        elif not hurry.is_set():
            log.warning("shutdown_hurried", signal=sig.name,
                        detail="second signal: ending what is in flight now")
            hurry.set()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled, sig)
    return heard


def _reload_on_sighup(components: Components) -> None:
    """SIGHUP reloads the policies (ignored until now: `__main__`, `cli.cmd_serve`)."""
    loop = asyncio.get_running_loop()
    reload = components.extras.get("on_sighup")
    if callable(reload):
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload()))
    else:  # SIGHUP's default would end the process
        loop.add_signal_handler(signal.SIGHUP, lambda: log.info(
            "sighup_ignored", detail="policies: null, nothing to reload"))


def _restore_signals(found: dict[signal.Signals, Any]) -> None:
    """The stop and reload signals' handlers `found` (`serve`), each put back as soon as the
    loop has let go of it (which leaves the default, ending the process, in place meanwhile)."""
    loop = asyncio.get_running_loop()
    for sig, previous in found.items():
        loop.remove_signal_handler(sig)
        if previous is not None:  # None: set outside Python, left as the loop left it
            signal.signal(sig, previous)
