"""Exporting incidents from the journal: `guard incidents export --state-dir` over a long period.

    .venv/bin/python bench/bench_journal_export.py [--incidents 300000] [--rounds 3] [--dir DIR]
                                                   [--write]

A journal of `--incidents` incidents (about 700 bytes each, as the recorder writes them) in
files of two processes, rotated at the default `rotate_bytes`, is exported page by page as
`guard incidents export --since` reads it (`every_since` over the journal source, 10,000
incidents a page; writing them out is left aside). The baseline is a plain read of the same
files in the same run: every line parsed with orjson, nothing checked or filtered, each
dropped at once; and the same read holding what it parsed a page at a time, as any page does
(the garbage collector walks the page's objects as more are made). Each round times one of
each, in turn; the medians are shown, and the ratios to the plain read are the figures to
compare across machines. `--dir` keeps the journal for
another run (the same journal measured by an earlier commit: PYTHONPATH=<its checkout>).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish
from guard.incidents import cli, model
from guard.incidents.query import Query
from guard.incidents.recorder import journal_dir
from guard.incidents.settings import IncidentSettings
from guard.incidents.sinks import JournalSink
from guard.types import Action, Mode
from tests.unit.incidents.helpers import HASH_KEY, context, decision

START = 1_750_000_000.0


def write_journal(state_dir: Path, count: int) -> None:
    """`count` incidents, ten a second, written in batches of 50 by two processes in turn;
    each file's mtime is the time of its last write."""
    rng = random.Random(7)
    sinks = [JournalSink(journal_dir(state_dir), IncidentSettings().rotate_bytes)
             for _ in range(2)]
    last_write: dict[str, float] = {}
    for at in range(0, count, 50):
        batch = [model.from_decision(
            context(f"r{n}", rng.choice(["acme", "globex", None])),
            decision(*rng.choice([(Action.BLOCK, Mode.ENFORCE), (Action.REDACT, Mode.ENFORCE),
                                  (Action.FLAG, Mode.SHADOW)]),
                     rule=rng.choice(["pii", "secrets"])),
            "text", excerpt=None, hash_key=HASH_KEY, now=START + n / 10).to_json()
            for n in range(at, min(at + 50, count))]
        sink = sinks[(at // 50) % 2]
        sink.write_now(batch)
        assert sink._file is not None
        last_write[sink._file.name] = START + (at + len(batch)) / 10
    for sink in sinks:
        sink.close_now()
    for name, at in last_write.items():  # each file's mtime is its last write's time
        os.utime(name, (at, at))


def plain_read(state_dir: Path, page: int = 0) -> int:
    """Every line parsed once, each dropped at once, or (`page`) kept until `page` are."""
    count, kept = 0, []
    for path in sorted(journal_dir(state_dir).glob("*.jsonl")):
        with path.open("rb") as f:
            for line in f:
                incident = orjson.loads(line)
                count += 1
                if page:
                    kept.append(incident)
                    if len(kept) == page:
                        kept = []
    return count


def plain_read_in_pages(state_dir: Path) -> int:
    return plain_read(state_dir, cli.MAX_LIMIT)


def export(state_dir: Path) -> int:
    fetch = cli.source(argparse.Namespace(state_dir=state_dir))
    return sum(1 for _ in cli.every_since(fetch, Query(since=START)))


def timed(run: Callable[[Path], int], state_dir: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = run(state_dir)
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="keep the journal here (written if absent)")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md's section")
    args = parser.parse_args()
    state_dir = args.dir or Path(f"/tmp/guard-bench-journal-{os.getpid()}")
    if not journal_dir(state_dir).is_dir():
        write_journal(state_dir, args.incidents)
    files = sorted(journal_dir(state_dir).glob("*.jsonl"))
    size = sum(p.stat().st_size for p in files)
    reads: list[Callable[[Path], int]] = [plain_read, plain_read_in_pages, export]
    runs: dict[Callable[[Path], int], list[tuple[float, int]]] = {read: [] for read in reads}
    for _ in range(args.rounds):
        for read in reads:
            runs[read].append(timed(read, state_dir))
    plain_n = runs[plain_read][0][1]
    assert all(n == plain_n for times in runs.values() for _, n in times), runs
    plain_s, paged_s, export_s = (statistics.median(s for s, _ in runs[read]) for read in reads)
    intro = (f"{plain_n:,} incidents, {size / 2**20:.0f} MiB in {len(files)} files of two "
             f"processes; export = every page of `guard incidents export --since` "
             f"({cli.MAX_LIMIT:,} a page) read, nothing written out; baseline = every line "
             f"parsed with orjson, once; median of {args.rounds} rounds")
    rows = [["plain read (baseline)", f"{plain_s:.2f}", "1.00"],
            [f"plain read, held {cli.MAX_LIMIT:,} at a time", f"{paged_s:.2f}",
             f"{paged_s / plain_s:.2f}"],
            ["export, page by page", f"{export_s:.2f}", f"{export_s / plain_s:.2f}"]]
    command = f"bench/bench_journal_export.py --incidents {args.incidents} --rounds {args.rounds}"
    if args.write:
        publish("Incidents: exporting from the journal", command, intro,
                ["read", "seconds", "ratio to plain read"], rows)
    else:
        print(intro)
        for row in rows:
            print(" | ".join(row))


if __name__ == "__main__":
    main()
