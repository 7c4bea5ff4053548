"""`guard serve` as operators run it: graceful SIGTERM, several workers on one port."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from guard.app import REPEAT_S, serve
from guard.components import Components
from guard.config import Settings, UpstreamSettings
from guard.killswitch.held import group_dir_parent
from guard.observability.tally import FLUSH_INTERVAL_S
from guard.workers import QUICK_DEATHS, RESTART_S
from tests.support import POLICIES, GuardServer, MockUpstream, RedisServer, free_port, start_together

pytestmark = pytest.mark.timeout(90)


def serving(tmp_path: Path, grace_s: float) -> tuple[MockUpstream, GuardServer]:
    """The stand-in model, and guard in front of it with `shutdown_grace_s`, both started."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "shutdown_grace_s": grace_s})
    start_together(mock, guard)
    return mock, guard


def streaming(guard: GuardServer, chars: int, *, delay_ms: int
              ) -> tuple[threading.Thread, dict[str, httpx.Response]]:
    """A stream of `chars` characters, two every `delay_ms`, read in a thread (started) whose
    answer lands in the dict under "r"."""
    result: dict[str, httpx.Response] = {}

    def stream() -> None:
        result["r"] = httpx.post(
            f"{guard.url}/v1/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
            headers={"X-Mock-Reply": "w" * chars, "X-Mock-Chunk-Chars": "2",
                     "X-Mock-Chunk-Delay-Ms": str(delay_ms)}, timeout=60)

    worker = threading.Thread(target=stream)
    worker.start()
    return worker, result


def test_sigterm_lets_an_inflight_stream_finish_then_exits_0(tmp_path: Path) -> None:
    """On SIGTERM guard stops accepting, finishes the stream in flight, and exits 0."""
    mock, guard = serving(tmp_path, 10)
    worker, result = streaming(guard, 60, delay_ms=50)
    time.sleep(0.4)
    assert guard.proc is not None
    guard.proc.send_signal(signal.SIGTERM)
    worker.join(timeout=30)
    code = guard.proc.wait(timeout=30)
    guard.stop()
    mock.stop()
    assert code == 0
    assert result["r"].status_code == 200
    assert result["r"].text.endswith("data: [DONE]\n\n")
    assert "w" * 2 in result["r"].text


