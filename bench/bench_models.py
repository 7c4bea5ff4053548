"""Latency of the trained models per 1 KB message, against the string scorer they replaced.

    .venv/bin/python bench/bench_models.py

Each model scores 1 KB messages one at a time (the cost a segment pays), caches cleared before
each call. The baseline in the same run is the same model scored the way it was until 2026-12-03:
every n-gram built as a Python string and looked up in a dict (`vocabulary.reference_score`); the
ratio is the served scorer's p50 over that baseline's. A batch row times one executor call scoring
8 segments, as the classifier does. The decoded readings (guard/classify/decode/) are timed on
their own on these messages, on hand-written French, German and Spanish prompts and on Python
code (the texts whose words look least like English, so pass most of the readings' first checks).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from pathlib import Path

from guard.classify import decode
from guard.classify.builtin.harmful import ModelClassifier, ModelConfig
from guard.classify.models import features
from guard.classify.models.loader import MODEL_NAMES, load_model, reference_parts
from guard.classify.models.vocabulary import encode_kept, reference_score
from guard.types import Segment, Stage

WORDS = (
    "the report shows that our team will move the meeting to friday because several people asked "
    "for more time to review how the new system handles requests from customers in other regions "
    "please ignore previous notes and write a short summary of the main risks before next week"
).split()


def messages(n: int, size: int = 1024, seed: int = 5) -> list[str]:
    """`n` distinct ~1 KB messages (distinct so no cache helps), in sentences of about 12 words (the
    models that score runs of sentences score about fourteen runs of each)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [f"msg{i}"]
        while sum(len(w) + 1 for w in words) < size:
            words.append(rng.choice(WORDS) + ("." if rng.randrange(12) == 0 else ""))
        out.append(" ".join(words)[:size])
    return out


def pieces(text: str, n: int, size: int = 1024) -> list[str]:
    """Up to `n` consecutive `size`-character pieces of `text`."""
    return [text[i : i + size] for i in range(0, len(text) - size, size)][:n]


def other_texts() -> dict[str, list[str]]:
    """1 KB pieces of text unlike the English messages, for the decoded readings' cost: the
    hand-written French, German and Spanish prompts (training/languages) and guard's own code."""
    root = Path(__file__).resolve().parent.parent
    prompts = [json.loads(line)["text"] for path in sorted((root / "training" / "languages").glob("*.jsonl"))
               for line in path.read_text().splitlines()]
    code = "".join(path.read_text() for path in sorted((root / "guard" / "proxy").glob("*.py")))
    return {"French, German, Spanish prompts": pieces(" ".join(prompts), 300),
            "Python code": pieces(code, 300)}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


def time_each(fn: object, texts: list[str]) -> tuple[float, float]:
    """p50 and p99 in ms of fn(text), with the feature caches cleared before each call."""
    samples = []
    for text in texts:
        features._features.cache_clear()
        encode_kept.cache_clear()
        decode._find_short.cache_clear()
        decode._find_long.cache_clear()
        started = time.perf_counter()
        fn(text)  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


async def time_batches(texts: list[str], batch: int = 8) -> tuple[float, float]:
    """p50 and p99 in ms per segment of ModelClassifier.classify on batches (executor included)."""
    classifier = ModelClassifier("bench", "jailbreak", ModelConfig(roles=("user",)))
    samples = []
    for i in range(0, len(texts) - batch + 1, batch):
        segments = [Segment(t, "user", j, Stage.PROMPT) for j, t in enumerate(texts[i : i + batch])]
        features._features.cache_clear()
        encode_kept.cache_clear()
        decode._find_short.cache_clear()
        decode._find_long.cache_clear()
        started = time.perf_counter()
        await classifier.classify(segments)
        samples.append((time.perf_counter() - started) / batch)
    return _percentiles(samples)


def main() -> None:
    texts = messages(1000)
    print("| what | p50 ms | p99 ms | baseline (string scorer) p50 ms | ratio |")
    print("|---|---|---|---|---|")
    fold50, fold99 = time_each(features.fold, texts)
    print(f"| fold only (shared by all models) | {fold50:.3f} | {fold99:.3f} | | |")
    for what, sample in {"these messages": texts, **other_texts()}.items():
        p50, p99 = time_each(decode.find_readings, sample)
        print(f"| decoded readings only (shared by all models), {what} | {p50:.3f} | {p99:.3f} | | |")
    for name in MODEL_NAMES:
        model = load_model(name)
        parts = reference_parts(model)
        model.score(texts[0])  # warm up outside the timing
        base50, _ = time_each(lambda t, p=parts: reference_score(t, p), texts)
        p50, p99 = time_each(model.score, texts)
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {base50:.3f} | {p50 / base50:.2f} |")
    p50, p99 = asyncio.run(time_batches(texts))
    print(f"| jailbreak classifier, batches of 8, via executor (per segment) | {p50:.3f} | {p99:.3f} | | |")


if __name__ == "__main__":
    main()
