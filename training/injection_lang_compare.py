"""French, German and Spanish planted instructions in the prompt_injection model
(`python -m training.injection_lang_compare [N | N+docs ...]`; version 3 ships one of them).

Refits the shipped recipe with each hand-written FR/DE/ES attack of training/injections_lang/ embedded
N times in that language's hand-written clean bodies (each clean body, wrapped, N times as a negative),
on data seeds 13 and 14, and prints the means: dev per group at the dev threshold, the held-out FR/DE/ES
document pairs (training/injection_languages_checkset.jsonl), the English document pairs and documents
about AI assistants, and the harmless prompts of training/languages_check_b/ (as sent and wrapped as a
document). N = 0 is version 2's recipe; "N+docs" adds the second round of longer clean documents
(`<language>_docs.jsonl`), "N+long" uses those alone; "...@W" scores on runs of W sentences as the
server does; "1+docs@2" is version 3's and "2+docs@2" version 4's (`data.LANGUAGE_INJECTIONS`,
`train.SENTENCE_RUNS`).
Figures: bench/BENCHMARKS.md, "prompt_injection version 3".
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path

from training import checkset, data, evaluate, synthetic
from training.fit import refit_on_dev
from training.train import CONFIG

HERE = Path(__file__).resolve().parent
SEEDS = (13, 14)


def refit(variant: str, seed: int) -> dict[str, float]:
    """One fit with N embeddings per FR/DE/ES attack (`variant` "N"; "N+docs" with the longer clean
    documents too, "N+long" with those alone; "...@W" scored on runs of W sentences, as served):
    its figures as shares, keyed by column."""
    recipe, _, runs = variant.partition("@")
    count, _, bodies = recipe.partition("+")
    train = data.build("prompt_injection", "train", seed, injections=(int(count), bodies))
    dev = data.build("prompt_injection", "dev", seed)
    fitted = refit_on_dev("prompt_injection", train, dev, CONFIG["prompt_injection"], int(runs or 0))
    hits: dict[str, list[bool]] = defaultdict(list)
    for e, s in zip(dev, fitted.dev_scores, strict=True):
        hits[f"dev {e.group.split(' (')[0]}"].append(s >= fitted.threshold)
    out = {key: sum(h) / len(h) for key, h in hits.items()}
    score, threshold = fitted.score, fitted.threshold
    for name, path in (
        ("FR/DE/ES pairs", checkset.INJECTION_LANGUAGES_PATH),
        ("EN pairs", checkset.INJECTED_DOCS_PATH),
    ):
        rows = checkset.pair_rows(path)
        scores = score([r.text for r in rows])
        fig = checkset.figures(scores, threshold, rows)
        out[f"{name} caught"], out[f"{name} clean flagged"] = float(fig["recall"]), float(fig["fp_rate"])  # type: ignore[arg-type]
        out[f"{name} AUC"] = checkset.auc(scores, rows)
    out["EN documents about AI flagged"] = checkset.flagged_share(
        score([r.text for r in checkset.rows(checkset.AI_DOCS_PATH)]), threshold
    )
    ordinary = [r.text for r in checkset.language_rows(checkset.LANGUAGES_B_DIR) if not r.label]
    wrap = random.Random(0)  # noqa: S311 (a seeded draw, not a secret)
    out["FR/DE/ES prompts flagged"] = checkset.flagged_share(score(ordinary), threshold)
    out["FR/DE/ES prompts as documents flagged"] = checkset.flagged_share(
        score([synthetic.wrap_document(t, wrap) for t in ordinary]), threshold
    )
    out["threshold"] = threshold
    return out


def main(argv: list[str]) -> int:
    """One table row per variant ("N" or "N+docs"), means of the seeds."""
    counts = argv or ["0", "2"]
    evaluate.print_mean_rows(
        "embeddings per attack", counts, lambda n: [refit(n, seed) for seed in SEEDS], percent=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
