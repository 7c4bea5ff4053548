"""Anthropic's Messages API: `POST /v1/messages`.

A request sends a `system` prompt (a string or text blocks) and `messages` whose content is a
string or a list of blocks: text, tool calls the model made (`tool_use`, its `input` a JSON
object), their results (`tool_result`), thinking, images and documents. An answer returns a list
of content blocks of the same kinds. A stream sends typed events: each block opened
(`content_block_start`), its text in `content_block_delta` events (`text_delta`,
`thinking_delta`, `input_json_delta`), closed (`content_block_stop`); then `message_delta` with
the stop reason, and `message_stop`. `event_stream.MessagesStreamGuard` reads them.

A text sits at a place named by a `Text` (see `openai_responses`): its block's index and its
kind (`text`, `thinking`, `input` for a tool call's arguments, `name`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from guard.proxy.protocols.base import (
    FREE_FORM,
    PROTOCOL_NAMES,
    Continued,
    Delta,
    Dialect,
    Json,
    Key,
    Path,
    Slot,
    Structured,
    Text,
    bad_type_or_index,
    index_of,
    json_text,
    labels_last,
    leaves,
    list_at,
    place,
    strings,
    typed_event,
    unread_in_messages,
    unread_inside,
)

ROUTE = "/v1/messages"
# A block's text, by block type: the key holding it and its kind.
BLOCK_TEXT = {"text": ("text", "text"), "thinking": ("thinking", "thinking")}
# Blocks that hold nothing guard must read: the provider's own opaque data.
OPAQUE = frozenset({"redacted_thinking"})
# Blocks of server tools and MCP that multi-turn traffic sends back, read whole (every string
# but names, ids and opaque data): a call's as the `tool_call` role's; what a tool returned (a
# search result's title and address, a fetched page, a program's output, an MCP tool's output)
# as a tool result's, which the injection model reads.
READ_WHOLE = {
    "web_search_tool_result": "tool", "web_fetch_tool_result": "tool",
    "code_execution_tool_result": "tool", "bash_code_execution_tool_result": "tool",
    "text_editor_code_execution_tool_result": "tool", "search_result": "tool",
    "mcp_tool_use": "tool_call", "mcp_tool_result": "tool",
}
# A stream delta's text, by delta type: the key holding it and its channel's kind.
DELTA_TEXT = {"text_delta": ("text", "text"), "thinking_delta": ("thinking", "thinking"),
              "input_json_delta": ("partial_json", "input")}
# Deltas that carry no text for the client to read (a signature over the thinking, a citation
# pointing into a document the client sent).
NOT_TEXT = frozenset({"signature_delta", "citations_delta"})
# Stream events guard knows that carry no answer text of their own: a block's close, the stop
# reason and usage, the message's end, a keep-alive, an error. Read by their values only (a stop
# sequence the client gave, an error's message, any string an upstream adds), never their keys,
# which are the protocol's names (`index`, `delta`, `usage`): not text a client shows.
ENVELOPES = frozenset({"content_block_stop", "message_delta", "message_stop", "ping", "error"})


def block_texts(block: Any, path: Path, role: str, *, answer: bool = False) -> Iterator[Text]:
    """The texts of one content block (see the readers below). In an `answer`, a block of a
    kind guard has no reading for (a server tool's result, an MCP call) is read whole
    (`base.leaves`)."""
    if not isinstance(block, dict):
        if answer and block is not None:  # a block given as a string, a list: every string
            yield from leaves(block, path, role)
        return
    kind = block.get("type")
    kind = kind if isinstance(kind, str) else ""
    reader = READERS.get(kind)
    if reader is not None:
        yield from reader(block, path, role, answer)
    elif kind in READ_WHOLE:
        yield from leaves(block, path, READ_WHOLE[kind])
    elif answer and kind not in OPAQUE:
        yield from leaves(block, path, role)


def _text(block: Json, path: Path, role: str, answer: bool) -> Iterator[Text]:
    """A text or a thinking block; a text's citations (the documents' words it quotes)."""
    key, named = BLOCK_TEXT[block["type"]]
    if isinstance(block.get(key), str):
        yield Text(0, named, (*path, key), role, block[key])
    elif answer:
        yield from leaves(block.get(key), (*path, key), role)
    if block.get("citations"):
        yield from leaves(block["citations"], (*path, "citations"), role)


def _call(block: Json, path: Path, role: str, answer: bool) -> Iterator[Text]:
    """A tool call: its name, and its input: in an answer, as its JSON text (its numbers too,
    as a stream sends it: `TOOL_INPUT`); in a request, every string in it."""
    if isinstance(block.get("name"), str):
        yield Text(0, "name", (*path, "name"), "tool_call", block["name"])
    given = block.get("input")
    if answer and isinstance(given, dict | list) and given:  # a stream opens it as `{}`
        yield Text(0, "input", (*path, "input"), "tool_call", json_text(given))
        return
    for at, value in strings(given, (*path, "input")):
        yield Text(0, "input", at, "tool_call", value)


def _result(block: Json, path: Path, role: str, answer: bool) -> Iterator[Text]:
    """A tool's result: a string, or blocks."""
    content = block.get("content")
    if isinstance(content, str):
        yield Text(0, "text", (*path, "content"), "tool", content)
    for j, inner in enumerate(content if isinstance(content, list) else []):
        yield from block_texts(inner, (*path, "content", j), "tool", answer=answer)


