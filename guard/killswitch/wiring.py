"""How the kill switch plugs into guard's composition root (guard.app).

  attach(components)            build the service and breaker; make the service the gate
  lifecycle(components)         start them before serving, close them on shutdown (STARTERS)
  admin_routes(app, components) mount /admin/killswitch on the admin app (ADMIN_ROUTES)

The admin app also needs `guard.admin.auth.admin_auth_middleware(load_admin_tokens(...))`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from guard.components import Components
from guard.killswitch.api import add_routes
from guard.killswitch.breaker import Breaker
from guard.killswitch.service import KillSwitchService, build_service
from guard.proxy.middleware import path_pattern
from guard.proxy.passthrough import MODELS
from guard.proxy.protocols import DIALECTS

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
    served = [*DIALECTS, MODELS, *components.settings.passthrough]
    add_routes(app, components.extras[SERVICE], route_served=serves(served))


def serves(paths: list[str]) -> Callable[[str], bool]:
    """Whether a `route:` scope's value (a path, or a glob) can match a request to one of
    `paths` (route templates, `{name}` or `{name:regex}` for a variable part): a path one of
    them takes, or a glob matching one of them with each variable part one letter."""
    patterns = [path_pattern(path) for path in paths]
    samples = [re.sub(r"\{[^{}]*\}", "x", path) for path in paths]
    return lambda value: (any(pattern.fullmatch(value) for pattern in patterns)
                          or any(fnmatch.fnmatchcase(sample, value) for sample in samples))
