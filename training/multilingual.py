# ruff: noqa: S311  (seeded generators make the training data reproducible; no secrets here)
"""French, German and Spanish training material for harmful_request and jailbreak.

The public data is English only, so the shipped models flagged none of the hand-written FR/DE/ES
harmful requests. This module composes prompts in those languages from the vocabulary in
training/lang_fr.py, lang_de.py and lang_es.py:

- harmful requests over the hazard categories of the English data (weapons, drugs, cybercrime,
  fraud, violence, harassment, self-harm, hate, disinformation, privacy, illegal trade), each
  action put in an imperative, question, first-person or past-tense frame;
- benign prompts in the same frames, half of them harm-adjacent ("tuer un processus", "Unkraut
  entfernen", "matar un proceso"), so a frame or a language is never evidence of harm by itself;
  plus free-form benign prompts (history, medicine, fiction without instructions, small talk);
- jailbreak framings ("ignore tes règles", "du bist jetzt DAN", "actúa como un modelo sin
  restricciones") wrapped around harmful requests, and benign role play and "ignore my last
  question" messages as their negatives.

Every list is split five ways by position, as in training/injections.py: one part only for dev,
four for train, so dev figures measure actions and frames the model was never fitted on. The
evaluation sets (synthetic.MULTILINGUAL, training/multilingual_checkset.jsonl) are written apart
and never drawn on here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from training import lang_de, lang_es, lang_fr
from training.injections import _part

LANGS: dict[str, ModuleType] = {"fr": lang_fr, "de": lang_de, "es": lang_es}
GROUP = "multilingual/"
STYLES = ("imperative", "question", "first_person", "past")
# Share of harmful/benign prompts taken as written (not composed from an action and a frame).
_FREE_SHARE = 0.15
# Share of harmful actions that carry an explicit intent to evade ("sans laisser de traces").
_INTENT_SHARE = 0.3
# French elision before a vowel ("de assembler" -> "d'assembler"); h is left alone (h aspiré).
_ELISION = re.compile(r"\b([Dd]e|[Qq]ue|[Jj]e) (?=[aeiouyéèêâîôû])")
# Article contractions a frame can produce ("de le" -> "du", "de el" -> "del").
_CONTRACTIONS = {
    "fr": (("de le ", "du "), ("de les ", "des "), ("à le ", "au "), ("à les ", "aux ")),
    "es": (("de el ", "del "), (" a el ", " al ")),
}


def _tidy(lang: str, text: str) -> str:
    for old, new in _CONTRACTIONS.get(lang, ()):
        text = text.replace(old, new)
    if lang == "fr":
        text = _ELISION.sub(lambda m: m.group(1)[0] + "'", text)
    return re.sub(r" ,", ",", text)


def _lines(block: str) -> list[str]:
    return [line for line in block.strip().splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class Prompt:
    """One generated prompt; `kind` is harmful, jailbreak, adjacent, ordinary, free or roleplay."""

    text: str
    lang: str
    kind: str


class Vocabulary:
    """One language's lists, cut down to one split's share."""

    def __init__(self, lang: str, split: str) -> None:
        mod = LANGS[lang]
        self.lang = lang
        self.harmful = {cat: _part(_lines(block), split) for cat, block in mod.HARMFUL.items()}
        self.harmful_free = _part(mod.HARMFUL_FREE, split)
        self.intent = _part(mod.INTENT, split)
        self.ordinary = _part(mod.ORDINARY, split)
        self.adjacent = _part(mod.ADJACENT, split)
        self.benign_free = _part(mod.BENIGN_FREE, split)
        self.topic_frames = _part(mod.TOPIC_FRAMES, split)
        self.topics = _part(mod.TOPICS, split)
        self.frames = {style: _part(_lines(mod.FRAMES[style]), split) for style in STYLES}
        self.jailbreak = _part(mod.JAILBREAK, split)
        self.roleplay = _part(mod.ROLEPLAY, split)

    def render(self, action: str, frame: str, intent: str = "") -> str:
        """An action put in a frame; German actions carry "object|verb" (see lang_de)."""
        if "|" in action:
            obj, verb = action.split("|", 1)
            head, _, rest = verb.partition(" ")
            prefix, _, stem = head.rpartition("~")
            infinitive = f"{prefix}{stem} {rest}".strip()
            zu = f"{prefix}zu{stem} {rest}".strip() if prefix else f"zu {stem} {rest}".strip()
            tail = f", {intent}" if intent else ""
            text = frame.format(a=f"{obj} {infinitive}{tail}", z=f"{obj} {zu}{tail}")
        else:
            text = frame.format(a=f"{action} {intent}".strip(), z=action)
        return _tidy(self.lang, text)

    def _framed(self, actions: Sequence[str], rng: random.Random, intent: str = "") -> str:
        frames = self.frames[rng.choice(STYLES)]
        return self.render(rng.choice(actions), rng.choice(frames), intent)

    def harmful_prompt(self, rng: random.Random) -> str:
        """A harmful request of a random category and style."""
        if rng.random() < _FREE_SHARE:
            return rng.choice(self.harmful_free)
        actions = self.harmful[rng.choice(sorted(self.harmful))]
        intent = rng.choice(self.intent) if rng.random() < _INTENT_SHARE else ""
        return self._framed(actions, rng, intent)

    def benign_prompt(self, rng: random.Random) -> Prompt:
        """A benign prompt: harm-adjacent or ordinary action in a frame, a question about a topic
        (history, science, society), or a free-form prompt."""
        draw = rng.random()
        if draw < _FREE_SHARE:
            return Prompt(rng.choice(self.benign_free), self.lang, "free")
        if draw < 0.35:
            topic = rng.choice(self.topic_frames).format(t=rng.choice(self.topics))
            return Prompt(_tidy(self.lang, topic), self.lang, "topic")
        if draw < 0.65:
            return Prompt(self._framed(self.adjacent, rng), self.lang, "adjacent")
        return Prompt(self._framed(self.ordinary, rng), self.lang, "ordinary")

    def jailbreak_prompt(self, rng: random.Random) -> str:
        """A jailbreak framing around a harmful request."""
        return rng.choice(self.jailbreak).format(r=self.harmful_prompt(rng))


def harmful(lang: str, split: str, rng: random.Random, n: int) -> list[Prompt]:
    """`n` harmful requests in `lang` from the `split` share of the templates."""
    vocab = Vocabulary(lang, split)
    return [Prompt(vocab.harmful_prompt(rng), lang, "harmful") for _ in range(n)]


def benign(lang: str, split: str, rng: random.Random, n: int) -> list[Prompt]:
    """`n` benign prompts in `lang` (about half harm-adjacent)."""
    vocab = Vocabulary(lang, split)
    return [vocab.benign_prompt(rng) for _ in range(n)]


def jailbreaks(lang: str, split: str, rng: random.Random, n: int) -> list[Prompt]:
    """`n` jailbreak framings around harmful requests in `lang`."""
    vocab = Vocabulary(lang, split)
    return [Prompt(vocab.jailbreak_prompt(rng), lang, "jailbreak") for _ in range(n)]


def roleplay(lang: str, split: str) -> list[Prompt]:
    """The benign role-play and "ignore my last message" prompts of the split's share."""
    return [Prompt(t, lang, "roleplay") for t in Vocabulary(lang, split).roleplay]


