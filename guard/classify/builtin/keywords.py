"""`keywords`: lists of words or phrases, matched in one pass, robust to obfuscation.

Terms and text are normalised alike (NFKC, invisible characters and stray combining marks removed,
look-alike letters and, by default, leetspeak and accents folded, letters spread apart joined and
asterisks inside a word dropped), so `k1ll`, full-width `kill`, `k\u200bill`, `kíll`, `k.i.l.l` and
`k*ill` all match `kill`; a second reading
with the other marks inside words dropped matches `ki-ll` and `ki.ll` too.
Labels: `keyword` plus the `label` of every list that matched; spans carry that label.
"""

from __future__ import annotations

import bisect
import re  # only re.escape, to quote terms for RE2; nothing is matched with `re`
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.classify.base import JOINED_TURNS, Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet
from guard.classify.normalize import Normalized, read_as_is_chars
from guard.classify.normalize import normalize as normalize_text
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment


class KeywordList(BaseModel):
    """Terms that share a label.

    terms: words or phrases (matched literally); label: what a match means.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: list[str] = Field(min_length=1)
    label: str = "keyword"

    @field_validator("terms")
    @classmethod
    def _not_blank(cls, value: list[str]) -> list[str]:
        for i, term in enumerate(value):
            if not term.strip():
                raise ValueError(f"term {i} is blank")
        return value


class KeywordsConfig(BaseModel):
    """Config of a `keywords` classifier.

    lists:          keyword lists, each {terms, label}.
    terms:          shorthand for one list labelled `keyword`.
    case_sensitive: match letter case exactly (default: ignore case).
    word_boundary:  a term matches only as whole words (default true: `ass` not in `class`).
    leet:           fold leetspeak (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s) and accented Latin
                    letters (é→e, ñ→n) and those with a stroke or hook (ø→o, đ→d, ƒ→f) in text
                    and terms.
    spread:         join letters spread apart ("b o m b", "b.o.m.b", "b-o-m-b": three or more single
                    letters, one repeated separator: a space, a tab or any other horizontal
                    space, or one of `. - _ * / | + ~`; not a line break) and drop asterisks
                    inside a word ("bo*mb"),
                    in text and terms. A run of eight or more spread with single spaces is split
                    into words again (`normalize._word_gaps`), and read joined whole too, its word
                    gaps then only word boundaries: "n i g h t j a r", split "night jar", matches
                    `nightjar`.
    marks:          with `spread`, read the text a second time with a dot, hyphen, underscore or
                    apostrophe between two letters dropped ("na-palm", "bo.mb"; not "don't"), and
                    add what that reading finds: "napalm" matches "na-palm" while "harm" still
                    matches "self-harm" in the first reading.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lists: list[KeywordList] = []
    terms: list[str] = []
    case_sensitive: bool = False
    word_boundary: bool = True
    leet: bool = True
    spread: bool = True
    marks: bool = True

    @model_validator(mode="after")
    def _some_terms(self) -> KeywordsConfig:
        if not self.lists and not self.terms:
            raise ValueError("give `terms` or `lists` (at least one term)")
        return self

    def all_lists(self) -> list[KeywordList]:
        extra = [KeywordList(terms=self.terms)] if self.terms else []
        return [*self.lists, *extra]


