"""What the metrics say before anything happened, and how their multi-process modes are set."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from guard.observability.metrics import Metrics


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
