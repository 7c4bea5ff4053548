"""The hand-written, style-matched check set for harmful_request (training/checkset.jsonl).

Written for this project, not taken from any split: benign requests in the same imperative
"Write / Explain / Give step-by-step" style as the harmful benchmarks, on topics next to harm
(cooking, chemistry homework, wars, security concepts, killing processes, shooting photos), and
short, non-operational harmful requests across hazard categories. It is used ONLY to report
figures: never for training, never for placing a threshold, so it shows whether the model learned
harm or merely the phrasing style of the public sets.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parent / "checkset.jsonl"
# 20 clean documents and the same 20 with one injected instruction each (prompt_injection).
INJECTION_PATH = Path(__file__).resolve().parent / "injection_checkset.jsonl"
# 160 realistic documents (emails, web pages, tool results, code, tickets, ...) each beside the same
# document with one planted instruction, eight families (override, fake authority, exfiltration,
# tool abuse, answer manipulation, plain requests addressed to the AI, hidden markup, persona); written
# apart from the training pairs (training/injected_docs/). One pair per line (prompt_injection).
INJECTED_DOCS_PATH = Path(__file__).resolve().parent / "injected_docs_checkset.jsonl"
# 120 clean documents that talk about AI assistants, chatbots and prompts without ordering one (help
# pages, AI-use policies, code with a system prompt, articles on prompt injection), all benign;
# written apart from training/ai_docs/ (prompt_injection false positives).
AI_DOCS_PATH = Path(__file__).resolve().parent / "ai_docs_checkset.jsonl"
# 30 ordinary system prompts and persona/format requests, all benign (jailbreak false positives).
INSTRUCTIONS_PATH = Path(__file__).resolve().parent / "instructions_checkset.jsonl"
# 200 harmless user messages that set up a persona, a game, a tutor, a rehearsal, standing rules or
# custom instructions, all benign (jailbreak false positives); written apart from training/roleplay/.
ROLEPLAY_PATH = Path(__file__).resolve().parent / "roleplay_checkset.jsonl"
# 30 everyday chat messages to an assistant, all benign (harmful_request false positives).
CHAT_PATH = Path(__file__).resolve().parent / "chat_checkset.jsonl"
# 40 harmless questions about the past and the future ("How did people preserve meat before
# refrigerators existed?"), all benign: the frames of the tense attack, with harmless aims.
TENSE_PATH = Path(__file__).resolve().parent / "tense_checkset.jsonl"
# 300 everyday messages to an assistant in ten areas (shopping, coding, cooking, health, history, ...),
# all benign; written for this project by one helper session. Used to diagnose false positives.
EVERYDAY_PATH = Path(__file__).resolve().parent / "everyday_checkset.jsonl"
# 300 more in ten other areas (work, family, pets, sport, ...), written apart from the training
# corpus (training/everyday/) and from EVERYDAY_PATH: the held-out measure of everyday false positives.
HELDOUT_PATH = Path(__file__).resolve().parent / "everyday_heldout.jsonl"
# 300 messages of customers to the assistant of a bank, a carrier, an airline, ... (ten businesses),
# all benign, rich in fraud-adjacent words (refund, transfer, gift card, verification code); written
# apart from the training corpus training/service/.
SERVICE_PATH = Path(__file__).resolve().parent / "service_checkset.jsonl"
# 250 harmless prompts whose words sound harmful (kill a process, steal the show, the White House's
# address, which cleaners must never be mixed) in ten categories, beside 200 harmful contrasts in the
# same words (shoot my ex, a private person's address); written apart from training/contrast/.
CONTRAST_PATH = Path(__file__).resolve().parent / "contrast_checkset.jsonl"
# 200 ordinary assistant answers in ten areas (cooking, code, health, history, security advice, dark
# fiction, law, money, science, refusals), all benign (harmful_response false positives); written
# apart from the training answers (training/answers/).
ANSWERS_PATH = Path(__file__).resolve().parent / "answers_checkset.jsonl"
# 200 more ordinary answers, the hard kind: short steps whose verbs harmful steps share (cut, hide,
# wipe, wait until nobody is around) for harmless aims, often opening "Sure." (harmful_response
# false positives); written apart from training/answers_more/.
ANSWERS_MORE_PATH = Path(__file__).resolve().parent / "answers_more_checkset.jsonl"
# 160 pairs in twenty hazard topics: a short, vague assistant answer that goes along with a harmful
# request and a same-shaped answer with a harmless aim (harmful_response recall and false positives);
# written apart from the training pairs (training/harmful_answers/). One pair per line.
HARMFUL_ANSWERS_PATH = Path(__file__).resolve().parent / "harmful_answers_checkset.jsonl"
# 120 pairs in twenty hazard topics: a short answer that plainly goes along with a harmful request,
# naming the harm, beside a same-shaped answer with a harmless aim (harmful_response recall and false
# positives); written apart from the training pairs (training/direct_answers/). One pair per line.
DIRECT_ANSWERS_PATH = Path(__file__).resolve().parent / "direct_answers_checkset.jsonl"
# 30 harmful and 30 benign (15 harm-adjacent) prompts in each of French, German and Spanish;
# `category` is "<lang>/<category>". Written apart from training/multilingual.py's templates.
MULTILINGUAL_PATH = Path(__file__).resolve().parent / "multilingual_checkset.jsonl"
# Per language (fr.jsonl, de.jsonl, es.jsonl): 60 harmful requests (5 in each of twelve areas) and 80
# harmless prompts (everyday, harm-adjacent, sensitive topics, factual questions); written by helper
# sessions apart from the training prompts of training/languages/.
LANGUAGES_DIR = Path(__file__).resolve().parent / "languages_check"
# A second such set, 60 harmful and 100 harmless per language (everyday, writing, harm-adjacent,
# sensitive, factual), written from a generic brief after training/requests_why_lang/ had been asked
# for with themes read off the first set's false positives (that folder's README).
LANGUAGES_B_DIR = Path(__file__).resolve().parent / "languages_check_b"
# 30 jailbreaks (six families) and 30 harmless persona, game, rule and system-prompt messages in each of
# French, German and Spanish; `category` is "<lang>/<category>". Written apart from the training rows of
# training/jailbreak_languages/ (jailbreak recall and false positives).
JAILBREAK_LANGUAGES_PATH = Path(__file__).resolve().parent / "jailbreak_languages_checkset.jsonl"
# 90 pairs, 30 per language: a French, German or Spanish document (email, web page, ticket, review,
# notes, JSON) with one planted instruction to the AI, and the same document without it; written apart
# from training/injections_lang/ (prompt_injection; evaluation only).
INJECTION_LANGUAGES_PATH = Path(__file__).resolve().parent / "injection_languages_checkset.jsonl"
# prompt_injection: 126 clean tool results an agent reads (bare URLs, search results, Markdown links,
# API JSON, file listings, logs, code, references) and 80 of them with one planted instruction
# (override, exfiltration, tool misuse, hidden orders); written apart from training/tool_carriers.py.
TOOL_RESULTS_PATH = Path(__file__).resolve().parent / "tool_results_checkset.jsonl"
# 120 requests whose object is a text (reproducing copyrighted lyrics or books at length, editing or
# answering a given text with a harmful aim, persuasive, demeaning or harm-hiding writing) beside 120
# same-framed harmless ones; written apart from training/requests_texts/.
TEXTS_PATH = Path(__file__).resolve().parent / "requests_texts_checkset.jsonl"
# 118 short harmful how-to questions and 105 harmless ones in the same present, past and future frames
# ("How do I make ...?", "How did people ... in the 1800s?"); written apart from training/howto/ (17
# lines within 30% word-trigram Jaccard of a line of any training corpus were taken out).
HOWTO_PATH = Path(__file__).resolve().parent / "howto_checkset.jsonl"
# 200 harmless short questions about everyday objects in the frames harmful requests take ("How can I
# make ...?", "Where can I buy ...?"), written apart from training/howto_everyday/; of the 300 written,
# the 100 that asked about the subject of a training line (`same_subject`) or were within 30%
# word-trigram Jaccard of an older corpus's line were taken out.
HOWTO_EVERYDAY_PATH = Path(__file__).resolve().parent / "howto_everyday_checkset.jsonl"
# 115 requests in "why" frames ("Write a blog post explaining why ...", "Explain why ...", "Make the
# case that ...") beside 119 harmless ones on the same subjects; written apart from
# training/requests_why/ (of 240 written, 6 near a line of a training corpus were taken out).
WHY_PATH = Path(__file__).resolve().parent / "requests_why_checkset.jsonl"
# 90 requests for harassment, sexual content or abuse of public office (forged papers, bribes, illegal
# border crossings) beside 89 same-framed harmless ones; written apart from training/requests_texts/.
CONDUCT_PATH = Path(__file__).resolve().parent / "requests_conduct_checkset.jsonl"
# Requests for offensive content (bigoted jokes, hateful replies to a given post, demeaning messages,
# "harm was good" essays, dangerous advice, gore, sexualised minors, glorified killers, pile-ons,
# slurs) beside harmless ones in the same words; written apart from training/requests_offensive/.
OFFENSIVE_PATH = Path(__file__).resolve().parent / "requests_offensive_checkset.jsonl"
# Requests to reproduce a passage, excerpt, pages or chapter of an in-copyright work beside harmless
# ones in the same frames; written apart from training/requests_excerpts/ (70 + 70; five near copies
# of older training rows taken out).
EXCERPTS_PATH = Path(__file__).resolve().parent / "requests_excerpts_checkset.jsonl"
# Requests in future and speculative frames ("Describe a future where ...", "How will people ... in
# 2070?"): 80 harmful, 113 harmless (31 of them on sensitive subjects); written apart from
# training/futures/ (seven near copies of dev, check-set or training lines taken out).
FUTURES_PATH = Path(__file__).resolve().parent / "futures_checkset.jsonl"


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One hand-written prompt; `label` 1 is a harmful request."""

    text: str
    label: int
    category: str


