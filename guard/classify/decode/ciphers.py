"""Letter ciphers and reversed writing: stretches of a text that read as English only in ROT13 or
another Caesar shift, in Atbash, written backwards or with each word reversed (`ciphered(text)`)."""

from __future__ import annotations

import collections
import functools
import itertools
import operator
from collections.abc import Callable

from guard.classify.decode.english import (
    AS_WRITTEN_COMMON,
    COMMON_BYTES,
    DECODED,
    KNOWN,
    LOWER,
    WORD,
    WORDS,
    as_bytes,
    english,
)
from guard.classify.words import common_word, commonest_words

# A stretch read decoded: every WINDOW words in a row hold at most PLAIN_COMMON common English
# words as written, and a reading needs DECODED_COMMON of them common once decoded.
WINDOW = 8
SHORTEST = 4  # words: a shorter text is its own window
PLAIN_COMMON = 1
DECODED_COMMON = 3
NATURAL_SHARE = 0.5  # of letters among "etaoinsr": prose as written, no letter cipher
NATURAL_SAMPLE = 40  # letters: fewer cannot tell


def _cipher(plain: str) -> tuple[bytes, dict[int, int]]:
    """A letter substitution that writes `plain`'s letters for the alphabet's: the table that
    decodes found words, and the one that decodes the text (case kept)."""
    words = WORDS.translate(bytes.maketrans(LOWER.encode(), plain.encode()))
    return words, str.maketrans(LOWER + LOWER.upper(), plain + plain.upper())


# Caesar shifts: the text table of shift k decodes a text written k letters on. ROT13 is shift 13.
_SHIFTS = {k: _cipher(LOWER[-k:] + LOWER[:-k]) for k in range(1, 26)}
_ATBASH = _cipher(LOWER[::-1])


# Words that are common English only once decoded ("gur", "bs", "eht", "zl"), and not as written
# (among the TELLS_RANK commonest, for words of three letters or more: "ifmmp" tells, "if" and
# "cat" do not), for each cipher: a text with fewer than DECODED_COMMON of them has no reading in
# that cipher, and most texts have none in any. A Caesar shift's tells vote for the shift.
TELLS_RANK = 5000
_AS_WRITTEN = COMMON_BYTES | {w.encode() for w in commonest_words(TELLS_RANK) if len(w) > 2}


def _votes(words: list[bytes]) -> dict[bytes, tuple[int, ...]]:
    """Each of `words` written k letters on, for every shift k, that is not common as written:
    the shifts it votes for, ascending (the first word's tells first)."""
    joined = b" ".join(words)  # one translation of every word per shift, not one per word
    # written k letters on is decoded by shift k and written by shift 26 - k
    written = [joined.translate(_SHIFTS[26 - k][0]).split() for k in range(1, 26)]
    votes: dict[bytes, tuple[int, ...]] = {}
    for tells in zip(*written, strict=True):
        for k, tell in enumerate(tells, 1):
            if tell not in _AS_WRITTEN:
                votes[tell] = (*votes.get(tell, ()), k)
    return votes


_VOTES = _votes(sorted(DECODED))
_ATBASH_TELLS = frozenset(w.translate(_ATBASH[0]) for w in DECODED) - _AS_WRITTEN
_BACKWARDS_TELLS = frozenset(w[::-1] for w in DECODED) - _AS_WRITTEN
_TELLS = frozenset(_VOTES) | _ATBASH_TELLS | _BACKWARDS_TELLS


def ciphered(text: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the stretches of `text` that read as English only in a
    letter cipher (ROT13 or another Caesar shift, Atbash) or written backwards."""
    raw = as_bytes(text)
    words = raw.translate(WORDS).split()
    if sum(map(_TELLS.__contains__, words)) < DECODED_COMMON:
        return []
    plain = list(map(AS_WRITTEN_COMMON.__contains__, words))
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
        only = list(map(operator.gt, map(DECODED.__contains__, decoded_words), plain))
        counts = list(itertools.accumulate(only, initial=0))
        if max(map(operator.sub, counts[window:], counts)) < DECODED_COMMON:
            continue  # no window of `window` words holds enough (the sparse ones are fewer)

        def stop(i: int, words: list[bytes] = decoded_words) -> bool:
            # English as written and not once decoded ("a" is English both ways in a backwards text)
            return plain[i] and words[i] not in KNOWN

        stretches = _stretches(stop, len(plain), counts, sparse, window)
        if stretches:
            bounds = bounds or [m.span() for m in WORD.finditer(text)]
            for first, last in map(functools.partial(_trimmed, words, decoded_words), stretches):
                start, end = bounds[first][0], bounds[last - 1][1]
                for read_as, read in _orders(text[start:end]) if kind == "backwards" else [(kind, decode)]:
                    if english(reading := read(text[start:end])):
                        found.append((read_as, start, end, reading))
    return found


def _trimmed(words: list[bytes], decoded_words: list[bytes], stretch: tuple[int, int]) -> tuple[int, int]:
    """`stretch` without the words at either end that are English as written and not common once
    decoded, or the same both ways (the plain text around a ciphered request; "who" in Atbash,
    "dsl", stays; "a" before a backwards request goes)."""
    first, last = stretch

    def plain(i: int) -> bool:
        decoded = decoded_words[i]
        return common_word(words[i].decode()) and (decoded not in KNOWN or decoded == words[i])

    while first < last - 1 and plain(first):
        first += 1
    while last > first + 1 and plain(last - 1):
        last -= 1
    return first, last


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
    return WORD.sub(lambda m: m.group(0)[::-1], text)


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
    words = as_bytes(text).translate(WORDS).decode().split()
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
        tried.append(("backwards", lambda raw: raw[::-1].translate(WORDS), _reverse))
    return tried


def _sparse(plain: list[bool], window: int) -> list[range]:
    """Where a window of `window` words may start that holds at most PLAIN_COMMON common words
    (found from the gaps between the common words; English prose has almost none)."""
    common = [-1, *itertools.compress(range(len(plain)), plain), *[len(plain)] * (PLAIN_COMMON + 1)]
    pairs = zip(common, common[PLAIN_COMMON + 1 :], strict=False)
    return [range(a + 1, b - window + 1) for a, b in pairs if b - a - 1 >= window]


def _stretches(
    stop: Callable[[int], bool], n: int, counts: list[int], sparse: list[range], window: int
) -> list[tuple[int, int]]:
    """[start, end) ranges of the `n` words to read decoded: the windows of `window` words with at
    most PLAIN_COMMON common words as written (starting in `sparse`) and at least DECODED_COMMON
    common only once decoded (`counts` of those before each word), overlapping windows joined,
    each widened on either side up to a word that reads as English only as written (`stop`),
    widened ones that meet joined too: a text with no such word is one stretch, however many
    windows it holds (each had been widened to all of it and read decoded once more)."""
    windows: list[list[int]] = []
    for i in sorted({i for starts in sparse for i in starts}):
        if counts[i + window] - counts[i] >= DECODED_COMMON:
            if windows and i <= windows[-1][1]:
                windows[-1][1] = i + window
            else:
                windows.append([i, i + window])
    stretches: list[list[int]] = []
    for first, last in windows:
        floor = stretches[-1][1] if stretches else 0
        start, end = first, max(last, floor)
        while start > floor and not stop(start - 1):
            start -= 1
        while end < n and not stop(end):
            end += 1
        if stretches and start <= floor:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    return [(start, end) for start, end in stretches]
