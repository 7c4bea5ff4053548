"""Small classifiers for runner tests: each behaves one way (answers, sleeps, raises, counts)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from guard.classify.base import Finding, LocalClassifier
from guard.classify.normalize import Normalized
from guard.classify.registry import ClassifierSpec, ConfiguredClassifier
from guard.types import Segment, Stage, Verdict


class Echo:
    """Fires `label` on segments containing `needle`; counts the segments it was asked about."""

    max_match_chars: int | None = 64

    def __init__(self, name: str, needle: str = "bad", label: str = "echo", delay: float = 0.0,
                 error: Exception | None = None) -> None:
        self.name = name
        self.needle = needle
        self.label = label
        self.delay = delay
        self.error = error
        self.seen = 0

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        self.seen += len(segments)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.answer(segments)

    def answer(self, segments: Sequence[Segment]) -> list[Verdict]:
        """A verdict per segment: fired where the needle is."""
        return [
            Verdict(self.name, s.index, frozenset({self.label}), 0.9)
            if self.needle in s.text else Verdict(self.name, s.index)
            for s in segments
        ]


class Joined(Echo):
    """An Echo that reads each user segment run together with the `turns` user segments before it
    (`context_turns`): "ba" then "d" fires on the second."""

    def __init__(self, name: str, turns: int = 1, **kwargs: object) -> None:
        super().__init__(name, **kwargs)  # type: ignore[arg-type]
        self.context_turns = {"user": turns}
        self.turns = turns

    def answer(self, segments: Sequence[Segment]) -> list[Verdict]:
        return [
            Verdict(self.name, s.index, frozenset({self.label}), 0.9)
            if self.needle in "".join((*s.context[-self.turns:], s.text)) else Verdict(self.name, s.index)
            for s in segments
        ]


class Plodding(LocalClassifier):
    """A local classifier that takes `each_s` per segment, in a worker thread, and counts them:
    waiting, or with `busy` spending the CPU."""

    def __init__(self, name: str, each_s: float, *, busy: bool = False) -> None:
        super().__init__(name, max_match_chars=None)
        self.each_s = each_s
        self.busy = busy
        self.scanned = 0

    def runs_inline(self, segments: Sequence[Segment]) -> bool:
        return False

    def scan(self, norm: Normalized, segment: Segment) -> list[Finding]:
        if self.busy:
            until = time.thread_time() + self.each_s
            while time.thread_time() < until:
                pass
        else:
            time.sleep(self.each_s)
        self.scanned += 1
        return []


def configured(classifier: Echo | LocalClassifier, **spec: object) -> ConfiguredClassifier:
    spec_model = ClassifierSpec.model_validate({"type": "echo", **spec})
    return ConfiguredClassifier(classifier.name, spec_model, classifier, f"hash-{classifier.name}")


def segments(*texts: str, stage: Stage = Stage.PROMPT) -> list[Segment]:
    return [Segment(t, "user", i, stage) for i, t in enumerate(texts)]


class SlowStart(Echo):
    """An Echo that loads a model on its first call, in `classify_sync`, as profanity does: the first
    call takes `load_s` longer."""

    def __init__(self, name: str, load_s: float) -> None:
        super().__init__(name)
        self.load_s = load_s
        self.loaded = False

    def classify_sync(self, segments: Sequence[Segment]) -> list[Verdict]:
        if not self.loaded:
            time.sleep(self.load_s)
            self.loaded = True
        return self.answer(segments)

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        return await asyncio.to_thread(self.classify_sync, segments)
