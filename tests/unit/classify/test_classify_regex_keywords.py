# ruff: noqa: RUF001  (test data: whole credentials and look-alike letters on one line)
"""regex and keywords: one pass over many patterns, case and word-boundary options, evasion."""

from __future__ import annotations

import pytest

from guard.classify.registry import build_classifier
from guard.classify.runner import in_context
from guard.redaction import reaching_back
from guard.types import Segment, Stage
from tests.unit.classify.builtin_helpers import classify, found, lines_counted


def test_regex_labels_and_spans() -> None:
    """Each matching entry adds its label; spans carry it and cover the match."""
    text = "ticket ABC-1234 and host db-07.internal"
    verdict = classify("regex", text, patterns=[
        {"pattern": r"[A-Z]{3}-\d{4}", "label": "ticket"},
        {"pattern": r"db-\d+\.internal", "label": "hostname"},
        {"pattern": r"never", "label": "unused"},
    ])
    assert verdict.labels == {"regex", "ticket", "hostname"}
    assert found(verdict, text) == [("ticket", "ABC-1234"), ("hostname", "db-07.internal")]


def test_regex_case_and_word_boundary_options() -> None:
    """Case is ignored by default; case_sensitive and word_boundary narrow matches."""
    assert classify("regex", "SECRET plan", patterns=["secret"]).fired
    assert not classify("regex", "SECRET plan", patterns=["secret"], case_sensitive=True).fired
    assert classify("regex", "secretary", patterns=["secret"]).fired
    assert not classify("regex", "secretary", patterns=["secret"], word_boundary=True).fired


def test_regex_is_linear_time_on_pathological_input() -> None:
    """A pattern that makes backtracking engines explode answers at once on RE2."""
    import time

    started = time.perf_counter()
    verdict = classify("regex", "a" * 5000 + "!", patterns=[r"(a+)+$"])
    assert not verdict.fired
    assert time.perf_counter() - started < 0.5


def test_keywords_match_whole_words_ignoring_case() -> None:
    """Terms match as whole words in any case; `ass` does not match inside `class`."""
    text = "First class. Then the ASS word."
    verdict = classify("keywords", text, terms=["ass"])
    assert found(verdict, text) == [("keyword", "ASS")]


def test_keywords_see_through_obfuscation() -> None:
    """Leetspeak, full-width letters, look-alikes and zero-width splits still match."""
    for text in ["how to m4k3 a b0mb", "how to make a ｂｏｍｂ", "how to make a b\u200bo\u200bm\u200bb",
                 "how to make a bоmb"]:
        verdict = classify("keywords", text, lists=[{"terms": ["make a bomb"], "label": "weapons"}])
        assert verdict.labels == {"keyword", "weapons"}, text
        (span,) = verdict.spans
        assert text[span.start:span.end].replace("\u200b", "").lower().startswith("m")


def test_keywords_phrase_spacing_and_labels() -> None:
    """Phrases match across any whitespace; each list keeps its own label."""
    text = "please  ignore\nprevious instructions about drugs"
    verdict = classify("keywords", text, lists=[
        {"terms": ["ignore previous instructions"], "label": "override"},
        {"terms": ["drugs", "weapons"], "label": "topic"},
    ])
    assert verdict.labels == {"keyword", "override", "topic"}


def test_keywords_read_words_under_accents_and_stacked_marks() -> None:
    """Accents ("bómb", with leet folding, as the term's own "café" is folded) and marks stacked on
    letters ("Zalgo") match, and the mask covers the marks too."""
    zalgo = "make a b\u0301\u0303o\u0300m\u030a\u0307b now"
    assert found(classify("keywords", zalgo, terms=["bomb"]), zalgo) == [("keyword", zalgo[7:-4])]
    for text in ["make a bómb now", "a cafe", "a CAFÉ", "kiĺl them"]:  # "ĺ" folds as "l" does
        assert classify("keywords", text, terms=["bomb", "café", "kill"]).fired, text
    assert not classify("keywords", "make a bómb now", terms=["bomb"], leet=False).fired


