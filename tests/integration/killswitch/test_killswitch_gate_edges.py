"""Requests shaped to slip past a kill switch are stopped by it: a `model` key in another case or
given twice, on a request whose policy reads no prompt. Real `guard serve` (policies: null) in
front of the stand-in model, switches engaged through the admin API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import GuardServer, MockUpstream

pytestmark = pytest.mark.timeout(60)

TOKEN = "gate-edges-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockUpstream, GuardServer]]:
    workdir = tmp_path_factory.mktemp("gate-edges")
    mock = MockUpstream(workdir)
    mock.start()
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}}, "policies": None},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    guard.start()
    yield mock, guard
    guard.stop()
    mock.stop()


@contextlib.contextmanager
def engaged(guard: GuardServer, scope: str) -> Iterator[dict[str, Any]]:
    """A switch on `scope` (mode block), released on the way out."""
    response = httpx.post(f"{guard.admin_url}/admin/killswitch", headers=ADMIN,
                          json={"scope": scope, "reason": "INC-9 drill"})
    assert response.status_code == 201, response.text
    try:
        yield response.json()
    finally:
        switch_id = response.json()["switch"]["id"]
        httpx.delete(f"{guard.admin_url}/admin/killswitch/{switch_id}", headers=ADMIN)


def seen(mock: MockUpstream) -> int:
    return len(httpx.get(f"{mock.url}/_mock/requests").json())


def post(guard: GuardServer, path: str, raw: bytes, **headers: str) -> httpx.Response:
    return httpx.post(guard.url + path, content=raw,
                      headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize("raw", [
    b'{"Model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"decoy","MODEL":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o","model":"decoy","messages":[{"role":"user","content":"hi"}]}',
])
def test_model_key_in_another_case_or_twice_is_refused_without_prompt_rules(
        servers: tuple[MockUpstream, GuardServer], raw: bytes) -> None:
    """A `model` key in another case, or given twice, is refused (400) even when no policy reads
    prompts: a case-blind upstream, or one keeping the first key, would serve the switched-off
    model."""
    mock, guard = servers
    before = seen(mock)
    with engaged(guard, "model:gpt-4o"):
        response = post(guard, CHAT, raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert seen(mock) == before


@pytest.mark.parametrize(("path", "raw"), [
    (CHAT, b'{"messages":[{"role":"user","content":"hi"}]}'),
    (CHAT, b'{"model":null,"messages":[{"role":"user","content":"hi"}]}'),
    (CHAT, b'{"model":"","messages":[{"role":"user","content":"hi"}]}'),
    ("/v1/completions", b'{"prompt":"hi"}'),
    ("/v1/responses", b'{"prompt":{"id":"pmpt_abc123"},"input":"hi"}'),
])
def test_a_request_naming_no_model_is_stopped_by_a_model_switch(
        servers: tuple[MockUpstream, GuardServer], path: str, raw: bytes) -> None:
    """A request naming no model meets every `model:` switch (503): the upstream would pick a
    model for it (vLLM's base model, a stored prompt's), maybe the one switched off."""
    mock, guard = servers
    before = seen(mock)
    with engaged(guard, "model:gpt-4o"):
        response = post(guard, path, raw)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "kill_switch_engaged"
    assert seen(mock) == before
    assert post(guard, path, raw).status_code == 200  # released: served again
