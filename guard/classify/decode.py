# ruff: noqa: RUF001, RUF002  (upside-down letters and Morse marks are what this module reads)
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
"""

from __future__ import annotations

import base64
import binascii
import collections
import functools
import html
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import re2

from guard.classify.normalize import common_word, commonest_words, word_rank_cost

# Runs that may be encoded text, in the order tried at each position: binary octets, hex bytes
# apart ("68 6f 77", "\x68\x6f", "0x68, 0x6f"), percent-encoded bytes ("%68%6f"), HTML character
# references ("&#104;&#x6f;"), Unicode escapes ("\u0068"), a base64, base32 or hex run, Morse code.
# RE2, but `re` for a text with lone surrogates (which broken JSON can carry), which RE2 does not take.
_MORSE_MARK = r"[.\-_·•−–]"
_RUN_PATTERN = (
    r"(?P<binary>(?:[01]{8}[ ,]?){8,})"
    r"|(?P<hex_apart>(?:[0-9A-Fa-f]{2}[ ,:]{1,2}){7,}[0-9A-Fa-f]{2}"
    r"|(?:(?:\\x|0x)[0-9A-Fa-f]{2}[ ,]{0,2}){8,})"
    r"|(?P<percent>(?:%[0-9A-Fa-f]{2}){8,})"
    r"|(?P<entities>(?:&#(?:[0-9]{2,7}|[xX][0-9A-Fa-f]{2,6});){8,})"
    r"|(?P<escapes>(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}){8,})"
    r"|(?P<base64>[A-Za-z0-9+/]{16,}={0,2})"
    rf"|(?P<morse>{_MORSE_MARK}{{1,7}}(?:(?: {{1,3}}| ?[/|] ?){_MORSE_MARK}{{1,7}}){{7,}})"
)
ENCODED_RUN = re2.compile(_RUN_PATTERN)
_ENCODED_RUN = re.compile(_RUN_PATTERN)
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){8,}")
_BASE32 = re.compile(r"[A-Z2-7]{16,}=*")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")
RUNS_READ = 4  # encoded runs decoded per text, at most
RUN_CHARS = 8192  # of each run
# A stretch read decoded: every WINDOW words in a row hold at most PLAIN_COMMON common English
# words as written, and a reading needs DECODED_COMMON of them common once decoded.
WINDOW = 8
SHORTEST = 4  # words: a shorter text is its own window
PLAIN_COMMON = 1
DECODED_COMMON = 3
READ_CHARS = 16_384  # of a text: its head and tail, half each
# A cipher, Morse or upside-down reading must read as English: this share of the letters of its
# words of two letters or more in the 20,000 commonest words.
ENGLISH_SHARE = 0.6
ENGLISH_RANK = 60_000
_ENGLISH_COST = word_rank_cost(ENGLISH_RANK)
WHOLE = 0.9  # of a text's length: a reading this long stands for the text
NATURAL_SHARE = 0.5  # of letters among "etaoinsr": prose as written, no letter cipher
NATURAL_SAMPLE = 40  # letters: fewer cannot tell

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
_AS_WRITTEN_COMMON = _COMMON | frozenset(w.encode() for w in ELSEWHERE)
# What counts as English once decoded: the short words above and the VOCABULARY commonest words
# of three letters or more, never a single letter (a cipher makes "a" or "i" of any letter).
VOCABULARY = 2000
_DECODED = frozenset(w for w in _COMMON if len(w) > 1) | {
    w.encode() for w in commonest_words(VOCABULARY) if len(w) > 2 and w.isascii() and w.isalpha()
}
_KNOWN = _COMMON | _DECODED  # English once decoded, single letters included

KINDS = (
    "base64", "base32", "hex", "binary", "percent", "entities", "escapes", "morse",
    "rot13", "caesar", "atbash", "backwards", "words_reversed", "upside_down",
)

_LOWER = "abcdefghijklmnopqrstuvwxyz"
# Bytes tables for finding words in a text's UTF-8 (`_raw`): ASCII letters lower-cased, the bytes
# of any other character DEL, which stays inside a word ("número" is one word, neither common nor
# a tell, not "n" and "mero"), anything else a space.
_WORDS = bytes(c | 0x20 if chr(c).isalpha() else c if c == 0x7F else 0x20 for c in range(128)) + b"\x7f" * 128


def _cipher(plain: str) -> tuple[bytes, dict[int, int]]:
    """A letter substitution that writes `plain`'s letters for the alphabet's: the table that
    decodes found words, and the one that decodes the text (case kept)."""
    words = _WORDS.translate(bytes.maketrans(_LOWER.encode(), plain.encode()))
    return words, str.maketrans(_LOWER + _LOWER.upper(), plain + plain.upper())


# Caesar shifts: the text table of shift k decodes a text written k letters on. ROT13 is shift 13.
_SHIFTS = {k: _cipher(_LOWER[-k:] + _LOWER[:-k]) for k in range(1, 26)}
_ATBASH = _cipher(_LOWER[::-1])


# Words that are common English only once decoded ("gur", "bs", "eht", "zl"), and not as written
# (among the TELLS_RANK commonest, for words of three letters or more: "ifmmp" tells, "if" and
# "cat" do not), for each cipher: a text with fewer than DECODED_COMMON of them has no reading in
# that cipher, and most texts have none in any. A Caesar shift's tells vote for the shift.
TELLS_RANK = 5000
_AS_WRITTEN = _COMMON | {w.encode() for w in commonest_words(TELLS_RANK) if len(w) > 2}
_ENCIPHER = {k: bytes.maketrans(_LOWER.encode(), (_LOWER[k:] + _LOWER[:k]).encode()) for k in range(1, 26)}
_VOTES: dict[bytes, tuple[int, ...]] = {}
for _word, _k in itertools.product(sorted(_DECODED), range(1, 26)):
    if (_tell := _word.translate(_ENCIPHER[_k])) not in _AS_WRITTEN:
        _VOTES[_tell] = (*_VOTES.get(_tell, ()), _k)
_ATBASH_TELLS = frozenset(w.translate(_ATBASH[0]) for w in _DECODED) - _AS_WRITTEN
_BACKWARDS_TELLS = frozenset(w[::-1] for w in _DECODED) - _AS_WRITTEN
_TELLS = frozenset(_VOTES) | _ATBASH_TELLS | _BACKWARDS_TELLS

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

MORSE = dict(
    zip(
        ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- "
        "-..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. .-.-.- --..-- "
        "..--.. -.-.-- .----. -....- -..-. ---... -.--. -.--.-".split(),
        "abcdefghijklmnopqrstuvwxyz0123456789.,?!'-/:()",
        strict=True,
    )
)
_MORSE_MARKS = str.maketrans("_·•−–", "-..--")
_MORSE_WORD_GAP = re.compile(r" ?[/|] ?| {2,}")


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
    found = [*_decoded(text)]
    # One level deeper: an encoding inside a reading is read too, at the outer one's place.
    found += [(inner[0], start, end, inner[3]) for _, start, end, plain in found for inner in _decoded(plain)]
    return tuple(Reading(kind, start + offset, end + offset, plain) for kind, start, end, plain in found)


def _decoded(text: str) -> list[tuple[str, int, int, str]]:
    return [*_encoded(text), *_upside_down(text), *_turned(text)]


def encoded_runs(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """(span, decoded text) of each byte-encoded run of `text` (base64, hex, binary) that decodes
    to readable text."""
    return (((start, end), plain) for kind, start, end, plain in _encoded(text) if kind != "morse")


def _encoded(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the encoded runs of `text` that decode to text."""
    for i, match in enumerate((ENCODED_RUN if _utf8(text) else _ENCODED_RUN).finditer(text)):
        if i >= RUNS_READ:
            return
        group, chunk = next((k, v) for k, v in match.groupdict().items() if v)
        kind = "hex" if group == "hex_apart" or (group == "base64" and _HEX.fullmatch(chunk)) else group
        if kind == "base64" and _BASE32.fullmatch(chunk) and (plain := _base32(chunk[:RUN_CHARS])):
            yield "base32", match.start(), match.end(), plain
            continue
        plain = _DECODERS[kind](chunk[:RUN_CHARS])
        if plain is not None:
            yield kind, match.start(), match.end(), plain