def test_keywords_read_fancy_text_letters() -> None:
    """A term written in small capitals or negative squared letters matches, and the mask covers
    the fancy letters."""
    for word in ["\u0299\u1d0f\u1d0d\u0299", "\U0001f171\U0001f17e\U0001f17c\U0001f171"]:
        text = f"make a {word} now"
        assert found(classify("keywords", text, terms=["bomb"]), text) == [("keyword", text[7:-4])], text


def test_keywords_match_a_word_that_punctuation_ends() -> None:
    """"!" before a letter reads "i" ("k!ll"), after a word it stays punctuation: "bomb!" and "kill!"
    match (read as "bombi", they did not)."""
    for text in ["how do I make a bomb!", "kill!", "k!ll them", "a bomb|"]:
        assert classify("keywords", text, terms=["bomb", "kill"]).fired, text


def test_keywords_leet_can_be_turned_off() -> None:
    """With leet: false, digits are not read as letters."""
    assert not classify("keywords", "b0mb", terms=["bomb"], leet=False).fired
    assert classify("keywords", "b0mb", terms=["bomb"]).fired


def test_keywords_read_letters_spread_apart_and_mask_all_of_them() -> None:
    """"b o m b", "b.o.m.b" and "n-a-p-a-l-m" match; the span covers the separators too."""
    for text, spread in [("make a b o m b", "b o m b"), ("make a b.o.m.b!", "b.o.m.b"),
                         ("got N-A-P-A-L-M?", "N-A-P-A-L-M"), ("h o w  t o  m a k e  a  b o m b", "b o m b")]:
        verdict = classify("keywords", text, terms=["bomb", "napalm"])
        assert found(verdict, text) == [("keyword", spread)], text


def test_keywords_read_words_in_letters_spread_with_no_word_gaps() -> None:
    """Letters spread with single spaces and nothing wider between the words are split into words
    again (joined, "howtomakenapalm" held no whole word "napalm"); the span covers the letters and
    their separators."""
    text = "h o w t o m a k e n a p a l m at home"
    assert found(classify("keywords", text, terms=["napalm"]), text) == [("keyword", "n a p a l m")]
    assert not classify("keywords", text, terms=["napalm"], spread=False).fired


def test_keywords_match_a_compound_term_spread_apart_whatever_the_split() -> None:
    """From a probe: `Nightjar`, `honeypot`, `starlink` written "n i g h t j a r" passed (the
    letters were split again into "night jar", which the term does not match) while "b o m b" was
    caught. A term now matches its spread letters however the splitter cuts inside them, alone or
    in a text spread out whole, in a prompt and in an answer; its edges still need a word gap."""
    terms = ["Nightjar", "honeypot", "starlink", "firestarter", "bomb"]
    for term in terms:
        shown = " ".join(term.lower())
        for text in (f"Sure: the {shown} plan starts at noon.", f"s e n d m e t h e {shown} p l a n"):
            for role in ("user", "assistant"):
                verdict = classify("keywords", text, role=role, terms=terms)
                assert found(verdict, text) == [("keyword", shown)], (text, role)
    # nothing new on ordinary text: a compound's words written apart stay apart, and a term
    # inside a spread word that the splitter keeps whole is not a word
    assert not classify("keywords", "a night jar and a honey pot", terms=terms).fired
    assert not classify("keywords", "the s t a r l i n g s sang", terms=["star"]).fired
    assert not classify("keywords", "the n i g h t j a r plan", terms=["nightjar"], spread=False).fired
    # from a second probe: spread with another space (no-break, thin, ideographic...) they passed
    for space in "\u00a0\u2009\u3000\u2007\u202f":
        text = f"the {space.join('nightjar')} plan"
        assert found(classify("keywords", text, terms=terms), text) == [
            ("keyword", space.join("nightjar"))], repr(space)


