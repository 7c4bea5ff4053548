"""What the data path uses, built once by `guard.app` and shared through one AppKey."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from guard.config import Settings
from guard.observability.metrics import Metrics
from guard.proxy.upstream import Upstreams
from guard.types import (
    Action,
    Decision,
    Gate,
    GuardContext,
    Inspector,
    PolicySource,
    Recorder,
    Segment,
    Stage,
    StreamSettings,
    Switch,
)


@dataclass
class Components:
    """The shared objects of one guard process."""

    settings: Settings
    metrics: Metrics
    upstreams: Upstreams
    policies: PolicySource
    gate: Gate
    recorder: Recorder
    ready: bool = False
    stopping: bool = False  # a signal asked it to stop: not ready, never again
    access_log: bool = True
    observers: list[Callable[[GuardContext, Decision], None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    inflight: set[Exchange] = field(default_factory=set)  # the requests being served now


COMPONENTS = web.AppKey("components", Components)


@dataclass(slots=True, eq=False)  # compared and hashed by identity: kept in sets
class Exchange:
    """One request's bookkeeping, made by `proxy.middleware.observed` and passed to the handler.

    request_id: from the client's X-Request-Id, or generated.
    ctx:        what guard learned from the body (None until it is parsed, or if it never is).
    start, waited_s, upstream_s: timing in seconds; guard's own time is the total less waited_s
                (upstream waits and client writes).
    head_s, first_text_s: guard's own time (`own_s`) when a streamed answer's head went out
                (noted by its handler), and when its first text did (`handler.released`); None
                for an answer sent whole, or before then. What a client of a stream waits for
                because of guard ends there: the rest is the stream's work on its chunks
                (`middleware.observed`).
    task, silent_since, silence_limit_s, went_silent: the upstream silence timeout
                (`proxy.silence`): the task serving the request, when the upstream last spoke
                (time.perf_counter), how long it may stay silent, and whether it outlasted that.
    write_since, client_stalled: the client write timeout (`proxy.silence`): when the write
                in progress began (time.perf_counter), and whether the client outlasted
                `limits.client_write_timeout_s` without taking it.
    switched_off, stop_raised: the kill switch that engaged while the request waited for the
                upstream or the client (`proxy.silence` ends that wait), and whether the wait
                has said so.
    upstream_request_id: the upstream's own id of its answer (its `X-Request-Id`, OpenAI's
                `req_...`) as it came, for the access line, which shows it only if guard logs
                it as it is (`middleware.loggable_id`); None if it named none.
    """

    request_id: str
    ctx: GuardContext | None = None
    start: float = field(default_factory=time.perf_counter)
    waited_s: float = 0.0
    upstream_s: float = 0.0
    task: asyncio.Task[Any] | None = None
    silent_since: float = 0.0
    silence_limit_s: float = 0.0
    went_silent: bool = False
    write_since: float = 0.0
    client_stalled: bool = False
    switched_off: Switch | None = None
    stop_raised: bool = False
    shutting_down: bool = False  # guard ended it when `shutdown_grace_s` ran out
    gated: bool = True  # kill switches stop it (not a cancel of a stored answer, `proxy.fetch`)
    upstream_request_id: str | None = None
    head_s: float | None = None
    first_text_s: float | None = None

    def own_s(self) -> float:
        """guard's own time on the request so far: the total less the upstream and client waits."""
        return max(0.0, time.perf_counter() - self.start - self.waited_s)


class NoPolicy:
    """Used only when `policies: null`: every request is allowed, and the log says so at start."""

    stream = StreamSettings()

    def for_request(self, ctx: GuardContext) -> Inspector:
        return self

    def holdback_chars(self, stage: Stage) -> int | None:
        return 0

    def value_chars(self, stage: Stage) -> int:
        return 0

    def reads_encoded_runs(self, stage: Stage) -> bool:
        return False

    def reads_whole(self, stage: Stage) -> frozenset[str]:
        return frozenset()

    def inspects(self, stage: Stage) -> bool:
        return False

    async def inspect(self, stage: Stage, segments: Sequence[Segment], *,
                      bounded: bool = False) -> Decision:
        return Decision(action=Action.ALLOW, stage=stage)

    def answering(self, request: Callable[[], str]) -> None:
        return None


class NoSwitches:
    """The gate before a kill switch store is configured: nothing is ever stopped."""

    def check(self, ctx: GuardContext) -> Switch | None:
        return None

    @property
    def known(self) -> bool:
        return True
