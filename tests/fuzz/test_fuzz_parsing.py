"""Property tests: request parsing, protocol adapters, SSE parsing and text normalisation take any
input without an unexpected exception, and keep the invariants the data path relies on."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.classify.normalize import CONFUSABLES, INVISIBLE, normalize
from guard.errors import RequestError, UpstreamError
from guard.proxy.protocols import DIALECTS, anthropic_messages, openai_responses
from guard.proxy.protocols.anthropic_messages import MESSAGES
from guard.proxy.protocols.base import (
    MAX_CHOICE_INDEX,
    MAX_INDEX,
    KeyOf,
    get_path,
    json_text,
    list_at,
    set_path,
    write_order,
)
from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.protocols.openai_completions import COMPLETIONS
from guard.proxy.protocols.openai_responses import RESPONSES
from guard.proxy.request_checks import parse_body
from guard.proxy.sse import SSEParser, parse_event, parse_lines
from tests.fuzz.strategies import (
    CALL,
    CHAT_LIKE,
    CHOICE,
    JSON,
    MESSAGES_LIKE,
    OBJECTS,
    RESPONSES_LIKE,
    TEXT,
)

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DIALECT_LIST = list(DIALECTS.values())
CHOICE_DIALECTS = [d for d in DIALECT_LIST if d.chunk is not None]  # answers made of choices
BODIES = st.one_of(OBJECTS, CHAT_LIKE, RESPONSES_LIKE, MESSAGES_LIKE)


# -- request parsing -----------------------------------------------------------------------------

@FUZZ
@given(st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode()),
                 st.binary(max_size=50).map(lambda b: b'{"a": "' + b + b'"}')))
def test_parse_body_returns_an_object_or_a_request_error(raw: bytes) -> None:
    """Any bytes: a JSON object comes back, or RequestError (400 invalid_json); nothing else."""
    try:
        body = parse_body(raw)
    except RequestError as exc:
        assert exc.status == 400 and exc.code == "invalid_json"
        return
    assert isinstance(body, dict)
    assert body == orjson.loads(raw)


@FUZZ
@given(BODIES, st.sampled_from(DIALECT_LIST))
def test_prompt_slots_point_at_their_text(body: dict[str, Any], dialect: Any) -> None:
    """Every prompt slot names a string that is really at its path, and writing a mask there
    changes exactly that text (how redaction writes back). An object's key (`KeyOf`) is renamed
    by the write, deepest first: its text is then the mask, under its new name."""
    slots = dialect.prompt_slots(body)
    for slot in slots:
        assert isinstance(slot.text, str)
        assert get_path(body, slot.path) == slot.text
    values = [s for s in slots if not isinstance(s.path[-1], KeyOf)]
    masked = copy.deepcopy(body)
    for slot in sorted(slots, key=lambda s: write_order(s.path)):
        set_path(masked, slot.path, "[M]")
    assert {s.text for s in dialect.prompt_slots(masked)} <= {"[M]"}
    masked = copy.deepcopy(body)
    for slot in values:
        set_path(masked, slot.path, "[M]")
    assert all(get_path(masked, s.path) == "[M]" for s in values)
    assert [s for s in dialect.prompt_slots(masked) if not isinstance(s.path[-1], KeyOf)] == [
        type(s)(s.path, s.role, "[M]") for s in values]


@FUZZ
@given(BODIES)
def test_every_chat_content_part_is_read_or_named_unread(body: dict[str, Any]) -> None:
    """Nothing reaches the model unread by accident: each message's content is a slot, or each of
    its parts is (or holds) one, or is named among the places guard cannot read."""
    slots = [s.path for s in CHAT.prompt_slots(body)]
    unread = CHAT.unread(body)
    for i, message in enumerate(list_at(body, "messages")):
        content = message.get("content") if isinstance(message, dict) else None
        parts = list(enumerate(content)) if isinstance(content, list) else []
        if content is None or (not parts and isinstance(content, list)):
            continue
        if not parts:
            here = ("messages", i, "content")
            assert (here in slots) != any(u.startswith(f"messages[{i}].content ") for u in unread)
        for j, _ in parts:
            read = any(path[:4] == ("messages", i, "content", j) for path in slots)
            named = any(u.startswith(f"messages[{i}].content[{j}] ") for u in unread)
            assert read != named, (content[j], unread)


@FUZZ
@given(BODIES)
def test_every_completions_prompt_is_read_or_named_unread(body: dict[str, Any]) -> None:
    """A legacy prompt is read (a string, or strings in a list) or named unread (token ids)."""
    prompt = body.get("prompt")
    read = [s.path for s in COMPLETIONS.prompt_slots(body) if s.path[0] == "prompt"]
    unread = [place for place in COMPLETIONS.unread(body) if place.startswith(("prompt ", "prompt["))]
    if isinstance(prompt, str):
        assert read == [("prompt",)] and unread == []
    elif isinstance(prompt, list) and prompt and all(isinstance(p, int) for p in prompt):
        assert read == [] and unread == ["prompt (token ids)"]
    elif isinstance(prompt, list):
        assert len(read) + len(unread) == len(prompt)
    else:
        assert read == [] and len(unread) == (prompt is not None)


@FUZZ
@given(BODIES, st.sampled_from(DIALECT_LIST))
def test_completion_slots_point_at_their_text(body: dict[str, Any], dialect: Any) -> None:
    """Every completion slot names the string at its path; a Messages tool call's `input` in
    an answer, an object or a list, is read as its JSON text, as a stream sends it."""
    for slot in dialect.completion_slots(body):
        assert isinstance(slot.text, str)
        value = get_path(body, slot.path)
        if slot.role == "tool_call" and isinstance(value, dict | list):
            assert (dialect, slot.path[-1], json_text(value)) == (MESSAGES, "input", slot.text)
        else:
            assert value == slot.text


@FUZZ
@given(BODIES, st.sampled_from(DIALECT_LIST))
def test_stream_deltas_have_sane_indices(chunk: dict[str, Any], dialect: Any) -> None:
    """Stream deltas carry the text found at their path and a non-negative choice index,
    whatever the upstream put in `index`; only a tool call's `arguments` may be empty (the chunk
    that opens a call carries its id and name with empty arguments, and stays in order with the
    call's text)."""
    for delta in dialect.stream_deltas(chunk):
        assert isinstance(delta.choice, int) and not isinstance(delta.choice, bool)
        assert 0 <= delta.choice < MAX_CHOICE_INDEX
        assert get_path(chunk, delta.path) == delta.text
        assert delta.text or delta.path[-1] == "arguments"


