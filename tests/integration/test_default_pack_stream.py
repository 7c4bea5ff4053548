"""The shipped default pack (`guard serve`, a real process) with the openai SDK as client: its
secrets classifier reads encoded runs, so a key inside a long base64 answer is cut before any of
the run is sent, while a harmless base64 answer comes through whole; and it reads text as shown,
so a key split by markup longer than the hold-back, or by markup a stream ends inside of, is cut
as the whole answer is refused."""

from __future__ import annotations

import base64
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.support import (
    GuardServer,
    closed_after_test,
    guard_before_mock,
    in_optimistic_mode,
    journal_incidents,
    stream_reply,
    whole_reply,
)

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


# -- markup between the halves of a key ----------------------------------------------------------

KEY = "AKIA" + "QZ7XW3JD5R6TLM2P"   # an AWS access key id's shape
LONG_MARKUP = {
    "a comment of 3,000 characters": f"key {KEY[:10]}<!--{'x ' * 1500}-->{KEY[10:]} ok",
    "two comments": f"key {KEY[:6]}<!--{'x ' * 750}-->{KEY[6:12]}<!--{'x ' * 750}-->{KEY[12:]} ok",
    "a tag's quoted values": f'key {KEY[:10]}<b title="{"y " * 450}" alt="{"y " * 450}">{KEY[10:]} ok',
    "a style element": f'key {KEY[:10]}<style media="{"m " * 120}">{"s " * 125}</style>{KEY[10:]} ok',
    "a padded reference": f"key {KEY[:10]}&#{'0' * 600}74;{KEY[11:]} ok",
}


@pytest.mark.parametrize("chunk_chars", ["5", "64"])
@pytest.mark.parametrize("reply", LONG_MARKUP.values(), ids=LONG_MARKUP)
def test_a_key_split_by_markup_longer_than_the_hold_back_is_cut(guard: GuardServer, reply: str,
                                                                chunk_chars: str) -> None:
    """From a probe: a browser shows the two halves as one key, and the whole answer was
    refused, but streamed, the window that read the second half started inside the markup (the
    hold-back is 320 characters) and the key went through whole (10 of 10). A window starting
    inside markup is now read after the markup's opening and the word before it."""
    assert whole_reply(guard.url, reply)[1] == "content_filter"
    text, finish = stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": chunk_chars})
    assert finish == "content_filter"
    assert KEY[10:] not in text


# -- a stream that ends inside markup ------------------------------------------------------------

ENDS_INSIDE = {
    # a Markdown UI completing a link still being written shows its text: the key whole
    "a link's address": (f"key {KEY[:10]}[{KEY[10:]}](", "content_filter"),
    "a link's address begun": (f"key {KEY[:10]}[{KEY[10:]}](https://docs.exa", "content_filter"),
    "a reference begun": (f"key {KEY}&sh", "content_filter"),
    "a comment of 3,000 characters": (f"key {KEY}<!--{'x ' * 1500}", "content_filter"),
    # a comment never closed hides the rest: the key's second half is never shown
    "a comment holding the rest": (f"key {KEY[:10]}<!--{'x ' * 1500}{KEY[10:]}", "stop"),
}


@pytest.mark.parametrize("chunk_chars", ["5", "64"])
@pytest.mark.parametrize(("reply", "ending"), ENDS_INSIDE.values(), ids=ENDS_INSIDE)
def test_a_stream_ending_inside_markup_is_read_as_the_whole_answer(
        guard: GuardServer, reply: str, ending: str, chunk_chars: str) -> None:
    """The text held at a stream's end is read whole, as shown, before it goes out: the stream
    ends as the whole answer does, and a key shown whole never reaches the client."""
    assert whole_reply(guard.url, reply)[1] == ending
    text, finish = stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": chunk_chars})
    assert finish == ending
    assert (text == reply) == (ending == "stop")


# -- base64 wrapped into lines ---------------------------------------------------------------------

def _wrapped(run: str, width: int) -> str:
    return "\n".join(run[i:i + width] for i in range(0, len(run), width))


@pytest.mark.parametrize("chunk_chars", ["1", "3", "64"])
@pytest.mark.parametrize("width", [40, 76])
def test_a_key_in_base64_wrapped_into_lines_is_cut_before_the_block(guard: GuardServer, chunk_chars: str,
                                                                    width: int) -> None:
    """From a probe: base64 wrapped into lines (MIME at 76 characters, a probe's 40) was read a
    line at a time, and a key split across two lines passed, whole and streamed. The block is one
    run: held until it ends, and none of it is sent."""
    run = base64.b64encode((NOTES + "The deploy key is AKIAIOSFODNN7EXAMPLE.").encode()).decode()
    block = _wrapped(run, width)
    assert block.count("\n") > 4 and "AKIAIOSFODNN7EXAMPLE" not in "".join(
        base64.b64decode(line).decode(errors="replace") for line in block.split("\n") if len(line) == width)
    reply = f"Here is the file:\n{block}\nKeep it safe."
    assert whole_reply(guard.url, reply)[1] == "content_filter"
    text, finish = stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": chunk_chars})
    assert finish == "content_filter"
    assert "Here is the file:\n".startswith(text)


