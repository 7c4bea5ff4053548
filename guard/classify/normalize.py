# ruff: noqa: RUF001  (look-alike letters are what this module folds)
"""Text normalisation before matching, with a map back to the original characters.

Obfuscation that a reader does not see (zero-width joiners, bidi controls, Unicode tag
characters, every default-ignorable code point) or barely notices (combining marks on Latin
letters, full-width forms, mathematical letters, Cyrillic and Greek look-alikes, look-alikes of a
key's punctuation, digits of other scripts, leetspeak) must not stop a pattern from matching.
Classifiers match on the normalised text and report spans in it; `Normalized.original_span` turns
those spans back into character ranges of the original text, so redaction masks exactly the
characters that were there.

The text is cut into clusters: a starter character and the combining marks that follow it. Each
cluster is normalised on its own, and every output character remembers the cluster it came from.
Characters that are removed belong to no output character, but a span that reaches across them
covers them in the original (so a redaction also masks the hidden characters inside a match).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from guard.classify.escapes import JSON_ESCAPE, json_escape, may_show, shown_text, unescaped
from guard.classify.unicode_tables import code_tables
from guard.classify.words import split_words

# Removed outright: they render as nothing (or only reorder text) and exist in attacks to split
# words apart or hide instructions. Control characters too (not tab, line breaks, vertical tab,
# form feed or NEL, which separate words): a tokenizer's normalisation drops them, so a key with
# one inside reaches the model whole.
INVISIBLE: frozenset[int] = frozenset(
    [
        *range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0),
        *range(0x1D173, 0x1D17B),  # musical formatting controls
        0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
        # every other format character (Unicode category Cf, tested), and the Mongolian
        # variation selectors: none shows between two letters
        *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD,
        *range(0x180B, 0x180E), 0x180F, *range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440),
        *range(0x1BCA0, 0x1BCA4),
        *range(0x200B, 0x2010),  # zero-width space/non-joiner/joiner, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
        *range(0xFE00, 0xFE10),  # variation selectors
        # Unicode tag characters (ASCII smuggling, U+E0000-E007F), the variation selectors
        # supplement (U+E0100-E01EF), and the rest of the block, which Unicode reserves as
        # default-ignorable (unassigned, so a font shows nothing for them, as for U+FFF0-FFF8):
        # with the ranges above, every Default_Ignorable_Code_Point (tested)
        *range(0xE0000, 0xE1000), *range(0xFFF0, 0xFFF9),
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
    # Lisu (the Fraser alphabet is drawn from Latin capitals)
    "\ua4d0": "B", "\ua4d1": "P", "\ua4d3": "D", "\ua4d4": "T", "\ua4d6": "G", "\ua4d7": "K",
    "\ua4d9": "J", "\ua4da": "C", "\ua4dc": "Z", "\ua4dd": "F", "\ua4df": "M", "\ua4e0": "N",
    "\ua4e1": "L", "\ua4e2": "S", "\ua4e3": "R", "\ua4e6": "V", "\ua4e7": "H", "\ua4ea": "W",
    "\ua4eb": "X", "\ua4ec": "Y", "\ua4ee": "A", "\ua4f0": "E", "\ua4f2": "I", "\ua4f3": "O",
    "\ua4f4": "U",
}
# Cherokee letters shaped like Latin ones, capital and small (NFKC keeps both)
_CHEROKEE = {
    "\u13a0": "D", "\u13a1": "R", "\u13a2": "T", "\u13a5": "i", "\u13a9": "Y", "\u13aa": "A",
    "\u13ab": "J", "\u13ac": "E", "\u13b3": "W", "\u13b7": "M", "\u13bb": "H", "\u13c0": "G",
    "\u13c2": "h", "\u13c3": "Z", "\u13cf": "b", "\u13d2": "R", "\u13d9": "V", "\u13da": "S",
    "\u13de": "L", "\u13df": "C", "\u13e2": "P", "\u13e6": "K", "\u13f4": "B",
}
CONFUSABLES.update(_CHEROKEE)
CONFUSABLES.update({capital.lower(): latin for capital, latin in _CHEROKEE.items()})
# Armenian letters shaped like Latin ones ("Ignore all previous instructions" with U+0585 for "o")
CONFUSABLES.update({
    "\u0555": "O", "\u054d": "U", "\u054f": "S", "\u053c": "L",
    "\u0585": "o", "\u057d": "u", "\u0570": "h", "\u0578": "n", "\u0566": "q", "\u0581": "g",
})
# Latin letters of other alphabets (Turkish, IPA) shaped like plain ones: "Nightjar" with a dotless
# i (U+0131) or j (U+0237), a Latin alpha (U+0251) or iota (U+0269), or a dental click (U+01C0)
# for an "l", passed a keyword list (a probe)
CONFUSABLES.update({"\u0131": "i", "\u0237": "j", "\u0251": "a", "\u0269": "i",
                    "\u01c0": "l"})


def _look_alikes_with_marks() -> dict[str, str]:
    """Each precomposed letter that is a look-alike above with marks on it ("ά", "ό", "ӓ", "ἰ"),
    and the Latin letter the bare one reads as: NFKC keeps them composed, so the look-alike was
    not seen ("Nightjάr" passed a keyword list, a probe). Its marks go, as a Latin letter's do
    once accents fold. Every such letter lies below U+3000 (tested): a scan of 4 ms."""
    out = {}
    for code in range(0x80, 0x3000):
        bare = unicodedata.normalize("NFD", chr(code))
        if (len(bare) > 1 and bare[0] in CONFUSABLES and bare[0].isalpha()
                and all(map(unicodedata.combining, bare[1:]))):
            out[chr(code)] = CONFUSABLES[bare[0]]
    return out


CONFUSABLES.update({char: latin for char, latin in _look_alikes_with_marks().items()
                    if char not in CONFUSABLES})
# Look-alikes of the punctuation keys, tokens, paths and base64 are written with: an OpenAI key
# with hyphens (U+2010) or minus signs for its "-", a GitHub token with a modifier letter's low
# line (U+02CD) for its "_". NFKC folds the full-width and small forms. Not the middle dot nor the
# dot operators, which write products ("2·3·5·7" read as an IP address).
CONFUSABLES.update({
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2043\u2212\u02d7", "-"),
    "\u02cd": "_",
    **dict.fromkeys("\u2044\u2215\u29f8", "/"),
    **dict.fromkeys("\u02d6\u16ed\u2795", "+"),
    **dict.fromkeys("\u1400\u2e40\u30a0\ua4ff", "="),
})
# Blanks NFKC leaves as they are, read as the space they show (NFKC makes every other Unicode
# space one): the Ogham space mark (U+1680, the one space character NFKC keeps) and the Braille
# blank (U+2800, a symbol, shown as an empty cell), so a card or a key id grouped by them reads as
# grouped by spaces. (The Hangul fillers, U+115F, U+1160, U+3164, U+FFA0, are in INVISIBLE.)
BLANKS = "\u1680\u2800"
CONFUSABLES.update(dict.fromkeys(BLANKS, " "))
# Every character a text breaks a line at (`str.splitlines` but the file separators, which are
# INVISIBLE): LF, CR, VT, FF, NEL, and the line and paragraph separators. A value written one
# character a line is read with any of them (and CRLF).
LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
# The most blanks (spaces, tabs, line breaks, a CRLF one) a value's groups or characters may
# have between them, read as one separator: a blank line, a Markdown hard break (`" \n"`), a
# line break and indentation.
KEY_BLANKS = 3
# A regex (RE2 and Python's `re`) of such a run of blanks.
BLANK_RUN = rf"(?:\r\n|[ \t{LINE_BREAKS}]){{1,{KEY_BLANKS}}}"
# Every character but " " that normalisation reads as a space (no-break, figure, ideographic...).
SPACE_LIKE: frozenset[str] = frozenset(
    {chr(c) for c in range(0x80, 0x3001) if unicodedata.normalize("NFKC", chr(c)) == " "} | set(BLANKS))



def _fancy_letters() -> dict[str, str]:
    """Letters of "fancy text" generators that NFKC leaves as they are or turns into something
    else, and the Latin letter each shows: small capitals ("ʙᴏᴍʙ"), letters in negative circles and
    squares ("🅑", "🅱"), regional indicator symbols ("🇧"), parenthesised letters ("⒝", which
    NFKC makes "(b)")."""
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnoprstuvwyz", strict=True))
    for first, letters in ((0x1F150, upper), (0x1F170, upper), (0x1F1E6, upper), (0x249C, upper.lower())):
        out.update((chr(first + i), letter) for i, letter in enumerate(letters))
    return out


FANCY_LETTERS: dict[str, str] = _fancy_letters()
_FANCY = str.maketrans(FANCY_LETTERS)
# What a cluster reads before NFKC: fancy letters, and the look-alikes NFKC would turn into another
# letter first (Greek lunate sigmas, U+03F2 and U+03F9, would read "ς" and "Σ").
_BEFORE_NFKC = str.maketrans({
    **FANCY_LETTERS,
    **{char: latin for char, latin in CONFUSABLES.items() if unicodedata.normalize("NFKC", char) != char},
})

_LEET_LETTERS = {"0": "o", "1": "i", "l": "i", "L": "I", "3": "e", "4": "a", "5": "s", "7": "t"}


def _accented_latin() -> dict[str, str]:
    """Each precomposed Latin letter with accents ("é", "ñ", "ḿ") and its ASCII base letter, as
    leetspeak folds that ("ĺ" to "i", like "l")."""
    out = {}
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        bare = unicodedata.normalize("NFD", chr(code))
        base, marks = bare[0], bare[1:]
        if marks and base.isascii() and base.isalpha() and all(map(unicodedata.combining, marks)):
            out[chr(code)] = _LEET_LETTERS.get(base, base)
    return out


_ATTACHED = re.compile(r"LATIN (SMALL|CAPITAL) LETTER ([A-Z]) WITH ")


def _attached_latin() -> dict[str, str]:
    """Each Latin letter drawn as a plain one with a stroke, bar, hook, tail... through or on it
    ("ł", "ø", "đ", "ħ", "ƒ", "ɨ"; Unicode names it "LATIN SMALL LETTER L WITH STROKE"), which
    has no decomposition to take an accent off, and its base letter, as leetspeak folds that."""
    out = {}
    for code in [*range(0xC0, 0x2B0), *range(0x1D00, 0x1F00), *range(0x2C60, 0x2C80),
                 *range(0xA720, 0xA800), *range(0xAB30, 0xAB70)]:
        char = chr(code)
        if not unicodedata.decomposition(char) and (name := _ATTACHED.match(unicodedata.name(char, ""))):
            base = name.group(2).lower() if name.group(1) == "SMALL" else name.group(2)
            out[char] = _LEET_LETTERS.get(base, base)
    return out


# Leetspeak, folded only for keyword lists (and applied to the keywords too, so that both sides
# fold the same way). `l` folds to `i` with `1`, `!` and `|`, because `1` stands for either.
# Accented Latin letters fold to their base letter with it ("bómb", "café"), one for one, and
# so do letters with a stroke or hook ("ł", "ø": `_attached_latin`).
LEET: dict[int, str] = str.maketrans({**_LEET_LETTERS, **_accented_latin(), **_attached_latin()})
# Symbols stand for letters only before a letter or digit ("k!ll", "$teal", "h@ck"): "bomb!" keeps
# its "!", which read as "i" would make "bombi" and hide the word.
_LEET_SYMBOLS = str.maketrans({"!": "i", "|": "i", "@": "a", "$": "s", "+": "t"})
_LEET_SYMBOL = re.compile(r"[!|@$+](?=\w)")

# Letters spread apart by one repeated separator ("b o m b", "b.o.m.b", "b-o-m-b"): three or more
# single letters with the same separator between each read as one word. Digits are left alone
# ("1.2.3", "10-4-1"); a run of single letters in ordinary text ("U.S.A", "a b c") is rare and reads
# the same joined. In a text spread out with spaces, whose words are then kept apart by two or
# more, a pair of single letters between such gaps ("t o", "i s") is a word too; spread with single
# spaces, a run of four or more that starts with "a" or "i" keeps it apart ("make a b o m b" reads
# "make a bomb", not "abomb"). A tab spreads letters as a space does (every other horizontal
# space is a space by then: NFKC's, `BLANKS`); a line break does not (a value written one
# character a line is read by the patterns' `BLANK_RUN`). Our own fixed patterns, not a policy's:
# each run is scanned once (the backreference only repeats the separator).
SPREAD_SPACES = " \t"
_SPREAD = re.compile(r"(?<![^\W\d_])[^\W\d_]([ \t.\-_*/|+~])[^\W\d_](?:\1[^\W\d_])+(?![^\W\d_])")
# What every such run ends with: a cheap test that spares almost every text the full search.
_SPREAD_END = re.compile(r"([ \t.\-_*/|+~])[^\W\d_]\1[^\W\d_](?![^\W\d_])")
# The same test on the shape of an ASCII text (letters "a", separators "s", the rest "o"): a literal
# search, about twenty times quicker than `_SPREAD_END` (it ignores whether the separators match).
_SHAPES = str.maketrans(
    {chr(c): "a" if chr(c).isalpha() else "s" if chr(c) in " \t.-_*/|+~" else "o" for c in range(128)}
)
_SPREAD_END_SHAPE = re.compile("sasa(?!a)")
# A letter spread apart just before a point (the separator and the letter before it, which
# stands alone), and one standing alone just after it (`spread_joint`).
_JOINT_BEFORE = re.compile(r"(?<![^\W\d_])[^\W\d_]([ \t.\-_*/|+~])[^\W\d_]\Z")
_JOINT_AFTER = re.compile(r"[^\W\d_](?![^\W\d_])")
_LETTER = re.compile(r"[^\W\d_]")
# Asterisks inside a word ("bo*mb", "k**l"): no word is written with one, so they only hide it.
_INNER_STARS = re.compile(r"(?<=[^\W\d_])\*+(?=[^\W\d_])")
# The other marks inside a word: a dot, hyphen or underscore between two letters, and an apostrophe
# unless a contraction's ending follows it ("ma-ke", "bo.mb", "ex_plosive", "bo'mb"; not "don't",
# "we're", "it's"). Ordinary words carry them too ("e-mail", "self-harm", "file.txt"), so only the
# models' fold and a keyword list's second reading (`marks`) drop them. The mark is matched first so
# the engine skips to candidates (a look-behind first is 5 times slower on prose).
INNER_MARK = re.compile(r"[-._'](?<=[^\W\d_].)(?=[^\W\d_])(?<!'(?=(?:s|t|re|ve|ll|d|m)\b))", re.I)
_SPACED_PAIR = re.compile(r"(?:^|(?<=  ))[^\W\d_]( )[^\W\d_](?=  |$)")
# Spread with single spaces and nothing wider between the words ("h o w t o m a k e a b o m b"), a
# run of SPLIT_RUN letters or more has no word boundary left to read: it is split into words again
# by word frequencies (`split_words`) rather than joined into one, the first SPLIT_LETTERS letters
# of a text only (the split costs about 19 us a letter; a request is rarely longer, and the rest
# stays joined).
SPLIT_RUN = 8
SPLIT_LETTERS = 200


def _next_end(text: str, shape: str | None, pos: int) -> re.Match[str] | None:
    """`_SPREAD_END.search(text, pos)`, found through the ASCII text's `shape` when there is one."""
    if shape is None:
        return _SPREAD_END.search(text, pos)
    while (found := _SPREAD_END_SHAPE.search(shape, pos)) is not None:
        if (end := _SPREAD_END.match(text, found.start())) is not None:
            return end
        pos = found.start() + 1
    return None


