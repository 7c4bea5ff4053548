"""OpenAI chat completions: `POST /v1/chat/completions`."""

from __future__ import annotations

import functools
import time
from typing import Any

from guard.proxy.protocols.base import (
    NO_USAGE,
    NOT_TEXT,
    Continued,
    Delta,
    Dialect,
    Json,
    Path,
    Slot,
    Structured,
    choice_at,
    choice_index,
    chunked_refusal,
    drop_frame_texts,
    drop_tokens,
    error_event,
    frame_strings,
    labels_last,
    list_at,
    may_read,
    n_asked,
    place,
    strings,
    unread_in_messages,
    wants_json,
)

ROLE_OF_MESSAGE = {"tool": "tool", "function": "tool", "system": "system", "developer": "system"}


def _role(given: Any) -> str:
    """Whose text a message is, as classifiers read it: a role no API names (`narrator`, `User`)
    is read as the user's. Servers that take any role (vLLM) render it for the model, and a
    classifier reading only the user's messages would have passed it."""
    role = str(given)
    return ROLE_OF_MESSAGE.get(role, role if role == "assistant" else "user")


def prompt_slots(body: Json) -> list[Slot]:
    slots: list[Slot] = []
    for i, message in enumerate(list_at(body, "messages")):
        if not isinstance(message, dict):
            continue
        role = _role(message.get("role"))
        slots.extend(_content_slots(message.get("content"), ("messages", i, "content"), role))
        slots.extend(_answer_slots(message, ("messages", i), MESSAGE_TEXT, role))
        slots.extend(_tool_call_slots(message, ("messages", i), whole=True))
        slots.extend(_detail_slots(message, ("messages", i), role))
    prediction = body.get("prediction")  # predicted output: the model is given it as text too
    if isinstance(prediction, dict):
        slots.extend(_content_slots(prediction.get("content"), ("prediction", "content"), "user"))
    tool_prompt = body.get("tool_prompt")  # TGI: put before the tool definitions in the prompt
    if isinstance(tool_prompt, str):
        slots.append(Slot(("tool_prompt",), "user", tool_prompt))
    # vLLM's retrieved documents, which a RAG chat template puts into the prompt (objects with
    # `title` and `text`, or strings): read as documents, where indirect prompt injection lands
    # (`prompt_injection` reads them as it reads tool results); every string, keys too, as
    # Command R's template writes each `key: value`.
    slots.extend(Slot(at, "document", text)
                 for at, text in strings(body.get("documents"), ("documents",)))
    return labels_last(slots)


# Content parts the model reads as text, by type, with the key that holds their text.
TEXT_PARTS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}
# A message's other texts: who speaks (`name`), which call a tool result answers, and an earlier
# answer's refusal or reasoning sent back to the model (chat templates render `thinking` too).
MESSAGE_TEXT = ("name", "tool_call_id", "refusal", "reasoning_content", "reasoning", "thinking")
# Reasoning sent as a list of objects (OpenRouter's `reasoning_details`): the keys of their text.
DETAIL_TEXT = ("text", "summary")


def _text_key(part: Any) -> str | None:
    """The key of a content part's text when the part is text (by its type); else None."""
    kind = part.get("type") if isinstance(part, dict) else None
    key = TEXT_PARTS.get(kind) if isinstance(kind, str) else None
    return key if key is not None and isinstance(part.get(key), str) else None


def _content_slots(content: Any, path: Path, role: str) -> list[Slot]:
    if isinstance(content, str):
        return [Slot(path, role, content)]
    slots = []
    for j, part in enumerate(content if isinstance(content, list) else []):
        if isinstance(part, str):
            slots.append(Slot((*path, j), role, part))
        elif (key := _text_key(part)) is not None:
            slots.append(Slot((*path, j, key), role, part[key]))
    return slots


