# ruff: noqa: S311  (seeded generators make the evasion transforms reproducible; no secrets here)
"""Static embeddings (model2vec distilled from MiniLM) against the shipped n-gram harmful_request model.

    OMP_NUM_THREADS=1 python -m training.embed_compare            # every variant
    OMP_NUM_THREADS=1 python -m training.embed_compare "pca 256"  # variants whose label matches
    OMP_NUM_THREADS=1 python -m training.embed_compare --injection  # the prompt_injection model

Needs the `embed` and `train` extras. Every head is fitted on the same train rows (and fitting
weights) as the shipped n-gram model (training/data.py with HARMFUL_RECIPE), its thresholds placed
on dev with the issue's FP budgets (training/evaluate.py), then measured on dev, on the hand-written
check set (training/checkset.jsonl, evaluation only), after the evasion transforms, and on the
FR/DE/ES samples. The n-gram baseline is the shipped artefact, scored by the server's own code.
Prints Markdown tables (copied into bench/BENCHMARKS.md).
"""

from __future__ import annotations

import json
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from guard.classify.evasion import TRANSFORMS
from guard.classify.models.loader import load_model
from training import checkset, data, evaluate, synthetic
from training.compare import pct, recall
from training.embed import Embedder, distil
from training.fit import SEED, class_balanced, fit

Scorer = Callable[[Sequence[str]], list[float]]


@dataclass
class Variant:
    """One model to measure: a label and a function from texts to scores."""

    label: str
    score: Scorer
    fit_s: float


def _unit(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    # model2vec's own encode() L2-normalises the mean; a linear head then no longer collapses to
    # one number per token, but it is measured to see what the normalisation is worth.
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def embedding_heads(pca: int, train: list[data.Example], weights: list[float]) -> list[Variant]:
    """LR and MLP heads on the mean embedding of one distilled model."""
    tokens, vectors = distil(pca)
    embedder = Embedder(tokens, vectors)
    y = [e.label for e in train]
    out = []
    for unit in (False, True):
        x = embedder.mean([e.text for e in train])
        x = _unit(x) if unit else x
        scaler = StandardScaler().fit(x)
        xs = scaler.transform(x)

        def scorer(clf: Any, unit: bool = unit, scaler: StandardScaler = scaler) -> Scorer:
            def score(texts: Sequence[str]) -> list[float]:
                z = embedder.mean(texts)
                z = _unit(z) if unit else z
                return [float(p) for p in clf.predict_proba(scaler.transform(z))[:, 1]]

            return score

        pooled = "L2-normalised mean" if unit else "mean"
        started = time.perf_counter()
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, random_state=SEED)
        lr.fit(xs, y, sample_weight=weights)
        out.append(
            Variant(f"pca {pca}, {pooled}, logistic regression", scorer(lr), time.perf_counter() - started)
        )
        for hidden in (32, 64):
            started = time.perf_counter()
            mlp = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-2, max_iter=200, random_state=SEED)
            with warnings.catch_warnings():
                # 200 epochs is the budget; a head that has not fully converged is still measured.
                warnings.simplefilter("ignore", ConvergenceWarning)
                # MLPClassifier has no class_weight: the balancing goes into the sample weights
                mlp.fit(xs, y, sample_weight=np.asarray(class_balanced(y, weights)))
            out.append(
                Variant(f"pca {pca}, {pooled}, MLP {hidden}", scorer(mlp), time.perf_counter() - started)
            )
    return out


def joint(pca: int, train: list[data.Example], weights: list[float], alpha: float) -> Variant:
    """One logistic regression over the n-gram TF-IDF features and the (scaled) mean embedding."""
    started = time.perf_counter()
    tokens, vectors = distil(pca)
    embedder = Embedder(tokens, vectors)
    vectorizer, _ = fit(train, c=16.0, max_features=40000)
    texts = [e.text for e in train]
    scaler = StandardScaler().fit(embedder.mean(texts))

    def features(batch: Sequence[str]) -> Any:
        dense = alpha * scaler.transform(embedder.mean(batch))
        return sp.hstack([vectorizer.transform(batch), sp.csr_matrix(dense)]).tocsr()

    clf = LogisticRegression(
        C=16.0, class_weight="balanced", max_iter=3000, solver="liblinear", random_state=SEED
    )
    clf.fit(features(texts), [e.label for e in train], sample_weight=weights)

    def score(batch: Sequence[str]) -> list[float]:
        return [float(p) for p in clf.predict_proba(features(batch))[:, 1]]

    label = f"one LR over n-grams + pca {pca} mean embedding (x{alpha})"
    return Variant(label, score, time.perf_counter() - started)


def ensemble(a: Variant, b: Variant) -> Variant:
    """Mean of two models' scores."""

    def score(texts: Sequence[str]) -> list[float]:
        return [(p + q) / 2 for p, q in zip(a.score(texts), b.score(texts), strict=True)]

    return Variant(f"mean of n-gram and {a.label if 'n-gram' not in a.label else b.label}", score, 0.0)


