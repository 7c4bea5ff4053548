"""Log lines stderr refuses (guard.observability.log_out) on real file descriptors: a
non-blocking pipe nobody reads (EAGAIN until it is read), a blocking one whose reader pauses, and
/dev/full (ENOSPC)."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import structlog

from guard.observability.log_out import LogOut, QueuedLogOut, stderr_out
from guard.observability.logging import (
    access_line,
    configure_logging,
    lines_dropped,
    lines_settled,
)
from tests.support import POLICIES, drained, filled


def note(dropped: int, error: str) -> bytes:
    return json.dumps({"event": "log_lines_dropped", "dropped": dropped, "error": error}
                      ).encode() + b"\n"


@pytest.fixture
def pipe() -> Iterator[tuple[int, LogOut]]:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with open(write_end, "wb", buffering=0) as stream:
        yield read_end, LogOut(stream, note)
    os.close(read_end)


@pytest.fixture
def blocking_pipe() -> Iterator[tuple[int, int]]:
    """A blocking pipe (a shell's `|`), filled to its last byte: its read end and write end."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filled(write_end)
    os.set_blocking(write_end, True)
    yield read_end, write_end
    os.close(write_end)
    os.close(read_end)


def events(data: bytes) -> list[str]:
    return [json.loads(line)["event"] for line in data.splitlines() if line.strip()]


def test_lines_a_full_pipe_refuses_are_dropped_counted_and_said_once(
        pipe: tuple[int, LogOut]) -> None:
    """`write` drops what the pipe refuses without raising, and counts it; `put` (a record the
    caller keeps) raises instead, not counted as dropped. The first line written once the pipe
    is read again comes after one `log_lines_dropped` line saying how many were dropped."""
    read_end, out = pipe
    filled(out.stream.fileno())
    for i in range(3):
        out.write(b'{"event":"lost %d"}\n' % i)
    with pytest.raises(BlockingIOError):
        out.put(b'{"event":"kept elsewhere"}\n').result()
    assert out.dropped == 3
    drained(read_end)
    out.write(b'{"event":"after"}\n')
    out.write(b'{"event":"later"}\n')
    lines = [json.loads(line) for line in drained(read_end).splitlines()]
    assert [line["event"] for line in lines] == ["log_lines_dropped", "after", "later"]
    assert (lines[0]["dropped"], lines[0]["error"]) == (3, "EAGAIN")
    assert out.dropped == 3


@pytest.fixture
def logging_on_dev_full(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                        ) -> Iterator[None]:
    """guard's logging set up with stderr on /dev/full (`sys.stderr` is pytest's capture again
    after, where standard logging would report a line it failed to write); the test's own
    logging set-up put back after."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    with open("/dev/full", "w") as full:
        monkeypatch.setattr("sys.stderr", full)
        configure_logging("info")
        monkeypatch.undo()
        try:
            yield
        finally:
            root.handlers[:], root.level = handlers, level
            structlog.configure(**config)


@pytest.mark.usefixtures("logging_on_dev_full")
def test_every_kind_of_line_on_dev_full_is_dropped_and_counted(
        capsys: pytest.CaptureFixture[str]) -> None:
    """From a probe: on a full log volume an access line's ENOSPC became the request's answer
    (500), and a warning's killed the incident writer. An access line, a structlog line and a
    standard logging line each are dropped and counted, and none raises or reports an error."""
    access_line({"request_id": "r1", "status": 200})
    structlog.get_logger("guard.test").warning("something_to_say", detail="x")
    logging.getLogger("aiohttp.server").error("an error of aiohttp's")
    assert lines_settled(10)
    assert lines_dropped() == 3
    assert "Logging error" not in capsys.readouterr().err


def test_a_blocking_pipe_whose_reader_pauses_never_holds_the_writer(
        blocking_pipe: tuple[int, int]) -> None:
    """From a probe: on a blocking pipe whose reader stopped, the event loop waited in write(2)
    for good. Lines written to it return at once; a reader that takes nothing for `stall_s`
    is deemed stopped: the lines queued are dropped and counted, a record's `put` fails (its
    caller keeps it). Once the pipe is read, the next lines come after one note, in order."""
    read_end, write_end = blocking_pipe
    out = stderr_out(io.BytesIO(), write_end, note)
    assert isinstance(out, QueuedLogOut)
    out._stall_s = 0.2  # (for the test: the default is seconds)
    for i in range(3):
        assert out.write(b'{"event":"lost %d"}\n' % i)
    with pytest.raises(BlockingIOError):
        out.put(b'{"event":"kept elsewhere"}\n').result(10)
    assert out.settled(10)
    assert out.dropped == 3
    drained(read_end)
    out.write(b'{"event":"after"}\n')
    out.put(b'{"event":"record"}\n').result(10)
    out.write(b'{"event":"later"}\n')
    out.close()
    assert events(drained(read_end)) == ["log_lines_dropped", "after", "record", "later"]
    assert os.get_blocking(write_end)  # the pipe's own file description is left blocking


def test_lines_beyond_the_queue_are_dropped_at_once_and_said_in_place(
        blocking_pipe: tuple[int, int]) -> None:
    """A slow reader: lines wait in a bounded queue; one that finds it full is dropped and
    counted at once (a record's `put` fails at once), and the note saying so comes after the
    lines queued before it, not before them."""
    read_end, write_end = blocking_pipe
    with open(write_end, "wb", buffering=0, closefd=False) as stream:
        out = QueuedLogOut(stream, note, fileno=write_end, queue_bytes=64, stall_s=60)
        for _ in range(10):  # 19 bytes each: three wait, and one the thread holds
            out.write(b'{"event":"queued"}\n')
        dropped = out.dropped
        assert dropped >= 6
        with pytest.raises(BlockingIOError):
            out.put(b'{"event":"kept elsewhere"}\n' * 3).result(0)
        assert out.dropped == dropped  # a put refused is its caller's to keep, not counted
        output = drained(read_end)  # the thread writes the lines queued as room is made
        assert out.settled(10)
        out.write(b'{"event":"after"}\n')
        out.close()
    lines = [json.loads(line) for line in (output + drained(read_end)).splitlines()
             if line.strip()]
    assert [line["event"] for line in lines] == [
        *["queued"] * (10 - dropped), "log_lines_dropped", "after"]
    assert lines[-2]["dropped"] == dropped == out.dropped


def test_lines_dropped_last_are_said_at_close(blocking_pipe: tuple[int, int]) -> None:
    """From a re-probe: lines dropped beyond the queue with no line written after them (a burst
    as guard stops) were counted but never said (5,000 lines: 1,427 dropped, 1,171 said), and the
    note blamed stderr, which had refused nothing. Closing says them, as lines that came faster
    than stderr took them (`queue_full`)."""
    read_end, write_end = blocking_pipe
    with open(write_end, "wb", buffering=0, closefd=False) as stream:
        out = QueuedLogOut(stream, note, fileno=write_end, queue_bytes=64, stall_s=60)
        for _ in range(10):
            out.write(b'{"event":"queued"}\n')
        dropped = out.dropped
        assert dropped >= 6
        output = drained(read_end)
        assert out.settled(10)
        out.close()
    lines = [json.loads(line) for line in (output + drained(read_end)).splitlines()
             if line.strip()]
    assert [line["event"] for line in lines] == [*["queued"] * (10 - dropped),
                                                 "log_lines_dropped"]
    assert (lines[-1]["dropped"], lines[-1]["error"]) == (dropped, "queue_full")


def test_a_socket_whose_reader_pauses_never_holds_the_writer() -> None:
    """stderr a stream socket (journald's): written without waiting (MSG_DONTWAIT), its flags
    left blocking; lines written while its reader takes nothing are dropped, counted and said
    once it reads again."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                ours.send(b"\n" * 4096)
        ours.setblocking(True)
        out = stderr_out(io.BytesIO(), ours.fileno(), note)
        assert isinstance(out, QueuedLogOut)
        out._stall_s = 0.2  # (for the test: the default is seconds)
        out.write(b'{"event":"lost"}\n')
        with pytest.raises(BlockingIOError):
            out.put(b'{"event":"kept elsewhere"}\n').result(10)
        theirs.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while theirs.recv(1 << 16):
                pass
        out.write(b'{"event":"after"}\n')
        out.close()
        assert os.get_blocking(ours.fileno())
        theirs.setblocking(True)
        ours.shutdown(socket.SHUT_WR)
        output = b""
        while chunk := theirs.recv(1 << 16):
            output += chunk
    assert events(output) == ["log_lines_dropped", "after"]
    assert out.dropped == 1


# A process that logged lines (queued for the writer thread) and then writes to stderr itself.
_ENDINGS = {
    "stopped": "from guard.errors import StoppedStarting, stopped_starting\n"
               "sys.exit(stopped_starting(StoppedStarting(15)))",
    "cannot_start": "import argparse\nfrom guard.cli import cannot_start\n"
                    "sys.exit(cannot_start(argparse.Namespace(), 'port taken'))",
    "traceback": "raise RuntimeError('unhandled')",
    "thread_traceback": "import threading\n"
                        "def fail():\n    raise RuntimeError('unhandled in a thread')\n"
                        "thread = threading.Thread(target=fail)\nthread.start()\nthread.join()",
}


@pytest.mark.parametrize("ending", sorted(_ENDINGS))
def test_what_guard_writes_to_stderr_itself_comes_after_the_lines_logged_before(ending: str) -> None:
    """From a re-probe: `stopped_while_starting`, `cannot_start`'s line and an unhandled
    traceback were written straight to stderr, and came before log lines still queued for the
    writer thread (2 of 10 stops 1.5 s after start)."""
    script = ("import sys, structlog\n"
              "from guard.observability.logging import configure_logging\n"
              "configure_logging('info')\n"
              "for i in range(3000):\n"
              "    structlog.get_logger('t').info('queued', i=i, padding='x' * 200)\n"
              + _ENDINGS[ending])
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False)
    lines = ran.stderr.splitlines()
    last_queued = max(n for n, line in enumerate(lines) if '"event":"queued"' in line)
    assert sum('"event":"queued"' in line for line in lines) == 3000
    assert last_queued < len(lines) - 1
    assert all('"event":"queued"' not in line for line in lines[last_queued + 1:])
    assert all('"event":"queued"' in line for line in lines[:last_queued + 1]), lines[:5]


def test_long_lines_of_two_processes_on_one_pipe_are_written_whole() -> None:
    """From a probe: the workers of a `--workers` group share stderr, and write(2) keeps a line
    whole on a pipe only up to 4 KiB: incident lines of 13 KB written in parts as a slow reader
    made room took the other worker's lines between their parts (2-4 of 160 incidents with no
    whole line, nothing counted dropped). Each process now holds the pipe while it writes one,
    and lets the other have it after a line that waited."""
    script = ("import sys, structlog\n"
              "from guard.observability.logging import configure_logging, lines_settled\n"
              "configure_logging('info', worker=int(sys.argv[1]))\n"
              "for i in range(40):\n"
              "    structlog.get_logger('t').info('long', i=i, padding='x' * 20_000)\n"
              "lines_settled(60)\n")  # not the 3 s an exit waits: each is written, or dropped
    read, write = os.pipe()
    writers = [subprocess.Popen([sys.executable, "-c", script, str(n)], stderr=write)
               for n in range(2)]
    os.close(write)
    data = bytearray()
    # a reader slower than the writers: each process's lines take it 2 s, and one holding
    # the pipe from line to line would starve the other past the stall (a re-probe: 249
    # lines against 3,129, none after 1.6 s)
    while chunk := os.read(read, 4096):
        data += chunk
        time.sleep(0.01)
    os.close(read)
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    lines = [json.loads(line) for line in data.splitlines()]  # each whole
    assert sorted((line["worker"], line["i"]) for line in lines) == [
        (n, i) for n in range(2) for i in range(40)]


def test_a_pipe_another_process_holds_refuses_lines_after_the_stall_and_stops_nothing() -> None:
    """From a re-probe: a guard process stopped while it held the pipe (SIGSTOP, a debugger)
    froze every other's log for good: lines neither written nor dropped, the `log` sink's
    incident never spooled (its `put` never settled), and guard did not stop. The pipe held
    for `STALL_S` is a stopped reader: lines dropped and counted, a `put` failed, nothing
    written while it is held (the note of lines dropped last neither), and said once it is
    let go."""
    read_end, write_end = os.pipe()
    holder = os.open(f"/proc/self/fd/{write_end}", os.O_WRONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's description of the same pipe
    out = stderr_out(io.BytesIO(), write_end, note)
    try:
        record = out.put(b'{"event":"incident"}\n')
        with pytest.raises(BlockingIOError):
            record.result(timeout=10)
        for n in range(3):
            out.write(b'{"event":"line","n":%d}\n' % n)
        assert out.settled(10)
        os.set_blocking(read_end, False)
        with pytest.raises(BlockingIOError):
            os.read(read_end, 1 << 16)  # not a byte while it was held
        assert out.dropped == 3
        fcntl.flock(holder, fcntl.LOCK_UN)
        out.write(b'{"event":"after"}\n')
        assert out.settled(10)
        assert [json.loads(line) for line in os.read(read_end, 1 << 16).splitlines()] == [
            {"event": "log_lines_dropped", "dropped": 3, "error": "pipe_held"},
            {"event": "after"}]
    finally:
        out.close()
        for fd in (holder, read_end, write_end):
            os.close(fd)


class _Failing:
    """A stream whose first write raises what no stream should (a closed file's ValueError)."""

    def __init__(self) -> None:
        self.written = bytearray()

    def write(self, data: bytes | memoryview, /) -> int:
        if not self.written:
            self.written += b"-"
            raise ValueError("I/O operation on closed file")
        self.written += data
        return len(data)

    def flush(self) -> None:
        """Nothing buffered."""


def test_a_stream_raising_loses_its_line_not_the_writer() -> None:
    """From a re-probe: a write raising ValueError ended the writer thread; every line after it
    was neither written nor counted, a `put` never settled (the `log` sink and the stop hung),
    and each `settled` waited its whole limit."""
    read_end, write_end = os.pipe()  # what the thread polls for room
    stream = _Failing()
    out = QueuedLogOut(stream, note, fileno=write_end)
    try:
        with pytest.raises(OSError, match="the log stream failed"):
            out.put(b'{"event":"incident"}\n').result(timeout=10)
        out.write(b'{"event":"after"}\n')
        assert out.settled(10)
        assert [json.loads(line)["event"] for line in bytes(stream.written[1:]).splitlines()] == [
            "log_lines_dropped", "after"]
        assert out.dropped == 1
    finally:
        out.close()
        os.close(read_end)
        os.close(write_end)


def test_main_runs_under_a_callers_text_stderr() -> None:
    """From a re-probe: `guard.cli.main` in a process whose stderr is text with no bytes under
    it (`redirect_stderr(io.StringIO())`) raised AttributeError importing guard's logging."""
    script = ("import contextlib, io, sys\n"
              "from guard.cli import main\n"
              "with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):\n"
              f"    status = main(['policy', 'check', {str(POLICIES)!r}])\n"
              "sys.exit(status)")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
