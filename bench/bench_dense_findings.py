"""What a text dense with findings costs the pattern classifiers: CPU time of `pii` and `secrets`
on texts of one value repeated, at two lengths, in one run.

    .venv/bin/python bench/bench_dense_findings.py [--kib 64]

A scan's cost should grow with the values it finds, so the longer text costs twice the shorter.
It had not: each value was compared with every one found before it, and 9,000 short addresses
(63 KB) took 3.4 s, past the 1 s a check may take (guard answered 503 guard_overloaded).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish
from guard.classify.registry import build_classifier
from guard.types import Segment, Stage

# (classifier, what the text holds, the value it repeats, with what follows it)
TEXTS = [
    ("pii", "e-mail addresses", "ab@cd.ef "),
    ("pii", "e-mail addresses in Cyrillic", "ж@ж.жж "),
    ("pii", "phone numbers", "call +1 415 555 2671 "),
    ("pii", "card numbers", "4111 1111 1111 1111, "),
    ("pii", "IBANs", "GB82 WEST 1234 5698 7654 32 "),
    ("pii", "SSNs", "ssn 123-45-6780 "),
    ("pii", "IPv4 addresses", "10.0.0.1 "),
    ("pii", "IPv6 addresses", "2001:db8::1 "),
    ("secrets", "AWS key ids", "AKIAIOSFODNN7EXAMPLF "),
    ("secrets", "secret-named AWS key ids", "secret=AKIAIOSFODNN7EXAMPLF "),
    ("secrets", "secret-named passwords", "password=Xq9vT2mL8pR4wZ7k "),
]


def cpu(classifier: Any, text: str, runs: int = 3) -> tuple[int, float]:
    """(spans found, least CPU seconds) of classifying `text`, `runs` times (the machine is
    shared: the least is the classifier's own cost)."""
    times = []
    for _ in range(runs):
        started = time.process_time()
        verdict = classifier.classify_sync([Segment(text, "user", 0, Stage.PROMPT)])[0]
        times.append(time.process_time() - started)
    return len(verdict.spans), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kib", type=int, default=64, help="length of the shorter text")
    args = parser.parse_args()
    built = {name: build_classifier(name, {"type": name}).classifier for name in ("pii", "secrets")}
    for classifier in built.values():  # word lists and tables load on first use
        cpu(classifier, "ab@cd.ef secret=AKIAIOSFODNN7EXAMPLF", runs=1)
    rows = []
    for name, holds, value in TEXTS:
        repeats = args.kib * 1024 // len(value)
        found, short = cpu(built[name], value * repeats)
        _, long = cpu(built[name], value * repeats * 2)
        rows.append([name, holds, f"{found:,}", f"{short:.2f}", f"{short / found * 1e6:.0f}",
                     f"{long / short:.2f}"])
    intro = (f"One value repeated over {args.kib} KiB of text and over twice that; CPU time of "
             "the least of three classifications (the verdict's spans counted on the shorter).")
    publish("Texts dense with findings", f"bench/bench_dense_findings.py --kib {args.kib}", intro,
            ["classifier", "text of", "values found", "CPU s", "µs a value", "ratio at twice the length"],
            rows)


if __name__ == "__main__":
    main()
