"""A small real Inspector for the stream guard's tests, and the tests that pin its behaviour.

It runs real pattern classification (a secret and an e-mail address finder, each with an honest
`max_match_chars`) and makes decisions the way the policy contract says: every rule whose label
fired matches, the strictest enforced action wins, redactions carry the spans of redact rules.
Until guard/policy lands this stands in for a PolicyStore's Inspector.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guard.types import (
    Action,
    Decision,
    GuardContext,
    Mode,
    RuleMatch,
    Segment,
    Span,
    Stage,
    StreamSettings,
    Verdict,
    strictest,
)

SECRET = "AKIAIOSFODNN7EXAMPLE"
EMAIL = "jane.doe@example.com"


@dataclass(frozen=True)
class PatternClassifier:
    """Finds `pattern`; every finding is at most `max_match_chars` long."""

    name: str
    category: str
    label: str
    pattern: re.Pattern[str]
    max_match_chars: int

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        verdicts = []
        for segment in segments:
            spans = tuple(Span(m.start(), m.end(), self.label)
                          for m in self.pattern.finditer(segment.text))
            labels = frozenset({self.category, self.label}) if spans else frozenset()
            verdicts.append(Verdict(self.name, segment.index, labels, 1.0 if spans else 0.0,
                                    spans))
        return verdicts


SECRETS = PatternClassifier("secrets", "secret", "secret:aws_access_key_id",
                            re.compile(r"AKIA[0-9A-Z]{16}"), 20)
PII = PatternClassifier("pii", "pii", "pii:email",
                        re.compile(r"[A-Za-z0-9._%+-]{1,30}@[A-Za-z0-9-]{1,20}"
                                   r"(?:\.[A-Za-z]{2,10}){1,2}"), 73)


@dataclass
class PatternInspector:
    """An Inspector over pattern classifiers and rules `label -> (rule name, action, mode)`."""

    rules: Mapping[str, tuple[str, Action, Mode]]
    stream: StreamSettings = field(default_factory=StreamSettings)
    classifiers: tuple[PatternClassifier, ...] = (SECRETS, PII)
    classified: list[str] = field(default_factory=list)

    def holdback_chars(self, stage: Stage) -> int | None:
        return max((c.max_match_chars for c in self.classifiers), default=0)

    def value_chars(self, stage: Stage) -> int:
        return max((c.max_match_chars for c in self.classifiers), default=0)

    def reads_encoded_runs(self, stage: Stage) -> bool:
        return False

    def reads_whole(self, stage: Stage) -> frozenset[str]:
        return frozenset()

    def inspects(self, stage: Stage) -> bool:
        return bool(self.rules)

    async def inspect(self, stage: Stage, segments: Sequence[Segment], *,
                      bounded: bool = False) -> Decision:
        self.classified.extend(s.text for s in segments)
        verdicts = [v for c in self.classifiers for v in await c.classify(segments) if v.fired]
        matches = []
        redactions: dict[int, list[Span]] = {}
        for label, (rule, action, mode) in self.rules.items():
            hits = tuple(v for v in verdicts if label in v.labels)
            if not hits:
                continue
            matches.append(RuleMatch(rule, action, mode, "high", label, hits))
            if action is Action.REDACT and mode is Mode.ENFORCE:
                for v in hits:
                    redactions.setdefault(v.segment, []).extend(v.spans)
        action = strictest([m.action for m in matches if m.mode is Mode.ENFORCE])
        return Decision(action=action, stage=stage, policy="test", matches=tuple(matches),
                        verdicts=tuple(verdicts),
                        redactions={k: tuple(v) for k, v in redactions.items()})


def inspector(*, secret: Action = Action.BLOCK, pii: Action = Action.REDACT,
              mode: str = "buffered", check_chars: int = 8, max_holdback_ms: int = 250,
              shadow: bool = False) -> PatternInspector:
    """The usual test policy: block secrets, redact e-mail addresses."""
    rule_mode = Mode.SHADOW if shadow else Mode.ENFORCE
    return PatternInspector(
        rules={"secret": ("no-secrets", secret, rule_mode), "pii": ("mask-pii", pii, rule_mode)},
        stream=StreamSettings(mode=mode, check_chars=check_chars,
                              max_holdback_ms=max_holdback_ms))


@dataclass
class ListRecorder:
    """A Recorder that keeps what it is given."""

    decisions: list[Decision] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)  # each decision's

    def record_decision(self, ctx: GuardContext, decision: Decision,
                        segments: Sequence[Segment],
                        details: Mapping[str, Any] | None = None) -> str | None:
        if not decision.matches:
            return None
        self.decisions.append(decision)
        self.details.append(dict(details or {}))
        return f"inc-{len(self.decisions)}"

    def record_event(self, kind: str, details: Mapping[str, Any],
                     ctx: GuardContext | None = None) -> str:
        self.events.append((kind, dict(details)))
        return f"evt-{len(self.events)}"

    async def settled(self) -> None:
        return None  # kept in memory: written as it is given


async def test_finds_both_values_with_spans() -> None:
    """The test inspector finds a secret (block) and an e-mail (redact span) in one text."""
    text = f"key {SECRET} mail {EMAIL} end"
    decision = await inspector().inspect(
        Stage.COMPLETION, [Segment(text, "assistant", 3, Stage.COMPLETION)])
    assert decision.action is Action.BLOCK
    assert decision.rules == ("no-secrets", "mask-pii")
    (span,) = decision.redactions[3]
    assert text[span.start:span.end] == EMAIL


async def test_holdback_is_the_longest_finding() -> None:
    """holdback_chars is the longest match any classifier can make, 0 without classifiers."""
    assert inspector().holdback_chars(Stage.COMPLETION) == 73
    assert PatternInspector(rules={}, classifiers=()).holdback_chars(Stage.COMPLETION) == 0


async def test_match_lengths_are_honest() -> None:
    """No finding is longer than the classifier's max_match_chars, even on adversarial text."""
    text = ("a" * 50 + "@" + "b" * 30 + ".cccccccccccc.dddddddddddd " + "AKIA" + "Z" * 40)
    for classifier in (SECRETS, PII):
        for m in classifier.pattern.finditer(text):
            assert m.end() - m.start() <= classifier.max_match_chars
