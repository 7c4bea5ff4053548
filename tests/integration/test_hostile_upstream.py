"""An upstream that misbehaves on purpose: guard stays up, bounded in memory, and the client gets a
clean error or a clean end of stream every time."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support import GuardServer, HostileProcess, start_together

pytestmark = pytest.mark.timeout(90)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SSE_LIMIT = 64 * 1024
RESPONSE_LIMIT = 1 << 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HostileProcess, GuardServer]]:
    """guard with the default policy and tight response limits in front of the hostile upstream."""
    workdir = tmp_path_factory.mktemp("hostile-upstream")
    upstream = HostileProcess(workdir)
    guard = GuardServer(workdir, {
        "upstreams": {"default": {"url": upstream.url, "timeout_s": 1.0}},
        "policies": str(POLICIES),
        "limits": {"max_sse_event_bytes": SSE_LIMIT, "max_response_bytes": RESPONSE_LIMIT},
        "passthrough": ["/v1/files/{tail:.*}"],
    })
    start_together(upstream, guard)
    yield upstream, guard
    guard.stop()
    upstream.stop()


def body(stream: bool = False, route: str = "chat") -> dict[str, object]:
    if route == "chat":
        return {"model": "m", "stream": stream,
                "messages": [{"role": "user", "content": "hello"}]}
    return {"model": "m", "stream": stream, "prompt": "hello"}


def call(guard: GuardServer, mode: str, *, stream: bool = False, route: str = "chat",
         **headers: str) -> httpx.Response:
    path = "/v1/chat/completions" if route == "chat" else "/v1/completions"
    return httpx.post(guard.url + path, json=body(stream, route), timeout=20,
                      headers={"X-Hostile": mode, **headers})


def on_route(guard: GuardServer, route: str, headers: dict[str, str]) -> httpx.Response:
    """A request on `route`: a whole chat answer, a stream (`...?stream`), or `/v1/models`."""
    if route == "/v1/models":
        return httpx.get(guard.url + route, headers=headers, timeout=20)
    return httpx.post(guard.url + "/v1/chat/completions", headers=headers, timeout=20,
                      json=body(stream=route.endswith("?stream")))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def events(raw: bytes) -> list[bytes]:
    return [e for e in raw.replace(b"\r\n", b"\n").split(b"\n\n") if e]


@pytest.mark.parametrize(("mode", "status", "code"), [
    ("huge-body", 502, "upstream_response_too_large"),
    ("endless-body", 502, "upstream_response_too_large"),
    ("not-json", 502, "upstream_protocol_error"),
    ("json-array", 502, "upstream_protocol_error"),
    ("invalid-utf8", 502, "upstream_protocol_error"),
    ("short-length", 502, "upstream_broken"),
    # the junk after the cut body may arrive with it (a framing error) or after it (not JSON)
    ("long-length", 502, "upstream_protocol_error|upstream_unreachable"),
    ("reset", 502, "upstream_unreachable"),
    ("reset-midstream", 502, "upstream_broken"),
    ("silent", 504, "upstream_timeout"),
    ("undecodable", 502, "upstream_protocol_error"),  # brotli, not asked for (was: unreachable)
])
def test_broken_whole_answers_become_clean_errors(
        stack: tuple[HostileProcess, GuardServer], mode: str, status: int, code: str) -> None:
    """Every kind of broken non-streamed answer is a JSON error with its own code, never a 500."""
    _, guard = stack
    started = time.monotonic()
    response = call(guard, mode, **{"X-Hostile-Bytes": str(8 << 20)})
    assert response.status_code == status, response.text
    assert error_code(response) in code.split("|")
    assert response.headers["X-Request-Id"]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("status", ["200", "500"])
def test_a_compressed_answer_is_bounded_by_its_decoded_size(
        stack: tuple[HostileProcess, GuardServer], encoding: str, status: str) -> None:
    """An answer of a few hundred KiB on the wire that decodes to 64 MiB, an answer or an error, is a
    502 `upstream_response_too_large` at max_response_bytes decoded, with guard's memory bounded;
    a small compressed answer is read decoded."""
    _, guard = stack
    headers = {"X-Hostile-Encoding": encoding, "X-Hostile-Status": status}
    before = guard.rss_kib()
    response = call(guard, "compressed", **headers, **{"X-Hostile-Bytes": str(64 << 20)})
    assert response.status_code == 502, response.text[:200]
    assert error_code(response) == "upstream_response_too_large"
    assert guard.rss_kib() - before < 32 * 1024
    small = call(guard, "compressed", **headers, **{"X-Hostile-Reply": "decoded"})
    assert small.status_code == int(status)
    assert small.json()["choices"][0]["message"]["content"] == "decoded"


def test_an_answer_in_an_encoding_guard_cannot_decode_says_so(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """An answer in brotli, which guard did not ask for and cannot decode, is a 502 whose message
    says so, on every route."""
    _, guard = stack
    for route in ("/v1/chat/completions", "/v1/chat/completions?stream", "/v1/models"):
        response = on_route(guard, route, {"X-Hostile": "undecodable"})
        assert response.status_code == 502
        assert error_code(response) == "upstream_protocol_error"
        assert "content encoding guard cannot decode" in response.json()["error"]["message"]


def test_bytes_an_upstream_left_behind_are_never_quoted(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """A Content-Length shorter than the answer leaves its rest on the pooled connection, where
    the next request on it reads it as a status line: the error (and its log line) names the
    failure, and quotes none of those bytes, which may be another request's answer text."""
    _, guard = stack
    marker = "leftover-answer-text-5531"
    answers = [call(guard, "long-length", **{"X-Hostile-Reply": marker}) for _ in range(4)]
    answers += [call(guard, "weird-json") for _ in range(2)]
    assert all(marker not in answer.text for answer in answers)
    assert marker not in guard.output()


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_nobody_asked_for_reaches_no_client(tmp_path: Path, stream: bool) -> None:
    """An upstream that writes a second answer nobody asked for on a kept-alive connection (a late
    500 after its handler answered) has that connection closed, not reused: the next clients get
    the answers to their own requests, which reach the upstream."""
    upstream = HostileProcess(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": upstream.url}},
                                   "policies": str(POLICIES)})
    start_together(upstream, guard)
    try:
        first = call(guard, "stray", stream=stream, **{"X-Hostile-Reply": "first",
                                                       "X-Hostile-Delay-Ms": "50"})
        assert first.status_code == 200
        time.sleep(0.3)  # the stray answer is on the idle pooled connection
        for name in ("alice", "bob"):
            response = call(guard, "ok", **{"X-Hostile-Reply": name})
            assert response.status_code == 200, response.text
            assert response.json()["choices"][0]["message"]["content"] == name
        assert upstream.stats()["served"] == 3
    finally:
        guard.stop()
        upstream.stop()