def _utf8(text: str) -> bool:
    """Whether `text` can be written in UTF-8 (it cannot when broken JSON left lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _base64(chunk: str) -> str | None:
    try:
        return _readable(base64.b64decode(chunk + "=" * (-len(chunk) % 4)))
    except (binascii.Error, ValueError):
        return None


def _base32(chunk: str) -> str | None:
    try:
        return _readable(base64.b32decode(chunk + "=" * (-len(chunk) % 8)))
    except (binascii.Error, ValueError):
        return None


def _binary(chunk: str) -> str | None:
    digits = re.sub(r"[^01]", "", chunk)  # whole octets: a run is cut at RUN_CHARS
    return _readable(bytes(int(digits[i : i + 8], 2) for i in range(0, len(digits) - 7, 8)))


def _hex(chunk: str) -> str | None:
    digits = re.sub(r"\\x|0x|[^0-9A-Fa-f]", "", chunk)
    return _readable(bytes.fromhex(digits[: len(digits) // 2 * 2]))  # whole bytes: a run is cut


def _percent(chunk: str) -> str | None:
    return _readable(bytes.fromhex("".join(_PERCENT.findall(chunk))))


def _entities(chunk: str) -> str | None:
    return _printable(html.unescape(chunk))


def _escapes(chunk: str) -> str | None:
    whole = "".join(_ESCAPE.findall(chunk))  # a run cut at RUN_CHARS may end inside an escape
    try:
        return _printable(whole.encode("ascii").decode("unicode_escape"))
    except UnicodeDecodeError:
        return None


def _morse(chunk: str) -> str | None:
    words = _MORSE_WORD_GAP.split(chunk.translate(_MORSE_MARKS))
    plain = " ".join("".join(MORSE.get(code, "") for code in word.split()) for word in words)
    return plain if _common_words(plain) >= 2 and _english(plain) else None


_DECODERS: dict[str, Callable[[str], str | None]] = {
    "binary": _binary,
    "hex": _hex,
    "base64": _base64,
    "percent": _percent,
    "entities": _entities,
    "escapes": _escapes,
    "morse": _morse,
}


def _readable(raw: bytes) -> str | None:
    """`raw` as text, when it is UTF-8 of printable characters with more than one word."""
    try:
        return _printable(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _printable(plain: str) -> str | None:
    """`plain`, when it is printable characters with more than one word."""
    printable = sum(c.isprintable() or c in "\n\t" for c in plain)
    if printable < 0.95 * len(plain) or " " not in plain.strip():
        return None
    return plain


def _english(text: str) -> bool:
    """Whether ENGLISH_SHARE of the ASCII letters of `text`'s words of two letters or more are in
    common English words (a character outside ASCII, a box-drawing line, counts for nothing)."""
    words = [w for w in _raw(text).translate(_WORDS, b"\x7f").decode().split() if len(w) > 1]
    english = sum(len(w) for w in words if common_word(w, _ENGLISH_COST))
    return english > 0 and english >= ENGLISH_SHARE * sum(map(len, words))


def _common_words(text: str) -> int:
    return sum(map(_COMMON.__contains__, _raw(text).translate(_WORDS).split()))


def _upside_down(text: str) -> list[tuple[str, int, int, str]]:
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
        plain = max(turned[::-1], turned, key=_common_words)
        if len(plain.split()) > 1 and _english(plain):
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


def _turned(text: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the stretches of `text` that read as English only in a
    letter cipher (ROT13 or another Caesar shift, Atbash) or written backwards."""
    raw = _raw(text)
    words = raw.translate(_WORDS).split()
    if sum(map(_TELLS.__contains__, words)) < DECODED_COMMON:
        return []
    plain = list(map(_AS_WRITTEN_COMMON.__contains__, words))
    window = min(WINDOW, len(plain))
    sparse = _sparse(plain, window) if window >= SHORTEST else []
    if not sparse:
        return []
    found: list[tuple[str, int, int, str]] = []
    bounds: list[tuple[int, int]] = []  # each word's span, found once a stretch needs them
    tells = b"".join(filter(_TELLS.__contains__, words))
    for kind, decode_words, decode in _ciphers(words, _natural(tells)):
        decoded_words = decode_words(raw).split()
        if kind == "backwards":
            decoded_words.reverse()
        # common only once decoded (True > False)
        only = list(map(operator.gt, map(_DECODED.__contains__, decoded_words), plain))
        counts = list(itertools.accumulate(only, initial=0))
        if max(map(operator.sub, counts[window:], counts)) < DECODED_COMMON:
            continue  # no window of `window` words holds enough (the sparse ones are fewer)
        def stop(i: int, words: list[bytes] = decoded_words) -> bool:
            # English as written and not once decoded ("a" is English both ways in a backwards text)
            return plain[i] and words[i] not in _KNOWN

        stretches = list(_stretches(stop, len(plain), counts, sparse, window))
        if stretches:
            bounds = bounds or [m.span() for m in _WORD.finditer(text)]
            for first, last in map(functools.partial(_trimmed, words, decoded_words), stretches):
                start, end = bounds[first][0], bounds[last - 1][1]
                for read_as, read in _orders(text[start:end]) if kind == "backwards" else [(kind, decode)]:
                    if _english(reading := read(text[start:end])):
                        found.append((read_as, start, end, reading))
    return found


