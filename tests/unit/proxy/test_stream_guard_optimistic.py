"""Optimistic streams: when the word a text ends in, left unread by a check on time, is read.

From a probe: a chat text ending in a key (a tool call's arguments `{"id": "AKIA..."}`, a choice,
content before a tool call, a legacy completion's choice) waited for more text of its own that
never came, so the key was read only at the answer's end: every character of the next tool call
or choice went out first, and 8 of 8 parallel tool calls' keys reached the client whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from guard.proxy import stream_guard
from guard.proxy.protocols.base import Dialect
from guard.proxy.sse import SSEEvent, encode_event, parse_event
from guard.proxy.stream_guard import StreamGuard
from tests.unit.proxy.test_stream_guard import (
    CHAT,
    COMPLETIONS,
    CTX,
    Clock,
    chat_event,
    content,
    only,
    receive,
    two_calls,
)
from tests.unit.proxy.test_stream_guard_inspector import (
    SECRET,
    SECRETS,
    ListRecorder,
    PatternClassifier,
)

AFTER = "The weather in Paris is mild today, and the forecast says more of the same. "


def optimistic(**kwargs: int) -> StreamGuard:
    return StreamGuard(CHAT, only(SECRETS, mode="optimistic", **kwargs), CTX, ListRecorder())


def two_choices(first: str, second: str) -> list[SSEEvent]:
    """Choice 0's text, then choice 1's, 5 characters a chunk."""
    return [chat_event([content(i, text[k:k + 5])]) for i, text in enumerate((first, second))
            for k in range(0, len(text), 5)]


def content_then_call(text: str, args: str) -> list[SSEEvent]:
    """A choice's content, then a tool call opened after it with its arguments."""
    call = two_calls(args, "")[1:-3]  # call 0 opened, its arguments (not call 1, the finish)
    return [chat_event([content(0, text[k:k + 5])]) for k in range(0, len(text), 5)] + call


def legacy_choices(first: str, second: str) -> list[SSEEvent]:
    """A legacy completion's choices (`n: 2`), one after the other."""
    return [parse_event(encode_event({
        "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": i, "text": text[k:k + 5], "logprobs": None,
                     "finish_reason": None}]}))
        for i, text in enumerate((first, second)) for k in range(0, len(text), 5)]


