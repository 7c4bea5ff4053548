"""What a chat (and legacy) stream carries beside its choices' text reaches the client read, or
not at all: an `error` event's strings (the openai SDK raises them as an APIError's message),
text after `[DONE]` on its line, SSE comments and `id:` lines, a string in `usage`. A cut
stream's closing chunk names its incident and rules (`guard`), as a blocked prompt's error does:
the stream's headers went out before the answer was read. Real `guard serve` with the default
pack in front of a scripted upstream; the openai SDK and the raw bytes as the oracle."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support import OpenAIRouteClient, journal_incidents, scripted_route

pytestmark = pytest.mark.timeout(60)

SECRET = "ghp_EnvelopeLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8"  # a GitHub token's shape: default.yaml blocks it
EMAIL = "envelope.leak.5521@example.org"            # default.yaml masks it in answers
MASKED = "[REDACTED:pii:email]"
TOKEN = "envelope-admin-token-0123456789"


class Servers(OpenAIRouteClient):
    route = "/v1/chat/completions"
    defaults = {"model": "hostile", "messages": [{"role": "user", "content": "hi"}],
                "stream": True}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with scripted_route(Servers, tmp_path_factory.mktemp("envelope"), TOKEN) as servers:
        yield servers


def event(body: dict[str, Any]) -> str:
    return "data: " + json.dumps(body) + "\n\n"


def chat(content: str | None = None, finish: str | None = None, **more: Any) -> str:
    delta = {} if content is None else {"role": "assistant", "content": content}
    return event({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "hostile",
                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more})


def legacy(text: str) -> str:
    return event({"id": "c1", "object": "text_completion", "created": 1, "model": "hostile",
                  "choices": [{"index": 0, "text": text, "finish_reason": None,
                               "logprobs": None}]})


def scripted(stream: str) -> dict[str, str]:
    """Headers making the scripted upstream stream these exact bytes."""
    return {"X-Hostile-Body": urllib.parse.quote(stream), "X-Hostile-Type": "text/event-stream"}


def sdk_chat(servers: Servers, stream: str) -> tuple[str, str]:
    """What an app using the openai SDK gets of a chat stream: its text, and an error's message."""
    text = ""
    try:
        for chunk in servers.client.chat.completions.create(
                model="hostile", stream=True, messages=[{"role": "user", "content": "hi"}],
                extra_headers=scripted(stream)):
            text += "".join(choice.delta.content or "" for choice in chunk.choices)
    except openai.APIError as exc:
        return text, exc.message
    return text, ""


def test_an_error_events_message_is_read(servers: Servers) -> None:
    """`data: {"error": ...}` after some text: the SDK raises it, its message shown or logged
    (it passed unread: the whole key reached the app as the APIError's message). Now the key
    cuts the stream, the text held before it dropped with it."""
    stream = chat("Your key is on its way.") + event({"error": {"message": f"boom {SECRET}"}})
    raw = servers.raw({}, **scripted(stream))
    assert raw.status_code == 200 and SECRET[:12] not in raw.text
    assert '"finish_reason":"content_filter"' in raw.text
    text, error = sdk_chat(servers, stream)
    assert SECRET[:12] not in text + error and error == ""


def test_an_error_events_address_is_masked(servers: Servers) -> None:
    stream = chat("Hello.") + event({"error": {"message": f"write to {EMAIL}",
                                               "code": "failed"}})
    text, error = sdk_chat(servers, stream)
    assert (text, error) == ("Hello.", f"write to {MASKED}")


