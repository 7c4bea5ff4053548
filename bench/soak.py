"""Soak: steady mixed load through guard (with Redis) for a long time, watching the guard
process's memory and file descriptors.

    .venv/bin/python bench/soak.py [--minutes 30] [--concurrency 4] [--rate 60] [--write]

The load is bench/traffic.py's mix (streamed and not; allowed, blocked, redacted, flagged) at a
capped rate over a finite pool of texts, so the verdict cache fills during warm-up rather than
growing all run long. RSS and open descriptors of the guard process are read from /proc every
`--sample-s` seconds. After the warm-up (the first fifth of the run, at least 20 s) the figures
must hold: RSS growth under 5 % (mean of the last five samples against the mean of the first
five after warm-up), no descriptor growth beyond FD_SLACK (the most seen in the last quarter of the
run against the most seen in the first quarter after warm-up), and no errors at all.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.traffic import Stack, Traffic, error_counts, proc_sample

RSS_GROWTH_MAX = 0.05
# Descriptors a run may end with above its start without a leak: guard's upstream pool and the
# clients' keep-alive connections may hold one socket more at the end than at the start (seen once
# in a clean-clone run: 26 -> 27 over 6,000 requests). A leak grows with the requests, by tens.
FD_SLACK = 2
WINDOW = 5  # samples averaged at each end of the RSS comparison


@dataclass
class Soak:
    """What a soak run measured."""

    seconds: float
    warmup_s: float
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, rss, fds)
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    guard_exit: int | None = None

    def _after(self) -> list[tuple[float, int, int]]:
        return [s for s in self.samples if s[0] >= self.warmup_s]

    @property
    def rss_start(self) -> float:
        return statistics.fmean(s[1] for s in self._after()[:WINDOW])

    @property
    def rss_end(self) -> float:
        return statistics.fmean(s[1] for s in self._after()[-WINDOW:])

    @property
    def rss_growth(self) -> float:
        return self.rss_end / self.rss_start - 1

    @property
    def fd_growth(self) -> int:
        after = self._after()
        quarter = max(1, len(after) // 4)
        return max(s[2] for s in after[-quarter:]) - max(s[2] for s in after[:quarter])

    @property
    def passed(self) -> bool:
        return (self.rss_growth < RSS_GROWTH_MAX and self.fd_growth <= FD_SLACK and not self.errors
                and self.guard_exit == 0)

    def table(self) -> str:
        after = self._after()
        mib = 1 << 20
        return "\n".join([
            "| figure | value | bound |", "|---|---|---|",
            f"| duration | {self.seconds / 60:.1f} min (warm-up {self.warmup_s:.0f} s) | |",
            f"| requests | {self.requests} ({self.requests / self.seconds:.1f}/s) | |",
            f"| errors | {sum(self.errors.values())} "
            f"{dict(self.errors) if self.errors else ''} | 0 |",
            f"| RSS after warm-up → end | {self.rss_start / mib:.1f} → {self.rss_end / mib:.1f} "
            f"MiB ({self.rss_growth:+.1%}); max {max(s[1] for s in after) / mib:.1f} MiB "
            f"| < +{RSS_GROWTH_MAX:.0%} |",
            f"| open fds after warm-up (min-max) | {min(s[2] for s in after)}-"
            f"{max(s[2] for s in after)}; growth {self.fd_growth:+d} | ≤ +{FD_SLACK} |",
            f"| guard exit on SIGTERM | {self.guard_exit} | 0 |",
        ])


async def soak(workdir: Path, seconds: float, concurrency: int, rate: float,
               sample_s: float = 5.0, warmup_s: float | None = None) -> Soak:
    """Run the load for `seconds`, sampling the guard process every `sample_s`; the figures
    count from `warmup_s` (by default the first fifth of the run, at least 20 s)."""
    stack = Stack(workdir)
    await asyncio.to_thread(stack.start)
    result = Soak(seconds, warmup_s=max(20.0, seconds / 5) if warmup_s is None else warmup_s)
    try:
        traffic = Traffic(stack.guard.url, concurrency, rate)
        load = asyncio.create_task(traffic.run())
        started = time.monotonic()
        pid = stack.guard.pid
        while (now := time.monotonic() - started) < seconds and not load.done():
            rss, fds = proc_sample(pid)
            result.samples.append((now, rss, fds))
            await asyncio.sleep(min(sample_s, max(0.0, seconds - now)))
        traffic.stop()
        await load
        result.samples.append((time.monotonic() - started, *proc_sample(pid)))
        result.requests = len(traffic.results)
        result.errors = dict(error_counts(traffic.results))
    finally:
        result.guard_exit = await asyncio.to_thread(stack.stop)
    return result


NOTES = """\
Stack as in the Chaos section (Redis with `redis_url` set, the stand-in model, guard with
policies/default.yaml), nothing disturbed. The load is the same mix (allowed, blocked, redacted,
flagged; streamed and not) from an in-process aiohttp client over keep-alive connections, capped
at `--rate` requests/s, over a pool of 400 texts per kind (the verdict cache fills in warm-up).
RSS and open file descriptors of the guard process come from /proc every `--sample-s` seconds;
warm-up is the first fifth of the run. RSS growth compares the mean of the first five samples
after warm-up with the mean of the last five; fd growth, the most open in the last quarter with
the most open in the first quarter after warm-up."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=60.0, help="requests/s cap")
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--write", action="store_true", help="write bench/BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guard-soak-") as tmp:
        result = asyncio.run(soak(Path(tmp), args.minutes * 60, args.concurrency, args.rate,
                                  args.sample_s))
    body = f"{NOTES}\n\n{result.table()}"
    print(body)
    if args.write:
        from bench.report import write_section
        write_section("Soak", " ".join(["python", "bench/soak.py", *sys.argv[1:]]), body)
    sys.exit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
