"""Gradient-boosted trees over word n-grams beside the shipped harmful_request model.

    OMP_NUM_THREADS=2 python -m training.gbm_compare [--seed N]

Needs the `train` extra and `pip install lightgbm==4.7.0` (measured only, so not an extra). The
question: does a model that sees words together ("kill" and "human" in one request) rank the
over_refusal near-copies below the harmful requests where a sum of n-gram weights cannot? Trees
are fitted on the shipped recipe's train rows and fitting weights (class-balanced), over binary
word 1-2-grams of the folded text; their raw score is added, at a weight, to the shipped model's
decision (its logit), and each sum's thresholds are placed on dev with the issue's budgets
(training/evaluate.py). Prints a Markdown table (copied into bench/BENCHMARKS.md).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from guard.classify.models.loader import load_model
from training import data, evaluate
from training.compare import pct, recall
from training.data import Example
from training.fit import class_balanced, word_grams

# (leaves, rounds): a small and a larger forest, both at learning rate 0.05.
FORESTS = ((31, 400), (63, 800))
# Weights of the trees' raw score in the sum; None is the trees alone.
WEIGHTS = (0.25, 0.5, 1.0, 2.0, None)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _row(label: str, dev: Sequence[Example], z: np.ndarray[Any, Any]) -> str:
    scores = list(1 / (1 + np.exp(-z)))
    cells = []
    for only in ("", "benign/"):
        threshold = evaluate.tune_threshold("harmful_request", dev, scores, only=only)
        cells.append(pct(recall(dev, scores, threshold)))
    return f"| {label} | {' | '.join(cells)} |"


def main(argv: list[str]) -> int:
    seed = int(argv[1]) if argv[:1] == ["--seed"] else 13
    train = data.build("harmful_request", "train", seed)
    dev = data.build("harmful_request", "dev")
    vectorizer = CountVectorizer(analyzer=word_grams, binary=True, min_df=3, max_features=40000)
    x = vectorizer.fit_transform([e.text for e in train]).astype(np.float32)
    x_dev = vectorizer.transform([e.text for e in dev]).astype(np.float32)
    y = np.array([e.label for e in train])
    weights = np.array(class_balanced(list(y), data.weights(train, data.HARMFUL_RECIPE)))
    shipped = load_model("harmful_request")
    z_shipped = np.array([_logit(shipped.score(e.text)) for e in dev])
    print("| model | dev recall (both budgets) | dev recall (benign budget only) |")
    print("|---|---|---|")
    print(_row(f"shipped version {shipped.version}", dev, z_shipped), flush=True)
    for leaves, rounds in FORESTS:
        started = time.perf_counter()
        forest = lgb.LGBMClassifier(
            n_estimators=rounds, num_leaves=leaves, learning_rate=0.05, min_child_samples=10,
            colsample_bytree=0.3, subsample=0.8, subsample_freq=1, reg_lambda=1.0,
            random_state=seed, n_jobs=2, verbose=-1,
        )
        forest.fit(x, y, sample_weight=weights)
        z_trees = forest.predict(x_dev, raw_score=True)
        fitted = time.perf_counter() - started
        for weight in WEIGHTS:
            added = " alone" if weight is None else f", + {weight} x trees"
            label = f"{leaves} leaves, {rounds} trees{added}"
            z = z_trees if weight is None else z_shipped + weight * z_trees
            print(_row(f"{label} ({fitted:.0f} s to fit)", dev, z), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
