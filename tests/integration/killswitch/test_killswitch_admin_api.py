"""The kill switch admin API on a real aiohttp server, behind the bearer-token middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from guard.admin.auth import admin_auth_middleware, parse_admin_tokens
from guard.errors import ConfigError
from guard.killswitch.api import add_routes
from guard.killswitch.service import KillSwitchService, build_service
from guard.killswitch.settings import KillSwitchSettings
from guard.observability.metrics import Metrics
from tests.support import EventLog, free_port

ALICE = {"Authorization": "Bearer alice-token-0123456789"}
BOB = {"Authorization": "Bearer bob-token-9876543210"}


class Admin:
    def __init__(self, base: str, session: aiohttp.ClientSession, service: KillSwitchService,
                 log: EventLog) -> None:
        self.base, self.session, self.service, self.log = base, session, service, log

    async def call(self, method: str, path: str, headers: Mapping[str, str] | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, headers=headers,
                                        **kwargs) as response:
            return response.status, await response.json()


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[Admin]:
    tokens = parse_admin_tokens("alice:alice-token-0123456789, bob:bob-token-9876543210")
    log = EventLog()
    service = build_service(KillSwitchSettings(release_approvals=2), redis_url=None,
                            state_dir=tmp_path, recorder=log, metrics=Metrics(CollectorRegistry()))
    await service.start()
    app = web.Application(middlewares=[admin_auth_middleware(tokens)])

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    add_routes(app, service)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        yield Admin(f"http://127.0.0.1:{port}", session, service, log)
    await runner.cleanup()
    await service.aclose()


async def test_no_token_is_401_wrong_token_403_right_token_200(admin: Admin) -> None:
    """Authentication: 401 without a token, 403 with an unknown one, 200 with a known one."""
    status, body = await admin.call("GET", "/admin/killswitch")
    assert status == 401 and body["error"]["code"] == "missing_admin_token"
    assert set(body["error"]) == {"message", "type", "param", "code"}
    status, body = await admin.call("GET", "/admin/killswitch",
                                    {"Authorization": "Bearer nope"})
    assert status == 403 and body["error"]["code"] == "invalid_admin_token"
    status, body = await admin.call("GET", "/admin/killswitch", {"Authorization": "Basic x"})
    assert status == 401
    status, body = await admin.call("GET", "/admin/killswitch", ALICE)
    assert status == 200 and body == {"switches": [], "release_approvals": 2, "stale": False}


async def test_an_unmet_expectation_is_refused_by_the_routes_as_mounted(admin: Admin) -> None:
    """The admin routes carry the admin listener's Expect handling from `add_routes` on (it was
    set afterwards by `admin_app`, through a private aiohttp attribute): `Expect: foo` is a
    417 in the error shape here too, and nothing is engaged."""
    status, body = await admin.call("POST", "/admin/killswitch", {**ALICE, "Expect": "foo"},
                                    json={"scope": "global", "reason": "expecting"})
    assert status == 417 and body["error"]["code"] == "expectation_failed"
    assert admin.service.entries() == []


async def test_open_paths_need_no_token(admin: Admin) -> None:
    """/healthz answers without a token."""
    status, body = await admin.call("GET", "/healthz")
    assert status == 200 and body == {"status": "ok"}


async def test_engage_records_the_token_actor_and_two_person_release(admin: Admin) -> None:
    """POST engages as the token's actor; DELETE by alice → 202, again → 409, bob → 200."""
    status, body = await admin.call("POST", "/admin/killswitch", ALICE, json={
        "scope": "model:gpt-4o", "mode": "refuse", "reason": "leaking PII", "ttl_s": 600})
    assert status == 201
    switch = body["switch"]
    assert switch["actor"] == "alice" and switch["scope"] == "model:gpt-4o"
    assert switch["expires_at"] - switch["created_at"] == pytest.approx(600)
    status, body = await admin.call("DELETE", f"/admin/killswitch/{switch['id']}", ALICE)
    assert status == 202 and body["approvers"] == ["alice"] and body["needed"] == 2
    status, body = await admin.call("DELETE", f"/admin/killswitch/{switch['id']}", ALICE)
    assert status == 409
    status, listing = await admin.call("GET", "/admin/killswitch", BOB)
    assert listing["switches"][0]["release_approvals"] == ["alice"]
    status, body = await admin.call("DELETE", f"/admin/killswitch/{switch['id']}", BOB,
                                    json={"reason": "fixed in v2"})
    assert status == 200 and body["released"] and body["approvers"] == ["alice", "bob"]
    assert [e["actor"] for _, e in admin.log.events] == ["alice", "alice", "bob"]
    assert admin.log.events[-1][1]["reason"] == "fixed in v2"
    status, body = await admin.call("DELETE", f"/admin/killswitch/{switch['id']}", BOB)
    assert status == 404 and body["error"]["code"] == "killswitch_not_found"


@pytest.mark.parametrize("payload", [
    {"scope": "model:x", "mode": "block"},                      # no reason
    {"scope": "planet:earth", "reason": "x"},                   # bad scope
    {"scope": "global", "reason": "x", "mode": "pause"},        # bad mode
    {"scope": "global", "reason": "x", "ttl_s": -1},            # bad ttl
    {"scope": "global", "reason": "x", "ttl_s": 0.2},           # lifts before the fleet sees it
    {"scope": "global", "reason": "x", "colour": "red"},        # unknown field
    ["global"],                                                 # not an object
])
async def test_invalid_engage_requests_are_400(admin: Admin, payload: Any) -> None:
    """Every malformed engage request is refused with 400 and engages nothing."""
    status, body = await admin.call("POST", "/admin/killswitch", ALICE, json=payload)
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert admin.service.entries() == []


@pytest.mark.parametrize("text", ["alice", "alice:", "ali ce:tok", "breaker:tok",
                                  "a:t1,a:t2", "a:same,b:same", "a:t1;b:t2", "a:t1 b:t2",
                                  "a:t1\x00", "a:t1\u200b"])
def test_malformed_token_lists_are_configuration_errors(text: str) -> None:
    """GUARD_ADMIN_TOKENS entries must be distinct actor:token pairs; reserved actors refused."""
    with pytest.raises(ConfigError) as caught:
        parse_admin_tokens(text)
    assert "t1" not in str(caught.value) and "same" not in str(caught.value)


def test_a_token_holding_colons_and_semicolons_is_the_actors() -> None:
    """An entry is split at its first ':': `alice:Qx7:vR2;pL9!` is alice's token `Qx7:vR2;pL9!`
    (generated passwords hold ':' and ';'); refused since 9c29b98, it is accepted again."""
    tokens = parse_admin_tokens("alice:Qx7:vR2;pL9!mW4$kT8^zN,bob:bob-token-0123456789")
    assert tokens.actor_for("Qx7:vR2;pL9!mW4$kT8^zN") == "alice"
    assert tokens.actor_for("Qx7") is None
