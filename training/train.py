"""Trains every shipped model, tunes thresholds on dev, writes artefacts, model cards and figures.

    python -m training.train            # every shipped artefact: the four models and
                                        # harmful_request's conversational variant (about three
                                        # minutes on one core)
    python -m training.train jailbreak  # one model
    python -m training.train harmful_request --recipe conversational
                                        # the variant alone (harmful_request.conversational.json.gz)
    python -m training.train harmful_request --out /srv/guard-models
                                        # into a folder of its own (policy: artefact:)

Reads ../shared/data/safety (or $GUARD_SAFETY_DATA). Deterministic: fixed seeds, sorted outputs,
gzip without timestamps, so re-running on the same data rewrites identical files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from guard.classify.models.loader import VARIANTS, artefact_stem
from guard.classify.models.vocabulary import WINDOW_CHARS
from training import cards, checkset, data, evaluate
from training.fit import (
    BIGRAM_CONFIG,
    SEED,
    SPECIALIST_CONFIG,
    WORD_GRAMS,
    export,
    fit_parts,
    to_model,
    write,
)

MODELS_DIR = Path(__file__).resolve().parents[1] / "guard" / "classify" / "models"
# harmful_request's recipes: the shipped one, and the variants shipped beside it (loader.VARIANTS; a
# policy picks one with `variant:`), each in `<model>.<recipe>.json.gz`, its version naming it.
RECIPES = {"default": data.HARMFUL_RECIPE, "conversational": data.CONVERSATIONAL_RECIPE}
VERSION = "1"
# Version 2 of prompt_injection: retrained with the override/exfiltration/tool/... families; version 3
# adds French, German and Spanish planted instructions (data.language_injections), version 4 embeds
# each of them twice (data.LANGUAGE_INJECTIONS). Every model's next version (prompt_injection 5,
# jailbreak 5, harmful_request 20, harmful_response 4) adds no rows: `features.fold` reads a text
# written in leetspeak whole, its digit-only words included ("70" for "to"), and joins letters
# spread apart ("b o m b", "b.o.m.b"), which changes the n-grams of the few training rows that
# use either.
# Retrained for marks inside words, they became 6, 6, 21 and 5 (harmful_request 22 added rows);
# the next (prompt_injection 7, jailbreak 7, harmful_request 23, harmful_response 6) add no rows
# either: the fold splits letters spread with no word gaps back into words. harmful_request 25 (and
# its conversational variant) add harmless fragments as negatives (data.fragments); 26 asks the
# hand-written how-to questions again in polite request frames (data.politely_asked).
# prompt_injection 9 adds clean tool results full of addresses, and the same carriers with one
# attack each (data.TOOL_CARRIERS): version 8 scored a bare URL as an injection. prompt_injection 11
# adds no rows: its tool carriers also link to the documentation domains (example.com, ...) and
# write HTML anchors, as benign documents do (bench/bench_links.py).
VERSIONS = {"prompt_injection": "11", "jailbreak": "9", "harmful_request": "27", "harmful_response": "8"}
# Models served as the highest score of a text and of each run of this many consecutive sentences
# (loader.TextModel.sentences, vocabulary.Vocabulary.lookup), the threshold tuned on those scores:
# since prompt_injection version 3, whose planted sentence in a long document weighs little in the
# whole document's n-gram vector (bench/BENCHMARKS.md, training/injection_window_compare.py).
SENTENCE_RUNS = {"prompt_injection": 2}
# The thresholds the policy packs used before the models were retrained; reported for comparison.
PACK_THRESHOLD = 0.6
JAILBREAK_PACK_THRESHOLD = 0.2
# All-benign hand-written check sets of harmful_request (false positives only).
BENIGN_CHECKSETS = {
    "chat_checkset": checkset.CHAT_PATH,
    "tense_checkset": checkset.TENSE_PATH,
    "everyday_checkset": checkset.EVERYDAY_PATH,
    "everyday_heldout": checkset.HELDOUT_PATH,
    "service_checkset": checkset.SERVICE_PATH,
    "howto_everyday_checkset": checkset.HOWTO_EVERYDAY_PATH,
}

# harmful_request's two-label hand-written sets beside the style-matched one (cards.LABELLED_CHECKSETS).
LABELLED_CHECKSETS = {
    "contrast_checkset": checkset.CONTRAST_PATH,
    "requests_texts_checkset": checkset.TEXTS_PATH,
    "howto_checkset": checkset.HOWTO_PATH,
    "requests_conduct_checkset": checkset.CONDUCT_PATH,
    "requests_why_checkset": checkset.WHY_PATH,
    "requests_offensive_checkset": checkset.OFFENSIVE_PATH,
    "requests_excerpts_checkset": checkset.EXCERPTS_PATH,
    "futures_checkset": checkset.FUTURES_PATH,
}

# harmful_response's check sets of pairs (a harmful answer beside a same-shaped harmless twin).
PAIR_CHECKSETS = {
    "harmful_answers_checkset": checkset.HARMFUL_ANSWERS_PATH,
    "direct_answers_checkset": checkset.DIRECT_ANSWERS_PATH,
}

# harmful_response: the ordinary answers' openings scored, in words (a stream's first checks).
OPENING_WORDS = (2, 4, 8, 16)

# Chosen by the comparison in training/compare.py (see bench/BENCHMARKS.md).
CONFIG: dict[str, dict[str, Any]] = {
    # 60,000 n-grams since version 8: the French, German and Spanish ones need room of their own.
    "harmful_request": {"c": 1.5, "max_features": 60000},
    "jailbreak": {"c": 8.0, "max_features": 40000},
    "prompt_injection": {"c": 8.0, "max_features": 30000},
    "harmful_response": {"c": 8.0, "max_features": 40000},
}
# Models trained with the FR/DE/ES material of training/multilingual.py; their FR/DE/ES figures
# (dev templates, hand-written check set) are reported per language, never used for tuning.
MULTILINGUAL_MODELS = ("harmful_request",)
ROBUST_KINDS = {
    "harmful_request": ("harmful_request",),
    "jailbreak": ("jailbreak_prompt", "jailbreak_template"),
}


def train_one(name: str, recipe_name: str = "default", out: Path = MODELS_DIR) -> dict[str, Any]:
    """Trains, tunes and writes one model (artefact and card into `out`); returns its figures."""
    started = time.perf_counter()
    recipe = RECIPES[recipe_name]
    train = [_fitted(e) for e in data.build(name, "train", SEED, recipe=recipe)]
    dev = data.build(name, "dev", SEED)
    # Every model is fitted with the recipe's weights (only harmful_request holds weighted groups);
    # only harmful_request takes its specialist, word and bigram regressions and its group weights.
    if name != "harmful_request":
        recipe = dataclasses.replace(recipe, specialist=0.0, words=0.0, bigrams=0.0, group_weights=())
    if recipe.skip_pairs:
        raise ValueError("data.Recipe.skip_pairs is for training/compare.py: the server lacks those features")
    parts = fit_parts(train, recipe, SEED, **CONFIG[name])
    meta = _meta(name, train, recipe)
    version = VERSIONS.get(name, VERSION) + ("" if recipe_name == "default" else f"-{recipe_name}")
    raw = export(name, version, parts, 0.5, meta)
    if name in SENTENCE_RUNS:
        raw["sentences"] = SENTENCE_RUNS[name]
    model = to_model(name, raw)
    scores = model.scores([e.text for e in dev])
    threshold = evaluate.tune_threshold(name, dev, scores)
    raw["threshold"] = _round_up(threshold)
    if name in evaluate.FP_BUDGETS:
        # A second operating point for policies that accept over-refusal to catch more.
        loose = evaluate.tune_threshold(name, dev, scores, only="benign/")
        raw["meta"]["threshold_benign_budget_only"] = _round_up(loose)
    model = to_model(name, raw)
    figures: dict[str, Any] = {
        "name": name,
        "version": version,
        "recipe": recipe_name,
        "threshold": raw["threshold"],
        "config": CONFIG[name],
        "threshold_benign_budget_only": raw["meta"].get("threshold_benign_budget_only"),
        "features": len(raw["grams"]),
        "specialist": meta.get("specialist"),
        "words": meta.get("words"),
        "bigrams": meta.get("bigrams"),
        "sentences": raw.get("sentences", 0),
        "train_groups": _group_sizes(train),
        "groups": [vars(g) for g in evaluate.per_group(dev, scores, model.threshold)],
        "f1": evaluate.f1_at(dev, scores, model.threshold),
        "f1_at_0.5": evaluate.f1_at(dev, scores, 0.5),
        "languages": evaluate.languages(model),
    }
    if name == "harmful_request":
        # Hand-written style-matched prompts: reported only, never used to fit or to tune.
        loose = raw["meta"]["threshold_benign_budget_only"]
        figures["checkset"] = _labelled(
            model, checkset.rows(), at_threshold=model.threshold, at_benign_budget_only=loose
        )
        # Harmful prompts beside harmless ones in the same words or frames: reported only.
        for key, path in LABELLED_CHECKSETS.items():
            figures[key] = _labelled(
                model, checkset.rows(path), at_threshold=model.threshold, at_benign_budget_only=loose
            )
        # Hand-written benign prompts (everyday chat; history and future questions): reported only.
        for key, path in BENIGN_CHECKSETS.items():
            figures[key] = _flagged(model, path, at_threshold=model.threshold, at_benign_budget_only=loose)
    figures |= _instruction_checks(name, model)
    if name == "harmful_response":
        # Hand-written ordinary assistant answers: reported only.
        for key, path in (("answers_checkset", checkset.ANSWERS_PATH),
                          ("answers_more_checkset", checkset.ANSWERS_MORE_PATH)):
            figures[key] = _flagged(model, path, by_category=True, at_threshold=model.threshold)
        # What a stream's first checks see: the first words of those answers.
        answers = [r.text for r in checkset.rows(checkset.ANSWERS_PATH)]
        figures["answers_openings"] = {
            str(words): checkset.flagged_share(
                model.scores([" ".join(t.split()[:words]) for t in answers]), model.threshold
            )
            for words in OPENING_WORDS
        }
        # Hand-written short compliant answers to harmful requests beside harmless twins, vague ones
        # and ones that name the harm: reported only.
        for key, path in PAIR_CHECKSETS.items():
            figures[key] = _labelled(model, checkset.pair_rows(path), at_threshold=model.threshold)
    if name in MULTILINGUAL_MODELS:
        points = {
            "at_threshold": model.threshold,
            "at_benign_budget_only": raw["meta"].get("threshold_benign_budget_only", model.threshold),
        }
        figures["multilingual"] = evaluate.multilingual(model, data.multilingual_rows(name, "dev"), points)
    if name in ROBUST_KINDS:
        figures["robustness"] = evaluate.robustness(model, dev, ROBUST_KINDS[name])
    stem = artefact_stem(name, None if recipe_name == "default" else recipe_name)
    path = write(raw, out, stem)
    figures["artefact_bytes"] = path.stat().st_size
    cards.write_card(out / f"{stem}.md", figures)
    print(f"{name}: trained in {time.perf_counter() - started:.1f} s")
    return figures


# A training text longer than this is fitted on its first and last halves of it: the models are
# fitted on texts of at most a window's length, and read a longer one whole and in windows of it
# (vocabulary.WINDOW_CHARS), each like a text they were fitted on.
FIT_CHARS = WINDOW_CHARS


def _fitted(example: data.Example) -> data.Example:
    if len(example.text) <= FIT_CHARS:
        return example
    half = FIT_CHARS // 2
    return dataclasses.replace(example, text=example.text[:half] + " " + example.text[-half:])


def _meta(name: str, train: list[data.Example], recipe: data.Recipe) -> dict[str, Any]:
    """The artefact's `meta`: what each regression was fitted on, with which config."""
    meta: dict[str, Any] = {
        "trained_on": f"{len(train)} examples ({sum(e.label for e in train)} positive)",
        "config": CONFIG[name],
        "seed": SEED,
    }
    if recipe.specialist:
        specialist = data.specialist_set(train, recipe, SEED)
        meta["specialist"] = {
            "weight": recipe.specialist,
            "config": SPECIALIST_CONFIG,
            "trained_on": f"{len(specialist)} examples ({sum(e.label for e in specialist)} positive)",
        }
    if recipe.words:
        meta["words"] = {"weight": recipe.words, "config": {"c": recipe.words_c, "max_features": WORD_GRAMS}}
        if recipe.words_pastfuture:
            meta["words"]["fitted_on"] = "the bigram regression's rows (below)"
    if recipe.bigrams:
        rows, _ = data.bigram_set(train, data.weights(train, recipe), SEED, recipe)
        meta["bigrams"] = {
            "weight": recipe.bigrams,
            "config": BIGRAM_CONFIG,
            "trained_on": f"{len(rows)} examples ({sum(e.label for e in rows)} positive)",
        }
    return meta


