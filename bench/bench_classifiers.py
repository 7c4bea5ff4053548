"""Classifier benchmarks; writes the `## Classifiers` section of bench/BENCHMARKS.md.

1. All local built-ins except profanity on a 1 KB message, through the runner (no cache), one
   request at a time: p50 / p99 per request (targets: 200 µs, 1 ms).
2. regex + keywords with 5,000 patterns each: throughput in MB/s (target: 50 MB/s), against a
   baseline of Python `re` running the same patterns as one alternation (what RE2 replaces).
3. The verdict cache in a 20-turn conversation (bench/bench_cache.py).
4. Dev-split quality of the built-ins (`guard eval`).

Run: .venv/bin/python -m bench.bench_classifiers   (add --no-write to only print)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import re
import string
import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from bench import bench_cache
from bench.report import write_section
from guard.classify.builtin.keywords import KeywordsClassifier, KeywordsConfig
from guard.classify.builtin.regex import RegexClassifier, RegexConfig
from guard.classify.runner import ClassifierRunner
from guard.observability.metrics import Metrics
from guard.types import Segment, Stage

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "safety" / "prompts_dev.jsonl"
DEV_COMPLETIONS = DEV.with_name("completions_dev.csv")


def message_1kb(rng: random.Random) -> str:
    words = [*bench_cache.WORDS, "contact", "me", "at", "the", "office", "tomorrow", "please"]
    text = ""
    while len(text) < 1024:
        text += rng.choice(words) + " "
    return text[:1024]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def latency_1kb(n: int = 3000) -> dict[str, float]:
    rng = random.Random(3)
    classifiers = bench_cache.local_classifiers()
    runner = ClassifierRunner(Metrics(CollectorRegistry()))
    texts = [message_1kb(rng) for _ in range(200)]
    for t in texts[:50]:
        await runner.run(classifiers, [Segment(t, "user", 0, Stage.PROMPT)], Stage.PROMPT)
    wall, cpu = [], []
    for i in range(n):
        seg = [Segment(texts[i % len(texts)], "user", 0, Stage.PROMPT)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        await runner.run(classifiers, seg, Stage.PROMPT)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return {"wall50": percentile(wall, 50), "wall99": percentile(wall, 99),
            "cpu50": percentile(cpu, 50), "cpu99": percentile(cpu, 99)}


def throughput() -> dict[str, float]:
    rng = random.Random(5)
    vocab = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 12)))
             for _ in range(5000)]
    patterns = [rf"{w[:3]}\d+{w[3:]}" for w in vocab]
    # ~1 MB of prose with a hit every ~300 words (both a keyword and a regex hit)
    words = [rng.choice(bench_cache.WORDS) for _ in range(160_000)]
    for i in range(0, len(words), 300):
        words[i] = vocab[i % 5000]
        words[i + 1] = f"{vocab[i % 4999][:3]}42{vocab[i % 4999][3:]}"
    text = " ".join(words)
    dense = " ".join(rng.choice([*bench_cache.WORDS, *vocab[:5]]) for _ in range(160_000))
    mb = len(text.encode()) / 1e6
    rx = RegexClassifier("rx", RegexConfig.model_validate({"patterns": patterns}))
    kw = KeywordsClassifier("kw", KeywordsConfig.model_validate({"terms": vocab}))
    seg = [Segment(text, "user", 0, Stage.PROMPT)]
    out = {}
    for name, c in (("regex", rx), ("keywords", kw)):
        c.classify_sync(seg)
        started = time.perf_counter()
        reps = 3
        for _ in range(reps):
            c.classify_sync(seg)
        out[name] = mb * reps / (time.perf_counter() - started)
    started = time.perf_counter()
    kw.classify_sync([Segment(dense, "user", 0, Stage.PROMPT)])
    out["keywords_dense"] = len(dense.encode()) / 1e6 / (time.perf_counter() - started)
    baseline = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    started = time.perf_counter()
    sum(1 for _ in baseline.finditer(text))
    out["re_baseline"] = mb / (time.perf_counter() - started)
    return out


def dev_eval(data: Path, classifiers: str) -> str:
    """`guard eval --data DATA --classifiers CLASSIFIERS`, as its command line reads it."""
    from guard.classify.cli import cmd_eval, register

    if not data.exists():
        return f"({data.name} not found)"
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["eval", "--data", str(data), "--classifiers", classifiers])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        cmd_eval(args)
    return buf.getvalue()


def main() -> None:
    lat = asyncio.run(latency_1kb())
    load = os.getloadavg()[0]
    cpu50, cpu99 = lat["cpu50"] * 1e6, lat["cpu99"] * 1e6
    tp = throughput()
    kw, kw_ratio = tp["keywords"], tp["keywords"] / tp["re_baseline"]
    cache = asyncio.run(bench_cache.measure())
    turns = asyncio.run(bench_cache.measure_turns())
    quality = dev_eval(DEV, "prompt_injection,jailbreak,secrets,pii,invisible_text,encoded_text")
    completions = dev_eval(DEV_COMPLETIONS, "harmful_response")
    body = f"""
