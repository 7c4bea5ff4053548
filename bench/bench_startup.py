"""Start-up of `guard serve`: from exec to the admin port's /readyz answering 200.

    .venv/bin/python bench/bench_startup.py [--rounds 7] [--no-write]

Two configurations are started in turn, `--rounds` times, interleaved with a baseline so that
the machine's other load falls on all alike: the shipped policy packs (`policies: policies/`,
every classifier and model they name) and the forwarder alone (`policies: null`: the server's
imports, no classifier built). Each start polls /readyz every 5 ms; the guard is stopped
(SIGTERM) once it answers. The baseline is an interpreter that imports aiohttp's server and exits
(`python -c "import aiohttp.web"`, exec to exit): what any aiohttp server pays, none of guard's
own start. Reported: the median and best time of each, and the median's ratio to the baseline's
(what to read across machines). The derived-table
cache (GUARD_CACHE_DIR) is a fresh directory per run, warmed by one start before the timed ones,
as an operator's second start (or the image's baked cache) finds it; `--cold` times starts that
find none (each writes it again).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish, table

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"shipped packs": str(ROOT / "policies"), "forwarder only (policies: null)": "null"}
BASELINE = "`python -c \"import aiohttp.web\"` (exec to exit)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ready_after(policies: str, work: Path, env: dict[str, str]) -> float:
    """Seconds from starting `guard serve` with `policies` to its /readyz answering 200."""
    data, admin = free_port(), free_port()
    config = work / "guard.yaml"
    config.write_text(f"listen: 127.0.0.1:{data}\nadmin_listen: 127.0.0.1:{admin}\n"
                      f"upstreams:\n  default: {{url: 'http://127.0.0.1:9'}}\n"
                      f"policies: {policies}\nstate_dir: {work / 'state'}\n")
    begin = time.perf_counter()
    guard = subprocess.Popen([sys.executable, "-m", "guard", "serve", "-c", str(config)], cwd=ROOT,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - begin
            except OSError:
                pass
            if guard.poll() is not None:
                raise SystemExit(f"guard exited ({guard.returncode}) before ready: {policies}")
            time.sleep(0.005)
    finally:
        guard.terminate()
        guard.wait(timeout=30)


def baseline(env: dict[str, str]) -> float:
    """Seconds from starting an interpreter that imports aiohttp's server to its exit."""
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aiohttp.web"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="timed starts of each configuration")
    parser.add_argument("--cold", action="store_true", help="no derived-table cache to read")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="guard-bench-start-"))
    cache = work / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GUARD_CACHE_DIR": str(cache)}
    try:
        if not args.cold:
            ready_after(CONFIGS["shipped packs"], work, env)  # writes the cache
        times: dict[str, list[float]] = {name: [] for name in [*CONFIGS, BASELINE]}
        for _ in range(args.rounds):
            times[BASELINE].append(baseline(env))
            for name, policies in CONFIGS.items():
                if args.cold:
                    shutil.rmtree(cache, ignore_errors=True)
                times[name].append(ready_after(policies, work, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(times[BASELINE])
    rows = [[name, f"{statistics.median(t) * 1000:.0f}", f"{min(t) * 1000:.0f}",
             f"{statistics.median(t) / base:.2f}"] for name, t in times.items()]
    columns = ["start", "median ms", "best ms", "median ratio to baseline"]
    cache_said = ("no cache (each start builds the derived tables and writes them)" if args.cold
                  else "the derived-table cache warmed by one start before")
    intro = (f"`python -m guard serve` from exec to /readyz 200, {args.rounds} interleaved starts "
             f"of each configuration, {cache_said}; the baseline, interleaved in the same run, "
             f"is an interpreter importing aiohttp's server.")
    command = "bench/bench_startup.py" + (f" --rounds {args.rounds}" if args.rounds != 7 else "") + \
        (" --cold" if args.cold else "")
    if args.no_write:
        print(f"{intro}\n\n{table(columns, rows)}")
        return
    publish("Serve start-up" + (" (cold cache)" if args.cold else ""), command, intro, columns, rows)


if __name__ == "__main__":
    main()
