"""Runs the classifiers of one stage: cache first, then every classifier concurrently.

Each classifier gets its own timeout. A failure (exception, timeout, unusable answer) never
escapes: with `on_error: fail_closed` it becomes a `classifier_error` verdict with score 1.0 for
every segment the classifier did not answer, which a policy can block on; with `fail_open` those
verdicts are dropped and the failure is counted in guard_classifier_fail_open_total.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from guard.classify.cache import Entry, VerdictCache, text_digest
from guard.classify.registry import ConfiguredClassifier
from guard.errors import ClassifierError
from guard.observability.metrics import Metrics
from guard.types import Segment, Stage, Verdict

log = structlog.get_logger("guard.classify.runner")

ERROR_LABEL = "classifier_error"


class ClassifierRunner:
    """Runs classifiers over segments with timeouts, failure policy, cache and metrics."""

    def __init__(self, metrics: Metrics, cache: VerdictCache | None = None) -> None:
        self.metrics = metrics
        self.cache = cache

    async def run(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        segments: Sequence[Segment],
        stage: Stage,
    ) -> list[Verdict]:
        """Verdicts of every classifier on every segment, classifier by classifier."""
        if not classifiers or not segments:
            return []
        cache = self.cache
        digests = [text_digest(s.text) for s in segments] if cache is not None else []
        found: list[dict[int, Verdict]] = []
        todo: list[list[Segment]] = []
        keys: list[dict[int, str]] = []
        for c in classifiers:
            hits: dict[int, Verdict] = {}
            misses: list[Segment] = []
            seg_keys: dict[int, str] = {}
            if cache is not None and c.spec.cache:
                for seg, digest in zip(segments, digests, strict=True):
                    key = f"{c.config_hash}:{stage.value}:{seg.role}:{digest}"
                    seg_keys[seg.index] = key
                    entry = cache.get(key)
                    if entry is None:
                        misses.append(seg)
                    else:
                        hits[seg.index] = Verdict(c.name, seg.index, *entry)
            else:
                misses = list(segments)
            found.append(hits)
            todo.append(misses)
            keys.append(seg_keys)
        if cache is not None and cache.redis is not None:
            await self._shared_lookup(classifiers, found, todo, keys)
        jobs = [
            self._run_one(c, misses, stage, keys[i])
            for i, (c, misses) in enumerate(zip(classifiers, todo, strict=True))
            if misses
        ]
        results = iter(await asyncio.gather(*jobs)) if jobs else iter(())
        out: list[Verdict] = []
        for i, c in enumerate(classifiers):
            hits = found[i]
            if hits:
                self.metrics.classifier_cache.labels(c.name, "hit").inc(len(hits))
            fresh = next(results) if todo[i] else []
            if not todo[i]:
                out.extend(hits[s.index] for s in segments)
                continue
            by_index = {v.segment: v for v in fresh}
            out.extend(
                v for s in segments if (v := hits.get(s.index) or by_index.get(s.index)) is not None
            )
        return out

    async def _shared_lookup(
        self,
        classifiers: Sequence[ConfiguredClassifier],
        found: list[dict[int, Verdict]],
        todo: list[list[Segment]],
        keys: list[dict[int, str]],
    ) -> None:
        assert self.cache is not None
        wanted = [keys[i][s.index] for i in range(len(classifiers)) for s in todo[i] if keys[i]]
        shared = await self.cache.get_shared(wanted)
        if not shared:
            return
        for i, c in enumerate(classifiers):
            still: list[Segment] = []
            for seg in todo[i]:
                entry = shared.get(keys[i].get(seg.index, ""))
                if entry is None:
                    still.append(seg)
                else:
                    found[i][seg.index] = Verdict(c.name, seg.index, *entry)
            todo[i] = still

    async def _run_one(
        self,
        c: ConfiguredClassifier,
        segments: list[Segment],
        stage: Stage,
        keys: dict[int, str],
    ) -> list[Verdict]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        kind = "error"
        try:
            async with asyncio.timeout(c.spec.timeout_s):
                verdicts = await c.classifier.classify(segments)
            verdicts = _checked(c.name, segments, verdicts)
        except TimeoutError:
            kind = "timeout"
            return self._failed(c, segments, kind, None)
        except Exception as exc:  # every classifier failure is handled by on_error, by contract
            return self._failed(c, segments, kind, exc)
        finally:
            self.metrics.classifier_seconds.labels(c.name, stage.value).observe(
                loop.time() - started
            )
        if keys:
            self.metrics.classifier_cache.labels(c.name, "miss").inc(len(segments))
            assert self.cache is not None
            entries: list[tuple[str, Entry]] = [
                (keys[v.segment], (v.labels, v.score, v.spans)) for v in verdicts
            ]
            for key, entry in entries:
                self.cache.put(key, entry)
            self.cache.put_shared(entries)
        return verdicts

    def _failed(
        self, c: ConfiguredClassifier, segments: list[Segment], kind: str, exc: Exception | None
    ) -> list[Verdict]:
        self.metrics.classifier_errors.labels(c.name, kind).inc()
        log.warning(
            "classifier failed", classifier=c.name, kind=kind, on_error=c.spec.on_error,
            error=type(exc).__name__ if exc else None, detail=str(exc)[:200] if exc else None,
        )
        if c.spec.on_error == "fail_open":
            self.metrics.classifier_fail_open.labels(c.name).inc()
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
        by_index[v.segment] = v if v.classifier == name else Verdict(
            name, v.segment, v.labels, v.score, v.spans, v.latency_s
        )
    return [by_index.get(s.index) or Verdict(name, s.index) for s in segments]
