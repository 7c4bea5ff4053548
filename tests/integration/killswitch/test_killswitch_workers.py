"""`guard serve --workers 3` with Redis: a breaker that trips while Redis is down stops the model
on every worker of the group, and the switch reaches Redis once, when it is back."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from tests.support import GuardServer, MockUpstream, RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

WORKERS = 3
TOKEN = "alice-workers-token-1"
POLICY = """\
name: default
version: "1"
classifiers:
  pii: {type: pii, entities: [email]}
rules:
  - name: pii-in-prompt
    stage: prompt
    when: {classifier: pii}
    action: flag
    severity: low
    category: pii
"""
BREAKER = {"name": "pii-burst", "label": "pii", "action": "flag", "threshold": 3,
           "window_s": 60, "scope": "model:{model}", "mode": "block", "duration_s": 600}


def ask(guard: GuardServer, content: str, client: httpx.Client | None = None) -> tuple[int, str]:
    """One chat request to model gpt-x, on `client`'s connection or on one of its own (so any
    worker may take it): its status and request id."""
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(httpx.Client(timeout=10))
        answer = client.post(f"{guard.url}/v1/chat/completions", json={
            "model": "gpt-x", "messages": [{"role": "user", "content": content}]})
    return answer.status_code, answer.headers.get("X-Request-Id", "")


def answers_per_worker(guard: GuardServer, asked: list[tuple[int, str]]
                       ) -> dict[int | None, Counter[int]]:
    """The statuses of `asked`, by the worker that answered each (from its `request` line; None
    where that line is not found: the workers' lines share one file, and may run together)."""
    worker = {}
    for line in guard.output().splitlines():
        with contextlib.suppress(ValueError):
            logged = json.loads(line)
            if logged.get("event") == "request":
                worker[logged.get("request_id")] = logged.get("worker")
    per: dict[int | None, Counter[int]] = {}
    for status, request_id in asked:
        per.setdefault(worker.get(request_id), Counter())[status] += 1
    return per


def until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_breaker_tripped_during_a_redis_outage_stops_every_worker(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """From a probe: with Redis down, the worker whose breaker tripped answered 503 while the
    two others served the model (13 and 11 x 200) until Redis came back. Now every worker of the
    group enforces the switch within a second; once Redis is back it is written there once, and
    a release lifts it on every worker (no worker writes it back)."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY)
    mock = MockUpstream(tmp_path)
    mock.start()
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                   "redis_url": redis_server.url, "policies": str(policies),
                                   "killswitch": {"breakers": [BREAKER]}},
                        "--workers", str(WORKERS), env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"})
    guard.start()
    try:
        until(lambda: guard.output().count('"guard_started"') == WORKERS, 30, "workers started")
        redis_server.stop()
        with httpx.Client(timeout=10) as one:  # one connection: one worker counts and trips
            for i in range(10 * BREAKER["threshold"]):
                if ask(guard, f"write to a{i}@example.com", one)[0] == 503:
                    break
            else:
                pytest.fail("the breaker never tripped")
        time.sleep(1.0)
        asked = [ask(guard, "hello") for _ in range(30)]
        per = answers_per_worker(guard, asked)
        assert {status for status, _ in asked} == {503}, per
        assert len(per.keys() - {None}) == WORKERS, per  # each worker was asked

        redis_server.start()
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        until(lambda: client.hlen("guard:killswitch:switches") > 0, 15, "switch written")
        time.sleep(1.0)  # every worker has read Redis again
        switches = client.hgetall("guard:killswitch:switches")
        assert {json.loads(s)["scope"] for s in switches.values()} == {"model:gpt-x"}
        assert not json.loads((tmp_path / "state" / "killswitch-held.json").read_text())["switches"]
        for switch_id in switches:
            released = httpx.delete(f"{guard.admin_url}/admin/killswitch/{switch_id}",
                                    headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert released.status_code == 200, released.text
        time.sleep(1.5)
        asked = [ask(guard, "hello") for _ in range(15)]
        assert {status for status, _ in asked} == {200}, answers_per_worker(guard, asked)
        assert client.hlen("guard:killswitch:switches") == 0
        client.close()
    finally:
        assert guard.stop() == 0
        mock.stop()
