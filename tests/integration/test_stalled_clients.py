"""A client that stops reading its stream does not hold the model's generation open: the stream
ends once a write has waited `limits.client_write_timeout_s`, or at once when a kill switch
engages, and the model's connection is closed either way. Real `guard serve` in front of the
hostile upstream's endless stream, and a raw-socket client with a small receive buffer."""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, HostileProcess

pytestmark = pytest.mark.timeout(60)

TOKEN = "stalled-admin-token-0123456789"
STALL_S = 2.0  # long enough for guard's writes to fill both sockets' buffers and block


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileProcess]:
    server = HostileProcess(tmp_path_factory.mktemp("stalled-upstream"))
    server.start()
    yield server
    server.stop()


def guard_for(upstream: HostileProcess, workdir: Path, write_timeout_s: float) -> GuardServer:
    return GuardServer(workdir, {"upstreams": {"default": {"url": upstream.url}},
                                 "limits": {"client_write_timeout_s": write_timeout_s}},
                       env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})


def stalled_stream(guard: GuardServer, model: str | None) -> socket.socket:
    """A client that asks for an endless stream (guarded, from `model`; else an answer passed
    through, `GET /v1/models`), then reads nothing."""
    if model is None:
        request = b"GET /v1/models HTTP/1.1\r\nHost: guard\r\nX-Hostile: endless\r\n\r\n"
    else:
        body = json.dumps({"model": model, "stream": True,
                           "messages": [{"role": "user", "content": "go on"}]}).encode()
        request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: guard\r\n"
                   b"Content-Type: application/json\r\nX-Hostile: endless\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", guard.port))
    sock.sendall(request)
    return sock


