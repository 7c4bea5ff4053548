"""OpenAI Responses API: `POST /v1/responses`.

A request sends `instructions` and `input` (a string, or a list of items: messages with content
parts, earlier tool calls and their outputs, reasoning); an answer returns a list of `output`
items of the same kinds. A stream sends typed events (`response.output_text.delta`, ...), each
text once in pieces as deltas and then again whole in the events that close its part, its item
and the response; `event_stream.ResponsesStreamGuard` reads them.

Every text sits in an item, at a place named by a `Text`: its sub-index (a content part's, or a
reasoning summary's) and its kind. The same places key a stream's guarded channels, so the whole
text an event repeats is matched to the deltas that carried it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from guard.proxy.protocols.base import (
    NOT_TEXT,
    PROTOCOL_NAMES,
    Closes,
    Delta,
    Dialect,
    Json,
    Key,
    Path,
    Slot,
    Structured,
    Text,
    asks_json,
    bad_type_or_index,
    holds_text,
    index_of,
    labels_last,
    leaves,
    list_at,
    place,
    typed_event,
    unread_inside,
)
from guard.proxy.protocols.openai_chat import TEXT_PARTS

ROUTE = "/v1/responses"
ROLE_OF_MESSAGE = {"system": "system", "developer": "system", "assistant": "assistant"}
# Content parts whose text the model (or the client) reads, by type, and the key holding it.
PARTS = {**TEXT_PARTS, "summary_text": "text", "reasoning_text": "text"}
# Items other than messages: the fields that hold text, with whose text it is. An item of a type
# not listed here (a computer call's screenshot, a generated image, file search results) holds
# what guard does not read.
ITEM_TEXT: dict[str, dict[str, str]] = {
    "function_call": {"name": "tool_call", "namespace": "tool_call", "arguments": "tool_call"},
    "function_call_output": {"output": "tool"},
    "custom_tool_call": {"name": "tool_call", "input": "tool_call"},
    "custom_tool_call_output": {"output": "tool"},
    "mcp_call": {"name": "tool_call", "server_label": "tool_call", "arguments": "tool_call",
                 "output": "tool", "error": "tool"},
    "mcp_approval_request": {"name": "tool_call", "server_label": "tool_call",
                             "arguments": "tool_call"},
    "mcp_approval_response": {"reason": "user"},
    "local_shell_call_output": {"output": "tool"},
    "reasoning": {},            # its texts are in `summary` and `content` (parts)
    "item_reference": {},       # an item stored upstream: read when it passed through guard
}
# Items of hosted tools (the model's calls, `tool_call`, and what they returned, `tool`) and of
# the provider's own bookkeeping, read whole: every string in them but names, ids and opaque data
# (`base.leaves`). An answer's items of any kind not listed are read so too; a request's are
# refused (a screenshot, a generated image).
READ_WHOLE: dict[str, str] = {
    "web_search_call": "tool_call", "code_interpreter_call": "tool_call",
    "local_shell_call": "tool_call", "shell_call": "tool_call", "apply_patch_call": "tool_call",
    "tool_search_call": "tool_call", "program": "tool_call", "additional_tools": "tool_call",
    "mcp_list_tools": "tool_call", "file_search_call": "tool", "shell_call_output": "tool",
    "apply_patch_call_output": "tool", "program_output": "tool",
    "compaction": "assistant", "compaction_trigger": "assistant",
}
# Kinds of the texts of a message's parts, by the part's key.
PART_KIND = {"text": "text", "refusal": "refusal"}


def item_texts(item: Any, path: Path, role: str | None = None, *,
               answer: bool = False) -> Iterator[Text]:
    """The texts of one input or output item (a message without `type` included). In an
    `answer`, an item of a kind guard has no reading for is read whole (`base.leaves`)."""
    if not isinstance(item, dict):
        return
    kind = _kind(item)
    if kind == "message":
        speaker = role or ROLE_OF_MESSAGE.get(str(item.get("role")), "user")
        yield from _parts(item.get("content"), (*path, "content"), speaker, PART_KIND, answer)
        return
    if kind == "reasoning":
        yield from _parts(item.get("summary"), (*path, "summary"), "assistant", "summary", answer)
        yield from _parts(item.get("content"), (*path, "content"), "assistant", "reasoning",
                          answer)
        return
    fields = ITEM_TEXT.get(kind)
    if fields is None:
        if kind in READ_WHOLE or answer:
            yield from leaves(item, path, role or READ_WHOLE.get(kind, "tool"))
        return
    for key, owner in fields.items():
        value = item.get(key)
        if isinstance(value, str):
            yield Text(0, key, (*path, key), role or owner, value)
        elif isinstance(value, list) and key == "output":  # a tool's output as parts
            yield from _parts(value, (*path, key), role or owner, "output", answer)
        elif value is not None:  # text in another shape: every string in it
            yield from leaves(value, (*path, key), role or owner)


def _kind(item: Json) -> str:
    """An item's type: `message` for one with a role and no type, "" for a type not a string."""
    kind = item.get("type", "message" if "role" in item else None)
    return kind if isinstance(kind, str) else ""