def _trimmed(words: list[bytes], decoded_words: list[bytes], stretch: tuple[int, int]) -> tuple[int, int]:
    """`stretch` without the words at either end that are English as written and not common once
    decoded, or the same both ways (the plain text around a ciphered request; "who" in Atbash,
    "dsl", stays; "a" before a backwards request goes)."""
    first, last = stretch

    def plain(i: int) -> bool:
        decoded = decoded_words[i]
        return common_word(words[i].decode()) and (decoded not in _KNOWN or decoded == words[i])

    while first < last - 1 and plain(first):
        first += 1
    while last > first + 1 and plain(last - 1):
        last -= 1
    return first, last


# Symbols outside ASCII (punctuation, arrows, box drawing, dingbats, emoji) part words like a
# space; other characters outside ASCII (letters) are part of a word.
_SYMBOLS = re.compile("[\u2000-\u2bff\U0001f000-\U0001faff]")
# The words of `_raw(text).translate(_WORDS)`, where they stand in `text`.
_WORD = re.compile("[A-Za-z\x7f-\u1fff\u2c00-\U0001efff\U0001fb00-\U0010ffff]+")


def _raw(text: str) -> bytes:
    """`text` in UTF-8, its symbols outside ASCII made spaces."""
    if not text.isascii():
        text = _SYMBOLS.sub(" ", text)
    return text.encode("utf-8", "surrogatepass")


