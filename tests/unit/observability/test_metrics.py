"""What the metrics say before anything happened, and how their multi-process modes are set."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from guard.observability.metrics import Metrics, bounded_label


def test_series_alerts_take_increase_of_exist_at_zero_from_the_start() -> None:
    """Prometheus sees no increase in a series that first appears at 1: the first failed reload,
    or the first spooled batch, would not alert. So these series exist at 0 from the start."""
    metrics = Metrics(CollectorRegistry())
    read = metrics.registry.get_sample_value
    assert read("guard_policy_reloads_total", {"result": "error"}) == 0
    assert read("guard_policy_reloads_total", {"result": "ok"}) == 0
    for sink in ("log", "journal", "redis"):
        assert read("guard_incident_spooled_total", {"sink": sink}) == 0


def test_state_gauges_count_only_live_workers() -> None:
    """Under --workers, a dead worker's last value of a state gauge must not live on (an engaged
    switch released since, a stale flag, a replaced policy version)."""
    metrics = Metrics(CollectorRegistry())
    for gauge in (metrics.killswitch_engaged, metrics.killswitch_stale, metrics.policy_info):
        assert gauge._multiprocess_mode == "livemax"


def test_model_label_keeps_64_names_then_folds_the_rest_to_other() -> None:
    """The model label (and so the request counter's cells, one per label set) stays bounded:
    the first 64 names as given, then `other`; no name is `none`, a name over 128 is `other`."""
    label = bounded_label()
    assert [label(f"m{i}") for i in range(64)] == [f"m{i}" for i in range(64)]
    assert (label("m64"), label("m0"), label(""), label(None)) == ("other", "m0", "none", "none")
    assert bounded_label()("x" * 129) == "other"
    metrics = Metrics(CollectorRegistry())
    for i in range(200):
        metrics.answered["/v1/chat/completions", metrics.model_label(f"m{i}"), 2].pending += 1
    assert len(metrics.answered) == 65
    assert metrics.registry.get_sample_value(
        "guard_requests_total", {"route": "/v1/chat/completions", "model": "other",
                                 "status_class": "2xx"}) == 136


def test_no_created_series_are_exported() -> None:
    """From a probe: /metrics had 17 `*_created` families that no alert, dashboard or document
    uses (and the merged multi-worker /metrics lacked); none are exported."""
    metrics = Metrics(CollectorRegistry())
    metrics.policy_reloads.labels("ok").inc()
    text = generate_latest(metrics.registry).decode()
    assert "guard_policy_reloads_total" in text and "_bucket" in text
    assert [line for line in text.splitlines() if "_created" in line] == []
