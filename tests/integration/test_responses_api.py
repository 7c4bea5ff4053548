"""The OpenAI Responses API (`POST /v1/responses`) is guarded like chat completions: the prompt
(instructions, input text, input items, tool outputs) is read before the model sees it, and the
answer (message text, reasoning summary, call arguments) before the client does, whole and
streamed. Real `guard serve` with the default pack, the openai SDK as client, and the raw bytes
a client receives as the oracle."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support import (
    OpenAIRouteClient,
    journal_incidents,
    mock_reply,
    scripted_route,
    secret_header,
    typed_events,
)

pytestmark = pytest.mark.timeout(60)

SECRET = "ghp_RespLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L1M"  # a GitHub token's shape: default.yaml blocks it
EMAIL = "responses.leak.4471@example.org"           # default.yaml masks it in answers
TOKEN = "responses-admin-token-0123456789"


class Servers(OpenAIRouteClient):
    route = "/v1/responses"
    defaults = {"model": "m"}



@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with scripted_route(Servers, tmp_path_factory.mktemp("responses"), TOKEN) as servers:
        yield servers


# -- allowed -------------------------------------------------------------------------------------

def test_an_allowed_answer_reaches_the_sdk_whole(servers: Servers) -> None:
    answer = servers.client.responses.create(
        model="m", input="What is a reverse proxy?", instructions="Be brief.",
        extra_headers=mock_reply("It forwards requests to servers."))
    assert answer.output_text == "It forwards requests to servers."
    assert answer.status == "completed"
    sent = servers.seen()[-1]
    assert sent["path"] == "/v1/responses" and sent["body"]["instructions"] == "Be brief."


def test_an_allowed_stream_reaches_the_sdk_numbered_in_order(servers: Servers) -> None:
    text = "A reverse proxy forwards each request to a server behind it."
    got = list(servers.client.responses.create(model="m", input="What is a reverse proxy?",
                                               stream=True, extra_headers=mock_reply(text)))
    deltas = "".join(e.delta for e in got if e.type == "response.output_text.delta")
    assert deltas == text
    assert got[-1].type == "response.completed" and got[-1].response.output_text == text
    assert [e.sequence_number for e in got] == list(range(len(got)))


# -- prompts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"input": f"deploy with {SECRET}"},
    {"input": "deploy", "instructions": f"The token is {SECRET}."},
    {"input": [{"role": "user", "content": [{"type": "input_text", "text": f"use {SECRET}"}]}]},
    {"input": [{"type": "message", "role": "developer", "content": f"token {SECRET}"}]},
    {"input": [{"type": "function_call_output", "call_id": "c1", "output": f"key={SECRET}"}]},
    {"input": [{"type": "function_call", "call_id": "c1", "name": "deploy",
                "arguments": json.dumps({"token": SECRET})}]},
    {"input": "deploy", "prompt": {"id": "pmpt_1", "variables": {"token": SECRET}}},
], ids=["input", "instructions", "input_text", "developer", "tool_output", "call_args", "variable"])
def test_a_secret_anywhere_in_the_prompt_is_blocked_before_the_model(
        servers: Servers, body: dict[str, Any]) -> None:
    before = len(servers.seen())
    with pytest.raises(openai.BadRequestError) as caught:
        servers.client.responses.create(model="m", **body)
    assert caught.value.code == "content_filter"
    assert len(servers.seen()) == before  # the model was never called


def test_an_image_is_refused_as_unreadable(servers: Servers) -> None:
    answer = servers.raw({"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "https://example.org/a.png"}]}]})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "unreadable_content" and "input[0].content[1]" in error["message"]


@pytest.mark.parametrize(("item", "where"), [
    ({"type": "code_interpreter_call", "id": "ci_1", "code": "plot()", "status": "completed",
      "outputs": [{"type": "image", "url": "data:image/png;base64,iVBORw0KGgo="}]},
     "input[1].outputs[0] (image)"),
    ({"type": "shell_call_output", "call_id": "sh_1", "output": [
        {"type": "input_image", "image_url": "https://example.org/a.png"}]},
     "input[1].output[0] (input_image)"),
])
def test_an_image_inside_an_item_read_whole_is_refused(servers: Servers, item: dict[str, Any],
                                                        where: str) -> None:
    """From a probe: items read whole (every string) sent an image inside them to the model
    unread; a function call's output with one was already refused."""
    answer = servers.raw({"input": [{"role": "user", "content": "go on"}, item]})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "unreadable_content" and where in error["message"]


# -- whole answers -------------------------------------------------------------------------------

def test_a_secret_in_a_whole_answer_is_refused(servers: Servers) -> None:
    answer = servers.client.responses.create(model="m", input="deploy?",
                                             extra_headers=mock_reply(f"Use {SECRET} to deploy."))
    assert answer.status == "incomplete" and answer.incomplete_details is not None
    assert answer.incomplete_details.reason == "content_filter"
    assert "RespLeak" not in answer.model_dump_json() and not answer.output_text
    refusal = answer.output[0].content[0]  # type: ignore[union-attr]
    assert refusal.type == "refusal" and refusal.refusal


