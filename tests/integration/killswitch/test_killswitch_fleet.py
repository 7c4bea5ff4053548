"""Two `guard serve` processes sharing one redis-server: a switch engaged through one replica's
admin API stops traffic on the other within a second, and releasing it restores traffic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import RedisServer, free_port, wait_for_port

TOKENS = "alice:alice-fleet-token-1,bob:bob-fleet-token-2"
ALICE = {"Authorization": "Bearer alice-fleet-token-1"}
BOB = {"Authorization": "Bearer bob-fleet-token-2"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}


@dataclass
class Replica:
    data: str
    admin: str
    proc: subprocess.Popen[bytes]


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    try:
        return subprocess.Popen([sys.executable, "-m", "guard", *args], stdout=handle,
                                stderr=subprocess.STDOUT, env=env)
    finally:
        handle.close()


@pytest.fixture
def fleet(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    env = {**os.environ, "GUARD_ADMIN_TOKENS": TOKENS}
    upstream_port = free_port()
    procs = [_spawn(["mock-upstream", "--port", str(upstream_port)], tmp_path / "mock.log", env)]
    replicas = []
    try:
        for name in ("a", "b"):
            data, admin = free_port(), free_port()
            config = tmp_path / f"{name}.yaml"
            config.write_text(
                f"listen: 127.0.0.1:{data}\nadmin_listen: 127.0.0.1:{admin}\n"
                f"upstreams: {{default: {{url: 'http://127.0.0.1:{upstream_port}'}}}}\n"
                f"policies: null\nredis_url: '{redis_server.url}'\nstate_dir: ./state-{name}\n"
                "killswitch: {release_approvals: 2, resync_interval_s: 1, retry_after_s: 7}\n"
            )
            proc = _spawn(["serve", "-c", str(config)], tmp_path / f"{name}.log", env)
            procs.append(proc)
            replicas.append(Replica(f"http://127.0.0.1:{data}", f"http://127.0.0.1:{admin}",
                                    proc))
        wait_for_port(upstream_port)
        for replica in replicas:
            wait_for_port(int(replica.data.rsplit(":", 1)[1]))
            wait_for_port(int(replica.admin.rsplit(":", 1)[1]))
        yield replicas[0], replicas[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()



async def chat(http: aiohttp.ClientSession, replica: Replica) -> tuple[int, Any, str | None]:
    async with http.post(replica.data + "/v1/chat/completions", json=CHAT) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


async def until_status(http: aiohttp.ClientSession, replica: Replica, status: int,
                       within: float) -> tuple[float, Any, str | None]:
    """Poll the replica's data plane until it answers `status`; seconds it took."""
    start = time.monotonic()
    while True:
        got, body, retry_after = await chat(http, replica)
        if got == status:
            return time.monotonic() - start, body, retry_after
        if time.monotonic() - start > within:
            pytest.fail(f"{replica.data} still answers {got} after {within}s: {body}")
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_engage_on_one_replica_stops_the_other_within_a_second(
    fleet: tuple[Replica, Replica], http: aiohttp.ClientSession,
) -> None:
    """Block via A's admin API → B answers 503 kill_switch_engaged with Retry-After within 1 s;
    the two-person release (alice on A, bob on B) → B serves the model again within 1 s."""
    a, b = fleet
    await until_status(http, b, 200, within=10.0)  # the replica is up and the model answers
    async with http.post(a.admin + "/admin/killswitch", headers=ALICE, json={
            "scope": "model:gpt-*", "mode": "block", "reason": "drill"}) as response:
        assert response.status == 201
        switch = (await response.json())["switch"]
    took, body, retry_after = await until_status(http, b, 503, within=1.0)
    assert body["error"]["code"] == "kill_switch_engaged" and "drill" in body["error"]["message"]
    assert retry_after == "7"
    assert took < 1.0
    async with http.delete(f"{a.admin}/admin/killswitch/{switch['id']}", headers=ALICE) as r:
        assert r.status == 202
    assert (await chat(http, b))[0] == 503  # one approval is not a release
    async with http.delete(f"{b.admin}/admin/killswitch/{switch['id']}", headers=BOB) as r:
        assert r.status == 200
    await until_status(http, a, 200, within=1.0)
    await until_status(http, b, 200, within=1.0)


@pytest.mark.slow
async def test_refuse_mode_answers_a_refusal_on_the_other_replica(
    fleet: tuple[Replica, Replica], http: aiohttp.ClientSession,
) -> None:
    """A global refuse switch engaged on A makes B answer 200 with a refusal within 1 s."""
    a, b = fleet
    await until_status(http, b, 200, within=10.0)
    async with http.post(a.admin + "/admin/killswitch", headers=BOB, json={
            "scope": "global", "mode": "refuse", "reason": "maintenance"}) as response:
        assert response.status == 201
    start = time.monotonic()
    while True:
        status, body, _ = await chat(http, b)
        content = body["choices"][0]["message"]["content"] if status == 200 else ""
        if "maintenance" in content:
            break
        assert time.monotonic() - start < 1.0, f"B still serves the model: {body}"
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_admin_api_of_a_served_replica_requires_a_token(
    fleet: tuple[Replica, Replica], http: aiohttp.ClientSession,
) -> None:
    """`guard serve` puts the token check in front of /admin (401/403) but not /healthz."""
    a, _ = fleet
    async with http.get(a.admin + "/admin/killswitch") as response:
        assert response.status == 401
    async with http.get(a.admin + "/admin/killswitch",
                        headers={"Authorization": "Bearer wrong"}) as response:
        assert response.status == 403
    async with http.get(a.admin + "/healthz") as response:
        assert response.status == 200