def _document(block: Json, path: Path, role: str, answer: bool) -> Iterator[Text]:
    """A document given as plain text (every string of its source: text beside `data`, which
    a lenient upstream may read, too), its title and context. In a request, read as a
    document's text, not as the message's sender's: where indirect prompt injection lands."""
    role = role if answer else "document"
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "text" \
            and isinstance(source.get("data"), str):
        yield Text(0, "text", (*path, "source", "data"), role, source["data"])
        yield from (text for text in leaves(source, (*path, "source"), role)
                    if text.path[-1] != "data")
    for key in ("title", "context"):
        if isinstance(block.get(key), str):
            yield Text(0, "text", (*path, key), role, block[key])


READERS: dict[str, Callable[[Json, Path, str, bool], Iterator[Text]]] = {
    "text": _text, "thinking": _text, "tool_use": _call, "server_tool_use": _call,
    "tool_result": _result, "document": _document}


def _unread_block(block: Any, path: Path) -> list[str]:
    kind = block.get("type") if isinstance(block, dict) else None
    kind = kind if isinstance(kind, str) else type(block).__name__
    if kind in BLOCK_TEXT:
        value = block.get(BLOCK_TEXT[kind][0])
        return [] if isinstance(value, str) else [place(path, f"{kind} of {type(value).__name__}")]
    source = block.get("source") if kind == "document" else None
    if kind in READ_WHOLE:
        # the documents and images it holds (a page a web fetch returned may be a PDF or an
        # image): each named as at the top level, a document as plain text read
        return unread_inside(block, path, frozenset({"document", "image"}), _unread_block)
    if kind in OPAQUE or kind in ("tool_use", "server_tool_use") or (
            isinstance(source, dict) and source.get("type") == "text"):
        return []
    if kind == "tool_result":
        return _unread_result(block.get("content"), (*path, "content"))
    return [place(path, kind)]


def _unread_result(content: Any, path: Path) -> list[str]:
    if content is None or isinstance(content, str):
        return []
    if not isinstance(content, list):
        return [place(path, type(content).__name__)]
    return [found for j, inner in enumerate(content) for found in _unread_block(inner, (*path, j))]


# -- requests ------------------------------------------------------------------------------------

def prompt_slots(body: Json) -> list[Slot]:
    system = body.get("system")
    slots = [Slot(("system",), "system", system)] if isinstance(system, str) else []
    for j, block in enumerate(list_at(body, "system")):
        slots.extend(Slot(t.path, "system", t.text) for t in block_texts(block, ("system", j),
                                                                          "system"))
    for i, message in enumerate(list_at(body, "messages")):
        if not isinstance(message, dict):
            continue
        role = "assistant" if message.get("role") == "assistant" else "user"
        content = message.get("content")
        if isinstance(content, str):
            slots.append(Slot(("messages", i, "content"), role, content))
        for j, block in enumerate(list_at(message, "content")):
            slots.extend(Slot(t.path, t.role, t.text)
                         for t in block_texts(block, ("messages", i, "content", j), role))
    return labels_last(slots)


def unread(body: Json) -> list[str]:
    """Images, documents that are not plain text, and blocks of a kind guard does not read."""
    system = body.get("system")
    places = [] if system is None or isinstance(system, str | list) else [
        place(("system",), type(system).__name__)]
    places += [found for j, block in enumerate(list_at(body, "system"))
               for found in _unread_block(block, ("system", j))]
    return places + unread_in_messages(body, _unread_block)


# -- answers -------------------------------------------------------------------------------------