def test_an_email_in_a_whole_answer_is_masked(servers: Servers) -> None:
    answer = servers.client.responses.create(model="m", input="who owns it?",
                                             extra_headers=mock_reply(f"Write to {EMAIL} today."))
    assert answer.output_text == "Write to [REDACTED:pii:email] today."


@pytest.mark.parametrize("where", ["X-Mock-Reasoning", "X-Mock-Tool-Args"])
def test_a_secret_in_whole_reasoning_or_call_arguments_is_refused(
        servers: Servers, where: str) -> None:
    answer = servers.raw({"input": "deploy?"}, **mock_reply("Done.", **secret_header(where, SECRET)))
    assert "RespLeak" not in answer.text and answer.json()["status"] == "incomplete"


# -- streamed answers ----------------------------------------------------------------------------

def test_a_secret_in_a_stream_is_cut_before_any_of_it(servers: Servers) -> None:
    answer = servers.raw({"input": "deploy?", "stream": True},
                         **mock_reply(f"Sure. Use {SECRET} to deploy, then check the logs."))
    got = typed_events(answer.text)
    assert "ghp_" not in answer.text and "RespLeak" not in answer.text
    assert got[-1]["type"] == "response.incomplete"
    assert got[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}
    assert answer.headers["X-Guard-Decision"] == "allow"  # decided before the stream began
    # so the ending names the cut's incident, which the journal holds (it had named none)
    cut_by = got[-1]["guard"]
    assert cut_by["rules"] == ["secrets"], got[-1]
    assert cut_by["incident_id"] in {incident["id"] for incident in journal_incidents(
        servers.guard, answer.headers["X-Request-Id"])}
    sdk = list(servers.client.responses.create(
        model="m", input="deploy?", stream=True,
        extra_headers=mock_reply(f"Sure. Use {SECRET} to deploy, then check the logs.")))
    assert sdk[-1].type == "response.incomplete"
    assert (sdk[-1].model_extra or {})["guard"]["rules"] == ["secrets"]


def test_an_email_in_a_stream_is_masked_in_every_event_that_repeats_it(servers: Servers) -> None:
    text = f"Write to {EMAIL} for access."
    answer = servers.raw({"input": "who?", "stream": True}, **mock_reply(text))
    assert "responses.leak" not in answer.text
    got = typed_events(answer.text)
    masked = "Write to [REDACTED:pii:email] for access."
    assert "".join(e["delta"] for e in got if e["type"] == "response.output_text.delta") == masked
    by_type = {e["type"]: e for e in got}
    assert by_type["response.output_text.done"]["text"] == masked
    assert by_type["response.content_part.done"]["part"]["text"] == masked
    assert by_type["response.output_item.done"]["item"]["content"][0]["text"] == masked
    completed = by_type["response.completed"]["response"]
    assert completed["output"][0]["content"][0]["text"] == masked
    assert [e["sequence_number"] for e in got] == list(range(len(got)))


@pytest.mark.parametrize("where", ["X-Mock-Reasoning", "X-Mock-Tool-Args"])
def test_a_secret_in_streamed_reasoning_or_arguments_is_cut(servers: Servers, where: str) -> None:
    answer = servers.raw({"input": "deploy?", "stream": True},
                         **mock_reply("Done.", **secret_header(where, SECRET)))
    assert "ghp_" not in answer.text and "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


# -- an upstream that says more whole than it streamed --------------------------------------------

def scripted(servers: Servers, script: list[dict[str, Any]]) -> httpx.Response:
    return servers.raw({"model": "hostile", "input": "hi", "stream": True},
                       **{"X-Hostile-Events": urllib.parse.quote(json.dumps(script))})


def test_a_secret_only_in_a_done_event_is_cut(servers: Servers) -> None:
    at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    answer = scripted(servers, [
        {"type": "response.output_text.delta", **at, "delta": "All fine."},
        {"type": "response.output_text.done", **at, "text": f"All fine. {SECRET}"},
    ])
    assert "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


def test_an_email_only_in_the_completed_response_is_masked(servers: Servers) -> None:
    item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": f"Mail {EMAIL}.", "annotations": []}]}
    answer = scripted(servers, [{"type": "response.completed", "response": {
        "id": "resp_1", "object": "response", "status": "completed", "output": [item]}}])
    assert "responses.leak" not in answer.text
    assert typed_events(answer.text)[0]["response"]["output"][0]["content"][0]["text"] == \
        "Mail [REDACTED:pii:email]."


@pytest.mark.parametrize(("said", "shown"), [(f"key {SECRET}", None),
                                             (f"mail {EMAIL}", "mail [REDACTED:pii:email]")])