def test_sigterm_ends_what_outlasts_the_grace_cleanly_and_in_time(tmp_path: Path) -> None:
    """With `shutdown_grace_s: 1`, a stream that would run 10 s more and a request waiting 10 s
    for its answer end about 1 s after SIGTERM (not twice that): the stream with an error event
    `server_shutting_down`, the request with a 503 of that code; guard exits 0."""
    mock, guard = serving(tmp_path, 1)
    result: dict[str, httpx.Response] = {}

    def ask(name: str, stream: bool, headers: dict[str, str]) -> None:
        result[name] = httpx.post(
            f"{guard.url}/v1/chat/completions", headers=headers, timeout=30,
            json={"model": "m", "stream": stream, "messages": [{"role": "user", "content": "x"}]})

    workers = [threading.Thread(target=ask, args=("stream", True, {
                   "X-Mock-Reply": "w" * 200, "X-Mock-Chunk-Chars": "2",
                   "X-Mock-Chunk-Delay-Ms": "100"})),
               threading.Thread(target=ask, args=("whole", False, {"X-Mock-Latency-Ms": "10000"}))]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 10  # both requests have reached the stand-in model
    while len(httpx.get(f"{mock.url}/_mock/requests").json()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert guard.proc is not None
    guard.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    for worker in workers:
        worker.join(timeout=30)
    ended = time.monotonic() - signalled
    code = guard.proc.wait(timeout=30)
    guard.stop()
    mock.stop()
    assert code == 0 and ended < 1.9, ended
    assert result["stream"].status_code == 200 and "w" * 2 in result["stream"].text
    last = result["stream"].text.strip().rsplit("data: ", 1)[1]
    assert '"code":"server_shutting_down"' in last.replace(" ", "")
    assert result["whole"].status_code == 503
    assert result["whole"].json()["error"]["code"] == "server_shutting_down"
    assert result["whole"].headers.get("X-Request-Id")  # from a re-probe: it had none
    lines = _lines(guard)
    stopping = next(line for line in lines if line["event"] == "guard_stopping")
    assert (stopping["signal"], stopping["in_flight"]) == ("SIGTERM", 2), stopping
    cuts = [line for line in lines if line["event"] == "shutdown_cut"]
    assert [(cut["reason"], cut["cut"], cut["grace_s"]) for cut in cuts] == [
        ("grace_over", 2, 1)], lines


def test_while_draining_readyz_says_it_is_shutting_down(tmp_path: Path) -> None:
    """During `shutdown_drain_s` after SIGTERM, /readyz answers 503 saying why (it had said only
    "not ready"), while requests are still served, each answer with `Connection: close`."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "shutdown_drain_s": 5})
    try:
        start_together(mock, guard)
        assert guard.proc is not None
        guard.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while (ready := httpx.get(f"{guard.admin_url}/readyz")).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        served = httpx.post(f"{guard.url}/v1/chat/completions",
                            json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    finally:
        guard.stop()
        mock.stop()
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "reason": "shutting down"}
    assert served.status_code == 200 and served.headers["Connection"] == "close"


def test_workers_share_one_port_and_merge_metrics(tmp_path: Path) -> None:
    """`--workers 2` serves on one port from two processes, and /metrics counts all requests."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}}}, "--workers", "2")
    start_together(mock, guard)
    try:
        sent = 40
        for i in range(sent):
            with httpx.Client() as fresh:  # new connections so both workers get some
                response = fresh.post(f"{guard.url}/v1/chat/completions",
                                      json={"model": "w", "messages": [
                                          {"role": "user", "content": str(i)}]})
                assert response.status_code == 200
        # the worker that answers the scrape is exact; the other one's figures arrive within
        # guard.observability.tally.FLUSH_INTERVAL_S
        deadline = time.monotonic() + 3 * FLUSH_INTERVAL_S
        while True:
            text = httpx.get(f"{guard.admin_url}/metrics").text
            counted = re.search(r'guard_requests_total\{model="w",route="/v1/chat/completions",'
                                r'status_class="2xx"\} ([0-9.]+)', text)
            if counted is not None and float(counted.group(1)) == sent:
                break
            assert time.monotonic() < deadline, counted
            time.sleep(0.1)
        pids = set(re.findall(r'"pid":(\d+)', guard.output()))
        assert guard.output().count("guard_started") == 2, pids
    finally:
        assert guard.stop() == 0
        mock.stop()
    # every worker's line names it (from a probe: two workers' lines could not be told apart)
    lines = [json.loads(line) for line in guard.output().splitlines() if line.startswith("{")]
    started = {line["worker"]: line["pid"] for line in lines if line["event"] == "guard_started"}
    supervisor = next(line for line in lines if line["event"] == "workers_started")
    assert sorted(started) == [0, 1]
    assert sorted(started.values()) == sorted(supervisor["pids"])
    later = [line for line in lines if line["event"] in ("request", "guard_stopping")]
    assert len(later) == sent + 2
    assert all(started[line["worker"]] == line["pid"] for line in later)
    # from a probe: the supervisor said nothing of its own when told to stop
    told = next(line for line in lines if line["event"] == "workers_signalled")
    assert (told["signal"], told["count"]) == ("SIGTERM", 2), told
    stopped = next(line for line in lines if line["event"] == "workers_stopped")
    assert "codes" not in stopped, stopped  # every worker exited 0


def test_a_worker_group_stopping_names_a_worker_that_did_not_exit_cleanly(
        tmp_path: Path) -> None:
    """A worker that ends by another signal while the group stops (held stopped, then
    killed) is named with its exit code in the supervisor's last line, and is the group's."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                        "--workers", "2")
    guard.start()
    try:
        deadline = time.monotonic() + 30
        while guard.output().count('"guard_started"') < 2:  # both serve
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.05)
        held = _children(guard.pid)[0]
        os.kill(held, signal.SIGSTOP)  # the forwarded SIGTERM waits, unhandled
        assert guard.proc is not None
        guard.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while '"workers_signalled"' not in guard.output():
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.02)
        os.kill(held, signal.SIGKILL)
        code = guard.proc.wait(timeout=30)
    finally:
        guard.stop()
    assert code == signal.SIGKILL, guard.output()[-2000:]
    stopped = next(line for line in _lines(guard) if line["event"] == "workers_stopped")
    workers = {line["pid"]: line["worker"] for line in _lines(guard)
               if line["event"] == "guard_started"}
    assert stopped["codes"] == {str(workers[held]): signal.SIGKILL}, stopped


def test_environment_overrides_a_nested_key(tmp_path: Path) -> None:
    """GUARD_UPSTREAMS__DEFAULT__URL replaces the file's upstream URL."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                        env={"GUARD_UPSTREAMS__DEFAULT__URL": mock.url})
    start_together(mock, guard)
    try:
        response = httpx.post(f"{guard.url}/v1/chat/completions",
                              json={"model": "m", "messages": [{"role": "user", "content": "e"}]})
        assert response.status_code == 200
    finally:
        guard.stop()
        mock.stop()


def test_an_admin_api_beyond_loopback_is_warned_of_at_start(tmp_path: Path) -> None:
    """From a probe: admin_listen on 0.0.0.0 started without a word; it still starts (a
    container's must listen there), with a warning to keep the admin port off the public network."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}})
    guard.config_path.write_text(guard.config_path.read_text().replace(
        f"127.0.0.1:{guard.admin_port}", f"0.0.0.0:{guard.admin_port}"))
    guard.start()
    assert guard.stop() == 0
    [warning] = [json.loads(line) for line in guard.output().splitlines()
                 if '"admin_beyond_loopback"' in line]
    assert warning["level"] == "warning"
    assert warning["detail"].startswith(f"admin_listen 0.0.0.0:{guard.admin_port}: the admin API")
    assert warning["detail"].endswith("keep the admin port off the public network")


def test_an_upstream_url_ending_in_v1_is_warned_of_at_start(tmp_path: Path) -> None:
    """From a probe: an upstream URL copied from an SDK's base_url (…/v1) sent every request to
    /v1/v1/chat/completions and the client got the upstream's bare 404, with nothing said; the
    start-up log names the doubled path."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9/v1"},
                                                 "local": {"url": "http://127.0.0.1:9/api"}}})
    guard.start()
    assert guard.stop() == 0
    [warning] = [json.loads(line) for line in guard.output().splitlines()
                 if '"upstream_path_doubled"' in line]
    assert warning["level"] == "warning"
    assert warning["detail"] == (
        "upstreams.default.url http://127.0.0.1:9/v1 ends in /v1: guard appends the request path, "
        "so /v1/chat/completions would go to http://127.0.0.1:9/v1/v1/chat/completions (a 404); "
        "drop the /v1 (url: http://127.0.0.1:9)")


