"""OpenAI legacy completions: `POST /v1/completions`."""

from __future__ import annotations

import functools
import time
from typing import Any

from guard.proxy.protocols.base import (
    NO_USAGE,
    NOT_JSON,
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
    error_event,
    lax_bool,
    list_at,
    n_asked,
    place,
    wants_json,
)
from guard.proxy.protocols.openai_chat import answer_value_slots, frame_slots, refuse_choices


def prompt_slots(body: Json) -> list[Slot]:
    prompt = body.get("prompt")
    slots = ([Slot(("prompt",), "user", prompt)] if isinstance(prompt, str) else
             [Slot(("prompt", i), "user", p) for i, p in enumerate(prompt) if isinstance(p, str)]
             if isinstance(prompt, list) else [])
    if isinstance(body.get("suffix"), str):  # the text the completion is to end with
        slots.append(Slot(("suffix",), "user", body["suffix"]))
    return slots


def unread(body: Json) -> list[str]:
    """Prompts given as token ids (a list of integers, or a list of such lists), or as
    embeddings (vLLM's `prompt_embeds`); a suffix that is not a string."""
    embedded = [] if body.get("prompt_embeds") is None else ["prompt_embeds (embeddings)"]
    suffix = body.get("suffix")
    odd = [] if suffix is None or isinstance(suffix, str) else [
        place(("suffix",), type(suffix).__name__)]
    return embedded + odd + _unread_prompt(body.get("prompt"))


def _unread_prompt(prompt: Any) -> list[str]:
    if prompt is None or isinstance(prompt, str):
        return []
    if not isinstance(prompt, list):
        return [place(("prompt",), type(prompt).__name__)]
    if prompt and all(isinstance(p, int) for p in prompt):
        return [place(("prompt",), "token ids")]
    return [place(("prompt", i), "token ids" if isinstance(p, list) else type(p).__name__)
            for i, p in enumerate(prompt) if not isinstance(p, str)]


def choices_asked(body: Json) -> int | None:
    """`n` choices for each prompt of a list (of strings or of token ids)."""
    n, prompt = n_asked(body), body.get("prompt")
    prompts = len(prompt) if isinstance(prompt, list) and prompt and not all(
        isinstance(p, int) for p in prompt) else 1
    return None if n is None else n * prompts


def continued(body: Json) -> Continued | None:
    """A completion goes on from its prompt (each string of a list has `n` choices), and a
    `suffix` goes on from the completion (fill-in-the-middle): an editor shows the three as one
    text. Not with `echo` (as a lenient upstream reads it: `"false"` is no echo), whose answer
    holds its prompt; not for token ids (unread)."""
    prompt = body.get("prompt")
    if lax_bool(body.get("echo")) is True or not isinstance(prompt, str | list) or (
            isinstance(prompt, list) and not any(isinstance(p, str) for p in prompt)):
        return None
    prompts = (prompt,) if isinstance(prompt, str) else tuple(
        p if isinstance(p, str) else "" for p in prompt)
    suffix = body.get("suffix")
    return Continued(prompts, "text", _choice_text, suffix if isinstance(suffix, str) else "",
                     n_asked(body) or 1)


def _choice_text(answer: Json, path: Path) -> int | None:
    """The choice (its `index`) whose text a whole answer's text at `path` is
    (`choices[i].text`)."""
    return choice_at(answer, path, ("text",)) if len(path) == 3 else None


def completion_slots(body: Json) -> list[Slot]:
    """Each choice's text, in any shape (`openai_chat.answer_value_slots`), and the texts
    beside the choices (`openai_chat.frame_slots`)."""
    choices = body.get("choices")
    if choices is not None and not isinstance(choices, list):
        return answer_value_slots(choices, ("choices",)) + frame_slots(body)
    return [slot for i, c in enumerate(list_at(body, "choices")) if isinstance(c, dict)
            for slot in answer_value_slots(c.get("text"), ("choices", i, "text"))] \
        + frame_slots(body)


def stream_deltas(chunk: Json) -> list[Delta]:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return []
    return [Delta(choice_index(c, i), ("choices", i, "text"), c["text"])
            for i, c in enumerate(choices)
            if isinstance(c, dict) and isinstance(c.get("text"), str) and c["text"]]


def completion(completion_id: str, model: str, text: str, finish_reason: str,
               choices: int = 1) -> Json:
    return {
        "id": completion_id, "object": "text_completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": i, "text": text, "finish_reason": finish_reason, "logprobs": None}
                    for i in range(choices)],
        "usage": dict(NO_USAGE),
    }


def chunk(completion_id: str, model: str, index: int, text: str | None,
          finish_reason: str | None) -> Json:
    return {
        "id": completion_id, "object": "text_completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": index, "text": text or "", "finish_reason": finish_reason,
                     "logprobs": None}],
    }


# A choice's text, when the request asks for JSON (vLLM reads `response_format` and its own
# options on legacy completions too: `base.wants_json`).
JSON_TEXT = Structured(frozenset({"text"}),
                       lambda path: len(path) == 3 and path[0] == "choices" and path[2] == "text")


def structured(body: Json) -> Structured:
    return JSON_TEXT if wants_json(body) else NOT_JSON


COMPLETIONS = Dialect(
    route="/v1/completions",
    prompt_slots=prompt_slots,
    unread=unread,
    completion_slots=completion_slots,
    stream_deltas=stream_deltas,
    completion=completion,
    refuse=functools.partial(refuse_choices, ("text",)),
    refusal_events=functools.partial(chunked_refusal, chunk),
    error_event=error_event,
    chunk=chunk,
    choices_asked=choices_asked,
    continued=continued,
    structured=structured,
)
