"""values.schema.json and the chart's cross-value rules refuse what would deploy something broken."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from guard.chart_schema import CHART_MANAGED, config_schema
from guard.incidents.budget import state_budget
from guard.incidents.settings import IncidentSettings

CHART = Path(__file__).resolve().parents[2] / "helm" / "guard"


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    helm.disable_logging()
    with helm.Chart.load(CHART) as loaded:
        yield loaded


SCHEMA_REJECTS = [
    ({"replicaCount": 0}, "/replicaCount"),
    ({"replicaCount": "3"}, "/replicaCount"),
    ({"mode": "daemonset"}, "/mode"),
    ({"replicas": 3}, "additional properties 'replicas'"),
    ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    ({"image": {"digest": "latest"}}, "/image/digest"),
    ({"ports": {"data": 70000}}, "/ports/data"),
    ({"workers": 0}, "/workers"),
    ({"config": {"listen": "0.0.0.0:8000"}}, "/config/listen"),
    ({"config": {"redis_url": "redis://r:6379"}}, "/config/redis_url"),
    # null deletes a default in Helm: guard needs a `default` upstream.
    ({"config": {"upstreams": {"default": None}}}, "/config/upstreams"),
    ({"config": {"upstreams": {"default": {"url": "vllm:8000"}}}}, "/config/upstreams/default/url"),
    ({"config": {"log_level": "verbose"}}, "/config/log_level"),
    # guard.yaml typos: `guard serve` would exit 2 at start on each of them
    ({"config": {"log_levle": "info"}}, "additional properties 'log_levle'"),
    ({"config": {"killswitch": {"release_approval": 2}}}, "additional properties 'release_approval'"),
    ({"config": {"killswitch": {"release_approvals": 3}}}, "/config/killswitch/release_approvals"),
    ({"config": {"upstreams": {"default": {"url": "http://m:8000", "timeout": 5}}}},
     "additional properties 'timeout'"),
    ({"config": {"limits": {"max_prompt_chars": 10}}}, "/config/limits/max_prompt_chars"),
    ({"config": {"incidents": {"exerpts": True}}}, "additional properties 'exerpts'"),
    ({"redis": {"url": "http://redis:6379"}}, "/redis/url"),
    # a URL with a password would sit in the Deployment's env, readable by all who read it
    ({"redis": {"url": "redis://:hunter2@redis:6379/0"}}, "/redis/url"),
    ({"redis": {"url": "rediss://guard:hunter2@redis:6379/0"}}, "/redis/url"),
    ({"redis": {"url": "redis://redis:6379/0?password=hunter2"}}, "/redis/url"),
    ({"adminTokens": {"tokens": {"alice": "short"}}}, "/adminTokens/tokens/alice"),
    ({"adminTokens": {"tokens": {"alice": "has,comma-and-is-long-enough"}}},
     "/adminTokens/tokens/alice"),
    ({"policies": {"files": {"default.txt": "name: x"}}}, "'default.txt' does not match"),
    ({"resources": {"requests": {"cpu": "lots"}}}, "/resources/requests/cpu"),
    ({"autoscaling": {"targetCPUUtilizationPercentage": 150}},
     "/autoscaling/targetCPUUtilizationPercentage"),
    ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "/metrics/serviceMonitor/interval"),
    ({"networkPolicy": {"admin": {"from": "everyone"}}}, "/networkPolicy/admin/from"),
    ({"sidecar": {"listenHost": "10.0.0.1"}}, "/sidecar/listenHost"),
    ({"stateVolume": {"persistence": {"size": "big"}}}, "/stateVolume/persistence/size"),
    ({"stateVolume": {"persistence": {"enable": True}}}, "additional properties 'enable'"),
]


@pytest.mark.parametrize(("values", "where"), SCHEMA_REJECTS)
def test_schema_rejects_bad_values(chart: helm.Chart, values: dict[str, Any], where: str) -> None:
    """Each bad value fails validation, and the message names where the problem is."""
    with pytest.raises(helm.HelmValuesError) as caught:
        chart.validate_schema(values)
    assert where in str(caught.value)
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name="guard", namespace="guard")


def test_config_schema_is_guards_settings() -> None:
    """The chart's schema for `config:` is made from guard's Settings: a setting added to guard
    is known to the chart (else: `python -m guard.chart_schema`)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["properties"]["config"] == config_schema(), \
        "the chart's config schema is not guard's Settings: run python -m guard.chart_schema"


def test_schema_accepts_every_guard_setting(chart: helm.Chart) -> None:
    """Every key of guard.example.yaml that the chart does not manage passes the schema."""
    example = yaml.safe_load((CHART.parents[1] / "guard.example.yaml").read_text())
    config = {key: value for key, value in example.items() if key not in CHART_MANAGED}
    config["killswitch"]["breakers"] = [{"name": "b", "label": "secrets", "threshold": 3,
                                         "window_s": 60, "duration_s": 600}]
    chart.validate_schema({"config": config})
    chart.validate_schema({"redis": {"url": "rediss://redis.redis.svc:6380/2"}})


def test_schema_accepts_every_ci_scenario(chart: helm.Chart) -> None:
    """The shipped defaults and every helm/guard/ci scenario pass the schema."""
    chart.validate_schema({})
    for path in sorted((CHART / "ci").glob("*-values.yaml")):
        chart.validate_schema(yaml.safe_load(path.read_text()) or {})


