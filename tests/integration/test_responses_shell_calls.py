"""A hosted shell tool's call streamed in the Responses API: its commands (`.added` with a first
piece, then deltas, each command by its `command_index`) and its output (deltas of an object,
`{"stdout": ..., "stderr": ...}`) are held and read joined as a client joins them, per command
and per field, however the stream ends. Real `guard serve` with the default pack, a scripted
upstream, the openai SDK and the raw bytes as oracles."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import OpenAIRouteClient, scripted_route, typed_events

pytestmark = pytest.mark.timeout(60)

SECRET = "ghp_ShelLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L1M"  # a GitHub token's shape: blocked
EMAIL = "shell.leak.4471@example.org"                 # masked in answers
MASK = "[REDACTED:pii:email]"
TOKEN = "shell-admin-token-0123456789"


class Servers(OpenAIRouteClient):
    route = "/v1/responses"
    defaults = {"model": "hostile"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with scripted_route(Servers, tmp_path_factory.mktemp("shell"), TOKEN) as servers:
        yield servers


def script(events: list[dict[str, Any]]) -> dict[str, str]:
    return {"X-Hostile-Events": urllib.parse.quote(json.dumps(events))}


RESPONSE = {"id": "r", "object": "response", "created_at": 1, "model": "hostile", "output": []}
CREATED = {"type": "response.created", "response": {**RESPONSE, "status": "in_progress"}}


# -- a shell call's output -----------------------------------------------------------------------

def output_events(field: str, pieces: list[str]) -> list[dict[str, Any]]:
    """A shell call's output whose `field` (stdout or stderr) comes in `pieces`, with a piece of
    the other field between them."""
    other = "stderr" if field == "stdout" else "stdout"
    item = {"id": "sh_1", "type": "shell_call_output", "call_id": "c", "status": "in_progress",
            "output": []}
    out = {field: "".join(pieces), other: "warn\n", "outcome": {"type": "exit", "exit_code": 0}}
    done = {**item, "status": "completed", "output": [out]}
    at = {"output_index": 0, "item_id": "sh_1", "command_index": 0}
    deltas = [{"type": "response.shell_call_output_content.delta", **at, "delta": {field: piece}}
              for piece in pieces]
    deltas.insert(1, {"type": "response.shell_call_output_content.delta", **at,
                      "delta": {other: "warn\n"}})
    return [CREATED, {"type": "response.output_item.added", "output_index": 0, "item": item},
            *deltas,
            {"type": "response.shell_call_output_content.done", **at, "output": [out]},
            {"type": "response.output_item.done", "output_index": 0, "item": done},
            {"type": "response.completed", "response": {**RESPONSE, "status": "completed",
                                                        "output": [done]}}]


def joined_output(events: list[Any], field: str) -> str:
    """What a client shows of a shell call's output: its deltas' `field`, joined."""
    found = []
    for event in events:
        if event["type"] == "response.shell_call_output_content.delta":
            found.append(event["delta"].get(field) or "")
    return "".join(found)


@pytest.mark.parametrize("field", ["stdout", "stderr"])
def test_a_key_split_across_a_shell_outputs_deltas_is_cut_before_any_of_it(
        servers: Servers, field: str) -> None:
    """The SDK's events carry each piece as `delta.stdout` (an object, not a string)."""
    events = output_events(field, [f"x {SECRET[:20]}", f"{SECRET[20:]}\nok\n"])
    got = list(servers.client.responses.create(model="hostile", input="run it", stream=True,
                                               extra_headers=script(events)))
    shown = joined_output([event.model_dump() for event in got], field)
    assert SECRET[:20] not in shown and SECRET[20:] not in shown, shown
    assert got[-1].type == "response.incomplete"
    raw = servers.raw({"input": "run it", "stream": True}, **script(events))
    assert "ShelLeak" not in raw.text and SECRET[20:] not in raw.text
    assert typed_events(raw.text)[-1]["response"]["incomplete_details"] == {
        "reason": "content_filter"}


def test_an_address_split_across_a_shell_outputs_deltas_is_masked_wherever_it_is_repeated(
        servers: Servers) -> None:
    answer = servers.raw({"input": "run it", "stream": True}, **script(
        output_events("stdout", [f"mail {EMAIL[:12]}", f"{EMAIL[12:]} now\n"])))
    assert EMAIL[:12] not in answer.text and EMAIL[12:] not in answer.text
    got = typed_events(answer.text)
    masked = f"mail {MASK} now\n"
    assert joined_output(got, "stdout") == masked
    assert joined_output(got, "stderr") == "warn\n"
    by_type = {event["type"]: event for event in got}
    assert by_type["response.shell_call_output_content.done"]["output"][0]["stdout"] == masked
    assert by_type["response.completed"]["response"]["output"][0]["output"][0]["stdout"] == \
        masked
    assert [event["sequence_number"] for event in got] == list(range(len(got)))


def test_a_delta_holding_text_deeper_than_an_objects_fields_ends_the_stream(
        servers: Servers) -> None:
    """Pieces in a list or a nested object are not read as a client may join them: refused."""
    for delta in ({"lines": [f"x {SECRET}"]}, {"out": {"stdout": SECRET}}, [SECRET]):
        answer = servers.raw({"input": "run it", "stream": True}, **script([
            CREATED, {"type": "response.future_output.delta", "output_index": 0,
                      "delta": delta}]))
        assert "ShelLeak" not in answer.text
        last = typed_events(answer.text)[-1]
        assert last["type"] == "error" and last["error"]["code"] == "upstream_protocol_error"
