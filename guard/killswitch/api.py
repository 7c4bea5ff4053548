"""Kill switch admin routes. Needs `admin_auth_middleware` in front (it names the actor).

GET    /admin/killswitch        → 200 {"switches": [...], "release_approvals": n, "stale": bool};
                                  each switch has "saved": false and "unsaved_reason" while it
                                  is enforced by this process only (not yet in the state file
                                  or in Redis)
POST   /admin/killswitch        {scope, mode (block|refuse, default block), reason, ttl_s?}
                                → 201 {"switch": {...}, "saved": bool}, and "warning" when a
                                  `route:` scope can stop no request here (engaged all the
                                  same): a path no replica of this configuration serves, or
                                  one of an answer fetched by id, counted under its API's route,
                                  or when the switch is not saved ("saved": false: enforced on
                                  this host only, as Redis is unreachable or the embedded
                                  state's file cannot be written, a full disk)
DELETE /admin/killswitch/{id}   optional body {reason}
                                → 200 {"released": true, "switch", "approvers", "saved"}
                                → 202 {"released": false, "switch", "approvers", "needed", "saved"}
                                  (two-person rule: one approval recorded, another actor needed);
                                  "saved": false with a "warning" while Redis is unreachable: the
                                  change holds on this host only until it is written there
Errors use OpenAI's shape: 400 invalid request, 404 unknown id, 409 same actor approving twice,
503 the release of a switch saved in the embedded state's file while that file cannot be
written (nothing changed). A switch held unsaved is released without a write.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from guard.admin import api as admin_api
from guard.admin.auth import ADMIN_ACTOR, error_body
from guard.killswitch.model import Entry, engageable_scope, non_ascii_warning, parse_scope
from guard.killswitch.service import ApprovalConflict, KillSwitchService, SwitchNotFound
from guard.killswitch.store import StoreUnavailable

KILLSWITCH_SERVICE = web.AppKey("killswitch_service", KillSwitchService)
ROUTE_WARNING: web.AppKey[Callable[[str], str | None]] = web.AppKey("killswitch_route_warning")
TENANT_UNMATCHABLE: web.AppKey[Callable[[str], str | None]] = web.AppKey(
    "killswitch_tenant_unmatchable")
PATH = "/admin/killswitch"


def add_routes(app: web.Application, service: KillSwitchService,
               route_warning: Callable[[str], str | None] = lambda _: None,
               tenant_unmatchable: Callable[[str], str | None] = lambda _: None) -> None:
    """Mount the kill switch routes on the admin application. `route_warning`: why a `route:`
    scope's value can stop no request the data plane serves (None when it can); `tenant_unmatchable`: why
    a `tenant:` scope's value can match no request (None when it can)."""
    app[KILLSWITCH_SERVICE] = service
    app[ROUTE_WARNING] = route_warning
    app[TENANT_UNMATCHABLE] = tenant_unmatchable
    admin_api.add_routes(app, [web.get(PATH, list_switches), web.post(PATH, engage),
                               web.delete(PATH + "/{id}", release)])


def _view(entry: Entry, service: KillSwitchService) -> dict[str, Any]:
    data = entry.as_dict()
    data["release_approvals_needed"] = service.settings.release_approvals
    unsaved = service.held(entry.switch.id)
    data["saved"] = unsaved is None
    if unsaved is not None:
        data["unsaved_reason"] = unsaved
    return data


def _error(status: int, message: str, type_: str, code: str, param: str | None = None
           ) -> web.Response:
    return web.json_response(error_body(message, type_, code, param), status=status)


def _actor(request: web.Request) -> str | None:
    return request.get(ADMIN_ACTOR)


async def _json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    text = await request.text()
    if optional and not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ValueError("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")  # noqa: TRY004 (answered as 400)
    return body


async def _engage_body(request: web.Request) -> dict[str, Any]:
    body = await _json_object(request)
    unknown = sorted(set(body) - {"scope", "mode", "reason", "ttl_s"})
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    return body