_Decoder = tuple[str, Callable[[bytes], bytes], Callable[[str], str]]

# Word pairs common in English, and the words requests start with: which of two word orders a
# decoded stretch reads in.
PAIRS = frozenset(
    """
    of_the in_the to_the on_the for_the and_the with_the from_the at_the by_the that_the to_be how_to
    is_a it_is in_a of_a to_a for_a with_a as_a i_am i_have do_you can_you you_are give_me tell_me
    show_me how_do how_can what_is step_by by_step at_home will_be there_is this_is to_make is_the
    """.split()
)
STARTS = frozenset(
    """
    give write how what tell show make can could please i you who why where when which explain
    describe create list provide generate develop is are do does design draft compose find help
    ignore forget pretend imagine act from let say answer translate summarize decode repeat print
    output reveal now the
    """.split()
)
# Words sentences do not end with.
OPEN_ENDS = frozenset("the a an to of and for with in on at by from my your".split())


def _words_reversed(text: str) -> str:
    return _WORD.sub(lambda m: m.group(0)[::-1], text)


def _orders(stretch: str) -> list[tuple[str, Callable[[str], str]]]:
    """How a stretch whose words read reversed is read: written backwards whole, or each word
    reversed in place ("woH ot ekam"; the same words), whichever reads more like English word
    order (`_in_order`); both when neither does."""
    backwards, in_place = _in_order(stretch[::-1]), _in_order(_words_reversed(stretch))
    orders: list[tuple[str, Callable[[str], str]]] = []
    if backwards >= in_place:
        orders.append(("backwards", _reverse))
    if in_place >= backwards:
        orders.append(("words_reversed", _words_reversed))
    return orders


