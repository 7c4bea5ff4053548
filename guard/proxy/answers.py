"""Every answer guard makes itself (errors, blocks, refusals), in OpenAI's shapes."""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
from aiohttp import web

from guard.proxy.protocols.base import Dialect, new_id
from guard.types import Decision, Switch

JSON = "application/json"
# What the access line says of an answer guard made (`proxy.middleware.observed`): the error
# code it answered with, the kill switch that stopped the request, and for a stream, guard's
# decision once it ended (its headers, sent first, can only say the prompt's).
CODE = web.ResponseKey("code", str)
SWITCH = web.ResponseKey("switch", str)
DECISION = web.ResponseKey("decision", str)


def error_body(message: str, *, type_: str, code: str, param: str | None = None,
               **extra: Any) -> bytes:
    """OpenAI's error shape; the top-level `type` makes it Anthropic's too (`/v1/messages`)."""
    error: dict[str, Any] = {"message": message, "type": type_, "param": param, "code": code}
    error.update(extra)
    return orjson.dumps({"type": "error", "error": error})


def error_response(status: int, message: str, code: str, *, param: str | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    type_ = "invalid_request_error" if status < 500 else "server_error"
    response = web.Response(status=status, body=error_body(message, type_=type_, code=code,
                                                           param=param, **extra),
                            content_type=JSON, headers=headers)
    response[CODE] = code
    return response


def blocked_prompt(decision: Decision, incident_id: str | None) -> web.Response:
    """400 (or the policy's status) with `code: content_filter`; the upstream was never called."""
    return error_response(decision.status, decision.message, "content_filter",
                          guard={"incident_id": incident_id, "rules": list(decision.rules)})


def killswitch_blocked(switch: Switch, retry_after_s: int) -> web.Response:
    """503 with `code: kill_switch_engaged`, the reason, and when to try again. The stop is an
    operator's, not a passing fault: `x-should-retry: false` keeps the openai SDKs from retrying
    it (by default twice, each after `Retry-After`), so the app hears of it at once."""
    if switch.expires_at is not None:
        retry_after_s = max(1, min(retry_after_s, math.ceil(switch.expires_at - time.time())))
    response = error_response(
        503, f"This service is paused: {switch.reason}", "kill_switch_engaged",
        headers={"Retry-After": str(retry_after_s), "x-should-retry": "false"},
        guard={"switch_id": switch.id, "scope": switch.scope})
    response[SWITCH] = switch.id
    return response


def refusal_body(dialect: Dialect, model: str, text: str, choices: int = 1) -> bytes:
    """A whole completion carrying `text` with `finish_reason: content_filter`, in each of the
    `choices` asked."""
    return orjson.dumps(dialect.completion(new_id("guard"), model, text, "content_filter",
                                           choices))
