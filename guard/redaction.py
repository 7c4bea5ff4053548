"""Masking spans of a text: the one place redaction happens, prompt and completion alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from guard.types import Segment, Span

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


def reaching_back(redactions: Mapping[int, tuple[Span, ...]], segments: Sequence[Segment]
                  ) -> Mapping[int, tuple[Span, ...]]:
    """`redactions` with every span that starts before its segment (a value sent in pieces,
    found where it ends: `LocalClassifier._across`) masked in the texts of its role before it
    too, from their ends back, as they were read joined (`runner.in_context`)."""
    if not any(span.start < 0 for spans in redactions.values() for span in spans):
        return redactions
    out = {index: list(spans) for index, spans in redactions.items()}
    by_index = {segment.index: segment for segment in segments}
    for index, spans in redactions.items():
        role = by_index[index].role if index in by_index else None
        earlier = [s for s in segments if s.role == role and s.index < index]
        for span in spans:
            back = -span.start
            for segment in reversed(earlier):
                if back <= 0:
                    break
                size = len(segment.text)
                out.setdefault(segment.index, []).append(Span(max(0, size - back), size,
                                                              span.label))
                back -= size
    return {index: tuple(merge_spans(spans)) for index, spans in out.items()}
