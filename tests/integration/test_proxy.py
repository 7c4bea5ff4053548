"""guard in front of the stand-in model, on real sockets, driven by the openai SDK and raw HTTP."""

from __future__ import annotations

import gzip
import re
import socket
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.support import GuardServer, MockUpstream, closed_after_test, free_port, sent_raw

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockUpstream, GuardServer]]:
    """The stand-in model, and guard in front of it with a slow and a dead upstream routed too."""
    workdir = tmp_path_factory.mktemp("proxy")
    mock = MockUpstream(workdir)
    mock.start()
    guard = GuardServer(workdir, {
        "upstreams": {
            "default": {"url": mock.url, "timeout_s": 10},
            "slow": {"url": mock.url, "timeout_s": 0.5},
            "dead": {"url": f"http://127.0.0.1:{free_port()}", "connect_timeout_s": 1},
            # by host name: a cookie jar would keep cookies for it (not for a bare IP address)
            "named": {"url": mock.url.replace("127.0.0.1", "localhost")},
        },
        "routes": {"slow-*": "slow", "dead-*": "dead", "named-*": "named"},
        "passthrough": ["/v1/embeddings-extra", "/v1/files/{tail:.*}"],
        "max_body_bytes": 65536,
    })
    guard.start()
    yield mock, guard
    guard.stop()
    mock.stop()


def client(guard: GuardServer, **headers: str) -> openai.OpenAI:
    return closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client-key",
                                           max_retries=0, default_headers=headers))


def seen(mock: MockUpstream) -> list[dict[str, Any]]:
    return list(httpx.get(f"{mock.url}/_mock/requests").json())