SHAPES = {
    "tool calls": (CHAT, two_calls(f'{{"id": "{SECRET}"}}', f'{{"note": "{AFTER}"}}')[:-2]),
    "content, then a tool call": (CHAT, content_then_call(f"Calling with {SECRET}",
                                                         f'{{"note": "{AFTER}"}}')),
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_text_beginning_has_the_texts_before_it_read_to_their_end(shape: str) -> None:
    """A text ending in a key, then another text of its choice beginning (the next tool call,
    or a call after the content): the key is read before the next text goes out, and the
    stream is cut with none of it sent."""
    dialect, events = SHAPES[shape]
    guard = StreamGuard(dialect, only(SECRETS, mode="optimistic", check_chars=64), CTX,
                        ListRecorder())
    out = bytearray()
    for event in events:
        out += await guard.feed(event)
        if guard.cut:
            break
    got = receive(bytes(out))
    assert guard.cut and got.done
    shown = [*got.text.values(), *got.args.values()]
    assert any(SECRET in text for text in shown)  # optimistic: the value itself may go out
    assert not any("Paris" in text or "weather" in text for text in shown)


# a block rule on the word (the test policy blocks what is labelled `secret`)
BOMB = PatternClassifier("words", "secret", "secret:word", re.compile(r"\bbomb\b"), 4)


@pytest.mark.parametrize("dialect, events", [
    (CHAT, two_choices("That was a bomb", "Hello") + two_choices("astic speech.", "")),
    (COMPLETIONS, legacy_choices("That was a bomb", "Hello") + legacy_choices("astic speech.", "")),
], ids=["chat", "legacy"])
async def test_another_choice_beginning_ends_no_word_of_this_one(
        dialect: Dialect, events: list[SSEEvent]) -> None:
    """From a re-probe: choices stream interleaved, and choice 1's first text had choice 0's
    word read as ended: "That was a bomb", then choice 1's "Hello", then choice 0's "astic
    speech." cut a harmless answer (`bomb`, blocked, read in "bombastic"). Another choice
    beginning ends no word of this one; the answer goes out whole."""
    guard = StreamGuard(dialect, only(BOMB, mode="optimistic", check_chars=64), CTX,
                        ListRecorder())
    out = bytearray()
    for event in events:
        out += await guard.feed(event)
    out += await guard.finish()
    assert not guard.cut
    assert "bombastic" in "".join(receive(bytes(out)).text.values())


def parallel_calls(keys: Sequence[str]) -> list[SSEEvent]:
    """Tool calls all opened in the first chunk with empty arguments, then each one's arguments
    written after the one before's, 3 characters a chunk."""
    opened = chat_event([{"index": 0, "delta": {"tool_calls": [
        {"index": i, "id": f"call_{i}", "type": "function",
         "function": {"name": "f", "arguments": ""}} for i in range(len(keys))]},
        "logprobs": None, "finish_reason": None}])
    events = [opened]
    for i, key in enumerate(keys):
        args = f'{{"id": "{key}"}}'
        events += [chat_event([{"index": 0, "delta": {"tool_calls": [
            {"index": i, "function": {"arguments": args[k:k + 3]}}]},
            "logprobs": None, "finish_reason": None}]) for k in range(0, len(args), 3)]
    return events


async def test_parallel_tool_calls_opened_at_once_are_read_as_each_next_one_begins() -> None:
    """Eight tool calls opened in one chunk, each with its own key, written one after another:
    the first key is read when the second call's arguments begin (they were opened, empty,
    before), and the stream is cut there: 1 of 8 keys reaches the client, not 8."""
    keys = [SECRET[:-1] + chr(ord("A") + i) for i in range(8)]
    guard = optimistic(check_chars=64)
    out = bytearray()
    for event in parallel_calls(keys):
        out += await guard.feed(event)
        if guard.cut:
            break
    assert guard.cut
    assert sum(key in receive(bytes(out)).args.get(0, "") for key in keys) == 1


async def test_a_word_a_text_ends_in_is_read_once_its_text_has_idled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Choice 0 ends in a key while choice 1 goes on writing (no text begins): a check on time
    leaves the key, the word in progress, unread; once choice 0 has had no text for twice
    `max_holdback_ms` the word is read as ended and the stream cut, not at the answer's end."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    guard = optimistic(check_chars=1000, max_holdback_ms=250)
    events = [chat_event([content(0, "key ")]), chat_event([content(1, "Hi ")]),
              chat_event([content(0, SECRET)])]
    events += [chat_event([content(1, "more ")]) for _ in range(20)]
    start = clock.now
    cut_at = None
    for n, event in enumerate(events):
        clock.now = start + 0.1 * n
        await guard.feed(event)
        deadline = guard.deadline()
        if deadline is not None and deadline <= clock.now + 0.1:
            clock.now = max(clock.now, deadline)
            await guard.tick()
        if guard.cut:
            cut_at = clock.now
            break
    key_arrived = start + 0.2
    assert cut_at is not None
    assert key_arrived + 0.5 <= cut_at <= key_arrived + 0.6  # not before: a slow word goes on


async def test_a_word_read_as_ended_is_not_read_again_until_more_text_comes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A word read as ended that decided nothing leaves no deadline (the stream is not read at
    every tick); more text of its channel sets one again."""
    clock = Clock()
    monkeypatch.setattr(stream_guard, "time", clock)
    guard = optimistic(check_chars=1000, max_holdback_ms=250)
    await guard.feed(chat_event([content(0, "Hello there, gener")]))
    for _ in range(3):
        deadline = guard.deadline()
        if deadline is None:
            break
        clock.now = deadline
        await guard.tick()
    assert not guard.cut and guard.deadline() is None
    await guard.feed(chat_event([content(0, "al Kenobi")]))
    assert guard.deadline() is not None
