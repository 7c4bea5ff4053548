"""The latency SLO (99% of requests get at most 50 ms added by guard) on real traffic: a real
guard in front of the stand-in model, its /metrics scraped, and the shipped burn-rate alerts run
by promtool on what it exported.

From a probe: guard_overhead_seconds summed guard's work on every chunk of a stream (about
0.1 ms a chunk), so an ordinary answer of 1,500 one-word chunks counted 76 to 222 ms "added",
and with a fifth of requests streamed, both burn-rate alerts fired on healthy traffic. What a
stream's client waits for because of guard ends with its first text; the work on the chunks
after it is guard_stream_work_seconds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
import yaml

from tests.support import (
    PROMETHEUS_DIR,
    GuardServer,
    closed_after_test,
    guard_before_mock,
    mock_reply,
    promtool,
)

pytestmark = pytest.mark.timeout(120)

ROUTE = "/v1/chat/completions"
CHUNKS = 2000  # one word a chunk, as a model sends one token a chunk
SLOW_CHECK_S = 0.08  # the prompt check the webhook stand-in takes for a prompt saying "slow"
BURN_ALERTS = ("GuardLatencySLOBurnFast", "GuardLatencySLOBurnSlow")


class PromptChecks(BaseHTTPRequestHandler):
    """A webhook classifier finding nothing, at once, or after SLOW_CHECK_S for "slow" (a prompt
    or an answer: "slowly"); an answer's "forbidden" it finds."""

    def do_POST(self) -> None:
        body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any("slow" in segment["text"] for segment in body["segments"]):
            time.sleep(SLOW_CHECK_S)
        found = any("forbidden" in segment["text"] for segment in body["segments"])
        answer = orjson.dumps({"labels": ["forbidden"] if found else [],
                               "score": 1.0 if found else 0.0})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def checked_by_webhook(workdir: Path, policy: Callable[[str], dict[str, Any]]
                       ) -> Iterator[GuardServer]:
    """guard in front of the stand-in, with `policy(url)`: a policy whose webhook classifier
    is the PromptChecks stand-in at `url` (started, and stopped after)."""
    checks = ThreadingHTTPServer(("127.0.0.1", 0), PromptChecks)
    threading.Thread(target=checks.serve_forever, daemon=True).start()
    (workdir / "slo.yaml").write_text(yaml.safe_dump(policy(
        f"http://127.0.0.1:{checks.server_port}/check")))
    try:
        with guard_before_mock(workdir, workdir / "slo.yaml") as server:
            yield server
    finally:
        checks.shutdown()
        checks.server_close()


@pytest.fixture(scope="module", params=["optimistic", "buffered"])
def guard(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[GuardServer]:
    """guard in `request.param` streaming mode, its prompts checked by the webhook stand-in and
    its answers by a keyword rule (so every window of a stream is checked)."""
    with checked_by_webhook(tmp_path_factory.mktemp("slo"), lambda url: {
        "name": "slo", "version": "1",
        "classifiers": {
            "hook": {"type": "webhook", "url": url, "timeout_s": 5, "cache": False},
            "words": {"type": "keywords", "terms": ["forbidden"]}},
        "rules": [
            {"name": "hook", "stage": "prompt", "when": {"classifier": "hook"}, "action": "block"},
            {"name": "words", "stage": "completion", "when": {"classifier": "words"},
             "action": "block"}],
        "streaming": {"mode": request.param, "check_chars": 64, "max_holdback_ms": 250}},
    ) as server:
        yield server


def client(guard: GuardServer) -> openai.OpenAI:
    return closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                                           max_retries=0, timeout=60))


def scraped(guard: GuardServer) -> dict[str, float]:
    return {"count": guard.metric("guard_overhead_seconds_count", route=ROUTE),
            "within": guard.metric("guard_overhead_seconds_bucket", route=ROUTE, le="0.05"),
            "sum": guard.metric("guard_overhead_seconds_sum", route=ROUTE),
            "work_count": guard.metric("guard_stream_work_seconds_count", route=ROUTE),
            "work_sum": guard.metric("guard_stream_work_seconds_sum", route=ROUTE)}