def test_a_legacy_streams_error_event_is_read(servers: Servers) -> None:
    stream = legacy("Hello.") + event({"error": {"message": f"boom {SECRET}"}})
    raw = httpx.post(f"{servers.guard.url}/v1/completions", headers=scripted(stream), timeout=20,
                     json={"model": "hostile", "prompt": "hi", "stream": True})
    assert SECRET[:12] not in raw.text and '"finish_reason":"content_filter"' in raw.text
    masked = legacy("Hello.") + event({"error": {"message": f"write to {EMAIL}"}})
    seen = ""
    with pytest.raises(openai.APIError) as raised:
        for chunk in servers.client.completions.create(model="hostile", prompt="hi", stream=True,
                                                        extra_headers=scripted(masked)):
            seen += "".join(choice.text for choice in chunk.choices)
    assert (seen, raised.value.message) == ("Hello.", f"write to {MASKED}")


def test_text_after_done_on_its_line_does_not_reach_the_client(servers: Servers) -> None:
    """`data: [DONE] <key>`: the SDK stops there, a client reading the bytes reads on."""
    raw = servers.raw({}, **scripted(chat("Hello.") + f"data: [DONE] {SECRET}\n\n"))
    assert SECRET[:12] not in raw.text and raw.text.endswith("data: [DONE]\n\n")


def test_sse_comments_and_ids_do_not_reach_the_client(servers: Servers) -> None:
    """A comment line (`: <key>`), alone or in an event, and an `id:` line: a client reading the
    bytes reads them; a comment alone still goes out, emptied (a keep-alive)."""
    stream = (f": {SECRET}\n\n" + f": {SECRET}\nid: {SECRET}\n" + chat("Hello.")
              + chat(None, "stop") + "data: [DONE]\n\n")
    raw = servers.raw({}, **scripted(stream))
    assert raw.status_code == 200 and SECRET[:12] not in raw.text
    assert raw.text.startswith(":\n\n") and "Hello." in raw.text
    assert sdk_chat(servers, stream) == ("Hello.", "")


def test_a_string_in_usage_is_read(servers: Servers) -> None:
    """An upstream's `usage` with a key of text beside the counts: a key cuts the stream, an
    address is masked; the counts go out as they came."""
    counts = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    blocked = chat("Hello.", "stop") + event({
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "hostile",
        "choices": [], "usage": {**counts, "note": SECRET}}) + "data: [DONE]\n\n"
    raw = servers.raw({}, **scripted(blocked))
    assert raw.status_code == 200 and SECRET[:12] not in raw.text
    masked = blocked.replace(SECRET, f"mail {EMAIL}")
    chunks = list(servers.client.chat.completions.create(
        model="hostile", stream=True, messages=[{"role": "user", "content": "hi"}],
        extra_headers=scripted(masked)))
    usage = chunks[-1].usage
    assert usage is not None and usage.total_tokens == 2
    assert (usage.model_extra or {})["note"] == f"mail {MASKED}"


def test_a_cut_streams_closing_chunk_names_its_incident(servers: Servers) -> None:
    """The headers went out saying `allow` (the prompt's decision) before the answer was read:
    the chunk ending the cut carries the incident id and rules, as a blocked prompt's error
    does (`guard: {incident_id, rules}`); that incident is in the journal."""
    stream = chat("Here: ") + chat(f"the key is {SECRET} ok") + chat(None, "stop")
    raw = servers.raw({}, **scripted(stream + "data: [DONE]\n\n"))
    assert raw.headers["X-Guard-Decision"] == "allow"
    closing = [json.loads(line[6:]) for line in raw.text.split("\n")
               if line.startswith("data: {") and "content_filter" in line]
    assert len(closing) == 1
    carried = closing[0]["guard"]
    assert carried["rules"] == ["secrets"] and carried["incident_id"].startswith("inc-")
    journaled = journal_incidents(servers.guard, raw.headers["X-Request-Id"])
    assert carried["incident_id"] in {incident["id"] for incident in journaled}
    chunks = list(servers.client.chat.completions.create(
        model="hostile", stream=True, messages=[{"role": "user", "content": "hi"}],
        extra_headers=scripted(stream + "data: [DONE]\n\n")))
    last = chunks[-1]
    assert last.choices[0].finish_reason == "content_filter"
    assert (last.model_extra or {})["guard"]["rules"] == ["secrets"]
