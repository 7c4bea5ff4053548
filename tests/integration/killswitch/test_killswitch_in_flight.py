"""A kill switch engaged while requests are in flight stops them too, within a second: a stream
in progress ends (an error event in block mode, a content_filter finish in refuse mode) and its
model connection is closed; a request still waiting for its answer gets the switch's answer.
Real `guard serve` with the default pack in front of a slow stand-in model."""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import openai
import orjson
import pytest
import yaml
from aiohttp import web

from guard.proxy.protocols.base import MAX_CHOICES_WRITTEN
from tests.support import GuardServer, MockUpstream, closed_after_test, free_port, start_together

pytestmark = pytest.mark.timeout(90)

POLICIES = Path(__file__).resolve().parents[3] / "policies"
TOKEN = "in-flight-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
LONG = " ".join(f"word{i}" for i in range(120))  # 120 chunks of 7 characters at 100 ms: 12+ s
SLOW = {"X-Mock-Reply": urllib.parse.quote(LONG), "X-Mock-Chunk-Chars": "7",
        "X-Mock-Chunk-Delay-Ms": "100"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockUpstream, GuardServer]]:
    workdir = tmp_path_factory.mktemp("in-flight")
    mock = MockUpstream(workdir)
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}},
                                  "policies": str(POLICIES)},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    start_together(mock, guard)
    yield mock, guard
    guard.stop()
    mock.stop()



# what every answer of a kill switch says, a 503, a stream's error event or a refusal
PAUSED = "This service is paused: INC-77 drill"


async def engage(http: aiohttp.ClientSession, guard: GuardServer, model: str, mode: str) -> float:
    """Engage a switch for `model`; the time.monotonic() at which it was engaged."""
    async with http.post(f"{guard.admin_url}/admin/killswitch", headers=ADMIN, json={
            "scope": f"model:{model}", "mode": mode, "reason": "INC-77 drill"}) as response:
        assert response.status in (200, 201), await response.text()
        return time.monotonic()


def aborted(mock: MockUpstream, request_id: str) -> bool:
    seen = httpx.get(f"{mock.url}/_mock/requests").json()
    return any(r.get("aborted") and r.get("request_id") == request_id for r in seen)


def chat(model: str, stream: bool) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": "tell me"}]}


async def test_a_stream_in_progress_ends_within_a_second_of_a_block(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession) -> None:
    mock, guard = servers
    headers = {**SLOW, "X-Request-Id": "in-flight-stream-1"}
    async with http.post(f"{guard.url}/v1/chat/completions", json=chat("inflight-a", True),
                         headers=headers) as response:
        assert response.status == 200
        received = b""
        while received.count(b"\n\ndata: ") < 5:  # the answer is flowing
            received += await response.content.readany()
        engaged = await engage(http, guard, "inflight-a", "block")
        received += await response.content.read()
        ended = time.monotonic()
    assert ended - engaged < 1.5, ended - engaged
    last = orjson.loads(received.rstrip().rsplit(b"data: ", 1)[1])
    assert last["error"] == {"message": PAUSED, "type": "server_error", "param": None,
                             "code": "kill_switch_engaged"}
    assert b"word119" not in received
    for _ in range(20):  # the model's connection is closed, so it stops generating
        if aborted(mock, "in-flight-stream-1"):
            break
        await asyncio.sleep(0.1)
    assert aborted(mock, "in-flight-stream-1")


async def test_a_stream_in_progress_ends_with_content_filter_on_a_refuse(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession) -> None:
    _, guard = servers
    chunks, engaged = [], None
    async with openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="inflight-b", stream=True, extra_headers=SLOW,
            messages=[{"role": "user", "content": "tell me"}])
        async for chunk in stream:
            chunks.append(chunk)
            if engaged is None and len(chunks) == 5:
                engaged = await engage(http, guard, "inflight-b", "refuse")
    assert engaged is not None and time.monotonic() - engaged < 1.5
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and "word119" not in text


