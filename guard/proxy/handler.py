"""THE data path. Every guarded request runs through `handle`, top to bottom:

1 parse   2 kill switch gate   3 classify the prompt   4 decide   5 enforce   6 forward upstream
7 classify the completion (whole, or streamed event by event)   8 decide and enforce   9 record

Request ids, timing, access logs, error answers and draining live in `proxy.middleware`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import orjson
import structlog
from aiohttp import web
from multidict import CIMultiDict

from guard.components import Components, Exchange
from guard.errors import (
    ClientStalled,
    GuardError,
    Overloaded,
    RequestError,
    SwitchedOff,
    UpstreamError,
)
from guard.policy.store import count_decision
from guard.pooled import UNASKED_RETRIES, UnaskedAnswer
from guard.proxy import answers
from guard.proxy.coding import read_decoded
from guard.proxy.event_stream import EVENT_STREAM_GUARDS
from guard.proxy.middleware import (
    GuardHandler,
    drop_client,
    ended_by_shutdown,
    prepare,
)
from guard.proxy.protocols import Dialect
from guard.proxy.protocols.base import (
    MAX_CHOICES_WRITTEN,
    Continued,
    Json,
    Slot,
    asked,
    asks_usage,
    drop_tokens,
    duplicate_keys,
    get_path,
    key_census,
    list_at,
    masked,
    segments,
    set_path,
)
from guard.proxy.request_checks import (
    asks_to_stream,
    check_model_key,
    check_prompt_items,
    check_prompt_size,
    check_readable,
    check_spelling,
    check_unique,
    model_of,
    parse_body,
)
from guard.proxy.silence import (
    ClientWait,
    raise_if_stopped,
    upstream_wait_begins,
    upstream_wait_ends,
)
from guard.proxy.sse import SSEEvent, SSEParser
from guard.proxy.stream_chunks import ANSWER_FREE_FORM, ANSWER_KEYS
from guard.proxy.stream_guard import StreamGuard
from guard.proxy.tenant import tenant_of
from guard.proxy.upstream import (
    NOT_FORWARDED_DOWN,
    NOT_FORWARDED_UP,
    UPSTREAM_FAILURES,
    end_to_end,
    not_relayed,
    read_body,
    unreachable,
)
from guard.redaction import refused_for_json
from guard.types import (
    Action,
    Decision,
    GuardContext,
    Inspector,
    Stage,
    Switch,
)

log = structlog.get_logger("guard.proxy")
# events of one upstream read guarded in one turn of the event loop (`fed`): a few ms of checks
SLICE_EVENTS = 16


@dataclass(slots=True)
class Outcome:
    """What the client is told about guard's decisions on its request."""

    action: Action = Action.ALLOW
    incident_id: str | None = None

    def add(self, decision: Decision, incident_id: str | None) -> None:
        if decision.action.rank > self.action.rank:
            self.action = decision.action
        self.incident_id = incident_id or self.incident_id

    def tell(self, headers: CIMultiDict[str]) -> None:
        """Write what the client is told into its answer's `headers` (its `X-Request-Id` is
        the middleware's to write, or, for a stream, whose headers go out first, its own)."""
        headers["X-Guard-Decision"] = str(self.action)
        if self.incident_id:
            headers["X-Guard-Incident-Id"] = self.incident_id


def for_dialect(dialect: Dialect, c: Components) -> GuardHandler:
    """The handler of one guarded API route. (`c` and `dialect` by position: as keywords, each
    call of the partial would cost 1.4k instructions more.)"""
    return functools.partial(handle, c, dialect)


