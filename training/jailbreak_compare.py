"""Hand-written role-play and standing-rule messages, and French, German and Spanish prompts, in the
jailbreak model (`python -m training.jailbreak_compare [--languages] [N ...]`).

Jailbreaks share their form with ordinary traffic: users who set up a persona, a game, a tutor, a
rehearsal or standing rules. This refits the shipped recipe with N of the hand-written harmless
messages of training/roleplay/ as negatives (default 0, 400 and all 762) on data seeds 13-15 and
prints the means: dev recall, the dev negatives with a budget, the plain harmful requests (not the
model's job, reported only), and the two hand-written check sets (ordinary instructions, role-play)
at the dev threshold and at the packs' 0.2. Figures: bench/BENCHMARKS.md, "jailbreak version 3".

With `--languages`, N is instead the count of hand-written FR/DE/ES jailbreaks and harmless messages of
training/jailbreak_languages/ (both labels; default 0 and all), with the shipped role-play negatives;
the FR/DE/ES check set (training/jailbreak_languages_checkset.jsonl) and the ordinary FR/DE/ES prompts
of training/languages_check/ are reported too.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from training import checkset, data, evaluate
from training.fit import refit_on_dev
from training.train import CONFIG, JAILBREAK_PACK_THRESHOLD

SEEDS = (13, 14, 15)
CHECK_SETS = {"ordinary instructions": checkset.INSTRUCTIONS_PATH, "role-play": checkset.ROLEPLAY_PATH}


def refit(count: int, seed: int, languages: int | None = None) -> dict[str, float]:
    """One fit with `count` role-play negatives and the shipped FR/DE/ES rows (or, given `languages`,
    the shipped role-play and that many FR/DE/ES rows of both labels, without harmful_request's FR/DE/ES
    prompts): its figures as shares, keyed by column."""
    ours = ("own/roleplay",)
    if languages is not None:
        ours += (
            "own/jailbreak_languages safe",
            "own/jailbreak_languages unsafe",
            data.LANGUAGE_NEGATIVES_GROUP,
        )
    train = [e for e in data.build("jailbreak", "train", seed) if e.group not in ours]
    if languages is None:
        train += data.hand_written("roleplay", count, seed)
    else:
        train += data.hand_written("roleplay", data.ROLEPLAY, seed)
        train += data.hand_written_labelled("jailbreak_languages", languages, seed)
    dev = data.build("jailbreak", "dev", seed)
    fitted = refit_on_dev("jailbreak", train, dev, CONFIG["jailbreak"])
    hits: dict[str, list[bool]] = defaultdict(list)
    for e, s in zip(dev, fitted.dev_scores, strict=True):
        hits["dev recall" if e.label else e.group.split("/")[0]].append(s >= fitted.threshold)
    out = {key: sum(h) / len(h) for key, h in hits.items()}
    score, threshold = fitted.score, fitted.threshold
    for name, path in CHECK_SETS.items():
        scores = score([r.text for r in checkset.rows(path)])
        out[f"{name} at the dev threshold"] = checkset.flagged_share(scores, threshold)
        out[f"{name} at 0.2"] = checkset.flagged_share(scores, JAILBREAK_PACK_THRESHOLD)
    if languages is not None:
        rows = checkset.rows(checkset.JAILBREAK_LANGUAGES_PATH)
        scores = score([r.text for r in rows])
        for label, kind in ((1, "jailbreaks"), (0, "harmless")):
            mine = [s for r, s in zip(rows, scores, strict=True) if r.label == label]
            out[f"FR/DE/ES {kind} at the dev threshold"] = checkset.flagged_share(mine, threshold)
            out[f"FR/DE/ES {kind} at 0.2"] = checkset.flagged_share(mine, JAILBREAK_PACK_THRESHOLD)
        # Ordinary FR/DE/ES prompts (the harmless half of harmful_request's FR/DE/ES check set).
        ordinary = score([r.text for r in checkset.language_rows() if not r.label])
        out["FR/DE/ES ordinary prompts at 0.2"] = checkset.flagged_share(ordinary, JAILBREAK_PACK_THRESHOLD)
    return out


def main(argv: list[str]) -> int:
    """`python -m training.jailbreak_compare [--languages] [N ...]`: one table row per count, means of
    three seeds."""
    languages = argv[:1] == ["--languages"]
    argv = argv[1:] if languages else argv
    counts = [int(a) for a in argv] or ([0, 10**6] if languages else [0, 400, 762])
    first = "FR/DE/ES rows" if languages else "role-play negatives"
    evaluate.print_mean_rows(
        first, counts, lambda n: [refit(n, seed, n if languages else None) for seed in SEEDS], percent=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
