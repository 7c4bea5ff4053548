"""`profanity`: offensive language, scored by the linear model that alt-profanity-check ships.

The model (scikit-learn) is an optional extra: `pip install 'guard[profanity]'`. Without it the
classifier cannot be built, and the policy error says which extra to install. All segments of a
request are scored in one batch: inline when small (microseconds), in a worker thread when large
or before the model has been loaded.
Labels: `profanity`; a segment that fires has one span over its whole text. The model reads
English: a text most of whose words are not English (ENGLISH_SHARE) scores 0.
The weights are read once per process: from a small per-user cache file when it holds this
package's weights (`_profanity_cache`), else unpickled from the package, scikit-learn and all.
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import off_loop, small, until_stopped
from guard.classify.builtin._profanity_cache import (
    Plain,
    Weights,
    cache_dir,
    package_key,
    read_weights,
    write_weights,
)
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.classify.words import common_word
from guard.errors import ClassifierError
from guard.types import Segment, Span, Verdict

STREAM_WINDOW_CHARS = 256
_lock = threading.Lock()
_model: LinearTextModel | None = None
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # the vectorizer's own token pattern


class LinearTextModel:
    """alt-profanity-check's model, scored without scikit-learn's per-call overhead.

    The package ships a TF-IDF vectorizer (word unigrams, l2 norm) and a calibrated linear SVM
    (several folds, each with a sigmoid). Their weights are read once into plain dicts: scoring a
    short text then costs tens of microseconds instead of about 4 ms per call, with the same
    probabilities (tests compare it with the package's own `predict_prob`).
    """

    def __init__(self, weights: Weights, intercepts: tuple[float, ...],
                 sigmoids: tuple[tuple[float, float], ...]) -> None:
        self.weights = weights  # term -> (idf, one coefficient per fold)
        self.intercepts = intercepts
        self.sigmoids = sigmoids  # (a, b) per fold

    @classmethod
    def from_package(cls, vectorizer: Any, model: Any) -> LinearTextModel:
        """Read the weights out of the package's unpickled vectorizer and calibrated model."""
        idf = vectorizer.idf_
        folds = model.calibrated_classifiers_
        return cls(
            {term: (float(idf[col]), tuple(float(f.estimator.coef_[0, col]) for f in folds))
             for term, col in vectorizer.vocabulary_.items()},
            tuple(float(f.estimator.intercept_[0]) for f in folds),
            tuple((float(f.calibrators[0].a_), float(f.calibrators[0].b_)) for f in folds))

    def plain(self) -> Plain:
        return self.weights, self.intercepts, self.sigmoids

    def probability(self, text: str) -> float:
        counts = Counter(t for t in TOKEN.findall(text.lower()) if t in self.weights)
        if not counts:
            decisions = self.intercepts
        else:
            features = [(self.weights[t], n * self.weights[t][0]) for t, n in counts.items()]
            norm = math.sqrt(sum(value * value for _, value in features))
            decisions = tuple(
                intercept + sum(value * w[1][fold] for w, value in features) / norm
                for fold, intercept in enumerate(self.intercepts))
        probs = [1.0 / (1.0 + math.exp(a * d + b))
                 for d, (a, b) in zip(decisions, self.sigmoids, strict=True)]
        return sum(probs) / len(probs)


# The share of a text's words that must be English (common English words, or words the model
# knows) for the model to read it: it was trained on English, and scores German "die" offensive
# (5 of 12 everyday German answers were blocked as profanity by the strict pack).
ENGLISH_SHARE = 0.6
OTHER_WORDS = 3  # fewer words the model does not know than this: read as English anyway


def _english(text: str, model: LinearTextModel) -> bool:
    """Whether the model may read `text`: most of its words English, or too few words of
    something else to say it is another language (an insult with two names in it is English)."""
    words = TOKEN.findall(text.lower())
    other = sum(1 for word in words if word not in model.weights and not common_word(word))
    return other < OTHER_WORDS or len(words) - other >= ENGLISH_SHARE * len(words)


def load_model() -> LinearTextModel:
    """The package's model, once per process (file I/O and CPU: not on the loop): from the
    weights cache when it holds this package's weights, else unpickled (which imports
    scikit-learn, about a second) and then kept in the cache for the next start."""
    global _model  # noqa: PLW0603 - one model per process, loaded on first use
    with _lock:
        if _model is None:
            key, directory = package_key(), cache_dir()
            cached = read_weights(key, directory) if key and directory else None
            if cached is not None:
                _model = LinearTextModel(*cached)
            else:
                _model = _unpickled()
                if key and directory:
                    write_weights(key, directory, _model.plain())
        return _model


def _unpickled() -> LinearTextModel:
    try:
        from profanity_check import profanity_check as shipped
    except ImportError as exc:
        raise ImportError(
            "the `profanity` classifier needs the optional extra: "
            "pip install 'guard[profanity]' (alt-profanity-check)"
        ) from exc
    return LinearTextModel.from_package(shipped.vectorizer, shipped.model)


class ProfanityConfig(BaseModel):
    """Config of a `profanity` classifier.

    threshold: model probability in [0, 1] at or above which a segment is labelled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.7, ge=0.0, le=1.0)


class ProfanityClassifier:
    """Scores every segment of a batch with the profanity model, off the event loop."""

    in_process = True
    emits = frozenset({"profanity"})

    def __init__(self, name: str, config: ProfanityConfig) -> None:
        self.name = name
        self.threshold = config.threshold
        # Offensive language is local: a stream is scored over windows of this many characters,
        # not re-read whole at every check (a whole message is still scored whole).
        self.max_match_chars: int | None = STREAM_WINDOW_CHARS
        if importlib.util.find_spec("profanity_check") is None:
            raise ImportError(
                "the `profanity` classifier needs the optional extra: "
                "pip install 'guard[profanity]' (alt-profanity-check)"
            )

    def classify_sync(
        self, segments: Sequence[Segment], stop: threading.Event | None = None
    ) -> list[Verdict]:
        started = time.perf_counter()
        # The model is loaded here, in the worker thread: unpickling it is file I/O and CPU.
        model = load_model()
        probs = [model.probability(s.text) if _english(s.text, model) else 0.0
                 for s in until_stopped(segments, stop)]
        latency = time.perf_counter() - started
        out = []
        for seg, p in zip(segments, probs, strict=True):
            if p >= self.threshold:
                span = (Span(0, len(seg.text), "profanity"),)
                out.append(Verdict(self.name, seg.index, frozenset({"profanity"}), p, span, latency))
            else:
                out.append(Verdict(self.name, seg.index, frozenset(), p, (), latency))
        return out

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        if not segments:
            return []
        if _model is not None and small(segments):
            return self.classify_sync(segments)  # microseconds: cheaper than a thread hop
        try:
            return await off_loop(lambda stop: self.classify_sync(segments, stop))
        except ValueError as exc:
            raise ClassifierError(f"profanity model failed: {exc}") from exc


def _make(name: str, config: ProfanityConfig, spec: ClassifierSpec) -> ProfanityClassifier:
    return ProfanityClassifier(name, config)


TYPE = ClassifierType(ProfanityConfig, _make)