def _parts(content: Any, path: Path, role: str, kind: dict[str, str] | str,
           answer: bool = False) -> Iterator[Text]:
    """The texts of a list of parts (or of a string standing for one), with their citations
    read whole; in an `answer`, a part guard has no reading for read whole too."""
    if isinstance(content, str):
        yield Text(0, kind if isinstance(kind, str) else "text", path, role, content)
        return
    if answer and content is not None and not isinstance(content, list):  # parts in another
        yield from leaves(content, path, role)                             # shape: every string
        return
    for j, part in enumerate(content if isinstance(content, list) else []):
        key = _text_key(part)
        if key is not None:
            named = kind if isinstance(kind, str) else kind.get(key, key)
            yield Text(j, named, (*path, j, key), role, part[key])
            if isinstance(part, dict) and part.get("annotations"):  # citations sent back too
                yield from leaves(part["annotations"], (*path, j, "annotations"), role, j)
        elif answer:
            yield from leaves(part, (*path, j), role, j)


def _text_key(part: Any) -> str | None:
    kind = part.get("type") if isinstance(part, dict) else None
    key = PARTS.get(kind) if isinstance(kind, str) else None
    return key if key is not None and isinstance(part.get(key), str) else None


# -- requests ------------------------------------------------------------------------------------

def prompt_slots(body: Json) -> list[Slot]:
    slots: list[Slot] = []
    if isinstance(body.get("instructions"), str):
        slots.append(Slot(("instructions",), "system", body["instructions"]))
    text = body.get("input")
    if isinstance(text, str):
        slots.append(Slot(("input",), "user", text))
    for i, item in enumerate(list_at(body, "input")):
        slots.extend(Slot(t.path, t.role, t.text) for t in item_texts(item, ("input", i)))
    variables = body.get("prompt", {}).get("variables") if isinstance(body.get("prompt"),
                                                                       dict) else None
    for name, value in variables.items() if isinstance(variables, dict) else ():
        path: Path = ("prompt", "variables", name)
        if isinstance(value, str):
            slots.append(Slot(path, "user", value))
        elif (key := _text_key(value)) is not None:
            slots.append(Slot((*path, key), "user", value[key]))
    return labels_last(slots)


def unread(body: Json) -> list[str]:
    """What the request sends that is not text: image, file and audio parts, items of a kind
    guard does not read, and content of a shape it does not know. (An answer run in the
    background is read when the client fetches it by id: `proxy.fetch`.)"""
    places = [place((key,), type(body[key]).__name__) for key, shapes in (
        ("input", str | list), ("instructions", str)) if body.get(key) is not None
        and not isinstance(body[key], shapes)]
    for i, item in enumerate(list_at(body, "input")):
        places.extend(_unread_item(item, ("input", i)))
    variables = body.get("prompt", {}).get("variables") if isinstance(body.get("prompt"),
                                                                       dict) else None
    for name, value in variables.items() if isinstance(variables, dict) else ():
        if not isinstance(value, str) and _text_key(value) is None:
            places.append(place(("prompt", "variables", name), _type_name(value)))
    return places


