"""Clean tool results and retrieved content (URLs, search results, links, JSON, listings, logs, code,
citations) in the prompt_injection model: `python -m training.tool_results_compare [ARTEFACT ...]`.

For each artefact (default: the shipped one) it prints, at the artefact's own threshold and scored as
the proxy scores a segment (`TextModel.score`: the text and each run of two sentences), the dev
figures per group, the hand-written injection check sets, and the tool-result check set
(training/tool_results_checkset.jsonl, evaluation only): FP rate on its clean rows and recall on its
planted ones, per carrier. `--leaning TEXT` prints the n-grams that push TEXT towards the class.
Figures: bench/BENCHMARKS.md, "prompt_injection: URLs and tool results".
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

from guard.classify.models.loader import TextModel, load_artefact, load_model
from training import checkset, data, evaluate
from training.fit import SEED

TOOL_RESULTS_PATH = checkset.TOOL_RESULTS_PATH
DEV_GROUPS = (
    ("prompt_injection/bipia_attacks (embedded)", "dev BIPIA embedded"),
    ("synthetic/injected documents (dev templates)", "dev injected documents (dev templates)"),
    ("documents/clean carriers", "dev clean carriers"),
    ("documents/hard negatives (dev templates)", "dev look-alike clean documents"),
    ("benign/efficientqa_dev", "dev benign"),
)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report(model: TextModel) -> dict[str, str]:
    """Every figure of one model, as printable cells keyed by row name."""
    t = model.threshold
    cells: dict[str, str] = {"version / threshold": f"{model.version} / {t:.6f}"}
    dev = data.build("prompt_injection", "dev", SEED)
    groups = {g.group: g.flagged for g in evaluate.per_group(dev, model.scores([e.text for e in dev]), t)}
    for group, label in DEV_GROUPS:
        cells[label] = _pct(groups[group])
    small = checkset.rows(checkset.INJECTION_PATH)
    fig = checkset.figures(model.scores([r.text for r in small]), t, small)
    cells["20+20 check set: clean / attacked flagged"] = (
        f"{_pct(cast(float, fig['fp_rate']))} / {_pct(cast(float, fig['recall']))}"
    )
    for label, path in (
        ("160 pairs", checkset.INJECTED_DOCS_PATH),
        ("FR/DE/ES 90 pairs", checkset.INJECTION_LANGUAGES_PATH),
    ):
        rows = checkset.pair_rows(path)
        scores = model.scores([r.text for r in rows])
        fig = checkset.figures(scores, t, rows)
        cells[f"{label}: clean / attacked flagged (AUC)"] = (
            f"{_pct(cast(float, fig['fp_rate']))} / {_pct(cast(float, fig['recall']))} "
            f"({checkset.auc(scores, rows):.3f})"
        )
    ai = [r.text for r in checkset.rows(checkset.AI_DOCS_PATH)]
    cells["120 AI documents flagged"] = _pct(checkset.flagged_share(model.scores(ai), t))
    rows = checkset.rows(TOOL_RESULTS_PATH)
    scores = model.scores([r.text for r in rows])
    fig = checkset.figures(scores, t, rows)
    cells["tool results: clean / planted flagged (AUC)"] = (
        f"{_pct(cast(float, fig['fp_rate']))} / {_pct(cast(float, fig['recall']))} "
        f"({checkset.auc(scores, rows):.3f})"
    )
    per = cast(dict[str, float], fig["per_category"])
    for carrier in dict.fromkeys(r.category for r in rows):
        n0 = sum(1 for r in rows if r.category == carrier and not r.label)
        n1 = sum(1 for r in rows if r.category == carrier and r.label)
        cells[f"  {carrier} ({n0} clean / {n1} planted)"] = (
            f"{_pct(per[f'benign/{carrier}'])} / {_pct(per[f'harmful/{carrier}'])}"
        )
    return cells


def main(argv: list[str]) -> int:
    if argv[:1] == ["--leaning"]:
        model = load_model("prompt_injection")
        for text in argv[1:]:
            print(f"{model.score(text):.3f} {text!r}: {model.leaning(text, 10)}")
        return 0
    models = [load_artefact("prompt_injection", Path(a))[0] for a in argv] or [load_model("prompt_injection")]
    reports = [report(m) for m in models]
    print("| figure | " + " | ".join(f"model {i + 1}" for i in range(len(reports))) + " |")
    print("|---|" + "---|" * len(reports))
    for key in reports[0]:
        print(f"| {key} | " + " | ".join(r[key] for r in reports) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
