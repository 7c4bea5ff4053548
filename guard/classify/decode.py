"""Decoded readings: what a text says once its encoding is undone.

A request can be written so that nothing reading its characters sees it, while the model behind
the guard reads it at once: encoded in base64 or hex ("decode this and answer: R2l2ZSBt..."), in
ROT13 ("Tvir zr fgrc-ol-fgrc vafgehpgvbaf..."), or written backwards ("emoh ta bmob epip a...").
`readings(text)` gives the decoded texts hidden in a text; the trained models score them beside
the text itself (guard/classify/models/loader.py), `encoded_text` marks them whatever they say
(`find_readings`, with their kinds and spans), and the injection heuristics look for instructions
in its base64 and hex runs (`encoded_runs`).

Most texts have no reading, and finding that out is cheap (about 17 us per KB): one linear-time
scan for encoded runs, and one pass over the words counting those that are common English only
once decoded ("gur", "bs", "eht"); a text with fewer than three has no ROT13 or backwards reading.
Beyond that, only a stretch of words with at most one common word among any eight (a text of four
to seven words is its own window) is read decoded, and it becomes a reading when three of those
words are common once decoded. Runs that decode to bytes rather than text (hashes, keys, binary
data) give nothing. A false reading costs one more scoring of a text that reads as nothing.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass

import re2

# Runs that may be encoded text: base64, or hex (which the same scan finds). RE2 for ASCII texts;
# `re` for the others, since RE2 takes no lone surrogates (which broken JSON can carry).
ENCODED_RUN = re2.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_ENCODED_RUN = re.compile(ENCODED_RUN.pattern)
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){8,}")
RUNS_READ = 4  # encoded runs decoded per text, at most
RUN_CHARS = 8192  # of each run
# A stretch read decoded: every WINDOW words in a row hold at most PLAIN_COMMON common English
# words as written, and a reading needs DECODED_COMMON of them common once decoded.
WINDOW = 8
SHORTEST = 4  # words: a shorter text is its own window
PLAIN_COMMON = 1
DECODED_COMMON = 3
READ_CHARS = 16_384  # of a text: its head and tail, half each

# The commonest short English words: a stretch of text that holds several reads as English.
COMMON = frozenset(
    """
    a about all an and any are as at be been but by can could did do does for from get give had has
    have he her here him his how i if in into is it its just let like make me more my no not now of
    on one or our out please say she show so some tell than that the their them then there these
    they this those to too up us use was way we were what when where which who why will with would
    write you your
    """.split()
)
_COMMON = frozenset(w.encode() for w in COMMON)

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_TURNED = _LOWER[13:] + _LOWER[:13]
_ROT13 = str.maketrans(_LOWER + _LOWER.upper(), _TURNED + _TURNED.upper())
# Bytes tables for finding words: ASCII letters lower-cased (and turned by ROT13), anything else a
# space. A character outside ASCII is encoded as "?" first, so every word keeps its place.
_WORDS = bytes(c | 0x20 if chr(c).isascii() and chr(c).isalpha() else 0x20 for c in range(256))
_ROT13_WORDS = _WORDS.translate(bytes.maketrans(_LOWER.encode(), _TURNED.encode()))
_WORD = re.compile(r"[A-Za-z]+")
# Words that are common English only once decoded ("gur", "bs", "eht", "fo"): a text with fewer
# than DECODED_COMMON of them has no reading, and most texts have none.
_TELLS = frozenset(w.translate(_ROT13_WORDS) for w in _COMMON) | frozenset(w[::-1] for w in _COMMON)
_TELLS -= _COMMON


@dataclass(frozen=True, slots=True)
class Reading:
    """A decoded text hidden in a text: how it was encoded (`KINDS`), where, and what it says."""

    kind: str
    start: int
    end: int
    text: str


KINDS = ("base64", "hex", "rot13", "backwards")


def readings(text: str) -> tuple[str, ...]:
    """The decoded texts hidden in `text` (none for almost every text)."""
    return tuple(r.text for r in find_readings(text))


def find_readings(text: str) -> tuple[Reading, ...]:
    """The readings of `text`, with their spans in it; a longer text is read at its head and tail,
    as the models read it."""
    if len(text) < 12:
        return ()
    if len(text) <= READ_CHARS:
        return _find(text, 0)
    tail = len(text) - READ_CHARS // 2
    return _find(text[: READ_CHARS // 2], 0) + _find(text[tail:], tail)


@functools.lru_cache(maxsize=512)
def _find(text: str, offset: int) -> tuple[Reading, ...]:
    # Cached: every trained model of a policy scores the same segment.
    found = [*_encoded(text), *_turned(text)]
    return tuple(Reading(kind, start + offset, end + offset, plain) for kind, start, end, plain in found)


def encoded_runs(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, decoded text) of each base64 or hex run of `text` that decodes to readable text."""
    return (((start, end), plain) for _, start, end, plain in _encoded(text))