def rows(path: Path = PATH) -> list[CheckRow]:
    """Every row of a check set (the harmful_request one unless told), in file order."""
    with path.open(encoding="utf-8") as fh:
        return [CheckRow(**json.loads(line)) for line in fh if line.strip()]


def language_rows(directory: Path = LANGUAGES_DIR) -> list[CheckRow]:
    """The rows of a per-language check set (one `<lang>.jsonl` per language), with `category` as
    "<lang>/<category>" like the multilingual check set's."""
    return [
        CheckRow(row.text, row.label, f"{path.stem}/{row.category}")
        for path in sorted(directory.glob("*.jsonl"))
        for row in rows(path)
    ]


def pair_rows(path: Path = HARMFUL_ANSWERS_PATH) -> list[CheckRow]:
    """A check set of pairs as rows: each pair's `harmful` text (label 1), then its `twin` (label 0)."""
    with path.open(encoding="utf-8") as fh:
        pairs = [json.loads(line) for line in fh if line.strip()]
    return [
        row
        for p in pairs
        for row in (CheckRow(p["harmful"], 1, p["topic"]), CheckRow(p["twin"], 0, p["topic"]))
    ]


def _trigrams(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"[\w']+", text.casefold())
    return frozenset(zip(words, words[1:], words[2:], strict=False)) or frozenset([tuple(words)])


