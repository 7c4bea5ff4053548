"""The recorder: never blocks, fans out to every sink, spools a failing sink and replays it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import resource
import signal
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog
from prometheus_client import CollectorRegistry

from guard.errors import StartupError
from guard.incidents import recorder as recorder_module
from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import JournalSink
from guard.observability.metrics import Metrics
from guard.types import Mode
from tests.unit.incidents.helpers import allow, context, decision, prompt

FAST = IncidentSettings(fsync_interval_ms=10, retry_interval_ms=10, retry_max_ms=20)


class SwitchableSink:
    """A sink kept in memory that can be made to fail, like a remote service going away."""

    name = "switchable"

    def __init__(self) -> None:
        self.up = True
        self.received: list[bytes] = []

    async def write(self, lines: Sequence[bytes]) -> None:
        if not self.up:
            raise ConnectionError("sink is down")
        self.received += lines

    async def sync(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def ids_in(lines: Sequence[bytes]) -> list[str]:
    return [orjson.loads(line)["id"] for line in lines]


def in_journal(state_dir: Path, fd: int) -> bool:
    """Whether `fd` is the journal directory or a file in it (not the incident hash key's, which
    the recorder writes once as it is made)."""
    return Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(journal_dir(state_dir))


def journal_ids(state_dir: Path) -> list[str]:
    """The ids in the journal, in file order; a torn last line (a full disk) is skipped."""
    ids: list[str] = []
    for path in sorted(journal_dir(state_dir).glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                ids.append(orjson.loads(line)["id"])
    return ids


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_allow_records_nothing(tmp_path: Path) -> None:
    """A plain allow (no matches) is not an incident."""
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    assert recorder.record_decision(context(), allow(), prompt("hello")) is None


async def test_block_and_shadow_reach_journal_and_metrics(tmp_path: Path) -> None:
    """Enforced and shadow matches are journalled, counted by category/severity/action/mode."""
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(FAST, tmp_path, None, metrics)
    await recorder.start()
    first = recorder.record_decision(context(), decision(), prompt("secret text"))
    second = recorder.record_decision(context(), decision(mode=Mode.SHADOW), prompt("other"))
    third = recorder.record_event("killswitch", {"action": "engage", "actor": "alice"})
    await recorder.aclose()
    assert journal_ids(tmp_path) == [first, second, third]
    labels = {"category": "secrets", "severity": "critical", "action": "block"}
    assert sample(metrics, "guard_incidents_total", **labels, mode="enforce") == 1
    assert sample(metrics, "guard_incidents_total", **labels, mode="shadow") == 1
    assert sample(metrics, "guard_incident_dropped_total") == 0
    assert sample(metrics, "guard_incident_queue_depth") == 0


async def test_an_excerpt_that_cannot_be_built_leaves_the_incident_without_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An excerpt is a convenience: if building it raises (a bug in the scrub, a text it
    chokes on), the incident is still recorded, without an excerpt, and nothing is dropped."""
    def broken(*_: Any) -> str:
        raise RuntimeError("scrub failed")

    monkeypatch.setattr(recorder_module, "build_excerpt", broken)
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(IncidentSettings(excerpts=True, fsync_interval_ms=10), tmp_path,
                                None, metrics)
    await recorder.start()
    recorded = recorder.record_decision(context(), decision(), prompt("secret text"))
    await recorder.aclose()
    [line] = [orjson.loads(line) for path in journal_dir(tmp_path).glob("*.jsonl")
              for line in path.read_bytes().splitlines()]
    assert (line["id"], line["excerpt"]) == (recorded, None)
    assert sample(metrics, "guard_incident_dropped_total") == 0


async def test_recording_returns_before_any_write(tmp_path: Path) -> None:
    """record_decision only queues: the incident is written by the writer task, later."""
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.record_decision(context(), decision(), prompt("t"))
    assert journal_ids(tmp_path) == []
    await recorder.aclose()
    assert len(journal_ids(tmp_path)) == 1


