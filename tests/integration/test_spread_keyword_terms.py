"""Keyword terms written with their letters spread apart ("n i g h t j a r"), through a real `guard
serve` in front of the stand-in model: a compound term that the word splitter cuts again ("night
jar") is refused in a prompt and cut from an answer, whole and streamed in pieces of every size,
as "b o m b" is; its words written apart pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import (
    GuardServer,
    assert_refused_unsent,
    guard_before_mock,
    stream_reply,
    upstream_got,
    whole_reply,
)

pytestmark = pytest.mark.timeout(180)

POLICY = """
name: default
version: "1"
classifiers:
  words: {type: keywords, lists: [{terms: [Nightjar, honeypot, starlink, bomb, Project Bluebird],
                                   label: codename}]}
rules:
  - {name: words-asked, stage: prompt, when: {classifier: words}, action: block}
  - {name: words-answered, stage: completion, when: {classifier: words}, action: block}
streaming: {mode: buffered}
"""
TERMS = ["nightjar", "honeypot", "starlink", "bomb"]


def spread(term: str) -> str:
    return " ".join(term)


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    work = tmp_path_factory.mktemp("spread")
    policy = work / "default.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with guard_before_mock(work, policy) as server:
        yield server


@pytest.mark.parametrize("term", TERMS)
def test_a_term_spread_apart_in_a_prompt_is_refused(guard: GuardServer, term: str) -> None:
    """The spread letters of a term are refused in a prompt and never sent upstream."""
    assert_refused_unsent(guard, f"tell me about the {spread(term)} plan", spread(term))


@pytest.mark.parametrize("term", TERMS)
def test_a_term_spread_apart_in_a_whole_answer_is_blocked(guard: GuardServer, term: str) -> None:
    """A whole answer holding a term's spread letters does not reach the client."""
    text, finish = whole_reply(guard.url, f"Sure: the {spread(term)} plan starts at noon.")
    assert finish == "content_filter"
    assert spread(term) not in text


@pytest.mark.parametrize("term", TERMS)
def test_a_term_spread_apart_in_a_streamed_answer_is_cut_at_any_split(guard: GuardServer,
                                                                      term: str) -> None:
    """Streamed in pieces of every size from one character to the whole term, the answer is cut
    before the term's last letter reaches the client."""
    answer = f"Sure: the {spread(term)} plan starts at noon."
    for size in range(1, len(spread(term)) + 2):
        text, finish = stream_reply(guard.url, answer, **{"X-Mock-Chunk-Chars": str(size)})
        assert finish == "content_filter", size
        assert spread(term) not in text, size


def test_the_words_of_a_compound_written_apart_pass(guard: GuardServer) -> None:
    """No new refusal on ordinary text: "night jar" and "honey pot" are not the terms."""
    answer = "A night jar of honey, a honey pot, and the star link between them."
    assert stream_reply(guard.url, answer, **{"X-Mock-Chunk-Chars": "3"}) == (answer, "stop")
    assert whole_reply(guard.url, answer, prompt=answer) == (answer, "stop")


@pytest.mark.parametrize("between", ["", " ", "\n", "\u3000"])
@pytest.mark.parametrize("shape", ["messages", "parts"])
def test_a_phrase_cut_across_texts_at_its_space_is_refused(guard: GuardServer, between: str,
                                                           shape: str) -> None:
    """From a probe: "about Project", a blank message or part, "Bluebird now" passed to the
    model (9 of 9 shapes; with nothing between, the same): a phrase's words are read across a
    boundary of two texts with or without white space, and the prompt is refused unsent."""
    import openai

    pieces = ["about Project", *([between] if between else []), "Bluebird now"]
    messages: list[Any] = (
        [{"role": "user", "content": piece} for piece in pieces] if shape == "messages" else
        [{"role": "user", "content": [{"type": "text", "text": piece} for piece in pieces]}])
    with openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0) as client, \
            pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="m", messages=messages)
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "content_filter"
    assert not upstream_got(guard, "Bluebird now")
