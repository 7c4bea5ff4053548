"""The stream guards of typed events (the Responses API, Anthropic's Messages API) driven
directly with the events the stand-in model sends: a secret split anywhere is cut before any of
it is sent, an address is masked in its deltas and in every event that repeats it whole, and
what the upstream sends whole but never streamed is read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from guard.classify.registry import build_classifier
from guard.errors import UpstreamError
from guard.mock_upstream import message_events, response_events
from guard.proxy import event_stream, stream_guard
from guard.proxy.event_stream import EventStreamGuard, MessagesStreamGuard, ResponsesStreamGuard
from guard.proxy.protocols.anthropic_messages import MESSAGES
from guard.proxy.protocols.openai_responses import RESPONSES
from guard.proxy.sse import SSEEvent, SSEParser, parse_event
from guard.types import Action, GuardContext, Stage
from tests.unit.proxy.test_stream_guard import MASK, SHORT_PII, Clock, splits
from tests.unit.proxy.test_stream_guard_inspector import (
    EMAIL,
    SECRET,
    SECRETS,
    ListRecorder,
    PatternInspector,
    inspector,
)

CTX = GuardContext(request_id="req-1", route=RESPONSES.route, model="m", stream=True)
GUARDS = {"responses": (RESPONSES, ResponsesStreamGuard), "messages": (MESSAGES, MessagesStreamGuard)}


def response(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
            "model": "m", "output": list(items)}


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}


def stream(pieces: Sequence[str], api: str = "responses") -> list[SSEEvent]:
    """The events of one message whose text arrives in `pieces`, numbered as an upstream would."""
    if api == "messages":
        events = message_events({"id": "msg_1", "type": "message", "role": "assistant",
                                 "model": "m", "content": [{"type": "text", "text": ""}],
                                 "stop_reason": "end_turn", "usage": {"input_tokens": 1,
                                                                      "output_tokens": 1}}, 1)
        at = next(i for i, e in enumerate(events) if e["type"] == "content_block_stop")
        events[at:at] = [{"type": "content_block_delta", "index": 0,
                          "delta": {"type": "text_delta", "text": piece}} for piece in pieces]
        return [encoded(event) for event in events]
    events = response_events(response(message("".join(pieces))), 10**6)
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    at = events.index(delta)
    events[at:at + 1] = [{**delta, "delta": piece} for piece in pieces]
    return [encoded(event, n) for n, event in enumerate(events)]


def encoded(event: dict[str, Any], number: int | None = None) -> SSEEvent:
    numbered = event if number is None else {**event, "sequence_number": number}
    return parse_event(f"event: {event['type']}\ndata: ".encode() + orjson.dumps(numbered)
                       + b"\n\n")


async def run(events: Sequence[SSEEvent], insp: PatternInspector, api: str = "responses"
              ) -> tuple[bytes, list[dict[str, Any]], EventStreamGuard]:
    dialect, kind = GUARDS[api]
    guard = kind(dialect, insp, CTX, ListRecorder())
    out = bytearray()
    for event in events:
        out += await guard.feed(event)
        if guard.cut:
            break
    else:
        out += await guard.finish()
    parsed = [orjson.loads(e.data or "") for e in SSEParser().feed(bytes(out))]
    return bytes(out), parsed, guard


def streamed(events: list[dict[str, Any]]) -> str:
    """The text a client shows: Responses text deltas, or Messages text deltas."""
    return "".join(e["delta"] if e["type"] == "response.output_text.delta" else e["delta"]["text"]
                   for e in events if e["type"] in ("response.output_text.delta",
                                                    "content_block_delta"))


@pytest.mark.parametrize("check_chars", [1, 8, 64])
@pytest.mark.parametrize("api", GUARDS)
async def test_a_secret_split_anywhere_is_cut_before_any_of_it(check_chars: int, api: str) -> None:
    text = f"The key is {SECRET} now."
    for pieces in splits(text):
        raw, events, guard = await run(stream(pieces, api), inspector(check_chars=check_chars),
                                       api)
        assert guard.cut, pieces
        assert b"AKIA" not in raw and SECRET[4:12].encode() not in raw, pieces
        if api == "messages":  # the open block closed, the message stopped for refusal
            assert [e["type"] for e in events[-3:]] == ["content_block_stop", "message_delta",
                                                        "message_stop"]
            assert events[-2]["delta"]["stop_reason"] == "refusal"
            continue
        assert events[-1]["type"] == "response.incomplete"
        assert events[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}
        assert [e["sequence_number"] for e in events] == list(range(len(events)))


async def test_an_address_split_anywhere_in_a_messages_stream_is_masked() -> None:
    text = f"Mail {EMAIL} now."
    insp = inspector()
    insp.classifiers = (SECRETS, SHORT_PII)
    for pieces in splits(text):
        raw, events, guard = await run(stream(pieces, "messages"), insp, "messages")
        assert not guard.cut and EMAIL.encode() not in raw, pieces
        assert streamed(events) == f"Mail {MASK} now.", pieces
        assert events[-1]["type"] == "message_stop"


async def test_an_address_split_anywhere_is_masked_in_every_event() -> None:
    text = f"Mail {EMAIL} now."
    masked = f"Mail {MASK} now."
    insp = inspector()
    insp.classifiers = (SECRETS, SHORT_PII)
    for pieces in splits(text):
        raw, events, guard = await run(stream(pieces), insp)
        assert not guard.cut and EMAIL.encode() not in raw, pieces
        assert streamed(events) == masked, pieces
        done = {e["type"]: e for e in events}
        assert done["response.output_text.done"]["text"] == masked
        assert done["response.content_part.done"]["part"]["text"] == masked
        assert done["response.output_item.done"]["item"]["content"][0]["text"] == masked
        assert done["response.completed"]["response"]["output"][0]["content"][0]["text"] == masked
        assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("api", GUARDS)
async def test_a_clean_stream_keeps_its_events_and_their_order(api: str) -> None:
    text = "Nothing to see here, just plain words."
    events = stream([text[i:i + 3] for i in range(0, len(text), 3)], api)
    _, got, guard = await run(events, inspector(), api)
    sent = [orjson.loads(e.data or "") for e in events]
    assert not guard.cut
    assert [e["type"] for e in got] == [e["type"] for e in sent]
    assert got == sent  # as the upstream sent them (and numbered them), nothing split or joined


async def test_text_an_upstream_repeats_but_never_streamed_is_read() -> None:
    item = message(f"plain, then {SECRET}")
    events = [encoded({"type": "response.output_item.done", "output_index": 0, "item": item})]
    raw, got, guard = await run(events, inspector())
    assert guard.cut and b"AKIA" not in raw and got[-1]["type"] == "response.incomplete"


async def test_a_text_delta_in_a_shape_guard_cannot_read_ends_the_stream() -> None:
    event = encoded({"type": "response.output_text.delta", "output_index": 0,
                     "content_index": 0, "delta": [SECRET]})
    with pytest.raises(UpstreamError):
        await run([event], inspector())


async def test_optimistic_mode_cuts_once_the_secret_is_seen() -> None:
    text = f"The key is {SECRET} and more words follow it here."
    raw, got, guard = await run(stream([text[i:i + 4] for i in range(0, len(text), 4)]),
                                inspector(mode="optimistic", check_chars=8))
    assert guard.cut and got[-1]["type"] == "response.incomplete"
    assert SECRET.encode() not in raw  # sent up to the check that found it, never all of it


async def test_the_redacted_answers_logprobs_are_dropped() -> None:
    text = f"Mail {EMAIL} now."
    events = stream([text])
    insp = inspector(pii=Action.REDACT)
    insp.classifiers = (SECRETS, SHORT_PII)
    for event in events:  # the upstream names its tokens
        body = orjson.loads(event.data or "")
        if body["type"] == "response.output_text.delta":
            body["logprobs"] = [{"token": EMAIL, "logprob": -0.1}]
            event.data = orjson.dumps(body).decode()
    raw, _, _ = await run(events, insp)
    assert EMAIL.encode() not in raw


def _with_logprobs(node: Any, tokens: list[str]) -> None:
    """Every output text part and text event in `node` given log-probabilities whose alternative
    tokens (`top_logprobs`) are `tokens`."""
    if isinstance(node, list):
        for value in node:
            _with_logprobs(value, tokens)
    if not isinstance(node, dict):
        return
    if "logprobs" in node or node.get("type") in ("response.output_text.delta", "response.output_text.done"):
        node["logprobs"] = [{"token": "ab", "logprob": -0.1, "bytes": [97, 98], "top_logprobs": [
            {"token": token, "logprob": -2.5, "bytes": list(token.encode())} for token in tokens]}]
    for value in node.values():
        _with_logprobs(value, tokens)


async def test_the_alternative_tokens_of_held_text_go_with_none_of_it() -> None:
    """From a probe: a Responses stream's text deltas carried their log-probabilities out unread
    while their text was held and benign, so the alternative tokens (`top_logprobs`) spelled an
    address or a key to the client (a chat stream drops them from every chunk in buffered mode).
    They go with none of the events that carry them, and the text is sent whole."""
    text = "Sure, here it is."
    events = stream([text[i:i + 3] for i in range(0, len(text), 3)])
    for event in events:  # the upstream names its tokens and their alternatives
        body = orjson.loads(event.data or "")
        _with_logprobs(body, [EMAIL[:9], EMAIL[9:], SECRET[:10], SECRET[10:]])
        event.data = orjson.dumps(body).decode()
    assert all("top_logprobs" in (event.data or "") for event in events if "text" in (event.data or ""))
    raw, parsed, guard = await run(events, inspector())
    assert not guard.cut and streamed(parsed) == text
    assert b"top_logprobs" not in raw and EMAIL[9:].encode() not in raw and SECRET[10:].encode() not in raw


INJECTED = ('response.x\ndata: {"type":"response.output_text.delta","output_index":0,'
            f'"content_index":0,"delta":"token {SECRET}"}}\n\nevent: y')


@pytest.mark.parametrize("event", [
    {"type": INJECTED},
    {"type": "content_block_delta\rdata: x", "index": 0},
    {"type": "content_block_delta", "index": -1, "delta": {"type": "text_delta", "text": "x"}},
    {"type": "response.output_text.delta", "output_index": 0, "content_index": 200,
     "delta": "x"},
    {"type": "response.output_text.delta", "output_index": "1", "content_index": 0,
     "delta": "x"},
], ids=["newline", "carriage-return", "negative", "huge", "string"])
@pytest.mark.parametrize("api", GUARDS)
async def test_an_event_a_client_reads_otherwise_ends_the_stream(event: dict[str, Any],
                                                                 api: str) -> None:
    """A type that is not one line (written into guard's `event:` line it would start an event
    of the upstream's making), or an index a client reads otherwise (Python's `content[-1]` is
    the last block): the stream ends, nothing of it passes."""
    raw = parse_event(b"event: x\ndata: " + orjson.dumps(event) + b"\n\n")
    with pytest.raises(UpstreamError):
        await run([raw], inspector(), api)


@pytest.mark.parametrize("api", GUARDS)
async def test_an_array_of_events_in_one_data_line_ends_the_stream(api: str) -> None:
    """The SDKs read a JSON array item by item: guard, which reads objects, refuses it."""
    raw = parse_event(b"data: " + orjson.dumps([{"type": "response.output_text.delta",
                                                 "delta": SECRET}]) + b"\n\n")
    with pytest.raises(UpstreamError):
        await run([raw], inspector(), api)


@pytest.mark.parametrize("api", GUARDS)
async def test_guards_own_error_event_is_typed_error(api: str) -> None:
    dialect, kind = GUARDS[api]
    guard = kind(dialect, inspector(), CTX, ListRecorder())
    [event] = [orjson.loads(e.data or "") for e in SSEParser().feed(guard.error("m", "c"))]
    assert event["type"] == "error" and event["error"]["code"] == "c"


@pytest.mark.parametrize("api", GUARDS)
async def test_held_text_goes_out_before_an_upstream_error(api: str) -> None:
    """An upstream's error event ends the stream for the SDKs: the text held before it is
    checked and sent first, and nothing follows the error."""
    events = stream(["Hello there, a partial answer "], api)
    first_delta = next(i for i, e in enumerate(events)
                       if "delta" in orjson.loads(e.data or "") and "text" in (e.data or ""))
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    _, got, _ = await run([*events[:first_delta + 1], encoded(error)], inspector(), api)
    assert got[-1]["type"] == "error"
    assert streamed(got) == "Hello there, a partial answer "


def two_texts(first: str, second: str, api: str, size: int = 4,
              before: dict[str, Any] | None = None) -> list[SSEEvent]:
    """An answer in two texts a client joins: two parts of a message, or two text blocks (after
    a block `before`, with `messages`)."""
    if api == "messages":
        blocks = [{"type": "text", "text": first}, {"type": "text", "text": second}]
        events = message_events({"id": "msg_1", "type": "message", "role": "assistant",
                                 "model": "m", "content": [*([before] if before else []), *blocks],
                                 "stop_reason": "end_turn",
                                 "usage": {"input_tokens": 1, "output_tokens": 1}}, size)
        return [encoded(event) for event in events]
    item = message(first)
    item["content"].append({**item["content"][0], "text": second})
    return [encoded(event, n) for n, event in enumerate(response_events(response(item), size))]


@pytest.mark.parametrize("api", GUARDS)
async def test_a_secret_split_across_two_texts_is_cut_before_any_of_it(api: str) -> None:
    """A client joins an answer's texts: the first one's tail is held past its close, until
    what follows shows whether a value goes on in it."""
    for at in range(1, len(SECRET)):
        raw, events, guard = await run(
            two_texts(f"The key is {SECRET[:at]}", f"{SECRET[at:]} now.", api), inspector(), api)
        assert guard.cut, at
        assert "The key is ".startswith(streamed(events)), (at, streamed(events))
        assert SECRET[at:].encode() not in raw, at
        if api == "responses":
            assert events[-1]["type"] == "response.incomplete"
            assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("api", GUARDS)
async def test_a_clean_answer_in_two_texts_keeps_its_events_and_their_order(api: str) -> None:
    sent_events = two_texts("The first part of it, ", "and then the second part.", api)
    _, got, guard = await run(sent_events, inspector(), api)
    assert not guard.cut
    assert got == [orjson.loads(e.data or "") for e in sent_events]


ANNOTATION = {"type": "response.output_text.annotation.added", "item_id": "msg_1",
              "output_index": 0, "content_index": 0, "annotation_index": 0,
              "annotation": {"type": "url_citation", "url": "https://example.com/a",
                             "title": "A page", "start_index": 0, "end_index": 4}}
THINKING = {"type": "thinking", "thinking": "Let me think about it for a while now.",
            "signature": "c2lnbmF0dXJl"}


@pytest.mark.parametrize("api", GUARDS)
async def test_an_event_after_held_text_goes_out_after_it(api: str) -> None:
    """Events go out in the order they came: an annotation the upstream sends after some text
    (Responses), a thinking block's signature (Messages), does not overtake the text held
    before it."""
    if api == "messages":
        events = two_texts("A first text.", "A second one.", api, before=THINKING)
        assert any("signature_delta" in (e.data or "") for e in events)
    else:
        events = two_texts("A first text of some length.", "A second one.", api)
        at = max(i for i, e in enumerate(events) if "output_text.delta" in (e.data or "")
                 and '"content_index":0' in (e.data or ""))
        events = [*events[:at], encoded(ANNOTATION), *events[at:]]
        events = [encoded(orjson.loads(e.data or ""), n) for n, e in enumerate(events)]
    _, got, guard = await run(events, inspector(check_chars=64), api)
    assert not guard.cut
    assert got == [orjson.loads(e.data or "") for e in events]


@pytest.mark.parametrize("api", GUARDS)
async def test_a_stop_in_pass_through_mode_ends_the_stream_as_a_client_expects(api: str) -> None:
    """With no completion rules, events pass untouched; a kill switch's stop then still goes on
    from the upstream's numbering (Responses), and closes the open block without starting the
    message again (Messages)."""
    dialect, kind = GUARDS[api]
    guard = kind(dialect, inspector_without_rules(), CTX, ListRecorder())
    assert guard.passthrough
    events = stream(["Hello ", "there, ", "friend."], api)
    at = next(i for i, e in enumerate(events) if '"delta"' in (e.data or "")) + 2
    keep_alive = parse_event(b": keep-alive\n\n")  # a comment: no number to go on from
    out = b"".join([await guard.feed(event) for event in [*events[:at], keep_alive]])
    assert out == b"".join(event.raw for event in [*events[:at], keep_alive])
    got = [orjson.loads(e.data) for e in SSEParser().feed(out + guard.stop()) if e.data]
    if api == "messages":
        assert [e["type"] for e in got].count("message_start") == 1
        assert [e["type"] for e in got[-3:]] == ["content_block_stop", "message_delta",
                                                  "message_stop"]
        return
    assert got[-1]["type"] == "response.incomplete"
    assert [e["sequence_number"] for e in got] == list(range(len(got)))


def inspector_without_rules() -> PatternInspector:
    insp = inspector()
    insp.rules = {}
    return insp


class Unbounded(PatternInspector):
    """A policy whose completion findings have no bound on their length."""

    def holdback_chars(self, stage: Stage) -> int | None:
        return None


@pytest.mark.parametrize("api", GUARDS)
async def test_with_unbounded_findings_a_key_split_across_closed_texts_is_cut_unseen(api: str) -> None:
    base = inspector()
    unbounded = Unbounded(rules=base.rules, stream=base.stream)
    for at in (1, 10, 19):
        _, events, guard = await run(
            two_texts(f"The key is {SECRET[:at]}", f"{SECRET[at:]} now.", api), unbounded, api)
        assert guard.cut and streamed(events) == "", at


@pytest.mark.parametrize("api", GUARDS)
async def test_text_out_of_its_place_in_the_answer_ends_the_stream(api: str) -> None:
    """A delta for a text already closed, or for one a client puts before a text that began
    before it (sent or held), or that has begun (`interleaved`, from a probe: `Key: AKIAIOSF`
    in block 0, `ODNN7EXAMPLE` in block 1, then more of block 0 went out whole in arrival
    order, while guard read block 0 whole before block 1): a client joining deltas as they
    come would read them otherwise than guard, so the stream ends."""
    long = "plain words " * 40
    if api == "messages":
        late = [*blocks(("start", 0), ("text", 0, "hello "), ("stop", 0), ("start", 1),
                        ("text", 1, long)), *blocks(("text", 0, "more"))[1:]]
        early = blocks(("start", 1), ("text", 1, long), ("start", 0), ("text", 0, "hello "))
        held = blocks(("start", 1), ("text", 1, "pad "), ("start", 0), ("text", 0, "hello "))
        interleaved = blocks(("start", 0), ("start", 1), ("text", 0, "Key: AKIAIOSF"),
                             ("text", 1, "ODNN7EXAMPLE"), ("text", 0, " and more"))
    else:
        late = [part_delta(0, "hello "), encoded({"type": "response.output_text.done",
                                                  **AT, "content_index": 0, "text": "hello "}),
                part_delta(1, long), part_delta(0, "more")]
        early = [part_delta(1, long), part_delta(0, "hello ")]
        held = [part_delta(1, "pad "), part_delta(0, "hello ")]
        interleaved = [part_delta(0, "Key: AKIAIOSF"), part_delta(1, "ODNN7EXAMPLE"),
                       part_delta(0, " and more")]
    for events in (late, early, held, interleaved):  # `held`: the later text not yet sent, still
        with pytest.raises(UpstreamError):
            await run(events, inspector(), api)


@pytest.mark.parametrize("api", GUARDS)
async def test_text_after_the_answers_end_ends_the_stream(api: str) -> None:
    """From a probe: an event guard reads as the answer's end (any event carrying `response`,
    a `message_delta`) flushed every held tail, `Contact jane.doe@exa`, and text after it was
    still taken: the rest of the address was masked, its start had gone out."""
    if api == "messages":
        events = [*blocks(("start", 0), ("text", 0, "Contact jane.doe@exa")),
                  encoded({"type": "message_delta", "delta": {"stop_reason": None}}),
                  *blocks(("start", 1), ("text", 1, "mple.com now"))[1:]]
    else:
        events = [part_delta(0, "Contact jane.doe@exa"),
                  encoded({"type": "response.in_progress", "response": {"id": "r"}}),
                  part_delta(1, "mple.com now")]
    with pytest.raises(UpstreamError, match="out of its place"):
        await run(events, inspector(), api)


async def test_done_does_not_overtake_held_text() -> None:
    """From a probe: a server ending a Responses stream with `[DONE]` (no `response.completed`)
    had it sent before the text held back, and the SDK, which stops there, showed nothing."""
    events = [part_delta(0, "A reverse proxy forwards "), part_delta(0, "each request."),
              parse_event(b"data: [DONE]\n\n")]
    guard = ResponsesStreamGuard(RESPONSES, inspector(), CTX, ListRecorder())
    raw = b"".join([await guard.feed(event) for event in events]) + await guard.finish()
    assert not guard.cut and raw.endswith(b"data: [DONE]\n\n")
    got = [orjson.loads(e.data or "") for e in SSEParser().feed(raw) if not e.done]
    assert streamed(got) == "A reverse proxy forwards each request."


async def test_a_responses_stream_stopped_before_it_began_begins_it() -> None:
    """From a probe: a kill switch (or a cut of the first event) before `response.created` went
    out sent a lone `response.incomplete`, which the openai SDK's stream helper refuses."""
    guard = ResponsesStreamGuard(RESPONSES, inspector(), CTX, ListRecorder())
    got = [orjson.loads(e.data or "") for e in SSEParser().feed(guard.stop())]
    assert [e["type"] for e in got] == ["response.created", "response.incomplete"]
    assert [e["sequence_number"] for e in got] == [0, 1]
    created = response()
    created["output"] = [message(f"key {SECRET}")]
    _, got, guard = await run([encoded({"type": "response.created", "response": created}, 0)],
                              inspector())
    assert guard.cut and [e["type"] for e in got] == ["response.created", "response.incomplete"]
    assert SECRET not in orjson.dumps(got).decode()