async def test_failing_sink_is_spooled_and_replayed_in_order(tmp_path: Path) -> None:
    """While a sink is down its incidents are spooled; when it returns they arrive in order."""
    metrics = Metrics(CollectorRegistry())
    sink = SwitchableSink()
    journal = JournalSink(journal_dir(tmp_path), FAST.rotate_bytes)
    recorder = IncidentRecorder(FAST, tmp_path, None, metrics, sinks=[sink, journal])
    await recorder.start()
    ids = [recorder.record_decision(context(f"a{i}"), decision(), prompt("t")) for i in range(50)]
    await recorder.flush()
    sink.up = False
    ids += [recorder.record_decision(context(f"b{i}"), decision(), prompt("t")) for i in range(200)]
    await recorder.flush()
    assert len(sink.received) == 50
    assert sample(metrics, "guard_incident_spooled_total", sink="switchable") == 200
    sink.up = True
    ids += [recorder.record_decision(context(f"c{i}"), decision(), prompt("t")) for i in range(50)]
    await recorder.aclose()
    assert ids_in(sink.received) == ids
    assert journal_ids(tmp_path) == ids
    assert sample(metrics, "guard_incident_dropped_total") == 0


async def test_shutdown_spools_what_a_down_sink_did_not_take(tmp_path: Path) -> None:
    """Draining with a sink still down leaves its incidents in the spool for the next start."""
    sink = SwitchableSink()
    sink.up = False
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()), sinks=[sink])
    await recorder.start()
    ids = [recorder.record_decision(context(), decision(), prompt("t")) for _ in range(30)]
    await recorder.aclose()
    assert sink.received == []
    sink.up = True
    again = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()), sinks=[sink])
    await again.start()
    await again.aclose()
    assert ids_in(sink.received) == ids