def added(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


def burn_alerts_on(tmp_path: Path, requests: float, within: float,
                   firing: dict[str, str]) -> str:
    """promtool's run of the shipped alert rules on `requests` a minute of which `within` were
    within 50 ms, for 6 hours, expecting exactly the alerts `firing` (name: summary); its
    output, "" when it passed."""
    cases = [{"eval_time": "6h", "alertname": name,
              "exp_alerts": [{"exp_labels": {"severity": SEVERITY[name]},
                              "exp_annotations": {"summary": firing[name]}}]
              if name in firing else []} for name in BURN_ALERTS]
    series = f'{{route="{ROUTE}"}}'
    test = tmp_path / "slo_test.yml"
    test.write_text(yaml.safe_dump({
        "rule_files": [str(PROMETHEUS_DIR / "alerts.yml")], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "alert_rule_test": cases, "input_series": [
            {"series": f"guard_overhead_seconds_count{series}", "values": f"0+{requests:g}x400"},
            {"series": f'guard_overhead_seconds_bucket{series[:-1]}, le="0.05"}}',
             "values": f"0+{within:g}x400"}]}]}))
    done = promtool("test", "rules", str(test))
    return "" if done.returncode == 0 else done.stdout + done.stderr


SEVERITY = {"GuardLatencySLOBurnFast": "critical", "GuardLatencySLOBurnSlow": "warning"}


def test_long_healthy_streams_are_within_the_slo(guard: GuardServer, tmp_path: Path) -> None:
    """Answers of 2,000 one-word chunks: each stream's guard-added wait is within the SLO's
    50 ms (it ends with the first text), its work on the chunks is guard_stream_work_seconds,
    and the burn-rate alerts stay quiet on such traffic."""
    sdk = client(guard)
    list(sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "warm"}],
                                     stream=True))
    before = scraped(guard)
    for n in range(5):
        chunks = list(sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"tell me a long story {n}"}],
            stream=True, extra_headers=mock_reply("word ", **{"X-Mock-Reply-Repeat": str(CHUNKS)})))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
            "word " * CHUNKS)
    seen = added(before, scraped(guard))
    assert seen["count"] == seen["within"] == 5, seen
    assert seen["work_count"] == 5 and seen["work_sum"] > seen["sum"], seen
    assert burn_alerts_on(tmp_path, seen["count"], seen["within"], firing={}) == ""


def test_slow_prompt_checks_burn_the_slo(guard: GuardServer, tmp_path: Path) -> None:
    """Prompt checks taking 80 ms are guard's added wait, for whole answers and streams alike:
    every such request is over the SLO's bound, and both burn-rate alerts fire."""
    sdk = client(guard)
    before = scraped(guard)
    sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "slow one"}])
    list(sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "slow two"}],
                                     stream=True))
    seen = added(before, scraped(guard))
    assert seen["count"] == 2 and seen["within"] == 0, seen
    assert burn_alerts_on(tmp_path, seen["count"], seen["within"], firing={
        "GuardLatencySLOBurnFast": "guard latency SLO burning fast: 100% of requests over 50 ms",
        "GuardLatencySLOBurnSlow": "guard latency SLO burning: 100% of requests over 50 ms"}) == ""


@pytest.fixture(scope="module")
def checked_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """guard in buffered mode, its answers checked by the webhook stand-in (80 ms for
    "slowly")."""
    with checked_by_webhook(tmp_path_factory.mktemp("slo-answers"), lambda url: {
        "name": "answers", "version": "1",
        "classifiers": {"hook": {"type": "webhook", "url": url, "timeout_s": 5, "cache": False}},
        "rules": [{"name": "answer-hook", "stage": "completion",
                   "when": {"classifier": "hook"}, "action": "block"}],
        "streaming": {"mode": "buffered", "check_chars": 64, "max_holdback_ms": 250}},
    ) as server:
        yield server


def test_a_stream_cut_at_its_first_window_counts_the_check_that_cut_it(
        checked_answers: GuardServer) -> None:
    """From a probe: a stream whose first window an 80 ms answer check cut counted 0.3 ms of
    guard-added wait (only the time to its head: no text went out), though its client waited
    for the check; the cut's ending is what it waited for."""
    sdk = client(checked_answers)
    before = scraped(checked_answers)
    chunks = list(sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a story"}], stream=True,
        extra_headers=mock_reply("It went slowly and then forbidden things happened.")))
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""
    seen = added(before, scraped(checked_answers))
    assert seen["count"] == 1 and seen["sum"] >= SLOW_CHECK_S, seen