### Latency: all local built-ins except profanity, 1 KB message, through the runner

regex, keywords, pii, secrets, invisible_text, encoded_text, prompt_injection, jailbreak on one 1 KB message,
one request at a time on one core (no cache):

| clock | p50 | p99 | target |
|---|---|---|---|
| CPU time of the request's thread | **{cpu50:.0f} µs** | **{cpu99:.0f} µs** | p50 ≤ 200 µs, p99 ≤ 1 ms |
| wall clock | {lat['wall50'] * 1e6:.0f} µs | {lat['wall99'] * 1e6:.0f} µs | |

The machine is shared (load average {load:.1f} on 2 cores during this run): the wall-clock p99
includes time the process waited for a core; the CPU-time column is the classifiers' own cost.

### Throughput: 5,000 patterns in one pass (RE2 set screen, then spans for the matching ones)

| engine | MB/s | vs. Python `re` alternation |
|---|---|---|
| regex, 5,000 patterns | **{tp['regex']:.0f}** | {tp['regex'] / tp['re_baseline']:.0f}x |
| keywords, 5,000 terms (normalised, leet-folded, whole words) | **{kw:.0f}** | {kw_ratio:.0f}x |
| baseline: Python `re`, same patterns as one alternation | {tp['re_baseline']:.2f} | 1x |

Text: ~1 MB of prose with one keyword hit and one regex hit every ~300 words. With dense hits
(10% of all words are keywords, ~16,000 findings per MB) keywords runs at
{tp['keywords_dense']:.0f} MB/s: the cost is then per finding (span mapping and merging), not
per byte.

Engine choice (measured while building, 5,000 word patterns, ~1 MB): Hyperscan with start-of-match
scanned at ~1,800 MB/s but took ~7 s to compile (every policy reload) and builds only on x86;
an RE2 set compiled in ~30 ms and screened at ~440 MB/s; pyahocorasick matched at ~75 MB/s.
RE2 it is: linear time, fast to compile, portable.

### Verdict cache: 20-turn conversation

{bench_cache.report(cache)}
A segment seen before costs one dict look-up: its cache slot keeps a row with every classifier's
verdict at that position. Before rows (2026-12-04, a look-up per classifier and segment, 273 for
request 20), this machine gave 1.47-1.57x.

The trained user-message models in the same conversation, cached, each user message read alone
(`turns: 1`) and also joined to the two before it (`turns: 3`, their default; "Requests split across
messages" in "Trained classifiers"): the joined reading scores the newest message's ~1.2 KB of turns
once more per model.

{bench_cache.report_turns(turns)}
### Quality on the dev split (`guard eval`, classifiers with default thresholds)

Rows of kind `harmful_request` and `toxic_prefix` are for the trained models and profanity; the
heuristics are not meant to catch them. `prompt_injection` rows are sent inside a tool result.

```
{quality.strip()}
```

Completions (`guard eval --data completions_dev.csv`: harmful_response on each response, at the
completion stage):

```
{completions.strip()}
```
"""
    print(body)
    if "--no-write" not in sys.argv:
        write_section("Classifiers", ".venv/bin/python -m bench.bench_classifiers", body)


if __name__ == "__main__":
    main()
