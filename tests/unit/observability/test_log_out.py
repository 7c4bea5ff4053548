"""Log lines stderr refuses (guard.observability.logging.LogOut) on real file descriptors: a
non-blocking pipe nobody reads (EAGAIN until it is read) and /dev/full (ENOSPC)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from guard.observability.logging import LogOut, access_line, configure_logging, lines_dropped
from tests.support import drained, filled


@pytest.fixture
def pipe() -> Iterator[tuple[int, LogOut]]:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with open(write_end, "wb", buffering=0) as stream:
        yield read_end, LogOut(stream)
    os.close(read_end)


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
        out.put(b'{"event":"kept elsewhere"}\n')
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
    assert lines_dropped() == 3
    assert "Logging error" not in capsys.readouterr().err
