"""Writes a model card (data, method, figures, limits) from the figures of a training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PURPOSE = {
    "harmful_request": "Scores a user prompt as a request for harmful help (label `harmful`).",
    "harmful_response": "Scores a model completion as harmful content (label `harmful`).",
    "jailbreak": "Scores a prompt as a jailbreak attempt (role-play/DAN framing; label `jailbreak`).",
    "prompt_injection": "Scores retrieved documents and tool results for injected instructions "
    "(label `prompt_injection`).",
}
DATA = {
    "harmful_request": "Positives: `harmful_request` rows of prompts_train (AdvBench, Do-Not-Answer, "
    "GPTFuzz questions), past/future rewordings of them, the same requests recast as first-person "
    "questions, and the train split's red-team openings (Anthropic HH, weakly labelled, fitting "
    "weight 0.5). Negatives: `benign` rows (NQ-open, Self-Instruct), the train BIPIA attack "
    "instructions (not requests for harm), and project-written material that breaks the style "
    "shortcut of the public data (imperative benign requests in the benchmark frames, a harmless "
    "twin of each imperative harmful request with the same frame, NQ questions recast as requests, "
    "harmless tasks asked as first-person questions, short everyday messages and data-bearing "
    "statements, alarming-sounding benign prompts, benign system prompts; training/styled.py and "
    "training/synthetic.py).",
    "jailbreak": "Positives: `jailbreak_prompt` rows and `jailbreak_template` rows of prompts_train, "
    "each template filled three times with harmful requests of the train split. Negatives: benign "
    "rows, plain harmful requests (a request without framing is not a jailbreak), a third of the "
    "completions_train responses, and hand-written benign system prompts and role play.",
    "prompt_injection": "Positives: each BIPIA attack of prompts_train embedded six times, at the "
    "start, middle or end of a carrier text (generated prose or a non-refusal answer from "
    "completions_train) wrapped as an email, web page, search tool result, table or code file. "
    "Negatives: the same kinds of carriers without an attack, and benign prompts.",
    "harmful_response": "completions_train.csv (GPTFuzz): model responses labelled harmful (1) or "
    "not (0); the response text only (the question is not seen at serving time).",
}
LIMITS = {
    "harmful_request": "Bag of n-grams: it recognises topics and phrasing, not intent. The public "
    "data ties harm to imperative phrasing and safety to NQ-style questions; the training set now "
    "covers both styles in both classes, which lowered dev recall at the benign-only point (the dev "
    "split rewards the style shortcut) but cut false positives on the hand-written check set "
    "from 24% to 9% at that point. Benign prompts built as near-copies of harmful ones "
    "(JailbreakBench benign) score high, so the threshold that keeps their FP at 10% gives up "
    "most of the recall; "
    "`meta.threshold_benign_budget_only` catches far more at the cost of over-refusal. Short "
    "messages have few n-grams and less reliable scores. The check set is written by the same "
    "team as the synthetic training material, so its figures may be optimistic. English only. "
    "Static embeddings distilled from MiniLM (model2vec), alone, averaged with this model or in "
    "one model with its n-grams, did no better on dev (bench/BENCHMARKS.md, training/embed_compare.py).",
    "jailbreak": "Knows the jailbreak families of its training data (DAN, role play, developer "
    "mode, templates); a new framing style may pass. Plain harmful requests are not its job "
    "(use harmful_request). English only in practice.",
    "prompt_injection": "Dev carriers come partly from the same generator as the training carriers, "
    "so the dev figures are optimistic; real documents are more varied. Instructions that are "
    'harmless on their own ("What is the capital of Brazil?") are only attacks in context, and a '
    "linear model sees no context. Hand-written clean emails and tool results outside the "
    "generator's style score 0.1-0.3, above the dev-tuned threshold. It knows the BIPIA attack "
    "families it was trained on (code to include, tasks to append, links to promote), not "
    '"ignore previous instructions" overrides: on 20 hand-written documents with and without an '
    "injected instruction (training/injection_checkset.jsonl) it ranks attacked above clean at "
    "chance (AUC 0.51) and flags none at 0.6. Do not block on this model alone; the heuristic "
    "`prompt_injection` classifier covers the overrides. English only in practice.",
    "harmful_response": "Trained on responses to GPTFuzz jailbreak questions; responses about other "
    "topics, very long completions (scored on their first and last 3,000 characters) and other "
    "languages are less reliable. The threshold maximises F1 on the same dev set it is reported "
    "on.",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def write_card(path: Path, figures: dict[str, Any]) -> None:
    """Writes `<name>.md` beside the artefact."""
    name = figures["name"]
    lines = [
        f"# Model card: {name} (version {figures['version']})",
        "",
        PURPOSE[name],
        "",
        "## Method",
        "Logistic regression (scikit-learn, liblinear, balanced class weights, fixed seed) over "
        "TF-IDF weighted character 3-5-grams and word 1-2-grams of folded text (NFKC, invisible "
        "characters removed, case folded, look-alike letters and leetspeak folded; see "
        "`features.py`). Served by a pure-Python scorer (`loader.py`): no numpy, no scikit-learn.",
        f"Config: `{figures.get('config', '')}`; {figures['features']} n-grams; artefact "
        f"{figures['artefact_bytes'] // 1024} KiB. Reproduce: `python -m training.train {name}`.",
        "",
        "## Data",
        DATA[name],
        "",
        "Training set sizes:",
        "",
        *[f"- {k}: {v}" for k, v in figures["train_groups"].items()],
        "",
        "## Figures (dev split)",
        f"Threshold {figures['threshold']} (tuned on dev).",
    ]
    if figures.get("threshold_benign_budget_only") is not None:
        lines.append(
            f"Looser operating point (benign FP budget only): {figures['threshold_benign_budget_only']}."
        )
    lines += ["", "| group | label | n | flagged |", "|---|---|---|---|"]
    lines += [f"| {g['group']} | {g['label']} | {g['n']} | {_pct(g['flagged'])} |" for g in figures["groups"]]
    f1 = figures["f1"]
    lines += [
        "",
        f"Precision {f1['precision']:.3f}, recall {f1['recall']:.3f}, F1 {f1['f1']:.3f} "
        "(all dev rows of the table, at the threshold).",
    ]
    if "robustness" in figures:
        lines += [
            "",
            "Recall after evasion transforms: "
            + ", ".join(f"{k} {_pct(v)}" for k, v in figures["robustness"].items()),
        ]
    if "checkset" in figures:
        check = figures["checkset"]
        lines += [
            "",
            "## Figures (hand-written style-matched check set, training/checkset.jsonl)",
            f"{check['at_threshold']['benign_n']} benign requests in the harmful benchmarks' style and "
            f"{check['at_threshold']['harmful_n']} harmful requests, written for this project; used "
            f"only for this report (never to fit or to tune). AUC {check['auc']:.3f}.",
            "",
            "| operating point | threshold | benign FP | harmful recall |",
            "|---|---|---|---|",
            *[
                f"| {label} | {check[key]['threshold']} | {_pct(check[key]['fp_rate'])} "
                f"| {_pct(check[key]['recall'])} |"
                for label, key in (
                    ("model threshold", "at_threshold"),
                    ("benign budget only", "at_benign_budget_only"),
                )
            ],
        ]
    lines += [
        "",
        "Other languages (hand-written samples, flagged share): "
        + "; ".join(
            f"{lang}: " + ", ".join(f"{k} {_pct(v)}" for k, v in d.items())
            for lang, d in figures["languages"].items()
        ),
    ]
    lines += ["", "## Limits", LIMITS[name], ""]
    path.write_text("\n".join(lines))
