"""The stream guard driven directly with synthetic SSE events: hold-back, overlap, cut, redaction.

The exhaustive tests split a completion holding a secret or an e-mail address at every character
boundary into one, two and three chunks.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from guard.classify.normalize import normalize
from guard.errors import UpstreamError
from guard.observability.metrics import Metrics
from guard.proxy import stream_guard
from guard.proxy.protocols import DIALECTS
from guard.proxy.sse import SSEEvent, SSEParser, encode_event, parse_event
from guard.proxy.stream_guard import StreamGuard
from guard.proxy.stream_window import value_start
from guard.types import Action, GuardContext, Mode, Segment, Span, Stage, StreamSettings, Verdict
from tests.unit.proxy.test_stream_guard_inspector import (
    EMAIL,
    SECRET,
    SECRETS,
    ListRecorder,
    PatternClassifier,
    PatternInspector,
    inspector,
)

CHAT = DIALECTS["/v1/chat/completions"]
COMPLETIONS = DIALECTS["/v1/completions"]
CTX = GuardContext(request_id="req-1", route=CHAT.route, model="m", stream=True)
MASK = "[REDACTED:pii:email]"
# a narrower e-mail finder keeps the exhaustive texts short while still longer than the hold-back
SHORT_PII = PatternClassifier("pii", "pii", "pii:email", re.compile(
    r"[A-Za-z0-9._%+-]{1,16}@[A-Za-z0-9-]{1,12}(?:\.[A-Za-z]{2,4}){1,2}"), 39)

SECRET_TEXT = f"Sure, the key is {SECRET} and that is all."
EMAIL_TEXT = f"Write to {EMAIL} for help, or ask the team here."


def frame(**extra: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000,
            "model": "m", "system_fingerprint": None, **extra}


def chat_event(choices: list[dict[str, Any]], **extra: Any) -> SSEEvent:
    return parse_event(encode_event({**frame(**extra), "choices": choices}))


def content(index: int, text: str) -> dict[str, Any]:
    return {"index": index, "delta": {"content": text}, "logprobs": None, "finish_reason": None}


def chat_stream(pieces: Sequence[str], *, n: int = 1, usage: bool = False) -> list[SSEEvent]:
    """What an OpenAI-style server streams: role chunk, one chunk per piece and choice, finish."""
    extra = {"usage": None} if usage else {}
    events = [chat_event([{"index": i, "delta": {"role": "assistant", "content": ""},
                           "logprobs": None, "finish_reason": None} for i in range(n)], **extra)]
    events += [chat_event([content(i, p)], **extra) for p in pieces for i in range(n)]
    events += [chat_event([{"index": i, "delta": {}, "logprobs": None, "finish_reason": "stop"}
                           for i in range(n)], **extra)]
    if usage:
        events.append(parse_event(encode_event({**frame(), "choices": [], "usage": {
            "prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})))
    return [*events, parse_event(b"data: [DONE]\n\n")]


CALLS = {"function": "arguments", "custom": "input"}  # a tool call's kinds, and their text's key


def tool_stream(pieces: Sequence[str], kind: str = "function") -> list[SSEEvent]:
    """A streamed tool call: id and name in the first chunk, arguments in pieces (a custom
    tool's input, for `custom`)."""
    events = [chat_event([{"index": 0, "delta": {"role": "assistant", "content": None},
                           "logprobs": None, "finish_reason": None}])]
    for k, piece in enumerate(pieces):
        call: dict[str, Any] = {"index": 0, kind: {CALLS[kind]: piece}}
        if k == 0:
            call.update(id="call_0", type=kind)
            call[kind]["name"] = "lookup"
        events.append(chat_event([{"index": 0, "delta": {"tool_calls": [call]},
                                   "logprobs": None, "finish_reason": None}]))
    events.append(chat_event([{"index": 0, "delta": {}, "logprobs": None,
                               "finish_reason": "tool_calls"}]))
    return [*events, parse_event(b"data: [DONE]\n\n")]


def completion_stream(pieces: Sequence[str]) -> list[SSEEvent]:
    def event(text: str, finish: str | None) -> SSEEvent:
        return parse_event(encode_event({
            "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]}))
    return [*(event(p, None) for p in pieces), event("", "stop"),
            parse_event(b"data: [DONE]\n\n")]


@dataclass
class Received:
    """What a client made of the guard's output."""

    raw: bytes
    events: list[dict[str, Any]] = field(default_factory=list)
    text: dict[int, str] = field(default_factory=dict)
    args: dict[int, str] = field(default_factory=dict)
    finish: dict[int, str] = field(default_factory=dict)
    done: bool = False


def receive(raw: bytes) -> Received:
    got = Received(raw)
    parser = SSEParser()
    for event in parser.feed(raw):
        assert not got.done, "nothing may follow [DONE]"
        if event.done:
            got.done = True
            continue
        body = orjson.loads(event.data or "")
        got.events.append(body)
        for choice in body.get("choices", []):
            i = choice["index"]
            delta = choice.get("delta", {})
            piece = choice.get("text") if "text" in choice else delta.get("content")
            if isinstance(piece, list):  # content as parts: what a client shows of them
                piece = "".join(str(p.get("text") or p.get("thinking") or "") for p in piece)
            got.text[i] = got.text.get(i, "") + (piece or "")
            for call in delta.get("tool_calls") or ():
                got.args[i] = got.args.get(i, "") + "".join(
                    call.get(kind, {}).get(key) or "" for kind, key in CALLS.items())
            if choice.get("finish_reason"):
                got.finish[i] = choice["finish_reason"]
    assert parser.close() is None
    return got


async def run(events: Sequence[SSEEvent], insp: Any, *, dialect: Any = CHAT,
              recorder: ListRecorder | None = None,
              metrics: Metrics | None = None) -> tuple[Received, StreamGuard]:
    guard = StreamGuard(dialect, insp, CTX, recorder or ListRecorder(), metrics)
    out = bytearray()
    for event in events:
        out += await guard.feed(event)
        if guard.cut:
            break
    else:
        out += await guard.finish()
    return receive(bytes(out)), guard


def splits(text: str, most: int = 3) -> Iterator[list[str]]:
    """`text` cut into 1 to `most` non-empty pieces at every combination of boundaries."""
    for count in range(most):
        for cuts in itertools.combinations(range(1, len(text)), count):
            bounds = (0, *cuts, len(text))
            yield [text[a:b] for a, b in itertools.pairwise(bounds)]


def only(*classifiers: PatternClassifier, **kwargs: Any) -> PatternInspector:
    insp = inspector(**kwargs)
    insp.classifiers = classifiers
    return insp


@pytest.mark.parametrize("check_chars", [1, 8, 64])
async def test_buffered_secret_never_reaches_the_client_at_any_split(check_chars: int) -> None:
    """Buffered: a secret split anywhere into 1-3 chunks is cut before any of it is sent."""
    start = SECRET_TEXT.index(SECRET)
    count = 0
    for pieces in splits(SECRET_TEXT):
        recorder = ListRecorder()
        got, guard = await run(chat_stream(pieces), only(SECRETS, check_chars=check_chars),
                               recorder=recorder)
        assert guard.cut, pieces
        assert SECRET_TEXT[:start].startswith(got.text[0]), pieces
        assert got.finish == {0: "content_filter"} and got.done
        ((kind, details),) = recorder.events
        assert (kind, details["rule"], details["offset"]) == ("stream_cut", "no-secrets", start)
        count += 1
    gaps = len(SECRET_TEXT) - 1
    assert count == 1 + gaps + gaps * (gaps - 1) // 2


@pytest.mark.parametrize("check_chars", [1, 8, 64])
async def test_buffered_email_is_masked_at_any_split(check_chars: int) -> None:
    """Buffered: an e-mail split anywhere into 1-3 chunks comes out as one mask, the rest intact."""
    want = EMAIL_TEXT.replace(EMAIL, MASK)
    for pieces in splits(EMAIL_TEXT):
        got, guard = await run(chat_stream(pieces), only(SHORT_PII, check_chars=check_chars))
        assert not guard.cut
        assert got.text[0] == want, pieces
        assert got.finish == {0: "stop"} and got.done


async def test_optimistic_cuts_at_any_split() -> None:
    """Optimistic: every split of a secret or an e-mail is cut, with the finding's offset."""
    for text, value, classifier in ((SECRET_TEXT, SECRET, SECRETS),
                                    (EMAIL_TEXT, EMAIL, SHORT_PII)):
        for pieces in splits(text):
            recorder = ListRecorder()
            got, guard = await run(chat_stream(pieces),
                                   only(classifier, mode="optimistic", check_chars=8),
                                   recorder=recorder)
            assert guard.cut, pieces
            assert text.startswith(got.text[0])
            assert got.finish == {0: "content_filter"} and got.done
            assert recorder.events[0][1]["offset"] == text.index(value)


async def test_buffered_holds_no_more_than_the_holdback() -> None:
    """Buffered: after each chunk, at most holdback + check_chars - 2 characters are held."""
    text = "a fairly long and harmless answer, " * 6
    insp = only(SECRETS, check_chars=8)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    sent = ""
    received = 0
    for event in chat_stream([text[i:i + 3] for i in range(0, len(text), 3)])[:-2]:
        got = receive(await guard.feed(event))
        sent += got.text.get(0, "")
        received += len((event.json() or {}).get("choices", [{}])[0].get("delta", {}).get(
            "content") or "")
        assert received - len(sent) <= 19 + 8 - 1
    assert len(sent) >= len(text) - 19 - 8


async def test_first_text_is_released_as_soon_as_it_passes_the_holdback() -> None:
    """Buffered: the first check runs once holdback characters arrived, not after a window."""
    guard = StreamGuard(CHAT, only(SECRETS, check_chars=64), CTX, ListRecorder())
    out = b""
    for event in chat_stream(["x" * 19, "y"])[:3]:
        out += await guard.feed(event)
    assert receive(out).text[0] == "x"


@pytest.mark.parametrize("kind", ["function", "custom"])
async def test_redaction_in_tool_call_arguments_keeps_the_call(kind: str) -> None:
    """Tool-call argument deltas (a custom tool's input) are guarded: an e-mail is masked,
    id/name/finish kept."""
    args = orjson.dumps({"to": EMAIL, "subject": "quarterly numbers for the team"}).decode()
    for pieces in splits(args, 2):
        got, _ = await run(tool_stream(pieces, kind), only(SHORT_PII, check_chars=4))
        assert orjson.loads(got.args[0]) == {"to": MASK,
                                             "subject": "quarterly numbers for the team"}
        calls = [c for e in got.events for ch in e["choices"]
                 for c in ch["delta"].get("tool_calls") or ()]
        assert (calls[0]["id"], calls[0][kind]["name"]) == ("call_0", "lookup")
        assert all(set(c) - {"index", "id", "type"} == {kind} for c in calls)
        assert got.finish == {0: "tool_calls"}


@pytest.mark.parametrize("kind", ["function", "custom"])
async def test_secret_in_tool_call_arguments_cuts(kind: str) -> None:
    """A secret in streamed tool-call arguments (a custom tool's input: before, it passed
    unread) cuts the stream before any of it is sent."""
    args = orjson.dumps({"key": SECRET, "note": "rotate it later please, thanks"}).decode()
    got, guard = await run(tool_stream([args[i:i + 5] for i in range(0, len(args), 5)], kind),
                           only(SECRETS))
    assert guard.cut and SECRET[:4] not in got.args.get(0, "")
    assert got.finish == {0: "content_filter"}


async def test_a_tool_call_opened_with_empty_arguments_keeps_its_id_and_name() -> None:
    """OpenAI opens a streamed tool call with its id, name and empty arguments: that chunk reaches
    the client once, before the call's (redacted) arguments."""
    args = orjson.dumps({"to": EMAIL, "subject": "quarterly numbers for the team"}).decode()
    got, _ = await run(tool_stream(["", *(args[i:i + 5] for i in range(0, len(args), 5))]),
                       only(SHORT_PII, check_chars=4))
    calls = [c for e in got.events for ch in e["choices"] for c in ch["delta"].get("tool_calls") or ()]
    assert [(c["id"], c["function"]["name"]) for c in calls if "id" in c] == [("call_0", "lookup")]
    assert "id" in calls[0] and orjson.loads(got.args[0])["to"] == MASK
    assert got.finish == {0: "tool_calls"}


async def test_a_call_opened_with_empty_arguments_sets_no_deadline() -> None:
    """A call opened with empty arguments whose text is slow to come holds nothing: it had left
    an empty piece held, whose deadline, always past, had the relay's wait for the next chunk
    return at once, again and again (a busy loop until the call's text came)."""
    guard = StreamGuard(CHAT, only(SHORT_PII, max_holdback_ms=10), CTX, ListRecorder())
    for event in tool_stream(["", '{"a": 1}'])[:2]:  # the role chunk, the call opened
        await guard.feed(event)
    assert guard.deadline() is None


def two_calls(first: str, second: str, size: int = 5) -> list[SSEEvent]:
    """Two streamed tool calls of one choice, one after the other, each opened by a chunk with
    its id and name."""
    events = [chat_event([{"index": 0, "delta": {"role": "assistant", "content": None},
                           "logprobs": None, "finish_reason": None}])]
    for k, args in enumerate((first, second)):
        events.append(chat_event([{"index": 0, "delta": {"tool_calls": [{
            "index": k, "id": f"call_{k}", "type": "function",
            "function": {"name": "lookup", "arguments": ""}}]}, "logprobs": None,
            "finish_reason": None}]))
        events += [chat_event([{"index": 0, "delta": {"tool_calls": [{
            "index": k, "function": {"arguments": args[i:i + size]}}]}, "logprobs": None,
            "finish_reason": None}]) for i in range(0, len(args), size)]
    events.append(chat_event([{"index": 0, "delta": {}, "logprobs": None,
                               "finish_reason": "tool_calls"}]))
    return [*events, parse_event(b"data: [DONE]\n\n")]


async def test_a_tool_call_opens_after_the_arguments_of_the_one_before() -> None:
    """A client that appends arguments to the call opened last (rather than by index) rebuilds
    both calls: the held arguments of a call go out before the next call's opening chunk."""
    first = orjson.dumps({"query": "weather in Lisbon tomorrow morning"}).decode()
    second = orjson.dumps({"query": "trains from Lisbon to Porto"}).decode()
    got, _ = await run(two_calls(first, second), only(SHORT_PII, check_chars=4))
    rebuilt: list[str] = []
    for event in got.events:
        for choice in event["choices"]:
            for call in choice["delta"].get("tool_calls") or ():
                if "id" in call:
                    rebuilt.append("")
                rebuilt[-1] += call.get("function", {}).get("arguments") or ""
    assert rebuilt == [first, second]


def reasoning_stream(pieces: Sequence[str], key: str = "reasoning_content",
                     answer: str = "The answer is four.") -> list[SSEEvent]:
    """A reasoning model's stream (vLLM, DeepSeek): its reasoning under `key`, then the answer."""
    events = [chat_event([{"index": 0, "delta": {"role": "assistant", "content": ""},
                           "logprobs": None, "finish_reason": None}])]
    events += [chat_event([{"index": 0, "delta": {key: p}, "logprobs": None, "finish_reason": None}])
               for p in pieces]
    return [*events, *chat_stream([answer])[1:]]


def said(got: Received, key: str) -> str:
    """All the text a client received under one delta key."""
    return "".join(ch["delta"].get(key) or "" for e in got.events for ch in e["choices"]
                   if isinstance(ch.get("delta"), dict))


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning", "thinking", "refusal"])
async def test_reasoning_and_refusal_text_are_guarded_like_content(key: str) -> None:
    """A reasoning model's reasoning (and a refusal) reaches the client too: a secret in it, split
    anywhere into two chunks, cuts the stream before any of it is sent; an e-mail is masked and
    re-emitted under the same key, the answer after it intact."""
    start = SECRET_TEXT.index(SECRET)
    for pieces in splits(SECRET_TEXT, 2):
        got, guard = await run(reasoning_stream(pieces, key), only(SECRETS, check_chars=8))
        assert guard.cut and SECRET_TEXT[:start].startswith(said(got, key)), pieces
        assert got.finish == {0: "content_filter"} and not got.text.get(0)
    for pieces in splits(EMAIL_TEXT, 2):
        got, guard = await run(reasoning_stream(pieces, key), only(SHORT_PII))
        assert not guard.cut and said(got, key) == EMAIL_TEXT.replace(EMAIL, MASK), pieces
        assert got.text[0] == "The answer is four." and got.finish == {0: "stop"}


async def test_content_sent_as_text_parts_is_read_and_never_passed_around() -> None:
    """Content as a list of text parts (Mistral) is read like a string: a key split across
    parts and events is cut; a list holding a part that is not text (a thinking part) ends the
    stream rather than pass unread."""
    start = SECRET_TEXT.index(SECRET) + 8
    parts = [{"type": "text", "text": SECRET_TEXT[:start]}, {"type": "text", "text": "x"}]
    events = [chat_stream([])[0],
              chat_event([{"index": 0, "delta": {"content": parts}, "logprobs": None,
                           "finish_reason": None}]),
              chat_event([{"index": 0, "delta": {"content": [
                  {"type": "thinking", "thinking": SECRET}, {"type": "text", "text": "y"}]},
                  "logprobs": None, "finish_reason": None}]),
              chat_event([content(0, SECRET_TEXT[start:])]),
              *chat_stream([])[1:]]
    with pytest.raises(UpstreamError, match="shape guard cannot read"):  # the relay then ends
        await run(events, only(SECRETS))                                 # the stream, 502-style
    events[2:4] = [chat_event([content(0, SECRET_TEXT[start:])])]
    events[1] = chat_event([{"index": 0, "delta": {"content": parts[:1]}, "logprobs": None,
                             "finish_reason": None}])
    got, guard = await run(events, only(SECRETS))
    assert guard.cut and SECRET[:8] not in got.raw.decode()


async def test_arguments_as_an_object_end_the_stream() -> None:
    """Arguments (or a custom tool's input) that are not a string cannot be read as a stream's
    text: the stream ends rather than pass them unread (before, they went out in the chunk)."""
    for kind, key in CALLS.items():
        events = tool_stream(["", "{}"], kind)
        events[2] = chat_event([{"index": 0, "delta": {"tool_calls": [
            {"index": 0, kind: {key: {"key": SECRET}}}]}, "logprobs": None,
            "finish_reason": None}])
        with pytest.raises(UpstreamError, match="shape guard cannot read"):
            await run(events, only(SECRETS))


async def test_reasoning_details_texts_never_reach_the_client_unread() -> None:
    """OpenRouter sends reasoning as objects (`reasoning_details`) beside the same text in
    `reasoning`, which is read: their texts are taken out, in chunks with text and without,
    and the encrypted ones kept (before, the chunk went out with the key in it)."""
    encrypted = {"type": "reasoning.encrypted", "data": "opaque", "index": 1}
    events = [chat_stream([])[0]]
    for piece in (SECRET_TEXT[:20], SECRET_TEXT[20:]):
        events.append(chat_event([{"index": 0, "delta": {"reasoning": piece, "reasoning_details": [
            {"type": "reasoning.text", "text": piece, "index": 0}]}, "logprobs": None,
            "finish_reason": None}]))
    events.append(chat_event([{"index": 0, "delta": {"reasoning_details": [
        {"type": "reasoning.summary", "summary": SECRET}, encrypted]}, "logprobs": None,
        "finish_reason": None}]))
    events += chat_stream(["The answer."])[1:]
    for insp in (only(SECRETS), only(SHORT_PII)):
        got, guard = await run(events, insp)
        assert SECRET not in got.raw.decode()  # the summary's, whole (the reasoning's is split)
        assert guard.cut is (insp.classifiers[0] is SECRETS)
    assert got.text[0] == "The answer." and said(got, "reasoning") == SECRET_TEXT
    assert [d for e in got.events for ch in e["choices"]
            for d in ch["delta"].get("reasoning_details") or ()] == [encrypted]


async def test_legacy_function_call_arguments_are_guarded() -> None:
    """The deprecated `function_call` streams its arguments like a tool call's: a secret cuts."""
    args = orjson.dumps({"key": SECRET, "note": "rotate it later please, thanks"}).decode()
    events = [chat_event([{"index": 0, "delta": {"role": "assistant", "content": None,
                                                 "function_call": {"name": "store", "arguments": ""}},
                           "logprobs": None, "finish_reason": None}])]
    events += [chat_event([{"index": 0, "delta": {"function_call": {"arguments": args[i:i + 5]}},
                            "logprobs": None, "finish_reason": None}]) for i in range(0, len(args), 5)]
    events += chat_stream([])[-2:]
    got, guard = await run(events, only(SECRETS))
    sent = "".join((ch["delta"].get("function_call") or {}).get("arguments") or ""
                   for e in got.events for ch in e["choices"])
    assert guard.cut and SECRET[:4] not in sent
    assert got.finish == {0: "content_filter"}


async def test_legacy_completions_are_guarded() -> None:
    """/v1/completions streams are redacted across chunks like chat."""
    pieces = [EMAIL_TEXT[i:i + 3] for i in range(0, len(EMAIL_TEXT), 3)]
    got, _ = await run(completion_stream(pieces), only(SHORT_PII), dialect=COMPLETIONS)
    assert got.text[0] == EMAIL_TEXT.replace(EMAIL, MASK)
    assert got.finish == {0: "stop"} and got.done
    assert all(e["object"] == "text_completion" and e["id"] == "cmpl-1" for e in got.events)


async def test_each_choice_is_guarded_on_its_own() -> None:
    """With n=2 a value in choice 1 is masked in choice 1 only; indices and ids are kept."""
    clean = "nothing to see in this first answer, only words and more words."
    events = [chat_stream([], n=2)[0]]
    for k in range(0, max(len(clean), len(EMAIL_TEXT)), 4):
        events.append(chat_event([content(0, clean[k:k + 4])]) if clean[k:k + 4] else None)
        events.append(chat_event([content(1, EMAIL_TEXT[k:k + 4])])
                      if EMAIL_TEXT[k:k + 4] else None)
    events = [e for e in events if e is not None] + chat_stream([], n=2)[1:]
    got, _ = await run(events, only(SHORT_PII))
    assert got.text == {0: clean, 1: EMAIL_TEXT.replace(EMAIL, MASK)}
    assert got.finish == {0: "stop", 1: "stop"}
    assert {e["id"] for e in got.events} == {"chatcmpl-abc"}


@pytest.mark.parametrize("again", [1.0, True])
async def test_a_choice_index_written_another_way_is_the_same_choice(again: object) -> None:
    """`1` then `1.0` (or `true`) name one choice to a client (JavaScript's numbers, Python's
    dict keys): a key sent in two halves under them is read whole and cut."""
    start = SECRET_TEXT.index(SECRET) + 10
    events = [chat_stream([], n=2)[0],
              chat_event([content(0, "zero"), content(1, SECRET_TEXT[:start])]),
              chat_event([{"index": again, "delta": {"content": SECRET_TEXT[start:]},
                           "logprobs": None, "finish_reason": None}]),
              *chat_stream([], n=2)[1:]]
    got, guard = await run(events, only(SECRETS))
    assert guard.cut and SECRET not in got.raw.decode()


@dataclass(frozen=True)
class NormalisingPattern(PatternClassifier):
    """A pattern found in the normalised text, as guard's own classifiers find them."""

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        verdicts = []
        for segment in segments:
            norm = normalize(segment.text)
            spans = tuple(Span(*norm.original_span(m.start(), m.end()), self.label)
                          for m in self.pattern.finditer(norm.text))
            labels = frozenset({self.category, self.label}) if spans else frozenset()
            verdicts.append(Verdict(self.name, segment.index, labels, 1.0 if spans else 0.0,
                                    spans))
        return verdicts


NORMALISED_SECRETS = NormalisingPattern(SECRETS.name, SECRETS.category, SECRETS.label,
                                        SECRETS.pattern, SECRETS.max_match_chars)


@pytest.mark.parametrize("pad", ["\u0353" * 30, "\x01" * 30, "\u200b" * 30,
                                 "\u0f73" * 30, "\uff9e" * 30])
async def test_a_key_padded_past_the_holdback_is_still_read_whole(pad: str) -> None:
    """Thirty combining marks, control or zero-width characters after each character stretch a
    key to 1,200 characters, beyond the 320 held back; the classifiers read it without them, and
    the hold-back counts what they read: the stream is cut before the key is out. From a
    re-probe: so do characters NFKC makes marks (Tibetan vowel signs, a half-width voiced sound
    mark), which the count took for letters (the key went out whole at 40 a letter)."""
    padded = "".join(c + pad for c in SECRET)
    text = f"Sure, the key is {padded} and that is all."
    got, guard = await run(chat_stream([text[i:i + 10] for i in range(0, len(text), 10)]),
                           only(NORMALISED_SECRETS))
    sent = "".join(c for c in got.text.get(0, "") if c not in pad)
    assert guard.cut and SECRET[:12] not in sent


async def test_role_usage_and_done_pass_through_untouched() -> None:
    """Role, finish and usage chunks keep their exact bytes; [DONE] ends the output."""
    events = chat_stream([EMAIL_TEXT[:30], EMAIL_TEXT[30:]], usage=True)
    got, _ = await run(events, only(SHORT_PII))
    assert got.raw.startswith(events[0].raw)
    assert got.raw.endswith(events[-3].raw + events[-2].raw + events[-1].raw)
    assert got.events[-1]["usage"]["total_tokens"] == 3


async def test_nothing_to_classify_passes_bytes_exactly() -> None:
    """With no completion classifiers (hold-back 0) the output is the input, byte for byte."""
    events = chat_stream(["a", "b" * 50, SECRET], n=2, usage=True)
    got, guard = await run(events, PatternInspector(rules={}, classifiers=()))
    assert got.raw == b"".join(e.raw for e in events)
    assert guard.passthrough


async def test_unchanged_chunks_keep_their_bytes_when_held() -> None:
    """Buffered with classifiers: chunks released whole and unmasked go out with their bytes."""
    text = "plain words only, nothing here to find at all, just words."
    events = chat_stream(list(text))
    got, _ = await run(events, only(SECRETS, check_chars=4))
    assert got.text[0] == text
    assert got.raw == b"".join(e.raw for e in events)


async def test_shadow_rules_record_but_do_not_change_the_stream() -> None:
    """Shadow rules record a decision once per stream and leave the text as it is."""
    recorder = ListRecorder()
    pieces = [SECRET_TEXT[i:i + 2] for i in range(0, len(SECRET_TEXT), 2)]
    got, guard = await run(chat_stream(pieces), only(SECRETS, shadow=True, check_chars=1),
                           recorder=recorder)
    assert not guard.cut and got.text[0] == SECRET_TEXT
    assert [m.rule for d in recorder.decisions for m in d.matches] == ["no-secrets"]
    assert all(m.mode is Mode.SHADOW for d in recorder.decisions for m in d.matches)


async def test_cut_records_incident_and_metrics() -> None:
    """A cut counts guard_stream_cutoffs_total{rule} and records the decision and the event."""
    metrics = Metrics(CollectorRegistry())
    recorder = ListRecorder()
    pieces = [SECRET_TEXT[i:i + 5] for i in range(0, len(SECRET_TEXT), 5)]
    _, guard = await run(chat_stream(pieces), only(SECRETS), recorder=recorder,
                         metrics=metrics)
    value = metrics.registry.get_sample_value("guard_stream_cutoffs_total",
                                              {"rule": "no-secrets"})
    assert value == 1.0
    assert recorder.decisions[0].action is Action.BLOCK
    assert recorder.events[0][1]["incident_id"] == guard.incident_id == "inc-1"
    assert metrics.registry.get_sample_value("guard_stream_first_token_added_seconds_count") == 1
    assert metrics.registry.get_sample_value("guard_stream_holdback_seconds_count", {}) >= 1


async def test_slow_stream_releases_at_max_holdback() -> None:
    """Buffered: held text goes out at max_holdback_ms (to a word boundary), the rest later."""
    insp = only(SHORT_PII, check_chars=8, max_holdback_ms=60)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    events = chat_stream(["Hello there, frie"])
    assert await guard.feed(events[0]) == events[0].raw
    assert await guard.feed(events[1]) == b""
    deadline = guard.deadline()
    assert deadline is not None and 0.04 < deadline - time.monotonic() <= 0.06
    await asyncio.sleep(deadline - time.monotonic())
    assert receive(await guard.tick()).text[0] == "Hello there, "
    second = guard.deadline()
    assert second is not None and second - deadline == pytest.approx(0.06, abs=0.01)
    await asyncio.sleep(max(0.0, second - time.monotonic()))
    assert await guard.tick() == b""  # a word in progress waits for its end
    assert guard.deadline() is None
    assert receive(await guard.feed(chat_event([content(0, "nd, how")]))).text == {}
    third = guard.deadline()
    assert third is not None and third <= time.monotonic()  # its time has come: looked at once
    assert receive(await guard.tick()).text[0] == "friend, "
    assert receive(await guard.finish()).text[0] == "how"


async def test_a_value_written_slower_than_max_holdback_is_released_whole() -> None:
    """A model writing an address or a key slower than max_holdback_ms (10 tokens a second is
    enough): none of it goes out before it is whole, so it is masked or cut whole (before, most
    of it went out as it waited, "jane.do[REDACTED]"). Text in a script written without spaces
    still goes out as it waits."""
    async def drip(pieces: list[str], insp: Any) -> tuple[str, StreamGuard]:
        guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
        events = chat_stream(pieces)
        out = bytearray(await guard.feed(events[0]))
        for event in events[1:-2]:
            out += await guard.feed(event)
            await asyncio.sleep(0.025)  # past 2 x max_holdback_ms
            out += await guard.tick()
            if guard.cut:
                return receive(bytes(out)).text.get(0, ""), guard
        for event in events[-2:]:
            out += await guard.feed(event)
        out += await guard.finish()
        return receive(bytes(out)).text.get(0, ""), guard

    text = f"Mail {EMAIL} now"
    sent, _ = await drip([text[i:i + 2] for i in range(0, len(text), 2)],
                         only(SHORT_PII, max_holdback_ms=10))
    assert sent == f"Mail {MASK} now"
    secret = f"Key {SECRET} now"
    sent, guard = await drip([secret[i:i + 2] for i in range(0, len(secret), 2)],
                             only(SECRETS, max_holdback_ms=10))
    assert guard.cut and sent == "Key "
    # from a second probe: a value with a character not ASCII in it (a full-width digit, a
    # look-alike letter), or written in groups (a card, a phone number), went out but its end
    card = PatternClassifier("pii", "pii", "pii:card", re.compile(r"\d{4}(?: \d{4}){3}"), 19)
    for number in ("4111 1111 1111 1111", "4111 1111 1111 111\uff14"):
        text = f"Card {number} ok"
        sent, _ = await drip([text[i:i + 2] for i in range(0, len(text), 2)],
                             only(card, max_holdback_ms=10))
        assert sent == "Card [REDACTED:pii:card] ok", sent
    guard = StreamGuard(CHAT, only(SHORT_PII, max_holdback_ms=10), CTX, ListRecorder())
    await guard.feed(chat_stream([])[0])
    await guard.feed(chat_event([content(0, "\u4f60\u597d\u4e16\u754c")]))
    await asyncio.sleep(0.025)
    assert receive(await guard.tick()).text[0] == "\u4f60\u597d\u4e16\u754c"


async def test_slow_stream_text_is_classified_before_release() -> None:
    """A value inside one slow chunk is masked when max_holdback_ms releases it."""
    insp = only(SHORT_PII, max_holdback_ms=20)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    for event in chat_stream([f"mail {EMAIL} now "])[:2]:
        await guard.feed(event)
    await asyncio.sleep(0.03)
    assert receive(await guard.tick()).text[0] == f"mail {MASK} now "


async def test_optimistic_forwards_at_once() -> None:
    """Optimistic: clean chunks go out with their own bytes as they arrive."""
    guard = StreamGuard(CHAT, only(SECRETS, mode="optimistic", check_chars=4), CTX,
                        ListRecorder())
    for event in chat_stream(["plain ", "text ", "here"])[:4]:
        assert await guard.feed(event) == event.raw


def test_settings_default_to_buffered() -> None:
    """An unknown or default mode means buffered, the safe one."""
    for mode in ("buffered", "bogus"):
        insp = inspector()
        insp.stream = StreamSettings(mode=mode)
        assert StreamGuard(CHAT, insp, CTX, ListRecorder()).mode == "buffered"
    assert inspector().holdback_chars(Stage.COMPLETION) == 73


async def test_observers_see_each_new_rule_and_the_decision_aggregates() -> None:
    """Observers (the breaker) see a stream's decisions once per new rule; `decision` sums up."""
    seen: list[tuple[str, ...]] = []
    text = f"{EMAIL} and " + "words " * 30 + f"{SECRET} " + "x" * 40
    guard = StreamGuard(CHAT, inspector(check_chars=1), CTX, ListRecorder(),
                        observers=[lambda ctx, d: seen.append(tuple(m.rule for m in d.matches))])
    for event in chat_stream([text[i:i + 3] for i in range(0, len(text), 3)]):
        await guard.feed(event)
        if guard.cut:
            break
    assert guard.cut
    assert seen[0] == ("mask-pii",) and "no-secrets" in seen[-1] and len(seen) == 2
    assert guard.decision.action is Action.BLOCK
    assert {m.rule for m in guard.decision.matches} == {"no-secrets", "mask-pii"}


async def test_a_value_released_in_two_slow_pieces_is_masked_once() -> None:
    """A slow stream: the start of an address goes out at max_holdback_ms, unclassified as a
    value yet, the rest once it is found; its mask is written once, not once per release."""
    insp = only(SHORT_PII, check_chars=4, max_holdback_ms=30)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    text = "mail john.doe@example.com ok end"
    events = chat_stream([text[i:i + 3] for i in range(0, len(text), 3)])
    out = await guard.feed(events[0])
    for event in events[1:-2]:
        out += await guard.feed(event)
        await asyncio.sleep(0.04)
        out += await guard.tick()
    for event in events[-2:]:
        out += await guard.feed(event)
    out += await guard.finish()
    said = receive(out).text[0]
    assert said.count("[REDACTED:pii:email]") == 1 and said.endswith(" ok end"), said


async def test_more_choices_than_asked_for_end_the_stream() -> None:
    """From a probe: with n=1, an upstream sending choice 0, then 1, then 2 had each read apart,
    while a client printing each chunk's first choice joined them into the key."""
    pieces = [f"key {SECRET[:8]}", SECRET[8:14], SECRET[14:]]
    events = [chat_stream([])[0], *(chat_event([content(i, p)]) for i, p in enumerate(pieces)),
              *chat_stream([])[-2:]]
    guard = StreamGuard(CHAT, only(SECRETS), CTX, ListRecorder())
    guard.choices_asked = 1
    out = b""
    with pytest.raises(UpstreamError, match="more choices than the request asked for"):
        for event in events:
            out += await guard.feed(event)
    assert SECRET[8:14] not in out.decode()
    guard = StreamGuard(CHAT, only(SECRETS), CTX, ListRecorder())
    guard.choices_asked = 2  # n=2: two choices are what was asked for
    for event in chat_stream(["a", "b"], n=2):
        await guard.feed(event)
    assert not guard.cut and CHAT.choices_asked({"n": 2}) == 2
    # as a lenient upstream reads `n` (from a second probe: 1.0, "1", true turned the check off)
    assert [CHAT.choices_asked({"n": n}) for n in (1.0, "1", True, " 2 ")] == [1, 1, 1, 2]
    assert CHAT.choices_asked({}) == 1 and CHAT.choices_asked({"n": "two"}) is None
    assert COMPLETIONS.choices_asked({"prompt": ["a", "b", "c"], "n": 2}) == 6
    assert COMPLETIONS.choices_asked({"prompt": [1, 2, 3]}) == 1


async def test_a_choice_index_past_127_is_its_own_not_its_position() -> None:
    """Index 200 beside choice 0 in a stream that asked for one choice had been read as the
    choice at its position (0): its text joined choice 0's, which a client shows apart. It is
    choice 200, more than asked for; asked for 300 (a legacy list of 300 prompts), it is
    read apart."""
    guard = StreamGuard(CHAT, only(SECRETS), CTX, ListRecorder())
    guard.choices_asked = 1
    with pytest.raises(UpstreamError, match="more choices than the request asked for"):
        await guard.feed(chat_event([content(200, SECRET)]))
    guard = StreamGuard(COMPLETIONS, only(SECRETS), CTX, ListRecorder())
    guard.choices_asked = 300
    out = b""
    for i, piece in ((0, "ok "), (200, "done "), (0, "fine"), (200, "here")):
        out += await guard.feed(chat_event([{"index": i, "text": piece, "finish_reason": None}]))
    out += await guard.feed(chat_event([{"index": i, "text": "", "finish_reason": "stop"}
                                        for i in (0, 200)]))
    got = receive(out + await guard.feed(parse_event(b"data: [DONE]\n\n")))
    assert got.text == {0: "ok fine", 200: "done here"} and got.finish == {0: "stop", 200: "stop"}


@pytest.mark.parametrize("chunk", [
    {"choices": {"0": {"index": 0, "delta": {"content": SECRET}}}},  # JavaScript reads choices[0]
    {"choices": [{"index": 0, "text": [SECRET], "finish_reason": None}]},  # legacy, joined by +=
])
async def test_choices_or_text_in_a_shape_guard_cannot_read_end_the_stream(
        chunk: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError, match="shape guard cannot read"):
        await run([parse_event(encode_event({**frame(), **chunk}))], only(SECRETS))


async def test_a_frame_string_is_read_once_a_stream_and_its_mask_reused() -> None:
    """A chunk's keys beside `choices` with a request id new each chunk and the same address:
    each string is read once (the whole frame was read again each chunk the id changed), and
    the address is masked in every chunk it comes in, read or not."""
    note = f"write to {EMAIL}"
    events = [chat_event([content(0, f"w{n} ")], x_foo={"id": f"req_{n}f3a", "note": note})
              for n in range(20)]
    insp = inspector()
    got, _ = await run([*events, parse_event(b"data: [DONE]\n\n")], insp)
    assert got.text == {0: "".join(f"w{n} " for n in range(20))}
    assert [insp.classified.count(text) for text in ("x_foo", "note", note, "req_7f3a")] \
        == [1, 1, 1, 1]
    notes = [e["x_foo"]["note"] for e in got.events if "x_foo" in e]
    assert notes and set(notes) == {f"write to {MASK}"}


async def test_log_probabilities_sent_apart_from_held_text_are_dropped() -> None:
    """From a probe: a chunk of log-probabilities alone went out at once, naming the tokens of
    text held, then cut. Buffered, they are dropped like those of chunks holding text."""
    logprobs = {"content": [{"token": SECRET, "logprob": -0.1, "bytes": None, "top_logprobs": []}]}
    events = chat_stream([f"key {SECRET[:10]}", SECRET[10:]])
    events.insert(2, chat_event([{"index": 0, "delta": {}, "logprobs": logprobs,
                                  "finish_reason": None}]))
    got, guard = await run(events, only(SECRETS))
    assert guard.cut and SECRET not in got.raw.decode()
    got, guard = await run([*chat_stream(["all fine here"])[:2], events[2], *chat_stream([])[1:]],
                           only(SECRETS))
    assert not guard.cut and all(ch.get("logprobs") is None
                                 for e in got.events for ch in e["choices"])


def with_token_ids(events: list[SSEEvent]) -> list[SSEEvent]:
    """A stream as vLLM sends it for `return_token_ids`: each choice's token ids beside its
    text (one id a UTF-8 byte here, as a byte-level vocabulary has them)."""
    out = []
    for event in events:
        body = event.json()
        for choice in body.get("choices", []) if body is not None else ():
            text = choice.get("text") or choice.get("delta", {}).get("content") or ""
            choice["token_ids"] = list(text.encode())
        out.append(event if body is None else parse_event(encode_event(body)))
    return out


def decoded_token_ids(got: Received) -> str:
    return bytes(t for e in got.events for ch in e["choices"]
                 for t in ch.get("token_ids") or ()).decode()


@pytest.mark.parametrize("dialect", [CHAT, COMPLETIONS])
async def test_token_ids_go_with_no_held_text(dialect: Any) -> None:
    """From a probe: vLLM's token ids (`return_token_ids`) of a masked or cut text went out
    unchanged, in the chunk sent while the text was held; a client decoding them read the
    e-mail and the key. They are dropped like log-probabilities."""
    stream = chat_stream if dialect is CHAT else completion_stream
    pieces = [EMAIL_TEXT[i:i + 4] for i in range(0, len(EMAIL_TEXT), 4)]
    got, _ = await run(with_token_ids(stream(pieces)), only(SHORT_PII), dialect=dialect)
    assert got.text[0] == EMAIL_TEXT.replace(EMAIL, MASK) and decoded_token_ids(got) == ""
    got, guard = await run(with_token_ids(stream([f"key {SECRET[:10]}", SECRET[10:]])),
                           only(SECRETS), dialect=dialect)
    assert guard.cut and SECRET[:4] not in got.raw.decode() and decoded_token_ids(got) == ""


async def test_log_probabilities_beside_another_choices_text_are_dropped() -> None:
    """From a probe (n=2): choice 1's log-probabilities, sent in chunks where choice 0 carries
    text, went out untouched while choice 1's text was held and masked; the client joined the
    tokens into the e-mail. Dropped as in a chunk of their own."""
    pieces = [EMAIL_TEXT[i:i + 3] for i in range(0, len(EMAIL_TEXT), 3)]
    events = [chat_stream([], n=2)[0]]
    for piece in pieces:
        logprobs = {"content": [{"token": piece, "logprob": -0.1, "bytes": None,
                                 "top_logprobs": []}]}
        events += [chat_event([content(1, piece)]),
                   chat_event([content(0, "ab "), {"index": 1, "delta": {}, "logprobs": logprobs,
                                                   "finish_reason": None}])]
    events += chat_stream([], n=2)[1:]
    got, _ = await run(events, only(SHORT_PII))
    assert got.text[1] == EMAIL_TEXT.replace(EMAIL, MASK)
    assert got.text[0] == "ab " * len(pieces)
    assert all(ch.get("logprobs") is None for e in got.events for ch in e["choices"])


def spoken(pieces: Sequence[str]) -> list[SSEEvent]:
    """A spoken answer as OpenAI streams it: the audio's id, its transcript in pieces, then its
    data, then the finish."""
    stream = chat_stream([])
    return [chat_event([{"index": 0, "delta": {"role": "assistant", "content": None, "audio": {
                "id": "audio_1", "transcript": ""}}, "finish_reason": None}]),
            *(chat_event([{"index": 0, "delta": {"audio": {"transcript": p}},
                           "finish_reason": None}]) for p in pieces),
            chat_event([{"index": 0, "delta": {"audio": {"data": "UklGRg==", "expires_at": 1}},
                         "finish_reason": None}]), *stream[1:]]


async def test_a_spoken_answers_transcript_is_guarded_like_content() -> None:
    """From a probe: a streamed audio answer's transcript (`delta.audio.transcript`) passed
    unread, though a whole answer's is read: a key went out, an e-mail unmasked. It is a text
    channel of its own; a transcript in another shape ends the stream."""
    pieces = [EMAIL_TEXT[i:i + 5] for i in range(0, len(EMAIL_TEXT), 5)]
    got, _ = await run(spoken(pieces), only(SHORT_PII))
    audio = [ch["delta"]["audio"] for e in got.events for ch in e["choices"]
             if "audio" in ch.get("delta", {})]
    assert "".join(a.get("transcript", "") for a in audio) == EMAIL_TEXT.replace(EMAIL, MASK)
    assert {"id": "audio_1", "transcript": ""} in audio and any("data" in a for a in audio)
    got, guard = await run(spoken([f"key {SECRET[:10]}", SECRET[10:]]), only(SECRETS))
    assert guard.cut and SECRET[:4] not in got.raw.decode()
    with pytest.raises(UpstreamError, match="shape guard cannot read"):
        await run([spoken([])[0], chat_event([{"index": 0, "delta": {"audio": {
            "transcript": [SECRET]}}}])], only(SECRETS))


async def test_reasoning_that_changes_its_key_ends_the_stream() -> None:
    """From a probe: a client keeping one buffer for reasoning under any key joined a key guard
    read in two halves, one under `reasoning_content`, one under `reasoning`. A delta carrying
    the same text under both (as some servers send it) is one."""
    halves = [f"key {SECRET[:10]}", SECRET[10:]]
    events = [chat_stream([])[0],
              chat_event([{"index": 0, "delta": {"reasoning_content": halves[0]}}]),
              chat_event([{"index": 0, "delta": {"reasoning": halves[1]}}]), *chat_stream([])[1:]]
    with pytest.raises(UpstreamError, match="changed the key it comes under"):
        await run(events, only(SECRETS))
    both = [chat_stream([])[0], *(chat_event([{"index": 0, "delta": {
        "reasoning_content": p, "reasoning": p}}]) for p in ("thinking ", "aloud")),
        *chat_stream(["Done."])[1:]]
    got, guard = await run(both, only(SECRETS))
    assert not guard.cut and said(got, "reasoning") == "thinking aloud"


async def test_a_key_spelled_in_another_case_ends_the_stream() -> None:
    """Go's encoding/json reads `Content` as `content`: text there would pass unread."""
    events = [chat_stream([])[0], chat_event([{"index": 0, "delta": {"Content": SECRET}}])]
    with pytest.raises(UpstreamError, match="spelled in another case"):
        await run(events, only(SECRETS))
    args = chat_event([{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"Key": 1}'}}]}}])
    got, guard = await run([chat_stream([])[0], args, *chat_stream([])[1:]], only(SECRETS))
    assert not guard.cut and got.args[0] == '{"Key": 1}'


def call_chunk(index: int, kind: str = "function", **fields: Any) -> SSEEvent:
    return chat_event([{"index": 0, "delta": {"tool_calls": [{"index": index, kind: fields}]},
                        "logprobs": None, "finish_reason": None}])


async def test_a_tool_call_opened_out_of_order_ends_the_stream() -> None:
    """From a second probe: call 2 opened first, then call 0: the SDKs put calls in a list by
    index, so the two halves of a key guard read apart were joined in one call."""
    for kind, key in CALLS.items():
        events = [chat_stream([])[0], call_chunk(2, kind, name="f", **{key: SECRET[:9]}),
                  call_chunk(0, kind, name="f", **{key: SECRET[9:]}), *chat_stream([])[1:]]
        with pytest.raises(UpstreamError, match="tool call opened out of order"):
            await run(events, only(SECRETS))
    in_order = [chat_stream([])[0], call_chunk(0, name="f", arguments="{}"),
                call_chunk(1, name="g", arguments="{}"), call_chunk(0, arguments=""),
                *chat_stream([])[1:]]
    got, guard = await run(in_order, only(SECRETS))
    assert not guard.cut and got.finish == {0: "stop"}


async def test_a_key_no_reader_reads_inside_a_call_ends_the_stream() -> None:
    """From a second probe: `custom.arguments` and `function.input` went out unread."""
    for event in (call_chunk(0, "custom", name="f", arguments=SECRET),
                  call_chunk(0, "function", name="f", input=SECRET)):
        with pytest.raises(UpstreamError, match="shape guard cannot read"):
            await run([chat_stream([])[0], event], only(SECRETS))


@pytest.mark.parametrize("details", [
    {"type": "reasoning.text", "text": SECRET},                   # an object, not a list
    [SECRET],                                                     # a detail as a string
    [[{"type": "reasoning.text", "text": SECRET}]],               # nested
])
async def test_reasoning_details_in_another_shape_never_reach_the_client(details: Any) -> None:
    """From a second probe: each passed unread. An object ends the stream; in a list, what is
    not an encrypted detail is taken out."""
    events = [chat_stream([])[0], chat_event([{"index": 0, "delta": {
        "reasoning_details": details}, "logprobs": None, "finish_reason": None}]),
        *chat_stream(["Done."])[1:]]
    if isinstance(details, dict):
        with pytest.raises(UpstreamError, match="shape guard cannot read"):
            await run(events, only(SHORT_PII))
    else:
        got, _ = await run(events, only(SHORT_PII))
        assert SECRET not in got.raw.decode() and got.text[0] == "Done."


async def test_reasoning_details_beside_the_delta_are_taken_out_too() -> None:
    """From a second probe: details put at the choice's level, beside its delta, passed."""
    events = [chat_stream([])[0], chat_event([{"index": 0, "delta": {}, "reasoning_details": [
        {"type": "reasoning.text", "text": SECRET}], "logprobs": None, "finish_reason": None}]),
        *chat_stream(["Done."])[1:]]
    got, _ = await run(events, only(SHORT_PII))
    assert SECRET not in got.raw.decode() and got.text[0] == "Done."


async def test_a_reasoning_detail_with_text_under_another_key_is_taken_out() -> None:
    """From a second probe: a detail carrying text under `content` kept it; only encrypted
    details stay now."""
    encrypted = {"type": "reasoning.encrypted", "data": "opaque"}
    events = [chat_stream([])[0], chat_event([{"index": 0, "delta": {"reasoning_details": [
        {"type": "reasoning.text", "content": SECRET}, encrypted]}, "logprobs": None,
        "finish_reason": None}]), *chat_stream(["Done."])[1:]]
    got, _ = await run(events, only(SHORT_PII))
    assert SECRET not in got.raw.decode()
    assert [d for e in got.events for ch in e["choices"]
            for d in ch["delta"].get("reasoning_details") or ()] == [encrypted]


async def test_citations_are_read_before_their_chunk_goes_out() -> None:
    """From a second probe: a key in a `url_citation`'s address or title reached the client
    (chat UIs render them as links) in streams and whole answers. A streamed citation is read
    whole as it comes: a key cuts, an address is masked in place."""
    def cited(url: str, title: str) -> SSEEvent:
        return chat_event([{"index": 0, "delta": {"annotations": [{"type": "url_citation",
            "url_citation": {"url": url, "title": title, "start_index": 0, "end_index": 4}}]},
            "logprobs": None, "finish_reason": None}])

    events = [chat_stream([])[0], chat_event([content(0, "See this.")]),
              cited(f"https://example.org/?k={SECRET}", "docs"), *chat_stream([])[1:]]
    got, guard = await run(events, only(SECRETS))
    assert guard.cut and SECRET not in got.raw.decode()
    events[2] = cited("https://example.org/", f"Write to {EMAIL}")
    got, guard = await run(events, only(SHORT_PII))
    titles = [a["url_citation"]["title"] for e in got.events for ch in e["choices"]
              for a in (ch.get("delta") or {}).get("annotations") or ()]
    assert not guard.cut and titles == [f"Write to {MASK}"] and got.text[0] == "See this."
    whole = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "See.",
             "annotations": [{"type": "url_citation", "url_citation": {"title": "cited"}}]}}]}
    assert "cited" in {s.text for s in CHAT.completion_slots(whole)}


@pytest.mark.parametrize("route", ["chat", "completions"])
async def test_text_for_a_finished_choice_ends_the_stream(route: str) -> None:
    """From a probe: a finish flushes the choice's held tail (`Contact jane.doe@exa`); more
    text for it afterwards was taken, so the address's start had gone out unmasked."""
    if route == "chat":
        events = [*chat_stream([f"Contact {EMAIL[:12]}"])[:-1], chat_event([content(0, EMAIL[12:])])]
        dialect = CHAT
    else:
        events = [*completion_stream([f"Contact {EMAIL[:12]}"])[:-1],
                  completion_stream([EMAIL[12:]])[0]]
        dialect = COMPLETIONS
    with pytest.raises(UpstreamError, match="choice it had finished"):
        await run(events, only(SHORT_PII), dialect=dialect)
    got, guard = await run(chat_stream([f"Contact {EMAIL}"]), only(SHORT_PII))
    assert not guard.cut and got.text == {0: f"Contact {MASK}"}


@pytest.mark.parametrize(("text", "held"), [
    ("Card 4111 1111 1111 11", "4111 1111 1111 11"),
    ("Card 4111\t1111\t11", "4111\t1111\t11"),         # from a probe: tabs, line breaks and two
    ("Card 4111\n1111\n", "4111\n1111\n"),             # spaces join a card's groups too (pii
    ("Card 4111  1111  1", "4111  1111  1"),           # reads them), and went out group by group
    ("a\r\n4111\r\n1111", "4111\r\n1111"),
    ("Key AKIA IOSF ODNN 7EXA MP", "AKIA IOSF ODNN 7EXA MP"),  # a key id's groups before a digit
    ("Key AKIA IOSF ", "AKIA IOSF "),
    ("num \u0e51\u0e52\u0e53\u0e54", "\u0e51\u0e52\u0e53\u0e54"),  # Thai digits: not "unspaced"
    ("pay gb82 west 1234 56", "gb82 west 1234 56"),   # from a re-probe: a lower-case IBAN's
    ("pay gb82 west", "gb82 west"),                   # bank code parted its groups
    ("The cat sat", "sat"),
    ("mail jane.do", "jane.do"),
    ("Hello world", "world"),
    ("Hello world ", ""),
    ("A\r\nK\r\nI\r\nA\r\nI\r\nO\r\nS\r\nF\r\nO\r\nD\r\nN\r\nN\r\n7\r\nE\r\nX\r\nA\r\nM\r\nP\r\nL\r\nE",
     "A\r\nK\r\nI\r\nA\r\nI\r\nO\r\nS\r\nF\r\nO\r\nD\r\nN\r\nN\r\n7\r\nE\r\nX\r\nA\r\nM\r\nP\r\nL\r\nE"),
    # from a probe: a column of short figures written slowly was held until the stream ended;
    # only the last 64 characters' groups can belong to a value in progress
    (" ".join(f"w{i}" for i in range(40)), " ".join(f"w{i}" for i in range(24, 40))),
    # from a re-probe: characters normalisation drops ended the word though some are spaces to
    # Python (file separators) or letters of an unspaced script (a Hangul filler, Khmer's
    # invisible vowels), and marks counted toward a value's groups, so such a key or a card
    # written slowly went out letter by letter, or group by group
    ("Key " + "\x1f".join(SECRET), "\x1f".join(SECRET)),
    ("Key " + "\uff9e".join(SECRET), "\uff9e".join(SECRET)),
    # a card's or a key's groups joined by a no-break or other Unicode space, by a line break
    # cut before its line feed, or by a separator with an invisible character in it
    ("Card 4111\xa01111\u202f1111\u30001111", "4111\xa01111\u202f1111\u30001111"),
    # an Ogham space mark or a Braille blank, which NFKC keeps and normalisation reads as a space
    ("Card 4111\u16801111\u16801111", "4111\u16801111\u16801111"),
    ("Card 4111\u28001111 1111", "4111\u28001111 1111"),
    # a key id's groups a line, the lines broken by NEL or a line or paragraph separator
    *[("Key AKIA" + brk + "IOSF" + brk + "ODNN", "AKIA" + brk + "IOSF" + brk + "ODNN")
      for brk in ("\x0b", "\x0c", "\x85", "\u2028", "\u2029")],
    ("Key AKIA\r\nIOSF\r\nODNN\r", "AKIA\r\nIOSF\r\nODNN\r"),
    ("Key AKIA \u200b IOSF\r\u0301\nODNN", "AKIA \u200b IOSF\r\u0301\nODNN"),
    ("Key AKIA\x1f IOSF\x1c\r\nODNN", "AKIA\x1f IOSF\x1c\r\nODNN"),  # a file separator
    # from a re-probe: a key id one character a line with a blank line between (CRLF three
    # times the longest), a Markdown hard break or indentation; four blanks part its characters
    *[("Key " + sep.join("AKIAQZ7XW3JD5R6TLM2P"), sep.join("AKIAQZ7XW3JD5R6TLM2P"))
      for sep in ("\n\n", "\r\n\r\n\r\n", "\u2028\u2028", " \n", "\n ", "\n\t", " \r\n\t")],
    ("Key AKIA\n\nQZ7X\n\n", "AKIA\n\nQZ7X\n\n"),
    ("Key " + "\n   ".join("AKIAQZ7"), "7"),
    # before a separator is no third space (Python's isspace says it is; normalisation drops it)
    ("Key " + "\u3164".join(SECRET), "\u3164".join(SECRET)),
    ("Key " + "\u17b4".join(SECRET), "\u17b4".join(SECRET)),
    ("Card " + " ".join("".join(c + "\u0301" * 5 for c in "4111") for _ in range(4)),
     " ".join("".join(c + "\u0301" * 5 for c in "4111") for _ in range(4))),
    ("Key " + " ".join("".join(c + "\u0301" * 5 for c in g) for g in ("AKIA", "IOSF", "ODNN")),
     " ".join("".join(c + "\u0301" * 5 for c in g) for g in ("AKIA", "IOSF", "ODNN"))),
    # from a re-probe: a reference between a card's digits (`&shy;`, 5 characters read as one
    # the classifiers drop) counted as written, so a slow stream let the first groups out
    *[("Card " + " ".join(pad.join("4111") + pad for _ in range(4)),
       " ".join(pad.join("4111") + pad for _ in range(4))) for pad in ("&shy;", "&#8203;", "%C2%AD")],
])
def test_the_value_in_progress_is_held_whole(text: str, held: str) -> None:
    """What a slow stream holds past 2 x max_holdback_ms (`value_start`): the word in progress
    and the groups of a value written in groups before it."""
    assert text[value_start(text):] == held


@pytest.mark.parametrize(("text", "held"), [
    ("Key ghp_aB3dE5fG7h<!-- ", "ghp_aB3dE5fG7h<!-- "),  # a comment still open
    ("Card 4111 1111<span class=", "4111 1111<span class="),  # a tag still open, after a group
    ("Key AKIAQZ7XW3 <b title=", "AKIAQZ7XW3 <b title="),
    ("Key AKIAQZ7XW3**", "AKIAQZ7XW3**"),  # emphasis or an escape to come
    ("Key ghp_aB3d\\", "ghp_aB3d\\"),
    ("Read the note<!-- --> ", ""),  # a closed comment and a space end the word
    ("if a < b then ", ""),  # no tag
    # a terminal's OSC still open, its title or link parameters spaced; a CSI before its end
    ("Key AKIAQZ7XW3\x1b]0;my window title here ", "AKIAQZ7XW3\x1b]0;my window title here "),
    ("Key AKIAQZ7XW3\x1b]8;id=a b;http://x.example/\x1b", "AKIAQZ7XW3\x1b]8;id=a b;http://x.example/\x1b"),
    ("Key AKIAQZ7XW3\x1b[1 ", "AKIAQZ7XW3\x1b[1 "),
    ("Key AKIAQZ7XW3\x1b", "AKIAQZ7XW3\x1b"),
    ("Set the title\x1b]0;a b\x07 then ", ""),  # a closed OSC and a space end the word
    # past OPEN_TAG_CHARS a tag stays open only with an attribute given a value
    ("Key AKIAQZ7XW3<span title=\"a b c " + "d " * 40, "AKIAQZ7XW3<span title=\"a b c " + "d " * 40),
    ("if x <y and y is positive " + "then add " * 6, ""),
])
def test_markup_still_open_continues_the_word_before_it(text: str, held: str) -> None:
    """From a probe: what an open comment or tag hides may join the word before it to the next
    (`ghp_aB3d<!-- ` then `-->eF5g...`), so a slow stream holds that word with it; its spaces
    had ended the word, and the start of a key went out before the rest came."""
    assert text[value_start(text):] == held


async def written_slowly(insp: PatternInspector, text: str, every: int, finish: bool = True) -> bytes:
    """`text` streamed `every` characters an event, each after 2 x max_holdback_ms (10 ms), the
    guard ticking between them; without `finish`, the finish event and [DONE] are not sent."""
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    events = chat_stream([text[i:i + every] for i in range(0, len(text), every)])
    out = bytearray(await guard.feed(events[0]))
    for event in events[1:] if finish else events[1:-2]:
        out += await guard.feed(event)
        await asyncio.sleep(0.025)  # past 2 x max_holdback_ms
        out += await guard.tick()
    if finish:
        out += await guard.finish()
    return bytes(out)


@pytest.mark.parametrize("osc", ["\x1b]0;my window title here and more\x07",
                                 "\x1b]8;id=a b c d e f;http://x.example/\x1b\\"])
async def test_a_key_split_by_a_spaced_osc_written_slowly_is_cut_before_any_of_it(osc: str) -> None:
    """From a re-probe: an AWS key id with a terminal's OSC inside holding spaces (a window
    title, a link's parameters), streamed three characters an event slower than
    max_holdback_ms, had its first half released as the OSC went on (the client got
    `key AKIAQZ7XW3\x1b]0;my window title here and `); the word before an open OSC now waits
    with it, and the stream is cut before any of the key."""
    from guard.classify.registry import build_classifier
    secrets = build_classifier("s", {"type": "secrets", "decoded": True}).classifier
    insp = only(secrets, max_holdback_ms=10)
    got = receive(await written_slowly(insp, f"key AKIAQZ7XW3{osc}JD5R6TLM2P ok", 3))
    assert got.finish[0] == "content_filter"
    assert "AKIA" not in got.text[0]


@pytest.mark.parametrize("separator", ["\n\n", "\r\n\r\n\r\n", " \n", "\n\t"])
async def test_a_key_one_a_line_with_blank_lines_between_written_slowly_is_cut(separator: str) -> None:
    """From a re-probe: a key id one character a line with a blank line, a hard break or
    indentation between, streamed slower than max_holdback_ms, went out a character at a time
    (the hold read a separator of one blank); the key is now held whole and the stream cut
    before any of it."""
    from guard.classify.registry import build_classifier
    secrets = build_classifier("s", {"type": "secrets"}).classifier
    insp = only(secrets, max_holdback_ms=10)
    got = receive(await written_slowly(insp, f"key:\n{separator.join('AKIAQZ7XW3JD5R6TLM2P')}\nok", 3))
    assert got.finish[0] == "content_filter"
    assert "A" + separator + "K" not in got.text[0]


SLOW_MARKUP = {
    "comment": "<!-- " + "x " * 200 + "-->",
    "style": '<style media="' + "m " * 120 + '">' + "s " * 125 + "</style>",
    "hidden": "<span " + "a " * 120 + "hidden>" + "c " * 120 + "</span>",
    "padded reference": "&#" + "0" * 600 + "74;",
}


@pytest.mark.parametrize("markup", SLOW_MARKUP.values(), ids=SLOW_MARKUP)
async def test_a_key_split_by_markup_longer_than_the_hold_back_written_slowly_is_cut(
        markup: str) -> None:
    """From a probe: markup longer than the hold-back (320) between the halves of a key, written
    slower than max_holdback_ms, had the first half released and the window that read the
    second start inside the markup: the key went through whole (4 of 4). Such a window is read
    after the markup's opening and the value before it (`Channel.lead`)."""
    from guard.classify.registry import build_classifier
    secrets = build_classifier("s", {"type": "secrets", "decoded": True}).classifier
    insp = only(secrets, max_holdback_ms=10)
    key = "AKIAQZ7XW3JD5R6TLM2P"
    second = key[11:] if markup.startswith("&#") else key[10:]  # the reference is the 11th
    got = receive(await written_slowly(insp, f"key {key[:10]}{markup}{second} ok", 40))
    assert got.finish[0] == "content_filter"
    assert second not in got.text[0]


async def test_an_address_split_by_a_long_comment_is_masked_from_the_window_on() -> None:
    """The part of a value a stream still holds is masked though its start went out before
    the markup closed: the address is never shown whole."""
    from guard.classify.registry import build_classifier
    pii = build_classifier("pii", {"type": "pii", "entities": ["email"], "decoded": True}).classifier
    insp = only(pii, max_holdback_ms=10)
    text = "Mail jane.doe<!-- " + "x " * 1500 + "-->@example.com now"
    got, _ = await run(chat_stream([text[i:i + 7] for i in range(0, len(text), 7)]), insp)
    assert got.text[0].startswith("Mail jane.doe<!-- x x ")
    assert got.text[0].endswith("[REDACTED:pii:email] now") and "@example" not in got.text[0]


async def test_prose_with_a_less_than_sign_before_a_letter_is_not_held_as_a_tag() -> None:
    """From a re-probe: `if x <y and y is positive ...` streamed slower than max_holdback_ms was
    held from its "<" as a tag still open until 256 more characters or a "<" or ">" came (1.3 s
    where max_holdback_ms is 0.25 s); past OPEN_TAG_CHARS without an attribute's value, it is
    released as it waits, before the stream ends."""
    from guard.classify.registry import build_classifier
    secrets = build_classifier("s", {"type": "secrets", "decoded": True}).classifier
    insp = only(secrets, max_holdback_ms=10)
    text = "if x <y and y is positive then we add the remaining values and print the total. "
    out = await written_slowly(insp, text, 4, finish=False)
    assert receive(out).text[0].startswith("if x <y and y is positive then we add")


async def test_an_address_with_a_tag_inside_written_slowly_is_masked_whole() -> None:
    """From a probe: a model writing `jane.doe<span class=x></span>@example.com` slower than
    max_holdback_ms let `jane.doe<span ` out as it waited (the tag's space ended the word), so
    the address, read as shown, was never whole in what was held; now the word before an open
    tag waits with it, and the mask covers the address as written, tags included."""
    from guard.classify.registry import build_classifier
    pii = build_classifier("pii", {"type": "pii", "entities": ["email"], "decoded": True}).classifier
    insp = only(pii, max_holdback_ms=10)
    written = "jane.doe<span class=x></span>@example.com"
    out = await written_slowly(insp, f"Mail {written} now", 2)
    assert receive(out).text[0] == "Mail [REDACTED:pii:email] now"


@pytest.mark.parametrize("marks", [1, 20, 63])
async def test_marks_padding_an_answer_make_no_more_checks_nor_hold_more_letters(
        marks: int) -> None:
    """From a re-probe: checks came every `check_chars` characters as sent, each reading a
    hold-back counted in letters, so an answer with 63 marks a letter was read in a window of
    about 20,000 characters for every letter it held (48x the CPU of the same answer plain, a
    character sent; 1.2x now: bench/bench_padded_stream.py). Checks and releases count the
    characters the classifiers read, as the hold-back does."""
    words = " ".join(["plain words of an answer"] * 40)
    plain_insp, padded_insp = inspector(), inspector()
    padded = "".join(c + "\u0301" * marks for c in words)
    plain_got, _ = await run(chat_stream([words[i:i + 4] for i in range(0, len(words), 4)]),
                             plain_insp)
    got, _ = await run(chat_stream([padded[i:i + 4 * (1 + marks)]
                                        for i in range(0, len(padded), 4 * (1 + marks))]),
                           padded_insp)
    assert got.text == {0: padded} and plain_got.text == {0: words}
    assert len(padded_insp.classified) == len(plain_insp.classified)


class WholeTextInspector(PatternInspector):
    """As a policy with a classifier that reads the whole answer (Llama Guard): no hold-back."""

    def holdback_chars(self, stage: Stage) -> int | None:
        return None


class Clock:
    """`time.monotonic` for the stream guard, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize("growth", [0.25, 0.0])
async def test_whole_text_checks_are_spaced_out_as_a_stream_runs(
        growth: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a classifier reading the whole answer, text may wait `recheck_growth` times how long
    the stream had run when it arrived (each check sends it all the answer so far), never less
    than `max_holdback_ms` and never more than 5 s; `recheck_growth: 0` keeps `max_holdback_ms`."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    insp = WholeTextInspector(rules={"secret": ("no-secrets", Action.BLOCK, Mode.ENFORCE)},
                              stream=StreamSettings(max_holdback_ms=250, recheck_growth=growth))
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    events = chat_stream(["Hello "] * 4)
    await guard.feed(events[0])
    waits = []
    for elapsed, event in zip([0.0, 8.0, 100.0], events[1:], strict=False):
        clock.now = 1000.0 + elapsed
        await guard.feed(event)
        deadline = guard.deadline()
        assert deadline is not None
        waits.append(deadline - clock.now)
        clock.now = deadline
        assert receive(await guard.tick()).text[0] == "Hello "
    assert waits == ([0.25, 2.0, 5.0] if growth else [0.25, 0.25, 0.25])


@pytest.mark.parametrize("classifiers", [(), (SECRETS,)], ids=["whole-text only", "with secrets"])
async def test_with_a_whole_text_classifier_a_run_without_spaces_is_not_held_to_the_end(
        classifiers: tuple[PatternClassifier, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """From a re-probe: with a classifier that reads the whole text (a webhook, Llama Guard), a
    word in progress was held with no bound on its length: 2,981 characters of compact JSON
    arguments written over 15 s reached the client at the stream's end, and a model stalling
    25 s mid-word held its text 25 s. Such a classifier judges the text so far, not a value in
    it: a value in progress is held while shorter than the longest finding of the classifiers
    that bound theirs (none here, or 20 characters with the secrets finder), then goes out."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    insp = WholeTextInspector(rules={"secret": ("no-secrets", Action.BLOCK, Mode.ENFORCE)},
                              classifiers=classifiers)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    run = '{"city":"Paris","days":[' + ",".join(f'"day-{n}"' for n in range(40)) + "]}"
    pieces = [run[i:i + 25] for i in range(0, len(run), 25)]
    events = chat_stream(pieces)
    got = b""
    for n, event in enumerate(events[:-2]):  # not the finish, which flushes all
        clock.now = 1000.0 + 0.1 * n
        got += await guard.feed(event)
        deadline = guard.deadline()
        if deadline is not None and deadline <= clock.now + 0.1:
            clock.now = deadline
            got += await guard.tick()
    released = receive(got).text.get(0, "")
    assert len(released) > len(run) // 2 and run.startswith(released)


async def test_a_value_a_check_on_time_finds_past_its_release_is_held_until_it_ends() -> None:
    """A word longer than the longest finding goes out as it waits, up to the text that has
    waited twice max_holdback_ms. A check on time decides on that text alone (a word's start is
    no finding the whole answer has); an address the text after it completes, which it would
    split, is held from its start, and masked whole when it has ended."""
    insp = inspector(check_chars=1000, max_holdback_ms=10)
    guard = StreamGuard(CHAT, insp, CTX, ListRecorder())
    events = chat_stream(["see " + "x" * 80 + "|bob@exa", "mple.com", " done"])
    out = bytearray()
    for event in events[:2]:
        out += await guard.feed(event)
    await asyncio.sleep(0.025)  # the first piece has waited past 2 x max_holdback_ms
    out += await guard.feed(events[2])
    out += await guard.tick()  # the second has not: the release would stop inside the address
    for event in events[3:]:
        out += await guard.feed(event)
    out += await guard.finish()
    got = receive(bytes(out))
    assert got.text[0] == "see " + "x" * 80 + "|[REDACTED:pii:email] done"


async def test_optimistic_check_on_time_leaves_the_word_being_written_to_a_later_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Optimistic: a check on time decides on the text up to its last whole word (a word's start
    is no finding the whole answer has), and the word in progress is read by the next check,
    here on time again once more text has come: a key no space had followed yet is still cut.
    Without more text it waits twice `max_holdback_ms` after its text's last."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    guard = StreamGuard(CHAT, only(SECRETS, mode="optimistic", check_chars=1000,
                                   max_holdback_ms=10), CTX, ListRecorder())
    events = chat_stream(["key AKIAIOSFODNN7EXAMPLE", " and more"])
    for event in events[:2]:
        await guard.feed(event)
    clock.now += 0.015
    await guard.tick()
    assert not guard.cut and guard.deadline() == pytest.approx(1000.02)  # waits for more text, a while
    await guard.feed(events[2])
    deadline = guard.deadline()
    assert deadline is not None and deadline <= clock.now
    assert receive(await guard.tick()).finish == {0: "content_filter"}
    assert guard.cut
