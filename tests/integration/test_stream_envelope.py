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

import anthropic
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


# -- a chunk's other keys, whole answers, typed streams' usage -----------------------------------

def sdk_chunks(servers: Servers, stream: str, **more: Any) -> list[Any]:
    return list(servers.client.chat.completions.create(
        model="hostile", stream=True, messages=[{"role": "user", "content": "hi"}],
        extra_headers=scripted(stream), **more))


def test_a_chunks_other_keys_are_read(servers: Servers) -> None:
    """A provider's own key beside `choices` (Groq's `x_groq`), which the openai SDK keeps in
    `chunk.model_extra`: it passed unread. A key there cuts the stream, an address is masked."""
    stream = chat("Hi", x_groq={"id": "req_1", "note": SECRET}) + chat(None, "stop")
    raw = servers.raw({}, **scripted(stream + "data: [DONE]\n\n"))
    assert raw.status_code == 200 and SECRET[:12] not in raw.text
    assert '"finish_reason":"content_filter"' in raw.text
    masked = stream.replace(SECRET, f"mail {EMAIL}") + "data: [DONE]\n\n"
    chunks = sdk_chunks(servers, masked)
    notes = [(chunk.model_extra or {}).get("x_groq") for chunk in chunks]
    assert {"id": "req_1", "note": f"mail {MASKED}"} in notes
    assert EMAIL not in json.dumps(notes)


def test_a_whole_answers_other_keys_are_read(servers: Servers) -> None:
    """The same key in a whole answer: a key refuses the answer (the key beside the choices
    dropped with it), an address is masked where it sits."""
    def whole(note: str) -> dict[str, str]:
        return {"X-Hostile-Body": urllib.parse.quote(json.dumps({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "hostile",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"},
                         "finish_reason": "stop"}],
            "x_groq": {"id": "req_1", "note": note}}))}
    blocked = servers.raw({"stream": False}, **whole(SECRET))
    assert blocked.status_code == 200 and SECRET[:12] not in blocked.text
    assert blocked.json()["choices"][0]["finish_reason"] == "content_filter"
    answer = servers.client.chat.completions.create(
        model="hostile", messages=[{"role": "user", "content": "hi"}],
        extra_headers=whole(f"mail {EMAIL}"))
    assert (answer.model_extra or {})["x_groq"] == {"id": "req_1", "note": f"mail {MASKED}"}
    legacy_whole = {"id": "c1", "object": "text_completion", "created": 1, "model": "hostile",
                    "choices": [{"index": 0, "text": "Hi", "finish_reason": "stop",
                                 "logprobs": None}], "usage": {"note": SECRET}}
    raw = httpx.post(f"{servers.guard.url}/v1/completions", timeout=20,
                     headers={"X-Hostile-Body": urllib.parse.quote(json.dumps(legacy_whole))},
                     json={"model": "hostile", "prompt": "hi"})
    assert raw.status_code == 200 and SECRET[:12] not in raw.text


def test_a_providers_usual_frame_passes_as_it_came(servers: Servers) -> None:
    """What providers send beside the choices (a fingerprint, Groq's request id, OpenRouter's
    provider and cost, Azure's content filter results, an obfuscation pad) is read and, holding
    nothing, goes out as it came, streamed and whole."""
    frame = {"system_fingerprint": "fp_44709d6fcb", "service_tier": "default",
             "provider": "OpenAI", "obfuscation": "kD3xQ9",
             "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w"},
             "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
                 "hate": {"filtered": False, "severity": "safe"},
                 "jailbreak": {"filtered": False, "detected": False}}}]}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "cost": 0.0001}
    stream = (chat("The capital of France is Paris.", **frame) + chat(None, "stop", **frame)
              + event({"id": "c1", "object": "chat.completion.chunk", "created": 1,
                       "model": "hostile", "choices": [], "usage": usage, **frame})
              + "data: [DONE]\n\n")
    raw = servers.raw({"stream_options": {"include_usage": True}}, **scripted(stream))
    assert raw.headers["X-Guard-Decision"] == "allow"
    assert "content_filter\"" not in raw.text and "REDACTED" not in raw.text
    chunks = sdk_chunks(servers, stream, stream_options={"include_usage": True})
    assert all((chunk.model_extra or {})["x_groq"] == frame["x_groq"] for chunk in chunks[1:])
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 2
    whole = {"id": "c1", "object": "chat.completion", "created": 1, "model": "hostile",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."},
                          "finish_reason": "stop"}], "usage": usage, **frame}
    answer = servers.raw({"stream": False},
                         **{"X-Hostile-Body": urllib.parse.quote(json.dumps(whole))})
    assert answer.json() == whole