def _unread_item(item: Any, path: Path) -> list[str]:
    if not isinstance(item, dict):
        return [place(path, type(item).__name__)]
    kind = _kind(item)
    if kind == "message":
        return _unread_parts(item.get("content"), (*path, "content"))
    if kind == "reasoning":
        return (_unread_parts(item.get("summary"), (*path, "summary"))
                + _unread_parts(item.get("content"), (*path, "content")))
    if kind in READ_WHOLE:
        return unread_inside(item, path, UNREAD_INSIDE,
                             lambda node, at: [place(at, node["type"])])
    if kind not in ITEM_TEXT:
        return [place(path, kind or "item without a type")]
    output = item.get("output")
    return _unread_parts(output, (*path, "output")) if isinstance(output, list) else []


# What an item read whole may hold that is not text (a code interpreter's image output, an image
# a shell call's output sends back): refused as at the top level.
UNREAD_INSIDE = frozenset({"image", "input_image", "input_file", "input_audio", "file"})


def _unread_parts(content: Any, path: Path) -> list[str]:
    if content is None or isinstance(content, str):
        return []
    if not isinstance(content, list):
        return [place(path, type(content).__name__)]
    return [place((*path, j), _type_name(part)) for j, part in enumerate(content)
            if _text_key(part) is None]


