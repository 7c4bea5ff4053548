"""French, German and Spanish planted instructions in the prompt_injection model
(`python -m training.injection_lang_compare [N | N+docs ...]`; measured, not shipped).

Refits the shipped recipe with each hand-written FR/DE/ES attack of training/injections_lang/ embedded
N times in that language's hand-written clean bodies (each clean body, wrapped, N times as a negative),
on data seeds 13 and 14, and prints the means: dev per group at the dev threshold, the held-out FR/DE/ES
document pairs (training/injection_languages_checkset.jsonl), the English document pairs and documents
about AI assistants, and the harmless prompts of training/languages_check_b/ (as sent and wrapped as a
document). N = 0 is the shipped recipe; "N+docs" adds the second round of longer clean documents
(`<language>_docs.jsonl`), "N+long" uses those alone. Figures: bench/BENCHMARKS.md,
"prompt_injection: French, German and Spanish".
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from training import checkset, data, evaluate, synthetic
from training.data import Example
from training.fit import refit_on_dev
from training.train import CONFIG

HERE = Path(__file__).resolve().parent
SEEDS = (13, 14)


def documents(count: int, seed: int, bodies: str = "") -> list[Example]:
    """Each FR/DE/ES attack embedded `count` times in a clean body of its language, and each clean
    body wrapped `count` times, as documents of both labels. `bodies` "docs" adds the longer clean
    documents of the second round (`<language>_docs.jsonl`: orders to human readers, talk about AI
    assistants) to the first round's bodies, "long" uses them alone."""
    rng = random.Random(f"injections_lang:{seed}")  # noqa: S311 (a seeded draw, not a secret)
    out = []
    for path in sorted((HERE / "injections_lang").glob("??.jsonl")):
        rows = _rows(path)
        attacks = [r["text"] for r in rows if r["kind"] == "attack"]
        clean = [r["text"] for r in rows if r["kind"] == "clean"]
        if bodies:
            long = [r["text"] for r in _rows(path.with_name(f"{path.stem}_docs.jsonl"))]
            clean = long if bodies == "long" else clean + long
        for attack in attacks * count:
            doc = synthetic.wrap_document(synthetic.embed(attack, rng.choice(clean), rng), rng)
            out.append(Example(doc, 1, "own/injections_lang"))
        out += [
            Example(synthetic.wrap_document(c, rng), 0, "own/injections_lang clean") for c in clean * count
        ]
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def refit(variant: str, seed: int) -> dict[str, float]:
    """One fit with N embeddings per FR/DE/ES attack (`variant` "N"; "N+docs" with the longer clean
    documents too, "N+long" with those alone): its figures as shares, keyed by column."""
    count, _, bodies = variant.partition("+")
    train = data.build("prompt_injection", "train", seed) + documents(int(count), seed, bodies)
    dev = data.build("prompt_injection", "dev", seed)
    fitted = refit_on_dev("prompt_injection", train, dev, CONFIG["prompt_injection"])
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
