"""How the kill switch plugs into guard's composition root (guard.app).

  attach(components)            build the service and breaker; make the service the gate
  lifecycle(components)         start them before serving, close them on shutdown (STARTERS)
  admin_routes(app, components) mount /admin/killswitch on the admin app (ADMIN_ROUTES)

The admin app also needs `guard.admin.auth.admin_auth_middleware(load_admin_tokens(...))`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable
from enum import Enum

from aiohttp import web

from guard.components import Components
from guard.killswitch.api import add_routes
from guard.killswitch.breaker import Breaker
from guard.killswitch.model import is_glob
from guard.killswitch.service import KillSwitchService, build_service
from guard.proxy.fetch import FETCHED
from guard.proxy.model_routes import path_pattern
from guard.proxy.passthrough import MODEL, MODELS
from guard.proxy.protocols import DIALECTS
from guard.proxy.tenant import unmatchable

SERVICE = "killswitch"
BREAKER = "breaker"


def attach(components: Components) -> KillSwitchService:
    """Build the service (not started) and the breaker; the service becomes the gate."""
    settings = components.settings.killswitch
    service = build_service(
        settings, redis_url=components.settings.redis_url,
        state_dir=components.settings.state_dir, recorder=components.recorder,
        metrics=components.metrics,
    )
    components.gate = service
    components.upstreams.silence.gate = service  # it also stops requests already in flight
    components.extras[SERVICE] = service
    components.extras[BREAKER] = Breaker(
        settings.breakers, service, components.metrics, redis_url=components.settings.redis_url
    )
    return service


async def lifecycle(components: Components) -> AsyncIterator[None]:
    """Start the service and breaker attached to `components`; close them in reverse order."""
    service: KillSwitchService = components.extras[SERVICE]
    breaker: Breaker = components.extras[BREAKER]
    await service.start()
    try:
        await breaker.start()
        try:
            yield
        finally:
            await breaker.aclose()
    finally:
        await service.aclose()


def admin_routes(app: web.Application, components: Components) -> None:
    """Mount the kill switch admin routes for the service attached to `components`."""
    served = [*DIALECTS, MODELS, MODEL, *components.settings.passthrough]
    header = components.settings.tenant_header
    add_routes(app, components.extras[SERVICE], route_warning=route_warning(served),
               tenant_unmatchable=functools.partial(unmatchable, header))


def route_warning(paths: list[str]) -> Callable[[str], str | None]:
    """Why a `route:` scope's value stops no request here (None when it can stop one of
    `paths`, `serves`): it names only answers fetched by id (`fetch.FETCHED`), which count
    under their API's route, so the warning names the scope that stops each, or says that none
    does; or it matches no path at all (a typo)."""
    matches = serves(paths)
    fetched = [(method, path, under, serves([path])) for method, path, under in FETCHED]

    def warning(value: str) -> str | None:
        if matches(value):
            return None
        methods: dict[tuple[str, str | None], list[str]] = {}
        for method, path, under, takes in fetched:
            if takes(value):
                methods.setdefault((path, under), []).append(method)
        if not methods:
            return (f"route:{value} matches no path this replica serves (the guarded routes, "
                    "/v1/models, passthrough:); engaged all the same, as another replica's "
                    "configuration may serve it")
        stopped: dict[str | None, list[str]] = {}
        for (path, under), verbs in methods.items():
            stopped.setdefault(under, []).append(f"{' and '.join(verbs)} {path}")
        told = [f"{' and '.join(requests)}: "
                + (f"stopped by route:{under}" if under else "stopped by no switch")
                for under, requests in stopped.items()]
        return (f"route:{value} stops nothing: answers fetched by id count under their API's "
                f"route ({'; '.join(told)}); engaged all the same")

    return warning


def serves(paths: list[str]) -> Callable[[str], bool]:
    """Whether a `route:` scope's value (a path, or a glob) can match a request to one of
    `paths` (route templates, `{name}` or `{name:regex}` for a variable part): a path one of
    them takes, or a glob that some path one of them takes may match. A glob is compared with
    each template read as a glob whose variable parts match anything, so when unsure it says
    yes: its answer only decides whether to warn."""
    patterns = [path_pattern(path) for path in paths]
    shapes = [template_shape(path) for path in paths]
    return lambda value: (any(pattern.fullmatch(value) for pattern in patterns) if not is_glob(value)
                          else any(overlap(glob_shape(value), shape) for shape in shapes))


class Wild(Enum):
    """A glob's wildcards: ONE character (`?`, or a set `[...]`, read as any character), or
    any RUN of characters (`*`, and a template's variable part)."""

    ONE = "?"
    RUN = "*"


Shape = list[str | Wild]  # one character or wildcard each


def glob_shape(glob: str) -> Shape:
    """A glob as fnmatch reads it, a set read as any one character."""
    shape: Shape = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "[":  # as fnmatch: a `]` first in a set (or after its `!`) is one of its characters
            start = i + 1 + (glob[i + 1:i + 2] == "!")
            start += glob[start:start + 1] == "]"
            end = glob.find("]", start)
        if c == "*":
            shape.append(Wild.RUN)
        elif c == "?":
            shape.append(Wild.ONE)
        elif c == "[" and end != -1:
            shape.append(Wild.ONE)
            i = end
        else:
            shape.append(c)
        i += 1
    return shape


def template_shape(template: str) -> Shape:
    """A route template as a glob: its text as it is, each variable part any run."""
    parts = re.split(r"\{[^{}]*\}", template)
    return [*parts[0], *(item for part in parts[1:] for item in (Wild.RUN, *part))]


def overlap(a: Shape, b: Shape) -> bool:
    """Whether some text matches both shapes: a walk through both at once, a run either
    skipped or taking one more character of the other."""
    todo, seen = [(0, 0)], set()
    while todo:
        i, j = at = todo.pop()
        if at in seen:
            continue
        seen.add(at)
        if i == len(a) and j == len(b):
            return True
        x = a[i] if i < len(a) else None
        y = b[j] if j < len(b) else None
        if x is Wild.RUN:
            todo += [(i + 1, j)] + ([(i, j + 1)] if y is not None else [])
        if y is Wild.RUN:
            todo += [(i, j + 1)] + ([(i + 1, j)] if x is not None else [])
        elif x is not None and y is not None and x is not Wild.RUN and (
                x == y or Wild.ONE in (x, y)):
            todo.append((i + 1, j + 1))
    return False
