"""The measured comparison behind the choice of method (`python -m training.compare`).

Variants of the n-gram linear model on the two short-text tasks, each scored on dev at its own
dev-tuned operating point. Prints a Markdown table (copied into bench/BENCHMARKS.md).
A static-embedding model distilled from MiniLM (model2vec) was not measured: distilling needs
torch and transformers, which this environment cannot install within its limits.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from guard.classify.models.features import features
from training import data, evaluate
from training.fit import fit


def _words(text: str) -> list[str]:
    return [f for f in features(text) if f[:2] in ("w:", "b:")]


def _chars(text: str) -> list[str]:
    return [f for f in features(text) if f[:2] not in ("w:", "b:")]


VARIANTS: dict[str, tuple[Callable[[str], list[str]], float]] = {
    "char 3-5 + word 1-2, C=8": (features, 8.0),
    "char 3-5 + word 1-2, C=1": (features, 1.0),
    "word 1-2 only, C=8": (_words, 8.0),
    "char 3-5 only, C=8": (_chars, 8.0),
}


def _recall(examples: list[data.Example], scores: list[float], threshold: float) -> float:
    hits = [
        s >= threshold
        for e, s in zip(examples, scores, strict=True)
        if e.label and e.group.startswith("harmful_request/")
    ]
    return sum(hits) / len(hits)


def main() -> int:
    print(
        "| variant | harmful_request recall (both FP budgets) | recall (benign budget only) "
        "| harmful_response F1 | fit s |"
    )
    print("|---|---|---|---|---|")
    sets = {
        m: (data.build(m, "train"), data.build(m, "dev")) for m in ("harmful_request", "harmful_response")
    }
    for label, (analyzer, c) in VARIANTS.items():
        started = time.perf_counter()
        cells = []
        for name, (train, dev) in sets.items():
            vectorizer, clf = fit(train, c=c, max_features=40000, analyzer=analyzer)
            # Variants differ in features, so they are scored with scikit-learn, not the server.
            probs = clf.predict_proba(vectorizer.transform([e.text for e in dev]))[:, 1]
            scores = [float(p) for p in probs]
            if name == "harmful_request":
                strict = evaluate.tune_threshold(name, dev, scores)
                loose = evaluate.tune_threshold(name, dev, scores, only="benign/")
                cells += [f"{_recall(dev, scores, strict):.3f}", f"{_recall(dev, scores, loose):.3f}"]
            else:
                cells.append(f"{evaluate.best_f1(dev, scores)[1]:.3f}")
        print(f"| {label} | {' | '.join(cells)} | {time.perf_counter() - started:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
