"""Answers fetched by id. The Responses API keeps a response upstream (`store`, `background`);
a client fetches it later with `GET /v1/responses/{id}` (whole, or streamed with `stream=true`),
or stops a background one with `POST /v1/responses/{id}/cancel`, whose answer is the response so
far. OpenAI keeps a chat completion asked with `store: true`, fetched whole with `GET
/v1/chat/completions/{id}`; `POST /v1/chat/completions/{id}` sets its `metadata` and answers it
whole too (the openai SDK's `chat.completions.update`). Guard reads what comes back as it reads
an answer to the API's POST: the data path's steps 2 and 6 to 9, as such a request carries no
prompt.

- The model is named only in the answer, and its policy and kill switches apply: a whole answer
  is read for the model it names once it has arrived; before a stream, the response is fetched
  whole once to learn it, and the stream must name the same. An answer that names no model is
  refused (502): guard would not know which policy reads it.
- The upstream is asked exactly what guard reads: `stream=true` or nothing, and `include`; no
  other parameter is forwarded, so no spelling the upstream reads otherwise reaches it.
- A guarded stream cannot be resumed after `starting_after` (400): guard numbers its events
  itself, and the upstream's replay would not line up with them. Where no completion rule
  reads the answer, events pass untouched and the parameter is forwarded.
- Fetches go to the default upstream. A cancel is never stopped by a kill switch (stopping a
  job is what on-call may want most); its answer is read. These requests carry no body: one is
  refused, as it would reach the upstream unread. An update's body is forwarded: a JSON object
  of `metadata` alone (what the API takes; anything else is refused, 400), which no model reads.
"""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp import web

from guard.components import Components, Exchange
from guard.errors import RequestError
from guard.proxy.handler import (
    ByID,
    Outcome,
    downstream_headers,
    forward_and_guard,
    model_named,
    read_request,
    send_upstream,
    stopped_by_switch,
    timed_read,
)
from guard.proxy.middleware import GuardHandler
from guard.proxy.protocols import Dialect
from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.protocols.openai_responses import RESPONSES
from guard.proxy.request_checks import parse_body
from guard.proxy.tenant import tenant_of
from guard.types import GuardContext, Stage

ID = "[A-Za-z0-9_-]+"  # a response's id (`resp_...`): nothing an upstream could decode
# a response's id, not a name the Responses API gives a path of its own (`POST
# /v1/responses/input_tokens` counts a prompt's tokens: it is no stored answer's, nor a 405)
RESPONSE_ID = f"(?!(?:input_tokens|compact)(?:/|$)){ID}"
RESUME = "starting_after"
FORWARDED = frozenset({"include", "include[]"})  # query parameters sent on as they are
UPDATED = "metadata"  # what an update of a stored chat completion sets
# The paths answers are fetched at by id (guard.app mounts them), each with its method and the
# route whose `route:` switch stops it, None where no switch does (a cancel, a delete): a fetch
# counts under its API's route (`GuardContext.route`), not under the path as sent.
FETCHED: tuple[tuple[str, str, str | None], ...] = (
    ("GET", f"{RESPONSES.route}/{{id}}", RESPONSES.route),
    ("POST", f"{RESPONSES.route}/{{id}}/cancel", None),
    ("DELETE", f"{RESPONSES.route}/{{id}}", None),
    ("GET", f"{CHAT.route}/{{id}}", CHAT.route),
    ("POST", f"{CHAT.route}/{{id}}", CHAT.route),
    ("DELETE", f"{CHAT.route}/{{id}}", None),
)


