"""Chat completions the model kept upstream (`store: true`, as OpenAI keeps them) are read when
fetched or updated by id, `GET`, `POST /v1/chat/completions/{id}`, as the answer to a request;
no other path under a guarded route is forwarded, or suggested for `passthrough:`. Real `guard serve` with the
default pack, the openai SDK as client, the stand-in model keeping the completions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.support import POLICIES, OpenAIRouteClient, guard_before_mock, mock_reply, scripted_route

pytestmark = pytest.mark.timeout(60)

SECRET = "ghp_StoredChat7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L"  # a GitHub token's shape: default.yaml blocks it
EMAIL = "stored.chat.4471@example.org"                # default.yaml masks it in answers
TOKEN = "stored-chat-admin-token-0123456789"
ASK = [{"role": "user", "content": "Summarise the notes."}]


class Servers(OpenAIRouteClient):
    route = "/v1/chat/completions"
    defaults = {"model": "m"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with scripted_route(Servers, tmp_path_factory.mktemp("stored_chat"), TOKEN) as servers:
        yield servers


def stored(client: openai.OpenAI, reply: str) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(model="m", messages=ASK, store=True,  # type: ignore[arg-type]
                                          extra_headers=mock_reply(reply))


def test_a_stored_completion_fetched_by_id_is_read_as_its_answer(servers: Servers) -> None:
    """From a probe: guard refused the key in the answer, and its 404 for the fetch said to
    list the path under `passthrough:`; listed, the fetch handed the app the key."""
    created = stored(servers.client, f"The deploy key is {SECRET}.")
    assert created.choices[0].finish_reason == "content_filter"
    fetched = servers.client.chat.completions.retrieve(created.id)
    assert fetched.choices[0].finish_reason == "content_filter"
    assert "StoredChat" not in fetched.model_dump_json()
    masked = stored(servers.client, f"Write to {EMAIL} about it.")
    assert (servers.client.chat.completions.retrieve(masked.id).choices[0].message.content
            == "Write to [REDACTED:pii:email] about it.")
    assert servers.client.chat.completions.delete(masked.id).deleted  # no text: forwarded
    with pytest.raises(openai.NotFoundError):
        servers.client.chat.completions.retrieve(masked.id)
    assert servers.guard.metric("guard_requests_total", route="/v1/chat/completions/{id}") == 4


def test_no_404_under_a_guarded_route_suggests_passing_it_through(servers: Servers) -> None:
    """A stored completion's messages, a response's input items: not served, and the 404 does
    not tell the operator to forward them unread."""
    created = stored(servers.client, "Fine.")
    for path in (f"/v1/chat/completions/{created.id}/messages", "/v1/responses/resp_1/input_items"):
        answer = httpx.get(servers.guard.url + path)
        assert answer.status_code == 404
        message = answer.json()["error"]["message"]
        assert "passthrough" not in message and "not forwarded" in message, message


def test_a_template_under_a_guarded_route_is_warned_of_and_the_fetch_still_read(
        tmp_path: Path) -> None:
    """Listed as the 404 once told, the stored completion is still read, and the template is
    warned of at start: other paths it takes (the messages) pass unread."""
    templates = ["/v1/chat/completions/{id}", "/v1/chat/completions/{id}/messages"]
    with guard_before_mock(tmp_path, POLICIES, passthrough=templates) as guard:
        client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
        created = stored(client, f"The deploy key is {SECRET}.")
        fetched = client.chat.completions.retrieve(created.id)
        assert "StoredChat" not in fetched.model_dump_json()
        warned = [json.loads(line)["detail"] for line in guard.output().splitlines()
                  if '"passthrough_under_guarded_route"' in line]
        assert [detail.split()[1] for detail in warned] == templates
        client.close()


def test_an_update_of_a_stored_completion_is_read_as_its_answer(servers: Servers) -> None:
    """`chat.completions.update` (POST .../{id}, metadata) answers the whole completion: it was
    405 unlisted, forwarded unread under `/v1/{tail:.*}`; now read as a fetch, metadata forwarded."""
    created = stored(servers.client, f"The deploy key is {SECRET}.")
    updated = servers.client.chat.completions.update(created.id, metadata={"ticket": "T-1"})
    assert updated.choices[0].finish_reason == "content_filter"
    assert "StoredChat" not in updated.model_dump_json()
    masked = stored(servers.client, f"Write to {EMAIL} about it.")
    updated = servers.client.chat.completions.update(masked.id, metadata={"ticket": "T-2"})
    assert updated.choices[0].message.content == "Write to [REDACTED:pii:email] about it."
    assert updated.metadata == {"ticket": "T-2"}
    refused = httpx.post(f"{servers.guard.url}/v1/chat/completions/{masked.id}",
                         json={"metadata": {}, "messages": ASK})
    assert refused.status_code == 400 and "metadata" in refused.json()["error"]["message"]
    # no metadata: the stand-in answers as the API does (it raised, a 500), through guard
    missing = httpx.post(f"{servers.guard.url}/v1/chat/completions/{masked.id}", json={})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "metadata"


def test_an_update_under_a_broad_template_is_still_read(tmp_path: Path) -> None:
    """From a probe: with `passthrough: ['/v1/{tail:.*}']` the update's answer handed the
    client the GitHub token the GET of the same id withheld, with no incident."""
    with guard_before_mock(tmp_path, POLICIES, passthrough=["/v1/{tail:.*}"]) as guard:
        client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
        created = stored(client, f"The deploy key is {SECRET}.")
        updated = client.chat.completions.with_raw_response.update(created.id, metadata={"a": "b"})
        assert "StoredChat" not in updated.text
        assert updated.headers.get("X-Guard-Incident-Id")
        client.close()


def test_a_fetch_with_an_empty_chunked_body_is_read(servers: Servers) -> None:
    """From a re-probe: a fetch by id sent `Transfer-Encoding: chunked` with no byte in it was
    refused, 400 "takes no body"; it is read as any fetch."""
    created = stored(servers.client, f"Write to {EMAIL} about it.")
    answer = httpx.request("GET", f"{servers.guard.url}/v1/chat/completions/{created.id}",
                           content=iter([]))  # an iterator: sent chunked
    assert answer.request.headers["Transfer-Encoding"] == "chunked"
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == (
        "Write to [REDACTED:pii:email] about it.")
