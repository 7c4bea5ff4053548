"""The kill switch service: the gate every request passes, and the engage/release operations.

The gate (`check`) reads a precomputed index and never touches a store, a lock or the network;
the index is rebuilt whenever the store reports a new state or a switch's TTL runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import structlog

from guard.errors import GuardError
from guard.killswitch.model import (
    MODES,
    SCOPE_KINDS,
    Entry,
    SwitchIndex,
    same_scope,
    validate_switch_request,
)
from guard.killswitch.redis_store import RedisStore
from guard.killswitch.settings import KillSwitchSettings
from guard.killswitch.store import (
    EmbeddedStore,
    StateUnsaved,
    StoreUnavailable,
    SwitchStore,
)
from guard.observability.logging import record_logger
from guard.observability.metrics import Metrics
from guard.types import GuardContext, Switch

log = structlog.get_logger("guard.killswitch")
records = record_logger("guard.killswitch")

BREAKER_ACTOR = "breaker"
TTL_ACTOR = "ttl"
REAP_INTERVAL_S = 0.5


class EventRecorder(Protocol):
    """The one call of guard.types.Recorder the kill switch needs (its audit trail)."""

    def record_event(self, kind: str, details: Mapping[str, Any]) -> str: ...


class SwitchNotFound(GuardError):
    """No engaged switch has this id (never existed, already released, or expired)."""


class ApprovalConflict(GuardError):
    """This actor has already approved the release; the two-person rule needs another one."""


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """What a release request did: released, or recorded as one approval of `needed`."""

    released: bool
    entry: Entry
    approvals: tuple[str, ...]
    needed: int


class KillSwitchService:
    """Engaged switches for this replica: the gate (guard.types.Gate) plus audited changes."""

    def __init__(
        self, settings: KillSwitchSettings, store: SwitchStore, recorder: EventRecorder,
        metrics: Metrics, *, clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._store = store
        self._recorder = recorder
        self._metrics = metrics
        self._clock = clock
        self._entries: Mapping[str, Entry] = {}
        self._index = SwitchIndex((), clock())
        self._reaper: asyncio.Task[None] | None = None
        # at 0 from the start, each change this replica can make: the first shows as an increase
        for action, kind in self._changes_possible():
            metrics.killswitch_changes.labels(action, kind)
        for mode in MODES:
            metrics.killswitch_refusals.labels(mode)

    def _changes_possible(self) -> list[tuple[str, str]]:
        """(action, actor kind) of every change `_audit` can count with these settings."""
        changes = [("engage", "admin"), ("release", "admin"), ("expire", TTL_ACTOR)]
        if self.settings.breakers:
            changes.append(("engage", BREAKER_ACTOR))
        if self.settings.release_approvals > 1:
            changes.append(("release_requested", "admin"))
        return changes

    # -- the gate ---------------------------------------------------------------------------

    def check(self, ctx: GuardContext) -> Switch | None:
        """The switch that stops this request, or None. No I/O; a few dict look-ups."""
        index = self._index
        if index.empty:
            return None
        if self._clock() >= index.next_expiry:
            index = self._rebuild()
        return index.match(ctx)

    # -- reading ----------------------------------------------------------------------------

    @property
    def stale(self) -> bool:
        """True while the shared state cannot be refreshed (the last known state is enforced)."""
        return self._store.stale

    @property
    def known(self) -> bool:
        """False until this replica has read the shared state, or a state saved before."""
        return self._store.known

    @property
    def retry_after_s(self) -> int:
        return self.settings.retry_after_s

    def entries(self) -> list[Entry]:
        """Engaged (unexpired) switches, oldest first."""
        now = self._clock()
        live = [e for e in self._entries.values() if not e.expired(now)]
        return sorted(live, key=lambda e: (e.switch.created_at, e.switch.id))

    def also_on_scope(self, switch: Switch) -> list[Entry]:
        """The other engaged switches on `switch`'s scope (`same_scope`), oldest first: what
        still stops it once `switch` is released, and what an engage on it duplicates."""
        return [e for e in self.entries()
                if e.switch.id != switch.id and same_scope(e.switch.scope, switch.scope)]

    # -- changing ---------------------------------------------------------------------------

    async def engage(
        self, scope: str, mode: str, reason: str, actor: str, ttl_s: float | None = None
    ) -> Switch:
        """Engage a switch on every replica. ValueError for a bad request. While the shared
        state cannot be written (Redis down, or the embedded state's file on a full disk) the
        switch is held instead: enforced on this host at once, saved once it can be, and
        `held` says so. Stopping this host's traffic now beats stopping none of it."""
        entry = self._new_entry(scope, mode, reason, actor, ttl_s)
        try:
            await self._store.update(entry.switch.id, lambda _current: entry)
        except StoreUnavailable:
            return self._hold(entry)
        self._audit("engage", actor, entry.switch.reason, before=None, after=entry)
        return entry.switch

    def held(self, switch_id: str) -> str | None:
        """Why `switch_id` is enforced in this process only (not yet saved), or None."""
        return self._store.held(switch_id)

    def _count_unsaved(self) -> None:
        """The unsaved gauge: switches with a change held here. A save changes no switch (no
        `_apply`), so the reaper's tick counts them too."""
        self._metrics.killswitch_unsaved.set(self._store.unsaved())

    def _hold(self, entry: Entry) -> Switch:
        self._store.hold(entry)
        self._audit("engage", entry.switch.actor, entry.switch.reason + " (here only until the "
                    "shared state is back)", before=None, after=entry)
        return entry.switch

    def _new_entry(self, scope: str, mode: str, reason: str, actor: str,
                   ttl_s: float | None) -> Entry:
        parsed, mode, reason, ttl_s = validate_switch_request(scope, mode, reason, ttl_s)
        now = self._clock()
        return Entry(Switch(
            id=f"ks_{secrets.token_hex(6)}", scope=str(parsed), mode=mode, reason=reason,
            actor=actor, created_at=now, expires_at=None if ttl_s is None else now + ttl_s,
        ))

    async def release(self, switch_id: str, actor: str, reason: str = "") -> ReleaseResult:
        """Approve the release of a switch; it is released once `release_approvals` distinct
        actors have approved. SwitchNotFound, ApprovalConflict. While Redis cannot be written
        the change is held on this host (`held` says so) and written there once it can be;
        StoreUnavailable (StateUnsaved) for a switch saved in the embedded state's file while
        that cannot be written: a restart would undo a release held unsaved there."""
        needed = self.settings.release_approvals
        now = self._clock()

        def approve(current: Entry | None) -> Entry | None:
            if current is None or current.expired(now):
                raise SwitchNotFound(f"no engaged kill switch with id {switch_id!r}")
            if actor in current.release_approvals:
                raise ApprovalConflict(
                    f"{actor} has already approved releasing {switch_id}; "
                    f"the release needs {needed} different actors"
                )
            approvals = (*current.release_approvals, actor)
            if len(approvals) >= needed:
                return None
            return replace(current, release_approvals=approvals)

        try:
            before, after = await self._store.update(switch_id, approve)
        except StateUnsaved:
            raise
        except StoreUnavailable:
            before, after = await self._store.change_here(switch_id, approve)
        if before is None:  # approve() raises first; this only narrows the type
            raise SwitchNotFound(f"no engaged kill switch with id {switch_id!r}")
        approvals = (*before.release_approvals, actor)
        # `reason` is this release's own ("" when none was given), never the engage's: that one
        # is `switch_reason`, so the audit trail cannot read the engage's reason as the release's
        if after is None:
            self._audit("release", actor, reason, before=before, after=None, approvers=approvals)
            return ReleaseResult(True, before, approvals, needed)
        self._audit(
            "release_requested", actor, reason, before=before, after=after, approvers=approvals
        )
        return ReleaseResult(False, after, approvals, needed)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the state (from the file or Redis) and start expiring switches by TTL."""
        await self._store.start(self._apply)
        self._reaper = asyncio.create_task(self._reap_forever(), name="killswitch-reaper")

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        await self._store.aclose()

    # -- internals --------------------------------------------------------------------------

    def _apply(self, entries: Mapping[str, Entry]) -> None:
        self._entries = entries
        self._rebuild()

    def _rebuild(self) -> SwitchIndex:
        now = self._clock()
        self._index = SwitchIndex(self._entries.values(), now)
        counts = dict.fromkeys(((k, m) for k in SCOPE_KINDS for m in MODES), 0)
        for entry in self._entries.values():
            if not entry.expired(now):
                kind = entry.switch.scope.partition(":")[0]
                counts[(kind, entry.switch.mode)] = counts.get((kind, entry.switch.mode), 0) + 1
        for (kind, mode), count in counts.items():
            self._metrics.killswitch_engaged.labels(kind, mode).set(count)
        self._count_unsaved()
        return self._index

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            self._count_unsaved()
            with contextlib.suppress(GuardError):  # store down: the gate ignores them anyway
                await self.reap()

    async def reap(self) -> None:
        """Remove switches whose TTL ran out; exactly one replica audits each expiry."""
        now = self._clock()
        for entry in list(self._entries.values()):
            if not entry.expired(now):
                continue

            def drop(current: Entry | None) -> Entry | None:
                return None if current is not None and current.expired(now) else current

            before, after = await self._store.update(entry.switch.id, drop)
            if before is not None and after is None:
                self._audit("expire", TTL_ACTOR, before.switch.reason, before=before, after=None)
        if self._clock() >= self._index.next_expiry:
            self._rebuild()

    def _audit(
        self, action: str, actor: str, reason: str, *, before: Entry | None,
        after: Entry | None, approvers: tuple[str, ...] = (),
    ) -> None:
        switch = (after or before).switch  # type: ignore[union-attr]
        details: dict[str, Any] = {
            "action": action, "id": switch.id, "actor": actor, "reason": reason,
            "switch_reason": switch.reason, "scope": switch.scope, "mode": switch.mode,
            "before": before.as_dict() if before else None,
            "after": after.as_dict() if after else None,
        }
        if approvers:
            details["approvers"] = list(approvers)
        kind = actor if actor in (BREAKER_ACTOR, TTL_ACTOR) else "admin"
        self._metrics.killswitch_changes.labels(action, kind).inc()
        records.warning("killswitch_change", **{k: v for k, v in details.items()
                                                if k not in ("before", "after")})
        self.record("killswitch", details)

    def record(self, kind: str, details: Mapping[str, Any]) -> None:
        """Put an event on the audit trail (the incidents: `killswitch`, `breaker`)."""
        try:
            self._recorder.record_event(kind, details)
        except Exception:
            # The recorder promises never to fail; if it does, the switch must still hold.
            log.exception("killswitch_audit_failed", kind=kind, id=details.get("id"),
                          action=details.get("action"))


def create_store(
    redis_url: str | None, state_dir: Path, metrics: Metrics, *, resync_interval_s: float = 5.0,
    release_approvals: int = 1,
) -> SwitchStore:
    """The Redis store when `redis_url` is set, the embedded store otherwise."""
    if redis_url:
        return RedisStore(redis_url, state_dir, metrics, resync_interval_s=resync_interval_s,
                          release_approvals=release_approvals)
    return EmbeddedStore(state_dir)


def build_service(
    settings: KillSwitchSettings, *, redis_url: str | None, state_dir: Path,
    recorder: EventRecorder, metrics: Metrics,
) -> KillSwitchService:
    """The service on the Redis store when `redis_url` is set, on the embedded store otherwise.
    Call `await service.start()` before serving and `await service.aclose()` on shutdown."""
    store = create_store(
        redis_url, state_dir, metrics, resync_interval_s=settings.resync_interval_s,
        release_approvals=settings.release_approvals,
    )
    return KillSwitchService(settings, store, recorder, metrics)