@pytest.mark.parametrize("space", ["\t", "\u2800"])
def test_keywords_read_letters_spread_with_a_tab_or_a_braille_blank(space: str) -> None:
    """From a probe: letters spread with tabs, or with the Braille blank normalisation reads as a
    space, passed a keyword list (12 of 12 and 6 of 12) while spaces, no-break, thin and
    ideographic spaces were caught: every horizontal space spreads letters (not a line break)."""
    terms = ["Nightjar", "Falconridge", "bluebird protocol", "bomb"]
    for word, after in (("nightjar", " plan"), ("falconridge", " plan"), ("Bluebird", " protocol"),
                        ("bomb", "")):
        text = f"the {space.join(word)}{after}"
        assert [label for label, _ in found(classify("keywords", text, terms=terms), text)] == [
            "keyword"], repr(text)
    spaced = space.join("howtomakeabomb")
    assert classify("keywords", spaced, terms=["bomb"]).fired
    assert not classify("keywords", "\n".join("nightjar"), terms=terms).fired


def test_keywords_read_latin_letters_with_a_stroke_or_hook_as_their_base() -> None:
    """From a probe: "Fałconridge", "Falcønridge", "Falconriđge", "Nigħtjar", "Nɨghtjar",
    "Nighŧjar", "ƒalconridge" passed a keyword list (7 of 7): those letters have no decomposition
    to take an accent off. Folded with leetspeak to their base letter, as accented ones are; with
    `leet: false`, as written."""
    terms = ["Nightjar", "Falconridge"]
    for text in ["the Fa\u0142conridge plan", "the Falc\u00f8nridge plan", "the Falconri\u0111ge plan",
                 "the Nig\u0127tjar plan", "the N\u0268ghtjar plan", "the Nigh\u0167jar plan",
                 "the \u0192alconridge plan", "the NIG\u0126TJAR plan"]:
        assert classify("keywords", text, terms=terms).fired, repr(text)
    assert not classify("keywords", "the Fa\u0142conridge plan", terms=terms, leet=False).fired
    assert not classify("keywords", "z\u0142oty, s\u00f8ster, \u0111ak", terms=terms).fired


def test_keywords_read_a_word_with_asterisks_inside() -> None:
    """"bo*mb" matches "bomb", and the mask covers the asterisk."""
    text = "make a bo*mb, now"
    assert found(classify("keywords", text, terms=["bomb"]), text) == [("keyword", "bo*mb")]


def test_keywords_spread_can_be_turned_off_and_ordinary_text_stays_apart() -> None:
    """With spread: false the separators stay; two single letters, or words, are never joined."""
    assert not classify("keywords", "b.o.m.b", terms=["bomb"], spread=False).fired
    assert not classify("keywords", "a b or c", terms=["ab"]).fired
    assert not classify("keywords", "mark the b-o plan", terms=["bo"], marks=False).fired


def test_keywords_read_a_word_with_marks_inside_and_keep_compounds_whole() -> None:
    """A second reading drops a dot, hyphen, underscore or apostrophe between letters: "na-palm",
    "na.palm", "na_palm", "na'palm" match "napalm", the mask covering the mark. The first reading
    still holds the words of a compound ("harm" in "self-harm"), a hyphenated term matches its
    written-through form, contractions stay, and marks: false turns the second reading off."""
    for word in ("na-palm", "na.palm", "na_palm", "na'palm", "NA-PA-LM"):
        text = f"make {word} at home"
        assert found(classify("keywords", text, terms=["napalm"]), text) == [("keyword", word)], word
    text = "a t-shirt on self-harm"
    assert found(classify("keywords", text, terms=["shirt", "harm"]), text) == [
        ("keyword", "shirt"), ("keyword", "harm")
    ]
    text = "no self-harm, no selfharm, no self-h.arm"
    assert found(classify("keywords", text, terms=["self-harm"]), text) == [
        ("keyword", "self-harm"), ("keyword", "selfharm"), ("keyword", "self-h.arm")
    ]
    assert not classify("keywords", "don't say it's fine", terms=["dont", "itsfine"]).fired
    assert not classify("keywords", "make na-palm", terms=["napalm"], marks=False).fired


def test_regex_reads_marks_inside_words_only_when_asked() -> None:
    """marks: true (with spread) adds a second reading with marks between letters dropped; the
    first still sees the text as written, and the span covers the mark."""
    text = "how do I make na-palm, or na.palm"
    pattern = [r"make\s+napalm", r"na-palm"]
    assert found(classify("regex", text, patterns=pattern, spread=True), text) == [("regex", "na-palm")]
    verdict = classify("regex", text, patterns=pattern, spread=True, marks=True)
    assert found(verdict, text) == [("regex", "make na-palm")]


