"""The shipped prompt_injection model scored on runs of sentences, against the whole document
(`python -m training.injection_window_compare [W ...]`; measured, not shipped: scoring each run
apart costs about six times the whole document's time).

One planted sentence in a long document weighs little in the document's n-gram vector. Scoring the
maximum over the whole text and every run of W consecutive sentences (`sentence_runs`) isolates it.
For each W the threshold is placed again on dev (the same FP budgets), then dev per group and the
hand-written check sets (English pairs, FR/DE/ES pairs, documents about AI assistants) are reported.
Figures: bench/BENCHMARKS.md, "prompt_injection version 3".
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from guard.classify.models.loader import TextModel, load_model
from training import checkset, data, evaluate

# Sentences end at white space after ., !, ?, : or ; and at blank lines.
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n\s*\n")


def sentence_runs(text: str, width: int) -> list[str]:
    """Each run of `width` consecutive sentences of `text` (none when it has fewer)."""
    parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
    return [" ".join(parts[i : i + width]) for i in range(len(parts) - width + 1)]


def windowed(model: TextModel, width: int) -> Callable[[str], float]:
    """The score of a text: the highest of the whole text's and each run of `width` sentences'."""

    def score(text: str) -> float:
        return max([model.score(text), *map(model.score, sentence_runs(text, width))])

    return score


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
    print(row("whole document", model.score, dev), flush=True)
    for width in [int(a) for a in argv] or [2, 3]:
        print(
            row(f"highest of the whole and each run of {width} sentences", windowed(model, width), dev),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
