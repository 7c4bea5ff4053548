"""A chat stream's frame strings (keys beside `choices` guard does not know, such as a provider's
per-chunk request id) are read once each: a string already read in the stream, and its mask, are
reused, and an id (one token of letters, digits and `_-.:`) is read only by the classifiers that
bound their findings (keys, personal data, patterns), not by a remote one judging meaning. Real
`guard serve` with the secrets and pii classifiers and a webhook reading the whole text, in front
of a stand-in upstream streaming 200 chunks whose `x_foo` changes each chunk; the webhook
stand-in counts the calls it gets, the openai SDK is the client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from aiohttp import web

from tests.support import GuardServer, apps_serving, free_port

pytestmark = pytest.mark.timeout(120)

SECRET = "ghp_FrameLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0"  # a GitHub token's shape: blocked
EMAIL = "frame.leak.5521@example.org"               # masked in answers
CHUNKS = 200


class Servers:
    """guard in front of the stand-in upstream; `texts`: what the webhook was sent, per call;
    `frames`: what `x_foo` each chunk of the next stream carries (None: no `x_foo`)."""

    def __init__(self) -> None:
        self.texts: list[list[str]] = []
        self.frames: list[Any] = [None] * CHUNKS
        self.guard: GuardServer | None = None

    async def stream(self, frames: list[Any]) -> list[Any]:
        """The chunks the openai SDK reads of a stream whose chunks carry `frames`, with the
        webhook's calls counted from zero."""
        assert self.guard is not None
        self.frames, self.texts = frames, []
        client = openai.AsyncOpenAI(base_url=f"{self.guard.url}/v1", api_key="k",
                                    max_retries=0)
        async with client:
            answer = await client.chat.completions.create(
                model="m", stream=True, messages=[{"role": "user", "content": "hi"}])
            return [chunk async for chunk in answer]


@contextlib.asynccontextmanager
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    found = Servers()

    async def verdict(request: web.Request) -> web.Response:
        body = await request.json()
        found.texts.append([segment["text"] for segment in body["segments"]])
        return web.json_response({"labels": [], "score": 0.0})

    async def upstream(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await answer.prepare(request)
        for n, extra in enumerate(found.frames):
            delta = {"content": f"word{n} "} | ({"role": "assistant"} if n == 0 else {})
            chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                     **({} if extra is None else {"x_foo": extra})}
            await answer.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await answer.write(b'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1, '
                           b'"model": "m", "choices": [{"index": 0, "delta": {}, '
                           b'"finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
        return answer

    hook, model = web.Application(), web.Application()
    hook.router.add_post("/classify", verdict)
    model.router.add_post("/v1/chat/completions", upstream)
    hook_port, model_port = free_port(), free_port()
    (tmp_path / "frames.yaml").write_text(yaml.safe_dump({
        "name": "frames", "version": "1",
        "classifiers": {"secrets": {"type": "secrets"},
                        "pii": {"type": "pii", "entities": ["email"]},
                        "hook": {"type": "webhook",
                                 "url": f"http://127.0.0.1:{hook_port}/classify",
                                 "cache": False}},
        "rules": [
            {"name": "secrets", "stage": "completion", "when": {"classifier": "secrets"},
             "action": "block"},
            {"name": "pii", "stage": "completion", "when": {"classifier": "pii"},
             "action": "redact"},
            {"name": "hook", "stage": "completion", "when": {"classifier": "hook"},
             "action": "flag"}]}))
    async with apps_serving((hook, hook_port), (model, model_port)):
        guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": f"http://127.0.0.1:"
                                                                        f"{model_port}"}},
                                       "policies": str(tmp_path / "frames.yaml")})
        try:
            guard.start()
            found.guard = guard
            yield found
        finally:
            guard.stop()


def ids(note: str = "") -> list[Any]:
    """A per-chunk request id under `x_foo` (OpenAI's shape of id), with a `note` beside it."""
    return [{"request_id": f"req_{n:04d}8f3a9b2c7d", **({"note": note} if note else {})}
            for n in range(CHUNKS)]


def said(chunks: list[Any]) -> str:
    return "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)


async def test_a_per_chunk_id_is_not_a_remote_call_per_chunk(tmp_path: Path) -> None:
    """The webhook is called as often for a stream whose `x_foo` holds a new request id each
    chunk as for one without `x_foo` (it was called once more per chunk: 201 calls, not 2); a
    note with words beside the id is sent to it, once, though each chunk repeats it."""
    async with servers(tmp_path) as found:
        chunks = await found.stream([None] * CHUNKS)
        plain = len(found.texts)
        assert said(chunks).startswith("word0 word1 ") and plain >= 1
        chunks = await found.stream(ids())
        assert said(chunks).count("word") == CHUNKS
        assert len(found.texts) == plain
        assert not any(text.startswith("req_") for call in found.texts for text in call)
        chunks = await found.stream(ids("the weather is fine today"))
        sent = [text for call in found.texts for text in call]
        assert sent.count("the weather is fine today") == 1
        assert len(found.texts) == plain + 1


async def test_a_key_in_a_late_frame_string_is_cut_and_an_address_masked(tmp_path: Path) -> None:
    """A key in chunk 150's `x_foo`, among per-chunk ids the classifiers read once each: the
    stream is cut there, the key reaches the client nowhere; an address there is masked."""
    async with servers(tmp_path) as found:
        frames = ids()
        frames[150] = {**frames[150], "token": SECRET}
        chunks = await found.stream(frames)
        assert SECRET[:12] not in json.dumps([chunk.model_dump() for chunk in chunks])
        assert chunks[-1].choices[0].finish_reason == "content_filter"
        assert said(chunks).count("word") < 150
        frames = ids()
        frames[150] = {**frames[150], "mail": f"write to {EMAIL}"}
        frames[151] = frames[150] | {"request_id": "req_again"}
        chunks = await found.stream(frames)
        extras = [(chunk.model_extra or {}).get("x_foo") or {} for chunk in chunks]
        assert EMAIL not in json.dumps(extras)
        assert sum(x.get("mail") == "write to [REDACTED:pii:email]" for x in extras) == 2
        assert said(chunks).count("word") == CHUNKS
