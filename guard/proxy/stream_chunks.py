"""The chunks of a streamed chat or legacy completion, as the stream guard reads and rewrites
them: whether guard can read a chunk's answer, whether it is plain text (none of the checks can find
anything), which keys an answer may carry, what of a chunk must still go out once its text is taken
out to be held, and a chunk re-emitting released text.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, cast

from guard.proxy.protocols.base import (
    FREE_FORM,
    NOT_TEXT,
    TOKEN_KEYS,
    Delta,
    Path,
    choice_index,
    drop_tokens,
    frame_strings,
    list_at,
    strings,
)
from guard.proxy.protocols.openai_chat import (
    ANSWER_TEXT,
    CALL_KINDS,
    DETAIL_TEXT,
    TRANSCRIPT,
    answer_text,
    transcript,
)
from guard.proxy.stream_window import Channel, Json


def unreadable_answer(choices: Any) -> bool:
    """Whether a chunk holds answer text guard cannot read: choices as an object; a delta's
    text as a list with a part that is not text (a Mistral thinking part), or any other shape
    but a string; an audio transcript but a string; a tool call's arguments or input, or a
    legacy completion's text, given as an object or a list (a client joining text reads a
    list's strings)."""
    if isinstance(choices, dict):  # JavaScript reads `choices[0]` of {"0": ...} all the same
        return True
    items = [choice for choice in choices if isinstance(choice, dict)] \
        if isinstance(choices, list) else []
    if any(isinstance(choice.get("text"), dict | list) for choice in items):  # legacy's text
        return True
    deltas = [delta for choice in items if isinstance(delta := choice.get("delta"), dict)]
    return any(value is not None and answer_text(value) is None
               for delta in deltas for value in (delta.get(key) for key in ANSWER_TEXT)) \
        or any(not isinstance(delta.get("audio"), dict | None)
               or not isinstance(transcript(delta), str | None) for delta in deltas) \
        or any(isinstance(function.get(CALL_KINDS[kind]), dict | list)
               or set(function) - {"name", CALL_KINDS[kind]}  # a key no reader reads
               for delta in deltas for kind, function in _functions(delta)) \
        or any(not isinstance(details, list) or not all(isinstance(d, dict) for d in details)
               for holder in [*deltas, *items]
               if (details := holder.get("reasoning_details")) is not None)


_PLAIN_DELTA = frozenset({"role", "content"})


def plain_chunk(body: Json, choices: Any) -> bool:
    """A chunk of plain text (each choice's content a string, or a legacy text) whose keys are
    all spelled as the API spells them: none of `StreamGuard._unreadable`'s checks can find anything."""
    if type(choices) is not list or not all(key.islower() and key.isascii() for key in body):
        return False
    for choice in choices:
        if type(choice) is not dict or not _BARE_CHOICE.issuperset(choice):
            return False
        delta, text = choice.get("delta"), choice.get("text")
        if text is not None and type(text) is not str:
            return False
        if delta is not None and (type(delta) is not dict or not _PLAIN_DELTA.issuperset(delta)
                                  or any(v is not None and type(v) is not str
                                         for v in delta.values())):
            return False
    return True


def annotated(choices: Any) -> bool:
    return isinstance(choices, list) and any(
        isinstance(choice, dict) and isinstance(choice.get("delta"), dict)
        and choice["delta"].get("annotations") for choice in choices)


def aside_texts(body: Json, choices: Any) -> list[tuple[Path, str]]:
    """The texts of a chunk that no channel carries, each with its path: a delta's citations
    (`annotations`: titles and addresses a client shows as links), and every string of the
    chunk's frame, its keys beside `choices` (`base.frame_strings`: an `error`, which the SDKs
    raise and apps show and log; `usage`, whose counts are numbers; a provider's own fields):
    a compromised upstream's text there reaches the client as the answer's does."""
    found: list[tuple[Path, str]] = []
    if annotated(choices):
        found += [(path, text) for i, choice in enumerate(choices)
                  if isinstance(choice, dict) and isinstance(choice.get("delta"), dict)
                  for path, text in strings(choice["delta"].get("annotations"),
                                            ("choices", i, "delta", "annotations"), NOT_TEXT)]
    return found + frame_strings(body)


def drop_choice_tokens(choices: Any) -> bool:
    """Sets the choices' log-probabilities and token ids to null; whether any had some."""
    dropped = [drop_tokens(choice) for choice in choices] if isinstance(choices, list) else []
    return any(dropped)  # every choice's dropped, not only up to the first


def drop_detail_texts(body: Json) -> bool:
    """Takes the texts out of a chunk's `reasoning_details` (OpenRouter's reasoning as objects,
    sent beside the same text in `reasoning`, which is read): read nowhere, they would reach the
    client unread. Only encrypted ones stay (`type: reasoning.encrypted`, which carry the
    provider's opaque data). Whether any went."""
    dropped = False
    for choice in list_at(body, "choices"):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        for holder in (delta, choice):  # in the delta, or beside it
            details = list_at(holder, "reasoning_details")
            kept = [d for d in details if isinstance(d, dict) and d.get("type") == ENCRYPTED
                    and not any(k in d for k in DETAIL_TEXT)]
            if len(kept) < len(details):
                holder["reasoning_details"] = kept  # type: ignore[index]
                dropped = True
    return dropped


def _functions(delta: Json) -> Iterator[tuple[str, Json]]:
    """A delta's tool calls' functions and custom tools (by kind), and its legacy function call."""
    for call in list_at(delta, "tool_calls"):
        for kind in CALL_KINDS:
            if isinstance(call, dict) and isinstance(call.get(kind), dict):
                yield kind, call[kind]
    if isinstance(delta.get("function_call"), dict):
        yield "function", delta["function_call"]


