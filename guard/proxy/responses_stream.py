"""Guarding a Responses API stream: typed events in, the bytes the client may see out.

The hold-back, checks, masks and cuts are `StreamGuard`'s; what differs is how texts arrive. Each
text (an output message's part, a refusal, a reasoning summary, a call's arguments) comes once
in pieces, as `*.delta` events, each a channel keyed by output index, part index and kind; and
then again whole, in the events that close its part, its item and the response
(`response.output_text.done`, `response.content_part.done`, `response.output_item.done`,
`response.completed`). So:

- A delta's text is held and released as `StreamGuard` releases a chat delta; a released piece
  is re-sent as a delta event of the same item and part.
- An event repeating texts whole first flushes their channels (checked, released), so it follows
  their last delta. A repeated text equal to what the deltas carried is replaced by what the
  client was shown (masks included). A text no delta carried (a call's name, an item an upstream
  sends only whole) is checked on its own before the event goes out, and masked or cut for.
- A cut ends the stream with `response.incomplete` (reason `content_filter`); the model's
  connection is closed by the relay.
- Every event sent is numbered again (`sequence_number`): held pieces are re-sent, split or
  joined, and other events may go out before them. Events other than text pass as they come.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from guard.errors import UpstreamError
from guard.proxy.protocols import openai_responses as responses
from guard.proxy.protocols.base import Json, get_path, new_id, set_path
from guard.proxy.sse import SSEEvent
from guard.proxy.stream_guard import BUFFERED, CUT_ACTIONS, StreamGuard, to_end
from guard.proxy.stream_window import Channel, Part
from guard.redaction import apply_redactions
from guard.types import Action, Segment, Stage


@dataclass(slots=True)
class Said:
    """A channel's whole text: as the upstream sent it, and as the client was shown it."""

    received: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)


