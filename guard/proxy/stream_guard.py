"""Guarding a streamed completion: SSE events in, the bytes the client may see out.

This first version passes every event through unchanged; the streaming guard (windowed
classification, hold-back, cut-off, redaction across chunks) replaces `StreamGuard`'s body
without changing its interface.
"""

from __future__ import annotations

from guard.proxy.protocols.base import Dialect
from guard.proxy.sse import SSEEvent
from guard.types import GuardContext, Inspector, Recorder


class StreamGuard:
    """Decides, event by event, what of an upstream stream the client receives."""

    def __init__(self, dialect: Dialect, inspector: Inspector, ctx: GuardContext,
                 recorder: Recorder) -> None:
        self.dialect = dialect
        self.inspector = inspector
        self.ctx = ctx
        self.recorder = recorder
        self.cut = False
        self.incident_id: str | None = None

    async def feed(self, event: SSEEvent) -> bytes:
        """Bytes to send now for this event (possibly none while text is held back)."""
        return event.raw

    async def finish(self) -> bytes:
        """Bytes still held back when the upstream stream ended."""
        return b""
