"""Answers fetched by id. The Responses API keeps a response upstream (`store`, `background`);
a client fetches it later with `GET /v1/responses/{id}` (whole, or streamed with `stream=true`,
from `starting_after`), or stops a background one with `POST /v1/responses/{id}/cancel`, whose
answer is the response so far. Guard reads what comes back as it reads an answer to
`POST /v1/responses`: the data path's steps 2 and 6 to 9, as such a request carries no prompt.

The model is named only in the answer: a whole answer is read for its model (its policy, its
kill switches) once it has arrived; a stream is read for the route and the tenant.
"""

from __future__ import annotations

from aiohttp import web

from guard.components import Components, Exchange
from guard.proxy.handler import Outcome, forward_and_guard, read_request, stopped_by_switch
from guard.proxy.protocols import Dialect
from guard.types import GuardContext

ID = "[A-Za-z0-9_-]+"  # a response's id (`resp_...`): nothing an upstream could decode


async def fetch(request: web.Request, exchange: Exchange, *, c: Components,
                dialect: Dialect) -> web.StreamResponse:
    # 1 what the request says: no prompt, a stream if asked for in the query
    raw = await read_request(request, c.settings.limits.body_timeout_s)
    ctx = exchange.ctx = GuardContext(
        request_id=exchange.request_id, route=dialect.route, model="",
        stream=request.query.get("stream", "").strip().lower() == "true",
        tenant=request.headers.get(c.settings.tenant_header))

    # 2 kill switch gate: global, route and tenant switches (no model is named yet)
    switch = c.gate.check(ctx)
    if switch is not None:
        return await stopped_by_switch(request, c, dialect, ctx, switch)

    # 6 to 9 forward, read the answer as any other of this API's, and record
    return await forward_and_guard(request, exchange, c, dialect, ctx,
                                   c.policies.for_request(ctx), raw, Outcome(), named_later=True)