def indices(choices: list[Any]) -> set[int]:
    return {choice_index(c, i) for i, c in enumerate(choices) if isinstance(c, dict)}


def finishing_choices(choices: Any) -> set[int]:
    if not isinstance(choices, list):
        return set()
    return {choice_index(c, i) for i, c in enumerate(choices)
            if isinstance(c, dict) and c.get("finish_reason") is not None}


def channel_kind(path: Path) -> str:
    """A delta's channel kind, from where its text sits: `text` (legacy completions), `tool` (a
    tool call's arguments), `custom` (a custom tool call's input), `function_call` (a legacy
    function call's), `audio` (a spoken answer's transcript), or the delta's own key (one of
    ANSWER_TEXT: `content`, `refusal`, the reasoning keys)."""
    if len(path) == 3:
        return "text"
    if path[3] == "tool_calls":
        return "custom" if path[5] == "custom" else "tool"
    return str(path[3])


def rechunk(ch: Channel, frame: Json, text: str) -> Json:
    """A chunk re-emitting released text for one channel, with the upstream chunk's fields."""
    choice: Json
    if ch.kind == "text":
        choice = {"index": ch.choice, "text": text, "logprobs": None, "finish_reason": None}
    else:
        delta: Json = (
            {"tool_calls": [{"index": ch.call, "function": {"arguments": text}}]}
            if ch.kind == "tool" else
            {"tool_calls": [{"index": ch.call, "custom": {"input": text}}]}
            if ch.kind == "custom" else {"function_call": {"arguments": text}}
            if ch.kind == "function_call" else {"audio": {"transcript": text}}
            if ch.kind == TRANSCRIPT[0] else {ch.kind: text})
        choice = {"index": ch.choice, "delta": delta, "logprobs": None, "finish_reason": None}
    return {**frame, "choices": [choice]}


# The keys of an answer guard reads (chat, legacy completions): one spelled in another case is
# read by a case-blind client (Go's encoding/json) where guard does not look.
ANSWER_KEYS = frozenset({
    "choices", "index", "delta", "message", "content", "text", "refusal", "reasoning_content",
    "reasoning", "thinking", "tool_calls", "function", "custom", "function_call", "name",
    "arguments", "input", "audio", "transcript", "reasoning_details", "summary", "type",
    "logprobs", "finish_reason"})
ANSWER_FREE_FORM = FREE_FORM | {"arguments", "input"}  # the model's own objects: any spelling
REASONING = ("reasoning_content", "reasoning", "thinking")
CALL_CHANNELS = frozenset({"tool", "custom"})  # channel kinds of a tool call's text
ENCRYPTED = "reasoning.encrypted"  # a reasoning detail holding only the provider's opaque data
# a choice's keys that may go with its held text: its token keys are null here (drop_choice_tokens)
_BARE_CHOICE = frozenset({"index", "delta", "text", "finish_reason", *TOKEN_KEYS})


def text_shell(body: Json, deltas: list[Delta]) -> Json | None:
    """What of a text event must still go out now, its text taken out (role, a tool call's id and
    name, a finish reason, ...); None when the event carries nothing but text."""
    positions = {cast(int, d.path[1]) for d in deltas}  # a choice's position
    kept: list[Any] = []
    for i, choice in enumerate(body.get("choices") or ()):
        if i not in positions:
            kept.append(choice)
        elif not _bare(choice):
            kept.append(_emptied(choice))
    if not kept:
        return None
    shell = copy.copy(body)
    shell["choices"] = kept
    return shell


def _bare(choice: Json) -> bool:
    if set(choice) - _BARE_CHOICE or choice.get("finish_reason") is not None:
        return False
    delta = choice.get("delta")
    if delta is None:
        return True
    if not isinstance(delta, dict):
        return False
    return all(_bare_field(key, value) for key, value in delta.items())


def _bare_field(key: str, value: Any) -> bool:
    """Whether a delta's field holds nothing but text the stream guard re-emits itself."""
    if key == "tool_calls" and isinstance(value, list):
        return all(isinstance(c, dict) and len(set(c) & set(CALL_KINDS)) == 1
                   and set(c) <= {"index", *CALL_KINDS}
                   and all(_bare_function(c[kind], kind) for kind in CALL_KINDS if kind in c)
                   for c in value)
    if key == "function_call":
        return _bare_function(value, "function")
    if key == TRANSCRIPT[0]:
        return _holds_only(value, TRANSCRIPT[1])
    return value is None or (key in ANSWER_TEXT and answer_text(value) is not None)


def _bare_function(function: Any, kind: str) -> bool:
    return _holds_only(function, CALL_KINDS[kind])


def _holds_only(value: Any, key: str) -> bool:
    return isinstance(value, dict) and set(value) <= {key}


def _emptied(choice: Json) -> Json:
    out = copy.deepcopy(choice)
    if "text" in out:
        out["text"] = ""
    delta = out.get("delta")
    if isinstance(delta, dict):
        for key in ANSWER_TEXT:  # the text, and a list of parts whatever they hold
            if isinstance(delta.get(key), (str, list)):
                delta[key] = ""
        for kind, function in _functions(delta):
            if isinstance(function.get(CALL_KINDS[kind]), str):
                function[CALL_KINDS[kind]] = ""
        if isinstance(transcript(delta), str):
            delta[TRANSCRIPT[0]][TRANSCRIPT[1]] = ""
    return out
