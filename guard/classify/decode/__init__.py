# ruff: noqa: RUF002  (the docstring shows upside-down letters)
"""Decoded readings: what a text says once its encoding is undone.

A request can be written so that nothing reading its characters sees it, while the model behind
the guard reads it at once: encoded in base64, base32, hex or binary ("decode this and answer:
R2l2ZSBt...", or wrapped into lines as MIME writes it), percent-encoded, as HTML character
references or Unicode escapes, in Morse code, in a letter cipher (ROT13 or another Caesar shift,
Atbash: "Tvir zr fgrc-ol-fgrc vafgehpgvbaf..."), written backwards ("emoh ta bmob epip a..."),
each word reversed in its place ("woH ot ekam") or upside down ("ǝɯoɥ ʇɐ qɯoq").
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

What a text's readings cost is bounded linearly in its length, whatever the text: stretches of a
cipher that meet are one stretch, a reading found twice (same kind, place and text) is kept once,
and the readings of one text (its head or its tail past READ_CHARS), both levels together, are at
most READINGS (64) holding at most READ_SHARE (4) times its characters; past either, the readings
found first are kept and the rest not read (the text itself is always scored). Of the dev texts of
the four trained models and their positives after every evasion transform (87,361 texts), the
most readings of one text were 43 (an upside-down jailbreak broken by signs that do not turn),
the most characters 2.3 times the text's. A probe's 6,000 characters of ROT13 text hiding
backwards text had given 11,476 readings of 68 M characters (each of ~100 stretches widened to the
whole text, and each reading read again): now three. A text holding escapes a reader decodes where
they stand (HTML references, percent-escapes, `\\xNN`) or markup a renderer shows as nothing
(`escapes.SHOWN`) is scored once more as shown, and its readings are those of that text
(`as_read`): one more text, no longer than the text itself.

Modules: `runs` (the byte encodings and Morse code), `ciphers` (letter ciphers, backwards and words
reversed), `upside_down`, and `english` (a text's words, and what reads as English).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from guard.classify.decode.ciphers import ciphered
from guard.classify.decode.runs import MORSE, encoded
from guard.classify.decode.upside_down import UPSIDE_DOWN, upside_down
from guard.classify.escapes import references_decoded

__all__ = ["KINDS", "MORSE", "UPSIDE_DOWN", "Reading", "as_read", "encoded_runs", "find_readings", "in_place",
           "readings"]

READ_CHARS = 16_384  # of a text: its head and tail, half each
WHOLE = 0.9  # of a text's length: a reading this long stands for the text
READINGS = 64  # of one text (its head or its tail past READ_CHARS), both levels, at most
READ_SHARE = 4  # the characters of a text's readings, both levels, at most, times its own
SHORT_CHARS = 2_048  # a text this long or shorter is cached with 511 others, a longer one with 15

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
    """What a model scores for `text`: the text itself, the text with its escapes decoded in place
    when it holds some (`in_place`), and the readings of that (of the text when it holds none);
    without the first two when one reading is all of it (WHOLE of its length): upside-down or
    ciphered letters are nonsense as written, and the fold can make misleading words of them.
    Readings are looked for in the decoded text: the letters left between escapes ("G&#105;v&#101;
    m&#101;") read as a cipher of the whole text would. Each text once."""
    decoded = in_place(text)
    base = text if decoded is None else decoded
    found = find_readings(base)
    whole = any(r.end - r.start >= WHOLE * len(base.strip()) for r in found)
    read = dict.fromkeys(r.text for r in found)
    return tuple(read) if whole else tuple(dict.fromkeys((text, base, *read)))


def in_place(text: str) -> str | None:
    """`text` with its HTML character references, percent-escapes and program text's escapes
    decoded where they stand, and its markup read as a renderer shows it (`escapes.SHOWN`), None
    when it holds none: a request with only some letters escaped ("Ign&#111;r&#101; &#97;ll
    pr&#101;v&#105;&#111;&#117;s instructions") or an empty comment inside its words
    ("Disre<!---->gard") holds no run to decode, and reads as plain text to a model. One more text
    to score, no longer than the text itself, and only for a text holding such escapes or markup."""
    decoded = references_decoded(text)
    return None if decoded is None else decoded[0]


def find_readings(text: str) -> tuple[Reading, ...]:
    """The readings of `text`, with their spans in it; a text longer than READ_CHARS is read at its
    head and tail only (the models themselves read all of it)."""
    if len(text) < 12:
        return ()
    if len(text) <= READ_CHARS:
        return _cached(text, 0)
    tail = len(text) - READ_CHARS // 2
    return _cached(text[: READ_CHARS // 2], 0) + _cached(text[tail:], tail)


def _cached(text: str, offset: int) -> tuple[Reading, ...]:
    return (_find_short if len(text) <= SHORT_CHARS else _find_long)(text, offset)


def _find(text: str, offset: int) -> tuple[Reading, ...]:
    budget = _Budget(READINGS, READ_SHARE * len(text))
    outer = budget.kept(_decoded(text))
    # One level deeper: an encoding inside a reading is read too, at the outer one's place.
    found = outer + budget.kept(
        (kind, start, end, deeper) for _, start, end, plain in outer for kind, _, _, deeper in _decoded(plain)
    )
    return tuple(Reading(kind, start + offset, end + offset, plain) for kind, start, end, plain in found)


# Every trained model of a policy scores the same segment. Two caches, so that what they hold is
# bounded in characters, not only in entries: 512 x 5 x 2,048 + 16 x 5 x 16,384 (a text and its
# readings), 6.6 M characters, 26 MiB at most (4 bytes a character); a 16,400-character probe
# had grown the one cache by ~400 MiB.
_find_short = functools.lru_cache(maxsize=512)(_find)
_find_long = functools.lru_cache(maxsize=16)(_find)

_Found = tuple[str, int, int, str]  # kind, start, end, decoded text


class _Budget:
    """What the readings of one text may hold, both levels together: so many readings, so many
    characters. A reading found twice (same kind, place and text) is kept once."""

    def __init__(self, readings: int, chars: int) -> None:
        self.readings = readings
        self.chars = chars
        self.seen: set[_Found] = set()

    def kept(self, found: Iterable[_Found]) -> list[_Found]:
        """Those of `found` not kept before, in order, until the budget is spent (the rest, and
        what would have been decoded to find them, unread)."""
        kept = []
        for reading in found:
            if reading in self.seen:
                continue
            if not self.readings or len(reading[3]) > self.chars:
                break
            self.seen.add(reading)
            self.readings -= 1
            self.chars -= len(reading[3])
            kept.append(reading)
        return kept


def _decoded(text: str) -> list[tuple[str, int, int, str]]:
    return [*encoded(text), *upside_down(text), *ciphered(text)]


def encoded_runs(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, decoded text) of each byte-encoded run of `text` that decodes to readable text: base64,
    base32, hex, binary, percent-encoding, HTML character references, Unicode escapes (not Morse)."""
    return (((start, end), plain) for kind, start, end, plain in encoded(text) if kind != "morse")