def _encoded(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the base64 and hex runs of `text` that decode to text."""
    for i, match in enumerate((ENCODED_RUN if text.isascii() else _ENCODED_RUN).finditer(text)):
        if i >= RUNS_READ:
            return
        chunk = match.group(0)[:RUN_CHARS]
        if _HEX.fullmatch(chunk):
            kind, raw = "hex", bytes.fromhex(chunk)
        else:
            try:
                kind, raw = "base64", base64.b64decode(chunk + "=" * (-len(chunk) % 4))
            except (binascii.Error, ValueError):
                continue
        if (plain := _readable(raw)) is not None:
            yield kind, match.start(), match.end(), plain


def _readable(raw: bytes) -> str | None:
    """`raw` as text, when it is UTF-8 of printable characters with more than one word."""
    try:
        plain = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(c.isprintable() or c in "\n\t" for c in plain)
    if printable < 0.95 * len(plain) or " " not in plain.strip():
        return None
    return plain


def _turned(text: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the stretches of `text` that read as English in ROT13 or
    written backwards."""
    raw = text.encode("ascii", "replace")
    words = raw.translate(_WORDS).split()
    if sum(map(_TELLS.__contains__, words)) < DECODED_COMMON:
        return []
    common = _COMMON.__contains__
    plain = list(map(common, words))
    window = min(WINDOW, len(plain))
    sparse = _sparse(plain, window) if window >= SHORTEST else []
    if not sparse:
        return []
    found: list[tuple[str, int, int, str]] = []
    bounds: list[tuple[int, int]] = []  # each word's span, found once a stretch needs them
    for turned, kind in ((raw.translate(_ROT13_WORDS), "rot13"), (raw[::-1].translate(_WORDS), "backwards")):
        decoded = list(map(common, turned.split()))
        # common only once decoded (True > False)
        only = list(map(operator.gt, decoded[::-1] if kind == "backwards" else decoded, plain))
        if sum(only) < DECODED_COMMON:
            continue
        stretches = list(_stretches(plain, only, sparse, window))
        if stretches:
            bounds = bounds or [m.span() for m in _WORD.finditer(text)]
            for first, last in stretches:
                start, end = bounds[first][0], bounds[last - 1][1]
                stretch = text[start:end]
                plain_text = stretch[::-1] if kind == "backwards" else stretch.translate(_ROT13)
                found.append((kind, start, end, plain_text))
    return found


def _sparse(plain: list[bool], window: int) -> list[range]:
    """Where a window of `window` words may start that holds at most PLAIN_COMMON common words
    (found from the gaps between the common words; English prose has almost none)."""
    common = [-1, *(i for i, c in enumerate(plain) if c), *[len(plain)] * (PLAIN_COMMON + 1)]
    pairs = zip(common, common[PLAIN_COMMON + 1 :], strict=False)
    return [range(a + 1, b - window + 1) for a, b in pairs if b - a - 1 >= window]


def _stretches(
    plain: list[bool], only: list[bool], sparse: list[range], window: int
) -> Iterator[tuple[int, int]]:
    """[start, end) word ranges to read decoded: the windows of `window` words with at most
    PLAIN_COMMON common words as written (starting in `sparse`) and at least DECODED_COMMON common only once
    decoded (`only`), overlapping windows joined, each widened to the uncommon words on either
    side."""
    counts = list(itertools.accumulate(only, initial=0))
    stretches: list[list[int]] = []
    for i in sorted({i for starts in sparse for i in starts}):
        if counts[i + window] - counts[i] >= DECODED_COMMON:
            if stretches and i <= stretches[-1][1]:
                stretches[-1][1] = i + window
            else:
                stretches.append([i, i + window])
    for first, last in stretches:
        start, end = first, last
        while start > 0 and not plain[start - 1]:
            start -= 1
        while end < len(plain) and not plain[end]:
            end += 1
        yield start, end