async def test_journal_rotates_by_size(tmp_path: Path) -> None:
    """Past rotate_bytes the journal continues in a new file; nothing is lost across files."""
    settings = IncidentSettings(fsync_interval_ms=10, rotate_bytes=4096, batch_size=5)
    recorder = IncidentRecorder(settings, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    ids = []
    for i in range(60):
        ids.append(recorder.record_decision(context(str(i)), decision(), prompt("t")))
        await recorder.flush()
    await recorder.aclose()
    assert len(list(journal_dir(tmp_path).glob("*.jsonl"))) > 1
    assert journal_ids(tmp_path) == ids


class Undescribable(Exception):
    """An error whose message cannot be made."""

    def __str__(self) -> str:
        raise RuntimeError("no message")


class OnceBrokenSink(SwitchableSink):
    """A sink whose first write fails with an error the recorder cannot describe, so that its
    writer raises (a bug), as it did when the warning it logs could not be written."""

    name = "broken"

    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    async def write(self, lines: Sequence[bytes]) -> None:
        if self.broken:
            self.broken = False
            raise Undescribable
        await super().write(lines)


async def test_a_writer_that_raises_is_restarted_and_its_batch_counted(tmp_path: Path) -> None:
    """From a probe: the log sink's writer raised (its `incident_sink_down` warning could not
    be written to a full log volume) and was gone for good: its queue stuck, 5 of 7 incidents
    never written, none counted. A writer that raises is restarted; the batch it held is
    counted as dropped, and the incidents after it reach the sink."""
    metrics = Metrics(CollectorRegistry())
    sink = OnceBrokenSink()
    recorder = IncidentRecorder(FAST, tmp_path, None, metrics, sinks=[sink])
    await recorder.start()
    for _ in range(5):
        recorder.record_decision(context(), decision(), prompt("t"))
    async with asyncio.timeout(5):
        while sample(metrics, "guard_incident_dropped_total") < 5:
            await asyncio.sleep(0.01)
    kept = [recorder.record_decision(context(), decision(), prompt("t")) for _ in range(5)]
    await recorder.flush(timeout_s=5)
    async with asyncio.timeout(5):
        while len(sink.received) < 5:
            await asyncio.sleep(0.01)
    await recorder.aclose()
    assert ids_in(sink.received) == kept
    assert sample(metrics, "guard_incident_dropped_total") == 5
    assert sample(metrics, "guard_incident_queue_depth") == 0


async def test_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    """Beyond queue_size (writer not running) recording drops, counts it, and still returns."""
    metrics = Metrics(CollectorRegistry())
    settings = IncidentSettings(queue_size=100, log=False)
    recorder = IncidentRecorder(settings, tmp_path, None, metrics)
    for _ in range(150):
        assert recorder.record_decision(context(), decision(), prompt("t")) is not None
    assert sample(metrics, "guard_incident_dropped_total") == 50
    assert sample(metrics, "guard_incident_queue_depth") == 100


async def test_journal_writes_do_not_queue_behind_a_busy_default_executor(tmp_path: Path) -> None:
    """Classifiers score in the default executor; a burst of them must not hold incidents in
    memory, where a SIGKILL would lose them: the journal writes in a thread of its own."""
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    loop = asyncio.get_running_loop()
    release = threading.Event()
    busy = [loop.run_in_executor(None, release.wait) for _ in range(64)]
    try:
        incident_id = recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        deadline = time.monotonic() + 2.0
        while incident_id not in journal_ids(tmp_path) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert incident_id in journal_ids(tmp_path)
    finally:
        release.set()
        await asyncio.gather(*busy)
        await recorder.aclose()


async def test_journal_writes_go_on_while_a_slow_disk_syncs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An fsync that takes seconds (a loaded disk) must not hold the next incidents in memory,
    where a SIGKILL would lose them: the journal writes while it syncs."""
    from guard.incidents import sinks

    release, syncing = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode) and in_journal(tmp_path, fd):  # not its directory's
            syncing.set()
            release.wait(5)
        real_fsync(fd)

    monkeypatch.setattr(sinks.os, "fsync", slow_fsync)
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    try:
        first = recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        deadline = time.monotonic() + 2.0
        while not syncing.is_set() and time.monotonic() < deadline:  # the first one's fsync
            await asyncio.sleep(0.01)
        second = recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        deadline = time.monotonic() + 2.0
        while second not in journal_ids(tmp_path) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert {first, second} <= set(journal_ids(tmp_path))
        assert not release.is_set()  # still syncing
    finally:
        release.set()
        await recorder.aclose()


@pytest.mark.parametrize("rotate_bytes", [64 << 20, 4096], ids=["first-file", "rotated"])
async def test_a_new_journal_file_is_written_while_the_disk_syncs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rotate_bytes: int) -> None:
    """A new file (after a restart, or a rotation) is written at once: the directory's fsync,
    and the old file's last one, happen in the sync thread, not before the first write."""
    from guard.incidents import sinks

    release, syncing = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:  # every fsync of the journal, its directory's included
        if in_journal(tmp_path, fd):
            syncing.set()
            release.wait(5)
        real_fsync(fd)

    monkeypatch.setattr(sinks.os, "fsync", slow_fsync)
    settings = IncidentSettings(fsync_interval_ms=10_000, rotate_bytes=rotate_bytes, batch_size=1)
    recorder = IncidentRecorder(settings, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    try:
        ids = []
        deadline = time.monotonic() + 2.0
        while len(ids) < 8 and time.monotonic() < deadline:  # past a rotation at 4 KB
            ids.append(recorder.record_decision(context(), decision(), prompt("key AKIA..." * 40)))
            await asyncio.sleep(0.05)
        while not set(ids) <= set(journal_ids(tmp_path)) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert set(ids) <= set(journal_ids(tmp_path))
        assert syncing.is_set() and not release.is_set()  # written while a sync waits
    finally:
        release.set()
        await recorder.aclose()


class DiskFull:
    """The journal's and the spools' writes failing as on a full disk, while `full` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from guard.incidents import sinks, spool

        self.full = True
        self.tries = 0
        real_write, real_append = sinks.JournalSink.write_now, spool.Spool.append

        def write_now(sink: JournalSink, lines: Sequence[bytes]) -> None:
            if self.full:
                raise OSError(28, "No space left on device")
            real_write(sink, lines)

        def append(store: spool.Spool, lines: Sequence[bytes]) -> int:
            self.tries += 1
            if self.full:
                raise OSError(28, "No space left on device")
            return real_append(store, lines)

        monkeypatch.setattr(sinks.JournalSink, "write_now", write_now)
        monkeypatch.setattr(spool.Spool, "append", append)


async def test_a_full_disk_keeps_incidents_in_memory_until_it_has_room(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a probe: with the journal and its spool on a full disk, the writer task died, 359 of
    450 incidents were lost and none was counted. Now they wait in memory, are written in order
    once there is room, and only what is still held at shutdown is lost, counted (by the next
    process to start on the state_dir: see test_lost_at_shutdown.py)."""
    disk = DiskFull(monkeypatch)
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(FAST, tmp_path, None, metrics)
    await recorder.start()
    ids = []
    with structlog.testing.capture_logs() as logs:
        for i in range(50):  # each new incident wakes the writer: it waits for its retry anyway
            ids.append(recorder.record_decision(context(f"r{i}"), decision(), prompt("t")))
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.1)  # several retries
    # from a probe: it was logged at every retry, not once as the docs say
    assert [e["event"] for e in logs].count("incident_spool_unwritable") == 1
    assert journal_ids(tmp_path) == [] and sample(metrics, "guard_incident_queue_depth") == 50
    assert disk.tries < 25, disk.tries  # retried at its backoff (10-20 ms), not 50 times
    disk.full = False
    ids += [recorder.record_decision(context("after"), decision(), prompt("t"))]
    deadline = time.monotonic() + 3.0  # spooled, then replayed into the journal at a retry
    while journal_ids(tmp_path) != ids and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert journal_ids(tmp_path) == ids
    disk.full = True
    lost = [recorder.record_decision(context(f"l{i}"), decision(), prompt("t")) for i in range(7)]
    await recorder.aclose()
    assert not set(lost) & set(journal_ids(tmp_path))
    assert sample(metrics, "guard_incident_dropped_total") == 0
    disk.full = False
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(FAST, tmp_path, None, metrics)
    await recorder.start()
    assert sample(metrics, "guard_incident_dropped_total") == 7
    await recorder.aclose()


async def test_a_spool_that_cannot_be_opened_is_a_startup_error(tmp_path: Path) -> None:
    """From a probe: a spool directory guard cannot make (a file in its place, a directory left
    owned by root) ended start-up with a traceback; it is a StartupError naming it."""
    spool = tmp_path / "incidents" / "spool" / "switchable"
    spool.parent.mkdir(parents=True)
    spool.write_text("")
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()),
                                sinks=[SwitchableSink()])
    with pytest.raises(StartupError, match=f"^state_dir {tmp_path}: cannot use {spool}: File exists$"):
        await recorder.start()
    await recorder.aclose()


