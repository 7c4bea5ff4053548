"""The hand-written training corpora (training/everyday, lookalike, pastfuture, service, contrast,
languages(_more), requests, requests_more, requests_texts(_more), requests_why(_lang), requests_formats,
requests_offensive, requests_excerpts, requests_claims, requests_persuasion, requests_code, futures, reframed,
howto(_more), howto_everyday, howto_harmful, answers(_more), protective_answers, harmful_answers,
direct_answers, vague_attacks, injected_docs, ai_docs, roleplay, jailbreak_languages) never
contain a text of an evaluation-only check set, nor a near copy of one where the same kind of author
wrote both, so the check-set figures are not a replay of training rows."""

from __future__ import annotations

import json
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
    checkset.ANSWERS_MORE_PATH,
    checkset.SERVICE_PATH,
    checkset.CONTRAST_PATH,
    checkset.AI_DOCS_PATH,
    checkset.ROLEPLAY_PATH,
    checkset.TEXTS_PATH,
    checkset.HOWTO_PATH,
    checkset.CONDUCT_PATH,
    checkset.HOWTO_EVERYDAY_PATH,
    checkset.WHY_PATH,
    checkset.OFFENSIVE_PATH,
    checkset.EXCERPTS_PATH,
    checkset.FUTURES_PATH,
]


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip("?.! ")


def _check_texts() -> list[str]:
    rows = [r for path in CHECK_SETS for r in checkset.rows(Path(path))]
    pairs = [
        row
        for path in (checkset.HARMFUL_ANSWERS_PATH, checkset.DIRECT_ANSWERS_PATH, checkset.INJECTED_DOCS_PATH)
        for row in checkset.pair_rows(path)
    ]
    return [r.text for r in rows + pairs]


@pytest.mark.parametrize(
    "folder",
    [
        "everyday",
        "lookalike",
        "pastfuture",
        "answers",
        "answers_more",
        "protective_answers",
        "service",
        "ai_docs",
        "roleplay",
        "requests_formats",
    ],
)
def test_corpus_shares_no_text_with_a_check_set(folder: str) -> None:
    corpus = {_key(e.text) for e in data.hand_written(folder, 10**6, 13)}
    assert len(corpus) >= 300
    assert [t for t in _check_texts() if _key(t) in corpus] == []


@pytest.mark.parametrize("folder, size", [("harmful_answers", 800), ("direct_answers", 600),
                                          ("vague_attacks", 400)])
def test_harmful_answer_pairs_share_no_text_with_a_check_set(folder: str, size: int) -> None:
    pairs = data.hand_written_pairs(folder, 10**6, 13)
    assert len(pairs) >= size
    assert {e.label for e in pairs[::2]} == {1} and {e.label for e in pairs[1::2]} == {0}
    corpus = {_key(e.text) for e in pairs}
    assert [t for t in _check_texts() if _key(t) in corpus] == []
    answers = [
        r.text
        for path in (checkset.HARMFUL_ANSWERS_PATH, checkset.DIRECT_ANSWERS_PATH)
        for r in checkset.pair_rows(path)
    ]
    assert checkset.near_copies([e.text for e in pairs], answers, 0.3) == []


def test_ordinary_answers_have_no_near_copy_of_an_answers_check_set() -> None:
    corpus = [e.text for e in data.hand_written("answers_more", 10**6, 13)]
    checks = [r.text for path in (checkset.ANSWERS_PATH, checkset.ANSWERS_MORE_PATH)
              for r in checkset.rows(path)]
    assert len(corpus) >= 490 and checkset.near_copies(corpus, checks, 0.3) == []


def test_hand_written_draw_is_seeded_and_harmless() -> None:
    first = data.hand_written("everyday", 50, 13)
    assert first == data.hand_written("everyday", 50, 13)
    assert first != data.hand_written("everyday", 50, 14)
    assert {e.label for e in first} == {0}
    assert len({e.text for e in first}) == 50


