"""guard started without stdin, stdout or stderr (`<&-`, `>&-`, `2>&-`: a supervisor that closes
them) serves, stops cleanly and answers commands as with them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import GuardServer

ROOT = Path(__file__).resolve().parents[2]


def closing(fd: int) -> Callable[[], None]:
    return lambda: os.close(fd)


@pytest.mark.parametrize("closed", ["<&-", ">&-", "2>&-"])
def test_a_guard_started_with_a_standard_stream_closed_stops_cleanly(
        tmp_path: Path, closed: str) -> None:
    """From a probe: uvloop's epoll took the free number, and libuv aborted closing it at the
    stop: SIGABRT (exit -6) after guard_stopped, the lines still queued never written."""
    guard = GuardServer(tmp_path, {})
    guard.args = ["bash", "-c", f'exec "$@" {closed}', "guard", *guard.args]
    guard.start()
    assert guard.stop(signal.SIGTERM) == 0, guard.output()


def test_a_command_with_stdout_closed_gives_its_verdict(tmp_path: Path) -> None:
    """From a probe: `guard policy check` with stdout closed (`>&-`) ended in a traceback, exit
    status 1, on a valid pack."""
    ran = subprocess.run([sys.executable, "-m", "guard", "policy", "check", str(ROOT / "policies")],
                         capture_output=True, text=True, timeout=60, check=False,
                         preexec_fn=closing(1), cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
