"""What a chunk's frame strings cost a stream: guard's CPU per chunk of a chat stream whose chunks
carry a provider's key beside `choices` (`x_foo`: a request id new each chunk, or the same note
each chunk), against the same stream without it, in one run, with the packs' policies.

    .venv/bin/python bench/bench_frame_strings.py [--chunks 400] [--packs default,strict]

Each text beside the choices is read once a stream (its mask reused), and an id-shaped one only
by the classifiers bounding their findings: a per-chunk id costs a read of one short text a
chunk by those (what remains: one classifier call a chunk, 4.5-5.7 times a plain chunk's CPU).
It had cost a read of all the chunk's frame strings, keys too, by every classifier, each chunk
the id changed: 5.1 times a plain chunk's CPU with the default pack, 18.9 times with the strict
one (whose trained models read the whole text).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_padded_stream import guarded_cpu
from bench.report import publish

PACKS = Path(__file__).resolve().parents[1] / "policies"
WORDS = "the quick brown fox jumps over lazy dog while deploy scripts rotate logs nightly".split()
FRAMES = {
    "none": lambda n: None,
    "a request id new each chunk": lambda n: {"request_id": f"req_{n:06d}8f3a9b2c7d1e"},
    "the same note each chunk": lambda n: {"note": "served from the eu-west pool"},
}


def chunk_event(n: int, extra: Any) -> bytes:
    choice = {"index": 0, "delta": {"content": WORDS[n % len(WORDS)] + " "},
              "finish_reason": None}
    return b"data: " + orjson.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1,
                                     "model": "m", "choices": [choice],
                                     **({} if extra is None else {"x_foo": extra})}) + b"\n\n"


async def stream_cpu(policy: Path, chunks: int, frame: Any) -> float:
    """Process CPU seconds to guard a stream of `chunks` one-word chunks carrying `frame(n)`."""
    events = [chunk_event(n, frame(n)) for n in range(chunks)]
    return await guarded_cpu(policy, [*events, b"data: [DONE]\n\n"])


async def measure(packs: list[str], chunks: int) -> list[list[str]]:
    rows = []
    for pack in packs:
        policy = PACKS / f"{pack}.yaml"
        await stream_cpu(policy, 50, FRAMES["a request id new each chunk"])  # warm-up
        plain = 0.0
        for name, frame in FRAMES.items():
            cpu = await stream_cpu(policy, chunks, frame)
            plain = plain or cpu
            rows.append([pack, name, f"{cpu / chunks * 1e6:.0f}", f"{cpu / plain:.2f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=400, help="chunks in a stream")
    parser.add_argument("--packs", default="default,strict", help="packs, comma-separated")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.packs.split(","), args.chunks))
    intro = (f"A chat stream of {args.chunks} one-word chunks through a stream guard with the "
             "pack's policy (buffered), each chunk carrying `x_foo` beside its choices as named; "
             "CPU time of the whole stream per chunk, and its ratio to the stream without it.")
    publish("Frame strings in a stream", f"bench/bench_frame_strings.py --chunks {args.chunks} "
            f"--packs {args.packs}", intro, ["pack", "x_foo", "µs a chunk", "ratio to none"],
            rows)


if __name__ == "__main__":
    main()
