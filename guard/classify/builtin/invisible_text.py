"""`invisible_text`: characters that hide text from a human reader but not from a model.

Unicode tag characters (U+E0000-E007F) spell out ASCII invisibly ("ASCII smuggling"); runs of
zero-width characters encode bits or split words; bidi overrides make text read differently from
how it is stored. Works on the original text (normalisation would remove exactly what it looks
for). A lone zero-width joiner between emoji, or a single bidi mark in right-to-left text, is
ordinary writing and does not fire.
Labels: `invisible_text` plus `invisible_text:tags`, `:zero_width`, `:bidi`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet
from guard.classify.normalize import Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment

KINDS = ("tags", "zero_width", "bidi")
PATTERNS = (
    r"[\x{E0000}-\x{E007F}]+",
    r"[\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{180B}-\x{180F}\x{00AD}\x{034F}\x{FFF9}-\x{FFFB}"
    r"\x{13430}-\x{1343F}\x{1BCA0}-\x{1BCA3}]+",
    r"[\x{202A}-\x{202E}\x{2066}-\x{2069}]+",
)


class InvisibleTextConfig(BaseModel):
    """Config of an `invisible_text` classifier.

    min_zero_width: zero-width characters in one run (or in the whole text) needed to fire.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_zero_width: int = Field(3, ge=1)


class InvisibleTextClassifier(LocalClassifier):
    """Finds hidden-text characters (see module docstring)."""

    category = "invisible_text"

    def __init__(self, name: str, config: InvisibleTextConfig) -> None:
        # A run of hidden characters is found from its first `min_zero_width` characters (one for
        # tags and bidi overrides), however long it goes on: a stream need not be held back for
        # the length of a smuggled instruction, only for the start of it.
        super().__init__(name, normalize=False,
                         max_match_chars=max(16, 2 * config.min_zero_width))
        self.min_zero_width = config.min_zero_width
        # Runs have no length limit: screen the text whole (three patterns, no windows needed).
        self.patterns = PatternSet(PATTERNS, case_sensitive=True, reach=1 << 30)

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        text = norm.text
        if text.isascii():
            return []
        runs = [(KINDS[i], start, end) for i, start, end in self.patterns.finditer(text)]
        zero_width_total = sum(e - s for k, s, e in runs if k == "zero_width")
        found: list[Finding] = []
        for kind, start, end in runs:
            if kind == "tags":
                found.append(Finding("invisible_text:tags", 1.0, start, end))
            elif kind == "bidi" and text[start] in "\u202d\u202e":
                found.append(Finding("invisible_text:bidi", 0.8, start, end))
            elif kind == "zero_width" and (
                end - start >= self.min_zero_width or zero_width_total >= 2 * self.min_zero_width
            ):
                found.append(Finding("invisible_text:zero_width", 0.8, start, end))
        return found


def _make(name: str, config: InvisibleTextConfig, spec: ClassifierSpec) -> InvisibleTextClassifier:
    return InvisibleTextClassifier(name, config)


TYPE = ClassifierType(InvisibleTextConfig, _make)
