"""English word frequencies (wordninja's): letters run together or spread with no word gaps
split into words again, and which words are common.

Reads its word list when imported (about 70 ms): at start-up, through `normalize`, rather than on
the event loop the first time a keyword list meets letters spread with no word gaps.
"""

from __future__ import annotations

import copy
import functools
import math

import wordninja

# wordninja's model with words of up to 20 letters tried at each position, not 58 (its longest):
# 2.5 times quicker, and a longer word is rare in a text written to hide it.
_SPLITTER = copy.copy(wordninja.DEFAULT_LANGUAGE_MODEL)
_SPLITTER._maxword = 20


def split_words(letters: str) -> list[str] | None:
    """`letters` (a word or words run together) split into words by English word frequencies
    (wordninja), or None when the split would not give back every letter (it drops letters
    outside a-z)."""
    words: list[str] = _SPLITTER.split(letters)
    return words if "".join(words) == letters else None


# A word of GLUED_LETTERS letters or more that no dictionary knows may be words run together
# ("givemestepbystepinstructions"): it is split when GLUED_SHARE of its letters fall in common
# words (of the GLUED_RANK commonest, single letters but "a" and "i" not counted). German compounds,
# names and random letters split into rarer pieces and stay whole.
GLUED_LETTERS = 14
GLUED_RANK = 20_000
GLUED_SHARE = 0.7
_WORD_COST: dict[str, float] = wordninja.DEFAULT_LANGUAGE_MODEL._wordcost
_MAX_COST = math.log(GLUED_RANK * math.log(len(_WORD_COST)))  # word_rank_cost(GLUED_RANK)


def glued_words(token: str) -> list[str] | None:
    """`token` split into the words run together in it, or None when it is a word itself or does
    not split into three or more words, mostly common ones."""
    if token in _WORD_COST:
        return None
    words = split_words(token)
    if words is None or len(words) < 3:
        return None
    common = sum(len(w) for w in words if common_word(w))
    return words if common >= GLUED_SHARE * len(token) else None


def commonest_words(n: int) -> list[str]:
    """The `n` commonest English words, commonest first (wordninja's ranking)."""
    return _ranked()[:n]


@functools.cache
def _ranked() -> list[str]:
    return sorted(_WORD_COST, key=_WORD_COST.__getitem__)


def known_word(word: str) -> bool:
    """Whether `word` (lower case, two letters or more) is in the word list at all, however rare
    ("highs", "bookmark", "gumdrop")."""
    return len(word) > 1 and word in _WORD_COST


def common_word(word: str, max_cost: float = _MAX_COST) -> bool:
    """Whether `word` (lower case) is one of the GLUED_RANK commonest English words (not a single
    letter but "a" and "i"); `max_cost`: of the `word_rank_cost(n)` commonest instead."""
    return (len(word) > 1 or word in "ai") and _WORD_COST.get(word, math.inf) <= max_cost


def word_rank_cost(n: int) -> float:
    """The `max_cost` of `common_word` that stands for the `n` commonest words."""
    return math.log(n * math.log(len(_WORD_COST)))
