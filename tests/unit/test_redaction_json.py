"""Where a mask may land in a text that is JSON (`redaction.breaks_json`): inside a string
literal's content, or it would not parse."""

from __future__ import annotations

import json

import pytest

from guard.redaction import apply_redactions, breaks_json, json_opening
from guard.types import Span

MASK = "[REDACTED:{label}]"


def span_of(text: str, value: str) -> Span:
    start = text.index(value)
    return Span(start, start + len(value), "x")


@pytest.mark.parametrize("text, value", [
    ('{"q": "bob@example.org", "n": 3}', "bob@example.org"),
    ('{"q": "a \\"bob@example.org\\" b"}', "bob@example.org"),
    ('["x", "4111 1111 1111 1111"]', "4111 1111 1111 1111"),
    ('{"bob@example.org": 1}', "bob@example.org"),
])
def test_a_mask_inside_a_string_keeps_json(text: str, value: str) -> None:
    assert not breaks_json(text, [span_of(text, value)], MASK)
    json.loads(apply_redactions(text, [span_of(text, value)], MASK))


@pytest.mark.parametrize("text, value", [
    ('{"q": "x", "n": 4111111111111111}', "4111111111111111"),   # a number
    ('{"q": "bob@example.org", "n": 3}', '"bob@example.org"'),   # the quotes too
    ('{"q": "bob@example.org", "n": 3}', 'org", "n'),            # across two literals
    ('{"q": "caf\\u00e9 x"}', "u00e9 x"),                         # half an escape
])
def test_a_mask_outside_a_string_breaks_json(text: str, value: str) -> None:
    assert breaks_json(text, [span_of(text, value)], MASK)


def test_a_mask_with_a_quote_breaks_json_even_inside_a_string() -> None:
    text = '{"q": "bob@example.org"}'
    assert breaks_json(text, [span_of(text, "bob@example.org")], '"gone"')


@pytest.mark.parametrize("before, after, value, breaks", [
    ('{"q": "ab', 'c bob@example.org", "n": 1}', "bob@example.org", False),
    ('{"q": "ab"', ', "n": 4111111111111111}', "4111111111111111", True),
    ('{"q": "ab\\', '" bob@example.org", "n": 1}', "bob@example.org", False),
    ('{"q": "ab\\u00', 'e9", "n": 4111111111111111}', "4111111111111111", True),
])
def test_a_text_read_on_from_where_it_was_left(before: str, after: str, value: str,
                                               breaks: bool) -> None:
    """A stream's text read from a point it moved past opens as the text before it ended."""
    assert breaks_json(after, [span_of(after, value)], MASK, json_opening("", before)) is breaks
