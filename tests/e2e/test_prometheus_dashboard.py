"""End to end: a real Prometheus scrapes a running `guard serve` (in front of `guard
mock-upstream`, with Redis), traffic exercises every decision, and then every dashboard panel
query returns data and every alert rule evaluates cleanly against it."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openai import APIError, BadRequestError, OpenAI

from tests.support import (
    GuardServer,
    MockUpstream,
    RedisServer,
    closed_after_test,
    free_port,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "guard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ADMIN_TOKEN = "e2e-admin-token-0123456789"
SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
# How panel placeholders are filled when a test evaluates a query (Grafana fills them itself).
PLACEHOLDERS = {"$__rate_interval": "1m", "$__range": "5m", "$model": ".*"}

POLICY = {
    "name": "default", "version": "1",
    "classifiers": {
        "secrets": {"type": "secrets"},
        "pii": {"type": "pii", "entities": ["email"]},
        "fruit": {"type": "keywords", "terms": ["banana"]},
        "cherry": {"type": "keywords", "terms": ["cherry"]},
        # asked only when `fruit` fired: run on "a banana please", skipped elsewhere
        "ripe": {"type": "keywords", "terms": ["ripe"], "gate": {"classifier": "fruit", "min_score": 0.5}},
        "hook": {"type": "webhook", "url": "http://127.0.0.1:{dead}/classify", "timeout_s": 0.5,
                 "on_error": "fail_open"},
    },
    "rules": [
        {"name": "secrets", "stage": "both", "when": {"classifier": "secrets"},
         "action": "block", "severity": "critical", "category": "secrets"},
        {"name": "pii", "stage": "both", "when": {"classifier": "pii"}, "action": "redact",
         "severity": "medium", "category": "pii"},
        {"name": "fruit", "stage": "prompt", "when": {"classifier": "fruit"}, "action": "flag",
         "severity": "low", "category": "fruit"},
        {"name": "cherry-trial", "stage": "prompt", "when": {"classifier": "cherry"},
         "action": "block", "mode": "shadow", "category": "trial"},
        {"name": "hook", "stage": "prompt", "when": {"classifier": "hook"}, "action": "flag"},
        {"name": "ripe", "stage": "prompt", "when": {"classifier": "ripe"}, "action": "flag"},
    ],
}


class Prometheus:
    """A real Prometheus server scraping one target every second, with guard's alert rules."""

    def __init__(self, workdir: Path, target: str) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is not installed; `make test` installs it")
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(ALERTS, workdir / "alerts.yml")
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": ["alerts.yml"],
                  "scrape_configs": [{"job_name": "guard",
                                      "static_configs": [{"targets": [target]}]}]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = (workdir / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=30)

    def api(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.load(answer)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


@pytest.fixture
def stack(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[GuardServer, Prometheus]]:
    upstream = MockUpstream(tmp_path)
    policies = tmp_path / "policies"
    policies.mkdir()
    policy = json.loads(json.dumps(POLICY).replace("{dead}", str(free_port())))
    (policies / "default.yaml").write_text(yaml.safe_dump(policy))
    config = {
        "upstreams": {"default": {"url": upstream.url},
                      "dead": {"url": f"http://127.0.0.1:{free_port()}",
                               "connect_timeout_s": 1}},
        "routes": {"dead-*": "dead"},
        "policies": str(policies), "redis_url": redis_server.url,
        "incidents": {"fsync_interval_ms": 20, "retry_interval_ms": 100, "retry_max_ms": 200},
        "killswitch": {"resync_interval_s": 0.5, "breakers": [
            {"name": "fruit-storm", "action": "flag", "model": "tripwire", "threshold": 3,
             "window_s": 60, "scope": "model:{model}", "mode": "refuse", "duration_s": 600}]},
    }
    guard = GuardServer(tmp_path, config, env={"GUARD_ADMIN_TOKENS": f"alice:{ADMIN_TOKEN}"})
    with scraped(tmp_path, upstream, guard) as prometheus:
        yield guard, prometheus


@contextlib.contextmanager
def scraped(tmp_path: Path, upstream: MockUpstream, guard: GuardServer) -> Iterator[Prometheus]:
    """The stand-in model, guard in front of it and a Prometheus scraping guard, started (and
    stopped after) in that order."""
    with contextlib.ExitStack() as stack:
        stack.callback(upstream.stop)
        upstream.start()
        stack.callback(guard.stop)
        guard.start()
        prometheus = Prometheus(tmp_path / "prometheus", f"127.0.0.1:{guard.admin_port}")
        stack.callback(prometheus.stop)
        yield prometheus


def admin(guard: GuardServer, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    request = urllib.request.Request(f"{guard.admin_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def chat(client: OpenAI, text: str, model: str = "gpt-e2e", reply: str | None = None,
         stream: bool = False, tenant: str = "acme", fail: str | None = None) -> Any:
    headers = {"X-Guard-Tenant": tenant}
    if reply is not None:
        headers["X-Mock-Reply"] = urllib.parse.quote(reply)
    if fail is not None:
        headers["X-Mock-Fail"] = fail
    messages = [{"role": "user", "content": text}]
    if stream:
        chunks = client.chat.completions.create(model=model, messages=messages,  # type: ignore[call-overload]
                                                stream=True, extra_headers=headers)
        return list(chunks)
    return client.chat.completions.with_raw_response.create(  # type: ignore[call-overload]
        model=model, messages=messages, extra_headers=headers)


def send_traffic(guard: GuardServer, redis: RedisServer, policies: Path) -> str:
    """Traffic for every decision, stream cut-offs, kill switches, a reload error, an outage;
    returns the id of the incident recorded while Redis was down."""
    client = closed_after_test(OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0))
    for _ in range(3):
        assert chat(client, "hello there").headers["X-Guard-Decision"] in ("allow", "flag")
        chat(client, "tell me a story", stream=True)
    with pytest.raises(BadRequestError):
        chat(client, f"my token is {SECRET}")
    assert chat(client, "write to bob@example.com").headers["X-Guard-Decision"] == "redact"
    assert chat(client, "x", reply="mail carol@example.com").headers[
        "X-Guard-Decision"] == "redact"
    assert chat(client, "a banana please").headers["X-Guard-Decision"] == "flag"
    chat(client, "a cherry please")  # shadow: recorded, not enforced
    chat(client, "leak it", reply="here: " + SECRET + " and more words " * 20, stream=True)
    with pytest.raises(APIError):  # broken off half-way: an error event, counted
        chat(client, "tell me more", stream=True, fail="midstream")
    refused = urllib.request.Request(f"{guard.admin_url}/admin/killswitch",
                                     headers={"Authorization": "Bearer not-a-token"})
    with pytest.raises(urllib.error.HTTPError):  # a refused admin call: counted
        urllib.request.urlopen(refused, timeout=10)
    with pytest.raises(Exception):  # noqa: B017 (the SDK's error class for a 502 varies)
        chat(client, "hi", model="dead-model")
    for _ in range(4):  # the breaker trips on the third flag for model tripwire
        chat(client, "banana", model="tripwire")
    assert admin(guard, "POST", "/admin/killswitch",
                 {"scope": "tenant:evil", "mode": "block", "reason": "e2e"}) == 201
    with pytest.raises(Exception):  # noqa: B017 (503 kill switch)
        chat(client, "hello", tenant="evil")
    broken = policies / "broken.yaml"
    broken.write_text("name: [")
    assert admin(guard, "POST", "/admin/policies/reload") >= 400
    broken.unlink()
    assert admin(guard, "POST", "/admin/policies/reload") == 200
    redis.stop()  # incidents made now are spooled, and replayed once Redis is back
    with pytest.raises(BadRequestError) as blocked:
        chat(client, f"again {SECRET}")
    time.sleep(1.5)
    redis.start()
    body: Any = blocked.value.body
    return str(body["guard"]["incident_id"])


def panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            expr = target["expr"]
            for placeholder, value in PLACEHOLDERS.items():
                expr = expr.replace(placeholder, value)
            queries.append((f"{panel['title']} [{target['refId']}]", expr))
    return queries


def test_every_panel_query_returns_data(stack: tuple[GuardServer, Prometheus],
                                        redis_server: RedisServer, tmp_path: Path) -> None:
    """After real traffic, each dashboard query returns data and every alert rule is healthy."""
    guard, prometheus = stack
    during_outage = send_traffic(guard, redis_server, tmp_path / "policies")
    queries = panel_queries()
    deadline = time.monotonic() + 30
    empty = queries
    while time.monotonic() < deadline:
        empty = [(title, expr) for title, expr in queries if not prometheus.query(expr)]
        if not empty:
            break
        time.sleep(1)
    assert empty == [], "\n".join(f"{t}: {e}" for t, e in empty)
    groups = prometheus.api("rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    shipped = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    assert len(rules) == len(shipped) >= 13 and all(r["health"] == "ok" for r in rules), rules
    firing = {r["name"] for r in rules if r["state"] != "inactive"}
    assert "GuardKillSwitchEngaged" in firing
    assert "GuardIncidentsDropped" not in firing
    assert prometheus.query("sum(guard_incident_dropped_total)")[0]["value"][1] == "0"
    # the incident made while Redis was down reached the stream once Redis was back, once
    request = urllib.request.Request(f"{guard.admin_url}/admin/incidents?rule=secrets",
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        listing = json.load(answer)
    assert listing["source"] == "redis"
    assert [i["id"] for i in listing["incidents"]].count(during_outage) == 1


def test_incidents_lost_at_the_last_shutdown_fire_the_alert_and_show(tmp_path: Path) -> None:
    """From a probe: a process counts the incidents lost at the last shutdown at its start, so
    its first scrape reads 7; `increase()` of a series that first appears at 7 is 0, and
    GuardIncidentsDropped and the "Incidents dropped" panel stayed silent on every new pod. (The
    count file is written by hand here; tests/integration/incidents/test_lost_at_shutdown.py
    makes it with a real full volume.)"""
    lost = tmp_path / "state" / "incidents" / "lost"
    lost.mkdir(parents=True)
    (lost / f"{time.time_ns():020d}-4242.count").write_text("7")
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": f"http://127.0.0.1:{free_port()}"}}})
    with contextlib.ExitStack() as stack:
        stack.callback(guard.stop)
        guard.start()
        prometheus = Prometheus(tmp_path / "prometheus", f"127.0.0.1:{guard.admin_port}")
        stack.callback(prometheus.stop)
        (panel,) = [expr for title, expr in panel_queries() if title.startswith("Incidents dropped")]
        deadline = time.monotonic() + 30
        firing: list[dict[str, Any]] = []
        shown: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not (firing and shown):
            time.sleep(1)
            firing = [a for a in prometheus.api("alerts")["alerts"]
                      if a["labels"]["alertname"] == "GuardIncidentsDropped"]
            shown = prometheus.query(panel)
        assert [a["annotations"]["summary"] for a in firing] == ["guard lost 7 incidents"]
        assert [r["value"][1] for r in shown] == ["7"]
