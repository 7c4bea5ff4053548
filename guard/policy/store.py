"""The policies in force: the proxy's PolicySource, with atomic hot reload.

How the proxy uses it:

```python
store = PolicyStore(settings.policies, runner, metrics)   # loads now; raises PolicyError
await store.start()                                        # file watcher (mtime poll, ~1 s)
inspector = store.for_request(ctx)                         # pins this request's policy
decision = await inspector.inspect(Stage.PROMPT, segments) # classify + evaluate
result = await store.reload()                              # SIGHUP, POST /admin/policies/reload
store.describe()                                           # GET /admin/policies
await store.aclose()
```

A reload loads the whole set into new objects and swaps one reference, so a request keeps the
inspector (and policy) it started with, and a broken file never replaces a working set.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from guard.errors import PolicyError
from guard.policy.engine import evaluate
from guard.policy.loader import Builder, LoadedPolicy
from guard.policy.model import tenants_named
from guard.policy.policy_set import PolicySet, ignored_files, load_policies, policy_files
from guard.proxy.tenant import unmatchable
from guard.redaction import reaching_back
from guard.types import Decision, GuardContext, Inspector, Segment, Stage, StreamSettings

if TYPE_CHECKING:
    from guard.classify.runner import ClassifierRunner
    from guard.observability.metrics import Metrics

log = structlog.get_logger("guard.policy")

WATCH_INTERVAL_S = 1.0
# Polls in a row at which the files were still changing before the watcher says so in the log.
UNSETTLED_POLLS = 10
# replaced policy versions `guard_policy_info` keeps showing, at 0 (the newest of them)
KEPT_VERSIONS = 8


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did. ok: the new set is in force; else `errors` and the old set stays."""

    ok: bool
    version: str
    errors: list[str] = field(default_factory=list)
    changed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "version": self.version, "errors": self.errors,
                "changed": self.changed}


class PolicyInspector:
    """One request's policy: classify a stage's segments, then evaluate. Implements Inspector.

    The prompt stage's verdicts are kept in `ctx.prompt_verdicts`, for the completion rules that
    read them (`prompt:` conditions), and the request's last user message in `request` (told by
    `answering`), for the completion classifiers that judge an answer after it (`reads_request`).
    """

    __slots__ = ("ctx", "loaded", "request", "runner")

    def __init__(self, loaded: LoadedPolicy, runner: ClassifierRunner, ctx: GuardContext) -> None:
        self.loaded = loaded
        self.runner = runner
        self.ctx = ctx
        self.request = ""

    @property
    def stream(self) -> StreamSettings:
        return self.loaded.stream

    def holdback_chars(self, stage: Stage) -> int | None:
        return self.loaded.holdback[stage]

    def value_chars(self, stage: Stage) -> int:
        return self.loaded.values[stage]

    def reads_encoded_runs(self, stage: Stage) -> bool:
        return self.loaded.encoded_runs[stage]

    def reads_whole(self, stage: Stage) -> frozenset[str]:
        return frozenset(c.name for c in self.loaded.by_stage[stage]
                         if c.classifier.max_match_chars is None)

    def inspects(self, stage: Stage) -> bool:
        return self.loaded.inspects[stage]

    async def inspect(self, stage: Stage, segments: Sequence[Segment], *,
                      bounded: bool = False) -> Decision:
        classifiers = self.loaded.by_stage[stage]
        if bounded:
            classifiers = tuple(c for c in classifiers if c.classifier.max_match_chars is not None)
        verdicts = (await self.runner.run(classifiers, segments, stage, self.request)
                    if classifiers else [])
        if stage is Stage.PROMPT and self.loaded.compiled.reads_prompt:
            self.ctx = dataclasses.replace(self.ctx, prompt_verdicts=tuple(verdicts))
        decision = evaluate(self.loaded.compiled, verdicts, self.ctx, stage)
        if stage is not Stage.PROMPT:
            return decision
        redactions = reaching_back(decision.redactions, segments)
        if redactions is decision.redactions:
            return decision
        return dataclasses.replace(decision, redactions=redactions)

    def answering(self, request: Callable[[], str]) -> None:
        if self.loaded.reads_request:
            self.request = request()


