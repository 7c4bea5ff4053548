"""What one long encoded run costs a stream: guard's CPU for an answer that is 200,000 characters
of base64 (what a client asking the model for an encoded file gets), of HTML character
references (`&#104;&#101;...`), percent-escapes (`%68%65...`) or `\\x` escapes (`\\x68\\x65...`),
against as many characters of prose, in one run; and how long guard's event loop stalls
meanwhile.

    .venv/bin/python bench/bench_stream_runs.py [--chars 200000] [--rounds 2]

guard runs the default pack (policies/default.yaml: `secrets` and `pii` read encoded runs
decoded, so a stream holds a run back, and re-reads it, from where it began) in front of the
stand-in model, which writes the answer 4 characters an event with no pause (an upstream
writing in one burst: guard reads as fast as it can). The verdict cache is off: the stand-in
repeats a block, and a window read again once the block comes round would be answered from the
cache, which a run the model writes does not repeat (with it on, the kinds' figures followed
how often their blocks' lengths made windows come round). The client is the openai SDK. Guard's CPU
is the process's user and system time over the stream (clock ticks of 10 ms); the stall is the
slowest answer of guard's /healthz, asked every 20 ms on the admin port (from a process of its
own) while the stream runs, also given as a ratio to the slowest answer while guard is idle
(asked as often for IDLE_S before the streams): what every other client of the process waits at
worst behind one burst.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish
from tests.support import GuardServer, MockUpstream

REPO = Path(__file__).resolve().parents[1]
CHUNK = 4
BLOCK = 4_000  # characters of the answer sent in the header; the stand-in repeats it
IDLE_S = 3.0  # how long /healthz is asked while guard is idle, for the stall's baseline
PROSE = ("The deploy scripts rotate the logs every night and the service keeps a week of them, "
         "so an engineer looking into an outage can read what happened before it began. ")


# Runs of escapes, each of a character of the prose: a stream holds the run back and re-reads it,
# in place, from where it began (the classifiers reading references decode each one).
ESCAPES = {"references": "&#{};", "percent": "%{:02x}", "hex_escapes": "\\x{:02x}"}


def answers(chars: int) -> dict[str, str]:
    """A block of each kind of answer, repeated by the stand-in to `chars` characters."""
    noise = random.Random(7).randbytes(BLOCK * 3 // 4)
    prose = (PROSE * (BLOCK // len(PROSE) + 1))[:BLOCK]
    return {"prose": prose, "base64": base64.b64encode(noise).decode()[:BLOCK]} | {
        kind: whole(escape, prose) for kind, escape in ESCAPES.items()}


def whole(escape: str, prose: str) -> str:
    """`prose`'s characters escaped, as many whole escapes as half a BLOCK holds (a header holds
    8 KB, and the block is sent percent-encoded): the stand-in repeats the block, and a run cut
    inside an escape would end there."""
    out = ""
    for c in prose:
        if len(out) + len(written := escape.format(ord(c))) > BLOCK // 2:
            return out
        out += written
    return out


async def stalls(admin_url: str, done: asyncio.Event) -> float:
    """The slowest /healthz answer, in seconds, asked every 20 ms until `done`."""
    worst = 0.0
    async with aiohttp.ClientSession() as session:
        while not done.is_set():
            started = time.monotonic()
            async with session.get(f"{admin_url}/healthz") as answer:
                await answer.read()
            worst = max(worst, time.monotonic() - started)
            await asyncio.sleep(0.02)
    return worst


async def poll(admin_url: str) -> None:
    """The poller's process: asks /healthz until its stdin closes, then prints the worst."""
    done = asyncio.Event()
    closed = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    closed.add_done_callback(lambda _: done.set())
    asking = asyncio.create_task(stalls(admin_url, done))
    print("asking", flush=True)
    print(f"worst {await asking}", flush=True)


@contextlib.asynccontextmanager
async def stall_watch(admin_url: str) -> AsyncIterator[list[float]]:
    """The slowest /healthz answer over the block, in seconds (in the list, once it ends), asked
    from a process of its own: this one's loop reads the stream, and the SDK parses all the
    events of a read without giving the loop back, which would delay the asking, not guard."""
    poller = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--poll", admin_url, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert poller.stdout is not None
    await poller.stdout.readline()  # it is asking
    worst: list[float] = []
    try:
        yield worst
    finally:
        out, _ = await poller.communicate(b"")  # its stdin closed: it stops asking
    worst.append(float(out.decode().rsplit("worst ", 1)[1]))