def upstream_closed_within(upstream: HostileProcess, aborted_before: int, seconds: float
                           ) -> float | None:
    """Seconds until the upstream saw a stream broken off by guard, or None after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if upstream.stats()["aborted"] > aborted_before:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def closed_by_guard(sock: socket.socket, seconds: float) -> bool:
    """Whether guard closed the client's connection: reading what it holds ends within
    `seconds` (with an end of file, or a reset)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(1 << 20):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def serves_others(guard: GuardServer) -> None:
    answer = httpx.post(f"{guard.url}/v1/chat/completions", timeout=10, json={
        "model": "other", "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text


def test_a_kill_switch_ends_a_stream_whose_client_stopped_reading(
        upstream: HostileProcess, tmp_path: Path) -> None:
    """The switch closes the model's connection within about a second, though guard is waiting
    for the client to take a write (it used to wait for as long as the client stayed)."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=30)
    guard.start()
    try:
        aborted = upstream.stats()["aborted"]
        with stalled_stream(guard, "stall-kill"):
            time.sleep(STALL_S)
            assert upstream.stats()["aborted"] == aborted  # still streaming, into a full buffer
            engaged = httpx.post(f"{guard.admin_url}/admin/killswitch", timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"},
                                 json={"scope": "model:stall-kill", "mode": "block",
                                       "reason": "INC-9 runaway"})
            assert engaged.status_code == 201, engaged.text
            took = upstream_closed_within(upstream, aborted, 5)
            assert took is not None, "the model's connection stayed open"
            assert took < 1.5, took
        serves_others(guard)
    finally:
        guard.stop()
    assert guard.logged("stopped_in_flight")


@pytest.mark.parametrize("model", ["stall-timeout", None], ids=["guarded", "passed-through"])
def test_a_client_that_takes_no_write_for_the_timeout_has_its_stream_ended(
        upstream: HostileProcess, tmp_path: Path, model: str | None) -> None:
    """With client_write_timeout_s 1 and no switch, the model's connection is closed about a
    second after guard's writes blocked, and so is the client's; on a guarded stream and on an
    answer passed through alike."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=1)
    guard.start()
    try:
        aborted = upstream.stats()["aborted"]
        with stalled_stream(guard, model) as sock:
            took = upstream_closed_within(upstream, aborted, STALL_S + 6)
            assert took is not None, "the model's connection stayed open"
            assert 1 <= took < STALL_S + 2.5, took
            assert closed_by_guard(sock, 5)
        serves_others(guard)
    finally:
        guard.stop()
    assert guard.logged("client_write_timeout")


def whole_answer_request(size: int, model: str = "stall-whole") -> bytes:
    """A request for a completion of `size` bytes, not streamed."""
    body = json.dumps({"model": model, "prompt": "go on"}).encode()
    return (b"POST /v1/completions HTTP/1.1\r\nHost: guard\r\nContent-Type: application/json\r\n"
            b"X-Hostile: huge-body\r\nX-Hostile-Bytes: %d\r\nContent-Length: %d\r\n\r\n%s"
            % (size, len(body), body))


def small_buffered_client(guard: GuardServer, request: bytes) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", guard.port))
    sock.sendall(request)
    return sock


def test_a_client_that_does_not_take_a_whole_answer_has_its_connection_closed(
        upstream: HostileProcess, tmp_path: Path) -> None:
    """An answer sent whole (8 MiB, more than the sockets' buffers hold) is bounded like a
    stream: with client_write_timeout_s 1, a client that reads nothing for 2 s finds its
    connection aborted, not the rest of the answer still waiting for it in guard."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=1)
    guard.start()
    try:
        with small_buffered_client(guard, whole_answer_request(8 << 20)) as sock:
            time.sleep(STALL_S + 1)
            assert closed_by_guard(sock, 5)
        serves_others(guard)
        assert guard.metric("guard_answers_broken_total", reason="client_stalled") == 1
    finally:
        guard.stop()
    assert guard.logged("client_write_timeout")


def test_a_client_reading_a_whole_answer_slowly_gets_all_of_it(
        upstream: HostileProcess, tmp_path: Path) -> None:
    """Each piece of an answer sent whole is bounded, not the whole: a client that takes 2 MiB
    at about 0.5 MiB/s (4 s, with client_write_timeout_s 1) gets every byte of it."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=1)
    guard.start()
    try:
        with small_buffered_client(guard, whole_answer_request(2 << 20)) as sock:
            sock.settimeout(10)
            received = b""
            started = time.monotonic()
            while b"\r\n\r\n" not in received or len(received) < answer_end(received):
                piece = sock.recv(64 * 1024)
                assert piece, f"closed after {len(received)} bytes"
                received += piece
                time.sleep(len(piece) / (512 * 1024))
            took = time.monotonic() - started
        head, body = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert json.loads(body)["choices"][0]["text"] == "B" * (2 << 20)
        assert took > 2, took
        serves_others(guard)
    finally:
        guard.stop()
    assert "client_write_timeout" not in guard.output()


def answer_end(received: bytes) -> int:
    """Where the answer whose start is `received` ends (its Content-Length after its head)."""
    head, _ = received.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return len(head) + 4 + length


def test_a_kill_switch_cuts_a_paced_answer_at_once(upstream: HostileProcess, tmp_path: Path
                                                  ) -> None:
    """From a re-probe: a kill switch engaged while a client read a 4 MB answer slowly aborted
    the connection in guard, yet what the kernel held (up to 4 MiB) went on arriving for 45 s.
    The connection is reset: the client's next reads fail within a second, the answer cut."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=30)
    guard.start()
    try:
        with small_buffered_client(guard, whole_answer_request(4 << 20, "paced-kill")) as sock:
            sock.settimeout(5)
            received = len(sock.recv(64 * 1024))
            engaged = httpx.post(f"{guard.admin_url}/admin/killswitch", timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"},
                                 json={"scope": "model:paced-kill", "mode": "block",
                                       "reason": "INC-10 drill"})
            assert engaged.status_code == 201, engaged.text
            started = time.monotonic()
            with pytest.raises(ConnectionResetError):
                while time.monotonic() - started < 5:
                    piece = sock.recv(64 * 1024)
                    assert piece, "closed without a reset"
                    received += len(piece)
                    time.sleep(0.1)  # about 640 KiB/s
            assert time.monotonic() - started < 1.5
            assert received < 4 << 20
        assert guard.metric("guard_killswitch_refusals_total", mode="block") == 1
        serves_others(guard)
    finally:
        guard.stop()
    assert guard.logged("stopped_in_flight")


def test_clients_leaving_paced_answers_log_no_error(upstream: HostileProcess, tmp_path: Path
                                                    ) -> None:
    """From a re-probe: a client that reset its connection while a paced answer (4 MB) was
    written to it made an error-level 'Error handling request' traceback, about one time in
    seven; it is a client gone (client_disconnected), like a stream's."""
    guard = guard_for(upstream, tmp_path, write_timeout_s=30)
    guard.start()
    try:
        for _ in range(20):
            with small_buffered_client(guard, whole_answer_request(4 << 20)) as sock:
                sock.settimeout(5)
                for _ in range(3):
                    sock.recv(64 * 1024)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        serves_others(guard)
    finally:
        guard.stop()
    assert '"level": "error"' not in guard.output() and "Error handling request" not in guard.output()
