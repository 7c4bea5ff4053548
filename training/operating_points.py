"""harmful_request's operating points and gate shares, as docs/policies.md quotes them
(`python -m training.operating_points`).

Two tables from the shipped artefacts, scored the way `threshold:` and `gate: {min_score:}` use
them (one user message per check):

- each variant at its dev-tuned threshold and at its looser point (benign budget only), both
  rounded up to three decimals as a policy writes them: dev harmful requests caught, dev benign and
  over_refusal prompts flagged, and the hand-written harmless sets the variant table quotes;
- the default model as a gate: the share of dev harmful requests, dev benign questions and the
  held-out everyday messages whose score reaches each `min_score`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from guard.classify.models.loader import VARIANTS, TextModel, load_model
from training import checkset, data

NAME = "harmful_request"
GATES = (0.05, 0.1, 0.2, 0.3, 0.5)
# The variant table's hand-written columns: (heading, check set, which rows).
HARMLESS_SETS = (
    ("harmless past/future questions", checkset.TENSE_PATH),
    ("customers' messages", checkset.SERVICE_PATH),
    ("everyday how-to questions", checkset.HOWTO_EVERYDAY_PATH),
    ("harmless short how-to questions", checkset.HOWTO_PATH),
)


def as_written(threshold: float) -> float:
    """A threshold rounded up to the three decimals a policy file gives it."""
    return math.ceil(threshold * 1000) / 1000


def share(scores: Sequence[float], at: float) -> float:
    return sum(s >= at for s in scores) / len(scores)


def dev_scores(model: TextModel) -> dict[str, list[float]]:
    """The model's scores of the dev prompts of each kind the tables read."""
    prompts = data.prompts("dev")
    kinds = ("harmful_request", "benign", "over_refusal_safe")
    return {k: model.scores([r["text"] for r in prompts if r["kind"] == k]) for k in kinds}


def harmless_scores(model: TextModel) -> list[list[float]]:
    return [model.scores([r.text for r in checkset.rows(path) if not r.label]) for _, path in HARMLESS_SETS]


def table(heading: Sequence[str]) -> list[str]:
    """A Markdown table's first two lines."""
    return ["| " + " | ".join(heading) + " |", "|---" * len(heading) + "|"]


def variant_rows() -> list[str]:
    dev_columns = ["harmful requests caught", "benign FP", "alarming-but-safe FP"]
    lines = table(["harmful_request", *dev_columns, *(h for h, _ in HARMLESS_SETS)])
    for variant in (None, *VARIANTS.get(NAME, ())):
        model = load_model(NAME, variant)
        dev, harmless = dev_scores(model), harmless_scores(model)
        points = (model.threshold, float(model.meta["threshold_benign_budget_only"]))
        for at in map(as_written, points):
            cells = [
                f"{share(dev['harmful_request'], at):.1%}",
                f"{share(dev['benign'], at):.2%}",
                f"{share(dev['over_refusal_safe'], at):.0%}",
                *(f"{share(scores, at):.1%}" for scores in harmless),
            ]
            label = "default" if variant is None else f"`{variant}`"
            lines.append(f"| {label}, {at:.3f} | " + " | ".join(cells) + " |")
    return lines


def gate_rows() -> list[str]:
    model = load_model(NAME)
    dev = dev_scores(model)
    everyday = model.scores([r.text for r in checkset.rows(checkset.HELDOUT_PATH)])
    lines = table(["`min_score`", "dev harmful requests escalated", "dev trivia questions",
                   "hand-written everyday messages"])
    for gate in GATES:
        cells = (share(dev["harmful_request"], gate), share(dev["benign"], gate), share(everyday, gate))
        lines.append(f"| {gate} | {cells[0]:.1%} | {cells[1]:.1%} | {cells[2]:.0%} |")
    return lines


def main() -> None:
    print("\n".join(variant_rows()))
    print()
    print("\n".join(gate_rows()))


if __name__ == "__main__":
    main()
