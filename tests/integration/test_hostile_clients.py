"""Clients that misbehave on purpose: each is bounded in time and memory with a clear answer."""

from __future__ import annotations

import http.client
import json
import random
import socket
import string
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, MockUpstream, guard_before_mock

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """guard with tight limits in front of the stand-in model."""
    workdir = tmp_path_factory.mktemp("hostile")
    mock = MockUpstream(workdir)
    mock.start()
    server = GuardServer(workdir, {
        "upstreams": {"default": {"url": mock.url}},
        "limits": {"max_connections": 8, "header_timeout_s": 0.5, "body_timeout_s": 0.5,
                   "max_header_bytes": 2048, "max_headers": 32},
        "passthrough": ["/v1/embeddings"],
    })
    server.start()
    yield server
    server.stop()
    mock.stop()


def closed_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sends before closing the socket, failing if it stays open too long."""
    sock.settimeout(seconds)
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return received
        received += chunk


def test_slow_headers_are_cut_off(guard: GuardServer) -> None:
    """A client that dribbles its headers is disconnected after header_timeout_s."""
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed_within(sock, 5)
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("request_line", [b"POST /v1/chat/completions", b"POST /v1/embeddings"])
def test_slow_body_gets_408(guard: GuardServer, request_line: bytes) -> None:
    """A body that does not arrive within body_timeout_s gets 408 request_timeout. From a
    probe: a pass-through path's body (`/v1/models`, `passthrough:` paths) had no deadline, so a
    client could hold a connection and up to `max_body_bytes` of decoded gzip open for good.
    (A body on `GET /v1/models` is refused before it is read.)"""
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(request_line + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mo")
        answer = closed_within(sock, 5)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"request_timeout" in answer


def test_connection_flood_gets_a_clear_503(guard: GuardServer) -> None:
    """Beyond max_connections a new connection is answered 503 too_many_connections at once."""
    held = [socket.create_connection(("127.0.0.1", guard.port)) for _ in range(8)]
    try:
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", guard.port)) as extra:
            answer = closed_within(extra, 3)
        assert answer.startswith(b"HTTP/1.1 503")
        body = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert body["type"] == "error"  # as every data-plane error, Anthropic's SDK reads it too
        assert body["error"]["code"] == "too_many_connections"
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 200


def test_a_client_sending_its_request_over_the_limit_reads_the_503(guard: GuardServer) -> None:
    """From a probe: over max_connections, http.client (which sends its request, body and all,
    before reading) got BrokenPipeError or a reset 27 times in 30 instead of the 503, closed with
    the request unread; every one reads the 503 and its Retry-After now."""
    held = [socket.create_connection(("127.0.0.1", guard.port)) for _ in range(8)]
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello " * 2000}]})
    answered = []
    try:
        time.sleep(0.1)
        for _ in range(20):
            client = http.client.HTTPConnection("127.0.0.1", guard.port, timeout=5)
            try:
                client.request("POST", "/v1/chat/completions", body=body,
                               headers={"Content-Type": "application/json"})
                answer = client.getresponse()
                code = json.loads(answer.read())["error"]["code"]
                answered.append((answer.status, answer.getheader("Retry-After"), code))
            except OSError as exc:
                answered.append((0, None, type(exc).__name__))
            finally:
                client.close()
    finally:
        for sock in held:
            sock.close()
    assert answered == [(503, "1", "too_many_connections")] * 20


def test_an_unknown_expectation_is_refused_in_the_error_shape(guard: GuardServer) -> None:
    """From a probe: `Expect: foo` got aiohttp's plain-text 417; it is guard's error shape now,
    and `Expect: 100-continue` still gets its 100 Continue and the answer. From a docs probe:
    the 417 had no `X-Request-Id`, no access line and no count in guard_requests_total."""
    request = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    counted = guard.metric("guard_requests_total", status_class="4xx")
    refused = httpx.post(f"{guard.url}/v1/chat/completions", json=request,
                         headers={"Expect": "foo", "X-Request-Id": "expect-foo-1"})
    assert refused.status_code == 417
    assert refused.headers["X-Request-Id"] == "expect-foo-1"
    assert guard.metric("guard_requests_total", status_class="4xx") == counted + 1
    assert guard.logged('"request_id":"expect-foo-1"')
    body = refused.json()
    assert (body["type"], body["error"]["code"]) == ("error", "expectation_failed")
    assert "'foo'" in body["error"]["message"]
    data = json.dumps(request).encode()
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:  # from a probe: a second
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Expect: 100-continue\r\nExpect: foo\r\n"  # line was not read
                     b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n")
        answer = closed_within(sock, 5)
        assert answer.startswith(b"HTTP/1.1 417") and b"100-continue, foo" in answer
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                     b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(data)
        assert closed_within(sock, 5).startswith(b"HTTP/1.1 200")


def test_huge_header_is_refused(guard: GuardServer) -> None:
    """A header field over max_header_bytes is refused with 400, and guard keeps serving."""
    response = httpx.post(f"{guard.url}/v1/chat/completions", json={"model": "m"},
                          headers={"X-Big": "a" * 10000})
    assert response.status_code in (400, 431)
    ok = httpx.post(f"{guard.url}/v1/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert ok.status_code == 200


def test_deeply_nested_json_is_a_clean_400(guard: GuardServer) -> None:
    """JSON nested 100,000 deep is rejected as invalid JSON, not a crash."""
    body = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(f"{guard.url}/v1/chat/completions", content=body,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("model", ["m" * 251, "gpt-4o\nx", ["gpt-4o"], 4, "gpt\x85x", "gpt-\u202eo4",
                                   "gpt\u20284o", "gpt-4o\u200b"])
def test_a_model_no_switch_could_name_is_a_clean_400(guard: GuardServer, model: object) -> None:
    """A breaker counts blocked prompts per model and engages `model:<name>`; a name too long
    for a scope, with a control character, or not a string would never be stopped by name.
    From a re-probe: nor one with a character that is not printable (a C1 control or a line
    separator split the access line for readers such as Python's `splitlines`; a bidi override
    or a zero-width space went into a metric label)."""
    response = httpx.post(f"{guard.url}/v1/chat/completions",
                          json={"model": model, "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("model must be")
    if model == "gpt-4o\u200b":  # from a probe: it read "at most 250 printable characters"
        assert response.json()["error"]["message"] == (
            r"model must be printable characters only: 'gpt-4o\u200b' holds U+200B (an invisible "
            "or control character) at index 6")
    longest = httpx.post(f"{guard.url}/v1/chat/completions",
                         json={"model": "m" * 250, "messages": [{"role": "user", "content": "x"}]})
    assert longest.status_code == 200


def test_guard_survives_all_of_the_above(guard: GuardServer, tmp_path: Path) -> None:
    """After every hostile client, the process is alive and has logged no unhandled error."""
    assert guard.proc is not None and guard.proc.poll() is None
    assert "Traceback" not in guard.output()
    assert httpx.get(f"{guard.admin_url}/healthz").status_code == 200


def test_expect_100_continue_is_answered_not_forwarded(guard: GuardServer) -> None:
    """`Expect: 100-continue` gets guard's own 100 and then the answer; it is not passed to the
    upstream (which made guard wait for an upstream 100 that may never come)."""
    response = httpx.post(f"{guard.url}/v1/chat/completions", timeout=5,
                          headers={"Expect": "100-continue"},
                          json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 200


# -- texts built to make normalisation or matching expensive, through the default policy --------

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PLANTED = "ghp_CanaryLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L"  # must still be found: no fail-open
N = 65_000  # just under the default limits.max_prompt_chars
EXPENSIVE = {
    "combining marks": "a" + "\u0301" * N,
    "accented clusters": "e\u0301" * (N // 2),
    "zero-width runs": "x\u200b" * (N // 2),
    "tag characters": "\U000e0041" * N,
    "Cyrillic look-alikes": "\u0430" * N,
    "full-width forms": "\uff41" * N,
    "mathematical letters": "\U0001d41a" * N,
    "e-mail-ish runs": "a@" * (N // 2),
    "digit runs (cards)": "4" * N,
    "spaced digits (phones)": "4 " * (N // 2),
    "spaced letters (split into words)": "h o w t o m a k e " * (N // 18),
    "words run together (split)": "howtomake" * (N // 9),
    "words joined by dots": "how.to.make." * (N // 12),
    "stacked marks on letters": "a\u0301\u0303" * (N // 3),
    "fancy-text letters": "\U0001f171\u0299\u249d\U0001f1e7 " * (N // 5),
    "ROT13-like words": "gur naq bs gb " * (N // 14),
    "hex runs": "4869" * (N // 4),
    "base64 runs": "SGVsbG8gd29y " * (N // 13),
    "key headers": "-----BEGIN " * (N // 11),
}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """guard with the repository's policies in front of the stand-in model."""
    with guard_before_mock(tmp_path_factory.mktemp("expensive"), POLICIES) as server:
        yield server


