"""Journal retention on real files: whole files deleted past `journal_keep_days` or beyond
`journal_keep_bytes`, never one a running process writes to, each deletion logged and counted
once however many processes prune."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import structlog
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from guard.incidents.retention import DAY_S, JournalPruner
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import JournalSink
from guard.observability.metrics import Metrics

NOW = time.time()


def dead_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def journal_file(directory: Path, pid: int, age_days: float, size: int = 100,
                 created_ns: int | None = None) -> Path:
    """A journal file of `pid` last written `age_days` ago, holding `size` bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    created_ns = created_ns or time.time_ns() - int(age_days * DAY_S * 1e9)
    path = directory / f"{created_ns:020d}-{pid}.jsonl"
    path.write_bytes(b"x" * size)
    written = NOW - age_days * DAY_S
    os.utime(path, (written, written))
    return path


def pruner(directory: Path, *, keep_days: float | None = None, keep_bytes: int | None = None,
           metrics: Metrics | None = None) -> JournalPruner:
    return JournalPruner(directory, keep_days, keep_bytes,
                         metrics or Metrics(CollectorRegistry()), clock=lambda: NOW)


def pruned(metrics: Metrics, reason: str) -> float | None:
    return metrics.registry.get_sample_value("guard_incident_journal_pruned_total",
                                             {"reason": reason})


def test_files_past_keep_days_are_deleted_whole_but_a_live_pids_newest_is_kept(
        tmp_path: Path) -> None:
    """Past 30 days: a dead process's files go (its newest too) and this process's older file,
    each logged with file, bytes and age; this process's newest file stays however old (it
    writes to it until it reaches rotate_bytes), and so does a file written 29 days ago."""
    gone, me = dead_pid(), os.getpid()
    old = [journal_file(tmp_path, gone, 40, 10), journal_file(tmp_path, gone, 35, 20),
           journal_file(tmp_path, me, 45, 30)]
    mine = journal_file(tmp_path, me, 31, 40)
    recent = journal_file(tmp_path, gone + 1_000_000, 29)
    metrics = Metrics(CollectorRegistry())
    with structlog.testing.capture_logs() as logs:
        deleted = pruner(tmp_path, keep_days=30, metrics=metrics).prune()
    assert sorted(deleted) == sorted(old)
    assert sorted(tmp_path.iterdir()) == sorted([mine, recent])
    said = [e for e in logs if e["event"] == "incident_journal_pruned"]
    assert [(e["file"], e["bytes"], e["reason"]) for e in said] == [
        (str(old[2]), 30, "keep_days"), (str(old[0]), 10, "keep_days"),
        (str(old[1]), 20, "keep_days")]
    assert [round(e["age_s"] / DAY_S) for e in said] == [45, 40, 35]
    assert pruned(metrics, "keep_days") == 3 and pruned(metrics, "keep_bytes") == 0


def test_keep_bytes_deletes_the_least_recently_written_files_first(tmp_path: Path) -> None:
    """Five files of 100 kB against a 250 kB limit: the three written longest ago go, whatever
    their names say, and the two written last stay."""
    gone = dead_pid()
    files = [journal_file(tmp_path, gone, age, 100_000, created_ns=i + 1)
             for i, age in enumerate((1, 5, 4, 3, 2))]
    metrics = Metrics(CollectorRegistry())
    deleted = pruner(tmp_path, keep_bytes=250_000, metrics=metrics).prune()
    assert deleted == [files[1], files[2], files[3]]
    assert sorted(tmp_path.iterdir()) == [files[0], files[4]]
    assert pruned(metrics, "keep_bytes") == 3


def test_a_file_its_writer_holds_is_never_deleted(tmp_path: Path) -> None:
    """A journal file under its writer's lock stays, whatever its name and age say (a writer
    of another pid namespace reusing a dead pid's number), while its older files go; a
    JournalSink locks the file it writes."""
    gone = dead_pid()
    older = journal_file(tmp_path, gone, 50)
    held = journal_file(tmp_path, gone, 40)
    newest = journal_file(tmp_path, gone, 39)
    with held.open("ab") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        assert pruner(tmp_path, keep_days=1).prune() == [older, newest]
    assert list(tmp_path.iterdir()) == [held]

    sink = JournalSink(tmp_path / "sink", rotate_bytes=4096)
    try:
        sink.write_now([b"{}"])
        assert sink._file is not None
        with open(sink._file.name, "rb") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        sink.close_now()


def test_pruners_running_at_once_delete_each_file_once(tmp_path: Path) -> None:
    """Four pruners (the workers of `guard serve --workers 4`) on one directory of 300 old
    files: every file is deleted, by exactly one of them, and none fails on a file another
    deleted first."""
    gone = dead_pid()
    files = {journal_file(tmp_path, gone, 40, created_ns=i + 1) for i in range(300)}
    metrics = Metrics(CollectorRegistry())
    results: list[list[Path]] = []
    start = threading.Barrier(4)

    def prune() -> None:
        start.wait()
        results.append(pruner(tmp_path, keep_days=30, metrics=metrics).prune())

    threads = [threading.Thread(target=prune) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4  # none raised
    assert sorted(p for r in results for p in r) == sorted(files)
    assert list(tmp_path.iterdir()) == []
    assert pruned(metrics, "keep_days") == 300


def test_retention_is_off_unless_set_and_checked() -> None:
    """Both limits are unset by default (every file kept); a limit of 0 days or under 1 MiB
    is refused."""
    settings = IncidentSettings()
    assert settings.journal_keep_days is None and settings.journal_keep_bytes is None
    for bad in ({"journal_keep_days": 0}, {"journal_keep_bytes": 1000}):
        with pytest.raises(ValidationError):
            IncidentSettings(**bad)  # type: ignore[arg-type]
