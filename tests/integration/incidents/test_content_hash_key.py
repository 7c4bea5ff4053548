"""An incident's `content_hash` is always keyed: by the operator's key, else by a key the
deployment makes once (in `state_dir`, shared through Redis), so nobody reading incidents can
find a short text again by hashing guesses. Real `guard serve` processes with the openai SDK as
client, and recorders on a real redis-server."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from prometheus_client import CollectorRegistry
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from structlog.testing import capture_logs

from guard.incidents import model
from guard.incidents.hashkey import KEY_BYTES, KEY_FILE, REDIS_KEY, HashKey, stored_key
from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.observability.metrics import Metrics
from tests.support import RedisServer, guard_before_mock
from tests.unit.incidents.helpers import context, decision, prompt

pytestmark = pytest.mark.timeout(120)

CARD = "4539148803436467"
POLICY = """
name: default
version: "t1"
classifiers:
  pii: {type: pii, entities: [card]}
rules:
  - {name: cards, stage: prompt, when: {classifier: pii}, action: flag, severity: high,
     category: pii}
"""
SETTINGS = IncidentSettings(fsync_interval_ms=20, log=False)


def hashes(state_dir: Path) -> list[str]:
    """The content hashes of the incidents in `state_dir`'s journal, oldest first."""
    incidents = [json.loads(line) for path in journal_dir(state_dir).glob("*.jsonl")
                 for line in path.read_text().splitlines()]
    return [i["content_hash"] for i in sorted(incidents, key=lambda i: i["time"])]


def under(key: bytes, text: str) -> str:
    return "hmac-sha256:" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


