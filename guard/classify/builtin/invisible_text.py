"""`invisible_text`: characters that hide text from a human reader but not from a model.

Unicode tag characters (U+E0000-E007F) spell out ASCII invisibly ("ASCII smuggling"); variation
selectors after an emoji spell out bytes the same way ("emoji smuggling"); zero-width characters,
invisible operators, bidi marks and the default-ignorable code points not yet assigned (U+E0080-E0FFF
past the tags and selectors, U+FFF0-FFF8) encode bits or split words; bidi overrides make text read
differently from how it is stored. Works on the original text (normalisation would remove exactly
what it looks for). What is ordinary writing does not count (`_in_writing`): an emoji's or an
ideograph's one variation selector, a joiner between the letters of a script that uses it
(Persian, the Indic scripts) or in an emoji sequence, a zero-width space between Khmer or Thai
words, a soft hyphen in a word, a lone bidi mark, an e-mail's padding, a subdivision flag's tags.
Of the rest, a run of `min_zero_width` or more that holds two kinds of character (bits, bytes)
or touches ASCII text (a word split) fires, and so do all of them once a text holds twice that
many in runs of two kinds (a payload in pairs; a lone one, or bidi marks side by side, spell
nothing).

Bidi embeddings and isolates (RLE…PDF, RLI…PDI) reorder only how text is shown: the classifiers
and the model read the stored order, and apps wrap names in isolates, so they do not fire (an
override does: it is how Trojan Source hides code from a reviewer).
Labels: `invisible_text` plus `invisible_text:tags`, `:variation_selectors`, `:zero_width`,
`:bidi`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import Finding, LocalClassifier
from guard.classify.normalize import INVISIBLE, Normalized, char_ranges
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment

TAGS = range(0xE0000, 0xE0080)
VARIATION_SELECTORS = frozenset([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])


def _char_class(codes: Iterable[int]) -> str:
    """A character class of `codes`, as ranges."""
    return f"[{char_ranges(codes)}]"


# Characters normalisation removes that are not hidden text: bidi embeddings, isolates and their
# pop (their own kind: `bidi`), and the Hangul fillers, blanks as wide as a letter.
NOT_HIDDEN = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x115F, 0x1160, 0x3164,
                        0xFFA0])
# "hidden": every character normalisation removes as invisible (so no classifier reads what a run
# of them spells), but tags (their own kind), control characters (terminal output and binary
# data carry runs of those in the open) and NOT_HIDDEN.
KINDS = ("tags", "bidi", "hidden")
# One character class each, repeated: nothing to backtrack over, so Python's own engine finds the
# runs in linear time, and with less overhead a run than RE2's wrapper (32,500 runs of zero-width
# spaces: 9 against 120 ms).
RUNS = re.compile("|".join(f"({kind})" for kind in (
    _char_class(TAGS) + "+",
    _char_class([*range(0x202A, 0x202F), *range(0x2066, 0x206A)]) + "+",
    _char_class(c for c in INVISIBLE if c >= 0xA0 and c not in TAGS and c not in NOT_HIDDEN) + "+",
)))
BLACK_FLAG = "\U0001F3F4"  # a subdivision flag: it and a few tag letters, then a cancel tag
CANCEL_TAG = "\U000E007F"
_FLAG_CODE = re.compile(r"[a-z]{2}[a-z0-9]{1,4}")
BIDI_MARKS = frozenset("\u200e\u200f\u061c")
# what a finding can be labelled: `invisible_text:<kind>`
FOUND = ("tags", "bidi", "variation_selectors", "zero_width")


def _in_writing(text: str, i: int) -> bool:
    """Whether the invisible character at `i` is ordinary writing: an emoji's or an ideograph's
    one variation selector; a joiner or non-joiner between characters of a script that uses them
    (Persian, the Indic scripts, emoji sequences); a zero-width space between letters of a script
    written without spaces (Khmer, Thai); a soft hyphen inside a word; a lone bidi mark; a
    non-joiner or a grapheme joiner beside a space (how e-mails pad their preview line)."""
    char, prev = text[i], text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if ord(char) in VARIATION_SELECTORS:  # one, after an emoji, a keycap's digit, an ideograph
        ideographic = ord(char) >= 0xE0100
        return bool(prev) and ord(prev) not in INVISIBLE and (
            _ideograph(prev) if ideographic else not prev.isascii() or prev in "0123456789#*")
    if char in "\u200c\u200d\u034f":
        # an e-mail's preheader padding: &zwnj; and &#847; between spaces
        padding = char != "\u200d" and (prev.isspace() or after.isspace())
        return padding or (char != "\u034f" and _joins(prev) and _joins(after))
    if char in "\u200b\u2060":
        return _unspaced(prev) and _unspaced(after)
    if char == "\u00ad":
        return prev.isalpha() and after.isalpha()
    if char in BIDI_MARKS:
        return not (prev and ord(prev) in INVISIBLE) and not (after and ord(after) in INVISIBLE)
    return False


# Scripts whose writing uses the joiners (Arabic and Persian, the Indic scripts, Sinhala), and
# those written without spaces, where a zero-width space parts words (Thai, Lao, Tibetan,
# Myanmar, Khmer); ranges of code points.
_JOINING = ((0x0600, 0x08FF), (0x0900, 0x0DFF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_UNSPACED = ((0x0E00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF))


def _in(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return bool(char) and not char.isascii() and any(lo <= ord(char) <= hi for lo, hi in ranges)


def _joins(char: str) -> bool:
    """A character a joiner or non-joiner may stand beside: of a script that uses them, or of an
    emoji sequence (an emoji, a skin tone, an emoji's variation selector)."""
    return _in(char, _JOINING) or (bool(char) and (
        unicodedata.category(char) == "So" or ord(char) >= 0x1F000
        or ord(char) in VARIATION_SELECTORS))


def _unspaced(char: str) -> bool:
    return _in(char, _UNSPACED) or _ideograph(char)


def _ideograph(char: str) -> bool:
    return bool(char) and not char.isascii() and unicodedata.name(char, "").startswith("CJK")


class InvisibleTextConfig(BaseModel):
    """Config of an `invisible_text` classifier.

    min_zero_width: hidden characters that are not ordinary writing (zero-width characters,
                    variation selectors, invisible operators, bidi marks, in any mix) needed in
                    one run of two kinds at least, or in the whole text (twice as many), to fire.
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

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        text = norm.text
        if text.isascii():
            return []
        found: list[Finding] = []
        hidden: list[tuple[int, int, list[str]]] = []  # runs, with their characters not writing
        for run in RUNS.finditer(text):  # runs have no length limit: the text is read whole
            kind, (start, end) = KINDS[(run.lastindex or 1) - 1], run.span()
            if kind == "tags" and not _a_flag(text, start, end):
                found.append(Finding("invisible_text:tags", 1.0, start, end))
            elif kind == "bidi" and text[start] in "\u202d\u202e":
                found.append(Finding("invisible_text:bidi", 0.8, start, end))
            elif kind == "hidden":
                odd = [text[j] for j in range(start, end) if not _in_writing(text, j)]
                if odd:
                    hidden.append((start, end, odd))
        # a run that spells something (two kinds of character at least: bits, bytes) or splits
        # ASCII words, or hidden characters all over the text (in pairs after every letter)
        scattered = sum(len(odd) for start, end, odd in hidden
                        if _pairs(odd) or _inside_a_word(text, start, end, odd)) \
            >= 2 * self.min_zero_width
        for start, end, odd in hidden:
            in_ascii = (start > 0 and text[start - 1].isascii()) or (
                end < len(text) and text[end].isascii())
            if scattered or (len(odd) >= self.min_zero_width
                             and (len(set(odd)) > 1 or in_ascii)):
                selectors = any(ord(c) in VARIATION_SELECTORS for c in text[start:end])
                label = "variation_selectors" if selectors else "zero_width"
                found.append(Finding(f"invisible_text:{label}", 0.8, start, end))
        return found

    def finding_labels(self) -> Iterable[str]:
        return [f"invisible_text:{kind}" for kind in FOUND]


def _pairs(odd: list[str]) -> bool:
    """Whether hidden characters next to one another can spell something: two kinds at least,
    not only bidi marks (right-to-left text puts RLM and LRM side by side). A lone one (a joiner
    before a space in Malayalam, a zero-width space beside a digit in Thai) cannot."""
    return len(set(odd)) > 1 and not set(odd) <= BIDI_MARKS


def _inside_a_word(text: str, start: int, end: int, odd: list[str]) -> bool:
    """A lone hidden character between two letters (a bit or a byte a gap: after every letter of
    a cover text, between letters of a script that has no use for it), but a bidi mark."""
    return end - start == 1 and not set(odd) <= BIDI_MARKS and start > 0 and end < len(text) \
        and text[start - 1].isalpha() and text[end].isalpha()


def _a_flag(text: str, start: int, end: int) -> bool:
    """Whether the tag characters at [start, end) spell a subdivision flag's code (England's,
    `gbeng`): after the black flag, two tag letters and one to four letters or digits, then the
    cancel tag."""
    return start > 0 and text[start - 1] == BLACK_FLAG and text[end - 1] == CANCEL_TAG \
        and _FLAG_CODE.fullmatch("".join(chr(ord(c) - 0xE0000) for c in text[start:end - 1]))\
        is not None


def _make(name: str, config: InvisibleTextConfig, spec: ClassifierSpec) -> InvisibleTextClassifier:
    return InvisibleTextClassifier(name, config)


TYPE = ClassifierType(InvisibleTextConfig, _make)
