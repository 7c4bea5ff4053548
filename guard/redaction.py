"""Masking spans of a text: the one place redaction happens, prompt and completion alike."""

from __future__ import annotations

from collections.abc import Iterable

from guard.types import Span

DEFAULT_MASK = "[REDACTED:{label}]"


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted spans with overlapping or touching ones merged (the first label is kept)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.label)
            continue
        merged.append(span)
    return merged


def apply_redactions(text: str, spans: Iterable[Span], mask: str = DEFAULT_MASK) -> str:
    """`text` with every span replaced by `mask` (`{label}` becomes the span's label)."""
    out: list[str] = []
    pos = 0
    for span in merge_spans(spans):
        start, end = max(span.start, pos), min(span.end, len(text))
        if start >= end:
            continue
        out.append(text[pos:start])
        out.append(mask.replace("{label}", span.label))
        pos = end
    out.append(text[pos:])
    return "".join(out)
