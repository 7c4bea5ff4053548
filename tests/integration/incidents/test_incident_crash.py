"""A recorder killed with SIGKILL: the loss bound of the journal, and the spool replayed after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.observability.metrics import Metrics
from tests.support import RedisServer, free_port

CHILD = Path(__file__).with_name("recorder_child.py")
FSYNC_INTERVAL_S = 0.050  # recorder_child.FSYNC_INTERVAL_MS
ROOT = Path(__file__).resolve().parents[3]


def start_child(state_dir: Path, redis_url: str, count: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(CHILD), str(state_dir), redis_url, count],
                            stdout=subprocess.PIPE, text=True, env=env)


def journal_ids(state_dir: Path) -> set[str]:
    return {orjson.loads(line)["id"]
            for path in journal_dir(state_dir).glob("*.jsonl")
            for line in path.read_bytes().splitlines() if line.endswith(b"}")}


def test_sigkill_loses_at_most_the_last_fsync_interval(tmp_path: Path) -> None:
    """Every incident recorded more than one fsync interval before a SIGKILL is in the journal."""
    child = start_child(tmp_path, "-", "forever")
    assert child.stdout is not None
    recorded: list[tuple[str, float]] = []

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            incident_id, at = line.split()
            recorded.append((incident_id, float(at)))

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 20
    while len(recorded) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    killed_at = time.time()
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    child.stdout.close()
    assert len(recorded) >= 300
    in_journal = journal_ids(tmp_path)
    old_enough = [i for i, at in recorded if at < killed_at - FSYNC_INTERVAL_S]
    missing = [i for i in old_enough if i not in in_journal]
    assert old_enough and missing == []


async def test_spool_of_a_killed_process_is_replayed_on_restart(tmp_path: Path) -> None:
    """Incidents spooled for an unreachable Redis survive SIGKILL and reach Redis after restart."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    child = start_child(tmp_path, url, "200")
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        if line.strip() == "drained":
            break
        lines.append(line.split()[0])
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert len(lines) == 200
    server = RedisServer(tmp_path / "redis", port)
    server.start()
    try:
        recorder = IncidentRecorder(IncidentSettings(log=False), tmp_path, url,
                                    Metrics(CollectorRegistry()))
        await recorder.start()
        await recorder.aclose()
        client = Redis.from_url(url)
        entries = await client.xrange("guard:incidents")
        await client.aclose()
    finally:
        server.stop()
    assert [fields[b"id"].decode() for _, fields in entries] == lines
    assert journal_ids(tmp_path) == set(lines)
