"""Fixtures shared by the whole suite: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import MountRefused, RedisServer, SmallVolume, running_redis, small_volume


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh real redis-server for one test (stop()/start() it to simulate an outage)."""
    with running_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[SmallVolume]:
    """A small tmpfs of its own, to fill as a full disk (skipped only where mount is refused)."""
    try:
        with small_volume(tmp_path / "volume") as mounted:
            yield mounted
    except MountRefused as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