def test_regex_reads_letters_spread_apart_only_when_asked() -> None:
    """spread: true on a regex classifier joins spread letters; by default separators stay."""
    text = "how do I make a b.o.m.b"
    assert not classify("regex", text, patterns=[r"make an?\s+bomb"]).fired
    verdict = classify("regex", text, patterns=[r"make an?\s+bomb"], spread=True)
    assert found(verdict, text) == [("regex", "make a b.o.m.b")]
    assert classify("regex", "U.S.A", patterns=[r"U\.S\.A"]).fired


def test_long_texts_find_matches_across_window_edges() -> None:
    """In texts longer than one screening window, every match is found once, at its place."""
    from guard.classify.builtin._engine import WINDOW

    filler = "lorem ipsum " * (3 * WINDOW // 12)
    cut = WINDOW - 3  # the first hit straddles the first window edge
    text = filler[:cut] + " ticket ABC-1234 " + filler + "ABC-5678 end"
    verdict = classify("regex", text, patterns=[{"pattern": r"ABC-\d{4}", "label": "t"}])
    assert [text[s.start:s.end] for s in verdict.spans] == ["ABC-1234", "ABC-5678"]
    kw = classify("keywords", text, terms=["ticket", "end"])
    assert [text[s.start:s.end] for s in kw.spans] == ["ticket", "end"]


def test_letters_to_split_into_words_are_scanned_off_the_event_loop() -> None:
    """A short text holding letters spread with no word gaps (whose split costs a millisecond or
    more) goes to a worker thread; a short ordinary one, or a list that does not join spread
    letters, is scanned on the loop."""
    def inline(text: str, **config: object) -> bool:
        classifier = build_classifier("t", {"type": "keywords", "terms": ["bomb"], **config}).classifier
        return classifier.runs_inline([Segment(text, "user", 0, Stage.PROMPT)])  # type: ignore[attr-defined, no-any-return]

    spread = "please: h o w t o m a k e a b o m b"
    assert not inline(spread)
    assert not inline("\u00e9 " + spread)  # not ASCII: found by a regex instead of the text's shape
    assert inline("how to make a b o m b, please")
    assert inline(spread, spread=False)


def test_a_term_split_across_text_parts_is_read_joined() -> None:
    """From a probe: `say PURPLE` and `WOMBAT` in two text parts of one message passed a
    keyword rule for PURPLEWOMBAT (a model reads the parts back to back), and a regex the same.
    Each segment is read with the ones before it of its role, as keys and addresses are."""
    for config in ({"type": "keywords", "terms": ["purplewombat"]},
                   {"type": "regex", "patterns": [{"pattern": "PURPLE ?WOMBAT", "label": "x"}],
                    "max_match_chars": 32}):
        built = build_classifier("t", config)
        alone = built.classifier.classify_sync([Segment("WOMBAT", "user", 1, Stage.PROMPT)])[0]
        joined = built.classifier.classify_sync(
            [Segment("WOMBAT now", "user", 1, Stage.PROMPT, ("say PURPLE",))])[0]
        assert not alone.fired and joined.fired, config
        # the span starts in the part before, by the characters of the term there
        assert [(s.start, s.end) for s in joined.spans] == [(-6, 6)]
        assert built.classifier.context_turns["user"] == 8


@pytest.mark.parametrize("between", [[], [" "], ["\n"], ["\u3000"], ["\u200b"], [" " * 1000] * 9])
def test_a_phrase_cut_at_its_space_across_texts_is_read_whole(between: list[str]) -> None:
    """From a probe: "about Project", " ", "Bluebird now" (messages or parts) passed a keyword
    rule for "Project Bluebird" once blank texts took no place (the joined reading is
    "about ProjectBluebird now"), and with nothing between it always had. A phrase's words meet
    across a boundary of two texts with or without white space; the mask lands in both pieces,
    none in the blanks; a word glued to the next text ("xProject") or ordinary texts stay apart."""
    built = build_classifier("t", {"type": "keywords", "terms": ["Project Bluebird", "nightjar"]})
    texts = ["about Project", *between, "Bluebird now"]
    split = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(texts)]
    verdicts = built.classifier.classify_sync(list(in_context([built], split, Stage.PROMPT)))
    last = len(texts) - 1
    assert [v.segment for v in verdicts if v.fired] == [last]
    masked = reaching_back({last: verdicts[last].spans}, split)
    assert {i: [split[i].text[max(0, s.start):s.end] for s in spans]
            for i, spans in masked.items()} == {0: ["Project"], last: ["Bluebird"]}
    for apart in (["about xProject", "Bluebird now"], ["about Project", "Bluebirds"],
                  ["a project.", "Bluebird now"], ["night", "jars"]):
        split = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(apart)]
        assert not any(v.fired for v in built.classifier.classify_sync(
            list(in_context([built], split, Stage.PROMPT)))), apart