async def handle(c: Components, dialect: Dialect, request: web.Request,
                 exchange: Exchange) -> web.StreamResponse:
    # 1 parse
    raw = await read_request(request, exchange, c.settings.max_body_bytes,
                             c.settings.limits.body_timeout_s)
    body = parse_body(raw)
    check_model_key(body, raw)
    # request_id, route, model, tenant, stream: by position (keywords cost 2.3k instructions)
    ctx = exchange.ctx = GuardContext(exchange.request_id, dialect.route, model_of(body),
                                      tenant_of(request, c.settings.tenant_header),
                                      asks_to_stream(body))

    # 2 kill switch gate: before any classifier and before the upstream
    switch = c.gate.check(ctx)
    if switch is not None:
        return await stopped_by_switch(request, c, dialect, ctx, switch, body)

    # 3, 4 classify the prompt and decide, on the policy pinned for this request
    inspector = c.policies.for_request(ctx)
    outcome = Outcome()
    if inspector.inspects(Stage.PROMPT):
        check_prompt_items(body, c.settings.limits)
        prompt = dialect.prompt_slots(body)
        check_prompt_size(prompt, c.settings.limits)
        check_readable(dialect.unread(body), c.settings.limits.unreadable_content)
        folded, keys = key_census(body, dialect.free_form)
        check_spelling(folded)
        check_unique(duplicate_keys(raw, keys))
        decision = await inspector.inspect(Stage.PROMPT, segments(prompt, Stage.PROMPT))
        outcome.add(decision, record(c, ctx, decision, prompt))
        inspector.answering(functools.partial(asked, prompt, decision))

        # 5 enforce
        if decision.action is Action.BLOCK:
            blocked = answers.blocked_prompt(decision, outcome.incident_id)
            outcome.tell(blocked.headers)
            return blocked
        if decision.action is Action.REDACT:
            raw = orjson.dumps(redact(body, prompt, decision))
        # a switch engaged while the prompt was checked (a remote check takes its time) stops
        # it before the upstream too
        switch = c.gate.check(ctx)
        if switch is not None:
            return await stopped_by_switch(request, c, dialect, ctx, switch, body)

    # an answer going on from the prompt's text (as forwarded) is read after its end
    continued = dialect.continued(body) if inspector.inspects(Stage.COMPLETION) else None
    if continued is not None:
        continued = continued.cut(inspector.value_chars(Stage.COMPLETION))
    return await forward_and_guard(request, exchange, c, dialect, ctx, inspector, raw, outcome,
                                   body, continued=continued)


@dataclass(frozen=True)
class ByID:
    """How an answer fetched by id (`proxy.fetch`) is forwarded and read: the path and query
    sent to the default upstream, whether kill switches apply (not to a cancel), and the model a
    stream must name (learned before it)."""

    path: str
    gated: bool
    model: str = ""


async def forward_and_guard(request: web.Request, exchange: Exchange, c: Components,
                            dialect: Dialect, ctx: GuardContext, inspector: Inspector, raw: bytes,
                            outcome: Outcome, request_body: Json, *, by_id: ByID | None = None,
                            continued: Continued | None = None) -> web.StreamResponse:
    """Steps 6 to 9. `request_body`: the request's (`{}` for an answer fetched by id), read for
    what it asks of the answer only where that decides something: a refusal's choices and usage
    (`stopped_by_switch`), a stream's (`relay_stream`), the texts a mask must keep JSON
    (`guard_completion`). `by_id`: an answer fetched by id, whose request names no model: a
    whole answer is read, and checked against the kill switches, for the model it names.
    `continued`: the prompt's text the answer goes on from (`Dialect.continued`)."""
    # 6 forward; a kill switch engaged while the model answers stops the request (proxy.silence)
    upstream: aiohttp.ClientResponse | None = None
    try:
        upstream = await send_upstream(request, c, c.upstreams.pick("" if by_id else ctx.model),
                                       raw, exchange, path=by_id.path if by_id else None)
        if ctx.stream and upstream.status // 100 == 2 and is_event_stream(upstream):
            # 7, 8 for streams: event by event
            return await relay_stream(request, exchange, c, dialect, ctx, inspector, upstream,
                                      outcome, request_body,
                                      named=by_id.model if by_id else None,
                                      continued=continued)
        answer = await timed_read(upstream, c.settings.limits.max_response_bytes, exchange,
                                  c.upstreams.silence.waiting)
        if by_id is not None and upstream.status // 100 == 2:
            ctx = exchange.ctx = dataclasses.replace(ctx, model=model_named(answer),
                                                     model_unknown=False)
            switch = c.gate.check(ctx) if by_id.gated else None
            if switch is not None:
                return await stopped_by_switch(request, c, dialect, ctx, switch)
            inspector = c.policies.for_request(ctx)
        if upstream.status // 100 == 2 and inspector.inspects(Stage.COMPLETION):
            # 7, 8 classify the whole completion, decide, enforce
            answer = await guard_completion(c, dialect, ctx, inspector, answer, outcome,
                                            continued, request_body)
            if by_id is None or by_id.gated:  # a switch engaged meanwhile stops it here too
                still_on(c, ctx)
        headers = downstream_headers(upstream)
        outcome.tell(headers)
        return web.Response(status=upstream.status, body=answer, headers=headers)
    except SwitchedOff as stop:
        log.info("stopped_in_flight", request_id=ctx.request_id, switch=stop.switch.id)
        return await stopped_by_switch(request, c, dialect, ctx, stop.switch, request_body)
    finally:
        if upstream is not None and not upstream.closed:  # an answer read to its end has
            upstream.close()                               # released its connection