async def _release_reason(request: web.Request) -> str:
    reason = (await _json_object(request, optional=True)).get("reason", "")
    if not isinstance(reason, str):
        raise ValueError("reason must be a string")  # noqa: TRY004 (answered as 400)
    return reason


async def list_switches(request: web.Request) -> web.Response:
    service = request.app[KILLSWITCH_SERVICE]
    return web.json_response({
        "switches": [_view(e, service) for e in service.entries()],
        "release_approvals": service.settings.release_approvals,
        "stale": service.stale,
    })


async def engage(request: web.Request) -> web.Response:
    service = request.app[KILLSWITCH_SERVICE]
    actor = _actor(request)
    if actor is None:
        return _error(401, "An admin token is required.", "authentication_error",
                      "missing_admin_token")
    try:
        body = await _engage_body(request)
        _refuse_unmatchable_tenant(request, body.get("scope"))
        switch = await service.engage(
            scope=body.get("scope", ""), mode=body.get("mode", "block"),
            reason=body.get("reason", ""), actor=actor, ttl_s=body.get("ttl_s"),
        )
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error", "invalid_killswitch")
    except StoreUnavailable as exc:
        return _error(503, str(exc), "server_error", "killswitch_state_unavailable")
    held = service.held(switch.id)
    answer: dict[str, Any] = {"switch": _view(Entry(switch), service), "saved": held is None}
    warnings = [] if held is None else [held]
    scope = parse_scope(switch.scope)
    if scope.kind == "route" and (unstopped := request.app[ROUTE_WARNING](scope.value)):
        warnings.append(unstopped)
    if (look_alike := non_ascii_warning(scope)) is not None:
        warnings.append(look_alike)
    warnings += [f"scope {scope} is already engaged by {_named(e)}"
                 for e in service.also_on_scope(switch)]
    if warnings:
        answer["warning"] = "; ".join(warnings)
    return web.json_response(answer, status=201)


def _named(entry: Entry) -> str:
    """A switch as a warning names it: `ks_... (block, by alice)`."""
    return f"{entry.switch.id} ({entry.switch.mode}, by {entry.switch.actor})"


def _refuse_unmatchable_tenant(request: web.Request, scope: Any) -> None:
    """A `tenant:` scope no request can match is refused rather than stored: with a tenant
    header that carries credentials, its value is most likely a client's key."""
    if isinstance(scope, str) and engageable_scope(scope).kind == "tenant":
        problem = request.app[TENANT_UNMATCHABLE](scope.removeprefix("tenant:"))
        if problem:
            raise ValueError(f"tenant: scope refused, it could stop no request: {problem}")


async def release(request: web.Request) -> web.Response:
    service = request.app[KILLSWITCH_SERVICE]
    actor = _actor(request)
    if actor is None:
        return _error(401, "An admin token is required.", "authentication_error",
                      "missing_admin_token")
    switch_id = request.match_info["id"]
    try:
        reason = await _release_reason(request)
        result = await service.release(switch_id, actor=actor, reason=reason)
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error", "invalid_killswitch")
    except SwitchNotFound as exc:
        return _error(404, str(exc), "invalid_request_error", "killswitch_not_found", "id")
    except ApprovalConflict as exc:
        return _error(409, str(exc), "invalid_request_error", "approval_needs_another_actor")
    except StoreUnavailable as exc:
        return _error(503, str(exc), "server_error", "killswitch_state_unavailable")
    held = service.held(switch_id)
    answer: dict[str, Any] = {
        "released": result.released, "switch": _view(result.entry, service),
        "approvers": list(result.approvals), "needed": result.needed, "saved": held is None,
    }
    warnings = [] if held is None else [held]
    warnings += [f"scope {result.entry.switch.scope} is still engaged by {_named(e)}"
                 for e in service.also_on_scope(result.entry.switch)]
    if warnings:
        answer["warning"] = "; ".join(warnings)
    return web.json_response(answer, status=200 if result.released else 202)