async def fetch(request: web.Request, exchange: Exchange, *, c: Components,
                dialect: Dialect, streams: bool = False,
                updates: bool = False) -> web.StreamResponse:
    """`streams`: the API streams a fetched answer when a `stream` parameter asks (Responses);
    else it is fetched whole, and no `stream` parameter is forwarded. A `POST` cancels the
    answer (Responses), or with `updates` sets its metadata (Chat Completions)."""
    # 1 what the request says: no prompt, no body but an update's metadata, a stream if any
    # `stream` parameter asks
    update = updates and request.method == "POST"
    raw = (await metadata_only(request, exchange, c) if update
           else await refuse_body(request, c.settings.limits.body_timeout_s))
    cancel = request.method == "POST" and not update
    query = request.rel_url.query
    ctx = exchange.ctx = GuardContext(
        request_id=exchange.request_id, route=dialect.route, model="", model_unknown=True,
        stream=streams and not cancel and any(value.strip().lower() == "true"
                                              for value in query.getall("stream", [])),
        tenant=tenant_of(request, c.settings.tenant_header))
    kept = [(key, value) for key, value in query.items() if key in FORWARDED]
    by_id = ByID(request.rel_url.with_query(kept).raw_path_qs, gated=not cancel)
    exchange.gated = by_id.gated  # nor while it waits: the silence sweep asks the gate too

    # 2 kill switch gate: global, route and tenant switches, then (a stream) the model's; a whole
    # answer's model is checked once it has arrived
    switch = c.gate.check(ctx) if by_id.gated else None
    if switch is None and ctx.stream:
        learned = await learn_model(request, exchange, c)
        if isinstance(learned, web.Response):
            return learned  # the upstream's error answer, passed on as any
        ctx = exchange.ctx = dataclasses.replace(ctx, model=learned, model_unknown=False)
        switch = c.gate.check(ctx) if by_id.gated else None
    if switch is not None:
        return await stopped_by_switch(request, c, dialect, ctx, switch)

    inspector = c.policies.for_request(ctx)
    if ctx.stream:
        resume = query.getall(RESUME, [])
        if resume and inspector.inspects(Stage.COMPLETION):
            raise RequestError(f"guard numbers a guarded stream's events itself and cannot resume "
                               f"it after {RESUME}; fetch the stream from its start, or whole",
                               code="invalid_request")
        extra = [("stream", "true"), *((RESUME, value) for value in resume[:1])]
        # (a stream resumed past its start does not begin by naming its model: passed through,
        # it is not asked to)
        by_id = dataclasses.replace(by_id, path=request.rel_url.with_query(
            [*kept, *extra]).raw_path_qs, model="" if resume else ctx.model)

    # 6 to 9 forward, read the answer as any other of this API's, and record
    return await forward_and_guard(request, exchange, c, dialect, ctx, inspector, raw,
                                   Outcome(), {}, by_id=by_id)


async def learn_model(request: web.Request, exchange: Exchange,
                      c: Components) -> str | web.Response:
    """The model a stored response names (fetched whole, once), or the upstream's answer when it
    is not a success."""
    upstream = await send_upstream(request, c, c.upstreams.pick(""), b"", exchange,
                                   path=request.rel_url.raw_path, method="GET")
    try:
        answer = await timed_read(upstream, c.settings.limits.max_response_bytes, exchange,
                                  c.upstreams.silence.waiting)
    finally:
        upstream.close()
    if upstream.status // 100 != 2:
        headers = downstream_headers(upstream)
        headers["X-Request-Id"] = exchange.request_id
        return web.Response(status=upstream.status, body=answer, headers=headers)
    return model_named(answer)


async def metadata_only(request: web.Request, exchange: Exchange, c: Components) -> bytes:
    """An update's body, as read (decoded): a JSON object of `metadata` alone."""
    raw = await read_request(request, exchange, c.settings.max_body_bytes,
                             c.settings.limits.body_timeout_s)
    other = sorted(set(parse_body(raw)) - {UPDATED})
    if other:
        raise RequestError(f"{request.method} {request.path} takes `{UPDATED}` alone, not "
                           f"{len(other)} other key(s); guard does not forward what it would not "
                           "read", code="invalid_request")
    return raw


async def refuse_body(request: web.Request, timeout_s: float) -> bytes:
    """No body (b""), or 400: a body of one byte or more. An empty one sent chunked
    (`Transfer-Encoding: chunked`, its last chunk at once) is none: it is read, within
    `timeout_s` (408 past it), to know."""
    if request.body_exists and await _holds_a_byte(request, timeout_s):
        raise RequestError(f"{request.method} {request.path} takes no body; guard does not "
                           "forward one it would not read", code="invalid_request")
    return b""


async def _holds_a_byte(request: web.Request, timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            return bool(await request.content.read(1))
    except TimeoutError as exc:
        raise RequestError(f"request body did not arrive within {timeout_s:g} s", status=408,
                           code="request_timeout") from exc


def bodiless(handler: GuardHandler, timeout_s: float) -> GuardHandler:
    """`handler` for a request that must carry no body (a body is refused with 400; `timeout_s`:
    how long an empty chunked one may take to end)."""

    async def without_body(request: web.Request, exchange: Exchange) -> web.StreamResponse:
        await refuse_body(request, timeout_s)
        return await handler(request, exchange)

    return without_body
