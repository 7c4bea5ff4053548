"""`secrets`: provider keys and tokens, private keys, and high-entropy values of secret-named keys.

Labels: `secret` plus `secret:<kind>`; spans carry `secret:<kind>` and cover the secret itself
(for `name = value` assignments, only the value, so a redacted config stays readable).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import JOINED_TURNS, Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet, is_word_char
from guard.classify.normalize import BLANK_RUN, Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.classify.words import common_word, known_word, split_words
from guard.redaction import merge_spans
from guard.types import Segment, Span, Stage

# An AWS access key id is a prefix and 16 characters of [A-Z2-7]. Written in groups
# ("AKIA IOSF ODNN 7EXA MPLE") or a character a line, it is read whole: one separator may stand
# before each character (`_spaced_key` then asks for one kind of separator and a digit). It may
# run on into lower-case letters (`AKIAQZ7XW3JD5R6TLM2Plorem`: a reader sees the key where the
# capitals end); the pattern takes the first one (RE2 has no look-ahead) and the key then needs
# a digit, as upper-case words glued to a lower-case tail do not have one (`_ends_key`). A
# separator is a dot, a hyphen or a run of blanks (`BLANK_RUN`: up to three spaces, tabs, line
# breaks or CRLFs in any mix, as a blank line between lines, a Markdown hard break `" \n"` or a
# break and indentation make).
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA",
                 "AROA", "ASCA")
_KEY_SEPARATOR = rf"(?:{BLANK_RUN}|[.\-])?"
_AWS_KEY_ID = (r"((?:" + "|".join(_KEY_SEPARATOR.join(prefix) for prefix in _AWS_PREFIXES) + ")"
               rf"(?:{_KEY_SEPARATOR}[A-Z2-7]){{16}})(?:\b|[a-z])")
_SEPARATORS = re.compile(rf"{BLANK_RUN}|[.\-]")

# (kind, RE2 pattern); group 1, when a pattern has one, is the secret inside the match. A key of
# a fixed length ends where its length does, not at a word's end: a model asked to glue letters
# after it (`<key>END`) must not hide it. Nor one asked to glue letters before it (`abcghp_...`,
# `tokenAKIA...`): a key with a prefix of its own begins where the prefix does (`_glued_key`).
# Of a JWT's payload, the least a text cut inside it holds to be read as one: a reading that
# follows a token through its run reads half the reach (160) or more of it (`base._covers`),
# of which a header (`{"alg":"HS256","typ":"JWT"}`: 36) takes a part.
JWT_PAYLOAD_CHARS = 64
PATTERNS: tuple[tuple[str, str], ...] = (
    ("aws_access_key_id", _AWS_KEY_ID),
    # "aws" starts a word ("laws", "draws" do not name it; `myAwsSecret` does) and the value is
    # its run whole: 40 characters, or more when glued to others (`_aws_secret`)
    ("aws_secret_access_key", r"(?:(?:^|[^A-Za-z])(?i:aws)|[a-z]A(?:ws|WS))"
                              r"(?i:.{0,20}?(?:secret|private).{0,20}?)[\"'\s:=]{1,5}"
                              r"([A-Za-z0-9/+]{40,200})"),
    ("github_token", r"((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251})\b"),
    ("github_token", r"(github_pat_[A-Za-z0-9_]{82})"),
    ("gitlab_token", r"(gl(?:pat|dt|ptt|rt|soat)-[A-Za-z0-9_-]{20,50})\b"),
    ("slack_token", r"(xox[abposr]-[A-Za-z0-9-]{10,250})\b"),
    ("slack_webhook", r"(https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/"
                      r"[A-Za-z0-9]{20,})"),
    ("stripe_key", r"((?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,247})\b"),
    ("google_api_key", r"(AIza[0-9A-Za-z_-]{35})"),
    ("anthropic_key", r"(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,120})"),
    ("openai_key", r"(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200})"),
    # RE2's matches do not overlap: in `task-sk-proj-...` the match above begins at the `sk-` of
    # "task-", runs on through the key and is no key (`_glued_key`). A key at a word's start and
    # one of OpenAI's named kinds are matched on their own too, so the key inside is still found.
    ("openai_key", r"(?:^|[^A-Za-z0-9_])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200})"),
    ("openai_key", r"(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,200})"),
    # Hugging Face user access tokens: `hf_` and 34 letters
    ("huggingface_token", r"(hf_[A-Za-z]{34})"),
    # npm (GitHub's format since 2021): `npm_`, 30 random base62 characters and a 6-character checksum
    ("npm_token", r"(npm_[A-Za-z0-9]{36})"),
    # PyPI: `pypi-` and a base64url macaroon whose first field is its location, "pypi.org" or
    # "test.pypi.org" (so its first characters are fixed); it grows with its caveats
    ("pypi_token", r"(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})"),
    # SendGrid: 69 characters, `SG.`, an id of 22, `.`, a secret of 43 (base64url)
    ("sendgrid_key", r"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"),
    # DigitalOcean: personal (`dop_v1_`), OAuth (`doo_v1_`) and refresh (`dor_v1_`) tokens, 64 hex
    ("digitalocean_token", r"(do[opr]_v1_[a-fA-F0-9]{64})"),
    # Shopify: app access tokens (`shpat_`, `shpca_`, `shppa_`) and shared secrets (`shpss_`), 32 hex
    ("shopify_token", r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})"),
    # Databricks personal access tokens: `dapi` and 32 hex, `-2` after them on Azure
    ("databricks_token", r"(dapi[a-fA-F0-9]{32}(?:-2)?)"),
    # age (age-encryption.org/v1) X25519 identities: Bech32, upper case, 32 bytes and a checksum
    ("age_secret_key", r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"),
    ("jwt", r"(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})"),
    # a JWT longer than a reading (a payload of many claims) cut by its end: its header and a
    # payload reaching the end (or the first characters of a signature, fewer than above),
    # which the reading across a cut then follows through its run (`LocalClassifier._run_on`);
    # a whole one is found above, a header and payload a space follows are none
    ("jwt", rf"(eyJ[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{{JWT_PAYLOAD_CHARS},}}"
            r"(?:\.[A-Za-z0-9_-]{0,15})?)\z"),
    # a PEM block, to its END line or, cut, as far as its body goes: past the header lines of a
    # legacy encrypted key (RFC 1421: `Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-128-CBC,<iv>`),
    # which a body read on past its BEGIN line had stopped at
    ("private_key", r"(-----BEGIN[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
                    r"(?:[A-Za-z0-9+/=\s:,-]*?-----END[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
                    r"|(?:\s{1,8}[A-Z][A-Za-z-]{1,20}: ?[A-Za-z0-9,-]{1,80})*[A-Za-z0-9+/=\s]*))"),
    ("generic", r"(?i)[a-z0-9_.-]{0,30}(?:api[_-]?key|secret|token|passw(?:or)?d|passwd|pwd|"
                r"credentials?|auth[_-]?key|access[_-]?key|private[_-]?key)[a-z0-9_.-]{0,30}"
                r"[\"']?\s{0,3}(?::=|=>|[:=])\s{0,3}[\"']?([^\s\"'`,;]{8,200})"),  # 8: GENERIC_MIN_CHARS
)

# A value is read up to a space, a quote or a ";", so in a URL's query it runs on through the
# parameters after it (`?token=a8f3c2e1&page=2`), or up to the ";" of HTML's `&amp;` before the
# next one: the secret is the first parameter's value alone, and is judged (and masked) alone.
_NEXT_PARAMETER = re.compile(r"&(?:amp;)?[A-Za-z0-9_.\[\]-]{1,64}=|&amp\Z")
GENERIC_MIN_CHARS = 8  # of a secret-named key's value (the generic pattern's shortest)

PLACEHOLDER_HINTS = ("xxx", "***", "your", "example", "changeme", "redacted", "placeholder",
                     "<", "${", "{{", "%(", "process.env", "os.environ", "getenv", "...")


def shannon_bits(value: str) -> float:
    """Shannon entropy of `value` in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_random(value: str, min_bits: float) -> bool:
    """True for values that look generated, not words, placeholders or references."""
    lowered = value.lower()
    if any(h in lowered for h in PLACEHOLDER_HINTS):
        return False
    # (`map` with a method: a key's candidates are judged many times over in a long run)
    alnum_classes = sum((any(map(str.islower, value)), any(map(str.isupper, value)),
                         any(map(str.isdigit, value))))
    if len(value) < 16:
        # Short values count only as passwords: mixed character classes, nothing word-like.
        classes = alnum_classes + (not all(map(str.isalnum, value)))
        return classes >= 3 and shannon_bits(value) >= 2.5
    # Generated keys mix letters and digits (or cases); hyphenated words do not.
    return alnum_classes >= 2 and shannon_bits(value) >= min_bits