class ResponsesStreamGuard(StreamGuard):
    """Decides, event by event, what of a Responses API stream the client receives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sequence: int | None = None
        self._said: dict[int, Said] = {}                # channel number -> its whole text
        self._passed: dict[responses.Key, str] = {}     # texts read whole and let through
        self._response: Json = {}                       # the response's own fields

    async def feed(self, event: SSEEvent) -> bytes:
        if self.passthrough:
            return event.raw
        if self.cut or self._done:
            return b""
        body = event.json()
        if body is None:
            if event.unreadable:  # a client's parser may read text in it: fail closed
                raise UpstreamError("upstream sent a stream event guard cannot read as JSON",
                                    status=502, code="upstream_protocol_error")
            return event.raw  # a comment, a keep-alive
        response = body.get("response")
        if isinstance(response, dict):
            self._response = {k: v for k, v in response.items() if k != "output"}
        if body.get("type") in responses.DELTAS and not isinstance(body.get("delta"),
                                                                   str | None):
            # text in a shape guard cannot read (a client may show it): fail closed
            raise UpstreamError("upstream sent answer text in a shape guard cannot read",
                                status=502, code="upstream_protocol_error")
        found = responses.delta_key(body)
        if found is not None:
            return await self._delta(body, *found)
        whole = responses.whole_texts(body)
        out = b"" if whole is None else await self._whole(body, whole)
        return out if self.cut else out + self._encode(body)

    def stop(self) -> bytes:
        """End the stream now, held text dropped: the response `incomplete` for
        `content_filter` (a cut, or a kill switch in refuse mode)."""
        self.cut = True
        response = self._response or {"id": new_id("resp"), "object": "response",
                                      "created_at": int(time.time()), "model": self.ctx.model}
        return self._encode({"type": "response.incomplete", "response": {
            **response, "status": "incomplete", "output": [],
            "incomplete_details": {"reason": "content_filter"}}})

    def error(self, message: str, code: str) -> bytes:
        return responses.error_event(message, code, self._next())

    # -- deltas --------------------------------------------------------------------------------

    async def _delta(self, body: Json, key: responses.Key, text: str) -> bytes:
        now = time.monotonic()
        if self._first_text is None:
            self._first_text = now
        channel = self._channel_at(key)
        self._said[channel.number].received.append(text)
        if self.mode == BUFFERED:
            # the whole event is the frame: released unchanged, it goes out as it came
            channel.add(text, now, body, b"unchanged", hold=True)
            due = [channel] if self._release_due(channel) else []
            return await self._check(due, self._holdback_cut) if due else b""
        channel.add(text, now, body, None, hold=False)
        due = [channel] if channel.end - channel.checked >= self.check_chars else []
        out = await self._check(due, to_end) if due else b""
        if self.cut:
            return out
        self._observe_first(now)
        self._said[channel.number].shown.append(text)
        return out + self._encode(body)

    def _channel_at(self, key: responses.Key) -> Channel:
        index, sub, kind = key
        channel = self._channels.get((index, kind, sub))
        if channel is None:
            channel = Channel(len(self._channels), kind, index, sub)
            self._channels[(index, kind, sub)] = channel
            self._said[channel.number] = Said()
        return channel

    def _reemit(self, ch: Channel, part: Part) -> bytes:
        if part.raw is not None:  # released whole and unmasked: the event as it came
            event = dict(part.frame)
        else:  # its log-probabilities name the tokens, masked ones included
            event = {**part.frame, "delta": part.text}
            if "logprobs" in event:
                event["logprobs"] = []
        self._said[ch.number].shown.append(event["delta"])
        return self._encode(event)

    # -- texts repeated whole ------------------------------------------------------------------

    async def _whole(self, body: Json, whole: list[tuple[responses.Key, responses.Text]]) -> bytes:
        """Flush the channels of the texts `body` repeats, then write in what the client was
        shown of each; read the texts no delta carried."""
        if "response" in body:  # the response's own events close every text
            channels = list(self._channels.values())
        else:
            keys = {(index, kind, sub) for (index, sub, kind), _ in whole}
            channels = [ch for key, ch in self._channels.items() if key in keys]
        out = await self._flush(channels)
        if self.cut:
            return out
        unseen: list[tuple[responses.Key, responses.Text]] = []
        for key, text in whole:
            channel = self._channels.get((key[0], key[2], key[1]))
            said = self._said[channel.number] if channel is not None else None
            if said is not None and text.text == "".join(said.received):
                shown = "".join(said.shown)
                if shown != text.text:
                    _write(body, text.path, shown)
            elif text.text and self._passed.get(key) != text.text:
                unseen.append((key, text))
        return out + (await self._read(body, unseen) if unseen else b"")

    async def _read(self, body: Json, unseen: list[tuple[responses.Key, responses.Text]]) -> bytes:
        first = len(self._channels)  # segment numbers no channel has
        segments = [Segment(t.text, t.role, first + n, Stage.COMPLETION)
                    for n, (_, t) in enumerate(unseen)]
        decision = await self.inspector.inspect(Stage.COMPLETION, segments)
        self._record(decision, segments)
        if decision.action in CUT_ACTIONS[self.mode]:
            return self._cut_stream(decision, [], [])
        for n, (key, text) in enumerate(unseen):
            spans = decision.redactions.get(first + n, ()) \
                if decision.action is Action.REDACT else ()
            if spans:
                _write(body, text.path, apply_redactions(text.text, list(spans), decision.mask))
            else:
                self._passed[key] = text.text
        return b""

    # -- numbering -----------------------------------------------------------------------------

    def _next(self) -> int:
        number = 0 if self._sequence is None else self._sequence
        self._sequence = number + 1
        return number

    def _encode(self, event: Json) -> bytes:
        if self._sequence is None:  # go on from where the upstream began
            first = event.get("sequence_number")
            self._sequence = first if type(first) is int and first >= 0 else 0
        return responses.encode(event, self._next())


def _write(body: Json, path: tuple[str | int, ...], text: str) -> None:
    """Put `text` at `path` in an event, and drop the log-probabilities beside it (they name
    the tokens the text no longer has)."""
    set_path(body, path, text)
    parent = get_path(body, path[:-1])
    if isinstance(parent, dict) and parent.get("logprobs"):
        parent["logprobs"] = []