def _spread_runs(text: str, shape: str | None) -> Iterator[re.Match[str]]:
    """What `_SPREAD.finditer(text)` finds, found from the ends of runs (`_next_end`) back to their
    starts, so the slow search runs only where a run is."""
    pos = 0
    while (end := _next_end(text, shape, pos)) is not None:
        separator = end.group(1)
        start = end.start() + 1
        while (
            start - 2 >= pos
            and text[start - 1] == separator
            and _LETTER.match(text, start - 2)
            and not (start >= 3 and _LETTER.match(text, start - 3))
        ):
            start -= 2
        run = _SPREAD.match(text, start)
        if run is None:
            pos = end.start() + 1
            continue
        yield run
        pos = run.end()


_SPLIT_SHAPE = "as" * (SPLIT_RUN - 1) + "a"
# (any white space between: NFKC makes a no-break, thin or ideographic space the space it shows,
# and the blanks it keeps read as one, `BLANKS`)
_SPLIT_RUN = re.compile(rf"(?:[^\W\d_][\s{BLANKS}]){{{SPLIT_RUN - 1}}}[^\W\d_]")


@functools.lru_cache(maxsize=1024)  # every spread-reading classifier of a request asks of the same segments
def may_split_words(text: str) -> bool:
    """Whether `text` may hold a run of letters spread with no word gaps, which `spread` splits
    into words at up to ~8 us a letter: worth a worker thread rather than the event loop. A quick
    over-estimate (any separator counts) for ASCII text."""
    if text.isascii():
        return _SPLIT_SHAPE in text.translate(_SHAPES)
    return _SPLIT_RUN.search(text) is not None