def unread(body: Json) -> list[str]:
    """Content the model receives that is not text: image, audio and file parts, and any part or
    content of a shape guard does not know (a part is text by its type, not by holding a `text`),
    in messages and in predicted output; `messages` that is not a list; and an answer asked for
    as audio, which guard could not read either; a `tool_prompt` that is not a string."""
    spoken = "audio" in list_at(body, "modalities")  # an answer spoken: guard could not read it
    places = [place(("modalities",), "audio output")] if spoken else []
    tool_prompt = body.get("tool_prompt")
    if tool_prompt is not None and not isinstance(tool_prompt, str):
        places.append(place(("tool_prompt",), type(tool_prompt).__name__))
    messages = body.get("messages")
    if messages is not None and not isinstance(messages, list):
        places.append(place(("messages",), type(messages).__name__))
    prediction = body.get("prediction")
    content = prediction.get("content") if isinstance(prediction, dict) else None
    if content is not None and not isinstance(content, str):
        parts = content if isinstance(content, list) else [content]
        places += [found for j, part in enumerate(parts)
                   for found in _unread_part(part, ("prediction", "content", j))]
    return places + unread_in_messages(body, _unread_part)


def _unread_part(part: Any, path: Path) -> list[str]:
    if isinstance(part, str) or _text_key(part) is not None:
        return []
    kind = part.get("type") if isinstance(part, dict) else None
    return [place(path, kind if isinstance(kind, str) else type(part).__name__)]


# An answer's text fields, in a whole message and in a stream's delta alike: its content, the
# refusal of a model that declines (structured outputs), and the reasoning that reasoning models
# send beside the answer (vLLM, DeepSeek and others: `reasoning_content`, `reasoning` or
# `thinking`). All of it reaches the client, so all of it is read; content may also come as a list
# of text parts (Mistral), read part by part.
ANSWER_TEXT = ("content", "refusal", "reasoning_content", "reasoning", "thinking")


# The flags that ask a model to go on from the last assistant message, each with the value that
# asks it: vLLM's `continue_final_message`, and its `add_generation_prompt: false`, which opens
# no new turn.
GOING_ON = (("continue_final_message", True), ("add_generation_prompt", False))


def continued(body: Json) -> Continued | None:
    """An assistant message last that the model goes on from rather than answers: vLLM's
    GOING_ON flags, at the top or in `chat_template_kwargs`, and Mistral's `prefix: true` on
    the message."""
    messages = list_at(body, "messages")
    last = messages[-1] if messages else None
    if not isinstance(last, dict) or last.get("role") != "assistant" or not _goes_on(body, last):
        return None
    path = ("messages", len(messages) - 1, "content")
    text = "".join(s.text for s in _content_slots(last.get("content"), path, "assistant"))
    return Continued((text,), "content", _content_of_choice)


def _goes_on(body: Json, last: Json) -> bool:
    """Whether any reading of the request's flags asks the model to go on from `last`. A flag
    is read as a lenient upstream reads it (`add_generation_prompt: "false"` or `0`, `prefix:
    "true"` or `1`: `may_read`), one spelled in no way it knows as asking (read joined, an
    ordinary answer comes out the same); a chat template's arguments are read as Python and
    Jinja read them, too (any non-empty string is true)."""
    if "prefix" in last and may_read(last["prefix"], True):
        return True
    if any(key in body and may_read(body[key], wanted) for key, wanted in GOING_ON):
        return True
    kwargs = body.get("chat_template_kwargs")
    return isinstance(kwargs, dict) and any(
        key in kwargs and (may_read(kwargs[key], wanted) or bool(kwargs[key]) is wanted)
        for key, wanted in GOING_ON)


def _content_of_choice(answer: Json, path: Path) -> int | None:
    """The choice (its `index`) whose content a whole answer's text at `path` is (or is a part
    of)."""
    return choice_at(answer, path, ("message", "content"))


def completion_slots(body: Json) -> list[Slot]:
    """Every text of each choice's message: its texts under ANSWER_TEXT in any shape (a Mistral
    thinking part, a refusal as parts, an object), an audio answer's transcript, tool calls and
    reasoning details; and the texts beside the choices (`frame_slots`). `choices` in another
    shape than a list (an object, which JavaScript indexes all the same) is read string by
    string."""
    choices = body.get("choices")
    if choices is not None and not isinstance(choices, list):
        return answer_value_slots(choices, ("choices",)) + frame_slots(body)
    slots: list[Slot] = []
    for i, choice in enumerate(list_at(body, "choices")):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        base = ("choices", i, "message")
        for key in (*ANSWER_TEXT, "annotations"):  # citations: titles and addresses shown
            slots.extend(answer_value_slots(message.get(key), (*base, key)))
        slots.extend(answer_value_slots(transcript(message), (*base, *TRANSCRIPT)))
        slots.extend(_tool_call_slots(message, base, whole=True))
        slots.extend(_detail_slots(message, base, "assistant"))
    return slots + frame_slots(body)


