"""What reads as English, and the words of a text as bytes, for the decoded readings.

`utf8(text).translate(WORDS).split()` are a text's words, lower-cased, each character outside
ASCII a DEL byte inside its word; `WORD` finds the same words in the text itself. `COMMON` and
`ELSEWHERE` are short words common as written (in English; in six other languages written in Latin
letters); `DECODED` is what counts as an English word once decoded (`KNOWN` with single letters);
`english(text)` is the test every cipher, Morse and upside-down reading passes.
"""

from __future__ import annotations

import re

from guard.classify.words import common_word, commonest_words, word_rank_cost

# A cipher, Morse or upside-down reading must read as English: this share of the letters of its
# words of two letters or more in the 20,000 commonest words.
ENGLISH_SHARE = 0.6
ENGLISH_RANK = 60_000
_ENGLISH_COST = word_rank_cost(ENGLISH_RANK)

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
COMMON_BYTES = frozenset(w.encode() for w in COMMON)
# Short words common in other languages written in Latin letters (Spanish, French, German,
# Italian, Portuguese, Dutch; accented ones left out, since their letters split a word here):
# prose in them has few English words as written, yet it is no cipher.
ELSEWHERE = frozenset(
    """
    al algo como con del desde donde el ella ellos en entre era es esta este esto fue hay la las le
    les lo los mas muy nada no nos otro para pero por porque que se ser si sin sobre son su sus te
    todo tu una uno unos y ya yo au aux avec ce ces cette dans de des donc du elle est et il ils je
    leur mais ne nous on ou par pas plus pour qui sa ses sont sur toi tous tout un une vous auch auf
    aus bei bin das dass dem den der des die du ein eine einem einen einer er es ich ihr im ist mit
    nach nicht noch oder sich sie sind und von war wie wir wird zu zum zur che di gli il nel nella
    non per sono della delle dei anche ao da das dos e em na nao os um uma het een van op voor met
    niet aan maar ook als bij zijn hij ze wat
    """.split()
)
AS_WRITTEN_COMMON = COMMON_BYTES | frozenset(w.encode() for w in ELSEWHERE)
# What counts as English once decoded: the short words above and the VOCABULARY commonest words
# of three letters or more, never a single letter (a cipher makes "a" or "i" of any letter).
VOCABULARY = 2000
DECODED = frozenset(w for w in COMMON_BYTES if len(w) > 1) | {
    w.encode() for w in commonest_words(VOCABULARY) if len(w) > 2 and w.isascii() and w.isalpha()
}
KNOWN = COMMON_BYTES | DECODED  # English once decoded, single letters included

LOWER = "abcdefghijklmnopqrstuvwxyz"
# Bytes tables for finding words in a text's UTF-8 (`as_bytes`): ASCII letters lower-cased, the bytes
# of any other character DEL, which stays inside a word ("número" is one word, neither common nor
# a tell, not "n" and "mero"), anything else a space.
WORDS = bytes(c | 0x20 if chr(c).isalpha() else c if c == 0x7F else 0x20 for c in range(128)) + b"\x7f" * 128

# Symbols outside ASCII (punctuation, arrows, box drawing, dingbats, emoji) part words like a
# space; other characters outside ASCII (letters) are part of a word.
SYMBOLS = re.compile("[\u2000-\u2bff\U0001f000-\U0001faff]")
# The words of `as_bytes(text).translate(WORDS)`, where they stand in `text`.
WORD = re.compile("[A-Za-z\x7f-\u1fff\u2c00-\U0001efff\U0001fb00-\U0010ffff]+")


def as_bytes(text: str) -> bytes:
    """`text` in UTF-8, its symbols outside ASCII made spaces."""
    if not text.isascii():
        text = SYMBOLS.sub(" ", text)
    return text.encode("utf-8", "surrogatepass")


def english(text: str) -> bool:
    """Whether ENGLISH_SHARE of the ASCII letters of `text`'s words of two letters or more are in
    common English words (a character outside ASCII, a box-drawing line, counts for nothing)."""
    words = [w for w in as_bytes(text).translate(WORDS, b"\x7f").decode().split() if len(w) > 1]
    known = sum(len(w) for w in words if common_word(w, _ENGLISH_COST))
    return known > 0 and known >= ENGLISH_SHARE * sum(map(len, words))


def common_words(text: str) -> int:
    """How many of `text`'s words are in COMMON."""
    return sum(map(COMMON_BYTES.__contains__, as_bytes(text).translate(WORDS).split()))
