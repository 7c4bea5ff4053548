"""The hazard generators (training/hazards.py with its own areas, hazards_civic.py's and
hazards_named.py's; training/hazards_content.py, hazards_tasks.py, hazards_claims.py): seeded,
unique, sized, and no prompt on both sides."""

from __future__ import annotations

import functools
import random
from types import ModuleType, SimpleNamespace

import pytest

from training import (
    checkset,
    hazards,
    hazards_civic,
    hazards_claims,
    hazards_content,
    hazards_named,
    hazards_tasks,
    synthetic,
)


def _areas(name: str, table: dict[str, hazards.Hazard]) -> SimpleNamespace:
    """hazards.py's generator over another table of areas, shaped like a generator module."""
    return SimpleNamespace(
        __name__=name,
        harmful=functools.partial(hazards.harmful, table=table),
        benign=functools.partial(hazards.benign, table=table),
    )


TABLES = {"hazards": hazards.HAZARDS, "civic": hazards_civic.CIVIC, "named": hazards_named.NAMED}
GENERATORS = pytest.mark.parametrize(
    "module",
    [
        hazards,
        hazards_content,
        _areas("hazards_civic", hazards_civic.CIVIC),
        _areas("hazards_named", hazards_named.NAMED),
        hazards_tasks,
        hazards_claims,
    ],
    ids=lambda m: m.__name__,
)
# The most each side is asked for by a training recipe (these two are built for 2,000).
_MOST = {"hazards_tasks": 2000, "hazards_claims": 2000}


@GENERATORS
def test_same_seed_gives_the_same_sorted_unique_prompts(module: ModuleType) -> None:
    """A fixed seed reproduces both sides exactly; each side is sorted and free of repeats."""
    for side in (module.harmful, module.benign):
        first = side(random.Random(0), 500)
        assert first == side(random.Random(0), 500)
        assert first != side(random.Random(1), 500)
        assert first == sorted(set(first))


@GENERATORS
def test_each_side_returns_the_requested_count(module: ModuleType) -> None:
    """Up to 3,000 prompts per side, as training recipes ask; small counts are exact too."""
    most = _MOST.get(module.__name__, 3000)
    for side in (module.harmful, module.benign):
        assert len(side(random.Random(0), most)) == most
        assert len(side(random.Random(0), 7)) == 7
        assert side(random.Random(0), 0) == []


@GENERATORS
def test_no_prompt_is_on_both_sides(module: ModuleType) -> None:
    """A harmful prompt is never also produced as a benign one (the twins differ in their aim)."""
    most = _MOST.get(module.__name__, 3000)
    harmful = {text.lower().rstrip(".?!") for text in module.harmful(random.Random(0), most)}
    benign = {text.lower().rstrip(".?!") for text in module.benign(random.Random(0), most)}
    assert not harmful & benign


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_twins_share_their_subjects_with_the_harmful_side(table: dict[str, hazards.Hazard]) -> None:
    """Every hazard subject appears on both sides, so a subject alone is never the signal."""
    harmful = " ".join(hazards.harmful(random.Random(0), 3000, table))
    benign = " ".join(hazards.benign(random.Random(0), 3000, table))
    for hazard in table.values():
        for subject in hazard.subjects:
            assert subject in harmful and subject in benign, subject


def test_gerund_phrasings_turn_the_task_verb_into_its_ing_form() -> None:
    """The gerund frames read as English: -e dropped, short verbs doubled, an adverb skipped."""
    assert hazards.gerund("make {s} at home") == "making {s} at home"
    assert hazards.gerund("get {s}") == "getting {s}"
    assert hazards.gerund("lie to {s}") == "lying to {s}"
    assert hazards.gerund("secretly record {s}") == "secretly recording {s}"
    assert hazards.gerund("launder {s}") == "laundering {s}"
    assert hazards.gerund("traffic {s}") == "trafficking {s}"
    drawn = hazards.harmful(random.Random(0), 3000, gerunds=True)
    assert any(t.startswith("Give detailed instructions for ") for t in drawn)
    assert drawn != hazards.harmful(random.Random(0), 3000)


def test_broad_tense_rewords_any_verb_led_request_and_skips_first_person() -> None:
    """Broad rewording keeps the whole verb phrase; first-person requests and, for harmless
    rewordings, the frame that names criminals are left out."""
    requests = [
        "Write a post that mocks a colleague",
        "Write me a post that mocks a colleague",
        "Bake a loaf of bread",
    ]
    assert synthetic.tense_rewordings(requests, random.Random(0)) == []  # no how-to pattern
    broad = synthetic.tense_rewordings(requests, random.Random(0), broad=True)
    assert len(broad) == 1
    assert "write a post that mocks a colleague" in broad[0]
    harmless = synthetic.tense_rewordings(
        ["Make a loaf of bread"] * 60, random.Random(0), broad=True, harmless=True
    )
    assert len(harmless) == 60
    assert all("make a loaf of bread" in t and "criminals" not in t for t in harmless)
    wide = synthetic.tense_rewordings(["Make a loaf of bread"] * 200, random.Random(0), broad=True, wide=True)
    assert any(t.startswith("What methods were used to make a loaf of bread") for t in wide)
    assert len(set(wide)) > len(
        set(synthetic.tense_rewordings(["Make a loaf of bread"] * 200, random.Random(0), broad=True))
    )


def test_tense_check_set_is_benign_and_apart_from_the_generator() -> None:
    """The hand-written harmless past/future questions are all benign and none of them is a
    rewording the training data could contain verbatim."""
    rows = checkset.rows(checkset.TENSE_PATH)
    assert len(rows) == 40 and all(r.label == 0 for r in rows)
    generated = set(
        synthetic.tense_rewordings(
            hazards.benign(random.Random(13), 3000), random.Random(13), broad=True, harmless=True
        )
    )
    assert not generated & {r.text for r in rows}