async def test_a_responses_stream_in_progress_completes_with_the_refusal_on_a_refuse(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession) -> None:
    """The SDK's stream helper raised a bare RuntimeError ("Didn't receive a
    `response.completed` event") on the `response.incomplete` a refuse-mode switch ended a
    Responses stream with: refuse mode is there so client applications keep working."""
    _, guard = servers
    kinds: list[str] = []
    client = openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
    async with client, client.responses.stream(model="inflight-r", input="tell me",
                                               extra_headers=SLOW) as stream:
        async for event in stream:
            kinds.append(event.type)
            if kinds.count("response.output_text.delta") == 5:
                await engage(http, guard, "inflight-r", "refuse")
        final = await stream.get_final_response()
    assert kinds[-1] == "response.completed" and final.status == "completed"
    assert [(part.type, part.refusal) for item in final.output if item.type == "message"
            for part in item.content if part.type == "refusal"] == [("refusal", PAUSED)]
    assert "word119" not in final.model_dump_json() and final.usage is not None


async def test_a_request_waiting_for_its_answer_gets_the_switch_answer(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession) -> None:
    """A request still waiting for a slow model is answered 503 within a second of the switch;
    a request to another model, waiting as long, is not touched."""
    _, guard = servers
    late = {"X-Mock-Latency-Ms": "6000"}
    other = {"X-Mock-Latency-Ms": "2500"}

    async def ask(model: str, headers: dict[str, str]) -> tuple[int, Any, float]:
        async with http.post(f"{guard.url}/v1/chat/completions", json=chat(model, False),
                             headers=headers) as response:
            return response.status, await response.json(), time.monotonic()

    stopped = asyncio.create_task(ask("inflight-c", late))
    spared = asyncio.create_task(ask("inflight-d", other))
    await asyncio.sleep(0.5)
    engaged = await engage(http, guard, "inflight-c", "block")
    status, body, answered = await stopped
    assert status == 503 and body["error"]["code"] == "kill_switch_engaged"
    assert body["error"]["message"] == PAUSED  # the stream's wording, word for word
    assert answered - engaged < 1.5, answered - engaged
    status, body, _ = await spared
    assert status == 200 and body["choices"][0]["message"]["content"]


@contextlib.asynccontextmanager
async def checked_slowly(tmp_path: Path, stage: str) -> AsyncIterator[tuple[MockUpstream, GuardServer]]:
    """guard whose one rule, on `stage`, reads a remote classifier that answers in 1.5 s (as a
    Llama Guard service may), in front of the stand-in model."""

    async def verdict(request: web.Request) -> web.Response:
        await asyncio.sleep(1.5)
        return web.json_response({"labels": [], "score": 0.0})

    app = web.Application()
    app.router.add_post("/classify", verdict)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    (tmp_path / "slow.yaml").write_text(yaml.safe_dump({
        "name": "slow", "version": "1",
        "classifiers": {"hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/classify",
                                 "timeout_s": 3}},
        "rules": [{"name": "hook", "stage": stage, "when": {"classifier": "hook"},
                   "action": "block"}]}))
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(tmp_path / "slow.yaml")},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    start_together(mock, guard)
    try:
        yield mock, guard
    finally:
        guard.stop()
        mock.stop()
        await runner.cleanup()


