"""What a remote classifier on the completion stage is asked about a stream of typed events (the
Responses API, Anthropic's Messages API): the answer's texts, never the protocol's key names,
and a text once while nothing is added to it. Real `guard serve` in front of the stand-in model
and the scripted hostile upstream, a webhook stand-in recording every text it is sent, and the
SDKs as clients."""

from __future__ import annotations

import contextlib
import json
import sys
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

from tests.support import GuardServer, MockUpstream, PortServer, apps_serving, free_port

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
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    async def verdict(request: web.Request) -> web.Response:
        body = await request.json()
        found.texts.append([segment["text"] for segment in body["segments"]])
        return web.json_response({"labels": [], "score": 0.0})

    app = web.Application()
    app.router.add_post("/classify", verdict)
    port = free_port()
    (tmp_path / "remote.yaml").write_text(yaml.safe_dump({
        "name": "remote", "version": "1",
        "classifiers": {"hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/classify",
                                 "cache": False}},
        "rules": [{"name": "hook", "stage": "completion", "when": {"classifier": "hook"},
                   "action": "flag"}]}))
    mock = MockUpstream(tmp_path)
    hostile = PortServer([sys.executable, "-m", "guard.hostile_upstream", "--mode", "scripted"],
                         tmp_path)
    guard = GuardServer(tmp_path, {
        "upstreams": {"default": {"url": mock.url}, "hostile": {"url": hostile.url}},
        "routes": {"hostile*": "hostile"}, "policies": str(tmp_path / "remote.yaml")})
    found = Servers(guard)
    async with apps_serving((app, port)):
        try:
            mock.start()
            hostile.start()
            guard.start()
            yield found
        finally:
            guard.stop()
            hostile.stop()
            mock.stop()


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
