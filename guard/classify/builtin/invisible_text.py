"""`invisible_text`: characters that hide text from a human reader but not from a model.

Unicode tag characters (U+E0000-E007F) spell out ASCII invisibly ("ASCII smuggling"); variation
selectors after an emoji spell out bytes the same way ("emoji smuggling"); runs of zero-width
characters, invisible operators, bidi marks or isolates encode bits or split words; bidi overrides
make text read differently from how it is stored. Works on the original text (normalisation would
remove exactly what it looks for). A lone zero-width joiner between emoji, an emoji's or an
ideograph's one variation selector, or a single bidi mark or isolate in right-to-left text, is
ordinary writing and does not fire.

Bidi embeddings and isolates (RLE…PDF, RLI…PDI) reorder only how text is shown: the classifiers
and the model read the stored order, and apps wrap names in isolates, so one alone does not fire
(an override does: it is how Trojan Source hides code from a reviewer).
Labels: `invisible_text` plus `invisible_text:tags`, `:variation_selectors`, `:zero_width`,
`:bidi`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet
from guard.classify.normalize import INVISIBLE, Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment

TAGS = range(0xE0000, 0xE0080)
VARIATION_SELECTORS = frozenset([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])


def _char_class(codes: Iterable[int]) -> str:
    """An RE2 character class of `codes`, as ranges."""
    ordered = sorted(codes)
    ranges: list[tuple[int, int]] = []
    for code in ordered:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[" + "".join(rf"\x{{{a:X}}}" + (rf"-\x{{{b:X}}}" if b > a else "") for a, b in ranges) + "]"


# "hidden": every character normalisation removes as invisible (so no classifier reads what a run
# of them spells), but tags (their own kind) and control characters (terminal output and binary
# data carry runs of those in the open).
KINDS = ("tags", "zero_width", "bidi", "hidden")
PATTERNS = (
    r"[\x{E0000}-\x{E007F}]+",
    r"[\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{180B}-\x{180F}\x{00AD}\x{034F}\x{FFF9}-\x{FFFB}"
    r"\x{13430}-\x{1343F}\x{1BCA0}-\x{1BCA3}]+",
    r"[\x{202A}-\x{202E}\x{2066}-\x{2069}]+",
    _char_class(c for c in INVISIBLE if c >= 0xA0 and c not in TAGS) + "+",
)


class InvisibleTextConfig(BaseModel):
    """Config of an `invisible_text` classifier.

    min_zero_width: invisible characters in one run (zero-width characters, variation selectors,
                    invisible operators, bidi marks and isolates, in any mix), or zero-width
                    characters in the whole text (twice as many), needed to fire.
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
        # Runs have no length limit: screen the text whole (four patterns, no windows needed).
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
            elif kind == "zero_width" and zero_width_total >= 2 * self.min_zero_width:
                found.append(Finding("invisible_text:zero_width", 0.8, start, end))
            elif kind == "hidden" and end - start >= self.min_zero_width:
                selectors = any(ord(c) in VARIATION_SELECTORS for c in text[start:end])
                label = "variation_selectors" if selectors else "zero_width"
                found.append(Finding(f"invisible_text:{label}", 0.8, start, end))
        return found


def _make(name: str, config: InvisibleTextConfig, spec: ClassifierSpec) -> InvisibleTextClassifier:
    return InvisibleTextClassifier(name, config)


TYPE = ClassifierType(InvisibleTextConfig, _make)
