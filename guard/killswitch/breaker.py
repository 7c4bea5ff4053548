"""The automatic breaker: enough matching incidents in a window engage a switch by themselves.

`observe()` is called by the proxy for every decision. It only filters and queues (no I/O, no
await); a background task counts, fleet-wide in Redis sorted sets when Redis is configured (one
pipelined round trip per batch), in process otherwise, and engages switches with actor `breaker`.
If Redis is unreachable the breaker keeps counting in process, so it still trips on a local burst.
Without Redis, or while it is unreachable, the workers of a `--workers` group each count on their
own, and one of them trips a scope: the first to claim it in the group's directory
(guard.killswitch.trips).
Each trip, and each trip `max_switches` held back, is a `breaker` incident (action `trip` or
`held_back`) next to the `killswitch` incident of the switch it engaged.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from guard.killswitch.model import parse_scope
from guard.killswitch.service import BREAKER_ACTOR, KillSwitchService
from guard.killswitch.settings import BreakerRule
from guard.killswitch.trips import GroupTrips
from guard.observability.metrics import Metrics
from guard.observability.shown import matched_model
from guard.types import Decision, GuardContext, model_key

log = structlog.get_logger("guard.killswitch.breaker")

QUEUE_LIMIT = 10_000
SWEEP_S = 10.0  # how often counts whose window has drained, and ended trips, are dropped


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: BreakerRule
    scope: str
    at: float


class Breaker:
    """Counts incidents per breaker rule and scope; trips the kill switch when one crosses."""

    def __init__(
        self, rules: Sequence[BreakerRule], service: KillSwitchService, metrics: Metrics, *,
        redis_url: str | None = None, prefix: str = "guard:breaker",
        clock: Callable[[], float] = time.time, group: GroupTrips | None = None,
    ) -> None:
        self._rules = tuple(rules)
        self._service = service
        self._metrics = metrics
        for rule in self._rules:  # at 0 from the start: the first trip shows as an increase
            metrics.breaker_trips.labels(rule.name)
        self._prefix = prefix
        self._clock = clock
        self._redis = (
            aioredis.Redis.from_url(
                redis_url, socket_connect_timeout=1.0, socket_timeout=2.0,
                retry=Retry(NoBackoff(), 1), decode_responses=True,
            )
            if redis_url else None
        )
        self._group = group or GroupTrips.of_group()  # with Redis: while it is unreachable
        self._queue: asyncio.Queue[_Hit] = asyncio.Queue(QUEUE_LIMIT)
        self._local: dict[tuple[str, str], deque[float]] = {}
        self._tripped_until: dict[tuple[str, str], float] = {}
        # tripped by another replica (it holds `:tripped`): counted against max_switches, yet
        # tried again while the count stays over (that replica's engage may have failed)
        self._lost_until: dict[tuple[str, str], float] = {}
        self._limited_until: dict[str, float] = {}  # a rule at max_switches: logged until
        self._worker: asyncio.Task[None] | None = None
        self._dropped = 0
        self._local_since: float | None = None  # when Redis was found unreachable, if it is
        self._windows = {rule.name: rule.window_s for rule in self._rules}
        self._next_sweep = 0.0

    def observe(self, ctx: GuardContext, decision: Decision) -> None:
        """Note one decision. Never blocks, never raises; counting happens in the background."""
        if not self._rules:
            return
        enforced = decision.enforced
        if not enforced:
            return
        actions = {m.action.value for m in enforced}
        labels = {label for v in decision.verdicts for label in v.labels}
        labels.update(label for m in enforced for v in m.verdicts for label in v.labels)
        now = self._clock()
        for rule in self._rules:
            if rule.action is not None and rule.action not in actions:
                continue
            if rule.label is not None and rule.label not in labels:
                continue
            if not fnmatch.fnmatchcase(model_key(ctx.model), model_key(rule.model)):
                continue
            scope = _render_scope(rule.scope, ctx)
            if scope is None:
                continue
            try:
                self._queue.put_nowait(_Hit(rule, scope, now))
            except asyncio.QueueFull:
                self._dropped += 1  # a flood that fills the queue is already being counted

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="killswitch-breaker")

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._redis is not None:
            await self._redis.aclose()

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 1000:
                batch.append(self._queue.get_nowait())
            try:
                await self._count(batch)
            except Exception:
                log.exception("breaker_count_failed")

    async def _count(self, batch: list[_Hit]) -> None:
        groups: dict[tuple[str, str], list[_Hit]] = {}
        for hit in batch:
            groups.setdefault((hit.rule.name, hit.scope), []).append(hit)
        counts: dict[tuple[str, str], int] | None = None
        if self._redis is not None:
            try:
                counts = await self._count_shared(groups)
            except (RedisError, OSError) as exc:
                if self._local_since is None:  # once per outage, not once per batch
                    self._local_since = self._clock()
                    log.warning("breaker_redis_unreachable_counting_locally", error=str(exc))
            else:
                if self._local_since is not None:
                    log.info("breaker_counting_fleet_wide_again",
                             after_s=round(self._clock() - self._local_since, 1))
                    self._local_since = None
        if counts is None:
            counts = self._count_local(groups)
        for key, count in counts.items():
            rule = groups[key][0].rule
            if count >= rule.threshold:
                await self._trip(rule, key[1], count)

    def _count_local(self, groups: dict[tuple[str, str], list[_Hit]]) -> dict[tuple[str, str], int]:
        counts = {}
        now = self._clock()
        for key, hits in groups.items():
            window = self._local.setdefault(key, deque())
            window.extend(h.at for h in hits)
            horizon = now - hits[0].rule.window_s
            while window and window[0] <= horizon:
                window.popleft()
            counts[key] = len(window)
        if now >= self._next_sweep:
            self._sweep(now)
        return counts

    def _sweep(self, now: float) -> None:
        """Drop the counts of scopes with no hit left in their window, and the trips that have
        ended: clients choose model names and tenants, and one entry kept per name ever seen
        grew without bound (20,000 model names: +12.9 MB)."""
        self._local = {key: window for key, window in self._local.items()
                       if window and window[-1] > now - self._windows.get(key[0], 0.0)}
        self._tripped_until = {key: until for key, until in self._tripped_until.items()
                               if until > now}
        self._lost_until = {key: until for key, until in self._lost_until.items() if until > now}
        self._next_sweep = now + SWEEP_S

    async def _count_shared(
        self, groups: dict[tuple[str, str], list[_Hit]]
    ) -> dict[tuple[str, str], int]:
        assert self._redis is not None
        now = self._clock()
        keys = list(groups)
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                hits = groups[key]
                name = self._key(*key)
                window = hits[0].rule.window_s
                # Unique members: two replicas may note an incident at the same instant.
                pipe.zadd(name, {f"{h.at:.6f}:{secrets.token_hex(4)}": h.at for h in hits})
                pipe.zremrangebyscore(name, "-inf", now - window)
                pipe.zcard(name)
                pipe.expire(name, math.ceil(window) + 1)
            replies = await pipe.execute()
        return {key: int(replies[4 * i + 2]) for i, key in enumerate(keys)}

    async def _trip(self, rule: BreakerRule, scope: str, count: int) -> None:
        key = (rule.name, scope)
        now = self._clock()
        if self._tripped_until.get(key, 0.0) > now:
            return
        engaged = len({k for trips in (self._tripped_until, self._lost_until)
                       for k, until in trips.items() if k[0] == rule.name and until > now} - {key})
        if engaged >= rule.max_switches:
            # clients choose model names: a flood of new ones must not become a flood of
            # fleet-wide switches (each re-read by every replica)
            if self._limited_until.get(rule.name, 0.0) <= now:
                self._limited_until[rule.name] = now + rule.duration_s
                log.warning("breaker_switch_limit", breaker=rule.name, scope=scope,
                            engaged=engaged, max_switches=rule.max_switches)
                self._record("held_back", rule, scope, count, engaged=engaged,
                             max_switches=rule.max_switches)
            return
        self._tripped_until[key] = now + rule.duration_s
        if not await self._claim(key, rule, now):
            # Another replica (or worker) engages. The shared count stays: should its engage
            # fail, the next incident here tries again (one claim per batch while it is over).
            # A worker's own count starts again, as the winner's does: else the first incident
            # after the switch lifts would trip it again.
            self._tripped_until.pop(key, None)
            self._lost_until[key] = now + rule.duration_s
            self._local.pop(key, None)
            return
        try:
            # Redis down: held here (tripped on this host), written there once it is back
            switch = await self._service.engage(
                scope, rule.mode, client_reason(rule), BREAKER_ACTOR, ttl_s=rule.duration_s
            )
        except Exception:  # whatever it was, a scope left marked tripped would never trip
            log.exception("breaker_engage_failed", breaker=rule.name, scope=scope)
            self._tripped_until.pop(key, None)  # its count kept: the next incident tries again
            await self._unclaim(key)
            return
        self._local.pop(key, None)
        self._lost_until.pop(key, None)
        if self._redis is not None:
            # Counted from zero once the switch ends. Kept until now, so that an engage that
            # failed is tried again at the next incident, on any replica.
            with contextlib.suppress(RedisError, OSError):
                await self._redis.delete(self._key(*key))
        self._metrics.breaker_trips.labels(rule.name).inc()
        log.warning("breaker_tripped", breaker=rule.name, scope=scope, incidents=count,
                    threshold=rule.threshold, window_s=rule.window_s, detail=_detail(rule, count))
        self._record("trip", rule, scope, count, id=switch.id)

    async def _claim(self, key: tuple[str, str], rule: BreakerRule, now: float) -> bool:
        """Whether this process engages `key`'s switch: one replica (through Redis) or one
        worker of the group (without Redis, or while it is unreachable) does; the others see
        the switch through the store. Where no claim can be made, this process engages."""
        if self._redis is not None:
            try:
                return bool(await self._redis.set(self._key(*key) + ":tripped", "1", nx=True,
                                                  px=max(1, int(rule.duration_s * 1000))))
            except (RedisError, OSError) as exc:
                log.warning("breaker_redis_unreachable_claiming_in_group"
                            if self._group is not None
                            else "breaker_redis_unreachable_engaging_locally", error=str(exc))
        return self._group is None or await self._claim_in_group(self._group, key, rule, now)

    async def _claim_in_group(self, group: GroupTrips, key: tuple[str, str], rule: BreakerRule,
                              now: float) -> bool:
        """Whether this worker engages `key`'s switch: the first of the group to claim it does,
        or one finding it claimed by a worker that died before it engaged."""
        try:
            if await asyncio.to_thread(group.claim, self._key(*key), rule.duration_s, now):
                return True
            if any(entry.switch.scope == key[1] for entry in self._service.entries()):
                return False
            # claimed, yet no switch here: the claimer's engage is under way or failed, or it
            # died between its claim and its engage (which would leave the scope unstopped
            # for the whole duration)
            holder = await asyncio.to_thread(group.take_over, self._key(*key),
                                             rule.duration_s, now)
        except OSError as exc:
            log.warning("breaker_group_unreachable_engaging_locally", error=str(exc))
            return True
        if holder is None:
            log.warning("breaker_claim_taken_over", breaker=rule.name, scope=key[1],
                        detail="its claimer no longer runs and engaged nothing")
            return True
        log.info("breaker_claim_held", breaker=rule.name, scope=key[1], holder=holder,
                 detail="claimed by a running worker that has engaged nothing yet")
        return False

    async def _unclaim(self, key: tuple[str, str]) -> None:
        with contextlib.suppress(RedisError, OSError):
            if self._redis is not None:
                await self._redis.delete(self._key(*key) + ":tripped")
        with contextlib.suppress(OSError):
            if self._group is not None:
                await asyncio.to_thread(self._group.drop, self._key(*key))

    def _record(self, action: str, rule: BreakerRule, scope: str, count: int,
                **more: Any) -> None:
        self._service.record("breaker", {
            "action": action, "breaker": rule.name, "scope": scope, "mode": rule.mode,
            "actor": BREAKER_ACTOR, "reason": _detail(rule, count),
            "switch_reason": client_reason(rule), "incidents": count,
            "threshold": rule.threshold, "window_s": rule.window_s, **more})

    def _key(self, name: str, scope: str) -> str:
        return f"{self._prefix}:{name}:{scope}"


def client_reason(rule: BreakerRule) -> str:
    """The reason of the switch `rule` engages, which clients read in the 503 or the refusal:
    the rule's `reason`, else that this breaker stopped it. Never its threshold or window (a
    client told "3 within 60s" stays at 2 a minute): those are in `_detail`, for operators."""
    return rule.reason or f"stopped automatically by breaker {rule.name}"


def _detail(rule: BreakerRule, count: int) -> str:
    """Why `rule` tripped, for operators: the `breaker` incident and the `breaker_tripped` line."""
    return (f"breaker {rule.name}: {count} matching incidents within {rule.window_s:g}s "
            f"(threshold {rule.threshold})")


def _render_scope(template: str, ctx: GuardContext) -> str | None:
    """The scope a hit counts under: the template with the request's model and tenant, which
    clients choose, taken literally (every scope but `global` takes a glob, and a model named `*`
    must not stop every model, nor a tenant named `*` every tenant). A model name holding a key
    (a client that sent its key as the model) is filled in as its digest (`matched_model`),
    which the gate also matches that name by."""
    if "{tenant}" in template and not ctx.tenant:
        return None
    # as switches match it: spellings of one model count together
    model, tenant = _literal(matched_model(ctx.model)), _literal(ctx.tenant or "")
    scope = template.replace("{model}", model).replace("{tenant}", tenant)
    try:
        return str(parse_scope(scope))
    except ValueError:
        return None


def _literal(value: str) -> str:
    """`value` as a glob that matches only itself: `*`, `?` and `[` each in brackets."""
    return re.sub(r"([*?\[])", r"[\1]", value)
