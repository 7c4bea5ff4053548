"""The hand-written training corpora (training/everyday, lookalike, pastfuture, answers) never contain a
text of an evaluation-only check set, so the check-set figures are not a replay of training rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from training import checkset, data

CHECK_SETS = [
    checkset.PATH,
    checkset.CHAT_PATH,
    checkset.TENSE_PATH,
    checkset.EVERYDAY_PATH,
    checkset.HELDOUT_PATH,
    checkset.INSTRUCTIONS_PATH,
    checkset.MULTILINGUAL_PATH,
    checkset.ANSWERS_PATH,
]


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip("?.! ")


@pytest.mark.parametrize("folder", ["everyday", "lookalike", "pastfuture", "answers"])
def test_corpus_shares_no_text_with_a_check_set(folder: str) -> None:
    corpus = {_key(e.text) for e in data.hand_written(folder, 10**6, 13)}
    assert len(corpus) >= 500
    leaked = [r.text for path in CHECK_SETS for r in checkset.rows(Path(path)) if _key(r.text) in corpus]
    assert leaked == []


def test_hand_written_draw_is_seeded_and_harmless() -> None:
    first = data.hand_written("everyday", 50, 13)
    assert first == data.hand_written("everyday", 50, 13)
    assert first != data.hand_written("everyday", 50, 14)
    assert {e.label for e in first} == {0}
    assert len({e.text for e in first}) == 50