def test_slow_drip_beyond_the_timeout_is_504(stack: tuple[HostileProcess, GuardServer]) -> None:
    """An answer dripping slower than upstream timeout_s between bytes is a 504."""
    _, guard = stack
    response = call(guard, "drip-json", **{"X-Hostile-Delay-Ms": "1500"})
    assert response.status_code == 504
    assert error_code(response) == "upstream_timeout"


def test_a_steady_whole_body_still_ends_by_the_timeout(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """A whole answer whose bytes keep coming (20 ms apart, never silent) but would take 5 s is a
    504 about `timeout_s` (1 s) after its headers: a body read whole is timed as one wait."""
    _, guard = stack
    started = time.monotonic()
    response = call(guard, "drip-json", **{"X-Hostile-Delay-Ms": "20"})
    assert response.status_code == 504
    assert error_code(response) == "upstream_timeout"
    assert time.monotonic() - started < 2.5


def test_an_event_stream_to_a_request_for_a_whole_answer_is_502(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """A request that did not ask for a stream is answered whole: an event stream sent to it is
    not the JSON answer it asked for (502), and is not relayed as a stream."""
    _, guard = stack
    events = urllib.parse.quote(orjson.dumps([{"type": "response.output_text.delta",
                                               "delta": "hello"}]).decode())
    response = call(guard, "scripted", **{"X-Hostile-Events": events})
    assert response.status_code == 502
    assert error_code(response) == "upstream_protocol_error"


def test_weird_json_shapes_are_passed_or_refused_cleanly(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """A 200 whose choices have odd types is classified where it has text, and passed on."""
    _, guard = stack
    response = call(guard, "weird-json")
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "text"


@pytest.mark.parametrize("route", ["chat", "completions"])
@pytest.mark.parametrize(("mode", "must_see"), [
    ("garbage-sse", b"after the garbage"),
    ("half-event", b"the first half"),
    ("invalid-utf8", b"[DONE]"),
    ("weird-stream", b"[DONE]"),
    ("drip", b"[DONE]"),
])
def test_odd_streams_end_cleanly(stack: tuple[HostileProcess, GuardServer], route: str, mode: str,
                                 must_see: bytes) -> None:
    """Garbage, half events, invalid UTF-8, odd chunk shapes and a slow drip: the client gets a
    200 stream that ends (no reset), holding the upstream's good text."""
    _, guard = stack
    response = call(guard, mode, stream=True, route=route,
                    **{"X-Hostile-Delay-Ms": "1", "X-Hostile-Reply": "hi there"})
    assert response.status_code == 200
    assert must_see in response.content
    if mode == "drip":
        text = b"".join(orjson.loads(e[6:])["choices"][0].get("delta", {}).get("content", "")
                        .encode() if route == "chat" else
                        orjson.loads(e[6:])["choices"][0]["text"].encode()
                        for e in events(response.content) if e != b"data: [DONE]")
        assert text == b"hi there"


@pytest.mark.parametrize(("mode", "code"), [
    ("huge-line", "upstream_protocol_error"),
    ("reset-midstream", "upstream_broken"),
])
def test_broken_streams_end_with_an_error_event(stack: tuple[HostileProcess, GuardServer],
                                                mode: str, code: str) -> None:
    """A line over max_sse_event_bytes, or a reset mid-stream: the stream ends with an error event
    in OpenAI's shape."""
    _, guard = stack
    response = call(guard, mode, stream=True, **{"X-Hostile-Bytes": str(8 << 20)})
    assert response.status_code == 200
    last = events(response.content)[-1]
    assert last.startswith(b"data: ")
    assert orjson.loads(last[6:])["error"]["code"] == code


SECRET = "ghp_HostileLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L"  # default.yaml blocks it in answers


@pytest.mark.parametrize(("mode", "stream", "status"), [
    ("mixed-endings", True, "200"),   # blank lines as LF+CRLF, CRLF+CR, LF+CR, CR+CRLF
    ("lenient-json", True, "200"),    # a NaN beside the text: JSON to Python's json, not orjson
    ("ok", True, "201"),              # any 2xx answer is read, not only 200
    ("ok", False, "203"),
    ("mislabelled", False, "200"),    # a whole JSON answer labelled text/event-stream
])
@pytest.mark.parametrize("route", ["chat", "completions"])
def test_no_way_of_writing_an_answer_gets_a_secret_past(
        stack: tuple[HostileProcess, GuardServer], mode: str, stream: bool, status: str,
        route: str) -> None:
    """However the upstream writes a secret (any blank line SSE allows, JSON only a lenient
    parser reads, a 2xx status other than 200), not a byte of it reaches the client."""
    _, guard = stack
    reply = f"Here is the key you asked for: {SECRET} and that is all."
    response = call(guard, mode, stream=stream, route=route,
                    **{"X-Hostile-Reply": reply, "X-Hostile-Status": status})
    assert SECRET[:8].encode() not in response.content and b"HostileLeak" not in response.content
    if mode == "mislabelled":
        assert response.json()["choices"][0]["finish_reason"] == "content_filter"
    elif mode == "lenient-json":
        assert orjson.loads(events(response.content)[-1][6:])["error"]["code"] == \
            "upstream_protocol_error"
    elif stream:
        assert b'"finish_reason":"content_filter"' in response.content


@pytest.mark.parametrize(("mode", "status"), [
    ("ok", "307"), ("ok", "302"), ("ok", "300"), ("ok", "600"), ("switching", "101")])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/chat/completions?stream",
                                  "/v1/models"])
def test_only_2xx_4xx_and_5xx_answers_are_relayed(
        stack: tuple[HostileProcess, GuardServer], mode: str, status: str, path: str) -> None:
    """A redirect (its Location, a completion in its body), a status past 599 or an unasked-for
    101 is a 502 `upstream_protocol_error` on every route: no client is led around guard to a
    server of the upstream's choosing (the openai SDK follows a redirect), nor left waiting."""
    _, guard = stack
    started = time.monotonic()
    response = on_route(guard, path, {
        "X-Hostile": mode, "X-Hostile-Status": status,
        "X-Hostile-Reply": f"Here is the key: {SECRET}",
        "X-Hostile-Headers": "Location: http://elsewhere.example/v1/chat/completions"})
    assert response.status_code == 502, response.text
    assert error_code(response) == "upstream_protocol_error"
    assert f"status {status}" in response.json()["error"]["message"]
    assert "Location" not in response.headers
    assert b"HostileLeak" not in response.content
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/models"), ("GET", "/v1/files/file-1/content"),
    ("HEAD", "/v1/files/file-1/content")])