def has_inner_mark(text: str) -> bool:
    """Whether `INNER_MARK` finds a mark in `text` (four substring tests spare most texts the search)."""
    return ("-" in text or "." in text or "_" in text or "'" in text) and INNER_MARK.search(text) is not None


def spread_separators(text: str, *, marks: bool = False, whole: bool = False) -> tuple[list[int], list[int]]:
    """Positions of what keeps a word's letters apart: the separators between letters spread apart,
    asterisks inside a word and, with `marks`, the other marks of `INNER_MARK`; and the separators
    kept as word gaps inside a run of letters spread with single spaces (`_word_gaps`, "a" or "i"
    kept apart), which `whole` drops too (the run joined whole)."""
    spread, gaps = _spread(text)
    drop = sorted({*spread, *gaps}) if whole and gaps else list(spread)
    inside = [match.start() for match in INNER_MARK.finditer(text)] if marks else []
    if "*" in text:
        inside += [i for match in _INNER_STARS.finditer(text) for i in range(match.start(), match.end())]
    return (sorted({*drop, *inside}) if inside else drop), list(gaps)


# Combining marks (Unicode's category M), format characters (Cf) and the characters NFKC makes
# marks only: scanned from the Unicode database once, then kept in the derived-table cache
# (`unicode_tables`).
MARK_CODES, FORMAT_CODES, NFKC_MARK_CODES = code_tables()


