"""Background work on a timer, as a lifecycle (an async generator for `contextlib.asynccontextmanager`
or an AsyncExitStack)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable


async def every(interval_s: float, action: Callable[[], None]) -> AsyncIterator[None]:
    """Lifecycle: call `action` every `interval_s` seconds until it closes."""

    async def repeat() -> None:
        while True:
            await asyncio.sleep(interval_s)
            action()

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