class SecretsConfig(BaseModel):
    """Config of a `secrets` classifier.

    generic:          also report high-entropy values assigned to secret-like names.
    min_entropy_bits: bits per character a generic value of 16+ characters needs to count.
    decoded:          also look inside encoded runs and ciphers (a key in base64 or hex; see
                      guard/classify/decode/); a finding there covers the whole run, and a stream
                      holds an encoded run back until it ends (at most 8,192 characters).
                      Default off.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    generic: bool = True
    min_entropy_bits: float = Field(3.0, ge=0.0, le=8.0)
    decoded: bool = False


class SecretsClassifier(LocalClassifier):
    """Finds credentials (see module docstring)."""

    category = "secret"
    accents = True  # keys are ASCII: "ǵh́ṕ_..." is "ghp_..." with an accent on each letter
    # a key sent in pieces (messages, or text parts) is read across them: each prompt segment
    # is also read joined to the ones before it of its role
    joins_turns = True
    context_turns = JOINED_TURNS

    def __init__(self, name: str, config: SecretsConfig, *, normalize: bool = True) -> None:
        # The longest text one finding needs to be seen whole: every fixed-format token is at most
        # ~270 characters. A PEM block (~3.3 KB for RSA-4096) is found by its BEGIN line alone,
        # a JWT by its first two parts (a long one by its header and a payload reaching a
        # reading's end) and a PyPI token (as long as its caveats) by its first 70 characters,
        # so none needs a stream held back for its length.
        super().__init__(name, normalize=normalize, max_match_chars=320, decoded=config.decoded)
        self.min_bits = config.min_entropy_bits
        chosen = [(k, p) for k, p in PATTERNS if config.generic or k != "generic"]
        self.kinds = [k for k, _ in chosen]
        self.patterns = PatternSet([p for _, p in chosen], case_sensitive=True, reach=1 << 30)

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        text = norm.text
        # a key two patterns match is found once; a set, as looking through the list for it
        # made the cost grow with the square of the keys found (with `_covered` below: 2,340
        # `secret=<aws key id>`, 64 KB, took 3.8 s of CPU)
        found = dict.fromkeys(
            finding for idx, start, end in self.patterns.finditer(text, group=1)
            if (finding := self._judge(text, idx, start, end)) is not None
        )
        return _drop_generic_overlaps(list(found))

    def may_find_as_is(self, text: str) -> bool:
        return self.patterns.may_match(text)  # read as it is: `scan` reads `text` itself

    def _judge(self, text: str, idx: int, start: int, end: int) -> Finding | None:
        """The finding of pattern `idx`'s match of `text[start:end]`, or None if it is no key."""
        kind = self.kinds[idx]
        value = first_parameter(text[start:end]) if kind == "generic" else text[start:end]
        # glued first: the cheaper test, and the one a run of `task-task-...` fails each time
        if start and is_word_char(text[start - 1]) and not _glued_key(kind, value,
                                                                       _glue(text, start)):
            return None
        if not _reads_as_kind(kind, value, text[end:end + 1], self.min_bits):
            return None
        score = 0.7 if kind == "generic" else 1.0
        return Finding(f"secret:{kind}", score, start, start + len(value))

    def finding_labels(self) -> Iterable[str]:
        return [f"secret:{kind}" for kind in self.kinds]


