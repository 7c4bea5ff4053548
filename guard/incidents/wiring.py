"""How incidents plug into guard's composition root (guard.app).

  attach(components)            build the recorder and make it `components.recorder`; call it
                                before anything that captures the recorder (killswitch.attach)
  lifecycle(components)         start it (and journal retention) before serving; on shutdown
                                drain it (STARTERS, first, so it closes last and records the
                                other parts' final events)
  admin_routes(app, components) mount GET /admin/incidents on the admin app (ADMIN_ROUTES)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from guard.components import Components
from guard.config import Settings
from guard.incidents.api import add_routes
from guard.incidents.reader import IncidentReader, build_reader
from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.retention import JournalPruner
from guard.observability.metrics import Metrics

RECORDER = "incidents"
READER = "incident_reader"


def build_recorder(settings: Settings, metrics: Metrics) -> IncidentRecorder:
    """The recorder (not started): every other part records through it, so it comes first."""
    return IncidentRecorder(settings.incidents, settings.state_dir, settings.redis_url, metrics)


def attach(components: Components) -> IncidentRecorder:
    """Keep the components' recorder for the lifecycle and build the admin API's reader."""
    recorder = components.recorder
    if not isinstance(recorder, IncidentRecorder):
        raise TypeError("components.recorder must come from build_recorder()")
    settings = components.settings
    components.extras[RECORDER] = recorder
    components.extras[READER] = build_reader(settings.incidents, settings.state_dir,
                                             settings.redis_url)
    return recorder


async def lifecycle(components: Components) -> AsyncIterator[None]:
    """Start the recorder, and journal retention when a limit is set; on shutdown drain every
    queue (to its sink or its spool)."""
    recorder: IncidentRecorder = components.extras[RECORDER]
    reader: IncidentReader = components.extras[READER]
    await recorder.start()
    pruner = build_pruner(components.settings, components.metrics)
    pruning = None if pruner is None else asyncio.create_task(pruner.run(), name="journal-prune")
    try:
        yield
    finally:
        if pruning is not None:
            pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruning
        await recorder.aclose()
        await reader.aclose()


def build_pruner(settings: Settings, metrics: Metrics) -> JournalPruner | None:
    """Journal retention as `incidents.journal_keep_days`/`journal_keep_bytes` ask, or None
    (no journal, or both unset: every file kept)."""
    incidents = settings.incidents
    if not incidents.journal or (incidents.journal_keep_days is None
                                 and incidents.journal_keep_bytes is None):
        return None
    return JournalPruner(journal_dir(settings.state_dir), incidents.journal_keep_days,
                         incidents.journal_keep_bytes, metrics)


def admin_routes(app: web.Application, components: Components) -> None:
    """Mount the incident admin route for the reader attached to `components`."""
    add_routes(app, components.extras[READER])
