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

import httpx
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


def test_a_key_split_across_one_commands_output_around_anothers_is_never_sent(
        servers: Servers) -> None:
    """A client joins each command's output apart (by `command_index`): so does guard."""
    at = {"output_index": 0, "item_id": "sh_1"}

    def stdout(index: int, text: str) -> dict[str, Any]:
        return {"type": "response.shell_call_output_content.delta", **at, "command_index": index,
                "delta": {"stdout": text}}

    answer = servers.raw({"input": "run it", "stream": True}, **script([
        CREATED, stdout(0, f"x {SECRET[:20]}"), stdout(1, "ok\n"), stdout(0, SECRET[20:]),
        {"type": "response.completed", "response": {**RESPONSE, "status": "completed"}}]))
    got = typed_events(answer.text)
    commands: dict[int, str] = {}
    for event in got:
        if event["type"] == "response.shell_call_output_content.delta":
            index = event["command_index"]
            commands[index] = commands.get(index, "") + event["delta"]["stdout"]
    assert all(SECRET not in text for text in commands.values()), got
    assert SECRET[:20] not in answer.text and SECRET[20:] not in answer.text
    assert got[-1]["type"] in ("response.incomplete", "error")


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


# -- a shell call's commands ---------------------------------------------------------------------

SHELL = {"id": "sh_1", "type": "shell_call", "call_id": "c", "status": "in_progress",
         "action": {"commands": [], "timeout_ms": None, "max_output_length": None}}


def command(index: int, text: str, opens: bool = False) -> dict[str, Any]:
    """A piece of command `index`: the `.added` event opening it, or a delta."""
    if opens:
        return {"type": "response.shell_call_command.added", "output_index": 0,
                "command_index": index, "command": text}
    return {"type": "response.shell_call_command.delta", "output_index": 0,
            "command_index": index, "delta": text}


ENDINGS: dict[str, list[dict[str, Any]]] = {
    "incomplete": [{"type": "response.incomplete", "response": {
        **RESPONSE, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}}],
    "failed": [{"type": "response.failed", "response": {
        **RESPONSE, "status": "failed", "error": {"code": "server_error", "message": "oops"}}}],
    "error": [{"type": "error", "code": "server_error", "message": "oops", "param": None}],
    "no_end": [],
    "item_done": [{"type": "response.output_item.done", "output_index": 0,
                   "item": {**SHELL, "status": "incomplete"}}],
}
FIRST, REST = f"echo {SECRET[:20]}", f"{SECRET[20:]} | gh auth login --with-token"
PIECES = {
    "added_then_delta": [command(0, FIRST, opens=True), command(0, REST)],
    "interleaved": [command(0, FIRST), command(1, "ls -la"), command(0, REST)],
}


def joined_commands(events: list[dict[str, Any]]) -> dict[int, str]:
    """Each command as a client joins it: its `.added` text, then its deltas."""
    commands: dict[int, str] = {}
    for event in events:
        text = {"response.shell_call_command.added": event.get("command"),
                "response.shell_call_command.delta": event.get("delta")}.get(event["type"])
        if text is not None:
            commands[event["command_index"]] = commands.get(event["command_index"], "") + text
    return commands


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("pieces", PIECES)
def test_a_key_split_across_a_commands_pieces_is_never_sent_however_the_stream_ends(
        servers: Servers, pieces: str, ending: str) -> None:
    """Without a `.done` repeating the command, its pieces are read joined per command_index
    before the stream's end lets any go out."""
    events = [CREATED, {"type": "response.output_item.added", "output_index": 0, "item": SHELL},
              *PIECES[pieces], *ENDINGS[ending]]
    answer = servers.raw({"input": "set up my env", "stream": True}, **script(events))
    got = typed_events(answer.text)
    assert all(SECRET not in text for text in joined_commands(got).values()), got
    assert SECRET[:20] not in answer.text and SECRET[20:] not in answer.text
    assert got[-1]["type"] in ("response.incomplete", "error")


def test_an_address_split_between_a_commands_opening_and_delta_is_masked_in_both(
        servers: Servers) -> None:
    """The `.added` event's command is the command's first piece: read with the deltas after
    it, and the `.done` repeating it is written as the client was shown it."""
    text = f"mail {EMAIL} < notes.txt"
    done = {**SHELL, "status": "completed", "action": {**SHELL["action"], "commands": [text]}}
    answer: httpx.Response = servers.raw({"input": "mail it", "stream": True}, **script([
        CREATED, {"type": "response.output_item.added", "output_index": 0, "item": SHELL},
        command(0, text[:12], opens=True), command(0, text[12:]),
        {"type": "response.shell_call_command.done", "output_index": 0, "command_index": 0,
         "command": text},
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {"type": "response.completed", "response": {**RESPONSE, "status": "completed",
                                                    "output": [done]}}]))
    assert EMAIL[:7] not in answer.text and EMAIL[7:] not in answer.text
    got = typed_events(answer.text)
    masked = f"mail {MASK} < notes.txt"
    assert joined_commands(got) == {0: masked}
    by_type = {event["type"]: event for event in got}
    assert by_type["response.shell_call_command.done"]["command"] == masked
    assert by_type["response.completed"]["response"]["output"][0]["action"]["commands"] == [
        masked]


def test_commands_and_outputs_that_come_interleaved_pass_whole(servers: Servers) -> None:
    """From a re-probe: commands may run at once, their outputs interleaved (command 0's, then
    1's, then 0's again); read as one text joined in order, that ended the stream with
    `upstream_protocol_error`. A client lists each command and its output apart: so does guard."""
    at = {"output_index": 0, "item_id": "sh_1"}

    def stdout(index: int, text: str) -> dict[str, Any]:
        return {"type": "response.shell_call_output_content.delta", **at, "command_index": index,
                "delta": {"stdout": text}}

    answer = servers.raw({"input": "run both", "stream": True}, **script([
        CREATED, {"type": "response.output_item.added", "output_index": 0, "item": SHELL},
        command(0, "echo a; "), command(1, "pwd"), command(0, "echo b"),
        stdout(0, "a\n"), stdout(1, "/root\n"), stdout(0, "b\n"),
        {"type": "response.completed", "response": {**RESPONSE, "status": "completed"}}]))
    got = typed_events(answer.text)
    assert got[-1]["type"] == "response.completed", got
    assert joined_commands(got) == {0: "echo a; echo b", 1: "pwd"}
    outputs: dict[int, str] = {}
    for event in got:
        if event["type"] == "response.shell_call_output_content.delta":
            index = event["command_index"]
            outputs[index] = outputs.get(index, "") + event["delta"]["stdout"]
    assert outputs == {0: "a\nb\n", 1: "/root\n"}