def test_not_modified_is_relayed_to_a_pass_through_get_only(
        stack: tuple[HostileProcess, GuardServer], method: str, path: str) -> None:
    """From a probe: a conditional GET /v1/models or of a `passthrough:` path got 502 for the
    upstream's correct 304 Not Modified; a pass-through GET or HEAD relays it, its ETag kept,
    without a body. To a POST, passed through or guarded, a 304 is still a 502."""
    _, guard = stack
    headers = {"X-Hostile-Status": "304", "X-Hostile-Headers": 'ETag: "v1"',
               "If-None-Match": '"v1"'}
    response = httpx.request(method, guard.url + path, headers=headers, timeout=20)
    assert response.status_code == 304, response.text
    assert response.headers["ETag"] == '"v1"' and response.content == b""
    for posted in ("/v1/files/file-1/content", "/v1/chat/completions"):
        refused = httpx.post(guard.url + posted, headers=headers, json=body(), timeout=20)
        assert refused.status_code == 502 and error_code(refused) == "upstream_protocol_error"


@pytest.mark.parametrize("status", ["200", "429"])
@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/chat/completions?stream",
                                   "/v1/models"])
def test_guard_headers_come_from_guard_alone(stack: tuple[HostileProcess, GuardServer],
                                              route: str, status: str) -> None:
    """An upstream's `X-Guard-*` headers (an incident id guard never recorded, a decision it never
    made) reach no client, on any route, whatever the status."""
    _, guard = stack
    forged = "X-Guard-Incident-Id: inc-forged|X-Guard-Decision: block|x-guard-anything: 1"
    response = on_route(guard, route, {"X-Hostile-Status": status, "X-Hostile-Headers": forged})
    assert response.status_code == int(status)
    assert "X-Guard-Incident-Id" not in response.headers
    assert "X-Guard-Anything" not in response.headers
    assert response.headers.get_list("X-Guard-Decision") == (
        [] if route == "/v1/models" else ["allow"])


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/chat/completions?stream",
                                   "/v1/models"])
