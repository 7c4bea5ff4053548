"""Excerpts: the only place an incident may hold any of the text it is about.

An excerpt is built only when `incidents.excerpts` is on. It is redacted twice over: the spans the
classifiers found and the policy's redactions, of every segment (moved to where it starts in the
recorded text; a value sent in pieces in every piece), are masked, then every credential-shaped
or long number-shaped token is masked whatever the policy said, and only then is the text
truncated. A missed classifier span can
therefore leak a name or a phrase, never a key, a token, a password assignment or a card-length
number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from guard.classify.escapes import has_references
from guard.classify.normalize import normalize, original_text
from guard.redaction import apply_redactions, reaching_back
from guard.types import Decision, Segment, Span, joined

MASK = "[REDACTED:{label}]"

def _not_all_lower(match: re.Match[str]) -> bool:
    """Whether a prefixed token has a digit or an upper-case letter after its prefix."""
    return any(c.isdigit() or c.isupper() for c in match["rest"])


# What names a credential: `password`, `api_key`, `token`...
_KEYWORD = (r"(?:passw(?:or)?d|passphrase|pwd|secret|credentials?|token|auth|"
            r"(?:api|access|auth|private|secret|signing|account)[_-]?key)")

# A name ends in a keyword (`DB_PASSWORD`, `userPassword`, `client_secret`), or in one and a
# version (`token_v2`): `token_count`, `password_policy`, `secret_santa` merely hold one.
_NAME_END = r"(?:[_-]?v?\d{1,3})?(?![a-z0-9])"
# A bare value that is no credential: a number, true/false/null, an object or a list opening (not
# read as the value: the assignments inside it are read on their own).
_NOT_A_VALUE = r"(?![{\[]|(?:[-+]?\d[\d.eE+-]*|true|false|null|none|nil)(?![^\s,;)\]}]))"
# `name: a plain word` and more words after it on its line is prose (`The secret: always listen.`).
_PROSE = r"(?![ \t]*(?-i:[A-Z]?[a-z]+)[ \t]+[A-Za-z])"

# Linear-time patterns (no nested quantifiers, prefixes bounded), applied to at most a few
# kilobytes. A pattern with a `value` group masks that group only; one with a check keeps a
# match only when the check holds for it.
_CREDENTIALS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], bool] | None], ...] = (
    ("private_key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.DOTALL), None),
    # after `basic` or `token`, not a plain word: `basic authentication`, `the token endpoint`
    ("credential", re.compile(r"(?i:\bbearer\s+|\b(?:basic|token)\s+"
                              r"(?![A-Z]?[a-z]+(?![A-Za-z0-9._~+/=-])))[A-Za-z0-9._~+/=-]{8,}"),
     None),
    # `name = value`, `name: value`, `"name": "value"` (`_NAME_END`); the value is masked whole
    # (a quoted one to its closing quote, whatever it holds), the name kept.
    ("credential", re.compile(
        r"(?i)" + _KEYWORD + _NAME_END + r"[\"']?\s*(?::=|=>|=|:" + _PROSE + r")\s*"
        r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?|" + _NOT_A_VALUE + r"\S+)"), None),
    # `my password is Hunter2…`: a value that is not a plain word (`the password is required`).
    ("credential", re.compile(
        r"(?i:\b" + _KEYWORD + r"s?\s+(?:is|was|will\s+be)\s*:?\s+)"
        r"(?P<value>(?![A-Z]?[a-z]+\b)\S{4,})"), None),
    # `sk_live_…`, `xoxb-…`: a digit or an upper-case letter after the prefix, which words joined
    # by hyphens lack (`chat-completions-create`). Checked after the match, not by a lookahead,
    # which would read a run again from each of its word starts.
    ("credential", re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,9}[_-](?P<rest>[A-Za-z0-9_-]{16,})"),
     _not_all_lower),
    ("credential", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), None),
    ("credential", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), None),
    # These four start only where a run of their characters starts (a lookbehind, not `\b`): a
    # run with no match in it is then read once, not once from each of its word starts (16 KB
    # of `x-x-…` took 3.6 s).
    ("url_credential", re.compile(r"(?i)(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@"),
     None),
    ("number", re.compile(r"(?<!\d)(?<!\d[ -])\b\d(?:[ -]?\d){8,}\b"), None),
    ("token", re.compile(r"(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/=_-]*\d)"
                         r"(?=[A-Za-z0-9+/=_-]*[A-Za-z])[A-Za-z0-9+/=_-]{24,}"), None),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+\b"), None),
)


# A mask already written (the policy's, `[REDACTED:secret:github_token]`): its `secret:` reads
# as an assignment, and re-masked it came out as `[REDACTED:[REDACTED:credential]`.
_MASKED = re.compile(r"(\[REDACTED:[a-z_:]+\])")  # labels: lowercase letters, _ and :


def scrub(text: str) -> str:
    """`text` with every credential-shaped or long-number token masked, masks left as they are.

    Tokens are looked for as the secrets classifier reads a text (`normalize`): invisible
    characters and marks dropped, look-alikes and JSON escapes read, and once more with HTML
    references and percent-escapes decoded. A token found masks every original character it
    came from, the invisible ones inside it too."""
    spans: list[Span] = []
    start = 0
    for mask in (*_MASKED.finditer(text), None):
        end = len(text) if mask is None else mask.start()
        if start < end:
            spans += _credentials(text[start:end], start)
        if mask is not None:
            start = mask.end()
    return apply_redactions(text, spans, MASK) if spans else text


def _credentials(part: str, offset: int) -> list[Span]:
    """Where `_CREDENTIALS` match in `part`'s readings, as ranges of the text `part` starts at
    `offset` in."""
    # the text as written too: normalising reads `\"` as `"`, which ends a quoted value early
    readings = [original_text(part), normalize(part, accents=True)]
    if has_references(part):
        readings.append(normalize(part, accents=True, references=True))
    spans = []
    for reading in readings:
        for label, pattern, check in _CREDENTIALS:
            for match in pattern.finditer(reading.text):
                if check is not None and not check(match):
                    continue
                part_of = "value" if "value" in pattern.groupindex else 0
                start, end = reading.original_span(match.start(part_of), match.end(part_of))
                spans.append(Span(offset + start, offset + end, label))
    return spans


def build_excerpt(decision: Decision, segments: Sequence[Segment], limit: int) -> str:
    """A redacted excerpt of the `segments`' texts, joined as a Recorder joins them (`joined`), at
    most `limit` characters long (an ellipsis marks a cut)."""
    text, starts = joined((segment.index, segment.text) for segment in segments)
    # Look at a bounded prefix only: the excerpt is short, and scrubbing must stay cheap.
    window = text[: limit * 4 + 256]
    if len(window) < len(text):
        # The cut may split a secret; a prefix too short to be recognised must not survive.
        window = window[: max(window.rfind(" "), 0)]
    masked = scrub(apply_redactions(window, _flagged(decision, segments, starts), MASK))
    if len(masked) <= limit and len(window) == len(text):
        return masked
    return masked[: limit - 1] + "…"


def _flagged(decision: Decision, segments: Sequence[Segment], starts: Mapping[int, int]
             ) -> list[Span]:
    """Every span the classifiers found and the policy redacted, as offsets into the joined
    text. A span found where a value sent in pieces ends reaches back into the segments of its
    role before it (`reaching_back`), wherever they stand in the joined text."""
    found: dict[int, list[Span]] = {}
    for verdict in decision.verdicts:
        found.setdefault(verdict.segment, []).extend(verdict.spans)
    for segment, spans in decision.redactions.items():
        found.setdefault(segment, []).extend(spans)
    reached = reaching_back({segment: tuple(spans) for segment, spans in found.items()}, segments)
    return [Span(starts[segment] + max(span.start, 0), starts[segment] + span.end, span.label)
            for segment, spans in reached.items() if segment in starts for span in spans]
