"""harmful_request with its red-team openings cleaned (`python -m training.redteam_clean_compare`).

The train split's Anthropic red-team first turns are weakly labelled: some are harmless questions
a red-teamer opened with. The question: are they what lifts the over_refusal near-copies, so that
dropping (or counting as harmless) the openings that a model fitted without any of them scores
lowest lets the threshold fall? A regression like the shipped model's first is fitted on the
shipped recipe's rows without the openings; it scores each opening; the openings under a quantile
of those scores are dropped, or kept as negatives. The shipped recipe's regressions are then fitted
on what is left and scored as training/compare.py scores its variants: dev recall at both budgets
and at the benign budget alone (with the over_refusal rate there), then FP / recall and AUC on each
hand-written two-label set at the both-budgets threshold. Prints Markdown rows (copied into
bench/BENCHMARKS.md). Measured, not shipped.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from training import checkset, data, evaluate
from training.compare import LABELLED_SETS, pct, recall
from training.data import Example
from training.fit import fit, fit_parts, parts_scores

# (what to do with the lowest-scoring openings, the quantile under which they count as lowest)
VARIANTS = (("keep", 0.0), ("drop", 0.15), ("drop", 0.3), ("negatives", 0.2))


def cleaned(train: list[Example], mode: str, quantile: float) -> list[Example]:
    """`train` with the red-team openings under `quantile` dropped or relabelled harmless."""
    openings = [e for e in train if e.group.startswith(data.REDTEAM)]
    rest = [e for e in train if not e.group.startswith(data.REDTEAM)]
    if mode == "keep":
        return train
    weights = data.weights(rest, data.HARMFUL_RECIPE)
    vectorizer, clf = fit(rest, c=1.5, max_features=60000, sample_weight=weights)
    scores = clf.predict_proba(vectorizer.transform([e.text for e in openings]))[:, 1]
    cut = np.quantile(scores, quantile)
    kept = [e for e, s in zip(openings, scores, strict=True) if s >= cut]
    low = [Example(e.text, 0, "own/red-team openings read as harmless")
           for e, s in zip(openings, scores, strict=True) if s < cut]
    return rest + kept + (low if mode == "negatives" else [])


def main(argv: list[str]) -> int:
    seed = int(argv[0]) if argv else 13
    dev = data.build("harmful_request", "dev")
    labelled = {name: load() for name, load in LABELLED_SETS.items()}
    print("| openings | dev recall, both budgets | benign budget alone (over_refusal) | "
          + " | ".join(labelled) + " |")
    for mode, quantile in VARIANTS:
        started = time.monotonic()
        train = cleaned(data.build("harmful_request", "train", seed), mode, quantile)
        parts = fit_parts(train, data.HARMFUL_RECIPE, seed, c=1.5, max_features=60000)
        scores = parts_scores(parts, [e.text for e in dev])
        both = evaluate.tune_threshold("harmful_request", dev, scores)
        loose = evaluate.tune_threshold("harmful_request", dev, scores, only="benign/")
        near = [s for e, s in zip(dev, scores, strict=True) if e.group.startswith("over_refusal")]
        cells = [pct(recall(dev, scores, both)),
                 f"{pct(recall(dev, scores, loose))} ({pct(sum(s >= loose for s in near) / len(near))})"]
        for rows in labelled.values():
            row_scores = parts_scores(parts, [r.text for r in rows])
            fig = checkset.figures(row_scores, both, rows)
            cells.append(f"{pct(float(fig['fp_rate']))} / {pct(float(fig['recall']))} "  # type: ignore[arg-type]
                         f"({checkset.auc(row_scores, rows):.3f})")
        label = "all kept (version 26)" if mode == "keep" else f"lowest {quantile:.0%} {mode}"
        print(f"| {label} | " + " | ".join(cells) + f" |  <!-- {time.monotonic() - started:.0f} s -->",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