def near_copies(texts: Sequence[str], against: Sequence[str], overlap: float) -> list[str]:
    """The `texts` whose word trigrams overlap those of some `against` text by at least `overlap`
    (Jaccard): a training corpus written by the same kind of author as a check set repeats its
    obvious examples nearly word for word, which exact matching misses."""
    return _overlapping(texts, against, overlap, _trigrams)


# Words of the frames short how-to questions share ("How can I make ... at home?"), left out when
# `same_subject` compares what two such questions are about.
_FRAME_WORDS = frozenset(
    """a an the my our your his her their its i me we you u it this that these those to of for in on
    at with without from into by and or but so how can could do does did what whats what's where
    which who best easiest quickest way ways make making made get getting got need needed buy find
    build start set up is possible there tell give explain write guide step steps instructions help
    please some any good home more less really just one own be are was were will would should if
    when than then them they all out about want trying try""".split()
)


def _subject(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[\w']+", text.casefold()) if w not in _FRAME_WORDS)


def same_subject(texts: Sequence[str], against: Sequence[str], overlap: float) -> list[str]:
    """The `texts` whose words outside the how-to frames overlap those of some `against` text by at
    least `overlap` (Jaccard): for short questions, where the shared frame alone would make every
    pair of `near_copies`, this finds two questions about the same thing ("How can I make soap?",
    "How do I make soap at home?")."""
    return _overlapping(texts, against, overlap, _subject)


@functools.lru_cache(maxsize=4)
def _indexed(
    against: tuple[str, ...], key: Callable[[str], frozenset[Hashable]]
) -> tuple[list[frozenset[Hashable]], dict[Hashable, list[int]]]:
    """The `key` set of each `against` text, and for each item the texts holding it: kept for the
    next call against the same texts (the corpus tests check ~30 corpora against one set of check
    texts; its index took 0.3 s of each 0.4 s check)."""
    others = [key(t) for t in against]
    holding: dict[Hashable, list[int]] = defaultdict(list)  # item -> the `against` texts with it
    for i, items in enumerate(others):
        for item in items:
            holding[item].append(i)
    return others, dict(holding)


def _overlapping(
    texts: Sequence[str],
    against: Sequence[str],
    overlap: float,
    key: Callable[[str], frozenset[Hashable]],
) -> list[str]:
    """The `texts` whose `key` set overlaps that of some `against` text by at least `overlap` (Jaccard)."""
    others, holding = _indexed(tuple(against), key)
    out = []
    for text in texts:
        mine = key(text)
        shared = Counter(i for item in mine for i in holding.get(item, ()))
        if any(n >= overlap * (len(mine) + len(others[i]) - n) for i, n in shared.items()):
            out.append(text)
    return out


def flagged_share(scores: Sequence[float], threshold: float) -> float:
    """The share of an all-benign check set at or above `threshold`."""
    return sum(s >= threshold for s in scores) / len(scores)


def flagged_by_category(
    items: Sequence[CheckRow], scores: Sequence[float], threshold: float
) -> dict[str, float]:
    """The share of each category's rows at or above `threshold`."""
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for row, score in zip(items, scores, strict=True):
        by_cat[row.category].append(score >= threshold)
    return {cat: round(sum(hits) / len(hits), 4) for cat, hits in sorted(by_cat.items())}


def figures(
    scores: Sequence[float], threshold: float, items: Sequence[CheckRow] | None = None
) -> dict[str, object]:
    """FP rate on the benign rows, recall on the harmful rows, and both per category."""
    items = rows() if items is None else items
    by_cat: dict[tuple[int, str], list[bool]] = defaultdict(list)
    for row, score in zip(items, scores, strict=True):
        by_cat[(row.label, row.category)].append(score >= threshold)
    benign = [hit for (label, _), hits in by_cat.items() if label == 0 for hit in hits]
    harmful = [hit for (label, _), hits in by_cat.items() if label == 1 for hit in hits]
    return {
        "threshold": threshold,
        "benign_n": len(benign),
        "harmful_n": len(harmful),
        "fp_rate": sum(benign) / len(benign),
        "recall": sum(harmful) / len(harmful),
        "per_category": {
            f"{'harmful' if label else 'benign'}/{cat}": round(sum(hits) / len(hits), 4)
            for (label, cat), hits in sorted(by_cat.items())
        },
    }


def auc(scores: Sequence[float], items: Sequence[CheckRow] | None = None) -> float:
    """Probability that a harmful row outranks a benign one (threshold-free separation)."""
    items = rows() if items is None else items
    pos = [s for r, s in zip(items, scores, strict=True) if r.label]
    neg = [s for r, s in zip(items, scores, strict=True) if not r.label]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
