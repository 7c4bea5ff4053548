"""What one access line costs: guard's logging pipeline against the floor, under callgrind.

    .venv/bin/python bench/bench_access_line.py [--lines 2000]

At the default `log_level: info` guard writes one JSON line per request (`request`, twelve
fields), through the processors every line goes through but without structlog's call layers
(`access_line`); other lines go through structlog. Costs are counted in CPU instructions
(callgrind, user space), which do not move with
the machine's other load: a child process writes N lines, another N + `--lines`, and the
difference over `--lines` is one line's cost (start-up and imports cancel out). The baseline,
in the same run, is the floor: the same dict rendered by orjson and written to the same file,
with no logging library. Lines go to /dev/null (the write's kernel time is not counted).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import BENCHMARKS, write_section

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ('dict(request_id="0f3c2a9b8e7d4c1a6b5e", method="POST", route="/v1/chat/completions", '
          'model="gpt-4o-mini", status=200, upstream_ms=41.237, guard_ms=0.318, stream=False, '
          'upstream_request_id="req_8f2b6c1d0e9a4f7b3c5d", '
          'tenant="acme", decision="allow", code=None, switch=None)')
SETUP = f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r})
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
FIELDS = {FIELDS}
"""
WRITERS = {
    "guard's access line (`access_line`)": """
from guard.observability.logging import access_line, configure_logging
configure_logging("info")
def line():
    access_line(FIELDS)
""",
    "any other line (structlog's `log.info`, same processors)": """
import structlog
from guard.observability.logging import configure_logging
configure_logging("info")
log = structlog.get_logger("guard.proxy")
def line():
    log.info("request", **FIELDS)
""",
    "floor (orjson, one write)": """
import orjson
out = sys.stderr.buffer
def line():
    event = {**FIELDS, "event": "request", "level": "info",
             "timestamp": "2026-01-01T00:00:00.000000Z"}
    out.write(orjson.dumps(event) + b"\\n")
    out.flush()
""",
}
LOOP = """
for _ in range(int(sys.argv[1])):
    line()
"""


def instructions(program: Path, lines: int, out: Path) -> int:
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                          sys.executable, str(program), str(lines)],
                         capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise RuntimeError(f"no count from callgrind:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_line(name: str, code: str, lines: int, workdir: Path) -> float:
    program = workdir / f"{len(name)}.py"
    program.write_text(SETUP + code + LOOP)
    base = instructions(program, 200, workdir / "cg.base")
    more = instructions(program, 200 + lines, workdir / "cg.more")
    return (more - base) / lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("bench_access_line: valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        costs = {name: per_line(name, code, args.lines, Path(tmp))
                 for name, code in WRITERS.items()}
    floor = costs["floor (orjson, one write)"]
    rows = "\n".join(f"| {name} | {cost / 1000:.1f}k | {cost / floor:.2f} |"
                     for name, cost in costs.items())
    body = f"""
CPU instructions per access line (callgrind, user space; {args.lines} lines counted), the
`request` line of twelve fields guard writes for every request at `log_level: info`:

| writer | instructions per line | ratio to the floor |
|---|---|---|
{rows}

For scale: a request through guard without a policy costs {request_cost()} ("Proxy
pass-through: instructions per request", measured at `log_level: warning`, without this line).
"""
    write_section("Access lines", f"bench/bench_access_line.py --lines {args.lines}", body)
    print(body)


def request_cost() -> str:
    """What bench_instructions.py last measured for a request through guard, from its section."""
    found = re.search(r"^\| guard \| (\d+k) \|", BENCHMARKS.read_text(), re.M)
    return f"{found.group(1)} instructions" if found else "(run bench/bench_instructions.py)"


if __name__ == "__main__":
    main()
