"""Every admin endpoint, without a token (401), with a wrong one (403) and with a right one (2xx),
on a real `guard serve`; the open endpoints answer anyone."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, MockUpstream, guard_before_mock

pytestmark = pytest.mark.timeout(60)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TOKEN = "matrix-token-alice-0123456789"
# (method, path, JSON body): every route behind the admin token
PROTECTED = [
    ("GET", "/admin/killswitch", None),
    ("POST", "/admin/killswitch", {"scope": "model:matrix-*", "mode": "block", "reason": "test"}),
    ("DELETE", "/admin/killswitch/{id}", None),
    ("GET", "/admin/policies", None),
    ("POST", "/admin/policies/reload", None),
    ("GET", "/admin/incidents", None),
]
OPEN = ["/healthz", "/readyz", "/metrics"]
WRONG = ["Bearer wrong-token", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
         f"Bearer {TOKEN.upper()}"]
MISSING = ["", "Bearer", f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}"]
# An engage sent in a way the admin API refuses: it must engage nothing.
ENGAGE = {"scope": "model:refused-*", "reason": "not engaged"}


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """guard with one admin token configured, the repository's policies and a journal."""
    with guard_before_mock(tmp_path_factory.mktemp("admin-matrix"), POLICIES,
                           env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"}) as server:
        yield server


def send(guard: GuardServer, method: str, path: str, body: object, authorization: str | None
         ) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.request(method, guard.admin_url + path, json=body, headers=headers, timeout=10)


def switch_id(guard: GuardServer) -> str:
    engaged = send(guard, "POST", "/admin/killswitch",
                   {"scope": "model:matrix-*", "reason": "to release"}, f"Bearer {TOKEN}")
    assert engaged.status_code == 201
    return str(engaged.json()["switch"]["id"])


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED,
                         ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_each_admin_endpoint_needs_the_right_token(guard: GuardServer, method: str, path: str,
                                                   body: object) -> None:
    """No token or a malformed header: 401 with WWW-Authenticate; a wrong token: 403; nothing
    changes on either; the right token: 2xx."""
    if "{id}" in path:
        path = path.replace("{id}", switch_id(guard))
    for authorization in [None, *MISSING]:
        answer = send(guard, method, path, body, authorization)
        assert answer.status_code == 401, (authorization, answer.text)
        assert answer.json()["error"]["code"] == "missing_admin_token"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    for authorization in WRONG:
        answer = send(guard, method, path, body, authorization)
        assert answer.status_code == 403, (authorization, answer.text)
        assert answer.json()["error"]["code"] == "invalid_admin_token"
    right = send(guard, method, path, body, f"Bearer {TOKEN}")
    assert 200 <= right.status_code < 300, right.text


def test_a_token_given_with_its_name_is_told_to_drop_it(guard: GuardServer) -> None:
    """From a probe: `Bearer alice:TOKEN`, copied whole from GUARD_ADMIN_TOKENS, got "This admin
    token is not valid." alone; a token with a colon is told the token is the part after it
    (whatever follows the colon: the answer says nothing of whether it is a token)."""
    for token in (f"alice:{TOKEN}", "alice:wrong-token"):
        answer = send(guard, "GET", "/admin/killswitch", None, f"Bearer {token}")
        assert answer.status_code == 403
        assert answer.json()["error"]["message"] == (
            "This admin token is not valid. Give the token alone: in GUARD_ADMIN_TOKENS's "
            "name:token entries it is the part after the colon.")
    answer = send(guard, "GET", "/admin/killswitch", None, "Bearer wrong-token")
    assert answer.json()["error"]["message"] == "This admin token is not valid."


def test_refused_calls_change_nothing(guard: GuardServer) -> None:
    """An engage refused for want of a valid token leaves no switch behind, and traffic flows."""
    for authorization in [None, "Bearer wrong"]:
        send(guard, "POST", "/admin/killswitch",
             {"scope": "global", "reason": "attacker"}, authorization)
    listed = send(guard, "GET", "/admin/killswitch", None, f"Bearer {TOKEN}").json()
    assert all(s["scope"] != "global" for s in listed["switches"])
    answer = httpx.post(f"{guard.url}/v1/chat/completions", timeout=10,
                        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200


def test_unknown_admin_paths_need_a_token_too(guard: GuardServer) -> None:
    """A path that does not exist answers 401 without a token: the API's shape is not probed
    for free; with the token it is a 404."""
    assert send(guard, "GET", "/admin/nothing-here", None, None).status_code == 401
    assert send(guard, "GET", "/admin/nothing-here", None, f"Bearer {TOKEN}").status_code == 404


def openai_error(answer: httpx.Response, status: int, code: str, param: str | None = None
                 ) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert (error["code"], error["param"]) == (code, param), error


def test_admin_errors_are_in_the_documented_shape(guard: GuardServer) -> None:
    """From a probe: an unknown path and a wrong method answered aiohttp's plain text, and an
    out-of-range `since` named the exception's text as `param`; all are OpenAI-shaped now."""
    bearer = f"Bearer {TOKEN}"
    openai_error(send(guard, "GET", "/admin/nothing-here", None, bearer), 404, "not_found")
    wrong = send(guard, "PUT", "/admin/killswitch", None, bearer)
    openai_error(wrong, 405, "method_not_allowed")
    assert set(wrong.headers["Allow"].split(",")) >= {"GET", "POST"}
    answer = send(guard, "GET", "/admin/incidents?since=0001-01-01", None, bearer)
    openai_error(answer, 400, "invalid_parameter", "since")
    assert "out of range" in answer.json()["error"]["message"]


def test_an_unmet_expectation_is_refused_in_the_error_shape(guard: GuardServer) -> None:
    """From a probe: `Expect: foo` got aiohttp's plain-text 417 on the admin port, as it had on
    the data port; it is a 417 `expectation_failed` in the error shape now, before the body is
    read (nothing is engaged)."""
    bearer = f"Bearer {TOKEN}"
    for method, path in [("GET", "/healthz"), ("POST", "/admin/killswitch")]:
        answer = httpx.request(method, guard.admin_url + path, json=ENGAGE, timeout=10,
                               headers={"Expect": "foo", "Authorization": bearer})
        openai_error(answer, 417, "expectation_failed")
        assert "'foo'" in answer.json()["error"]["message"]
    listed = send(guard, "GET", "/admin/killswitch", None, bearer).json()
    assert all(s["scope"] != ENGAGE["scope"] for s in listed["switches"])


@pytest.mark.parametrize("authorization", [None, f"Bearer {TOKEN}"], ids=["no token", "token"])
def test_paths_and_methods_not_served_answer_in_the_error_shape(guard: GuardServer,
                                                                authorization: str | None) -> None:
    """From a probe: `Expect: foo` to a path or a method the admin API does not serve got
    aiohttp's plain-text 417. Every answer there is in the error shape now: without a token,
    401 for any path behind it (which paths exist is not told) and 405 for an open path asked
    with another method; with one, 404 or 405 with `Allow`; and 417 with either."""
    unserved = [("GET", "/nope"), ("GET", "/admin/nope"), ("DELETE", "/admin/incidents"),
                ("DELETE", "/healthz")]
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in unserved:
        answer = httpx.request(method, guard.admin_url + path, timeout=10,
                               headers={**headers, "Expect": "foo"})
        openai_error(answer, 417, "expectation_failed")
    for method, path in unserved:
        answer = httpx.request(method, guard.admin_url + path, headers=headers, timeout=10)
        if path == "/healthz":
            openai_error(answer, 405, "method_not_allowed")
            assert answer.headers["Allow"] == "GET,HEAD"
        elif authorization is None:
            openai_error(answer, 401, "missing_admin_token")
        elif path == "/admin/incidents":
            openai_error(answer, 405, "method_not_allowed")
            assert answer.headers["Allow"] == "GET,HEAD"
        else:
            openai_error(answer, 404, "not_found")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_an_encoded_body_is_refused_in_the_error_shape(guard: GuardServer, encoding: str) -> None:
    """From a probe: a body in br got aiohttp's plain-text 400 on the admin port. Admin bodies
    are plain JSON: one in any Content-Encoding is a 415 `unsupported_content_encoding` in the
    error shape, with `Accept-Encoding: identity`, and nothing is engaged."""
    bearer = f"Bearer {TOKEN}"
    answer = httpx.post(guard.admin_url + "/admin/killswitch", timeout=10,
                        content=gzip.compress(json.dumps(ENGAGE).encode()),
                        headers={"Content-Encoding": encoding, "Authorization": bearer,
                                 "Content-Type": "application/json"})
    openai_error(answer, 415, "unsupported_content_encoding")
    assert answer.headers["Accept-Encoding"] == "identity"
    listed = send(guard, "GET", "/admin/killswitch", None, bearer).json()
    assert all(s["scope"] != ENGAGE["scope"] for s in listed["switches"])


def test_a_refused_reload_carries_the_error_shape_too(tmp_path: Path) -> None:
    """A reload refused for a broken file answers 422 with its result (`ok`, `errors`) and the
    error shape every other admin error has."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    with guard_before_mock(tmp_path, policies, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"}
                           ) as server:
        (policies / "broken.yaml").write_text("name: [\n")
        answer = send(server, "POST", "/admin/policies/reload", None, f"Bearer {TOKEN}")
    assert answer.json()["ok"] is False and "broken.yaml" in answer.json()["errors"][0]
    openai_error(answer, 422, "policy_invalid")
    assert "broken.yaml" in answer.json()["error"]["message"]


def test_policies_without_a_policy_directory_answer_the_documented_keys(tmp_path: Path) -> None:
    """From a probe: with `policies: null`, GET /admin/policies answered only version and
    policies; it answers every documented key (docs/runbook.md), empty."""
    with guard_before_mock(tmp_path, None, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"}) as server:
        answer = send(server, "GET", "/admin/policies", None, f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer.json() == {"version": None, "source": None, "default": None,
                             "last_reload_errors": [], "policies": []}


@pytest.mark.parametrize("path", OPEN)
def test_open_endpoints_answer_without_a_token(guard: GuardServer, path: str) -> None:
    """Health, readiness and metrics need no token (probes and scrapers have none)."""
    assert send(guard, "GET", path, None, None).status_code == 200
    assert send(guard, "GET", path, None, "Bearer wrong").status_code == 200


def test_no_tokens_configured_refuses_every_admin_call(tmp_path: Path) -> None:
    """With GUARD_ADMIN_TOKENS unset, every admin call is refused (the safe default), with a
    403 that says the guard has no tokens rather than blaming the caller's, and is counted as
    any refused token is."""
    mock = MockUpstream(tmp_path)
    mock.start()
    server = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                    "admin_tokens_env": "OPS_TOKENS"}, env={"OPS_TOKENS": ""})
    server.start()
    try:
        for method, path, body in PROTECTED:
            answer = send(server, method, path.replace("{id}", "ks_x"), body, "Bearer anything")
            assert answer.status_code == 403
            error = answer.json()["error"]
            assert error["code"] == "invalid_admin_token"
            assert error["message"].startswith("This guard has no admin tokens configured")
            assert "set OPS_TOKENS" in error["message"]
        assert refusals(server, "invalid_admin_token") == len(PROTECTED)
    finally:
        server.stop()
        mock.stop()


def refusals(guard: GuardServer, code: str) -> float:
    text = httpx.get(guard.admin_url + "/metrics", timeout=10).text
    line = f'guard_admin_auth_refusals_total{{code="{code}"}} '
    return next((float(x.split()[-1]) for x in text.splitlines() if x.startswith(line)), 0.0)


def test_refused_calls_are_counted_and_logged_in_few_lines(guard: GuardServer) -> None:
    """From a probe: 500 wrong tokens in 0.26 s left no trace. Each refusal is counted by code;
    the log says so at most once every 10 s, with the counts since its last line."""
    before = {code: refusals(guard, code) for code in ("invalid_admin_token", "missing_admin_token")}
    lines_before = guard.output().count("admin_auth_refused")
    for n in range(50):
        send(guard, "GET", "/admin/killswitch", None, f"Bearer guess-{n}")
    send(guard, "GET", "/admin/killswitch", None, None)
    assert refusals(guard, "invalid_admin_token") == before["invalid_admin_token"] + 50
    assert refusals(guard, "missing_admin_token") == before["missing_admin_token"] + 1
    assert guard.output().count("admin_auth_refused") - lines_before <= 1
    assert "guess-" not in guard.output()  # the tokens tried are not logged


def test_a_token_of_bytes_that_are_not_utf8_is_refused_and_counted(guard: GuardServer) -> None:
    """From a probe: `Authorization: Bearer \\xff` answered a plain 500 with a traceback in the
    log per call (200 calls: 202 tracebacks, 290 KB), uncounted. It is refused 403
    invalid_admin_token, counted, and logged as other refusals are, without its bytes."""
    import socket

    before = refusals(guard, "invalid_admin_token")
    for token in (b"\xff\xfe", b"tok\xe9n-0123456789abcdef", b"MARKqz7731\xff"):
        with socket.create_connection(("127.0.0.1", guard.admin_port), timeout=10) as conn:
            conn.sendall(b"GET /admin/killswitch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         b"Authorization: Bearer " + token + b"\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 403 "), answer
        assert json.loads(body)["error"]["code"] == "invalid_admin_token"
    assert refusals(guard, "invalid_admin_token") == before + 3
    assert "Traceback" not in guard.output() and "MARKqz7731" not in guard.output()


async def test_refusals_are_logged_with_the_callers_address() -> None:
    """From a probe: `admin_auth_refused` said how many calls were refused but not from where;
    it now gives each peer address (never the token), up to 16 of them, the rest as `other`."""
    import asyncio

    import structlog
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer
    from prometheus_client import CollectorRegistry, Counter

    from guard.admin.auth import Refusals, admin_auth_middleware, load_admin_tokens

    counter = Counter("refused", "test", ["code"], registry=CollectorRegistry())
    refusals = Refusals(counter, every_s=0.2)
    tokens = load_admin_tokens("TOKENS", {"TOKENS": f"alice:{TOKEN}"})
    app = web.Application(middlewares=[admin_auth_middleware(tokens, refused=refusals)])
    with structlog.testing.capture_logs() as logs:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            answer = await client.get("/admin/x", headers={"Authorization": "Bearer guess-1"})
            assert answer.status == 403
        for n in range(20):
            refusals("missing_admin_token", f"10.0.0.{n}")
        await asyncio.sleep(0.35)
    lines = [e for e in logs if e["event"] == "admin_auth_refused"]
    assert [(e["refused"], e["remote"]) for e in lines] == [
        ({"invalid_admin_token": 1}, {"127.0.0.1": 1}),
        ({"missing_admin_token": 20}, {**{f"10.0.0.{n}": 1 for n in range(16)}, "other": 4})]
    assert "guess-1" not in str(lines)


async def test_what_a_burst_leaves_unlogged_is_written_after_the_window() -> None:
    """From a re-probe: 500 wrong tokens made one line saying 1; the other 499 waited for a
    refusal that might never come. They are written once the window has passed."""
    import asyncio

    import structlog
    from prometheus_client import CollectorRegistry, Counter

    from guard.admin.auth import Refusals

    counter = Counter("refused", "test", ["code"], registry=CollectorRegistry())
    refusals = Refusals(counter, every_s=0.2)
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            refusals("invalid_admin_token")
        await asyncio.sleep(0.35)
    lines = [e["refused"] for e in logs if e["event"] == "admin_auth_refused"]
    assert lines == [{"invalid_admin_token": 1}, {"invalid_admin_token": 4}]


def test_a_short_admin_token_is_warned_about_and_still_works(tmp_path: Path) -> None:
    """A token shorter than 16 characters is easy to guess: guard logs `short_admin_tokens`
    naming its actor (never the token) and starts, the token working as before."""
    with guard_before_mock(tmp_path, None, env={
            "GUARD_ADMIN_TOKENS": f"alice:{TOKEN},bob:sh0rt-t0ken"}) as server:
        answer = send(server, "GET", "/admin/killswitch", None, "Bearer sh0rt-t0ken")
        assert answer.status_code == 200, answer.text
        warned = [line for line in server.output().splitlines() if "short_admin_tokens" in line]
    assert len(warned) == 1, server.output()[-3000:]
    assert "bob's token in GUARD_ADMIN_TOKENS is shorter than 16 characters" in warned[0]
    assert "alice" not in warned[0] and "sh0rt-t0ken" not in warned[0]