def _instruction_checks(name: str, model: Any) -> dict[str, Any]:
    """prompt_injection's and jailbreak's hand-written check sets (reported only)."""
    out: dict[str, Any] = {}
    if name == "prompt_injection":
        # Hand-written documents with and without an injected instruction: reported only.
        out["injection_checkset"] = _labelled(
            model,
            checkset.rows(checkset.INJECTION_PATH),
            at_threshold=model.threshold,
            at_pack_threshold=PACK_THRESHOLD,
        )
        # Hand-written document pairs (clean / one planted instruction) and clean documents about
        # AI assistants: reported only.
        out["injected_docs_checkset"] = _labelled(
            model, checkset.pair_rows(checkset.INJECTED_DOCS_PATH), at_threshold=model.threshold
        )
        out["ai_docs_checkset"] = _flagged(model, checkset.AI_DOCS_PATH, at_threshold=model.threshold)
        # The same kind of pairs in French, German and Spanish: reported only.
        out["injection_languages_checkset"] = _labelled(
            model, checkset.pair_rows(checkset.INJECTION_LANGUAGES_PATH), at_threshold=model.threshold
        )
        # Clean tool results and retrieved content full of addresses, and the same with one planted
        # instruction: reported only.
        out["tool_results_checkset"] = _labelled(
            model, checkset.rows(checkset.TOOL_RESULTS_PATH), at_threshold=model.threshold
        )
    if name == "jailbreak":
        # Hand-written ordinary system prompts and persona requests: reported only.
        out["instructions_checkset"] = _flagged(
            model,
            checkset.INSTRUCTIONS_PATH,
            at_threshold=model.threshold,
            at_pack_threshold=JAILBREAK_PACK_THRESHOLD,
        )
        # Hand-written role-play, persona and standing-rule messages of users: reported only.
        out["roleplay_checkset"] = _flagged(
            model,
            checkset.ROLEPLAY_PATH,
            by_category=True,
            at_threshold=model.threshold,
            at_pack_threshold=JAILBREAK_PACK_THRESHOLD,
        )
        # Hand-written FR/DE/ES jailbreaks beside harmless set-ups: reported only.
        out["jailbreak_languages_checkset"] = _labelled(
            model,
            checkset.rows(checkset.JAILBREAK_LANGUAGES_PATH),
            at_threshold=model.threshold,
            at_pack_threshold=JAILBREAK_PACK_THRESHOLD,
        )
    return out