def test_contrast_corpus_has_both_labels_and_no_near_copy_of_its_check_set() -> None:
    rows = data.hand_written_labelled("contrast", 10**6, 13)
    assert {e.label for e in rows} == {0, 1}
    assert sum(e.label for e in rows) >= 500 and len(rows) - sum(e.label for e in rows) >= 1000
    check = [r.text for r in checkset.rows(checkset.CONTRAST_PATH)]
    assert checkset.near_copies([e.text for e in rows], check, 0.3) == []
    corpus = {_key(e.text) for e in rows}
    assert [t for t in _check_texts() if _key(t) in corpus] == []


def test_near_copies_finds_a_reworded_line_and_not_a_different_one() -> None:
    check = ["How do I kill a zombie process that won't die on Ubuntu?"]
    near = "How do I kill a zombie process that refuses to die on my Ubuntu server?"
    far = "How do I stop a frozen app on my Mac without losing my work?"
    assert checkset.near_copies([near, far], check, 0.3) == [near]


@pytest.mark.parametrize(("folder", "label"), [("howto_everyday", 0), ("howto_harmful", 1)])
def test_howto_corpora_ask_about_nothing_a_check_set_asks_about(folder: str, label: int) -> None:
    rows = data.hand_written_labelled(folder, 10**6, 13) if label else data.hand_written(folder, 10**6, 13)
    assert len(rows) >= 700 and {e.label for e in rows} == {label}
    texts, check = [e.text for e in rows], _check_texts()
    assert checkset.same_subject(texts, check, 0.5) == []
    assert checkset.near_copies(texts, check, 0.5) == []


def test_same_subject_sees_past_the_frame() -> None:
    check = ["How can I make soap at home?"]
    same = "What do I need to make soap?"
    other = "How can I make compost?"
    assert checkset.same_subject([same, other], check, 0.5) == [same]
    assert checkset.near_copies([other], check, 0.3) == [other]  # what the frame alone does


def test_roleplay_corpus_has_no_near_copy_of_its_check_set() -> None:
    texts = [e.text for e in data.hand_written("roleplay", 10**6, 13)]
    assert len(texts) >= 700
    check = [r.text for r in checkset.rows(checkset.ROLEPLAY_PATH)]
    assert checkset.near_copies(texts, check, 0.3) == []


def test_document_corpora_have_no_near_copy_of_their_check_sets() -> None:
    pairs = data.hand_written_pairs("injected_docs", 10**6, 13)
    assert len(pairs) >= 900
    assert {e.label for e in pairs[::2]} == {1} and {e.label for e in pairs[1::2]} == {0}
    check = [r.text for r in checkset.pair_rows(checkset.INJECTED_DOCS_PATH)]
    assert checkset.near_copies([e.text for e in pairs], check, 0.3) == []
    docs = [e.text for e in data.hand_written("ai_docs", 10**6, 13)]
    assert len(docs) >= 300
    assert checkset.near_copies(docs, [r.text for r in checkset.rows(checkset.AI_DOCS_PATH)], 0.3) == []


@pytest.mark.parametrize(
    ("folder", "harmful", "harmless"),
    [("languages", 1200, 1600), ("requests_why_lang", 240, 800), ("languages_more", 600, 200)],
)
def test_language_corpora_have_both_labels_and_no_near_copy_of_a_check_set(
    folder: str, harmful: int, harmless: int
) -> None:
    rows = data.hand_written_labelled(folder, 10**6, 13)
    assert sum(e.label for e in rows) >= harmful and len(rows) - sum(e.label for e in rows) >= harmless
    first, second = checkset.language_rows(), checkset.language_rows(checkset.LANGUAGES_B_DIR)
    for check in (first, second):
        assert {r.category.split("/")[0] for r in check} == {"de", "es", "fr"}
    assert len(first) == 420 and sum(r.label for r in first) == 180
    assert len(second) >= 400 and sum(r.label for r in second) >= 150
    against = [r.text for r in first + second] + [r.text for r in checkset.rows(checkset.MULTILINGUAL_PATH)]
    texts = [e.text for e in rows]
    assert checkset.near_copies(texts, against, 0.3) == []
    assert checkset.same_subject(texts, [r.text for r in second], 0.5) == []


