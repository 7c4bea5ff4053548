"""What guard's JSON log lines say, read from a real `guard serve`'s output."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import POLICIES, GuardServer, MockUpstream, free_port, guard_before_mock, start_together

pytestmark = pytest.mark.timeout(60)

TOKEN = "tok-alice-aaaaaaaaaaaaaaaa"


def log_lines(output: str) -> list[dict[str, Any]]:
    """The JSON lines of a guard's output (anything else skipped)."""
    lines = []
    for line in output.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_records_are_written_whatever_the_log_level(tmp_path: Path) -> None:
    """At `log_level: error` the `incidents.log` sink still writes its incident lines and the
    kill switch still writes its audit line, while diagnostics (the access lines) are filtered."""
    mock = MockUpstream(tmp_path)
    config = {"upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
              "log_level": "error", "incidents": {"log": True}}
    guard = GuardServer(tmp_path, config, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    try:
        start_together(mock, guard)
        blocked = httpx.post(f"{guard.url}/v1/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "my key AKIAIOSFODNN7EXAMPLE"}]})
        assert blocked.status_code == 400
        engaged = httpx.post(f"{guard.admin_url}/admin/killswitch",
                             json={"scope": "model:x", "reason": "INC-1"},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert engaged.status_code in (200, 201)
    finally:
        guard.stop()
        mock.stop()
    events = [line.get("event") for line in log_lines(guard.output())]
    assert "incident" in events, events
    assert "killswitch_change" in events, events
    assert "request" not in events


def test_an_unreachable_upstream_is_logged_with_its_address_and_why(tmp_path: Path) -> None:
    """An upstream guard cannot reach is logged with its scheme, host and port and the reason
    (name not resolved, connection refused, TLS handshake failed); the client hears the reason
    but never the address."""
    mock = MockUpstream(tmp_path)
    refused = f"http://127.0.0.1:{free_port()}"
    upstreams = {"default": {"url": mock.url},
                 "dns": {"url": "http://no-such-host.invalid:8000/tok-in-path"},
                 "refused": {"url": refused},
                 "tls": {"url": mock.url.replace("http:", "https:")}}
    guard = GuardServer(tmp_path, {"upstreams": upstreams,
                                   "routes": {name: name for name in upstreams}})
    answers = {}
    try:
        start_together(mock, guard)
        for name in ("dns", "refused", "tls"):
            answers[name] = httpx.post(f"{guard.url}/v1/chat/completions", json={
                "model": name, "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    finally:
        guard.stop()
        mock.stop()
    logged = {line["error"]: line["detail"] for line in log_lines(guard.output())
              if line.get("event") == "upstream_error"}
    wanted = {"dns": ("name not resolved", "http://no-such-host.invalid:8000/…"),
              "refused": ("connection refused", refused),
              "tls": ("TLS handshake failed", mock.url.replace("http:", "https:"))}
    for name, (why, where) in wanted.items():
        message = answers[name].json()["error"]["message"]
        assert answers[name].status_code == 502
        assert message == f"upstream {name!r} is unreachable: {why}"
        assert logged[message].startswith(f"{where}: "), logged
    assert "tok-in-path" not in guard.output()


def test_access_lines_say_tenant_decision_error_code_and_switch(tmp_path: Path) -> None:
    """Each access line names the tenant as sent (bounded), guard's decision, the error code of
    an answer guard made, and the kill switch that stopped the request: three different 400s
    and a switch's 503 no longer log alike; nor does a stream a switch ended. A stream's
    decision is the one it ended with: a stream cut or redacted after its headers said `allow`
    had been logged as allowed."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(POLICIES)},
                        env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    chat = f"{guard.url}/v1/chat/completions"

    def ask(body: str, tenant: str = "acme") -> int:
        return httpx.post(chat, content=body, headers={"Content-Type": "application/json",
                                                       "X-Guard-Tenant": tenant}).status_code

    def user(content: object) -> str:
        return json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]})

    try:
        start_together(mock, guard)
        statuses = [ask("{bad"),
                    ask(user([{"type": "image_url", "image_url": {"url": "http://x/y.png"}}])),
                    ask(user("my key AKIAIOSFODNN7EXAMPLE")),
                    ask(user("hello"), tenant="t" * 500)]
        for reply in ("my key is AKIAIOSFODNN7EXAMPLE, keep it", "write to ann@example.com"):
            with httpx.stream("POST", chat, json={"model": "m", "stream": True, "messages": [
                    {"role": "user", "content": "hi"}]}, headers={
                    "X-Mock-Reply": reply, "X-Mock-Chunk-Chars": "4", "X-Guard-Tenant": "gamma"
                    }) as stream:
                assert stream.headers["X-Guard-Decision"] == "allow"
                assert reply[-6:] not in stream.read().decode()
        switch = httpx.post(f"{guard.admin_url}/admin/killswitch",
                            json={"scope": "tenant:acme", "reason": "INC-2"},
                            headers={"Authorization": f"Bearer {TOKEN}"}).json()["switch"]
        statuses.append(ask(user("hello")))
        with httpx.stream("POST", chat, json={"model": "m", "stream": True, "messages": [
                {"role": "user", "content": "hi"}]}, headers={
                "X-Mock-Reply": "w" * 400, "X-Mock-Chunk-Chars": "2",
                "X-Mock-Chunk-Delay-Ms": "20", "X-Guard-Tenant": "beta"}) as stream:
            streamed = stream.iter_bytes()
            next(streamed)
            mid = httpx.post(f"{guard.admin_url}/admin/killswitch",
                             json={"scope": "tenant:beta", "reason": "INC-3"},
                             headers={"Authorization": f"Bearer {TOKEN}"}).json()["switch"]
            assert b"kill_switch_engaged" in b"".join(streamed)
    finally:
        guard.stop()
        mock.stop()
    assert statuses == [400, 400, 400, 200, 503]
    access = [{key: line.get(key) for key in ("tenant", "decision", "code", "switch")}
              for line in log_lines(guard.output()) if line.get("event") == "request"]
    assert access == [
        {"tenant": "acme", "decision": None, "code": "invalid_json", "switch": None},
        {"tenant": "acme", "decision": None, "code": "unreadable_content", "switch": None},
        {"tenant": "acme", "decision": "block", "code": "content_filter", "switch": None},
        {"tenant": "t" * 128, "decision": "allow", "code": None, "switch": None},
        {"tenant": "gamma", "decision": "block", "code": None, "switch": None},
        {"tenant": "gamma", "decision": "redact", "code": None, "switch": None},
        {"tenant": "acme", "decision": "block", "code": "kill_switch_engaged",
         "switch": switch["id"]},
        {"tenant": "beta", "decision": "allow", "code": "kill_switch_engaged",
         "switch": mid["id"]},
    ]


def raw_post(guard: GuardServer, headers: bytes, body: bytes) -> bytes:
    """The status line of a POST to the chat route sent as raw bytes (header bytes that no
    HTTP library would send)."""
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: guard\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
                     % (len(body), headers, body))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_a_tenant_that_is_not_text_is_refused_and_logged_escaped(tmp_path: Path) -> None:
    """From a re-probe: a tenant header holding bytes that are not UTF-8 made the access line
    fail, and the answer with it (500, the model already called); with a block, the incident's
    write failed too. Such a tenant is refused (400), its line written with the bytes escaped;
    a tenant read from a header that carries credentials is logged as a digest."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(POLICIES)})
    keyed = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "tenant_header": "X-Api-Key"})
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content":
                                                   "my key AKIAIOSFODNN7EXAMPLE"}]}).encode()
    try:
        start_together(mock, guard, keyed)
        assert raw_post(guard, b"X-Guard-Tenant: acme\xe9\xff\r\n", body).startswith(
            b"HTTP/1.1 400")
        assert raw_post(keyed, b"X-Api-Key: sk-tenant-secret-1234\r\n", b'{"model": "m", '
                        b'"messages": [{"role": "user", "content": "hi"}]}').startswith(
            b"HTTP/1.1 200")
    finally:
        guard.stop()
        keyed.stop()
        mock.stop()
    assert '"level":"error"' not in guard.output()
    access = [line for line in log_lines(guard.output()) if line.get("event") == "request"]
    assert [(line["status"], line["tenant"], line["code"]) for line in access] == [
        (400, "acme\\udce9\\udcff", "invalid_request")]
    shown = [line["tenant"] for line in log_lines(keyed.output()) if line.get("event") == "request"]
    assert len(shown) == 1 and shown[0].startswith("sha256:")
    assert "sk-tenant-secret" not in keyed.output()


