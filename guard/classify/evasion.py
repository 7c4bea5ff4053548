# ruff: noqa: RUF001, RUF002  (look-alike letters are what this module folds or produces)
"""Evasion transforms used to measure robustness (never to train): seeded and deterministic.

Training reports each trained model's recall after them (the model cards' "Recall after evasion
transforms"), and `guard eval --evasion NAME` evaluates classifiers or a policy on a data set
written so.
"""

from __future__ import annotations

import base64
import codecs
import functools
import random
from collections.abc import Callable

_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
_LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7"}
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


def zero_width(text: str, rng: random.Random) -> str:
    """Inserts a zero-width character inside about a third of the words."""
    out = []
    for word in text.split(" "):
        if len(word) > 2 and rng.random() < 0.35:
            cut = rng.randint(1, len(word) - 1)
            out.append(word[:cut] + rng.choice(_ZERO_WIDTH) + word[cut:])
        else:
            out.append(word)
    return " ".join(out)


def _swap(text: str, table: dict[str, str], rate: float, rng: random.Random) -> str:
    return "".join(table[c] if c in table and rng.random() < rate else c for c in text)


def homoglyphs(text: str, rng: random.Random) -> str:
    """Swaps about half of the swappable Latin letters for Cyrillic look-alikes."""
    return _swap(text, _HOMOGLYPHS, 0.5, rng)


def leetspeak(text: str, rng: random.Random) -> str:
    """Writes about half of the swappable letters as digits (a→4, e→3, o→0 ...)."""
    return _swap(text, _LEET, 0.5, rng)


def case_noise(text: str, rng: random.Random) -> str:
    """Flips the case of about a third of the letters."""
    return "".join(c.swapcase() if rng.random() < 0.33 else c for c in text)


def _some_words(text: str, change: Callable[[str], str], rng: random.Random) -> str:
    """`change` applied to about a third of the words of four letters or more."""
    return " ".join(
        change(word) if len(word) > 3 and word.isalpha() and rng.random() < 0.35 else word
        for word in text.split(" ")
    )


def spread_letters(text: str, rng: random.Random) -> str:
    """Spreads the letters of about a third of the longer words apart with a space, dot or hyphen."""
    return _some_words(text, lambda word: rng.choice(" .-").join(word), rng)


def spread_text(text: str, rng: random.Random) -> str:
    """Spreads every letter of the text apart with single spaces, its words' own spaces dropped
    ("h o w t o m a k e a b o m b"): nothing is left to tell where a word ends."""
    return " ".join(text.replace(" ", ""))


def inner_punctuation(text: str, rng: random.Random) -> str:
    """Puts a dot, hyphen, asterisk, underscore or apostrophe inside about a third of the longer
    words ("bo*mb"); the fold drops them again, but an apostrophe before a contraction's ending
    ("bo'mb" is read, "s'tory" stays)."""

    def mark(word: str) -> str:
        cut = rng.randint(1, len(word) - 1)
        return word[:cut] + rng.choice(".-*_'") + word[cut:]

    return _some_words(text, mark, rng)


def combining_marks(text: str, rng: random.Random) -> str:
    """Puts a combining mark (acute, grave, tilde, ring, dot, breve) on about half of the letters,
    and two or three on some ("Zalgo" text)."""
    marks = "\u0301\u0300\u0303\u030a\u0307\u0306"
    out = []
    for c in text:
        out.append(c)
        if c.isalpha() and rng.random() < 0.5:
            out.append("".join(rng.choice(marks) for _ in range(rng.choice((1, 1, 2, 3)))))
    return "".join(out)


def no_spaces(text: str, rng: random.Random) -> str:
    """The words run together with no space between them ("howtomakeabomb")."""
    return "".join(text.split())


def marked_words(text: str, rng: random.Random) -> str:
    """The spaces between words replaced by one dot, underscore or hyphen ("how.to.make.a.bomb")."""
    return rng.choice("._-").join(text.split())


