"""Runs the classifiers of one stage: cache first, then every classifier concurrently.

Each classifier gets its own timeout. A failure (exception, timeout, unusable answer) never
escapes: with `on_error: fail_closed` it becomes a `classifier_error` verdict with score 1.0 for
every segment the classifier did not answer, which a policy can block on; with `fail_open` those
verdicts are dropped and the failure is counted in guard_classifier_fail_open_total.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import structlog
from prometheus_client import Histogram

from guard.classify.base import WORK, LocalClassifier, Work
from guard.classify.cache import Row, RowKey, Slot, VerdictCache
from guard.classify.normalize import blank
from guard.classify.registry import ConfiguredClassifier
from guard.classify.spec import Gate
from guard.errors import ClassifierError, Overloaded, PromptTooCostly, RequestError
from guard.observability.metrics import Metrics
from guard.observability.repeats import Repeats
from guard.types import ERROR_LABEL, JOINED_ROLES, Segment, Stage, Verdict, joined_role

log = structlog.get_logger("guard.classify.runner")
T = TypeVar("T")

# A prompt of more texts than this whose classifiers time out is refused, not passed unread
# (each text costs every classifier a fixed amount, whatever its length): as too large (413)
# when its own checks took at least this share of the timeout in CPU time, else as guard
# overloaded (503, to retry: the check thread was busy with other requests' checks). Three
# quarters: CPU time counts more on a loaded machine (shared caches and cores), and a CI run told an
# agent's 1,001 texts, read in 0.35-0.45 s alone, to "send fewer" at half.
MANY_SEGMENTS = 256
OWN_SHARE = 0.75
# Verdicts of a batch written to the shared cache, at most, per classifier: its newest segments.
SHARED_PER_BATCH = 64
# A classifier's failure is logged at once, then at most once per interval per classifier and
# kind of failure while its cause stays the same (`failures` counts them since the line before):
# a service down fails every request's check
FAILED_LOG_EVERY_S = 10.0


@dataclass(slots=True)
class Known:
    """What the in-process cache knew before classifying, classifier by classifier.

    heads:   verdicts of the leading segments, taken from whole rows, in segment order.
    found:   the other hits, by segment position.
    todo:    the segments to classify.
    stores:  where each of those verdicts is kept, by segment position (empty: not cached).
    unrowed: the segments that had no row, to keep one for once classified.
    key:     the classifiers' row key, or None when one of them is not cached.
    """

    heads: list[Sequence[Verdict]]
    found: list[dict[int, Verdict]]
    todo: list[list[Segment]]
    stores: list[dict[int, Slot]]
    unrowed: list[tuple[Segment, Slot]]
    key: RowKey | None


class ClassifierRunner:
    """Runs classifiers over segments with timeouts, failure policy, cache and metrics."""

    def __init__(self, metrics: Metrics, cache: VerdictCache | None = None) -> None:
        self.metrics = metrics
        self.cache = cache
        if cache is not None:
            cache.on_error = lambda op: metrics.classifier_cache_errors.labels(op).inc()
        self._histograms: dict[tuple[str, Stage], Histogram] = {}
        self._failures: dict[tuple[str, str], Repeats] = {}

    async def run(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        segments: Sequence[Segment],
        stage: Stage,
        request: str = "",
    ) -> list[Verdict]:
        """Verdicts of every classifier on every segment, classifier by classifier; gated
        classifiers run after the others, and only those whose gate opened. `request`: on the
        completion stage, the request's last user message, for classifiers that read it."""
        if not classifiers or not segments:
            return []
        account = WORK.set(Work())  # what the check thread spends on them (`_own_share`)
        try:
            gated = [c for c in classifiers if c.spec.gate is not None]
            if not gated:
                return await self._read(classifiers, segments, stage, request)
            first = await self._read([c for c in classifiers if c.spec.gate is None], segments,
                                     stage, request)
            opened = []
            for c in gated:
                assert c.spec.gate is not None
                is_open = gate_opens(c.spec.gate, first)
                self.metrics.gate_checked[c.name, "run" if is_open else "skipped"].pending += 1
                if is_open:
                    opened.append(c)
            return first + (await self._read(opened, segments, stage, request) if opened else [])
        finally:
            WORK.reset(account)

    async def _read(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        segments: Sequence[Segment],
        stage: Stage,
        request: str,
    ) -> list[Verdict]:
        """`_run` on each group of classifiers that read the same turns with a segment (`readings`),
        concurrently; the verdicts classifier by classifier, as `classifiers` lists them."""
        groups = readings(classifiers, segments, stage)
        if len(groups) == 1:
            return await self._run(*groups[0], stage, request)
        found = await all_of([self._run(group, read, stage, request) for group, read in groups])
        order = {c.name: i for i, c in enumerate(classifiers)}
        return sorted((v for verdicts in found for v in verdicts),
                      key=lambda v: order.get(v.classifier, len(order)))

    async def _run(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        segments: Sequence[Segment],
        stage: Stage,
        request: str = "",
    ) -> list[Verdict]:
        if not classifiers:
            return []
        cache = self.cache
        known = self._lookup(classifiers, segments, stage)
        if cache is not None:
            self.metrics.classifier_cache_texts.set(len(cache))
            self.metrics.classifier_cache_chars.set(cache.chars)
            if cache.redis is not None:
                await self._shared_lookup(classifiers, stage, known)
        # Small batches for local classifiers run inline: their scan takes microseconds, less
        # than a task and a timer would; everything else runs as concurrent tasks.
        fresh: list[list[Verdict]] = [[] for _ in classifiers]
        jobs = []
        slots_of_jobs = []
        for i, (c, misses) in enumerate(zip(classifiers, known.todo, strict=True)):
            if not misses:
                continue
            given = with_request(c, misses, request)
            local = c.classifier
            if isinstance(local, LocalClassifier) and local.runs_inline(given):
                fresh[i] = self._run_inline(c, given, stage, known.stores[i])
            else:
                jobs.append(self._run_one(c, given, stage, known.stores[i]))
                slots_of_jobs.append(i)
        if jobs:
            for i, verdicts in zip(slots_of_jobs, await all_of(jobs), strict=True):
                fresh[i] = verdicts
        if known.key is not None:
            for seg, slot in known.unrowed:
                slot.keep_row(known.key, seg.index)
        return self._merged(classifiers, segments, known, fresh)

    def _merged(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        segments: Sequence[Segment],
        known: Known,
        fresh: list[list[Verdict]],
    ) -> list[Verdict]:
        """Cached and fresh verdicts, classifier by classifier, each in segment order."""
        out: list[Verdict] = []
        for i, c in enumerate(classifiers):
            head, hits = known.heads[i], known.found[i]
            if head or hits:
                self.metrics.cache_looked_up[c.name, "hit"].pending += len(head) + len(hits)
            out.extend(head)
            if len(head) == len(segments):
                continue
            by_index = {v.segment: v for v in fresh[i]}
            out.extend(
                v for s in segments[len(head):]
                if (v := hits.get(s.index) or by_index.get(s.index)) is not None
            )
        return out

    def _lookup(
        self, classifiers: Sequence[ConfiguredClassifier], segments: Sequence[Segment], stage: Stage
    ) -> Known:
        """In-process cache look-ups. Whole rows first: in a conversation every segment but the
        newest has one, so history costs a look-up per segment, not per classifier and segment."""
        cache = self.cache
        if cache is None:
            return Known(
                [() for _ in classifiers], [{} for _ in classifiers],
                [list(segments) for _ in classifiers], [{} for _ in classifiers], [], None,
            )
        slots = cache.slots(stage.value, segments)
        key = row_key(classifiers)
        lead: list[tuple[Verdict, ...]] = []  # rows of the leading segments, in order
        later: list[Row] = []  # rows of segments after the first one without
        unrowed: list[tuple[Segment, Slot]] = []
        for seg, slot in zip(segments, slots, strict=True):
            row = slot.rows.get(key) if key is not None else None
            if row is None or row[0] != seg.index:
                unrowed.append((seg, slot))
            elif unrowed:
                later.append(row)
            else:
                lead.append(row[1])
        known = Known(
            list(zip(*lead, strict=True)) if lead else [() for _ in classifiers], [], [], [], unrowed, key
        )
        for i, c in enumerate(classifiers):
            hits = {index: verdicts[i] for index, verdicts in later}
            misses: list[Segment] = []
            store: dict[int, Slot] = {}
            name, config_hash = c.name, c.config_hash
            for seg, slot in unrowed:
                cached = slot.verdicts.get(config_hash) if c.spec.cache else None
                if cached is None:
                    misses.append(seg)
                    if c.spec.cache:
                        store[seg.index] = slot
                elif cached.segment != seg.index or cached.classifier != name:
                    hits[seg.index] = _renamed(cached, name, seg.index)
                else:
                    hits[seg.index] = cached
            known.found.append(hits)
            known.todo.append(misses)
            known.stores.append(store)
        return known

    async def _shared_lookup(
        self, classifiers: Sequence[ConfiguredClassifier], stage: Stage, known: Known
    ) -> None:
        cache = self.cache
        assert cache is not None
        wanted: dict[tuple[int, int], str] = {
            (i, s.index): cache.shared_key(c.config_hash, stage.value, s)
            for i, c in enumerate(classifiers) if known.stores[i] for s in known.todo[i]
        }
        shared = await cache.get_shared(list(wanted.values()))
        if not shared:
            return
        for i, c in enumerate(classifiers):
            still: list[Segment] = []
            for seg in known.todo[i]:
                cached = shared.get(wanted.get((i, seg.index), ""))
                if cached is None:
                    still.append(seg)
                    continue
                verdict = _renamed(cached, c.name, seg.index)
                known.found[i][seg.index] = verdict
                cache.keep(known.stores[i][seg.index], c.config_hash, verdict)
            known.todo[i] = still

    def _run_inline(
        self, c: ConfiguredClassifier, segments: list[Segment], stage: Stage,
        store: dict[int, Slot],
    ) -> list[Verdict]:
        assert isinstance(c.classifier, LocalClassifier)
        started = time.perf_counter()
        try:
            verdicts = _checked(c.name, segments, c.classifier.classify_sync(segments))
        except Exception as exc:  # every classifier failure is handled by on_error, by contract
            return self._failed(c, segments, "error", exc)
        finally:
            self._seconds(c.name, stage).observe(time.perf_counter() - started)
        return self._store(c, segments, verdicts, stage, store)

    async def _run_one(
        self,
        c: ConfiguredClassifier,
        segments: list[Segment],
        stage: Stage,
        store: dict[int, Slot],
    ) -> list[Verdict]:
        started = time.perf_counter()
        kind = "error"
        try:
            async with asyncio.timeout(c.spec.timeout_s):
                verdicts = await c.classifier.classify(segments)
            verdicts = _checked(c.name, segments, verdicts)
        except TimeoutError:
            kind = "timeout"
            in_process = getattr(c.classifier, "in_process", False)
            if stage is Stage.PROMPT and len(segments) > MANY_SEGMENTS and (
                    not in_process or _own_share(c.spec.timeout_s)):
                # thousands of short texts, each read by every classifier, must not buy a pass:
                # a prompt that large is refused when it cannot be read in time
                raise self._refused(c, kind, f"the prompt's {len(segments)} texts could not be "
                                    f"inspected within {c.spec.timeout_s:g} s; send fewer") from None
            if in_process:
                # guard's own CPU ran out of time, not a service: overloaded, and a client that
                # loads guard must not buy a pass for its texts or anyone else's
                self.metrics.classifier_failed[c.name, kind].pending += 1
                raise Overloaded(f"guard is overloaded: {c.name} could not check the "
                                 f"{stage.value} within {c.spec.timeout_s:g} s; retry") from None
            return self._failed(c, segments, kind, None)
        except PromptTooCostly as exc:
            if stage is not Stage.PROMPT:
                return self._failed(c, segments, kind, exc)
            raise self._refused(c, kind, f"{exc}; send less") from exc
        except Exception as exc:  # every classifier failure is handled by on_error, by contract
            return self._failed(c, segments, kind, exc)
        finally:
            self._seconds(c.name, stage).observe(time.perf_counter() - started)
        return self._store(c, segments, verdicts, stage, store)

    def _refused(self, c: ConfiguredClassifier, kind: str, why: str) -> RequestError:
        """A prompt refused (413) as too costly to read, rather than passed unread."""
        self.metrics.classifier_failed[c.name, kind].pending += 1
        return RequestError(why, status=413, code="prompt_too_large")

    def _seconds(self, name: str, stage: Stage) -> Histogram:
        child = self._histograms.get((name, stage))
        if child is None:
            child = self.metrics.classifier_seconds.labels(name, stage.value)
            self._histograms[(name, stage)] = child
        return child

    def _store(
        self,
        c: ConfiguredClassifier,
        segments: list[Segment],
        verdicts: list[Verdict],
        stage: Stage,
        store: dict[int, Slot],
    ) -> list[Verdict]:
        if not store:
            return verdicts
        cache = self.cache
        assert cache is not None
        self.metrics.cache_looked_up[c.name, "miss"].pending += len(verdicts)
        for v in verdicts:
            cache.keep(store[v.segment], c.config_hash, v)
        if cache.redis is not None:
            # _checked returns one verdict per segment, in segment order; only a batch's newest
            # are shared (the others were new in an earlier request): a request of thousands
            # of messages must not write thousands of keys into the Redis the kill switch uses
            newest = list(zip(segments, verdicts, strict=True))[-SHARED_PER_BATCH:]
            cache.put_shared(
                (cache.shared_key(c.config_hash, stage.value, seg), v)
                for seg, v in newest
            )
        return verdicts

    def _failed(
        self, c: ConfiguredClassifier, segments: list[Segment], kind: str, exc: Exception | None
    ) -> list[Verdict]:
        self.metrics.classifier_failed[c.name, kind].pending += 1
        error, detail = (type(exc).__name__, str(exc)[:200]) if exc else (None, None)
        repeats = self._failures.setdefault((c.name, kind), Repeats(FAILED_LOG_EVERY_S))
        if failures := repeats.due(f"{error}: {detail}"):
            log.warning("classifier_failed", classifier=c.name, kind=kind,
                        on_error=c.spec.on_error, failures=failures, error=error, detail=detail)
        if c.spec.on_error == "fail_open":
            self.metrics.failed_open[c.name].pending += 1
            return []
        return [
            Verdict(c.name, seg.index, frozenset({ERROR_LABEL}), 1.0) for seg in segments
        ]

    async def aclose(self) -> None:
        """Finish background cache writes and close remote classifiers' connection pools."""
        from guard.classify.remote._http import close_sessions

        if self.cache is not None:
            await self.cache.aclose()
        await close_sessions()