def _reverse(text: str) -> str:
    return text[::-1]


def _in_order(text: str) -> int:
    """How much `text` reads in English word order: its common word pairs, and one more when it
    starts with a word requests start with, one less when it ends with one or with a word that
    leaves a sentence open."""
    words = _raw(text).translate(_WORDS).decode().split()
    if not words:
        return 0
    pairs = sum(f"{a}_{b}" in PAIRS for a, b in itertools.pairwise(words))
    return pairs + (words[0] in STARTS) - (words[-1] in STARTS) - (words[-1] in OPEN_ENDS)


_NO_VOTES = itertools.repeat(())


def _natural(letters: bytes) -> bool:
    """Whether `letters` (a text's tells run together) are spread as in prose as written: in
    English, French, German or Spanish about 60% are among "etaoinsr"; no Caesar shift of English
    (or its Atbash) leaves more than 41% there. Fewer than NATURAL_SAMPLE letters tell nothing."""
    n = len(letters) - letters.count(0x7F)
    return n >= NATURAL_SAMPLE and sum(map(letters.count, b"etaoinsr")) >= NATURAL_SHARE * n


def _ciphers(words: list[bytes], natural: bool) -> list[_Decoder]:
    """(kind, decoder of the text's word bytes, decoder of a stretch) of each reading worth trying
    (DECODED_COMMON tells or more): the Caesar shift most tells vote for and Atbash, unless the
    letters are spread as in prose as written (`natural`), and backwards."""
    tried: list[_Decoder] = []
    if not natural:
        votes = collections.Counter(itertools.chain.from_iterable(map(_VOTES.get, words, _NO_VOTES)))
        if votes and (top := votes.most_common(1)[0])[1] >= DECODED_COMMON:
            words_table, table = _SHIFTS[top[0]]
            kind = "rot13" if top[0] == 13 else "caesar"
            tried.append((kind, lambda raw: raw.translate(words_table), lambda t: t.translate(table)))
        if sum(map(_ATBASH_TELLS.__contains__, words)) >= DECODED_COMMON:
            tried.append(("atbash", lambda raw: raw.translate(_ATBASH[0]), lambda t: t.translate(_ATBASH[1])))
    if sum(map(_BACKWARDS_TELLS.__contains__, words)) >= DECODED_COMMON:
        tried.append(("backwards", lambda raw: raw[::-1].translate(_WORDS), _reverse))
    return tried


def _sparse(plain: list[bool], window: int) -> list[range]:
    """Where a window of `window` words may start that holds at most PLAIN_COMMON common words
    (found from the gaps between the common words; English prose has almost none)."""
    common = [-1, *itertools.compress(range(len(plain)), plain), *[len(plain)] * (PLAIN_COMMON + 1)]
    pairs = zip(common, common[PLAIN_COMMON + 1 :], strict=False)
    return [range(a + 1, b - window + 1) for a, b in pairs if b - a - 1 >= window]


def _stretches(
    stop: Callable[[int], bool], n: int, counts: list[int], sparse: list[range], window: int
) -> Iterator[tuple[int, int]]:
    """[start, end) ranges of the `n` words to read decoded: the windows of `window` words with at
    most PLAIN_COMMON common words as written (starting in `sparse`) and at least DECODED_COMMON
    common only once decoded (`counts` of those before each word), overlapping windows joined,
    each widened on either side up to a word that reads as English only as written (`stop`)."""
    stretches: list[list[int]] = []
    for i in sorted({i for starts in sparse for i in starts}):
        if counts[i + window] - counts[i] >= DECODED_COMMON:
            if stretches and i <= stretches[-1][1]:
                stretches[-1][1] = i + window
            else:
                stretches.append([i, i + window])
    for first, last in stretches:
        start, end = first, last
        while start > 0 and not stop(start - 1):
            start -= 1
        while end < n and not stop(end):
            end += 1
        yield start, end
