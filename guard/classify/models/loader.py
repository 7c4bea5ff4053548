"""Loads the shipped text models and scores texts with them.

A model is a logistic regression over TF-IDF weighted n-grams (see `features.py`): the score of a
text is sigmoid(w · x / |x| + b) where x holds (1 + ln count) * idf for every known n-gram. The
artefact is a gzipped JSON file beside this module; nothing is fetched, nothing is compiled.
The n-grams are found as integer keys with numpy (`vocabulary.py`), never built as strings.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from guard.classify.models.features import FEATURES_VERSION
from guard.classify.models.vocabulary import Vocabulary, encode
from guard.errors import ClassifierError

ARTEFACT_FORMAT = 1
MODEL_NAMES = ("harmful_request", "jailbreak", "prompt_injection", "harmful_response")


@dataclass(frozen=True)
class TextModel:
    """A trained binary text classifier.

    name:      what it detects (one of MODEL_NAMES).
    version:   artefact version (bumped by each retraining that changes figures).
    threshold: score at or above which a text counts as positive, tuned on the dev split.
    grams, idf, coef: the artefact's columns (n-gram, inverse document frequency, weight).
    """

    name: str
    version: str
    threshold: float
    intercept: float
    grams: tuple[str, ...]
    idf: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]
    vocabulary: Vocabulary
    meta: dict[str, Any]

    def score(self, text: str) -> float:
        """Probability-like score in [0, 1] that `text` belongs to the class."""
        columns, n = self.vocabulary.columns(encode(text))
        x = self.idf[columns] * (1.0 + np.log(n))
        squares = float(x @ x)
        z = self.intercept + (float(x @ self.coef[columns]) / math.sqrt(squares) if squares else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Scores of several texts (one call per batch of segments)."""
        return [self.score(t) for t in texts]


def _parse(name: str, raw: dict[str, Any]) -> TextModel:
    if raw.get("format") != ARTEFACT_FORMAT or raw.get("features_version") != FEATURES_VERSION:
        raise ClassifierError(
            f"model {name!r}: artefact format {raw.get('format')}/{raw.get('features_version')} "
            f"does not match this guard ({ARTEFACT_FORMAT}/{FEATURES_VERSION}); retrain it"
        )
    grams, idf, coef = raw["grams"], raw["idf"], raw["coef"]
    if not len(grams) == len(idf) == len(coef):
        raise ClassifierError(f"model {name!r}: artefact columns differ in length")
    return TextModel(
        name=raw["name"],
        version=str(raw["version"]),
        threshold=float(raw["threshold"]),
        intercept=float(raw["intercept"]),
        grams=tuple(grams),
        idf=np.array(idf, dtype=np.float64),
        coef=np.array(coef, dtype=np.float64),
        vocabulary=Vocabulary(grams),
        meta=dict(raw.get("meta", {})),
    )


_lock = threading.Lock()
_loaded: dict[str, TextModel] = {}


def load_model(name: str) -> TextModel:
    """The shipped model `name`, loaded once per process (thread-safe) from package data."""
    if name not in MODEL_NAMES:
        raise ClassifierError(f"unknown model {name!r} (expected one of {', '.join(MODEL_NAMES)})")
    with _lock:
        model = _loaded.get(name)
        if model is None:
            ref = resources.files("guard.classify.models").joinpath(f"{name}.json.gz")
            try:
                raw = json.loads(gzip.decompress(ref.read_bytes()))
            except (OSError, ValueError) as exc:
                raise ClassifierError(f"model {name!r}: cannot read its artefact: {exc}") from exc
            model = _loaded[name] = _parse(name, raw)
        return model