async def warm_up(classifiers: Iterable[ConfiguredClassifier]) -> None:
    """Run every local classifier once, off the loop, before the first real text.

    Some load their model on first use (profanity imports scikit-learn: about a second); without
    this the first texts after a start wait for it, time the classifier out and, where it fails
    open, pass unchecked (in `serve`, and in `guard policy explain` and `test`, whose one text
    would show no verdict). Remote classifiers are not called; a classifier that raises fails on
    real texts instead.
    """
    warmed: set[int] = set()
    sample = [Segment("warm-up text", "user", 0, Stage.PROMPT)]
    for configured in classifiers:
        run = getattr(configured.classifier, "classify_sync", None)
        if run is None or id(configured.classifier) in warmed:
            continue
        warmed.add(id(configured.classifier))
        with contextlib.suppress(Exception):
            await asyncio.to_thread(run, sample)


def joins_roles(classifier: object) -> bool:
    """Whether a classifier reads a segment with the turns of the roles read with its role too
    (`JOINED_ROLES`: a value sent in pieces, `LocalClassifier.joins_turns`), not only its own
    role's (a trained model's `turns`)."""
    return bool(getattr(classifier, "joins_turns", False) and getattr(classifier, "context_turns", {}))


def readings(
    classifiers: Sequence[ConfiguredClassifier], segments: Sequence[Segment], stage: Stage
) -> list[tuple[list[ConfiguredClassifier], Sequence[Segment]]]:
    """The classifiers in groups that read the same turns with a segment (`joins_roles`), each
    with `segments` in that context (`in_context`): one group when they all read alike, or when
    no segment's role is read joined with another's (no document: every request but RAG's)."""
    if not any(seg.role in JOINED_ROLES for seg in segments):
        return [(list(classifiers), in_context(classifiers, segments, stage))]
    groups: dict[bool, list[ConfiguredClassifier]] = {}
    for c in classifiers:
        groups.setdefault(joins_roles(c.classifier), []).append(c)
    return [(group, in_context(group, segments, stage, joined)) for joined, group in groups.items()]


