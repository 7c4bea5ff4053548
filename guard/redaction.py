"""Masking spans of a text: the one place redaction happens, prompt and completion alike."""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from guard.classify.normalize import blank
from guard.types import Action, Decision, Segment, Span, joined_role

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
    found where it ends: `LocalClassifier._across`) masked in the texts of its role (and of the
    roles read with it, `joined_role`) before it too, from their ends back, as they were read
    joined (`runner.in_context`)."""
    if not any(span.start < 0 for spans in redactions.values() for span in spans):
        return redactions
    out = {index: list(spans) for index, spans in redactions.items()}
    by_index = {segment.index: segment for segment in segments}
    for index, spans in redactions.items():
        role = joined_role(by_index[index].role) if index in by_index else None
        earlier = [s for s in segments
                   if joined_role(s.role) == role and s.index < index and not blank(s.text)]
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


# A JSON string literal from its opening quote: its characters and escapes, and its closing quote
# (absent when the text ends inside it: a stream's text so far).
_LITERAL = re.compile(r'"(?:[^"\\]|\\(?:u[0-9a-fA-F]{4}|.))*("?)', re.S)
_ESCAPE = re.compile(r'\\(?:u[0-9a-fA-F]{4}|.)', re.S)
# An escape the text ends inside of: a backslash, or `\u` and fewer than four hex digits.
_OPEN_ESCAPE = re.compile(r'(?<!\\)(?:\\\\)*(\\(?:u[0-9a-fA-F]{0,3})?)\Z')


def _literals(text: str) -> tuple[list[tuple[int, int]], str | None]:
    """The content of each string literal of JSON `text` (start and end offsets, the quotes
    left out), and how the text ends: None outside a literal, else the opening a text going on
    from it begins inside of (`"`, and an escape left open)."""
    found: list[tuple[int, int]] = []
    pos, tail = 0, None
    while (quote := text.find('"', pos)) >= 0:
        literal = cast(re.Match[str], _LITERAL.match(text, quote))
        closed = bool(literal.group(1))
        found.append((quote + 1, literal.end() - closed))
        pos = literal.end()
        if not closed:  # it goes on past the end, maybe inside an escape
            open_escape = _OPEN_ESCAPE.search(text, quote + 1)
            tail = '"' + (open_escape.group(1) if open_escape else "")
            break
    return found, tail


def json_opening(opened: str, text: str) -> str:
    """How a JSON text going on after `text` begins (`breaks_json`'s `opened`), when `text`
    began as `opened`: a stream's text read on from a point it has moved past."""
    return _literals(opened + text)[1] or ""


def breaks_json(text: str, spans: Iterable[Span], mask: str, opened: str = "") -> bool:
    """Whether masking `spans` of JSON `text` would leave it other than JSON: a span reaching
    outside a string literal's content (a number, a key's quotes, a `true`), or cutting one of
    its escapes in two, or a mask that is not a string's content as written (a quote, a
    backslash). `opened`: the text begins inside a literal (`json_opening`). Masks inside
    string literals are masks; this is the one place that tells them apart."""
    spans = merge_spans(spans)
    if not spans:
        return False
    shift = len(opened)
    read = opened + text
    literals, _ = _literals(read)
    if any(ch in mask for ch in '"\\') or any(ord(ch) < 0x20 for ch in mask):
        return True
    starts = [a for a, _ in literals]  # in order, literals do not overlap
    for span in spans:
        start, end = span.start + shift, min(span.end, len(text)) + shift
        if start >= end:
            continue
        at = bisect.bisect_right(starts, start) - 1  # the last literal opening at or before it
        if at < 0 or end > literals[at][1]:
            return True
        inside = literals[at]
        if "\\" in read[inside[0]:inside[1]] and any(
                escape.start() < at < escape.end() for at in (start, end)
                for escape in _ESCAPE.finditer(read, inside[0], inside[1])):
            return True
    return False


def refused_for_json(decision: Decision, texts: Iterable[tuple[int, str]]) -> Decision:
    """`decision`, or a block where one of its masks would land outside a JSON string literal
    of `texts` (each a segment number and a text that is JSON: a call's arguments, an answer
    asked for as JSON, `breaks_json`): a number masked would not parse, and the SDKs' parse
    helpers raise JSON and validation errors where a refusal gets their ordinary one."""
    if decision.action is not Action.REDACT:
        return decision
    if any((spans := decision.redactions.get(n)) and breaks_json(text, spans, decision.mask)
           for n, text in texts):
        return as_block(decision)
    return decision


def as_block(decision: Decision) -> Decision:
    """A redacting decision turned into a block (its masks would break JSON)."""
    return dataclasses.replace(decision, action=Action.BLOCK, redactions={})