def test_vllms_output_messages_are_read_whole_and_streamed(servers: Servers, said: str,
                                                           shown: str | None) -> None:
    """From a probe: vLLM's `output_messages` (`enable_response_messages`), the answer again in
    harmony's form beside `output`, reached the client unread, whole and in the completed
    response: a key there passed, an address went out unmasked."""
    item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "Done.", "annotations": []}]}
    response = {"id": "resp_1", "object": "response", "model": "hostile", "status": "completed",
                "output": [item], "input_messages": [], "output_messages": [{
                    "author": {"role": "assistant", "name": None}, "channel": "final",
                    "recipient": None, "content": [{"type": "text", "text": said}]}]}
    whole = servers.raw({"model": "hostile", "input": "hi"},
                        **{"X-Hostile-Events": urllib.parse.quote(json.dumps(response))})
    streamed = scripted(servers, [{"type": "response.completed", "response": response}])
    for answer, body in [(whole, whole.json()), (streamed, typed_events(streamed.text)[-1]["response"])]:
        assert "RespLeak" not in answer.text and "responses.leak" not in answer.text
        if shown is None:
            assert body["status"] == "incomplete" and body.get("output_messages") is None
        else:
            assert body["output_messages"][0]["content"][0]["text"] == shown


def test_a_failed_responses_error_is_read_whole_and_streamed(servers: Servers) -> None:
    """From a probe: an `error` event's message was read, but a failed response's (`error` in a
    whole answer, in `response.failed`) passed unread."""
    def failed(said: str) -> dict[str, Any]:
        return {"id": "resp_1", "object": "response", "model": "hostile", "status": "failed",
                "output": [], "error": {"code": "server_error", "message": said}}

    whole = servers.raw({"model": "hostile", "input": "hi"}, **{
        "X-Hostile-Events": urllib.parse.quote(json.dumps(failed(f"k {SECRET}")))})
    assert "RespLeak" not in whole.text and whole.json()["status"] == "incomplete"
    assert whole.json()["error"] is None
    streamed = scripted(servers, [{"type": "response.failed", "response": failed(f"k {SECRET}")}])
    assert "RespLeak" not in streamed.text
    assert typed_events(streamed.text)[-1]["type"] == "response.incomplete"
    masked = scripted(servers, [{"type": "response.failed", "response": failed(f"m {EMAIL}")}])
    assert typed_events(masked.text)[-1]["response"]["error"]["message"] == \
        "m [REDACTED:pii:email]"


def test_a_delta_of_a_type_guard_does_not_know_is_read(servers: Servers) -> None:
    answer = scripted(servers, [
        {"type": "response.future_thing.delta", "output_index": 0, "delta": f"x {SECRET} y"}])
    assert "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


# -- kill switch ---------------------------------------------------------------------------------

def test_a_kill_switch_in_refuse_mode_answers_in_the_responses_shape(servers: Servers) -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    engaged = httpx.post(f"{servers.guard.admin_url}/admin/killswitch", headers=admin, json={
        "scope": "model:paused-model", "mode": "refuse", "reason": "INC-9 drill"})
    assert engaged.status_code in (200, 201), engaged.text
    try:
        whole = servers.client.responses.create(model="paused-model", input="hi")
        refusal = whole.output[0].content[0]  # type: ignore[union-attr]
        assert refusal.type == "refusal" and "INC-9 drill" in refusal.refusal
        assert whole.status == "completed" and whole.usage is not None
        got = list(servers.client.responses.create(model="paused-model", input="hi",
                                                   stream=True))
        text = "".join(e.delta for e in got if e.type == "response.refusal.delta")
        assert "INC-9 drill" in text and got[-1].type == "response.completed"
    finally:
        switch = engaged.json()["switch"]["id"]
        httpx.delete(f"{servers.guard.admin_url}/admin/killswitch/{switch}", headers=admin)


# -- answers fetched by id -----------------------------------------------------------------------

def stored(servers: Servers, reply: str, model: str = "m") -> str:
    """The id of an answer run in the background: guard lets it start (no text comes back yet)."""
    queued = servers.client.responses.create(model=model, input="Summarise the notes.",
                                             background=True, extra_headers=mock_reply(reply))
    assert queued.status == "queued" and not queued.output
    return queued.id


def test_an_answer_fetched_by_id_is_read_whole_and_streamed(servers: Servers) -> None:
    """`GET /v1/responses/{id}` answers what the model said: guard reads it as the answer to
    the request it was run for (a key refused, the stream cut, also from `starting_after`)."""
    answer_id = stored(servers, f"The token is {SECRET} for the deploy.")
    fetched = servers.client.responses.retrieve(answer_id)
    assert fetched.status == "incomplete" and "RespLeak" not in fetched.model_dump_json()
    got = list(servers.client.responses.retrieve(answer_id, stream=True))
    assert "RespLeak" not in "".join(e.model_dump_json() for e in got)
    assert got[-1].type == "response.incomplete"
    metrics = servers.guard.metrics()
    fetches = [line for line in metrics.splitlines()
               if line.startswith("guard_requests_total{") and "/v1/responses/{id}" in line]
    # counted under the model the answer names, whole and streamed
    assert fetches == ['guard_requests_total{model="m",route="/v1/responses/{id}",'
                       'status_class="2xx"} 2.0']


