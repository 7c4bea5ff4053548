"""`profanity`: offensive language, scored by the linear model that alt-profanity-check ships.

The model (scikit-learn) is an optional extra: `pip install 'guard[profanity]'`. Without it the
classifier cannot be built, and the policy error says which extra to install. All segments of a
request are scored in one batch, in a worker thread (the model is CPU work).
Labels: `profanity`; a segment that fires has one span over its whole text.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.errors import ClassifierError
from guard.types import Segment, Span, Verdict

_lock = threading.Lock()
_predict: Callable[[list[str]], Any] | None = None


def load_model() -> Callable[[list[str]], Any]:
    """alt-profanity-check's `predict_prob`, imported once (it loads a pickled model)."""
    global _predict  # noqa: PLW0603 - one model per process, loaded on first use
    with _lock:
        if _predict is None:
            try:
                from profanity_check import predict_prob
            except ImportError as exc:
                raise ImportError(
                    "the `profanity` classifier needs the optional extra: "
                    "pip install 'guard[profanity]' (alt-profanity-check)"
                ) from exc
            _predict = predict_prob
        return _predict


class ProfanityConfig(BaseModel):
    """Config of a `profanity` classifier.

    threshold: model probability in [0, 1] at or above which a segment is labelled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.7, ge=0.0, le=1.0)


class ProfanityClassifier:
    """Scores every segment of a batch with the profanity model, off the event loop."""

    def __init__(self, name: str, config: ProfanityConfig) -> None:
        self.name = name
        self.threshold = config.threshold
        self.max_match_chars: int | None = None  # the model reads the whole text
        if importlib.util.find_spec("profanity_check") is None:
            raise ImportError(
                "the `profanity` classifier needs the optional extra: "
                "pip install 'guard[profanity]' (alt-profanity-check)"
            )

    def classify_sync(self, segments: Sequence[Segment]) -> list[Verdict]:
        started = time.perf_counter()
        # The model is loaded here, in the worker thread: unpickling it is file I/O and CPU.
        probs = [float(p) for p in load_model()([s.text for s in segments])]
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
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self.classify_sync, segments)
        except ValueError as exc:
            raise ClassifierError(f"profanity model failed: {exc}") from exc


def _make(name: str, config: ProfanityConfig, spec: ClassifierSpec) -> ProfanityClassifier:
    return ProfanityClassifier(name, config)


TYPE = ClassifierType(ProfanityConfig, _make)
