"""guard's stderr refusing its log lines (a full log volume, a log reader that stopped reading): a
real `guard serve` whose stderr is /dev/full (every write ENOSPC), or a non-blocking pipe the
test fills and later drains (EAGAIN, then room again), the openai SDK as client. Answers are what
they would be, incidents reach the journal, the `log` sink spools what stderr refused and
replays it once stderr takes lines again, and the lines dropped are counted and said."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from guard.incidents.query import Query
from guard.incidents.reader import JournalReader
from tests.support import POLICIES, GuardServer, MockUpstream, filled, start_together

pytestmark = pytest.mark.timeout(90)

KEY = "my key AKIAIOSFODNN7EXAMPLE"


def config(mock: MockUpstream) -> dict[str, Any]:
    return {"upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
            "incidents": {"log": True, "retry_interval_ms": 50, "retry_max_ms": 200}}


def asked(guard: GuardServer, blocked: int, harmless: int) -> list[str]:
    """Send `blocked` prompts carrying a key (each answered 400 with its incident's id) and
    `harmless` ones (each answered by the model); the incident ids."""
    sdk = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0,
                        timeout=10)
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


def on_dev_full(tmp_path: Path) -> tuple[MockUpstream, GuardServer]:
    """The stand-in and a guard in front of it, started, guard's stderr /dev/full (every write
    refused: ENOSPC)."""
    mock = MockUpstream(tmp_path)
    with open("/dev/full", "wb") as full:
        guard = GuardServer(tmp_path, config(mock), stderr=full.fileno())
        start_together(mock, guard)
    return mock, guard


def test_stderr_on_dev_full_changes_no_answer(tmp_path: Path) -> None:
    """From a probe: with guard's log on a full volume, 98 of 100 blocked prompts and 20 of 20
    harmless ones were answered 500 (the access line's ENOSPC replaced the answer; on
    /dev/full guard did not even start). Here every answer is the one guard decided, with its
    incident id, counted by its own status; each incident is in the journal, and the lines
    stderr refused are counted."""
    mock, guard = on_dev_full(tmp_path)
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


def test_the_log_sink_spools_what_dev_full_refuses(tmp_path: Path) -> None:
    """From a probe: the log sink's writer died at its first refused line (its
    `incident_sink_down` warning raised on the same stderr, and so did the writer's crash
    report): 5 of 7 incidents never reached the log sink, its queue stuck, nothing counted.
    Here the log sink spools every incident stderr refuses, round after round, and none is
    dropped."""
    mock, guard = on_dev_full(tmp_path)
    try:
        ids = asked(guard, blocked=6, harmless=0)
        until(lambda: guard.metric("guard_incident_spooled_total", sink="log") == 6)
        ids += asked(guard, blocked=3, harmless=0)  # the log sink's writer still writes
        until(lambda: guard.metric("guard_incident_spooled_total", sink="log") == 9)
        assert guard.metric("guard_incident_spool_waiting", sink="log") == 9
        assert guard.metric("guard_incident_spooled_total", sink="journal") == 0
        assert guard.metric("guard_incident_queue_depth") == 0
        assert guard.metric("guard_incident_dropped_total") == 0
    finally:
        code = guard.stop()
        mock.stop()
    assert code == 0
    assert sorted(journal_ids(tmp_path)) == sorted(ids)


class Drained:
    """The read end of a pipe, read in a thread while not `paused`, into `data`."""

    def __init__(self, read_end: int) -> None:
        self.read_end = read_end
        self.data = bytearray()
        self.reading = threading.Event()
        self.reading.set()
        self.idle = threading.Event()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done:
            if not self.reading.is_set():
                self.idle.set()
                self.reading.wait(0.05)
                continue
            self.idle.clear()
            if select.select([self.read_end], [], [], 0.05)[0]:
                self.data += os.read(self.read_end, 1 << 16)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.reading.clear()
        assert self.idle.wait(5)
        try:
            yield
        finally:
            self.reading.set()

    def stop(self) -> bytes:
        self.done = True
        self.thread.join(5)
        while chunk := os.read(self.read_end, 1 << 16):
            self.data += chunk
        return bytes(self.data)


def piped(tmp_path: Path, read_end: int,
          write_end: int) -> tuple[Drained, MockUpstream, GuardServer]:
    """The stand-in and a guard in front of it (to start), guard's stderr the pipe's
    `write_end`, whose `read_end` is drained (`Drained`)."""
    drained = Drained(read_end)
    mock = MockUpstream(tmp_path)
    return drained, mock, GuardServer(tmp_path, config(mock), stderr=write_end)


def stopped(guard: GuardServer, mock: MockUpstream, pipe: tuple[int, int],
            drained: Drained) -> tuple[int, bytes]:
    """Guard and the stand-in stopped, the pipe closed: guard's exit status, all it wrote."""
    read_end, write_end = pipe
    code = guard.stop()
    mock.stop()
    os.close(write_end)  # the last writer: the reader reads to the end
    output = drained.stop()
    os.close(read_end)
    return code, output