def test_expensive_texts_are_bounded_and_still_inspected(guarded: GuardServer) -> None:
    """Each expensive text (65,000 characters) with a secret planted in it: blocked (the
    classifiers finished in time, nothing failed open), within 3 s, guard's RSS growing < 200 MiB."""
    figures = []
    for name, text in EXPENSIVE.items():
        before = guarded.rss_kib() / 1024
        started = time.monotonic()
        response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30, json={
            "model": "m", "messages": [{"role": "user", "content": f"{PLANTED} {text}"}]})
        elapsed = time.monotonic() - started
        grown = guarded.rss_kib() / 1024 - before
        figures.append(f"{name}: {response.status_code} in {elapsed:.2f} s, RSS +{grown:.0f} MiB")
        assert response.status_code == 400, (name, response.text[:200])
        assert response.json()["error"]["code"] == "content_filter"
        assert elapsed < 3, name
        assert grown < 200, name
    print("\n" + "\n".join(figures))
    assert "classifier_failed" not in guarded.output()


@pytest.mark.parametrize("count", [8000, 2000, 500])
def test_a_flood_of_short_messages_never_buys_a_pass(guarded: GuardServer, count: int) -> None:
    """From a probe: 8,000 messages of three random letters (24,024 characters, under the
    limit) ran secrets, pii and the jailbreak model past their timeout: they failed open and a
    key in the last message reached the model. Now the key is blocked, or the prompt, too many
    texts to read in time, is refused (413); never passed. A refused prompt leaves no work
    behind: the 8,000 texts' checks had gone on in worker threads after the 413, a second of
    CPU that made the next requests' checks time out."""
    rng = random.Random(count)
    messages = [{"role": "user", "content": "".join(rng.choices(string.ascii_lowercase, k=3))}
                for _ in range(count)]
    response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30, json={
        "model": "m", "messages": [*messages, {"role": "user", "content": f"key {PLANTED}"}]})
    # or, on a loaded machine whose checks ran out of time unspent, guard overloaded (503)
    assert response.status_code in (400, 413, 503), response.text[:200]
    assert response.json()["error"]["code"] in ("content_filter", "prompt_too_large",
                                                "guard_overloaded")
    used = guarded.cpu_seconds()
    time.sleep(1)
    assert guarded.cpu_seconds() - used < 0.3


