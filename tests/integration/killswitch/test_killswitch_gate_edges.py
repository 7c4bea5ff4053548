"""Requests shaped to slip past a kill switch are stopped by it: a `model` key in another case or
given twice, on a request whose policy reads no prompt; a request naming no model; a
pass-through path. Real `guard serve` (policies: null) in front of the stand-in model, or of the
hostile upstream for pass-through answers that never end; switches engaged through the admin
API."""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import GuardServer, HostileProcess, MockUpstream, start_together

pytestmark = pytest.mark.timeout(60)

TOKEN = "gate-edges-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockUpstream, GuardServer]]:
    workdir = tmp_path_factory.mktemp("gate-edges")
    mock = MockUpstream(workdir)
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}}, "policies": None,
                                  "passthrough": ["/v1/files/{id}/content"]},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    start_together(mock, guard)
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


def kept_from_upstream(servers: tuple[MockUpstream, GuardServer], scope: str, path: str,
                       raw: bytes) -> httpx.Response:
    """guard's answer to `raw` posted to `path` while `scope` is switched off; the upstream got
    nothing of it."""
    mock, guard = servers
    before = seen(mock)
    with engaged(guard, scope):
        response = post(guard, path, raw)
    assert seen(mock) == before
    return response


@pytest.mark.parametrize("raw", [
    b'{"Model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"decoy","MODEL":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o","model":"decoy","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o","mod\\u0065l":"decoy","messages":[{"role":"user","content":"hi"}]}',
])
def test_model_key_in_another_case_or_twice_is_refused_without_prompt_rules(
        servers: tuple[MockUpstream, GuardServer], raw: bytes) -> None:
    """A `model` key in another case, or given twice, is refused (400) even when no policy reads
    prompts: a case-blind upstream, or one keeping the first key, would serve the switched-off
    model."""
    response = kept_from_upstream(servers, "model:gpt-4o", CHAT, raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


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
    response = kept_from_upstream(servers, "model:gpt-4o", path, raw)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "kill_switch_engaged"
    assert post(servers[1], path, raw).status_code == 200  # released: served again


@pytest.mark.parametrize(("scope", "request_args"), [
    ("global", ("GET", "/v1/models", {})),
    ("global", ("POST", "/v1/files/file-1/content", {})),
    ("route:/v1/models", ("GET", "/v1/models", {})),
    ("route:/v1/files/*", ("POST", "/v1/files/file-1/content", {})),
    ("tenant:acme", ("GET", "/v1/models", {"X-Guard-Tenant": "acme"})),
])
def test_pass_through_paths_meet_global_route_and_tenant_switches(
        servers: tuple[MockUpstream, GuardServer], scope: str,
        request_args: tuple[str, str, dict[str, str]]) -> None:
    """`GET /v1/models` and `passthrough:` paths are stopped (503) by global, route and tenant
    switches, in either mode (no completion to refuse with); forwarded again once released."""
    _, guard = servers
    method, path, headers = request_args
    with engaged(guard, scope):
        response = httpx.request(method, guard.url + path, headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "kill_switch_engaged"
        assert response.headers["X-Guard-Decision"] == "block"
    assert httpx.request(method, guard.url + path, headers=headers).status_code != 503


def test_model_switches_pass_pass_through_paths_and_deletes_pass_every_switch(
        servers: tuple[MockUpstream, GuardServer]) -> None:
    """A pass-through body is not read, so no `model:` switch can apply to it; deleting a stored
    answer passes even a global switch (on-call may want it while one is on)."""
    _, guard = servers
    with engaged(guard, "model:*"):
        assert httpx.get(f"{guard.url}/v1/models").status_code == 200
    with engaged(guard, "global"):
        assert httpx.delete(f"{guard.url}/v1/responses/resp_none").status_code == 404


@pytest.mark.parametrize("tenants", [
    b"X-Guard-Tenant: other\r\nX-Guard-Tenant: acme\r\n",
    b"X-Guard-Tenant: acme\r\nx-guard-tenant: other\r\n",
    b"X-Guard-Tenant: other, acme\r\n",
])
@pytest.mark.parametrize("path", [CHAT, "/v1/models"])
def test_a_tenant_header_given_more_than_once_is_refused(
        servers: tuple[MockUpstream, GuardServer], tenants: bytes, path: str) -> None:
    """A tenant header repeated or listing several tenants is refused (400): a gateway appending
    its value to the client's would otherwise let the client's (the first) pick the tenant, and
    step around a `tenant:` switch."""
    mock, guard = servers
    before = seen(mock)
    body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    method = b"POST" if path == CHAT else b"GET"
    with engaged(guard, "tenant:acme"), socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + tenants
                     + b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"X-Guard-Tenant names more than one tenant" in payload
    assert seen(mock) == before


@pytest.mark.parametrize(("scope", "warned"), [
    ("route:/v1/chat/completions", False), ("route:/v1/models", False),
    ("route:/v1/files/file-1/content", False), ("route:/v1/files/*", False),
    ("route:/v1/*", False), ("route:/v1/chat/completion", True), ("route:/v1/embeddings", True),
])
def test_a_route_scope_that_matches_nothing_served_is_engaged_with_a_warning(
        servers: tuple[MockUpstream, GuardServer], scope: str, warned: bool) -> None:
    """A `route:` scope that no guarded route, /v1/models or passthrough path can match (a typo)
    is engaged (another replica may serve it) and answered with a warning saying so."""
    _, guard = servers
    with engaged(guard, scope) as answer:
        assert ("warning" in answer) is warned, answer
        if warned:
            assert "matches no path this replica serves" in answer["warning"]


@pytest.mark.parametrize(("scope", "told"), [
    ("route:/v1/responses/*", "GET /v1/responses/{id}: stopped by route:/v1/responses; "
     "POST /v1/responses/{id}/cancel and DELETE /v1/responses/{id}: stopped by no switch"),
    ("route:/v1/chat/completions/chatcmpl-1", "GET and POST /v1/chat/completions/{id}: "
     "stopped by route:/v1/chat/completions; DELETE /v1/chat/completions/{id}: stopped by no "
     "switch"),
])
def test_a_route_scope_naming_an_answer_fetched_by_id_names_the_scope_that_stops_it(
        servers: tuple[MockUpstream, GuardServer], scope: str, told: str) -> None:
    """From a probe: `route:/v1/responses/*` was engaged with the warning "matches no path this
    replica serves", though guard serves GET /v1/responses/{id}; such a fetch counts, and is
    stopped, under `route:/v1/responses`. The warning now says so, and which requests no switch
    stops (a cancel, a delete)."""
    _, guard = servers
    with engaged(guard, scope) as answer:
        warning = answer.get("warning", "")
    assert "matches no path" not in warning, warning
    assert warning == (f"{scope} stops nothing: answers fetched by id count under their API's "
                       f"route ({told}); engaged all the same")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HostileProcess, GuardServer]]:
    workdir = tmp_path_factory.mktemp("gate-edges-hostile")
    upstream = HostileProcess(workdir)
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": upstream.url}},
                                  "policies": None, "passthrough": ["/v1/files/{id}/content"]},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    start_together(upstream, guard)
    yield upstream, guard
    guard.stop()
    upstream.stop()


