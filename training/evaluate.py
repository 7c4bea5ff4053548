# ruff: noqa: S311  (seeded generators make the training data reproducible; no secrets here)
"""Threshold tuning on the dev split and the figures reported per group (kind/dataset)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from guard.classify.evasion import TRANSFORMS
from guard.classify.models.loader import TextModel
from training import checkset, synthetic
from training.data import Example

# Dev rows that are reported and never place a threshold: the held-out documents of
# training/documents.py, which no budget names and which the response model's best F1 leaves out.
REPORTED_ONLY = "stdlib/"

# False-positive budgets per negative group (the targets), used to place the threshold.
FP_BUDGETS = {
    "harmful_request": {"benign/": 0.01, "over_refusal_safe/": 0.10},
    "jailbreak": {"benign/": 0.01, "over_refusal_safe/": 0.10, "instructions/": 0.01},
    "prompt_injection": {"documents/": 0.01, "benign/": 0.01},
}


@dataclass(frozen=True)
class GroupFigure:
    """How often a group scored at or above the threshold (recall for positives, FP rate else)."""

    group: str
    label: int
    n: int
    flagged: float


def _max_allowed(scores: Sequence[float], rate: float) -> float:
    """The lowest threshold at which at most `rate` of `scores` are at or above it."""
    ranked = sorted(scores, reverse=True)
    allowed = int(rate * len(ranked))
    if allowed >= len(ranked):
        return 0.0
    return ranked[allowed] + 1e-9


def tune_threshold(name: str, examples: Sequence[Example], scores: Sequence[float], only: str = "") -> float:
    """Dev-tuned threshold: FP budgets for detectors, best F1 for the response model."""
    if name in FP_BUDGETS:
        limits = []
        for prefix, rate in FP_BUDGETS[name].items():
            if not prefix.startswith(only):
                continue
            group = [
                s
                for e, s in zip(examples, scores, strict=True)
                if e.label == 0 and e.group.startswith(prefix)
            ]
            if group:
                limits.append(_max_allowed(group, rate))
        return max(limits) if limits else 0.5
    tuned = [(e, s) for e, s in zip(examples, scores, strict=True) if not e.group.startswith(REPORTED_ONLY)]
    return best_f1([e for e, _ in tuned], [s for _, s in tuned])[0]


def best_f1(examples: Sequence[Example], scores: Sequence[float]) -> tuple[float, float]:
    """(threshold, F1) maximising F1 over the observed scores."""
    pairs = sorted(zip(scores, (e.label for e in examples), strict=True), reverse=True)
    positives = sum(label for _, label in pairs)
    best = (0.5, 0.0)
    tp = 0
    for i, (score, label) in enumerate(pairs, start=1):
        tp += label
        f1 = 2 * tp / (i + positives)
        if f1 > best[1] and (i == len(pairs) or pairs[i][0] < score):
            best = (score, f1)
    return best


def f1_at(examples: Sequence[Example], scores: Sequence[float], threshold: float) -> dict[str, float]:
    """Precision, recall and F1 at a threshold."""
    tp = sum(1 for e, s in zip(examples, scores, strict=True) if e.label and s >= threshold)
    fp = sum(1 for e, s in zip(examples, scores, strict=True) if not e.label and s >= threshold)
    pos = sum(e.label for e in examples)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / pos if pos else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def per_group(examples: Sequence[Example], scores: Sequence[float], threshold: float) -> list[GroupFigure]:
    """Flag rate per group at the threshold."""
    groups: dict[tuple[str, int], list[bool]] = defaultdict(list)
    for e, s in zip(examples, scores, strict=True):
        groups[(e.group, e.label)].append(s >= threshold)
    return [
        GroupFigure(group, label, len(hits), sum(hits) / len(hits))
        for (group, label), hits in sorted(groups.items(), key=lambda kv: (-kv[0][1], kv[0][0]))
    ]


def robustness(
    model: TextModel, examples: Sequence[Example], kinds: Sequence[str], seed: int = 7
) -> dict[str, float]:
    """Recall on dev positives of `kinds`, plain and after each evasion transform."""
    positives = [e.text for e in examples if e.label and e.group.split("/")[0] in kinds]
    out = {"plain": _recall(model, positives)}
    for name, transform in TRANSFORMS.items():
        rng = random.Random(f"{seed}:{name}")
        out[name] = _recall(model, [transform(t, rng) for t in positives])
    return out


def _recall(model: TextModel, texts: Sequence[str]) -> float:
    return sum(s >= model.threshold for s in model.scores(texts)) / max(1, len(texts))


def languages(model: TextModel) -> dict[str, dict[str, float]]:
    """Flag rates on the hand-written French, German and Spanish samples."""
    out = {}
    for lang, sets in synthetic.MULTILINGUAL.items():
        out[lang] = {f"{kind} (n={len(texts)})": _recall(model, texts) for kind, texts in sets.items()}
    return out


def multilingual(
    model: TextModel, dev_rows: Sequence[Example], points: dict[str, float]
) -> dict[str, dict[str, object]]:
    """FR/DE/ES figures at each operating point: flag rate per group of the generator's dev
    templates, and per language of the three hand-written check sets (AUC, benign FP, harmful
    recall): the first one (`checkset`) and the helper-written ones (`languages_checkset`,
    `languages_checkset_b`)."""
    dev_scores = model.scores([e.text for e in dev_rows])
    sets = {
        "checkset": checkset.rows(checkset.MULTILINGUAL_PATH),
        "languages_checkset": checkset.language_rows(),
        "languages_checkset_b": checkset.language_rows(checkset.LANGUAGES_B_DIR),
    }
    scored = {key: (rows, model.scores([r.text for r in rows])) for key, rows in sets.items()}
    out: dict[str, dict[str, object]] = {}
    for point, threshold in points.items():
        out[point] = {
            "threshold": threshold,
            "dev_templates": {
                g.group: {"n": g.n, "label": g.label, "flagged": g.flagged}
                for g in per_group(dev_rows, dev_scores, threshold)
            },
            **{key: _per_language(rows, scores, threshold) for key, (rows, scores) in scored.items()},
        }
    return out


def _per_language(
    rows: Sequence[checkset.CheckRow], scores: Sequence[float], threshold: float
) -> dict[str, object]:
    """AUC, benign FP, harmful recall and per-category rates of each language ("<lang>/..." rows)."""
    out: dict[str, object] = {}
    for lang in ("de", "es", "fr"):
        pairs = [(r, s) for r, s in zip(rows, scores, strict=True) if r.category.startswith(lang + "/")]
        items, mine = [r for r, _ in pairs], [s for _, s in pairs]
        fig = checkset.figures(mine, threshold, items)
        out[lang] = {
            "auc": round(checkset.auc(mine, items), 4),
            "fp_rate": fig["fp_rate"],
            "recall": fig["recall"],
            "per_category": fig["per_category"],
        }
    return out


T = TypeVar("T")


def print_mean_rows(
    first: str, counts: Sequence[T], runs_of: Callable[[T], list[dict[str, float]]], percent: bool
) -> None:
    """One markdown row per count: each figure's mean over the runs `runs_of(count)` returns (the
    columns are the first runs' keys), as a percentage or as it is."""
    header: list[str] = []
    for count in counts:
        runs = runs_of(count)
        if not header:
            header = sorted(runs[0])
            print(f"| {first} | " + " | ".join(header) + " |")
            print("|---|" + "---|" * len(header))
        means = [sum(r[k] for r in runs) / len(runs) for k in header]
        cells = [f"{100 * m:.1f}" if percent else f"{m:.3f}" for m in means]
        print(f"| {count} | " + " | ".join(cells) + " |", flush=True)