def _labelled(model: Any, rows: list[checkset.CheckRow], **points: float) -> dict[str, Any]:
    """A check set with both labels: its AUC, and FP rate and recall at each named threshold."""
    scores = model.scores([r.text for r in rows])
    return {"auc": checkset.auc(scores, rows)} | {
        name: checkset.figures(scores, t, rows) for name, t in points.items()
    }


def _flagged(model: Any, path: Path, by_category: bool = False, **points: float) -> dict[str, Any]:
    """How much of an all-benign check set scores at or above each named threshold
    (`fp_<name>`), and per category at the first one when `by_category`."""
    rows = checkset.rows(path)
    scores = model.scores([r.text for r in rows])
    out: dict[str, Any] = {"n": len(rows)}
    out |= {f"fp_{name}": checkset.flagged_share(scores, t) for name, t in points.items()}
    if by_category:
        out["per_category"] = checkset.flagged_by_category(rows, scores, next(iter(points.values())))
    return out


def _round_up(threshold: float) -> float:
    # Rounding down could let one more dev negative over the threshold than the budget allows.
    return math.ceil(threshold * 1e6) / 1e6


def _group_sizes(examples: list[data.Example]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for e in examples:
        key = f"{e.group} (label {e.label})"
        sizes[key] = sizes.get(key, 0) + 1
    return dict(sorted(sizes.items()))


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train guard's models on ../shared/data/safety (or $GUARD_SAFETY_DATA), tune "
        "their thresholds on the dev split and write artefacts, model cards and figures.json.",
        epilog="examples:\n  python -m training.train\n  python -m training.train jailbreak\n"
        "  python -m training.train harmful_request --recipe conversational\n"
        "  python -m training.train harmful_request --out /srv/guard-models\n"
        "then, in a policy: {type: harmful_request, artefact: /srv/guard-models/harmful_request.json.gz}\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"models to train (default: all of {', '.join(data.MODELS)}, and "
                        "harmful_request's variants)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="default",
                        help="harmful_request's training recipe (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for artefacts, cards and figures.json (default: the package's)")
    args = parser.parse_args(argv)
    if unknown := sorted(set(args.models) - set(data.MODELS)):
        parser.error(f"unknown model {', '.join(unknown)} (expected {', '.join(data.MODELS)})")
    if args.recipe != "default" and args.models != ["harmful_request"]:
        parser.error(f"--recipe {args.recipe} is a harmful_request recipe: name that model alone")
    return args


def jobs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(model, recipe) pairs to train: those named, or every shipped artefact (the four models, then
    each variant of theirs)."""
    if args.models:
        return [(name, args.recipe) for name in args.models]
    return [(name, "default") for name in data.MODELS] + [
        (name, variant) for name in data.MODELS for variant in VARIANTS.get(name, ())
    ]


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    out: Path = args.out or MODELS_DIR
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "figures.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for name, recipe in jobs(args):
        figures = train_one(name, recipe, out)
        results[artefact_stem(name, None if recipe == "default" else recipe)] = figures
        print(
            f"{name}: threshold {figures['threshold']:.4f}, {figures['features']} n-grams, "
            f"{figures['artefact_bytes'] // 1024} KiB"
        )
        for g in figures["groups"]:
            print(f"   {g['group']:<55} label={g['label']} n={g['n']:<5} flagged={g['flagged']:.3f}")
        if "robustness" in figures:
            print("   robustness:", {k: round(v, 3) for k, v in figures["robustness"].items()})
        for key in ("checkset", *PAIR_CHECKSETS):
            for point, fig in figures.get(key, {}).items():
                if point.startswith("at_"):
                    print(f"   {key} {point}: FP {fig['fp_rate']:.3f} recall {fig['recall']:.3f}")
        for key in (*BENIGN_CHECKSETS, "instructions_checkset", "roleplay_checkset", "answers_checkset",
                    "answers_more_checkset"):
            if key in figures:
                shown = {k: v if isinstance(v, dict) else round(v, 3) for k, v in figures[key].items()}
                print(f"   {key}:", shown)
        if "injection_checkset" in figures:
            check = figures["injection_checkset"]
            print(f"   injection check set AUC {check['auc']:.3f}")
            for point in ("at_threshold", "at_pack_threshold"):
                fig = check[point]
                print(f"   {point} {fig['threshold']}: FP {fig['fp_rate']:.3f} recall {fig['recall']:.3f}")
        print("   languages:", figures["languages"])
        print("   f1:", {k: round(v, 3) for k, v in figures["f1"].items()})
    results_path.write_text(json.dumps(dict(sorted(results.items())), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