def test_an_address_in_an_answer_fetched_or_cancelled_is_masked(servers: Servers) -> None:
    answer_id = stored(servers, f"Write to {EMAIL} about it.")
    masked = "Write to [REDACTED:pii:email] about it."
    assert servers.client.responses.retrieve(answer_id).output_text == masked
    cancelled = servers.client.responses.cancel(answer_id)
    assert cancelled.status == "cancelled" and cancelled.output_text == masked
    servers.client.responses.delete(answer_id)  # no text in its answer: forwarded
    with pytest.raises(openai.NotFoundError):
        servers.client.responses.retrieve(answer_id)


def test_kill_switches_stop_answers_fetched_by_id(servers: Servers) -> None:
    """The route's switch stops a fetch before the upstream; the model's, named only in the
    answer, once the answer has been read."""
    admin = {"Authorization": f"Bearer {TOKEN}"}
    answer_id = stored(servers, "A harmless summary.", model="fetched-model")
    for scope in ("route:/v1/responses", "model:fetched-model"):
        engaged = httpx.post(f"{servers.guard.admin_url}/admin/killswitch", headers=admin,
                             json={"scope": scope, "mode": "block", "reason": "INC-31 drill"})
        assert engaged.status_code in (200, 201), engaged.text
        try:
            with pytest.raises(openai.InternalServerError) as stopped:
                servers.client.responses.retrieve(answer_id)
            assert stopped.value.status_code == 503 and "INC-31" in stopped.value.message
        finally:
            switch = engaged.json()["switch"]["id"]
            httpx.delete(f"{servers.guard.admin_url}/admin/killswitch/{switch}", headers=admin)
    assert servers.client.responses.retrieve(answer_id).output_text == "A harmless summary."
    # another model's switch: the fetch names no model, but the answer names one it does not stop
    engaged = httpx.post(f"{servers.guard.admin_url}/admin/killswitch", headers=admin,
                         json={"scope": "model:other-model", "reason": "INC-31 drill"})
    try:
        for stream in (False, True):
            fetched = httpx.get(f"{servers.guard.url}/v1/responses/{answer_id}",
                                params={"stream": "true"} if stream else {})
            assert fetched.status_code == 200, fetched.text
    finally:
        switch = engaged.json()["switch"]["id"]
        httpx.delete(f"{servers.guard.admin_url}/admin/killswitch/{switch}", headers=admin)


def test_a_guarded_stream_is_not_resumed_and_gets_only_what_guard_reads(
        servers: Servers) -> None:
    """Guard numbers a guarded stream's events itself: the upstream's replay after
    `starting_after` would not line up with them (text doubled or lost), so it is refused. The
    upstream is asked `stream=true` and nothing else guard does not read."""
    answer_id = stored(servers, f"token {SECRET} then more words.")
    with pytest.raises(openai.BadRequestError):
        servers.client.responses.retrieve(answer_id, stream=True, starting_after=5)
    answer = httpx.get(f"{servers.guard.url}/v1/responses/{answer_id}"
                       "?stream=false&stream=true&Starting_After=5&include[]=x")
    assert answer.status_code == 200 and "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"
    sent = [r for r in servers.seen() if r.get("method") == "GET"]
    assert sent[-1]["query"] == {"include[]": "x", "stream": "true"}
    assert sent[-2]["query"] == {}  # the model learned first, from the answer whole


def test_a_fetched_answer_must_name_its_model(servers: Servers) -> None:
    """Its model's policy reads it: an answer naming none is refused, and a stream naming
    another than the answer whole did ends."""
    answer_id = stored(servers, "A harmless summary.")
    for path in (f"/v1/responses/{answer_id}", f"/v1/responses/{answer_id}?stream=true"):
        nameless = httpx.get(servers.guard.url + path, headers={"X-Mock-Model": ""})
        assert nameless.status_code == 502
        assert nameless.json()["error"]["code"] == "upstream_protocol_error"
    missing = httpx.get(f"{servers.guard.url}/v1/responses/resp_none?stream=true")
    assert missing.status_code == 404  # the upstream's own answer


