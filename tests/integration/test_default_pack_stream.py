"""The shipped default pack (`guard serve`, a real process) with the openai SDK as client: its
secrets classifier reads encoded runs, so a key inside a long base64 answer is cut before any of
the run is sent, while a harmless base64 answer comes through whole."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import GuardServer, guard_before_mock, stream_reply

pytestmark = pytest.mark.timeout(120)

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
NOTES = ("The staging deploy reads its bucket, region and retention rules from this file, and "
         "rotates its logs every night. ") * 4


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path_factory.mktemp("default"), DEFAULT) as server:
        yield server


@pytest.mark.parametrize("chunk_chars", ["4", "64"])
def test_a_key_in_a_long_base64_answer_is_cut_before_the_run(guard: GuardServer, chunk_chars: str) -> None:
    run = base64.b64encode((NOTES + "The deploy key is AKIAIOSFODNN7EXAMPLE.").encode()).decode()
    assert len(run) > 2 * 320
    text, finish = stream_reply(guard.url, f"Here is the file: {run} Keep it safe.",
                                **{"X-Mock-Chunk-Chars": chunk_chars})
    assert finish == "content_filter"
    assert "Here is the file: ".startswith(text)


SETTINGS = ("here are the settings for the staging deploy, with the bucket, the region and the "
            "retention rules written out in full. ") * 40


@pytest.mark.parametrize("chunk_chars", ["1", "3"])
@pytest.mark.parametrize("before", ["", "Here they are: "])
def test_a_key_at_the_end_of_a_run_thousands_long_is_cut_before_the_run(
        guard: GuardServer, chunk_chars: str, before: str) -> None:
    """A key encoded at the end of a base64 run some 6,000 characters long, sent a character or
    three an event: where the run began is remembered from check to check, not looked back
    for, and none of the run is sent. The run begins the answer, or follows a space (its first
    characters are hex digits, which a run of hex bytes before the space could have taken in)."""
    run = base64.b64encode((SETTINGS + "The deploy key is AKIAIOSFODNN7EXAMPLE.").encode()).decode()
    assert 4_000 < len(run) < 8_192 and run.startswith("aG")
    text, finish = stream_reply(guard.url, f"{before}{run} Keep it safe.",
                                **{"X-Mock-Chunk-Chars": chunk_chars})
    assert finish == "content_filter"
    assert before.startswith(text)


def test_a_harmless_base64_answer_comes_through_whole(guard: GuardServer) -> None:
    reply = f"Here is the file: {base64.b64encode(NOTES.encode()).decode()} Keep it safe."
    assert stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": "4"}) == (reply, "stop")