def test_a_tenant_named_by_a_credential_is_known_by_its_digest_everywhere(
        tmp_path: Path) -> None:
    """From a docs probe: with `tenant_header: X-Api-Key` the access line showed a digest, but
    the incident line, the journal (and so the Redis stream, the admin API and exports) kept
    the client's key as the tenant. The tenant is now the digest wherever guard keeps or
    matches it: incidents, log lines, kill switch scopes (`tenant:sha256:...`), policies. From
    a re-probe: a switch naming the key itself is refused (it could stop nothing, and would
    have stored the key), and a policy naming it is loaded with a warning giving its digest."""
    key, other = "sk-live-tenant-credential-0123", "sk-live-another-tenant-4567"
    shown = "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "keyed.yaml").write_text(
        f"name: keyed\nversion: '1'\nscope: {{tenants: ['{shown}']}}\nrules:\n"
        "  - {name: keyed, stage: prompt, when: {stage: prompt}, action: block}\n")
    (tmp_path / "policies" / "default.yaml").write_text("name: default\nversion: '1'\nrules: []\n")
    (tmp_path / "policies" / "raw.yaml").write_text(
        f"name: raw\nversion: '1'\nscope: {{tenants: ['{other}']}}\nrules: []\n")
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(tmp_path / "policies"),
                                   "tenant_header": "X-Api-Key"},
                        env={"GUARD_ADMIN_TOKENS": "alice:t0ken"})

    def ask(tenant: str, text: str = "hello there") -> int:
        return httpx.post(f"{guard.url}/v1/chat/completions", headers={"X-Api-Key": tenant},
                          json={"model": "m", "messages": [{"role": "user", "content": text}]},
                          timeout=10).status_code

    try:
        start_together(mock, guard)
        assert (ask(key), ask(other)) == (400, 200)  # the policy names the key's digest
        engaged = httpx.post(f"{guard.admin_url}/admin/killswitch",
                             headers={"Authorization": "Bearer t0ken"}, timeout=10,
                             json={"scope": f"tenant:{shown}", "reason": "probe"})
        assert engaged.status_code == 201, engaged.text
        assert (ask(key, "hi"), ask(other, "hi")) == (503, 200)
        raw = httpx.post(f"{guard.admin_url}/admin/killswitch",
                         headers={"Authorization": "Bearer t0ken"}, timeout=10,
                         json={"scope": f"tenant:{other}", "reason": "probe"})
        assert raw.status_code == 400 and other not in raw.text
        assert "sha256:" + hashlib.sha256(other.encode()).hexdigest()[:16] in raw.text
    finally:
        guard.stop()
        mock.stop()
    kept = guard.output() + "".join(p.read_text() for p in (tmp_path / "state").rglob("*.jsonl"))
    assert key not in kept and other not in kept
    incidents = [line for line in log_lines(guard.output()) if line.get("event") == "incident"
                 and line["kind"] == "decision"]
    assert [line["tenant"] for line in incidents] == [shown]
    warned = [line["warning"] for line in log_lines(guard.output())
              if line.get("event") == "policy_warning" and "can match no request" in line["warning"]]
    assert len(warned) == 1 and warned[0].endswith(
        "raw.yaml: a tenant it names can match no request: X-Api-Key carries credentials, so guard "
        "names each tenant by a digest of the value (sha256: and 16 hex digits, as the access line "
        f"shows it): this one is sha256:{hashlib.sha256(other.encode()).hexdigest()[:16]}")