def test_a_harmless_wrapped_base64_answer_comes_through_whole(guard: GuardServer) -> None:
    reply = f"Here is the file:\n{_wrapped(base64.b64encode(NOTES.encode()).decode(), 76)}\nKeep it safe."
    assert stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": "4"}) == (reply, "stop")


# The model pausing longer than the pack's `max_holdback_ms` (250) after the first chunk, which
# ends 20 characters into a run of capitals and digits: 20 are an AWS access key id, 26 are none.
# The run is read when it has ended, as the whole answer is: the key id is cut before any of it
# goes out, the longer run comes through.
@pytest.mark.parametrize(("key", "ending"), [
    ("AKIAIOSFODNN7EXAMPLE", "content_filter"), ("AKIAQRSTUVWXYZ234567ABCDEF", "stop")])
def test_a_run_the_model_pauses_inside_is_read_when_it_ends(
        guard: GuardServer, key: str, ending: str) -> None:
    reply = f"Build id {key} finished."
    assert whole_reply(guard.url, reply)[1] == ending
    text, finish = stream_reply(guard.url, reply, **{"X-Mock-Chunk-Chars": "29",
                                                     "X-Mock-Chunk-Delay-Ms": "350"})
    assert finish == ending
    assert text == reply if ending == "stop" else "Build id ".startswith(text)


KEY_REPLY = "ok AKIAQYLPMN5HHHFPZAM2 done and more words follow here"
HARMLESS = "ok the staging deploy is done and more words follow here"


@pytest.mark.parametrize("order", ["reversed", "interleaved"])
@pytest.mark.parametrize("reply", [KEY_REPLY, HARMLESS])
def test_each_of_300_prompts_choices_is_read_and_sent_as_its_own(guard: GuardServer, order: str,
                                                                 reply: str) -> None:
    """A legacy stream of 300 prompts has choices 0-299, each answering in 3-character pieces.
    Those past 127 were read as choice 0 (their position in their chunk): their text was held
    in choice 0's channel and sent out under index 0, interleaved (`ok ok ok ... AKIA...`), and
    the client had the whole key in 166 choices though the answer was blocked. Each choice is
    now read, and sent, as its own: the key cut before any choice has it, a harmless answer
    whole in each."""
    headers = {"X-Mock-Reply": urllib.parse.quote(reply), "X-Mock-Chunk-Chars": "3"}
    if order == "reversed":
        headers["X-Mock-Choice-Order"] = "reversed"
    texts: dict[int, str] = {}
    finishes: dict[int, str | None] = {}
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k",
                                             max_retries=0, default_headers=headers))
    for chunk in client.completions.create(model="m", prompt=[f"p{i}" for i in range(300)],
                                           stream=True):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
            finishes[choice.index] = choice.finish_reason or finishes.get(choice.index)
    assert set(finishes) == set(range(300))
    if reply == HARMLESS:
        assert texts == dict.fromkeys(range(300), HARMLESS)
        assert set(finishes.values()) == {"stop"}
    else:
        assert all(reply.startswith(text) and "AKIA" not in text for text in texts.values())
        assert set(finishes.values()) == {"content_filter"}


@pytest.fixture(scope="module")
def optimistic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """The default pack in optimistic mode."""
    workdir = tmp_path_factory.mktemp("default-optimistic")
    with guard_before_mock(workdir, in_optimistic_mode(DEFAULT, workdir)) as server:
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("server", ["guard", "optimistic"])
def test_a_word_still_being_written_raises_no_flag(request: pytest.FixtureRequest,
                                                   server: str) -> None:
    """An innocent answer the model writes a character every 300 ms (longer than
    `max_holdback_ms`) records no profanity flag: a check on time reads the text up to its
    release, not `The nig` of `nightingale`, for flag rules as for those that cut."""
    guard: GuardServer = request.getfixturevalue(server)
    reply = "The nightingale sang."
    request_id = f"drip-{server}-{uuid.uuid4().hex}"
    assert stream_reply(guard.url, reply, **{"X-Request-Id": request_id,
                                             "X-Mock-Chunk-Chars": "1",
                                             "X-Mock-Chunk-Delay-Ms": "300"}) == (reply, "stop")
    # its incidents are written before its end goes out (`Recorder.settled`)
    assert journal_incidents(guard, request_id, wait_s=1.0) == []
