"""Start-up of the `guard` command: how long a command takes before it does anything.

    .venv/bin/python bench/bench_cli_start.py [--rounds 5] [--no-write]

Each command (`python -m guard ... --help`: parsed, its help printed, nothing run; and `guard
serve --check` on the shipped policies, a guard's start but for listening) and a bare
interpreter (`python -c pass`) are started in turn, `--rounds` times, interleaved so that the
machine's other load falls on all of them alike; the best wall time of each is kept, and the best
CPU time (user and system, of the child alone: steadier than wall time on a shared machine). The
ratios to the bare interpreter, and the time above it (what guard's imports and its parser
cost), are what to read across machines. Modules: how many more modules the command imports than
the bare interpreter (`python -X importtime`), which does not move with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish

ROOT = Path(__file__).resolve().parents[1]
BARE = ["-c", "pass"]
COMMANDS = (["--help"], ["killswitch", "status", "--help"], ["mock-upstream", "--help"],
            ["incidents", "tail", "--help"], ["policy", "test", "--help"], ["eval", "--help"],
            ["serve", "--check"])  # the last: a guard's whole start but listening (policies, models)


def started(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting `python argv` to its exit, and the CPU seconds it used."""
    before, begin = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - begin, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def modules(argv: list[str], env: dict[str, str]) -> int:
    """How many modules `python argv` imports (lines of `-X importtime`)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT, env=env,
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return sum(line.startswith("import time:") for line in done.stderr.splitlines()) - 1  # header


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="starts of each command (best kept)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [BARE] + [["-m", "guard", *command] for command in COMMANDS]
    times: dict[tuple[str, ...], list[tuple[float, float]]] = {tuple(argv): [] for argv in runs}
    for _ in range(args.rounds):
        for argv in runs:
            times[tuple(argv)].append(started(argv, env))
    best = {argv: (min(w for w, _ in runs_), min(c for _, c in runs_))
            for argv, runs_ in times.items()}
    (bare, bare_cpu), bare_modules = best[tuple(BARE)], modules(BARE, env)
    rows = []
    for argv in runs:
        wall, cpu = best[tuple(argv)]
        name = "`python -c pass`" if argv == BARE else f"`guard {' '.join(argv[2:])}`"
        rows.append([name, f"{wall * 1000:.0f}", f"{wall / bare:.2f}", f"{(wall - bare) * 1000:.0f}",
                     f"{cpu * 1000:.0f}", f"{cpu / bare_cpu:.2f}",
                     str(modules(argv, env) - bare_modules)])
    intro = (f"`python -m guard ...` (parse and print the help, nothing run; `serve --check`: the "
             f"configuration and policies/ loaded with their classifiers' models, nothing "
             f"served) against a bare "
             f"interpreter start in the same run, best of {args.rounds} interleaved starts: wall "
             f"time, and CPU time (user and system, of the child); modules: how many more the "
             f"command imports than the bare interpreter.")
    command = "bench/bench_cli_start.py" + (f" --rounds {args.rounds}" if args.rounds != 5 else "")
    columns = ["command", "wall ms", "ratio to bare", "above bare ms", "CPU ms", "CPU ratio to bare",
               "modules"]
    if args.no_write:
        from bench.report import table

        print(f"{intro}\n\n{table(columns, rows)}")
        return
    publish("Command start-up", command, intro, columns, rows)


if __name__ == "__main__":
    main()