def spread_joint(text: str, at: int, *, cut_after: bool = False) -> str:
    """The separator of letters spread apart on both sides of `at`, where two texts joined back to
    back meet ("n i g h t j" + "a r"), which a reader reads on as one run while the joined text
    has the two letters touch ("ja"); "" when the letters are not spread apart on both sides.
    `cut_after`: the letter after `at` is a text of its own ("j" in "n i g h t" + "j" + "a r"),
    which goes on with the run before it (the next boundary tells whether the run goes on)."""
    before = _JOINT_BEFORE.match(text, at - 3, at) if at >= 3 else None
    if before is None:
        return ""
    separator = before.group(1)
    if cut_after:
        return separator if _LETTER.match(text, at) else ""
    if _JOINT_AFTER.match(text, at) is None:
        return ""
    return separator if text[at + 1:at + 2] in ("", separator) or text[at + 1].isspace() else ""


def char_ranges(codes: Iterable[int]) -> str:
    """`codes` as the inside of a regex character class, in ranges."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else "") for lo, hi in ranges)


_ASTRAL = "\U00010000-\U0010ffff"


def _char_class(codes: Iterable[int], *, negated: bool = False) -> str:
    """A regex matching one character of `codes` (`negated`: one not of them). Python's engine
    looks a class of the Basic Multilingual Plane up in a table but tries the ranges of a class
    past it one after another, on every character: those are tried only on a character past it
    (ten times quicker on prose for the marks)."""
    codes = set(codes)
    bmp, astral = char_ranges(c for c in codes if c <= 0xFFFF), char_ranges(c for c in codes if c > 0xFFFF)
    if negated:
        return f"(?:[^{bmp}{_ASTRAL}]|[{_ASTRAL}](?<![{astral}]))" if astral else f"[^{bmp}]"
    return f"(?:[{bmp}]|[{_ASTRAL}](?<=[{astral}]))" if astral else f"[{bmp}]"


# Which marks hide a word rather than write it. On ASCII or a Latin letter, every mark that does
# not compose into the letter: an acute on every letter of "bomb", a Zalgo stack, a keycap or a
# Hebrew point, an Arabic fatha or a Devanagari nukta after each character of a key (the accent of
# "bómb" too, once decomposed, when accents go). On a letter of another script, whose own marks
# are writing (Devanagari vowel signs, Hebrew points, Arabic harakat), only the generic diacritics
# (`_MARKS`: accents, Zalgo stacks, enclosing circles) left over once the text is composed (NFC),
# where they compose with nothing.
_MARKS = "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
_LATIN = "[\x00-\x7f\u00c0-\u02af\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f]"
_MARKS_ON_LATIN = re.compile(f"(?<={_LATIN}){_char_class(MARK_CODES)}+")
_LOOSE_MARKS = re.compile(f"{_MARKS_ON_LATIN.pattern}|{_MARKS}")


def strip_marks(text: str, *, accents: bool = True) -> str:
    """`text` without combining marks that hide a word (an acute on each letter of "bomb" reads
    "bomb"). With `accents`, every mark on ASCII or a Latin letter goes ("bómb", "café" read
    "bomb", "cafe"); without, only those that compose with nothing (stacks of them, marks on
    letters that take none, see `_LOOSE_MARKS`), so "café" keeps its accent."""
    if text.isascii():
        return text
    if accents:
        return unicodedata.normalize("NFC", _MARKS_ON_LATIN.sub("", unicodedata.normalize("NFD", text)))
    return _LOOSE_MARKS.sub("", unicodedata.normalize("NFC", text))


def _word_gaps(run: re.Match[str], budget: int) -> set[int]:
    """Where the separators between the words of a run of letters spread with single spaces stand
    (`split_words` on its first `budget` letters; one more after them if letters remain)."""
    letters = run.group(0)[::2]
    words = split_words(letters[:budget])
    if words is None:
        return set()
    ends = list(itertools.accumulate(len(w) for w in words))
    if len(letters) <= budget:
        ends.pop()
    return {run.start() + 2 * end - 1 for end in ends}


@functools.lru_cache(maxsize=16)  # a keyword list reads a text split, then joined whole: one split
def _spread(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The separators of letters spread apart to drop, and those kept as word gaps."""
    shape = text.translate(_SHAPES) if text.isascii() else None
    if shape is not None and not _SPREAD_END_SHAPE.search(shape):
        return (), ()
    drop: list[int] = []
    gaps: list[int] = []
    spaced = False
    budget = SPLIT_LETTERS
    for match in _spread_runs(text, shape):
        separator = match.group(1)
        first = match.start() + 1
        if separator in SPREAD_SPACES:
            spaced = True
            if match.end() - match.start() >= 2 * SPLIT_RUN - 1 and budget > 0:
                keep = _word_gaps(match, budget)
                budget -= (match.end() - match.start() + 1) // 2
                drop.extend(i for i in range(first, match.end(), 2) if i not in keep)
                gaps.extend(sorted(keep))
                continue
            if match.end() - match.start() >= 7 and text[match.start()] in "aAiI":
                gaps.append(first)
                first += 2
        drop.extend(range(first, match.end(), 2))
    if spaced and "  " in text:  # a pair stands between wider gaps
        drop.extend(match.start(1) for match in _SPACED_PAIR.finditer(text))
        drop.sort()
    return tuple(drop), tuple(gaps)


