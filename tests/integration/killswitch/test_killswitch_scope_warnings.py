"""What the kill switch tells the on-call and the audit trail: a real `guard serve` sharing its
switches through a real redis-server, driven by `guard killswitch`."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import GuardServer, guard_before_mock, running_redis

TOKEN = "tok-alice-123456"


@contextlib.contextmanager
def sharing_switches(workdir: Path) -> Iterator[GuardServer]:
    """guard in front of the stand-in model, its switches shared through a redis-server."""
    with running_redis(workdir / "redis") as redis, guard_before_mock(
            workdir, None, env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"},
            redis_url=redis.url) as server:
        yield server


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[GuardServer]:
    """A guard of the test's own, for a test that engages switches."""
    with sharing_switches(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    """One guard for the tests of scopes that are refused: a refusal changes nothing, and each
    of them ends by checking that no switch is engaged (started for each, they took ~2 s each)."""
    with sharing_switches(tmp_path_factory.mktemp("refusing")) as server:
        yield server


def cli(guard: GuardServer, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "guard", "killswitch", *args, "--admin-url", guard.admin_url],
        env={**os.environ, "GUARD_ADMIN_TOKEN": TOKEN}, capture_output=True,
        text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def engage_api(guard: GuardServer, scope: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{guard.admin_url}/admin/killswitch", method="POST",
        data=json.dumps({"scope": scope, "reason": "INC-7"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def chat_status(guard: GuardServer, model: str, tenant: str | None = None) -> int:
    request = urllib.request.Request(
        f"{guard.url}/v1/chat/completions", headers={
            "Content-Type": "application/json", **({"X-Guard-Tenant": tenant} if tenant else {})},
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("scope, named", [
    ("model:gpt-\u200b4o", "U+200B ZERO WIDTH SPACE"),
    ("model:gpt-4o\u00a0", "U+00A0 NO-BREAK SPACE"),
    ("tenant:acme\u2060", "U+2060 WORD JOINER"),
    ("route:/v1/chat/\u200dcompletions", "U+200D ZERO WIDTH JOINER"),
])
def test_an_invisible_character_in_a_scope_is_refused_naming_it(
        refusing: GuardServer, scope: str, named: str) -> None:
    """A scope pasted with an invisible character (which no request's model or tenant may hold:
    the data plane refuses it with 400) had engaged (201, exit 0) and stopped nothing."""
    code, out, err = cli(refusing, "engage", "--scope", scope, "--reason", "INC-7")
    assert code == 1 and out == "" and "HTTP 400" in err and named in err, (code, out, err)
    assert "could stop no request" in err
    status, body = engage_api(refusing, scope)
    assert status == 400 and body["error"]["code"] == "invalid_killswitch"
    assert cli(refusing, "status")[1].strip() == "no kill switch engaged"


@pytest.mark.parametrize("scope, said", [
    ("tenant:acme,globex", "more than one tenant"),
    ("tenant: acme", "never starts or ends with a space or tab"),
    ("tenant:acme ", "never starts or ends with a space or tab"),
])
def test_a_tenant_scope_the_data_plane_would_refuse_is_refused(
        refusing: GuardServer, scope: str, said: str) -> None:
    """`tenant:a,b`: the data plane refuses a tenant header holding a comma (400), so such a
    switch could stop nothing. `tenant: acme` (a space typed after the colon) had engaged (201)
    and stopped nothing: HTTP trims a header value's ends, so no request names ` acme`."""
    status, body = engage_api(refusing, scope)
    assert status == 400 and said in body["error"]["message"], body
    assert cli(refusing, "status")[1].strip() == "no kill switch engaged"


def test_a_non_ascii_model_scope_is_engaged_with_a_warning_naming_the_code_point(
        guard: GuardServer) -> None:
    """`model:gpt\\u20114o` (a no-break hyphen, U+2011, as a wiki pastes `-`) is a name a request
    may give, so it is engaged; but it stops only that spelling, not gpt-4o, and the on-call is
    told which character is not ASCII (it had engaged silently, looking like the real name)."""
    code, out, err = cli(guard, "engage", "--scope", "model:gpt\u20114o", "--reason", "INC-7")
    assert code == 0 and out.startswith("engaged ks_"), (code, out, err)
    assert "warning:" in err and "U+2011 NON-BREAKING HYPHEN" in err, err
    assert chat_status(guard, "gpt-4o") == 200  # what the warning is about
    status, body = engage_api(guard, "tenant:caf\u00e9")
    assert status == 201 and "U+00E9" in body["warning"], body
    status, body = engage_api(guard, "model:gpt-4o")
    assert status == 201 and "warning" not in body, body


def test_a_tenant_glob_stops_the_tenants_it_names(guard: GuardServer) -> None:
    """From a probe: `tenant:acme-*` was engaged (exit 0, "engaged") and stopped only a tenant
    literally named `acme-*`: acme-eu and acme-us kept getting 200. Tenant scopes take globs,
    as model scopes do."""
    code, out, err = cli(guard, "engage", "--scope", "tenant:acme-*", "--reason", "INC-7")
    assert code == 0 and out.startswith("engaged ks_") and err == "", (code, out, err)
    assert [chat_status(guard, "gpt-4o", tenant) for tenant in ("acme-eu", "acme-us")] == [503] * 2
    assert chat_status(guard, "gpt-4o", "globex") == 200
    assert chat_status(guard, "gpt-4o") == 200


def test_a_scope_engaged_twice_warns_and_a_release_says_what_still_stops_it(
        guard: GuardServer) -> None:
    """Two switches on one scope (a retry after a timeout, two on-call engineers): the second
    engage names the first; releasing one says the scope is still stopped by the other (both
    had been silent)."""
    code, out, err = cli(guard, "engage", "--scope", "model:gpt-4o", "--reason", "INC-1")
    assert code == 0 and err == "", err
    first = out.split()[1].rstrip(":")
    code, out, err = cli(guard, "engage", "--scope", "model:GPT-4o", "--mode", "refuse",
                         "--reason", "INC-1 (retry)")
    second = out.split()[1].rstrip(":")
    assert code == 0 and (f"warning: scope model:GPT-4o is already engaged by {first} "
                          "(block, by alice)") in err, err
    code, out, err = cli(guard, "release", first, "--reason", "fixed")
    assert code == 0 and out.startswith(f"released {first}"), out
    assert (f"warning: scope model:gpt-4o is still engaged by {second} (refuse, by alice)"
            in err), err
    assert chat_status(guard, "gpt-4o") == 200  # refused by the second switch, answered 200
    code, out, err = cli(guard, "release", second)
    assert code == 0 and err == "", err


def test_a_release_without_a_reason_is_logged_with_none_of_its_own(guard: GuardServer) -> None:
    """The `killswitch_change` line of a release without --reason had carried the engage's
    reason as `reason`, read as the release's; it is empty now, the engage's is
    `switch_reason`."""
    _, out, _ = cli(guard, "engage", "--scope", "model:gpt-4o", "--reason", "INC-9 leak")
    switch_id = out.split()[1].rstrip(":")
    assert cli(guard, "release", switch_id)[0] == 0
    deadline = time.monotonic() + 10
    while not (released := changes(guard, "release")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(released) == 1 and released[0]["id"] == switch_id, released
    assert released[0]["reason"] == "" and released[0]["switch_reason"] == "INC-9 leak"
    assert changes(guard, "engage")[0]["reason"] == "INC-9 leak"


def changes(guard: GuardServer, action: str) -> list[dict[str, Any]]:
    """The `killswitch_change` lines of `action` in guard's output."""
    found = []
    for line in guard.output().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "killswitch_change" and record.get("action") == action:
            found.append(record)
    return found