def test_a_reload_signal_while_guard_starts_does_not_end_it(tmp_path: Path) -> None:
    """From a probe: SIGHUP (the reload signal) half a second after start killed guard, and,
    forwarded to a worker restarting under `--workers`, the whole group. (The signals are sent
    once the interpreter has run guard's first line, which ignores SIGHUP: before it, nothing a
    program does can keep the default action from ending it.)"""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}})
    guard.spawn()  # started, not yet ready
    try:
        assert guard.proc is not None
        deadline = time.monotonic() + 10
        while not _ignores_sighup(guard.pid):
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.005)
        for _ in range(5):
            time.sleep(0.05)
            guard.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while not (_listening(guard.admin_port)
                   and httpx.get(f"{guard.admin_url}/readyz", timeout=1).status_code == 200):
            assert guard.proc.poll() is None, guard.output()
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        assert guard.stop() == 0


def _ignores_sighup(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGHUP - 1) & 1)
    return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_workers_end_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    """From a probe: workers outlived a supervisor killed with SIGKILL and went on serving on the
    shared port beside the next group, under the old configuration."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                        "--workers", "2")
    guard.start()
    assert guard.proc is not None
    pids = {int(pid) for pid in re.findall(r'"pids":\s*\[([0-9, ]+)\]', guard.output())[0]
            .split(",")}
    supervisor = guard.proc.pid
    assert guard.stop(signal.SIGKILL) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "workers outlived their supervisor"
        time.sleep(0.1)
    assert not _listening(guard.port)
    # the killed group could not remove its directories (metrics, held switches); the next does
    left = _group_dirs(supervisor)
    assert len(left) == 2, left
    (tmp_path / "next").mkdir()
    following = GuardServer(tmp_path / "next", {"upstreams": {"default": {
        "url": "http://127.0.0.1:9"}}}, "--workers", "2")
    following.start()
    assert following.proc is not None
    its_own = following.proc.pid
    try:
        assert not any(path.exists() for path in left)
        assert len(_group_dirs(its_own)) == 2  # kept while it runs
    finally:
        assert following.stop() == 0
    assert not _group_dirs(its_own)


def _group_dirs(supervisor: int) -> list[Path]:
    """The directories a `--workers` group with this supervisor made (metrics, held switches)."""
    return [path for parent in (Path(tempfile.gettempdir()), group_dir_parent())
            for path in parent.glob(f"guard-*-{supervisor}-*")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for init is gone too
        return stat.read().split()[2] != "Z"


def test_a_replica_that_cannot_know_the_fleets_switches_is_not_ready(tmp_path: Path) -> None:
    """From a probe: a replica started during a Redis outage with no saved state (a new pod's
    empty state dir) served what the fleet had stopped and said it was ready. Until it reads
    the switches it is not ready; once Redis is back it is."""
    redis = RedisServer(tmp_path / "redis")  # not started yet: down
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}},
                                   "redis_url": redis.url,
                                   "killswitch": {"resync_interval_s": 0.5}})
    guard.spawn()  # not waiting for /readyz: it must say 503 first
    try:
        deadline = time.monotonic() + 30
        while not _listening(guard.admin_port):
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.1)
        time.sleep(0.5)
        answer = httpx.get(f"{guard.admin_url}/readyz")
        assert answer.status_code == 503 and "kill switch state unknown" in answer.text
        redis.start()
        while httpx.get(f"{guard.admin_url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.1)
    finally:
        guard.stop()
        redis.stop()


def test_a_second_signal_ends_what_is_in_flight_at_once(tmp_path: Path) -> None:
    """From a probe: Ctrl-C twice still waited out the whole grace (30 s by default). The
    second signal ends the streams in flight at once, cleanly, and guard exits 0."""
    mock, guard = serving(tmp_path, 30)
    worker, result = streaming(guard, 400, delay_ms=100)  # 20 s of stream
    time.sleep(0.5)
    assert guard.proc is not None
    guard.proc.send_signal(signal.SIGINT)
    time.sleep(REPEAT_S + 0.2)
    started = time.monotonic()
    guard.proc.send_signal(signal.SIGINT)
    code = guard.proc.wait(timeout=30)
    took = time.monotonic() - started
    worker.join(timeout=30)
    guard.stop()
    mock.stop()
    assert code == 0 and took < 5, took
    assert "server_shutting_down" in result["r"].text
    # from a probe: `guard_stopping` named neither the signal nor what was in flight, and the
    # cut was logged as `shutdown_grace_over` (grace_s 30) though the second signal cut it
    lines = _lines(guard)
    stopping = next(line for line in lines if line["event"] == "guard_stopping")
    assert (stopping["signal"], stopping["in_flight"]) == ("SIGINT", 1), stopping
    cuts = [line for line in lines if line["event"] == "shutdown_cut"]
    assert [(cut["reason"], cut["cut"]) for cut in cuts] == [("hurried", 1)], lines
    assert "shutdown_grace_over" not in guard.output()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_to_a_worker_group_lets_streams_finish(tmp_path: Path, sig: int) -> None:
    """From a probe: one SIGTERM (systemd's control-group stop) or Ctrl-C to the process group of
    `--workers 2` reached each worker twice (sender, then supervisor) and the repeat cut every
    stream in flight. A repeat within REPEAT_S is the same request: the stream finishes."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "shutdown_grace_s": 20}, "--workers", "2")
    start_together(mock, guard)
    pids = [int(pid) for pid in re.findall(r'"pids":\s*\[([0-9, ]+)\]', guard.output())[0]
            .split(",")]
    worker, result = streaming(guard, 60, delay_ms=100)  # 3 s of stream
    time.sleep(0.6)
    for pid in (guard.pid, *pids):  # as kill(-pgid) does: every process of the group
        os.kill(pid, sig)
    worker.join(timeout=30)
    assert guard.proc is not None
    code = guard.proc.wait(timeout=30)
    guard.stop()
    mock.stop()
    assert code == 0, guard.output()
    assert result["r"].text.endswith("data: [DONE]\n\n"), result["r"].text[-200:]
    assert "shutdown_hurried" not in guard.output(), guard.output()


def test_a_stop_while_a_worker_restarts_is_a_clean_exit(tmp_path: Path) -> None:
    """From a probe: SIGTERM reaching the group while the supervisor restarted a worker that had
    died (SIGKILL, the OOM killer) ended the new worker before its handler was in place, and the
    group exited 15 (systemd records a failed stop) instead of 0."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                        "--workers", "2")
    guard.start()
    try:
        pids = [int(pid) for pid in re.findall(r'"pids":\s*\[([0-9, ]+)\]', guard.output())[0]
                .split(",")]
        os.kill(pids[1], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while "worker_died" not in guard.output():
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.02)
        assert guard.proc is not None
        # forwarded to the worker still starting, or, arriving while it is started, sent to
        # it once it is (a group that never stopped: a worker started as the stop came in)
        guard.proc.send_signal(signal.SIGTERM)
        code = guard.proc.wait(timeout=30)
    finally:
        guard.stop()
    assert code == 0, guard.output()[-2000:]


def test_a_worker_dying_in_a_row_is_restarted_ever_later_while_the_group_serves(
        tmp_path: Path) -> None:
    """From probes: a worker killed (the OOM killer, say) within 5 s of its spawn stopped the
    whole ready group, exit 9; then QUICK_DEATHS such deaths in a row did, and a loop of deaths
    each after 5 s was restarted at once, forever. Once the group has served, a worker dying in
    a row is restarted after 1 s, 2 s, 4 s... while the other serves."""
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}}},
                        "--workers", "2")
    start_together(mock, guard)
    assert guard.proc is not None
    try:
        victim, other = _children(guard.pid)
        for death in range(1, QUICK_DEATHS + 1):
            os.kill(victim, signal.SIGKILL)  # each within STARTUP_S of its spawn
            if death < QUICK_DEATHS:
                victim = _respawned(guard, other, victim)
        while guard.output().count('"worker_restarting"') < QUICK_DEATHS:
            assert guard.proc.poll() is None, guard.output()[-2000:]
            time.sleep(0.05)
        assert httpx.post(f"{guard.url}/v1/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "x"}]}).status_code == 200
    finally:
        assert guard.stop() == 0, guard.output()[-2000:]
        mock.stop()
    delays = [line["restart_in_s"] for line in _lines(guard) if line["event"] ==
              "worker_restarting"]
    assert delays == [RESTART_S * 2 ** n for n in range(QUICK_DEATHS)], delays
    assert "workers_stopping" not in guard.output()


def test_a_worker_that_cannot_restart_leaves_the_group_serving(tmp_path: Path) -> None:
    """From a probe: a policy file saved invalid (a reload refuses it; the group serves the last
    good one), then one worker killed: its restart could not load the file, exited 2, and the
    supervisor stopped the healthy worker too (`workers_stopping reason=cannot_start`, port
    refused). Once a worker has served, one that cannot start is restarted with growing delays,
    each logged with its reason, until the file is mended."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(policies)}, "--workers", "2")
    start_together(mock, guard)
    assert guard.proc is not None
    good = (policies / "default.yaml").read_text()
    try:
        deadline = time.monotonic() + 30
        # /readyz answers once one worker serves: the victim must have served too
        while guard.output().count('"guard_started"') < 2:
            assert guard.proc.poll() is None and time.monotonic() < deadline, guard.output()
            time.sleep(0.05)
        victim, other = _children(guard.pid)
        (policies / "default.yaml").write_text(good + "\nrules: [not a rule\n")
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while '"worker_cannot_restart"' not in guard.output():
            assert guard.proc.poll() is None and time.monotonic() < deadline, guard.output()
            time.sleep(0.05)
        assert httpx.post(f"{guard.url}/v1/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "x"}]}).status_code == 200
        (policies / "default.yaml").write_text(good)
        while guard.output().count('"guard_started"') < 3:  # restarted once more: it serves
            assert guard.proc.poll() is None and time.monotonic() < deadline, guard.output()
            time.sleep(0.05)
        assert other in _children(guard.pid)
    finally:
        assert guard.stop() == 0, guard.output()[-2000:]
        mock.stop()
    refused = next(line for line in _lines(guard) if line["event"] == "worker_cannot_restart")
    assert "invalid policies" in refused["reason"] and "default.yaml" in refused["reason"]
    assert refused["restart_in_s"] == 2 * RESTART_S  # its second death in a row
    assert "workers_stopping" not in guard.output()


def _respawned(guard: GuardServer, other: int, killed: int) -> int:
    """The worker spawned again beside `other` in place of `killed`."""
    assert guard.proc is not None
    deadline = time.monotonic() + 15
    while killed in _children(guard.pid) or len(_children(guard.pid)) < 2:
        assert guard.proc.poll() is None and time.monotonic() < deadline, guard.output()
        time.sleep(0.01)
    return next(pid for pid in _children(guard.pid) if pid != other)


def _lines(guard: GuardServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in guard.output().splitlines() if line.startswith("{")]


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_while_guard_starts_is_a_clean_exit(tmp_path: Path, sig: int) -> None:
    """From a probe: SIGTERM in guard's first ~1.3 s (a pod deleted as it starts) ended it by
    the signal, exit status 143 (SIGINT: 130), though `serve --help` says a stop is exit 0.
    From its first line a stop signal ends it at once, exit 0, no traceback."""
    for delay in (0.1, 0.5, 1.0):
        (tmp_path / f"{delay}").mkdir()
        guard = GuardServer(tmp_path / f"{delay}", {
            "upstreams": {"default": {"url": "http://127.0.0.1:9"}}})
        guard.spawn()  # started, not yet ready
        assert guard.proc is not None
        deadline = time.monotonic() + 10
        while not _ignores_sighup(guard.pid):  # guard's first line has run
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.005)
        time.sleep(delay)
        guard.proc.send_signal(sig)
        code = guard.proc.wait(30)
        assert guard.stop() == code == 0, (delay, code, guard.output())
        assert "Traceback" not in guard.output()
        # from a probe: it ended without a line, so a pod stopped as it started left nothing.
        # The line is the one of the phase the signal found: starting, or already serving
        said = [line["signal"] for line in _lines(guard)
                if line["event"] in ("stopped_while_starting", "guard_stopping")]
        assert said == [signal.Signals(sig).name], guard.output()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_during_serve_check_is_no_verdict(tmp_path: Path, sig: int) -> None:
    """From a probe: `guard serve --check` stopped before it finished (a CI job cancelled or
    timed out) exited 0, which --check means 'valid', with nothing on stdout. It exits
    128 + the signal's number (143, 130), as a shell reports a process a signal ended, and
    still logs `stopped_while_starting`. A check that has given its verdict when the signal
    comes (a loaded machine may delay the signal that long) exits 0: it had printed a
    traceback of the start-up handler raising as the interpreter ended."""
    import subprocess
    import sys

    cut = []
    for delay in (0.0, 0.1, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "guard", "serve", "--check"], cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                 "GUARD_POLICIES": str(POLICIES)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not _ignores_sighup(proc.pid):  # guard's first line has run
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, (delay, err)
        stopped = [json.loads(line) for line in err.splitlines()
                   if '"stopped_while_starting"' in line]
        if "configuration valid" in out:  # the verdict came before the signal
            assert (proc.returncode, stopped) == (0, []), (delay, proc.returncode, out, err)
            continue
        cut.append(delay)
        assert proc.returncode == 128 + sig, (delay, proc.returncode, out, err)
        assert [(line["signal"], line["exit_status"]) for line in stopped] == [
            (signal.Signals(sig).name, 128 + sig)], err
    assert cut, "every check finished before its signal: none was cut short"


def test_a_stop_before_guard_listens_ends_it_unserved(tmp_path: Path) -> None:
    """A stop signal heard while policies and models load (the server's own handler is in
    place from `serve`'s first line) ends guard once they have, before it listens."""
    port = free_port()
    settings = Settings(listen=f"127.0.0.1:{port}", admin_listen=f"127.0.0.1:{free_port()}",
                        state_dir=tmp_path / "state", policies=POLICIES,
                        upstreams={"default": UpstreamSettings(url="http://127.0.0.1:9")})
    stop, served = asyncio.Event(), []

    async def ready(_: Components) -> None:
        served.append(_listening(port))

    stop.set()  # as the handler does for a signal that comes while guard loads
    with capture_logs() as lines:
        asyncio.run(serve(settings, on_ready=ready, stop=stop))
    assert served == [] and not _listening(port)
    # from a probe: `guard_stopped` came after it, and it lacked what the line of a stop before
    # logging is set up gives (RELIABILITY.md)
    last = lines[-1]
    assert (last["event"], last["exit_status"], last["pid"]) == (
        "stopped_while_starting", 0, os.getpid()), lines


@pytest.mark.parametrize("first, then, workers", [
    (signal.SIGTERM, signal.SIGTERM, 1), (signal.SIGINT, signal.SIGINT, 1),
    (signal.SIGTERM, signal.SIGHUP, 1), (signal.SIGTERM, signal.SIGHUP, 2),
], ids=["SIGTERM", "SIGINT", "SIGTERM-then-SIGHUP", "SIGTERM-then-SIGHUP-workers"])
def test_signals_sent_until_guard_exits_end_it_cleanly(
        tmp_path: Path, first: int, then: int, workers: int) -> None:
    """From probes: a stop signal repeated until guard is gone (a supervisor's loop, a key held
    down) ended it by the signal, exit status 143 (SIGINT: a KeyboardInterrupt traceback), when
    one came after guard had stopped serving and handed its handlers back; a reload signal
    repeated as it stopped ended it by SIGHUP (and a `--workers` group's worker with it). Once
    it has stopped serving, both are moot: exit 0."""
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                        *(["--workers", str(workers)] if workers > 1 else []))
    guard.start()
    assert guard.proc is not None
    os.kill(guard.pid, first)
    sent = 0
    while guard.proc.poll() is None:
        try:
            os.kill(guard.pid, then)
        except ProcessLookupError:
            break
        sent += 1
        time.sleep(0.005)
    assert (guard.stop(), "Traceback" in guard.output()) == (0, False), (sent, guard.output())
    assert sent > 1  # the stop took more than one signal's time: some came as guard ended
    assert '"codes"' not in guard.output()  # a worker group: each worker exited 0


