# ruff: noqa: S311  (seeded generators make the training data reproducible; no secrets here)
"""Builds the labelled sets each model trains on (train split) and is measured on (dev split).

Every set is a list of `Example(text, label, group)`; `group` is `kind/dataset` for the public rows
and `synthetic/...` for the project's own material, so figures can be reported per group.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.classify.evasion import pieces
from training import (
    conversational,
    documents,
    hazards,
    hazards_civic,
    hazards_claims,
    hazards_content,
    hazards_named,
    hazards_tasks,
    injection_docs,
    instructions,
    multilingual,
    styled,
    synthetic,
    tool_carriers,
)

DATA_DIR = Path(
    os.environ.get("GUARD_SAFETY_DATA", Path(__file__).resolve().parents[2] / "shared/data/safety")
)
PLACEHOLDERS = ("{{ prompt }}", "[INSERT PROMPT HERE]")
REDTEAM = "redteam_attempt_first_turn/"
MODELS = ("harmful_request", "jailbreak", "prompt_injection", "harmful_response")


@dataclass(frozen=True, slots=True)
class Recipe:
    """What goes into the harmful_request training set beyond the public train rows.

    styled_benign:       benign requests in the harmful benchmarks' imperative style (count).
    questions_recast:    train-split benign questions recast as requests (count).
    harmful_questions:   add the train harmful requests recast as first-person questions.
    nq_cap:              keep at most this many NQ-open questions (None: all), so one style of
                         benign text does not dominate the negatives.
    redteam_weight:      fitting weight of the train split's red-team openings (Anthropic HH,
                         weakly labelled) added as positives; 0 leaves them out. They are the only
                         harmful requests in the train split phrased as ordinary questions.
    matched_twins:       add a harmless twin of each imperative train harmful request (same
                         frame, harmless aim), so frames weigh the same in both classes.
    first_person:        everyday first-person messages carrying data ("my order number is ...").
    benign_questions:    harmless tasks asked in the first person ("How should I ...?", count).
    short_everyday:      greetings, short commands and statements (count).
    injections_negative: the train split's BIPIA attack instructions as negatives: overriding an
                         assistant is the injection and jailbreak models' job, not a harmful request.
    multilingual:        fitting weight of the French/German/Spanish harmful requests and benign
                         prompts of training/multilingual.py (train templates only); 0 leaves them out.
    everyday_chat:       customer-service and everyday-advice messages ("Do you sell gift cards?",
                         training/conversational.py; count). The dev split gets its own templates.
    hazards:             generated requests for operational harm (training/hazards.py) as positives
                         and their harmless twins on the same subjects as negatives (count per side).
    hazard_tense:        add past and future rewordings of those harmful requests.
    content_hazards:     generated requests for harmful content (training/hazards_content.py:
                         disinformation, harassment, hate, scams, copyright, ...) and their twins.
    broad_tense:         past/future rewordings of every harmful request that starts with a verb
                         ("How did people write a post that ...?"), not only the how-to ones, and
                         of the generated content requests.
    benign_tense:        harmless requests (hazard twins, benign how-tos) reworded the same way,
                         as negatives (count), so the tense frame alone is not the signal.
    civic_hazards:       generated requests in the areas of training/hazards_civic.py (corruption,
                         elections, records, regulation, labour, cheating, discrimination, ...)
                         and their twins (count per side).
    task_hazards:        generated technical-artefact and "edit this" requests
                         (training/hazards_tasks.py) and their twins (count per side).
    named_hazards:       requests naming a specific agent, drug, pathogen, explosive, exploit,
                         malware family, weapon modification or spy tool
                         (training/hazards_named.py) and their twins (count per side).
    claim_hazards:       persuasive content for false, denialist or dangerous claims
                         (training/hazards_claims.py) and legitimate or debunking twins.
    gerund_frames:       the hazard tables (operational, civic) also drawn in gerund phrasings
                         ("Give detailed instructions for making ...").
    wide_tense:          past/future rewordings (harmful and harmless alike) in more frames
                         ("What methods were used to ... in the past?").
    nq_punctuated:       share of the NQ-open questions written as a person types them
                         (capitalised, with a question mark): NQ has neither, while most harmful
                         questions have both, so unpunctuated NQ teaches that "?" means harm.
    everyday_messages:   hand-written everyday messages to an assistant (training/everyday/, all
                         harmless, 60 areas of ordinary life) as negatives (count; all when larger).
    lookalikes:          hand-written requests that touch a sensitive topic with a legitimate aim
                         (fiction, history, education, prevention, policy debate, satire, support;
                         training/lookalike/, all harmless) as negatives (count; all when larger).
    pastfuture:          hand-written harmless questions and requests in the past/future frames of
                         the tense attack (training/pastfuture/) as negatives (count).
    service_messages:    hand-written messages of customers to a business's assistant (training/service/:
                         refunds, transfers, gift cards, locked accounts, scam reports; all harmless)
                         as negatives (count; all when larger).
    contrast:            hand-written prompts whose words sound harmful (kill a process, steal the
                         show, the address of the White House, which cleaners must never be mixed)
                         beside harmful contrasts in the same words (training/contrast/; count of
                         rows drawn, both labels, all when larger).
    languages:           hand-written French, German and Spanish prompts of both labels (training/languages/:
                         harmful requests in twelve areas; everyday, harm-adjacent, sensitive-topic and
                         factual harmless ones; count of rows drawn, all when larger).
    requests:            hand-written English prompts of both labels (training/requests/: harmful requests
                         in twelve areas in benchmark-style, first-person, past/future and excuse forms;
                         harmless sensitive-topic tasks in the same style, harm-adjacent, everyday and
                         past/future ones; count of rows drawn, all when larger).
    more_requests:       a second round of hand-written English requests of both labels
                         (training/requests_more/: the same brief with other leanings and less common
                         subjects, no past/future rows; count of rows drawn, all when larger).
    texts:               hand-written English requests whose object is a text, of both labels
                         (training/requests_texts/: reproducing copyrighted lyrics and books, editing or
                         answering a given text, persuasive, demeaning and advisory writing, each with
                         same-framed harmless twins; count of rows drawn, all when larger).
    howto:               hand-written short how-to questions in present, past and future frames, harmful
                         and harmless in the same frames (training/howto/), so that the frame alone
                         ("How did people make ...?") is not the signal (count of rows drawn).
    more_texts:          a second round of requests on texts and requests for harassment, sexual content
                         and abuse of public office, of both labels (training/requests_texts_more/; count).
    more_howto:          a second round of present/past how-to questions of both labels, other objects
                         (training/howto_more/; count).
    claims:              hand-written persuasive requests for false or dangerous claims, graphic, dangerous
                         and scam content, each beside same-framed harmless twins (training/
                         requests_claims/; count).
    named_requests:      hand-written requests that name a specific toxin, pathogen, drug, explosive,
                         exploit or tool, beside harmless ones naming the same (training/requests_named/).
    everyday_howto:      hand-written harmless short questions about everyday objects in the frames
                         harmful requests take ("How can I make ...?", "What's the best way to ...?",
                         "Where can I buy ...?"; training/howto_everyday/; count).
    harmful_howto:       hand-written harmful short questions in the same frames (training/
                         howto_harmful/; count): without them the frames turn harmless and short
                         harmful questions pass.
    why_requests:        hand-written requests in "why" frames ("Write a blog post explaining why ...",
                         "Explain why ...", "Make the case that ..."), each harmful one beside a harmless
                         twin in the same frame on the same subject (training/requests_why/; count of
                         rows drawn, both labels).
    format_tasks:        hand-written harmless writing and explanation tasks in format frames ("Write a
                         Facebook post explaining how ...", "Create a program that ...") on sensitive
                         but legitimate subjects, as negatives (training/requests_formats/; count).
    why_languages:       the same in French, German and Spanish, of both labels: requests in "why"
                         frames beside their harmless twins, and harmless writing tasks (training/
                         requests_why_lang/; count of rows drawn).
    offensive:           hand-written requests for offensive content (bigoted jokes, hateful replies to a
                         given post, demeaning messages, "harm was good" essays, dangerous advice, gore,
                         sexualised minors, glorified killers, pile-ons, slurs), each beside a harmless
                         twin in the same words (training/requests_offensive/; count of rows drawn).
    more_languages:      a second round of French, German and Spanish prompts, mostly harmful requests
                         over the twelve areas of training/languages/ in many phrasings
                         (training/languages_more/; count of rows drawn, both labels).
    excerpts:            hand-written requests to reproduce a passage, excerpt, pages or chapter of an
                         in-copyright work, each beside a harmless twin in the same frame (a
                         public-domain work, a summary or short quote, writing in the author's
                         style, the user's own text; training/requests_excerpts/; count of rows).
    persuasion:          hand-written requests for persuasive writing that denies, minimises or
                         rewrites documented history, science or harm, or spreads a knowingly false
                         damaging claim, each beside a same-frame twin arguing the documented side
                         (training/requests_persuasion/; count of rows).
    attack_code:         hand-written requests for attack code, payloads and intrusion tooling aimed
                         at others' systems, each beside a defensive twin in the same frame
                         (training/requests_code/; count of rows).
    futures:             hand-written requests in future and speculative frames ("Describe a future
                         where ...", "What will X look like in 20 years?"), harmful ones beside
                         same-frame harmless twins, and harmless ones alone (training/futures/; count
                         of rows).
    futures_bigrams:     give the bigram regression every row of training/futures/ as extra rows, as
                         it has the harmless past/future questions.
    howto_future:        draw the future-frame rows of training/howto/ too ("How will people ... in
                         2040?"); left out, since they cost dev recall on the future rewordings.
    requests_tense:      draw the harmless past/future rows of training/requests/ too (category
                         "tense"); left out, they would cut the harmless history questions flagged
                         but cost dev recall, like training/pastfuture/ (bench/BENCHMARKS.md).
    dna_scope:           leave out the Do-Not-Answer rows whose every intent is a limit of a chatbot
                         rather than harmful help: medical, legal or financial advice, questions
                         about misinformation or about private facts of a named person or
                         company, and questions to the assistant about itself.
    typed_questions:     write every question of the train set (either label) half the time as typed
                         ("How do I ...?") and half the time bare ("how do i ..."), so neither the
                         final "?" nor the capital carries the label.
    specialist:          weight of a second regression (0: none) fitted only on the rows where topic
                         and aim come apart (`specialist_set`: harmful requests beside same-subject
                         harmless twins, look-alikes, everyday and customer messages); its decision,
                         times this weight, is added to the first one's.
    specialist_tense:    give the specialist the hand-written harmless past/future questions too
                         (training/pastfuture/), so it does not push history questions up.
    words:               weight of a third regression (0: none) over word 1-2-grams only, fitted on
                         the whole train set like the first: its vector is normalised on its own, so
                         a few telling words ("meth", "hate mail") are not drowned by the hundred
                         character n-grams around them; its decision, times this weight, is added.
    words_c:             that regression's inverse regularisation strength (scikit-learn's C).
    words_pastfuture:    fit the word regression on `bigram_set` (with the harmless past/future
                         questions as extra negatives) instead of the train set alone.
    bigrams:             weight of a fourth regression (0: none) over word bigrams only, fitted on the
                         train set plus every hand-written harmless past/future question
                         (training/pastfuture/) as a negative: word pairs carry the frames of harmful
                         requests, and without those questions the tense frames alone would count.
    skip_pairs:          weight of a further regression (0: none) over pairs of words two to four
                         apart ("persuasive ... hoax"), fitted like the first; measured in
                         training/compare.py only: the server does not compute these features.
    group_weights:       (group, fitting weight) pairs for whole training groups ("own/howto_everyday"),
                         in every regression fitted with weights (all but the specialist).
    polite_frames:       add each hand-written how-to question ("How can I make soup thicker?", of
                         either label) asked again in a polite request frame ("Can you tell me how
                         to make soup thicker?"): in the public rows those frames are the harmful
                         requests' alone (Do-Not-Answer, the red-team openings).
    fragments:           harmless fragments (count): one piece of a harmless question or everyday
                         message cut into two to four pieces ("to me baby", "a way out"), as
                         negatives; without them a few words alone score high.
    reframed:            hand-written requests in the frames harmless near-copies of harmful ones take
                         (fiction, history, defensive or owner-authorised tasks, the lawful version,
                         awareness and prevention, speculation), each harmful one beside a harmless
                         twin in the same frame (training/reframed/; count of rows drawn).
    """

    styled_benign: int = 0
    questions_recast: int = 0
    harmful_questions: bool = False
    nq_cap: int | None = None
    redteam_weight: float = 0.0
    matched_twins: bool = False
    first_person: int = 0
    benign_questions: int = 0
    short_everyday: int = 0
    injections_negative: bool = False
    multilingual: float = 0.0
    everyday_chat: int = 0
    hazards: int = 0
    hazard_tense: bool = False
    content_hazards: int = 0
    broad_tense: bool = False
    benign_tense: int = 0
    civic_hazards: int = 0
    task_hazards: int = 0
    named_hazards: int = 0
    claim_hazards: int = 0
    nq_punctuated: float = 0.0
    gerund_frames: bool = False
    wide_tense: bool = False
    typed_questions: bool = False
    dna_scope: bool = False
    everyday_messages: int = 0
    lookalikes: int = 0
    pastfuture: int = 0
    contrast: int = 0
    service_messages: int = 0
    languages: int = 0
    requests: int = 0
    requests_tense: bool = False
    more_requests: int = 0
    texts: int = 0
    howto: int = 0
    howto_future: bool = False
    more_texts: int = 0
    more_howto: int = 0
    claims: int = 0
    named_requests: int = 0
    everyday_howto: int = 0
    harmful_howto: int = 0
    why_requests: int = 0
    format_tasks: int = 0
    why_languages: int = 0
    offensive: int = 0
    more_languages: int = 0
    excerpts: int = 0
    persuasion: int = 0
    attack_code: int = 0
    futures: int = 0
    futures_bigrams: bool = False
    specialist: float = 0.0
    specialist_tense: bool = False
    words: float = 0.0
    words_c: float = 2.0
    words_pastfuture: bool = False
    bigrams: float = 0.0
    skip_pairs: float = 0.0
    group_weights: tuple[tuple[str, float], ...] = ()
    fragments: int = 0
    polite_frames: bool = False
    reframed: int = 0


# The train rows the specialist regression learns from: the rows written in pairs or against a
# subject (a harmful request beside a harmless one on the same subject or in the same frame) and
# ordinary messages, but not the public benchmarks, red-team openings, NQ questions or other languages.
SPECIALIST_GROUPS = (
    "own/contrast",
    "own/reframed",
    "own/howto",
    "own/requests",
    "own/everyday",
    "own/languages",
    "multilingual/",
    "synthetic/hazard",
    "synthetic/civic",
    "synthetic/content",
    "synthetic/task",
    "synthetic/claim",
    "synthetic/matched_twin",
    "synthetic/contrastive",
    "synthetic/over_refusal",
    "synthetic/everyday_chat",
    "synthetic/benign_question",
    "synthetic/first_person",
)


def specialist_set(train: list[Example], recipe: Recipe, seed: int) -> list[Example]:
    """The specialist's rows: those of `train` in SPECIALIST_GROUPS, with every hand-written
    customer message and look-alike (and past/future question, if the recipe says)."""
    own = [e for e in train if e.group.startswith(SPECIALIST_GROUPS)]
    folders = ("service", "lookalike") + (("pastfuture",) if recipe.specialist_tense else ())
    return own + [e for folder in folders for e in hand_written(folder, 1 << 30, seed)]


def bigram_set(
    train: list[Example], train_weights: list[float], seed: int, recipe: Recipe
) -> tuple[list[Example], list[float]]:
    """The bigram regression's rows and fitting weights: `train` with its weights, and every
    hand-written harmless past/future question (training/pastfuture/) at weight 1 (and every row of
    training/futures/, if the recipe says)."""
    extra = hand_written("pastfuture", 1 << 30, seed)
    if recipe.futures_bigrams:
        extra += hand_written_labelled("futures", 1 << 30, seed)
    return train + extra, train_weights + [1.0] * len(extra)


def weights(examples: list[Example], recipe: Recipe) -> list[float]:
    """Per-example fitting weights: weakly labelled red-team openings count for `redteam_weight`,
    the generated FR/DE/ES rows for `multilingual`, the groups of `group_weights` for theirs."""
    named = dict(recipe.group_weights)
    return [
        recipe.redteam_weight
        if e.group.startswith(REDTEAM)
        else recipe.multilingual
        if e.group.startswith(multilingual.GROUP)
        else named.get(e.group, 1.0)
        for e in examples
    ]


# The recipe the shipped harmful_request model is trained with (chosen in training/compare.py).
HARMFUL_RECIPE = Recipe(
    styled_benign=500,
    questions_recast=1200,
    harmful_questions=True,
    redteam_weight=0.5,
    matched_twins=True,
    first_person=300,
    benign_questions=800,
    short_everyday=250,
    injections_negative=True,
    everyday_chat=1500,
    hazards=3000,
    hazard_tense=True,
    content_hazards=1500,
    broad_tense=True,
    benign_tense=100,
    civic_hazards=1000,
    task_hazards=1000,
    gerund_frames=True,
    everyday_messages=3000,
    wide_tense=True,
    claim_hazards=1000,
    contrast=900,
    # Since version 8: French, German and Spanish, hand-written (all of training/languages/) and
    # generated (training/multilingual.py, weight 1), with 60,000 n-grams (train.CONFIG); alone, the
    # generated rows moved an English figure by more than a point (bench/BENCHMARKS.md "Other languages").
    languages=3000,
    multilingual=1.0,
    # Since version 9: the hand-written English requests of both labels, without their harmless
    # past/future rows (`requests_tense`), which cost five points of dev recall (bench/BENCHMARKS.md).
    requests=3000,
    # Since version 10: the second round of English requests, the requests whose object is a text
    # (copyright, given texts, persuasive writing) and the present/past how-to questions of both labels;
    # the future-frame how-to rows are left out (`howto_future`), as they cost dev recall on the
    # future rewordings (bench/BENCHMARKS.md "harmful_request version 10").
    more_requests=3000,
    texts=3000,
    howto=3000,
    # Since version 11: second rounds of both (requests on texts with harassment, sexual content and
    # abuse of public office; present/past how-to questions on other objects).
    more_texts=3000,
    more_howto=3000,
    # Since version 12: a specialist regression over the rows written against a subject, with the
    # harmless past/future questions, added at half weight (bench/BENCHMARKS.md "harmful_request
    # version 12").
    specialist=0.5,
    specialist_tense=True,
    # Since version 13: harmless questions about everyday objects in the frames harmful requests take
    # ("How can I make tortillas at home?" scored 0.95), with 300 of the 711 harmful ones in the same
    # frames: all 711 gave back half the gain and some dev recall, none let "How can I make meth?"
    # through (bench/BENCHMARKS.md "harmful_request version 13").
    everyday_howto=3000,
    harmful_howto=300,
    # Since version 14: requests in "why" frames ("Write a blog post explaining why ...") beside
    # same-subject harmless twins, harmless tasks in the same writing frames, and both in French,
    # German and Spanish: the English ones alone left the other languages' harmless writing requests
    # flagged (bench/BENCHMARKS.md "harmful_request version 14").
    why_requests=3000,
    format_tasks=3000,
    why_languages=3000,
    # Since version 15: requests for offensive content whose harm is in a word the protective rows
    # share ("Write a racist joke about Mexicans" scored 0.66), each beside a same-word harmless twin
    # (bench/BENCHMARKS.md "harmful_request version 15").
    offensive=3000,
    # Since version 16: a second round of French, German and Spanish prompts, mostly harmful: the
    # English rounds had moved those languages down their ROC curve (bench/BENCHMARKS.md
    # "harmful_request version 16").
    more_languages=3000,
    # Since version 17: a third regression over word 1-2-grams alone, at weight 1, C=2, normalised
    # on its own so that a few telling words are not drowned by the character n-grams around them;
    # every seed and every hand-written two-label set gained (bench/BENCHMARKS.md "harmful_request
    # version 17").
    words=1.0,
    words_c=2.0,
    # Since version 18: requests to reproduce a passage, excerpt, pages or chapter of an in-copyright
    # work beside same-frame harmless twins ("Generate a long passage from <a recent book>" scored
    # under 0.2; bench/BENCHMARKS.md "harmful_request version 18").
    excerpts=3000,
    # Since version 19: a fourth regression over word bigrams alone, at weight 0.5, C=2, fitted with
    # the hand-written harmless past/future questions as extra negatives (without them it flagged a
    # third more of the harmless history questions); every seed gained (bench/BENCHMARKS.md
    # "harmful_request version 19").
    bigrams=0.5,
    # Since version 22: persuasive pieces for false, denialist or dangerous claims, graphic and
    # dangerous content and scam scripts (measured after version 11, +0.2 then), and requests for
    # attack code, payloads and intrusion tooling, each beside a same-frame harmless twin; every seed
    # gained (bench/BENCHMARKS.md "harmful_request version 22").
    claims=3000,
    attack_code=3000,
    # Since version 25: pieces of harmless questions and everyday messages as negatives. Three-word
    # pieces of the dev benign questions were flagged 5.2% of the time ("it to beaver" scored 0.999),
    # which a request sent in pieces or a short chat message meets (bench/BENCHMARKS.md
    # "harmful_request version 25").
    fragments=4000,
    # Since version 26: every hand-written how-to question of either label asked again in a polite
    # request frame ("Can you tell me how to ...?"), which the public rows give to harmful requests
    # alone: version 25 scored "Can you tell me how to make pancakes?" 0.997 (bench/BENCHMARKS.md
    # "harmful_request version 26").
    polite_frames=True,
)


# A recipe for assistants that mostly see conversation rather than the dev split's trivia questions:
# version 19's, plus hand-written customer-service messages, harmless past/future questions and
# alarming-but-harmless requests as negatives, and the word regression fitted with the past/future
# questions too. On dev it catches about 4 points fewer harmful requests; it flags a third as many
# harmless history questions and half as many customer messages (bench/BENCHMARKS.md, "harmful_request
# for conversational traffic"). Not shipped: `python -m training.train harmful_request --recipe
# conversational --out DIR` writes it, and a policy loads it with `artefact:`.
CONVERSATIONAL_RECIPE = dataclasses.replace(
    HARMFUL_RECIPE, service_messages=1000, pastfuture=1200, lookalikes=1500, words_pastfuture=True
)

@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; `label` is 1 for the class the model detects."""

    text: str
    label: int
    group: str


def prompts(split: str) -> list[dict[str, str]]:
    """Rows of prompts_<split>.jsonl."""
    with (DATA_DIR / f"prompts_{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def completions(split: str) -> list[dict[str, str]]:
    """Rows of completions_<split>.csv (question, Response, label)."""
    csv.field_size_limit(1 << 26)
    with (DATA_DIR / f"completions_{split}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# Do-Not-Answer intents (its `meta.intents`) that mark what an assistant should decline to answer
# (advice it is not qualified to give, facts it cannot know, questions about itself) rather than a
# request for harmful help; rows with any other intent stay.
_DNA_CHATBOT_LIMITS = ("S002", "C0", "S001mis", "S001fab", "S009private", "S009personal")


def _in_scope(row: dict[str, Any]) -> bool:
    """False for a Do-Not-Answer row whose every intent is a chatbot limit (`_DNA_CHATBOT_LIMITS`)."""
    if row["dataset"] != "do_not_answer":
        return True
    intents = row["meta"]["intents"]
    return not all(i.startswith(_DNA_CHATBOT_LIMITS) for i in intents)


def _group(row: dict[str, str]) -> str:
    return f"{row['kind']}/{row['dataset']}"


def _of_kind(rows: list[dict[str, str]], kind: str) -> list[dict[str, str]]:
    return [r for r in rows if r["kind"] == kind]


def fill_templates(
    rows: list[dict[str, str]], requests: list[str], rng: random.Random, fills: int
) -> list[Example]:
    """Jailbreak templates with their placeholder filled by harmful requests of the same split."""
    out = []
    for row in rows:
        text = row["text"]
        marks = [p for p in PLACEHOLDERS if p in text]
        if not marks:
            out.append(Example(text, 1, _group(row)))
            continue
        for _ in range(fills):
            out.append(Example(text.replace(marks[0], rng.choice(requests)), 1, _group(row)))
    return out


def answers(split: str) -> list[str]:
    """Model answers of completions_<split> that are neither harmful nor refusals (document text)."""
    return [
        r["Response"][:800]
        for r in completions(split)
        if r["label"] == "0"
        and len(r["Response"]) > 200
        and "sorry" not in r["Response"][:80]
        and r["Response"].isascii()
    ]


def carriers(split: str, rng: random.Random, count: int) -> list[str]:
    """Neutral document bodies: generated prose, and model answers that are not refusals."""
    answers_ = answers(split)
    out = []
    for i in range(count):
        if i % 2 and answers_:
            out.append(rng.choice(answers_))
        else:
            out.append(synthetic.prose(rng, rng.randint(2, 7)))
    return out


def _injection_set(split: str, rng: random.Random, per_attack: int) -> list[Example]:
    attacks = [r["text"] for r in _of_kind(prompts(split), "prompt_injection")]
    bodies = carriers(split, rng, len(attacks) * per_attack * 2)
    out = []
    for i, attack in enumerate(attacks * per_attack):
        doc = synthetic.wrap_document(synthetic.embed(attack, bodies[2 * i], rng), rng)
        out.append(Example(doc, 1, "prompt_injection/bipia_attacks (embedded)"))
        clean = synthetic.wrap_document(bodies[2 * i + 1], rng)
        out.append(Example(clean, 0, "documents/clean carriers"))
    return out


# Own material per split (training/injections.py, training/injection_docs.py): dev draws on the
# fifth of the templates train never sees, so its figures are not a replay of the training rows.
OWN_INJECTIONS = {"train": 1500, "dev": 200}
OWN_HARD_NEGATIVES = {"train": 1500, "dev": 200}


def _own_injections(split: str, rng: random.Random) -> list[Example]:
    """Override, system-prompt, role, exfiltration, tool, fake-turn, comment and encoded attacks in
    varied carriers, and clean documents in the same carriers that only sound like orders."""
    tag = "" if split == "train" else " (dev templates)"
    pool = answers(split)
    pos = [
        Example(t, 1, f"synthetic/injected documents{tag}")
        for t in injection_docs.injected(split, rng, OWN_INJECTIONS[split], pool)
    ]
    neg = [
        Example(t, 0, f"documents/hard negatives{tag}")
        for t in injection_docs.hard_negatives(split, rng, OWN_HARD_NEGATIVES[split], pool)
    ]
    return pos + neg


# Hand-written pairs for prompt_injection's train split: a realistic document with one planted
# instruction (positive) and the same document without it (negative); training/injected_docs/.
# Hand-written clean documents that talk about AI assistants, chatbots and prompts without ordering
# one (negatives); training/ai_docs/. Measured, not shipped: with both (480, 358) the model caught far
# more planted instructions but scored short generic documents (guard eval's newsletter carrier) as
# attacks, so ordinary questions quoted in one were flagged (bench/BENCHMARKS.md, prompt_injection).
INJECTED_DOC_PAIRS = 0
AI_DOCS = 0
# Since version 3: each hand-written French, German and Spanish planted instruction of
# training/injections_lang/ embedded this many times in a clean body of its language (the first
# round's short bodies and the second round's longer documents), each body wrapped as many times as
# a negative; twice since version 4, which catches a fifth more of the held-out FR/DE/ES planted
# instructions for 2.4 points of dev BIPIA (bench/BENCHMARKS.md, "prompt_injection version 4";
# `injection_lang_compare` measures other counts).
LANGUAGE_INJECTIONS = 2
# Clean tool results and retrieved content full of addresses (bare URLs, search results, Markdown
# links, API JSON, listings, logs, code, references; training/tool_carriers.py), and the same
# carriers with one attack each: (clean, injected) rows of prompt_injection's train split, drawn with
# their own generator. Without them a bare address scored as an injection (bench/BENCHMARKS.md,
# "prompt_injection: URLs and tool results").
TOOL_CARRIERS = (1500, 750)


def tool_results(counts: tuple[int, int], seed: int) -> list[Example]:
    """training/tool_carriers.py's clean carriers (label 0) and injected ones (label 1)."""
    rng = random.Random(f"tool_carriers:{seed}")
    clean, injected = counts
    return [Example(t, 0, "own/tool results clean") for t in tool_carriers.clean(rng, clean)] + [
        Example(t, 1, "own/tool results injected") for t in tool_carriers.injected(rng, injected)
    ]


def language_injections(count: int, bodies: str, seed: int) -> list[Example]:
    """Each FR/DE/ES attack of training/injections_lang/ embedded `count` times in a clean body of its
    language, and each clean body wrapped `count` times, as documents of both labels. `bodies`: "docs"
    takes the first round's bodies and the second round's longer documents (`<language>_docs.jsonl`:
    orders to human readers, talk about AI assistants), "long" the longer ones alone, "" the first
    round's alone. Drawn with their own generator so the other draws do not move."""
    rng = random.Random(f"injections_lang:{seed}")
    out = []
    for path in sorted((HERE / "injections_lang").glob("??.jsonl")):
        rows = _jsonl(path)
        attacks = [r["text"] for r in rows if r["kind"] == "attack"]
        clean = [r["text"] for r in rows if r["kind"] == "clean"]
        if bodies:
            long = [r["text"] for r in _jsonl(path.with_name(f"{path.stem}_docs.jsonl"))]
            clean = long if bodies == "long" else clean + long
        for attack in attacks * count:
            doc = synthetic.wrap_document(synthetic.embed(attack, rng.choice(clean), rng), rng)
            out.append(Example(doc, 1, "own/injections_lang"))
        out += [
            Example(synthetic.wrap_document(c, rng), 0, "own/injections_lang clean") for c in clean * count
        ]
    return out


# Hand-written harmless messages that set up a persona, a game, a tutor, a rehearsal, standing rules
# or custom instructions (jailbreak negatives; training/roleplay/).
ROLEPLAY = 762
# Hand-written French, German and Spanish jailbreaks (training/jailbreak_languages/; count drawn, of 450):
# with any, every harmless FR/DE/ES role-play, persona, game, rule and system prompt of that folder and
# the FR/DE/ES prompts of harmful_request's hand-written folders join the negatives. Since jailbreak
# version 4 a third of the jailbreaks: all of them caught 99% of the held-out ones but flagged 18.5% of
# the harmless set-ups at the packs' 0.2 (bench/BENCHMARKS.md "jailbreak version 4").
JAILBREAK_LANGUAGES = 150
# harmful_request's FR/DE/ES folders, as jailbreak negatives: a harmful request is not a jailbreak, and
# ordinary prompts in those languages should not score as one.
_LANGUAGE_FOLDERS = ("languages", "languages_more", "requests_why_lang")
LANGUAGE_NEGATIVES_GROUP = "own/languages (as jailbreak negatives)"


def jailbreak_languages(count: int, seed: int) -> list[Example]:
    """`count` hand-written FR/DE/ES jailbreaks with every harmless row of training/jailbreak_languages/
    and the FR/DE/ES prompts of _LANGUAGE_FOLDERS as negatives (none when `count` is 0)."""
    if not count:
        return []
    rows = hand_written_labelled("jailbreak_languages", 1 << 30, seed)
    jailbreaks = [e for e in rows if e.label]
    picked = random.Random(f"jailbreak_languages:{seed}").sample(jailbreaks, min(count, len(jailbreaks)))
    prompts = [e for folder in _LANGUAGE_FOLDERS for e in hand_written_labelled(folder, 1 << 30, seed)]
    return (
        picked
        + [e for e in rows if not e.label]
        + [Example(e.text, 0, LANGUAGE_NEGATIVES_GROUP) for e in prompts]
    )


# Operators' system prompts and users' persona/format requests (training/instructions.py), as
# jailbreak negatives; dev draws on the fifth of the templates train never sees.
ORDINARY_INSTRUCTIONS = {"train": 1500, "dev": 200}


def _ordinary_instructions(split: str, rng: random.Random) -> list[Example]:
    tag = "" if split == "train" else " (dev templates)"
    return [
        Example(t, 0, f"instructions/ordinary{tag}")
        for t in instructions.instructions(split, rng, ORDINARY_INSTRUCTIONS[split])
    ]


def _everyday_chat(split: str, rng: random.Random, recipe: Recipe) -> list[Example]:
    if not recipe.everyday_chat:
        return []
    if split == "train":
        texts = conversational.everyday_chat(split, rng, recipe.everyday_chat)
        return [Example(t, 0, "synthetic/everyday_chat") for t in texts]
    texts = conversational.everyday_chat(split, rng, 200)
    return [Example(t, 0, "chat/everyday (dev templates)") for t in texts]


HERE = Path(__file__).resolve().parent
# Hand-written ordinary assistant answers added to harmful_response's train split (negatives).
RESPONSE_ANSWERS = 1000
# Hand-written pairs added to harmful_response's train split: a short, vague answer that goes along
# with a harmful request (positive) and a same-shaped answer with a harmless aim (negative).
RESPONSE_HARMFUL_PAIRS = 400
# Hand-written pairs of a short answer that plainly goes along with a harmful request and names it
# (positive) beside a same-shaped harmless one (negative), training/direct_answers/; and ordinary
# answers in harmful answers' words, "Sure." first (negatives), training/answers_more/. Measured and
# not shipped, so none are drawn: 300 and 500 of them make harmful_response rank every pair check set
# better, but pass a vague attack answer the shipped model blocks (bench/BENCHMARKS.md, "Answers read
# with their request").
RESPONSE_DIRECT_PAIRS = 0
RESPONSE_ANSWERS_MORE = 0
# Hand-written answers that discuss a harm for a protective, explanatory or creative aim (negatives).
RESPONSE_PROTECTIVE = 600
# Openings (first 1-12 words) of the hand-written harmless answers, as negatives: a stream is first
# checked on its first few words, and "Sure, here's the plan." is not harm by itself.
RESPONSE_OPENINGS = 2000


def _folder_rows(folder: str) -> list[dict[str, Any]]:
    """Every JSON line of training/<folder>/*.jsonl, files in name order."""
    return [row for path in sorted((HERE / folder).glob("*.jsonl")) for row in _jsonl(path)]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hand_written(folder: str, count: int, seed: int) -> list[Example]:
    """`count` distinct texts of the hand-written harmless messages in training/<folder>/*.jsonl
    (`everyday`, `lookalike`, `pastfuture`, `answers`, `protective_answers`; each folder's README says
    what it holds), drawn with their own generator so a recipe's other
    draws do not move."""
    texts = list(dict.fromkeys(row["text"] for row in _folder_rows(folder)))
    picked = random.Random(f"{folder}:{seed}").sample(texts, min(count, len(texts)))
    return [Example(t, 0, f"own/{folder}") for t in picked]


def hand_written_labelled(
    folder: str, count: int, seed: int, skip: frozenset[str] = frozenset()
) -> list[Example]:
    """`count` hand-written rows of training/<folder>/*.jsonl with their own `label` ("safe" or 0,
    "unsafe" or 1), drawn with their own generator; rows of a `skip` category are left out."""
    rows = [r for r in _folder_rows(folder) if r.get("category") not in skip]
    picked = random.Random(f"{folder}:{seed}").sample(rows, min(count, len(rows)))
    labels = [int(r["label"] in ("unsafe", 1)) for r in picked]
    return [
        Example(r["text"], label, f"own/{folder} {('safe', 'unsafe')[label]}")
        for r, label in zip(picked, labels, strict=True)
    ]


def hand_written_pairs(folder: str, count: int, seed: int) -> list[Example]:
    """`count` hand-written pairs of training/<folder>/*.jsonl, each as its `harmful` text (label 1)
    and its same-shaped `twin` (label 0), drawn with their own generator."""
    pairs = _folder_rows(folder)
    picked = random.Random(f"{folder}:{seed}").sample(pairs, min(count, len(pairs)))
    return [
        example
        for pair in picked
        for example in (
            Example(pair["harmful"], 1, f"own/{folder}"),
            Example(pair["twin"], 0, f"own/{folder} twins"),
        )
    ]


def _openings(examples: list[Example], count: int, rng: random.Random) -> list[Example]:
    """The first 1-12 words of `count` of `examples` (harmless answers), as negatives."""
    picked = rng.sample(examples, min(count, len(examples)))
    return [Example(" ".join(e.text.split()[: rng.randint(1, 12)]), 0, "own/answer openings") for e in picked]


def _cap_nq(examples: list[Example], cap: int | None, rng: random.Random) -> list[Example]:
    nq = [e for e in examples if "nq_open" in e.group]
    if cap is None or len(nq) <= cap:
        return examples
    keep = set(rng.sample(range(len(nq)), cap))
    kept = [e for i, e in enumerate(nq) if i in keep]
    return kept + [e for e in examples if "nq_open" not in e.group]


def _nq_as_typed(examples: list[Example], recipe: Recipe, rng: random.Random) -> list[Example]:
    """The NQ questions capped, and a share of them capitalised with a question mark."""
    examples = _cap_nq(examples, recipe.nq_cap, rng)
    if not recipe.nq_punctuated:
        return examples
    out = []
    for e in examples:
        typed = e
        if "nq_open" in e.group and rng.random() < recipe.nq_punctuated:
            typed = Example(e.text[:1].upper() + e.text[1:].rstrip(" ?") + "?", e.label, e.group)
        out.append(typed)
    return out


_INTERROGATIVES = frozenset(
    "how what why where when who whom whose which is are was were can could would should "
    "do does did will shall has have may might".split()
)


def _typed_questions(examples: list[Example], seed: int) -> list[Example]:
    """Every question, either label, ends with "?" half the time and bare the other half."""
    rng = random.Random(f"typed:{seed}")
    out = []
    for e in examples:
        text = e.text.rstrip()
        first = text.split(maxsplit=1)[0].casefold() if text else ""
        if text.endswith("?") or first in _INTERROGATIVES:
            bare = text.rstrip(" ?.")
            text = bare + "?" if rng.random() < 0.5 else bare
        out.append(Example(text, e.label, e.group))
    return out


def _styled_negatives(
    rows: list[dict[str, str]], harmful: list[str], benign: list[Example], rng: random.Random, recipe: Recipe
) -> list[Example]:
    """The train-only negatives that break the style shortcut (see training/styled.py)."""
    out: list[Example] = []
    questions = [e.text for e in benign if "nq_open" in e.group]
    out += [
        Example(t, 0, "synthetic/styled_benign") for t in styled.imperative_benign(rng, recipe.styled_benign)
    ]
    if recipe.matched_twins:
        out += [Example(t, 0, "synthetic/matched_twin") for t in styled.matched_benign(harmful, rng)]
    out += [
        Example(t, 0, "synthetic/short_everyday") for t in styled.short_everyday(rng, recipe.short_everyday)
    ]
    if recipe.injections_negative:
        out += [Example(r["text"], 0, _group(r)) for r in _of_kind(rows, "prompt_injection")]
    out += [
        Example(t, 0, "synthetic/benign_question")
        for t in styled.benign_questions(rng, recipe.benign_questions)
    ]
    out += [
        Example(t, 0, "synthetic/first_person") for t in styled.first_person_benign(rng, recipe.first_person)
    ]
    out += [
        Example(t, 0, "synthetic/question_as_request")
        for t in styled.questions_as_requests(questions, rng, recipe.questions_recast)
    ]
    return out


Draw = Callable[[random.Random, int], list[str]]


def _twinned(
    rng: random.Random, name: str, count: int, harmful: Draw, benign: Draw, tense: bool, wide: bool
) -> list[Example]:
    """`count` generated harmful requests (and their past/future rewordings when `tense`), then
    `count` harmless twins, grouped as synthetic/<name>_hazard, _tense and _twin."""
    if not count:
        return []
    drawn = harmful(rng, count)
    rows = [Example(t, 1, f"synthetic/{name}_hazard") for t in drawn]
    if tense:
        reworded = synthetic.tense_rewordings(drawn, rng, broad=True, wide=wide)
        rows += [Example(t, 1, f"synthetic/{name}_tense") for t in reworded]
    return rows + [Example(t, 0, f"synthetic/{name}_twin") for t in benign(rng, count)]


def _hazard_rows(rng: random.Random, recipe: Recipe) -> list[Example]:
    """The generated hazard taxonomy: harmful requests (label 1) and harmless twins (label 0).
    Draws nothing from `rng` when the recipe asks for none, so older recipes draw as before."""
    gerunds = recipe.gerund_frames
    operational = hazards.harmful(rng, recipe.hazards, gerunds=gerunds)
    rows = [Example(t, 1, "synthetic/hazard") for t in operational]
    if recipe.hazard_tense:
        rows += [
            Example(t, 1, "synthetic/hazard_tense")
            for t in synthetic.tense_rewordings(operational, rng, recipe.broad_tense, wide=recipe.wide_tense)
        ]
    twins = hazards.benign(rng, recipe.hazards, gerunds=gerunds)
    rows += [Example(t, 0, "synthetic/hazard_twin") for t in twins]
    if recipe.benign_tense:
        harmless = twins + styled.imperative_benign(rng, recipe.benign_tense)
        reworded = synthetic.tense_rewordings(
            harmless, rng, broad=True, harmless=True, wide=recipe.wide_tense
        )
        picked = rng.sample(reworded, min(recipe.benign_tense, len(reworded)))
        rows += [Example(t, 0, "synthetic/benign_tense") for t in sorted(picked)]
    wide = recipe.wide_tense
    civic = functools.partial(hazards.harmful, table=hazards_civic.CIVIC, gerunds=gerunds)
    civic_twins = functools.partial(hazards.benign, table=hazards_civic.CIVIC, gerunds=gerunds)
    named = functools.partial(hazards.harmful, table=hazards_named.NAMED)
    named_twins = functools.partial(hazards.benign, table=hazards_named.NAMED)
    tense = recipe.broad_tense
    rows += _twinned(
        rng, "content", recipe.content_hazards, hazards_content.harmful, hazards_content.benign, tense, wide
    )
    rows += _twinned(rng, "civic", recipe.civic_hazards, civic, civic_twins, tense, wide)
    rows += _twinned(
        rng, "task", recipe.task_hazards, hazards_tasks.harmful, hazards_tasks.benign, False, wide
    )
    rows += _twinned(rng, "named", recipe.named_hazards, named, named_twins, False, wide)
    rows += _twinned(
        rng, "claim", recipe.claim_hazards, hazards_claims.harmful, hazards_claims.benign, False, wide
    )
    return rows


def multilingual_rows(model: str, split: str, seed: int = 13) -> list[Example]:
    """FR/DE/ES rows of training/multilingual.py; on dev they are reported, never used for tuning."""
    return [Example(t, label, group) for t, label, group in multilingual.labelled(model, split, seed)]


def _harmful_train(
    rows: list[dict[str, Any]],
    pos: list[Example],
    neg: list[Example],
    rng: random.Random,
    recipe: Recipe,
    seed: int,
) -> list[Example]:
    """The harmful_request train set: the public rows (`pos`, `neg`) and what `recipe` adds."""
    harmful = [r["text"] for r in _of_kind(rows, "harmful_request")]
    benign = [e for e in neg if e.group.startswith("benign/")]
    pos = pos + [
        Example(t, 1, "synthetic/tense")
        for t in synthetic.tense_rewordings(harmful, rng, recipe.broad_tense, wide=recipe.wide_tense)
    ]
    if recipe.redteam_weight:
        pos += [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "redteam_attempt_first_turn")]
    pos += _hazard_rows(rng, recipe)  # both labels: harmful requests and their twins
    if recipe.harmful_questions:
        pos += [
            Example(t, 1, "synthetic/harmful_as_question") for t in styled.requests_as_questions(harmful, rng)
        ]
    neg = _nq_as_typed(neg, recipe, rng)
    neg += _styled_negatives(rows, harmful, benign, rng, recipe)
    neg += [Example(t, 0, "synthetic/long_benign") for t in synthetic.long_benign_prompts(rng, 300)]
    neg += [Example(t, 0, "synthetic/contrastive_benign") for t in synthetic.contrastive_benign(rng, 700)]
    if recipe.multilingual:
        own = multilingual_rows("harmful_request", "train", seed)
        pos += [e for e in own if e.label]
        neg += [e for e in own if not e.label]
    neg += _everyday_chat("train", rng, recipe)
    neg += hand_written("everyday", recipe.everyday_messages, seed)
    neg += hand_written("lookalike", recipe.lookalikes, seed)
    neg += hand_written("pastfuture", recipe.pastfuture, seed)
    neg += hand_written("service", recipe.service_messages, seed)
    pos += hand_written_labelled("contrast", recipe.contrast, seed)  # both labels
    pos += hand_written_labelled("languages", recipe.languages, seed)  # both labels
    skip = frozenset() if recipe.requests_tense else frozenset({"tense"})
    pos += hand_written_labelled("requests", recipe.requests, seed, skip)  # both labels
    pos += hand_written_labelled("requests_more", recipe.more_requests, seed)  # both labels
    pos += hand_written_labelled("requests_texts", recipe.texts, seed)  # both labels
    future = frozenset() if recipe.howto_future else frozenset({"future"})
    pos += hand_written_labelled("howto", recipe.howto, seed, future)  # both labels
    pos += hand_written_labelled("requests_texts_more", recipe.more_texts, seed)  # both labels
    pos += hand_written_labelled("howto_more", recipe.more_howto, seed)  # both labels
    pos += hand_written_labelled("requests_claims", recipe.claims, seed)  # both labels
    pos += hand_written_labelled("requests_named", recipe.named_requests, seed)  # both labels
    neg += hand_written("howto_everyday", recipe.everyday_howto, seed)
    pos += hand_written_labelled("howto_harmful", recipe.harmful_howto, seed)  # all harmful
    pos += hand_written_labelled("requests_why", recipe.why_requests, seed)  # both labels
    neg += hand_written("requests_formats", recipe.format_tasks, seed)
    pos += hand_written_labelled("requests_why_lang", recipe.why_languages, seed)  # both labels
    pos += hand_written_labelled("requests_offensive", recipe.offensive, seed)  # both labels
    pos += hand_written_labelled("languages_more", recipe.more_languages, seed)  # both labels
    pos += hand_written_labelled("requests_excerpts", recipe.excerpts, seed)  # both labels
    pos += hand_written_labelled("requests_persuasion", recipe.persuasion, seed)  # both labels
    pos += hand_written_labelled("requests_code", recipe.attack_code, seed)  # both labels
    pos += hand_written_labelled("futures", recipe.futures, seed)  # both labels
    pos += hand_written_labelled("reframed", recipe.reframed, seed)  # both labels
    rows_so_far = _typed_questions(pos + neg, seed) if recipe.typed_questions else pos + neg
    rows_so_far += fragments(rows_so_far, recipe.fragments, seed)
    return rows_so_far + (politely_asked(rows_so_far, seed) if recipe.polite_frames else [])


# "How can I <do something>?" and the polite request frames it is asked again in.
_HOW_CAN_I = re.compile(r"(?i)^how (?:do|can|could|would|should) i (.+?)[?.!]*$")
POLITE_FRAMES = (
    "Can you tell me how to {}?", "Could you tell me how to {}?", "Can you explain how to {}?",
    "Please tell me how to {}.", "Can you show me how to {}?", "Tell me how to {}.",
    "Could you explain how I can {}?", "I'd like to know how to {}.", "Can you help me {}?",
)
_POLITE_SOURCES = ("own/howto", "own/everyday")


def politely_asked(examples: list[Example], seed: int) -> list[Example]:
    """Each hand-written how-to question of `examples` (either label) asked again in a polite
    request frame drawn with its own generator, same label ("How can I make soup thicker?" →
    "Can you tell me how to make soup thicker?")."""
    rng = random.Random(f"polite:{seed}")
    out = []
    for e in examples:
        found = _HOW_CAN_I.match(e.text.strip()) if e.group.startswith(_POLITE_SOURCES) else None
        if found:
            asked = rng.choice(POLITE_FRAMES).format(found.group(1))
            out.append(Example(asked, e.label, e.group + " (polite)"))
    return out


# Where harmless fragments are cut from: questions and everyday messages, never a harmless twin of a
# harmful request (its pieces, "a pipe bomb", would teach the hazard's words as harmless).
FRAGMENT_SOURCES = ("benign/", "own/everyday", "synthetic/everyday_chat")


def fragments(examples: list[Example], n: int, seed: int) -> list[Example]:
    """`n` harmless fragments: from each harmless text of FRAGMENT_SOURCES, in a seeded order, one
    of its two to four pieces of about equal word count (texts too short to cut give none)."""
    rng = random.Random(f"fragments:{seed}")
    texts = [e.text for e in examples if e.label == 0 and e.group.startswith(FRAGMENT_SOURCES)]
    out: list[Example] = []
    for text in rng.sample(texts, len(texts)):
        if len(out) >= n:
            break
        cut = pieces(text, rng.choice((2, 3, 4)))
        if len(cut) > 1:
            out.append(Example(rng.choice(cut), 0, "own/fragments"))
    return out


def build(
    model: str,
    split: str,
    seed: int = 13,
    recipe: Recipe = HARMFUL_RECIPE,
    injections: tuple[int, str] = (LANGUAGE_INJECTIONS, "docs"),
) -> list[Example]:
    """The labelled set of `model` on `split` (`train` or `dev`); `recipe` shapes harmful_request,
    `injections` (count, bodies of `language_injections`) prompt_injection's FR/DE/ES documents."""
    rng = random.Random(f"{model}:{split}:{seed}")
    rows = prompts(split)
    if model == "harmful_request" and split == "train" and recipe.dna_scope:
        rows = [r for r in rows if _in_scope(r)]
    harmful = [r["text"] for r in _of_kind(rows, "harmful_request")]
    benign = [Example(r["text"], 0, _group(r)) for r in _of_kind(rows, "benign")]
    over_refusal = [Example(r["text"], 0, _group(r)) for r in _of_kind(rows, "over_refusal_safe")]
    own_over_refusal = [
        Example(t, 0, "synthetic/over_refusal")
        for t in synthetic.over_refusal_prompts(rng, 600 if split == "train" else 0)
    ]
    if model == "harmful_response":
        responses = [
            Example(r["Response"], int(r["label"]), f"completions/label={r['label']}")
            for r in completions(split)
        ]
        # GPTFuzz's harmless rows are mostly refusals: ordinary helpful answers teach the model
        # that an answer which complies is not harmful by itself (training/answers/).
        # Technical documents and code an answer may quote or be (training/documents.py): reported
        # on dev, never tuned on (`evaluate.REPORTED_ONLY`).
        responses += pasted_documents(model, split, seed)
        if split != "train":
            return responses
        # GPTFuzz's harmful rows are long jailbreak outputs: the pairs add short compliant answers,
        # each beside its harmless twin so that the form alone (numbered steps) carries no weight.
        own = (
            hand_written("answers", RESPONSE_ANSWERS, seed)
            + hand_written("answers_more", RESPONSE_ANSWERS_MORE, seed)
            + hand_written("protective_answers", RESPONSE_PROTECTIVE, seed)
            + hand_written_pairs("harmful_answers", RESPONSE_HARMFUL_PAIRS, seed)
            + hand_written_pairs("direct_answers", RESPONSE_DIRECT_PAIRS, seed)
        )
        return responses + own + _openings([e for e in own if not e.label], RESPONSE_OPENINGS, rng)
    if model == "prompt_injection":
        docs = _injection_set(split, rng, 6 if split == "train" else 1) + benign + _own_injections(split, rng)
        docs += pasted_documents(model, split, seed)
        if split == "train":
            docs += hand_written_pairs("injected_docs", INJECTED_DOC_PAIRS, seed)
            docs += hand_written("ai_docs", AI_DOCS, seed)
            docs += language_injections(*injections, seed)
            docs += tool_results(TOOL_CARRIERS, seed)
        return docs
    if model == "harmful_request":
        pos = [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "harmful_request")]
        neg = benign + over_refusal + own_over_refusal + pasted_documents(model, split, seed)
        if split == "train":
            return _harmful_train(rows, pos, neg, rng, recipe, seed)
        neg += _everyday_chat(split, rng, recipe)
        # Reported only (toxic text, not a request for harmful help); never used for tuning.
        pos += [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "toxic_prefix")]
        return pos + neg
    if model == "jailbreak":
        pos = [Example(r["text"], 1, _group(r)) for r in _of_kind(rows, "jailbreak_prompt")]
        pos += fill_templates(
            _of_kind(rows, "jailbreak_template"), harmful, rng, 3 if split == "train" else 1
        )
        neg = benign + over_refusal + own_over_refusal
        neg += _ordinary_instructions(split, rng)
        neg += [
            Example(t, 0, _group(r) + " (plain)")
            for r in _of_kind(rows, "harmful_request")
            for t in [r["text"]]
        ]
        neg += pasted_documents(model, split, seed)
        if split == "train":
            neg += [Example(t, 0, "synthetic/long_benign") for t in synthetic.long_benign_prompts(rng, 600)]
            neg += [Example(r["Response"], 0, "completions/responses") for r in completions(split)[::3]]
            neg += hand_written("roleplay", ROLEPLAY, seed)
            pos += jailbreak_languages(JAILBREAK_LANGUAGES, seed)  # both labels
        else:
            neg += [
                Example(t, 0, "synthetic/long_benign (dev seed)")
                for t in synthetic.long_benign_prompts(rng, 200)
            ]
        return pos + neg
    raise ValueError(f"unknown model {model!r}")


# Long documents and code from the standard library (training/documents.py): as many a split for
# each model that reads them, asked about in a user's frame (jailbreak, harmful_request, since its
# version 27) or read bare or wrapped as a tool result (prompt_injection) or an answer
# (harmful_response, since its version 8: 100, where more moved its best-F1 threshold down). Drawn
# with a generator of their own, so the rest of a set stays as it was.
DOCUMENTS = {
    "jailbreak": {"train": 2400, "dev": 300},
    "harmful_request": {"train": 400, "dev": 300},
    "prompt_injection": {"train": 1200, "dev": 300},
    "harmful_response": {"train": 100, "dev": 300},
}
ASKED = ("jailbreak", "harmful_request")


def pasted_documents(model: str, split: str, seed: int) -> list[Example]:
    rng = random.Random(f"documents:{model}:{split}:{seed}")
    asked = model in ASKED
    # not under a group whose false positives tune the threshold (`evaluate.FP_BUDGETS`): reported
    group = "stdlib/" + ("pastes" if asked else "documents") + (" (dev fifth)" if split == "dev" else "")
    return [Example(t, 0, group)
            for t in documents.documents(split, rng, DOCUMENTS[model][split], asked=asked)]
