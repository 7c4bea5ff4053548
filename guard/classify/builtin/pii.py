"""`pii`: e-mail addresses, phone numbers, payment cards, IBANs, US SSNs and IP addresses.

Candidates come from one RE2 pass; each is then checked the way its format allows (Luhn for
cards, mod-97 for IBANs, phonenumbers' numbering plans for phones, the SSA's never-issued ranges
for SSNs, `ipaddress` for IPs), which is what keeps version strings, dates, order numbers and
service names like "S3" or "EKS" from being reported.
Labels: `pii` plus `pii:<entity>`; spans carry `pii:<entity>`.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Literal

import phonenumbers
import re2
from pydantic import BaseModel, ConfigDict, Field

from guard.classify.base import JOINED_TURNS, Finding, LocalClassifier
from guard.classify.builtin._engine import PatternSet, is_word_char
from guard.classify.normalize import Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment

Entity = Literal["email", "phone", "card", "iban", "ssn", "ip"]
ENTITIES: tuple[Entity, ...] = ("email", "phone", "card", "iban", "ssn", "ip")

# IBAN length per country (ISO 13616 registry), for the countries people actually paste.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26,
    "IT": 27, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "ME": 22, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26,
    "UA": 29,
}
PHONE_CONTEXT = ("phone", "call", "tel", "mobile", "cell", "fax", "whatsapp", "sms", "text me")
SSN_CONTEXT = ("ssn", "social security")
_NON_DIGITS = re.compile(r"\D+")
_UNBROKEN = re.compile(r"\d+")
# what follows user@host: in an SSH remote (acme/api.git, ~/repos/x.git, api.git)
_SSH_PATH = re.compile(r"(?:~?/)?[A-Za-z_][A-Za-z0-9_.-]*(?:/|\.git\b)")
# where the run of characters an address is read in starts: a space, a quote or a bracket
_RUN_START = re.compile(r"[\s\"'<>()\[\]{},]")
URL_REACH = 2048  # how far back a URL's scheme is looked for (URLs are rarely longer)
VERSION_WORDS = frozenset({"version", "v", "v.", "ver", "ver.", "release", "build", "firmware"})
# Scripts written with no space between words, and Korean, whose particles are glued on after
# one: an address's local part and top-level domain are all of their letters or none, so the
# words glued to it are not read as its part (请发邮件到jane@example.com然后, jane@example.com으로).
_GLUED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_LETTER = rf"[^\P{{L}}{_GLUED}]"  # a letter of any other script
_LABEL = r"[\p{L}\p{M}\p{N}-]+"
# The local part that ends a text: letters, marks, digits and ._%+- not starting with a mark,
# or letters of a glued script without digits (我的邮箱是123456@qq.com: the number is the address).
_LOCAL_PART = re2.compile(
    rf"(?:(?:{_LETTER}|[\p{{N}}._%+-])(?:{_LETTER}|[\p{{M}}\p{{N}}._%+-])*"
    rf"|[{_GLUED}][{_GLUED}\p{{M}}._%+-]*)\z"
)
LOCAL_PART_CHARS = 64  # RFC 5321's limit

PATTERNS: dict[Entity, str] = {
    # Letters, marks and digits of any script (RFC 6531 local parts, IDN domains), a top-level
    # domain of letters or in punycode (xn--p1ai); the "@" also written as a URL or an HTML page
    # writes it (jane.doe%40example.com, &#64;). The match starts at the local part's last
    # character and `email_start` reads the rest: up to 64 characters of Unicode classes is a
    # program too large for RE2 (it failed to compile).
    "email": rf"(?:{_LETTER}|[{_GLUED}\p{{M}}\p{{N}}._%+-])(?i:@|%40|&#0*64;|&#x0*40;|&commat;)"
             rf"{_LABEL}(?:\.{_LABEL})*\.(?:(?i:xn--[a-z0-9-]+)|{_LETTER}(?:{_LETTER}|\p{{M}})+"
             rf"|[{_GLUED}][{_GLUED}\p{{M}}]+)",
    "phone": r"(?:\+\s?\(?|\(|\b)\d{1,4}\)?(?:[ .\-]?\(?\d{1,4}\)?){2,6}\d\b",
    # one space, dot or hyphen between groups: tabs, line breaks and runs of spaces are how
    # tables of figures are laid out (a quarter of random tables of four-digit numbers had a
    # row that read as a card with them). It ends at a word's end or before a letter, which the
    # match takes (RE2 has no look-ahead) and `card_end` gives back: a JSON number's exponent
    # (`4539148803436467e0`, which a client's parser reads as the card) or a word glued to it
    "card": r"\b\d{4}(?:[ .-]?\d{2,4}){2,4}(?:\b|[A-Za-z_])",
    "iban": r"(?i)\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{1,4}){3,8}\b",
    "ssn": r"\b\d{3}[-. ]\d{2}[-. ]\d{4}\b|\b\d{9}\b",
    "ip": r"\b(?:\d{1,3}\.){3}\d{1,3}\b|(?i:[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})",
}


class PiiConfig(BaseModel):
    """Config of a `pii` classifier.

    entities:      which kinds of PII to look for.
    phone_regions: ISO country codes used to read phone numbers written without a `+` prefix.
    decoded:       also look inside encoded runs and ciphers (an address in base64; see
                   guard/classify/decode/); a finding there covers the whole run, and a stream
                   holds an encoded run back until it ends (at most 8,192 characters). Default off.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: list[Entity] = Field(default_factory=lambda: list(ENTITIES), min_length=1)
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"])
    decoded: bool = False


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand_ok(digits: str) -> bool:
    """Issuer prefixes and lengths of the major networks (Visa, Mastercard, Amex, Discover, ...)."""
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return 16 <= n <= 19
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    return two in (30, 36, 38, 39) and 14 <= n <= 19


