"""Every counter the dashboard or an alert takes `increase()` or `rate()` of is on a real guard's
/metrics at 0 right after start, in each label set knowable then: Prometheus sees no increase in a
series that first appears at 1, so a process's first kill switch engage, breaker trip or refused
admin call would read 0 on the dashboard (a probe saw engage 0 / release 0 / trip 0 for 1 each)."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from guard.observability.metrics import Metrics
from tests.e2e.test_prometheus_rules import alert_exprs, dashboard_exprs
from tests.support import GuardServer, free_port

COUNTED = re.compile(r"\b(?:increase|rate)\((guard_\w+_total)\b")

# Counters whose series are known at start: each label set the panels and alerts read.
KNOWN_AT_START: dict[str, list[dict[str, str]]] = {
    "guard_killswitch_changes_total": [
        {"action": "engage", "actor": "admin"}, {"action": "release", "actor": "admin"},
        {"action": "expire", "actor": "ttl"}, {"action": "engage", "actor": "breaker"},
        {"action": "release_requested", "actor": "admin"}],
    "guard_breaker_trips_total": [{"breaker": "burst"}, {"breaker": "storm"}],
    "guard_admin_auth_refusals_total": [{"code": "missing_admin_token"},
                                        {"code": "invalid_admin_token"}],
    "guard_killswitch_refusals_total": [{"mode": "block"}, {"mode": "refuse"}],
    "guard_policy_reloads_total": [{"result": "ok"}, {"result": "error"}],
    "guard_incident_spooled_total": [{"sink": s} for s in ("log", "journal", "redis")],
    "guard_incident_journal_pruned_total": [{"reason": "keep_days"}, {"reason": "keep_bytes"}],
    "guard_classifier_cache_errors_total": [{"op": "read"}, {"op": "write"}],
    "guard_incident_dropped_total": [{}],
    "guard_log_lines_dropped_total": [{}],
}
# Counters with a label only traffic (or the policy set a reload brings) gives values to: each new
# series is made at 0 and its counts held until a scrape has read it
# (tests/e2e/test_prometheus_first_count.py).
LABELLED_BY_TRAFFIC: dict[str, str] = {
    "guard_requests_total": "model",
    "guard_decisions_total": "model",
    "guard_incidents_total": "category",
    "guard_upstream_responses_total": "status_class",
    "guard_answers_broken_total": "reason",
    "guard_stream_cutoffs_total": "rule",
    "guard_classifier_errors_total": "classifier",
    "guard_classifier_fail_open_total": "classifier",
    "guard_classifier_cache_total": "classifier",
    "guard_classifier_gated_total": "classifier",
}


def test_every_counted_counter_is_classified() -> None:
    """A counter new to a panel or an alert is either made at 0 at start (and listed above) or
    has a label only traffic knows: no third kind slips through."""
    counted = {name for expr in [*dashboard_exprs(), *alert_exprs()]
               for name in COUNTED.findall(expr)}
    assert counted == set(KNOWN_AT_START) | set(LABELLED_BY_TRAFFIC)
    assert not set(KNOWN_AT_START) & set(LABELLED_BY_TRAFFIC)
    labels = {f"{c._name}_total": c._labelnames for c in vars(Metrics(CollectorRegistry())).values()
              if isinstance(c, Counter)}
    assert {name: label for name, label in LABELLED_BY_TRAFFIC.items()
            if label not in labels[name]} == {}


@pytest.mark.parametrize("workers", [1, 2])
def test_counters_are_at_zero_right_after_start(tmp_path: Path, workers: int) -> None:
    """A guard just started (alone, or as a group of workers) exports every knowable series of
    every counter the dashboard and alerts count, at 0."""
    breaker = {"action": "flag", "threshold": 3, "window_s": 60, "scope": "model:{model}",
               "mode": "refuse", "duration_s": 60}
    guard = GuardServer(tmp_path, {
        "upstreams": {"default": {"url": f"http://127.0.0.1:{free_port()}"}},
        "killswitch": {"release_approvals": 2, "breakers": [
            {"name": "burst", **breaker}, {"name": "storm", **breaker}]},
    }, *(["--workers", str(workers)] if workers > 1 else []),
        env={"GUARD_ADMIN_TOKENS": "alice:start-token-0123456789"})
    guard.start()
    try:
        with urllib.request.urlopen(f"{guard.admin_url}/metrics", timeout=10) as answer:
            families = list(text_string_to_metric_families(answer.read().decode()))
    finally:
        guard.stop()
    series = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in families for s in family.samples}
    missing = [(name, labels) for name, sets in KNOWN_AT_START.items() for labels in sets
               if series.get((name, tuple(sorted(labels.items())))) != 0]
    assert missing == []
