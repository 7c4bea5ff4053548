"""What a remote classifier on the completion stage is asked about a stream: of typed events (the
Responses API, Anthropic's Messages API), the answer's texts, never the protocol's key names,
and a text once while nothing is added to it; of a long answer, when it reads the whole text,
checks spaced out as the stream runs. Real `guard serve` in front of the stand-in model and the
scripted hostile upstream, a webhook stand-in recording every text it is sent, and the SDKs as
clients."""

from __future__ import annotations

import contextlib
import json
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml
from aiohttp import web

from tests.support import GuardServer, MockUpstream, PortServer, apps_serving, free_port, start_together

pytestmark = pytest.mark.timeout(90)

REPLY = "A short harmless answer about the weather today."
AT_ONCE = {"X-Mock-Reply": urllib.parse.quote(REPLY), "X-Mock-Chunk-Chars": "400"}
ASK = [{"role": "user", "content": "weather?"}]


class Servers:
    """guard, with one completion rule reading a webhook that needs the whole text (as Llama
    Guard does), in front of the stand-in model (and of the hostile upstream for `hostile*`);
    `texts` are those the webhook was sent, one list per call."""

    def __init__(self, guard: GuardServer) -> None:
        self.guard = guard
        self.texts: list[list[str]] = []


@contextlib.asynccontextmanager
async def servers_side_by_side(tmp_path: Path, streamings: list[dict[str, Any] | None]
                               ) -> AsyncIterator[list[Servers]]:
    """A guard for each of `streamings` (its policy's `streaming` settings), each with a webhook
    of its own, started side by side in front of one stand-in model and hostile upstream."""
    async def verdict(request: web.Request) -> web.Response:
        body = await request.json()
        found[int(request.match_info["guard"])].texts.append(
            [segment["text"] for segment in body["segments"]])
        return web.json_response({"labels": [], "score": 0.0})

    app = web.Application()
    app.router.add_post("/classify/{guard}", verdict)
    port = free_port()
    mock = MockUpstream(tmp_path)
    hostile = PortServer([sys.executable, "-m", "guard.hostile_upstream", "--mode", "scripted"],
                         tmp_path)
    found = []
    for n, streaming in enumerate(streamings):
        policy = tmp_path / f"remote-{n}.yaml"
        policy.write_text(yaml.safe_dump({
            "name": "remote", "version": "1",
            "classifiers": {"hook": {"type": "webhook", "cache": False,
                                     "url": f"http://127.0.0.1:{port}/classify/{n}"}},
            "rules": [{"name": "hook", "stage": "completion", "when": {"classifier": "hook"},
                       "action": "flag"}], **({"streaming": streaming} if streaming else {})}))
        found.append(Servers(GuardServer(tmp_path, {
            "upstreams": {"default": {"url": mock.url}, "hostile": {"url": hostile.url}},
            "routes": {"hostile*": "hostile"}, "policies": str(policy),
            "state_dir": str(tmp_path / f"state-{n}")})))
    async with apps_serving((app, port)):
        try:
            start_together(mock, hostile, *(each.guard for each in found))
            yield found
        finally:
            for each in found:
                each.guard.stop()
            hostile.stop()
            mock.stop()


@contextlib.asynccontextmanager
async def servers(tmp_path: Path, streaming: dict[str, Any] | None = None
                  ) -> AsyncIterator[Servers]:
    async with servers_side_by_side(tmp_path, [streaming]) as (found,):
        yield found


async def messages_stream(guard: GuardServer) -> str:
    client = anthropic.AsyncAnthropic(base_url=guard.url, api_key="k", max_retries=0,
                                      default_headers=AT_ONCE)
    async with client, client.messages.stream(model="m", max_tokens=64, messages=ASK) as stream:
        return "".join([text async for text in stream.text_stream])


async def responses_stream(guard: GuardServer) -> str:
    client = openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                                default_headers=AT_ONCE)
    async with client:
        events = await client.responses.create(model="m", input="weather?", stream=True)
        return "".join([e.delta async for e in events if e.type == "response.output_text.delta"])


URL, TITLE = "https://example.org/weather", "Weather today"
WHERE = {"item_id": "msg_1", "output_index": 1, "content_index": 0}
MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
           "content": [{"type": "output_text", "text": REPLY, "annotations": []}]}
