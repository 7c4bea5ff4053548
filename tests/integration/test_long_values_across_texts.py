"""A value longer than the secrets classifier's reach (a PEM private key of ~1,650 characters, a
base64 run of ~650 hiding a GitHub token) cut across two texts, at 20, 50 and 80% of its length,
through a real `guard serve`: each piece is masked, in answers (Anthropic Messages blocks,
Responses output parts with the openai SDK; whole and streamed) and in prompts (chat messages,
Responses input parts, Messages content parts, as the upstream receives them)."""

from __future__ import annotations

import base64
import json
import random
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support import (
    GuardServer,
    MockUpstream,
    guard_with_scripted_upstream,
    messages_answer,
    scripted,
    typed_events,
)

pytestmark = pytest.mark.timeout(120)

POLICY = """
name: default
version: "1"
classifiers:
  secrets: {type: secrets, decoded: true}
rules:
  - {name: secrets, stage: both, when: {classifier: secrets}, action: redact}
streaming: {mode: buffered}
"""

_RANDOM = random.Random(3)
_BODY = "".join(_RANDOM.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                for _ in range(1600))
PEM = ("-----BEGIN PRIVATE KEY-----\n" + "\n".join(_BODY[i:i + 64] for i in range(0, 1600, 64))
       + "\n-----END PRIVATE KEY-----")
# as YAML holds it (`tls.key: |`): the run goes on through each line break and its indentation
INDENTED_PEM = "\n".join("  " + line for line in PEM.split("\n"))
GITHUB = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5"  # synthetic, not a live token
ENCODED = base64.b64encode(f"token {GITHUB} and more words here to pad it out ".encode() * 6
                           ).decode()
VALUES = {"pem": PEM, "base64": ENCODED}
CUTS = (0.2, 0.5, 0.8)


def pieces(value: str, at: float) -> tuple[str, str]:
    """The two texts `value` is cut into at `at` of its length, with words around it."""
    cut = int(len(value) * at)
    return "here: " + value[:cut], value[cut:] + " end"


def in_clear(value: str, shown: str) -> list[str]:
    """The stretches of 24 characters of `value` (every 12th on) that `shown` holds."""
    return [value[i:i + 24] for i in range(0, len(value) - 24, 12) if value[i:i + 24] in shown]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GuardServer, MockUpstream]]:
    work = tmp_path_factory.mktemp("long_values")
    (work / "policies").mkdir()
    (work / "policies" / "default.yaml").write_text(POLICY, encoding="utf-8")
    with guard_with_scripted_upstream(work, policies=work / "policies") as (mock, server):
        yield server, mock


def responses_answer(guard: GuardServer, texts: tuple[str, str], stream: bool) -> list[str]:
    """Each output part of a Responses answer made of `texts`, as the openai SDK reads it."""
    parts = [{"type": "output_text", "text": text, "annotations": []} for text in texts]
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
            "content": parts}
    done = {"id": "resp_1", "object": "response", "created_at": 0, "status": "completed",
            "model": "hostile", "output": [item], "parallel_tool_calls": False,
            "tool_choice": "auto", "tools": []}
    script: Any = done
    if stream:
        script = [{"type": "response.created", "response": {**done, "status": "in_progress",
                                                            "output": []}},
                  {"type": "response.output_item.added", "output_index": 0,
                   "item": {**item, "status": "in_progress", "content": []}}]
        for index, text in enumerate(texts):
            where = {"output_index": 0, "item_id": "msg_1", "content_index": index}
            script += [{"type": "response.content_part.added", **where,
                        "part": {"type": "output_text", "text": "", "annotations": []}},
                       {"type": "response.output_text.delta", **where, "delta": text},
                       {"type": "response.output_text.done", **where, "text": text},
                       {"type": "response.content_part.done", **where, "part": parts[index]}]
        # the texts once in their deltas and done events, not in the closing ones: the
        # script is one header, of 8 KB at most
        script += [{"type": "response.output_item.done", "output_index": 0,
                    "item": {**item, "content": []}},
                   {"type": "response.completed", "response": {**done, "output": []}}]
        for n, event in enumerate(script):
            event["sequence_number"] = n
    client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                           default_headers={"X-Hostile-Events": scripted(script)})
    if not stream:
        answer = client.responses.create(model="hostile", input="hi")
        return [part.text for part in answer.output[0].content]  # type: ignore[union-attr]
    shown = [""] * len(texts)
    for event in client.responses.create(model="hostile", input="hi", stream=True):
        if event.type == "response.output_text.delta":
            shown[event.content_index] += event.delta
    return shown


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("api", ["messages", "responses"])
@pytest.mark.parametrize("at", CUTS)
@pytest.mark.parametrize("name", VALUES)
def test_a_long_value_cut_across_answer_texts_is_masked_in_both(
        guard: tuple[GuardServer, MockUpstream], name: str, at: float, api: str,
        stream: bool) -> None:
    """Both pieces of a value longer than the classifier's reach, cut across two answer texts,
    are masked: none of its characters reach the client."""
    server, _ = guard
    value = VALUES[name]
    read = messages_answer if api == "messages" else responses_answer
    shown = read(server, pieces(value, at), stream)
    assert "[REDACTED:secret:" in shown[1], shown[1][:200]
    assert in_clear(value, "\n".join(shown)) == []