def test_a_prompt_of_more_texts_than_the_limit_is_refused_before_it_is_read(
        guarded: GuardServer) -> None:
    """From a re-probe: 60,000 one-letter messages (6 KB gzipped) held guard's event loop 2 s a
    request, in bookkeeping before any check ran, and two clients sending them stalled every
    stream for 6.6 s. Over limits.max_prompt_texts (8,192) a prompt is refused at once, however
    its texts are spread (here: text parts of three messages)."""
    parts = [{"type": "text", "text": "a"}]
    messages = [{"role": "user", "content": parts * n} for n in (2731, 2731, 2731)]
    started = time.monotonic()
    response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30,
                          json={"model": "m", "messages": messages})
    assert response.status_code == 413, response.text[:200]
    assert response.json()["error"]["code"] == "prompt_too_large"
    assert "8193 texts" in response.json()["error"]["message"]
    assert time.monotonic() - started < 1.5


def test_a_prompt_of_more_messages_than_the_limit_is_refused_though_they_hold_no_text(
        guarded: GuardServer) -> None:
    """From a re-probe: 300,000 messages holding no text (13 KB gzipped) counted as no texts,
    held the event loop a second and were forwarded. A top-level list longer than
    limits.max_prompt_texts is refused before it is walked."""
    started = time.monotonic()
    response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30, json={
        "model": "m", "messages": [{"role": "user", "content": []}] * 8193})
    assert response.status_code == 413, response.text[:200]
    assert "`messages` holds 8193 items" in response.json()["error"]["message"]
    assert time.monotonic() - started < 1.5


