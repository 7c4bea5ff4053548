"""What a classifier that reads the whole answer (Llama Guard, openai_moderation, a webhook
without `max_match_chars`) is sent on a stream, and how long text waits for it: checks paced by
`streaming.recheck_growth` (0.25, the default) against a check every `max_holdback_ms` (growth 0)
in the same run.

    .venv/bin/python bench/bench_whole_text_stream.py [--sizes 1000,2000,4000]

guard runs in front of the stand-in model, which writes 10 characters every 50 ms (200 a
second, a fast model's pace), with a policy whose one completion rule reads a webhook stand-in
answering at once; it counts the calls and the answer characters each was sent. Then with the
strict pack, whose `harmful_response` model also reads the whole answer: guard's CPU time per
stream (the process's user and system time over the stream). The client is the openai SDK; a
text's wait is when it reached the client less when the model wrote it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import openai
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import write_section
from tests.support import GuardServer, MockUpstream, apps_serving, free_port

REPO = Path(__file__).resolve().parents[1]
CHUNK, DELAY_MS = 10, 50
PACE = CHUNK * 1000 / DELAY_MS  # characters a second


def policy(hook_url: str, growth: float) -> str:
    return f"""
name: default
version: bench
classifiers:
  whole: {{type: webhook, url: "{hook_url}", cache: false}}
rules:
  - {{name: whole, stage: completion, when: {{classifier: whole}}, action: block}}
streaming: {{mode: buffered, max_holdback_ms: 250, recheck_growth: {growth}}}
"""


async def one_stream(guard: GuardServer, size: int) -> list[float]:
    """Streams a `size`-character answer; each text's wait (arrival less when it was written)."""
    reply = ("w" * 9 + " ") * (size // 10)
    headers = {"X-Mock-Reply": urllib.parse.quote(reply), "X-Mock-Chunk-Chars": str(CHUNK),
               "X-Mock-Chunk-Delay-Ms": str(DELAY_MS)}
    client = openai.AsyncOpenAI(base_url=f"{guard.url}/v1", api_key="bench", max_retries=0,
                                default_headers=headers, timeout=120)
    waits, got = [], 0
    async with client:
        started = time.monotonic()
        stream = await client.chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "count"}])
        async for chunk in stream:
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                got += len(text)
                waits.append(time.monotonic() - started - got / PACE)
    assert got == len(reply), (got, len(reply))
    return waits


def strict(growth: float) -> str:
    """The strict pack with `recheck_growth` set."""
    pack = (REPO / "policies" / "strict.yaml").read_text()
    return pack.replace("streaming:\n", f"streaming:\n  recheck_growth: {growth}\n", 1)


async def measure(workdir: Path, sizes: list[int], growth: float, pack: bool = False
                  ) -> list[dict[str, float]]:
    sent: list[int] = []

    async def verdict(request: web.Request) -> web.Response:
        body = await request.json()
        sent.append(sum(len(segment["text"]) for segment in body["segments"]))
        return web.json_response({"labels": [], "score": 0.0})

    hook = web.Application()
    hook.router.add_post("/classify", verdict)
    port = free_port()
    policies = workdir / f"policies-{growth}-{pack}"
    policies.mkdir()
    (policies / "default.yaml").write_text(
        strict(growth) if pack else policy(f"http://127.0.0.1:{port}/classify", growth))
    mock = MockUpstream(workdir)
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}},
                                  "policies": str(policies), "log_level": "warning"})
    rows = []
    async with apps_serving((hook, port)):
        try:
            mock.start()
            guard.start()
            for size in sizes:
                sent.clear()
                cpu = guard.cpu_seconds()
                waits = await one_stream(guard, size)
                rows.append({"size": size, "calls": len(sent), "chars": sum(sent),
                             "cpu": guard.cpu_seconds() - cpu,
                             "median": statistics.median(waits), "max": max(waits)})
        finally:
            guard.stop()
            mock.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,4000",
                        help="answer lengths in characters (default: %(default)s)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        paced = asyncio.run(measure(Path(tmp), sizes, 0.25))
        every = asyncio.run(measure(Path(tmp), sizes, 0.0))
        strict_paced = asyncio.run(measure(Path(tmp), sizes, 0.25, pack=True))
        strict_every = asyncio.run(measure(Path(tmp), sizes, 0.0, pack=True))
    lines = ["| answer | growth 0.25: calls | characters sent | text waited (median / max) "
             "| growth 0: calls | characters sent | text waited | characters, 0.25 / 0 |",
             "|---|---|---|---|---|---|---|---|"]
    for new, old in zip(paced, every, strict=True):
        lines.append(
            f"| {new['size']:,} characters ({new['size'] / PACE:.0f} s) | {new['calls']} | "
            f"{new['chars']:,} ({new['chars'] / new['size']:.1f} x) | {new['median']:.2f} / "
            f"{new['max']:.2f} s | {old['calls']} | {old['chars']:,} "
            f"({old['chars'] / old['size']:.1f} x) | {old['median']:.2f} / {old['max']:.2f} s | "
            f"{new['chars'] / old['chars']:.3f} |")
    lines += ["", "| the strict pack, answer | growth 0.25: guard CPU | text waited (median / max) "
              "| growth 0: guard CPU | text waited | CPU, 0.25 / 0 |", "|---|---|---|---|---|---|"]
    for new, old in zip(strict_paced, strict_every, strict=True):
        lines.append(
            f"| {new['size']:,} characters | {new['cpu'] * 1000:.0f} ms | {new['median']:.2f} / "
            f"{new['max']:.2f} s | {old['cpu'] * 1000:.0f} ms | {old['median']:.2f} / "
            f"{old['max']:.2f} s | {new['cpu'] / old['cpu']:.2f} |")
    body = (f"A webhook reading the whole answer on the completion stage, `max_holdback_ms: 250`, "
            f"the stand-in model writing {PACE:.0f} characters a second; `recheck_growth` 0.25 "
            "(the default) against 0 (a check every 250 ms), the same run. \"x\": characters "
            "sent over the answer's length. Text waited: when it reached the client less when "
            "the model wrote it. The strict pack (its own `max_holdback_ms: 200`): guard's CPU time "
            "over each stream, clock ticks of 10 ms.\n\n" + "\n".join(lines))
    print(body)
    write_section("Whole-text classifiers on streams",
                  f"bench/bench_whole_text_stream.py --sizes {args.sizes}", body)


if __name__ == "__main__":
    main()
