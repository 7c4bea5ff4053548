"""`GET /admin/incidents`: recorded incidents, newest `limit`, or the first `limit` since a time.

Query parameters: since (15m, 2h, 7d, Unix seconds or ISO 8601), action, rule, tenant, kind
(`decision`, `killswitch`, `breaker`, `stream_cut`, `stream_unchecked`), limit (1..10000,
default 100), after (a cursor from an earlier answer: the next page, in the order incidents were
kept). Answer:
200 {"incidents": [...], "source": "redis"|"journal", "cursor": where to ask `after` next, null
for the journal's newest `limit`, and "warning" when the source cannot hold all that was asked
(a Redis Stream lost when Redis restarted empty: the period before it is in the journals)};
400 in OpenAI's error shape for a bad, unknown or repeated parameter (a mistyped filter would
otherwise answer every incident) or a cursor of the other source; 503 when the source cannot be read.
Needs `admin_auth_middleware` in front.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from multidict import MultiMapping

from guard.admin import api as admin_api
from guard.admin.auth import error_body
from guard.incidents.model import DECISION, EVENT_KINDS
from guard.incidents.query import MAX_LIMIT, Query, parse_since
from guard.incidents.reader import IncidentReader, NoCursor, parse_cursor

INCIDENT_READER = web.AppKey("incident_reader", IncidentReader)
PATH = "/admin/incidents"
PARAMETERS = frozenset({"since", "action", "rule", "tenant", "kind", "limit", "after"})
KINDS = frozenset({DECISION, *EVENT_KINDS})


def add_routes(app: web.Application, reader: IncidentReader) -> None:
    """Mount GET /admin/incidents on the admin application."""
    app[INCIDENT_READER] = reader
    admin_api.add_routes(app, [web.get(PATH, list_incidents)])


def parse_query(params: MultiMapping[str]) -> Query:
    """The query parameters as a Query; ValueError naming the bad parameter."""
    unknown = sorted(params.keys() - PARAMETERS)
    if unknown:
        known = ", ".join(sorted(PARAMETERS))
        raise ValueError(f"{unknown[0]}: not a parameter of {PATH} (known: {known})")
    repeated = sorted(name for name in set(params) if len(params.getall(name)) > 1)
    if repeated:  # `tenant=a&tenant=b` is no list: the answer would be one tenant's
        raise ValueError(f"{repeated[0]}: given more than once (each parameter takes one value)")
    kind = params.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind: must be one of {', '.join(sorted(KINDS))}, not {kind!r}")
    try:
        limit = int(params.get("limit", "100"))
    except ValueError as exc:
        raise ValueError("limit: must be an integer") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit: must be between 1 and {MAX_LIMIT}")
    since = parse_since(params["since"]) if params.get("since") else None
    after = parse_cursor(params["after"]) if params.get("after") else None
    return Query(since=since, action=params.get("action") or None,
                 rule=params.get("rule") or None, tenant=params.get("tenant") or None,
                 kind=kind, limit=limit, after=after)


async def list_incidents(request: web.Request) -> web.Response:
    reader = request.app[INCIDENT_READER]
    try:
        query = parse_query(request.query)
    except ValueError as exc:
        return _invalid(exc, request.query.keys())
    try:
        found = await reader.page(query)
    except NoCursor as exc:
        return _invalid(exc, request.query.keys())
    except Exception as exc:  # Redis down or an unreadable journal: say so, do not guess
        return web.json_response(
            error_body(f"incidents cannot be read from {reader.source}: {type(exc).__name__}",
                       "server_error", "incidents_unavailable"), status=503)
    body = {"incidents": found.incidents, "source": found.source, "cursor": found.cursor}
    if found.warning is not None:
        body["warning"] = found.warning
    return web.json_response(body)


def _invalid(exc: ValueError, sent: Iterable[str]) -> web.Response:
    """400 naming the parameter the message starts with (known, or one the request sent)."""
    named = str(exc).split(":", 1)[0]
    param = named if named in PARAMETERS or named in sent else None
    return web.json_response(
        error_body(str(exc), "invalid_request_error", "invalid_parameter", param), status=400)
