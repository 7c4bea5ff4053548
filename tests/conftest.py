"""Fixtures shared by the whole suite: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    TEST_CLIENTS,
    MountRefused,
    RedisServer,
    SmallVolume,
    running_redis,
    small_volume,
)


@pytest.fixture(autouse=True, scope="session")
def guard_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache directory for the session (`GUARD_CACHE_DIR`), never the machine's home: the
    first guard that loads the profanity model keeps its weights there, and every guard started
    after (they inherit the environment) reads them instead of importing scikit-learn."""
    directory = tmp_path_factory.mktemp("guard-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUARD_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(autouse=True)
def close_test_clients() -> Iterator[None]:
    """Closes the SDK clients the test's helpers made (`support.closed_after_test`)."""
    yield
    while TEST_CLIENTS:
        TEST_CLIENTS.pop().close()


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