async def test_a_journal_write_cut_short_goes_on_in_a_new_file(tmp_path: Path) -> None:
    """A write the disk cut short leaves part of a line; a buffered file would write it again
    and the next line would run into it. The next write starts a new file instead."""
    journal = JournalSink(tmp_path, 1 << 20)
    journal.write_now([b'{"id": "first"}'])
    assert journal._file is not None
    real = journal._file

    class CutShort:
        def write(self, data: bytes) -> int:
            real.write(data[:5])
            real.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    journal._file = CutShort()  # type: ignore[assignment]
    with pytest.raises(OSError):
        journal.write_now([b'{"id": "second"}'])
    journal.write_now([b'{"id": "second"}'])
    await journal.aclose()
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 2
    assert files[0].read_bytes() == b'{"id": "first"}\n{"id"'  # a torn last line, skipped
    assert files[1].read_bytes() == b'{"id": "second"}\n'


@contextlib.contextmanager
def files_limited_to(size: int) -> Iterator[None]:
    """Every file this process writes stops at `size` bytes, as on a disk filling up: the
    kernel takes part of a write that crosses it, then refuses (EFBIG) the next one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


async def test_lines_a_short_write_took_are_not_written_again(tmp_path: Path) -> None:
    """From a probe: on a disk filling up mid-batch the journal took whole lines and a torn one,
    then failed; the whole batch was spooled and written again (245 incidents, 254 journal
    lines, 9 ids twice). Writes the kernel cuts short now go on after the lines they took: each
    incident is in the journal once, in order."""
    settings = IncidentSettings(fsync_interval_ms=10, retry_interval_ms=10, retry_max_ms=20,
                                batch_size=50, log=False)
    metrics = Metrics(CollectorRegistry())
    recorder = IncidentRecorder(settings, tmp_path, None, metrics)
    await recorder.start()
    ids = []
    with files_limited_to(64_000):  # about 90 incidents a file
        for burst in range(8):
            ids += [recorder.record_decision(context(f"b{burst}-{i}"), decision(), prompt("t"))
                    for i in range(60)]
            await asyncio.sleep(0.02)
        deadline = time.monotonic() + 5.0
        while len(journal_ids(tmp_path)) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    await recorder.aclose()
    assert len(list(journal_dir(tmp_path).glob("*.jsonl"))) > 4  # writes were cut short
    assert journal_ids(tmp_path) == ids
    assert sample(metrics, "guard_incident_dropped_total") == 0


@contextlib.contextmanager
def stalled_journal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event,
                                                                       threading.Event]]:
    """Journal writes that wait (a disk stalled under load) until `release` is set; `writing` is
    set once one has begun."""
    from guard.incidents import sinks

    writing, release = threading.Event(), threading.Event()
    real = sinks.write_lines

    def slow(file: Any, lines: Sequence[bytes]) -> int:
        writing.set()
        release.wait(10)
        return real(file, lines)

    monkeypatch.setattr(sinks, "write_lines", slow)
    try:
        yield writing, release
    finally:
        release.set()


async def test_an_answer_waits_until_its_incident_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`settled()`, which guard awaits before an answer goes out, returns only once the journal
    holds what the calling task recorded: a SIGKILL after the client saw the answer cannot lose
    it, however far the writer lags. A task that recorded nothing does not wait."""
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    with stalled_journal(monkeypatch) as (writing, release):
        incident_id = recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        answer = asyncio.create_task(recorder.settled())
        other = asyncio.create_task(recorder.settled(), context=contextvars.Context())
        await asyncio.wait_for(asyncio.to_thread(writing.wait, 5), 6)
        await asyncio.wait_for(other, 0.5)  # it recorded nothing
        await asyncio.sleep(0.3)
        assert not answer.done() and incident_id not in journal_ids(tmp_path)
        release.set()
        await asyncio.wait_for(answer, 5)
        assert incident_id in journal_ids(tmp_path)
    await recorder.aclose()