def test_a_streamed_fetch_is_read_for_its_model(servers: Servers) -> None:
    """Before a stream the response is fetched whole once, for its model: that model's kill
    switch stops the stream (and its policy reads it)."""
    admin = {"Authorization": f"Bearer {TOKEN}"}
    answer_id = stored(servers, "A harmless summary.", model="streamed-model")
    engaged = httpx.post(f"{servers.guard.admin_url}/admin/killswitch", headers=admin, json={
        "scope": "model:streamed-model", "mode": "block", "reason": "INC-32 drill"})
    assert engaged.status_code in (200, 201), engaged.text
    try:
        answer = httpx.get(f"{servers.guard.url}/v1/responses/{answer_id}?stream=true")
        assert answer.status_code == 503 and "INC-32" in answer.text
    finally:
        switch = engaged.json()["switch"]["id"]
        httpx.delete(f"{servers.guard.admin_url}/admin/killswitch/{switch}", headers=admin)


def test_a_cancel_goes_through_kill_switches_and_is_read(servers: Servers) -> None:
    """Stopping a job is what on-call may want most while a switch is on."""
    admin = {"Authorization": f"Bearer {TOKEN}"}
    answer_id = stored(servers, f"Write to {EMAIL} about it.")
    engaged = httpx.post(f"{servers.guard.admin_url}/admin/killswitch", headers=admin, json={
        "scope": "route:/v1/responses", "mode": "refuse", "reason": "INC-33 drill"})
    assert engaged.status_code in (200, 201), engaged.text
    try:
        cancelled = servers.client.responses.cancel(answer_id)
        assert cancelled.id == answer_id and cancelled.status == "cancelled"
        assert cancelled.output_text == "Write to [REDACTED:pii:email] about it."
        # from a re-probe: an upstream slower than one silence sweep (0.25 s) had the sweep ask
        # the gate, which stopped the cancel it exempts
        slow = servers.client.responses.cancel(answer_id, extra_headers={
            "X-Mock-Latency-Ms": "700"})
        assert slow.status == "cancelled"
    finally:
        switch = engaged.json()["switch"]["id"]
        httpx.delete(f"{servers.guard.admin_url}/admin/killswitch/{switch}", headers=admin)


@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_a_body_on_a_request_by_id_is_refused(servers: Servers, method: str) -> None:
    """It would reach the upstream unread."""
    answer_id = stored(servers, "Fine.")
    before = len(servers.seen())
    path = f"/v1/responses/{answer_id}" + ("/cancel" if method == "POST" else "")
    answer = httpx.request(method, servers.guard.url + path,
                           content=f'{{"note": "{SECRET}"}}'.encode())
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"
    assert len(servers.seen()) == before


def test_other_paths_under_a_response_are_not_served(servers: Servers) -> None:
    """Its input items are the prompt's (read on the way in, or never through guard): 404; a
    method the API does not serve there: 405."""
    answer_id = stored(servers, "Fine.")
    assert httpx.get(f"{servers.guard.url}/v1/responses/{answer_id}/input_items"
                     ).status_code == 404
    wrong = httpx.put(f"{servers.guard.url}/v1/responses/{answer_id}")
    allowed = {method.strip() for method in wrong.headers["Allow"].split(",")}
    assert wrong.status_code == 405 and allowed == {"GET", "DELETE"}
    for path in ("a.b", f"{answer_id}%2Fcancel"):  # no method is served there
        assert httpx.put(f"{servers.guard.url}/v1/responses/{path}").status_code == 404


@pytest.mark.parametrize("opening", ["part", "item", "arguments"])
def test_a_key_split_between_an_opening_and_a_delta_is_cut(servers: Servers,
                                                           opening: str) -> None:
    """A client joins the text a part or an item opens with and the deltas that extend it: guard
    reads them as one text."""
    at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": f"key {SECRET[:20]}", "annotations": []}
    first = {
        "part": {"type": "response.content_part.added", **at, "part": part},
        "item": {"type": "response.output_item.added", "output_index": 0, "item": {
            "type": "message", "id": "msg_1", "role": "assistant", "content": [part]}},
        "arguments": {"type": "response.output_item.added", "output_index": 0, "item": {
            "type": "function_call", "id": "fc_1", "call_id": "c", "name": "f",
            "arguments": f'{{"k": "{SECRET[:20]}'}},
    }[opening]
    rest = ({"type": "response.function_call_arguments.delta", "item_id": "fc_1",
             "output_index": 0, "delta": f'{SECRET[20:]}"}}'} if opening == "arguments" else
            {"type": "response.output_text.delta", **at, "delta": SECRET[20:]})
    answer = scripted(servers, [first, rest])
    assert "ghp_" not in answer.text and SECRET[20:] not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


SHELL = {"type": "shell_call", "id": "sh_1", "call_id": "c", "status": "completed",
         "action": {"commands": [f"export T={SECRET}"]}}
CITED = {"type": "message", "id": "msg_1", "role": "assistant", "content": [
    {"type": "output_text", "text": "See the source.", "annotations": [
        {"type": "url_citation", "title": f"key {SECRET}", "url": "https://example.org"}]}]}