async def hash_of(state_dir: Path, redis_url: str | None, text: str,
                  settings: IncidentSettings = SETTINGS) -> str:
    """The content hash a recorder (one replica) writes for a decision on `text`."""
    recorder = IncidentRecorder(settings, state_dir, redis_url, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.record_decision(context(), decision(), prompt(text))
    await recorder.aclose()
    return hashes(state_dir)[-1]


async def redis_key(url: str) -> bytes | None:
    client = Redis.from_url(url)
    try:
        value: bytes | None = await client.get(REDIS_KEY)
    finally:
        await client.aclose()
    return value


def test_a_card_cannot_be_found_again_and_restarts_keep_the_key(tmp_path: Path) -> None:
    """From a probe: a prompt that was just a card number made an incident whose content_hash was
    its plain SHA-256, and the card came back from its first six and last four digits in 0.9 s.
    Now it is an HMAC under a key made once in state_dir (32 bytes, mode 0600): two starts of
    guard give the same prompt the same hash."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY)
    for _ in range(2):
        with guard_before_mock(tmp_path, policies) as guard:
            sdk = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0)
            answer = sdk.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": CARD}])
            assert answer.headers["X-Guard-Decision"] == "flag"
            sdk.close()
    first, second = hashes(tmp_path / "state")
    assert first != "sha256:" + hashlib.sha256(CARD.encode()).hexdigest()
    key_file = tmp_path / "state" / KEY_FILE
    key = key_file.read_bytes()
    assert len(key) == KEY_BYTES and key_file.stat().st_mode & 0o777 == 0o600
    assert first == second == under(key, CARD)


async def test_replicas_on_one_redis_share_the_key(tmp_path: Path,
                                                   redis_server: RedisServer) -> None:
    """Two replicas, one of which ran alone before (its own key in its state_dir), hash a text
    alike once both use Redis: the first to start offers its key, the other's file follows. A
    Redis that lost the key gets it back from the next replica to start."""
    alone, joining = tmp_path / "a", tmp_path / "b"
    before = await hash_of(alone, None, CARD)
    assert await hash_of(alone, redis_server.url, CARD) == before  # its key became the fleet's
    assert await hash_of(joining, redis_server.url, CARD) == before
    fleet = await redis_key(redis_server.url)
    assert fleet == (alone / KEY_FILE).read_bytes() == (joining / KEY_FILE).read_bytes()

    (joining / KEY_FILE).write_bytes(b"x" * KEY_BYTES)  # a stale copy follows Redis's
    assert await hash_of(joining, redis_server.url, CARD) == before
    client = Redis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    assert await hash_of(alone, redis_server.url, CARD) == before
    assert await redis_key(redis_server.url) == fleet


async def test_an_operators_key_wins(tmp_path: Path, redis_server: RedisServer,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With `hash_key_env` set, the hash is an HMAC under that key, and guard neither makes a
    key of its own nor puts one in Redis (the same key in two deployments compares them)."""
    monkeypatch.setenv("GUARD_HASH_KEY", "a-deployment-secret")
    settings = SETTINGS.model_copy(update={"hash_key_env": "GUARD_HASH_KEY"})
    got = await hash_of(tmp_path, redis_server.url, CARD, settings)
    assert got == under(b"a-deployment-secret", CARD)
    assert not (tmp_path / KEY_FILE).exists() and await redis_key(redis_server.url) is None


async def test_a_key_kept_nowhere_is_the_processs_own_never_none(tmp_path: Path) -> None:
    """A state_dir the key cannot be written in, and no Redis: each process hashes under a
    random key of its own (its hashes compare only with each other) and says so once."""
    (tmp_path / "file").write_text("")
    unusable = tmp_path / "file" / "state"
    with capture_logs() as logs:
        keys = [HashKey(None, unusable, None) for _ in range(2)]
        for key in keys:
            await key.share()
            await key.share()
    assert keys[0].value != keys[1].value and all(len(k.value) == KEY_BYTES for k in keys)
    assert model.content_hash(CARD, keys[0].value) == under(keys[0].value, CARD)
    assert [e["event"] for e in logs] == ["incident_hash_key_per_process"] * 2


async def test_a_replica_that_cannot_reach_redis_keeps_its_files_key(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """Redis down at start: the replica hashes under its state_dir's key (still keyed) and says
    its hashes are not the fleet's."""
    redis_server.stop()
    with capture_logs() as logs:
        got = await hash_of(tmp_path, redis_server.url, CARD)
    assert got == under((tmp_path / KEY_FILE).read_bytes(), CARD)
    assert "incident_hash_key_not_shared" in [e["event"] for e in logs]


def _flagged(guard_url: str, text: str) -> None:
    sdk = openai.OpenAI(base_url=f"{guard_url}/v1", api_key="sk-client", max_retries=0)
    answer = sdk.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": text}])
    assert answer.headers["X-Guard-Decision"] == "flag"
    sdk.close()


def _journal_hashes(state_dir: Path) -> list[str]:
    """`hashes`, of complete lines only (a running guard may be writing one)."""
    incidents = [json.loads(line) for path in journal_dir(state_dir).glob("*.jsonl")
                 for line in path.read_text().split("\n")[:-1]]
    return [i["content_hash"] for i in sorted(incidents, key=lambda i: i["time"])]


def _policies(tmp_path: Path) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY)
    return policies


async def test_a_running_replica_gives_a_flushed_redis_its_key_back(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """From a probe: Redis restarted empty (FLUSHALL), and the next replica to start on a fresh
    state_dir offered a new key, which became the fleet's while the running replica kept the old
    one: the same text hashed differently on each side, nothing logged. Now a running `guard
    serve` offers its key again every few seconds: the flushed Redis holds it again, and a new
    replica then takes it."""
    client = SyncRedis.from_url(redis_server.url)
    with guard_before_mock(tmp_path, _policies(tmp_path), redis_url=redis_server.url) as guard:
        _flagged(guard.url, CARD)
        running = (tmp_path / "state" / KEY_FILE).read_bytes()
        assert client.get(REDIS_KEY) == running
        client.flushall()
        deadline = time.monotonic() + 30
        while client.get(REDIS_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get(REDIS_KEY) == running
        fresh = HashKey(None, tmp_path / "new-pod", redis_server.url)
        await fresh.share()
        await fresh.aclose()
        assert fresh.value == running
    client.close()


def test_a_running_replica_adopts_a_changed_fleet_key_and_says_so(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """When a new replica's key became the fleet's first (Redis flushed, the new pod offered
    before the running one), the running `guard serve` takes the fleet's key within seconds,
    logs `incident_hash_key_changed` once, and its hashes compare with the new replica's."""
    client = SyncRedis.from_url(redis_server.url)
    newcomer = b"n" * KEY_BYTES
    with guard_before_mock(tmp_path, _policies(tmp_path), redis_url=redis_server.url) as guard:
        _flagged(guard.url, CARD)
        client.flushall()
        client.set(REDIS_KEY, newcomer)  # the new pod's key, offered first
        deadline = time.monotonic() + 30
        while _journal_hashes(tmp_path / "state")[-1] != under(newcomer, CARD) \
                and time.monotonic() < deadline:
            _flagged(guard.url, CARD)
            time.sleep(0.2)
        assert _journal_hashes(tmp_path / "state")[-1] == under(newcomer, CARD)
        assert (tmp_path / "state" / KEY_FILE).read_bytes() == newcomer
        assert guard.output().count("incident_hash_key_changed") == 1
    client.close()


async def test_a_redis_value_of_the_wrong_length_is_replaced(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """A value in Redis that is not a 32-byte key was never repaired (`SET NX` fails on it):
    every replica hashed under its own key. Now the first replica to offer replaces it."""
    client = SyncRedis.from_url(redis_server.url)
    client.set(REDIS_KEY, b"short")
    with capture_logs() as logs:
        first, second = HashKey(None, tmp_path / "a", redis_server.url), \
            HashKey(None, tmp_path / "b", redis_server.url)
        await first.share()
        await second.share()
        await first.aclose()
        await second.aclose()
    assert client.get(REDIS_KEY) == first.value == second.value
    assert "incident_hash_key_replaced_in_redis" in [e["event"] for e in logs]
    client.close()


def _stored_in_a_child(state_dir: str, barrier: Any, out: Any) -> None:
    barrier.wait()
    out.put(stored_key(Path(state_dir)))


@pytest.mark.parametrize("content", [b"", b"abc"])
def test_processes_starting_together_on_a_damaged_key_file_keep_one_key(
        tmp_path: Path, content: bytes) -> None:
    """From a probe: 4 processes starting at once on a state_dir whose key file was empty made
    different keys in 47 of 150 rounds (3 bytes: 49/150), each one replacing the file. Now the
    replacement is taken under a lock and the file read again: one key, the file's."""
    context_ = multiprocessing.get_context("fork")
    for round_ in range(40):
        state_dir = tmp_path / str(round_)
        state_dir.mkdir()
        (state_dir / KEY_FILE).write_bytes(content)
        barrier, out = context_.Barrier(4), context_.Queue()
        children = [context_.Process(target=_stored_in_a_child, args=(str(state_dir), barrier, out))
                    for _ in range(4)]
        for child in children:
            child.start()
        keys = {out.get(timeout=30) for _ in children}
        for child in children:
            child.join()
        assert keys == {(state_dir / KEY_FILE).read_bytes()}


def test_a_key_file_others_can_read_is_made_0600(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_bytes(b"k" * KEY_BYTES)
    (tmp_path / KEY_FILE).chmod(0o644)
    with capture_logs() as logs:
        assert stored_key(tmp_path) == b"k" * KEY_BYTES
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert "incident_hash_key_file_mode_fixed" in [e["event"] for e in logs]


@pytest.mark.parametrize("kind", ["fifo", "symlink to /dev/zero"])
def test_a_key_file_that_is_no_regular_file_is_refused_not_waited_on(
        tmp_path: Path, kind: str) -> None:
    """From a probe: a FIFO at the key file's place (or a symlink to /dev/zero) hung the
    recorder's construction. Now it is refused: a key of the process's own, said once, and the
    file left as it is."""
    path = tmp_path / KEY_FILE
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with capture_logs() as logs:
        key = HashKey(None, tmp_path, None)
    assert len(key.value) == KEY_BYTES and not key.kept
    assert "incident_hash_key_file_refused" in [e["event"] for e in logs]
    assert path.is_fifo() if kind == "fifo" else path.is_symlink()