def messages(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def test_chat_completion_passes_through_with_the_sdk(stack: tuple[MockUpstream, GuardServer]) -> None:
    """A non-streamed chat completion through guard equals the stand-in's deterministic answer."""
    mock, guard = stack
    reply = client(guard).chat.completions.create(model="m", messages=messages("hello there"))
    direct = httpx.post(f"{mock.url}/v1/chat/completions",
                        json={"model": "m", "messages": messages("hello there")}).json()
    assert reply.choices[0].message.content == direct["choices"][0]["message"]["content"]
    assert reply.choices[0].finish_reason == "stop"


def test_streamed_chat_with_the_sdk_yields_every_chunk(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Streaming through guard gives the SDK the full text, chunk by chunk, ending with stop."""
    _, guard = stack
    text = "one two three four five six seven eight nine ten"
    stream = client(guard, **{"X-Mock-Reply": urllib.parse.quote(text)}).chat.completions.create(
        model="m", messages=messages("count"), stream=True)
    parts, finish = [], None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(parts) == text
    assert finish == "stop"
    assert len(parts) > 5


async def test_async_sdk_streams_completions(stack: tuple[MockUpstream, GuardServer]) -> None:
    """The async SDK streams legacy completions through guard."""
    _, guard = stack
    async with openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                                  default_headers={"X-Mock-Reply": "abcdefghij"}) as aclient:
        stream = await aclient.completions.create(model="m", prompt="x", stream=True)
        text = "".join([c.choices[0].text async for c in stream if c.choices])
        whole = await aclient.completions.create(model="m", prompt="x")
    assert text == "abcdefghij"
    assert whole.choices[0].text == "abcdefghij"


def test_models_list_passes_through(stack: tuple[MockUpstream, GuardServer]) -> None:
    """GET /v1/models reaches the upstream unchanged."""
    _, guard = stack
    assert [m.id for m in client(guard).models.list()] == ["stand-in"]


def test_stream_bytes_are_unchanged(stack: tuple[MockUpstream, GuardServer]) -> None:
    """With nothing enforced, the client receives the upstream's SSE bytes exactly."""
    mock, guard = stack
    body = {"model": "m", "stream": True, "messages": messages("bytes"), "n": 2,
            "stream_options": {"include_usage": True}}
    headers = {"X-Mock-Reply": "exact bytes please", "X-Mock-Chunk-Chars": "3"}
    through = httpx.post(f"{guard.url}/v1/chat/completions", json=body, headers=headers)
    direct = httpx.post(f"{mock.url}/v1/chat/completions", json=body, headers=headers)

    def unstamped(raw: bytes) -> bytes:
        return re.sub(rb'"created":\d+', b'"created":0', raw)

    assert through.headers["content-type"].startswith("text/event-stream")
    assert unstamped(through.content) == unstamped(direct.content)
    assert through.content.endswith(b"data: [DONE]\n\n")


def test_headers_end_to_end_forwarded_hop_by_hop_not(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Authorization and custom headers reach the upstream; hop-by-hop headers do not, nor those
    any `Connection` line names."""
    mock, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "m", "messages": messages("hdr")},
                          headers=[("Authorization", "Bearer sk-upstream-secret"),
                                   ("X-Custom", "kept"), ("Connection", "keep-alive, X-Private"),
                                   ("Connection", "X-Second"), ("X-Second", "dropped"),
                                   ("X-Private", "dropped"), ("Keep-Alive", "timeout=5"),
                                   ("X-Request-Id", "req-from-client-1")])
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "req-from-client-1"
    got = next(r for r in reversed(seen(mock)) if r.get("body", {}).get("messages") ==
               messages("hdr"))
    names = {k.lower(): v for k, v in got["headers"].items()}
    assert names["authorization"] == "Bearer sk-upstream-secret"
    assert names["x-custom"] == "kept"
    assert names["x-request-id"] == "req-from-client-1"
    assert "x-private" not in names
    assert "x-second" not in names
    assert "keep-alive" not in names


def test_upstream_cookies_reach_their_client_and_no_other(
        stack: tuple[MockUpstream, GuardServer]) -> None:
    """An upstream's Set-Cookie goes to the client that caused it; guard keeps no cookie jar, so
    the next client's request reaches the upstream without it."""
    mock, guard = stack
    first = httpx.post(f"{guard.url}/v1/chat/completions",
                       json={"model": "named-a", "messages": messages("cookie a")},
                       headers={"X-Mock-Set-Cookie": "affinity=tenant-a; Path=/"})
    assert first.status_code == 200
    assert first.headers["Set-Cookie"] == "affinity=tenant-a; Path=/"
    second = httpx.post(f"{guard.url}/v1/chat/completions",
                        json={"model": "named-b", "messages": messages("cookie b")})
    assert second.status_code == 200
    got = next(r for r in reversed(seen(mock)) if r.get("body", {}).get("messages") ==
               messages("cookie b"))
    assert "cookie" not in {k.lower() for k in got["headers"]}


def test_request_id_generated_when_absent(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Without a client X-Request-Id guard makes one, returns it and sends it upstream."""
    mock, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "m", "messages": messages("rid")})
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    sent = [{k.lower(): v for k, v in r.get("headers", {}).items()} for r in seen(mock)]
    assert any(h.get("x-request-id") == request_id for h in sent)


def test_guard_names_no_versions(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Every answer, data and admin, 404s and aiohttp's own 400 to a malformed request, says
    `Server: guard` without a version; upstream requests carry the client's User-Agent, or
    `guard` (not aiohttp's, which names its version and Python's)."""
    mock, guard = stack
    with httpx.Client() as anonymous:
        del anonymous.headers["User-Agent"]
        answers = [anonymous.post(f"{guard.url}/v1/chat/completions",
                                  json={"model": "m", "messages": messages("ua-none")})]
    answers += [
        httpx.post(f"{guard.url}/v1/chat/completions", json={"model": "m", "messages": messages(
            "ua-given")}, headers={"User-Agent": "app/1.0"}),
        httpx.get(f"{guard.url}/nope"), httpx.get(f"{guard.admin_url}/healthz"),
        httpx.get(f"{guard.admin_url}/nope")]
    assert [answer.headers.get_list("Server") for answer in answers] == [["guard"]] * 5
    with socket.create_connection(("127.0.0.1", guard.port), timeout=10) as raw:
        raw.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        head = raw.recv(65536).split(b"\r\n\r\n")[0].lower().split(b"\r\n")
    assert b" 400 " in head[0] and b"server: guard" in head
    agents = {str(r["body"]["messages"][0]["content"]): {k.lower(): v for k, v in r[
        "headers"].items()}.get("user-agent") for r in seen(mock) if "messages" in r.get("body", {})}
    assert agents["ua-none"] == "guard"
    assert agents["ua-given"] == "app/1.0"


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    return dict(body["error"])


def test_malformed_json_is_400(stack: tuple[MockUpstream, GuardServer]) -> None:
    """A body that is not JSON gets 400 in OpenAI's error shape."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_oversize_body_is_413(stack: tuple[MockUpstream, GuardServer]) -> None:
    """A body over max_body_bytes gets 413 and never reaches the upstream."""
    _, guard = stack
    big = {"model": "m", "messages": messages("x" * 70000)}
    response = httpx.post(f"{guard.url}/v1/chat/completions", json=big)
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


@pytest.mark.parametrize("model", ["dead-model", "DEAD-Model", " dead-model "])
def test_upstream_down_is_502(stack: tuple[MockUpstream, GuardServer], model: str) -> None:
    """An unreachable upstream gets 502, and the SDK raises its ordinary error. Routes take a
    model in any case and without surrounding spaces, as kill switches and policies do (from a
    docs probe: `DEAD-Model` had gone to the default upstream)."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": model, "messages": messages("x")})
    assert response.status_code == 502
    assert error_of(response)["code"] == "upstream_unreachable"
    with pytest.raises(openai.InternalServerError):
        client(guard).chat.completions.create(model="dead-model", messages=messages("x"))


def test_an_upstream_that_takes_no_connection_is_502_unreachable(tmp_path: Path) -> None:
    """From a probe: an upstream that never took the connection within connect_timeout_s was a
    504 upstream_timeout, against README's 502; the model was never asked, it is unreachable.
    The stand-in: a listener whose accept queue is full, so a new connection's SYN goes
    unanswered."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(full.getsockname())
        guard = GuardServer(tmp_path, {"upstreams": {"default": {
            "url": f"http://127.0.0.1:{full.getsockname()[1]}", "connect_timeout_s": 0.5}}})
        guard.start()
        try:
            response = httpx.post(f"{guard.url}/v1/chat/completions", timeout=10,
                                  json={"model": "m", "messages": messages("x")})
        finally:
            guard.stop()
            for sock in queued:
                sock.close()
    assert response.status_code == 502, response.text
    assert error_of(response)["code"] == "upstream_unreachable"
    assert "connection timed out" in error_of(response)["message"]


def test_upstream_timeout_is_504(stack: tuple[MockUpstream, GuardServer]) -> None:
    """An upstream silent past its timeout_s gets 504."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "slow-model", "messages": messages("x")},
                          headers={"X-Mock-Latency-Ms": "3000"}, timeout=10)
    assert response.status_code == 504
    assert error_of(response)["code"] == "upstream_timeout"


def test_stream_silent_past_timeout_ends_with_a_timeout_event(
        stack: tuple[MockUpstream, GuardServer]) -> None:
    """A begun stream whose upstream falls silent past timeout_s (0.5 s) ends
    with an OpenAI-shaped error event coded upstream_timeout, long before the next chunk."""
    _, guard = stack
    started = time.monotonic()
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "slow-model", "stream": True, "messages": messages("x")},
                          headers={"X-Mock-Reply": "one two", "X-Mock-Chunk-Chars": "4",
                                   "X-Mock-Chunk-Delay-Ms": "3000"}, timeout=10)
    assert response.status_code == 200
    last = [line for line in response.text.splitlines() if line.startswith("data: ")][-1]
    assert orjson.loads(last[6:])["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 2.5  # the next chunk would come at 3 s


def test_stream_speaking_within_timeout_runs_longer_than_it(
        stack: tuple[MockUpstream, GuardServer]) -> None:
    """Chunks 0.2 s apart keep a 0.5 s timeout from firing, over a stream lasting 2 s."""
    _, guard = stack
    text = "abcd" * 10
    chunks = client(guard).chat.completions.create(
        model="slow-model", messages=messages("x"), stream=True,
        extra_headers={"X-Mock-Reply": text, "X-Mock-Chunk-Chars": "4",
                       "X-Mock-Chunk-Delay-Ms": "200"})
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_upstream_errors_pass_through_unchanged(stack: tuple[MockUpstream, GuardServer],
                                                status: int) -> None:
    """The upstream's own 4xx/5xx answers reach the client unchanged."""
    mock, guard = stack
    headers = {"X-Mock-Fail": f"status:{status}"}
    body = {"model": "m", "messages": messages("x")}
    through = httpx.post(f"{guard.url}/v1/chat/completions", json=body, headers=headers)
    direct = httpx.post(f"{mock.url}/v1/chat/completions", json=body, headers=headers)
    assert through.status_code == status
    assert through.json() == direct.json()


def test_upstream_breaking_mid_stream_ends_cleanly(stack: tuple[MockUpstream, GuardServer]) -> None:
    """An upstream that drops mid-stream gives an OpenAI-shaped error event, then the end."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "m", "stream": True, "messages": messages("x")},
                          headers={"X-Mock-Fail": "midstream", "X-Mock-Reply": "a" * 40})
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert orjson.loads(events[-1])["error"]["code"] == "upstream_broken"
    assert len(events) > 2
    with pytest.raises(openai.APIError):
        for _ in client(guard, **{"X-Mock-Fail": "midstream"}).chat.completions.create(
                model="m", messages=messages("x"), stream=True):
            pass
    assert guard.logged("upstream_stream_broken")


def test_client_disconnect_closes_the_upstream(stack: tuple[MockUpstream, GuardServer]) -> None:
    """A client that hangs up mid-stream makes guard close its upstream request."""
    mock, guard = stack
    body = orjson.dumps({"model": "m", "stream": True, "messages": messages("slow")})
    request_id = f"disconnect-{time.time_ns()}"
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nX-Mock-Chunk-Delay-Ms: 100\r\n"
                     b"X-Mock-Reply: " + b"z" * 200 + b"\r\nX-Request-Id: " +
                     request_id.encode() + b"\r\n" +
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while b"data:" not in received:
            received += sock.recv(4096)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(r.get("aborted") and r.get("request_id") == request_id for r in seen(mock)):
            return
        time.sleep(0.05)
    pytest.fail("the upstream stream was not closed after the client left")


def test_unknown_path_is_404(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Paths that are neither guarded nor listed under passthrough answer 404."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/embeddings", json={"input": "x"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "hint"), [
    ("POST", "/chat/completions", "POST /chat/completions: Not Found; did you mean "
     "/v1/chat/completions? (a client's base_url ends in /v1: http://<guard's listen>/v1)"),
    ("GET", "/models", "; did you mean /v1/models?"),
    ("POST", "/v1/embeddings", "POST /v1/embeddings: Not Found; guard neither guards nor forwards "
     "this path: list it under `passthrough:` in guard.yaml to forward it to the upstream unguarded"),
    ("GET", "/metrics", "GET /metrics: Not Found; /metrics is served on the admin port "
     "(admin_listen 127.0.0.1:{admin_port}), not on the data port"),
    ("GET", "/healthz", "; /healthz is served on the admin port"),
    ("POST", "/admin/killswitch", "; /admin/killswitch is served on the admin port"),
    ("GET", "/favicon.ico", "GET /favicon.ico: Not Found"),
])
def test_a_404_says_what_was_likely_meant(stack: tuple[MockUpstream, GuardServer], method: str,
                                          path: str, hint: str) -> None:
    """From a probe: a base URL without /v1, a path that needs `passthrough:`, and the admin
    port's /metrics and /healthz asked of the data port were all answered "Not Found" alone."""
    _, guard = stack
    response = httpx.request(method, f"{guard.url}{path}", json={"model": "m"})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    message = error_of(response)["message"]
    assert hint.format(admin_port=guard.admin_port) in message
    assert message.endswith("Not Found") is (path == "/favicon.ico")


def test_an_sdk_without_v1_in_its_base_url_is_told_so(
        stack: tuple[MockUpstream, GuardServer]) -> None:
    """The OpenAI SDK pointed at guard's address without /v1 gets a NotFoundError saying so."""
    _, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=guard.url, api_key="k", max_retries=0))
    with pytest.raises(openai.NotFoundError, match=r"did you mean /v1/chat/completions\?"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_known_path_with_another_method_is_405(stack: tuple[MockUpstream, GuardServer]) -> None:
    """GET on a guarded POST route answers 405 with Allow, in OpenAI's shape, with a request id."""
    _, guard = stack
    response = httpx.get(f"{guard.url}/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.headers.get("X-Request-Id")
    assert error_of(response)["code"] == "method_not_allowed"
    # a path that only decodes to a guarded one is another path: 404, not "use POST" to a POST
    response = httpx.post(f"{guard.url}/v1/chat%2Fcompletions", json={"model": "m"})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_listed_passthrough_path_is_forwarded(stack: tuple[MockUpstream, GuardServer]) -> None:
    """A path listed under passthrough reaches the upstream (here: its 404 comes back)."""
    _, guard = stack
    response = httpx.post(f"{guard.url}/v1/embeddings-extra", json={"input": "x"})
    assert response.status_code == 404
    assert response.headers.get("X-Request-Id")
    assert "error" not in response.text or "not_found" not in response.text


def test_a_passthrough_body_is_read_through_its_coding(
        stack: tuple[MockUpstream, GuardServer]) -> None:
    """A body on a passthrough path is read as a guarded one is: in br a 415 in the error
    shape (it was aiohttp's plain-text 400), gzip decoding past max_body_bytes a 413, gzip
    within it forwarded (here the upstream's 404 comes back)."""
    _, guard = stack
    url = f"{guard.url}/v1/embeddings-extra"
    response = httpx.post(url, content=b"{}", headers={"Content-Encoding": "br"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_content_encoding"
    big = gzip.compress(orjson.dumps({"input": "x" * 70000}))
    response = httpx.post(url, content=big, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"
    small = gzip.compress(orjson.dumps({"input": "x"}))
    assert httpx.post(url, content=small, headers={"Content-Encoding": "gzip"}).status_code == 404


@pytest.mark.parametrize("path", [
    "/v1/files/%2E%2E/chat/completions", "/v1/files/%2e%2e/%2e%2e/v1/chat/completions",
    "/v1/files/..%2Fchat%2Fcompletions", "/v1/files/x/%2E/..%5C..%5Cchat/completions",
    "/v1/files/../chat/completions"])
def test_passthrough_refuses_dot_segments(stack: tuple[MockUpstream, GuardServer],
                                          path: str) -> None:
    """A dot segment in a passthrough path, however spelled, is refused (400) before anything
    goes upstream: resolved on the way, it would reach the guarded chat route uninspected."""
    mock, guard = stack
    before = len(seen(mock))
    body = orjson.dumps({"model": "m", "messages": messages("AKIA" + "IOSFODNN7EXAMPLE")})
    head, payload = sent_raw(guard, path, body)
    assert head.startswith(b"HTTP/1.1 400"), head
    assert orjson.loads(payload)["error"]["code"] == "invalid_path"
    assert len(seen(mock)) == before


def test_a_slow_upload_is_the_clients_time_not_guards(stack: tuple[MockUpstream, GuardServer]
                                                       ) -> None:
    """From a probe: a body sent in pieces over 1.5 s was counted as guard's overhead (about
    1.4 s a request), and ten such clients fired the latency SLO alert. The wait for the body is
    the client's time, like a wait for the upstream."""
    _, guard = stack
    route = "/v1/chat/completions"
    httpx.post(f"{guard.url}{route}", json={"model": "m", "messages": messages("warm")})
    before = guard.metric("guard_overhead_seconds_sum", route=route)
    body = orjson.dumps({"model": "m", "messages": messages("sent slowly")})
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(f"POST {route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        for start in range(0, len(body), 16):
            sock.sendall(body[start:start + 16])
            time.sleep(0.1)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert guard.metric("guard_overhead_seconds_sum", route=route) - before < 0.2


def test_a_stream_the_upstream_broke_off_is_counted(stack: tuple[MockUpstream, GuardServer]
                                                    ) -> None:
    """From a probe: a stream the upstream broke off half-way ended with an error event for the
    client, yet every metric counted it a success (its headers were a 200);
    guard_answers_broken_total now counts it by the error code the client got."""
    _, guard = stack
    before = guard.metric("guard_answers_broken_total", reason="upstream_broken")
    with pytest.raises(openai.APIError, match="upstream broke off the stream"):
        for _ in client(guard, **{"X-Mock-Fail": "midstream"}).chat.completions.create(
                model="m", messages=messages("hello"), stream=True):
            pass
    assert guard.metric("guard_answers_broken_total", reason="upstream_broken") == before + 1


def test_admin_health_and_metrics(stack: tuple[MockUpstream, GuardServer]) -> None:
    """The admin port answers /healthz, /readyz and Prometheus /metrics with the core series."""
    _, guard = stack
    httpx.post(f"{guard.url}/v1/chat/completions", json={"model": "m", "messages": messages("m")})
    assert httpx.get(f"{guard.admin_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{guard.admin_url}/readyz").status_code == 200
    text = guard.metrics()
    for name in ("guard_requests_total", "guard_overhead_seconds_bucket",
                 "guard_upstream_seconds_bucket", "guard_build_info"):
        assert name in text
    assert re.search(r'guard_requests_total\{model="m",route="/v1/chat/completions",'
                     r'status_class="2xx"\} [1-9]', text)


def test_access_log_has_no_secrets_or_content(stack: tuple[MockUpstream, GuardServer]) -> None:
    """Access lines carry ids and timings, never the Authorization header or message text."""
    _, guard = stack
    httpx.post(f"{guard.url}/v1/chat/completions",
               json={"model": "m", "messages": messages("canary-prompt-7731")},
               headers={"Authorization": "Bearer sk-canary-4242"})
    time.sleep(0.2)
    out = guard.output()
    assert '"event":"request"' in out
    assert "sk-canary-4242" not in out
    assert "canary-prompt-7731" not in out


def test_config_error_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    """An invalid configuration stops start-up with code 2 and one message naming file and key."""
    import subprocess
    import sys

    config = tmp_path / "bad.yaml"
    config.write_text("upstreams:\n  default: {url: ftp://nope}\nmax_body_bytes: -1\n")
    done = subprocess.run([sys.executable, "-m", "guard", "serve", "-c", str(config)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert str(config) in done.stderr
    assert "upstreams.default.url" in done.stderr
    assert "max_body_bytes" in done.stderr
