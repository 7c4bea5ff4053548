"""guard's stderr refusing its log lines (a full log volume): a real `guard serve` whose stderr
is /dev/full (every write ENOSPC), the openai SDK as client. Answers are what they would be,
incidents reach the journal, and the lines dropped are counted."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from guard.incidents.query import Query
from guard.incidents.reader import JournalReader
from tests.support import POLICIES, GuardServer, MockUpstream, start_together

pytestmark = pytest.mark.timeout(90)

KEY = "my key AKIAIOSFODNN7EXAMPLE"


def config(mock: MockUpstream) -> dict[str, Any]:
    return {"upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
            "incidents": {"log": True, "retry_interval_ms": 50, "retry_max_ms": 200}}


def asked(guard: GuardServer, blocked: int, harmless: int) -> list[str]:
    """Send `blocked` prompts carrying a key (each answered 400 with its incident's id) and
    `harmless` ones (each answered by the model); the incident ids."""
    sdk = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
    ids = []
    with sdk:
        for i in range(blocked):
            with pytest.raises(openai.BadRequestError) as refused:
                sdk.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"{i} {KEY}"}])
            ids.append(refused.value.response.headers["X-Guard-Incident-Id"])
        for i in range(harmless):
            answer = sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"hello {i}"}])
            assert answer.choices[0].message.content
    return ids


def until(check: Callable[[], bool], wait_s: float = 20) -> None:
    deadline = time.monotonic() + wait_s
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def journal_ids(tmp_path: Path) -> list[str]:
    return [i["id"] for i in JournalReader(tmp_path / "state").query_now(Query(limit=1000))]


def test_stderr_on_dev_full_changes_no_answer(tmp_path: Path) -> None:
    """From a probe: with guard's log on a full volume, 98 of 100 blocked prompts and 20 of 20
    harmless ones were answered 500 (the access line's ENOSPC replaced the answer; on
    /dev/full guard did not even start). Here every answer is the one guard decided, with its
    incident id, counted by its own status; each incident is in the journal, and the lines
    stderr refused are counted."""
    mock = MockUpstream(tmp_path)
    with open("/dev/full", "wb") as full:
        guard = GuardServer(tmp_path, config(mock), stderr=full.fileno())
        start_together(mock, guard)
    try:
        ids = asked(guard, blocked=6, harmless=6)
        assert guard.metric("guard_requests_total", status_class="4xx") == 6
        assert guard.metric("guard_requests_total", status_class="2xx") == 6
        assert guard.metric("guard_requests_total", status_class="5xx") == 0
        assert guard.metric("guard_log_lines_dropped_total") >= 12  # an access line a request
    finally:
        code = guard.stop()
        mock.stop()
    assert code == 0
    assert sorted(journal_ids(tmp_path)) == sorted(ids)