def in_context(
    classifiers: Sequence[ConfiguredClassifier], segments: Sequence[Segment], stage: Stage,
    joined: bool = False,
) -> Sequence[Segment]:
    """`segments`, each prompt segment of a role some classifier reads in turns carrying the texts
    of the segments of its role just before it (`Segment.context`), as many as the classifier
    that reads most of them asks for; `joined`: of its role and the roles read with it, in
    request order (`joined_role`: a document's and the user's). Completion segments are choices,
    not turns: never joined."""
    wanted: dict[str, int] = {}
    for c in classifiers:
        for role, n in getattr(c.classifier, "context_turns", {}).items():
            wanted[role] = max(wanted.get(role, 0), n)
    if stage is not Stage.PROMPT or not any(wanted.values()):
        return segments
    before: dict[str, list[str]] = {}
    out = []
    for seg in segments:
        earlier = before.setdefault(joined_role(seg.role) if joined else seg.role, [])
        n = wanted.get(seg.role, 0)
        out.append(Segment(seg.text, seg.role, seg.index, seg.stage, tuple(earlier[-n:])) if n else seg)
        if not blank(seg.text):
            earlier.append(seg.text)
    return out


def with_request(c: ConfiguredClassifier, segments: list[Segment], request: str) -> list[Segment]:
    """`segments`, each carrying the request it answers (`Segment.request`) for a classifier
    that `reads_request`; the others never see it (a secret in the request is not the answer's)."""
    if not request or not getattr(c.classifier, "reads_request", False):
        return segments
    return [replace(s, request=request) for s in segments]