def join_spread(text: str) -> str:
    """`text` with the letters kept apart joined into words (`spread_separators`)."""
    drop, _ = spread_separators(text)
    return "".join(text[a:b] for a, b in _kept_runs(drop, len(text))) if drop else text


def _kept_runs(drop: list[int], length: int) -> list[tuple[int, int]]:
    """[start, end) of the stretches between the sorted positions `drop`: a long text that loses a
    few characters is cut and joined per stretch, not per character."""
    bounds = [-1, *drop, length]
    return [(a + 1, b) for a, b in itertools.pairwise(bounds) if b > a + 1]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and where each of its characters came from.

    text:    the normalised text.
    starts:  for output character i, the index of the first original character it came from;
             None when the normalised text is the original itself (position for position), or
             the original less some characters (`removed`).
    ends:    for output character i, the index one past the last original character it came from.
    length:  length of the original text.
    removed: without `starts`, where characters of the original were left out: for the j-th one
             left out (in order), its original index less j; output character i then came from
             original index i + (how many of these are <= i). Kept this way so a long text that
             loses a few separators does not need a map per character.
    cuts:    in a reading with runs of spread letters joined whole (`normalize(whole=True)`), the
             output positions where a word gap of a run was dropped, sorted: a word boundary
             between two letters that touch ("n i g h t j a r" reads "nightjar", cut at 5).
    """

    text: str
    starts: tuple[int, ...] | None
    ends: tuple[int, ...] | None
    length: int
    removed: tuple[int, ...] = ()
    cuts: tuple[int, ...] = ()

    @property
    def identity(self) -> bool:
        return self.starts is None and not self.removed

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text range [start, end) that normalised range [start, end) came from."""
        if self.starts is None or self.ends is None:
            if not self.removed:
                return start, end
            if end <= start:
                pos = self._kept(start) if start < len(self.text) else self.length
                return pos, pos
            return self._kept(start), self._kept(end - 1) + 1
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else self.length
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def _kept(self, i: int) -> int:
        return i + bisect.bisect_right(self.removed, i)

    def position(self, original: int) -> int:
        """Where original index `original` lands in the normalised text: how many normalised
        characters came from the original before it."""
        if self.starts is not None:
            return bisect.bisect_left(self.starts, original)
        removed = self.removed  # the j-th left out stood at original index removed[j] + j
        return original - bisect.bisect_left(range(len(removed)), original, key=lambda j: removed[j] + j)


def fold_leet(text: str) -> str:
    """Leetspeak and accented letters folded to letters, one character for one (keywords are
    folded with it too)."""
    if any(symbol in text for symbol in "!|@$+"):
        text = _LEET_SYMBOL.sub(lambda match: match.group(0).translate(_LEET_SYMBOLS), text)
    return text.translate(LEET)


def unfancy(text: str) -> str:
    """`text` with the letters of fancy-text styles (`FANCY_LETTERS`) read as Latin letters, one
    for one; before NFKC, which would turn "⒝" into "(b)"."""
    return text.translate(_FANCY)


def _ascii_digits(text: str) -> str:
    """`text` with the digits of every script ("٤١١١", "۴۱۱۱", "४१११") and the digits of dingbats
    and symbols ("➃❶➊⓵", Unicode's numeric type Digit) written 0-9, one for one. NFKC folds only the
    full-width, mathematical and circled ones, yet a card or a phone number reads the same in any
    of them, and patterns' `\\d` is ASCII. Numbers of two digits in one character ("➉", "❿") stay:
    they would not fold one for one, and no value is written with them."""
    return "".join(chr(48 + unicodedata.digit(c)) if c.isdigit() else c for c in text)


