"""How the policy store plugs into guard's composition root (guard.app).

  attach(components)            build the classifier runner, its verdict cache and the store
                                (loads now: a broken policy set stops start-up with PolicyError)
  lifecycle(components)         start the file watcher; stop it and close the runner on shutdown
  admin_routes(app, components) GET /admin/policies, POST /admin/policies/reload
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from guard.admin import api as admin_api
from guard.admin.auth import error_body
from guard.classify.cache import VerdictCache, shared_redis
from guard.classify.runner import ClassifierRunner, warm_up
from guard.components import Components
from guard.policy.store import PolicyStore
from guard.workers import RELOAD_WAIT_S, note_reloaded, reload_group

STORE = "policy_store"


def attach(components: Components) -> PolicyStore | None:
    """The store becomes the PolicySource; None (and no change) when `policies: null`."""
    settings = components.settings
    if settings.policies is None:
        return None
    shared = shared_redis(settings.redis_url) if settings.redis_url and settings.cache.shared \
        else None
    cache = VerdictCache(settings.cache.max_entries, max_chars=settings.cache.max_chars, redis=shared,
                         ttl_s=settings.cache.ttl_s)
    store = PolicyStore(settings.policies, ClassifierRunner(components.metrics, cache),
                        components.metrics, tenant_header=settings.tenant_header)
    components.policies = store
    components.extras[STORE] = store
    components.extras["on_sighup"] = functools.partial(_reload_noted, store)
    return store


async def catch_up(components: Components) -> None:
    """A worker of a group about to serve reloads if the files changed since it loaded them: a
    reload asked of the group while it started was not relayed to it (guard.workers)."""
    store: PolicyStore | None = components.extras.get(STORE)
    if store is not None:
        await store.reload_if_changed()


async def _reload_noted(store: PolicyStore) -> None:
    """SIGHUP's reload; under `--workers`, noted for a worker waiting on the group's reload."""
    began = time.time()
    await store.reload()
    note_reloaded(began)


async def lifecycle(components: Components) -> AsyncIterator[None]:
    store: PolicyStore | None = components.extras.get(STORE)
    if store is None:
        yield
        return
    await warm_up(store.current.classifiers())
    await store.start()
    try:
        yield
    finally:
        await store.aclose()
        await store.runner.aclose()


def admin_routes(app: web.Application, components: Components) -> None:
    """GET /admin/policies (version, policies, rules); POST /admin/policies/reload."""
    store: PolicyStore | None = components.extras.get(STORE)

    async def describe(request: web.Request) -> web.Response:
        if store is None:  # `policies: null`: the documented keys, with nothing in them
            return web.json_response({"version": None, "source": None, "default": None,
                                      "last_reload_errors": [], "policies": []})
        return web.json_response(store.describe())

    async def reload(request: web.Request) -> web.Response:
        # A refusal carries OpenAI's error shape beside the result (`ok`, `errors`) it reports.
        if store is None:
            return web.json_response(
                {"ok": False, "errors": ["no policies configured"],
                 **error_body("no policies configured (policies: null)", "invalid_request_error",
                              "no_policies")}, status=409)
        result = await store.reload()
        if result.ok:
            return web.json_response({**result.as_dict(), **await _group_reloaded()})
        return web.json_response(
            {**result.as_dict(), **error_body("; ".join(result.errors), "invalid_request_error",
                                              "policy_invalid")}, status=422)

    async def _group_reloaded() -> dict[str, Any]:
        """Under `--workers`: the other workers reloaded too, awaited before the answer, which
        says how many did (`workers`), and warns of any that had not in time."""
        group = await reload_group()
        if group is None:
            return {}
        done, others = group
        answer: dict[str, Any] = {"workers": {"reloaded": done + 1, "serving": others + 1}}
        if done < others:
            answer["warning"] = (f"{others - done} of the {others + 1} workers had not reloaded "
                                 f"within {RELOAD_WAIT_S:g} s; each reloads when its file watcher "
                                 "next sees the change")
        return answer

    admin_api.add_routes(app, [web.get("/admin/policies", describe),
                               web.post("/admin/policies/reload", reload)])