def count_decision(metrics: Metrics, ctx: GuardContext, decision: Decision) -> None:
    """guard_decisions_total for one final decision: one sample per matched rule, or `allow`.

    Call it once per decided stage (not per stream window), where decisions are recorded.
    """
    model = metrics.model_label(ctx.model)
    stage = str(decision.stage)
    if not decision.matches:
        metrics.decided[stage, "allow", "enforce", "", model].pending += 1
    for match in decision.matches:
        metrics.decided[stage, str(match.action), str(match.mode), match.rule, model].pending += 1


class PolicyStore:
    """Implements guard.types.PolicySource over a policy directory or file, with hot reload.

    path:    a directory (`*.yaml` except `*_test.yaml` and hidden files; `default.yaml` is
             the fallback) or a file.
    runner:  runs the classifiers (timeouts, fail-open/closed, cache).
    metrics: guard_policy_reloads_total{result}, guard_policy_info{version},
             guard_policy_files_rejected.
    builder: builds classifiers (tests may pass their own; default: the classifier registry).
    The constructor loads the set and raises PolicyError if it is broken: guard never starts
    without a valid policy.
    """

    def __init__(self, path: Path, runner: ClassifierRunner, metrics: Metrics,
                 builder: Builder | None = None, watch_interval_s: float = WATCH_INTERVAL_S,
                 tenant_header: str | None = None) -> None:
        self.path = Path(path)
        self.tenant_header = tenant_header  # to say which tenants a policy names can never match
        self.runner = runner
        self.metrics = metrics
        self._builder = builder
        self._interval = watch_interval_s
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._set = load_policies(self.path, builder)
        # what the last rejected reload read or looked for, outside the directory (a base file)
        self._rejected_files: tuple[Path, ...] = ()
        self._stamp = self._mtimes()
        self._last_errors: list[str] = []
        self._replaced: deque[str] = deque()  # versions replaced, oldest first: shown at 0
        self._set_info(None, self._set.version)
        self._log_loaded("policy_loaded")

    # -- PolicySource --------------------------------------------------------------------------

    @property
    def current(self) -> PolicySet:
        """The policy set in force right now."""
        return self._set

    @property
    def version(self) -> str:
        return self._set.version

    def for_request(self, ctx: GuardContext) -> Inspector:
        policies = self._set  # one read: the request keeps this set whatever reloads later
        loaded = policies.choose(ctx)
        return PolicyInspector(loaded, self.runner, ctx)

    # -- reload --------------------------------------------------------------------------------

    async def reload(self) -> ReloadResult:
        """Load the files again; swap them in only if every file is valid."""
        async with self._lock:
            stamp = self._mtimes()
            try:
                # loading reads files and may import plugins: keep it off the event loop
                fresh = await asyncio.to_thread(load_policies, self.path, self._builder)
            except PolicyError as exc:
                errors, looked_at = exc.errors, exc.files
            else:
                errors, looked_at = [], ()
            # a file replaced while the set loaded may have been read before it changed: the
            # stamp from before the load then stays, so the watcher loads the files again
            unchanged = self._mtimes() == stamp
            if errors:
                self._rejected_files = looked_at  # watched too: fixing one retries the load
                self._stamp = self._mtimes() if unchanged else stamp  # not retried every poll
                self._last_errors = errors
                self.metrics.policy_reloads.labels("error").inc()
                self.metrics.policy_files_rejected.set(1)  # until the files load again
                log.error("policy_reload_rejected", path=str(self.path), errors=errors,
                          version=self._set.version)
                return ReloadResult(False, self._set.version, errors, changed=False)
            old = self._set
            self._set = fresh
            self._rejected_files = ()
            self._stamp = self._mtimes() if unchanged else stamp
            self._last_errors = []
            self.metrics.policy_reloads.labels("ok").inc()
            self.metrics.policy_files_rejected.set(0)
            self._set_info(old.version, fresh.version)
            self._log_loaded("policy_reloaded", previous=old.version)
            return ReloadResult(True, fresh.version, [], changed=fresh.version != old.version)

    def _set_info(self, old: str | None, new: str) -> None:
        # set to 0 before it is removed: under --workers a removed series lives on in this
        # worker's metrics file, at the value it had
        if old is not None and old != new:
            self.metrics.policy_info.labels(old).set(0)
            self._replaced.append(old)
        if new in self._replaced:
            self._replaced.remove(new)
        while len(self._replaced) > KEPT_VERSIONS:  # one series per reload had grown for good
            self.metrics.policy_info.remove(self._replaced.popleft())
        self.metrics.policy_info.labels(new).set(1)

    def _log_loaded(self, event: str, **extra: Any) -> None:
        log.info(event, path=str(self.path), version=self._set.version,
                 policies=[p.name for p in self._set.policies], **extra)
        for warning in (*self._set.warnings, *(w for p in self._set.policies for w in p.warnings),
                        *self._tenant_warnings()):
            log.warning("policy_warning", warning=warning)

    def _tenant_warnings(self) -> list[str]:
        """A tenant a policy names that no request can carry (`tenant.unmatchable`)."""
        if self.tenant_header is None:
            return []
        return [f"{p.path}: a tenant it names can match no request: {problem}"
                for p in self._set.policies for tenant in dict.fromkeys(tenants_named(p.policy))
                if (problem := unmatchable(self.tenant_header, tenant))]

    # -- watching ------------------------------------------------------------------------------

    def _mtimes(self) -> tuple[tuple[str, int, int], ...]:
        """(file, mtime, size) of the directory's files (those it ignores too: a reload says
        so), of every file they extend, and of those the last rejected reload read or looked
        for (a base file missing then appears here when it is created)."""
        files = ([self.path] if self.path.is_file()
                 else policy_files(self.path) + ignored_files(self.path))
        files += [f for p in self._set.policies for f in p.files]
        files += self._rejected_files
        out = set()
        for file in files:
            try:
                st = file.stat()
            except OSError:
                continue
            out.add((str(file), st.st_mtime_ns, st.st_size))
        return tuple(sorted(out))

    async def reload_if_changed(self) -> None:
        """`reload` if the files changed since they were last loaded (or rejected)."""
        if await asyncio.to_thread(self._mtimes) != self._stamp:
            await self.reload()

    async def start(self) -> None:
        """Start watching the files: a change (or a new or removed file) triggers a reload."""
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(), name="policy-watcher")

    async def _watch(self) -> None:
        """Reload once a change has settled: the files read the same at two polls in a row, so
        a file written in place is not loaded half written (a part that parses would go live).
        An edit paused longer than a poll can still be caught: replace files by renaming."""
        seen: tuple[tuple[str, int, int], ...] | None = None
        unsettled = 0  # polls in a row at which a change was still moving
        while True:
            await asyncio.sleep(self._interval)
            try:
                stamp = await asyncio.to_thread(self._mtimes)
                if stamp != self._stamp and stamp == seen:
                    await self.reload()
                unsettled = unsettled + 1 if stamp not in (self._stamp, seen) else 0
                if unsettled == UNSETTLED_POLLS:  # once a streak: say why nothing loads
                    log.warning("policy_change_unsettled", path=str(self.path), polls=unsettled,
                                version=self._set.version,
                                hint="the files changed at every poll; the running policy stays "
                                     "until they read the same twice in a row")
                seen = stamp
            except Exception:  # the watcher must outlive any one bad reload
                log.exception("policy_watch_failed", path=str(self.path))

    async def aclose(self) -> None:
        """Stop the watcher."""
        task, self._watcher = self._watcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- admin ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """What `GET /admin/policies` answers: version, source, every policy and its rules."""
        current = self._set
        return {
            "version": current.version,
            "source": str(current.source),
            "default": current.default.name,
            "last_reload_errors": list(self._last_errors),
            "policies": [describe_policy(p) for p in current.policies],
        }


def describe_policy(loaded: LoadedPolicy) -> dict[str, Any]:
    """One policy as plain data (no classifier secrets: only names and types)."""
    policy = loaded.policy
    scope = policy.scope
    return {
        "name": policy.name,
        "version": policy.version,
        "file": str(loaded.path),
        "digest": loaded.digest,
        "scope": None if scope is None else scope.model_dump(),
        "classifiers": {n: str(raw.get("type")) for n, raw in policy.classifiers.items()},
        "rules": [
            {"name": r.name, "stage": r.stage, "action": str(r.action), "mode": str(r.mode),
             "severity": r.severity, "category": r.category}
            for r in policy.rules
        ],
        "streaming": policy.streaming.model_dump(),
        "warnings": list(loaded.warnings),
    }
