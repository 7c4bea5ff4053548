# ruff: noqa: RUF001, RUF002  (upside-down letters are what this module reads)
"""Upside-down text: letters turned half a circle and their order reversed ("ǝɯoɥ ʇɐ qɯoq")."""

from __future__ import annotations

import re

from guard.classify.decode.english import common_words, english

# Upside-down text: each letter turned half a circle, the order reversed so it reads when the
# page is. A letter that turns into another (b and q, d and p, n and u, M and W, 6 and 9) swaps.
# Pairs of (upside down, as meant).
UPSIDE_DOWN: dict[str, str] = {
    pair[0]: pair[1]
    for pair in """
    ɐa qb ɔc pd ǝe ɟf ƃg ɥh ᴉi ɾj ʞk ll ɯm un oo dp bq ɹr ss ʇt nu ʌv ʍw xx ʎy zz ∀A ᗺB ƆC ᗡD ƎE ℲF
    ⅁G HH II ſJ ˥L WM NN OO ԀP ΌQ ᴚR SS ⊥T ∩U ΛV MW XX ⅄Y ZZ Ɩ1 ᄅ2 Ɛ3 ㄣ4 ϛ5 96 ㄥ7 88 69 00 ˙. ¿? ¡!
    ', ,' )( () ][ [] }{ {} >< <> ‾_ ⅋&
    """.split()
}
_TURNED_ONLY = frozenset(c for c in UPSIDE_DOWN if not c.isascii() and c not in "˙¿¡‾")
_UPSIDE_DOWN_TABLE = str.maketrans(UPSIDE_DOWN)
_UPSIDE_DOWN_RUN = re.compile("[" + re.escape("".join(UPSIDE_DOWN)) + r"\s\d\"'\-:;]{8,}")
_TURNED_LETTER = re.compile("[" + "".join(sorted(_TURNED_ONLY)) + "]")


def upside_down(text: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the stretches of `text` written upside down: runs of
    upside-down characters with three letters only turning makes, read turned back in whichever
    order (reversed, as generators write it, or as written) has more common English words, and
    kept when that reads as English (turned letters are rare enough that no more is asked)."""
    if text.isascii() or not _TURNED_LETTER.search(text):
        return []
    found = []
    for match in _UPSIDE_DOWN_RUN.finditer(text):
        start, end = _turned_span(match)
        run = text[start:end]
        if sum(map(_TURNED_ONLY.__contains__, run)) < 3:
            continue
        turned = run.translate(_UPSIDE_DOWN_TABLE)
        plain = max(turned[::-1], turned, key=common_words)
        if len(plain.split()) > 1 and english(plain):
            found.append(("upside_down", start, end, plain))
    return found


def _turned_span(match: re.Match[str]) -> tuple[int, int]:
    """The span of an upside-down run without the words at either end that hold no turned letter
    (plain text that happens to use only letters that turn into letters, "so", "ox")."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", match.group(0))]
    turned = [i for i, (a, b) in enumerate(words) if _TURNED_LETTER.search(match.group(0), a, b)]
    if not turned:
        return match.start(), match.start()
    return match.start() + words[turned[0]][0], match.start() + words[turned[-1]][1]