def content_texts(content: Any, path: Path) -> Iterator[tuple[int, Text]]:
    """The texts of an answer's blocks, each with its block's index; of content in another
    shape (an object, a string), every string (a client may read `content[0].text` of
    `{"0": ...}` all the same)."""
    if content is not None and not isinstance(content, list):
        yield from ((0, text) for text in leaves(content, path, "assistant"))
        return
    for j, block in enumerate(content if isinstance(content, list) else []):
        for text in block_texts(block, (*path, j), "assistant", answer=True):
            yield j, text


def continued(body: Json) -> Continued | None:
    """An assistant message last (a prefill): the answer goes on from its text, and clients
    show the two as one reply."""
    messages = list_at(body, "messages")
    last = messages[-1] if messages else None
    if not isinstance(last, dict) or last.get("role") != "assistant":
        return None
    content = last.get("content")
    text = content if isinstance(content, str) else "".join(
        block["text"] for block in list_at(last, "content") if isinstance(block, dict)
        and block.get("type") == "text" and isinstance(block.get("text"), str))
    return Continued((text,), "text", _text_block)


def _text_block(answer: Json, path: Path) -> int | None:
    """0 for a whole answer's text block at `path` (`content[j].text`): one choice."""
    return 0 if len(path) == 3 and path[0] == "content" and path[2] == "text" else None


def completion_slots(body: Json) -> list[Slot]:
    return [Slot(t.path, t.role, t.text) for _, t in content_texts(body.get("content"),
                                                                    ("content",))] \
        + [Slot(t.path, t.role, t.text) for t in usage_texts(body, ())]


def usage_texts(message: Json, path: Path) -> list[Text]:
    """The strings of a message's `usage` (its counts are numbers), keys too but the
    protocol's names, read as the answer's: as a `message_delta`'s are (`whole_texts`)."""
    return [Text(0, f"usage.{t.kind}", t.path, t.role, t.text) for t in leaves(
        message.get("usage"), (*path, "usage"), "assistant", names=PROTOCOL_NAMES)]


def refuse(body: Json, message: str) -> Json:
    """The answer's content replaced by one text block saying `message`, stopped for `refusal`;
    its usage zeros when it holds text."""
    body["content"] = [{"type": "text", "text": message}]
    if usage_texts(body, ()):
        body["usage"] = {"input_tokens": 0, "output_tokens": 0}
    body["stop_reason"] = "refusal"
    body["stop_sequence"] = None
    return body


def completion(message_id: str, model: str, text: str, finish_reason: str,
               choices: int = 1) -> Json:
    """A message refusing with `text` (one: a message has no choices, `choices` is unread)."""
    return refuse({"id": message_id, "type": "message", "role": "assistant", "model": model,
                   "usage": {"input_tokens": 0, "output_tokens": 0}}, text)


# -- streams -------------------------------------------------------------------------------------

def delta_key(event: Json) -> tuple[Key, str] | None:
    """The channel a `content_block_delta` adds text to, and the text."""
    delta = event.get("delta") if event.get("type") == "content_block_delta" else None
    kind = delta.get("type") if isinstance(delta, dict) else None
    if not isinstance(delta, dict) or not isinstance(kind, str) or kind not in DELTA_TEXT:
        return None
    key, named = DELTA_TEXT[kind]
    text = delta.get(key)
    if not isinstance(text, str) or not text:
        return None
    return (0, index_of(event, 0), named), text


def unreadable(event: Json) -> bool:
    """A block delta guard cannot read: text in another shape, or a delta of a type it does not
    know (a client may show it); or an event a client would read otherwise than guard
    (`bad_type_or_index`)."""
    if bad_type_or_index(event):
        return True
    if event.get("type") != "content_block_delta":
        return False
    delta = event.get("delta")
    kind = delta.get("type") if isinstance(delta, dict) else None
    if kind in NOT_TEXT:
        return False
    if not isinstance(delta, dict) or kind not in DELTA_TEXT:
        return True
    value = delta.get(DELTA_TEXT[kind][0])
    return value is not None and not isinstance(value, str)


def whole_texts(event: Json) -> list[tuple[Key, Text]] | None:
    """Texts an event carries whole: an opened block's first text, a message's content and
    its usage's strings (`usage_texts`); the values of the other events guard knows
    (`ENVELOPES`); and every string of an event of another kind (`base.leaves`)."""
    kind = event.get("type")
    index = index_of(event, 0)
    if kind == "content_block_start":
        return [((0, index, t.kind), t) for t in block_texts(
            event.get("content_block"), ("content_block",), "assistant", answer=True)]
    message = event.get("message")
    if kind == "message_start" and isinstance(message, dict):
        return [((0, j, t.kind), t) for j, t in content_texts(message.get("content"),
                                                              ("message", "content"))] \
            + [((0, 0, t.kind), t) for t in usage_texts(message, ("message",))]
    # any other event (a citation delta, a type guard does not know) is read whole
    read = [((0, index, t.kind), t)
            for t in leaves(event, (), "assistant", index,
                            names=PROTOCOL_NAMES if isinstance(kind, str) and kind in ENVELOPES
                            else frozenset())]
    return read or None