class KeywordsClassifier(LocalClassifier):
    """Matches keyword lists over normalised text."""

    category = "keyword"
    # a term split across text parts (or messages) of one role is read joined, as a model
    # reads parts put back to back
    joins_turns = True
    context_turns = JOINED_TURNS

    def __init__(self, name: str, config: KeywordsConfig, *, normalize: bool = True) -> None:
        longest = max(len(term) for kw_list in config.all_lists() for term in kw_list.terms)
        # Normalisation can shrink text (invisible characters, NFKC), so a term's original can
        # be longer than the term: allow twice its length plus slack for the stream hold-back.
        super().__init__(name, normalize=normalize, max_match_chars=2 * longest + 16)
        self.leet = config.leet and normalize
        self.spread = config.spread and normalize
        self.marks = config.marks and self.spread
        plain = _terms(config, normalize, marks=False)
        self.patterns, self.labels = _compile(config, plain, reach=2 * longest + 16), plain[2]
        self.mark_patterns, self.mark_labels = self.patterns, self.labels
        joined = _terms(config, normalize, marks=True) if self.marks else plain
        if joined != plain:  # only terms with a mark inside a word need a second pattern set
            self.mark_patterns, self.mark_labels = _compile(config, joined, reach=2 * longest + 16), joined[2]
        # A run of spread letters joined whole holds no spaces: a phrase matches there with its
        # words run together (only across a word gap of the run, `scan`); and so do two texts
        # read joined, which a reader reads apart (only across their boundary, `phrases_across`).
        self.whole_runs = self.spread
        self.letter_patterns = PatternSet(
            sorted({re.escape(_letters("".join(words))) for words in plain[0]}))
        self.needing, self.terms = _needing(plain[0]), len(plain[0])
        self.run_patterns = self.patterns
        self.phrases_across = any(literal is None for literal in plain[1])
        if self.phrases_across:
            self.run_patterns = _compile(config, plain, reach=2 * longest + 16, gap=r"\s*")

    def may_find_in(self, norm: Normalized) -> bool:
        """Whether some term's letters and digits stand together in those of `norm` (whatever
        stands between them): what a reading of its letters spread apart across texts needs."""
        return bool(self.letter_patterns.matched(_letters(norm.text)))

    def may_find_as_is(self, text: str) -> bool:
        """Whether some term's letters and digits are all among the characters a reading of
        `text` may hold (`read_as_is_chars`): a match holds them, in whatever order."""
        chars = read_as_is_chars(text)
        ruled_out = 0
        for char, terms in self.needing.items():
            if char not in chars:
                ruled_out |= terms
        return ruled_out != (1 << self.terms) - 1

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        labels = self.labels
        if norm.cuts:
            return self._scan_whole_runs(norm)
        return [Finding(labels[i], 1.0, s, e) for i, s, e in self.patterns.finditer(norm.text)]

    def _scan_whole_runs(self, norm: Normalized) -> list[Finding]:
        """Matches in a reading with runs of spread letters joined whole (`whole_runs`), where a
        word gap of a run (`Normalized.cuts`) is a word boundary: only those across such a gap,
        which the first reading split apart ("n i g h t j a r" read "night jar" there)."""
        cuts = norm.cuts
        found = self.run_patterns.finditer(norm.text, cuts=frozenset(cuts))
        return [Finding(self.labels[i], 1.0, s, e) for i, s, e in found
                if (k := bisect.bisect_right(cuts, s)) < len(cuts) and cuts[k] < e]

    def scan_marks(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        labels = self.mark_labels
        return [Finding(labels[i], 1.0, s, e) for i, s, e in self.mark_patterns.finditer(norm.text)]

    def finding_labels(self) -> Iterable[str]:
        return [*self.labels, *self.mark_labels]


Terms = tuple[list[tuple[str, ...]], list[str | None], list[str]]  # words, their literals, their labels


def _letters(text: str) -> str:
    """The letters and digits of `text`, run together."""
    return "".join(filter(str.isalnum, text))


def _needing(terms: list[tuple[str, ...]]) -> dict[str, int]:
    """For each character some of `terms` (normalised, as their words) hold, lower-cased, the
    terms that hold it, as the bits of an int (term i: bit i): a text without it rules them out
    at once, however many terms there are. ASCII letters and digits only: a term's other
    characters are not asked for (a case-blind pattern's long s, U+017F, matches an "s")."""
    needing: dict[str, int] = {}
    for i, words in enumerate(terms):
        for char in set("".join(words).lower()):
            if char.isascii() and char.isalnum():
                needing[char] = needing.get(char, 0) | 1 << i
    return needing


def _terms(config: KeywordsConfig, normalize: bool, *, marks: bool) -> Terms:
    """The terms of every list, normalised as the text will be, as their words (with the literal a
    one-word term is) and the label of each."""
    labels: list[str] = []
    patterns: list[tuple[str, ...]] = []
    literals: list[str | None] = []
    seen: set[tuple[str, str]] = set()
    for kw_list in config.all_lists():
        for term in kw_list.terms:
            folded = (
                normalize_text(term, leet=config.leet, spread=config.spread, marks=marks).text
                if normalize
                else term
            )
            if (folded, kw_list.label) in seen:
                continue
            seen.add((folded, kw_list.label))
            words = folded.split()
            patterns.append(tuple(words))
            literals.append(words[0] if len(words) == 1 else None)
            labels.append(kw_list.label)
    return patterns, literals, labels


def _compile(config: KeywordsConfig, terms: Terms, *, reach: int, gap: str = r"\s+") -> PatternSet:
    """The terms as RE2 patterns in one set: literal words, `gap` between a phrase's (by default
    any whitespace run, as the runs of spaces in a phrase)."""
    words, literals, _ = terms
    patterns = [gap.join(re.escape(w) for w in term) for term in words]
    return PatternSet(
        patterns, case_sensitive=config.case_sensitive, word_boundary=config.word_boundary,
        reach=reach, literals=literals,
    )


def _make(name: str, config: KeywordsConfig, spec: ClassifierSpec) -> KeywordsClassifier:
    return KeywordsClassifier(name, config, normalize=spec.normalize)


TYPE = ClassifierType(KeywordsConfig, _make)
