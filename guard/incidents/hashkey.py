"""The key an incident's `content_hash` is an HMAC under, when `incidents.hash_key_env` names none.

A plain SHA-256 of a short text (a card number, an e-mail address) is found again by hashing the
candidates: a card from its first six and last four digits in under a second. So every hash is
keyed. Without an operator's key, the deployment makes its own once: 32 random bytes in
`state_dir/incident-hash.key` (mode 0600, written atomically under a lock beside it, so processes
starting together on one state_dir keep one key), and with `redis_url` set, shared by the whole
fleet through Redis (`SET NX`, then `GET`; the file then follows Redis's). Every replica offers
its key again every `RESHARE_S` seconds, so a Redis that restarted empty gets the running
fleet's key back within seconds; a replica that finds the fleet's key differs from its own (a
new replica offered its key first) adopts the fleet's and says so once. Hashes then compare
across restarts and replicas (not across such a change). A process that can keep its key
nowhere hashes under one of its own and says so once: its hashes compare only with each other,
but are never unkeyed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat
from pathlib import Path

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from guard.killswitch.held import file_lock

log = structlog.get_logger("guard.incidents")

KEY_FILE = "incident-hash.key"
REDIS_KEY = "guard:incident-hash-key"
KEY_BYTES = 32
RESHARE_S = 5.0  # how often a running replica offers its key to Redis again

# The fleet's key, `ARGV[1]` becoming it when Redis holds none or a value of the wrong length
# (never a key: `SET NX` alone would leave it there for good). Atomic: two replicas repairing it
# at once end up with one key. Answers the key and whether it was replaced.
_OFFER = """
local fleet = redis.call('GET', KEYS[1])
if fleet and string.len(fleet) == tonumber(ARGV[2]) then
  return {fleet, 0}