RESPONSE = {"id": "resp_1", "object": "response", "model": "hostile", "output": []}
# a web search's progress and an annotation: events guard knows, whose keys are the protocol's
SEARCHED = [
    {"type": "response.created", "response": {**RESPONSE, "status": "in_progress"}},
    {"type": "response.web_search_call.in_progress", "item_id": "ws_1", "output_index": 0},
    {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
    {"type": "response.web_search_call.completed", "item_id": "ws_1", "output_index": 0},
    {"type": "response.output_text.delta", **WHERE, "delta": REPLY},
    {"type": "response.output_text.annotation.added", **WHERE, "annotation_index": 0,
     "annotation": {"type": "url_citation", "url": URL, "title": TITLE, "start_index": 0,
                    "end_index": 5}},
    {"type": "response.output_text.done", **WHERE, "text": REPLY},
    {"type": "response.completed", "response": {**RESPONSE, "status": "completed", "output": [
        {"type": "web_search_call", "id": "ws_1", "status": "completed"}, MESSAGE]}},
]


async def hostile_responses_stream(guard: GuardServer, script: list[dict[str, Any]]) -> str:
    async with httpx.AsyncClient(timeout=20) as http:
        answer = await http.post(f"{guard.url}/v1/responses", json={
            "model": "hostile", "input": "weather?", "stream": True},
            headers={"X-Hostile-Events": urllib.parse.quote(json.dumps(script))})
    return answer.text


async def test_a_classifier_is_sent_the_answer_never_the_protocols_key_names(
        tmp_path: Path) -> None:
    """From a probe: a short streamed Messages answer had a webhook (and Llama Guard) asked
    about `index`, `delta`, `stop_sequence`, `usage` and `output_tokens` as answer text, a call
    each (the keys of content_block_stop and message_delta); a Responses stream about
    `output_index` of each web search event and the keys of an annotation. The events guard
    knows are read by their values only; the client still gets the answer whole."""
    async with servers(tmp_path) as found:
        assert await messages_stream(found.guard) == REPLY
        assert {text for call in found.texts for text in call} == {REPLY}
        found.texts.clear()
        answer = await hostile_responses_stream(found.guard, SEARCHED)
        assert URL in answer and "response.completed" in answer
        assert {text for call in found.texts for text in call} == {REPLY, URL, TITLE}


async def test_an_answer_arriving_at_once_is_checked_once(tmp_path: Path) -> None:
    """From a probe: with a classifier that reads the whole text (Llama Guard), a short answer
    arriving at once was checked once on a chat stream, but twice on a Messages stream (the
    block's close, the message's) and 4 times on a Responses stream (the text's, the part's
    and the item's close, the response's end), the same text each time: 0.5 s more per call at
    the stream's end with a 0.5 s Llama Guard. A window read before and unchanged is not read
    again; the client gets the answer whole."""
    async with servers(tmp_path) as found:
        for stream in (messages_stream, responses_stream):
            found.texts.clear()
            assert await stream(found.guard) == REPLY
            assert found.texts == [[REPLY]], stream.__name__


async def test_a_key_an_upstream_adds_to_an_event_guard_knows_is_read(tmp_path: Path) -> None:
    """From a re-probe: with every key of those events skipped, text an upstream placed as a key
    (`{"ghp_...": 1}` in a web search's progress) went unread to the client, whose SDK hands it
    to the application (`model_extra`). Only the protocol's names are skipped."""
    planted = "hidden text placed as a key"
    script = [dict(event) for event in SEARCHED]
    script[2] = {**script[2], "extra": {planted: 1}}
    async with servers(tmp_path) as found:
        await hostile_responses_stream(found.guard, script)
        assert {text for call in found.texts for text in call} == {REPLY, URL, TITLE, planted,
                                                                   "extra"}


LONG = "".join(f"Line {i} of a long and harmless answer about the weather. " for i in range(24))
PACED = {"X-Mock-Reply": urllib.parse.quote(LONG), "X-Mock-Chunk-Chars": "12",
         "X-Mock-Chunk-Delay-Ms": "15"}


async def chat_stream(guard: GuardServer) -> tuple[str, float]:
    """The answer to PACED, and when its first text reached the client (seconds after asking)."""
    client = openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                                default_headers=PACED)
    texts: list[str] = []
    first = 0.0
    started = time.monotonic()
    async with client:
        stream = await client.chat.completions.create(model="m", messages=ASK, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                first = first or time.monotonic() - started
                texts.append(chunk.choices[0].delta.content)
    return "".join(texts), first


@pytest.mark.parametrize("mode", ["buffered", "optimistic"])
async def test_a_long_answer_is_checked_whole_at_a_cost_linear_in_its_length(
        tmp_path: Path, mode: str) -> None:
    """From last session's measurements: a classifier reading the whole text (Llama Guard) is
    sent all of a stream's answer so far at each check, every `max_holdback_ms` (buffered) or
    `check_chars` (optimistic): 32 calls and 17 times the answer's characters for 999 of them,
    67 times for 3,999. Checks are now spaced out as the stream runs (`recheck_growth`, 0.25 by
    default): the characters sent stay a few times the answer's, while `recheck_growth: 0`
    keeps the old spacing; the client gets the answer whole and its first text early."""
    sent: dict[float, tuple[int, int]] = {}
    growths = (0.25, 0.0)
    async with servers_side_by_side(tmp_path, [
            {"mode": mode, "max_holdback_ms": 50, "check_chars": 32, "recheck_growth": growth}
            for growth in growths]) as guards:
        for growth, found in zip(growths, guards, strict=True):  # one stream at a time
            answer, first = await chat_stream(found.guard)
            assert answer == LONG
            assert first < 1.0  # the stream takes about 1.8 s
            sent[growth] = (len(found.texts), sum(len(t) for call in found.texts for t in call))
    calls, chars = sent[0.25]
    assert chars < 7 * len(LONG) and calls < 30, sent
    old_calls, old_chars = sent[0.0]
    assert old_chars > 2 * chars and old_calls > 2 * calls, sent
