"""A twin-difference regression beside harmful_request's (`python -m training.twins_compare [SEED]`).

The hand-written sets put many harmful requests right before a harmless twin in the same words
(category "x", then "x_twin"). A regression fitted on the differences of such pairs' n-gram
vectors, without an intercept, learns only what tells a request from its twin: the words both
share cancel out. Added to version 21's decision (version 19's recipe) at a few weights, it is scored like the
variants of training/compare.py: dev recall at both budgets, then FP / recall and AUC on each
hand-written two-label set at that threshold. Measured, not shipped (bench/BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from guard.classify.models.features import features
from training import checkset, data, evaluate
from training.compare import LABELLED_SETS, VERSION_19, pct, recall
from training.fit import Part, fit_parts

HERE = Path(__file__).resolve().parent


def twin_pairs(train_texts: set[str]) -> list[tuple[str, str]]:
    """(harmful, harmless twin) pairs of the hand-written folders, both of them training rows."""
    pairs = []
    for path in sorted(HERE.glob("*/*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for first, second in itertools.pairwise(rows):
            if (
                first.get("label") == "unsafe" and second.get("label") == "safe"
                and str(second.get("category", "")).endswith("_twin")
                and first["text"] in train_texts and second["text"] in train_texts
            ):
                pairs.append((first["text"], second["text"]))
    return pairs


def decision(parts: Sequence[Part], texts: Sequence[str]) -> np.ndarray:
    return sum(w * clf.decision_function(v.transform(texts)) for w, v, clf in parts)  # type: ignore[return-value]


def main(argv: list[str]) -> int:
    seed = int(argv[0]) if argv else 13
    train = data.build("harmful_request", "train", seed, recipe=VERSION_19)
    pairs = twin_pairs({e.text for e in train})
    parts = fit_parts(train, VERSION_19, seed, c=1.5, max_features=60000)
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=2, max_features=60000)
    vectorizer.fit([e.text for e in train])
    diff = vectorizer.transform([h for h, _ in pairs]) - vectorizer.transform([b for _, b in pairs])
    x, y = sp.vstack([diff, -diff]), [1] * len(pairs) + [0] * len(pairs)
    dev = data.build("harmful_request", "dev")
    labelled = [load() for load in LABELLED_SETS.values()]
    texts = [[e.text for e in dev]] + [[r.text for r in rows] for rows in labelled]
    base = [decision(parts, t) for t in texts]
    print(f"{len(pairs)} twin pairs; | C, weight | dev recall | " + " | ".join(LABELLED_SETS) + " |")
    for c in (0.5, 2.0):
        twins = LogisticRegression(C=c, fit_intercept=False, max_iter=3000, solver="liblinear")
        twins.fit(x, y)
        extra = [twins.decision_function(vectorizer.transform(t)) for t in texts]
        for weight in (0.0, 0.25, 0.5, 1.0):
            scores = [list(1 / (1 + np.exp(-(b + weight * e)))) for b, e in zip(base, extra, strict=True)]
            threshold = evaluate.tune_threshold("harmful_request", dev, scores[0])
            cells = [pct(recall(dev, scores[0], threshold))]
            for rows, s in zip(labelled, scores[1:], strict=True):
                fig = checkset.figures(s, threshold, rows)
                cells.append(f"{pct(float(fig['fp_rate']))} / {pct(float(fig['recall']))} "  # type: ignore[arg-type]
                             f"({checkset.auc(s, rows):.3f})")
            print(f"| {c}, {weight} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