# Chinese and Japanese numerals written as digits, one for one ("四五三九 一四八八": numeric type
# Numeric, not Digit, so `_ascii_digits` leaves them). In prose they are words ("一" is "one" or
# "a", "三" in names, "一五一十" and "七七八八" idioms), so they read as digits only inside a run that
# reads as a number: groups of them, and of digits, kept apart by one or two of the separators the
# `pii` patterns accept between groups, holding NUMBER_NUMERALS numerals and digits or more, or
# numerals beside a digit ("4五39"). Every value `pii` masks (a card, an SSN, a phone number)
# holds more; a run split by a stream's window may not, and then holds too few to be one either.
CJK_NUMERALS = "〇一二三四五六七八九"
_CJK_DIGITS = str.maketrans({**{c: str(i) for i, c in enumerate(CJK_NUMERALS)}, "零": "0"})
_CJK_NUMERAL = re.compile("[〇零一二三四五六七八九]")
_CJK_NUMBER = re.compile(r"[〇零一二三四五六七八九0-9]+(?:[ .\-()]{1,2}[〇零一二三四五六七八九0-9]+)*")
NUMBER_NUMERALS = 5


def _cjk_number(run: re.Match[str]) -> str:
    text = run.group()
    numerals = len(_CJK_NUMERAL.findall(text))
    digits = sum(c.isascii() and c.isdigit() for c in text)
    if numerals and (digits or numerals >= NUMBER_NUMERALS):
        return text.translate(_CJK_DIGITS)
    return text


def cjk_numbers(text: str) -> str:
    """`text` with the Chinese and Japanese numerals of each run that reads as a number written
    0-9, one for one (`_CJK_NUMBER`); the rest as it is."""
    return _CJK_NUMBER.sub(_cjk_number, text) if _CJK_NUMERAL.search(text) else text


def _marks(text: str) -> bool:
    """Whether `text` is combining marks only (or nothing)."""
    return all(ord(c) in MARK_CODES for c in text)


@functools.lru_cache(maxsize=4096)
def _fold_cluster(cluster: str, accents: bool = False) -> str:
    folded = unicodedata.normalize("NFKC", cluster.translate(_BEFORE_NFKC))
    if _marks(folded):  # marks on nothing: after an invisible character that split them from
        return ""  # their letter ("F\u200b\u0301O"), or a text's start
    if accents and not folded.isascii():  # "ǵ" reads "g" (keys are ASCII: an accent hides one)
        folded = strip_marks(folded, accents=True)
    if not folded.isascii() and any(c.isdigit() for c in folded):
        folded = _ascii_digits(folded)
    if any(ord(c) in INVISIBLE for c in folded):
        folded = "".join(c for c in folded if ord(c) not in INVISIBLE)
    if any(c in CONFUSABLES for c in folded):
        folded = "".join(CONFUSABLES.get(c, c) for c in folded)
    if len(folded) > 1:  # marks NFKC could not compose into the letter (on "b", Zalgo stacks)
        folded = strip_marks(folded, accents=False)
    return folded


def _is_invisible(ch: str) -> bool:
    return ord(ch) in INVISIBLE


def _clusters(text: str) -> list[tuple[int, int]]:
    """[start, end) of each starter plus the combining marks after it (of any combining class);
    invisible characters stand alone."""
    bounds: list[tuple[int, int]] = []
    start = 0
    marks = MARK_CODES
    for i in range(1, len(text) + 1):
        if i == len(text):
            bounds.append((start, i))
            break
        ch = text[i]
        if ord(ch) in marks and not _is_invisible(text[i - 1]) and not _is_invisible(ch):
            continue
        bounds.append((start, i))
        start = i
    return bounds


# The ASCII characters of INVISIBLE: control characters but tab, line breaks, VT and FF.
ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# How far `kept_before` and `kept_after` look for the characters they count: a value padded with
# more than this many invisible characters or marks per character is not reached whole.
PADDED = 64


# Code points normalisation may remove: INVISIBLE, and every mark (removed on ASCII and Latin
# letters and on nothing; a mark a letter of another script is written with, which the classifiers
# read, counts as removed too: they read no fewer characters than are counted).
DROPPED_CODES: frozenset[int] = INVISIBLE | MARK_CODES | NFKC_MARK_CODES
_DROPPED = _char_class(DROPPED_CODES)
_KEPT = _char_class(DROPPED_CODES, negated=True)
DROPPED = re.compile(_DROPPED)


@functools.lru_cache(maxsize=64)
def _kept_run(count: int) -> re.Pattern[str]:
    """Matches the shortest text that holds `count` kept characters, from its start."""
    return re.compile(f"(?:{_DROPPED}*+{_KEPT}){{{count}}}")


def _plain(region: str) -> bool:
    return region.isascii() and not ASCII_CONTROL.search(region)


def kept_before(text: str, at: int, count: int) -> int:
    """The offset in `text` `count` characters before `at`, counting only the characters
    normalisation keeps: how far back a finding ending at `at` can begin, however its value is
    padded with marks or invisible characters (up to PADDED per character)."""
    lo = max(0, at - count)
    if _plain(text[lo:at]):
        return lo  # nothing in it is removed: the usual case, at once
    floor = max(0, at - PADDED * count)
    found = _kept_run(count).match(text[floor:at][::-1])
    return floor if found is None else at - found.end()


def kept_after(text: str, at: int, count: int) -> int:
    """The offset in `text` `count` characters after `at`, counted as `kept_before` counts them
    (the end of `text` when it holds fewer)."""
    hi = min(len(text), at + count)
    if _plain(text[at:hi]):
        return hi
    ceiling = min(len(text), at + PADDED * count)
    found = _kept_run(count).match(text, at, ceiling)
    return ceiling if found is None else found.end()