def _type_name(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else type(value).__name__


# -- answers -------------------------------------------------------------------------------------

def output_texts(output: Any, path: Path) -> Iterator[tuple[int, Text]]:
    """The texts of a list of output items, each with its item's index; of output in another
    shape (an object keyed "0", ...), every string (a client may read it all the same)."""
    if output is not None and not isinstance(output, list):
        yield from ((0, text) for text in leaves(output, path, "assistant"))
        return
    for i, item in enumerate(output if isinstance(output, list) else []):
        for text in item_texts(item, (*path, i), _answer_role(item), answer=True):
            yield i, text


def _answer_role(item: Any) -> str | None:
    """In an answer, a message's texts are the assistant's whatever its `role` says, and so
    are those of an item a request sends as the client's words (ECHOED)."""
    kind = item.get("type", "message") if isinstance(item, dict) else None
    return "assistant" if isinstance(kind, str) and kind in ECHOED else None


# Items whose texts are the answer's own, or in a request the client's (a message of any role, an
# MCP approval's `reason`): in an answer, what the upstream wrote (an approval echoed back), read
# as the assistant's. No answer text is the user's (`types.STAGE_ROLES`).
ECHOED = frozenset({"message", "reasoning"} | {
    kind for kind, fields in ITEM_TEXT.items() if "user" in fields.values()})


# A response's keys beside `output` holding text a client shows: vLLM's `output_messages`
# (asked for with `enable_response_messages`: the answer's messages again, in the model's own
# format, harmony's author, channel and content), and a failed response's `error`. The strings
# of its `usage` are read too (its counts are numbers).
BESIDE_OUTPUT = ("output_messages", "error")


def beside_output(response: Json, path: Path) -> Iterator[Text]:
    """The texts of a response's keys BESIDE_OUTPUT and its usage: every string in them but
    names and ids (keys too, but the protocol's names: an error's `message`), each its own
    kind (the key and its dotted path), read as answer text."""
    for key in (*BESIDE_OUTPUT, "usage"):
        for text in leaves(response.get(key), (*path, key), "assistant", names=PROTOCOL_NAMES):
            yield Text(0, f"{key}.{text.kind}", text.path, text.role, text.text)


def completion_slots(body: Json) -> list[Slot]:
    slots = [Slot(t.path, t.role, t.text) for _, t in output_texts(body.get("output"),
                                                                  ("output",))]
    if isinstance(body.get("output_text"), str):  # the SDK's convenience, if a server sends it
        slots.append(Slot(("output_text",), "assistant", body["output_text"]))
    slots.extend(Slot(t.path, t.role, t.text) for t in beside_output(body, ()))
    return slots


def message_item(text: str) -> Json:
    """A message refusing with `text`, as OpenAI shapes a refusal: a `refusal` part, which the
    SDKs' parse helpers leave unparsed (an `output_text` part would be parsed as the answer's
    JSON, and raise a validation error)."""
    return {"type": "message", "id": f"msg_guard{time.time_ns():x}", "status": "completed",
            "role": "assistant", "content": [{"type": "refusal", "refusal": text}]}


def refuse(body: Json, message: str) -> Json:
    """The answer's output replaced by one message refusing with `message` (the texts beside it
    dropped: `output_text`, and BESIDE_OUTPUT set to null): the response is `incomplete` for
    `content_filter`. Its usage is kept (the upstream's), or zeros (`NO_USAGE`) when it holds
    text."""
    body["output"] = [message_item(message)]
    body.pop("output_text", None)
    body.update(dict.fromkeys(key for key in BESIDE_OUTPUT if key in body))
    body["status"] = "incomplete"
    body["incomplete_details"] = {"reason": "content_filter"}
    if not isinstance(body.get("usage"), dict) or holds_text(body["usage"]):
        body["usage"] = dict(NO_USAGE)
    return body


# The usage of an answer guard made (a refusal): nothing read, nothing written.
NO_USAGE = {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 0}


def completion(response_id: str, model: str, text: str, finish_reason: str,
               choices: int = 1) -> Json:
    """A refusal guard answers with instead of the model (a kill switch in refuse mode): a
    `completed` response of one message refusing, so the SDKs' helpers end as on any answer
    (a response has no choices: `choices` is unread)."""
    return {
        "id": response_id, "object": "response", "created_at": int(time.time()), "model": model,
        "status": "completed", "incomplete_details": None, "output": [message_item(text)],
        "error": None, "instructions": None, "metadata": {}, "parallel_tool_calls": True,
        "temperature": None, "tool_choice": "auto", "tools": [], "top_p": None,
        "usage": dict(NO_USAGE),
    }


# -- streams -------------------------------------------------------------------------------------

# Events adding a piece of text, by type, with the kind of text they add.
DELTAS = {
    "response.output_text.delta": "text",
    "response.refusal.delta": "refusal",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_summary_text.delta": "summary",
    "response.function_call_arguments.delta": "arguments",
    "response.custom_tool_call_input.delta": "input",
    "response.mcp_call_arguments.delta": "arguments",
    "response.code_interpreter_call_code.delta": "code",
    "response.shell_call_command.delta": "command",
}
# Events repeating a text whole, by type: its kind and the key holding it.
DONES = {
    "response.output_text.done": ("text", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.reasoning_text.done": ("reasoning", "text"),
    "response.reasoning_summary_text.done": ("summary", "text"),
    "response.function_call_arguments.done": ("arguments", "arguments"),
    "response.custom_tool_call_input.done": ("input", "input"),
    "response.mcp_call_arguments.done": ("arguments", "arguments"),
    "response.code_interpreter_call_code.done": ("code", "code"),
    "response.shell_call_command.done": ("command", "command"),
}
# Events carrying one content part, or one reasoning summary part, whole.
PART_EVENTS = {"response.content_part.added": None, "response.content_part.done": None,
               "response.reasoning_summary_part.added": "summary",
               "response.reasoning_summary_part.done": "summary"}
ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")
# Stream events guard knows that carry no answer text of their own: a hosted tool call's
# progress, an annotation added to a text, an error. Read by their values only (an annotation's
# title and address, an error's message, any string an upstream adds), never their keys, which
# are the protocol's names (`output_index`, `annotation`): not text a client shows.
PROGRESS = {
    "file_search_call": ("in_progress", "searching", "completed"),
    "web_search_call": ("in_progress", "searching", "completed"),
    "image_generation_call": ("in_progress", "generating", "partial_image", "completed"),
    "code_interpreter_call": ("in_progress", "interpreting", "completed"),
    "mcp_call": ("in_progress", "completed", "failed"),
    "mcp_list_tools": ("in_progress", "completed", "failed"),
}
ENVELOPES = frozenset({f"response.{call}.{state}" for call, states in PROGRESS.items()
                       for state in states}
                      | {"response.output_text.annotation.added", "error"})


def sub_index(event: Json) -> int:
    """The part an event is about: a summary's index, else a content part's, else a shell
    call's command's (its command, or its output)."""
    for key in ("summary_index", "content_index", "command_index"):
        if key in event:
            return index_of({"index": event[key]}, 0)
    return 0


def delta_key(event: Json) -> tuple[Key, str] | None:
    """The channel a text delta event adds to, and its text; None for other events. A delta of
    a type guard does not know is read too, keyed by its type; one whose delta is an object
    of one text (a shell call's output, `{"stdout": ...}`: `split_deltas` makes one event of
    each field) is keyed by its type and the field."""
    kind = event.get("type")
    text = event.get("delta")
    if not (isinstance(kind, str) and kind.endswith(".delta")):
        return None
    named = DELTAS.get(kind, kind)
    if isinstance(text, dict) and kind not in DELTAS:
        fields = _delta_texts(text)
        if len(fields) != 1:
            return None
        (field, text), = fields.items()
        named = f"{named}.{field}"
    if not (isinstance(text, str) and text):
        return None
    return (output_index(event), sub_index(event), named), text


def _delta_texts(delta: Json) -> dict[str, str]:
    """The texts of a delta that is an object, by field: its strings but names and ids
    (NOT_TEXT, kept as they are in each event split from it)."""
    return {key: value for key, value in delta.items()
            if isinstance(value, str) and value and key not in NOT_TEXT}


def split_deltas(event: Json) -> list[Json]:
    """A delta event whose delta is an object holding texts in several fields (stdout and
    stderr) as one event for each, which a client joins apart, each field with its own
    pieces; any other event as it is."""
    delta, kind = event.get("delta"), event.get("type")
    if not isinstance(delta, dict) or not isinstance(kind, str) or kind in DELTAS:
        return [event]
    fields = _delta_texts(delta)
    if len(fields) < 2:
        return [event]
    rest = {key: value for key, value in delta.items() if key not in fields}
    return [{**event, "delta": {**rest, field: text}} for field, text in fields.items()]


def with_text(frame: Json, text: str) -> Json:
    """A delta event re-emitting `text` in place of its own (in its object's one text field,
    for a delta that is an object)."""
    delta = frame["delta"]
    if isinstance(delta, dict):
        return {**frame, "delta": {**delta, **dict.fromkeys(_text_field(delta), text)}}
    return {**frame, "delta": text}


def _text_field(delta: Any) -> tuple[str, ...]:
    """Where a delta of one text holds it: the object's one text field, or itself."""
    return tuple(_delta_texts(delta)) if isinstance(delta, dict) else ()


SHELL_OUTPUT = "response.shell_call_output_content.delta"


def apart(kind: str) -> bool:
    """Whether a client keeps each text of `kind` apart, not joined with the others: a shell
    call's commands and each command's output, listed by `command_index` (the commands may run
    at once, their outputs interleaved)."""
    return kind in ("command", SHELL_OUTPUT) or kind.startswith(SHELL_OUTPUT + ".")


def unreadable(event: Json) -> bool:
    """A text delta whose text is in a shape guard cannot read (a client may show it): a
    known delta's not a string; another's neither a string nor an object of strings (text
    nested deeper, or in a list, is not read as pieces a client joins). Or an event a client
    would read otherwise than guard (`bad_type_or_index`)."""
    kind = event.get("type")
    delta = event.get("delta")
    if bad_type_or_index(event) or (kind in DELTAS and not isinstance(delta, str | None)):
        return True
    if not (isinstance(kind, str) and kind.endswith(".delta")) or isinstance(delta, str):
        return False
    nested = [value for key, value in delta.items() if key not in NOT_TEXT
              and not isinstance(value, str)] if isinstance(delta, dict) else [delta]
    return holds_text(nested, frozenset())


def closed_by(event: Json) -> Closes | None:
    """The texts an event of a type guard has no reading for closes: `X.done` those of the
    deltas `X.delta` at its place (each field of an object's, as a shell call's output's),
    which it may repeat in another shape (read whole, `whole_texts`)."""
    kind = event.get("type")
    if not isinstance(kind, str) or not kind.endswith(".done") or kind in DONES:
        return None
    opened = kind.removesuffix(".done") + ".delta"
    at = (output_index(event), sub_index(event))
    return lambda key: key[:2] == at and (key[2] == opened or key[2].startswith(opened + "."))


def output_index(event: Json) -> int:
    return index_of({"index": event.get("output_index")}, 0)


def whole_texts(event: Json) -> list[tuple[Key, Text]] | None:
    """The texts an event repeats whole, each with its channel; None for an event that carries
    none. A response-level event (`response.completed`, ...) repeats them all. Of the other
    events guard knows (`ENVELOPES`), the values are read; an event of a type guard has no
    reading for is read whole (`base.leaves`: a shell command, a citation)."""
    kind = event.get("type")
    kind = kind if isinstance(kind, str) else ""
    oi, sub = output_index(event), sub_index(event)
    if kind in DONES:
        return _done_texts(event, *DONES[kind])
    if kind in PART_EVENTS:
        parts = _parts([event.get("part")], ("part",), "assistant",
                       PART_EVENTS[kind] or PART_KIND, answer=True)
        return [((oi, sub, t.kind), Text(sub, t.kind, t.path[:1] + t.path[2:], t.role, t.text))
                for t in parts]
    if kind in ITEM_EVENTS:
        item = event.get("item")
        return [((oi, t.sub, t.kind), t)
                for t in item_texts(item, ("item",), _answer_role(item), answer=True)]
    response = event.get("response")
    if isinstance(response, dict):
        found = [((i, t.sub, t.kind), t)
                 for i, t in output_texts(response.get("output"), ("response", "output"))]
        if isinstance(response.get("output_text"), str):  # the SDK's join, if a server sends it
            found.append(((0, 0, "output_text"), Text(0, "output_text", ("response",
                          "output_text"), "assistant", response["output_text"])))
        found.extend(((0, 0, t.kind), t) for t in beside_output(response, ("response",)))
        return found
    read = [((oi, sub, t.kind), t)
            for t in leaves(event, (), "assistant", sub,
                            names=PROTOCOL_NAMES if kind in ENVELOPES else frozenset())]
    return read or None


def _done_texts(event: Json, named: str, key: str) -> list[tuple[Key, Text]]:
    """The text of kind `named` an event carries whole under `key` (every string in it, when
    it is not one), with its channel."""
    oi, sub = output_index(event), sub_index(event)
    value = event.get(key)
    if isinstance(value, str):
        return [((oi, sub, named), Text(sub, named, (key,), "assistant", value))]
    return [((oi, sub, t.kind), t) for t in leaves(value, (key,), "assistant", sub)]


# The delta event that extends a text of each kind, and the index naming its part.
DELTA_OF = {
    "text": ("response.output_text.delta", "content_index"),
    "refusal": ("response.refusal.delta", "content_index"),
    "reasoning": ("response.reasoning_text.delta", "content_index"),
    "summary": ("response.reasoning_summary_text.delta", "summary_index"),
    "arguments": ("response.function_call_arguments.delta", None),
    "input": ("response.custom_tool_call_input.delta", None),
    "code": ("response.code_interpreter_call_code.delta", None),
    "command": ("response.shell_call_command.delta", "command_index"),
}


def opening_texts(event: Json) -> list[tuple[Key, Path, Json]]:
    """Texts an event opens an item, a part or a shell call's command with, which later deltas
    extend (a client joins them): each with its channel, its place in the event, and the delta
    event that would have carried it. Guard reads them as the first delta of their text."""
    kind = event.get("type")
    if kind == "response.shell_call_command.added":  # the command's first piece
        item_id, found = event.get("item_id"), _done_texts(event, "command", "command")
    elif kind == "response.output_item.added":
        item = event.get("item")
        item_id = item.get("id") if isinstance(item, dict) else None
        found = [((output_index(event), t.sub, t.kind), t)
                 for t in item_texts(item, ("item",), _answer_role(item), answer=True)]
    elif kind in ("response.content_part.added", "response.reasoning_summary_part.added"):
        item_id, found = event.get("item_id"), whole_texts(event) or []
    else:
        return []
    opened = []
    for key, text in found:
        if not text.text or text.kind not in DELTA_OF:
            continue
        delta_type, part = DELTA_OF[text.kind]
        frame: Json = {"type": delta_type, "output_index": key[0], "delta": text.text}
        if item_id is not None:  # a shell call's command events name none
            frame["item_id"] = item_id
        if part is not None:
            frame[part] = key[1]
        opened.append((key, text.path, frame))
    return opened


def stream_deltas(event: Json) -> list[Delta]:
    deltas = []
    for frame in split_deltas(event):
        found = delta_key(frame)
        if found is not None:
            (index, _, _), text = found
            deltas.append(Delta(index, ("delta", *_text_field(frame["delta"])), text))
    return deltas


def drop_logprobs(event: Json) -> None:
    """Empties the log-probabilities an event carries beside an output text: a delta's or a
    text's close (`response.output_text.delta`, `.done`), and a part's, an item's or the
    response's output text parts. They name the answer's tokens and their alternatives
    (`top_logprobs`), which no classifier reads."""
    parts = [event, event.get("part"), *list_at(event.get("item"), "content")]
    response = event.get("response")
    parts += [part for item in list_at(response, "output") for part in list_at(item, "content")]
    for part in parts:
        if isinstance(part, dict) and part.get("logprobs"):
            part["logprobs"] = []


def encode(event: Json, sequence: int) -> bytes:
    """One typed event as the Responses API streams it, numbered."""
    event["sequence_number"] = sequence
    return typed_event(event)


def refusal_events(model: str, text: str, usage: bool = False, choices: int = 1) -> bytes:
    """A refusal as a stream (a kill switch in refuse mode): the response opened, one message
    refusing with `text` (its `refusal` part), then the response `completed`: the SDKs' stream
    helpers raise on a stream that never completes. Its usage is in the response, asked or not
    (`usage` is unread); one response (`choices` is unread)."""
    response = completion(f"resp_guard{time.time_ns():x}", model, text, "content_filter")
    opened = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[Json] = [{"type": "response.created", "response": opened},
                          *refusal_item_events(response, 0)]
    return b"".join(encode(event, n) for n, event in enumerate(events))


def refusal_item_events(response: Json, index: int) -> list[Json]:
    """The events of a `completed` refusal's message (its output's last item, sent at
    `index`: after the items a client was sent), then the response's completion."""
    item = response["output"][-1]
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    return [
        {"type": "response.output_item.added", "output_index": index,
         "item": {**item, "status": "in_progress", "content": []}},
        {"type": "response.content_part.added", **where, "part": {**part, "refusal": ""}},
        {"type": "response.refusal.delta", **where, "delta": part["refusal"]},
        {"type": "response.refusal.done", **where, "refusal": part["refusal"]},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": index, "item": item},
        {"type": "response.completed", "response": response},
    ]


def error_event(message: str, code: str, sequence: int = 0) -> bytes:
    """A stream's end by error: the Responses API's `error` event; its `error` object also
    makes the openai SDK raise, as it does for the other APIs."""
    error = {"message": message, "type": "server_error", "param": None, "code": code}
    return encode({**error, "type": "error", "error": error}, sequence)


def _arguments_at(path: Path) -> bool:
    """Whether a whole answer's text at `path` is a call's arguments (`output[i].arguments`)."""
    return len(path) == 3 and path[0] == "output" and path[2] == "arguments"


def _text_at(path: Path) -> bool:
    """Whether a whole answer's text at `path` is a message's text (`output[i].content[j].text`,
    or the SDK's `output_text`)."""
    return path == ("output_text",) or (len(path) == 5 and path[0] == "output"
                                        and path[2] == "content" and path[4] == "text")


ARGUMENTS = Structured(frozenset({"arguments"}), _arguments_at)
JSON_ANSWER = Structured(frozenset({"arguments", "text"}),
                         lambda path: _arguments_at(path) or _text_at(path))


def structured(body: Json) -> Structured:
    """A call's arguments are JSON; a message's text too when `text.format` asks."""
    text = body.get("text")
    return JSON_ANSWER if isinstance(text, dict) and asks_json(text.get("format")) \
        else ARGUMENTS


RESPONSES = Dialect(
    route=ROUTE,
    prompt_slots=prompt_slots,
    unread=unread,
    completion_slots=completion_slots,
    stream_deltas=stream_deltas,
    completion=completion,
    refuse=refuse,
    refusal_events=refusal_events,
    error_event=error_event,
    joins_answer=8,  # a client joins an answer's texts
    structured=structured,
)
