"""Server-sent events: an incremental parser that keeps each event's exact bytes.

Pass-through writes `event.raw` back unchanged, so a client receives the upstream's bytes exactly
when nothing is enforced; the stream guard reads `event.data`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import orjson

from guard.errors import UpstreamError

# An event ends at a blank line: one line ending (CRLF, LF or CR) right after another, in any
# mix ("\n\r\n" is LF, then a blank line ended by CRLF). A CR followed by LF is one line ending,
# never two, as the SSE specification reads it.
_BOUNDARY = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r|\n)")
_BOM = b"\xef\xbb\xbf"
_LINES = re.compile(r"\r\n|\r|\n")
DONE = "[DONE]"
KEEP_ALIVE = b":\n\n"  # an empty comment


@dataclass(slots=True)
class SSEEvent:
    """One event. `raw` includes the blank line that ended it; `data` joins its data lines;
    `extra`: it has lines of other kinds too (comments, `id:`, `retry:`, a field SSE does not
    name), which a client reading the bytes reads and the stream guard does not."""

    raw: bytes
    data: str | None = None
    event: str | None = None
    extra: bool = False

    def bare(self) -> SSEEvent:
        """The event with only its `event:` and `data:` lines (itself, when it has no others):
        what a guarded stream sends. An event of neither goes out as an empty comment, which
        keeps the connection alive as the upstream's did."""
        if not self.extra:
            return self
        lines = [] if self.event is None else [f"event: {self.event}"]
        lines += [] if self.data is None else [f"data: {line}" for line in self.data.split("\n")]
        raw = ("\n".join(lines) + "\n\n").encode() if lines else KEEP_ALIVE
        return SSEEvent(raw=raw, data=self.data, event=self.event)

    @property
    def done(self) -> bool:
        """`[DONE]`, and data that only begins with it: the openai SDK ends the stream there."""
        return self.data is not None and self.data.startswith(DONE)

    @property
    def unreadable(self) -> bool:
        """Data that a client reads as JSON and guard does not read: JSON that is not an object
        but holds text (an array of events, which the SDKs parse item by item; a string), or
        JSON that only a lenient parser reads (NaN, Infinity, a lone surrogate: Python's json
        module, which the SDKs use, reads them; orjson, which is strict, does not)."""
        if self.data is None or self.done:
            return False
        try:
            value = orjson.loads(self.data)
        except orjson.JSONDecodeError:
            try:
                json.loads(self.data)
            except ValueError:
                return False  # no client reads it either
            except RecursionError:
                return True  # deeper than guard reads: fail closed
            return True
        return not isinstance(value, dict) and _holds_text(value)

    def json(self) -> dict[str, object] | None:
        """The data as a JSON object, or None when it is absent, `[DONE]` or not a JSON object."""
        if self.data is None or self.done:
            return None
        try:
            value = orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


def _holds_text(value: object) -> bool:
    if isinstance(value, list):
        return any(_holds_text(item) for item in value)
    return isinstance(value, str | dict)


class SSEParser:
    """Feed bytes as they arrive; get back the events they complete.

    max_event_bytes bounds what one unfinished event may buffer: an upstream that never ends an
    event gets an UpstreamError instead of unbounded memory.
    """

    def __init__(self, max_event_bytes: int = 1 << 20) -> None:
        self._buf = bytearray()
        self._scanned = 0
        self._max = max_event_bytes
        self._begun = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buf = self._buf
        buf += chunk
        if not self._begun:  # a byte order mark may open the stream; clients skip it
            if len(buf) < len(_BOM) and _BOM.startswith(bytes(buf)):
                return []
            self._begun = True
            if buf.startswith(_BOM):
                del buf[:len(_BOM)]
        events: list[SSEEvent] = []
        start = 0
        # one pass over what is new, however many events it completes: searching the whole
        # buffer again after each event would cost time quadratic in the events a read carries
        boundary = _BOUNDARY.search(buf, self._scanned)
        # a CR ending the buffer may be the first half of a CRLF: wait for the next byte
        while boundary is not None and not (boundary.end() == len(buf) and buf.endswith(b"\r")):
            end = boundary.end()
            events.append(parse_event(bytes(buf[start:end])))
            start = end
            boundary = _BOUNDARY.search(buf, end)
        if start:
            del buf[:start]
        # a separator may straddle this read and the next: look again from its longest reach
        self._scanned = max(0, len(buf) - 3)
        if len(buf) > self._max:
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


def parse_event(raw: bytes) -> SSEEvent:
    # most events are one `data: ` line: take its value without splitting lines
    if raw.startswith(b"data: "):
        value = raw[6:].rstrip(b"\r\n")
        if b"\n" not in value and b"\r" not in value:
            return SSEEvent(raw=raw, data=value.decode("utf-8", errors="replace"))
    return parse_lines(raw)


def parse_lines(raw: bytes) -> SSEEvent:
    """Any event, line by line (what `parse_event` does for events of one `data: ` line)."""
    text = raw.decode("utf-8", errors="replace")
    data: list[str] = []
    event: str | None = None
    extra = False
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
        elif line:
            extra = True
    return SSEEvent(raw=raw, data="\n".join(data) if data else None, event=event, extra=extra)


def encode_event(payload: dict[str, object] | str) -> bytes:
    """One `data:` event: a JSON object, or a literal such as `[DONE]`."""
    body = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
    return b"data: " + body + b"\n\n"


# The end of a stream as a guarded stream sends it: a `[DONE]` with anything after it on its
# line (which the SDKs read as the end, and a client reading the bytes reads on) goes out bare.
DONE_EVENT = encode_event(DONE)
