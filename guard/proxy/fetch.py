"""Answers fetched by id. The Responses API keeps a response upstream (`store`, `background`);
a client fetches it later with `GET /v1/responses/{id}` (whole, or streamed with `stream=true`,
from `starting_after`), or stops a background one with `POST /v1/responses/{id}/cancel`, whose
answer is the response so far. Guard reads what comes back as it reads an answer to
`POST /v1/responses`: the data path's steps 2 and 6 to 9, as such a request carries no prompt.

- The model is named only in the answer: a whole answer is read for its model (its policy, its
  kill switches) once it has arrived; before a stream, the response is fetched whole once to
  learn it.
- A stream resumed after event `starting_after` is read from its start (the client's earlier
  events hold text the rest of a value may follow), and only the events after that one are sent.
- A cancel is never stopped by a kill switch (stopping a job is what on-call may want most); its
  answer is read.
- These requests carry no body: one is refused, as it would reach the upstream unread.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web

from guard.components import Components, Exchange
from guard.errors import RequestError
from guard.proxy.handler import (
    ByID,
    Outcome,
    forward_and_guard,
    model_named,
    send_upstream,
    stopped_by_switch,
    timed_read,
)
from guard.proxy.middleware import GuardHandler
from guard.proxy.protocols import Dialect
from guard.types import GuardContext, Stage

ID = "[A-Za-z0-9_-]+"  # a response's id (`resp_...`): nothing an upstream could decode
RESUME = "starting_after"


async def fetch(request: web.Request, exchange: Exchange, *, c: Components,
                dialect: Dialect) -> web.StreamResponse:
    # 1 what the request says: no prompt, no body, a stream if asked for in the query
    refuse_body(request)
    cancel = request.method == "POST"
    ctx = exchange.ctx = GuardContext(
        request_id=exchange.request_id, route=dialect.route, model="",
        stream=not cancel and request.query.get("stream", "").strip().lower() == "true",
        tenant=request.headers.get(c.settings.tenant_header))
    url = request.rel_url
    by_id = ByID(url.raw_path_qs, resume_after=None, gated=not cancel)

    # 2 kill switch gate: global, route and tenant switches, then (a stream) the model's; a whole
    # answer's model is checked once it has arrived
    for learn_model in (False, True):
        if learn_model and ctx.stream:  # the model, from the response itself
            upstream = await send_upstream(request, c, c.upstreams.pick(""), b"", exchange,
                                           path=url.raw_path, method="GET")
            try:
                answer = await timed_read(upstream, c.settings.limits.max_response_bytes,
                                          exchange, c.upstreams.silence.waiting)
            finally:
                upstream.close()
            ctx = exchange.ctx = dataclasses.replace(ctx, model=model_named(answer))
        switch = c.gate.check(ctx) if by_id.gated else None
        if switch is not None:
            return await stopped_by_switch(request, c, dialect, ctx, switch)

    inspector = c.policies.for_request(ctx)
    resume = request.query.get(RESUME)
    if ctx.stream and resume is not None and inspector.inspects(Stage.COMPLETION):
        if not resume.strip().isdigit():
            raise RequestError(f"{RESUME} must be a whole number", code="invalid_request")
        query = [(key, value) for key, value in url.query.items() if key != RESUME]
        by_id = ByID(url.with_query(query).raw_path_qs, int(resume), by_id.gated)

    # 6 to 9 forward, read the answer as any other of this API's, and record
    return await forward_and_guard(request, exchange, c, dialect, ctx, inspector, b"",
                                   Outcome(), by_id=by_id)


def refuse_body(request: web.Request) -> None:
    if request.body_exists:
        raise RequestError(f"{request.method} {request.path} takes no body; guard does not "
                           "forward one it would not read", code="invalid_request")


def bodiless(handler: GuardHandler) -> GuardHandler:
    """`handler` for a request that must carry no body (a body is refused with 400)."""

    async def without_body(request: web.Request, exchange: Exchange) -> web.StreamResponse:
        refuse_body(request)
        return await handler(request, exchange)

    return without_body
