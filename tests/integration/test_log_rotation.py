"""The log rotation docs/deploy.md describes ("Logs and their rotation"), on a real `guard serve`:
stderr appended to a file (`2>>`) and rotated with logrotate's `copytruncate` (copied, then
truncated in place) leaves whole lines in both files; `2>` (no O_APPEND) would leave the
truncated file beginning with NUL bytes, which a probe saw."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, MockUpstream, start_together

pytestmark = pytest.mark.timeout(60)


def requests_in(path: Path) -> list[dict[str, object]]:
    """The access lines of a log file; every line must be a whole JSON line."""
    lines = [json.loads(line) for line in path.read_bytes().splitlines()]
    return [line for line in lines if line["event"] == "request"]


@pytest.mark.parametrize("appended", [True, False], ids=["2>>", "2>"])
def test_copytruncate_leaves_whole_lines_only_when_stderr_is_appended(
        tmp_path: Path, appended: bool) -> None:
    """Appended, the truncated file holds the later access lines, whole, from its first byte; not
    appended, they follow as many NUL bytes as guard had written before (the runbook's and
    deploy docs' reason to use `2>>`)."""
    log = tmp_path / "guard.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if appended else os.O_TRUNC), 0o644)
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}}}, stderr=fd)
    try:
        start_together(mock, guard)
        os.close(fd)

        def ask(n: int) -> None:
            for i in range(n):
                answer = httpx.post(f"{guard.url}/v1/chat/completions", json={
                    "model": "m", "messages": [{"role": "user", "content": f"hello {i}"}]})
                assert answer.status_code == 200

        ask(5)
        deadline = time.monotonic() + 10  # access lines are written by guard's log thread
        while len(requests_in(log)) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        shutil.copy(log, tmp_path / "guard.log.1")  # logrotate's copytruncate
        with log.open("r+b") as f:
            f.truncate(0)
        ask(5)
    finally:
        guard.stop()
        mock.stop()
    assert len(requests_in(tmp_path / "guard.log.1")) == 5
    written = log.read_bytes()
    if appended:
        assert b"\0" not in written and len(requests_in(log)) == 5
    else:
        held = (tmp_path / "guard.log.1").stat().st_size
        assert written[:held] == bytes(held)