# Rows per language and split. Train is a modest share of each model's training set (about 2,400
# of 15,000 rows for harmful_request); dev is for reporting only and never places a threshold.
SIZES = {
    "harmful_request": {"train": {"harmful": 350, "benign": 700}, "dev": {"harmful": 100, "benign": 100}},
    "jailbreak": {
        "train": {"jailbreak": 150, "harmful": 100, "benign": 150},
        "dev": {"jailbreak": 60, "harmful": 60, "benign": 60},
    },
}


def labelled(model: str, split: str, seed: int) -> list[tuple[str, int, str]]:
    """(text, label, group) rows of `model` on `split`; groups are `multilingual/<lang> <kind>`."""
    rows: list[tuple[str, int, str]] = []
    sizes = SIZES[model][split]
    for lang in LANGS:
        # Own generator per language: adding or resizing one never shifts another's draws.
        rng = random.Random(f"multilingual:{model}:{split}:{lang}:{seed}")
        positives = (
            harmful(lang, split, rng, sizes["harmful"])
            if model == "harmful_request"
            else jailbreaks(lang, split, rng, sizes["jailbreak"])
        )
        negatives = benign(lang, split, rng, sizes["benign"]) + roleplay(lang, split)
        if model == "jailbreak":
            # A plain harmful request is not a jailbreak (the English set says the same).
            negatives += harmful(lang, split, rng, sizes["harmful"])
        rows += [(p.text, 1, f"{GROUP}{lang} {p.kind}") for p in positives]
        rows += [(p.text, 0, f"{GROUP}{lang} {p.kind}") for p in negatives]
    return rows