# A choice with text in both dialects' places, to mix among arbitrary ones.
TEXT_CHOICE = st.fixed_dictionaries({
    "index": st.one_of(st.integers(0, 3), JSON), "text": TEXT, "logprobs": JSON,
    "token_ids": JSON, "message": st.fixed_dictionaries({"content": TEXT},
                                     optional={"tool_calls": st.lists(CALL, max_size=2)})})


@FUZZ
@given(st.lists(CHOICE, max_size=3), TEXT_CHOICE, st.integers(0, 3),
       st.sampled_from(CHOICE_DIALECTS))
def test_refusing_a_completion_leaves_no_text_and_no_logprobs(
        choices: list[Any], with_text: dict[str, Any], at: int, dialect: Any) -> None:
    """Refusing any completion never raises; afterwards every text the classifiers read is the
    refusal, and the choices that held text carry no log-probabilities nor token ids (they name
    the tokens)."""
    choices.insert(at, with_text)
    body = {"id": "x", "choices": choices}
    refused = dialect.refuse(copy.deepcopy(body), "REFUSED")
    assert {s.text for s in dialect.completion_slots(refused)} == {"REFUSED"}
    for slot in dialect.completion_slots(refused):
        choice = refused["choices"][slot.path[1]]
        assert choice["finish_reason"] == "content_filter"
        assert choice.get("logprobs") is None and choice.get("token_ids") is None


@FUZZ
@given(RESPONSES_LIKE)
def test_refusing_a_response_leaves_the_refusal_only(body: dict[str, Any]) -> None:
    """A refused Responses API answer has no text left but the refusal, whatever it held."""
    refused = RESPONSES.refuse(copy.deepcopy(body), "REFUSED")
    assert [s.text for s in RESPONSES.completion_slots(refused)] == ["REFUSED"]
    assert refused["status"] == "incomplete"


@FUZZ
@given(MESSAGES_LIKE)
def test_refusing_a_message_leaves_the_refusal_only(body: dict[str, Any]) -> None:
    refused = MESSAGES.refuse(copy.deepcopy(body), "REFUSED")
    assert [s.text for s in MESSAGES.completion_slots(refused)] == ["REFUSED"]
    assert refused["stop_reason"] == "refusal"


@FUZZ
@given(st.one_of(RESPONSES_LIKE, MESSAGES_LIKE), st.sampled_from([openai_responses,
                                                                  anthropic_messages]))
def test_texts_a_typed_event_carries_point_at_their_text(event: dict[str, Any],
                                                         api: Any) -> None:
    """Every text an event carries whole is the string at its path (where the stream guard
    writes what the client was shown), with a small non-negative channel key; a delta's text is
    never empty."""
    for (index, sub, _), text in api.whole_texts(event) or ():
        assert get_path(event, text.path) == text.text
        assert 0 <= index < MAX_INDEX and 0 <= sub < MAX_INDEX
    found = api.delta_key(event)
    if found is not None:
        assert found[1]
        assert 0 <= found[0][0] < MAX_INDEX and 0 <= found[0][1] < MAX_INDEX


