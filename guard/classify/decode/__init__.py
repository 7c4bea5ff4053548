# ruff: noqa: RUF002  (the docstring shows upside-down letters)
"""Decoded readings: what a text says once its encoding is undone.

A request can be written so that nothing reading its characters sees it, while the model behind
the guard reads it at once: encoded in base64, base32, hex or binary ("decode this and answer:
R2l2ZSBt..."), percent-encoded, as HTML character references or Unicode escapes, in Morse code, in
a letter cipher (ROT13 or another Caesar shift, Atbash: "Tvir zr fgrc-ol-fgrc vafgehpgvbaf..."),
written backwards ("emoh ta bmob epip a..."), each word reversed in its place ("woH ot ekam") or
upside down ("ǝɯoɥ ʇɐ qɯoq").
`readings(text)` gives the decoded texts hidden in a text; the trained models score them beside
the text itself (guard/classify/models/loader.py), `encoded_text` marks them whatever they say
(`find_readings`, with their kinds and spans), and the injection heuristics look for instructions
in its byte-encoded runs (`encoded_runs`). A reading is read once more for an encoding inside it
(base64 of ROT13 text), no deeper.

Most texts have no reading, and finding that out is cheap (about 18 us per KB of English, 95 of
French, German or Spanish; bench/bench_models.py): one linear-time scan for encoded runs and
Morse code, one search for upside-down letters in a text that is not ASCII, and one pass over the
words counting those that are common English only once decoded ("gur", "bs", "eht"); a text with
fewer than three has no cipher or backwards reading. Beyond that, only a stretch of words with at
most one common word (English or of five other languages) among any eight is read decoded (a text
of four to seven words is its own window), in the Caesar shift most of its words vote for, in
Atbash (neither when its letters are spread as in prose as written) and backwards (whole, or word
by word, whichever order reads more like English); it becomes a
reading when three of those words are common once decoded, and it is kept when, the plain words
at its ends trimmed, 60% of its letters make English words. Runs that decode to bytes rather than
text (hashes, keys, binary data) give nothing. No prompt or completion of the data, nor any
hand-written set, has a reading (63,813 texts); a false reading would cost one more scoring of a
text that reads as nothing.

Modules: `runs` (the byte encodings and Morse code), `ciphers` (letter ciphers, backwards and words
reversed), `upside_down`, and `english` (a text's words, and what reads as English).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from guard.classify.decode.ciphers import ciphered
from guard.classify.decode.runs import MORSE, encoded
from guard.classify.decode.upside_down import UPSIDE_DOWN, upside_down

__all__ = ["KINDS", "MORSE", "UPSIDE_DOWN", "Reading", "as_read", "encoded_runs", "find_readings", "readings"]

READ_CHARS = 16_384  # of a text: its head and tail, half each
WHOLE = 0.9  # of a text's length: a reading this long stands for the text

KINDS = (
    "base64", "base32", "hex", "binary", "percent", "entities", "escapes", "morse",
    "rot13", "caesar", "atbash", "backwards", "words_reversed", "upside_down",
)


@dataclass(frozen=True, slots=True)
class Reading:
    """A decoded text hidden in a text: how it was encoded (`KINDS`), where, and what it says."""

    kind: str
    start: int
    end: int
    text: str


def readings(text: str) -> tuple[str, ...]:
    """The decoded texts hidden in `text` (none for almost every text)."""
    return tuple(r.text for r in find_readings(text))


def as_read(text: str) -> tuple[str, ...]:
    """What a model scores for `text`: the text itself and its readings, without the text when
    one reading is all of it (WHOLE of its length): upside-down or ciphered letters are
    nonsense as written, and the fold can make misleading words of them."""
    found = find_readings(text)
    whole = any(r.end - r.start >= WHOLE * len(text.strip()) for r in found)
    return tuple(r.text for r in found) if whole else (text, *(r.text for r in found))


def find_readings(text: str) -> tuple[Reading, ...]:
    """The readings of `text`, with their spans in it; a text longer than READ_CHARS is read at its
    head and tail only (the models themselves read all of it)."""
    if len(text) < 12:
        return ()
    if len(text) <= READ_CHARS:
        return _find(text, 0)
    tail = len(text) - READ_CHARS // 2
    return _find(text[: READ_CHARS // 2], 0) + _find(text[tail:], tail)


@functools.lru_cache(maxsize=512)
def _find(text: str, offset: int) -> tuple[Reading, ...]:
    # Cached: every trained model of a policy scores the same segment.
    found = [*_decoded(text)]
    # One level deeper: an encoding inside a reading is read too, at the outer one's place.
    found += [(inner[0], start, end, inner[3]) for _, start, end, plain in found for inner in _decoded(plain)]
    return tuple(Reading(kind, start + offset, end + offset, plain) for kind, start, end, plain in found)


def _decoded(text: str) -> list[tuple[str, int, int, str]]:
    return [*encoded(text), *upside_down(text), *ciphered(text)]


def encoded_runs(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, decoded text) of each byte-encoded run of `text` that decodes to readable text: base64,
    base32, hex, binary, percent-encoding, HTML character references, Unicode escapes (not Morse)."""
    return (((start, end), plain) for kind, start, end, plain in encoded(text) if kind != "morse")

