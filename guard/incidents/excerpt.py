"""Excerpts: the only place an incident may hold any of the text it is about.

An excerpt is built only when `incidents.excerpts` is on. It is redacted twice over: the spans the
classifiers found and the policy's redactions, of every segment (moved to where it starts in the
recorded text), are masked, then every credential-shaped or long number-shaped token is masked
whatever the policy said, and only then is the text truncated. A missed classifier span can
therefore leak a name or a phrase, never a key, a token, a password assignment or a card-length
number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from guard.redaction import apply_redactions
from guard.types import Decision, Span

MASK = "[REDACTED:{label}]"

# Linear-time patterns (no nested quantifiers), applied to at most a few kilobytes.
_CREDENTIALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private_key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.DOTALL)),
    ("credential", re.compile(r"(?i)\b(?:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")),
    ("credential", re.compile(
        r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|token|auth)"
        r"\s*[:=]\s*\S+")),
    ("credential", re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,9}[_-][A-Za-z0-9_-]{16,}")),
    ("credential", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("credential", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("url_credential", re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@")),
    ("number", re.compile(r"\b\d(?:[ -]?\d){8,}\b")),
    ("token", re.compile(r"\b(?=[A-Za-z0-9+/=_-]*\d)(?=[A-Za-z0-9+/=_-]*[A-Za-z])"
                         r"[A-Za-z0-9+/=_-]{24,}")),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
)


# A mask already written (the policy's, `[REDACTED:secret:github_token]`): its `secret:` reads
# as an assignment, and re-masked it came out as `[REDACTED:[REDACTED:credential]`.
_MASKED = re.compile(r"(\[REDACTED:[a-z_:]+\])")  # labels: lowercase letters, _ and :


def scrub(text: str) -> str:
    """`text` with every credential-shaped or long-number token masked, masks left as they are."""
    parts = _MASKED.split(text)  # text, mask, text, ...: the masks at odd places
    for i in range(0, len(parts), 2):
        for label, pattern in _CREDENTIALS:
            parts[i] = pattern.sub(MASK.replace("{label}", label), parts[i])
    return "".join(parts)


def build_excerpt(decision: Decision, text: str, limit: int,
                  starts: Mapping[int, int] | None = None) -> str:
    """A redacted excerpt of `text` at most `limit` characters long (an ellipsis marks a cut).
    `starts`: where each segment index starts in `text` (None: segment 0, at 0)."""
    # Look at a bounded prefix only: the excerpt is short, and scrubbing must stay cheap.
    window = text[: limit * 4 + 256]
    if len(window) < len(text):
        # The cut may split a secret; a prefix too short to be recognised must not survive.
        window = window[: max(window.rfind(" "), 0)]
    masked = scrub(apply_redactions(window, _flagged(decision, starts or {0: 0}), MASK))
    if len(masked) <= limit and len(window) == len(text):
        return masked
    return masked[: limit - 1] + "…"


def _flagged(decision: Decision, starts: Mapping[int, int]) -> list[Span]:
    """Every span the classifiers found and the policy redacted, as offsets into the text."""
    found = [(v.segment, span) for v in decision.verdicts for span in v.spans]
    found += [(segment, span) for segment, spans in decision.redactions.items() for span in spans]
    return [Span(starts[segment] + span.start, starts[segment] + span.end, span.label)
            for segment, span in found if segment in starts]
