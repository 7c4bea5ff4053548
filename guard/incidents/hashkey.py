"""The key an incident's `content_hash` is an HMAC under, when `incidents.hash_key_env` names none.

A plain SHA-256 of a short text (a card number, an e-mail address) is found again by hashing the
candidates: a card from its first six and last four digits in under a second. So every hash is
keyed. Without an operator's key, the deployment makes its own once: 32 random bytes in
`state_dir/incident-hash.key` (mode 0600, written atomically, the first of several processes to
write it wins), and with `redis_url` set, shared by the whole fleet through Redis (`SET NX`, then
`GET`; the file then follows Redis's, and a Redis that lost the key gets it back from the first
replica to start). Hashes then compare across restarts and replicas. A process that can keep its
key nowhere hashes under one of its own and says so once: its hashes compare only with each
other, but are never unkeyed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = structlog.get_logger("guard.incidents")

KEY_FILE = "incident-hash.key"
REDIS_KEY = "guard:incident-hash-key"
KEY_BYTES = 32


class HashKey:
    """The key `content_hash` is made under: the operator's (`hash_key_env`) when given, else
    the deployment's. `value` is usable from construction (read or made in `state_dir`);
    `await share()` (at start) makes it the fleet's when `redis_url` is set."""

    def __init__(self, operator: bytes | None, state_dir: Path, redis_url: str | None) -> None:
        self.state_dir = state_dir
        self.redis_url = None if operator else redis_url
        stored = None if operator else stored_key(state_dir)
        self.kept = bool(operator or stored)
        self.value = operator or stored or process_key()
        self._settled = bool(operator)

    async def share(self) -> None:
        """Take the fleet's key from Redis (offering this one); say once when the key is
        neither the fleet's nor kept in `state_dir` (hashes then compare less widely)."""
        if self._settled:
            return
        self._settled = True
        if self.redis_url is not None:
            fleet = await shared_key(self.redis_url, self.value)
            if fleet is not None:
                self.value = fleet
                self.kept = await asyncio.to_thread(keep, self.state_dir, fleet)
                return
            log.warning("incident_hash_key_not_shared", state_dir=str(self.state_dir),
                        kept=self.kept, reason="Redis unreachable at start (or its key not "
                        f"{KEY_BYTES} bytes): content_hash is keyed by this replica's key, not "
                        "the fleet's, until a restart")
        if not self.kept:
            log.warning("incident_hash_key_per_process", state_dir=str(self.state_dir),
                        reason=f"{key_path(self.state_dir)} cannot be read or written: "
                        "content_hash compares only within this process; set "
                        "incidents.hash_key_env to keep one key")


def key_path(state_dir: Path) -> Path:
    return state_dir / KEY_FILE


def stored_key(state_dir: Path) -> bytes | None:
    """The deployment's key from `state_dir`, made there if it has none yet; None when it can be
    neither read nor written."""
    path = key_path(state_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _read(path) or _create(path, secrets.token_bytes(KEY_BYTES))
    except OSError:
        return None


def keep(state_dir: Path, key: bytes) -> bool:
    """Make `key` the one in `state_dir` (replacing any other); False when it cannot be written."""
    path = key_path(state_dir)
    try:
        if _read(path) != key:
            _written(path, key).replace(path)
    except OSError:
        return False
    return True


async def shared_key(redis_url: str, proposed: bytes) -> bytes | None:
    """The fleet's key in Redis, `proposed` becoming it when Redis holds none; None when Redis
    cannot be reached (or holds something that is not a key)."""
    client = Redis.from_url(redis_url, socket_connect_timeout=2.0, socket_timeout=2.0,
                            retry=Retry(NoBackoff(), 0))
    try:
        await client.set(REDIS_KEY, proposed, nx=True)
        fleet = await client.get(REDIS_KEY)
    except (RedisError, OSError):
        return None
    finally:
        with contextlib.suppress(RedisError, OSError):
            await client.aclose()
    return fleet if isinstance(fleet, bytes) and len(fleet) == KEY_BYTES else None


def process_key() -> bytes:
    """A key for this process alone, for when the deployment's cannot be kept anywhere."""
    return secrets.token_bytes(KEY_BYTES)


def _read(path: Path) -> bytes | None:
    """The key in `path`; None when there is no file (one of the wrong length is not a key, and
    is replaced)."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    return key if len(key) == KEY_BYTES else None


def _create(path: Path, key: bytes) -> bytes:
    """Put `key` at `path` unless another process got there first; the key `path` holds."""
    temporary = _written(path, key)
    try:
        path.hardlink_to(temporary)  # fails if the file exists: never two keys for one state_dir
    except FileExistsError:
        theirs = _read(path)
        if theirs is not None:
            return theirs
        temporary.replace(path)  # a file of the wrong length: not a key, replaced
        return key
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _written(path: Path, key: bytes) -> Path:
    """A new file beside `path` holding `key`, mode 0600, fsynced."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return temporary