async def test_a_switch_engaged_while_the_prompt_is_checked_stops_it_before_the_model(
        tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """From a probe: a prompt whose check was under way when a switch was engaged went on to
    the model and its answer to the client, 1.3 s after the engage was confirmed. The gate is
    asked again once the prompt is checked: the client gets the switch's 503 and the model never
    sees the prompt."""
    async with checked_slowly(tmp_path, "prompt") as (mock, guard):
        asked = asyncio.ensure_future(http.post(
            f"{guard.url}/v1/chat/completions", json=chat("checked-slowly", False),
            headers={"X-Request-Id": "checked-slowly-1"}))
        await asyncio.sleep(0.2)
        await engage(http, guard, "checked-slowly", "block")
        async with await asked as response:
            assert response.status == 503, await response.text()
            assert PAUSED in await response.text()
        seen = httpx.get(f"{mock.url}/_mock/requests").json()
        assert not any(r.get("request_id") == "checked-slowly-1" for r in seen)


async def test_a_switch_engaged_while_streamed_text_is_checked_keeps_it_back(
        tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """From a re-probe: a switch engaged while a stream's held text was being checked let the
    whole answer out after the check, ending with [DONE]. Released text meets the gate first:
    the stream ends with the switch's error event, the held text never sent."""
    async with checked_slowly(tmp_path, "completion") as (_, guard), http.post(
            f"{guard.url}/v1/chat/completions", json=chat("streamed-slowly", True),
            headers={"X-Mock-Reply": "held until its check passes"}) as response:
        assert response.status == 200
        await asyncio.sleep(0.6)
        await engage(http, guard, "streamed-slowly", "block")
        received = (await response.content.read()).decode()
    assert "kill_switch_engaged" in received and PAUSED in received
    assert "held until" not in received and "[DONE]" not in received


def sse_events(raw: str) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in raw.splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"]


@pytest.mark.parametrize("route", ["/v1/messages", "/v1/responses"])
async def test_a_refusing_switch_during_a_typed_streams_check_ends_it_in_shape(
        tmp_path: Path, http: aiohttp.ClientSession, route: str) -> None:
    """From a probe: a switch in refuse mode engaged while a typed stream's text was checked
    dropped the events the check had encoded (the message's start, a block's opening), yet the
    ending was built as though the client had them: Messages sent message_stop with block 0
    never closed and no refusal (the Anthropic SDK raised), Responses a response.incomplete
    numbered 22 with no response.created. The ending now follows what the client was sent."""
    body = ({"model": "typed-slowly", "stream": True, "max_tokens": 64,
             "messages": [{"role": "user", "content": "tell me"}]} if route == "/v1/messages"
            else {"model": "typed-slowly", "stream": True, "input": "tell me"})
    async with checked_slowly(tmp_path, "completion") as (_, guard), http.post(
            f"{guard.url}{route}", json=body,
            headers={"X-Mock-Reply": f"held until its check passes {route}"}) as response:
        assert response.status == 200
        await asyncio.sleep(0.6)
        await engage(http, guard, "typed-slowly", "refuse")
        events = sse_events((await response.content.read()).decode())
    assert "held until" not in orjson.dumps(events).decode()
    kinds = [event["type"] for event in events]
    if route == "/v1/messages":
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
        opened = {e["index"] for e in events if e["type"] == "content_block_start"}
        closed = {e["index"] for e in events if e["type"] == "content_block_stop"}
        assert opened == closed, kinds
        assert [e["delta"]["stop_reason"] for e in events if e["type"] == "message_delta"] == [
            "refusal"]
    else:
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds
        assert [e["sequence_number"] for e in events] == list(range(len(events)))
        # the refusal is the last item; before it, each item the client had seen opened before
        # the switch (whether the message's opening went out first depends on timing), listed
        # incomplete, with the text it was sent
        *before, refusal = events[-1]["response"]["output"]
        assert refusal["content"] == [{"type": "refusal", "refusal": PAUSED}]
        seen = sorted(e["output_index"] for e in events if e["type"] == "response.output_item.added")
        assert seen == list(range(len(before) + 1)), kinds
        assert all(item["status"] == "incomplete" for item in before), before


# -- a refusal in as many choices as asked -------------------------------------------------------

def choice_indices(answer: Any) -> list[int]:
    """The choice indices of a whole answer, or of a stream's chunks (each once)."""
    if isinstance(answer, openai.Stream):
        return sorted({choice.index for chunk in answer for choice in chunk.choices})
    return [choice.index for choice in answer.choices]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_refusal_has_as_many_choices_as_were_asked(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession,
        stream: bool) -> None:
    """A refuse-mode switch answered one choice where several were asked (chat `n=2`: 1; a
    legacy list of 2 prompts with `n=2`: 1 of 4), as a policy cut does not: an app reading
    `choices[1]` raised IndexError, though refuse mode is there so client applications keep
    working. Now each choice asked carries the refusal; a usage chunk still ends a stream
    asking for it."""
    _, guard = servers
    model = f"refuse-n-{stream}"
    await engage(http, guard, model, "refuse")
    sdk = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                                          max_retries=0))
    asked: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}} \
        if stream else {}
    chat_answer = sdk.chat.completions.create(
        model=model, n=2, messages=[{"role": "user", "content": "tell me"}], **asked)
    legacy_answer = sdk.completions.create(model=model, prompt=["a", "b"], n=2, **asked)
    assert choice_indices(chat_answer) == [0, 1]
    assert choice_indices(legacy_answer) == [0, 1, 2, 3]
    if not stream:  # each choice the refusal, whole
        assert {(c.message.content, c.finish_reason) for c in chat_answer.choices} == {
            (PAUSED, "content_filter")}
        assert {(c.text, c.finish_reason) for c in legacy_answer.choices} == {
            (PAUSED, "content_filter")}
        return
    chunks = list(sdk.chat.completions.create(
        model=model, n=3, messages=[{"role": "user", "content": "tell me"}], **asked))
    texts = {i: "".join(c.delta.content or "" for ch in chunks for c in ch.choices if c.index == i)
             for i in range(3)}
    assert texts == dict.fromkeys(range(3), PAUSED)
    assert sorted(c.index for ch in chunks for c in ch.choices
                  if c.finish_reason == "content_filter") == [0, 1, 2]
    assert [ch.usage.total_tokens for ch in chunks if ch.usage] == [0]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_refusal_writes_at_most_so_many_choices(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession,
        stream: bool) -> None:
    """A legacy list of 2,048 prompts with `n=128` (a 10 KB body) asks for 262,144 choices: a
    refusal in each made that request a 115 MB answer (streamed). Guard writes the first
    MAX_CHOICES_WRITTEN of them."""
    _, guard = servers
    model = f"refuse-many-{stream}"
    await engage(http, guard, model, "refuse")
    async with http.post(f"{guard.url}/v1/completions", json={
            "model": model, "prompt": ["a"] * 2048, "n": 128, "stream": stream}) as response:
        assert response.status == 200
        body = await response.read()
    if stream:
        chunks = [orjson.loads(line[6:]) for line in body.splitlines()
                  if line.startswith(b"data: {")]
        indices = {choice["index"] for chunk in chunks for choice in chunk["choices"]}
    else:
        indices = {choice["index"] for choice in orjson.loads(body)["choices"]}
    assert indices == set(range(MAX_CHOICES_WRITTEN)), len(indices)


async def test_a_request_waiting_for_its_answer_is_refused_in_every_choice_asked(
        servers: tuple[MockUpstream, GuardServer], http: aiohttp.ClientSession) -> None:
    """A refuse-mode switch engaged while a request asking `n=2` waits for the model: its
    refusal has 2 choices (it had 1)."""
    _, guard = servers
    async with openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                                  max_retries=0) as sdk:
        waiting = asyncio.create_task(sdk.chat.completions.create(
            model="refuse-n-waiting", n=2, messages=[{"role": "user", "content": "tell me"}],
            extra_headers={"X-Mock-Latency-Ms": "6000"}))
        await asyncio.sleep(0.5)
        await engage(http, guard, "refuse-n-waiting", "refuse")
        answer = await waiting
    assert [(c.index, c.message.content) for c in answer.choices] == [(0, PAUSED), (1, PAUSED)]