SECRETS_POLICY = """name: default
version: "1"
classifiers:
  secrets: {type: secrets}
rules:
  - name: secrets
    when: {classifier: secrets}
    action: %s
"""


def test_an_admin_reload_reaches_every_worker_before_it_answers(tmp_path: Path) -> None:
    """From a probe: under `--workers 2`, POST /admin/policies/reload answered 200 "changed"
    after reloading the one worker that took it; 4 of the next 10 requests got the old decision
    for ~2 s (until the other's file watcher looked). It answers once every worker serving has
    reloaded, and says how many did."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(SECRETS_POLICY % "block")
    mock = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": str(policies)}, "--workers", "2",
                        env={"GUARD_ADMIN_TOKENS": "alice:tok-alice-123456"})
    start_together(mock, guard)
    try:
        assert guard.proc is not None
        group = next(path for path in _group_dirs(guard.proc.pid) if "held" in path.name)
        deadline = time.monotonic() + 20
        while len(list(group.glob("ready-*"))) < 2:  # both serve
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.05)
        fresh = policies / "default.yaml.new"
        fresh.write_text(SECRETS_POLICY % "flag")
        fresh.replace(policies / "default.yaml")
        answer = httpx.post(f"{guard.admin_url}/admin/policies/reload", timeout=10,
                            headers={"Authorization": "Bearer tok-alice-123456"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["changed"] and answer.json()["workers"] == {
            "reloaded": 2, "serving": 2}, answer.json()
        codes = []
        for _ in range(10):
            with httpx.Client() as client:  # a new connection each: either worker takes it
                codes.append(client.post(f"{guard.url}/v1/chat/completions", timeout=10, json={
                    "model": "m", "messages": [{"role": "user",
                                                "content": "key AKIAIOSFODNN7EXAMPLE"}]}
                ).status_code)
        assert codes == [200] * 10, codes
    finally:
        assert guard.stop() == 0
        mock.stop()
