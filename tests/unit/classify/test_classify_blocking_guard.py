"""The blocking guard itself: it must catch what it exists to catch."""

from __future__ import annotations

import time

import pytest
from blockbuster import BlockingError


async def test_blocking_sleep_on_the_loop_raises() -> None:
    """A blocking call on the event loop raises BlockingError inside the test."""
    with pytest.raises(BlockingError):
        time.sleep(0.001)
