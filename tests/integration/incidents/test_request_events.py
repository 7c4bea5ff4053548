"""An event a request makes (a stream cut off) is that request's: it carries the request's id,
tenant, model and route, so a tenant's incidents (`GET /admin/incidents?tenant=`, `guard
incidents export --tenant`) show its cut-offs. `guard serve` with the default pack and the
stand-in model on real sockets."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import GuardServer, guard_before_mock

pytestmark = pytest.mark.timeout(90)

POLICIES = Path(__file__).resolve().parents[3] / "policies"
ADMIN_TOKEN = "t0ken-for-request-events"
KEY = "ghp_Q7w9Xk2LmN4pR8sT1vY3zA5bC6dE0fGhJ7kL"
ASKED = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path_factory.mktemp("events"), POLICIES,
                           env={"GUARD_ADMIN_TOKENS": f"alice:{ADMIN_TOKEN}"}) as server:
        yield server


def incidents(guard: GuardServer, request_id: str, tenant: str) -> list[dict[str, Any]]:
    """The incidents of request `request_id` that `?tenant=` lists, once both are written."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10  # the recorder writes in the background
    while time.monotonic() < deadline and len(found) < 2:
        answer = httpx.get(f"{guard.admin_url}/admin/incidents", params={"tenant": tenant},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        found = [i for i in answer.json()["incidents"] if i["request_id"] == request_id]
        time.sleep(0.1)
    return found


@pytest.mark.parametrize(("route", "body"), [
    ("/v1/chat/completions", {"model": "gpt-4o", "stream": True, "messages": ASKED}),
    ("/v1/responses", {"model": "gpt-4o", "stream": True, "input": "hi"}),
    ("/v1/messages", {"model": "gpt-4o", "stream": True, "max_tokens": 64, "messages": ASKED}),
])
def test_a_stream_cut_off_is_the_tenants(guard: GuardServer, route: str,
                                         body: dict[str, Any]) -> None:
    """From a probe: a streamed answer cut for a key made a `decision` incident with the
    tenant and a `stream_cut` incident with `tenant: null`, which `?tenant=acme` never listed."""
    request_id = f"cut-{route.rsplit('/', 1)[-1]}-{time.time_ns()}"
    with httpx.stream("POST", guard.url + route, json=body, timeout=20, headers={
            "Authorization": "Bearer sk-client", "X-Guard-Tenant": "acme",
            "X-Request-Id": request_id, "X-Mock-Chunk-Chars": "5",
            "X-Mock-Reply": urllib.parse.quote(f"here: {KEY} bye")}) as answer:
        text = answer.read().decode()
    assert KEY[:8] not in text
    found = incidents(guard, request_id, "acme")
    assert sorted(i["kind"] for i in found) == ["decision", "stream_cut"]
    [cut] = [i for i in found if i["kind"] == "stream_cut"]
    assert (cut["tenant"], cut["model"], cut["route"]) == ("acme", "gpt-4o", route)
