"""The generated FR/DE/ES candidate for harmful_request against version 7's English-only recipe (the
shipped recipe has French, German and Spanish since version 8; training.compare measures those), on
English dev, the English check set and the FR/DE/ES sets (nothing written; the shipped model is what
training.train writes).

    OMP_NUM_THREADS=1 python -m training.lang_compare            # weight 1, 60,000 and 70,000 n-grams
    OMP_NUM_THREADS=1 python -m training.lang_compare 0.5:60000  # weight:max_features pairs
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from training import checkset, data, evaluate
from training.compare import VERSION_7
from training.fit import SEED, export, fit_parts, to_model
from training.train import CONFIG

NAME = "harmful_request"


def run(weight: float, max_features: int) -> dict[str, Any]:
    """Fits one variant, places both thresholds on English dev, and scores every set."""
    recipe = dataclasses.replace(VERSION_7, multilingual=weight)
    train = data.build(NAME, "train", SEED, recipe)
    dev = data.build(NAME, "dev", SEED, recipe)
    config = {**CONFIG[NAME], "max_features": max_features}
    raw = export(NAME, "candidate", fit_parts(train, recipe, SEED, **config), 0.5, {})
    model = to_model(NAME, raw)
    scores = model.scores([e.text for e in dev])
    points = {
        "at_threshold": evaluate.tune_threshold(NAME, dev, scores),
        "at_benign_budget_only": evaluate.tune_threshold(NAME, dev, scores, only="benign/"),
    }
    rows = checkset.rows()
    check_scores = model.scores([r.text for r in rows])
    out: dict[str, Any] = {"weight": weight, "max_features": max_features, "grams": len(raw["grams"])}
    for point, threshold in points.items():
        groups = evaluate.per_group(dev, scores, threshold)
        positives = [s for e, s in zip(dev, scores, strict=True) if e.group.startswith("harmful_request/")]
        check = checkset.figures(check_scores, threshold, rows)
        out[point] = {
            "threshold": round(threshold, 6),
            "dev_recall": sum(s >= threshold for s in positives) / len(positives),
            "dev_fp": {g.group: g.flagged for g in groups if not g.label},
            "check_fp": check["fp_rate"],
            "check_recall": check["recall"],
        }
    out["check_auc"] = checkset.auc(check_scores, rows)
    out["multilingual"] = evaluate.multilingual(model, data.multilingual_rows(NAME, "dev"), points)
    out["hand_written_samples"] = evaluate.languages(model)
    return out


def main(argv: list[str]) -> int:
    pairs = [tuple(a.split(":")) for a in argv] or [("1", "60000"), ("1", "70000")]
    for weight, max_features in pairs:
        print(json.dumps(run(float(weight), int(max_features)), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