def test_the_access_line_names_the_model_the_request_named(tmp_path: Path) -> None:
    """From a docs probe: the access line showed the metric label, `other` for every model past
    the 64th a process had seen and `none` for a request naming none, so the log could not say
    which model a request (or one a switch stopped) named. It shows the name as sent, null for
    none; the metric labels stay bounded."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}}})
    names = [f"model-{n}" for n in range(66)]
    try:
        start_together(mock, guard)
        with httpx.Client(timeout=10) as client:  # one client: not a TLS context per request
            for name in [*names, None]:
                body = {"messages": [{"role": "user", "content": "hi"}],
                        **({"model": name} if name else {})}
                client.post(f"{guard.url}/v1/chat/completions", json=body)
        assert guard.metric("guard_requests_total", model="other") == 2
    finally:
        guard.stop()
        mock.stop()
    logged = [line["model"] for line in log_lines(guard.output()) if line.get("event") == "request"]
    assert logged == [*names, None]


def test_the_upstreams_request_id_reaches_the_client_and_the_access_line(tmp_path: Path) -> None:
    """From a probe: OpenAI's own id of an answer (`x-request-id: req_...`, which its support
    asks for) was replaced by guard's and logged nowhere. The client gets it as
    `X-Upstream-Request-Id` (guard's stays `X-Request-Id`), whole and streamed, and so does the
    access line; a pass-through answer's too."""
    import openai

    with guard_before_mock(tmp_path, POLICIES) as guard:
        client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
        ask = [{"role": "user", "content": "hi"}]
        whole = client.chat.completions.with_raw_response.create(
            model="m", messages=ask, extra_headers={"X-Mock-Request-Id": "req_whole1"})  # type: ignore[arg-type]
        with client.chat.completions.with_streaming_response.create(
                model="m", messages=ask, stream=True,  # type: ignore[arg-type]
                extra_headers={"X-Mock-Request-Id": "req_stream1"}) as streamed:
            streamed.read()
        models = httpx.get(f"{guard.url}/v1/models", headers={"X-Mock-Request-Id": "req_models1"})
        plain = httpx.post(f"{guard.url}/v1/chat/completions", json={"model": "m", "messages": ask})
        client.close()
    answers = [whole.headers, streamed.headers, models.headers]
    assert whole.parse()._request_id == whole.headers["x-request-id"]  # guard's, as documented
    assert [h["x-upstream-request-id"] for h in answers] == ["req_whole1", "req_stream1",
                                                             "req_models1"]
    assert all(h["x-request-id"] not in ("req_whole1", "req_stream1", "req_models1")
               for h in answers)
    assert "x-upstream-request-id" not in plain.headers
    logged = [(line["request_id"], line["upstream_request_id"])
              for line in log_lines(guard.output()) if line.get("event") == "request"]
    assert logged == [(h["x-request-id"], h.get("x-upstream-request-id"))
                      for h in [*answers, plain.headers]]


def test_a_credential_sent_as_the_model_is_shown_redacted(tmp_path: Path) -> None:
    """From a probe: a client that mixed up its arguments (`"model": "sk-proj-…"`) had its key
    in the access line, three metric series' `model` label and the incident. A model name that
    holds a key or token of a known shape is `[REDACTED]` wherever guard shows it; other names
    stay as the request named them."""
    keys = ["sk-proj-Zq8Xw2Lr5Tn9Vb3Mc7Kp1Hs6Jd4Fg0Ay", "AKIAZ7QX3RPL5MNV2KJD"]
    names = [*keys, "mistralai/Mixtral-8x7B-Instruct-v0.1", "claude-3-5-sonnet-20241022"]
    with guard_before_mock(tmp_path, POLICIES) as guard:
        for name in names:
            blocked = httpx.post(f"{guard.url}/v1/chat/completions", timeout=10, json={
                "model": name,
                "messages": [{"role": "user", "content": "my key AKIAIOSFODNN7EXAMPLE"}]})
            assert blocked.status_code == 400
        metrics = httpx.get(f"{guard.admin_url}/metrics", timeout=10).text
        assert guard.metric("guard_requests_total", model="[REDACTED]") == 2
    journal = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.jsonl"))
    assert not [key for key in keys for place in (guard.output(), metrics, journal) if key in place]
    lines = log_lines(guard.output())
    assert [line["model"] for line in lines if line.get("event") == "request"] == \
        ["[REDACTED]", "[REDACTED]", *names[2:]]
    recorded = [json.loads(line)["model"] for line in journal.splitlines()
                if json.loads(line).get("kind") == "decision"]
    assert sorted(recorded) == sorted(["[REDACTED]", "[REDACTED]", *names[2:]])
    assert all(f'model="{name}"' in metrics for name in names[2:])


def test_a_malformed_request_is_logged_with_why_and_from_where(tmp_path: Path) -> None:
    """From a probe: the `bad_client_request` line of a request aiohttp cannot parse (a header
    over 8,190 bytes, a control character, a bad request line) said neither why nor who sent it,
    so nothing told an operator why clients got plain-text 400s. It names the parser's reason
    and the client's address, and none of the request's bytes the parser quotes (a header's
    value may be a credential)."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}}})
    malformed = [b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000,
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b",
                 b"GET /v1/models HTTP/9 nonsense"]
    try:
        start_together(mock, guard)
        port = int(guard.url.rsplit(":", 1)[1])
        for request in malformed:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(request + b"\r\n\r\n")
                assert b" 400 " in sock.recv(200)
    finally:
        guard.stop()
        mock.stop()
    lines = [line for line in log_lines(guard.output()) if line.get("event") == "bad_client_request"]
    assert len(lines) == 3, lines
    assert all(line["reason"] and line["client"] == "127.0.0.1" for line in lines), lines
    assert [line["reason"] for line in lines[:2]] == ["Got more than 8190 bytes when reading",
                                                       "Invalid header value char"]
    assert "aaaaaaaa" not in guard.output() and "a\\x01b" not in guard.output()
