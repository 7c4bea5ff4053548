"""Verdict cache: in a 20-turn conversation re-sent in full each time, request 20 vs request 1.

Every request carries the whole history (user and assistant turns of ~400 characters); all the
local built-ins except profanity classify it through the runner. With the cache only the newest
message costs anything; without it (the baseline) the cost grows with the history.

Second table: the trained user-message models (harmful_request, jailbreak_model) with the cache,
reading each user message alone (`turns: 1`, the baseline) and also joined to the two before it
(`turns: 3`, their default): what the joined reading adds to a request.

Run: .venv/bin/python -m bench.bench_cache
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from prometheus_client import CollectorRegistry

from guard.classify.cache import VerdictCache
from guard.classify.registry import ConfiguredClassifier, build_classifier
from guard.classify.runner import ClassifierRunner
from guard.observability.metrics import Metrics
from guard.types import Segment, Stage

LOCAL = ["regex", "keywords", "pii", "secrets", "invisible_text", "encoded_text", "prompt_injection",
         "jailbreak"]
WORDS = ("the service returned an error when the customer tried to update billing details "
         "so we checked the logs and found a timeout in the payment gateway call which we "
         "then retried with a longer deadline and it worked fine after that").split()


def local_classifiers() -> list[ConfiguredClassifier]:
    extra = {"regex": {"patterns": [r"\bproject\s+falcon\b", r"INC-\d{6}"]},
             "keywords": {"terms": ["nuclear launch codes", "confidential", "bomb"]}}
    return [build_classifier(t, {"type": t, **extra.get(t, {})}) for t in LOCAL]


def message(rng: random.Random, i: int) -> str:
    words = [rng.choice(WORDS) for _ in range(70)]
    return f"turn {i}: " + " ".join(words)


def conversation(turns: int, seed: int = 7) -> list[list[Segment]]:
    """Request k (1-based) carries 2k-1 segments: k user turns and k-1 assistant turns."""
    rng = random.Random(seed)
    history: list[tuple[str, str]] = []
    requests = []
    for k in range(turns):
        if k:
            history.append(("assistant", message(rng, 2 * k)))
        history.append(("user", message(rng, 2 * k + 1)))
        requests.append([Segment(t, r, i, Stage.PROMPT) for i, (r, t) in enumerate(history)])
    return requests


METRICS = Metrics(CollectorRegistry())  # shared, as in a server: label children already exist


async def one_run(cached: bool, classifiers: list[ConfiguredClassifier]) -> list[float]:
    runner = ClassifierRunner(METRICS, VerdictCache() if cached else None)
    costs = []
    for segments in conversation(20):
        started = time.perf_counter()
        await runner.run(classifiers, segments, Stage.PROMPT)
        costs.append(time.perf_counter() - started)
    await runner.aclose()
    return costs


def model_classifiers(turns: int) -> list[ConfiguredClassifier]:
    return [build_classifier(t, {"type": t, "turns": turns})
            for t in ("harmful_request", "jailbreak_model")]


async def measure_turns(repeats: int = 10) -> dict[int, tuple[float, float]]:
    """Median cost (s) of request 1 and request 20 with the cache, per `turns` of the models."""
    out = {}
    for turns in (1, 3):
        classifiers = model_classifiers(turns)
        await one_run(True, classifiers)
        runs = [await one_run(True, classifiers) for _ in range(repeats)]
        out[turns] = (statistics.median(r[0] for r in runs), statistics.median(r[-1] for r in runs))
    return out


async def measure(repeats: int = 30) -> dict[str, float]:
    """Median cost (s) of request 1 and request 20, with and without the cache."""
    classifiers = local_classifiers()
    await one_run(True, classifiers)  # warm-up: first label children, imports
    with_cache = [await one_run(True, classifiers) for _ in range(repeats)]
    without = [await one_run(False, classifiers) for _ in range(repeats)]
    first_c = statistics.median(r[0] for r in with_cache)
    last_c = statistics.median(r[-1] for r in with_cache)
    first_n = statistics.median(r[0] for r in without)
    last_n = statistics.median(r[-1] for r in without)
    return {"first_cached": first_c, "last_cached": last_c, "first_uncached": first_n,
            "last_uncached": last_n}


def report(f: dict[str, float]) -> str:
    return (
        "| 20-turn conversation (history re-sent) | request 1 | request 20 | 20 / 1 |\n"
        "|---|---|---|---|\n"
        f"| with verdict cache | {f['first_cached'] * 1e6:.0f} µs | {f['last_cached'] * 1e6:.0f} µs"
        f" | **{f['last_cached'] / f['first_cached']:.2f}x** (target ≤ 1.5x) |\n"
        f"| baseline: no cache | {f['first_uncached'] * 1e6:.0f} µs | "
        f"{f['last_uncached'] * 1e6:.0f} µs | {f['last_uncached'] / f['first_uncached']:.2f}x |\n"
    )


def report_turns(f: dict[int, tuple[float, float]]) -> str:
    rows = "".join(
        f"| harmful_request + jailbreak_model, `turns: {turns}` | {first * 1e6:.0f} µs | "
        f"{last * 1e6:.0f} µs | {last / f[1][1]:.2f}x |\n"
        for turns, (first, last) in f.items()
    )
    return ("| 20-turn conversation, verdict cache | request 1 | request 20 | request 20 / "
            "`turns: 1`'s |\n|---|---|---|---|\n" + rows)


if __name__ == "__main__":
    print(report(asyncio.run(measure())))
    print(report_turns(asyncio.run(measure_turns())))