def iban_ok(raw: str) -> bool:
    iban = raw.replace(" ", "").replace("-", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


_EXPIRY = re.compile(r"[ .-]?\d{2} ?/ ?\d{2}(?:\d{2})?\b")  # 12/27, 12 / 2027


_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")
_LETTERS = re.compile(r"[A-Za-z_]+")


def card_end(text: str, start: int, end: int) -> int:
    """Where the digits of a card match at [start, end) end: before the letter the pattern took
    when one is glued to them, if the word goes on to its end as an exponent (`e0`, `E+0`) or in
    letters alone (`x`, `lorem`); `start` if it goes on with digits after letters, as a hex id
    does (`4853149369207e402547b0...`: one of 24,000 random ones began with a card), or when the
    digits are a decimal number's fraction (`9.2447240718020075e-13`, a float as Python and JSON
    write it: one in 85 random ones read as a card glued to its exponent)."""
    if text[end - 1].isdigit():
        return end
    if start >= 2 and text[start - 1] in ".," and text[start - 2].isdigit():
        return start
    end -= 1
    for tail in (_EXPONENT.match(text, end), _LETTERS.match(text, end)):
        if tail is not None and (tail.end() == len(text) or not is_word_char(text[tail.end()])):
            return end
    return start


def email_start(text: str, start: int, end: int) -> int:
    """Where the address whose match at [start, end) starts at its local part's last character
    begins: at the start of the local part that character ends (at most 64 characters), `end`
    when there is none (a mark alone)."""
    at = start + 1
    lo = max(0, at - LOCAL_PART_CHARS)
    local = _LOCAL_PART.search(text[lo:at])
    return end if local is None else lo + local.start()


def _group_ends(text: str, start: int, end: int) -> list[int]:
    """Where a run of digit groups at [start, end) may end: at its end, and before its last group
    when that group begins an expiry date (`4111 1111 1111 1111 12/27`: the regex took `12`)."""
    cut = max((i for i in range(start + 1, end) if not text[i].isdigit()), default=start)
    return [end, cut] if cut > start and _EXPIRY.match(text, cut) else [end]


def iban_end(text: str, start: int, end: int) -> int:
    """Where the IBAN starting at `start` ends within a match that ends at `end`: after as many
    letters and digits as its country's IBANs have, at the end of a word (case-insensitive and
    in groups, a match may run on into the next word: "GB82 WEST ... 32 please"). `start` when
    there is no such place."""
    length = IBAN_LENGTHS.get(text[start:start + 2].upper())
    count = 0
    for i in range(start, end):
        count += text[i].isalnum()
        if count == length:
            return i + 1 if i + 1 == len(text) or not is_word_char(text[i + 1]) else start
    return start


def ssn_ok(raw: str) -> bool:
    digits = "".join(c for c in raw if c.isdigit())
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return False
    # Numbers the SSA published as examples (and that advertising made famous).
    return digits not in ("078051120", "219099999", "123456789")


def _parses(kind: Callable[[str], object], raw: str) -> bool:
    try:
        kind(raw)
    except ValueError:
        return False
    return True


def _context(text: str, start: int, end: int, words: Iterable[str], reach: int = 40) -> bool:
    window = text[max(0, start - reach):start].lower()
    return any(w in window for w in words)


class PiiClassifier(LocalClassifier):
    """Finds personal data with format checks (see module docstring)."""

    category = "pii"
    # the number formats are ASCII, and "áĺíćé@éx́áḿṕĺé.ćóḿ" is an address with an accent on each
    # letter (found whole either way: an address may hold letters and marks of any script)
    accents = True
    # an address or a number sent in pieces (messages, or text parts) is read across them
    joins_turns = True
    context_turns = JOINED_TURNS

    def __init__(self, name: str, config: PiiConfig, *, normalize: bool = True) -> None:
        # The longest e-mail address is 254 characters; everything else is far shorter.
        super().__init__(name, normalize=normalize, max_match_chars=256, decoded=config.decoded)
        self.entities: list[Entity] = list(dict.fromkeys(config.entities))
        self.regions = config.phone_regions
        self.patterns = PatternSet([PATTERNS[e] for e in self.entities], case_sensitive=True)
        checks: dict[Entity, Callable[[str, int, int], bool]] = {
            "email": self._email, "phone": self._phone, "card": self._card,
            "iban": self._iban, "ssn": self._ssn, "ip": self._ip,
        }
        self.checks = [checks[e] for e in self.entities]

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        text = norm.text
        found: list[Finding] = []
        taken = Taken()
        # Checked formats first: a Luhn-valid card is not also reported as a phone number.
        order = {"card": 0, "iban": 1, "ssn": 2, "email": 3, "ip": 4, "phone": 5}
        hits = sorted(self.patterns.finditer(text), key=lambda h: order[self.entities[h[0]]])
        for idx, match_start, match_end in hits:
            entity = self.entities[idx]
            start = email_start(text, match_start, match_end) if entity == "email" else match_start
            end = iban_end(text, start, match_end) if entity == "iban" else match_end
            if entity == "card":
                start, end = self._card_span(text, start, card_end(text, start, end))
            if end == start or taken.overlaps(start, end):
                continue
            if self.checks[idx](text, start, end):
                found.append(Finding(f"pii:{entity}", 1.0, start, end))
                taken.add(start, end)
        return found

    def may_find_as_is(self, text: str) -> bool:
        return self.patterns.may_match(text)  # read as it is: `scan` reads `text` itself

    def finding_labels(self) -> Iterable[str]:
        return [f"pii:{entity}" for entity in self.entities]

    def _email(self, text: str, start: int, end: int) -> bool:
        if text[max(0, start - 7):start].lower() == "mailto:":
            return True
        # a URL's user name, or an SSH remote (git@github.com:acme/api.git: a path after a colon)
        ssh = text[end:end + 1] == ":" and _SSH_PATH.match(text, end + 1) is not None
        return not (ssh or _in_url(text, start))

    def _card_span(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The card in a run of digit groups at [start, end): the whole run, the run less an
        expiry read as its last group, or else a number of 13-19 digits written unbroken in it
        (`2671 4111111111111111`: the run began at a phone number's last group). Empty (start,
        start) when none checks. Groups of four after another group stay a row of figures."""
        for e in _group_ends(text, start, end):
            if self._card(text, start, e):
                return start, e
        for number in _UNBROKEN.finditer(text, start, end):
            if 13 <= len(number[0]) <= 19 and self._card(text, *number.span()):
                return number.span()
        return start, start

    def _card(self, text: str, start: int, end: int) -> bool:
        raw = text[start:end]
        if len(set(_NON_DIGITS.findall(raw))) > 1:
            return False  # one way of grouping throughout: "4111 1111-1111" is two numbers
        digits = _NON_DIGITS.sub("", raw)
        return 13 <= len(digits) <= 19 and card_brand_ok(digits) and luhn_ok(digits)

    def _iban(self, text: str, start: int, end: int) -> bool:
        return iban_ok(text[start:end])

    def _ssn(self, text: str, start: int, end: int) -> bool:
        raw = text[start:end]
        if raw.isdigit() and not _context(text, start, end, SSN_CONTEXT):
            return False
        if not raw.isdigit() and raw[3] != raw[6]:
            return False  # one separator throughout: "802.11-2020" is a standard's name
        return ssn_ok(raw)

    def _ip(self, text: str, start: int, end: int) -> bool:
        raw = text[start:end]
        if ":" in raw:
            return self._ipv6(text, start, end)
        inside_dotted = (start > 0 and text[start - 1] in ".-v") or (
            end < len(text) - 1 and text[end] == "." and text[end + 1].isdigit()
        )
        before = text[max(0, start - 20):start].split()
        after_version_word = bool(before) and before[-1].lower().rstrip(":") in VERSION_WORDS
        return not inside_dotted and not after_version_word and _parses(ipaddress.IPv4Address, raw)

    def _ipv6(self, text: str, start: int, end: int) -> bool:
        raw = text[start:end]
        if raw.count(":") < 2 or sum(1 for g in raw.split(":") if g) < 3:
            return False  # `a::b` in C++ is a scope, not an address
        glued = (start > 0 and is_word_char(text[start - 1])) or (
            end < len(text) and is_word_char(text[end])
        )
        return not glued and _parses(ipaddress.IPv6Address, raw)

    def _phone(self, text: str, start: int, end: int) -> bool:
        raw = text[start:end]
        digits = sum(c.isdigit() for c in raw)
        if not 7 <= digits <= 15:
            return False
        groups = "".join(c if c.isdigit() else " " for c in raw).split()
        # Without a `+` or the word "phone" nearby, only a number written in three or more
        # groups (415 555 2671, (020) 7946 0958) reads as a phone number; 2024-000123 does not.
        if not raw.startswith("+") and len(groups) < 3 and not _context(
            text, start, end, PHONE_CONTEXT
        ):
            return False
        if raw.count(".") >= 2 and not raw.startswith("+") and not _context(
            text, start, end, PHONE_CONTEXT
        ):
            return False  # 1.2.3 style: version strings and dates, unless the text says phone
        if _in_a_hex_dump(text, start, end):
            return False
        regions: list[str | None] = [None] if raw.startswith("+") else list(self.regions)
        for region in regions:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        return False


class Taken:
    """Spans already reported, which never overlap one another, kept in order: whether a new one
    overlaps one of them is a binary search. (Comparing it with each of them made a scan's cost
    grow with the square of what it found: 9,000 short addresses, 63 KB, took 3.4 s of CPU.)"""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []  # in order too, as the spans are apart

    def overlaps(self, start: int, end: int) -> bool:
        """Whether [start, end) shares a character with a span taken."""
        after = bisect.bisect_right(self.ends, start)  # the first that ends past `start`
        return after < len(self.starts) and self.starts[after] < end

    def add(self, start: int, end: int) -> None:
        """Take [start, end), which `overlaps` none taken."""
        at = bisect.bisect_right(self.ends, start)
        self.starts.insert(at, start)
        self.ends.insert(at, end)


def _in_url(text: str, start: int) -> bool:
    """Whether an address at `start` is a URL's user name or part of its path: right after
    `://` or an `@`, or after a `/` (`\\/` as JSON may write it) in a run of characters that a
    scheme or a `www.` host starts (`https://x.com/u/jane@acme.com`). After any other `/` it is an
    address: `jane@acme.com/john@acme.com`, `HR/jane@acme.com` (both leaked before)."""
    before = text[max(0, start - URL_REACH):start]
    if before.endswith(("://", "@")):
        return True
    if not before.endswith("/"):
        return False
    run = _RUN_START.split(before)[-1].replace("\\/", "/")
    return "://" in run or run.lower().startswith("www.")


_HEX_PAIR_BEFORE = re.compile(r"(?:^|\s)(?:[0-9a-fA-F]{2} {1,2}|[0-9a-fA-F]{8}  )$")
_HEX_PAIR_AFTER = re.compile(r" {1,2}(?:[0-9a-fA-F]{2}(?:\s|$)|\|)")  # a byte, the text column


def _in_a_hex_dump(text: str, start: int, end: int) -> bool:
    """Whether digit pairs at [start, end) sit among a hex dump's byte columns (`hexdump -C`:
    an offset or a byte before them, a byte after): 72% of random 1 KiB dumps had five columns
    read as a phone number."""
    pairs = all(len(group) == 2 for group in text[start:end].split())
    return pairs and _HEX_PAIR_BEFORE.search(text, max(0, start - 11), start) is not None \
        and _HEX_PAIR_AFTER.match(text, end) is not None


def _make(name: str, config: PiiConfig, spec: ClassifierSpec) -> PiiClassifier:
    return PiiClassifier(name, config, normalize=spec.normalize)


TYPE = ClassifierType(PiiConfig, _make)
