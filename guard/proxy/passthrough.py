"""Paths forwarded without inspection: `GET /v1/models` and a model's entry, `GET
/v1/models/{model}`, and those an operator lists under `passthrough:`. Nothing else reaches the
upstream unguarded.

Kill switches apply to them as to any request, but for `model:` switches (the body is not read,
so the model is unknown): `global`, `tenant:` and `route:` (the path asked) switches answer 503
in either mode (there is no completion to refuse with), when the request arrives and while its
answer comes (a body already begun is cut off). So is a body whose client takes no write for
`limits.client_write_timeout_s`, its upstream connection closed."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator

import aiohttp
import structlog
from aiohttp import web

from guard.components import Components, Exchange
from guard.errors import ClientStalled, RequestError, SwitchedOff
from guard.proxy.fetch import refuse_body
from guard.proxy.handler import (
    blocked_by_switch,
    broken_by,
    downstream_headers,
    hang_up,
    read_request,
    send_upstream,
    timed_chunks,
    timed_write,
)
from guard.proxy.middleware import prepare
from guard.proxy.model_routes import model_route
from guard.proxy.protocols import DIALECTS
from guard.proxy.tenant import tenant_of
from guard.types import GuardContext

log = structlog.get_logger("guard.proxy")

MODELS = "/v1/models"  # passed through unlisted (GET), as is a model's entry:
MODEL = f"{MODELS}/{{model}}"  # `client.models.retrieve(...)`


async def forward(request: web.Request, exchange: Exchange, *, c: Components,
                  gated: bool = True) -> web.StreamResponse:
    """Forward the request as it is. `gated`: kill switches apply (not to deleting a stored
    answer, which on-call may want while a switch is on)."""
    check_path(request.rel_url.raw_path, request.method)
    ctx = GuardContext(request_id=exchange.request_id, route=request.path, model="",
                       model_unknown=True, tenant=tenant_of(request, c.settings.tenant_header))
    await check_method(request, c.settings.limits.body_timeout_s)
    if gated:
        exchange.ctx = ctx  # the silence sweep stops it too, once it waits for the upstream
        switch = c.gate.check(ctx)
        if switch is not None:
            return blocked_by_switch(c, ctx, switch)
    body = (await read_request(request, exchange, c.settings.max_body_bytes,
                               c.settings.limits.body_timeout_s) if request.body_exists else None)
    try:
        upstream = await send_upstream(request, c, "default", body or b"", exchange,
                                       revalidating=request.method in ("GET", "HEAD"))
    except SwitchedOff as stop:  # engaged while the upstream had not answered yet
        return blocked_by_switch(c, ctx, stop.switch)
    try:
        response = web.StreamResponse(status=upstream.status, headers=downstream_headers(upstream))
        response.headers["X-Request-Id"] = exchange.request_id
        await prepare(request, response)
        exchange.head_s = exchange.own_s()
        try:
            async for chunk in timed_chunks(upstream, exchange, c.upstreams.silence.waiting):
                if chunk:
                    await timed_write(response, chunk, exchange, c)
            await timed_write(response, b"", exchange, c, last=True)
        except ConnectionResetError:  # first: aiohttp's ClientConnectionResetError is a ClientError
            return response  # the client left
        # the headers are sent: an unfinished body is the only honest signal left
        except (SwitchedOff, ClientStalled) as stop:
            hang_up(request, upstream, exchange, c, stop)
            return response
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("upstream_stream_broken", request_id=exchange.request_id,
                        error=type(exc).__name__)
            c.metrics.broken_by[broken_by(exc)].pending += 1
            if request.transport is not None:
                request.transport.abort()
            return response
        return response
    finally:
        upstream.close()


def check_path(raw_path: str, method: str | None = None) -> None:
    """Refuse (400 `invalid_path`) a pass-through path that another reading of it sends to
    another path, a guarded route among them, or that another server answers a model's text on
    (asked with `method`; None: any), which would then be reached uninspected:

    - a `.` or `..` segment, however spelled (`%2E%2E`, `..;x`): the URL library on the way
      upstream, or the upstream itself, resolves it;
    - an encoded separator (`%2F`, `%5C`, in either case, encoded once more as `%252F`), a
      backslash or a control character (`%00`): uvicorn (vLLM, SGLang, LiteLLM) and gin
      (Ollama) route on the decoded path, where `chat%2Fcompletions` is `chat/completions`;
    - an encoded `?` or `#` (`%3F`, `%23`), which a proxy that decodes the path before parsing
      it again reads as the path's end (`/v1/batches%3Fx=1` as `/v1/batches`), or a segment
      ending in `.` or a space (`%2e`, `%20`), which IIS trims;
    - a path that, read as upstream servers read paths (decoded, `;parameters` dropped, empty
      segments and a trailing slash ignored, in any case, and its last segment with or without
      a suffix, `.json` or `~`, as Spring's suffix matching reads it), is at or under a guarded
      route without being spelled as one: `/v1//chat/completions`, `/v1/chat;x/completions`,
      `/V1/Chat/Completions`, `/v1/chat/completions/`, `/v1/chat/completions.json`,
      `/v1/chat/completions/{id}.json` (a stored completion, which guard reads when fetched or
      updated by its id). A path spelled plainly under a guarded route (a stored completion's
      `/v1/chat/completions/{id}/messages`) is that path to every server;
    - any other path that, read so, is a model route of a common server (`MODEL_ROUTES`:
      `/chat/completions`, `/api/chat`, `/generate`, `/invocations`...) or an API that runs a
      model on what guard does not read (`POST /v1/batches`, `/v1/messages/batches`,
      `/v1/threads/runs`, `/v1/audio/speech`...), which a broad template (`/{tail:.*}`,
      `/v1/{tail:.*}`) would forward: `POST /v1/batches.json` and `/v1/batches~` too (a suffix
      is taken off only for a `POST`, the method that runs a model: `GET
      /v1/files/completions.jsonl` is a file). Ids holding dots (`gpt-4.1`, a file's `a.jsonl`)
      pass: suffixed or not, they are no such route. Most model routes are refused to `POST`
      only (`GET /v1/organization/usage/completions` is OpenAI's Usage API)."""
    layers = list(_layers(raw_path))
    decoded = layers[-1]
    if "\\" in decoded or any(_ENCODED_SEPARATOR.search(layer) for layer in layers):
        raise RequestError("a pass-through path must not hold an encoded separator (%2F, %5C, in "
                           "any case or encoding) or a backslash: the upstream may read it as '/'",
                           code="invalid_path")
    if _CONTROL.search(decoded):
        raise RequestError("a pass-through path must not hold a control character (%00 to %1F, "
                           "%7F)", code="invalid_path")
    if _QUERY.search(decoded):
        raise RequestError("a pass-through path must not hold an encoded '?' or '#' (%3F, %23): "
                           "a server or proxy that decodes it reads the path as ending there",
                           code="invalid_path")
    segments = [segment.partition(";")[0] for segment in decoded.split("/")]
    if {".", ".."} & set(segments):
        raise RequestError("a path segment must not be '.' or '..', in any spelling",
                           code="invalid_path")
    if any(segment.endswith((".", " ")) for segment in segments):
        raise RequestError("a path segment must not end in '.' or a space, in any spelling: "
                           "some servers (IIS) trim them", code="invalid_path")
    read = "/" + "/".join(segment for segment in segments if segment)
    plain = read == raw_path and _guarded_above(raw_path) is not None  # that path to any server
    for reading in dict.fromkeys((read, _SUFFIX.sub("", read))):  # as Spring matches, suffixed
        route = _guarded_above(reading.casefold())
        if route is not None and not (plain and reading == read):
            raise RequestError(f"this pass-through path reads upstream as {reading!r}, at or "
                               f"under the guarded route {route}: ask that route as it is "
                               "spelled", code="invalid_path")
        if reading != read and method not in (None, "POST"):
            continue  # a file's name (`GET /v1/files/completions.jsonl`), which runs no model
        other = model_route(reading, method)
        if other is not None:
            raise RequestError(f"this pass-through path reads upstream as {reading!r}, where "
                               f"{other.refusal()}", code="invalid_path")


async def check_method(request: web.Request, timeout_s: float) -> None:
    """Refuse (400) a pass-through request that another reading of it asks with another method:
    a method-override header or `_method` parameter, which some upstreams and gateways honour
    (`GET /v1/batches` run as `POST`, past `check_path`'s refusal of it), and a body on a `GET`,
    `HEAD` or `DELETE`, which such a `POST` would carry (refused, not dropped: the request
    would not mean what its client meant; an empty one sent chunked is none, read within
    `timeout_s`)."""
    overrides = [name for name in request.headers if name.casefold() in METHOD_OVERRIDES]
    overrides += [f"?{name}" for name in request.rel_url.query if name.casefold() == "_method"]
    if overrides:
        raise RequestError(f"a pass-through request must not override its method ({overrides[0]}"
                           "): the upstream may run it as another method guard did not check; "
                           "send the method itself", code="method_override")
    if request.method in ("GET", "HEAD", "DELETE"):
        await refuse_body(request, timeout_s)


# headers some servers and gateways read as the request's method
METHOD_OVERRIDES = frozenset({"x-http-method-override", "x-method-override", "x-http-method"})


def _layers(raw_path: str) -> Iterator[str]:
    """The path, then each percent-decoding of it, until one changes nothing."""
    yield raw_path
    while (decoded := urllib.parse.unquote(raw_path)) != raw_path:
        yield decoded
        raw_path = decoded


def _guarded_above(path: str) -> str | None:
    """The guarded route `path` is, or is under."""
    return next((route for route in DIALECTS if path == route or path.startswith(route + "/")),
                None)


_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUERY = re.compile(r"[?#]")
# what a server may take off a path's last segment before matching it: Spring's suffix pattern
# match (`/v1/batches.json` is `/v1/batches`), an editor's backup mark (`~`)
_SUFFIX = re.compile(r"(\.[^./]*|~+)$")
