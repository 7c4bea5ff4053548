"""The stream guard with a classifier that reads encoded runs decoded (`secrets` with `decoded:
true`): a key inside a base64 or binary run longer than the hold-back is found before any of the
run reaches the client, while ordinary text keeps the usual hold-back."""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.classify.builtin.secrets import SecretsClassifier, SecretsConfig
from guard.classify.decode.runs import RUN_CHARS
from guard.proxy.stream_guard import StreamGuard
from guard.types import Action, Stage
from tests.unit.proxy.test_stream_guard import CHAT, CTX, chat_stream, receive, run
from tests.unit.proxy.test_stream_guard_inspector import ListRecorder, PatternInspector, inspector

SAID = ("These are the settings for the staging deploy, with the bucket, the region and the "
        "retention rules written out in full. ") * 4 + "The deploy key is AKIAIOSFODNN7EXAMPLE, keep it safe."
ENCODINGS = {
    "base64": lambda b: base64.b64encode(b).decode(),
    "binary": lambda b: " ".join(f"{x:08b}" for x in b),
}


@dataclass
class DecodingInspector(PatternInspector):
    """The test policy over the real `secrets` classifier reading decoded runs; `runs` says
    whether it tells the stream so (False: as a policy did before runs were held)."""

    runs: bool = True

    def reads_encoded_runs(self, stage: Stage) -> bool:
        return self.runs


def decoding(*, runs: bool = True, **kwargs: Any) -> DecodingInspector:
    base = inspector(**kwargs)
    return DecodingInspector(rules=base.rules, stream=base.stream,
                             classifiers=(SecretsClassifier("secrets", SecretsConfig(decoded=True)),),  # type: ignore[arg-type]
                             runs=runs)


def pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("check_chars", [8, 64])
async def test_a_key_in_a_long_encoded_run_is_cut_before_any_of_the_run_is_sent(
        encoding: str, check_chars: int) -> None:
    """The run is over twice the 320-character hold-back and the key comes at its end: no
    character of the run is released; the cut is recorded at the run's start."""
    run_text = ENCODINGS[encoding](SAID.encode())
    assert len(run_text) > 2 * 320
    prefix = "Here is the file, encoded as you asked: "
    recorder = ListRecorder()
    got, guard = await run(chat_stream(pieces(prefix + run_text + " Done.", 4)),
                           decoding(check_chars=check_chars), recorder=recorder)
    assert guard.cut and got.finish == {0: "content_filter"}
    assert prefix.startswith(got.text[0])
    ((kind, details),) = recorder.events
    assert (kind, details["rule"], details["offset"]) == ("stream_cut", "no-secrets", len(prefix))


async def test_without_holding_runs_a_window_decoded_aligned_still_cuts_before_the_key() -> None:
    """The same classifier with the stream not told sees the run only in windows of the
    hold-back; each, read after the text before it, is also decoded from where its decoding is
    aligned to the run's start (`LocalClassifier._realigned`), so the stream is cut before the
    key's encoded characters go out (decoded misaligned, none had fired: the whole run went)."""
    text = "Here is the file, encoded as you asked: " + base64.b64encode(SAID.encode()).decode()
    got, guard = await run(chat_stream(pieces(text, 4)), decoding(runs=False))
    key = SAID.index("AKIA")
    encoded_key = text[40 + 4 * key // 3:40 + 4 * (key + 20) // 3]  # the prefix is 40
    assert guard.cut and encoded_key not in got.text[0]


async def test_a_key_in_a_long_run_is_masked_whole() -> None:
    """Redact instead of block: the whole run comes out as one mask, the text around it intact."""
    run_text = base64.b64encode(SAID.encode()).decode()
    text = f"Encoded: {run_text} That is all."
    got, guard = await run(chat_stream(pieces(text, 5)), decoding(secret=Action.REDACT))
    assert not guard.cut
    assert got.text[0] == "Encoded: [REDACTED:secret:aws_access_key_id] That is all."


async def test_a_harmless_run_is_held_until_it_ends_then_sent_whole() -> None:
    """A run that decodes to nothing secret is held while it grows, released once it ends, and
    ordinary text after it keeps the usual hold-back."""
    run_text = base64.b64encode(("An ordinary paragraph about the weather. " * 20).encode()).decode()
    text = f"Encoded: {run_text} " + "and then plain words follow for a while " * 12
    guard = StreamGuard(CHAT, decoding(check_chars=8), CTX, ListRecorder())
    sent, received = "", 0
    run_end = text.index(run_text) + len(run_text)
    for event in chat_stream(pieces(text, 4))[1:-2]:
        sent += receive(await guard.feed(event)).text.get(0, "")
        received += 4
        if received < run_end:
            assert len(sent) <= len("Encoded: "), received
    assert len(sent) >= len(text) - 319 - 8
    assert text.startswith(sent)
    sent += receive(await guard.finish()).text.get(0, "")
    assert sent == text


async def test_a_run_past_the_decoding_limit_is_not_held_whole() -> None:
    """What is decoded of a run is its first RUN_CHARS characters: a longer run is held at most
    that far, so a stream of base64 keeps moving."""
    run_text = base64.b64encode(b"\x00\x01" * RUN_CHARS).decode()
    guard = StreamGuard(CHAT, decoding(check_chars=64), CTX, ListRecorder())
    sent, received, most_held = "", 0, 0
    for event in chat_stream(pieces(run_text, 16))[1:-2]:
        sent += receive(await guard.feed(event)).text.get(0, "")
        received += 16
        most_held = max(most_held, received - len(sent))
    assert len(sent) > 0
    assert RUN_CHARS <= most_held <= RUN_CHARS + 320 + 64 + 16 + 256


async def test_optimistic_rereads_the_run_and_cuts_when_the_key_arrives() -> None:
    """Optimistic mode sends the run as it comes (what it always trades), but every check re-reads
    the run from its start, so the stream is still cut once the key is in it."""
    run_text = base64.b64encode(SAID.encode()).decode()
    text = f"Encoded: {run_text} " + "and then more words " * 20
    recorder = ListRecorder()
    got, guard = await run(chat_stream(pieces(text, 4)), decoding(mode="optimistic", check_chars=8),
                           recorder=recorder)
    assert guard.cut and got.finish == {0: "content_filter"}
    assert len(got.text[0]) < len(text) - 20 * len("and then more words ")
    assert recorder.events[0][1]["offset"] == len("Encoded: ")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=48), min_size=1, max_size=80), st.booleans())
