"""What the kill switch tells the on-call and the audit trail: a real `guard serve` sharing its
switches through a real redis-server, driven by `guard killswitch`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import GuardServer, RedisServer, guard_before_mock

TOKEN = "tok-alice-123456"


@pytest.fixture
def guard(tmp_path: Path, redis_server: RedisServer) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path, None, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"},
                           redis_url=redis_server.url) as server:
        yield server


def cli(guard: GuardServer, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "guard", "killswitch", *args, "--admin-url", guard.admin_url],
        env={**os.environ, "GUARD_ADMIN_TOKEN": TOKEN}, capture_output=True,
        text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def engage_api(guard: GuardServer, scope: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{guard.admin_url}/admin/killswitch", method="POST",
        data=json.dumps({"scope": scope, "reason": "INC-7"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def chat_status(guard: GuardServer, model: str) -> int:
    request = urllib.request.Request(
        f"{guard.url}/v1/chat/completions", headers={"Content-Type": "application/json"},
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_release_without_a_reason_is_logged_with_none_of_its_own(guard: GuardServer) -> None:
    """The `killswitch_change` line of a release without --reason had carried the engage's
    reason as `reason`, read as the release's; it is empty now, the engage's is
    `switch_reason`."""
    _, out, _ = cli(guard, "engage", "--scope", "model:gpt-4o", "--reason", "INC-9 leak")
    switch_id = out.split()[1].rstrip(":")
    assert cli(guard, "release", switch_id)[0] == 0
    deadline = time.monotonic() + 10
    while not (released := changes(guard, "release")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(released) == 1 and released[0]["id"] == switch_id, released
    assert released[0]["reason"] == "" and released[0]["switch_reason"] == "INC-9 leak"
    assert changes(guard, "engage")[0]["reason"] == "INC-9 leak"


def changes(guard: GuardServer, action: str) -> list[dict[str, Any]]:
    """The `killswitch_change` lines of `action` in guard's output."""
    found = []
    for line in guard.output().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "killswitch_change" and record.get("action") == action:
            found.append(record)
    return found