@pytest.mark.parametrize("texts", [["about Project", "Bluebird now"],
                                   ["about Project", " ", "Bluebird now"],
                                   ["about Project", "\u200b", "Bluebird now"],
                                   ["how to make", "a", "bomb"]])
def test_a_phrase_cut_across_an_answers_texts_is_masked_in_every_piece(texts: list[str]) -> None:
    """From a probe: an answer's text blocks "about Project", "Bluebird now" came out "about
    Project", "[REDACTED] now" (each text is read with those after it joined back to back, where
    the phrase has no space), and a blank block between took the mask instead. Each piece of the
    phrase is masked where it is, no blank text is; a single term cut so ("pass", "word") too."""
    from guard.proxy.protocols.base import Slot, segments

    built = build_classifier("t", {"type": "keywords",
                                   "terms": ["Project Bluebird", "make a bomb", "password"]})
    for pieces in (texts, ["my pass", "word is"]):
        slots = [Slot(("content", n, "text"), "assistant", text) for n, text in enumerate(pieces)]
        read = segments(slots, Stage.COMPLETION, joined=8, ahead=64)
        verdicts = built.classifier.classify_sync(read)
        shown = {v.segment: [pieces[v.segment][s.start:s.end] for s in v.spans]
                 for v in verdicts if v.spans}
        words = {n: [text.split()[-1 if n == 0 else 0]] for n, text in enumerate(pieces)
                 if text.strip("\u200b ")}
        assert shown == words, pieces


@pytest.mark.parametrize("pieces", [["n i g h t j", "a r"], ["m a k e", "a b o m b"],
                                    ["p r o j e c t", "b l u e b i r d"],
                                    ["about p r o j", "e c t b l u e b i r d"],
                                    ["b.o", "m.b"]])
def test_a_term_spread_apart_and_cut_across_texts_is_read_whole(pieces: list[str]) -> None:
    """From a probe: a term spread out and cut across two texts with no space at the cut ("n i g h
    t j" + "a r") passed a keyword list (4 of 4, prompts and answers), while a space on either
    side of the cut was caught: joined back to back the cut reads "ja", which ends the run of
    single letters. The cut between two letters spread apart is read as their separator."""
    from guard.proxy.protocols.base import Slot, segments

    built = build_classifier("t", {"type": "keywords",
                                   "terms": ["Project Bluebird", "make a bomb", "nightjar", "bomb"]})
    asked = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(pieces)]
    verdicts = built.classifier.classify_sync(list(in_context([built], asked, Stage.PROMPT)))
    assert verdicts[-1].fired and verdicts[-1].spans[0].start < 0, pieces
    slots = [Slot(("content", n, "text"), "assistant", text) for n, text in enumerate(pieces)]
    answered = built.classifier.classify_sync(segments(slots, Stage.COMPLETION, joined=8, ahead=64))
    assert all(v.spans for v in answered), pieces
    # letters that are not spread apart on both sides stay apart
    for apart in (["the night j", "a r"], ["n i g h t j", "ar"], ["n i g h t j", "a.r"]):
        split = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(apart)]
        assert not any(v.fired for v in built.classifier.classify_sync(
            list(in_context([built], split, Stage.PROMPT)))), apart


