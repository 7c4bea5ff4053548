# ruff: noqa: RUF001  (look-alike letters are what this module folds)
"""Text normalisation before matching, with a map back to the original characters.

Obfuscation that a reader does not see (zero-width joiners, bidi controls, Unicode tag
characters) or barely notices (full-width forms, mathematical letters, Cyrillic and Greek
look-alikes, leetspeak) must not stop a pattern from matching. Classifiers match on the
normalised text and report spans in it; `Normalized.original_span` turns those spans back into
character ranges of the original text, so redaction masks exactly the characters that were there.

The text is cut into clusters: a starter character and the combining marks that follow it. Each
cluster is normalised on its own, and every output character remembers the cluster it came from.
Characters that are removed belong to no output character, but a span that reaches across them
covers them in the original (so a redaction also masks the hidden characters inside a match).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

# Removed outright: they render as nothing (or only reorder text) and exist in attacks to split
# words apart or hide instructions.
INVISIBLE: frozenset[int] = frozenset(
    [
        0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
        *range(0x200B, 0x2010),  # zero-width space/non-joiner/joiner, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0000, 0xE0080),  # Unicode tag characters (ASCII smuggling)
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    ]
)

# Cyrillic and Greek letters that look like Latin ones (after NFKC, which already folds
# full-width and mathematical alphanumerics).
CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ь": "b",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "З": "3", "І": "I", "Ї": "I", "Ј": "J", "К": "K",
    "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S",
    "Ԁ": "D", "Һ": "H", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek lower case
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Greek upper case
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}

# Leetspeak, folded only for keyword lists (and applied to the keywords too, so that both sides
# fold the same way). `l` folds to `i` with `1`, `!` and `|`, because `1` stands for either.
LEET: dict[int, str] = str.maketrans(
    {"0": "o", "1": "i", "!": "i", "|": "i", "l": "i", "L": "I", "3": "e", "4": "a", "@": "a",
     "5": "s", "$": "s", "7": "t", "+": "t"}
)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and where each of its characters came from.

    text:   the normalised text.
    starts: for output character i, the index of the first original character it came from;
            None when the normalised text is the original itself (position for position).
    ends:   for output character i, the index one past the last original character it came from.
    length: length of the original text.
    """

    text: str
    starts: tuple[int, ...] | None
    ends: tuple[int, ...] | None
    length: int

    @property
    def identity(self) -> bool:
        return self.starts is None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text range [start, end) that normalised range [start, end) came from."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else self.length
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def fold_leet(text: str) -> str:
    """Leetspeak folded to letters, one character for one (keywords are folded with it too)."""
    return text.translate(LEET)


@functools.lru_cache(maxsize=4096)
def _fold_cluster(cluster: str) -> str:
    folded = unicodedata.normalize("NFKC", cluster)
    if any(ord(c) in INVISIBLE for c in folded):
        folded = "".join(c for c in folded if ord(c) not in INVISIBLE)
    if any(c in CONFUSABLES for c in folded):
        folded = "".join(CONFUSABLES.get(c, c) for c in folded)
    return folded


def _is_invisible(ch: str) -> bool:
    return ord(ch) in INVISIBLE


def _clusters(text: str) -> list[tuple[int, int]]:
    """[start, end) of each starter plus its combining marks; invisible characters stand alone."""
    bounds: list[tuple[int, int]] = []
    start = 0
    combining = unicodedata.combining
    for i in range(1, len(text) + 1):
        if i == len(text):
            bounds.append((start, i))
            break
        ch = text[i]
        if combining(ch) and not _is_invisible(text[i - 1]) and not _is_invisible(ch):
            continue
        bounds.append((start, i))
        start = i
    return bounds


def _normalize(text: str, leet: bool) -> Normalized:
    if text.isascii():
        # NFKC, invisible removal and confusable folding are all no-ops on ASCII.
        return Normalized(fold_leet(text) if leet else text, None, None, len(text))
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(text):
        folded = _fold_cluster(text[start:end])
        if not folded:
            continue
        parts.append(folded)
        starts.extend([start] * len(folded))
        ends.extend([end] * len(folded))
    out = "".join(parts)
    if leet:
        out = fold_leet(out)
    return Normalized(out, tuple(starts), tuple(ends), len(text))


CACHED_CHARS = 65_536


def normalize(text: str, *, leet: bool = False) -> Normalized:
    """NFKC, invisible characters removed, confusables folded (and leetspeak when `leet`).

    Texts up to CACHED_CHARS are cached: the classifiers of one request normalise the same
    segments, and conversations re-send their history with every request.
    """
    if len(text) <= CACHED_CHARS:
        return _normalize_cached(text, leet)
    return _normalize(text, leet)


@functools.lru_cache(maxsize=1024)
def _normalize_cached(text: str, leet: bool) -> Normalized:
    return _normalize(text, leet)


def original_text(text: str) -> Normalized:
    """The identity normalisation, for classifiers that opt out of normalising."""
    return Normalized(text, None, None, len(text))
