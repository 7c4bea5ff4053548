"""Instructions in carried text: what each shipped pack blocks of clean documents and of attacks
read as a user message, a tool result and a document.

    .venv/bin/python bench/bench_carried.py

The injection heuristic reads some features only in tool results and documents (an imperative or a
question starting a sentence, "your answer", an order to the AI or about the user). Each text is
sent alone, in each role, through the whole pack (every prompt rule); a cell is the share blocked
by the pack, and in brackets by its `prompt-injection` rule. Clean sets: those of
bench_document_roles.py (dev split and hand-written check sets). Attacks: the dev split's BIPIA
attacks embedded in carrier documents and its dev-template injected documents (training/data.py),
the planted instructions of training/injected_docs_checkset.jsonl and
training/tool_results_checkset.jsonl.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_document_roles import PACKS, clean_sets
from bench.report import table, write_section
from guard.classify.runner import ClassifierRunner, warm_up
from guard.observability.metrics import Metrics
from guard.policy.store import PolicyStore
from guard.types import Action, GuardContext, Segment, Stage
from training import checkset, data
from training.fit import SEED

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("user", "tool", "document")
RULE = "prompt-injection"


def attack_sets() -> dict[str, list[str]]:
    by_group: dict[str, list[str]] = {}
    for example in data.build("prompt_injection", "dev", SEED):
        if example.label:
            by_group.setdefault(example.group, []).append(example.text)
    return {
        "dev BIPIA attacks embedded": by_group["prompt_injection/bipia_attacks (embedded)"],
        "dev-template injected documents": by_group["synthetic/injected documents (dev templates)"],
        "hand-written planted instructions": [
            r.text for r in checkset.pair_rows(checkset.INJECTED_DOCS_PATH) if r.label],
        "tool results check set, planted": [
            r.text for r in checkset.rows(checkset.TOOL_RESULTS_PATH) if r.label],
    }


async def shares(pack: str, sets: dict[str, list[str]]) -> dict[str, list[tuple[float, float]]]:
    """Per set and role: the share the pack blocks, and the share its prompt-injection rule does."""
    metrics = Metrics()
    runner = ClassifierRunner(metrics)
    store = PolicyStore(ROOT / pack, runner, metrics)
    await warm_up(store.current.classifiers())
    ctx = GuardContext(request_id="bench", route="/v1/chat/completions", model="bench")
    out: dict[str, list[tuple[float, float]]] = {}
    try:
        for label, texts in sets.items():
            out[label] = []
            for role in ROLES:
                blocked = by_rule = 0
                for text in texts:
                    segment = Segment(text, role, 0, Stage.PROMPT)
                    decision = await store.for_request(ctx).inspect(Stage.PROMPT, [segment])
                    blocked += decision.action is Action.BLOCK
                    by_rule += any(m.rule == RULE and m.action is Action.BLOCK
                                   for m in decision.enforced)
                out[label].append((blocked / len(texts), by_rule / len(texts)))
    finally:
        await runner.aclose()
    return out


async def measure() -> str:
    sets = {**clean_sets(), **attack_sets()}
    body = ""
    for pack in PACKS:
        got = await shares(pack, sets)
        rows = [[f"{label} ({len(texts)})",
                 *(f"{100 * b:.1f}% ({100 * r:.1f}%)" for b, r in got[label])]
                for label, texts in sets.items()]
        body += f"\n\n{pack}, blocked (by `{RULE}`):\n\n" + table(["set", *ROLES], rows)
    return body


def main() -> None:
    body = asyncio.run(measure())
    write_section("Instructions in carried text", "python bench/bench_carried.py",
                  __doc__.split("\n\n", 2)[2].strip() + body)
    print(body)


if __name__ == "__main__":
    main()
