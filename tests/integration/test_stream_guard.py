"""The stream guard on real sockets: guard's data app with the real policy store and the real
`secrets`/`pii` classifiers in front of the stand-in model, with the openai SDK as client."""

from __future__ import annotations

import gzip
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from guard.app import build_components, data_runner
from guard.classify.runner import ClassifierRunner
from guard.components import Components
from guard.config import Settings, UpstreamSettings
from guard.mock_upstream import build_app
from guard.policy.store import PolicyStore
from tests.support import apps_serving, free_port
from tests.unit.proxy.test_stream_guard_inspector import ListRecorder

pytestmark = pytest.mark.timeout(60)

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
EMAIL = "jane.doe@example.com"
MASK = "[REDACTED:pii:email]"

POLICY = """
name: {name}
version: "t1"
{scope}
classifiers:
  secrets: {{type: secrets}}
  pii: {{type: pii, entities: [email, card]}}
rules:
  - {{name: secrets-leak, stage: completion, when: {{classifier: secrets}}, action: block,
     severity: critical, category: secrets}}
  - {{name: pii-mask, stage: completion, when: {{classifier: pii}}, action: redact,
     severity: medium, category: pii}}
streaming: {{mode: {mode}, check_chars: 16, max_holdback_ms: {max_ms}}}
"""


@dataclass
class Stack:
    """guard (in-process, on a real port) in front of the stand-in model."""

    url: str
    upstream: str
    components: Components
    recorder: ListRecorder

    def client(self, reply: str | None = None, **headers: str) -> openai.AsyncOpenAI:
        if reply is not None:
            headers["X-Mock-Reply"] = urllib.parse.quote(reply)
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key="sk-client", max_retries=0,
                                  default_headers=headers)

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        return self.components.metrics.registry.get_sample_value(name, labels or {})


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Policies: buffered by default, optimistic for models `fast-*`, slow releases `slow-*`."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY.format(
        name="default", scope="", mode="buffered", max_ms=250))
    (policies / "fast.yaml").write_text(POLICY.format(
        name="fast", scope="scope: {models: [fast-*]}", mode="optimistic", max_ms=250))
    (policies / "slow.yaml").write_text(POLICY.format(
        name="slow", scope="scope: {models: [slow-*]}", mode="buffered", max_ms=150))
    upstream_port, port = free_port(), free_port()
    settings = Settings(
        listen=f"127.0.0.1:{port}", admin_listen=f"127.0.0.1:{free_port()}",
        state_dir=tmp_path / "state",
        upstreams={"default": UpstreamSettings(url=f"http://127.0.0.1:{upstream_port}",
                                               timeout_s=10)}, policies=policies)
    components = build_components(settings)
    components.policies = PolicyStore(policies, ClassifierRunner(components.metrics),
                                      components.metrics)
    recorder = ListRecorder()
    components.recorder = recorder
    async with apps_serving((build_app(chunk_chars=4), upstream_port),
                            (data_runner(components), port)):
        yield Stack(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{upstream_port}", components,
                    recorder)


async def collect(stream: Any) -> tuple[str, str | None]:
    text, finish = [], None
    async for chunk in stream:
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    return "".join(text), finish


@pytest.mark.parametrize("chunk_chars", [1, 3, 7])
async def test_secret_cut_ends_cleanly_in_the_sdk(stack: Stack, chunk_chars: int) -> None:
    """Buffered: a key in a streamed answer never reaches the SDK, which ends on content_filter."""
    reply = f"Here is the key you asked for: {AWS_KEY} and some more words after it."
    async with stack.client(reply, **{"X-Mock-Chunk-Chars": str(chunk_chars)}) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "key?"}], stream=True)
        text, finish = await collect(stream)
    assert finish == "content_filter"
    assert AWS_KEY[:4] not in text and reply.startswith(text)
    kind, details = stack.recorder.events[-1]
    assert (kind, details["rule"], details["offset"]) == ("stream_cut", "secrets-leak",
                                                          reply.index(AWS_KEY))
    assert stack.metric("guard_stream_cutoffs_total", {"rule": "secrets-leak"}) == 1.0


async def test_cut_closes_the_upstream(stack: Stack) -> None:
    """A cut mid-stream closes the upstream request, so the model stops generating."""
    reply = f"The key is {AWS_KEY}. " + "and then a long tail of harmless words " * 12
    headers = {"X-Mock-Chunk-Delay-Ms": "20", "X-Request-Id": f"cut-{time.time_ns()}"}
    async with stack.client(reply, **headers) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "k"}], stream=True)
        _, finish = await collect(stream)
    assert finish == "content_filter"
    async with httpx.AsyncClient() as http:
        seen = (await http.get(f"{stack.upstream}/_mock/requests")).json()
    assert any(r.get("aborted") and r.get("request_id") == headers["X-Request-Id"]
               for r in seen)