def frame_slots(body: Json) -> list[Slot]:
    """A whole answer's texts beside its choices (`base.frame_strings`: its usage's, an
    error's, a provider's own fields'), read as the answer's."""
    return [Slot(path, "assistant", text) for path, text in frame_strings(body)]


# Where a spoken answer's text sits, in a whole message and in a stream's delta alike.
TRANSCRIPT = ("audio", "transcript")


def transcript(holder: Json) -> Any:
    """A message's or a delta's spoken answer's text, in whatever shape it came; None if none."""
    audio = holder.get("audio")
    return audio.get("transcript") if isinstance(audio, dict) else None


def answer_value_slots(value: Any, path: Path) -> list[Slot]:
    """The texts of one field of a whole answer: a string; text parts, each, and every string
    of a part of another kind; every string of an object (but names, ids and opaque data)."""
    if isinstance(value, str):
        return [Slot(path, "assistant", value)]
    slots = []
    for j, part in enumerate(value if isinstance(value, list) else []):
        if isinstance(part, str):
            slots.append(Slot((*path, j), "assistant", part))
        elif (key := _text_key(part)) is not None:
            slots.append(Slot((*path, j, key), "assistant", part[key]))
        else:
            slots.extend(Slot(at, "assistant", text)
                         for at, text in strings(part, (*path, j), NOT_TEXT))
    if isinstance(value, dict):
        slots.extend(Slot(at, "assistant", text) for at, text in strings(value, path, NOT_TEXT))
    return slots


def answer_text(value: Any) -> str | None:
    """A delta's text under one of ANSWER_TEXT: a string, or a list of text parts joined; None
    for anything else (a list holding any part that is not text included)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(_text_key(part) is not None for part in value):
        return "".join(part[_text_key(part)] for part in value)
    return None


def _answer_slots(message: Json, base: Path, keys: tuple[str, ...], role: str) -> list[Slot]:
    """A request message's texts under `keys`, where they are strings."""
    return [Slot((*base, key), role, message[key]) for key in keys
            if isinstance(message.get(key), str)]


def _tool_call_slots(message: Json, base: Path, *, whole: bool = False) -> list[Slot]:
    """Tool call arguments (a custom tool's input), and the arguments of a legacy
    `function_call`; in a `whole` message, the functions' names too (a stream's deltas leave
    them out: they come once, with the call's id), and arguments sent as a JSON object, which
    some servers take and chat templates render, string by string, keys too (a stream's are
    strings, or unreadable: `stream_guard`)."""
    calls = [(k, call) for k, call in enumerate(list_at(message, "tool_calls"))
             if isinstance(call, dict)]
    found = [((*base, "tool_calls", k, kind), call.get(kind))
             for k, call in calls for kind in CALL_KINDS if kind in call]
    found.append(((*base, "function_call"), message.get("function_call")))
    # a call's id too, in a whole message: some chat templates (Mistral's) render it
    slots = [Slot((*base, "tool_calls", k, "id"), "tool_call", call["id"])
             for k, call in calls if whole and isinstance(call.get("id"), str)]
    for path, function in found:
        if not isinstance(function, dict):
            continue
        keys = (("name",) if whole else ()) + (CALL_KINDS.get(str(path[-1]), "arguments"),)
        for key in keys:
            value = function.get(key)
            if isinstance(value, str):
                slots.append(Slot((*path, key), "tool_call", value))
            elif whole and key != "name" and isinstance(value, dict | list):
                slots.extend(Slot(at, "tool_call", text) for at, text in strings(value, (*path, key)))
    return slots


# A tool call's kinds, with the key of what the model wrote: a function's arguments (JSON), a
# custom tool's free-form input.
CALL_KINDS = {"function": "arguments", "custom": "input"}


def _detail_slots(message: Json, base: Path, role: str) -> list[Slot]:
    """The texts of `reasoning_details` (reasoning and its summaries), in any shape: every
    string in it but names, ids and signatures."""
    return [Slot(at, role, text) for at, text in strings(
        message.get("reasoning_details"), (*base, "reasoning_details"), NOT_TEXT)]


