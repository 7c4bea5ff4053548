"""`make bench`: every benchmark in turn, each writing its section of bench/BENCHMARKS.md.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--with-soak]

The long runs are separate targets: `make fuzz` (100,000 generated inputs) and the 30-minute
soak (`--with-soak`, or `.venv/bin/python bench/soak.py`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS: dict[str, list[str]] = {
    "proxy": ["bench/bench_proxy.py", "--seconds", "10"],
    "evidence": ["bench/bench_evidence.py", "--seconds", "10"],
    "instructions": ["bench/bench_instructions.py"],
    "stream": ["bench/bench_stream.py"],
    "whole_text": ["bench/bench_whole_text_stream.py"],
    "padded": ["bench/bench_padded_stream.py"],
    "many_texts": ["bench/bench_many_texts.py"],
    "access_line": ["bench/bench_access_line.py"],
    "sse": ["bench/bench_sse.py"],
    "classifiers": ["-m", "bench.bench_classifiers"],
    "cache": ["-m", "bench.bench_cache"],
    "models": ["bench/bench_models.py"],
    "policy": ["bench/bench_policy.py"],
    "packs": ["bench/bench_packs.py"],
    "links": ["bench/bench_links.py"],
    "cli_start": ["bench/bench_cli_start.py"],
    "killswitch": ["bench/bench_killswitch.py", "--write"],
    "excerpt": ["bench/bench_excerpt.py"],
    "chaos": ["bench/chaos.py"],
}
SOAK = ["bench/soak.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(RUNS), help="run just these")
    parser.add_argument("--with-soak", action="store_true", help="also the 30-minute soak")
    args = parser.parse_args()
    chosen = {name: RUNS[name] for name in (args.only or RUNS)}
    if args.with_soak:
        chosen["soak"] = SOAK
    failed = []
    for name, command in chosen.items():
        started = time.monotonic()
        print(f"== {name}: {' '.join(command)}", flush=True)
        done = subprocess.run([sys.executable, *command], cwd=ROOT, check=False)
        print(f"== {name}: exit {done.returncode} in {time.monotonic() - started:.0f} s",
              flush=True)
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