# The characters a value longer than a classifier's `max_match_chars` runs on through
# (`base.run_around`, `running_on`): base64, base64url and hex, a JWT's dots, the line breaks of a PEM
# block or of base64 wrapped as MIME writes it (as written in JSON too: `\n`), the spaces and tabs
# next to a line break (a PEM block indented in YAML, `tls.key: |`, is one value), and those
# normalisation drops (padding inside a key). Prose stops a run at its first space.
# (possessive: a run of ASCII is matched a class at a time: 8,192 characters back in ~40 us, not
# ~350 one character at a time). The blanks are looked for on both sides of a break alike, as
# `running_on` matches the text reversed, and from inside them (`run_around` from a cut between
# two spaces), up to INDENT_CHARS of them after the break (a look-behind has a fixed width).
INDENT_CHARS = 16
_BREAK = r"[\r\n]|\\n|n\\"  # `n\`: a `\n` as JSON writes it, reversed
_INDENT = ("(?:" + "|".join(rf"(?<={brk}[ \t]{{{n}}})" for brk in _BREAK.split("|")
                            for n in range(INDENT_CHARS)) + rf")[ \t]++|[ \t]++(?={_BREAK})")
RUNS_ON = re.compile(rf"(?:[A-Za-z0-9+/=_.\\\r\n-]++|{_INDENT}|{_DROPPED})*")


def running_on(text: str, limit: int) -> int:
    """Where the run of a long value's characters (RUNS_ON) that `text` ends with begins (a value
    the text after it may go on with), looked for at most `limit` characters back."""
    if not text or not RUNS_ON.fullmatch(text, len(text) - 1):
        return len(text)  # prose: at once
    tail = text[max(0, len(text) - limit):]
    run = RUNS_ON.match(tail[::-1])
    return len(text) - (run.end() if run is not None else 0)


def runs_across(text: str, at: int, least: int, run: re.Pattern[str]) -> bool:
    """Whether a run of `run`'s characters (a pattern of one class, starred), `least` or more of
    them, goes on across offset `at` of `text` (a few characters read each side: prose's words
    are short)."""
    after = run.match(text, at, at + least)
    if after is None or after.end() == at:
        return False
    before = run.match(text[max(0, at - least):at][::-1])
    return before is not None and before.end() > 0 and before.end() + after.end() - at >= least


def read_as_is(text: str) -> bool:
    """Whether `text`, and every part of it, is read character by character: ASCII with no control
    character, escape, reference or markup (`escapes.may_show`), which NFKC, confusable folding
    and the escapes' readings leave as it is. A reading of it is the text itself, less the
    separators of letters spread apart (`spread`), with leetspeak folded (`leet`) one for one."""
    return _plain(text) and not may_show(text)


def read_as_is_chars(text: str) -> frozenset[str]:
    """The characters, lower-cased, a reading of a text read as it is (`read_as_is`) may hold:
    its own, and what leetspeak folds each to (`fold_leet`: a symbol, only before a letter)."""
    own = "".join(set(text))  # each once: LEET's table is slow to look up, a dict of thousands
    symbols = own.translate(_LEET_SYMBOLS)
    return frozenset((own + symbols + own.translate(LEET) + symbols.translate(LEET)).lower())


def blank(text: str) -> bool:
    """Whether a text shows nothing: normalisation removes each of its characters (`DROPPED_CODES`:
    invisible characters, marks on nothing) or reads it as a space (white space, `SPACE_LIKE`).
    It takes no place among the texts a value sent in pieces is read across
    (`runner.in_context`, `redaction.reaching_back`, `protocols.base.segments`), so empty
    messages between the pieces cannot push one out."""
    return all(c.isspace() or c in SPACE_LIKE or ord(c) in DROPPED_CODES for c in text)


def kept_text(text: str) -> str:
    """`text` without the characters normalisation removes (marks, invisible characters)."""
    return text if _plain(text) else DROPPED.sub("", text)


def kept_chars(text: str) -> int:
    """How many of `text`'s characters normalisation keeps."""
    return len(kept_text(text))



def _read_through(text: str, escaped: tuple[str, list[int], list[int]],
                  read: Callable[[str], Normalized]) -> Normalized:
    """What `read` makes of `text` unescaped (`escapes.unescaped`), mapped back onto `text`."""
    inner, first, last = escaped
    norm = read(inner)
    if norm.identity:
        return Normalized(norm.text, tuple(first), tuple(last), len(text), cuts=norm.cuts)
    spans = [norm.original_span(i, i + 1) for i in range(len(norm.text))]
    return Normalized(norm.text, tuple(first[a] for a, _ in spans), tuple(last[b - 1] for _, b in spans),
                      len(text), cuts=norm.cuts)


def references_read(text: str) -> Normalized:
    """`text` with its HTML character references and escapes decoded in place and its markup read
    as shown (`escapes.SHOWN`), nothing else changed (for a classifier that does not normalise)."""
    decoded = shown_text(text)
    return original_text(text) if decoded is None else _read_through(text, decoded, original_text)


