"""Whole chat answers in every shape a server writes text in are read before the client sees
them: text parts joined as a client joins them, a Mistral thinking part, a refusal as parts, an
audio transcript, `choices` sent as an object. Real `guard serve` with the default pack in front
of a scripted upstream, the openai SDK and the raw bytes as the oracle."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import OpenAIRouteClient, scripted_route

pytestmark = pytest.mark.timeout(60)

SECRET = "ghp_ShapeLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L1"  # a GitHub token's shape: default.yaml blocks it
EMAIL = "shapes.leak.4471@example.org"              # default.yaml masks it in answers
MASKED = "[REDACTED:pii:email]"
TOKEN = "shapes-admin-token-0123456789"


class Servers(OpenAIRouteClient):
    route = "/v1/chat/completions"
    defaults = {"model": "hostile", "messages": [{"role": "user", "content": "hi"}]}



@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with scripted_route(Servers, tmp_path_factory.mktemp("shapes"), TOKEN) as servers:
        yield servers


def answered(servers: Servers, message: dict[str, Any], **choice: Any) -> httpx.Response:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "hostile",
            "choices": choice.pop("choices", [{"index": 0, "message": message,
                                               "finish_reason": "stop", **choice}])}
    return servers.raw({}, **{"X-Hostile-Events": urllib.parse.quote(json.dumps(body))})


def parts(*texts: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text} for text in texts]


def test_a_key_split_across_text_parts_is_read_joined(servers: Servers) -> None:
    """Each part alone holds no key; a client joining them reads one (it passed before)."""
    cut = 12
    answer = answered(servers, {"role": "assistant",
                                "content": parts(f"Your key is {SECRET[:cut]}", SECRET[cut:])})
    assert answer.status_code == 200 and SECRET[:cut] not in answer.text
    assert answer.headers["X-Guard-Decision"] == "block"


def test_an_address_split_across_text_parts_is_masked_in_both(servers: Servers) -> None:
    cut = 9
    answer = answered(servers, {"role": "assistant",
                                "content": parts(f"Mail {EMAIL[:cut]}", f"{EMAIL[cut:]} today.")})
    content = answer.json()["choices"][0]["message"]["content"]
    assert [part["text"] for part in content] == [f"Mail {MASKED}", f"{MASKED} today."]


@pytest.mark.parametrize("message", [
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": parts(f"the user's key is {SECRET}")},
        {"type": "text", "text": "Done."}]},
    {"role": "assistant", "content": None, "refusal": parts(f"I won't share {SECRET}.")},
    {"role": "assistant", "content": "ok", "reasoning_content": parts(f"key {SECRET}")},
    {"role": "assistant", "content": None,
     "audio": {"id": "audio_1", "data": "UklGR", "transcript": f"the key is {SECRET}"}},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "save", "arguments": {"k": SECRET}}}]},
    {"role": "assistant", "content": "see", "annotations": [{"type": "url_citation", "url_citation": {
        "url": f"https://example.org/?k={SECRET}", "title": "docs", "start_index": 0,
        "end_index": 3}}]},
])
def test_text_in_any_shape_of_a_whole_answer_is_read(servers: Servers,
                                                      message: dict[str, Any]) -> None:
    """From a probe: each of these reached the client unread."""
    answer = answered(servers, message)
    assert "ShapeLeak" not in answer.text and answer.headers["X-Guard-Decision"] == "block"
    refused = servers.client.chat.completions.create(
        model="hostile", messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Hostile-Events": urllib.parse.quote(json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "hostile",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}))})
    assert refused.choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize(("said", "decision"), [(f"key {SECRET}", "block"),
                                                (f"mail {EMAIL}", "redact")])
def test_token_ids_go_with_a_refused_or_masked_answer(servers: Servers, route: str, said: str,
                                                      decision: str) -> None:
    """From a probe: vLLM's token ids (`return_token_ids`) came back unchanged beside a refused
    or masked text, and a client decoding them with the model's tokenizer read it. Dropped like
    log-probabilities; the prompt's (`prompt_token_ids`, the client's own text) stay."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None,
                              "token_ids": list(said.encode())}
    choice |= {"text": said} if route == "/v1/completions" else {
        "message": {"role": "assistant", "content": said}}
    body = {"id": "x", "object": "chat.completion", "created": 1, "model": "hostile",
            "choices": [choice], "prompt_token_ids": list(b"hi")}
    answer = httpx.post(f"{servers.guard.url}{route}", timeout=20,
                        json={"model": "hostile", "prompt": "hi", "return_token_ids": True,
                              "messages": [{"role": "user", "content": "hi"}]},
                        headers={"X-Hostile-Events": urllib.parse.quote(json.dumps(body))})
    assert answer.headers["X-Guard-Decision"] == decision
    assert answer.json()["choices"][0]["token_ids"] is None
    assert answer.json()["prompt_token_ids"] == list(b"hi")


