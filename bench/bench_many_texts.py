"""What an answer in many texts costs a stream: guard's CPU per upstream event of an Anthropic
Messages stream whose text comes in many content blocks, against the same events in one block,
in one run.

    .venv/bin/python bench/bench_many_texts.py [--events 6000] [--blocks 120]

A Messages stream guard (buffered, the default pack's pattern classifiers: secrets, pii,
invisible_text, as in `bench_padded_stream`) is fed text deltas of 16 characters, 0.1 ms apart
on a clock moved by hand, and asked after each event when it must next look at what it holds
(`deadline()`, which the relay asks after every upstream chunk). The texts of one answer are
read joined, so each block's hold-back and deadline depend on the blocks before and after it:
that should cost per block what it needs, not a look at every block for each of them. It had:
`deadline()` looked at every closed block before each one held back, 1.1 ms an event at 100
blocks.
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
from bench.bench_padded_stream import POLICY, Clock, Recorder
from bench.report import publish
from guard.classify.runner import ClassifierRunner
from guard.observability.metrics import Metrics
from guard.policy.loader import load_policy_file
from guard.policy.store import PolicyInspector
from guard.proxy import stream_guard
from guard.proxy.event_stream import MessagesStreamGuard
from guard.proxy.protocols.anthropic_messages import MESSAGES
from guard.proxy.sse import SSEEvent, parse_event
from guard.types import GuardContext

DELTA = "deploy rotates, "  # 16 characters


def event(body: dict[str, Any]) -> SSEEvent:
    return parse_event(f"event: {body['type']}\ndata: ".encode() + orjson.dumps(body) + b"\n\n")


def answer(events: int, blocks: int) -> list[SSEEvent]:
    """A message of `events` text deltas spread evenly over `blocks` text blocks."""
    out = [event({"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
        "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}})]
    for index in range(blocks):
        out.append(event({"type": "content_block_start", "index": index,
                          "content_block": {"type": "text", "text": ""}}))
        out += [event({"type": "content_block_delta", "index": index,
                       "delta": {"type": "text_delta", "text": DELTA}})
                for _ in range(events // blocks)]
        out.append(event({"type": "content_block_stop", "index": index}))
    out += [event({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                   "usage": {"output_tokens": events}}), event({"type": "message_stop"})]
    return out


async def stream_cpu(policy: Path, events: list[SSEEvent]) -> float:
    """Process CPU seconds to guard `events`, asking the deadline after each."""
    clock = Clock()
    stream_guard.time = clock  # type: ignore[assignment]
    ctx = GuardContext(request_id="bench", route=MESSAGES.route, model="m", stream=True)
    inspector = PolicyInspector(load_policy_file(policy),
                                ClassifierRunner(Metrics(CollectorRegistry())), ctx)
    guard = MessagesStreamGuard(MESSAGES, inspector, ctx, Recorder())
    started = time.process_time()
    for one in events:
        clock.now += 0.0001
        await guard.feed(one)
        guard.deadline()
    await guard.finish()
    assert not guard.cut
    return time.process_time() - started


async def measure(events: int, blocks: list[int]) -> list[tuple[int, int, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "many.yaml"
        policy.write_text(POLICY)
        await stream_cpu(policy, answer(events // 4, 1))  # warm-up: caches, compiled patterns
        results = []
        for n in [1, *blocks]:
            sent = answer(events, n)
            results.append((n, len(sent), await stream_cpu(policy, sent)))
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=6_000, help="text deltas in the answer")
    parser.add_argument("--blocks", default="10,120",
                        help="text blocks to spread them over, comma-separated (at most 128)")
    args = parser.parse_args()
    results = asyncio.run(measure(args.events, [int(b) for b in args.blocks.split(",")]))
    one = results[0][2] / results[0][1]
    rows = [[str(n), f"{sent:,}", f"{cpu:.2f}", f"{cpu / sent * 1e6:.0f}", f"{cpu / sent / one:.2f}"]
            for n, sent, cpu in results]
    intro = (f"An Anthropic Messages answer of {args.events:,} text deltas of {len(DELTA)} "
             "characters, through a Messages stream guard (buffered; secrets, pii, "
             "invisible_text), its deadline asked after each event; CPU time of the whole stream.")
    publish("Streams in many texts", f"bench/bench_many_texts.py --events {args.events} --blocks "
            f"{args.blocks}", intro, ["text blocks", "events", "CPU s", "µs an event",
                                      "ratio to one block"], rows)

if __name__ == "__main__":
    main()
