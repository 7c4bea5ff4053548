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


def test_a_harmless_base64_answer_comes_through_whole(guard: GuardServer) -> None:
    reply = f"Here is the file: {base64.b64encode(NOTES.encode()).decode()} Keep it safe."
    assert stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": "4"}) == (reply, "stop")
