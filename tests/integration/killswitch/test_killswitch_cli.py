"""`guard killswitch status | engage | release` as a real subprocess against a real admin API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from guard.admin.auth import admin_auth_middleware, parse_admin_tokens
from guard.killswitch.api import add_routes
from guard.killswitch.cli import format_table
from guard.killswitch.service import build_service
from guard.killswitch.settings import KillSwitchSettings
from guard.observability.metrics import Metrics
from tests.support import EventLog, apps_serving, free_port, guard_before_mock


@pytest.fixture
async def admin_url(tmp_path: Path) -> AsyncIterator[str]:
    tokens = parse_admin_tokens("alice:tok-alice-123456,bob:tok-bob-654321")
    service = build_service(KillSwitchSettings(release_approvals=2), redis_url=None,
                            state_dir=tmp_path, recorder=EventLog(),
                            metrics=Metrics(CollectorRegistry()))
    await service.start()
    app = web.Application(middlewares=[admin_auth_middleware(tokens)])
    add_routes(app, service)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
    await service.aclose()


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


async def guard(*args: str, token: str | None = "tok-alice-123456",
                env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`guard killswitch ARGS` with the token, the proxy variables only as `env` gives them."""
    env = {**{k: v for k, v in os.environ.items()
              if k != "GUARD_ADMIN_TOKEN" and k.lower() not in PROXY_VARIABLES}, **(env or {})}
    if token is not None:
        env["GUARD_ADMIN_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "guard", "killswitch", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_engage_status_and_two_person_release(admin_url: str) -> None:
    """engage prints the id; status shows it in a table and as JSON; release needs two actors."""
    code, out, _ = await guard("engage", "--scope", "model:gpt-4o", "--reason", "leaking PII",
                               "--ttl", "15m", "--admin-url", admin_url)
    assert code == 0 and out.startswith("engaged ks_") and "for 15m" in out
    switch_id = out.split()[1].rstrip(":")
    code, out, _ = await guard("status", "--admin-url", admin_url)
    assert code == 0 and "SCOPE" in out and switch_id in out and "leaking PII" in out
    code, out, _ = await guard("status", "--json", "--admin-url", admin_url)
    assert json.loads(out)["switches"][0]["id"] == switch_id
    code, out, _ = await guard("release", switch_id, "--admin-url", admin_url)
    assert code == 0 and "another actor must release it too" in out
    code, out, _ = await guard("release", switch_id, "--reason", "fixed", "--admin-url",
                               admin_url, token="tok-bob-654321")
    assert code == 0 and "approved by alice, bob" in out
    code, out, _ = await guard("status", "--admin-url", admin_url)
    assert out.strip() == "no kill switch engaged"


async def test_errors_exit_1_with_the_reason(admin_url: str) -> None:
    """A missing token, a wrong token and an unknown id each exit 1 with a readable message."""
    code, _, err = await guard("status", "--admin-url", admin_url, token=None)
    assert code == 1 and "GUARD_ADMIN_TOKEN" in err
    code, _, err = await guard("status", "--admin-url", admin_url, token="wrong")
    assert code == 1 and "HTTP 403" in err
    code, _, err = await guard("release", "ks_nope", "--admin-url", admin_url)
    assert code == 1 and "HTTP 404" in err
    code, _, err = await guard("status", "--admin-url", f"http://127.0.0.1:{free_port()}")
    assert code == 1 and "cannot reach" in err


async def test_usage_errors_exit_2() -> None:
    """A missing --reason is a usage error (exit 2), and --help shows examples."""
    code, _, err = await guard("engage", "--scope", "global")
    assert code == 2 and "--reason" in err
    code, out, _ = await guard("engage", "--help")
    assert code == 0 and "examples:" in out


async def test_a_loopback_admin_url_is_never_reached_through_a_proxy(admin_url: str) -> None:
    """From a probe: with HTTP_PROXY set to a proxy that is down (a laptop's, off VPN), status
    said "cannot reach the admin API at http://127.0.0.1:PORT: Connection refused" while that
    admin API answered: the call had gone to the proxy, which can never reach a loopback URL."""
    dead = f"http://127.0.0.1:{free_port()}"
    code, out, err = await guard("status", "--admin-url", admin_url,
                                 env={"HTTP_PROXY": dead, "http_proxy": dead})
    assert code == 0 and out.strip() == "no kill switch engaged", (code, out, err)
    localhost = admin_url.replace("127.0.0.1", "localhost")
    assert (await guard("status", "--admin-url", localhost, env={"HTTP_PROXY": dead}))[0] == 0


@pytest.fixture
async def refusing_proxy() -> AsyncIterator[str]:
    """A proxy that wants its own login: 407 with a page of text, to every request."""
    async def login(_: web.Request) -> web.Response:
        return web.Response(status=407, text="Proxy Authentication Required")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", login)
    port = free_port()
    async with apps_serving((app, port)):
        yield f"http://127.0.0.1:{port}"


async def test_a_proxy_in_the_way_is_named_with_how_to_bypass_it(refusing_proxy: str) -> None:
    """A proxy that answered (407, 403, 502) read like a bad token, and one that was down like
    the admin API being down; for an admin URL not on loopback, the proxy is named, and
    NO_PROXY for its host."""
    url = "http://guard-admin.internal.example:9000"
    dead = f"http://127.0.0.1:{free_port()}"
    for proxy, said in ((refusing_proxy, "HTTP 407"), (dead, "cannot reach the admin API")):
        code, _, err = await guard("status", "--admin-url", url, env={"HTTP_PROXY": proxy})
        assert code == 1 and said in err, err
        assert (f"through the proxy {proxy}: set NO_PROXY=guard-admin.internal.example to "
                "bypass it") in err, err
    code, _, err = await guard("status", "--admin-url", url, env={
        "HTTP_PROXY": dead, "NO_PROXY": "guard-admin.internal.example"})
    assert code == 1 and "proxy" not in err, err  # reached directly (no such host): not named


def test_a_plain_not_found_hints_at_the_admin_url(tmp_path: Path) -> None:
    """From a probe: --admin-url at the data port answered "HTTP 404: ... Not Found" and no
    more; a 404 that is not one of the admin API's own now says to check the URL, and an
    unknown switch id (the admin API's own 404) does not."""
    token = "tok-alice-123456"
    with guard_before_mock(tmp_path, None, env={"GUARD_ADMIN_TOKENS": f"alice:{token}"}) as server:
        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "guard", "killswitch", *args],
                                  env={**os.environ, "GUARD_ADMIN_TOKEN": token},
                                  capture_output=True, text=True, timeout=60, check=False)

        data_port = cli("status", "--admin-url", server.url)
        unknown_id = cli("release", "ks_000000000000", "--admin-url", server.admin_url)
    assert data_port.returncode == 1 and "HTTP 404" in data_port.stderr
    assert "check --admin-url" in data_port.stderr
    assert unknown_id.returncode == 1 and "HTTP 404" in unknown_id.stderr
    assert "check --admin-url" not in unknown_id.stderr


