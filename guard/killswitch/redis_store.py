"""The kill switch state shared through Redis (the embedded store is guard.killswitch.store).

Redis layout (prefix `guard:killswitch`):
  <prefix>:switches  hash, switch id → Entry JSON (the shared state)
  <prefix>:epoch     a random id written with the first state; its absence (checked with
                     every PING, with the change count) means Redis lost its data, and the
                     replica re-seeds it from what it knew
  <prefix>:released  sorted set, switch id → when it was released, for RELEASED_KEEP_S: a
                     replica putting back what it knew (Redis lost its data) skips these, so a
                     release made after the loss is not undone by a replica that noticed later
  <prefix>:changes   pub/sub channel; any message means "re-read the hash". Each replica PINGs
                     its subscription every PING_INTERVAL_S: a connection dropped without a
                     reset (NAT, failover) is found out within SUBSCRIPTION_SILENCE_S
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

import redis.asyncio as aioredis
import structlog
from redis.asyncio.client import Pipeline, PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from guard.killswitch.held import APPROVE, ENGAGE, RELEASE, Held, HeldSwitches
from guard.killswitch.model import Entry
from guard.killswitch.store import (
    STATE_FILE,
    OnChange,
    StateFile,
    StoreUnavailable,
    Update,
    _count,
)
from guard.observability.metrics import Metrics

log = structlog.get_logger("guard.killswitch")

_CONNECTION_ERRORS = (RedisError, OSError)
PING_INTERVAL_S = 0.5  # how often the subscription is PINGed when no announcement comes
SUBSCRIPTION_SILENCE_S = 1.0  # nothing heard on it for this long: it is dead
RELEASED_KEEP_S = 7 * 86400  # how long a release keeps its switch from being put back
# The subscription is tried again at least this often while Redis is away: once it is back, a
# change made anywhere reaches this replica within a second (the kill switch's promise)
RECONNECT_MAX_S = 0.5
HELD_POLL_S = 0.25  # how often a `--workers` group's worker reads the changes the others hold


class RedisStore:
    """Fleet-wide state in Redis: a hash, change announcements, and a periodic full resync.

    While Redis is unreachable, or the subscription to announcements is not known to be live,
    the last known state stays in force (`stale` is True and the `guard_killswitch_state_stale`
    gauge is 1); the listener reconnects by itself and resyncs.
    The last known state is also written to `state_dir`, so a replica that starts while Redis
    is down still enforces what was engaged. A change made while Redis is unreachable (an
    engage, by an operator or a breaker; a release, or an approval of one) is held: enforced
    here at once and, under `--workers`, by the whole group, as the embedded store holds one
    (HeldSwitches, read by every worker every HELD_POLL_S). Each is written to Redis once it
    answers again, by the rule of `Held.written`. The held changes are saved in `state_dir`'s
    file too, apart from the shared switches, so a replica restarted before Redis is back still
    holds them (enforced, listed unsaved) and writes them then.

    A switch enforced here that is gone from Redis with no change to it heard here (made by this
    replica, or announced by another) is logged (`killswitch_switch_vanished`).
    """

    def __init__(
        self, url: str, state_dir: Path, metrics: Metrics, *, resync_interval_s: float = 5.0,
        prefix: str = "guard:killswitch", held: HeldSwitches | None = None,
        release_approvals: int = 1,
    ) -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0,
            retry=Retry(NoBackoff(), 1), decode_responses=True,
        )
        self._url = url
        self._file = StateFile(state_dir / STATE_FILE)
        self._metrics = metrics
        self._interval = resync_interval_s
        self._hash = f"{prefix}:switches"
        self._epoch = f"{prefix}:epoch"
        self._generation = f"{prefix}:generation"  # counts changes: a restore turns it back
        self._released = f"{prefix}:released"
        self._channel = f"{prefix}:changes"
        self._shared: dict[str, Entry] = {}  # as last read from Redis (or the saved copy)
        self._entries: dict[str, Entry] = {}  # enforced: the shared ones with the held changes
        self._holding = held or HeldSwitches()
        self._held: dict[str, Held] = {}  # changes enforced here, not yet written to Redis
        self._held_changes = 0  # counts this process's own changes to `_held`
        self._unavailable = "Redis is unreachable"  # why the last write failed, for `held`
        self._changed: set[str] = set()  # switches changed here or announced since the last read
        self._unheard: dict[str, Entry] = {}  # gone at the last read with no change heard
        self._needed = release_approvals
        self._known_epoch: str | None = None
        self._known_generation = 0  # changes counted in Redis when this replica last read it
        self._stale = False
        self._subscribed = False  # the listener's subscription answered since it was made
        self._known = False  # read from Redis, or from a state file saved before
        self._on_change: OnChange = lambda _entries: None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._resync_lock = asyncio.Lock()
        self._file_lock = asyncio.Lock()
        self._file_unwritable = False  # the last write of the local copy failed
        self._eviction_checked = False  # Redis's maxmemory-policy read (`_check_eviction`)
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def stale(self) -> bool:
        return self._stale

    @property
    def known(self) -> bool:
        return self._known

    def snapshot(self) -> Mapping[str, Entry]:
        return dict(self._entries)

    async def start(self, on_change: OnChange) -> None:
        """Start from the state saved (and the Redis state it was read at), then read Redis:
        Redis found empty, or behind what was saved, gets the saved switches back."""
        self._on_change = on_change
        saved = await asyncio.to_thread(self._file.load_state)
        self._known = saved.exists
        self._known_epoch, self._known_generation = saved.epoch, saved.generation
        if saved.held:
            await self._reload_held(saved.held)
        self._set_entries(saved.entries, persist=False)
        try:
            await self.refresh()
        except _CONNECTION_ERRORS as exc:
            log.warning("killswitch_redis_unreachable_at_start", error=str(exc),
                        using=str(self._file.path), state_saved=self._known)
        self._tasks = [
            asyncio.create_task(self._listen(), name="killswitch-listen"),
            asyncio.create_task(self._resync_loop(), name="killswitch-resync"),
        ]
        if self._holding.directory is not None:
            self._tasks.append(asyncio.create_task(self._follow_held(), name="killswitch-held"))

    async def _check_eviction(self) -> None:
        """Warn of a Redis that may evict any key when full: the switches' hash, read only at a
        resync, is among the first to go, and a change counted meanwhile hides the loss (a probe:
        a switch lifted on every replica for good). guard's cache keys carry a TTL, the state's
        none, so `volatile-*` policies and `noeviction` leave the state alone."""
        with contextlib.suppress(ResponseError):  # INFO refused (an ACL): nothing to tell
            policy = str((await self._redis.info("memory")).get("maxmemory_policy", ""))
            if policy.startswith("allkeys-"):
                log.warning("redis_may_evict_kill_switch_state", maxmemory_policy=policy,
                            detail="when Redis is full it may evict the kill switch state (an "
                            "engaged switch lifted) and the incident stream; set maxmemory-policy "
                            "to volatile-lru or noeviction")

    async def aclose(self) -> None:
        # redis-py's get_message can swallow a cancellation; the flag ends the loop regardless.
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=3.0)
        self._tasks = []
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        await self._redis.aclose()

    async def update(self, switch_id: str, change: Update) -> tuple[Entry | None, Entry | None]:
        try:
            before, after = await self._transact(switch_id, change)
        except _CONNECTION_ERRORS as exc:
            self._mark_stale(exc)
            raise StoreUnavailable(f"kill switch state unavailable (redis: {exc})") from exc
        try:
            if after is not before:
                await self._redis.publish(self._channel, switch_id)
            await self.refresh()
        except _CONNECTION_ERRORS as exc:
            # the change is in Redis: it is done (the resync spreads it), and enforced here now
            self._mark_stale(exc)
            entries = {k: v for k, v in self._shared.items() if k != switch_id}
            if after is not None:
                entries[switch_id] = after
            self._set_entries(entries, persist=True)
        return before, after

    async def _transact(
        self, switch_id: str, change: Update, *, reseeds: int = 0
    ) -> tuple[Entry | None, Entry | None]:
        """`change` applied in one transaction; first, up to 3 times, a refresh when Redis lost
        data (`reseeds=3`: none, for a write made by the refresh itself)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self._hash, self._epoch, self._generation, self._released)
                    epoch, generation = map(_text, await pipe.mget(self._epoch, self._generation))
                    if self._lost(epoch, generation) and reseeds < 3:
                        # Redis lost data since this replica last read it: what it knew goes
                        # back first (a change written now would hide the loss from the fleet)
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        await self.refresh()
                        reseeds += 1
                        continue
                    raw = await pipe.hget(self._hash, switch_id)
                    before = Entry.from_json(raw) if raw else None
                    after = change(before)
                    if after is before:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return before, after
                    noted = after is None and await self._released_usable(pipe)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if after is None:
                        pipe.hdel(self._hash, switch_id)
                        if noted:
                            now = time.time()
                            pipe.zadd(self._released, {switch_id: now})
                            pipe.zremrangebyscore(self._released, 0, now - RELEASED_KEEP_S)
                    else:
                        pipe.hset(self._hash, switch_id, after.to_json())
                    if epoch is None:
                        pipe.set(self._epoch, secrets.token_hex(8), nx=True)
                    pipe.incr(self._generation)
                    await pipe.execute()
                    self._changed.add(switch_id)
                except WatchError:
                    continue  # another replica changed a switch meanwhile; decide again
                return before, after

    def hold(self, entry: Entry) -> None:
        self._hold(Held(entry, self._unavailable, os.getpid()))

    async def change_here(self, switch_id: str, change: Update
                          ) -> tuple[Entry | None, Entry | None]:
        before = self._entries.get(switch_id)
        after = change(before)
        held = self._held.get(switch_id)
        if held is not None and held.kind == ENGAGE and after is None:
            # engaged during this outage, so never in Redis: its release owes Redis nothing
            self._held.pop(switch_id)
            self._held_changes += 1
            await asyncio.to_thread(self._holding.discard, [switch_id])
            self._set_entries(self._shared, persist=True)
        elif after is not before and before is not None:
            kind = RELEASE if after is None else ENGAGE if held and held.kind == ENGAGE else APPROVE
            self._hold(Held(after or before, self._unavailable, os.getpid(), kind))
        return before, after

    def _hold(self, held: Held) -> None:
        switch_id = held.entry.switch.id
        self._held[switch_id] = held
        self._held_changes += 1
        self._holding.add(held)
        task = asyncio.create_task(asyncio.to_thread(self._holding.share, switch_id))
        self._writes.add(task)  # the group's within HELD_POLL_S
        task.add_done_callback(self._writes.discard)
        log.warning("killswitch_state_unsaved", id=switch_id, change=held.kind,
                    scope=held.entry.switch.scope, error=held.reason, held=len(self._held),
                    group=not self._holding.local_only(switch_id))
        self._set_entries(self._shared, persist=True)

    def held(self, switch_id: str) -> str | None:
        if switch_id not in self._held:
            return None
        here = ("this process only" if self._holding.local_only(switch_id)
                else "every worker of this `guard serve --workers` group")
        restart = ("a restart of guard before then may undo it (the state file cannot be written)"
                   if self._file_unwritable else "a restart of guard before then keeps it held "
                   "(it is saved in the state file)")
        return (f"not saved ({self._held[switch_id].reason}): this change reaches this host "
                f"only ({here}), not the other replicas; guard writes it to Redis as soon as "
                f"Redis takes it, and {restart}")

    def unsaved(self) -> int:
        return len(self._held)

    async def refresh(self) -> None:
        """Read the whole hash; if Redis lost its data, put back what this replica knew. Then
        the changes held here while Redis was unreachable are written over it, and read back."""
        async with self._resync_lock:
            await self._read_held()
            epoch, generation, raw = await self._read_state()
            if epoch is None or self._lost(epoch, generation) or self._vanished(generation, raw):
                # Redis lost its data: put back what this replica knew. It may have come back
                # under an epoch another replica set with nothing to put back (one started during
                # the outage): the switches this one held are added all the same, save those
                # released since (`_released`). One released before the loss (a restore from an
                # older snapshot) may come back: stopping too much is the side to err on.
                epoch, generation, raw = await self._reseed(raw)
            wrote = bool(self._held)
            if wrote:
                await self._write_held()
                epoch, generation, raw = await self._read_state()
            self._known_epoch = epoch
            self._known_generation = _count(generation)
            if not self._eviction_checked:  # at the first read, at start or once Redis is up
                self._eviction_checked = True
                await self._check_eviction()
            entries = {}
            for switch_id, text in raw.items():
                try:
                    entries[switch_id] = Entry.from_json(text)
                except (ValueError, KeyError, TypeError):
                    log.warning("killswitch_malformed_entry_ignored", id=switch_id)
            if self._subscribed:  # else changes may go unheard: still stale
                if self._stale:
                    log.info("killswitch_state_resynced")
                self._stale = False
                self._metrics.killswitch_stale.set(0)
            await self._note_vanished(entries)
            if entries != self._shared or entries != self._entries or not self._known or wrote:
                # saved at the first read too, empty or not: a restart during an outage then
                # knows the state (`known`); and once held changes are written, without them
                self._set_entries(entries, persist=True)
            self._known = True

    async def _read_state(self) -> tuple[str | None, str | None, dict[str, str]]:
        """The epoch, the change count and the switches, as Redis holds them now."""
        # not a MULTI: under maxmemory a Redis refuses every queued command, reads too
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._epoch)
            pipe.get(self._generation)
            pipe.hgetall(self._hash)
            epoch, generation, raw = await pipe.execute()
        return _text(epoch), _text(generation), raw

    async def _write_held(self) -> None:
        """Write the changes held here (and by the group) over what Redis holds now: each by
        `Held.written`, in a transaction of its own, counted as a change."""
        written = dict(self._held)
        for switch_id, held in written.items():
            await self._transact(switch_id, functools.partial(held.written, needed=self._needed),
                                 reseeds=3)
        await self._redis.publish(self._channel, ",".join(written))
        log.info("killswitch_unsaved_changes_written",
                 changes={switch_id: held.kind for switch_id, held in written.items()})
        await asyncio.to_thread(self._holding.discard, list(written))
        self._held = {i: h for i, h in self._held.items() if h != written.get(i)}
        self._held_changes += 1

    async def _reseed(self, raw: dict[str, str]) -> tuple[str, str | None, dict[str, str]]:
        new_epoch = secrets.token_hex(8)
        won = await self._redis.set(self._epoch, new_epoch, nx=True)
        now = time.time()
        known = {i: e for i, e in self._shared.items() if not e.expired(now) and i not in raw}
        if known:
            put_back, released = await self._put_back(known)
            if put_back or released:  # else another replica put them all back first
                log.warning("killswitch_redis_reseeded", switches=len(put_back),
                            put_back={i: known[i].switch.scope for i in put_back},
                            released_since=len(released), epoch_set_here=bool(won))
        epoch, generation = map(_text, await self._redis.mget(self._epoch, self._generation))
        fresh = await self._redis.hgetall(self._hash)
        return str(epoch or new_epoch), generation, {str(k): str(v) for k, v in fresh.items()}

    async def _put_back(self, known: Mapping[str, Entry]) -> tuple[list[str], list[str]]:
        """Write back the switches this replica knew that Redis lacks, save those released since
        (by another replica that put them back first): the ids written back (not those another
        replica wrote back meanwhile), and the ids skipped as released."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self._released)
                    released = []
                    if await self._released_usable(pipe):
                        # ZSCORE one by one, not ZMSCORE: that needs Redis 6.2
                        released = [i for i in known
                                    if await pipe.zscore(self._released, i) is not None]
                    keep = [i for i in known if i not in released]
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for switch_id in keep:
                        pipe.hsetnx(self._hash, switch_id, known[switch_id].to_json())
                    if keep:
                        pipe.incr(self._generation)
                        pipe.publish(self._channel, "reseed")
                    written = await pipe.execute()
                    return [i for i, new in zip(keep, written, strict=False) if new], released
                except WatchError:
                    continue  # a release meanwhile; decide again

    async def _noted(self, ids: list[str]) -> set[str]:
        """Those of `ids` whose release is noted in `_released` (none when the key is not a
        sorted set: a stray key of another type there is warned of where releases are noted)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for i in ids:  # ZSCORE one by one, not ZMSCORE: that needs Redis 6.2
                    pipe.zscore(self._released, i)
                scores = await pipe.execute()
        except ResponseError:
            return set()
        return {i for i, score in zip(ids, scores, strict=True) if score is not None}

    async def _released_usable(self, pipe: Pipeline) -> bool:
        """Whether `_released` is a sorted set (or absent), asked in the watching `pipe`. A key
        of another type there (not guard's) would fail the release's transaction half-done (a
        Redis transaction is not rolled back): the release goes on without noting its id."""
        kind = _text(await pipe.type(self._released))
        if kind in ("zset", "none"):
            return True
        log.warning("killswitch_released_key_unusable", key=self._released, type=kind,
                    detail="releases are not noted there: a replica putting back what it knew "
                    "after Redis lost its data may put a released switch back; delete the key")
        return False

    def _lost(self, epoch: str | None, generation: str | None) -> bool:
        """Whether Redis lost data since this replica last read it: it came back empty (no
        epoch, or another one), or from an older snapshot (a failover to a replica behind, an
        RDB restore): fewer changes counted than this replica saw."""
        if self._known_epoch is None:
            return False
        return epoch != self._known_epoch or _count(generation) < self._known_generation

    def _vanished(self, generation: str | None, raw: Mapping[str, str]) -> bool:
        """Whether switches this replica knew are gone from Redis with no change counted (every
        release and expiry counts one): their keys were evicted or deleted outside guard."""
        if self._known_epoch is None or _count(generation) != self._known_generation:
            return False
        now = time.time()
        return any(i not in raw for i, e in self._shared.items() if not e.expired(now))

    async def _note_vanished(self, shared: Mapping[str, Entry]) -> None:
        """Log the switches enforced here that are gone from Redis with no change to them heard
        (a release elsewhere is announced with its id) and no release noted (`_released`: one
        made while this replica was not listening, across an outage): deleted or evicted outside
        guard. One read later, so an announcement that comes just after the read that found the
        switch gone still explains it."""
        now = time.time()
        unheard = {i: e for i, e in self._unheard.items()
                   if i not in self._changed and i not in shared}
        if unheard:
            noted = await self._noted(list(unheard))
            unheard = {i: e for i, e in unheard.items() if i not in noted}
        if unheard:
            log.warning("killswitch_switch_vanished",
                        switches={i: e.switch.scope for i, e in unheard.items()},
                        generation=self._known_generation,
                        note="gone from Redis with no release heard by this replica")
        self._unheard = {i: e for i, e in self._shared.items()
                         if i not in shared and i not in self._changed and not e.expired(now)}
        self._changed.clear()

    async def _reload_held(self, held: Mapping[str, Held]) -> None:
        """Hold again the changes saved held by the last run (Redis was unreachable then), for
        the group too: written to Redis with the first read that can."""
        for change in held.values():
            self._holding.add(change)
            await asyncio.to_thread(self._holding.share, change.entry.switch.id)
        self._held = {**held, **self._held}
        self._held_changes += 1
        log.warning("killswitch_unsaved_changes_reloaded", path=str(self._file.path),
                    changes={i: h.kind for i, h in held.items()})

    def _set_entries(self, shared: dict[str, Entry], *, persist: bool) -> None:
        """The state read from Redis (or saved), enforced with the changes held here."""
        self._shared = shared
        entries = {i: e for i, e in shared.items() if i not in self._held}
        entries.update((i, e) for i, h in self._held.items() if (e := h.enforced) is not None)
        self._entries = entries
        self._on_change(dict(entries))
        if persist:
            task = asyncio.create_task(self._persist())
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _persist(self) -> None:
        # One writer at a time, always writing the newest state, so files never go backwards.
        async with self._file_lock:
            try:
                await asyncio.to_thread(self._file.save, dict(self._shared),
                                        self._known_epoch, self._known_generation,
                                        dict(self._held))
            except OSError as exc:
                if not self._file_unwritable:  # once, not once per change (a full disk)
                    log.warning("killswitch_state_file_unwritable", path=str(self._file.path),
                                error=str(exc))
                self._file_unwritable = True
                return
            if self._file_unwritable:
                log.info("killswitch_state_file_writable_again", path=str(self._file.path))
                self._file_unwritable = False

    def _mark_stale(self, exc: BaseException) -> None:
        self._unavailable = _unavailable(exc)
        if not self._stale:
            log.warning("killswitch_state_stale", error=str(exc))
        self._stale = True
        self._metrics.killswitch_stale.set(1)

    async def _listen(self) -> None:
        delay = 0.05
        while not self._closing:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                await self._follow(pubsub)
            except _CONNECTION_ERRORS as exc:
                if self._subscribed:  # it worked until now: subscribe again at once
                    delay = 0.05
                self._subscribed = False
                self._mark_stale(exc)
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    # idle connections took the same path: a NAT that dropped one dropped them
                    await self._redis.connection_pool.disconnect(inuse_connections=False)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S, self._interval)
            finally:
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    # untyped in some redis releases, typed in others
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]

    async def _follow(self, pubsub: PubSub) -> None:
        """Re-read the state on every announcement, PINGing the subscription in between.

        A connection that a NAT or a failover dropped without a reset reads as a quiet channel:
        nothing heard for SUBSCRIPTION_SILENCE_S (no announcement, no PONG) raises, and the
        listener subscribes again. The first answer shows the subscription is live: the state is
        read then, so nothing announced before it is missed.
        """
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = heard - PING_INTERVAL_S
        while not self._closing:
            now = loop.time()
            if now - heard >= SUBSCRIPTION_SILENCE_S:
                raise RedisTimeoutError(f"kill switch subscription silent for "
                                        f"{SUBSCRIPTION_SILENCE_S} s (no answer to PING)")
            if now - pinged >= PING_INTERVAL_S:
                await pubsub.ping()
                pinged = now
                await self._check_epoch()
            wait = min(pinged + PING_INTERVAL_S, heard + SUBSCRIPTION_SILENCE_S) - now
            message = await pubsub.get_message(ignore_subscribe_messages=True,
                                               timeout=max(wait, 0.0))
            if message is None:
                continue
            if message["type"] == "message":
                self._changed.update(str(message["data"]).split(","))
            if not self._subscribed or message["type"] == "message":
                self._subscribed = True
                await self.refresh()
            heard = loop.time()

    async def _check_epoch(self) -> None:
        """Re-read the state (and re-seed it) as soon as the epoch is gone or another, or fewer
        changes are counted than were read: Redis lost data (FLUSHALL, a restart without
        persistence, an older snapshot), and a replica starting now would read it so. One MGET
        per PING, rather than waiting for the next resync; one unanswered for
        SUBSCRIPTION_SILENCE_S finds a dead connection as a silent PING does."""
        if self._known_epoch is None:
            return
        try:
            async with asyncio.timeout(SUBSCRIPTION_SILENCE_S):
                epoch, generation = await self._redis.mget(self._epoch, self._generation)
        except TimeoutError as exc:
            raise RedisTimeoutError(f"kill switch epoch unread for {SUBSCRIPTION_SILENCE_S} s"
                                    ) from exc
        if self._lost(_text(epoch), _text(generation)):
            await self.refresh()

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except _CONNECTION_ERRORS as exc:
                self._mark_stale(exc)

    async def _follow_held(self) -> None:
        """Enforce the changes the group's other workers hold (made during an outage) within
        HELD_POLL_S, and stop enforcing those they released or wrote to Redis."""
        while True:
            await asyncio.sleep(HELD_POLL_S)
            known = self._held
            await self._read_held()
            if self._held == known:
                continue
            if known.keys() - self._held.keys():
                # released, or written to Redis by another worker: Redis says which, if it answers
                try:
                    await self.refresh()
                    continue
                except _CONNECTION_ERRORS:
                    pass
            self._set_entries(self._shared, persist=True)

    async def _read_held(self) -> None:
        """The changes the group's workers hold (this one's among them). Kept as they are if
        this process changed its own meanwhile: the next read sees that change."""
        changes = self._held_changes
        found = await asyncio.to_thread(self._holding.read)
        if changes == self._held_changes:
            self._held = found


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _unavailable(exc: BaseException) -> str:
    """Why Redis took no write, in the words `held` gives the client: a Redis that answers but
    refuses writes (full under maxmemory, a read-only replica after a failover) is no
    unreachable one, and the fix differs."""
    if not isinstance(exc, ResponseError):
        return "Redis is unreachable"
    text = str(exc)
    if "maxmemory" in text:
        return "Redis is full: it refuses writes past its maxmemory"
    return f"Redis refused the write: {text[:120]}"
