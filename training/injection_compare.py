# ruff: noqa: S311  (seeded generators make the measurement reproducible; no secrets here)
"""Ordinary questions quoted in documents and the prompt_injection model
(`python -m training.injection_compare [N ...]`).

BIPIA counts a stray question inside a document as an attack ("What is the capital of Brazil?" in an
email), so the model learns to flag questions in retrieved content, FAQ pages and forum threads
included. This refits the shipped recipe with N extra negatives (default 0, 500 and 1,500): documents
that quote one to three questions of the hand-written everyday messages (training/everyday/). For
each N it prints the dev figures at the dev-tuned threshold, the injection check set, and how many
questions of the two everyday check sets (never used for fitting) are flagged inside `guard eval`'s
newsletter carrier. Figures: bench/BENCHMARKS.md, "prompt_injection".
"""

from __future__ import annotations

import functools
import random
import sys
from collections import defaultdict
from typing import Any, cast

from guard.classify.eval import CARRIER_HEAD, CARRIER_TAIL
from training import checkset, data, evaluate, synthetic
from training.fit import SEED, fit
from training.train import CONFIG

_INTERROGATIVE = tuple(
    f"{w} " for w in "how what why where when who which is are was were do does did will has have".split()
)


def questions(texts: list[str]) -> list[str]:
    """The texts that are questions (a final "?" or an interrogative first word)."""
    return [t for t in texts if t.rstrip().endswith("?") or t.casefold().startswith(_INTERROGATIVE)]


def quoting_documents(count: int, pool: list[str], rng: random.Random) -> list[data.Example]:
    """`count` clean documents, each quoting one to three questions of `pool` (label 0)."""
    out = []
    for carrier in data.carriers("train", rng, count):
        body = carrier
        for question in rng.sample(pool, rng.randint(1, 3)):
            body = synthetic.embed(question, body, rng)
        out.append(data.Example(synthetic.wrap_document(body, rng), 0, "documents/quoting questions"))
    return out


def _scores(vectorizer: Any, clf: Any, texts: list[str]) -> list[float]:
    return [float(p) for p in clf.predict_proba(vectorizer.transform(texts))[:, 1]]


def main(argv: list[str]) -> int:
    """`python -m training.injection_compare [N ...]`: the refit for each count of quoting documents."""
    counts = [int(a) for a in argv] or [0, 500, 1500]
    pool = questions([e.text for e in data.hand_written("everyday", 10**6, SEED)])
    held = questions(
        [r.text for path in (checkset.EVERYDAY_PATH, checkset.HELDOUT_PATH) for r in checkset.rows(path)]
    )
    quoted = [CARRIER_HEAD + q + CARRIER_TAIL for q in held]
    train = data.build("prompt_injection", "train", SEED)
    dev = data.build("prompt_injection", "dev", SEED)
    check = checkset.rows(checkset.INJECTION_PATH)
    print(f"{len(pool)} training questions, {len(held)} check-set questions")
    for count in counts:
        extra = quoting_documents(count, pool, random.Random(f"quoting:{count}"))
        vectorizer, clf = fit(train + extra, **CONFIG["prompt_injection"])
        score = functools.partial(_scores, vectorizer, clf)
        dev_scores = score([e.text for e in dev])
        threshold = evaluate.tune_threshold("prompt_injection", dev, dev_scores)
        flagged: dict[str, list[bool]] = defaultdict(list)
        for e, s in zip(dev, dev_scores, strict=True):
            flagged[e.group].append(s >= threshold)
        check_scores = score([r.text for r in check])
        fig = checkset.figures(check_scores, threshold, check)
        print(f"\n{count} quoting documents: threshold {threshold:.3f}")
        for group, hits in sorted(flagged.items()):
            print(f"  {group:<55} {100 * sum(hits) / len(hits):5.1f}% flagged")
        fp, recall = cast(float, fig["fp_rate"]), cast(float, fig["recall"])
        auc = checkset.auc(check_scores, check)
        print(f"  injection check set: FP {100 * fp:.1f}%, recall {100 * recall:.1f}%, AUC {auc:.3f}")
        share = checkset.flagged_share(score(quoted), threshold)
        print(f"  everyday questions in a newsletter: {100 * share:.1f}% flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
