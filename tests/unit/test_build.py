"""Which build runs: a rollout of code under an unchanged version must be told apart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry

from guard.build import PACKAGE, running_source, source_digest
from guard.observability.metrics import Metrics


def test_a_change_to_any_source_file_changes_the_digest(tmp_path: Path) -> None:
    """From a probe: yesterday's release and today's code both said `guard 0.1.0` in
    `guard --version` and `guard_build_info`, and the dashboard's versions panel showed one
    version for a fleet running two."""
    copy = tmp_path / "guard"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "models"))
    before = source_digest(copy)
    assert source_digest(copy) == before  # the same source, the same digest
    proxy = copy / "proxy" / "handler.py"
    proxy.write_text(proxy.read_text() + "\n# a comment\n")
    assert source_digest(copy) != before


def test_the_digest_is_in_the_version_and_the_build_info() -> None:
    shown = subprocess.run([sys.executable, "-m", "guard", "--version"], capture_output=True,
                           text=True, check=True, cwd=PACKAGE.parent).stdout
    assert f"(source {running_source()})" in shown and len(running_source()) == 12
    registry = CollectorRegistry()
    Metrics(registry)
    [sample] = next(s for s in registry.collect() if s.name == "guard_build_info").samples
    assert sample.labels["source"] == running_source()