def test_table_is_aligned_and_truncates_long_reasons() -> None:
    """The status table lines its columns up and keeps long reasons to one line."""
    rows = [{"id": "ks_1", "scope": "global", "mode": "block", "actor": "alice",
             "created_at": 0.0, "expires_at": None, "release_approvals": [],
             "release_approvals_needed": 2, "reason": "r" * 100},
            {"id": "ks_22", "scope": "tenant:acme", "mode": "refuse", "actor": "breaker",
             "created_at": 50.0, "expires_at": 400.0, "release_approvals": ["bob"],
             "release_approvals_needed": 2, "reason": "burst"}]
    lines = format_table(rows, now=100.0).splitlines()
    assert len(lines) == 3
    assert lines[0].index("SCOPE") == lines[1].index("global") == lines[2].index("tenant:acme")
    assert lines[1].endswith("r" * 57 + "...") and "5m" in lines[2] and "1/2" in lines[2]


@pytest.mark.parametrize(("left", "shown"), [(9.6, "10s"), (1799.6, "30m"), (3599.7, "60m"),
                                             (7199.6, "2h00m"), (5399.0, "90m"), (0.2, "0s")])
def test_time_left_reads_as_typed(left: float, shown: str) -> None:
    """From a probe: `--ttl 1h` read back "59m" (and 10s "9s") a moment after engaging, as the
    time left was floored; it is rounded to the nearest unit shown."""
    rows = [{"id": "ks_1", "scope": "global", "mode": "block", "actor": "alice",
             "created_at": 100.0, "expires_at": 100.0 + left, "release_approvals": [],
             "release_approvals_needed": 1, "reason": "INC-1"}]
    assert format_table(rows, now=100.0).splitlines()[1].split()[4:6] == ["0s", shown]


def test_control_characters_in_a_reason_are_shown_escaped() -> None:
    """From a probe: a reason (anyone's with a token) went to the on-call's terminal as sent,
    escape sequences included."""
    rows = [{"id": "ks_1", "scope": "global", "mode": "block", "actor": "mallory",
             "created_at": 0.0, "expires_at": None, "release_approvals": [],
             "release_approvals_needed": 1, "reason": "paused\x1b]0;owned\x07 \u202eok"}]
    table = format_table(rows, now=1.0)
    assert "\x1b" not in table and "\u202e" not in table
    assert table.endswith("paused\\x1b]0;owned\\x07 \\u202eok")
