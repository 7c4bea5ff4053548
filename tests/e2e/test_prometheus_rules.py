"""deploy/prometheus and deploy/grafana: promtool checks, alert unit tests, and the metric names
they use all exist in guard/observability/metrics.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from guard.observability.metrics import Metrics
from tests.support import PROMETHEUS_DIR, promtool

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "guard.json"
METRIC_NAME = re.compile(r"\bguard_[a-z_]+\b")
# docs/runbook.md's list: - `GuardX` (severity S, for 2m | at once): `EXPR`.
RUNBOOK_ALERT = re.compile(r"^- `(Guard\w+)` \(severity (\w+), (at once|for \w+)\): `([^`]+)`", re.M)
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
            "gauge": ("",), "info": ("_info",)}


def exported_series() -> dict[str, str]:
    """Every series name guard's Metrics can export → its family name."""
    names: dict[str, str] = {}
    for family in Metrics(CollectorRegistry()).registry.collect():
        for suffix in SUFFIXES[family.type]:
            names[family.name + suffix] = family.name
    return names


def dashboard_exprs(dashboard: dict[str, Any] | None = None) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets, variables and annotations."""
    dashboard = dashboard or json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", ())]
    exprs += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs.append(query["query"])
    return exprs


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_promtool_check_config() -> None:
    """prometheus.yml is a valid Prometheus configuration (with its rule file)."""
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_check_rules() -> None:
    """alerts.yml is valid."""
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_test_rules() -> None:
    """Every alert fires when it should and stays quiet when it should not (alerts_test.yml)."""
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_unit_test() -> None:
    """Each alert in alerts.yml is exercised by at least one promtool test case."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text())
    tested = {c["alertname"] for t in tests["tests"] for c in t.get("alert_rule_test", ())
              if c.get("exp_alerts")}
    assert alerts - tested == set()


def test_runbook_describes_the_shipped_alerts() -> None:
    """Each alert docs/runbook.md lists is in alerts.yml with the severity, `for` and expression
    it says (it once described rules of its own: stale for 1m paging, a breaker alert)."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    shipped = {r["alert"]: (r["labels"]["severity"], r.get("for", "at once"), r["expr"].strip())
               for g in rules["groups"] for r in g["rules"]}
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    listed = {name: (severity, when.removeprefix("for "), expr) for name, severity, when, expr
              in RUNBOOK_ALERT.findall(runbook)}
    assert listed and {name: shipped.get(name) for name in listed} == listed


def test_alerts_use_only_exported_metrics() -> None:
    """Every guard_* name in alerts.yml is a series guard exports."""
    used = {name for expr in alert_exprs() for name in METRIC_NAME.findall(expr)}
    assert used and used - set(exported_series()) == set()


def test_dashboard_uses_only_exported_metrics() -> None:
    """Every guard_* name in the dashboard is a series guard exports."""
    used = {name for expr in dashboard_exprs() for name in METRIC_NAME.findall(expr)}
    assert used and used - set(exported_series()) == set()


def test_dashboard_shows_every_metric() -> None:
    """Every metric family guard exports appears on the dashboard."""
    series = exported_series()
    shown = {series[n] for expr in dashboard_exprs() for n in METRIC_NAME.findall(expr)}
    assert set(series.values()) - shown == set()


def test_metric_reference_documents_every_metric() -> None:
    """The README's metric reference has an entry for every exported metric."""
    doc = (ROOT / "README.md").read_text()
    families = {}
    for name, family in exported_series().items():
        families.setdefault(family, []).append(name)
    missing = [f for f, names in families.items()
               if not any(f"`{n}`" in doc for n in [f, *names])]
    assert missing == []


def test_dashboard_is_well_formed() -> None:
    """Unique panel ids, every panel on the templated data source, the issue's panels present."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["datasource"]["uid"] == "${datasource}" and p["targets"] for p in panels)
    titles = " | ".join(p["title"].lower() for p in panels)
    for wanted in ("block rate", "redact rate", "flag rate", "guard-added latency",
                   "upstream latency", "classifier latency", "classifier errors", "fail-open",
                   "cut-off", "kill switch", "incident queue", "spooled", "dropped"):
        assert wanted in titles, wanted


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    """The provisioning files are valid YAML naming a Prometheus data source and a file provider."""
    base = ROOT / "deploy" / "grafana" / "provisioning"
    sources = yaml.safe_load((base / "datasources" / "guard.yaml").read_text())
    assert sources["datasources"][0]["type"] == "prometheus"
    providers = yaml.safe_load((base / "dashboards" / "guard.yaml").read_text())
    assert providers["providers"][0]["type"] == "file"
