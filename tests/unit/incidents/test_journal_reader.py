"""Reading the journal: the same answers as reading every incident, holding `limit` at a time,
and pages that go on where the last one ended, each incident once."""

from __future__ import annotations

import asyncio
import os
import random
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from guard.incidents import model
from guard.incidents.query import Page, Query
from guard.incidents.reader import JournalReader
from guard.incidents.recorder import journal_dir
from guard.incidents.sinks import JournalSink
from guard.types import Action, Mode
from tests.unit.incidents.helpers import HASH_KEY, context, decision

START = 1_750_000_000.0
INCIDENTS = 6000  # four a second for 25 minutes
MID = START + 600.0


def made(n: int, rng: random.Random) -> model.IncidentV1:
    """Incident `n`: two per half second (equal times), of every kind, tenant and rule."""
    now = START + (n // 2) * 0.5
    if n % 97 == 0:
        return model.from_event("killswitch", {"action": "engage", "scope": "fleet",
                                               "actor": "alice", "reason": "r"}, now=now)
    action, mode = rng.choice([(Action.BLOCK, Mode.ENFORCE), (Action.REDACT, Mode.ENFORCE),
                               (Action.FLAG, Mode.SHADOW)])
    return model.from_decision(context(f"r{n}", rng.choice(["acme", "globex", None])),
                               decision(action, mode, rule=rng.choice(["pii", "secrets"])),
                               "text", excerpt=None, hash_key=HASH_KEY, now=now)


async def write_journal(state_dir: Path, seed: int = 7) -> None:
    """A journal as two processes write it, one ten times busier: files rotated by size (the
    quiet process's file is written to long after busier files named later), batches written
    a moment after their incidents were made, one incident in twenty written five minutes late
    (a spool replayed into a newer file); each file's mtime is its last write's time."""
    rng = random.Random(seed)
    writes = sorted(((i.time + (300.0 if rng.random() < 0.05 else 0.05), i.to_json())
                     for i in (made(n, rng) for n in range(INCIDENTS))),
                    key=lambda w: w[0])
    sinks = [JournalSink(journal_dir(state_dir), rotate_bytes=100_000) for _ in range(2)]
    written: dict[str, float] = {}
    for at in range(0, len(writes), 20):
        batch = writes[at:at + 20]
        sink = sinks[rng.random() < 0.1]  # the second process's files live longer
        await sink.write([line for _, line in batch])
        assert sink._file is not None
        written[sink._file.name] = batch[-1][0]
    for sink in sinks:
        await sink.aclose()
    for name, last in written.items():
        os.utime(name, (last, last))


def everything(state_dir: Path) -> list[dict[str, Any]]:
    """Every incident of the journal, file by file in the order of their names."""
    return [orjson.loads(line) for path in sorted(journal_dir(state_dir).glob("*.jsonl"))
            for line in path.read_bytes().splitlines()]


def read_whole(incidents: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """The answer read from every incident at once: with `since`, the first matches as they
    were written; without, the last by time."""
    if query.since is not None:
        return [i for i in incidents if query.matches(i)][:query.limit]
    found = sorted((i for i in incidents if query.matches(i)), key=lambda i: (i["time"], i["id"]))
    return found[-query.limit:]


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One journal for every test here (none writes to it)."""
    path = tmp_path_factory.mktemp("state")
    asyncio.run(write_journal(path))
    return path


QUERIES = [
    Query(limit=1), Query(limit=5), Query(limit=100), Query(limit=400), Query(limit=10_000),
    Query(kind="killswitch"), Query(kind="killswitch", limit=3),
    Query(tenant="acme", action="block", limit=50), Query(rule="pii", limit=7),
    Query(action="flag", tenant="globex", rule="secrets", limit=400),
    Query(since=MID, limit=20), Query(since=MID, kind="killswitch"), Query(since=0, limit=10_000),
    Query(since=MID, tenant="globex", action="redact", limit=30),
    Query(since=START + 1490, limit=100), Query(since=START + 9999),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_answers_as_reading_every_incident_does(state_dir: Path, query: Query) -> None:
    """Every filter, with and without `since`, on a journal of many files from two processes
    with incidents written late into newer files: the same incidents, in the same order."""
    assert JournalReader(state_dir).query_now(query) == read_whole(everything(state_dir), query)


@pytest.mark.parametrize("query", [q for q in QUERIES if q.since is not None] + [
    Query(since=0, limit=7), Query(since=0, tenant="acme", limit=333),
    Query(since=MID, rule="pii", limit=1)], ids=repr)
def test_pages_after_each_cursor_read_every_match_once(state_dir: Path, query: Query) -> None:
    """Page after page from the cursor each gives: every match once, in the order written,
    until a page short of `limit` (then the cursor stays at the journal's end)."""
    reader, found = JournalReader(state_dir), []
    page = reader.page_now(query)
    while True:
        found += page.incidents
        assert page.cursor is not None
        if len(page.incidents) < query.limit:
            break
        page = reader.page_now(replace(query, after=page.cursor))
    assert found == read_whole(everything(state_dir), replace(query, limit=INCIDENTS))
    assert reader.page_now(replace(query, after=page.cursor)).incidents == []


def test_a_small_limit_reads_only_the_newest_files(state_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`limit=5` without `since` opens the files last written (here two holding only incidents
    written late, then the one with the newest), not the other thirty: none of those can hold
    an incident newer than the five it found."""
    files = sorted(journal_dir(state_dir).glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    opened: list[Path] = []
    real_open = Path.open

    def counting_open(path: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    found = JournalReader(state_dir).query_now(Query(limit=5))
    assert len(found) == 5 and len(files) > 30
    assert set(opened) <= set(files[-3:])


@pytest.mark.parametrize("query", [Query(limit=5), Query(since=0, limit=5),
                                   Query(kind="killswitch", limit=5)], ids=repr)
def test_a_query_holds_limit_incidents_not_the_journal(state_dir: Path, query: Query) -> None:
    """Reading every file (a `since` at the start, a filter few incidents match) holds `limit`
    incidents and a line at a time: the 6,000 incidents as dicts would take over 10 MB."""
    reader = JournalReader(state_dir)
    tracemalloc.start()
    try:
        found = reader.query_now(query)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found) == 5 and peak < 1_000_000


def test_a_file_with_no_newline_is_read_past_not_held(tmp_path: Path) -> None:
    """From a fix helper's note: a journal file a power loss left as 8 MiB of NULs (no newline)
    was read as one line, the whole file in memory; the incidents around it still count."""
    asyncio.run(write_journal(tmp_path))
    (journal_dir(tmp_path) / "0-1.jsonl").write_bytes(b"\0" * (8 << 20))
    reader = JournalReader(tmp_path)
    tracemalloc.start()
    try:
        found = reader.query_now(Query(since=0, limit=5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found) == 5 and peak < 4 << 20, peak
    assert (str(journal_dir(tmp_path) / "0-1.jsonl"), 1) in reader.skipped


def test_lines_no_page_of_an_export_could_read_are_all_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`guard incidents export` reads page by page and then says how many journal lines it
    could not read: it had said only the last page's, and a later page no longer reads an older
    file (here the one with the torn line), so nothing was said. Every page's count now."""
    from guard.incidents import cli

    monkeypatch.setattr(cli, "MAX_LIMIT", 5)
    directory = journal_dir(tmp_path)
    directory.mkdir(parents=True)
    older, newer = directory / "0-1.jsonl", directory / "0-2.jsonl"
    lines = [orjson.dumps({"id": f"i{n}", "time": START + n}) for n in range(3)]
    older.write_bytes(b"\n".join([*lines[:2], b'{"id": "torn", "ti' + lines[2]]) + b"\n")
    newer.write_bytes(b"".join(orjson.dumps({"id": f"i{n}", "time": START + 100 + n}) + b"\n"
                               for n in range(10)))
    os.utime(older, (START + 2, START + 2))
    reader = JournalReader(tmp_path)
    found = list(cli.every_since(reader.page_now, Query(since=0)))
    assert len(found) == 12
    assert list(reader.skipped) == [(str(older), 3)]


class Processes:
    """Journal files as processes write them: `<time_ns>-<pid>.jsonl`, a new one per rotation,
    each incident a line with an id of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.current: dict[int, Path] = {}
        self.written: list[str] = []
        self.clock = 0

    def rotate(self, pid: int) -> None:
        self.clock += 1
        self.current[pid] = self.directory / f"{self.clock:020d}-{pid}.jsonl"

    def write(self, pid: int, count: int, raw: bytes = b"") -> None:
        if pid not in self.current:
            self.rotate(pid)
        lines = []
        for _ in range(count):
            self.written.append(f"i{len(self.written)}")
            lines.append(orjson.dumps({"id": self.written[-1], "time": START + len(self.written)}))
        with self.current[pid].open("ab") as f:
            f.write(b"".join(line + b"\n" for line in lines) + raw)


def test_an_export_reads_each_incident_once_while_processes_write_rotate_and_prune(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 5, after the cursor each gives, over three processes' files: lines appended
    between pages (to the file a page stopped in, and to one named before it), a line being
    written when a page reads it (completed before the next), rotations, a file pruned after it
    was read and one before, a malformed line: every incident exported once, the unread pruned
    file's aside, and the malformed line skipped and counted once. (Reading on from the time a
    page ended at read every file from its start for every page.)"""
    from guard.incidents import cli

    monkeypatch.setattr(cli, "MAX_LIMIT", 5)
    directory = journal_dir(tmp_path)
    directory.mkdir(parents=True)
    procs = Processes(directory)
    procs.write(101, 7, raw=b'{"id": "torn", "ti\n')  # line 8
    procs.write(101, 1)
    first = procs.current[101]
    procs.rotate(101)
    procs.write(101, 1)
    procs.write(102, 6)
    procs.write(103, 3)
    pruned_unread, never_read = procs.current[103], procs.written[-3:]
    half = orjson.dumps({"id": "being-written", "time": START + 1})

    def between_pages(page: int) -> None:
        if page == 1:
            procs.write(101, 0, raw=half[:9])
            procs.write(102, 2)
        elif page == 2:  # the page stopped in 102's file, after skipping the line half written
            with procs.current[101].open("ab") as f:
                f.write(half[9:] + b"\n")
            procs.written.append("being-written")
            first.unlink()
            pruned_unread.unlink()
            procs.rotate(101)
            procs.write(101, 2)
        elif page == 3:
            procs.write(102, 7)

    reader, pages = JournalReader(tmp_path), 0

    def fetch(query: Query) -> Page:
        nonlocal pages
        if pages:
            between_pages(pages)
        pages += 1
        return reader.page_now(query)

    exported = [i["id"] for i in cli.every_since(fetch, Query(since=0))]
    assert sorted(exported) == sorted(set(procs.written) - set(never_read))
    assert len(exported) == len(set(exported)) and pages == 6
    half_written = (str(directory / f"{2:020d}-101.jsonl"), 2)
    assert list(reader.skipped) == [(str(first), 8), half_written]


def test_a_file_named_otherwise_is_read_like_the_others(tmp_path: Path) -> None:
    """Pages read the pid out of each file's name (the newest file of a pid may grow); a name
    whose pid is digits int() refuses (`0-²³.jsonl`, str.isdigit says yes) failed every read
    (and every prune) with a ValueError. It is read, and pruned, as any other file."""
    from prometheus_client import CollectorRegistry

    from guard.incidents.retention import JournalPruner
    from guard.observability.metrics import Metrics

    directory = journal_dir(tmp_path)
    directory.mkdir(parents=True)
    (directory / "0-²³.jsonl").write_bytes(orjson.dumps({"id": "odd", "time": START}) + b"\n")
    assert [i["id"] for i in JournalReader(tmp_path).query_now(Query(since=0))] == ["odd"]
    pruner = JournalPruner(directory, None, 1 << 20, Metrics(CollectorRegistry()))
    assert pruner.prune() == []
