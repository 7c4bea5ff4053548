"""Fits n-gram logistic regressions with scikit-learn and turns them into a shipped artefact."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from guard.classify.models.features import FEATURES_VERSION, WORD, features, fold, fold_fingerprint
from guard.classify.models.loader import ARTEFACT_FORMAT, TextModel, _parse
from training import data, evaluate
from training.data import Example, Recipe

SEED = 13
# The specialist regression of a recipe (data.Recipe.specialist): chosen in training/compare.py.
SPECIALIST_CONFIG = {"c": 1.0, "max_features": 60000}
# The word regression of a recipe (data.Recipe.words) keeps this many word 1-2-grams; its C is the
# recipe's `words_c`.
WORD_GRAMS = 60000


# The bigram regression of a recipe (data.Recipe.bigrams).
BIGRAM_CONFIG = {"c": 2.0, "max_features": 60000}


# The skip-pair regression of a recipe (data.Recipe.skip_pairs; compare.py only): pairs of words up
# to SKIP_PAIR_SPAN apart, adjacent ones excluded (the bigrams have them).
SKIP_PAIR_CONFIG: dict[str, Any] = {"c": 1.0, "max_features": 60000}
SKIP_PAIR_SPAN = 4


def skip_pair_grams(text: str) -> list[str]:
    """Ordered pairs of words two to SKIP_PAIR_SPAN apart (`p:` features, which the server lacks)."""
    words = WORD.findall(fold(text))
    return [
        f"p:{first} {words[j]}"
        for i, first in enumerate(words)
        for j in range(i + 2, min(len(words), i + SKIP_PAIR_SPAN + 1))
    ]


def word_grams(text: str) -> list[str]:
    """Word 1-2-grams only (the `w:` and `b:` features)."""
    return [f for f in features(text) if f[:2] in ("w:", "b:")]


def bigram_grams(text: str) -> list[str]:
    """Word bigrams only (the `b:` features)."""
    return [f for f in features(text) if f[:2] == "b:"]


def class_balanced(labels: Sequence[int], weights: Sequence[float]) -> list[float]:
    """Fitting weights times n / (2 * class count), as class_weight="balanced" does."""
    n = len(labels)
    count = {c: sum(1 for y in labels if y == c) for c in (0, 1)}
    return [w * n / (2 * count[y]) for y, w in zip(labels, weights, strict=True)]


def fit(
    examples: Sequence[Example],
    *,
    c: float,
    max_features: int,
    analyzer: Any = features,
    sample_weight: Sequence[float] | None = None,
) -> tuple[TfidfVectorizer, LogisticRegression]:
    """TF-IDF (sublinear tf, l2) over n-grams, then an L2 logistic regression, balanced classes."""
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, max_features=max_features)
    x = vectorizer.fit_transform([e.text for e in examples])
    y = [e.label for e in examples]
    clf = LogisticRegression(
        C=c, class_weight="balanced", max_iter=3000, solver="liblinear", random_state=SEED
    )
    clf.fit(x, y, sample_weight=None if sample_weight is None else list(sample_weight))
    return vectorizer, clf


# A fitted regression with its weight in the model's sum of decisions.
Part = tuple[float, TfidfVectorizer, LogisticRegression]


def fit_parts(
    train: list[Example],
    recipe: Recipe,
    seed: int,
    *,
    c: float,
    max_features: int,
    analyzer: Any = features,
) -> list[Part]:
    """The regression over `train` (weighted as `recipe` says) and, if the recipe asks for them,
    the specialist over `data.specialist_set`, the word regression over `train` (or `data.bigram_set`
    with `words_pastfuture`), the bigram regression over `data.bigram_set` and the skip-pair
    regression over `train`, each at the recipe's weight."""
    weights = data.weights(train, recipe)
    main = fit(train, c=c, max_features=max_features, analyzer=analyzer, sample_weight=weights)
    parts: list[Part] = [(1.0, *main)]
    if recipe.specialist:
        special = fit(data.specialist_set(train, recipe, seed), **SPECIALIST_CONFIG, analyzer=analyzer)
        parts.append((recipe.specialist, *special))
    if recipe.words:
        rows, row_weights = (
            data.bigram_set(train, weights, seed, recipe) if recipe.words_pastfuture else (train, weights)
        )
        worded = fit(
            rows, c=recipe.words_c, max_features=WORD_GRAMS, analyzer=word_grams, sample_weight=row_weights
        )
        parts.append((recipe.words, *worded))
    if recipe.bigrams:
        rows, row_weights = data.bigram_set(train, weights, seed, recipe)
        paired = fit(rows, **BIGRAM_CONFIG, analyzer=bigram_grams, sample_weight=row_weights)
        parts.append((recipe.bigrams, *paired))
    if recipe.skip_pairs:
        skipped = fit(train, **SKIP_PAIR_CONFIG, analyzer=skip_pair_grams, sample_weight=weights)
        parts.append((recipe.skip_pairs, *skipped))
    return parts


