"""Scored heuristics: weighted phrase features combined by noisy-OR into a score in [0, 1].

Each feature is an RE2 pattern over the normalised, case-folded text with a weight in (0, 1): the
probability on its own that a text showing it is an attack. Features that co-occur reinforce each
other: score = 1 - prod(1 - weight). A segment fires when its score reaches the threshold, which
is tuned on the dev split (see `guard eval` and BENCHMARKS.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet
from guard.classify.decode import encoded_runs
from guard.classify.normalize import Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment

# Segment roles the heuristics leave alone unless a policy says otherwise (HeuristicConfig).
SKIPPED_ROLES = frozenset({"system"})


@dataclass(frozen=True)
class Feature:
    """A named phrase pattern (RE2, matched ignoring case) and its weight in (0, 1)."""

    name: str
    pattern: str
    weight: float
    roles: frozenset[str] | None = None  # only for segments of these roles; None: any role


ENCODED_HINTS = ("ignore", "instruction", "system", "prompt", "you are", "pretend", "password",
                 "disregard", "reveal", "bypass", "jailbreak", "do not", "secret")


@functools.lru_cache(maxsize=128)  # the injection and jailbreak heuristics read the same segments
def encoded_instruction(text: str) -> tuple[int, int] | None:
    """Span of a byte-encoded run (base64, hex, binary, percent, HTML references, escapes) that
    decodes to readable text with instruction words, if any."""
    for span, plain in encoded_runs(text):
        if any(h in plain.lower() for h in ENCODED_HINTS):
            return span
    return None


class HeuristicClassifier(LocalClassifier):
    """A LocalClassifier scoring texts by weighted features (see module docstring).

    Subclasses set `category`, `features` and `encoded_weight` (the weight of a base64 payload
    that decodes to instructions; 0 to ignore encodings).
    """

    features: Sequence[Feature] = ()
    encoded_weight: float = 0.0
    # "I.g.n.o.r.e all p-r-e-v-i-o-u-s instructions" and "ign*ore" are read as the words they hide.
    spread = True
    # "Ign&#111;r&#101; &#97;ll pr&#101;v&#105;&#111;&#117;s instructions" too: escapes decoded in place.
    references = True

    def __init__(self, name: str, *, threshold: float, normalize: bool = True,
                 skipped_roles: frozenset[str] = SKIPPED_ROLES) -> None:
        # Scores need the whole text (phrases add up across it), so nothing bounds a finding.
        super().__init__(name, normalize=normalize, max_match_chars=None)
        self.threshold = threshold
        self.skipped_roles = skipped_roles
        self.patterns = PatternSet([f.pattern for f in self.features], case_sensitive=False)

    def score(self, text: str, role: str) -> tuple[float, list[tuple[int, int]]]:
        """Noisy-OR score of `text` and the spans of the features that matched."""
        keep = 1.0
        spans: list[tuple[int, int]] = []
        seen: set[int] = set()
        for idx, start, end in self.patterns.finditer(text):
            feature = self.features[idx]
            if feature.roles is not None and role not in feature.roles:
                continue
            spans.append((start, end))
            if idx not in seen:
                seen.add(idx)
                keep *= 1.0 - feature.weight
        if self.encoded_weight:
            encoded = encoded_instruction(text)
            if encoded is not None:
                spans.append(encoded)
                keep *= 1.0 - self.encoded_weight
        return 1.0 - keep, spans

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        if segment.role in self.skipped_roles:
            return []
        score, spans = self.score(norm.text, segment.role)
        if score < self.threshold:
            return []
        return [Finding(self.category, score, s, e) for s, e in spans] or [
            Finding(self.category, score)
        ]

    def finding_labels(self) -> Iterable[str]:
        return (self.category,)


class HeuristicConfig(BaseModel):
    """Config of a scored-heuristic classifier (`jailbreak`, `prompt_injection`).

    threshold:     score in [0, 1] at or above which a segment is labelled (tuned on the dev split).
    skip_system:   leave the system prompt unscored (default): it is the operator's own text, sent
                   with every request, and ordinary ones carry what these features look for
                   ("you are ...", "from now on", "System:"). Set false where clients write
                   their own system prompts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(0.5, ge=0.0, le=1.0)
    skip_system: bool = True


def heuristic_type(cls: type[HeuristicClassifier]) -> ClassifierType:
    """The registry entry of a HeuristicClassifier subclass."""

    def make(name: str, config: HeuristicConfig, spec: ClassifierSpec) -> HeuristicClassifier:
        skipped = SKIPPED_ROLES if config.skip_system else frozenset()
        return cls(name, threshold=config.threshold, normalize=spec.normalize,
                   skipped_roles=skipped)

    return ClassifierType(HeuristicConfig, make)