AT = {"item_id": "msg_1", "output_index": 0}


def part_delta(index: int, text: str) -> SSEEvent:
    return encoded({"type": "response.output_text.delta", **AT, "content_index": index,
                    "delta": text})


def blocks(*steps: tuple[Any, ...]) -> list[SSEEvent]:
    """A Messages stream: a start, then text blocks opened, extended and stopped."""
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {
        "id": "m", "type": "message", "role": "assistant", "content": []}}]
    for step in steps:
        if step[0] == "start":
            events.append({"type": "content_block_start", "index": step[1],
                           "content_block": {"type": "text", "text": ""}})
        elif step[0] == "stop":
            events.append({"type": "content_block_stop", "index": step[1]})
        else:
            events.append({"type": "content_block_delta", "index": step[1],
                           "delta": {"type": "text_delta", "text": step[2]}})
    return [encoded(event) for event in events]


async def test_a_stop_after_the_messages_stop_reason_only_ends_it() -> None:
    dialect, kind = GUARDS["messages"]
    guard = kind(dialect, inspector_without_rules(), CTX, ListRecorder())
    events = stream(["Hello ", "there."], "messages")
    at = next(i for i, e in enumerate(events) if '"message_delta"' in (e.data or "")) + 1
    out = b"".join([await guard.feed(event) for event in events[:at]])
    got = [orjson.loads(e.data) for e in SSEParser().feed(out + guard.stop()) if e.data]
    assert [e["type"] for e in got[-2:]] == ["message_delta", "message_stop"]
    assert [e["type"] for e in got].count("message_delta") == 1


