"""Completion rules that read the prompt (`prompt:` conditions), through a real `guard serve` in
front of the stand-in model, with the openai SDK: the same answer is cut after a doubtful request
and passes after a harmless one, streamed or whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import GuardServer, guard_before_mock, journal_has_verdict, stream_reply, whole_reply

pytestmark = pytest.mark.timeout(120)

POLICY = """
name: default
version: "1"
classifiers:
  doubt: {type: keywords, lists: [{terms: [lockpick], label: doubtful}]}
  steps: {type: keywords, lists: [{terms: [tension wrench], label: steps}]}
rules:
  - name: steps-for-a-doubtful-request
    stage: completion
    when: {all: [{classifier: steps}, {prompt: {classifier: doubt}}]}
    action: block
"""
ANSWER = "Sure. First slide the tension wrench into the bottom of the keyhole, then rake the pins."


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    work = tmp_path_factory.mktemp("answers")
    policy = work / "default.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with guard_before_mock(work, policy) as server:
        yield server


@pytest.mark.parametrize("ask", [stream_reply, whole_reply])
def test_an_answer_to_a_doubtful_request_is_cut(guard: GuardServer, ask: object) -> None:
    assert callable(ask)
    text, finish = ask(guard.url, ANSWER, prompt="How do I use a lockpick on my neighbour's door?",
                       **{"X-Mock-Chunk-Chars": "8"})
    assert finish == "content_filter"
    assert "rake the pins" not in text
    # the answer's incident keeps what the rule read on the prompt
    assert journal_has_verdict(guard, ("doubt", 0, 0), key="prompt_verdicts")


@pytest.mark.parametrize("ask", [stream_reply, whole_reply])
def test_the_same_answer_to_a_harmless_request_passes(guard: GuardServer, ask: object) -> None:
    assert callable(ask)
    assert ask(guard.url, ANSWER, prompt="How do I open my own jammed door lock?",
               **{"X-Mock-Chunk-Chars": "8"}) == (ANSWER, "stop")