@pytest.mark.parametrize("item", [SHELL, CITED], ids=["hosted_tool_item", "citation"])
def test_an_answer_item_guard_has_no_reading_for_is_read_whole(servers: Servers,
                                                              item: dict[str, Any]) -> None:
    response = {"id": "resp_1", "object": "response", "status": "completed", "output": [item]}
    whole = servers.raw({"model": "hostile", "input": "hi"},
                        **{"X-Hostile-Events": urllib.parse.quote(json.dumps(response))})
    assert "RespLeak" not in whole.text and whole.json()["status"] == "incomplete"
    streamed = scripted(servers, [{"type": "response.output_item.done", "output_index": 0,
                                   "item": item}])
    assert "RespLeak" not in streamed.text


@pytest.mark.parametrize("event", [
    {"type": "response.shell_call_command.added", "output_index": 0, "command_index": 0,
     "command": f"export T={SECRET}"},
    {"type": "response.output_text.annotation.added", "output_index": 0, "content_index": 0,
     "annotation_index": 0, "annotation": {"type": "url_citation", "title": SECRET}},
    {"type": "response.output_text.done", "output_index": 0, "content_index": 0,
     "text": [f"x {SECRET}"]},
    {"type": "response.completed", "response": {"id": "r", "output": [],
                                                "output_text": f"Hi {SECRET}"}},
], ids=["unknown_event", "annotation", "text_as_list", "completed_output_text"])
def test_every_string_an_event_guard_has_no_reading_for_carries_is_read(
        servers: Servers, event: dict[str, Any]) -> None:
    answer = scripted(servers, [event])
    assert "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


@pytest.mark.parametrize("item", [
    {"type": "web_search_call", "id": "ws_1", "status": "completed",
     "action": {"type": "search", "query": f"x {SECRET}"}},
    {"type": "code_interpreter_call", "id": "ci_1", "code": "print(1)", "container_id": "c",
     "outputs": [{"type": "logs", "logs": SECRET}]},
    {"type": "function_call_output", "call_id": "c", "output": {"result": SECRET}},
], ids=["web_search_call", "code_interpreter_outputs", "output_as_object"])
def test_a_hosted_tool_item_sent_back_is_read(servers: Servers, item: dict[str, Any]) -> None:
    before = len(servers.seen())
    answer = servers.raw({"input": [item]})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "content_filter"
    assert len(servers.seen()) == before


def two_parts(first: str, second: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": first, "annotations": []},
                        {"type": "output_text", "text": second, "annotations": []}]}


def test_a_key_split_across_two_parts_of_a_whole_answer_is_found(servers: Servers) -> None:
    """The SDK's `output_text` joins an answer's parts: guard reads them joined too."""
    response = {"id": "resp_1", "object": "response", "status": "completed",
                "output": [two_parts(f"x {SECRET[:20]}", f"{SECRET[20:]} y")]}
    answer = servers.raw({"model": "hostile", "input": "hi"},
                         **{"X-Hostile-Events": urllib.parse.quote(json.dumps(response))})
    assert "RespLeak" not in answer.text and answer.json()["status"] == "incomplete"


def test_blank_parts_between_the_pieces_of_a_value_take_no_place(servers: Servers) -> None:
    """As in a prompt (a probe there): nine empty or blank parts between the pieces of an
    address pushed the first out of the parts read with the second; now both are masked."""
    first, second = f"Write to {EMAIL[:12]}", f"{EMAIL[12:]} today."
    blanks = [{"type": "output_text", "text": text, "annotations": []}
              for text in ["", " ", "\u200b", *[""] * 6]]
    item = two_parts(first, second)
    item["content"][1:1] = blanks
    whole = servers.raw({"model": "hostile", "input": "hi"}, **{"X-Hostile-Events": urllib.parse.quote(
        json.dumps({"id": "r", "object": "response", "status": "completed",
                    "output": [item]}))}).json()
    texts = [part["text"] for part in whole["output"][0]["content"]]
    assert texts[0] == "Write to [REDACTED:pii:email]"
    assert texts[-1] == "[REDACTED:pii:email] today."


def test_a_key_split_across_two_streamed_parts_is_cut_before_any_of_it(
        servers: Servers) -> None:
    at = {"item_id": "msg_1", "output_index": 0}
    answer = scripted(servers, [
        {"type": "response.output_text.delta", **at, "content_index": 0,
         "delta": f"x {SECRET[:20]}"},
        {"type": "response.output_text.done", **at, "content_index": 0,
         "text": f"x {SECRET[:20]}"},
        {"type": "response.output_text.delta", **at, "content_index": 1,
         "delta": f"{SECRET[20:]} y"}])
    assert SECRET[:20] not in answer.text and SECRET[20:] not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"


def only_whole(servers: Servers, first: str, second: str) -> httpx.Response:
    """An upstream that sends each part of an answer only whole, in an event of its own."""
    at = {"item_id": "msg_1", "output_index": 0}
    return scripted(servers, [
        {"type": "response.content_part.done", **at, "content_index": 0,
         "part": {"type": "output_text", "text": first, "annotations": []}},
        {"type": "response.content_part.done", **at, "content_index": 1,
         "part": {"type": "output_text", "text": second, "annotations": []}},
        {"type": "response.completed", "response": {"id": "r", "object": "response",
                                                    "output": [two_parts(first, second)]}}])