def test_choices_sent_as_an_object_are_read(servers: Servers) -> None:
    """JavaScript reads `choices[0]` of an object keyed "0" as of a list."""
    answer = answered(servers, {}, choices={"0": {"index": 0, "message": {
        "role": "assistant", "content": f"key {SECRET}"}, "finish_reason": "stop"}})
    assert "ShapeLeak" not in answer.text
    assert answer.json()["choices"][0]["finish_reason"] == "content_filter"
    masked = answered(servers, {}, choices={"0": {"index": 0, "message": {
        "role": "assistant", "content": f"write to {EMAIL}"}, "finish_reason": "stop"}})
    assert masked.json()["choices"]["0"]["message"]["content"] == f"write to {MASKED}"


def test_a_whole_answer_with_a_key_spelled_in_another_case_is_refused(servers: Servers) -> None:
    """Go's encoding/json reads `Content` as `content`: guard would have passed it unread."""
    answer = answered(servers, {"role": "assistant", "Content": f"key {SECRET}"})
    assert answer.status_code == 502 and "ShapeLeak" not in answer.text
    assert answer.json()["error"]["code"] == "upstream_protocol_error"


def test_a_key_given_twice_is_refused_in_a_request_and_in_an_answer(servers: Servers) -> None:
    """A parser that keeps the first of two keys (gjson, simdjson) would read what guard did
    not: a request with one is refused before the upstream sees it, an answer with one is 502."""
    before = len(servers.seen())
    raw = (b'{"model": "m", "messages": [{"role": "user", "content": "key ' + SECRET.encode()
           + b'", "content": "hello"}]}')
    asked = httpx.post(f"{servers.guard.url}/v1/chat/completions", content=raw,
                       headers={"Content-Type": "application/json"})
    assert asked.status_code == 400 and "given twice" in asked.json()["error"]["message"]
    assert len(servers.seen()) == before
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "hostile",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "fine"}}]}
    twice = json.dumps(body).replace('"content": "fine"',
                                     f'"content": "key {SECRET}", "content": "fine"')
    answer = servers.raw({}, **{"X-Hostile-Body": urllib.parse.quote(twice)})
    assert answer.status_code == 502 and "ShapeLeak" not in answer.text
    once = servers.raw({}, **{"X-Hostile-Body": urllib.parse.quote(json.dumps(body))})
    assert once.status_code == 200 and once.json()["choices"][0]["message"]["content"] == "fine"



TWICE_IN_STREAMS = {  # route: (request, event type, event with its text at @)
    "/v1/chat/completions": (
        {"model": "hostile", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        "", '{"id":"c","object":"chat.completion.chunk","created":1,"model":"hostile",'
            '"choices":[{"index":0,"delta":{@},"finish_reason":null}]}', "content"),
    "/v1/responses": (
        {"model": "hostile", "input": "hi", "stream": True}, "response.output_text.delta",
        '{"type":"response.output_text.delta","item_id":"m","output_index":0,'
        '"content_index":0,@,"sequence_number":1}', "delta"),
    "/v1/messages": (
        {"model": "hostile", "max_tokens": 9, "stream": True,
         "messages": [{"role": "user", "content": "hi"}]}, "content_block_delta",
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta",@}}', "text"),
}


@pytest.mark.parametrize("route", sorted(TWICE_IN_STREAMS))
def test_a_key_given_twice_in_a_stream_event_ends_the_stream(servers: Servers,
                                                             route: str) -> None:
    """A client parser keeping the first of two keys would show what guard did not read (the
    last): such an event ends the stream before it goes out. Colons in the text itself (the
    cheap count's false alarm) do not."""
    body, kind, event, key = TWICE_IN_STREAMS[route]

    def streamed(text: str) -> httpx.Response:
        raw = (f"event: {kind}\n" if kind else "") + f"data: {event.replace('@', text)}\n\n"
        return httpx.post(f"{servers.guard.url}{route}", json=body, timeout=20, headers={
            "Authorization": "Bearer sk-client", "x-api-key": "sk-client",
            "anthropic-version": "2023-06-01", "X-Hostile-Type": "text/event-stream",
            "X-Hostile-Body": urllib.parse.quote(raw)})

    twice = streamed(f'"{key}":"key {SECRET}","{key}":"fine"')
    assert "ShapeLeak" not in twice.text and "upstream_protocol_error" in twice.text
    once = streamed(f'"{key}":"fine: a: b: c"')
    assert "upstream_protocol_error" not in once.text and "fine: a: b: c" in once.text
