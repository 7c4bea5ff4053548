"""End to end: a real Prometheus counts a series' first events. A series that first appears at 12
is no increase to Prometheus: a probe saw `increase()` of the 5xx requests of 12 kill switch
refusals read 0.0-1.1, and one secret blocked in a pod's lifetime read 0 on the panels."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_prometheus_dashboard import Prometheus, scraped
from tests.support import GuardServer, MockUpstream

MODEL = "first-model"  # a model no request named before: its series are new
REQUESTS = 8
POLICY = {"name": "default", "version": "1", "classifiers": {"secrets": {"type": "secrets"}},
          "rules": [{"name": "secrets", "stage": "prompt", "when": {"classifier": "secrets"},
                     "action": "block"}]}


def chat(guard: GuardServer) -> int:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    request = urllib.request.Request(f"{guard.url}/v1/chat/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def value(prometheus: Prometheus, expr: str) -> float:
    result = prometheus.query(expr)
    return float(result[0]["value"][1]) if result else 0.0


@pytest.mark.parametrize("workers", [1, 2])
def test_first_counts_of_a_new_label_set_are_an_increase(tmp_path: Path, workers: int) -> None:
    """Requests naming a model never seen, all within one batch of guard's metric updates, are
    counted whole by Prometheus' `increase()` (requests and decisions), alone or with workers."""
    upstream = MockUpstream(tmp_path)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(yaml.safe_dump(POLICY))
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": upstream.url}},
                                   "policies": str(policies)},
                        *(["--workers", str(workers)] if workers > 1 else []))
    with scraped(tmp_path, upstream, guard) as prometheus:
        deadline = time.monotonic() + 30  # until Prometheus has read the idle guard a few times
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # 503 while Prometheus starts
                if value(prometheus, "count_over_time(up[1m])") >= 3:
                    break
            time.sleep(0.5)
        assert [chat(guard) for _ in range(REQUESTS)] == [200] * REQUESTS
        counted = {
            "requests": f'sum(guard_requests_total{{model="{MODEL}"}})',
            "decisions": f'sum(guard_decisions_total{{model="{MODEL}"}})',
        }
        deadline = time.monotonic() + 30  # until Prometheus holds the counts
        while time.monotonic() < deadline and any(
                value(prometheus, expr) < REQUESTS for expr in counted.values()):
            time.sleep(0.5)
        increases = {name: value(prometheus, f"sum(increase({expr[4:-1]}[1m]))")
                     for name, expr in counted.items()}
    # increase() only extrapolates beyond the samples: never below what they rose by
    assert min(increases.values()) >= REQUESTS - 1e-9, increases
