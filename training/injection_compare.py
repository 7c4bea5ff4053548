# ruff: noqa: S311  (seeded generators make the measurement reproducible; no secrets here)
"""Ordinary questions quoted in documents, and hand-written documents, in the prompt_injection model
(`python -m training.injection_compare [N ...]`, `python -m training.injection_compare --hand-written`).

BIPIA counts a stray question inside a document as an attack ("What is the capital of Brazil?" in an
email), so the model learns to flag questions in retrieved content, FAQ pages and forum threads
included. This refits the shipped recipe with N extra negatives (default 0, 500 and 1,500): documents
that quote one to three questions of the hand-written everyday messages (training/everyday/). For
each N it prints the dev figures at the dev-tuned threshold, the injection check set, and how many
questions of the two everyday check sets (never used for fitting) are flagged inside `guard eval`'s
newsletter carrier. With `--hand-written` it refits with the hand-written document pairs
(training/injected_docs/), clean documents about AI assistants (training/ai_docs/) and ordinary
hand-written texts in several amounts, on data seeds 13-15, and prints the means of the dev and
check-set figures and of questions quoted in `guard eval`'s newsletter carrier.
Figures: bench/BENCHMARKS.md, "prompt_injection".
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from typing import cast

from guard.classify.eval import CARRIER_HEAD, CARRIER_TAIL
from training import checkset, data, synthetic
from training.fit import SEED, refit_on_dev
from training.train import CONFIG

_INTERROGATIVE = tuple(
    f"{w} " for w in "how what why where when who which is are was were do does did will has have".split()
)


def questions(texts: list[str]) -> list[str]:
    """The texts that are questions (a final "?" or an interrogative first word)."""
    return [t for t in texts if t.rstrip().endswith("?") or t.casefold().startswith(_INTERROGATIVE)]


def held_out_questions() -> list[str]:
    """The questions of the two everyday check sets (never used for fitting)."""
    rows = [r.text for path in (checkset.EVERYDAY_PATH, checkset.HELDOUT_PATH) for r in checkset.rows(path)]
    return questions(rows)


def in_newsletter(texts: list[str]) -> list[str]:
    """Each text quoted in `guard eval`'s newsletter carrier, as bench_packs' `@document` rows."""
    return [CARRIER_HEAD + t + CARRIER_TAIL for t in texts]


def quoting_documents(count: int, pool: list[str], rng: random.Random) -> list[data.Example]:
    """`count` clean documents, each quoting one to three questions of `pool` (label 0)."""
    out = []
    for carrier in data.carriers("train", rng, count):
        body = carrier
        for question in rng.sample(pool, rng.randint(1, 3)):
            body = synthetic.embed(question, body, rng)
        out.append(data.Example(synthetic.wrap_document(body, rng), 0, "documents/quoting questions"))
    return out


# (document pairs, AI documents, ordinary texts) refitted by `--hand-written`; none is shipped.
HAND_WRITTEN = ((0, 0, False), (480, 0, False), (0, 358, False), (480, 358, False), (480, 358, True))
HAND_WRITTEN_SEEDS = (13, 14, 15)
# Hand-written ordinary texts tried as extra negatives against short documents scoring as attacks.
ORDINARY_TEXTS = {"answers": 1000, "protective_answers": 600, "service": 997, "everyday": 1000}


def hand_written(variants: tuple[tuple[int, int, bool], ...] = HAND_WRITTEN) -> None:
    """For each (pairs, AI documents, ordinary texts): mean figures over three seeds, one table row."""
    pairs = checkset.pair_rows(checkset.INJECTED_DOCS_PATH)
    small = checkset.rows(checkset.INJECTION_PATH)
    ai_docs = [r.text for r in checkset.rows(checkset.AI_DOCS_PATH)]
    held = held_out_questions()
    columns = (
        "dev BIPIA embedded",
        "dev own attacks (held-out templates)",
        "pairs: clean / attacked flagged",
        "pairs AUC",
        "20 + 20 set: clean / attacked",
        "AI documents flagged",
        "everyday questions in the newsletter",
        "dev benign questions in the newsletter",
    )
    print("| pairs | AI documents | ordinary texts | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for n_pairs, n_docs, ordinary in variants:
        cells: dict[str, list[float]] = defaultdict(list)
        for seed in HAND_WRITTEN_SEEDS:
            train = [
                e
                for e in data.build("prompt_injection", "train", seed)
                if not e.group.startswith(("own/injected_docs", "own/ai_docs"))
            ]
            train += data.hand_written_pairs("injected_docs", n_pairs, seed)
            train += data.hand_written("ai_docs", n_docs, seed)
            if ordinary:
                train += [e for f, n in ORDINARY_TEXTS.items() for e in data.hand_written(f, n, seed)]
            dev = data.build("prompt_injection", "dev", seed)
            fitted = refit_on_dev("prompt_injection", train, dev, CONFIG["prompt_injection"])
            score, threshold = fitted.score, fitted.threshold
            cells["bipia"].append(fitted.flagged["prompt_injection/bipia_attacks (embedded)"])
            cells["own"].append(fitted.flagged["synthetic/injected documents (dev templates)"])
            for key, rows in (("pairs", pairs), ("small", small)):
                scores = score([r.text for r in rows])
                fig = checkset.figures(scores, threshold, rows)
                cells[f"{key} fp"].append(cast(float, fig["fp_rate"]))
                cells[f"{key} recall"].append(cast(float, fig["recall"]))
                cells[f"{key} auc"].append(checkset.auc(scores, rows))
            cells["ai"].append(checkset.flagged_share(score(ai_docs), threshold))
            for key, texts in (
                ("held", held),
                ("dev q", [e.text for e in dev if e.group.startswith("benign/")]),
            ):
                quoted = score(in_newsletter(texts))
                cells[key].append(checkset.flagged_share(quoted, threshold))
        mean = {k: sum(v) / len(v) for k, v in cells.items()}
        row = (
            f"{100 * mean['bipia']:.1f}",
            f"{100 * mean['own']:.1f}",
            f"{100 * mean['pairs fp']:.1f} / {100 * mean['pairs recall']:.1f}",
            f"{mean['pairs auc']:.3f}",
            f"{100 * mean['small fp']:.1f} / {100 * mean['small recall']:.1f}",
            f"{100 * mean['ai']:.1f}",
            f"{100 * mean['held']:.1f}",
            f"{100 * mean['dev q']:.1f}",
        )
        print(
            f"| {n_pairs} | {n_docs} | {'yes' if ordinary else 'no'} | " + " | ".join(row) + " |", flush=True
        )


def main(argv: list[str]) -> int:
    """`python -m training.injection_compare [N ...]`: the refit for each count of quoting documents."""
    if argv == ["--hand-written"]:
        hand_written()
        return 0
    counts = [int(a) for a in argv] or [0, 500, 1500]
    pool = questions([e.text for e in data.hand_written("everyday", 10**6, SEED)])
    held = held_out_questions()
    quoted = in_newsletter(held)
    train = data.build("prompt_injection", "train", SEED)
    dev = data.build("prompt_injection", "dev", SEED)
    check = checkset.rows(checkset.INJECTION_PATH)
    print(f"{len(pool)} training questions, {len(held)} check-set questions")
    for count in counts:
        extra = quoting_documents(count, pool, random.Random(f"quoting:{count}"))
        fitted = refit_on_dev("prompt_injection", train + extra, dev, CONFIG["prompt_injection"])
        score, threshold = fitted.score, fitted.threshold
        check_scores = score([r.text for r in check])
        fig = checkset.figures(check_scores, threshold, check)
        print(f"\n{count} quoting documents: threshold {threshold:.3f}")
        for group, share in sorted(fitted.flagged.items()):
            print(f"  {group:<55} {100 * share:5.1f}% flagged")
        fp, recall = cast(float, fig["fp_rate"]), cast(float, fig["recall"])
        auc = checkset.auc(check_scores, check)
        print(f"  injection check set: FP {100 * fp:.1f}%, recall {100 * recall:.1f}%, AUC {auc:.3f}")
        share = checkset.flagged_share(score(quoted), threshold)
        print(f"  everyday questions in a newsletter: {100 * share:.1f}% flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