@functools.lru_cache(maxsize=256)
def holds_key(text: str) -> bool:
    """Whether `text` holds a key or token of a known shape (the patterns but `generic`): a model
    name that does is shown `[REDACTED]` (`guard.observability.shown`). Cached: a process sees
    a few model names, again and again."""
    verdict, = _known_keys().classify_sync([Segment(text, "user", 0, Stage.PROMPT)])
    return bool(verdict.labels)


@functools.cache
def _known_keys() -> SecretsClassifier:
    return SecretsClassifier("known_keys", SecretsConfig(generic=False))


def first_parameter(value: str) -> str:
    """A secret-named key's value up to the next parameter of a URL's query (`_NEXT_PARAMETER`)."""
    parameter = _NEXT_PARAMETER.search(value)
    return value if parameter is None else value[:parameter.start()]


def _reads_as_kind(kind: str, value: str, after: str, min_bits: float) -> bool:
    """Whether a match of `kind`'s pattern (`after`: the character after it, or none) reads as
    one, wherever it stands."""
    if kind == "openai_key":
        # the Anthropic pattern reports `sk-ant-`; `sk-learn-tutorial-notes` is not a key
        return not value.startswith("sk-ant-") and looks_random(value[3:], 3.0)
    if kind == "generic":
        return len(value) >= GENERIC_MIN_CHARS and looks_random(value, min_bits)
    if kind == "aws_secret_access_key":
        return _aws_secret(value)
    if kind == "aws_access_key_id":
        return _spaced_key(value) and _ends_key(value, after)
    return True


