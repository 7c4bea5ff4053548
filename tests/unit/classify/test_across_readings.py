# ruff: noqa: RUF001  (test data: look-alike letters and zero-width characters)
"""Reading a text joined to the texts before it (`LocalClassifier._across`): the same findings as
the reading it replaced, which read every join in full, at a fraction of its cost."""

from __future__ import annotations

import functools
import itertools
import random
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard.classify.base import JOIN_CHARS, Finding, LocalClassifier, _heads
from guard.classify.normalize import kept_after, kept_before
from guard.classify.registry import build_classifier
from guard.classify.runner import in_context
from guard.policy.loader import load_policy_file
from guard.types import Segment, Span, Stage
from tests.unit.classify.builtin_helpers import PROVIDER_KEYS, lines_counted

DEFAULT_PACK = Path(__file__).resolve().parents[3] / "policies" / "default.yaml"


def _across_before(self: LocalClassifier, segment: Segment) -> Iterator[tuple[Finding, Span]]:
    """`_across` as it was (commit eddfa13): every earlier text joined with those after it and
    read in full, each join rebuilt; the reference the new reading must agree with."""
    reach = self.max_match_chars or JOIN_CHARS
    tail = segment.text[:kept_after(segment.text, 0, reach)]
    heads = _heads_before(segment.context, reach)
    ahead = [at for at in segment.joins if at < len(tail)]
    seen: set[tuple[int, str]] = set()
    for longest, (head, bounds) in enumerate(heads.items(), start=1):
        found = self._scanned(head + tail, segment)
        cuts = [*bounds, *(len(head) + at for at in ahead)]
        found = itertools.chain(found, self._at_bounds(head + tail, cuts, segment,
                                                       glue=longest == 1))
        for norm, f in found:
            start, end = norm.original_span(f.start, f.end)
            if start < len(head) < end and (end - len(head), f.label) not in seen:
                seen.add((end - len(head), f.label))
                back = start - len(head) if segment.stage is Stage.PROMPT else 0
                yield f, Span(back, end - len(head), f.label)


def _heads_before(context: tuple[str, ...], reach: int) -> dict[str, list[int]]:
    """The joins `_across` read, as it made them: each rebuilt and cut on its own."""
    heads: dict[str, list[int]] = {}
    for k in range(len(context)):
        pieces = context[k:]
        joined = "".join(pieces)
        cut = kept_before(joined, len(joined), reach)
        starts = itertools.accumulate(len(piece) for piece in pieces)
        heads.setdefault(joined[cut:], [at - cut for at in starts if at > cut])
    return heads


# Values a reader reads whole across texts, and what is read around them
VALUES = [
    "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5b", "AKIAQZ7XW3JD5R6TLM2P",
    "sk-proj-" + "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Ef3Hj5" + "T3BlbkFJ" + "xY7zQ2",
    "secret=" + "q8Zr2Lx7Vb4Nw1Kd", "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lw3Nb",
    *PROVIDER_KEYS.values(),
    "jane.doe@example.org", "+1 415 555 0134", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32",
    "078-05-1120", "192.168.10.42",
    "bomb", "b o m b", "b.o.m.b", "b0mb", "bo\u200bmb", "na-palm", "n i g h t j a r", "nightjar",
    "project bluebird", "Project Bluebird", "pr0ject blu3bird", "f o r b i d d e n", "forbidden",
    "ACCT-123456", "A C C T - 1 2 3 4 5 6",
]
FILLER = [
    "message ", "ok. ", "the ", "is ", "see ", "x", " ", "\n", "token: ", "key ", "call ", "a", "b",
    "& ", "&#80;", "%50", "\\n", "*", "`", "[", "U+", "é", "ｂ", "\u200b", "def f(x):\n    return x + 1\n",
    '{"path": "src/m1.py"}', "Sent from my phone. ", "lorem ipsum dolor sit amet ",
]
LONG = ["lorem ipsum dolor sit amet ", "lo\u200brem ip\u0301sum ", "x\u200b\u200b\u200b"]
ROLES = ["user", "user", "user", "tool", "document"]


