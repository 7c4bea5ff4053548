"""Fixtures shared by the whole suite: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RedisServer, running_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh real redis-server for one test (stop()/start() it to simulate an outage)."""
    with running_redis(tmp_path / "redis") as server:
        yield server