def _normalize(text: str, leet: bool, spread: bool, marks: bool, accents: bool = False,
               escapes: bool = True, references: bool = False, whole: bool = False) -> Normalized:
    if escapes and "\\" in text and (escaped := unescaped(text, JSON_ESCAPE, json_escape)) is not None:
        # read once: an escaped backslash before "n" is a backslash and "n", not a line break
        return _read_through(text, escaped, lambda inner: _normalize(
            inner, leet, spread, marks, accents, escapes=False, references=references, whole=whole))
    if references and (decoded := shown_text(text)) is not None:
        return _read_through(text, decoded, lambda inner: _normalize(
            inner, leet, spread, marks, accents, escapes=False, whole=whole))
    if text.isascii() and not ASCII_CONTROL.search(text):
        # NFKC, invisible removal and confusable folding are all no-ops on ASCII without controls.
        drop, gaps = spread_separators(text, marks=marks, whole=whole) if spread else ([], [])
        if drop:
            return _without(Normalized(text, None, None, len(text)), drop, leet, gaps if whole else [])
        return Normalized(fold_leet(text) if leet else text, None, None, len(text))
    folded, starts, ends = _folded(text, accents)
    out = cjk_numbers(folded)  # one for one: `starts` and `ends` still hold
    drop, gaps = spread_separators(out, marks=marks, whole=whole) if spread else ([], [])
    if drop:
        return _without(Normalized(out, tuple(starts), tuple(ends), len(text)), drop, leet,
                        gaps if whole else [])
    if leet:
        out = fold_leet(out)
    return Normalized(out, tuple(starts), tuple(ends), len(text))


def _folded(text: str, accents: bool) -> tuple[str, list[int], list[int]]:
    """Each cluster of `text` folded (`_fold_cluster`), with where each character read stands in
    `text` (the cluster's start and end). A run of ASCII with no control character reads as it is
    (`_PLAIN_RUNS`) and is taken whole: a cluster at a time, 12 lines of Python a character, 400
    short French texts, each read joined to the eight before it, took secrets 0.43 s of CPU."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for begin, stop, plain in _plain_runs(text):
        if plain:
            parts.append(text[begin:stop])
            starts.extend(range(begin, stop))
            ends.extend(range(begin + 1, stop + 1))
            continue
        for start, end in _clusters(text[begin:stop]):
            folded = _fold_cluster(text[begin + start:begin + end], accents)
            if folded:
                parts.append(folded)
                starts.extend([begin + start] * len(folded))
                ends.extend([begin + end] * len(folded))
    return "".join(parts), starts, ends


# ASCII but its control characters (`ASCII_CONTROL`): each character a cluster that folds to itself
_PLAIN_RUNS = re.compile(r"[\t-\r -~]+")


def _plain_runs(text: str) -> Iterator[tuple[int, int, bool]]:
    """`text` as runs [start, end), in order, each with whether it is plain (`_PLAIN_RUNS`): a
    plain run's last character, with a mark after it, goes with the next run (its cluster),
    which thus begins a cluster as it does in `text` (`_clusters`)."""
    at = 0
    for run in _PLAIN_RUNS.finditer(text):
        start, end = run.span()
        if end < len(text) and ord(text[end]) in MARK_CODES and not _is_invisible(text[end]):
            end -= 1
        if start < end:
            if at < start:
                yield at, start, False
            yield start, end, True
            at = end
    if at < len(text):
        yield at, len(text), False


def _without(norm: Normalized, drop: list[int], leet: bool, gaps: list[int]) -> Normalized:
    """`norm` less the characters at `drop` (a match across them covers them in the original);
    the word `gaps` among them become `cuts`, where the letter after each lands."""
    runs = _kept_runs(drop, len(norm.text))
    out = "".join(norm.text[a:b] for a, b in runs)
    if leet:
        out = fold_leet(out)
    cuts = tuple(gap + 1 - bisect.bisect_right(drop, gap) for gap in gaps)
    if norm.starts is None or norm.ends is None:  # the original itself: `removed` is enough
        return Normalized(out, None, None, norm.length, tuple(d - j for j, d in enumerate(drop)), cuts)
    starts, ends = norm.starts, norm.ends
    return Normalized(
        out,
        tuple(itertools.chain.from_iterable(starts[a:b] for a, b in runs)),
        tuple(itertools.chain.from_iterable(ends[a:b] for a, b in runs)),
        norm.length,
        cuts=cuts,
    )


CACHED_CHARS = 65_536


def normalize(text: str, *, leet: bool = False, spread: bool = False, marks: bool = False,
              accents: bool = False, references: bool = False, whole: bool = False) -> Normalized:
    """JSON escapes read (`\\u0041`, `\\n`), NFKC, invisible characters removed, confusables
    and the digits of every script folded, Chinese numerals too where they write a number
    (`cjk_numbers`) (and leetspeak when `leet`; letters spread apart joined and asterisks inside a
    word dropped when `spread`, and with `marks` the other marks of `INNER_MARK` too; accents on
    Latin letters dropped when `accents`; HTML character references and other escapes decoded in
    place, and markup read as a renderer shows it, when `references`: `escapes.SHOWN`; with
    `spread` and `whole`, a run of letters spread with single spaces joined whole rather than split
    into words, the word gaps found kept as `Normalized.cuts`).

    Texts up to CACHED_CHARS are cached: the classifiers of one request normalise the same
    segments, and conversations re-send their history with every request.
    """
    if len(text) <= CACHED_CHARS:
        return _normalize_cached(text, leet, spread, marks, accents, references, whole)
    return _normalize(text, leet, spread, marks, accents, references=references, whole=whole)


@functools.lru_cache(maxsize=1024)
def _normalize_cached(text: str, leet: bool, spread: bool, marks: bool,
                      accents: bool = False, references: bool = False, whole: bool = False) -> Normalized:
    return _normalize(text, leet, spread, marks, accents, references=references, whole=whole)


def original_text(text: str) -> Normalized:
    """The identity normalisation, for classifiers that opt out of normalising."""
    return Normalized(text, None, None, len(text))