def test_a_cut_in_the_usage_after_every_choice_finished_is_named(servers: Servers) -> None:
    """A key in `usage` after every choice finished cuts the stream: no choice is left to end
    with `content_filter`, so the usage chunk guard sends in its place names the incident (the
    client got `stop`, a zeroed usage, and nothing naming the cut), with the upstream's counts
    (they were zeros), the key's string dropped. Asked no usage, a last chunk without choices
    names it."""
    stream = chat("Hello there.") + chat(None, "stop") + event({
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "hostile",
        "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 3,
                                 "total_tokens": 4, "x": SECRET}}) + "data: [DONE]\n\n"
    raw = servers.raw({"stream_options": {"include_usage": True}}, **scripted(stream))
    assert SECRET[:12] not in raw.text
    chunks = sdk_chunks(servers, stream, stream_options={"include_usage": True})
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.model_dump(exclude_none=True) == {
        "prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}
    carried = (last.model_extra or {})["guard"]
    assert carried["rules"] == ["secrets"]
    journaled = journal_incidents(servers.guard, raw.headers["X-Request-Id"])
    assert any(incident["id"].startswith("inc-") for incident in journaled)
    unasked = sdk_chunks(servers, stream)
    assert unasked[-1].choices == [] and unasked[-1].usage is None
    assert (unasked[-1].model_extra or {})["guard"]["rules"] == ["secrets"]
    assert sum("guard" in (chunk.model_extra or {}) for chunk in unasked) == 1


def test_the_stream_helper_reads_a_cut_in_the_usage(servers: Servers) -> None:
    """The openai SDK's stream helper (`chat.completions.stream`) on a stream cut for a key in
    its usage after every choice finished: its final completion says `stop` with the text whole
    and the upstream's counts (it had zeros), and keeps no key of the last chunk but its usage,
    so the `guard` naming the incident reaches the app in that chunk's event
    (`event.chunk.model_extra`)."""
    stream = chat("Hello there.") + chat(None, "stop") + event({
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "hostile",
        "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 3,
                                 "total_tokens": 4, "x": SECRET}}) + "data: [DONE]\n\n"
    with servers.client.chat.completions.stream(
            model="hostile", messages=[{"role": "user", "content": "hi"}],
            extra_headers=scripted(stream), stream_options={"include_usage": True}) as helper:
        named = [(e.chunk.model_extra or {}).get("guard") for e in helper if e.type == "chunk"]
        final = helper.get_final_completion()
    assert [carried["rules"] for carried in named if carried] == [["secrets"]]
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "Hello there."
    assert final.usage is not None and (final.usage.prompt_tokens, final.usage.completion_tokens,
                                        final.usage.total_tokens) == (1, 3, 4)
    assert "guard" not in (final.model_extra or {}) and SECRET not in final.model_dump_json()