def opening_texts(event: Json) -> list[tuple[Key, Path, Json]]:
    """Texts an event opens a block with (`content_block_start`, `message_start`), which later
    deltas extend (a client joins them): each with its channel, its place in the event, and the
    delta event that would have carried it. Guard reads them as the first delta of their text."""
    kind = event.get("type")
    if kind == "content_block_start":
        index = index_of(event, 0)
        found = [(index, t) for t in block_texts(event.get("content_block"), ("content_block",),
                                                 "assistant", answer=True)]
    elif kind == "message_start" and isinstance(event.get("message"), dict):
        found = list(content_texts(event["message"].get("content"), ("message", "content")))
    else:
        return []
    return [((0, index, t.kind), t.path, {"type": "content_block_delta", "index": index,
                                          "delta": {"type": f"{t.kind}_delta", t.kind: t.text}})
            for index, t in found if t.text and t.kind in ("text", "thinking")]


def closes(event: Json) -> int | bool | None:
    """What an event closes: a block (its index), the whole message (True: its end, or an
    error, which held text must not follow), or nothing."""
    kind = event.get("type")
    if kind == "content_block_stop":
        return index_of(event, 0)
    return True if kind in ("message_delta", "message_stop", "error") else None


def with_text(frame: Json, text: str) -> Json:
    """A delta event re-emitting `text` in place of its own."""
    delta = dict(frame["delta"])
    delta[DELTA_TEXT[delta["type"]][0]] = text
    return {**frame, "delta": delta}


def stream_delta(event: Json) -> list[Delta]:
    found = delta_key(event)
    if found is None:
        return []
    return [Delta(0, ("delta", DELTA_TEXT[event["delta"]["type"]][0]), found[1])]


def encode(event: Json) -> bytes:
    return typed_event(event)


def ending(open_blocks: list[int]) -> list[Json]:
    """How a stream stops early: each open block closed, then the message stopped for
    `refusal` (a cut, a kill switch in refuse mode)."""
    return [*({"type": "content_block_stop", "index": i} for i in open_blocks),
            {"type": "message_delta", "delta": {"stop_reason": "refusal", "stop_sequence": None},
             "usage": {"output_tokens": 0}},
            {"type": "message_stop"}]


def refusal_events(model: str, text: str, usage: bool = False, choices: int = 1) -> bytes:
    """A refusal as a stream (its usage is in its events, asked or not: `usage` is unread; one
    message: `choices` is unread)."""
    message = completion(f"msg_guard{time.time_ns():x}", model, text, "refusal")
    opened = {**message, "content": [], "stop_reason": None}
    events: list[Json] = [{"type": "message_start", "message": opened},
              {"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}},
              {"type": "content_block_delta", "index": 0,
               "delta": {"type": "text_delta", "text": text}},
              *ending([0])]
    return b"".join(encode(event) for event in events)


def error_event(message: str, code: str) -> bytes:
    """Anthropic's `error` event (the anthropic SDK raises it), with OpenAI's `code` beside."""
    return encode({"type": "error", "error": {"type": "api_error", "message": message,
                                              "code": code}})


def _input_at(path: Path) -> bool:
    """Whether a whole answer's text at `path` is a tool call's input (`content[j].input`)."""
    return len(path) == 3 and path[0] == "content" and path[2] == "input"


# A tool call's input is JSON, whole (read as its text) and streamed (`input_json_delta`).
TOOL_INPUT = Structured(frozenset({"input"}), _input_at)


MESSAGES = Dialect(
    route=ROUTE,
    prompt_slots=prompt_slots,
    unread=unread,
    completion_slots=completion_slots,
    stream_deltas=stream_delta,
    completion=completion,
    refuse=refuse,
    refusal_events=refusal_events,
    error_event=error_event,
    joins_answer=8,  # a client joins an answer's texts
    continued=continued,
    free_form=FREE_FORM | {"input"},  # a tool call's arguments: the tool's schema's keys
    structured=lambda body: TOOL_INPUT,
)
