"""What an optimistic stream ended early sent the client unread, read late through `guard serve`
(a real process) in front of the stand-in model: read as a check on time reads it (a word the
end cut off decides nothing, a value running into it is read whole), and, when that late check
cannot run, recorded as a `stream_unchecked` event rather than lost."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from tests.support import (
    GuardServer,
    MockUpstream,
    apps_serving,
    free_port,
    guard_before_mock,
    journal_incidents,
    start_together,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
POLICY = """
name: default
version: "t1"
classifiers:
  secrets: {type: secrets}
  profanity: {type: profanity}
rules:
  - {name: secrets-leak, stage: completion, when: {classifier: secrets}, action: block,
     severity: critical, category: secrets}
  - {name: profanity, stage: completion, when: {classifier: profanity}, action: flag,
     severity: low, category: profanity}
streaming: {mode: optimistic, check_chars: 64, max_holdback_ms: 60000}
"""
# every check times out: the late check cannot run
OVERLOADED = """
name: default
version: "t1"
classifiers:
  secrets: {type: secrets, timeout_s: 0.000001}
rules:
  - {name: secrets-leak, stage: completion, when: {classifier: secrets}, action: block,
     severity: critical, category: secrets}
streaming: {mode: optimistic, check_chars: 65536, max_holdback_ms: 60000}
"""


def serve(tmp_path_factory: pytest.TempPathFactory, policy: str) -> Iterator[GuardServer]:
    workdir: Path = tmp_path_factory.mktemp("late_read")
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(policy)
    with guard_before_mock(workdir, policies) as server:
        yield server


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    yield from serve(tmp_path_factory, POLICY)


@pytest.fixture(scope="module")
def overloaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    yield from serve(tmp_path_factory, OVERLOADED)


def leave_after(guard: GuardServer, reply: str, first: int) -> tuple[str, str]:
    """Stream `reply`, its first `first` characters in the first chunk and the rest 5 s later,
    hanging up once the first chunk is read: the request id, and what the client read."""
    request_id = f"late-{uuid.uuid4().hex}"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    received = ""
    with httpx.stream("POST", f"{guard.url}/v1/chat/completions", json=body, timeout=30,
                      headers={"X-Request-Id": request_id, "X-Mock-Reply": reply,
                               "X-Mock-Chunk-Chars": str(first),
                               "X-Mock-Chunk-Delay-Ms": "5000"}) as answer:
        for line in answer.iter_lines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:]).get("choices", []):
                    received += (choice.get("delta") or {}).get("content") or ""
            if len(received) >= first:
                break
    return request_id, received


def decisions(guard: GuardServer, request_id: str, wait_s: float = 10.0
              ) -> list[tuple[str, tuple[str, ...], object]]:
    return [(i["action"], tuple(i["rules"]), i["details"])
            for i in journal_incidents(guard, request_id, wait_s)]


@pytest.mark.parametrize(("reply", "sent"), [("The nightingale sang.", "The nig"),
                                             ("A cocktail party.", "A cock"),
                                             ("It was a dickens novel.", "It was a dick")])
def test_a_word_the_client_left_in_decides_nothing(guard: GuardServer, reply: str,
                                                   sent: str) -> None:
    """A client hanging up mid-word: the late check does not read the word's beginning as a
    word of the answer (it flagged `The nig`, `A cock` as profanity, marked
    `stream_ended: client_disconnected`)."""
    request_id, received = leave_after(guard, reply, len(sent))
    assert received == sent
    assert decisions(guard, request_id, wait_s=2.0) == []


def test_a_whole_word_the_client_was_sent_is_still_read_late(guard: GuardServer) -> None:
    """The late check still reads the words that went out whole."""
    request_id, received = leave_after(guard, "You dick head.", len("You dick "))
    assert received == "You dick "
    assert decisions(guard, request_id) == [
        ("flag", ("profanity",), {"stream_ended": "client_disconnected"})]


def test_a_key_the_stream_ended_in_is_read_whole(guard: GuardServer) -> None:
    """A key the client was sent as the last, unfinished-looking word is read to its end: a
    check on time leaves such a value for later, but after the end there is no later."""
    reply = f"Key: {AWS_KEY} and more"
    request_id, received = leave_after(guard, reply, len(f"Key: {AWS_KEY}"))
    assert received.endswith(AWS_KEY)
    assert decisions(guard, request_id) == [
        ("block", ("secrets-leak",), {"stream_ended": "client_disconnected"})]


@pytest.mark.parametrize("fail", ["midstream", ""])
def test_an_overloaded_late_check_records_the_text_as_unchecked(overloaded: GuardServer,
                                                                fail: str) -> None:
    """The late check timing out (the model dropped the stream, or the final check itself was
    overloaded) leaves a `stream_unchecked` event with the text's hash, not the text: the key
    went out and nothing was recorded before."""
    request_id = f"unchecked-{fail or 'end'}-{uuid.uuid4().hex}"
    reply = f"Key: {AWS_KEY} ok. " + "lorem ipsum dolor sit amet " * 20
    headers = {"X-Request-Id": request_id, "X-Mock-Reply": urllib.parse.quote(reply),
               "X-Mock-Chunk-Chars": "1000", "X-Mock-Reply-Repeat": "36",
               "X-Mock-Chunk-Delay-Ms": "20"}  # the key's chunk goes out before the end comes
    if fail:
        headers["X-Mock-Fail"] = fail
    answer = httpx.post(f"{overloaded.url}/v1/chat/completions", timeout=30, headers=headers,
                        json={"model": "m", "messages": [{"role": "user", "content": "hi"}],
                              "stream": True})
    assert AWS_KEY in answer.text
    ended = "upstream_broken" if fail else "guard_overloaded"
    assert ended in answer.text
    incidents = journal_incidents(overloaded, request_id)
    assert [(i["kind"], i["stage"], i["details"]["stream_ended"], i["details"]["mode"])
            for i in incidents] == [("stream_unchecked", "completion", ended, "optimistic")]
    (incident,) = incidents
    assert incident["details"]["chars"] > 0
    assert "1e-06 s" in incident["details"]["error"]
    assert incident["content_hash"].startswith("hmac-sha256:")
    assert AWS_KEY not in json.dumps(incident)


async def test_a_late_check_cancelled_by_shutdown_records_the_text_as_unchecked(
        tmp_path: Path) -> None:
    """A client leaves after reading a value a slow remote classifier is still reading late when
    SIGTERM comes (`shutdown_grace_s: 1`): the cancelled check leaves a `stream_unchecked` event
    (`error: cancelled`), where it had left nothing, not even a log line."""
    asked, answer = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        body = await request.json()
        if any("SECRETWORD" in segment["text"] for segment in body["segments"]):
            asked.set()
            await answer.wait()  # answered only once the test is over
        return web.json_response({"labels": [], "score": 0.0})

    app = web.Application()
    app.router.add_post("/classify", slow)
    port = free_port()
    (tmp_path / "slow.yaml").write_text(yaml.safe_dump({
        "name": "slow", "version": "1",
        "classifiers": {"hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/classify",
                                 "timeout_s": 30, "max_match_chars": 40, "cache": False}},
        "rules": [{"name": "hook", "stage": "completion", "when": {"classifier": "hook"},
                   "action": "block"}],
        "streaming": {"mode": "optimistic", "check_chars": 64, "max_holdback_ms": 60000}}))
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(tmp_path / "slow.yaml"),
                                   "shutdown_grace_s": 1})
    request_id = f"shutdown-{uuid.uuid4().hex}"
    received = ""
    async with apps_serving((app, port)):
        try:
            start_together(mock, guard)
            async with httpx.AsyncClient(timeout=30) as client, client.stream(
                    "POST", f"{guard.url}/v1/chat/completions",
                    json={"model": "m", "stream": True,
                          "messages": [{"role": "user", "content": "hi"}]},
                    headers={"X-Request-Id": request_id,
                             "X-Mock-Reply": "SECRETWORD here ok. and that is all",
                             "X-Mock-Chunk-Chars": "20",
                             "X-Mock-Chunk-Delay-Ms": "8000"}) as stream:
                async for text in stream.aiter_text():
                    received += text
                    if "SECRETWORD" in received:
                        break
            await asyncio.wait_for(asked.wait(), 20)  # the late check is under way
            assert guard.proc is not None
            guard.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(guard.proc.wait, 30) == 0
        finally:
            answer.set()
            guard.stop()
            mock.stop()
    incidents = journal_incidents(guard, request_id)
    assert [(i["kind"], i["details"]["stream_ended"], i["details"]["error"],
             i["details"]["chars"]) for i in incidents] == [
        ("stream_unchecked", "client_disconnected", "cancelled", 20)]
    assert "SECRETWORD" not in json.dumps(incidents)



def chunk(text: str) -> bytes:
    return b"data: " + json.dumps({
        "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }).encode() + b"\n\n"


async def read_through(tmp_path: Path, policy: str, first: bytes, then: bytes,
                       ) -> tuple[str, list[dict[str, Any]]]:
    """Stream from a stand-in model writing `first`, then, once the client has read text of
    it, `then` in one write, through `guard serve` with `policy`: what the client read, and the
    request's incidents."""
    read = asyncio.Event()

    async def model(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await answer.prepare(request)
        await answer.write(first)
        await read.wait()
        await answer.write(then)
        return answer

    app = web.Application()
    app.router.add_post("/v1/chat/completions", model)
    port = free_port()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(policy)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": f"http://127.0.0.1:{port}"}},
                                   "policies": str(policies)})
    request_id = f"dropped-{uuid.uuid4().hex}"
    received = ""
    async with apps_serving((app, port)):
        try:
            await asyncio.to_thread(start_together, guard)
            async with httpx.AsyncClient(timeout=30) as client, client.stream(
                    "POST", f"{guard.url}/v1/chat/completions", headers={"X-Request-Id": request_id},
                    json={"model": "m", "stream": True,
                          "messages": [{"role": "user", "content": "hi"}]}) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: {") and '"error"' not in line:
                        for choice in json.loads(line[6:]).get("choices", []):
                            received += (choice.get("delta") or {}).get("content") or ""
                        read.set()
            incidents = await asyncio.to_thread(journal_incidents, guard, request_id)
        finally:
            read.set()
            guard.stop()
    return received, incidents


async def test_text_dropped_unsent_is_not_counted_unchecked(tmp_path: Path) -> None:
    """A check overloaded on a chunk drops that chunk unsent: the `stream_unchecked` event counts
    the characters the client was sent (10,200), not those it never had (it counted 20,400)."""
    # the second chunk brings 20,400 characters, past check_chars: checked off the event loop
    # (more than OFFLOAD_CHARS), which times out
    words = "lorem ipsum " * 850
    received, incidents = await read_through(
        tmp_path, OVERLOADED.replace("65536", "16384"), chunk(words), chunk(words))
    assert received == words
    assert [(i["kind"], i["details"]["stream_ended"], i["details"]["chars"])
            for i in incidents] == [("stream_unchecked", "guard_overloaded", len(words))]


async def test_text_dropped_unsent_is_not_read_late_as_sent(tmp_path: Path) -> None:
    """The model's read after `You dick head. ` holds a key, then an event guard cannot pass (a
    key given twice): that read is dropped unsent, and the late read decides on what the client
    had, a flag, not on the key it never had (it recorded a block of `secrets-leak`)."""
    received, incidents = await read_through(
        tmp_path, POLICY, chunk("You dick head. "),
        chunk(f"Key: {AWS_KEY} ") + b'data: {"id": "c1", "id": "c1", "choices": []}\n\n')
    assert received == "You dick head. "
    assert [(i["action"], i["rules"], i["details"]) for i in incidents] == [
        ("flag", ["profanity"], {"stream_ended": "upstream_protocol_error"})]
