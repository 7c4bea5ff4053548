"""A restarted guard is fully armed when it says it is ready: no classifier times out (and, failing
open, lets requests through unchecked) while its model loads on the first requests."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from bench.traffic import KINDS, POLICY, build_request
from tests.support import GuardServer, MockUpstream, start_together

pytestmark = pytest.mark.timeout(60)


def test_first_requests_after_start_run_every_classifier_in_time(tmp_path: Path) -> None:
    """Right after /readyz, one request of each kind: 0 classifier timeouts, 0 fail-opens."""
    upstream = MockUpstream(tmp_path)
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": upstream.url}},
                                   "policies": str(POLICY)})
    start_together(upstream, guard)
    try:
        with httpx.Client(base_url=guard.url, timeout=30) as client:
            for n, kind in enumerate(KINDS):
                body, headers = build_request(kind, n)
                client.post("/v1/chat/completions", json=body, headers=headers)
        metrics = guard.metrics()
    finally:
        guard.stop()
        upstream.stop()
    failures = re.findall(r"^guard_classifier_(?:errors|fail_open)_total\{.*\} ([0-9.e+]+)$",
                          metrics, flags=re.M)
    assert sum(float(v) for v in failures) == 0, [
        line for line in metrics.splitlines() if line.startswith("guard_classifier_")
        and ("errors" in line or "fail_open" in line)]
