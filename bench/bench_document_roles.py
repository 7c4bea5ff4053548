"""Should harmful_request and jailbreak_model read retrieved documents (the `document` role)?

    .venv/bin/python bench/bench_document_roles.py

Each model is run as the proxy runs it (`ModelClassifier.classify`, roles `user` and `document`,
its default `turns`), at the thresholds the shipped packs give it: jailbreak_model 0.2 (default
and strict), harmful_request 0.866 (strict; the default pack has none) and 0.412 (strict's
`harmful_in_doubt`, which only gates an answer's lower bar). The figures are the share flagged of:

- clean documents the prompt-injection model is measured on: the dev split's clean carriers and
  look-alike clean documents, the dev fifth of training/documents.py (technical documents, bare),
  the clean rows of training/tool_results_checkset.jsonl, training/ai_docs_checkset.jsonl and the
  clean twins of training/injected_docs_checkset.jsonl;
- the dev split's benign and over_refusal_safe prompts, each sent as a document;
- the dev split's harmful requests and jailbreaks (prompts and filled templates), each sent as a
  document (recall), beside the same texts sent as a user message; and the share each shipped pack
  blocks (every prompt rule: heuristics, injection model, hazard phrases) as a user message and as
  a document, with its models' roles as shipped.

"alone": each text in a request of its own. "3 at a time": the texts sent in threes (a RAG
request with three documents), so each is also read joined to the documents before it, as user
messages are (`turns: 3`); the share of those requests in which the model fires on any.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import table, write_section
from guard.classify.builtin.harmful import ModelClassifier, ModelConfig
from guard.classify.runner import ClassifierRunner, warm_up
from guard.observability.metrics import Metrics
from guard.policy.store import PolicyStore
from guard.types import Action, GuardContext, Segment, Stage
from training import checkset, data
from training.fit import SEED

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT.parent / "shared" / "data" / "safety" / "prompts_dev.jsonl"
ROLES = ("user", "document")
# (column, model, threshold): the packs' thresholds for the models that read only `user` today
MODELS = (
    ("jailbreak_model @0.2 (both packs)", "jailbreak", 0.2),
    ("harmful_request @0.866 (strict)", "harmful_request", 0.866),
    ("harmful_request @0.412 (strict, doubt)", "harmful_request", 0.412),
)
AT_ONCE = 3
PACKS = ("policies/default.yaml", "policies/strict.yaml")


def _prompts(*kinds: str) -> list[str]:
    with PROMPTS.open(encoding="utf-8") as fh:
        return [row["text"] for line in fh if (row := json.loads(line))["kind"] in kinds]


def clean_sets() -> dict[str, list[str]]:
    dev = data.build("prompt_injection", "dev", SEED)
    by_group: dict[str, list[str]] = {}
    for example in dev:
        if not example.label:
            by_group.setdefault(example.group, []).append(example.text)
    return {
        "dev clean carriers": by_group["documents/clean carriers"],
        "dev look-alike clean documents": by_group["documents/hard negatives (dev templates)"],
        "clean technical documents (dev fifth)": by_group["stdlib/documents (dev fifth)"],
        "tool results check set, clean": [
            r.text for r in checkset.rows(checkset.TOOL_RESULTS_PATH) if not r.label],
        "documents about AI assistants": [r.text for r in checkset.rows(checkset.AI_DOCS_PATH)],
        "hand-written documents, clean twins": [
            r.text for r in checkset.pair_rows(checkset.INJECTED_DOCS_PATH) if not r.label],
        "dev benign prompts as documents": _prompts("benign"),
        "dev over_refusal_safe as documents": _prompts("over_refusal_safe"),
    }


def attack_sets() -> dict[str, list[str]]:
    return {
        "dev harmful requests": _prompts("harmful_request"),
        "dev jailbreaks (prompts + templates)": _prompts("jailbreak_prompt", "jailbreak_template"),
    }


async def flagged(model: ModelClassifier, texts: Sequence[str], role: str, at_once: int) -> float:
    """Share of requests the model fires on, `texts` sent `at_once` to a request with `role`."""
    hits = requests = 0
    for start in range(0, len(texts), at_once):
        batch = texts[start:start + at_once]
        segments = [Segment(t, role, i, Stage.PROMPT, tuple(batch[max(0, i - model.turns + 1):i]))
                    for i, t in enumerate(batch)]
        hits += any(v.labels for v in await model.classify(segments))
        requests += 1
    return hits / requests


async def blocked(pack: str, sets: dict[str, list[str]]) -> dict[str, tuple[float, float]]:
    """Per set: the share `pack` blocks of its texts sent as a user message, and as a document."""
    metrics = Metrics()
    runner = ClassifierRunner(metrics)
    store = PolicyStore(ROOT / pack, runner, metrics)
    await warm_up(store.current.classifiers())
    ctx = GuardContext(request_id="bench", route="/v1/chat/completions", model="bench")
    out = {}
    try:
        for label, texts in sets.items():
            shares = []
            for role in ROLES:
                hits = 0
                for text in texts:
                    segment = Segment(text, role, 0, Stage.PROMPT)
                    decision = await store.for_request(ctx).inspect(Stage.PROMPT, [segment])
                    hits += decision.action is Action.BLOCK
                shares.append(hits / len(texts))
            out[label] = (shares[0], shares[1])
    finally:
        await runner.aclose()
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


async def measure() -> str:
    models = [(column, ModelClassifier(name, name, ModelConfig(threshold=t, roles=ROLES)))
              for column, name, t in MODELS]
    clean = clean_sets()
    rows = []
    for label, texts in clean.items():
        cells = []
        for _, model in models:
            alone = await flagged(model, texts, "document", 1)
            joined = await flagged(model, random.Random(SEED).sample(texts, len(texts)),
                                   "document", AT_ONCE)
            cells.append(f"{_pct(alone)} / {_pct(joined)}")
        rows.append([f"{label} ({len(texts)})", *cells])
    body = ("Clean texts sent as documents, share of requests flagged, alone / 3 at a time:\n\n"
            + table(["set", *(c for c, _ in models)], rows))
    rows = []
    for label, texts in attack_sets().items():
        cells = []
        for _, model in models:
            as_user = await flagged(model, texts, "user", 1)
            as_document = await flagged(model, texts, "document", 1)
            cells.append(f"{_pct(as_user)} / {_pct(as_document)}")
        rows.append([f"{label} ({len(texts)})", *cells])
    body += ("\n\nRecall, each text in a request of its own, as a user message / as a document "
             "(the same model reads both):\n\n" + table(["set", *(c for c, _ in models)], rows))
    attacks = attack_sets()
    packs = {pack: await blocked(pack, attacks) for pack in PACKS}
    rows = [[f"{label} ({len(texts)})",
             *(" / ".join(map(_pct, packs[pack][label])) for pack in PACKS)]
            for label, texts in attacks.items()]
    body += ("\n\nBlocked by the whole pack, models' roles as shipped, as a user message / as a "
             "document:\n\n" + table(["set", *PACKS], rows))
    body += ("\n\nAdding `document` to the two models' default roles is held to flagging at most 1% of "
             "clean documents at the packs' thresholds: jailbreak_model flags a tenth of the "
             "look-alike clean documents and a quarter of the documents about AI assistants, "
             "harmful_request an eighth of the clean carriers, so the defaults stay `user` and "
             "THREAT_MODEL.md states the trade (\"A harmful request or a jailbreak in a "
             "document\"). The model scores a text the same in either role.")
    return body


def main() -> None:
    body = asyncio.run(measure())
    write_section("Documents read by the user-only models",
                  "python bench/bench_document_roles.py", __doc__.split("\n\n", 2)[2] + "\n" + body)
    print(body)


if __name__ == "__main__":
    main()