def model_named(answer: bytes) -> str:
    """The model an answer fetched by id names. One that names none (or is not a JSON object)
    is refused: guard would not know whose policy reads it."""
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        body = None
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str) or not model:
        raise UpstreamError("upstream's answer names no model, whose policy would read it",
                            status=502, code="upstream_protocol_error")
    return model


async def read_request(request: web.Request, exchange: Exchange, limit: int,
                       timeout_s: float) -> bytes:
    """The whole request body, decoded from its Content-Encoding (`proxy.coding`), at most
    `limit` bytes as sent and decoded, arriving within `timeout_s`. Time spent waiting for the
    rest of it is the client's, not guard's (`Exchange.waited_s`): a slow upload is not overhead."""
    started = time.perf_counter()
    arriving = not request.content.is_eof()
    try:
        if not arriving:
            return await read_decoded(request, limit)  # already here in full: no deadline to arm
        async with asyncio.timeout(timeout_s):
            return await read_decoded(request, limit)
    except TimeoutError as exc:
        raise RequestError(f"request body did not arrive within {timeout_s:g} s", status=408,
                           code="request_timeout") from exc
    finally:
        if arriving:
            exchange.waited_s += time.perf_counter() - started


def record(c: Components, ctx: GuardContext, decision: Decision, slots: list[Slot]) -> str | None:
    """Step 9: every decision is counted; one that is not a plain allow becomes evidence."""
    count_decision(c.metrics, ctx, decision)
    if not decision.matches:
        return None
    for observe in c.observers:
        observe(ctx, decision)
    return c.recorder.record_decision(ctx, decision, segments(slots, decision.stage))


def redact(body: Json, slots: list[Slot], decision: Decision) -> Json:
    """`body` with the decision's spans masked in place, slot by slot: deepest first, so a key
    renamed (a mask in a tool input's key, `KeyOf`) is not on the way to a value inside it."""
    for _, path, text in masked(decision, [(slot.path, slot.text) for slot in slots]):
        set_path(body, path, text)
    return body


async def stopped_by_switch(request: web.Request, c: Components, dialect: Dialect,
                            ctx: GuardContext, switch: Switch,
                            request_body: Json | None = None) -> web.StreamResponse:
    """A kill switch answers instead of the model: 503 (block) or a refusal (refuse), with its
    usage (zeros): in a stream, when the request asked for it (`asks_usage` of its body,
    `request_body`; None: it has none); in as many choices as it asked
    (`Dialect.choices_asked`; one when not counted), so an app reading `choices[1]` finds it."""
    if switch.mode == "block":
        return blocked_by_switch(c, ctx, switch)
    request_body = request_body or {}
    usage = ctx.stream and asks_usage(request_body)
    c.metrics.killswitch_refusals.labels(switch.mode).inc()
    headers = {"X-Request-Id": ctx.request_id, "X-Guard-Decision": "block"}
    refusal = f"This service is paused: {switch.reason}"
    choices = min(dialect.choices_asked(request_body) or 1, MAX_CHOICES_WRITTEN)
    if not ctx.stream:
        refused = web.Response(body=answers.refusal_body(dialect, ctx.model, refusal, choices),
                               content_type=answers.JSON, headers=headers)
        refused[answers.SWITCH] = switch.id
        return refused
    stream = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream",
                                         "Cache-Control": "no-cache"})
    stream[answers.SWITCH] = switch.id
    await prepare(request, stream)
    await stream.write(dialect.refusal_events(ctx.model, refusal, usage, choices))
    await stream.write_eof()
    return stream


