"""OpenAI legacy completions: `POST /v1/completions`."""

from __future__ import annotations

import time

from guard.proxy.protocols.base import Delta, Dialect, Json, Path, Slot, index_of


def prompt_slots(body: Json) -> list[Slot]:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [Slot(("prompt",), "user", prompt)]
    if isinstance(prompt, list):
        return [Slot(("prompt", i), "user", p) for i, p in enumerate(prompt) if isinstance(p, str)]
    return []


def completion_slots(body: Json) -> list[Slot]:
    choices = body.get("choices")
    if not isinstance(choices, list):
        return []
    return [Slot(("choices", i, "text"), "assistant", c["text"])
            for i, c in enumerate(choices) if isinstance(c, dict) and isinstance(c.get("text"), str)]


def stream_deltas(chunk: Json) -> list[Delta]:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return []
    return [Delta(index_of(c, i), ("choices", i, "text"), c["text"])
            for i, c in enumerate(choices)
            if isinstance(c, dict) and isinstance(c.get("text"), str) and c["text"]]


def completion(completion_id: str, model: str, text: str, finish_reason: str) -> Json:
    return {
        "id": completion_id, "object": "text_completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
    }


def chunk(completion_id: str, model: str, index: int, text: str | None,
          finish_reason: str | None) -> Json:
    return {
        "id": completion_id, "object": "text_completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": index, "text": text or "", "finish_reason": finish_reason,
                     "logprobs": None}],
    }


def content_path(choice_position: int) -> Path:
    return ("choices", choice_position, "text")


COMPLETIONS = Dialect(
    route="/v1/completions",
    prompt_slots=prompt_slots,
    completion_slots=completion_slots,
    stream_deltas=stream_deltas,
    completion=completion,
    chunk=chunk,
    content_path=content_path,
)