def test_a_pass_through_request_in_flight_is_stopped(
        hostile: tuple[HostileProcess, GuardServer]) -> None:
    """A switch engaged while a pass-through request waits for its answer answers it (503); one
    whose answer has begun has its body cut off (the connection reset: what the kernel still
    held is not delivered), and the upstream connection is closed."""
    upstream, guard = hostile
    path = f"{guard.url}/v1/files/file-1/content"
    with httpx.Client(timeout=10) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(client.get, path, headers={"X-Hostile": "silent"})
        with client.stream("GET", path, headers={"X-Hostile": "drip",
                                                "X-Hostile-Delay-Ms": "100"}) as dripping:
            assert dripping.status_code == 200
            body = dripping.iter_bytes()
            next(body)
            assert not waiting.done()
            with engaged(guard, "global"):
                started = time.monotonic()
                with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                    for _ in body:
                        pass
                assert time.monotonic() - started < 3
                assert waiting.result(timeout=3).status_code == 503
        assert waiting.result().json()["error"]["code"] == "kill_switch_engaged"
    deadline = time.monotonic() + 5
    while upstream.stats()["open"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.stats()["open"] == 0


def test_a_block_switch_is_not_retried_by_the_openai_sdk(
        servers: tuple[MockUpstream, GuardServer]) -> None:
    """From a probe: the SDK's default two retries honoured `Retry-After` (30 s), so an app got
    the switch's 503 only after three tries and a minute; `x-should-retry: false` tells it the
    stop is deliberate. Other clients still read `Retry-After`."""
    import openai

    _, guard = servers
    tries: list[httpx.Request] = []
    client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                           http_client=httpx.Client(event_hooks={"request": [tries.append]}))
    response = httpx.post(f"{guard.admin_url}/admin/killswitch", headers=ADMIN,
                          json={"scope": "global", "reason": "INC-9 drill", "ttl_s": 3})
    assert response.status_code == 201, response.text
    try:
        with pytest.raises(openai.InternalServerError) as stopped:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert stopped.value.code == "kill_switch_engaged" and len(tries) == 1
        assert stopped.value.response.headers["x-should-retry"] == "false"
        assert stopped.value.response.headers["retry-after"] in ("1", "2", "3")
        with pytest.raises(openai.InternalServerError):  # a pass-through path too
            client.models.list()
        assert len(tries) == 2
    finally:
        client.close()
        httpx.delete(f"{guard.admin_url}/admin/killswitch/{response.json()['switch']['id']}",
                     headers=ADMIN)