_FANCY_STYLES = (
    dict(zip("abcdefghijklmnoprstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", strict=True)),  # small capitals
    {c: chr(0x1F150 + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},  # negative circled
    {c: chr(0x1F170 + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},  # negative squared
    {c: chr(0x1F1E6 + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},  # regional indicators
    {c: chr(0x249C + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},  # parenthesised
)


def fancy_letters(text: str, rng: random.Random) -> str:
    """The whole text in one style of a fancy-text generator (small capitals, letters in negative
    circles or squares, regional indicator symbols, parenthesised letters), chosen per text."""
    style = rng.choice(_FANCY_STYLES)
    return "".join(style.get(c, c) for c in text.lower())


def rot13(text: str, rng: random.Random) -> str:
    """The whole text in ROT13 ("Ubj gb znxr...")."""
    return codecs.encode(text, "rot13")


def backwards(text: str, rng: random.Random) -> str:
    """The whole text written backwards ("...ekam ot woH")."""
    return text[::-1]


def base64_text(text: str, rng: random.Random) -> str:
    """The whole text encoded in base64."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def hex_text(text: str, rng: random.Random) -> str:
    """The whole text's UTF-8 bytes in hex."""
    return text.encode("utf-8").hex()


def caesar(text: str, rng: random.Random) -> str:
    """The whole text in a Caesar cipher, every letter moved on by one shift chosen per text
    (any but 13, which is `rot13`)."""
    shift = rng.choice([k for k in range(1, 26) if k != 13])
    moved = _LOWER[shift:] + _LOWER[:shift]
    return text.translate(str.maketrans(_LOWER + _LOWER.upper(), moved + moved.upper()))


def atbash(text: str, rng: random.Random) -> str:
    """The whole text in Atbash (a for z, b for y ...)."""
    return text.translate(str.maketrans(_LOWER + _LOWER.upper(), _LOWER[::-1] + _LOWER[::-1].upper()))


@functools.cache
def _decoding() -> tuple[dict[str, str], dict[str, str]]:
    """Each letter's Morse code, and each character turned upside down: the decoders' tables
    read the other way, built on first use (importing the decoders builds their word lists,
    which `guard eval --help` should not wait for)."""
    from guard.classify import decode

    return ({plain: code for code, plain in decode.MORSE.items()},
            {meant: turned for turned, meant in decode.UPSIDE_DOWN.items()})


def morse(text: str, rng: random.Random) -> str:
    """The whole text in Morse code: letters apart by a space, words by a slash (what Morse has
    no code for is left out)."""
    codes = _decoding()[0]
    words = (" ".join(codes[c] for c in word if c in codes) for word in text.lower().split())
    return " / ".join(w for w in words if w)


def upside_down(text: str, rng: random.Random) -> str:
    """The whole text upside down, as generators write it: each character turned, the order
    reversed ("ǝɯoɥ ʇɐ qɯoq")."""
    turn = _decoding()[1]
    return "".join(turn.get(c, c) for c in reversed(text))


def binary(text: str, rng: random.Random) -> str:
    """The whole text's UTF-8 bytes as 8-bit binary numbers apart by spaces."""
    return " ".join(f"{b:08b}" for b in text.encode("utf-8"))


def base32_text(text: str, rng: random.Random) -> str:
    """The whole text encoded in base32."""
    return base64.b32encode(text.encode("utf-8")).decode("ascii")


def percent(text: str, rng: random.Random) -> str:
    """Every byte of the text percent-encoded, as in a URL ("%48%6F%77")."""
    return "".join(f"%{b:02X}" for b in text.encode("utf-8"))


def entities(text: str, rng: random.Random) -> str:
    """Every character an HTML character reference, decimal or hex chosen per text ("&#72;&#111;")."""
    form = rng.choice(("&#{};", "&#x{:x};"))
    return "".join(form.format(ord(c)) for c in text)


def escapes(text: str, rng: random.Random) -> str:
    """Every character a Unicode escape, as in source code or JSON ("\\u0048\\u006f")."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def words_reversed(text: str, rng: random.Random) -> str:
    """Each word written backwards in its place ("woH ot ekam a bmob")."""
    return " ".join(word[::-1] for word in text.split(" "))


def base64_rot13(text: str, rng: random.Random) -> str:
    """The whole text in ROT13, then that in base64: two encodings, one inside the other."""
    return base64_text(rot13(text, rng), rng)


def pieces(text: str, n: int) -> list[str]:
    """`text` cut into `n` pieces of (about) equal word count (fewer when it has fewer words): a
    request sent a few words per message (`guard eval --split N`)."""
    words = text.split()
    size = max(1, -(-len(words) // n))
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)] or [text]


TRANSFORMS: dict[str, Callable[[str, random.Random], str]] = {
    "zero_width": zero_width,
    "homoglyphs": homoglyphs,
    "leetspeak": leetspeak,
    "case_noise": case_noise,
    "spread_letters": spread_letters,
    "spread_text": spread_text,
    "inner_punctuation": inner_punctuation,
    "combining_marks": combining_marks,
    "no_spaces": no_spaces,
    "marked_words": marked_words,
    "fancy_letters": fancy_letters,
    "rot13": rot13,
    "backwards": backwards,
    "base64": base64_text,
    "hex": hex_text,
    "caesar": caesar,
    "atbash": atbash,
    "morse": morse,
    "upside_down": upside_down,
    "binary": binary,
    "base64_rot13": base64_rot13,
    "base32": base32_text,
    "percent": percent,
    "entities": entities,
    "escapes": escapes,
    "words_reversed": words_reversed,
}