end
redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], fleet and 1 or 0}
"""


class NotAKeyFile(OSError):
    """The key file is not a regular file (a FIFO, a device, a symlink): never read or
    replaced, the process hashes under a key of its own."""


class HashKey:
    """The key `content_hash` is made under: the operator's (`hash_key_env`) when given, else
    the deployment's. `value` is usable from construction (read or made in `state_dir`);
    `await share()` (at start) makes it the fleet's when `redis_url` is set, and
    `await reshare()` (every `RESHARE_S`, `run_sharing`) keeps it the fleet's."""

    def __init__(self, operator: bytes | None, state_dir: Path, redis_url: str | None) -> None:
        self.state_dir = state_dir
        self.redis_url = None if operator else redis_url
        stored = None if operator else stored_key(state_dir)
        self.kept = bool(operator or stored)
        self.value = operator or stored or process_key()
        self._settled = bool(operator)
        self._started = False  # share() ran: a key taken from Redis after it is a change
        self._redis: Redis | None = None  # one connection for every offer, made at the first

    async def share(self) -> None:
        """Take the fleet's key from Redis (offering this one); say once when the key is
        neither the fleet's nor kept in `state_dir` (hashes then compare less widely)."""
        if self._settled:
            return
        self._settled = True
        if self.redis_url is not None:
            shared = await self.reshare()
            self._started = True
            if shared:
                return
            log.warning("incident_hash_key_not_shared", state_dir=str(self.state_dir),
                        kept=self.kept, reason="Redis unreachable at start: content_hash is "
                        "keyed by this replica's key, not the fleet's, until Redis is reached "
                        f"(tried again every {RESHARE_S:g} s)")
        if not self.kept:
            log.warning("incident_hash_key_per_process", state_dir=str(self.state_dir),
                        reason=f"{key_path(self.state_dir)} cannot be read or written: "
                        "content_hash compares only within this process; set "
                        "incidents.hash_key_env to keep one key")

    async def reshare(self) -> bool:
        """Offer this key to Redis again (a Redis that restarted empty takes it back) and adopt
        the fleet's when it differs, saying so; False when Redis cannot be reached."""
        if self.redis_url is None:
            return False
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2.0,
                                         socket_timeout=2.0, retry=Retry(NoBackoff(), 0))
        fleet = await shared_key(self._redis, self.value)
        if fleet is None:
            return False
        if fleet != self.value:
            if self._started:
                log.warning("incident_hash_key_changed", state_dir=str(self.state_dir),
                            reason="the fleet's key in Redis is not this replica's (Redis lost "
                            "it and a replica offered its own first, or Redis was unreachable "
                            "at start): content_hash is now keyed "
                            "by the fleet's; hashes from before this change do not compare with "
                            "those after")
            self.value = fleet
            self.kept = await asyncio.to_thread(keep, self.state_dir, fleet)
        return True

    async def run_sharing(self) -> None:
        """Offer the key again every `RESHARE_S` until cancelled (nothing to do without Redis)."""
        while self.redis_url is not None:
            await asyncio.sleep(RESHARE_S)
            await self.reshare()

    async def aclose(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()
            self._redis = None


def key_path(state_dir: Path) -> Path:
    return state_dir / KEY_FILE


def stored_key(state_dir: Path) -> bytes | None:
    """The deployment's key from `state_dir`, made there if it has none yet; None when it can be
    neither read nor written (or is not a regular file)."""
    path = key_path(state_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _read(path) or _create(path, secrets.token_bytes(KEY_BYTES))
    except NotAKeyFile as exc:
        log.warning("incident_hash_key_file_refused", path=str(path), reason=str(exc))
        return None
    except OSError:
        return None


def keep(state_dir: Path, key: bytes) -> bool:
    """Make `key` the one in `state_dir` (replacing any other); False when it cannot be written
    (or the file there is not a regular file)."""
    path = key_path(state_dir)
    try:
        with file_lock(path.with_name(f".{path.name}.lock")):
            if _read(path) != key:
                _replace(path, key)
    except OSError:
        return False
    return True


async def shared_key(client: Redis, proposed: bytes) -> bytes | None:
    """The fleet's key in Redis, `proposed` becoming it when Redis holds none (or a value of the
    wrong length, replaced); None when Redis cannot be reached."""
    try:
        fleet, replaced = await client.eval(_OFFER, 1, REDIS_KEY, proposed, KEY_BYTES)
    except (RedisError, OSError):
        return None
    if replaced:
        log.warning("incident_hash_key_replaced_in_redis", key=REDIS_KEY,
                    reason=f"it held a value that is not a {KEY_BYTES}-byte key")
    return fleet if isinstance(fleet, bytes) and len(fleet) == KEY_BYTES else None


def process_key() -> bytes:
    """A key for this process alone, for when the deployment's cannot be kept anywhere."""
    return secrets.token_bytes(KEY_BYTES)


def _read(path: Path) -> bytes | None:
    """The key in `path`; None when there is no file or one of the wrong length (not a key: it
    is replaced). Never follows a symlink nor waits on a FIFO; NotAKeyFile for what is not a
    regular file. A file others can read is made 0600, saying so."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if path.is_symlink():
            raise NotAKeyFile(f"{path} is a symlink, not a key file") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAKeyFile(f"{path} is not a regular file")
        key = os.read(fd, KEY_BYTES + 1)
        if len(key) != KEY_BYTES:
            return None
        if mode & 0o077:
            _restrict(fd, path, mode)
    finally:
        os.close(fd)
    return key


def _restrict(fd: int, path: Path, mode: int) -> None:
    """Make the key file readable by its owner alone (whoever reads the key can test guesses)."""
    try:
        os.fchmod(fd, 0o600)
    except OSError as exc:
        log.warning("incident_hash_key_file_readable", path=str(path), mode=oct(mode & 0o777),
                    reason=f"readable by others and cannot be made 0600: {exc.strerror}")
        return
    log.warning("incident_hash_key_file_mode_fixed", path=str(path), was=oct(mode & 0o777),
                now="0o600")


def _create(path: Path, key: bytes) -> bytes:
    """Put `key` at `path` unless another process got there first; the key `path` holds. Under
    the lock beside it, read again: processes starting together on a file of the wrong length
    replace it once, and all take what it then holds."""
    with file_lock(path.with_name(f".{path.name}.lock")):
        theirs = _read(path)
        if theirs is not None:
            return theirs
        _replace(path, key)
    return key


def _replace(path: Path, key: bytes) -> None:
    """`path` now holds `key`, mode 0600: written beside it, fsynced, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