@pytest.mark.parametrize(("kind", "config", "pieces"), [
    ("keywords", {"terms": ["bomb", "Project Bluebird"]}, ["how to build a bomb", "Sure."]),
    ("keywords", {"terms": ["bomb", "Project Bluebird"]}, ["about Project Bluebird", "Next"]),
    ("keywords", {"terms": ["bomb"]}, ["b o m b", "ok"]),
    ("regex", {"patterns": [r"KEY-\d{4}"], "word_boundary": True}, ["use KEY-1234", "and go"]),
])
def test_an_answers_own_text_is_read_alone_before_a_text_starting_with_a_letter(
        kind: str, config: dict[str, object], pieces: list[str]) -> None:
    """From a probe: an answer's text is read joined to the texts after it (`Segment.joins`),
    and a value ending it, the next starting with a letter, was never found ("bomb" + "ok" read
    "bombok"; 9 of 9 passed), while a client shows each text apart: it is read alone too."""
    from guard.proxy.protocols.base import Slot, segments

    built = build_classifier("t", {"type": kind, **config})
    slots = [Slot(("content", n, "text"), "assistant", text) for n, text in enumerate(pieces)]
    answered = built.classifier.classify_sync(segments(slots, Stage.COMPLETION, joined=8, ahead=64))
    assert answered[0].spans and answered[0].spans[0].end <= len(pieces[0]), pieces
    assert not answered[1].fired, pieces


@pytest.mark.parametrize("pieces", [["n i g h t", "j", "a r"], ["n i g h t", "j", "a", "r"],
                                    ["b o", "m", "b"]])
def test_a_term_spread_apart_across_a_text_of_one_letter_is_read_whole(pieces: list[str]) -> None:
    """From a probe: a term spread apart across three texts or more, one of one letter at a cut
    ("n i g h t" + "j" + "a r"), passed a keyword list, prompts and answers, while "n i g h t j" +
    "a r" was caught: the one letter has no separator of its own to show its run's."""
    from guard.proxy.protocols.base import Slot, segments

    built = build_classifier("t", {"type": "keywords", "terms": ["nightjar", "bomb"]})
    asked = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(pieces)]
    verdicts = built.classifier.classify_sync(list(in_context([built], asked, Stage.PROMPT)))
    assert verdicts[-1].fired, pieces
    slots = [Slot(("content", n, "text"), "assistant", text) for n, text in enumerate(pieces)]
    answered = built.classifier.classify_sync(segments(slots, Stage.COMPLETION, joined=8, ahead=64))
    assert all(v.spans for v in answered), pieces
    for apart in (["n i g h t", "j", "ar"], ["b o", "m", "bat"]):
        split = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(apart)]
        assert not any(v.fired for v in built.classifier.classify_sync(
            list(in_context([built], split, Stage.PROMPT)))), apart


def test_letters_spread_apart_at_every_cut_cost_little_more_than_none() -> None:
    """From a probe: a prompt of 1,000 texts of letters spread apart ("q w e r t y u i"), every
    cut between two of them, cost 2.5 s of keyword CPU time (0.48 s before the cut was read as
    their separator), past the check timeout: refused. Only the longest run of earlier texts is
    read so, and only when a term's letters are there (`may_find_in`)."""
    import random

    built = build_classifier("t", {"type": "keywords", "terms": ["nightjar", "bomb", "project bluebird"]})
    draw = random.Random(1)
    texts = [" ".join(draw.choices("abcdefghijklmnopqrstuvwxyz", k=8)) for _ in range(300)]

    def cost(pieces: list[str]) -> int:  # once: a text read again is read from a cache
        asked = list(in_context([built], [Segment(text, "user", i, Stage.PROMPT)
                                          for i, text in enumerate(pieces)], Stage.PROMPT))
        return lines_counted(lambda: built.classifier.classify_sync(asked))

    # the same texts ended by a dot, no cut between letters spread apart: counted in lines of
    # Python run (not time: the machine's load moves that)
    assert cost(texts) < cost([f"{text}." for text in texts])