def blocked_by_switch(c: Components, ctx: GuardContext, switch: Switch) -> web.Response:
    """A kill switch's 503: its answer in mode block, and in either mode on a pass-through path
    (no completion to put a refusal in)."""
    c.metrics.killswitch_refusals.labels(switch.mode).inc()
    response = answers.killswitch_blocked(switch, c.settings.killswitch.retry_after_s)
    response.headers.update({"X-Request-Id": ctx.request_id, "X-Guard-Decision": "block"})
    return response


async def send_upstream(request: web.Request, c: Components, name: str, body: bytes,
                        exchange: Exchange, path: str | None = None,
                        method: str | None = None,
                        revalidating: bool = False) -> aiohttp.ClientResponse:
    """The request sent to upstream `name` (by `method` at `path`, its own by default), its
    answer's headers received: the wait counted as upstream time and watched for silence
    (`proxy.silence`). Raises UpstreamError (502, 504), also for a status guard does not relay
    (`upstream.not_relayed`, to which `revalidating` is passed)."""
    headers = end_to_end(request.headers, NOT_FORWARDED_UP)
    headers["X-Request-Id"] = exchange.request_id
    # the client's, or guard's without a version (aiohttp would name its own and Python's;
    # a header of the request's costs less than skipping aiohttp's, 4 us a request)
    headers.setdefault("User-Agent", "guard")
    metrics = c.metrics
    exchange.silence_limit_s = c.upstreams.silence_limits[name]
    waiting = c.upstreams.silence.waiting
    started = upstream_wait_begins(exchange, waiting)
    try:
        try:
            for retry in range(UNASKED_RETRIES + 1):
                try:
                    upstream = await c.upstreams.request(
                        name, method or request.method, path or request.rel_url.raw_path_qs,
                        headers, body)
                    break
                except UnaskedAnswer:  # that connection is closed; nothing was sent on it
                    if retry == UNASKED_RETRIES:
                        raise
        except asyncio.CancelledError:
            raise_if_stopped(exchange)  # the sweep's: a ServerTimeoutError, answered below
            raise
        finally:
            metrics.upstream_waited[name].observe(upstream_wait_ends(exchange, waiting, started))
    except UPSTREAM_FAILURES as exc:
        error = unreachable(name, c.settings.upstreams[name].url, exc)
        metrics.upstream_failed[name, error.code].pending += 1
        raise error from exc
    metrics.upstream_answered[name, upstream.status // 100].pending += 1
    exchange.upstream_request_id = upstream.headers.get("X-Request-Id")  # checked if logged
    refused = not_relayed(name, upstream.status, revalidating=revalidating)
    if refused is not None:
        upstream.close()
        raise refused
    return upstream


async def timed_read(upstream: aiohttp.ClientResponse, limit: int, exchange: Exchange,
                     waiting: set[Exchange]) -> bytes:
    """The whole upstream body, its wait counted as upstream time and watched for silence."""
    started = upstream_wait_begins(exchange, waiting)
    try:
        try:
            return await read_body(upstream, limit)
        except asyncio.CancelledError:
            raise_if_stopped(exchange)
            raise
        finally:
            upstream_wait_ends(exchange, waiting, started)
    except aiohttp.ServerTimeoutError as exc:
        raise UpstreamError("upstream timed out while answering", status=504,
                            code="upstream_timeout") from exc


def is_event_stream(upstream: aiohttp.ClientResponse) -> bool:
    return upstream.content_type == "text/event-stream"


def downstream_headers(upstream: aiohttp.ClientResponse) -> CIMultiDict[str]:
    """The upstream's end-to-end headers, but none of guard's own (`X-Guard-*`): a client reads
    those as guard's word (an incident recorded, a decision made). The upstream's `X-Request-Id`
    goes on as `X-Upstream-Request-Id`: `X-Request-Id` is guard's."""
    # guard's own dropped in the same look at each name as the hop-by-hop ones: 15.5k
    # instructions for a stand-in's four headers, where a look of its own after them took 3.2k
    headers = end_to_end(upstream.headers, NOT_FORWARDED_DOWN, "x-guard-")
    upstream_id = headers.popall("X-Request-Id", None)
    if upstream_id:
        headers["X-Upstream-Request-Id"] = upstream_id[-1]
    return headers


async def guard_completion(c: Components, dialect: Dialect, ctx: GuardContext,
                           inspector: Inspector, answer: bytes, outcome: Outcome,
                           continued: Continued | None = None,
                           request_body: Json | None = None) -> bytes:
    """The completion as the client may see it: unchanged, redacted, or replaced by a refusal.
    Its continuing texts are read after the text they go on from (`continued`); a mask that
    would land outside a string literal of its texts that are JSON (`Dialect.structured`, read
    from the request's body, `request_body`, only then) refuses it
    (`redaction.refused_for_json`)."""
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError("upstream answered 200 with a body that is not JSON", status=502,
                            code="upstream_protocol_error") from exc
    if not isinstance(body, dict):
        raise UpstreamError("upstream answered 200 with a body that is not a JSON object",
                            status=502, code="upstream_protocol_error")
    folded, keys = key_census(body, ANSWER_FREE_FORM, ANSWER_KEYS)
    if folded and dialect.chunk is not None:  # chat, legacy: typed events are read wider
        raise UpstreamError("upstream answered with a key spelled in another case than the "
                            "API's", status=502, code="upstream_protocol_error")
    if duplicate_keys(answer, keys):  # a client keeping the first would read the other one
        raise UpstreamError("upstream answered with a key given twice in one object",
                            status=502, code="upstream_protocol_error")
    slots = dialect.completion_slots(body)
    decision = await inspector.inspect(Stage.COMPLETION, segments(
        slots, Stage.COMPLETION, joined=dialect.joins_answer,
        ahead=inspector.holdback_chars(Stage.COMPLETION), continued=continued, answer=body))
    if decision.action is Action.REDACT:  # a mask must keep a JSON text JSON
        structured = dialect.structured(request_body or {})
        decision = refused_for_json(decision, [(n, slot.text) for n, slot in enumerate(slots)
                                               if structured.at(slot.path)])
    outcome.add(decision, record(c, ctx, decision, slots))
    if decision.action is Action.BLOCK:
        return orjson.dumps(dialect.refuse(body, decision.message))
    if decision.action is Action.REDACT:
        drop_logprobs(body, slots)  # they name the tokens, masked ones included
        return orjson.dumps(redact(body, slots, decision))
    return answer


def drop_logprobs(body: Json, slots: list[Slot]) -> None:
    """Log-probabilities dropped where they sit: on each choice (chat, completions, with the
    choice's token ids: `TOKEN_KEYS`), and beside each text (a Responses API output part)."""
    for choice in list_at(body, "choices"):
        drop_tokens(choice)
    for slot in slots:
        parent = get_path(body, slot.path[:-1])
        if isinstance(parent, dict) and parent.get("logprobs"):
            parent["logprobs"] = []


async def relay_stream(request: web.Request, exchange: Exchange, c: Components,
                       dialect: Dialect, ctx: GuardContext, inspector: Inspector,
                       upstream: aiohttp.ClientResponse, outcome: Outcome, request_body: Json,
                       named: str | None = None,
                       continued: Continued | None = None) -> web.StreamResponse:
    """Send the upstream's SSE stream to the client as it arrives, through the stream guard,
    which reads from the request's body (`request_body`) how many choices the stream may have
    (`Dialect.choices_asked`), its texts that are JSON (`Dialect.structured`), and whether it
    ends with its usage (`asks_usage`), which a stream guard ends or refuses ends with.

    Held text goes out when its check passes or its `max_holdback_ms` runs out, whichever comes
    first; a cut closes the upstream at once so the model stops generating. So does a kill switch
    engaged mid-stream, also while a write waits for the client: held text is dropped, and the
    stream ends with an error event `kill_switch_engaged` (mode block) or a `content_filter`
    finish (mode refuse). A client that takes no write for `client_write_timeout_s` has both
    connections closed (`hang_up`).
    """
    headers = downstream_headers(upstream)
    headers["X-Request-Id"] = ctx.request_id
    outcome.tell(headers)
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await prepare(request, response)
    exchange.head_s = exchange.own_s()
    guard = stream_guard(c, dialect, ctx, inspector, request_body, named, continued)
    parser = SSEParser(c.settings.limits.max_sse_event_bytes)
    chunks = timed_chunks(upstream, exchange, c.upstreams.silence.waiting, guard.deadline)
    ending = b""  # what the stream ends with when it cannot go on

    release = functools.partial(released, guard=guard, response=response, exchange=exchange,
                                c=c, ctx=ctx)
    try:
        async for chunk in chunks:
            still_on(c, ctx)
            if chunk is None:  # held text waited long enough, and nothing new came
                await release(guard.tick())
                continue
            await relayed(guard, parser.feed(chunk), release)
            if guard.cut:
                upstream.close()
                log.info("stream_cut", request_id=ctx.request_id,
                         incident_id=guard.incident_id)
                break
        else:
            tail = parser.close()
            if tail is not None:
                await release(guard.feed(tail))
            await release(guard.finish())
    except ConnectionResetError:  # first: aiohttp's ClientConnectionResetError is a ClientError
        log.info("client_disconnected", request_id=ctx.request_id)
        await read_late(guard, "client_disconnected", ctx)
        return response
    except ClientStalled as stalled:
        hang_up(request, upstream, exchange, c, stalled)
        await read_late(guard, "client_stalled", ctx)
        return response
    except (UpstreamError, aiohttp.ClientError, TimeoutError, SwitchedOff,
            asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError) and not ended_by_shutdown(exchange):
            # the client left (aiohttp cancels its handler): the cancellation is taken, so the
            # text it was sent can still be read, then passed on
            upstream.close()
            await read_late(guard, "client_disconnected", ctx)
            raise
        upstream.close()
        await read_late(guard, ending_code(exc), ctx)
        ending = stream_ending(exc, guard, c, ctx, response)
    finally:
        await chunks.aclose()
        count_decision(c.metrics, ctx, guard.decision)
        outcome.add(guard.decision, None)
        response[answers.DECISION] = str(outcome.action)
    await end_stream(request, response, upstream, ending, exchange, c)
    return response


def stream_guard(c: Components, dialect: Dialect, ctx: GuardContext, inspector: Inspector,
                 request_body: Json, named: str | None,
                 continued: Continued | None) -> StreamGuard:
    """The guard of one stream, of its dialect's kind, told what the request asked of it."""
    guard = EVENT_STREAM_GUARDS.get(dialect.route, StreamGuard)(dialect, inspector, ctx, c.recorder,
                                                          c.metrics, c.observers)
    guard.named, guard.continued = named, continued
    guard.choices_asked = dialect.choices_asked(request_body)
    guard.structured = dialect.structured(request_body)
    guard.usage_asked = asks_usage(request_body)
    return guard


async def read_late(guard: StreamGuard, why: str, ctx: GuardContext) -> None:
    """Read what an optimistic stream ended early (`why`) sent the client unread, and record
    its decision (`StreamGuard.ended_early`). A check that cannot run now (overloaded, or
    cancelled by shutdown) is logged and recorded as a `stream_unchecked` event
    (`StreamGuard.unchecked`): the stream is over either way, but what went out unread is not
    lost silently."""
    try:
        await guard.ended_early(why)
    except GuardError as exc:
        log.warning("stream_late_check_failed", request_id=ctx.request_id, ended=why,
                    error=str(exc))
        guard.unchecked(why, str(exc))
    except asyncio.CancelledError:
        log.warning("stream_late_check_cancelled", request_id=ctx.request_id, ended=why)
        guard.unchecked(why, "cancelled")
        raise


async def released(produce: Awaitable[bytes], *, guard: StreamGuard,
                   response: web.StreamResponse, exchange: Exchange, c: Components,
                   ctx: GuardContext) -> None:
    """Write what `produce` gives the client once the kill switch gate lets it: a switch engaged
    while the text was checked (a remote check takes its time) keeps it back. What was encoded
    and not written is forgotten (`StreamGuard.rewind`): the stream's ending is built for what
    the client has seen. Once the stream's first text is out (or the ending of a cut before
    any), the time guard took to get it there is noted (`Exchange.first_text_s`): what its
    client waited for because of guard."""
    mark = guard.mark()
    try:
        data = await produce
        still_on(c, ctx)
    except (SwitchedOff, UpstreamError):
        guard.rewind(mark)
        raise
    await timed_write(response, data, exchange, c)
    if exchange.first_text_s is None and (guard.text_released or guard.cut):
        exchange.first_text_s = exchange.own_s()


async def relayed(guard: StreamGuard, events: list[SSEEvent],
                  release: Callable[[Awaitable[bytes]], Awaitable[None]]) -> None:
    """Release what the stream guard lets out of one upstream read's `events`, a slice of
    SLICE_EVENTS at a time, until it cuts the stream.

    An upstream writing faster than guard reads hands over thousands of events in one read, and
    their checks mostly run inline (`LocalClassifier.runs_inline`), so none of them awaits: each
    slice's text is sent before the next slice is read, and the loop given back after a full
    one. Else every other client's requests and streams waited for the whole read (0.9 to 1.9 s
    for a burst of 4-character events), and so did the stream's own first text."""
    for start in range(0, len(events), SLICE_EVENTS):
        await release(fed(guard, events[start:start + SLICE_EVENTS]))
        if guard.cut:
            return


async def fed(guard: StreamGuard, events: list[SSEEvent]) -> bytes:
    """What the stream guard releases of `events` (`relayed`)."""
    out = []
    for event in events:
        out.append(await guard.feed(event))
        if guard.cut:
            break
    if len(events) == SLICE_EVENTS:
        await asyncio.sleep(0)
    return b"".join(out)


async def end_stream(request: web.Request, response: web.StreamResponse,
                     upstream: aiohttp.ClientResponse, ending: bytes, exchange: Exchange,
                     c: Components) -> None:
    """Write a stream's last bytes (`ending`, after any error event) and end its body."""
    try:
        await timed_write(response, ending, exchange, c, last=True)
    except ConnectionResetError:  # the client left as the stream ended
        log.info("client_disconnected", request_id=exchange.request_id)
    except (ClientStalled, SwitchedOff) as stop:  # the client does not take that either
        hang_up(request, upstream, exchange, c, stop)


def hang_up(request: web.Request, upstream: aiohttp.ClientResponse, exchange: Exchange,
            c: Components, stop: ClientStalled | SwitchedOff) -> None:
    """End an answer whose write to the client `stop` ended (`proxy.silence`): the client took
    none for `client_write_timeout_s`, or a kill switch engaged while it waited. The model's
    connection is closed, so it stops generating, and the client's aborted: an error event
    would wait behind what it has not read."""
    upstream.close()
    drop_client(request, exchange, c, stop)


def still_on(c: Components, ctx: GuardContext) -> None:
    """Raise SwitchedOff when a kill switch engaged since the request began now stops it."""
    switch = c.gate.check(ctx)
    if switch is not None:
        raise SwitchedOff(switch)


def stream_ending(exc: BaseException, guard: StreamGuard, c: Components,
                  ctx: GuardContext, response: web.StreamResponse) -> bytes:
    """The last bytes of a stream that cannot go on: guard is shutting down, a kill switch
    stopped it (an error event `kill_switch_engaged`, or a `content_filter` finish in refuse
    mode), or the upstream broke. The error code and switch are noted on `response` for the
    access line."""
    if isinstance(exc, asyncio.CancelledError):
        log.warning("stream_cut_at_shutdown", request_id=ctx.request_id)
        c.metrics.broken_by["server_shutting_down"].pending += 1
        return ended_with(response, guard, "guard is shutting down; the stream was cut",
                          "server_shutting_down")
    if isinstance(exc, SwitchedOff):
        c.metrics.killswitch_refusals.labels(exc.switch.mode).inc()
        log.info("stopped_in_flight", request_id=ctx.request_id, switch=exc.switch.id)
        response[answers.SWITCH] = exc.switch.id
        if exc.switch.mode == "refuse":
            return guard.refused(f"This service is paused: {exc.switch.reason}")
        return ended_with(response, guard, f"This service is paused: {exc.switch.reason}",
                          "kill_switch_engaged")
    code = broken_by(exc)
    c.metrics.broken_by[code].pending += 1
    if isinstance(exc, Overloaded):  # a window's check could not finish in time
        log.warning("guard_overloaded", request_id=ctx.request_id, error=str(exc))
        return ended_with(response, guard, str(exc), code)
    log.warning("upstream_stream_broken", request_id=ctx.request_id, error=type(exc).__name__)
    return ended_with(response, guard, "upstream broke off the stream", code)


def ended_with(response: web.StreamResponse, guard: StreamGuard, message: str, code: str) -> bytes:
    """The error event ending a stream, its code noted on `response` for the access line."""
    response[answers.CODE] = code
    return guard.error(message, code)


def ending_code(exc: BaseException) -> str:
    """The error code of the event ending a stream that cannot go on (`stream_ending`)."""
    if isinstance(exc, asyncio.CancelledError):
        return "server_shutting_down"
    if isinstance(exc, SwitchedOff):
        return "kill_switch_engaged"
    return broken_by(exc)


def broken_by(exc: BaseException) -> str:
    """The error code of an upstream that broke off an answer whose headers went out."""
    if isinstance(exc, UpstreamError):
        return exc.code
    return "upstream_timeout" if isinstance(exc, TimeoutError) else "upstream_broken"


async def timed_chunks(upstream: aiohttp.ClientResponse, exchange: Exchange,
                       waiting: set[Exchange],
                       deadline: Callable[[], float | None] = lambda: None,
                       ) -> AsyncGenerator[bytes | None, None]:
    """The upstream body chunk by chunk, the wait for each counted as upstream time and watched
    for silence (`proxy.silence`: raises aiohttp.ServerTimeoutError).

    Yields None when `deadline()` (a `time.monotonic()` time) comes before the next chunk; the
    read stays pending and the next iteration goes on waiting for it (the silence clock runs on
    from the last chunk).
    """
    pending: asyncio.Task[bytes] | None = None
    try:
        while True:
            due = deadline()
            started = upstream_wait_begins(exchange, waiting, restart_clock=pending is None)
            try:
                if due is None and pending is None:
                    chunk: bytes | None = await upstream.content.readany()
                else:
                    if pending is None:
                        pending = asyncio.ensure_future(upstream.content.readany())
                    timeout = None if due is None else max(0.0, due - time.monotonic())
                    done, _ = await asyncio.wait({pending}, timeout=timeout)
                    chunk, pending = (pending.result(), None) if done else (None, pending)
            except asyncio.CancelledError:
                raise_if_stopped(exchange)
                raise
            finally:
                upstream_wait_ends(exchange, waiting, started)
            if chunk == b"":
                return
            yield chunk
    finally:
        if pending is not None:
            pending.cancel()


async def timed_write(response: web.StreamResponse, data: bytes, exchange: Exchange,
                      c: Components, *, last: bool = False) -> None:
    """Send `data` (and end the body, when `last`) once the incidents it follows from are
    written (`Recorder.settled`). The client must take it within `client_write_timeout_s`, else
    ClientStalled; a kill switch engaged meanwhile raises SwitchedOff (`proxy.silence`)."""
    if not data and not last:
        return
    await c.recorder.settled()
    with ClientWait(exchange, c.upstreams.silence.writing):
        await (response.write_eof(data) if last else response.write(data))
