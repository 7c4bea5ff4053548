"""`regex`: policy-supplied regular expressions (RE2 syntax), all matched in one pass.

Labels: `regex` plus the `label` of every entry that matched; spans carry the entry's label.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guard.classify.base import JOINED_TURNS, Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet, check_pattern
from guard.classify.normalize import Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment


class RegexRule(BaseModel):
    """One pattern. pattern: RE2 syntax (no backreferences or lookaround); label: what it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1)
    label: str = "regex"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return check_pattern(value)


class RegexConfig(BaseModel):
    """Config of a `regex` classifier.

    patterns:        the patterns, each a {pattern, label} or a bare pattern string.
    case_sensitive:  match letter case exactly (default: ignore case).
    word_boundary:   only matches that start and end at word boundaries.
    spread:          join letters spread apart before matching ("b.o.m.b" reads "bomb": three or
                     more single letters, one repeated separator) and drop asterisks inside a word
                     ("bo*mb"); off by default, since a pattern may look for the separators
                     themselves ("U\\.S\\.A"). A match over letters spread apart covers up to
                     twice its length of the original: allow for it in `max_match_chars`.
    marks:           with `spread`, match a second reading of the text too, with a dot, hyphen,
                     underscore or apostrophe between two letters dropped ("make na-palm" reads
                     "make napalm"; not "don't"), and add what it finds. Off by default.
    max_match_chars: the longest text one match can cover, in characters; streamed completions
                     are held back this much. Patterns with unbounded repetition can match more;
                     such longer matches are found in whole texts but can be missed in streams.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: list[RegexRule] = Field(min_length=1)
    case_sensitive: bool = False
    word_boundary: bool = False
    spread: bool = False
    marks: bool = False
    max_match_chars: int = Field(256, gt=0)

    @field_validator("patterns", mode="before")
    @classmethod
    def _bare_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"pattern": v} if isinstance(v, str) else v for v in value]
        return value


class RegexClassifier(LocalClassifier):
    """Matches a set of RE2 patterns over the (normalised) text."""

    category = "regex"
    # a term split across text parts (or messages) of one role is read joined, as a model
    # reads parts put back to back
    joins_turns = True
    context_turns = JOINED_TURNS

    def __init__(self, name: str, config: RegexConfig, *, normalize: bool = True) -> None:
        super().__init__(name, normalize=normalize, max_match_chars=config.max_match_chars)
        self.spread = config.spread and normalize
        self.marks = config.marks and self.spread
        self.labels = [r.label for r in config.patterns]
        self.patterns = PatternSet(
            [r.pattern for r in config.patterns],
            case_sensitive=config.case_sensitive,
            word_boundary=config.word_boundary,
            reach=config.max_match_chars,
        )

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        labels = self.labels
        return [Finding(labels[i], 1.0, s, e) for i, s, e in self.patterns.finditer(norm.text)]

    def may_find_as_is(self, text: str) -> bool:
        # read as it is, `scan` reads `text` itself, but for the separators `spread` drops
        return self.spread or self.patterns.may_match(text)

    def finding_labels(self) -> Iterable[str]:
        return self.labels


def _make(name: str, config: RegexConfig, spec: ClassifierSpec) -> RegexClassifier:
    return RegexClassifier(name, config, normalize=spec.normalize)


TYPE = ClassifierType(RegexConfig, _make)