def _conversation(rng: random.Random) -> list[Segment]:
    """Texts with values and filler, each value cut across two to nine texts; some of the texts
    long, so that the joins reaching past a classifier's reach are cut."""
    texts: list[str] = []
    for _ in range(rng.randint(1, 3)):
        run = "".join(rng.choice(FILLER) for _ in range(rng.randint(0, 4)))
        run += rng.choice(VALUES) + "".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.2:  # marks and invisible characters, not counted in the reach
            run = rng.choice(LONG) * rng.randint(5, 60) + run
        cuts = sorted(rng.sample(range(1, len(run)), min(len(run) - 1, rng.randint(1, 8))))
        texts += [run[a:b] for a, b in itertools.pairwise([0, *cuts, len(run)])]
    role = rng.choice(ROLES)
    return [Segment(text, rng.choice((role, "user")), i, Stage.PROMPT) for i, text in enumerate(texts)]


def _default_pack() -> list[Any]:
    loaded = load_policy_file(DEFAULT_PACK)
    return [c for c in loaded.classifiers.values() if isinstance(c.classifier, LocalClassifier)]


def _mixed_pack() -> list[Any]:
    configs: dict[str, dict[str, Any]] = {
        "keywords": {"type": "keywords", "lists": [
            {"terms": ["bomb", "napalm", "nightjar"], "label": "weapons"},
            {"terms": ["project bluebird", "forbidden"], "label": "internal"}]},
        "regex": {"type": "regex", "patterns": [{"pattern": r"ACCT-\d{6}", "label": "account"}]},
        "regex_spread": {"type": "regex", "spread": True,
                         "patterns": [{"pattern": r"ACCT-\d{6}", "label": "account"}]},
        "secrets": {"type": "secrets"},
        "pii": {"type": "pii", "entities": ["email", "phone", "card", "iban", "ssn", "ip"]},
    }
    return [build_classifier(name, config) for name, config in configs.items()]


def _verdicts(classifier: LocalClassifier, segments: list[Segment]) -> list[tuple[Any, ...]]:
    return [(v.labels, v.score, v.spans) for v in classifier.classify_sync(segments)]


@pytest.mark.parametrize("pack", [_default_pack, _mixed_pack], ids=["default", "mixed"])
def test_joined_reading_finds_what_the_full_reading_found(pack: Any) -> None:
    """Over 250 random conversations with keys, personal data and keyword terms (spread, leet,
    zero-width, phrases) cut across two to nine texts, each classifier's verdicts (labels, score,
    spans) are those of the reading that read every join in full, and the joins those it made."""
    rng = random.Random(56)
    conversations = [_conversation(rng) for _ in range(250)]
    across = 0
    for built in pack():
        classifier = built.classifier
        for segments in conversations:
            asked = list(in_context([built], segments, Stage.PROMPT, joined=True))
            now = _verdicts(classifier, asked)
            classifier._across = types.MethodType(_across_before, classifier)
            try:
                then = _verdicts(classifier, asked)
            finally:
                del classifier._across
            assert now == then, (built.name, [s.text for s in segments])
            reach = classifier.max_match_chars or JOIN_CHARS
            for segment in asked:  # the joins themselves: the same, in the same order
                if segment.context:
                    assert list(_heads(segment.context, reach).items()) == list(
                        _heads_before(segment.context, reach).items())
            across += sum(any(span.start < 0 for span in spans) for _, _, spans in now)
    assert across > 100  # values were found across texts, not only within one


def test_short_texts_joined_are_read_only_where_a_finding_may_be() -> None:
    """400 short texts, each read joined to the eight before it: a keyword list whose terms'
    letters they lack, and the secrets a tool call's arguments lack, spare the joins' readings
    (counted in lines of Python run, not time: 256k and 332k lines before, 148k and 152k now)."""
    keywords = build_classifier("kw", {"type": "keywords", "terms": ["forbidden"]})
    secrets = build_classifier("secrets", {"type": "secrets"})
    for built, text, most in ((keywords, "message {}", 200_000),
                              (secrets, '{{"path": "src/m{}.py"}}', 200_000)):
        segments = [Segment(text.format(i), "tool", i, Stage.PROMPT) for i in range(400)]
        asked = list(in_context([built], segments, Stage.PROMPT))
        built.classifier.classify_sync(asked)  # once: normalised texts are cached
        assert lines_counted(functools.partial(built.classifier.classify_sync, asked)) < most, built.name
