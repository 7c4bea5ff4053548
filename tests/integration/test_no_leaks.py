"""Secrets never leak: canary credentials and personal data planted in prompts, completions,
headers and configuration never appear in a log line, an incident (journal or admin API), a metric
or an admin answer; with `incidents.excerpts: true` only redacted excerpts appear."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import GuardServer, MockUpstream, start_together

pytestmark = pytest.mark.timeout(90)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SECRET = "ghp_CanaryLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L"        # a GitHub token's shape: blocked
EMAIL = "canary.leak.7731@example.org"                        # personal data: flagged, redacted
CARD = "4111 1111 1111 1111"
PHONE = "+1 (415) 555-2671"  # flagged by the pii classifier only (no credential shape)
CLIENT_KEY = "sk-canary-client-key-5f4e3d2c1b0a99887766"      # the client's Authorization
HEADER = "canary-header-value-5521-zz"                         # a custom header's value
ADMIN_TOKEN = "canary-admin-token-9d8c7b6a5f4e3d2c"           # configuration: admin tokens
UPSTREAM_PASSWORD = "canaryUpstreamPass0042"                   # configuration: upstream URL
TOKEN = "9fK2mQ7xLp4Rt8Vz1Yb6Nc3W"   # a bearer token: sent with a zero-width space inside
SPLIT_KEY = "ghp_SplitCanary3dE5fG7hJ9kL1mN3pQ5rS7tU9v"  # sent in two messages
CANARIES = [SECRET, EMAIL, CLIENT_KEY, HEADER, ADMIN_TOKEN, UPSTREAM_PASSWORD, TOKEN, SPLIT_KEY,
            "CanaryLeak7Q3Z9X", "canary.leak.7731", "4111111111111111", CARD, PHONE]
HIDDEN = "\u200b"  # looked through when searching: a token with one inside reads as the token


def start(workdir: Path, excerpts: bool) -> tuple[MockUpstream, GuardServer]:
    mock = MockUpstream(workdir)
    guard = GuardServer(workdir, {
        "upstreams": {"default": {"url": mock.url}}, "policies": str(POLICIES),
        "incidents": {"excerpts": excerpts}, "log_level": "debug",
    }, env={"GUARD_ADMIN_TOKENS": f"alice:{ADMIN_TOKEN}"})
    start_together(mock, guard)
    return mock, guard


def drive(guard: GuardServer) -> dict[str, int]:
    """Blocks, flags, redactions and cuts, streamed and not, with the canaries everywhere."""
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "X-Canary": HEADER}

    def chat(prompt: str, reply: str | None = None, stream: bool = False) -> httpx.Response:
        extra = {"X-Mock-Reply": urllib.parse.quote(reply)} if reply else {}
        return httpx.post(f"{guard.url}/v1/chat/completions", timeout=20,
                          headers={**headers, **extra},
                          json={"model": "m", "stream": stream,
                                "messages": [{"role": "user", "content": prompt}]})

    statuses = {
        "secret_prompt": chat(f"my token is {SECRET} keep it").status_code,
        "pii_prompt": chat(f"mail me at {EMAIL}, card {CARD}").status_code,
        "secret_completion": chat("hi", f"here: {SECRET} done").status_code,
        "pii_completion": chat("hi", f"write to {EMAIL} today").status_code,
        "secret_stream": chat("hi", f"streamed {SECRET} end", stream=True).status_code,
        "pii_stream": chat("hi", f"streamed {EMAIL} end", stream=True).status_code,
        "secret_legacy": httpx.post(f"{guard.url}/v1/completions", headers=headers, timeout=20,
                                    json={"model": "m", "prompt": f"{SECRET}"}).status_code,
        # from a probe: only the first message's spans were masked in an excerpt
        "pii_after_system": httpx.post(f"{guard.url}/v1/chat/completions", headers=headers,
                                       timeout=20, json={"model": "m", "messages": [
                                           {"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": f"Call me at {PHONE}."}]},
                                       ).status_code,
        # from a probe: scrub read the raw text, and one invisible character hid a token from it
        "invisible_in_token": chat(f"Authorization: Bearer {TOKEN[:7]}{HIDDEN}{TOKEN[7:]} "
                                   f"mail {EMAIL}").status_code,
        # from a probe: a key in two messages left its first characters in the excerpt
        "split_key": httpx.post(f"{guard.url}/v1/chat/completions", headers=headers, timeout=20,
                                json={"model": "m", "messages": [
                                    {"role": "user", "content": f"my key is {SPLIT_KEY[:10]}"},
                                    {"role": "assistant", "content": "ok"},
                                    {"role": "user", "content": f"{SPLIT_KEY[10:]} thanks"}]},
                                ).status_code,
    }
    # the client's own answers: nothing blocked or redacted comes back either
    answer = chat("hi", f"write to {EMAIL} today").text + chat("hi", f"x {SECRET}", True).text
    assert EMAIL not in answer and SECRET not in answer
    return statuses


def everything_guard_says(guard: GuardServer, workdir: Path) -> dict[str, str]:
    """Every place guard writes or answers: logs, state files, metrics, each admin answer."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    places = {"log": guard.output(),
              "metrics": httpx.get(f"{guard.admin_url}/metrics").text}
    for path in ("/admin/incidents?limit=1000", "/admin/killswitch", "/admin/policies",
                 "/healthz", "/readyz"):
        places[path] = httpx.get(guard.admin_url + path, headers=admin).text
    places["reload"] = httpx.post(f"{guard.admin_url}/admin/policies/reload", headers=admin).text
    for path in sorted((workdir / "state").rglob("*")):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return places