def stream_deltas(chunk: Json) -> list[Delta]:
    deltas: list[Delta] = []
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return deltas
    for i, choice in enumerate(choices):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        index = choice_index(choice, i)
        deltas.extend(Delta(index, ("choices", i, "delta", key), text)
                      for key in ANSWER_TEXT if (text := answer_text(delta.get(key))))
        said = transcript(delta)  # a spoken answer's text (gpt-4o-audio's, as it speaks)
        if isinstance(said, str) and said:
            deltas.append(Delta(index, ("choices", i, "delta", *TRANSCRIPT), said))
        # Empty arguments count too: the chunk that opens a tool call (its id and name, arguments
        # "") then goes out in order with the call's text.
        deltas.extend(Delta(index, slot.path, slot.text)
                      for slot in _tool_call_slots(delta, ("choices", i, "delta")))
    return deltas


def completion(completion_id: str, model: str, text: str, finish_reason: str,
               choices: int = 1) -> Json:
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": i, "message": {"role": "assistant", "content": text},
                     "finish_reason": finish_reason, "logprobs": None} for i in range(choices)],
        "usage": dict(NO_USAGE),
    }


def chunk(completion_id: str, model: str, index: int, text: str | None,
          finish_reason: str | None) -> Json:
    delta: Json = {} if text is None else {"role": "assistant", "content": text}
    return {
        "id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason,
                     "logprobs": None}],
    }


def refuse_choices(content_path: Path, body: Json, message: str) -> Json:
    """Every choice's content replaced by `message`, finish_reason `content_filter`, and its
    log-probabilities and token ids dropped (they name the refused tokens: `TOKEN_KEYS`).
    `content_path` is where a choice's text sits in the dialect: `message.content`, or `text`
    (legacy completions). Choices in another shape than a list make way for one choice. The
    keys beside the choices that hold text go (`base.drop_frame_texts`)."""
    drop_frame_texts(body)
    if not isinstance(body.get("choices"), list):
        body["choices"] = [{"index": 0, "message": {"role": "assistant"}}
                           if len(content_path) > 1 else {"index": 0}]
    for choice in list_at(body, "choices"):
        if not isinstance(choice, dict):
            continue
        # an upstream may answer with choices of any shape: refuse where there is a place for text
        if len(content_path) == 1:
            choice[content_path[0]] = message
        elif isinstance(choice.get(content_path[0]), dict):
            # the message rebuilt: whatever else it held (tool calls, citations, reasoning, a
            # field no reader knows) may hold what was refused
            choice[content_path[0]] = {"role": "assistant", content_path[-1]: message}
        else:
            continue
        choice["finish_reason"] = "content_filter"
        drop_tokens(choice)
    return body


def _arguments_at(path: Path) -> bool:
    """Whether a whole answer's text at `path` is a function call's arguments."""
    return len(path) >= 5 and path[-1] == "arguments" and path[3] in ("tool_calls",
                                                                       "function_call")


def _content_at(path: Path) -> bool:
    """Whether a whole answer's text at `path` is a choice's content (or a part of it)."""
    return len(path) >= 4 and path[2] == "message" and path[3] == "content"


ARGUMENTS = Structured(frozenset({"tool", "function_call"}), _arguments_at)
JSON_ANSWER = Structured(frozenset({"tool", "function_call", "content"}),
                         lambda path: _arguments_at(path) or _content_at(path))


def structured(body: Json) -> Structured:
    """A function call's arguments are JSON; the content too when the request asks for JSON
    (`response_format`, a server's own option: `base.wants_json`)."""
    return JSON_ANSWER if wants_json(body) else ARGUMENTS


CHAT = Dialect(
    route="/v1/chat/completions",
    prompt_slots=prompt_slots,
    unread=unread,
    completion_slots=completion_slots,
    stream_deltas=stream_deltas,
    completion=completion,
    refuse=functools.partial(refuse_choices, ("message", "content")),
    refusal_events=functools.partial(chunked_refusal, chunk),
    error_event=error_event,
    chunk=chunk,
    choices_asked=n_asked,
    # a client joins a message's text parts (those of all choices are read joined, which costs
    # only reading); a message's content, refusal and reasoning are read apart, as clients show them
    joins_answer=8,
    continued=continued,
    structured=structured,
)
