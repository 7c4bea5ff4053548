"""The shipped policy packs on the dev split: what `guard eval --policy` reports for each.

    .venv/bin/python bench/bench_packs.py

Recall on unsafe rows and false-positive rate on safe rows, per kind and per dataset, with the
latency of one policy decision per request (every classifier the prompt stage runs); then the same
for the dev completions, each response checked at the completion stage (precision, recall, F1).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import write_section

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "safety" / "prompts_dev.jsonl"
COMPLETIONS = DATA.with_name("completions_dev.csv")
PACKS = ("policies/default.yaml", "policies/strict.yaml")


def evaluate(pack: str, data: Path = DATA) -> str:
    done = subprocess.run([sys.executable, "-m", "guard", "eval", "--data", str(data), "--policy",
                           pack], cwd=ROOT, capture_output=True, text=True, check=True)
    table = done.stdout[done.stdout.index("kind "):].rstrip()
    what = "" if data == DATA else f" on {data.name}"
    return f"### {pack}{what}\n\n```\n{table}\n```\n"


def main() -> None:
    body = ("Safe rows of every kind are also evaluated embedded in a retrieved document "
            "(`@document`); prompt injections are evaluated inside a tool result, where they are "
            "attacks. `harmful_request` and `toxic_prefix` are not blocked by the default pack "
            "(it has no harmful-request rule); the strict pack blocks harmful requests.\n\n")
    body += "\n".join(evaluate(pack) for pack in PACKS)
    body += ("\nCompletions: each response of completions_dev.csv checked at the completion stage "
             "(every completion rule of the pack: harmful-response, secrets, PII, profanity, ...; "
             "the file names each question by an id, so no answer is read with its question).\n\n")
    body += "\n".join(evaluate(pack, COMPLETIONS) for pack in PACKS)
    write_section("Policy packs on the dev split",
                  "make bench  (bench/bench_packs.py: guard eval --data prompts_dev.jsonl "
                  "--policy PACK)", body)
    print(body)


if __name__ == "__main__":
    main()
