"""The short data-plane fuzz run (bench/fuzz_data_plane.py holds the long one, `make fuzz`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fuzz_data_plane import run_fuzz

pytestmark = pytest.mark.timeout(120)


def test_fuzzed_requests_through_guard(tmp_path: Path) -> None:
    """2,000 random and mutated requests (bodies, headers, methods, misbehaving upstream) through
    `guard serve` with the repository's policies: no crash, no traceback or error line in the log,
    every request answered, and no 5xx that the upstream did not cause."""
    report = run_fuzz(2000, seed=20251123, workdir=tmp_path)
    assert report.inputs == 2000
    assert not report.crashed
    assert report.guard_5xx == []
    assert report.unanswered == []
    assert report.log_problems == []
    assert report.statuses[200] > 300  # the fuzz reaches the model, not only the parser
    assert sum(report.upstream_5xx.values()) > 0  # and the hostile upstream was exercised
