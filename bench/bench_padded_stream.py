"""What padding costs a stream: guard's CPU per character of a streamed answer whose letters each
carry combining marks (which normalisation drops), against the same answer plain, in one run.

    .venv/bin/python bench/bench_padded_stream.py [--chars 20000] [--marks 8,63]

A chat completions stream guard (buffered, the default pack's pattern classifiers: secrets, pii,
invisible_text) is fed the answer in 4-character chunks by a fast writer (0.1 ms apart, on a
clock moved by hand, so `max_holdback_ms` never fires and every release is the hold-back's).
The padded answers hold as many letters as the plain one; the figures are the process's CPU
time for the whole stream per letter and per character sent, and the latter's ratio to the plain
answer's: padding should cost what its characters do, no more. It had cost far more: checks came
every `check_chars` characters as sent, each reading a hold-back counted in letters (63 marks a
letter: a 20,000-character window read for every letter), and the hold-back was found by walking
back through it at every chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish
from guard.classify.runner import ClassifierRunner
from guard.observability.metrics import Metrics
from guard.policy.loader import load_policy_file
from guard.policy.store import PolicyInspector
from guard.proxy import stream_guard
from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.sse import parse_event
from guard.proxy.stream_guard import StreamGuard
from guard.types import GuardContext

POLICY = """
name: padded
version: bench
classifiers:
  secrets: {type: secrets}
  pii: {type: pii}
  invisible: {type: invisible_text}
rules:
  - {name: secrets, stage: completion, when: {classifier: secrets}, action: block}
  - {name: pii, stage: completion, when: {classifier: pii}, action: redact}
  - {name: invisible, stage: completion, when: {classifier: invisible}, action: flag}
streaming: {mode: buffered, check_chars: 64, max_holdback_ms: 250}
"""
WORDS = "the quick brown fox jumps over lazy dog while deploy scripts rotate logs nightly".split()
CHUNK = 4


class Clock:
    """`time` for the stream guard: 0.1 ms a chunk, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


class Recorder:
    def record_decision(self, *args: Any, **kwargs: Any) -> str:
        return "inc"

    def record_event(self, *args: Any) -> str:
        return "evt"


def answer(letters: int, marks: int) -> str:
    """Words of `letters` letters in all, each letter followed by `marks` combining acutes."""
    out, count, i = [], 0, 0
    while count < letters:
        word = WORDS[i % len(WORDS)]
        out.append("".join(c + "\u0301" * marks for c in word) + " ")
        count, i = count + len(word) + 1, i + 1
    return "".join(out)


def chunk_event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return b"data: " + orjson.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1,
                                     "model": "m", "choices": [choice]}) + b"\n\n"


async def stream_cpu(policy: Path, text: str) -> float:
    """Process CPU seconds to guard `text` streamed in CHUNK-character deltas."""
    events = [chunk_event({"role": "assistant", "content": ""})]
    events += [chunk_event({"content": text[i:i + CHUNK]}) for i in range(0, len(text), CHUNK)]
    return await guarded_cpu(policy, [*events, chunk_event({}, "stop"), b"data: [DONE]\n\n"])


async def guarded_cpu(policy: Path, events: list[bytes]) -> float:
    """Process CPU seconds for a chat stream's guard under `policy` to pass `events` (raw SSE
    events, 0.1 ms of its clock apart), none of them cut."""
    clock = Clock()
    stream_guard.time = clock  # type: ignore[assignment]
    ctx = GuardContext(request_id="bench", route="/v1/chat/completions", model="m", stream=True)
    inspector = PolicyInspector(load_policy_file(policy),
                                ClassifierRunner(Metrics(CollectorRegistry())), ctx)
    guard = StreamGuard(CHAT, inspector, ctx, Recorder())
    started = time.process_time()
    for raw in events:
        clock.now += 0.0001
        await guard.feed(parse_event(raw))
    await guard.finish()
    assert not guard.cut
    return time.process_time() - started


async def measure(letters: int, marks: list[int]) -> list[tuple[int, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "padded.yaml"
        policy.write_text(POLICY)
        await stream_cpu(policy, answer(2_000, 0))  # warm-up: caches, compiled patterns
        return [(m, await stream_cpu(policy, answer(letters, m))) for m in [0, *marks]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=20_000, help="letters in the answer")
    parser.add_argument("--marks", default="8,63", help="marks per letter, comma-separated")
    args = parser.parse_args()
    results = asyncio.run(measure(args.chars, [int(m) for m in args.marks.split(",")]))
    plain = results[0][1] / len(answer(args.chars, 0))
    rows = []
    for m, cpu in results:
        sent = len(answer(args.chars, m))
        rows.append([str(m), f"{sent:,}", f"{cpu:.2f}", f"{cpu / args.chars * 1e6:.1f}",
                     f"{cpu / sent * 1e6:.2f}", f"{cpu / sent / plain:.2f}"])
    intro = (f"A streamed answer of {args.chars:,} letters, in {CHUNK}-character chunks, through a "
             "chat stream guard (buffered; secrets, pii, invisible_text), each letter followed by "
             "that many combining marks; CPU time of the whole stream.")
    publish("Streams padded with marks", f"bench/bench_padded_stream.py --chars {args.chars} "
            f"--marks {args.marks}", intro, ["marks a letter", "characters sent", "CPU s",
                                            "µs a letter", "µs a character sent",
                                            "ratio to plain, a character sent"], rows)

if __name__ == "__main__":
    main()
