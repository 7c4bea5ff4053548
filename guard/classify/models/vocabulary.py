"""Exact n-gram lookup with integer keys: what makes a model's score cost a fraction of a millisecond.

A model weighs the n-grams that `features.features()` yields, and training fits on those strings.
Building ~3,500 Python strings per kilobyte of text and looking each up in a dict was most of the
scoring time, so serving never builds them. Instead every n-gram of a model is encoded once, at
load, as a 64-bit key: its kind in the top bits, then

- a character n-gram: one code per character, from the model's own alphabet (codes 1..K; a
  character the model never saw gets 0, which no key of the model contains);
- a word: its id in the model's word list (1..W; an unknown word gets 0);
- a word bigram: the ids of both words.

A text is encoded the same way in a handful of numpy operations, its keys counted (`np.unique`)
and found in the model's sorted keys (`np.searchsorted`). Two keys are equal only when the
n-grams are, so there are no hash collisions to reason about, and the score equals the string
scorer's (`reference_score`, kept for the tests) up to float rounding.

One string can be two features at once: the character 4-gram "w:to" (from "how:to") is also the
feature of the word "to". Such n-grams get two keys that point at the same feature, and their
counts are added up, exactly as the string features merge them.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from guard.classify.models.features import CHAR_ORDERS, WORD, counts, fold
from guard.errors import ClassifierError

_KIND_SHIFT = 61  # kinds: 1 word, 2 bigram, 3..5 character n-gram of that order
_WORD_KIND, _BIGRAM_KIND = 1, 2
_WORD_BITS = 30
_PAYLOAD_BITS = _KIND_SHIFT
# A word feature is "w:" and a word (`\w+`), a bigram feature "b:" and two words, one space between.
_WORD_PREFIX, _BIGRAM_PREFIX = ord("w") << 8 | ord(":"), ord("b") << 8 | ord(":")
_WORD_CHAR = re.compile(r"\w")

Keys = npt.NDArray[np.uint64]


# In folded text (single spaces), a sentence ends at the space after ., !, ?, : or ; and, in markup
# and tool output, after >, } or ] (line breaks are folded away).
SENTENCE_END = re.compile(r"(?<=[.!?:;>}\]]) ")
_NON_WORD = re.compile(r"\W")
# A text longer than this (folded) is scored whole and in windows too: each run of two consecutive
# blocks of half as many characters. A passage of up to _BLOCK_CHARS lies whole in one window, so
# a sentence planted in the middle of a long document weighs as much as in a short one, and the
# cost stays linear in the text's length.
WINDOW_CHARS = 6000
_BLOCK_CHARS = WINDOW_CHARS // 2
# Texts no longer than this are encoded once for all the models (a cache of 512): a longer one,
# up to 64 KiB of prompt and more in an answer, would make the cache hold hundreds of MiB, and
# folding it again costs a few milliseconds per 100 KB, against some 70 to score it.
KEPT_CHARS = 16_384


@dataclass(frozen=True, slots=True)
class Encoded:
    """A text as the scorer reads it: code points of the padded folded text, and its words."""

    codepoints: npt.NDArray[np.uint32]
    words: tuple[str, ...]
    aliases: bool  # the text holds "w:" or "b:", so a character n-gram may also be a word feature
    folded: str


def encode(text: str, unglue: bool = True) -> Encoded:
    """`text` folded and encoded, once for every model that scores it when it is no longer than
    KEPT_CHARS (`encode_kept`); `unglue`: words run together split too (`features.fold`)."""
    return encode_kept(text, unglue) if len(text) <= KEPT_CHARS else _encode(text, unglue)


@lru_cache(maxsize=512)
def encode_kept(text: str, unglue: bool = True) -> Encoded:
    """`_encode`, cached: models score segments in turn."""
    return _encode(text, unglue)


def _encode(text: str, unglue: bool) -> Encoded:
    folded = fold(text, unglue)
    padded = f" {folded} ".encode("utf-32-le", "surrogatepass")
    return Encoded(
        np.frombuffer(padded, dtype=np.uint32),
        tuple(WORD.findall(folded)),
        "w:" in folded or "b:" in folded,
        folded,
    )


def _sentence_starts(folded: str) -> npt.NDArray[np.int64]:
    """Where each sentence but the first starts in the padded text (one space before)."""
    return np.array([m.end() for m in SENTENCE_END.finditer(folded)], dtype=np.int64) + 1


def _word_starts(folded: str) -> npt.NDArray[np.int64]:
    """Where each word (`WORD`) starts in the padded text: a word character after a non-word one,
    found in one substitution rather than one Python step per word."""
    marked = _NON_WORD.sub("\0", folded).encode("utf-32-le", "surrogatepass")
    word = np.frombuffer(marked, dtype=np.uint32) != 0
    return np.flatnonzero(word & ~np.concatenate(([False], word[:-1]))) + 1


def _blocks(text: Encoded) -> int:
    """How many blocks of _BLOCK_CHARS the padded text is read in, when it is longer than
    WINDOW_CHARS (0 when it is not: it is its own window)."""
    size = len(text.codepoints)
    return 0 if size <= WINDOW_CHARS + 2 else -(-size // _BLOCK_CHARS)


@dataclass(frozen=True, slots=True)
class Runs:
    """The known n-gram occurrences of each run of consecutive sentences of a text: run index,
    column and count per (run, column), and how many runs there are."""

    run: npt.NDArray[np.intp]
    columns: npt.NDArray[np.intp]
    counts: npt.NDArray[np.int64]
    size: int


def _distinct(chars: npt.NDArray[np.uint32]) -> npt.NDArray[np.intp]:
    """The code points in `chars`, ascending (counted: a few times quicker than `np.unique`)."""
    return np.flatnonzero(np.bincount(chars))


class _Grams:
    """A model's n-grams as one array of code points: where each starts and ends in it."""

    def __init__(self, grams: Sequence[str]) -> None:
        self.grams = grams
        self.lengths = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
        self.ends = np.cumsum(self.lengths)
        self.starts = self.ends - self.lengths
        self.chars = np.frombuffer("".join(grams).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    def word_chars(self) -> npt.NDArray[np.bool_]:
        """Whether each character is a word character (`\\w`), asked once per distinct character."""
        distinct = _distinct(self.chars)
        word = np.zeros(int(distinct[-1]) + 1 if len(distinct) else 0, dtype=bool)
        word[distinct] = [_WORD_CHAR.match(chr(c)) is not None for c in distinct.tolist()]
        return word[self.chars]

    def count(self, chars: npt.NDArray[np.bool_], start: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """How many of `chars` each n-gram holds from `start` to its end."""
        total = np.concatenate(([0], np.cumsum(chars)))
        return total[self.ends] - total[start]


class Vocabulary:
    """A model's n-grams as sorted integer keys, each pointing at its feature's column."""

    def __init__(self, grams: Sequence[str]) -> None:
        self._width = len(grams)
        gram = _Grams(grams)
        char_gram = np.isin(gram.lengths, CHAR_ORDERS)
        char_columns = np.flatnonzero(char_gram)
        alphabet = _distinct(gram.chars[np.repeat(char_gram, gram.lengths)])
        self._char_bits = max(1, len(alphabet).bit_length())
        if self._char_bits * max(CHAR_ORDERS) > _PAYLOAD_BITS:
            raise ClassifierError(f"model alphabet of {len(alphabet)} characters is too large for keys")
        top = int(alphabet[-1]) + 2 if len(alphabet) else 1
        self._codes = np.zeros(top, dtype=np.uint64)  # the last entry stays 0: "not in the alphabet"
        self._codes[alphabet] = np.arange(1, len(alphabet) + 1, dtype=np.uint64)
        self._top = top - 1
        word_columns, word_keys = self._word_keys(gram)
        if len(self._word_ids) >= 1 << _WORD_BITS:
            raise ClassifierError(f"model word list of {len(self._word_ids)} words is too large for keys")
        all_keys = np.concatenate([self._gram_keys(gram, char_columns), word_keys])
        all_columns = np.concatenate([char_columns, word_columns])
        order = np.argsort(all_keys, kind="stable")
        self._keys: Keys = all_keys[order]
        self._columns = all_columns[order]

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """What `restored` builds this vocabulary again from: its plain values and its arrays
        (the derived-table cache, `models/cache.py`)."""
        plain = {"width": self._width, "char_bits": self._char_bits, "top": self._top,
                 "words": list(self._word_ids)}
        return plain, {"codes": self._codes, "keys": self._keys, "columns": self._columns}

    @classmethod
    def restored(cls, plain: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> Vocabulary:
        """The vocabulary whose `state()` gave `plain` and `arrays`; ValueError when they do not
        fit together."""
        vocabulary = cls.__new__(cls)
        width, char_bits, top, words = plain["width"], plain["char_bits"], plain["top"], plain["words"]
        codes, keys, columns = arrays["codes"], arrays["keys"], arrays["columns"]
        if not (type(width) is type(char_bits) is type(top) is int and isinstance(words, list)
                and set(map(type, words)) <= {str}):
            raise ValueError("vocabulary: bad plain values")
        if (codes.dtype != np.uint64 or keys.dtype != np.uint64 or columns.dtype != np.intp
                or codes.ndim != 1 or len(codes) != top + 1 or keys.shape != columns.shape
                or (len(columns) and not 0 <= int(columns.min()) <= int(columns.max()) < width)):
            raise ValueError("vocabulary: arrays do not fit")
        vocabulary._width, vocabulary._char_bits, vocabulary._top = width, char_bits, top
        vocabulary._codes, vocabulary._keys, vocabulary._columns = codes, keys, columns
        vocabulary._word_ids = dict(zip(words, range(1, len(words) + 1), strict=True))
        if len(vocabulary._word_ids) != len(words):
            raise ValueError("vocabulary: repeated words")
        return vocabulary

    def _word_keys(self, gram: _Grams) -> tuple[npt.NDArray[np.intp], Keys]:
        """The columns of the word features ("w:" and one or more word characters) and of the
        bigram features ("b:", two such words and one space between), in order, and their keys;
        each word numbered in `_word_ids` where it first occurs."""
        long = gram.starts[gram.lengths >= 3]
        prefix = np.zeros(len(gram.lengths), dtype=np.uint32)
        prefix[gram.lengths >= 3] = gram.chars[long] << 8 | gram.chars[long + 1]
        after = gram.starts + np.minimum(gram.lengths, 2)
        body = gram.ends - after  # characters after the prefix
        others = gram.count(~gram.word_chars(), after)  # not word characters, after the prefix
        space = ord(" ")
        spaces = gram.count(gram.chars == space, after)
        word = (prefix == _WORD_PREFIX) & (others == 0)
        bigram = (prefix == _BIGRAM_PREFIX) & (body >= 3) & (others == 1) & (spaces == 1)
        bigram[bigram] &= (gram.chars[after[bigram]] != space) & (gram.chars[gram.ends[bigram] - 1] != space)
        columns = np.flatnonzero(word | bigram)
        # Their words in order, split apart in C: no word holds a colon, so " w:" and " b:" are
        # where features join.
        joined = " " + " ".join(map(gram.grams.__getitem__, columns.tolist()))
        words = joined.replace(" w:", " ").replace(" b:", " ")[1:].split(" ") if len(columns) else []
        distinct = dict.fromkeys(words)  # in the order they first occur
        self._word_ids = dict(zip(distinct, range(1, len(distinct) + 1), strict=True))
        ids = np.fromiter(map(self._word_ids.__getitem__, words), dtype=np.uint64, count=len(words))
        pair = bigram[columns]
        first = np.cumsum(1 + pair) - 1 - pair  # each feature's first word in `words`
        keys = np.where(pair, np.uint64(_BIGRAM_KIND << _KIND_SHIFT), np.uint64(_WORD_KIND << _KIND_SHIFT))
        keys[~pair] |= ids[first[~pair]]
        keys[pair] |= (ids[first[pair]] << np.uint64(_WORD_BITS)) | ids[first[pair] + 1]
        return columns, keys

    def _gram_keys(self, gram: _Grams, columns: npt.NDArray[np.intp]) -> Keys:
        """The key of each character n-gram at `columns`, in their order: those of one order read
        as one array of their characters' codes (a Python step per character took 0.3 s a model)."""
        keys = np.zeros(len(columns), dtype=np.uint64)
        orders = gram.lengths[columns]
        for n in CHAR_ORDERS:
            (at,) = np.nonzero(orders == n)
            codes = self._codes[gram.chars[gram.starts[columns[at]][:, None] + np.arange(n)]]
            keys[at] = self._packed(n, [codes[:, j] for j in range(n)])
        return keys

    def _packed(self, n: int, chars: Sequence[Keys]) -> Keys:
        """Order-`n` character keys from the codes of every n-gram's first character, its second,
        and so on."""
        bits = np.uint64(self._char_bits)
        key: Keys = np.full(len(chars[0]), n, dtype=np.uint64)
        for codes in chars:
            key = (key << bits) | codes
        return key << np.uint64(_PAYLOAD_BITS - self._char_bits * n)

    def text_keys(self, text: Encoded) -> Keys:
        """Every n-gram occurrence of the text as a key (unknown ones included, matching nothing)."""
        codes = self._codes[np.minimum(text.codepoints, self._top)]
        parts = [self._packed(n, [codes[j : j + len(codes) - n + 1] for j in range(n)])
                 for n in CHAR_ORDERS if len(codes) >= n]
        ids = np.fromiter(
            map(self._word_ids.get, text.words, repeat(0)), dtype=np.uint64, count=len(text.words)
        )
        parts.append(ids | np.uint64(_WORD_KIND << _KIND_SHIFT))
        parts.append((ids[:-1] << np.uint64(_WORD_BITS)) | ids[1:] | np.uint64(_BIGRAM_KIND << _KIND_SHIFT))
        return np.concatenate(parts)

    def columns(self, text: Encoded) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """The feature columns present in the text and how often each occurs."""
        columns, n, _ = self.lookup(text, 0)
        return columns, n

    def lookup(
        self, text: Encoded, width: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], Runs | None]:
        """The feature columns present in the text, how often each occurs, and the n-grams of each
        of its runs (None when it has none): with `width` > 0, of each run of `width` consecutive
        sentences (none when the text has no more than `width` sentences), and in a text longer
        than WINDOW_CHARS, of each window (`_windows`). An n-gram belongs to the sentence (the
        block) where it starts, a word bigram to its first word's."""
        if not len(self._keys):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64), None
        keys = self.text_keys(text)
        blocks = _blocks(text)
        if width or blocks:  # each occurrence's unique key too, to place it in its sentence
            unique, inverse, counts_ = np.unique(keys, return_inverse=True, return_counts=True)
        else:
            unique, counts_ = np.unique(keys, return_counts=True)
        at = np.minimum(np.searchsorted(self._keys, unique), len(self._keys) - 1)
        known = self._keys[at] == unique
        cols, n = self._columns[at[known]], counts_[known]
        if text.aliases:  # one feature reached through two keys: add its counts up
            cols, merged = np.unique(cols, return_inverse=True)
            n = np.bincount(merged, weights=n).astype(np.int64)
        if not (width or blocks):
            return cols, n, None
        column_of = np.where(known, self._columns[at], -1)[inverse]
        found = column_of >= 0
        positions = self._positions(text)[found]
        groups = []  # (group of each occurrence, groups in a run, runs)
        if width:
            sentence_starts = _sentence_starts(text.folded)
            sentence = np.searchsorted(sentence_starts, positions, side="right")
            groups.append((sentence, width, len(sentence_starts) + 2 - width))
        if blocks:
            groups.append((positions // _BLOCK_CHARS, 2, blocks - 1))
        return cols, n, self._runs(column_of[found], [g for g in groups if g[2] > 1])

    def _runs(
        self, columns: npt.NDArray[np.intp], groups: list[tuple[npt.NDArray[np.int64], int, int]]
    ) -> Runs | None:
        """The n-grams of each run of consecutive groups (sentences, blocks) of every kind in
        `groups`, the runs of one kind numbered after those of the kind before."""
        if not groups:
            return None
        runs, run_columns = [], []
        offset = 0
        for group, width, size in groups:
            run = (group[:, None] - np.arange(width)[None, :]).ravel()
            inside = (run >= 0) & (run < size)
            runs.append(run[inside] + offset)
            run_columns.append(np.repeat(columns, width)[inside])
            offset += size
        pairs, run_n = np.unique(np.concatenate(runs) * self._width + np.concatenate(run_columns),
                                 return_counts=True)
        return Runs(pairs // self._width, pairs % self._width, run_n, offset)

    def _positions(self, text: Encoded) -> npt.NDArray[np.int64]:
        """Where each key of `text_keys` starts in the padded text, in the same order."""
        size = len(text.codepoints)
        parts = [np.arange(size - n + 1) for n in CHAR_ORDERS if size - n + 1 > 0]
        words = _word_starts(text.folded)
        return np.concatenate([*parts, words, words[:-1]])


def reference_table(
    grams: Sequence[str], idf: npt.NDArray[np.float64], coef: npt.NDArray[np.float64]
) -> dict[str, tuple[float, float]]:
    """n-gram -> (idf, coefficient): the string scorer's view of one regression (tests, benchmark)."""
    return {g: (i, c) for g, i, c in zip(grams, idf.tolist(), coef.tolist(), strict=True) if i}


def reference_score(
    text: str, parts: Sequence[tuple[float, float, Mapping[str, tuple[float, float]]]]
) -> float:
    """The string scorer, n-gram by n-gram, over (weight, intercept, table) per regression: what
    `Vocabulary` must agree with (tests only)."""
    return reference_score_of(counts(text), parts)


def reference_run_counts(text: str, width: int) -> list[Counter[str]]:
    """The string features of each run of `width` consecutive sentences, built n-gram by n-gram
    from their start positions: what `Vocabulary.lookup` must agree with (tests only)."""
    folded, found = _reference_grams(text)
    starts = [1 + m.end() for m in SENTENCE_END.finditer(folded)]
    size = len(starts) + 2 - width
    return _reference_runs(found, lambda position: bisect_right(starts, position), width, size)


def reference_window_counts(text: str) -> list[Counter[str]]:
    """The string features of each window of a text longer than WINDOW_CHARS (none for a shorter
    one), as `reference_run_counts` (tests only)."""
    folded, found = _reference_grams(text)
    blocks = -(-(len(folded) + 2) // _BLOCK_CHARS) if len(folded) > WINDOW_CHARS else 0
    return _reference_runs(found, lambda position: position // _BLOCK_CHARS, 2, blocks - 1)


def _reference_grams(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The folded text, and each n-gram of it with where it starts in the padded text."""
    folded = fold(text)
    padded = f" {folded} "
    found: list[tuple[int, str]] = [
        (i, padded[i : i + n]) for n in CHAR_ORDERS for i in range(len(padded) - n + 1)
    ]
    words = [(1 + m.start(), m.group()) for m in WORD.finditer(folded)]
    found += [(i, "w:" + w) for i, w in words]
    found += [(i, f"b:{a} {b}") for (i, a), (_, b) in pairwise(words)]
    return folded, found


def _reference_runs(
    found: list[tuple[int, str]], group_of: Callable[[int], int], width: int, size: int
) -> list[Counter[str]]:
    runs: list[Counter[str]] = [Counter() for _ in range(max(size, 0))]
    for position, gram in found:
        group = group_of(position)
        for run in range(max(0, group - width + 1), min(group, size - 1) + 1):
            runs[run][gram] += 1
    return runs


def reference_score_of(
    grams: Mapping[str, int], parts: Sequence[tuple[float, float, Mapping[str, tuple[float, float]]]]
) -> float:
    """`reference_score` over counted features."""
    z = 0.0
    for weight, intercept, table in parts:
        dot = squares = 0.0
        for gram, n in grams.items():
            entry = table.get(gram)
            if entry is None:
                continue
            value = (1.0 + math.log(n)) * entry[0]
            dot += value * entry[1]
            squares += value * value
        z += weight * (intercept + (dot / math.sqrt(squares) if squares else 0.0))
    return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0