async def test_an_answer_waits_at_most_answer_wait_ms(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that stays stalled holds an answer `answer_wait_ms` at most, and says so; 0 does
    not wait at all. The incident is still written once the disk moves."""
    settings = FAST.model_copy(update={"answer_wait_ms": 150})
    recorder = IncidentRecorder(settings, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    with stalled_journal(monkeypatch) as (_, release), \
            structlog.testing.capture_logs() as logs:
        incident_id = recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        started = time.monotonic()
        await asyncio.wait_for(recorder.settled(), 5)
        assert 0.14 <= time.monotonic() - started < 2
        assert [e["sink"] for e in logs if e["event"] == "incident_answered_before_written"] \
            == ["journal"]
        recorder.settings = FAST.model_copy(update={"answer_wait_ms": 0})
        recorder.record_decision(context(), decision(), prompt("key AKIA..."))
        started = time.monotonic()
        await recorder.settled()
        assert time.monotonic() - started < 0.05
        release.set()
        await recorder.flush()
        assert incident_id in journal_ids(tmp_path)
    await recorder.aclose()


async def test_answers_do_not_wait_on_a_full_disk(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the journal and its spool are known to refuse writes (a full disk), an answer does
    not wait `answer_wait_ms` for its incident, which stays in memory until there is room: every
    block would otherwise take a second longer for as long as the disk is full."""
    disk = DiskFull(monkeypatch)
    recorder = IncidentRecorder(FAST, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.record_decision(context("first"), decision(), prompt("t"))
    await asyncio.sleep(0.05)  # the writer has met the full disk
    incident_id = recorder.record_decision(context("second"), decision(), prompt("t"))
    started = time.monotonic()
    await recorder.settled()
    assert time.monotonic() - started < 0.05
    disk.full = False
    deadline = time.monotonic() + 3.0
    while incident_id not in journal_ids(tmp_path) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert incident_id in journal_ids(tmp_path)
    await recorder.aclose()
