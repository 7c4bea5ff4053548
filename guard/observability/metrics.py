"""Every metric guard exports, in one place. Names, types and labels are documented in README.md.

The registry is injectable: tests build `Metrics(CollectorRegistry())` and read values with
`registry.get_sample_value`. With `PROMETHEUS_MULTIPROC_DIR` set (`guard serve --workers N`),
values are written to shared files and `/metrics` merges every worker.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from guard import __version__
from guard.build import running_source
from guard.observability.logging import lines_dropped
from guard.observability.shown import shown_model
from guard.observability.tally import Tally

# No `*_created` series (each counter's and histogram's start time, 17 families): no alert or
# dashboard reads them, and with --workers the merged /metrics never had them. (A process-wide
# switch of prometheus_client, read when a registry is collected.)
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def bounded_label(limit: int = 64) -> Callable[[str | None], str]:
    """Maps free-form values (model names) to at most `limit` label values, then `other`; a
    name holding a credential is `[REDACTED]` (`shown_model`). A function, not an object with
    `__call__`: called once a request, which costs twice as much."""
    seen: dict[str, str] = {}  # each name given a label of its own, and that label
    lock = threading.Lock()

    def label(named: str | None) -> str:
        if not named:
            return "none"
        if (known := seen.get(named)) is not None:
            return known
        with lock:
            if len(seen) < limit and len(named) <= 128:
                value = seen[named] = shown_model(named) or "none"
                return value
        return "other"

    return label


class Metrics:
    """guard's metrics, bound to one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # first in the registry, so every read (a scrape, get_sample_value) sees pending updates
        r.register(_BeforeRead(self._flush_tally))
        self._scraping = False
        self.model_label = bounded_label()

        self.build_info = Gauge(
            "guard_build_info", "guard version, digest of its source and Python version; always 1.",
            ["version", "source", "python"], registry=r, multiprocess_mode="max",
        )
        self.build_info.labels(__version__, running_source(), platform.python_version()).set(1)

        # data path
        self.requests = Counter(
            "guard_requests_total", "Requests answered on the data plane.",
            ["route", "model", "status_class"], registry=r,
        )
        self.inflight = Gauge(
            "guard_inflight_requests", "Requests being served right now.", registry=r,
            multiprocess_mode="livesum",
        )
        self.overhead = Histogram(
            "guard_overhead_seconds",
            "Time a client waited for because of guard, per request: guard's own time (upstream "
            "and client waits excluded), up to a stream's first text.",
            ["route"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.stream_work = Histogram(
            "guard_stream_work_seconds",
            "guard's own time on an answer relayed as it arrives (a stream), from its head to "
            "its end: its work on the chunks, upstream and client waits excluded.",
            ["route"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.upstream_seconds = Histogram(
            "guard_upstream_seconds", "Upstream time to response headers, per named upstream.",
            ["upstream"], buckets=UPSTREAM_BUCKETS, registry=r,
        )
        self.upstream_responses = Counter(
            "guard_upstream_responses_total", "Upstream answers by status class (or error kind).",
            ["upstream", "status_class"], registry=r,
        )
        self.decisions = Counter(
            "guard_decisions_total", "Policy decisions: one per matched rule, or allow.",
            ["stage", "action", "mode", "rule", "model"], registry=r,
        )

        # classifiers
        self.classifier_seconds = Histogram(
            "guard_classifier_seconds", "Classifier latency per batch of segments.",
            ["classifier", "stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.classifier_errors = Counter(
            "guard_classifier_errors_total", "Classifier failures by kind (error, timeout).",
            ["classifier", "kind"], registry=r,
        )
        self.classifier_fail_open = Counter(
            "guard_classifier_fail_open_total",
            "Classifier failures let through because the classifier is fail_open.",
            ["classifier"], registry=r,
        )
        self.classifier_cache = Counter(
            "guard_classifier_cache_total", "Verdict cache look-ups by result (hit, miss).",
            ["classifier", "result"], registry=r,
        )
        self.classifier_cache_errors = Counter(
            "guard_classifier_cache_errors_total",
            "Shared (Redis) verdict cache reads and writes that failed (op: read, write); each is "
            "a miss, and the classifiers run instead.", ["op"], registry=r,
        )
        for op in ("read", "write"):  # at 0 from the start: the first failure shows as a rise
            self.classifier_cache_errors.labels(op)
        self.classifier_cache_texts = Gauge(
            "guard_classifier_cache_texts",
            "Texts the in-process verdict cache holds (at most cache.max_entries).",
            registry=r, multiprocess_mode="livesum",
        )
        self.classifier_cache_chars = Gauge(
            "guard_classifier_cache_chars",
            "Characters of the texts the in-process verdict cache holds (at most cache.max_chars).",
            registry=r, multiprocess_mode="livesum",
        )
        self.classifier_gated = Counter(
            "guard_classifier_gated_total",
            "Checks of a gated classifier by result: run (its gate opened) or skipped.",
            ["classifier", "result"], registry=r,
        )

        # streaming
        self.stream_cutoffs = Counter(
            "guard_stream_cutoffs_total", "Streams cut off mid-way, by the rule that cut them.",
            ["rule"], registry=r,
        )
        self.answers_broken = Counter(
            "guard_answers_broken_total",
            "Answers ended short after their headers went out, by reason.",
            ["reason"], registry=r,
        )
        self.stream_holdback = Histogram(
            "guard_stream_holdback_seconds",
            "How long streamed text was held back for classification before release.",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.stream_first_token_added = Histogram(
            "guard_stream_first_token_added_seconds",
            "Time to first token added by guard on streamed completions, buffered hold-back "
            "included.",
            buckets=LATENCY_BUCKETS, registry=r,
        )

        # policies
        self.policy_reloads = Counter(
            "guard_policy_reloads_total", "Policy reloads by result (ok, error).", ["result"],
            registry=r,
        )
        self.policy_info = Gauge(
            "guard_policy_info", "The policy set in force (version label): 1, and 0 for a version "
            "replaced since this process started.",
            ["version"], registry=r, multiprocess_mode="livemax",
        )
        self.policy_files_rejected = Gauge(
            "guard_policy_files_rejected", "1 while the policy files on disk are the ones the last "
            "reload rejected (a new process could not start on them); 0 after a good load.",
            registry=r, multiprocess_mode="livemax",
        )

        # kill switch
        self.killswitch_engaged = Gauge(
            "guard_killswitch_engaged", "Engaged kill switches by scope kind and mode.",
            ["scope", "mode"], registry=r, multiprocess_mode="livemax",
        )
        self.killswitch_stale = Gauge(
            "guard_killswitch_state_stale",
            "1 while the shared kill switch state cannot be refreshed, or its change announcements "
            "cannot be heard (last known state in force).",
            registry=r, multiprocess_mode="livemax",
        )
        self.killswitch_unsaved = Gauge(
            "guard_killswitch_unsaved",
            "Kill switches enforced but not saved to the state file (a full volume) or to Redis "
            "(an outage: engages, releases, approvals; kept held through a restart): a restart "
            "lifts those held on a full volume. Under --workers, the most one worker holds.",
            registry=r, multiprocess_mode="livemax",
        )
        self.killswitch_changes = Counter(
            "guard_killswitch_changes_total", "Kill switch changes by action and actor kind.",
            ["action", "actor"], registry=r,
        )
        self.admin_refusals = Counter(
            "guard_admin_auth_refusals_total",
            "Admin API calls refused for their token, by code (missing_admin_token, "
            "invalid_admin_token).", ["code"], registry=r,
        )
        self.killswitch_refusals = Counter(
            "guard_killswitch_refusals_total", "Requests stopped by a kill switch, by mode.",
            ["mode"], registry=r,
        )
        self.breaker_trips = Counter(
            "guard_breaker_trips_total", "Automatic breaker engagements by breaker name.",
            ["breaker"], registry=r,
        )

        # incidents
        self.incidents = Counter(
            "guard_incidents_total", "Incidents recorded.",
            ["category", "severity", "action", "mode"], registry=r,
        )
        self.incident_queue_depth = Gauge(
            "guard_incident_queue_depth", "Incidents waiting to be written to every sink.",
            registry=r, multiprocess_mode="livesum",
        )
        self.incident_spooled = Counter(
            "guard_incident_spooled_total", "Incidents spooled to disk because a sink was down.",
            ["sink"], registry=r,
        )
        self.incident_spool_waiting = Gauge(
            "guard_incident_spool_waiting",
            "Incidents in a sink's disk spool not yet replayed to it: above 0 while the sink is "
            "down (or its spool is being replayed).", ["sink"], registry=r,
            multiprocess_mode="livesum",
        )
        self.incident_dropped = Counter(
            "guard_incident_dropped_total", "Incidents lost. Must stay 0.", registry=r,
        )
        self.log_lines_dropped = Counter(
            "guard_log_lines_dropped_total",
            "Log lines dropped because stderr refused them (a full log volume, a closed pipe): "
            "the request or task that logged went on. The `log` incident sink's lines are not "
            "among them: they are spooled (guard_incident_spooled_total{sink=\"log\"}).",
            registry=r,
        )
        self.incident_journal_pruned = Counter(
            "guard_incident_journal_pruned_total",
            "Journal files deleted by retention, by the limit that deleted them (keep_days, "
            "keep_bytes).", ["reason"], registry=r,
        )

        # Series an alert or a panel computes `increase()` or `rate()` over exist from the start
        # at 0 where their labels are known then: a first failure then counts (a series that
        # first appears at 1 is no increase to Prometheus). Those whose labels come from the
        # settings are made where they are counted: kill switch changes and refusals
        # (killswitch/service.py), breaker trips (breaker.py), admin refusals (admin/auth.py).
        # Those labelled by traffic are counted through the tally, which holds a new series'
        # counts until a scrape has read it at 0 (`_cells`).
        # tests/integration/test_counters_at_start.py holds every counted counter to it.
        for result in ("ok", "error"):
            self.policy_reloads.labels(result)
        for sink in ("log", "journal", "redis"):
            self.incident_spooled.labels(sink)
            self.incident_spool_waiting.labels(sink)
        for reason in ("keep_days", "keep_bytes"):
            self.incident_journal_pruned.labels(reason)

        self._cells()

    def _cells(self) -> None:
        """The tally (tally.py) and its cells. The data path's per-request updates go through
        these cells, by key: (route, model label, status // 100); route (added wait, stream
        work); upstream name; (upstream name, status // 100). So do the counters whose labels
        traffic brings, by their label values, so that their new series are scraped at 0 before
        their first counts: (upstream name, error kind); decisions; incidents; a stream cut's
        rule; a broken answer's reason; (classifier, kind) of failures; a classifier failed
        open; (classifier, result) of cache look-ups and of gates."""
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.tally = Tally(self.inflight, Path(shared, SCRAPED) if shared else None)
        self.tally.follow(self.log_lines_dropped, lines_dropped)
        counts = self.tally.counts
        self.answered = counts(self.requests, _with_status_class)
        self.overhead_on = self.tally.observations(self.overhead, _alone)
        self.stream_work_on = self.tally.observations(self.stream_work, _alone)
        self.upstream_waited = self.tally.observations(self.upstream_seconds, _alone)
        self.upstream_answered = counts(self.upstream_responses, _with_status_class)
        self.upstream_failed = counts(self.upstream_responses, _as_is)
        self.decided = counts(self.decisions, _as_is)
        self.recorded = counts(self.incidents, _as_is)
        self.cut_by = counts(self.stream_cutoffs, _alone)
        self.broken_by = counts(self.answers_broken, _alone)
        self.classifier_failed = counts(self.classifier_errors, _as_is)
        self.failed_open = counts(self.classifier_fail_open, _alone)
        self.cache_looked_up = counts(self.classifier_cache, _as_is)
        self.gate_checked = counts(self.classifier_gated, _as_is)

    def exposition(self) -> bytes:
        """The body of a scrape (/metrics), every worker's with --workers. A counter's series
        new since the last scrape shows at 0, its counts held until after this one (tally.py)."""
        began = time.time_ns()
        self._scraping = True
        try:
            self.tally.flush(everything=False)  # --workers: the merged registry reads files
            body = generate_latest(exposition_registry(self.registry))
        finally:
            self._scraping = False
        self.tally.scraped(began)
        return body

    def _flush_tally(self) -> None:
        self.tally.flush(everything=not self._scraping)


def _alone(label: str) -> tuple[str]:
    return (label,)


def _as_is(labels: tuple[str, ...]) -> tuple[str, ...]:
    return labels


def _with_status_class(key: tuple[str | int, ...]) -> tuple[str, ...]:
    """(labels..., status // 100) as label values: (labels..., "2xx")."""
    *labels, status_class = key
    return (*map(str, labels), f"{status_class}xx")


class _BeforeRead(Collector):
    """A collector with no metrics of its own: runs `hook` whenever the registry is read."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self._hook = hook

    def collect(self) -> Iterable[Metric]:
        self._hook()
        return ()

    def describe(self) -> Iterable[Metric]:
        return ()


# In PROMETHEUS_MULTIPROC_DIR (which MultiProcessCollector reads `*.db` of): its mtime is when
# the last scrape began, for every worker (tally.py)
SCRAPED = "scraped"


def exposition_registry(default: CollectorRegistry) -> CollectorRegistry:
    """The registry `/metrics` serves: merged across workers in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return default
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return merged