def measure(v: Variant, dev: list[data.Example], check: list[checkset.CheckRow]) -> tuple[str, str]:
    """(quality row, robustness/languages row) of one variant."""
    dev_scores = v.score([e.text for e in dev])
    check_scores = v.score([r.text for r in check])
    cells = []
    thresholds = []
    for only in ("", "benign/"):
        threshold = evaluate.tune_threshold("harmful_request", dev, dev_scores, only=only)
        thresholds.append(threshold)
        fig = checkset.figures(check_scores, threshold, check)
        over = [s for e, s in zip(dev, dev_scores, strict=True) if e.group.startswith("over_refusal_safe/")]
        cells.append(pct(recall(dev, dev_scores, threshold)))
        cells.append(pct(sum(s >= threshold for s in over) / len(over)))
        cells.append(f"{pct(float(fig['fp_rate']))} / {pct(float(fig['recall']))}")  # type: ignore[arg-type]
    cells.append(f"{checkset.auc(check_scores, check):.3f}")
    quality = f"| {v.label} | {' | '.join(cells)} | {v.fit_s:.0f} |"

    threshold = thresholds[0]
    positives = [e.text for e in dev if e.label and e.group.startswith("harmful_request/")]
    robust = [pct(_rate(v.score(positives), threshold))]
    for name, transform in TRANSFORMS.items():
        rng = random.Random(f"7:{name}")
        robust.append(pct(_rate(v.score([transform(t, rng) for t in positives]), threshold)))
    langs = []
    for lang, sets in synthetic.MULTILINGUAL.items():
        rates = {kind: _rate(v.score(texts), threshold) for kind, texts in sets.items()}
        langs.append(f"{lang} {'/'.join(pct(r) for r in rates.values())}")
    return quality, f"| {v.label} | {' | '.join(robust)} | {'; '.join(langs)} |"


def _rate(scores: Sequence[float], threshold: float) -> float:
    return sum(s >= threshold for s in scores) / max(1, len(scores))


INJECTION_CHECK = Path(__file__).resolve().parent / "injection_checkset.jsonl"


def injection() -> int:
    """The same heads for prompt_injection: dev, and hand-written documents with and without attacks.

    training/injection_checkset.jsonl holds 20 clean documents (emails, tool results, web pages, notes)
    written for this project and the same documents with one hand-written injected instruction each;
    evaluation only, never used to fit or to tune.
    """
    train = data.build("prompt_injection", "train", SEED)
    dev = data.build("prompt_injection", "dev", SEED)
    with INJECTION_CHECK.open(encoding="utf-8") as fh:
        check = [checkset.CheckRow(**json.loads(line)) for line in fh if line.strip()]
    ngram = Variant("n-gram (shipped, version 1)", load_model("prompt_injection").scores, 0.0)
    variants = [ngram]
    weights = [1.0] * len(train)
    for pca in (256, 384):
        heads = [h for h in embedding_heads(pca, train, weights) if "normalised" in h.label]
        variants += heads + [ensemble(ngram, h) for h in heads]
    print(
        "| model | dev recall | dev FP (clean carriers / benign) | hand-written FP / recall at dev threshold "
        "| hand-written AUC |"
    )
    print("|---|---|---|---|---|")
    for v in variants:
        scores = v.score([e.text for e in dev])
        threshold = evaluate.tune_threshold("prompt_injection", dev, scores)
        pos = [s for e, s in zip(dev, scores, strict=True) if e.label]
        carriers = [s for e, s in zip(dev, scores, strict=True) if e.group.startswith("documents/")]
        benign = [s for e, s in zip(dev, scores, strict=True) if e.group.startswith("benign/")]
        check_scores = v.score([r.text for r in check])
        fig = checkset.figures(check_scores, threshold, check)
        print(
            f"| {v.label} | {pct(_rate(pos, threshold))} | {pct(_rate(carriers, threshold))} / "
            f"{pct(_rate(benign, threshold))} | {pct(float(fig['fp_rate']))} / "  # type: ignore[arg-type]
            f"{pct(float(fig['recall']))} | {checkset.auc(check_scores, check):.3f} |",  # type: ignore[arg-type]
            flush=True,
        )
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--injection"]:
        return injection()
    train = data.build("harmful_request", "train", SEED)
    weights = data.weights(train, data.HARMFUL_RECIPE)
    dev = data.build("harmful_request", "dev", SEED)
    check = checkset.rows()
    ngram_model = load_model("harmful_request")
    ngram = Variant("n-gram (shipped, version 1)", ngram_model.scores, 0.0)
    variants = [ngram]
    for pca in (128, 256, 384):
        heads = embedding_heads(pca, train, weights)
        variants += heads
        variants += [ensemble(ngram, h) for h in heads if "MLP 64" in h.label or "normalised" in h.label]
        if pca != 128:
            variants.append(joint(pca, train, weights, 0.01))
    chosen = [v for v in variants if not argv or any(a in v.label for a in argv)]
    kinds = "/".join(next(iter(synthetic.MULTILINGUAL.values())))
    quality_rows, robust_rows = [], []
    for v in chosen:
        q, r = measure(v, dev, check)
        print(q, flush=True)
        quality_rows.append(q)
        robust_rows.append(r)
    print()
    print(
        "| model | dev recall (both budgets) | dev over_refusal FP | check FP / recall "
        "| dev recall (benign budget only) | dev over_refusal FP | check FP / recall | check AUC | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(quality_rows))
    print()
    print(f"| model | dev recall plain | {' | '.join(TRANSFORMS)} | FR/DE/ES flagged ({kinds}) |")
    print("|---|---|" + "---|" * len(TRANSFORMS) + "---|")
    print("\n".join(robust_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