@pytest.mark.parametrize("chunk_chars", [1, 2, 5, 11])
async def test_email_is_redacted_across_chunks(stack: Stack, chunk_chars: int) -> None:
    """Buffered: an e-mail split over chunks comes out masked; the rest of the text is intact."""
    reply = f"Please write to {EMAIL} with the details, and we will answer."
    async with stack.client(reply, **{"X-Mock-Chunk-Chars": str(chunk_chars)}) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "who?"}], stream=True)
        text, finish = await collect(stream)
    assert (text, finish) == (reply.replace(EMAIL, MASK), "stop")
    assert stack.metric("guard_decisions_total", {
        "stage": "completion", "action": "redact", "mode": "enforce", "rule": "pii-mask",
        "model": "m"}) == 1.0


async def test_optimistic_cut_ends_cleanly_in_the_sdk(stack: Stack) -> None:
    """Optimistic: the stream is cut as soon as the check fails; the SDK ends on content_filter."""
    reply = "Some harmless words come first, then the key " + AWS_KEY + " and more text here."
    async with stack.client(reply) as client:
        stream = await client.chat.completions.create(
            model="fast-1", messages=[{"role": "user", "content": "k"}], stream=True)
        text, finish = await collect(stream)
    assert finish == "content_filter"
    assert reply.startswith(text) and len(text) < len(reply)
    assert stack.recorder.events[-1][1]["mode"] == "optimistic"


async def test_tool_call_arguments_are_redacted(stack: Stack) -> None:
    """Streamed tool-call arguments are guarded; the SDK accumulates a masked, valid call."""
    args = orjson.dumps({"to": EMAIL, "body": "the quarterly report is attached"}).decode()
    async with stack.client(None, **{"X-Mock-Tool-Args": args, "X-Mock-Chunk-Chars": "3"}
                            ) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "mail"}], stream=True)
        calls: dict[int, dict[str, str]] = {}
        finish = None
        async for chunk in stream:
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                for call in choice.delta.tool_calls or ():
                    got = calls.setdefault(call.index, {"name": "", "args": ""})
                    if call.function and call.function.name:
                        got["name"] = call.function.name
                    got["args"] += (call.function.arguments or "") if call.function else ""
    assert finish == "tool_calls"
    assert calls[0]["name"] == "lookup"
    assert orjson.loads(calls[0]["args"]) == {"to": MASK,
                                              "body": "the quarterly report is attached"}


@pytest.mark.parametrize("model", ["m", "fast-m"], ids=["buffered", "optimistic"])
async def test_a_cut_finishes_the_choices_not_begun(stack: Stack, model: str) -> None:
    """An upstream streaming its choices one after another, cut in choice 0 of `n=3`: the
    stream finished choice 0 alone, so an app waiting for each index's finish_reason waited
    for 2 that never came. Each choice asked now ends `content_filter`, those not begun with
    no text."""
    reply = f"The key is {AWS_KEY}. " + "and then a long tail of harmless words " * 12
    headers = {"X-Mock-Choice-Order": "sequential", "X-Mock-Chunk-Delay-Ms": "5"}
    async with stack.client(reply, **headers) as client:
        stream = await client.chat.completions.create(
            model=model, n=3, messages=[{"role": "user", "content": "key?"}], stream=True)
        chunks = [chunk async for chunk in stream]
    finished = {c.index: c.finish_reason for ch in chunks for c in ch.choices if c.finish_reason}
    assert finished == dict.fromkeys(range(3), "content_filter")
    assert [c.delta.content for ch in chunks for c in ch.choices if c.index > 0] == [None, None]


async def test_completions_n2_with_usage(stack: Stack) -> None:
    """Legacy completions, n=2, include_usage: both choices masked, usage chunk passes through."""
    reply = f"Contact {EMAIL} today, the office opens at nine in the morning."
    async with stack.client(reply, **{"X-Mock-Chunk-Chars": "5"}) as client:
        stream = await client.completions.create(
            model="m", prompt="who?", stream=True, n=2, stream_options={"include_usage": True})
        texts: dict[int, str] = {}
        usage = None
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + choice.text
    want = reply.replace(EMAIL, MASK)
    assert texts == {0: want, 1: want}
    assert usage is not None and usage.total_tokens > 0