def replayed_once(guard: GuardServer, mock: MockUpstream, pipe: tuple[int, int],
                  drained: Drained, ids: list[str]) -> tuple[float, list[dict[str, Any]]]:
    """Once the reader reads again: every spooled incident written, no line dropped any more
    and none lost; then guard stopped cleanly, each of `ids` in the log once, every line whole.
    The lines dropped (the metric) and the `log_lines_dropped` lines said."""
    try:
        until(lambda: guard.metric("guard_incident_spool_waiting", sink="log") == 0)
        dropped = guard.metric("guard_log_lines_dropped_total")
        asked(guard, blocked=0, harmless=1)
        assert guard.metric("guard_log_lines_dropped_total") == dropped
        assert guard.metric("guard_incident_dropped_total") == 0
    finally:
        code, output = stopped(guard, mock, pipe, drained)
    assert code == 0
    lines = [json.loads(line) for line in output.split(b"\n") if line.strip()]  # each whole
    logged = Counter(line["incident_id"] for line in lines if line["event"] == "incident")
    assert {i: logged[i] for i in ids} == dict.fromkeys(ids, 1)
    return dropped, [line for line in lines if line["event"] == "log_lines_dropped"]


def test_lines_stderr_refused_are_counted_said_and_incidents_replayed(tmp_path: Path) -> None:
    """stderr a pipe nobody reads for a while: guard goes on answering; its log lines meanwhile
    are dropped and counted, its incident lines spooled; once the pipe is read again, one
    `log_lines_dropped` line says how many were dropped (as many as the metric), and each
    incident reaches the log once, every line whole."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    drained, mock, guard = piped(tmp_path, read_end, write_end)
    try:
        start_together(mock, guard)
        with drained.paused():
            filled(write_end)
            ids = asked(guard, blocked=4, harmless=4)
            assert guard.metric("guard_requests_total", status_class="5xx") == 0
            until(lambda: guard.metric("guard_incident_spooled_total", sink="log") == 4)
            assert guard.metric("guard_log_lines_dropped_total") >= 8
    except BaseException:
        stopped(guard, mock, (read_end, write_end), drained)
        raise
    dropped, said = replayed_once(guard, mock, (read_end, write_end), drained, ids)
    assert [line["level"] for line in said] == ["warning"]
    assert said[0]["dropped"] == dropped > 0
    assert said[0]["error"] == "EAGAIN"


def test_a_blocking_pipe_whose_reader_pauses_stops_nothing(tmp_path: Path) -> None:
    """From a probe: with stderr a blocking pipe (`guard serve | collector`) whose reader stopped
    reading, after 81 answers every request and /healthz timed out (the event loop blocked in
    write(2)). Here, the reader paused, guard answers every request (400 with its incident's id,
    or 200), /healthz and /metrics too; once the reader reads again each incident reaches the
    log once, every line whole, and the `log_lines_dropped` lines say as many as the metric."""
    read_end, write_end = os.pipe()  # blocking, as a shell's `|` makes it
    drained, mock, guard = piped(tmp_path, read_end, write_end)
    try:
        start_together(mock, guard)
        with drained.paused():
            os.set_blocking(write_end, False)
            filled(write_end)
            os.set_blocking(write_end, True)
            ids = asked(guard, blocked=4, harmless=4)
            with urllib.request.urlopen(f"{guard.admin_url}/healthz", timeout=10) as health:
                assert health.status == 200
            assert guard.metric("guard_requests_total", status_class="5xx") == 0
            until(lambda: guard.metric("guard_incident_spooled_total", sink="log") == 4)
            ids += asked(guard, blocked=2, harmless=2)  # and go on being answered
            until(lambda: guard.metric("guard_incident_spooled_total", sink="log") == 6)
            assert guard.metric("guard_log_lines_dropped_total") >= 12
    except BaseException:
        stopped(guard, mock, (read_end, write_end), drained)
        raise
    dropped, said = replayed_once(guard, mock, (read_end, write_end), drained, ids)
    assert sum(line["dropped"] for line in said) == dropped > 0


def test_guard_started_with_stderr_closed_runs() -> None:
    """From a re-probe: started with stderr closed (`2>&-`: Python's sys.stderr is None), guard
    ended at import with status 1, saying nothing anywhere. Its log goes nowhere; it checks and
    says its verdict on stdout."""
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(f"{shlex.quote(sys.executable)} -m guard serve --check 2>&-",
                         shell=True, stdout=subprocess.PIPE, text=True, timeout=60, check=False,
                         cwd=root)
    assert run.returncode == 0, run.stdout
    assert "policy default" in run.stdout
