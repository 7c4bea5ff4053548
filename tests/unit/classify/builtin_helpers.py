"""Run one built-in classifier on one text, the way a policy would build it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from guard.classify.registry import build_classifier
from guard.types import Segment, Stage, Verdict


def classify(type_name: str, text: str, role: str = "user", **config: Any) -> Verdict:
    built = build_classifier("t", {"type": type_name, **config})
    classifier: Any = built.classifier
    return classifier.classify_sync([Segment(text, role, 0, Stage.PROMPT)])[0]


def found(verdict: Verdict, text: str) -> list[tuple[str, str]]:
    """(label, original characters) of every span."""
    return [(s.label, text[s.start:s.end]) for s in verdict.spans]


# Synthetic keys (none is a live credential) in the documented shape of each provider format
# added after the first set, by kind (tests/unit/classify/test_classify_secrets.py).
PROVIDER_KEYS = {
    "huggingface_token": "hf_" + "iKZWeqhFWCEPyYngFbyBMWXaSCrUZoLgub",
    "npm_token": "npm_" + "9382dffx1kVZQ2tqMnMcLRkBOzZU3G8xI7CG",
    "pypi_token": "pypi-AgEIcHlwaS5vcmc" + "EqV8ib8HDy88YtDtXbiufMdI8X2Y4rUmer_BH3M1XS0DRdJuPnBIKpi99lSi0tc"
                  "L21pffWQJEeNajnez0LHtfROUrWW6XnI3EM3HMRb1OcWrhQ7TTJ-chcVG6MOwUxOVHMWndqNCIEPx3mnPQC4vkRB5ICpeyOxJ",
    "sendgrid_key": "SG." + "EMnY9tlicZLhCUJwnHBdHI" + "." + "yvNLVlRXFwF8JlMaLNy02K35uDNHfkf7J8Rszi0z4Jx",
    "digitalocean_token": "dop_v1_" + "8b0e7153bf7c3706d85c524e440066559a6656c90bd5482a90a29b9fa5ff5180",
    "shopify_token": "shpat_" + "2f8104fba08f6d3682da2bd8e369316b",
    "databricks_token": "dapi" + "a4c123b1612dd272d1371c17149d4395",
    "age_secret_key": "AGE-SECRET-KEY-1" + "WHCGVZ9G0DEPALACLVE9LWP367C8SXYCCXR409LDFYZLVFAUJKMG2X5KLV",
}


def lines_run(type_name: str, text: str, **config: Any) -> int:
    """Lines of Python that classifying `text` runs (the classifier built beforehand): a count
    that, unlike a time, does not depend on the machine or its load, for checking how a scan's
    cost grows with its input."""
    built = build_classifier("t", {"type": type_name, **config})
    classifier: Any = built.classifier
    return lines_counted(lambda: classifier.classify_sync([Segment(text, "user", 0, Stage.PROMPT)]))


def lines_counted(work: Callable[[], object]) -> int:
    """Lines of Python that `work()` runs (`lines_run`)."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        work()
    finally:
        sys.settrace(None)
    return count
