"""`shown_text` reads a run of references, percent-escapes and `\\x` escapes (a stream re-reads
one, up to 8,192 characters, at each check) without the markup's cases, and remembers what each
escape shows: the same text and offsets as reading `SHOWN` match by match."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.classify.escapes import SHOWN, _rebuilt, _shown_spans, has_references, shown, shown_text

# Escapes and markup, none opening a comment or emphasis (which `shown_text` pairs up: the
# match-by-match reading below does not), and what comes between them.
PIECES = st.lists(st.sampled_from([
    "&#97;", "&#x61;", "&#0000097;", "&#97", "&#", "&amp;", "&amp;#98;", "&lt;", "&shy", "%61", "%6", "%25",
    "%2561", "%C3%A9", "%u0061", "U+0061", "%41%7f%00", "%4", "%8", "\\x61", "\\xC3\\xA9", "\\x7F\\x0a",
    "\\x", "\\x4", "\\141", "\\u{61}", "\\*", "<b>",
    "</p>", "<br/>", "<x y='a>b'>", "[a](u)", "\x1b[0m", "a\x08", " ", "\t", "a", "é", "&", "%",
    "\\", "<", "x",
]), max_size=40).map("".join)


def by_match(text: str) -> tuple[str, list[int], list[int]] | None:
    """`text` read one `SHOWN` match at a time, with where each character starts and ends in it
    (the first pass of `shown_text`)."""
    out, starts, ends, pos = [], [], [], 0
    for m in SHOWN.finditer(text):
        if (plain := shown(m.group())) == m.group():
            continue
        for i in range(pos, m.start()):
            out.append(text[i])
            starts.append(i)
            ends.append(i + 1)
        out.append(plain)
        starts.extend([m.start()] * len(plain))
        ends.extend([m.end()] * len(plain))
        pos = m.end()
    if not out:
        return None
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(out) + text[pos:], starts, ends


@given(PIECES)
@settings(max_examples=100, deadline=None)
def test_a_run_of_escapes_reads_as_match_by_match(text: str) -> None:
    """The first pass (a second decodes what the first made: `%2561`, `%6&#97;`)."""
    assert _rebuilt(text, _shown_spans(text)) == by_match(text)


def test_long_runs_read_whole() -> None:
    """A stream's window of one run of each kind, 8,192 characters: every escape decoded, each
    character mapped onto its escape."""
    for unit, width in (("&#97;", 5), ("%61", 3), ("\\x61", 4), ("&#x1F600;", 9)):
        text = unit * (8192 // width)
        got = shown_text(text)
        assert got is not None
        read, starts, ends = got
        assert read == ("\U0001F600" if width == 9 else "a") * (8192 // width)
        assert starts == list(range(0, len(text), width))
        assert ends == list(range(width, len(text) + 1, width))


def test_emphasis_around_references_is_paired() -> None:
    """A run of references inside emphasis: the closing marker is still read as one."""
    assert shown_text("x*y&#98;&#99;z*w") == ("xybczw", [0, 2, 3, 8, 13, 15], [1, 3, 8, 13, 14, 16])


# Every kind of escape and markup, pieces of them, and what comes between them: `~`, `*` and
# `` ` `` inside words (emphasis), terminal controls, "U+" and "%u", a link's brackets.
ANY_PIECES = st.lists(st.one_of(st.sampled_from([
    "&#97;", "&x;", "&nbsp", "%61", "%u0061", "U+0061", "U+1F600", "\\x61", "\\141", "\\u{61}",
    "\\*", "<b>", "<!-- -->", "<!x>", "[a](u)", "[a](", "a*b*c", "a`b`c", "a~~b~~c", "\x1b[0m",
    "\x1b]0;t\x07", "\x9b1m", "\x9d0;t\x9c", "\x1b(B", "a\x08", "a\x1b[D", " + ", " ", "a", "7",
    "&", "%", "U", "+", "\\", "<", "[", "]", "(", ")", "*", "`", "~", "\x1b", "\n",
]), st.text(max_size=4)), max_size=30).map("".join)


@given(ANY_PIECES)
@settings(max_examples=300, deadline=None)
def test_the_quick_look_misses_no_text_holding_escapes(text: str) -> None:
    """`has_references` asks `SHOWN` only of a text the quick look (`_MAY_SHOW`) finds something
    in: a text `SHOWN` reads otherwise is never passed over (a gate that missed `U+0061` would read
    a key with one letter so written as it is written)."""
    assert has_references(text) == (SHOWN.search(text) is not None)
