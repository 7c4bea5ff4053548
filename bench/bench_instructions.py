"""Pass-through cost in CPU instructions: guard vs the minimal forwarder, under callgrind.

    .venv/bin/python bench/bench_instructions.py [--requests 400]

requests/s on a shared 2-core machine moves with whatever else runs; instructions executed per
request do not (callgrind counts them, user space only, the same on a busy or an idle machine,
within about 1%). Each proxy runs under `valgrind --tool=callgrind` with counting off; after a
warm-up, counting is switched on for exactly N requests sent one after another on one keep-alive
connection (the same body as bench_proxy.py), then switched off and dumped. The ratio
forwarder/guard is the throughput ratio a CPU-bound proxy would reach, kernel time aside (the
kernel's share per request is the same for both: the same reads and writes).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_proxy import BODY
from bench.report import write_section
from tests.support import GuardServer, MockUpstream, Process, free_port, wait_for_port

# As many requests as wrk's warm-up in bench_proxy.py gives a proxy, near enough: caches and the
# interpreter's specialised code are in place before counting starts.
WARM_UP = 400
IDLE_S = 5.0
REQUEST = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
           f"\r\nAuthorization: Bearer bench\r\nContent-Length: {len(BODY)}\r\n\r\n{BODY}").encode()


def send(port: int, n: int) -> None:
    """n requests, one after another, on one keep-alive connection; each must answer 200."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        for _ in range(n):
            sock.sendall(REQUEST)
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            reader.read(length)


def callgrind(args: list[str], out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}", *args]


def control(pid: int, *flags: str) -> None:
    subprocess.run(["callgrind_control", *flags, str(pid)], check=True, capture_output=True)


def counted(proc: Process, out: Path, action: Callable[[], None]) -> tuple[float, float]:
    """Instructions the process executes while `action` runs, and the seconds it took."""
    control(proc.pid, "-z")
    control(proc.pid, "-i", "on")
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    control(proc.pid, "-i", "off")
    control(proc.pid, "-d")
    dumps = sorted(out.parent.glob(out.name + "*"), key=lambda p: p.stat().st_mtime)
    for line in dumps[-1].read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1]), elapsed
    raise RuntimeError(f"no totals in {dumps[-1]}")


def instructions_per_request(proc: Process, port: int, out: Path, n: int) -> tuple[float, float]:
    """Warm up, count exactly n requests; instructions per request, as counted and less what the
    process does idle over the same time.

    Timed background work (guard flushes metrics and sweeps for silent upstreams every second,
    polls the kill-switch file) runs at its usual rate while callgrind slows requests about fifty
    times, so in the raw count it weighs on each request fifty times more than it does in real
    traffic. The idle rate, counted with no requests, is subtracted for that.
    """
    send(port, WARM_UP)
    idle, idle_s = counted(proc, out, lambda: time.sleep(IDLE_S))
    total, elapsed = counted(proc, out, lambda: send(port, n))
    return total / n, (total - idle / idle_s * elapsed) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2, help="runs per proxy (median)")
    args = parser.parse_args()
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        sys.exit("bench_instructions: valgrind is not installed (apt-get install valgrind)")
    results: dict[str, list[tuple[float, float]]] = {"minimal forwarder": [], "guard": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        mock = MockUpstream(workdir)
        mock.start()
        try:
            for round_ in range(args.rounds):
                for name, runs in results.items():
                    out = workdir / f"callgrind.{round_}.{name.replace(' ', '_')}"
                    proc, port = start(name, mock.url, workdir, out)
                    try:
                        runs.append(instructions_per_request(proc, port, out, args.requests))
                    finally:
                        proc.stop()
        finally:
            mock.stop()
    report(results, args.requests)


def start(name: str, upstream: str, workdir: Path, out: Path) -> tuple[Process, int]:
    if name == "guard":
        guard = GuardServer(workdir, {"upstreams": {"default": {"url": upstream}},
                                      "log_level": "warning"})
        guard.args = callgrind(guard.args, out)
        guard.start()  # waits for /readyz
        return guard, guard.port
    port = free_port()
    forwarder = Process(callgrind([sys.executable, str(Path(__file__).parent /
                                                      "minimal_forwarder.py"), str(port),
                                   upstream], out), workdir)
    forwarder.start()
    wait_for_port(port, timeout=60)
    time.sleep(0.5)
    return forwarder, port


def report(results: dict[str, list[tuple[float, float]]], n: int) -> None:
    def median(runs: list[float]) -> float:
        return sorted(runs)[len(runs) // 2]

    raw = {name: median([r[0] for r in runs]) for name, runs in results.items()}
    net = {name: median([r[1] for r in runs]) for name, runs in results.items()}
    spread = {name: (max(r[1] for r in runs) - min(r[1] for r in runs)) / net[name] * 100
              for name, runs in results.items()}
    rows = "\n".join(
        f"| {name} | {net[name] / 1000:.0f}k | {net['minimal forwarder'] / net[name]:.3f} | "
        f"{raw[name] / 1000:.0f}k | {raw['minimal forwarder'] / raw[name]:.3f} | "
        f"{spread[name]:.1f}% |" for name in results)
    body = f"""
CPU instructions executed per request under callgrind (user space), {n} requests one after another
on one keep-alive connection after {WARM_UP} to warm up, ~1 KB chat body, stand-in model, no policy;
median of {len(results['guard'])} runs per proxy. "Per request" is less the instructions the process
runs idle over the same time ({IDLE_S:g} s counted with no requests): timed background work (metrics
flush, silence sweep, kill-switch file poll) keeps its real-time rate while callgrind slows requests
about fifty times; "as counted" keeps it.

| target | per request | ratio (forwarder / target) | as counted | ratio as counted | spread between runs |
|---|---|---|---|---|---|
{rows}

The ratio is the throughput a CPU-bound proxy reaches relative to the forwarder, before kernel time
(the same reads and writes for both, which brings a measured ratio closer to 1). Unlike requests/s
it does not move with the machine's other load.
"""
    write_section("Proxy pass-through: instructions per request",
                  f"bench/bench_instructions.py --requests {n}", body)
    print(body)


if __name__ == "__main__":
    main()
