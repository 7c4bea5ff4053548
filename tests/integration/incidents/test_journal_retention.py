"""`incidents.journal_keep_days` through `guard serve --workers 2`: both workers prune the one
journal directory as they start, each old file is deleted once, and /metrics counts it."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from guard.incidents.retention import DAY_S
from tests.support import GuardServer

pytestmark = pytest.mark.timeout(90)


def test_workers_prune_old_journal_files_once_each(tmp_path: Path) -> None:
    """Twenty files last written 40 days ago go, each logged once (`incident_journal_pruned`)
    and counted once on the merged /metrics; a file written yesterday stays."""
    journal = tmp_path / "state" / "incidents" / "journal"
    journal.mkdir(parents=True)
    old = [journal / f"{i + 1:020d}-999999999.jsonl" for i in range(20)]
    recent = journal / f"{time.time_ns():020d}-999999999.jsonl"
    for path, age_days in [*((p, 40) for p in old), (recent, 1)]:
        path.write_bytes(b'{"id": "x", "time": 0}\n')
        written = time.time() - age_days * DAY_S
        os.utime(path, (written, written))
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}},
                                   "incidents": {"journal_keep_days": 30}}, "--workers", "2")
    guard.start()
    try:
        deadline = time.monotonic() + 10
        while any(p.exists() for p in old) or guard.metric(
                "guard_incident_journal_pruned_total", reason="keep_days") < len(old):
            assert time.monotonic() < deadline, guard.output()
            time.sleep(0.1)
        assert recent.exists()
        said = re.findall(r'"file": ?"([^"]+)"[^\n]*incident_journal_pruned|'
                          r'incident_journal_pruned[^\n]*"file": ?"([^"]+)"', guard.output())
        assert sorted(a or b for a, b in said) == sorted(map(str, old))
        assert guard.metric("guard_incident_journal_pruned_total", reason="keep_days") == 20
        assert "Traceback" not in guard.output()
    finally:
        assert guard.stop() == 0