def test_a_value_split_across_parts_sent_only_whole_is_cut_or_masked_in_both(
        servers: Servers) -> None:
    """Each event waits with its text's last characters, as a streamed text's would, until the
    next text shows whether a value goes on in it."""
    answer = only_whole(servers, f"The key is {SECRET[:20]}", f"{SECRET[20:]} ok.")
    assert SECRET[:20] not in answer.text and SECRET[20:] not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"
    answer = only_whole(servers, f"Write to {EMAIL[:12]}", f"{EMAIL[12:]} today.")
    assert EMAIL[:12] not in answer.text and EMAIL[12:] not in answer.text
    parts = [e["part"]["text"] for e in typed_events(answer.text)
             if e["type"] == "response.content_part.done"]
    assert parts == ["Write to [REDACTED:pii:email]", "[REDACTED:pii:email] today."]


def test_an_address_split_across_two_parts_is_masked_in_both(servers: Servers) -> None:
    """Neither part keeps a piece of it: the first part is read with the start of the next,
    whole and streamed (where its tail is held past its close)."""
    first, second = f"Write to {EMAIL[:12]}", f"{EMAIL[12:]} today."
    whole = servers.raw({"model": "hostile", "input": "hi"}, **{"X-Hostile-Events": urllib.parse.quote(
        json.dumps({"id": "r", "object": "response", "status": "completed",
                    "output": [two_parts(first, second)]}))}).json()
    texts = [part["text"] for part in whole["output"][0]["content"]]
    assert texts == ["Write to [REDACTED:pii:email]", "[REDACTED:pii:email] today."]
    at = {"item_id": "msg_1", "output_index": 0}
    answer = scripted(servers, [
        {"type": "response.output_text.delta", **at, "content_index": 0, "delta": first},
        {"type": "response.output_text.done", **at, "content_index": 0, "text": first},
        {"type": "response.output_text.delta", **at, "content_index": 1, "delta": second},
        {"type": "response.output_text.done", **at, "content_index": 1, "text": second},
        {"type": "response.completed", "response": {"id": "r", "object": "response",
                                                    "output": [two_parts(first, second)]}}])
    assert EMAIL[:12] not in answer.text and EMAIL[12:] not in answer.text
    got = typed_events(answer.text)
    streamed = [e["delta"] for e in got if e["type"] == "response.output_text.delta"]
    assert "".join(streamed) == "".join(texts)
    assert [e["text"] for e in got if e["type"] == "response.output_text.done"] == texts
    completed = got[-1]["response"]["output"][0]["content"]
    assert [part["text"] for part in completed] == texts
    only_whole = scripted(servers, [{"type": "response.completed", "response": {
        "id": "r", "object": "response", "output": [two_parts(first, second)]}}])
    completed = typed_events(only_whole.text)[-1]["response"]["output"][0]["content"]
    assert [part["text"] for part in completed] == texts


AWS_KEY = "AKIAQZ7XW3JD5R6TLM2P"  # an AWS access key id: default.yaml blocks it
BLANKS = ["  ", "", "\u200b", " \u200b\t"]  # texts that show nothing, of every kind


def streamed_texts(texts: list[str], layout: str) -> list[dict[str, Any]]:
    """An answer's texts streamed one after another: as the parts of one message, or as
    messages of their own."""
    events: list[dict[str, Any]] = []
    for n, text in enumerate(texts):
        at = ({"item_id": "msg_1", "output_index": 0, "content_index": n} if layout == "parts"
              else {"item_id": f"msg_{n}", "output_index": n, "content_index": 0})
        events += [{"type": "response.output_text.delta", **at, "delta": text},
                   {"type": "response.output_text.done", **at, "text": text}]
    return events


@pytest.mark.parametrize("layout", ["parts", "items"])
@pytest.mark.parametrize("count", [1, 8, 9])
def test_blank_texts_streamed_between_the_pieces_of_a_value_take_no_place(
        servers: Servers, count: int, layout: str) -> None:
    """As in a whole answer: blank parts or items (spaces, empty, zero-width) streamed between
    the halves of a key id or an address were read with the texts around them, their spaces
    keeping the halves apart, and from eight on pushed the first half out of the texts the
    second is read with: both halves went out. Now the key is cut, the address masked."""
    between = [BLANKS[n % len(BLANKS)] for n in range(count)]
    key = scripted(servers, streamed_texts(
        [f"key {AWS_KEY[:10]}", *between, f"{AWS_KEY[10:]} ok."], layout))
    assert AWS_KEY[:10] not in key.text and AWS_KEY[10:] not in key.text
    assert typed_events(key.text)[-1]["type"] == "response.incomplete"
    at = EMAIL.index("@")
    mail = scripted(servers, streamed_texts(
        [f"Write to {EMAIL[:at]}", *between, f"{EMAIL[at:]} today."], layout))
    assert EMAIL[:at] not in mail.text and EMAIL[at:] not in mail.text
    shown = "".join(e["delta"] for e in typed_events(mail.text)
                    if e["type"] == "response.output_text.delta")
    # a blank text between is read inside the address, and left as it is: no mask on a blank
    masked = "[REDACTED:pii:email]"
    assert shown == f"Write to {masked}{''.join(between)}{masked} today."