def test_an_upstreams_own_guard_key_does_not_reach_the_client(servers: Servers) -> None:
    """`guard` names guard's cut: an upstream's own (a fake incident) is dropped from its
    chunks, and from the frame a cut's closing chunk is built in; the Responses and Messages
    APIs' events too."""
    fake = {"incident_id": "inc_fake", "rules": ["x"]}
    stream = chat("Hello", guard=fake) + chat(None, "stop", guard=fake) + "data: [DONE]\n\n"
    assert all("guard" not in (chunk.model_extra or {}) for chunk in sdk_chunks(servers, stream))
    cut = chat("Hello", guard=fake) + chat(f" key {SECRET} ", guard=fake) + "data: [DONE]\n\n"
    raw = servers.raw({}, **scripted(cut))
    assert "inc_fake" not in raw.text and SECRET[:12] not in raw.text
    last = sdk_chunks(servers, cut)[-1]
    assert (last.model_extra or {})["guard"]["rules"] == ["secrets"]
    response = {"id": "r1", "object": "response", "status": "in_progress", "output": [],
                "model": "hostile"}
    typed = {
        "/v1/responses": ({"input": "hi"}, [
            {"type": "response.created", "response": response, "guard": fake},
            {"type": "response.completed", "guard": fake,
             "response": {**response, "status": "completed"}}]),
        "/v1/messages": ({"max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}, [
            {"type": "message_start", "guard": fake, "message": MESSAGE},
            {"type": "message_stop", "guard": fake}]),
    }
    for route, (body, events) in typed.items():
        answer = typed_stream(servers, route, body, events)
        assert answer.status_code == 200 and "inc_fake" not in answer.text, route


MESSAGE = {"id": "m1", "type": "message", "role": "assistant", "content": [], "model": "hostile",
           "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 0}}


def typed_stream(servers: Servers, route: str, body: dict[str, Any],
                 events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(f"{servers.guard.url}{route}", timeout=20,
                      json={"model": "hostile", "stream": True, **body},
                      headers={"X-Hostile-Events": urllib.parse.quote(json.dumps(events))})


def test_typed_streams_read_their_usages_strings(servers: Servers) -> None:
    """A Responses stream's `response.completed.response.usage` and a Messages stream's
    `message_start.message.usage` (a `message_delta`'s usage was read): a key there cuts the
    stream, and the cut's ending does not repeat the usage; an address is masked."""
    response = {"id": "r1", "object": "response", "status": "in_progress", "output": [],
                "model": "hostile"}
    counts = {"input_tokens": 1, "output_tokens": 0, "total_tokens": 1}
    def responses(note: str) -> list[dict[str, Any]]:
        return [{"type": "response.created", "response": response},
                {"type": "response.completed", "response": {
                    **response, "status": "completed", "usage": {**counts, "note": note}}}]
    answer = typed_stream(servers, "/v1/responses", {"input": "hi"}, responses(SECRET))
    assert SECRET[:12] not in answer.text and "response.incomplete" in answer.text
    openai_client = openai.OpenAI(base_url=f"{servers.guard.url}/v1", api_key="sk-client",
                                  max_retries=0)
    events = list(openai_client.responses.create(
        model="hostile", input="hi", stream=True,
        extra_headers={"X-Hostile-Events": urllib.parse.quote(json.dumps(
            responses(f"mail {EMAIL}")))}))
    done = events[-1]
    assert done.type == "response.completed"
    assert (done.response.usage.model_extra or {})["note"] == f"mail {MASKED}"

    def messages(note: str) -> list[dict[str, Any]]:
        return [{"type": "message_start", "message": {
                    **MESSAGE, "usage": {"input_tokens": 1, "output_tokens": 0, "note": note}}},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                 "usage": {"output_tokens": 1}},
                {"type": "message_stop"}]
    body = {"max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    answer = typed_stream(servers, "/v1/messages", body, messages(SECRET))
    assert SECRET[:12] not in answer.text and '"stop_reason":"refusal"' in answer.text
    client = anthropic.Anthropic(base_url=servers.guard.url, api_key="sk-ant-client",
                                 max_retries=0)
    with client.messages.stream(model="hostile", max_tokens=20,
                                messages=[{"role": "user", "content": "hi"}],
                                extra_headers={"X-Hostile-Events": urllib.parse.quote(
                                    json.dumps(messages(f"mail {EMAIL}")))}) as stream:
        first = next(iter(stream))
    assert first.type == "message_start"
    assert (first.message.usage.model_extra or {})["note"] == f"mail {MASKED}"