def _spaced_key(value: str) -> bool:
    """Whether a key id written with separators (`_AWS_KEY_ID`) reads as one: a single kind of
    separator throughout (every blank, line breaks among them, one kind), a digit, and groups of
    one length (four, as keys are printed, or one: a character a line) that are not words, which
    upper-case words after "ASIA" are ("ASIA PACIFIC FY25 SALES", "ASIA TEAM WEST ZONE Q3FY")."""
    # blanks are one kind: LF, CR, CRLF or U+2028 in turn look alike on a screen, and a key
    # printed in groups wraps over lines (`AKIA QZ7X` then `W3JD` on the next)
    separators = {" " if sep.isspace() else sep for sep in _SEPARATORS.findall(value)}
    if not separators:
        return True
    groups = _SEPARATORS.split(value)
    words = sum(1 for group in groups[1:] if len(group) > 1 and common_word(group.lower()))
    return len(separators) == 1 and any(c.isdigit() for c in value) and words < 2 and (
        {len(group) for group in groups} <= {4} or {len(group) for group in groups} == {1})


def _ends_key(value: str, after: str) -> bool:
    """Whether a key id followed by `after` (its next character, or none) reads as one: at a
    word's end, or glued to a lower-case letter when it holds a digit
    (`AKIAQZ7XW3JD5R6TLM2Plorem`; `ASIAPACIFICHEADQUARTERs` is a word)."""
    return not ("a" <= after <= "z") or any(c.isdigit() for c in value)


# Prefixes that also end words and names (`task-`, `bookmark_test_`, `laughs_`, `push_to_hf_`,
# `run_npm_`, `rapidapi`, `condor_v1_`), and what the random part of a key of each has, bar
# once in several hundred keys: upper- and lower-case letters and digits (base62), letters and
# digits (hex), both cases (Hugging Face's letters). Python's `re` on one short value: fixed,
# never a policy's pattern.
_WORD_ENDING_PREFIX = re.compile(
    r"sk-(?:proj-|svcacct-|admin-)?|(?:sk|rk|pk)_(?:live|test)_|gh[pousr]_|hf_|npm_|dapi|"
    r"do[opr]_v1_")
_WORD_ENDING_KINDS = frozenset({"openai_key", "stripe_key", "github_token", "huggingface_token",
                                "npm_token", "databricks_token", "digitalocean_token"})
_BASE62 = (str.isupper, str.islower, str.isdigit)
_RANDOM_PART: dict[str, tuple[Callable[[str], bool], ...]] = {
    "huggingface_token": (str.isupper, str.islower),
    "databricks_token": (str.isalpha, str.isdigit),
    "digitalocean_token": (str.isalpha, str.isdigit),
}
_OPENAI_NAMED = ("sk-proj-", "sk-svcacct-", "sk-admin-")
_OPENAI_MARK = "T3BlbkFJ"  # "OpenAI" in base64, in the middle of OpenAI's keys
# The pieces of an identifier's words: `CheckUserLogin2FAWorks` -> Check User Login FA Works
_WORD_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_LETTERS_BEFORE = re.compile(r"[A-Za-z]{1,20}\Z")