@pytest.mark.parametrize("body", [{"input": {"role": "user", "content": "hi"}},
                                  {"input": "hi", "instructions": ["be brief"]}],
                         ids=["input_object", "instructions_list"])
def test_a_prompt_in_a_shape_guard_cannot_read_is_refused(servers: Servers,
                                                          body: dict[str, Any]) -> None:
    answer = servers.raw(body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "unreadable_content"


def message(text: str, item_id: str = "msg_1") -> dict[str, Any]:
    return {"type": "message", "id": item_id, "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


REASONING = {"type": "reasoning", "id": "rs_1",
             "summary": [{"type": "summary_text", "text": "Finishing the reply."}]}


@pytest.mark.parametrize("output", [
    [two_parts(f"x {SECRET[:20]}", SECRET[20:])],
    [message(f"x {SECRET[:20]}"), message(SECRET[20:], "msg_2")],
    [message(f"x {SECRET[:20]}"), REASONING, message(SECRET[20:], "msg_2")],
], ids=["two_parts", "two_messages", "reasoning_between"])
def test_an_answer_sent_only_whole_in_a_stream_is_read_joined(servers: Servers,
                                                              output: list[Any]) -> None:
    answer = scripted(servers, [{"type": "response.completed", "response": {
        "id": "resp_1", "object": "response", "status": "completed", "output": output}}])
    assert "RespLeak" not in answer.text
    assert typed_events(answer.text)[-1]["type"] == "response.incomplete"
    whole = servers.raw({"model": "hostile", "input": "hi"}, **{"X-Hostile-Events": urllib.parse.quote(
        json.dumps({"id": "r", "object": "response", "status": "completed", "output": output}))})
    assert "RespLeak" not in whole.text and whole.json()["status"] == "incomplete"


def test_texts_streamed_out_of_order_end_the_stream(servers: Servers) -> None:
    """An upstream that streams the second message's text before the first's: a client joining
    deltas as they come reads them in another order than the SDKs, so the stream ends before
    either goes out."""
    def delta(index: int, text: str) -> dict[str, Any]:
        return {"type": "response.output_text.delta", "item_id": f"msg_{index}",
                "output_index": index, "content_index": 0, "delta": text}

    answer = scripted(servers, [
        delta(1, SECRET[20:]), delta(0, f"x {SECRET[:20]}"),
        {"type": "response.completed", "response": {"id": "r", "object": "response", "output": [
            message(f"x {SECRET[:20]}"), message(SECRET[20:], "msg_1")]}}])
    assert SECRET[:20] not in answer.text and SECRET[20:] not in answer.text
    last = typed_events(answer.text)[-1]
    assert last["type"] == "error" and last["error"]["code"] == "upstream_protocol_error"


@pytest.mark.parametrize("item", [
    {"type": "web_search_call", "id": "ws_1", "status": "completed",
     "action": {"type": "open_page", "url": "https://en.wikipedia.org/wiki/Paris"}},
    {"type": "compaction", "id": "cmp_1", "encrypted_content": "gAAAAB" + "x" * 64},
    {"type": "compaction_trigger", "id": "ct_1"},
    {"type": "local_shell_call", "id": "ls_1", "call_id": "c", "status": "completed",
     "action": {"type": "exec", "command": ["ls"], "env": {"PATH": "/usr/bin", "HOME": "/h"}}},
    {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["paris"],
     "results": [{"file_id": "f", "text": "Paris is the capital.",
                  "attributes": {"Author": "A", "Year": 2020}}]},
], ids=["open_page", "compaction", "compaction_trigger", "shell_env", "file_search"])
def test_ordinary_items_sent_back_pass(servers: Servers, item: dict[str, Any]) -> None:
    """Multi-turn traffic sends the model's earlier items back: they are read, not refused."""
    answer = servers.raw({"input": [{"role": "user", "content": "go on"}, item]},
                         **mock_reply("Done."))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", ["..%2Fchat%2Fcompletions", "resp_1%2F..%2F..%2Fmodels",
                                  "resp_1%00", "resp%201"])
def test_an_id_that_could_reach_another_path_is_not_served(servers: Servers, path: str) -> None:
    before = len(servers.seen())
    answer = httpx.get(f"{servers.guard.url}/v1/responses/{path}")
    assert answer.status_code == 404 and len(servers.seen()) == before
