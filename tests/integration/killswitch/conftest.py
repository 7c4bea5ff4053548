"""Fixtures shared by the kill switch integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import MountRefused, SmallVolume, small_volume


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for data and admin ports (a 30 s cap on each call)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[SmallVolume]:
    """A small tmpfs of its own, to fill as a full disk (skipped only where mount is refused)."""
    try:
        with small_volume(tmp_path / "volume") as mounted:
            yield mounted
    except MountRefused as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