@pytest.mark.parametrize("rules", [True, False], ids=["read", "pass-through"])
async def test_a_fetched_stream_naming_another_model_ends(rules: bool) -> None:
    """An answer fetched by id is read under the policy of the model it named whole: its stream
    must begin by naming the same, read or passed through, however its keys are written."""
    dialect, kind = GUARDS["responses"]
    guard = kind(dialect, inspector() if rules else inspector_without_rules(), CTX,
                 ListRecorder())
    guard.named = "model-a"
    created = encoded({"type": "response.created", "response": {
        "id": "r", "object": "response", "model": "model-b", "output": []}}, 0)
    escaped = parse_event(created.raw.replace(b'"response":', b'"respons\\u0065":'))
    assert (escaped.json() or {})["response"]["model"] == "model-b"
    unnamed = part_delta(0, "text before the stream named its model")
    for event in (created, escaped, unnamed):  # another model; the key escaped; none yet
        with pytest.raises(UpstreamError):
            await guard.feed(event)
    guard.named = "model-b"
    assert await guard.feed(created)


async def test_a_closed_thinking_block_ending_in_a_word_holds_nothing_back_for_good(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From a re-probe: a thinking block (a reasoning summary) ends in a word, with no space
    after it, as thinking does. That word was held as a value in progress. A closed text gets
    no more text, so the word waited for good, and every event after it waited too: with the
    default pack the whole answer came out at the stream's end (14 s into a 14 s stream, written
    from 1.9 s). A closed text's last word now goes out `2 x max_holdback_ms` after it came,
    and the answer behind it follows."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    monkeypatch.setattr(event_stream, "time", clock)
    guard = MessagesStreamGuard(MESSAGES, inspector(), CTX, ListRecorder())
    start = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": []}
    events = [{"type": "message_start", "message": start},
              {"type": "content_block_start", "index": 0,
               "content_block": {"type": "thinking", "thinking": ""}},
              {"type": "content_block_delta", "index": 0, "delta": {
                  "type": "thinking_delta", "thinking": "I thought about the question."}},
              {"type": "content_block_stop", "index": 0},
              {"type": "content_block_start", "index": 1,
               "content_block": {"type": "text", "text": ""}},
              {"type": "content_block_delta", "index": 1, "delta": {
                  "type": "text_delta", "text": "Here is a calm answer about the weather. "}}]
    out = b"".join([await guard.feed(encoded(e)) for e in events])
    for _ in range(8):  # the ticks a client would see within two seconds
        deadline = guard.deadline()
        if deadline is None:
            break
        clock.now = max(clock.now, deadline)
        out += await guard.tick()
    assert clock.now - 1000.0 < 2.0
    sent = [orjson.loads(e.data or "") for e in SSEParser().feed(out)]
    deltas = [e["delta"] for e in sent if e["type"] == "content_block_delta"]
    assert "".join(d.get("thinking", "") for d in deltas) == "I thought about the question."
    assert "".join(d.get("text", "") for d in deltas).startswith("Here is a calm answer")