def _glue(text: str, start: int) -> str:
    """The letters a match beginning at `start` is glued to (none after a digit or `_`)."""
    before = _LETTERS_BEFORE.search(text, max(0, start - 20), start)
    return before.group() if before else ""


def _glued_key(kind: str, value: str, glue: str) -> bool:
    """Whether a key glued after a word character (`abcghp_...`, its `glue` the letters just
    before it) reads as one: always, but where its prefix also ends words and names. There its
    prefix does not end the word its glue begins (`highs_`, `bookmark_test_`, `rapidapi`), its
    random part has what a generated one has (`_RANDOM_PART`; `risk-assessment-2024-q3` and
    `task_test_fetches2remoteconfigs` do not) and is not words run together
    (`hf_hubWithAuthentication...`, `npm_installDependencies...`), and an OpenAI-style key is one
    of OpenAI's own (a named kind, or its mark): a random base64url run holds `sk-` about once in
    260,000 characters."""
    prefix = _WORD_ENDING_PREFIX.match(value) if kind in _WORD_ENDING_KINDS else None
    if prefix is None:
        return True
    if kind == "openai_key" and not (value.startswith(_OPENAI_NAMED) or _OPENAI_MARK in value):
        return False
    body = value[prefix.end():]
    return (all(any(has(c) for c in body) for has in _RANDOM_PART.get(kind, _BASE62))
            and not _ends_word(glue, prefix.group()) and not _reads_as_words(body))


def _ends_word(glue: str, prefix: str) -> bool:
    """Whether a prefix glued after letters ends a word with them: "hi" + "ghs_" is "highs",
    "rapi" + "dapi" is "rapid api" (read as words, the prefix begins inside one)."""
    letters = _WORD_PIECES.findall(prefix)
    if not glue or not letters:
        return False
    joined = (glue + letters[0]).lower()
    if known_word(joined):
        return True
    words = split_words(joined)
    if words is None or not all(common_word(w) for w in words):
        return False
    ends = {sum(map(len, words[:i])) for i in range(1, len(words))}
    return len(glue) not in ends


def _reads_as_words(body: str) -> bool:
    """Whether half or more of a key's random part is common words of three letters or more, as
    an identifier's is (`CheckUserLogin2FAWorksOnMobile`): a generated one's letters are not."""
    letters = in_words = 0
    for piece in _WORD_PIECES.findall(body):
        letters += len(piece)
        lowered = piece.lower()
        words = [lowered] if common_word(lowered) else split_words(lowered) or []
        in_words += sum(len(w) for w in words if len(w) >= 3 and common_word(w))
    return in_words * 2 >= letters > 0


def _aws_secret(value: str) -> bool:
    """Whether the run after an AWS secret's name reads as its key: 40 characters, or more (the
    key glued to others, `<secret>END`, `abc<secret>`, masked whole) that mix upper- and
    lower-case letters and digits, as its 40 base64 characters do, and are not words (a path,
    `/mnt/data/backups/...`, a SHA-256 in hex)."""
    return len(value) == 40 or (all(any(has(c) for c in value) for has in _BASE62)
                                and not _reads_as_words(value))


def _drop_generic_overlaps(found: list[Finding]) -> list[Finding]:
    """A generic finding on characters specific ones cover adds nothing. One reaching past them
    is kept: a secret-named value with letters glued to its key (`secret=abc<aws secret>`, whose
    40 characters are read from the glue) is masked whole."""
    specific = [f for f in found if f.label != "secret:generic"]
    runs = merge_spans(Span(f.start, f.end, f.label) for f in specific)
    return specific + [
        f for f in found
        if f.label == "secret:generic" and not _covered(f, runs)
    ]


def _covered(finding: Finding, runs: list[Span]) -> bool:
    """Whether one of `runs` (apart, in order) covers every character of `finding`: the last
    that starts at or before it, found by a binary search."""
    at = bisect.bisect_right(runs, finding.start, key=lambda run: run.start) - 1
    return finding.end <= finding.start or (at >= 0 and runs[at].end >= finding.end)


def _make(name: str, config: SecretsConfig, spec: ClassifierSpec) -> SecretsClassifier:
    return SecretsClassifier(name, config, normalize=spec.normalize)


TYPE = ClassifierType(SecretsConfig, _make)
