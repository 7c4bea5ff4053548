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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np
import numpy.typing as npt

from guard.classify.models.features import CHAR_ORDERS, WORD, counts, fold
from guard.errors import ClassifierError

_KIND_SHIFT = 61  # kinds: 1 word, 2 bigram, 3..5 character n-gram of that order
_WORD_KIND, _BIGRAM_KIND = 1, 2
_WORD_BITS = 30
_PAYLOAD_BITS = _KIND_SHIFT
_WORD_FEATURE = re.compile(r"w:(\w+)")
_BIGRAM_FEATURE = re.compile(r"b:(\w+) (\w+)")

Keys = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A text as the scorer reads it: code points of the padded folded text, and its words."""

    codepoints: npt.NDArray[np.uint32]
    words: tuple[str, ...]
    aliases: bool  # the text holds "w:" or "b:", so a character n-gram may also be a word feature


@lru_cache(maxsize=512)
def encode(text: str) -> Encoded:
    """Folds `text` once for every model that scores it (cached: models score segments in turn)."""
    folded = fold(text)
    padded = f" {folded} ".encode("utf-32-le", "surrogatepass")
    return Encoded(
        np.frombuffer(padded, dtype=np.uint32),
        tuple(WORD.findall(folded)),
        "w:" in folded or "b:" in folded,
    )


class Vocabulary:
    """A model's n-grams as sorted integer keys, each pointing at its feature's column."""

    def __init__(self, grams: Sequence[str]) -> None:
        char_grams = [(i, g) for i, g in enumerate(grams) if len(g) in CHAR_ORDERS]
        alphabet = sorted({ch for _, g in char_grams for ch in g})
        self._char_bits = max(1, len(alphabet).bit_length())
        if self._char_bits * max(CHAR_ORDERS) > _PAYLOAD_BITS:
            raise ClassifierError(f"model alphabet of {len(alphabet)} characters is too large for keys")
        top = ord(alphabet[-1]) + 2 if alphabet else 1
        self._codes = np.zeros(top, dtype=np.uint64)  # the last entry stays 0: "not in the alphabet"
        for code, ch in enumerate(alphabet, start=1):
            self._codes[ord(ch)] = code
        self._top = top - 1
        self._word_ids: dict[str, int] = {}
        keys: list[int] = []
        columns: list[int] = []
        for column, gram in char_grams:
            keys.append(self._char_key(gram))
            columns.append(column)
        for column, gram in enumerate(grams):
            if m := _WORD_FEATURE.fullmatch(gram):
                keys.append(_WORD_KIND << _KIND_SHIFT | self._word_id(m[1]))
                columns.append(column)
            elif m := _BIGRAM_FEATURE.fullmatch(gram):
                first, second = self._word_id(m[1]), self._word_id(m[2])
                keys.append(_BIGRAM_KIND << _KIND_SHIFT | first << _WORD_BITS | second)
                columns.append(column)
        if len(self._word_ids) >= 1 << _WORD_BITS:
            raise ClassifierError(f"model word list of {len(self._word_ids)} words is too large for keys")
        order = np.argsort(np.array(keys, dtype=np.uint64), kind="stable")
        self._keys: Keys = np.array(keys, dtype=np.uint64)[order]
        self._columns = np.array(columns, dtype=np.intp)[order]

    def _word_id(self, word: str) -> int:
        return self._word_ids.setdefault(word, len(self._word_ids) + 1)

    def _char_key(self, gram: str) -> int:
        key = len(gram)
        for ch in gram:
            key = key << self._char_bits | int(self._codes[ord(ch)])
        return key << (_PAYLOAD_BITS - self._char_bits * len(gram))

    def text_keys(self, text: Encoded) -> Keys:
        """Every n-gram occurrence of the text as a key (unknown ones included, matching nothing)."""
        codes = self._codes[np.minimum(text.codepoints, self._top)]
        bits = np.uint64(self._char_bits)
        parts: list[Keys] = []
        for n in CHAR_ORDERS:
            m = len(codes) - n + 1
            if m <= 0:
                continue
            key: Keys = np.full(m, n, dtype=np.uint64)
            for j in range(n):
                key = (key << bits) | codes[j : j + m]
            parts.append(key << np.uint64(_PAYLOAD_BITS - self._char_bits * n))
        ids = np.fromiter(
            map(self._word_ids.get, text.words, repeat(0)), dtype=np.uint64, count=len(text.words)
        )
        parts.append(ids | np.uint64(_WORD_KIND << _KIND_SHIFT))
        parts.append((ids[:-1] << np.uint64(_WORD_BITS)) | ids[1:] | np.uint64(_BIGRAM_KIND << _KIND_SHIFT))
        return np.concatenate(parts)

    def columns(self, text: Encoded) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """The feature columns present in the text and how often each occurs."""
        if not len(self._keys):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        keys, counts_ = np.unique(self.text_keys(text), return_counts=True)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        known = self._keys[at] == keys
        cols, n = self._columns[at[known]], counts_[known]
        if text.aliases:  # one feature reached through two keys: add its counts up
            cols, inverse = np.unique(cols, return_inverse=True)
            n = np.bincount(inverse, weights=n).astype(np.int64)
        return cols, n


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
    grams = counts(text)
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
