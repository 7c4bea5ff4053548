"""The shipped prompt_injection model scored on runs of sentences, against the whole document
(`python -m training.injection_window_compare [W ...]`; version 3 is served with W = 2).

One planted sentence in a long document weighs little in the document's n-gram vector. Scoring the
highest of the whole text's score and each run of W consecutive sentences' (`TextModel.sentences`)
isolates it. For each W the threshold is placed again on dev (the same FP budgets), then dev per
group and the hand-written check sets (English pairs, FR/DE/ES pairs, documents about AI
assistants) are reported. Figures: bench/BENCHMARKS.md, "prompt_injection version 3".
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

from guard.classify.models.loader import load_model
from training import checkset, data, evaluate


def row(label: str, score: Callable[[str], float], dev: list[data.Example]) -> str:
    """One markdown row: threshold, dev per group, check sets."""
    scores = [score(e.text) for e in dev]
    threshold = evaluate.tune_threshold("prompt_injection", dev, scores)
    cells = [f"{threshold:.3f}"]
    cells += [f"{100 * g.flagged:.1f}" for g in evaluate.per_group(dev, scores, threshold)]
    for path in (checkset.INJECTED_DOCS_PATH, checkset.INJECTION_LANGUAGES_PATH):
        pairs = checkset.pair_rows(path)
        paired = [score(r.text) for r in pairs]
        fig = checkset.figures(paired, threshold, pairs)
        cells.append(
            f"{100 * float(fig['recall']):.1f} / {100 * float(fig['fp_rate']):.1f}"  # type: ignore[arg-type]
            f" ({checkset.auc(paired, pairs):.3f})"
        )
    about_ai = [score(r.text) for r in checkset.rows(checkset.AI_DOCS_PATH)]
    cells.append(f"{100 * checkset.flagged_share(about_ai, threshold):.1f}")
    return f"| {label} | " + " | ".join(cells) + " |"


def main(argv: list[str]) -> int:
    model = load_model("prompt_injection")
    dev = data.build("prompt_injection", "dev")
    groups = [g.group for g in evaluate.per_group(dev, [0.0] * len(dev), 1.0)]
    print(
        "| scoring | threshold | "
        + " | ".join(f"dev {g}" for g in groups)
        + " | English pairs caught / clean (AUC) | FR/DE/ES pairs caught / clean (AUC) | about AI flagged |"
    )
    print("|---|" + "---|" * (len(groups) + 4))
    print(row("whole document", dataclasses.replace(model, sentences=0).score, dev), flush=True)
    for width in [int(a) for a in argv] or [2, 3]:
        runs = dataclasses.replace(model, sentences=width)
        print(row(f"highest of the whole and each run of {width} sentences", runs.score, dev), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