@pytest.fixture(scope="module", params=[False, True], ids=["excerpts-off", "excerpts-on"])
def driven(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[GuardServer, dict[str, int], dict[str, str]]]:
    """A guard driven with every kind of planted canary, and everything it then says."""
    workdir = tmp_path_factory.mktemp("leaks")
    mock, guard = start(workdir, excerpts=request.param)
    try:
        statuses = drive(guard)
        deadline = time.monotonic() + 10  # the recorder writes in the background
        while time.monotonic() < deadline and httpx.get(
                f"{guard.admin_url}/admin/incidents?limit=1000",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text.count('"rule"') < 7:
            time.sleep(0.1)
        yield guard, statuses, everything_guard_says(guard, workdir)
    finally:
        guard.stop()
        mock.stop()


def test_the_policy_acted_on_the_canaries(
        driven: tuple[GuardServer, dict[str, int], dict[str, str]]) -> None:
    """The traffic blocked, flagged and redacted, and incidents were recorded (not a vacuous
    search)."""
    _, statuses, places = driven
    assert statuses["secret_prompt"] == 400 and statuses["secret_legacy"] == 400
    assert statuses["pii_prompt"] == 200
    journal = "".join(text for name, text in places.items() if "incidents" in name
                      and name.startswith("/") and not name.startswith("/admin"))
    assert journal.count('"rule"') >= 5 or places["/admin/incidents?limit=1000"].count(
        '"rule') >= 5
    assert "secrets" in places["/admin/incidents?limit=1000"]
    assert "pii-in-completion" in places["/admin/incidents?limit=1000"]


def test_no_canary_anywhere(driven: tuple[GuardServer, dict[str, int], dict[str, str]]) -> None:
    """No canary (credential, personal data, header value, configured secret) in any log line,
    incident, metric or admin answer."""
    _, _, places = driven
    seen = {place: text.replace(HIDDEN, "").replace("\\u200b", "") for place, text in places.items()}
    found = [(place, canary) for place, text in seen.items() for canary in CANARIES
             if canary in text or canary.lower() in text.lower()]
    assert found == []


def test_excerpts_are_redacted_when_enabled(
        driven: tuple[GuardServer, dict[str, int], dict[str, str]],
        request: pytest.FixtureRequest) -> None:
    """With excerpts on, incidents carry excerpts and they are masked; with them off, none."""
    _, _, places = driven
    incidents = places["/admin/incidents?limit=1000"]
    if "excerpts-on" in request.node.callspec.id:
        assert '"excerpt":"' in incidents.replace(" ", "")
        assert "REDACTED" in incidents or "[" in incidents
        assert "my key is [REDACTED:secret:github_token]\\nok\\n[REDACTED:secret:github_token]" \
            in incidents
    else:
        assert '"excerpt":"' not in incidents.replace(" ", "")


def test_credentials_in_an_upstream_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    """An upstream URL holding user:password is a configuration error (it would clash with the
    forwarded Authorization), and the error names the key but not the password."""
    url = f"http://canary:{UPSTREAM_PASSWORD}@127.0.0.1:1"
    guard = GuardServer(tmp_path, {"upstreams": {"default": {"url": url}}})
    with pytest.raises(RuntimeError) as failed:
        guard.start()
    guard.stop()
    assert "upstreams.default.url" in str(failed.value)
    assert UPSTREAM_PASSWORD not in str(failed.value)


WEBHOOK_POLICY = ("name: default\nversion: 1\nclassifiers:\n  hook: {type: webhook, "
                  "url: 'http://127.0.0.1:9/check'}\n"
                  "rules:\n  - {name: hook, stage: prompt, when: {classifier: hook}, "
                  "action: block}\n")


def hooked(tmp_path: Path) -> tuple[Path, MockUpstream, GuardServer]:
    """A policy directory whose one policy (WEBHOOK_POLICY) reads prompts with a webhook, and
    the stand-in and a guard (not started) serving it, ADMIN_TOKEN an admin's."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(WEBHOOK_POLICY)
    mock = MockUpstream(tmp_path)
    return policies, mock, GuardServer(tmp_path, {"upstreams": {"default": {"url": mock.url}},
                                                  "policies": str(policies)},
                                       env={"GUARD_ADMIN_TOKENS": f"alice:{ADMIN_TOKEN}"})


def test_a_policy_error_never_echoes_a_string_the_file_gave(tmp_path: Path) -> None:
    """From a probe: a classifier's `headers:` written as one string ("Authorization: Bearer …")
    was refused with the string, token included, in `policy check`, a reload's 422 answer and
    the reload-failure log line; guard.yaml's "expected a mapping" quoted its value too. Each
    now says what was wrong and how long the string was, never the string."""
    import subprocess
    import sys

    token = "StrTokCanary5521zzQ"
    policies, mock, guard = hooked(tmp_path)
    try:
        start_together(mock, guard)
        (policies / "default.yaml").write_text(WEBHOOK_POLICY.replace(
            "'http://127.0.0.1:9/check'}", f"'http://127.0.0.1:9/check', headers: "
            f"'Authorization: Bearer {token}'}}"))
        reload = httpx.post(f"{guard.admin_url}/admin/policies/reload",
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    finally:
        guard.stop()
        mock.stop()
    check = subprocess.run([sys.executable, "-m", "guard", "policy", "check", str(policies)],
                           capture_output=True, text=True, timeout=60, check=False)
    (tmp_path / "bad.yaml").write_text(f"upstreams:\n  default: 'Authorization: Bearer {token}'\n")
    config = subprocess.run([sys.executable, "-m", "guard", "serve", "-c",
                             str(tmp_path / "bad.yaml"), "--check"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert reload.status_code == 422 and check.returncode == 1 and config.returncode == 2
    said = {"reload": reload.text, "log": guard.output(), "check": check.stderr,
            "guard.yaml": config.stderr}
    length = len(f"Authorization: Bearer {token}")
    assert all(f"a string of {length} characters" in text for text in said.values()), said
    assert [place for place, text in said.items() if token in text] == []


def test_a_key_the_file_gave_is_never_echoed(tmp_path: Path) -> None:
    """From a re-probe: `headers: {"Authorization: Bearer <token>"}` (YAML reads it as a key)
    echoed the token in `policy check`, a reload's 422 and its log line, through the error's
    path or "header name '...' is not an HTTP token"; a token pasted as a key of guard.yaml
    echoed as "<token>: unknown key". Each key that does not read as a name is now shown as
    `<key of N characters>`, a bad header name by its index and length."""
    import subprocess
    import sys

    token = "sk-proj-KeyTokCanary5521zzQ8xY"
    policies, mock, guard = hooked(tmp_path)
    headers = {"set": f'{{"Authorization: Bearer {token}"}}',
               "empty": f'{{"Authorization: Bearer {token}": ""}}',
               "no colon": f"{{Authorization Bearer {token}: x}}"}
    said: dict[str, str] = {}
    try:
        start_together(mock, guard)
        for form, written in headers.items():
            (policies / "default.yaml").write_text(WEBHOOK_POLICY.replace(
                "'http://127.0.0.1:9/check'}", f"'http://127.0.0.1:9/check', headers: {written}}}"))
            reload = httpx.post(f"{guard.admin_url}/admin/policies/reload",
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
            assert reload.status_code == 422, reload.text
            check = subprocess.run([sys.executable, "-m", "guard", "policy", "check",
                                    str(policies)], capture_output=True, text=True, timeout=60,
                                   check=False)
            assert check.returncode == 1, check.stdout + check.stderr
            said |= {f"reload {form}": reload.text, f"check {form}": check.stderr}
    finally:
        guard.stop()
        mock.stop()
    said["log"] = guard.output()
    (tmp_path / "bad.yaml").write_text(f"{token}: 1\nupstreams:\n  default: {{url: "
                                       f"'http://127.0.0.1:9', {token}: 2}}\n")
    config = subprocess.run([sys.executable, "-m", "guard", "serve", "-c",
                             str(tmp_path / "bad.yaml"), "--check"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert config.returncode == 2
    said["guard.yaml"] = config.stderr
    shown = f"<key of {len(token)} characters>: unknown key"
    assert config.stderr.count(shown) == 2, config.stderr
    assert "classifiers.hook.headers.<key of" in said["check set"], said
    assert "header 0's name (" in said["check no colon"], said
    assert [place for place, text in said.items() if "KeyTokCanary" in text] == []
