"""How incidents plug into guard's composition root (guard.app).

  attach(components)            build the recorder and make it `components.recorder`; call it
                                before anything that captures the recorder (killswitch.attach)
  lifecycle(components)         start it before serving; on shutdown drain it (STARTERS, first,
                                so it closes last and records the other parts' final events)
  admin_routes(app, components) mount GET /admin/incidents on the admin app (ADMIN_ROUTES)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from guard.components import Components
from guard.incidents.api import add_routes
from guard.incidents.reader import IncidentReader, build_reader
from guard.incidents.recorder import IncidentRecorder
from guard.incidents.settings import IncidentSettings

RECORDER = "incidents"
READER = "incident_reader"


def settings_of(components: Components) -> IncidentSettings:
    """The `incidents:` section of the settings (defaults when the section is absent)."""
    found = getattr(components.settings, "incidents", None)
    return found if isinstance(found, IncidentSettings) else IncidentSettings()


def attach(components: Components) -> IncidentRecorder:
    """Build the recorder (not started) and the reader; the recorder becomes the Recorder."""
    settings = settings_of(components)
    state_dir, redis_url = components.settings.state_dir, components.settings.redis_url
    recorder = IncidentRecorder(settings, state_dir, redis_url, components.metrics)
    components.recorder = recorder
    components.extras[RECORDER] = recorder
    components.extras[READER] = build_reader(settings, state_dir, redis_url)
    return recorder


async def lifecycle(components: Components) -> AsyncIterator[None]:
    """Start the recorder; on shutdown drain every queue (to its sink or its spool)."""
    recorder: IncidentRecorder = components.extras[RECORDER]
    reader: IncidentReader = components.extras[READER]
    await recorder.start()
    try:
        yield
    finally:
        await recorder.aclose()
        await reader.aclose()


def admin_routes(app: web.Application, components: Components) -> None:
    """Mount the incident admin route for the reader attached to `components`."""
    add_routes(app, components.extras[READER])
