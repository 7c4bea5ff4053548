"""Server-sent events: an incremental parser that keeps each event's exact bytes.

Pass-through writes `event.raw` back unchanged, so a client receives the upstream's bytes exactly
when nothing is enforced; the stream guard reads `event.data`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from guard.errors import UpstreamError

_SEPARATORS = (b"\n\n", b"\r\n\r\n", b"\r\r")
_LINES = re.compile(r"\r\n|\r|\n")
DONE = "[DONE]"


@dataclass(slots=True)
class SSEEvent:
    """One event. `raw` includes the blank line that ended it; `data` joins its data lines."""

    raw: bytes
    data: str | None = None
    event: str | None = None

    @property
    def done(self) -> bool:
        return self.data == DONE

    def json(self) -> dict[str, object] | None:
        """The data as a JSON object, or None when it is absent, `[DONE]` or not a JSON object."""
        if self.data is None or self.done:
            return None
        try:
            value = orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


class SSEParser:
    """Feed bytes as they arrive; get back the events they complete.

    max_event_bytes bounds what one unfinished event may buffer: an upstream that never ends an
    event gets an UpstreamError instead of unbounded memory.
    """

    def __init__(self, max_event_bytes: int = 1 << 20) -> None:
        self._buf = bytearray()
        self._scanned = 0
        self._max = max_event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        events: list[SSEEvent] = []
        while True:
            end = self._next_boundary()
            if end < 0:
                break
            raw = bytes(self._buf[:end])
            del self._buf[:end]
            self._scanned = 0
            events.append(parse_event(raw))
        if len(self._buf) > self._max:
            raise UpstreamError(
                f"upstream sent an SSE event longer than {self._max} bytes", status=502,
                code="upstream_protocol_error")
        return events

    def close(self) -> SSEEvent | None:
        """What is left when the stream ends: an unterminated last event, if any."""
        if not self._buf:
            return None
        raw = bytes(self._buf)
        self._buf.clear()
        return parse_event(raw)

    def _next_boundary(self) -> int:
        best = -1
        for sep in _SEPARATORS:
            i = self._buf.find(sep, self._scanned)
            if i >= 0 and (best < 0 or i + len(sep) < best):
                best = i + len(sep)
        if best < 0:
            self._scanned = max(0, len(self._buf) - 3)
        return best


def parse_event(raw: bytes) -> SSEEvent:
    text = raw.decode("utf-8", errors="replace")
    data: list[str] = []
    event: str | None = None
    # only CR, LF and CRLF end lines in SSE; str.splitlines would also split on U+2028, U+0085...
    # which JSON carries unescaped, and a cut data line would hide its text from the classifiers
    for line in _LINES.split(text):
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
    return SSEEvent(raw=raw, data="\n".join(data) if data else None, event=event)


def encode_event(payload: dict[str, object] | str) -> bytes:
    """One `data:` event: a JSON object, or a literal such as `[DONE]`."""
    body = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
    return b"data: " + body + b"\n\n"