def sklearn_scores(vectorizer: Any, clf: Any, texts: Sequence[str]) -> list[float]:
    """Scores of a fitted pair, with scikit-learn: what comparisons of features use, not the server."""
    return [float(p) for p in clf.predict_proba(vectorizer.transform(texts))[:, 1]]


def parts_scores(parts: Sequence[Part], texts: Sequence[str]) -> list[float]:
    """Scores of weighted regressions, with scikit-learn: sigmoid of the weighted decisions' sum."""
    if len(parts) == 1 and parts[0][0] == 1.0:
        return sklearn_scores(parts[0][1], parts[0][2], texts)
    z = sum(weight * clf.decision_function(vectorizer.transform(texts)) for weight, vectorizer, clf in parts)
    return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]


@dataclass(frozen=True)
class Refit:
    """A comparison's fit, scored on dev: its scorer, its dev scores and threshold, and each dev
    group's flagged share."""

    score: Callable[[Sequence[str]], list[float]]
    dev_scores: list[float]
    threshold: float
    flagged: dict[str, float]


def refit_on_dev(
    name: str, train: Sequence[Example], dev: Sequence[Example], config: dict[str, Any], sentences: int = 0
) -> Refit:
    """Fits `train` with `config`, tunes `name`'s threshold on `dev` and reports dev per group. With
    `sentences` it scores as the server would on runs of that many sentences (`TextModel.sentences`)."""
    pair = fit(train, **config)
    if sentences:
        raw = export(name, "compare", [(1.0, *pair)], 0.5, {})
        raw["sentences"] = sentences
        score: Callable[[Sequence[str]], list[float]] = to_model(name, raw).scores
    else:
        score = functools.partial(sklearn_scores, *pair)
    dev_scores = score([e.text for e in dev])
    threshold = evaluate.tune_threshold(name, dev, dev_scores)
    groups = evaluate.per_group(dev, dev_scores, threshold)
    return Refit(score, dev_scores, threshold, {g.group: g.flagged for g in groups})


def export(
    name: str, version: str, parts: Sequence[Part], threshold: float, meta: dict[str, Any]
) -> dict[str, Any]:
    """The artefact as a JSON-ready dict: the n-grams of every part, sorted, and per part its weight,
    intercept, idf and coefficients over them (0 where it lacks the n-gram; floats rounded to 6
    significant digits)."""
    grams = sorted({g for _, vectorizer, _ in parts for g in vectorizer.vocabulary_})
    return {
        "format": ARTEFACT_FORMAT,
        "features_version": FEATURES_VERSION,
        "fold": fold_fingerprint(),
        "name": name,
        "version": version,
        "threshold": round(float(threshold), 6),
        "grams": grams,
        "regressions": [_regression(weight, vectorizer, clf, grams) for weight, vectorizer, clf in parts],
        "meta": meta,
    }


def _regression(
    weight: float, vectorizer: TfidfVectorizer, clf: LogisticRegression, grams: list[str]
) -> dict[str, Any]:
    vocab: dict[str, int] = vectorizer.vocabulary_
    idf, coef = vectorizer.idf_, clf.coef_[0]
    return {
        "weight": weight,
        "intercept": float(f"{clf.intercept_[0]:.6g}"),
        "idf": [float(f"{idf[vocab[g]]:.6g}") if g in vocab else 0.0 for g in grams],
        "coef": [float(f"{coef[vocab[g]]:.6g}") if g in vocab else 0.0 for g in grams],
    }


def to_model(name: str, raw: dict[str, Any]) -> TextModel:
    """The serving model for an artefact dict (what the package will load)."""
    return _parse(name, raw)


def write(raw: dict[str, Any], directory: Path, stem: str | None = None) -> Path:
    """Writes the artefact reproducibly (no gzip timestamp, sorted keys) as `<stem>.json.gz`
    (default: the model's name)."""
    path = directory / f"{stem or raw['name']}.json.gz"
    payload = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_bytes(gzip.compress(payload.encode("utf-8"), compresslevel=9, mtime=0))
    return path