def test_any_chunking_masks_the_run_whole_or_sends_it_whole(sizes: list[int], key: bool) -> None:
    """Chunks of any sizes (the run's start and end falling anywhere in them): a run hiding a key
    comes out as one mask and the prose around it intact; a harmless run comes out as it went in."""
    said = SAID if key else SAID.replace("AKIAIOSFODNN7EXAMPLE", "in the vault")
    run_text = base64.b64encode(said.encode()).decode()
    text = f"Here it is: {run_text} and that is the file you asked for."
    chunks, at = [], 0
    for size in itertools.cycle(sizes):
        if at >= len(text):
            break
        chunks.append(text[at:at + size])
        at += size
    got, guard = asyncio.run(run(chat_stream(chunks), decoding(secret=Action.REDACT, check_chars=16)))
    assert not guard.cut
    assert got.text[0] == (text.replace(run_text, "[REDACTED:secret:aws_access_key_id]") if key else text)


@pytest.mark.parametrize("unit", ["&#97;", "%61", "\\x61", "YWJj"])
async def test_a_run_held_from_the_start_is_read_every_check_chars(unit: str) -> None:
    """A stream that is one encoded run from its first character releases nothing while the run
    grows (it is held whole); that does not make every event due a check: the run is read every
    `check_chars` new characters, as any text is. Each event had re-read it, decoded, from its
    start (10,000 characters of `&#97;` cost 46x the CPU of prose)."""
    text = unit * (3_000 // len(unit))
    insp = decoding(check_chars=64)
    got, guard = await run(chat_stream(pieces(text, 4)), insp)
    assert not guard.cut and got.text[0] == text
    assert len(insp.classified) <= len(text) // 64 + 2, len(insp.classified)


def test_a_channel_keeps_only_where_a_long_run_began() -> None:
    """A channel whose text goes on in a run of 6,000 base64 characters after a PEM BEGIN line,
    trimmed as checks go (hold-back 320), keeps apart only where the run began, the BEGIN line
    with it (`Channel.going`: read before each window and the texts after, not 8,192 characters
    of the run re-read at every window); nothing once prose follows the run."""
    from guard.proxy.stream_window import Channel
    run = base64.b64encode(bytes(range(256)) * 18).decode()[:6_000]
    ch = Channel(0, "content", 0)
    after = " and some words after it," * 20  # past the hold-back
    for text in pieces("Here it is: -----BEGIN PRIVATE KEY-----\n" + run + "\n" + after, 50):
        ch.add(text, 0.0, {}, None, hold=False)
        ch.mark_checked()
        ch.trim(320)
        if ch.going:
            assert len(ch.going) <= 640
            assert "-----BEGIN PRIVATE " in ch.going
    assert ch.going == ""
