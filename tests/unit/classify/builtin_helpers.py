"""Run one built-in classifier on one text, the way a policy would build it."""

from __future__ import annotations

from typing import Any

from guard.classify.registry import build_classifier
from guard.types import Segment, Stage, Verdict


def classify(type_name: str, text: str, role: str = "user", **config: Any) -> Verdict:
    built = build_classifier("t", {"type": type_name, **config})
    classifier: Any = built.classifier
    return classifier.classify_sync([Segment(text, role, 0, Stage.PROMPT)])[0]


def found(verdict: Verdict, text: str) -> list[tuple[str, str]]:
    """(label, original characters) of every span."""
    return [(s.label, text[s.start:s.end]) for s in verdict.spans]