async def idle_stall(admin_url: str) -> float:
    """The slowest /healthz answer, in seconds, asked every 20 ms for IDLE_S with no stream."""
    async with stall_watch(admin_url) as worst:
        await asyncio.sleep(IDLE_S)
    return worst[0]


async def one_stream(guard: GuardServer, block: str, chars: int) -> tuple[float, float]:
    """Guard's CPU seconds over one streamed answer of `block` repeated, and the worst stall."""
    headers = {"X-Mock-Reply": urllib.parse.quote(block), "X-Mock-Reply-Repeat": str(chars // len(block)),
               "X-Mock-Chunk-Chars": str(CHUNK), "X-Mock-Chunk-Delay-Ms": "0"}
    client = openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="bench", max_retries=0,
                                default_headers=headers, timeout=300)
    got = 0
    async with stall_watch(guard.admin_url) as worst, client:
        cpu = guard.cpu_seconds()
        stream = await client.chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "encode it"}])
        async for chunk in stream:
            text = chunk.choices[0].delta.content if chunk.choices else None
            got += len(text or "")
        cpu = guard.cpu_seconds() - cpu
    assert got == chars // len(block) * len(block), (got, chars)
    return cpu, worst[0]


async def measure(workdir: Path, chars: int, rounds: int
                  ) -> tuple[float, dict[str, list[tuple[float, float]]]]:
    """The idle stall, and each kind's (CPU seconds, worst stall) per stream."""
    policies = workdir / "policies"
    policies.mkdir()
    shutil.copy(REPO / "policies" / "default.yaml", policies / "default.yaml")
    mock = MockUpstream(workdir)
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}},
                                  "policies": str(policies), "log_level": "warning",
                                  "cache": {"max_entries": 0}})
    blocks = answers(chars)
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in blocks}
    try:
        mock.start()
        guard.start()
        await one_stream(guard, blocks["prose"], 20_000)  # warm-up: caches, compiled patterns
        idle = await idle_stall(guard.admin_url)
        for _ in range(rounds):  # interleaved, so all kinds meet the same machine
            for kind, block in blocks.items():
                results[kind].append(await one_stream(guard, block, chars))
    finally:
        guard.stop()
        mock.stop()
    return idle, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=200_000, help="characters in the answer")
    parser.add_argument("--rounds", type=int, default=2, help="streams of each kind (median)")
    parser.add_argument("--poll", metavar="ADMIN_URL", help=argparse.SUPPRESS)  # the poller
    args = parser.parse_args()
    if args.poll:
        asyncio.run(poll(args.poll))
        return
    with tempfile.TemporaryDirectory() as tmp:
        idle, results = asyncio.run(measure(Path(tmp), args.chars, args.rounds))
    prose_cpu = statistics.median(cpu for cpu, _ in results["prose"])
    rows = []
    for kind, runs in results.items():
        cpu = statistics.median(c for c, _ in runs)
        worst = max(w for _, w in runs)
        rows.append([kind, f"{cpu:.2f}", f"{cpu / args.chars * 1e6:.1f}", f"{cpu / prose_cpu:.2f}",
                     f"{worst * 1000:.0f}", f"{worst / idle:.1f}"])
    intro = (f"An answer of {args.chars:,} characters streamed {CHUNK} characters an event with no "
             "pause, through guard with the default pack (verdict cache off); median of "
             f"{args.rounds} streams of each kind, interleaved. Stall: the slowest /healthz "
             "answer while the stream ran; its ratio is to the slowest answer while guard was idle "
             f"({idle * 1000:.1f} ms over {IDLE_S:g} s).")
    publish("Streams of one long encoded run",
            f"bench/bench_stream_runs.py --chars {args.chars} --rounds {args.rounds}", intro,
            ["answer", "guard CPU s", "µs a character", "ratio to prose", "worst stall ms",
             "stall / idle"], rows)


if __name__ == "__main__":
    main()
