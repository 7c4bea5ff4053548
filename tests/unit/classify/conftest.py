"""Classifier tests fail if anything blocks the event loop.

Two guards, on every async test: blockbuster raises inside the test when a blocking call (file or
socket I/O, sleep) runs on the loop thread; a heartbeat fails the test when the loop stalls on
CPU work longer than STALL_LIMIT_S (what blockbuster cannot see).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

STALL_LIMIT_S = 0.5  # generous: the machine is shared, and a real stall is much longer


@pytest.fixture(autouse=True)
def _no_blocking_calls(request: pytest.FixtureRequest) -> Iterator[BlockBuster | None]:
    """Raise BlockingError when an async test makes a blocking call on the event loop."""
    if not inspect.iscoroutinefunction(request.function):
        yield None
        return
    with blockbuster_ctx() as bb:
        yield bb


@pytest.fixture(autouse=True)
async def _no_loop_stalls(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Fail an async test during which the event loop stopped ticking for STALL_LIMIT_S."""
    if not inspect.iscoroutinefunction(request.function):
        yield
        return
    loop = asyncio.get_running_loop()
    worst = 0.0

    async def beat() -> None:
        nonlocal worst
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            worst = max(worst, now - last - 0.01)
            last = now

    task = asyncio.create_task(beat())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if worst > STALL_LIMIT_S:
        pytest.fail(f"the event loop stalled for {worst:.3f}s (CPU work on the loop?)")
