"""Streams that end before their end, through `guard serve` (a real process) in front of the
stand-in model: what an optimistic stream sent the client before any check read it is still
read, and its incident recorded, when the model drops the connection or the client hangs up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, guard_before_mock, journal_incidents

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
# the first 30 characters (the stand-in's first chunk, with X-Mock-Chunk-Chars: 30) hold the key,
# fewer than check_chars: no check reads it before the stream ends
REPLY = f"Key: {AWS_KEY} ok. " + "and that is all there is to it"
POLICY = """
name: default
version: "t1"
classifiers:
  secrets: {type: secrets}
rules:
  - {name: secrets-leak, stage: completion, when: {classifier: secrets}, action: block,
     severity: critical, category: secrets}
streaming: {mode: optimistic, check_chars: 64, max_holdback_ms: 60000}
"""
TOKEN = "early-end-admin-token"
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses",
         "messages": "/v1/messages"}


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    workdir: Path = tmp_path_factory.mktemp("early_end")
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY)
    with guard_before_mock(workdir, policies, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"}) \
            as server:
        yield server


def request_body(api: str, model: str = "m") -> dict[str, object]:
    said = [{"role": "user", "content": "the key please"}]
    if api == "responses":
        return {"model": model, "input": "the key please", "stream": True}
    if api == "messages":
        return {"model": model, "messages": said, "max_tokens": 64, "stream": True}
    return {"model": model, "messages": said, "stream": True}


def late_block(guard: GuardServer, request_id: str) -> list[tuple[str, str, object]]:
    """The request's incidents as (kind, action, details)."""
    return [(i["kind"], i["action"], i["details"]) for i in journal_incidents(guard, request_id)]


@pytest.mark.parametrize("api", ["chat", "responses", "messages"])
def test_model_dropping_the_connection_still_records_what_went_out(guard: GuardServer,
                                                                   api: str) -> None:
    """An optimistic stream the model drops after the key went out unchecked records the key's
    block, marked as read after the stream ended (`stream_ended: upstream_broken`)."""
    request_id = f"drop-{api}-{uuid.uuid4().hex}"
    answer = httpx.post(f"{guard.url}{PATHS[api]}", json=request_body(api), timeout=30,
                        headers={"X-Request-Id": request_id, "X-Mock-Reply": REPLY,
                                 "X-Mock-Chunk-Chars": "30", "X-Mock-Fail": "midstream"})
    assert AWS_KEY in answer.text  # optimistic: it went out before any check
    assert "upstream_broken" in answer.text
    assert late_block(guard, request_id) == [
        ("decision", "block", {"stream_ended": "upstream_broken"})]


@pytest.mark.parametrize("api", ["chat", "messages"])
def test_client_leaving_still_records_what_it_was_sent(guard: GuardServer, api: str) -> None:
    """A client that hangs up once it has read the key, while the model pauses, leaves the
    key's block recorded, marked `stream_ended: client_disconnected`."""
    request_id = f"leave-{api}-{uuid.uuid4().hex}"
    received = ""
    with httpx.stream("POST", f"{guard.url}{PATHS[api]}", json=request_body(api), timeout=30,
                      headers={"X-Request-Id": request_id, "X-Mock-Reply": REPLY,
                               "X-Mock-Chunk-Chars": "30",
                               "X-Mock-Chunk-Delay-Ms": "5000"}) as answer:
        for text in answer.iter_text():
            received += text
            if AWS_KEY in received:
                break
    assert AWS_KEY in received
    assert late_block(guard, request_id) == [
        ("decision", "block", {"stream_ended": "client_disconnected"})]


def test_a_kill_switch_ending_a_stream_still_records_what_went_out(guard: GuardServer) -> None:
    """A kill switch engaged while the model pauses, after the key went out unchecked, ends the
    stream with its error event and leaves the key's block recorded, marked
    `stream_ended: kill_switch_engaged`."""
    request_id = f"switch-{uuid.uuid4().hex}"
    received = ""
    with httpx.stream("POST", f"{guard.url}{PATHS['chat']}", timeout=30,
                      json=request_body("chat", model="switched-off"),
                      headers={"X-Request-Id": request_id, "X-Mock-Reply": REPLY,
                               "X-Mock-Chunk-Chars": "30",
                               "X-Mock-Chunk-Delay-Ms": "5000"}) as answer:
        chunks = answer.iter_text()
        while AWS_KEY not in received:
            received += next(chunks)
        engaged = httpx.post(f"{guard.admin_url}/admin/killswitch", timeout=10,
                             headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"scope": "model:switched-off", "mode": "block",
                                   "reason": "test"})
        assert engaged.status_code == 201, engaged.text
        received += "".join(chunks)
    assert "kill_switch_engaged" in received
    assert late_block(guard, request_id) == [
        ("decision", "block", {"stream_ended": "kill_switch_engaged"})]