def test_clients_loading_guard_together_buy_no_pass(guarded: GuardServer) -> None:
    """From a probe: four clients each sending the slowest text (zero-width runs, 65,000
    characters, a secret planted in it) at once ran the local checks past their timeout, and
    under fail_open 13 of 37 requests reached the model with the secret; a short jailbreak from
    a fifth client passed too. Now each is checked (400) or refused as guard is overloaded
    (503 guard_overloaded, to retry); none is passed, nothing is counted as failed open."""
    text = EXPENSIVE["zero-width runs"]
    failed_open = guarded.metric("guard_classifier_fail_open_total")

    def send(n: int) -> list[tuple[int, str]]:
        answers = []
        for k in range(3):  # salted: the verdict cache knows none of them
            response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30, json={
                "model": "m", "messages": [{"role": "user", "content": f"{n}.{k} {PLANTED} {text}"}]})
            answers.append((response.status_code, response.json().get("error", {}).get("code")))
        return answers

    with ThreadPoolExecutor(4) as pool:
        answers = [a for some in pool.map(send, range(4)) for a in some]
    assert set(answers) <= {(400, "content_filter"), (503, "guard_overloaded")}, answers
    assert guarded.metric("guard_classifier_fail_open_total") == failed_open


def test_an_agent_conversation_of_many_small_texts_is_served(guarded: GuardServer) -> None:
    """From a probe: 200 tool calls and their results (1,002 texts, 48,546 characters) were
    refused when each text counted 32 characters more; they are read and served, never refused
    as too large (413). On a loaded machine (a CI run: 413 at 1.0 s) the checks may run out of
    time without spending it: 503 guard_overloaded, and the client retries, as told."""
    messages: list[dict[str, object]] = [{"role": "user", "content": "Tidy the repository."}]
    for n in range(200):
        messages.append({"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{n:04d}", "type": "function",
            "function": {"name": "read_file", "arguments": f'{{"path": "src/m{n}.py"}}'}}]})
        messages.append({"role": "tool", "tool_call_id": f"call_{n:04d}",
                         "content": f"def f{n}(x):\n    return x + {n}\n" * 4})
    for _ in range(3):
        response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30,
                              json={"model": "m", "messages": messages})
        if response.status_code != 503:
            break
        assert response.json()["error"]["code"] == "guard_overloaded", response.text[:300]
    assert response.status_code == 200, response.text[:300]


def test_a_megabyte_of_combining_marks_is_refused_at_once(guarded: GuardServer) -> None:
    """A prompt over limits.max_prompt_chars (here 1,000,001 characters, a megabyte of combining
    marks) is a 413 prompt_too_large before any classifier runs, in well under a second."""
    started = time.monotonic()
    response = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=30, json={
        "model": "m", "messages": [{"role": "user", "content": "a" + "\u0301" * 1_000_000}]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "prompt_too_large"
    assert time.monotonic() - started < 1.5


def test_guarded_survives_the_expensive_texts(guarded: GuardServer) -> None:
    """After the expensive texts: alive, serving, and no traceback or error line logged."""
    ok = httpx.post(f"{guarded.url}/v1/chat/completions", timeout=10,
                    json={"model": "m", "messages": [{"role": "user", "content": "hello"}]})
    assert ok.status_code == 200
    assert "Traceback" not in guarded.output()
    assert '"level":"error"' not in guarded.output()


def refused_by_the_parser(guard: GuardServer, head: bytes) -> bytes:
    """The status guard answers `head` with (sent whole, then read until guard closes)."""
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(head)
        return closed_within(sock, 5).split(b"\r\n", 1)[0].split(b" ", 1)[1]


def test_requests_the_parser_refuses_are_counted(guard: GuardServer) -> None:
    """From a probe: a request aiohttp's parser refuses with 400 before any handler (a header line
    over max_header_bytes, more than max_headers fields, a malformed request line) was only a
    `bad_client_request` log line: a client sending a huge cookie got 100% errors while
    guard_requests_total, the dashboard's traffic and the BlockRateSpike denominator, showed
    none. Each is counted under route `unparsed` (model `none`, status class `4xx`)."""
    start = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
    heads = [f"{start}Cookie: {'a' * 3000}\r\n\r\n",
             start + "".join(f"X-H{i}: v\r\n" for i in range(40)) + "\r\n",
             "POST /v1/chat/completions HTTP/1.1 extra\r\nHost: x\r\n\r\n",
             "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"]  # TLS spoken to plain HTTP
    unparsed = {"route": "unparsed", "model": "none", "status_class": "4xx"}
    before = guard.metric("guard_requests_total", **unparsed), guard.metric("guard_requests_total")
    answers = [refused_by_the_parser(guard, head.encode("latin-1")) for head in heads]
    after = guard.metric("guard_requests_total", **unparsed), guard.metric("guard_requests_total")
    assert answers == [b"400 Bad Request"] * len(heads)
    assert (after[0] - before[0], after[1] - before[1]) == (len(heads), len(heads))
