"""Loads the shipped text models and scores texts with them.

A model is one or more logistic regressions over TF-IDF weighted n-grams (see `features.py`) that
share one n-gram list. The decision of a regression on a text is b + w · x / |x|, where x holds
(1 + ln count) * idf for every n-gram it knows (a regression gives the n-grams it does not know an
idf of 0); the score is sigmoid(sum of weight * decision). The artefact is a gzipped JSON file
beside this module; nothing is fetched, nothing is compiled. A model whose artefact says `sentences`
scores a text as the highest of that and the score of each run of so many consecutive sentences;
a text longer than `vocabulary.WINDOW_CHARS` is scored whole and in windows too, the highest
counting, so its middle is read as its start is. The n-grams are found as integer keys with numpy
(`vocabulary.py`), never built as strings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import structlog

from guard.classify.decode import as_read
from guard.classify.derived_cache import cache_dir
from guard.classify.models import cache as model_cache
from guard.classify.models.features import FEATURES_VERSION, fold_fingerprint
from guard.classify.models.vocabulary import Runs, Vocabulary, encode, reference_table
from guard.errors import ClassifierError

ARTEFACT_FORMAT = 2
# Bounds on an artefact a policy names (the shipped ones: under 2 MiB, 8 MiB unpacked): a path
# to a device or a huge file is an error, not memory read until the process dies.
MAX_ARTEFACT_BYTES = 64 << 20
MAX_MODEL_BYTES = 512 << 20
MODEL_NAMES = ("harmful_request", "jailbreak", "prompt_injection", "harmful_response")
# Models shipped in more than one recipe: a variant is another artefact of the same model, trained
# for another kind of traffic (training/train.py RECIPES), in `<name>.<variant>.json.gz`.
VARIANTS: dict[str, tuple[str, ...]] = {"harmful_request": ("conversational",)}
FOLD = fold_fingerprint()

log = structlog.get_logger("guard.classify.models")


@dataclass(frozen=True)
class Regression:
    """One logistic regression over a model's n-gram columns, and its weight in the model's sum."""

    weight: float
    intercept: float
    idf: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]

    def decision(self, columns: npt.NDArray[np.intp], tf: npt.NDArray[np.float64]) -> float:
        """intercept + coef · x / |x| for the columns present, each `tf` = 1 + ln count times."""
        x = self.idf[columns] * tf
        squares = float(x @ x)
        return self.intercept + (float(x @ self.coef[columns]) / math.sqrt(squares) if squares else 0.0)

    def added(self, columns: npt.NDArray[np.intp], tf: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """What each present column adds to `decision` beyond the intercept (it sums to that)."""
        x = self.idf[columns] * tf
        norm = math.sqrt(float(x @ x))
        return x * self.coef[columns] / norm if norm else np.zeros(len(columns))

    def decisions(self, runs: Runs) -> npt.NDArray[np.float64]:
        """`decision` of every run of sentences at once (sums per run with `np.bincount`)."""
        x = self.idf[runs.columns] * (1.0 + np.log(runs.counts))
        squares = np.bincount(runs.run, weights=x * x, minlength=runs.size)
        dots = np.bincount(runs.run, weights=x * self.coef[runs.columns], minlength=runs.size)
        norms = np.sqrt(squares)
        return self.intercept + np.divide(dots, norms, out=np.zeros(runs.size), where=norms > 0)


@dataclass(frozen=True)
class TextModel:
    """A trained binary text classifier.

    name:        what it detects (one of MODEL_NAMES).
    version:     artefact version (bumped by each retraining that changes figures).
    threshold:   score at or above which a text counts as positive, tuned on the dev split.
    grams:       the n-grams of every regression (the artefact's column names).
    regressions: the regressions whose weighted decisions add up to the score.
    sentences:   0, or score a text as the highest of its whole score and the score of each run of
                 this many consecutive sentences (a planted sentence weighs little in a long
                 document's n-gram vector; see `Vocabulary.lookup`).
    """

    name: str
    version: str
    threshold: float
    grams: tuple[str, ...]
    regressions: tuple[Regression, ...]
    vocabulary: Vocabulary
    meta: dict[str, Any]
    sentences: int = 0

    def score(self, text: str, unglue: bool = True) -> float:
        """Probability-like score in [0, 1] that `text` belongs to the class: the highest of the
        text's own and those of its decoded readings (base64, hex, binary, Morse, ciphers, written
        backwards or upside down; `decode.as_read`). `unglue`: words run together are split
        (the costliest reading, `features.fold`)."""
        z = max(self._decision(read, unglue) for read in as_read(text))
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def _decision(self, text: str, unglue: bool = True) -> float:
        columns, n, runs = self.vocabulary.lookup(encode(text, unglue), self.sentences)
        tf = 1.0 + np.log(n)
        z = float(sum(r.weight * r.decision(columns, tf) for r in self.regressions))
        if runs is not None:
            z = max(z, float(np.max(sum(r.weight * r.decisions(runs) for r in self.regressions))))
        return z

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Scores of several texts (one call per batch of segments)."""
        return [self.score(t) for t in texts]

    def decided_on(self, text: str) -> str:
        """The text whose decision gave `score(text)`: the text itself or one of its readings."""
        read = as_read(text)
        return max(read, key=self._decision) if len(read) > 1 else read[0]

    def leaning(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """The `k` n-grams that push the whole text's decision sum most towards the class, with
        what each adds to it (`guard policy explain`; runs of sentences are not explained)."""
        columns, n, _ = self.vocabulary.lookup(encode(text), 0)
        tf = 1.0 + np.log(n)
        added = sum((r.weight * r.added(columns, tf) for r in self.regressions), np.zeros(len(columns)))
        top = [int(i) for i in np.argsort(-added, kind="stable")[:k] if added[i] > 0]
        return [(self.grams[int(columns[i])], float(added[i])) for i in top]


def _parse(name: str, raw: dict[str, Any]) -> TextModel:
    if raw.get("format") != ARTEFACT_FORMAT or raw.get("features_version") != FEATURES_VERSION:
        raise ClassifierError(
            f"model {name!r}: artefact format {raw.get('format')}/{raw.get('features_version')} "
            f"does not match this guard ({ARTEFACT_FORMAT}/{FEATURES_VERSION}); retrain it"
        )
    grams = raw["grams"]
    regressions = tuple(_regression(name, part, len(grams)) for part in raw["regressions"])
    if not regressions:
        raise ClassifierError(f"model {name!r}: artefact holds no regression")
    return TextModel(
        name=raw["name"],
        version=str(raw["version"]),
        threshold=float(raw["threshold"]),
        grams=tuple(grams),
        regressions=regressions,
        vocabulary=Vocabulary(grams),
        meta=dict(raw.get("meta", {})),
        sentences=int(raw.get("sentences", 0)),
    )


def _regression(name: str, part: dict[str, Any], columns: int) -> Regression:
    idf, coef = part["idf"], part["coef"]
    if not columns == len(idf) == len(coef):
        raise ClassifierError(f"model {name!r}: artefact columns differ in length")
    return Regression(
        weight=float(part["weight"]),
        intercept=float(part["intercept"]),
        idf=np.array(idf, dtype=np.float64),
        coef=np.array(coef, dtype=np.float64),
    )


def reference_parts(model: TextModel) -> list[tuple[float, float, dict[str, tuple[float, float]]]]:
    """(weight, intercept, n-gram table) per regression: what `vocabulary.reference_score` takes to
    score a model string by string (tests, benchmark)."""
    return [(r.weight, r.intercept, reference_table(model.grams, r.idf, r.coef)) for r in model.regressions]


_lock = threading.Lock()
_loaded: dict[str, TextModel] = {}


def artefact_stem(name: str, variant: str | None = None) -> str:
    """The file name, less `.json.gz` or `.md`, of a shipped model or of one of its variants."""
    return name if variant is None else f"{name}.{variant}"


def load_model(name: str, variant: str | None = None) -> TextModel:
    """The shipped model `name` (or its `variant`), loaded once per process (thread-safe) from
    package data."""
    if name not in MODEL_NAMES:
        raise ClassifierError(f"unknown model {name!r} (expected one of {', '.join(MODEL_NAMES)})")
    if variant is not None and variant not in VARIANTS.get(name, ()):
        known = ", ".join(VARIANTS.get(name, ())) or "none"
        raise ClassifierError(f"model {name!r} has no variant {variant!r} (it has: {known})")
    stem = artefact_stem(name, variant)
    with _lock:
        model = _loaded.get(stem)
        if model is None:
            ref = resources.files("guard.classify.models").joinpath(f"{stem}.json.gz")
            try:
                blob = ref.read_bytes()
            except OSError as exc:
                raise ClassifierError(f"model {stem!r}: cannot read its artefact: {exc}") from exc
            model = _loaded[stem] = shipped_model(name, stem, blob)
        return model


def shipped_model(name: str, stem: str, blob: bytes) -> TextModel:
    """The shipped artefact `blob` of `name` as a model: read from the derived-table cache when a
    start has kept it there (`models/cache.py`), else built from it and kept."""
    directory = cache_dir()
    key = model_cache.model_key(blob) if directory is not None else ""
    cached = model_cache.read_model(stem, key, directory) if directory is not None else None
    if cached is None or cached[0].name != name:
        cached = _built(name, blob)
        if directory is not None:
            model_cache.write_model(stem, key, directory, *cached)
    _check_fold(name, "", cached[1])
    return cached[0]


def load_artefact(name: str, path: Path) -> tuple[TextModel, str]:
    """A `name` model retrained into a file of its own (`python -m training.train --out DIR`) and
    the SHA-256 of that file. Read on every call, so a policy reload takes a rewritten file."""
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ClassifierError(f"model artefact {str(path)!r}: not a regular file")
            blob = file.read(MAX_ARTEFACT_BYTES + 1)
    except OSError as exc:
        raise ClassifierError(f"model artefact {str(path)!r}: cannot read it: {exc.strerror or exc}") from exc
    if len(blob) > MAX_ARTEFACT_BYTES:
        raise ClassifierError(f"model artefact {str(path)!r}: larger than "
                              f"{MAX_ARTEFACT_BYTES >> 20} MiB, not a model of this guard")
    model = _decode(name, blob, str(path))
    return model, hashlib.sha256(blob).hexdigest()


def _inflate(blob: bytes, label: str) -> bytes:
    """A gzip artefact unpacked, up to MAX_MODEL_BYTES (EOFError when it is cut short)."""
    inflate = zlib.decompressobj(wbits=31)  # gzip
    text = inflate.decompress(blob, MAX_MODEL_BYTES + 1)
    if len(text) > MAX_MODEL_BYTES:
        raise ClassifierError(f"{label}: unpacks to more than {MAX_MODEL_BYTES >> 20} MiB, "
                              "not a model of this guard")
    if not inflate.eof:
        raise EOFError("it ends before its compressed data does")
    return text


_DIGITS = bytes(ord("1") if c in b"0123456789" else ord(" ") for c in range(256))
_DIGIT_RUN = b"1" * 19


def _json(text: bytes) -> Any:
    """The artefact's JSON: orjson reads the shipped ones (a million numbers) in half the stdlib's
    time, to the same floats. The stdlib, which read every artefact before, still reads what orjson
    refuses (NaN, UTF-16) or reads otherwise (an integer outside 64 bits, as a float; a run of 19
    digits finds every such one): the same files load to the same values and fail with the same words."""
    try:
        if _DIGIT_RUN not in text.translate(_DIGITS):
            return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    return json.loads(text)


def _decode(name: str, blob: bytes, where: str = "") -> TextModel:
    """The model in a gzipped JSON artefact, checked to be a `name` model of this guard's format."""
    model, fold = _built(name, blob, where)
    _check_fold(name, where, fold)
    return model


def _built(name: str, blob: bytes, where: str = "") -> tuple[TextModel, Any]:
    """`_decode`'s model, and the fold the artefact says it was trained with."""
    label = f"model artefact {where!r}" if where else f"model {name!r}"
    try:
        raw = _json(_inflate(blob, label))
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise ClassifierError(f"{label}: not a gzipped JSON artefact: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("name") != name:
        found = raw.get("name") if isinstance(raw, dict) else None
        raise ClassifierError(f"{label}: holds a {found!r} model, not {name!r}")
    try:
        model = _parse(name, raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ClassifierError(f"{label}: malformed artefact ({type(exc).__name__}: {exc})") from exc
    return model, raw.get("fold")


def _check_fold(name: str, where: str, fold: Any) -> None:
    if fold != FOLD:
        # Trained by a guard that folded text otherwise (an older release): it still scores, a
        # little off on the texts the two folds read differently, until it is retrained.
        log.warning(
            "model artefact was trained with another text fold; retrain it", model=name,
            artefact=where or None, artefact_fold=fold, fold=FOLD,
        )
