"""The measured comparison behind the harmful_request model (`python -m training.compare`).

Each variant (training recipe x features x regularisation) is fitted on the train split, its
threshold placed on dev (FP budgets: 1% benign, 10% over_refusal_safe; and the looser point with
the benign budget only), and then scored on dev and on the hand-written check set
(training/checkset.jsonl), which takes no part in fitting or threshold placement. Prints a
Markdown table (copied into bench/BENCHMARKS.md).

Static embeddings distilled from MiniLM (model2vec) are compared separately, in
training/embed_compare.py (needs the `embed` extra); they did not beat the n-gram model.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from collections.abc import Callable, Sequence

from guard.classify.models.features import features
from training import checkset, data, evaluate, frame_probes
from training.data import Recipe
from training.fit import fit_parts, parts_scores
from training.fit import word_grams as words


def chars(text: str) -> list[str]:
    """Character 3-5-grams only."""
    return [f for f in features(text) if f[:2] not in ("w:", "b:")]


OLD = Recipe()
STYLED = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=True)
STYLED_CAPPED = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=True, nq_cap=1500)
REDTEAM_03 = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=True, redteam_weight=0.3)
REDTEAM_1 = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=True, redteam_weight=1.0)
REDTEAM_05 = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=True, redteam_weight=0.5)
TWINS = Recipe(
    styled_benign=1500, questions_recast=1200, harmful_questions=True, redteam_weight=0.5, matched_twins=True
)
TWINS_FP = Recipe(
    styled_benign=1500,
    questions_recast=1200,
    harmful_questions=True,
    redteam_weight=0.5,
    matched_twins=True,
    first_person=300,
)
SHIPPED = data.HARMFUL_RECIPE
# Versions 19 to 21 share one recipe (20 and 21 are 19 retrained for fold changes).
VERSION_19 = dataclasses.replace(SHIPPED, claims=0, attack_code=0, fragments=0, polite_frames=False)
VERSION_18 = dataclasses.replace(VERSION_19, bigrams=0.0)
BIGRAMS_1 = dataclasses.replace(VERSION_19, bigrams=1.0)
WORDS_PASTFUTURE = dataclasses.replace(VERSION_19, words_pastfuture=True)
WORDS_PASTFUTURE_C1 = dataclasses.replace(WORDS_PASTFUTURE, words_c=1.0)
V21_CLAIMS = dataclasses.replace(VERSION_19, claims=3000)
V21_NAMED = dataclasses.replace(VERSION_19, named_requests=3000)
V21_CODE = dataclasses.replace(VERSION_19, attack_code=3000)
V21_CLAIMS_CODE = dataclasses.replace(V21_CLAIMS, attack_code=3000)
V25_FRAGMENTS = dataclasses.replace(V21_CLAIMS_CODE, fragments=4000)
V25_POLITE = dataclasses.replace(V25_FRAGMENTS, polite_frames=True)
REFRAMED = dataclasses.replace(SHIPPED, reframed=3000)
V21_CLAIMS_BOTH = dataclasses.replace(V21_CLAIMS, persuasion=3000, attack_code=3000)
V20_SPECIALIST_075 = dataclasses.replace(VERSION_19, specialist=0.75)
V20_SPECIALIST_1 = dataclasses.replace(VERSION_19, specialist=1.0)
SKIP_PAIRS_05 = dataclasses.replace(VERSION_19, skip_pairs=0.5)
SKIP_PAIRS_1 = dataclasses.replace(VERSION_19, skip_pairs=1.0)
SERVICE_V19 = dataclasses.replace(VERSION_19, service_messages=1000)
HOWTO_WEIGHT_2 = dataclasses.replace(VERSION_19, group_weights=(("own/howto_everyday", 2.0),))
HOWTO_WEIGHT_3 = dataclasses.replace(VERSION_19, group_weights=(("own/howto_everyday", 3.0),))
HOWTO_WEIGHT_5 = dataclasses.replace(VERSION_19, group_weights=(("own/howto_everyday", 5.0),))
HOWTO_WEIGHT_8 = dataclasses.replace(VERSION_19, group_weights=(("own/howto_everyday", 8.0),))
HOWTO_5_EVERYDAY_2 = dataclasses.replace(
    VERSION_19, group_weights=(("own/howto_everyday", 5.0), ("own/everyday", 2.0))
)
# The conversational recipe as it was up to version 24 (version 25 adds the harmless fragments,
# version 26 the how-to questions in polite frames).
CONVERSATIONAL_24 = dataclasses.replace(data.CONVERSATIONAL_RECIPE, fragments=0, polite_frames=False)
CONVERSATIONAL_25 = dataclasses.replace(data.CONVERSATIONAL_RECIPE, polite_frames=False)
CONVERSATIONAL_HOWTO_3 = dataclasses.replace(CONVERSATIONAL_24, group_weights=(("own/howto_everyday", 3.0),))
CONVERSATIONAL_NO_REDTEAM = dataclasses.replace(CONVERSATIONAL_24, redteam_weight=0.0)
FUTURES = dataclasses.replace(VERSION_19, futures=3000)
FUTURES_BIGRAMS = dataclasses.replace(VERSION_19, futures_bigrams=True)
FUTURES_BOTH = dataclasses.replace(FUTURES, futures_bigrams=True)
VERSION_17 = dataclasses.replace(VERSION_18, excerpts=0)
VERSION_16 = dataclasses.replace(VERSION_17, words=0.0)
WORDS_C1 = dataclasses.replace(VERSION_17, words=1.0, words_c=1.0)
WORDS_C15 = dataclasses.replace(VERSION_17, words=1.0, words_c=1.5)
VERSION_15 = dataclasses.replace(VERSION_16, more_languages=0)
VERSION_14 = dataclasses.replace(VERSION_15, offensive=0)
VERSION_13 = dataclasses.replace(VERSION_14, why_requests=0, format_tasks=0, why_languages=0)
VERSION_12 = dataclasses.replace(VERSION_13, everyday_howto=0, harmful_howto=0)
VERSION_11 = dataclasses.replace(VERSION_12, specialist=0.0, specialist_tense=False)
VERSION_10 = dataclasses.replace(VERSION_11, more_texts=0, more_howto=0)
VERSION_9 = dataclasses.replace(VERSION_10, more_requests=0, texts=0, howto=0)
VERSION_8 = dataclasses.replace(VERSION_9, requests=0)
VERSION_7 = dataclasses.replace(VERSION_8, languages=0, multilingual=0.0)
VERSION_6 = dataclasses.replace(VERSION_7, contrast=0)
VERSION_5 = dataclasses.replace(VERSION_6, everyday_messages=0, wide_tense=False, claim_hazards=0)
EVERYDAY_WIDE = dataclasses.replace(VERSION_6, claim_hazards=0)
VERSION_4 = dataclasses.replace(VERSION_5, gerund_frames=False)
VERSION_3 = dataclasses.replace(VERSION_4, civic_hazards=0, task_hazards=0)
VERSION_1 = dataclasses.replace(
    VERSION_3,
    everyday_chat=0,
    hazards=0,
    hazard_tense=False,
    content_hazards=0,
    broad_tense=False,
    benign_tense=0,
)
QUESTIONS = dataclasses.replace(VERSION_1, short_everyday=0, injections_negative=False)
TWINS_FP_FEWER = dataclasses.replace(QUESTIONS, benign_questions=0)
QUESTIONS_1500 = dataclasses.replace(QUESTIONS, styled_benign=1500)
OLD_REDTEAM = Recipe(redteam_weight=1.0)
VERSION_2 = dataclasses.replace(VERSION_1, everyday_chat=VERSION_3.everyday_chat)
OPERATIONAL = dataclasses.replace(VERSION_2, hazards=3000)
OPERATIONAL_TENSE = dataclasses.replace(OPERATIONAL, hazard_tense=True)
CONTENT_ONLY = dataclasses.replace(VERSION_2, content_hazards=1500)
HAZARDS = dataclasses.replace(VERSION_3, broad_tense=False, benign_tense=0)
HAZARDS_DOUBLE = dataclasses.replace(HAZARDS, hazards=6000, content_hazards=3000)
BROAD_TENSE = dataclasses.replace(VERSION_3, benign_tense=0)
BENIGN_TENSE_200 = dataclasses.replace(VERSION_3, benign_tense=200)
BENIGN_TENSE_300 = dataclasses.replace(VERSION_3, benign_tense=300)
CIVIC = dataclasses.replace(VERSION_3, civic_hazards=1500)
CIVIC_3000 = dataclasses.replace(VERSION_3, civic_hazards=3000)
TASKS = dataclasses.replace(VERSION_3, task_hazards=1500)
CIVIC_TASKS = dataclasses.replace(VERSION_3, civic_hazards=1500, task_hazards=1500)
CIVIC_TASKS_2000 = dataclasses.replace(VERSION_3, civic_hazards=2000, task_hazards=2000)
NAMED_1000 = dataclasses.replace(VERSION_4, named_hazards=1000)
NAMED_2000 = dataclasses.replace(VERSION_4, named_hazards=2000)
CLAIMS_1000 = dataclasses.replace(VERSION_4, claim_hazards=1000)
NAMED_CLAIMS = dataclasses.replace(VERSION_4, named_hazards=1000, claim_hazards=1000)
V4_BENIGN_TENSE_200 = dataclasses.replace(VERSION_4, benign_tense=200)
WIDE_TENSE = dataclasses.replace(VERSION_5, wide_tense=True)
WIDE_TENSE_CLAIMS = dataclasses.replace(VERSION_5, wide_tense=True, claim_hazards=1000)
WIDE_TENSE_200 = dataclasses.replace(VERSION_5, wide_tense=True, benign_tense=200)
PUNCTUATED_HALF = dataclasses.replace(VERSION_4, nq_punctuated=0.5)
PUNCTUATED_ALL = dataclasses.replace(VERSION_4, nq_punctuated=1.0)
TYPED_QUESTIONS = dataclasses.replace(VERSION_5, typed_questions=True)
DNA_SCOPE = dataclasses.replace(VERSION_5, dna_scope=True)
EVERYDAY_1500 = dataclasses.replace(VERSION_5, everyday_messages=1500)
EVERYDAY = dataclasses.replace(VERSION_5, everyday_messages=3000)
EVERYDAY_DNA_SCOPE = dataclasses.replace(EVERYDAY, dna_scope=True)
EVERYDAY_TYPED = dataclasses.replace(EVERYDAY, typed_questions=True)
EVERYDAY_LOOKALIKES = dataclasses.replace(EVERYDAY, lookalikes=1500)
NO_REDTEAM = dataclasses.replace(VERSION_5, redteam_weight=0.0)
PASTFUTURE_200 = dataclasses.replace(EVERYDAY_WIDE, pastfuture=200)
PASTFUTURE_600 = dataclasses.replace(EVERYDAY_WIDE, pastfuture=600)
PASTFUTURE_1200 = dataclasses.replace(EVERYDAY_WIDE, pastfuture=1200)
SERVICE_300 = dataclasses.replace(VERSION_6, service_messages=300)
SERVICE_1000 = dataclasses.replace(VERSION_6, service_messages=1000)
GENERATED_LANGUAGES = dataclasses.replace(VERSION_7, multilingual=1.0)
HAND_WRITTEN_LANGUAGES = dataclasses.replace(VERSION_7, languages=3000)
BOTH_LANGUAGES = dataclasses.replace(VERSION_7, languages=3000, multilingual=1.0)
REQUESTS_WITH_TENSE = dataclasses.replace(VERSION_9, requests_tense=True)
MORE_REQUESTS = dataclasses.replace(VERSION_9, more_requests=3000)
TEXTS = dataclasses.replace(VERSION_9, texts=3000)
HOWTO = dataclasses.replace(VERSION_9, howto=3000, howto_future=True)
TEXTS_MORE = dataclasses.replace(VERSION_9, texts=3000, more_requests=3000)
HOWTO_FUTURE = dataclasses.replace(VERSION_10, howto_future=True)
MORE_TEXTS = dataclasses.replace(VERSION_10, more_texts=3000)
MORE_HOWTO = dataclasses.replace(VERSION_10, more_howto=3000)
SPECIALIST = dataclasses.replace(VERSION_11, specialist=0.5)
SPECIALIST_1 = dataclasses.replace(VERSION_11, specialist=1.0)
SPECIALIST_TENSE_1 = dataclasses.replace(VERSION_12, specialist=1.0)
EVERYDAY_HOWTO = dataclasses.replace(VERSION_13, harmful_howto=0)
WHY_REQUESTS = dataclasses.replace(VERSION_13, why_requests=3000)
WHY_REQUESTS_600 = dataclasses.replace(VERSION_13, why_requests=600)
FORMAT_TASKS = dataclasses.replace(VERSION_13, format_tasks=3000)
WHY_AND_FORMATS = dataclasses.replace(VERSION_13, why_requests=3000, format_tasks=3000)
ALL_HARMFUL_HOWTO = dataclasses.replace(VERSION_13, harmful_howto=1000)
CONTRAST_1200 = dataclasses.replace(VERSION_6, contrast=1200)
CONTRAST_ALL = dataclasses.replace(VERSION_6, contrast=1757)
NO_QUESTIONS = Recipe(styled_benign=1500, questions_recast=1200, harmful_questions=False)

Analyzer = Callable[[str], list[str]]
Variant = tuple[str, Recipe, Analyzer, float, int]  # label, recipe, features, C, n-grams kept
_UP_TO_VERSION_7: list[tuple[str, Recipe, Analyzer, float]] = [
    ("previous data, char+word, C=8", OLD, features, 8.0),
    ("styled data, char+word, C=8", STYLED, features, 8.0),
    ("styled data, char+word, C=2", STYLED, features, 2.0),
    ("styled data, word only, C=8", STYLED, words, 8.0),
    ("styled data, word only, C=2", STYLED, words, 2.0),
    ("styled data, char only, C=8", STYLED, chars, 8.0),
    ("styled data, NQ capped at 1500, char+word, C=8", STYLED_CAPPED, features, 8.0),
    ("styled data + red-team openings (weight 0.3), char+word, C=8", REDTEAM_03, features, 8.0),
    ("styled data + red-team openings (weight 1), char+word, C=8", REDTEAM_1, features, 8.0),
    ("styled data + red-team openings (weight 0.3), word only, C=8", REDTEAM_03, words, 8.0),
    ("styled data + red-team openings (weight 0.5), char+word, C=8", REDTEAM_05, features, 8.0),
    ("styled data + red-team openings (weight 0.5), char+word, C=16", REDTEAM_05, features, 16.0),
    ("styled data + red-team openings (weight 1), char+word, C=32", REDTEAM_1, features, 32.0),
    ("styled data + red-team openings (weight 1), char+word, C=2", REDTEAM_1, features, 2.0),
    ("previous data + red-team openings (weight 1), char+word, C=8", OLD_REDTEAM, features, 8.0),
    ("+ matched twins, char+word, C=16", TWINS, features, 16.0),
    ("+ matched twins + first-person, char+word, C=16", TWINS_FP, features, 16.0),
    ("+ matched twins + first-person, word only, C=16", TWINS_FP, words, 16.0),
    ("+ matched twins + first-person, 500 styled, char+word, C=16", TWINS_FP_FEWER, features, 16.0),
    ("+ benign first-person questions, char+word, C=16", QUESTIONS, features, 16.0),
    ("+ benign first-person questions, 1500 styled, char+word, C=16", QUESTIONS_1500, features, 16.0),
    ("+ benign first-person questions, word only, C=16", QUESTIONS, words, 16.0),
    ("+ short everyday messages + injections as negatives, char+word, C=16", VERSION_1, features, 16.0),
    ("+ everyday chat (version 2), char+word, C=16", VERSION_2, features, 16.0),
    ("version 2 data, char+word, C=2", VERSION_2, features, 2.0),
    ("+ operational hazards (3000 + twins), char+word, C=16", OPERATIONAL, features, 16.0),
    ("+ operational hazards, tense rewordings, char+word, C=16", OPERATIONAL_TENSE, features, 16.0),
    ("+ operational hazards, tense rewordings, char+word, C=2", OPERATIONAL_TENSE, features, 2.0),
    ("version 2 data + content hazards only (1500 + twins), char+word, C=2", CONTENT_ONLY, features, 2.0),
    ("+ operational and content hazards, char+word, C=16", HAZARDS, features, 16.0),
    ("+ operational and content hazards, char+word, C=8", HAZARDS, features, 8.0),
    ("+ operational and content hazards, char+word, C=4", HAZARDS, features, 4.0),
    ("+ operational and content hazards, char+word, C=2", HAZARDS, features, 2.0),
    ("+ operational and content hazards, word only, C=2", HAZARDS, words, 2.0),
    ("+ twice the hazards (6000 + 3000), char+word, C=2", HAZARDS_DOUBLE, features, 2.0),
    ("+ hazards, tense rewordings of every verb-led request, char+word, C=2", BROAD_TENSE, features, 2.0),
    ("+ hazards, broad tense, 100 harmless tense rewordings, C=2 (version 3)", VERSION_3, features, 2.0),
    ("+ hazards, broad tense, 200 harmless tense rewordings, C=2", BENIGN_TENSE_200, features, 2.0),
    ("+ hazards, broad tense, 300 harmless tense rewordings, C=2", BENIGN_TENSE_300, features, 2.0),
    ("+ civic hazards (1500 + twins), C=2", CIVIC, features, 2.0),
    ("+ civic hazards (3000 + twins), C=2", CIVIC_3000, features, 2.0),
    ("+ technical and edit-this tasks (1500 + twins), C=2", TASKS, features, 2.0),
    ("+ civic hazards and tasks (1500 + 1500, with twins), C=2", CIVIC_TASKS, features, 2.0),
    ("+ civic hazards and tasks (1500 + 1500, with twins), C=4", CIVIC_TASKS, features, 4.0),
    ("+ civic hazards and tasks (1000 + 1000, with twins), C=2 (version 4)", VERSION_4, features, 2.0),
    ("+ civic hazards and tasks (1000 + 1000, with twins), C=1", VERSION_4, features, 1.0),
    ("+ civic hazards and tasks (1000 + 1000, with twins), C=3", VERSION_4, features, 3.0),
    ("+ civic hazards and tasks (2000 + 2000, with twins), C=2", CIVIC_TASKS_2000, features, 2.0),
    ("version 4 + named hazards (1000 + twins), C=2", NAMED_1000, features, 2.0),
    ("version 4 + named hazards (2000 + twins), C=2", NAMED_2000, features, 2.0),
    ("version 4 + claims (1000 + twins), C=2", CLAIMS_1000, features, 2.0),
    ("version 4 + named hazards and claims (1000 + 1000, with twins), C=2", NAMED_CLAIMS, features, 2.0),
    ("version 4, 200 harmless tense rewordings, C=2", V4_BENIGN_TENSE_200, features, 2.0),
    ("version 4 + gerund phrasings of the hazard tables, C=2 (version 5)", VERSION_5, features, 2.0),
    ("version 5 + more past/future frames, C=2", WIDE_TENSE, features, 2.0),
    ("version 5 + more past/future frames, 200 harmless rewordings, C=2", WIDE_TENSE_200, features, 2.0),
    ("version 5 + more past/future frames + claims (1000 + twins), C=2", WIDE_TENSE_CLAIMS, features, 2.0),
    ("version 4, half the NQ questions punctuated, C=2", PUNCTUATED_HALF, features, 2.0),
    ("version 4, all NQ questions punctuated, C=2", PUNCTUATED_ALL, features, 2.0),
    ("version 5, every question typed with or without its '?', C=2", TYPED_QUESTIONS, features, 2.0),
    ("version 5, Do-Not-Answer's chatbot-limit rows left out, C=2", DNA_SCOPE, features, 2.0),
    ("version 5 without the red-team openings, C=2", NO_REDTEAM, features, 2.0),
    ("version 5 + 1,500 hand-written everyday messages, C=2", EVERYDAY_1500, features, 2.0),
    ("version 5 + 3,000 hand-written everyday messages, C=2", EVERYDAY, features, 2.0),
    (
        "version 5 + 3,000 everyday messages, chatbot-limit rows left out, C=2",
        EVERYDAY_DNA_SCOPE,
        features,
        2.0,
    ),
    ("version 5 + 3,000 everyday messages, questions typed either way, C=2", EVERYDAY_TYPED, features, 2.0),
    ("version 5 + 3,000 everyday messages + 1,500 look-alikes, C=2", EVERYDAY_LOOKALIKES, features, 2.0),
    ("version 5 + 3,000 everyday messages, more past/future frames, C=2", EVERYDAY_WIDE, features, 2.0),
    ("version 5 + 3,000 everyday messages, more past/future frames, C=1.5", EVERYDAY_WIDE, features, 1.5),
    ("+ claims (1000 + twins), C=1.5 (version 6)", VERSION_6, features, 1.5),
    ("everyday, wider frames + 200 harmless past/future questions, C=1.5", PASTFUTURE_200, features, 1.5),
    ("everyday, wider frames + 600 harmless past/future questions, C=1.5", PASTFUTURE_600, features, 1.5),
    ("everyday, wider frames + 1,200 harmless past/future questions, C=1.5", PASTFUTURE_1200, features, 1.5),
    ("version 6 + 300 customer-service messages, C=1.5", SERVICE_300, features, 1.5),
    ("version 6 + 1,000 customer-service messages, C=1.5", SERVICE_1000, features, 1.5),
    ("version 6 + 900 harmful-sounding prompts, C=1.5 (version 7)", VERSION_7, features, 1.5),
    ("version 6 + 1,200 harmful-sounding prompts and contrasts, C=1.5", CONTRAST_1200, features, 1.5),
    ("version 6 + all 1,757 harmful-sounding prompts and contrasts, C=1.5", CONTRAST_ALL, features, 1.5),
    ("styled data without harmful questions, char+word, C=8", NO_QUESTIONS, features, 8.0),
]


def _since_version_7(label: str, recipe: Recipe, ngrams: int = 60000) -> Variant:
    """A variant of version 7 or later: character and word n-grams, C=1.5."""
    return (label, recipe, features, 1.5, ngrams)


# Every variant up to version 7 kept 40,000 n-grams; French, German and Spanish need room of their own.
VARIANTS: list[Variant] = [(*v, 40000) for v in _UP_TO_VERSION_7] + [
    _since_version_7("version 7, 60,000 n-grams, C=1.5", VERSION_7),
    _since_version_7("version 7 + generated FR/DE/ES prompts, C=1.5", GENERATED_LANGUAGES, 40000),
    _since_version_7("version 7 + hand-written FR/DE/ES prompts, C=1.5", HAND_WRITTEN_LANGUAGES, 40000),
    _since_version_7("version 7 + generated and hand-written FR/DE/ES, C=1.5", BOTH_LANGUAGES, 40000),
    _since_version_7(
        "version 7 + generated and hand-written FR/DE/ES, 60,000 n-grams, C=1.5 (version 8)", VERSION_8
    ),
    _since_version_7(
        "version 8 + hand-written English requests with their harmless past/future rows, C=1.5",
        REQUESTS_WITH_TENSE,
    ),
    _since_version_7("version 8 + hand-written English requests, C=1.5 (version 9)", VERSION_9),
    _since_version_7("version 9 + a second round of English requests, C=1.5", MORE_REQUESTS),
    _since_version_7("version 9 + requests on texts, C=1.5", TEXTS),
    _since_version_7("version 9 + how-to questions in all three frames, C=1.5", HOWTO),
    _since_version_7("version 9 + requests on texts + second round, C=1.5", TEXTS_MORE),
    _since_version_7("version 9 + texts + second round + all how-to questions, C=1.5", HOWTO_FUTURE),
    _since_version_7(
        "version 9 + texts + second round + present/past how-to, C=1.5 (version 10)", VERSION_10
    ),
    _since_version_7("version 10 + texts, second round, C=1.5", MORE_TEXTS),
    _since_version_7("version 10 + how-to, second round, C=1.5", MORE_HOWTO),
    _since_version_7("version 10 + texts and how-to, second rounds, C=1.5 (version 11)", VERSION_11),
    _since_version_7("version 11 + specialist at weight 0.5", SPECIALIST),
    _since_version_7("version 11 + specialist at weight 1", SPECIALIST_1),
    _since_version_7("version 11 + specialist with past/future questions at weight 1", SPECIALIST_TENSE_1),
    _since_version_7(
        "version 11 + specialist with past/future questions at weight 0.5 (version 12)", VERSION_12
    ),
    _since_version_7("version 12 + harmless how-to questions in request frames", EVERYDAY_HOWTO),
    _since_version_7("version 12 + harmless and all 711 harmful how-to questions", ALL_HARMFUL_HOWTO),
    _since_version_7(
        "version 12 + harmless and 300 harmful how-to questions in request frames (version 13)",
        VERSION_13,
    ),
    _since_version_7("version 13 + 600 rows of requests in why frames", WHY_REQUESTS_600),
    _since_version_7("version 13 + requests in why frames", WHY_REQUESTS),
    _since_version_7("version 13 + harmless tasks in format frames", FORMAT_TASKS),
    _since_version_7(
        "version 13 + requests in why frames + harmless tasks in format frames", WHY_AND_FORMATS
    ),
    _since_version_7(
        "version 13 + requests in why frames + format tasks, in English, French, German, Spanish"
        " (version 14)",
        VERSION_14,
    ),
    _since_version_7("version 14 + requests for offensive content (version 15)", VERSION_15),
    _since_version_7(
        "version 15 + a second round of French, German, Spanish requests (version 16)", VERSION_16
    ),
    _since_version_7("version 16 + a word regression at weight 1, C=1", WORDS_C1),
    _since_version_7("version 16 + a word regression at weight 1, C=1.5", WORDS_C15),
    _since_version_7("version 16 + a word regression at weight 1, C=2 (version 17)", VERSION_17),
    _since_version_7("version 17 + requests for excerpts of copyrighted works (version 18)", VERSION_18),
    _since_version_7(
        "version 18 + a bigram regression with harmless past/future questions at weight 0.5 (version 19)",
        VERSION_19,
    ),
    _since_version_7(
        "version 18 + a bigram regression with harmless past/future questions at weight 1", BIGRAMS_1
    ),
    _since_version_7(
        "version 19, word regression fitted with harmless past/future questions, C=2", WORDS_PASTFUTURE
    ),
    _since_version_7(
        "version 19, word regression fitted with harmless past/future questions, C=1", WORDS_PASTFUTURE_C1
    ),
    _since_version_7("version 19, 90,000 n-grams in the first regression", VERSION_19, 90000),
    _since_version_7("version 19, 120,000 n-grams in the first regression", VERSION_19, 120000),
    _since_version_7("version 19 + requests in future and speculative frames", FUTURES),
    _since_version_7(
        "version 19, future and speculative frames in the bigram regression only", FUTURES_BIGRAMS
    ),
    _since_version_7(
        "version 19 + future and speculative frames, in the bigram regression too", FUTURES_BOTH
    ),
    _since_version_7("version 19 + 1,000 customer-service messages", SERVICE_V19),
    _since_version_7(
        "version 19 + customer-service messages, past/future questions and look-alikes as negatives",
        CONVERSATIONAL_24,
    ),
    _since_version_7("conversational + harmless fragments (conversational 25)", CONVERSATIONAL_25),
    _since_version_7("conversational 25 + how-to questions in polite frames (conversational 26, shipped)",
                     data.CONVERSATIONAL_RECIPE),
    _since_version_7("conversational, without the red-team openings", CONVERSATIONAL_NO_REDTEAM),
    _since_version_7("version 19, everyday how-to questions weighted 2", HOWTO_WEIGHT_2),
    _since_version_7("version 19, everyday how-to questions weighted 3", HOWTO_WEIGHT_3),
    _since_version_7("version 19, everyday how-to questions weighted 5", HOWTO_WEIGHT_5),
    _since_version_7("version 19, everyday how-to questions weighted 8", HOWTO_WEIGHT_8),
    _since_version_7("conversational, everyday how-to questions weighted 3", CONVERSATIONAL_HOWTO_3),
    _since_version_7(
        "version 19, everyday how-to questions weighted 5 and everyday messages 2", HOWTO_5_EVERYDAY_2
    ),

    _since_version_7("version 21 (version 19's recipe)", VERSION_19),
    _since_version_7("version 21 + persuasive false claims and scam content (requests_claims)", V21_CLAIMS),
    _since_version_7("version 21 + requests naming a specific hazard (requests_named)", V21_NAMED),
    _since_version_7("version 21 + attack code and payloads (requests_code)", V21_CODE),
    _since_version_7("version 21 + requests_claims + requests_code (version 22)", V21_CLAIMS_CODE),
    _since_version_7("version 22 + harmless fragments (version 25)", V25_FRAGMENTS),
    _since_version_7("version 25 + how-to questions asked again in polite frames (version 26, shipped)",
                     V25_POLITE),
    _since_version_7("version 26 + reframed requests beside harmless twins in their frames", REFRAMED),
    _since_version_7("version 21 + requests_claims + requests_persuasion + requests_code", V21_CLAIMS_BOTH),
    _since_version_7("version 20, the specialist at weight 0.75", V20_SPECIALIST_075),
    _since_version_7("version 20, the specialist at weight 1", V20_SPECIALIST_1),
    _since_version_7("version 19 + a skip-pair regression at weight 0.5", SKIP_PAIRS_05),
    _since_version_7("version 19 + a skip-pair regression at weight 1", SKIP_PAIRS_1),
]


# All-benign hand-written sets whose flagged share each variant reports (evaluation only).
BENIGN_SETS = {
    "harmless past/future questions": checkset.TENSE_PATH,
    "held-out everyday messages": checkset.HELDOUT_PATH,
    "customer-service messages": checkset.SERVICE_PATH,
    "everyday how-to questions": checkset.HOWTO_EVERYDAY_PATH,
}


def recall(examples: Sequence[data.Example], scores: Sequence[float], threshold: float) -> float:
    """Recall on the dev harmful_request rows at a threshold."""
    hits = [
        s >= threshold
        for e, s in zip(examples, scores, strict=True)
        if e.label and e.group.startswith("harmful_request/")
    ]
    return sum(hits) / len(hits)


def pct(x: float) -> str:
    """A rate as a percentage with one decimal."""
    return f"{100 * x:.1f}"


# Two-label hand-written sets whose FP and recall each variant reports (evaluation only).
LABELLED_SETS: dict[str, Callable[[], list[checkset.CheckRow]]] = {
    "check": checkset.rows,
    "harmful-sounding words": functools.partial(checkset.rows, checkset.CONTRAST_PATH),
    "FR/DE/ES": checkset.language_rows,
    "FR/DE/ES, second set": functools.partial(checkset.language_rows, checkset.LANGUAGES_B_DIR),
    "requests on texts": functools.partial(checkset.rows, checkset.TEXTS_PATH),
    "how-to questions": functools.partial(checkset.rows, checkset.HOWTO_PATH),
    "conduct": functools.partial(checkset.rows, checkset.CONDUCT_PATH),
    "why frames": functools.partial(checkset.rows, checkset.WHY_PATH),
    "offensive content": functools.partial(checkset.rows, checkset.OFFENSIVE_PATH),
    "excerpts": functools.partial(checkset.rows, checkset.EXCERPTS_PATH),
    "future frames": functools.partial(checkset.rows, checkset.FUTURES_PATH),
    "hazards in everyday frames": frame_probes.rows,
    "hazards in tense frames": frame_probes.tense_rows,
}


def main(argv: list[str]) -> int:
    """`python -m training.compare [--seed N] [SUBSTRING ...]`: the variants whose label contains
    one of the substrings (all without any), their generated data drawn with seed N (default 13)."""
    seed = 13
    if argv[:1] == ["--seed"]:
        seed, argv = int(argv[1]), argv[2:]
    chosen = [v for v in VARIANTS if not argv or any(a in v[0] for a in argv)]
    at_point = " | ".join(f"{name} FP / recall at that point" for name in LABELLED_SETS)
    print(
        f"| variant | dev recall (both budgets) | {at_point} "
        f"| dev recall (benign budget only) | {at_point} | "
        + " | ".join(f"{name} AUC" for name in LABELLED_SETS)
        + " | "
        + " | ".join(f"{name} flagged (both / benign only)" for name in BENIGN_SETS)
        + " | fit s |"
    )
    print("|---|" + "---|" * (2 + 3 * len(LABELLED_SETS) + len(BENIGN_SETS)) + "---|")
    dev = data.build("harmful_request", "dev")
    labelled = [load() for load in LABELLED_SETS.values()]
    benign_sets = [[r.text for r in checkset.rows(path)] for path in BENIGN_SETS.values()]
    for label, recipe, analyzer, c, ngrams in chosen:
        started = time.perf_counter()
        train = data.build("harmful_request", "train", seed, recipe=recipe)
        parts = fit_parts(train, recipe, seed, c=c, max_features=ngrams, analyzer=analyzer)
        score = functools.partial(parts_scores, parts)
        dev_scores = score([e.text for e in dev])
        labelled_scores = [score([r.text for r in rows]) for rows in labelled]
        benign_scores = [score(texts) for texts in benign_sets]
        cells: list[str] = []
        flagged: list[list[str]] = [[] for _ in benign_sets]
        for only in ("", "benign/"):
            threshold = evaluate.tune_threshold("harmful_request", dev, dev_scores, only=only)
            cells.append(pct(recall(dev, dev_scores, threshold)))
            for rows, scores in zip(labelled, labelled_scores, strict=True):
                fig = checkset.figures(scores, threshold, rows)
                cells.append(f"{pct(float(fig['fp_rate']))} / {pct(float(fig['recall']))}")  # type: ignore[arg-type]
            for shares, scores in zip(flagged, benign_scores, strict=True):
                shares.append(pct(checkset.flagged_share(scores, threshold)))
        cells += [
            f"{checkset.auc(scores, rows):.3f}"
            for rows, scores in zip(labelled, labelled_scores, strict=True)
        ]
        cells += [" / ".join(shares) for shares in flagged]
        print(f"| {label} | {' | '.join(cells)} | {time.perf_counter() - started:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