async def test_slow_stream_respects_max_holdback(stack: Stack) -> None:
    """Chunks 500 ms apart: classified text reaches the client ~max_holdback_ms after it was
    produced, not when the next chunk comes; a value inside a chunk is still masked."""
    pieces = [f"Mail {EMAIL} now. ", "Second part here. ", "The end of it."]
    reply = "".join(pieces)
    body = {"model": "slow-1", "stream": True, "messages": [{"role": "user", "content": "s"}]}
    headers = {"X-Mock-Reply": urllib.parse.quote(reply), "X-Mock-Chunk-Delay-Ms": "500",
               "X-Mock-Chunk-Chars": str(len(pieces[0]))}
    arrivals: list[tuple[float, str]] = []
    async with httpx.AsyncClient(timeout=10) as http:
        started = time.monotonic()
        async with http.stream("POST", f"{stack.url}/v1/chat/completions", json=body,
                               headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    for choice in orjson.loads(line[6:])["choices"]:
                        piece = choice["delta"].get("content")
                        if piece:
                            arrivals.append((time.monotonic() - started, piece))
    text = "".join(p for _, p in arrivals)
    assert text == reply.replace(EMAIL, MASK)
    first_at = arrivals[0][0]
    # produced at ~0 s, released at max_holdback_ms (150 ms), long before the next chunk (500 ms)
    assert 0.12 <= first_at < 0.45, arrivals
    second = next(t for t, p in arrivals if "Second" in p)
    assert 0.6 <= second < 0.95, arrivals
    assert stack.metric("guard_stream_holdback_seconds_count") >= 3


async def test_a_gzip_body_is_read_as_guard_serve_reads_it(stack: Stack) -> None:
    """The in-process stack runs guard as `guard serve` does (`data_runner`): a gzip body is
    decoded once, by guard. It was run with aiohttp's decoding on, which inflated it first and
    left guard a plain body under `Content-Encoding: gzip`: a 400 that `guard serve` never gives."""
    body = {"model": "m", "messages": [{"role": "user", "content": "gzip hello"}]}
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{stack.url}/v1/chat/completions", content=gzip.compress(orjson.dumps(body)),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                     "X-Mock-Reply": "fine"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "fine"


def test_guard_serve_cuts_a_stream_for_the_sdk(tmp_path: Path) -> None:
    """`guard serve` (a real process) with a policy directory cuts a leaking stream: the sync SDK
    ends on content_filter, and /metrics counts the cut under the rule's name."""
    from tests.support import guard_before_mock, stream_reply

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY.format(
        name="default", scope="", mode="buffered", max_ms=250))
    with guard_before_mock(tmp_path, policies) as guard:
        text, finish = stream_reply(guard.url, f"The key is {AWS_KEY}, keep it safe.")
        assert finish == "content_filter"
        assert AWS_KEY[:4] not in text
        metrics = guard.metrics()
        assert 'guard_stream_cutoffs_total{rule="secrets-leak"} 1.0' in metrics


def parallel_calls_stream(keys: list[str]) -> bytes:
    """A chat stream opening one tool call per key in its first chunk (empty arguments), then
    writing each call's arguments, `{"id": KEY}` in two chunks, after the one before's."""
    def chunk(calls: list[dict[str, Any]], finish: str | None = None) -> bytes:
        delta: dict[str, Any] = {"tool_calls": calls} if calls else {}
        return b"data: " + orjson.dumps({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + b"\n\n"

    events = [chunk([{"index": i, "id": f"c{i}", "type": "function",
                      "function": {"name": "f", "arguments": ""}} for i in range(len(keys))])]
    for i, key in enumerate(keys):
        events += [chunk([{"index": i, "function": {"arguments": half}}])
                   for half in ('{"id": "' + key[:10], key[10:] + '"}')]
    return b"".join([*events, chunk([], "tool_calls"), b"data: [DONE]\n\n"])


def test_guard_serve_optimistic_reads_each_tool_call_as_the_next_begins(tmp_path: Path) -> None:
    """`guard serve`, optimistic, eight parallel tool calls each ending in its own key (shorter
    than `check_chars`, no close event in a chat stream): a call's arguments are read when the
    next call's begin, so the SDK has 1 key of 8 whole before the cut, not 8 (they waited for
    the answer's end)."""
    from tests.support import GuardServer, HostileProcess, start_together

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY.format(
        name="default", scope="", mode="optimistic", max_ms=250).replace("check_chars: 16",
                                                                          "check_chars: 64"))
    hostile = HostileProcess(tmp_path, mode="scripted")
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": hostile.url}},
                                   "policies": str(policies)})
    keys = [AWS_KEY[:-1] + chr(ord("A") + i) for i in range(8)]
    args: dict[int, str] = {}
    finish = None
    try:
        start_together(hostile, guard)
        with openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                           default_headers={
                               "X-Hostile-Body": urllib.parse.quote(parallel_calls_stream(keys)),
                               "X-Hostile-Type": "text/event-stream"}) as client:
            for chunk in client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}], stream=True):
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    for call in choice.delta.tool_calls or ():
                        if call.function and call.function.arguments:
                            args[call.index] = args.get(call.index, "") + call.function.arguments
    finally:
        guard.stop()
        hostile.stop()
    assert finish == "content_filter"
    assert sum(any(key in text for text in args.values()) for key in keys) == 1
