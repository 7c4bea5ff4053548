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
    "GPTFuzz questions) plus past/future rewordings of them made by regular expressions. Negatives: "
    "`benign` rows (NQ-open, Self-Instruct) plus hand-written benign prompts that sound alarming, "
    "benign requests phrased like the harmful benchmarks, and benign system prompts "
    "(training/synthetic.py).",
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
    "harmful_request": "Bag of n-grams: it recognises topics and phrasing, not intent. Benign "
    "prompts built as near-copies of harmful ones (JailbreakBench benign) score high, so the "
    "threshold that keeps their false positives at 10% gives up most of the recall; the looser "
    "operating point in `meta.threshold_benign_budget_only` catches far more at the cost of "
    "over-refusal. English only in practice.",
    "jailbreak": "Knows the jailbreak families of its training data (DAN, role play, developer "
    "mode, templates); a new framing style may pass. Plain harmful requests are not its job "
    "(use harmful_request). English only in practice.",
    "prompt_injection": "Dev carriers come partly from the same generator as the training carriers, "
    "so the dev figures are optimistic; real documents are more varied. Instructions that are "
    'harmless on their own ("What is the capital of Brazil?") are only attacks in context, and a '
    "linear model sees no context. Hand-written clean emails and tool results outside the "
    "generator's style score 0.1-0.3, above the dev-tuned threshold: do not block on this model "
    "alone; use it with the heuristic `prompt_injection` classifier or at a threshold near 0.6. "
    "English only in practice.",
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
