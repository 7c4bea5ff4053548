"""Fits one n-gram logistic regression with scikit-learn and turns it into a shipped artefact."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from guard.classify.models.features import FEATURES_VERSION, features
from guard.classify.models.loader import ARTEFACT_FORMAT, TextModel, _parse
from training import evaluate
from training.data import Example

SEED = 13


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


def sklearn_scores(vectorizer: Any, clf: Any, texts: Sequence[str]) -> list[float]:
    """Scores of a fitted pair, with scikit-learn: what comparisons of features use, not the server."""
    return [float(p) for p in clf.predict_proba(vectorizer.transform(texts))[:, 1]]


@dataclass(frozen=True)
class Refit:
    """A comparison's fit, scored on dev: its scorer, its dev scores and threshold, and each dev
    group's flagged share."""

    score: Callable[[Sequence[str]], list[float]]
    dev_scores: list[float]
    threshold: float
    flagged: dict[str, float]


def refit_on_dev(
    name: str, train: Sequence[Example], dev: Sequence[Example], config: dict[str, Any]
) -> Refit:
    """Fits `train` with `config`, tunes `name`'s threshold on `dev` and reports dev per group."""
    score = functools.partial(sklearn_scores, *fit(train, **config))
    dev_scores = score([e.text for e in dev])
    threshold = evaluate.tune_threshold(name, dev, dev_scores)
    groups = evaluate.per_group(dev, dev_scores, threshold)
    return Refit(score, dev_scores, threshold, {g.group: g.flagged for g in groups})


def export(
    name: str,
    version: str,
    vectorizer: TfidfVectorizer,
    clf: LogisticRegression,
    threshold: float,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The artefact as a JSON-ready dict (n-grams sorted, floats rounded to 6 significant digits)."""
    vocab: dict[str, int] = vectorizer.vocabulary_
    idf = vectorizer.idf_
    coef = clf.coef_[0]
    grams = sorted(vocab)
    return {
        "format": ARTEFACT_FORMAT,
        "features_version": FEATURES_VERSION,
        "name": name,
        "version": version,
        "threshold": round(float(threshold), 6),
        "intercept": float(f"{clf.intercept_[0]:.6g}"),
        "grams": grams,
        "idf": [float(f"{idf[vocab[g]]:.6g}") for g in grams],
        "coef": [float(f"{coef[vocab[g]]:.6g}") for g in grams],
        "meta": meta,
    }


def to_model(name: str, raw: dict[str, Any]) -> TextModel:
    """The serving model for an artefact dict (what the package will load)."""
    return _parse(name, raw)


def write(raw: dict[str, Any], directory: Path) -> Path:
    """Writes the artefact reproducibly (no gzip timestamp, sorted keys)."""
    path = directory / f"{raw['name']}.json.gz"
    payload = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_bytes(gzip.compress(payload.encode("utf-8"), compresslevel=9, mtime=0))
    return path