def gate_opens(gate: Gate, verdicts: Sequence[Verdict]) -> bool:
    """Whether the gate classifier scored at least `min_score` on some segment; a gate that
    failed open (no verdict at all) opens too, so a broken gate never skips the check."""
    scores = [v.score for v in verdicts if v.classifier == gate.classifier]
    return not scores or max(scores) >= gate.min_score


async def all_of(jobs: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """The results of `jobs`, run concurrently; when one raises (a prompt refused), the others
    are cancelled, so that their checks stop (`off_loop`) rather than run on for nobody."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def row_key(classifiers: Sequence[ConfiguredClassifier]) -> RowKey | None:
    """The key of these classifiers' whole rows, or None when one of them is not cached."""
    if not all(c.spec.cache for c in classifiers):
        return None
    return tuple((c.name, c.config_hash) for c in classifiers)


def _renamed(cached: Verdict, name: str, index: int) -> Verdict:
    """A cached verdict for another instance name or segment position (latency: none spent)."""
    return replace(cached, classifier=name, segment=index, latency_s=0.0)


def _own_share(timeout_s: float) -> bool:
    """Whether the check thread spent OWN_SHARE of `timeout_s` or more of CPU on this request's
    checks."""
    account = WORK.get()
    return account is None or account.spent() >= OWN_SHARE * timeout_s


def _checked(name: str, segments: list[Segment], verdicts: object) -> list[Verdict]:
    """One verdict per segment, named after the instance; ClassifierError if unusable."""
    if not isinstance(verdicts, list) or not all(isinstance(v, Verdict) for v in verdicts):
        raise ClassifierError(f"classifier {name!r} returned something other than list[Verdict]")
    wanted = {s.index for s in segments}
    by_index: dict[int, Verdict] = {}
    for v in verdicts:
        if v.segment not in wanted:
            raise ClassifierError(f"classifier {name!r} answered for unknown segment {v.segment}")
        if not 0.0 <= v.score <= 1.0:
            raise ClassifierError(f"classifier {name!r} returned score {v.score} outside [0, 1]")
        by_index[v.segment] = v if v.classifier == name else replace(v, classifier=name)
    return [by_index.get(s.index) or Verdict(name, s.index) for s in segments]