def test_headers_any_connection_line_names_are_not_relayed(
        stack: tuple[HostileProcess, GuardServer], route: str) -> None:
    """Headers an upstream's `Connection` lines name, on the first line or a later one, are
    hop-by-hop and reach no client; its other headers do."""
    _, guard = stack
    lines = "Connection: keep-alive, X-Hop-A|Connection: X-Hop-B|X-Hop-A: a|X-Hop-B: b|X-Kept: c"
    response = on_route(guard, route, {"X-Hostile-Headers": lines})
    assert response.status_code == 200
    assert response.headers.get("X-Kept") == "c"
    assert "X-Hop-A" not in response.headers
    assert "X-Hop-B" not in response.headers


def test_a_flood_of_keep_alive_comments_in_one_read_passes_through(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """4 MiB of SSE comments (300,000 events) arriving together, then the answer: every event
    reaches the client, emptied (`:`: a comment holds no text the checks read), and the answer
    ends normally (parsing is linear in what a read carries)."""
    _, guard = stack
    response = call(guard, "comment-flood", stream=True, **{"X-Hostile-Bytes": str(4 << 20),
                                                            "X-Hostile-Reply": "still%20here"})
    assert response.status_code == 200
    received = events(response.content)
    assert received.count(b":") == (4 << 20) // len(b": keep-alive\n\n")
    assert received[-1] == b"data: [DONE]"
    text = "".join(orjson.loads(e[6:])["choices"][0]["delta"].get("content") or ""
                   for e in received if e.startswith(b"data: {"))
    assert text == "still here"


def test_abandoned_endless_stream_releases_the_upstream(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """A client that leaves a never-ending stream makes guard close the upstream connection."""
    upstream, guard = stack
    with httpx.stream("POST", guard.url + "/v1/chat/completions", json=body(True),
                      headers={"X-Hostile": "endless"}, timeout=10) as response:
        assert response.status_code == 200
        received = 0
        for part in response.iter_bytes():
            received += len(part)
            if received > 256 * 1024:
                break
    deadline = time.monotonic() + 5
    while upstream.stats()["open"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.stats()["open"] == 0


def hostile_burst(guard: GuardServer, size: int) -> list[int]:
    """Eight requests at once of each memory-hungry kind; their statuses."""
    jobs = [("huge-body", False), ("endless-body", False), ("huge-line", True),
            ("endless", True)] * 8

    def one(job: tuple[str, bool]) -> int:
        mode, stream = job
        if mode == "endless":  # read a little, then leave
            with httpx.stream("POST", guard.url + "/v1/chat/completions", json=body(True),
                              headers={"X-Hostile": mode}, timeout=20) as response:
                for _ in response.iter_bytes():
                    break
                return response.status_code
        return call(guard, mode, stream=stream, **{"X-Hostile-Bytes": str(size)}).status_code

    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(one, jobs))


def test_memory_stays_bounded_under_hostile_answers(
        stack: tuple[HostileProcess, GuardServer]) -> None:
    """32 concurrent hostile answers offering 32 MiB each (1 GiB in all) raise guard's peak RSS by
    far less than one of them: what it buffers is bounded by the limits, not by the upstream."""
    _, guard = stack
    assert guard.proc is not None
    for _ in range(3):  # warm up: imports, pools, classifier caches
        call(guard, "ok")
        call(guard, "ok", stream=True)
    before = guard.rss_kib()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, guard.rss_kib())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        started = time.monotonic()
        statuses = hostile_burst(guard, 32 << 20)
        elapsed = time.monotonic() - started
    finally:
        done.set()
        sampler.join()
    after = guard.rss_kib()
    print(f"\nhostile burst: 32 requests x 32 MiB offered in {elapsed:.1f} s; guard RSS "
          f"{before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB "
          f"(+{(peak - before) / 1024:.1f}), after {after / 1024:.1f} MiB")
    assert set(statuses) <= {200, 502}
    assert peak - before < 48 * 1024
    assert guard.proc.poll() is None


@pytest.mark.parametrize("mode", ["short-length", "reset-midstream"])
def test_passthrough_of_a_broken_body_is_cut_not_completed(
        stack: tuple[HostileProcess, GuardServer], mode: str) -> None:
    """On an uninspected pass-through path (GET /v1/models) an upstream body that breaks off
    reaches the client as an unfinished body (headers were sent), never as a complete one."""
    _, guard = stack
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{guard.url}/v1/models", headers={"X-Hostile": mode}, timeout=10)
    assert httpx.get(f"{guard.url}/v1/models", timeout=10).status_code == 200


def test_guard_survives_every_hostile_upstream(stack: tuple[HostileProcess, GuardServer]) -> None:
    """After all of the above: alive, ready, serving, and no traceback or error line in its log."""
    _, guard = stack
    assert guard.proc is not None and guard.proc.poll() is None
    assert call(guard, "ok").status_code == 200
    assert httpx.get(f"{guard.admin_url}/readyz").status_code == 200
    out = guard.output()
    assert "Traceback" not in out
    assert '"level":"error"' not in out

