"""An upstream writing its answer in one burst: guard (in-process, the default pack, on a real
port) reads thousands of events at a time from the stand-in model (its own process, writing
with no pause), and the openai SDK reads the answer. Guard must give the event loop back while it
works through such a read, so other clients' requests and streams are not held up behind it."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from guard.app import build_components, data_runner
from guard.components import Components
from guard.config import Settings, UpstreamSettings
from guard.proxy.handler import SLICE_EVENTS
from tests.support import MockUpstream, apps_serving, free_port

pytestmark = pytest.mark.timeout(120)

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
PROSE = ("The deploy scripts rotate the logs every night and the service keeps a week of them, "
         "so an engineer looking into an outage can read what happened before it began. ")
CHUNK = 4  # characters an event: the answer is released in parts of one event's text


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockUpstream]:
    mock = MockUpstream(tmp_path_factory.mktemp("burst-upstream"))
    mock.start()
    yield mock
    mock.stop()


def released_parts(components: Components) -> float:
    """Parts of held text released so far (each observed once in guard_stream_holdback_seconds)."""
    (family,) = components.metrics.stream_holdback.collect()  # not the registry's every metric
    return next(sample.value for sample in family.samples if sample.name.endswith("_count"))


async def test_a_burst_of_events_is_guarded_a_slice_a_loop_turn(
        tmp_path: Path, upstream: MockUpstream) -> None:
    """A concurrent task that notes, at each of its turns of the loop, how many parts guard has
    released: between two of its turns guard releases at most what a few slices of events carry
    (without slicing, every event of an upstream read: 2,567 parts in one turn), and the answer
    comes whole."""
    policies = tmp_path / "policies"
    policies.mkdir()
    shutil.copy(DEFAULT, policies / "default.yaml")
    port = free_port()
    settings = Settings(
        listen=f"127.0.0.1:{port}", admin_listen=f"127.0.0.1:{free_port()}",
        state_dir=tmp_path / "state", policies=policies,
        upstreams={"default": UpstreamSettings(url=upstream.url, timeout_s=30)})
    components = build_components(settings)
    block = (PROSE * 40)[:4_000]
    repeat = 10  # 40,000 characters: 10,000 events
    headers = {"X-Mock-Reply": urllib.parse.quote(block), "X-Mock-Reply-Repeat": str(repeat),
               "X-Mock-Chunk-Chars": str(CHUNK), "X-Mock-Chunk-Delay-Ms": "0"}
    seen: list[float] = []
    done = asyncio.Event()

    async def turns() -> None:
        while not done.is_set():
            seen.append(released_parts(components))
            await asyncio.sleep(0)

    async with apps_serving((data_runner(components), port)):
        watcher = asyncio.create_task(turns())
        client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-client",
                                    max_retries=0, default_headers=headers, timeout=60)
        text = []
        async with client:
            stream = await client.chat.completions.create(
                model="m", stream=True, messages=[{"role": "user", "content": "the logs?"}])
            async for chunk in stream:
                text.extend(choice.delta.content or "" for choice in chunk.choices)
        done.set()
        await watcher
    assert "".join(text) == block * repeat
    per_turn = [later - earlier for earlier, later in itertools.pairwise(seen)]
    # every event's text is a part (a mask or a release may cut one in two)
    assert sum(per_turn) >= len(block) * repeat // CHUNK
    # a slice's events, and the text held back before them (a check releases all but the last
    # 319 characters, 80 parts), and a last release of what was held at the answer's end
    assert max(per_turn) <= 2 * SLICE_EVENTS + 320 // CHUNK
