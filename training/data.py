# ruff: noqa: S311  (seeded generators make the training data reproducible; no secrets here)
"""Builds the labelled sets each model trains on (train split) and is measured on (dev split).

Every set is a list of `Example(text, label, group)`; `group` is `kind/dataset` for the public rows
and `synthetic/...` for the project's own material, so figures can be reported per group.
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from training import synthetic

DATA_DIR = Path(
    os.environ.get("GUARD_SAFETY_DATA", Path(__file__).resolve().parents[2] / "shared/data/safety")
)
PLACEHOLDERS = ("{{ prompt }}", "[INSERT PROMPT HERE]")
MODELS = ("harmful_request", "jailbreak", "prompt_injection", "harmful_response")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; `label` is 1 for the class the model detects."""

    text: str
    label: int
    group: str


def prompts(split: str) -> list[dict[str, str]]:
    """Rows of prompts_<split>.jsonl."""
    with (DATA_DIR / f"prompts_{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def completions(split: str) -> list[dict[str, str]]:
    """Rows of completions_<split>.csv (question, Response, label)."""
    csv.field_size_limit(1 << 26)
    with (DATA_DIR / f"completions_{split}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _group(row: dict[str, str]) -> str:
    return f"{row['kind']}/{row['dataset']}"


def _of_kind(rows: list[dict[str, str]], kind: str) -> list[dict[str, str]]:
    return [r for r in rows if r["kind"] == kind]


def fill_templates(
    rows: list[dict[str, str]], requests: list[str], rng: random.Random, fills: int
) -> list[Example]:
    """Jailbreak templates with their placeholder filled by harmful requests of the same split."""
    out = []
    for row in rows:
        text = row["text"]
        marks = [p for p in PLACEHOLDERS if p in text]
        if not marks:
            out.append(Example(text, 1, _group(row)))
            continue
        for _ in range(fills):
            out.append(Example(text.replace(marks[0], rng.choice(requests)), 1, _group(row)))
    return out


def carriers(split: str, rng: random.Random, count: int) -> list[str]:
    """Neutral document bodies: generated prose, and model answers that are not refusals."""
    answers = [
        r["Response"][:800]
        for r in completions(split)
        if r["label"] == "0"
        and len(r["Response"]) > 200
        and "sorry" not in r["Response"][:80]
        and r["Response"].isascii()
    ]
    out = []
    for i in range(count):
        if i % 2 and answers:
            out.append(rng.choice(answers))
        else:
            out.append(synthetic.prose(rng, rng.randint(2, 7)))
    return out


def _injection_set(split: str, rng: random.Random, per_attack: int) -> list[Example]:
    attacks = [r["text"] for r in _of_kind(prompts(split), "prompt_injection")]
    bodies = carriers(split, rng, len(attacks) * per_attack * 2)
    out = []
    for i, attack in enumerate(attacks * per_attack):
        doc = synthetic.wrap_document(synthetic.embed(attack, bodies[2 * i], rng), rng)
        out.append(Example(doc, 1, "prompt_injection/bipia_attacks (embedded)"))
        clean = synthetic.wrap_document(bodies[2 * i + 1], rng)
        out.append(Example(clean, 0, "documents/clean carriers"))
    return out


def build(model: str, split: str, seed: int = 13) -> list[Example]:
    """The labelled set of `model` on `split` (`train` or `dev`)."""
    rng = random.Random(f"{model}:{split}:{seed}")
    rows = prompts(split)
    harmful = [r["text"] for r in _of_kind(rows, "harmful_request")]
    benign = [Example(r["text"], 0, _group(r)) for r in _of_kind(rows, "benign")]
    over_refusal = [Example(r["text"], 0, _group(r)) for r in _of_kind(rows, "over_refusal_safe")]
    own_over_refusal = [
        Example(t, 0, "synthetic/over_refusal")
        for t in synthetic.over_refusal_prompts(rng, 600 if split == "train" else 0)
    ]
    if model == "harmful_response":
        return [
            Example(r["Response"], int(r["label"]), f"completions/label={r['label']}")
            for r in completions(split)
        ]
    if model == "prompt_injection":
        return _injection_set(split, rng, 6 if split == "train" else 1) + benign
    if model == "harmful_request":
        pos = [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "harmful_request")]
        if split == "train":
            pos += [Example(t, 1, "synthetic/tense") for t in synthetic.tense_rewordings(harmful, rng)]
        neg = benign + over_refusal + own_over_refusal
        if split == "train":
            neg += [Example(t, 0, "synthetic/long_benign") for t in synthetic.long_benign_prompts(rng, 300)]
            neg += [
                Example(t, 0, "synthetic/contrastive_benign") for t in synthetic.contrastive_benign(rng, 700)
            ]
        if split == "dev":
            # Reported only (toxic text, not a request for harmful help); never used for tuning.
            pos += [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "toxic_prefix")]
        return pos + neg
    if model == "jailbreak":
        pos = [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "jailbreak_prompt")]
        pos += fill_templates(
            _of_kind(rows, "jailbreak_template"), harmful, rng, 3 if split == "train" else 1
        )
        neg = benign + over_refusal + own_over_refusal
        neg += [
            Example(t, 0, _group(r) + " (plain)")
            for r in _of_kind(rows, "harmful_request")
            for t in [r["text"]]
        ]
        if split == "train":
            neg += [Example(t, 0, "synthetic/long_benign") for t in synthetic.long_benign_prompts(rng, 600)]
            neg += [Example(r["Response"], 0, "completions/responses") for r in completions(split)[::3]]
        else:
            neg += [
                Example(t, 0, "synthetic/long_benign (dev seed)")
                for t in synthetic.long_benign_prompts(rng, 200)
            ]
        return pos + neg
    raise ValueError(f"unknown model {model!r}")