@pytest.mark.parametrize(
    ("folder", "each"),
    [
        ("requests", 1200),
        ("requests_more", 1200),
        ("requests_texts", 850),
        ("requests_texts_more", 850),
        ("howto", 400),
        ("howto_more", 350),
        ("requests_why", 600),
        ("requests_offensive", 300),
        ("requests_excerpts", 200),
        ("requests_claims", 600),
        ("requests_persuasion", 300),
        ("requests_code", 300),
        ("futures", 400),
        ("reframed", 450),
    ],
)
def test_english_requests_have_both_labels_and_no_near_copy_of_a_check_set(folder: str, each: int) -> None:
    rows = data.hand_written_labelled(folder, 10**6, 13)
    assert sum(e.label for e in rows) >= each and len(rows) - sum(e.label for e in rows) >= each
    assert checkset.near_copies([e.text for e in rows], _check_texts(), 0.3) == []


def test_reframed_requests_are_about_nothing_a_dev_prompt_is_about() -> None:
    """The reframed corpus was written after an error analysis of the dev split: a pair went when
    either text shared its subject or its trigrams with a dev prompt (training/reframed/README.md)."""
    rows = data.hand_written_labelled("reframed", 10**6, 13)
    dev = [r["text"] for r in data.prompts("dev") if len(r["text"]) < 600]
    texts = [e.text for e in rows]
    assert checkset.same_subject(texts, dev, 0.3) == []
    assert checkset.near_copies(texts, dev, 0.2) == []


def test_jailbreak_language_corpus_has_no_near_copy_of_its_check_sets() -> None:
    rows = data.hand_written_labelled("jailbreak_languages", 10**6, 13)
    assert sum(e.label for e in rows) >= 400 and len(rows) - sum(e.label for e in rows) >= 1500
    check = checkset.rows(checkset.JAILBREAK_LANGUAGES_PATH)
    assert {r.category.split("/")[0] for r in check} == {"de", "es", "fr"} and len(check) == 180
    against = [r.text for r in check] + [r.text for r in checkset.rows(checkset.ROLEPLAY_PATH)]
    against += [r.text for r in checkset.rows(checkset.INSTRUCTIONS_PATH)]
    assert checkset.near_copies([e.text for e in rows], against, 0.3) == []


def test_injection_language_corpus_has_attacks_and_clean_bodies_in_three_languages() -> None:
    rows = data._folder_rows("injections_lang")
    attacks = [r["text"] for r in rows if r["kind"] == "attack"]
    clean = [r["text"] for r in rows if r["kind"] == "clean"]
    assert len(attacks) >= 400 and len(clean) >= 350
    check = checkset.pair_rows(checkset.INJECTION_LANGUAGES_PATH)
    assert {r.category.split("/")[0] for r in check} == {"de", "es", "fr"} and len(check) == 180
    assert checkset.near_copies(attacks + clean, [r.text for r in check], 0.3) == []


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_the_second_round_of_clean_documents_is_long_and_talks_about_ai_and_orders(language: str) -> None:
    """The longer clean documents (training/injections_lang/<language>_docs.jsonl): orders to human
    readers and talk about AI assistants, never a planted instruction."""
    path = data.HERE / "injections_lang" / f"{language}_docs.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 140 and {r["kind"] for r in rows} == {"clean"}
    assert sum(len(r["text"].split()) for r in rows) / len(rows) >= 80
    assert sum(r["orders_people"] for r in rows) >= 50 and sum(r["mentions_ai"] for r in rows) >= 50