TEMPLATE_REJECTS = [
    ({"replicaCount": 3}, "more than one replica needs redis"),
    ({"autoscaling": {"enabled": True}}, "more than one replica needs redis"),
    ({"redis": {"url": "redis://r:6379", "existingSecret": "s"}}, "either url or existingSecret"),
    ({"redis": {"url": "redis://r:6379"}, "autoscaling": {"enabled": True, "minReplicas": 5,
                                                          "maxReplicas": 2}},
     "minReplicas must not exceed maxReplicas"),
    ({"ports": {"data": 9000, "admin": 9000}}, "data and admin must differ"),
    ({"mode": "sidecar", "metrics": {"serviceMonitor": {"enabled": True}}},
     "belong to the application's chart"),
    ({"policies": {"builtin": False}}, "no policy files"),
    ({"stateVolume": {"persistence": {"enabled": True}}, "replicaCount": 2,
      "redis": {"url": "redis://r:6379/0"}}, "cannot hold the state of several replicas"),
    ({"stateVolume": {"persistence": {"enabled": True}}, "mode": "sidecar"},
     "application's chart owns the pod's volumes"),
    ({"metrics": {"prometheusRule": {"enabled": True}}, "policies": {"builtin": True}}, None),
    # journal + spools + open journal files past the volume: full, then evicted (emptyDir)
    ({"workers": 4, "redis": {"url": "redis://r:6379/0"}},
     "stateVolume.sizeLimit 1Gi .* cannot hold what guard may write to it, 1152 MiB"),
    ({"stateVolume": {"persistence": {"enabled": True, "size": "512Mi"}}},
     "stateVolume.persistence.size 512Mi .* cannot hold"),
    ({"config": {"incidents": {"spool_max_bytes": 1073741824}}}, "cannot hold"),
]


@pytest.mark.parametrize(("values", "message"), TEMPLATE_REJECTS)
def test_templates_refuse_broken_combinations(chart: helm.Chart, values: dict[str, Any],
                                              message: str | None) -> None:
    """Combinations each valid alone but broken together stop the render with a clear reason."""
    if message is None:  # the control case: a valid combination renders
        assert chart.render(values, name="guard", namespace="guard")
        return
    with pytest.raises(helm.HelmRenderError, match=message):
        chart.render(values, name="guard", namespace="guard")


def test_replicas_with_redis_render(chart: helm.Chart) -> None:
    """Three replicas are fine once Redis holds the shared state."""
    rendered = chart.render({"replicaCount": 3, "redis": {"url": "redis://r:6379/0"}},
                            name="guard", namespace="guard")
    assert "replicas: 3" in rendered["guard/templates/deployment.yaml"]


def test_grace_period_covers_drain_and_grace(chart: helm.Chart) -> None:
    """The pod's termination grace period leaves room for the drain, the in-flight grace, and 5 s."""
    rendered = chart.render({"config": {"shutdown_grace_s": 20, "shutdown_drain_s": 7}},
                            name="guard", namespace="guard")
    deployment = yaml.safe_load(rendered["guard/templates/deployment.yaml"])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 32
    config = yaml.safe_load(rendered["guard/templates/configmap.yaml"])
    assert yaml.safe_load(config["data"]["guard.yaml"])["shutdown_drain_s"] == 7


QUANTITY_SCALES = {"": 1, "m": 0.001, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_bytes(quantity: str | int) -> int:
    number, suffix = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(quantity)).groups()  # type: ignore[union-attr]
    return int(float(number) * QUANTITY_SCALES[suffix])


def rendered_incidents(rendered: dict[str, str]) -> dict[str, Any]:
    config = yaml.safe_load(rendered["guard/templates/configmap.yaml"])
    return dict(yaml.safe_load(config["data"]["guard.yaml"]).get("incidents", {}))


STATE_VOLUMES = [{"sizeLimit": "1Gi"}, {"sizeLimit": "700Mi"}, {"sizeLimit": "1.5Gi"},
                 {"sizeLimit": 1073741824}, {"sizeLimit": "2G"},
                 {"persistence": {"enabled": True, "size": "1Gi"}}]


@pytest.mark.parametrize("volume", STATE_VOLUMES)
def test_the_state_volume_holds_what_guard_may_write(chart: helm.Chart,
                                                     volume: dict[str, Any]) -> None:
    """From a review: guard's default spool limit (1 GiB per sink) alone exceeded the chart's
    1Gi state volume. The chart renders exactly when journal_keep_bytes, the open journal file
    and the spools of every sink and worker, and the kill switch state fit the volume, counted
    as guard.incidents.budget counts them; the shipped defaults fit with up to 3 workers."""
    size = quantity_bytes(volume.get("persistence", {}).get("size") or volume["sizeLimit"])
    incidents = yaml.safe_load((CHART / "values.yaml").read_text())["config"]["incidents"]
    fits = []
    for workers in (1, 2, 3, 4):
        for redis in ({}, {"url": "redis://r:6379/0"}):
            needs = state_budget(IncidentSettings(**incidents), processes=workers,
                                 redis=bool(redis)).bounded
            values = {"workers": workers, "redis": redis, "stateVolume": volume}
            if needs > size:
                with pytest.raises(helm.HelmRenderError, match="cannot hold what guard may write"):
                    chart.render(values, name="guard", namespace="guard")
            else:
                rendered = chart.render(values, name="guard", namespace="guard")
                assert rendered_incidents(rendered) == incidents
            fits.append(needs <= size)
    if volume == {"sizeLimit": "1Gi"}:  # the shipped volume: the defaults fit up to 3 workers
        assert fits == [True] * 6 + [False] * 2