def text_delta(index: int, piece: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index,
            "delta": {"type": "text_delta", "text": piece}}


def block_opened(index: int) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}


def block_closed(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


async def shown_as_timed(timed: list[tuple[float, dict[str, Any]]],
                         monkeypatch: pytest.MonkeyPatch, until: float | None = None,
                         policy: PatternInspector | None = None) -> tuple[bool, str]:
    """Drive a Messages stream guard (`policy`, by default the usual test policy) with events at
    their times (s), each deadline's tick run when its time comes, then the answer's end (or,
    with `until`, the ticks up to that time and no end): whether it cut the stream, and the
    text the client was shown."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    monkeypatch.setattr(event_stream, "time", clock)
    guard = MessagesStreamGuard(MESSAGES, policy or inspector(), CTX, ListRecorder())
    start = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": []}
    out = b""
    for at, event in [(0.0, {"type": "message_start", "message": start}), *timed, (until, None)]:
        while at is not None and (deadline := guard.deadline()) is not None \
                and deadline <= 1000.0 + at:
            clock.now = deadline + 1e-6
            out += await guard.tick()
        if event is None or guard.cut:
            break
        clock.now = 1000.0 + at
        out += await guard.feed(encoded(event))
    if until is None and not guard.cut:
        out += await guard.finish()  # the answer's end reads what is held
    shown = "".join(e["delta"].get("text", e["delta"].get("partial_json", "")) for e in
                    (orjson.loads(x.data or "") for x in SSEParser().feed(out))
                    if e["type"] == "content_block_delta")
    return guard.cut, shown


async def test_a_value_a_closed_text_ends_in_waits_for_the_text_that_continues_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From a re-probe of the fix above: with a closed text's last word released at once, a key
    written slowly (one character per 300 ms) at the end of a text block went out as far as it
    had come when the block closed, though the next block, continuing it, came 20 ms later
    (`AKIAIOSFODNN7EXAM` of the key before the cut). A closed text's value waits for the text
    that may continue it, up to twice `max_holdback_ms` after the close."""
    timed = [(0.0, block_opened(0)), (0.0, text_delta(0, "Here it is: "))]
    timed += [(0.3 * (n + 1), text_delta(0, c)) for n, c in enumerate(SECRET[:-1])]
    closed = 0.3 * len(SECRET)
    timed += [(closed, block_closed(0)), (closed + 0.01, block_opened(1)),
              (closed + 0.02, text_delta(1, SECRET[-1] + " and more."))]
    assert await shown_as_timed(timed, monkeypatch) == (True, "Here it is: ")


@pytest.mark.parametrize(("texts", "pace", "gap"), [(2, 0.3, 0.02), (2, 0.02, 0.02),
                                                    (4, 0.02, 0.2)])
async def test_a_value_going_on_in_texts_still_being_written_waits_for_them(
        texts: int, pace: float, gap: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a second re-probe: a closed text's value went out twice `max_holdback_ms` after its
    close even when the text going on from it had begun and was still writing the rest (a key
    over two blocks at one character per 300 ms, or per 20 ms; over four blocks each opened
    200 ms after the last closed: 70 of 80 and 30 of 30 probe cases). While a text a client
    joins to it has begun (its first text came within twice `max_holdback_ms` of the close),
    a closed text's value waits for it to be read."""
    value = SECRET + " is it."
    cuts = [len(value) * n // texts for n in range(texts + 1)]
    timed, at = [], 0.0
    for n in range(texts):
        timed.append((at, block_opened(n)))
        for c in (("Here it is: " if n == 0 else "") + value[cuts[n]:cuts[n + 1]]):
            at += pace
            timed.append((at, text_delta(n, c)))
        timed.append((at, block_closed(n)))
        at += gap
    assert await shown_as_timed(timed, monkeypatch) == (True, "Here it is: ")


async def test_a_value_waits_no_longer_once_the_texts_after_it_are_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From a third re-probe: two thinking blocks or summary parts (`...final` + ` ok.`, both
    closed) held the first one's last word, and the answer behind it, to the stream's end (20 s
    late): a value waited while any text after it had begun. It waits while one is open; once
    they are all closed, twice `max_holdback_ms` after the last close."""
    def thinking(index: int, text: str) -> list[tuple[float, dict[str, Any]]]:
        at = 0.02 * index
        return [(at, {"type": "content_block_start", "index": index,
                      "content_block": {"type": "thinking", "thinking": ""}}),
                (at, {"type": "content_block_delta", "index": index,
                      "delta": {"type": "thinking_delta", "thinking": text}}),
                (at, block_closed(index))]

    timed = [*thinking(0, "The answer is final"), *thinking(1, " ok."), (0.05, block_opened(2))]
    timed += [(0.05 + 0.1 * n, text_delta(2, "more words ")) for n in range(1, 20)]
    cut, shown = await shown_as_timed(timed, monkeypatch, until=2.0)
    assert not cut and shown.startswith("more words " * 15)


@pytest.mark.parametrize(("first", "after", "shown"), [
    ("The answer is final", " and", "The answer is final "),
    ("The card is 4111 1111", " 1111 1111", "The card is "),
    # from a re-probe: with the last 128 characters read as sent, marks after the last group
    # hid the groups before them, and "4111 1111" went out during the next text's pause
    ("The card is 4111 1111" + "\u0301" * 130, " 1111", "The card is "),
])
async def test_a_next_text_that_stalls_holds_back_no_value_it_shows_has_ended(
        first: str, after: str, shown: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """From an earlier re-probe: a closed text's last word waited while the next text of its
    kind was open, so a next text that sent " and" and paused 30 s held the word, and every
    event behind it, the 30 s. Read joined, " and" shows the value ended: the word goes out
    twice `max_holdback_ms` after the close. A card's groups, which a space does not end
    (`value_start`), still wait."""
    timed = [(0.0, block_opened(0)), (0.0, text_delta(0, first)), (0.0, block_closed(0)),
             (0.02, block_opened(1)), (0.03, text_delta(1, after))]
    assert await shown_as_timed(timed, monkeypatch, until=2.0) == (False, shown)


async def test_a_next_call_that_stalls_holds_back_no_arguments_before_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From the same re-probe: a call's arguments ending in `"Paris"}`, then a next call whose
    arguments began (`{"ci`) and paused 30 s, held the first call's, and every event behind
    them, the 30 s. Two calls' arguments are two objects: read joined, the first ends at its
    `}`, and goes out twice `max_holdback_ms` after its close."""
    def call(index: int) -> dict[str, Any]:
        return {"type": "content_block_start", "index": index, "content_block": {
            "type": "tool_use", "id": f"toolu_{index}", "name": "weather", "input": {}}}

    def arguments(index: int, piece: str) -> dict[str, Any]:
        return {"type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece}}

    timed = [(0.0, call(0)), (0.0, arguments(0, '{"city": "Paris"}')), (0.0, block_closed(0)),
             (0.02, call(1)), (0.03, arguments(1, '{"ci'))]
    assert await shown_as_timed(timed, monkeypatch, until=2.0) == (False, '{"city": "Paris"}')


async def test_a_value_written_slowly_is_held_whole_however_its_letters_are_padded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From a fuzz of values padded with combining marks: a value written slower than
    `max_holdback_ms` is held whole while shorter than the longest finding, which was measured
    in characters as sent, so a key with 63 marks on each letter, written a letter every
    300 ms, went out letter by letter from its sixth (104 of 300 fuzz cases leaked part of a
    key, with marks on the value in any of its texts; 0 now)."""
    policy = inspector()
    policy.classifiers = (build_classifier("secrets", {"type": "secrets"}).classifier,)
    timed = [(0.0, block_opened(0)), (0.0, text_delta(0, "Here it is: "))]
    timed += [(0.3 * (n + 1), text_delta(0, c + "\u0301" * 63)) for n, c in enumerate(SECRET)]
    timed += [(0.3 * len(SECRET) + 0.3, text_delta(0, " and more."))]
    assert await shown_as_timed(timed, monkeypatch, policy=policy) == (True, "Here it is: ")


@pytest.mark.parametrize("whole_text", [False, True])
async def test_marks_padding_the_next_text_do_not_hide_a_value_split_at_a_close(
        whole_text: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a re-probe: the start of the texts after a closed one, read with its tail, was cut
    at the hold-back in characters as sent. A key whose first half closed a block, its second
    half's letters each padded with 80 combining marks (which the secrets classifier reads
    through), was read with only the first 319 characters of the next block: the key went out
    whole, uncut. The look-ahead counts the characters normalisation keeps; so does the wait
    for it with a classifier that reads the whole text (whose closed tails go out once the
    texts after them are as long as the longest bounded finding)."""
    base = inspector()
    policy = Unbounded(rules=base.rules, stream=base.stream) if whole_text else base
    policy.classifiers = (build_classifier("secrets", {"type": "secrets"}).classifier,)
    padded = "".join(c + "\u0301" * 80 for c in SECRET[8:12])
    timed = [(0.0, block_opened(0)), (0.01, text_delta(0, "The key is " + SECRET[:8])),
             (0.05, block_closed(0)), (0.06, block_opened(1)), (0.07, text_delta(1, padded)),
             (0.6, text_delta(1, SECRET[12:] + " done.")), (0.65, block_closed(1))]
    assert await shown_as_timed(timed, monkeypatch, policy=policy) == (True, "The key is ")


async def test_with_a_whole_text_classifier_a_closed_texts_tail_waits_for_the_longest_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From a fourth re-probe: with a classifier that reads the whole text (the strict pack),
    a text closed on a word held itself and the next text, streaming for 20 s, to the answer's
    end: a closed text's tail waited for the texts after it to close. It goes out once they are
    as long as the longest finding of the classifiers that bound theirs (73 characters here),
    as with one text."""
    base = inspector()
    unbounded = Unbounded(rules=base.rules, stream=base.stream)
    timed = [(0.0, block_opened(0)), (0.0, text_delta(0, "The answer is final")),
             (0.0, block_closed(0)), (0.02, block_opened(1))]
    timed += [(0.02 + 0.1 * n, text_delta(1, " word")) for n in range(1, 40)]
    cut, shown = await shown_as_timed(timed, monkeypatch, until=4.0, policy=unbounded)
    assert not cut and shown.startswith("The answer is final word word")


# blank texts (empty, spaces, zero-width only) of every kind, `count` of them in turn
BLANK_TEXTS = ["  ", "", "\u200b", " \u200b\t"]


def blanks(count: int) -> list[str]:
    return [BLANK_TEXTS[n % len(BLANK_TEXTS)] for n in range(count)]


@pytest.mark.parametrize("count", [1, 8, 9])
async def test_blank_texts_take_no_place_among_those_a_later_text_is_read_with(
        count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a whole answer (`protocols.base.segments`): blank text blocks between the halves
    of a key, the second coming after the first went out (past `max_holdback_ms`), were read
    with the texts around them, so a block of two spaces kept the halves apart and eight blocks
    pushed the first out of the eight texts the second is read with: the second half went out
    too. A blank text takes no place among them: the key is cut."""
    policy = inspector()
    policy.classifiers = (build_classifier("secrets", {"type": "secrets"}).classifier,)
    timed = [(0.0, block_opened(0)), (0.0, text_delta(0, "The key is " + SECRET[:10])),
             (0.0, block_closed(0))]
    for n, text in enumerate(blanks(count), start=1):
        timed += [(0.01, block_opened(n)), (0.01, text_delta(n, text)), (0.01, block_closed(n))]
    last = count + 1
    timed += [(2.0, block_opened(last)), (2.0, text_delta(last, SECRET[10:] + " now.")),
              (2.0, block_closed(last))]
    cut, shown = await shown_as_timed(timed, monkeypatch, policy=policy)
    assert cut and SECRET[10:] not in shown, shown


@pytest.mark.parametrize("count", [1, 8, 9])
async def test_blank_texts_sent_only_whole_take_no_place_among_those_one_is_read_with(
        count: int) -> None:
    """The same of parts an upstream sends only whole, read as they come (optimistic mode):
    blank parts between the halves of a key kept the second from being read with the first."""
    policy = inspector(mode="optimistic")
    policy.classifiers = (build_classifier("secrets", {"type": "secrets"}).classifier,)
    texts = ["The key is " + SECRET[:10], *blanks(count), SECRET[10:] + " now."]
    events = [encoded({"type": "response.content_part.done", **AT, "content_index": n,
                       "part": {"type": "output_text", "text": text, "annotations": []}}, n)
              for n, text in enumerate(texts)]
    raw, _, guard = await run(events, policy)
    assert guard.cut and SECRET[10:].encode() not in raw