# -- SSE -----------------------------------------------------------------------------------------

SSE_PIECES = st.lists(st.one_of(
    st.sampled_from([b"data: ", b"event: x", b"\n", b"\r", b"\r\n", b"\n\n", b"\r\n\r\n", b"\r\r",
                     b"\xef\xbb\xbf", b"\n\r\n", b"\r\n\r",
                     b":", b" ", b"[DONE]", b'{"choices": []}', b"id: 1", b"\xff", b"\xc3"]),
    st.binary(max_size=12)), max_size=30).map(b"".join)


def parse_all(data: bytes, cuts: list[int], limit: int = 1 << 20) -> list[tuple[bytes, Any, Any]]:
    parser = SSEParser(limit)
    events = []
    previous = 0
    for cut in [*sorted(cuts), len(data)]:
        events += parser.feed(data[previous:cut])
        previous = cut
    tail = parser.close()
    events += [tail] if tail is not None else []
    return [(e.raw, e.data, e.event) for e in events]


@FUZZ
@given(SSE_PIECES, st.data())
def test_sse_any_split_yields_the_same_events(data: bytes, draw: st.DataObject) -> None:
    """However a byte stream is cut into chunks, the parser yields the same events, and their raw
    bytes concatenate back to the input exactly (less a byte order mark opening the stream)."""
    cuts = draw.draw(st.lists(st.integers(0, len(data)), max_size=8))
    whole = parse_all(data, [])
    split = parse_all(data, cuts)
    assert split == whole
    assert b"".join(raw for raw, _, _ in whole) == data.removeprefix(b"\xef\xbb\xbf")
    bytewise = parse_all(data, list(range(len(data))))
    assert bytewise == whole


@FUZZ
@given(SSE_PIECES)
def test_sse_one_line_shortcut_reads_events_as_the_line_parser_does(data: bytes) -> None:
    """The shortcut for events of one `data: ` line gives what reading them line by line gives."""
    raws = [raw for raw, _, _ in parse_all(data, [])]
    raws += [b"data: " + raw for raw in raws]  # more events that take the shortcut, or nearly
    for raw in raws:
        fast, lines = parse_event(raw), parse_lines(raw)
        assert (fast.raw, fast.data, fast.event) == (lines.raw, lines.data, lines.event)


@FUZZ
@given(SSE_PIECES, st.integers(1, 64))
def test_sse_buffer_is_bounded(data: bytes, step: int) -> None:
    """With a small max_event_bytes the parser either keeps up or raises UpstreamError (502); its
    buffer never holds more than the limit plus one chunk."""
    parser = SSEParser(16)
    try:
        for i in range(0, len(data), step):
            parser.feed(data[i:i + step])
            assert len(parser._buf) <= 16
    except UpstreamError as exc:
        assert exc.status == 502 and exc.code == "upstream_protocol_error"


# -- text normalisation --------------------------------------------------------------------------

@FUZZ
@given(st.one_of(st.text(max_size=80), TEXT), st.booleans())
def test_normalize_maps_every_character_back(text: str, leet: bool) -> None:
    """Any Unicode text: the normal form has no invisible or look-alike characters left, and every
    span of it maps back to an ordered range inside the original."""
    norm = normalize(text, leet=leet)
    assert not any(ord(c) in INVISIBLE for c in norm.text)
    assert not any(c in CONFUSABLES for c in norm.text)
    if norm.starts is not None and norm.ends is not None:
        assert len(norm.starts) == len(norm.ends) == len(norm.text)
        assert list(norm.starts) == sorted(norm.starts)
        assert all(0 <= s < e <= len(text) for s, e in zip(norm.starts, norm.ends, strict=True))
    for start in range(len(norm.text) + 1):
        for end in (start, min(len(norm.text), start + 3), len(norm.text)):
            a, b = norm.original_span(start, end)
            assert 0 <= a <= b <= len(text)


@pytest.mark.parametrize("dialect", DIALECT_LIST, ids=lambda d: d.route)
def test_adapters_take_the_hostile_upstream_chunks(dialect: Any) -> None:
    """The chunk shapes guard.hostile_upstream sends on purpose parse without an exception."""
    from guard.hostile_upstream import WEIRD_CHUNKS

    for payload in WEIRD_CHUNKS:
        chunk = json.loads(json.dumps(payload))
        for delta in dialect.stream_deltas(chunk):
            assert 0 <= delta.choice < MAX_CHOICE_INDEX
        dialect.completion_slots(chunk)
