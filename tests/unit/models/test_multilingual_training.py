"""The FR/DE/ES generator (training/multilingual.py) and the hand-written FR/DE/ES check set."""

from __future__ import annotations

import random
from collections import Counter

from training import checkset, lang_de, lang_es, lang_fr, multilingual
from training.injections import _part


def test_generator_is_seeded_and_keeps_dev_templates_apart() -> None:
    """Same seed, same rows; the dev share of each template list is disjoint from train's."""
    assert multilingual.labelled("harmful_request", "dev", 5) == multilingual.labelled(
        "harmful_request", "dev", 5
    )
    for mod in (lang_fr, lang_de, lang_es):
        lists = [multilingual._lines(b) for b in (*mod.HARMFUL.values(), *mod.FRAMES.values())]
        lists += [mod.ORDINARY, mod.ADJACENT, mod.BENIGN_FREE, mod.JAILBREAK, mod.TOPICS]
        for items in lists:
            train, dev = _part(items, "train"), _part(items, "dev")
            assert dev and train and not set(train) & set(dev)


def test_german_actions_render_infinitive_and_zu_forms() -> None:
    """Separable German verbs split for the zu-infinitive; French elides "de" before a vowel."""
    de = multilingual.Vocabulary("de", "train")
    assert (
        de.render("Methamphetamin|her~stellen", "Hilf mir, {z}.") == "Hilf mir, Methamphetamin herzustellen."
    )
    assert de.render("ein Brot|backen", "Wie kann ich {a}?") == "Wie kann ich ein Brot backen?"
    fr = multilingual.Vocabulary("fr", "train")
    assert (
        fr.render("installer Python", "Aide-moi, j'ai besoin de {a}.")
        == "Aide-moi, j'ai besoin d'installer Python."
    )


def test_check_set_has_thirty_each_and_shares_no_row_with_the_generator() -> None:
    """30 harmful + 30 benign (15 harm-adjacent) per language, none of them produced by the generator."""
    rows = checkset.rows(checkset.MULTILINGUAL_PATH)
    sizes = Counter((r.category.split("/")[0], r.label) for r in rows)
    assert all(sizes[(lang, label)] >= 30 for lang in ("fr", "de", "es") for label in (0, 1))
    adjacent = Counter(r.category for r in rows if r.category.endswith("/adjacent"))
    assert all(adjacent[f"{lang}/adjacent"] >= 15 for lang in ("fr", "de", "es"))
    generated = {
        p.text
        for lang in multilingual.LANGS
        for split in ("train", "dev")
        for p in multilingual.harmful(lang, split, random.Random(1), 400)
        + multilingual.benign(lang, split, random.Random(2), 400)
    }
    assert not generated & {r.text for r in rows}
