"""A keyword phrase whose words an answer cuts across two text blocks (Anthropic Messages), through
a real `guard serve` in front of the hostile upstream in scripted mode: a redact rule masks each
piece where it is, whole and streamed, and never a blank block between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import GuardServer, guard_with_scripted_upstream, messages_answer

pytestmark = pytest.mark.timeout(120)

POLICY = """
name: default
version: "1"
classifiers:
  words: {type: keywords, terms: [Project Bluebird, make a bomb, bomb]}
rules:
  - {name: words, stage: completion, when: {classifier: words}, action: redact}
"""
MASK = "[REDACTED:keyword]"


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    work = tmp_path_factory.mktemp("phrase_across")
    (work / "policies").mkdir()
    (work / "policies" / "default.yaml").write_text(POLICY, encoding="utf-8")
    with guard_with_scripted_upstream(work, policies=work / "policies") as (_, server):
        yield server


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("texts", "masked"), [
    (["about Project", "Bluebird now"], [f"about {MASK}", f"{MASK} now"]),
    (["about Project", " ", "Bluebird now"], [f"about {MASK}", " ", f"{MASK} now"]),
    (["about Project", "\u200b", "Bluebird now"], [f"about {MASK}", "\u200b", f"{MASK} now"]),
    (["how to make", "a", "bomb"], [f"how to {MASK}", MASK, MASK]),
], ids=["apart", "space", "zero_width", "three"])
def test_a_phrase_cut_across_text_blocks_is_masked_in_each(guard: GuardServer, texts: list[str],
                                                           masked: list[str], stream: bool) -> None:
    """From a probe: 'about Project' + 'Bluebird now' came out 'about Project' + '[REDACTED]
    now' (8 of 10 answers), a blank block between taking the mask instead of the first word."""
    assert messages_answer(guard, texts, stream) == masked


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("texts", "masked"), [
    (["how to build a bomb", "Sure."], [f"how to build a {MASK}", "Sure."]),
    (["about Project Bluebird", "Next, ..."], [f"about {MASK}", "Next, ..."]),
    (["bomb", "ok"], [MASK, "ok"]),
], ids=["sentence", "phrase", "alone"])
def test_a_term_ending_a_text_block_before_one_starting_with_a_letter_is_masked(
        guard: GuardServer, texts: list[str], masked: list[str], stream: bool) -> None:
    """From a probe: a term ending a block whose next block starts with a letter went out in
    clear (9 of 9, whole and streamed, and Responses parts): the block was read only joined to
    the next ("bombok"), while a client shows each block apart."""
    assert messages_answer(guard, texts, stream) == masked
