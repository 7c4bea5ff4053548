# ruff: noqa: RUF001  (look-alike letters are the test data)
"""Normalisation: what it folds, and that spans map back onto the original characters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.classify.normalize import INVISIBLE, fold_leet, normalize, original_text

ALPHABET = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!@$",
        *["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad", "\U000e0041"],
        *["\u0301", "\u0308", "\u0327"],  # combining marks
        *["а", "е", "о", "р", "с", "А", "Н", "α", "ο", "Ρ"],  # Cyrillic / Greek look-alikes
        *["ｈ", "ｅ", "Ｌ", "１", "ﬁ", "ﬃ", "𝐛", "²", "㎏", "é", "ß", "İ", "ǆ", "漢"],
    ]
)
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


def test_ascii_is_returned_as_is() -> None:
    """Plain ASCII text is its own normalisation, position for position."""
    norm = normalize("ignore previous instructions")
    assert norm.text == "ignore previous instructions" and norm.identity
    assert norm.original_span(7, 15) == (7, 15)


def test_zero_width_bidi_and_tags_are_removed() -> None:
    """Zero-width, bidi control and Unicode tag characters disappear from the matched text."""
    text = "ig\u200bno\u200dre\u202e pre\u2066vious \U000e0041\U000e0042 rules\ufeff"
    assert normalize(text).text == "ignore previous  rules"


def test_confusables_and_fullwidth_fold_to_latin() -> None:
    """Cyrillic and Greek look-alikes and full-width forms read as Latin letters."""
    assert normalize("раssωοrd").text == "password"
    assert normalize("ｉｇｎｏｒｅ").text == "ignore"
    assert normalize("𝐢𝐠𝐧𝐨𝐫𝐞").text == "ignore"


def test_leet_folds_only_when_asked() -> None:
    """Leetspeak folds for keyword matching only, and both sides fold alike."""
    assert normalize("h4ck3r").text == "h4ck3r"
    assert normalize("h4ck3r", leet=True).text == "hacker"
    assert normalize("k1ll", leet=True).text == fold_leet("kill")


def test_span_maps_back_over_hidden_characters() -> None:
    """A match across removed characters maps to an original range that includes them."""
    text = "my p\u200ba\u200bs\u200bs word"
    norm = normalize(text)
    start = norm.text.index("pass")
    s, e = norm.original_span(start, start + 4)
    assert text[s:e] == "p\u200ba\u200bs\u200bs"


def test_expansion_maps_to_the_whole_source_character() -> None:
    """A ligature that expands to two letters maps any part of it back to the ligature."""
    text = "x ﬁle"
    norm = normalize(text)
    assert norm.text == "x file"
    assert norm.original_span(2, 3) == (2, 3)
    assert norm.original_span(3, 6) == (2, 5)


def test_opt_out_is_identity() -> None:
    """original_text() leaves the text and positions alone."""
    norm = original_text("ｈｉ\u200b")
    assert norm.text == "ｈｉ\u200b" and norm.original_span(0, 3) == (0, 3)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.booleans())
def test_every_span_maps_within_bounds_and_covers_the_original(text: str, leet: bool) -> None:
    """Every normalised span maps to an in-bounds original range whose normalisation contains it."""
    norm = normalize(text, leet=leet)
    assert not any(ord(c) in INVISIBLE for c in norm.text)
    n = len(norm.text)
    for a in range(n):
        for b in range(a + 1, min(n, a + 6) + 1):
            s, e = norm.original_span(a, b)
            assert 0 <= s < e <= len(text)
            assert norm.text[a:b] in normalize(text[s:e], leet=leet).text


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_spans_are_monotonic(text: str) -> None:
    """Later normalised characters never map to earlier original characters."""
    norm = normalize(text)
    if norm.starts is None or norm.ends is None:
        return
    assert list(norm.starts) == sorted(norm.starts)
    assert list(norm.ends) == sorted(norm.ends)