def prompt_request(shape: str, texts: tuple[str, str], case: str) -> tuple[str, dict[str, Any]]:
    """A request whose user turn is `texts` in two pieces: chat messages, Responses input parts,
    Messages content parts."""
    if shape == "chat":
        return "/v1/chat/completions", {"model": "m", "messages": [
            {"role": "user", "content": texts[0]}, {"role": "user", "content": texts[1]}],
            "user": case}
    if shape == "responses":
        return "/v1/responses", {"model": "m", "input": [{"role": "user", "content": [
            {"type": "input_text", "text": text} for text in texts]}], "user": case}
    return "/v1/messages", {"model": "m", "max_tokens": 16, "metadata": {"user_id": case},
                            "messages": [{"role": "user", "content": [
                                {"type": "text", "text": text} for text in texts]}]}


@pytest.mark.parametrize("shape", ["chat", "responses", "messages"])
@pytest.mark.parametrize("at", CUTS)
@pytest.mark.parametrize("name", VALUES)
def test_a_long_value_cut_across_prompt_texts_is_masked_in_both(
        guard: tuple[GuardServer, MockUpstream], name: str, at: float, shape: str) -> None:
    """Both pieces of a value longer than the classifier's reach, sent in two prompt texts, are
    masked before the upstream receives them."""
    server, mock = guard
    value = VALUES[name]
    case = f"{name}-{at}-{shape}"
    path, body = prompt_request(shape, pieces(value, at), case)
    got = httpx.post(server.url + path, json=body, timeout=30, headers={
        "anthropic-version": "2023-06-01", "x-api-key": "k", "authorization": "Bearer k"})
    assert got.status_code == 200, got.text
    seen = [r["body"] for r in httpx.get(f"{mock.url}/_mock/requests").json()
            if case in json.dumps(r["body"])]
    assert len(seen) == 1
    forwarded = json.dumps(seen[0], ensure_ascii=False)
    assert "[REDACTED:secret:" in forwarded
    assert in_clear(json.dumps(value)[1:-1], forwarded) == []


@pytest.mark.parametrize("key", [PEM, INDENTED_PEM], ids=["flat", "indented"])
@pytest.mark.parametrize("api", ["messages", "chat"])
@pytest.mark.parametrize("chunk", [5, 64])
def test_a_long_value_streamed_a_few_characters_a_delta_is_masked_whole(
        guard: tuple[GuardServer, MockUpstream], chunk: int, api: str, key: str) -> None:
    """A PEM key in one answer text, flat or indented, streamed `chunk` characters a delta, is
    masked whole: each window read past its BEGIN line starts inside the run its opening was
    found to cover (only the BEGIN line and ~300 characters had been masked, ~1,300 of its body
    sent; indented, 111 of its 143 stretches of 24 once it was)."""
    server, _ = guard
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k", "authorization": "Bearer k",
               "X-Mock-Reply": urllib.parse.quote("here: " + key + " end"),
               "X-Mock-Chunk-Chars": str(chunk)}
    path = "/v1/messages" if api == "messages" else "/v1/chat/completions"
    got = httpx.post(server.url + path, timeout=30, headers=headers, json={
        "model": "m", "max_tokens": 64, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]})
    assert got.status_code == 200, got.text
    if api == "messages":
        shown = "".join(event["delta"]["text"] for event in typed_events(got.text)
                        if event["type"] == "content_block_delta")
    else:
        chunks = [json.loads(line[6:]) for line in got.text.splitlines()
                  if line.startswith("data: {")]
        shown = "".join(choice["delta"].get("content") or "" for chunk in chunks
                        for choice in chunk["choices"])
    assert "[REDACTED:secret:" in shown, shown[:200]
    assert in_clear(key, shown) == []
