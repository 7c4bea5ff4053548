"""Guarding streams of typed events (the Responses API, Anthropic's Messages API): events in, the
bytes the client may see out.

The hold-back, checks, masks and cuts are `StreamGuard`'s; what differs is how texts arrive. Each
text (a message's text, a refusal, reasoning or thinking, a call's arguments) comes in pieces, in
delta events, each a channel keyed by output index, part or block index, and kind (a delta
event adding to several texts, a shell call's stdout and stderr, is one event for each). Other
events may carry texts whole: the Responses API repeats each text when its part, its item and
the response close (`response.output_text.done`, ..., `response.completed`), and a block or an item
may open with text. So:

- A delta's text is held and released as `StreamGuard` releases a chat delta; a released piece
  is re-sent as a delta event of the same item and part or block.
- Events go out in the order they came: an event waits behind every piece of text that came
  before it and is still held (buffered mode), and text released goes out behind every event
  that came before it.
- An event that closes a text (a `*.done` event, `content_block_stop`) has it checked (but
  not again as it was last read: closed again, nothing added, its findings stand), and
  released but for its last `holdback - 1` characters: a client joins an answer's texts, so a
  value may go on in the next text of its kind. That tail is read with the start of the texts
  after it (masked in both where a value crosses) and released once they are `holdback - 1`
  long, or the answer ends (the response's or the message's end, an error, which flush
  everything), or `max_holdback_ms` passes. A text the event repeats equal to what the deltas
  carried is replaced, when the event goes out, by what the client was shown (masks included).
  A text of a kind deltas carry that an upstream sends only whole is read as such a text, held
  in its event (no delta of its own); any other text no delta carried (a call's name, a
  citation) is checked with the texts around it before the event is queued, and masked or cut
  for.
- A delta of text in a shape guard cannot read ends the stream (`upstream_protocol_error`).

Each dialect's subclass knows its events (`ResponsesStreamGuard`, `MessagesStreamGuard`): how a
cut ends the stream, and how events are written (the Responses API numbers them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from guard.classify.normalize import blank, kept_after, kept_chars
from guard.errors import UpstreamError
from guard.proxy.protocols import anthropic_messages as messages
from guard.proxy.protocols import openai_responses as responses
from guard.proxy.protocols.base import (
    Closes,
    Json,
    Key,
    Path,
    Text,
    drop_upstream_guard,
    get_path,
    holds_text,
    index_of,
    joins,
    masked,
    new_id,
    set_path,
    small_index,
)
from guard.proxy.sent_parts import PART_SIGNS, SentParts
from guard.proxy.sse import DONE_EVENT, SSEEvent
from guard.proxy.stream_guard import (
    BUFFERED,
    CUT_ACTIONS,
    CutAt,
    StreamGuard,
    event_json,
    to_end,
)
from guard.proxy.stream_window import VALUE_IN_GROUPS_CHARS, Channel, Part, value_start
from guard.redaction import refused_for_json
from guard.types import Segment, Span, Stage

SILENT: Json = {}  # the frame of text sent only whole: released into its event, not as a delta
JOINED = 8  # earlier texts of a role a window is read with (as prompts are, `JOINED_TURNS`)


@dataclass(frozen=True, slots=True)
class Reader:
    """Where a dialect's events hold text: a delta's channel and text, the texts an event
    carries whole, whether an event holds text in a shape guard cannot read, the texts an event
    opens an item, a part or a block with (which later deltas extend), the kinds of text
    deltas carry, and a delta event adding to several texts as one event for each (`split`)."""

    delta_key: Callable[[Json], tuple[Key, str] | None]
    whole_texts: Callable[[Json], list[tuple[Key, Text]] | None]
    unreadable: Callable[[Json], bool]
    opening_texts: Callable[[Json], list[tuple[Key, Path, Json]]]
    streamed: frozenset[str]
    split: Callable[[Json], list[Json]] = lambda event: [event]
    apart: Callable[[str], bool] = lambda kind: False  # texts of a kind a client lists, not joins


@dataclass(slots=True)
class Waiting:
    """What waits to go out, in the order it came (`seq`): a piece of text released (`part`, of
    `channel`), or an event, with the places where it repeats a text whole (`fills`: the path,
    and the channel number whose shown text goes there)."""

    seq: int
    event: Json | None = None
    fills: list[tuple[Path, int]] = field(default_factory=list)
    channel: Channel | None = None
    part: Part | None = None


@dataclass(slots=True)
class Said:
    """A channel's whole text: as the upstream sent it, and as the client was shown it;
    whether it shows anything (`normalize.blank`)."""

    received: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    shows: bool = False

    def receive(self, text: str) -> None:
        self.received.append(text)
        self.shows = self.shows or not blank(text)


class EventStreamGuard(StreamGuard):
    """Decides, event by event, what of a stream of typed events the client receives."""

    reader: ClassVar[Reader]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._said: dict[int, Said] = {}                # channel number -> its whole text
        self._passed: dict[Key, Text] = {}              # texts read whole and let through
        self._closed: set[Key] = set()                  # texts whose part or block closed
        self._waiting: list[Waiting] = []               # released or arrived, not yet sent
        self._seq = 0                                   # events seen
        self._ended = False                             # an answer's end flushed its texts

    # -- what each dialect says ----------------------------------------------------------------

    def closes(self, event: Json) -> Closes | None:
        """Which channels `event` closes (beside those of the texts it repeats)."""
        raise NotImplementedError

    def with_text(self, frame: Json, text: str, changed: bool) -> Json:
        """A delta event `frame` re-emitting `text` (`changed`: not the upstream's own)."""
        raise NotImplementedError

    def encode(self, event: Json) -> bytes:
        raise NotImplementedError

    def note(self, event: Json) -> None:
        """See an event go by (what a cut's ending needs to know)."""

    def passing(self, event: SSEEvent) -> None:
        """See an event pass untouched (pass-through mode), for a kill switch's ending."""

    def refused(self, text: str) -> bytes:
        """A kill switch in refuse mode ends the one answer as a cut does (`stop`), unless the
        dialect says more."""
        return self.stop()

    # -- the interface the relay drives --------------------------------------------------------

    async def feed(self, event: SSEEvent) -> bytes:
        if self.passthrough:
            self.passing(event)
            return event.raw
        if self.cut or self._done:
            return b""
        event = event.bare()  # a comment, an `id:` line: read by no check
        body = event_json(event)
        if body is None:
            return await self._end_of_stream() if event.done else event.raw  # a keep-alive
        if self.reader.unreadable(body):  # text a client may show, in a shape guard cannot read
            raise UpstreamError("upstream sent answer text in a shape guard cannot read",
                                status=502, code="upstream_protocol_error")
        drop_upstream_guard(body)  # only guard's own names a cut (every event is encoded anew)
        self.note(body)
        deltas = [(frame, found) for frame in self.reader.split(body)
                  if (found := self.reader.delta_key(frame)) is not None]
        if deltas:
            return await self._deltas(deltas)
        opening = self.reader.opening_texts(body)
        for _, path, _ in opening:  # sent as deltas of their own, once read
            set_path(body, path, "")
        whole = self.reader.whole_texts(body) or []
        closes = self.closes(body)
        waiting = Waiting(self._next_seq(), body)
        out = await self._whole(waiting, whole, closes) if whole or closes else b""
        if self.cut:
            return out
        self._ended = self._ended or (closes is _everything and bool(self._channels))
        self._waiting.append(waiting)
        out += self._drain()
        for key, _, frame in opening:
            found = self.reader.delta_key(frame)
            assert found is not None  # the reader built it as a delta of `key`
            out += await self._delta(frame, key, found[1])
            if self.cut:
                break
        return out

    async def _end_of_stream(self) -> bytes:
        """`[DONE]`, which some servers end a typed stream with: the answer's end, after every
        text held (it must not overtake them: the SDKs stop reading there), sent bare."""
        out = await self._flush(list(self._channels.values()))
        if self.cut:
            return out
        self._ended = True
        return out + self._drain() + DONE_EVENT

    async def finish(self) -> bytes:
        out = await super().finish()
        return out if self.cut else out + self._drain()

    # -- deltas --------------------------------------------------------------------------------

    async def _deltas(self, deltas: list[tuple[Json, tuple[Key, str]]]) -> bytes:
        """An event's deltas, each its own event (a shell call's stdout and stderr)."""
        out = b""
        for frame, (key, text) in deltas:
            out += await self._delta(frame, key, text)
            if self.cut:
                break
        return out

    async def _delta(self, body: Json, key: Key, text: str) -> bytes:
        now = time.monotonic()
        if self._first_text is None:
            self._first_text = now
        channel = self._in_place(self._channel_at(key))
        self._said[channel.number].receive(text)
        if self.mode == BUFFERED:
            # the whole event is the frame: released unchanged, it goes out as it came
            channel.add(text, now, body, b"unchanged", hold=True, seq=self._next_seq())
            due = [channel] if self._release_due(channel) else []
            return await self._check(due, self._holdback_cut) if due else b""
        channel.add(text, now, body, None, hold=False)
        due = [channel] if self._check_due(channel) else []
        out = await self._check(due, to_end) if due else b""
        if self.cut:
            return out
        self._observe_first(now)
        self._said[channel.number].shown.append(text)
        return out + self.encode(body)

    # -- an answer's texts, joined in the client's order ---------------------------------------
    # A client joins an answer's texts of one kind (the SDKs' `output_text`: every message
    # part, in item and part order; an answer's text blocks): each window is read with the
    # texts before it (what is kept of them), and a text is not released while one before it is
    # still open. So a value split across two parts or blocks is found where it ends, before its
    # end goes out, whatever order an upstream sends them in.

    def _joined(self, ch: Channel) -> list[Channel]:
        """The channels a client joins `ch`'s text with: those of its kind and role, unless a
        client keeps each text of that kind apart (`Reader.apart`: a shell call's commands and
        their outputs, which may come interleaved)."""
        if self.reader.apart(ch.kind):
            return []
        return [other for other in self._channels.values()
                if other.kind == ch.kind and other.role == ch.role]

    def _shown(self, channels: list[Channel]) -> list[Channel]:
        """Those of `channels` whose text shows something: a blank text (an empty part or block)
        takes no place among those read with another (`normalize.blank`, as in a whole answer,
        `protocols.base.segments`), so blank texts between the pieces of a value neither push
        one out of the texts read with the other nor keep them apart."""
        return [other for other in channels if self._said[other.number].shows]

    def _before(self, ch: Channel) -> list[Channel]:
        """The channels whose texts a client puts before `ch`'s, in order."""
        return sorted((other for other in self._joined(ch)
                       if (other.choice, other.call) < (ch.choice, ch.call)),
                      key=lambda other: (other.choice, other.call))

    def _in_place(self, ch: Channel) -> Channel:
        """`ch`, about to get text; an error if the client would put that text where guard did
        not read it: after its close or the answer's end (whose flush sent every held tail), or
        before a text of its kind that has begun (a client
        joining texts as they come reads them in the order they came, the SDKs in theirs: text
        for block 0 after block 1's would be read apart from block 1's by one of them)."""
        if self._ended or self._key(ch) in self._closed or any(
                other.end for other in self._after(ch)):
            raise UpstreamError("upstream sent text out of its place in the answer", status=502,
                                code="upstream_protocol_error")
        return ch

    def _start(self, text: str) -> str:
        """What of the texts after one is read with it: as much as a finding can reach, in the
        characters the classifiers read (marks padding the next text do not shorten it)."""
        return text if self.held is None else text[:kept_after(text, 0, self.held)]

    def _after(self, ch: Channel) -> list[Channel]:
        """The channels whose texts a client puts after `ch`'s, in order."""
        return sorted((other for other in self._joined(ch)
                       if (other.choice, other.call) > (ch.choice, ch.call)),
                      key=lambda other: (other.choice, other.call))

    def _lookahead(self, ch: Channel) -> str:
        """The start of the texts after a closed one's (what a value going on past its end would
        be read with)."""
        return self._start("".join(self._texts_after(ch)))

    def _texts_after(self, ch: Channel) -> list[str]:
        """The texts after a closed one's that are read with it (none while it is open)."""
        if self._key(ch) not in self._closed:
            return []
        return [other.text for other in self._shown(self._after(ch))]

    def _segment(self, ch: Channel, text: str, lead: str = "", end: int | None = None,
                 ) -> Segment:
        end = ch.end if end is None else end
        before = self._before(ch)
        # the prompt's text the answer goes on from, before its first text (`_continues`),
        # while the texts between are kept whole
        going_on = self._continues(ch, text, end) \
            if all(o.base == 0 for o in before) and not lead else ()
        earlier = (*going_on, *(other.ending for other in self._shown(before)))
        own = ch.before(end - len(text))  # a long value's run the window starts inside
        earlier = (*earlier, own) if own else earlier
        # the texts after are read with it only when the window reaches its end
        pieces = self._texts_after(ch) if end == ch.end else []
        ahead = self._start("".join(pieces))
        return Segment(lead + text + ahead, ch.role, ch.number, Stage.COMPLETION,
                       earlier[-JOINED:], joins=joins(len(lead + text), pieces, len(ahead)))

    def _settles_at(self, ch: Channel) -> float | None:
        """The latest close of `ch` and the texts a client joins after it that have begun: a
        value may go on through several. None while one of those is open: the value waits
        for it to be read, however long it takes (`_tail_cut`), unless the texts after it
        already show where it ends (`_value_ended`): then its own close."""
        if ch.closed_at is None:  # open (most texts, most of the time): no need to look after it
            return None
        if self._value_ended(ch):
            return ch.closed_at
        latest = ch.closed_at
        for other in self._after(ch):
            if other.end:
                if other.closed_at is None:
                    return None
                latest = max(latest, other.closed_at)
        return latest

    def _value_ended(self, ch: Channel) -> bool:
        """Whether the value closed `ch` ends in ends before the texts after it, read joined to
        them as a client reads them: the value in progress of the joined text (`value_start`,
        which joins a card's or an IBAN's groups across a space) begins after `ch`'s text, as
        in `final` + ` and`, or between two calls' arguments, `{"city": "Paris"}` + `{"ci` (a
        value read across them is one a model cut in two objects). A text after it that stalls
        then holds nothing back."""
        ahead = self._lookahead(ch)[:2 * VALUE_IN_GROUPS_CHARS]
        if not ahead:
            return False
        # as far back as a value's groups reach (in characters the classifiers read): the word
        # the text ends in may be long (a held word of marks), and only whether the value
        # begins before `ahead` matters
        pending = ch.text[max(ch.released, ch.back(ch.end, 2 * VALUE_IN_GROUPS_CHARS)) - ch.base:]
        if ch.role == "tool_call" and pending.rstrip().endswith("}") \
                and ahead.lstrip().startswith("{"):
            return True
        return value_start(pending + ahead) >= len(pending)

    def _blocked(self, ch: Channel) -> bool:
        return any(self._key(other) not in self._closed for other in self._before(ch))

    def _release_due(self, ch: Channel) -> bool:
        return not self._blocked(ch) and super()._release_due(ch)

    def _due_at(self, ch: Channel) -> float | None:
        due = super()._due_at(ch)  # most often None (nothing held): then no need to look before
        return None if due is None or self._blocked(ch) else due

    @staticmethod
    def _key(ch: Channel) -> Key:
        return ch.choice, ch.call, ch.kind

    def _channel_at(self, key: Key) -> Channel:
        index, sub, kind = key
        channel = self._channels.get((index, kind, sub))
        if channel is None:
            channel = self._new_channel(kind, index, sub)
            self._channels[(index, kind, sub)] = channel
            self._said[channel.number] = Said()
        return channel

    # -- a closed text's tail, read with what follows ------------------------------------------

    async def _check(self, channels: list[Channel], cut_at: CutAt,
                     stops: dict[int, int] | None = None) -> bytes:
        """Check as `StreamGuard` does, with the held tails of the closed texts before these
        (read with what follows them, to their ends); then send what may go out."""
        asked = {ch.number for ch in channels}
        tails = {other.number: other for ch in channels for other in self._before(ch)
                 if other.number not in asked and self._key(other) in self._closed
                 and (other.pending or other.checked < other.end)}
        if tails:
            channels = [*channels, *tails.values()]
            asked_cut = cut_at

            def cut_at(ch: Channel, spans: list[Span]) -> int:
                return (self._tail_cut if ch.number in tails else asked_cut)(ch, spans)

        out = await super()._check(channels, cut_at, stops)
        return out if self.cut else out + self._drain()

    def _tail_cut(self, ch: Channel, spans: list[Span]) -> int:
        """A closed text is released whole once what follows it is long enough to hold the rest
        of any value its tail begins (`value_held`: with a classifier reading the whole text,
        the longest finding of those that bound theirs, as for any text); until then, as any
        text, but for its last characters (with a whole-text classifier, none of it)."""
        if kept_chars(self._lookahead(ch)) >= self.value_held:
            return ch.end
        if self.held is None:
            return ch.released
        return self._holdback_cut(ch, spans)

    # -- in the order things came ----------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _reemit(self, ch: Channel, part: Part) -> bytes:
        self._waiting.append(Waiting(part.seq, channel=ch, part=part))
        return b""  # sent in order by `_drain`

    def _drain(self) -> bytes:
        """Send what waits, in the order it came, up to the first event that still has text held
        before it."""
        held = min((ch.pieces[0].seq for ch in self._channels.values() if ch.pieces),
                   default=None)
        self._waiting.sort(key=lambda w: w.seq)
        out: list[bytes] = []
        sent = 0
        for waiting in self._waiting:
            if waiting.part is None and held is not None and held < waiting.seq:
                break
            out.append(self._send(waiting))
            sent += 1
        del self._waiting[:sent]
        return b"".join(out)

    def _send(self, waiting: Waiting) -> bytes:
        if waiting.part is not None:
            assert waiting.channel is not None
            return self._send_part(waiting.channel, waiting.part)
        assert waiting.event is not None
        for path, number in waiting.fills:  # what the client was shown, now all sent
            said = self._said[number]
            shown = "".join(said.shown)
            if shown != "".join(said.received):
                _write(waiting.event, path, shown)
        return self.encode(waiting.event)

    def _send_part(self, ch: Channel, part: Part) -> bytes:
        if part.frame is SILENT:  # its text goes out in the event that carried it whole
            self._said[ch.number].shown.append(part.text)
            return b""
        found = self.reader.delta_key(part.frame)
        assert found is not None  # the frame is the delta event the text came in
        text = found[1] if part.raw is not None else part.text
        self._said[ch.number].shown.append(text)
        return self.encode(part.frame if part.raw is not None else
                           self.with_text(part.frame, text, changed=True))

    # -- texts an event carries whole ----------------------------------------------------------

    async def _whole(self, waiting: Waiting, whole: list[tuple[Key, Text]],
                     closes: Closes | None) -> bytes:
        """Check the channels an event closes (flush them all at the answer's end), and note
        where it repeats their texts, for what the client was shown to be written in when it
        goes out; read the texts no delta carried."""
        keys = {key for key, _ in whole}
        channels = sorted((ch for ch in self._channels.values() if self._key(ch) in keys
                           or (closes is not None and closes(self._key(ch)))),
                          key=lambda ch: (ch.choice, ch.call))
        self._closed.update(map(self._key, channels))
        now = time.monotonic()
        for ch in channels:
            ch.closed_at = now if ch.closed_at is None else ch.closed_at
        if any(self._blocked(ch) for ch in channels):
            raise UpstreamError("upstream closed a text before the one a client puts before it",
                                status=502, code="upstream_protocol_error")
        if closes is _everything or self.mode != BUFFERED:
            out = await self._flush(channels)
        else:
            waiting_channels = [ch for ch in channels if ch.pending or ch.checked < ch.end]
            out = (await self._check(waiting_channels, self._tail_cut)
                   if waiting_channels else b"")
        if self.cut:
            return out
        unseen: list[tuple[Key, Text]] = []
        silent: list[Channel] = []
        for key, text in whole:
            channel = self._channels.get((key[0], key[2], key[1]))
            if channel is None and text.text and self.mode == BUFFERED \
                    and key[2] in self.reader.streamed:
                channel = self._silent(key, text.text)
                silent.append(channel)
            if channel is not None and text.text == "".join(self._said[channel.number].received):
                waiting.fills.append((text.path, channel.number))
            elif text.text and (key not in self._passed or self._passed[key].text != text.text):
                unseen.append((key, text))
        assert waiting.event is not None
        if unseen:
            out += await self._read(waiting.event, unseen)
        if silent and not self.cut:  # checked as closed texts, the event waiting behind them
            out += await self._check(silent, self._tail_cut)
            waiting.seq = self._next_seq()
        return out

    def _silent(self, key: Key, text: str) -> Channel:
        """A channel for a text an upstream sent only whole, in the event it waits in: held,
        checked and masked as a streamed one, released into the event (no delta of its own)."""
        channel = self._in_place(self._channel_at(key))
        channel.add(text, time.monotonic(), SILENT, None, hold=True, seq=self._next_seq())
        self._said[channel.number].receive(text)
        self._closed.add(self._key(channel))
        channel.closed_at = time.monotonic()
        return channel

    async def _read(self, body: Json, unseen: list[tuple[Key, Text]]) -> bytes:
        """Read texts no delta carried, each with the texts a client puts before and after it:
        those of the channels, those read here, and those read whole before (already sent: a
        value they begin is cut, or masked where it ends, here)."""
        first = len(self._channels)  # segment numbers no channel has
        whole = dict(self._passed)
        whole.update(unseen)
        segments = []
        for n, ((index, sub, kind), text) in enumerate(unseen):
            # blank texts take no place among them (`_shown`)
            joined = sorted([(ch.choice, ch.call, ch.ending)
                             for ch in self._shown(list(self._channels.values()))
                             if ch.kind == kind and ch.role == text.role]
                            + [(k[0], k[1], t.text) for k, t in whole.items()
                               if k[2] == kind and t.role == text.role and not blank(t.text)])
            context = tuple(t for i, s, t in joined if (i, s) < (index, sub))
            pieces = [t for i, s, t in joined if (i, s) > (index, sub)]
            ahead = self._start("".join(pieces))
            segments.append(Segment(text.text + ahead, text.role, first + n, Stage.COMPLETION,
                                    context[-JOINED:],
                                    joins=joins(len(text.text), pieces, len(ahead))))
        decision = refused_for_json(
            await self.inspector.inspect(Stage.COMPLETION, segments),
            [(first + n, text.text) for n, (key, text) in enumerate(unseen)
             if key[2] in self.structured.kinds])
        self._record(decision, segments)
        if decision.action in CUT_ACTIONS[self.mode]:
            return self._cut_stream(decision, [], [])
        done = masked(decision, [(text.path, text.text) for _, text in unseen], first)
        for _, path, text_masked in done:
            _write(body, path, text_masked)
        written = {n for n, _, _ in done}
        self._passed.update(item for n, item in enumerate(unseen) if n not in written)
        return b""


def _write(body: Json, path: Path, text: str) -> None:
    """Put `text` at `path` in an event, and drop the log-probabilities beside it (they name
    the tokens the text no longer has)."""
    set_path(body, path, text)
    parent = get_path(body, path[:-1])
    if isinstance(parent, dict) and parent.get("logprobs"):
        parent["logprobs"] = []


def _everything(key: Key) -> bool:
    return True


RESPONSE_FRAME = frozenset({"id", "object", "created_at", "model", "metadata"})


class ResponsesStreamGuard(EventStreamGuard):
    """The Responses API: a cut ends the stream with `response.incomplete` (reason
    `content_filter`); every event sent is numbered again (`sequence_number`), as held pieces
    are re-sent split or joined and other events may go out before them."""

    reader = Reader(responses.delta_key, responses.whole_texts, responses.unreadable,
                    responses.opening_texts, frozenset(responses.DELTAS.values()),
                    responses.split_deltas, responses.apart)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sequence: int | None = None
        self._response: Json = {}                       # the response's own fields
        self._last: SSEEvent | None = None              # the last event passed untouched
        self._named_seen = False                        # the stream named `named`
        self._created = False                           # a response.created sent
        # output items the client was sent, by index: as last sent, and whether closed
        self._items: dict[int, tuple[Json, bool]] = {}
        self._parts = SentParts()                       # their message parts' text, as sent

    def note(self, event: Json) -> None:
        self._check_model(event)
        response = event.get("response")
        if isinstance(response, dict):  # what a cut's ending repeats: names, no text
            self._response = {k: v for k, v in response.items() if k in RESPONSE_FRAME}
            usage = response.get("usage")  # and the usage, once it is known, but text in it
            if isinstance(usage, dict) and not holds_text(usage):  # (read when the event is)
                self._usage = usage

    def _check_model(self, event: Json) -> None:
        """A stream fetched by id is read under the policy of the model its answer whole named:
        it must begin by naming that model (`response.created`), and name no other."""
        if not self.named:
            return
        response = event.get("response")
        model = response.get("model") if isinstance(response, dict) else None
        if model != self.named and (model is not None or not self._named_seen):
            raise UpstreamError("upstream's stream does not name the model its answer did",
                                status=502, code="upstream_protocol_error")
        self._named_seen = True

    def closes(self, event: Json) -> Closes | None:
        # the response's own events, and an error: held text must not follow either
        if "response" in event or event.get("type") == "error":
            return _everything
        return responses.closed_by(event)

    def with_text(self, frame: Json, text: str, changed: bool) -> Json:
        event = responses.with_text(frame, text)
        if changed and "logprobs" in event:  # they name the tokens, masked ones included
            event["logprobs"] = []
        return event

    def stop(self) -> bytes:
        """End the stream now, held text dropped: the response `incomplete` for
        `content_filter` (a cut, or a kill switch in refuse mode), with its usage: the
        upstream's when it came, else zeros (a client reads `usage.total_tokens`)."""
        self.cut = True
        response = self._response or {"id": new_id("resp"), "object": "response",
                                      "created_at": int(time.time()), "model": self.ctx.model}
        # the SDKs' stream helpers refuse an ending before the response's creation
        created = [] if self._created else [{"type": "response.created", "response": {
            **response, "status": "in_progress", "output": []}}]
        return b"".join(self.encode(event) for event in [*created, self._naming_cut({
            "type": "response.incomplete", "response": {
                **response, "status": "incomplete", "output": [],
                "incomplete_details": {"reason": "content_filter"},
                "usage": dict(self._usage or responses.NO_USAGE)}})])

    def refused(self, text: str) -> bytes:
        """End the stream for a kill switch in refuse mode, held text dropped: a message
        refusing with `text` after the items the client was sent, then the response
        `completed` with it (the SDKs' stream helpers raise on a stream that never completes,
        and refuse mode is there so client applications keep working)."""
        self.cut = True
        refusal = responses.completion(new_id("resp"), self.ctx.model, text, "content_filter")
        # the SDKs' helpers refuse a completion that leaves out an item they were sent: those
        # are listed first, as sent (an item left open ends `incomplete` with the text it was
        # sent, its held text dropped: the helpers return these items, not the deltas they read)
        sent = [item if done else {**item, "status": "incomplete", **self._sent_content(i, item)}
                for i, (item, done) in sorted(self._items.items())]
        response = {**refusal, **self._response, "usage": dict(self._usage or refusal["usage"]),
                    "output": [*sent, *refusal["output"]]}
        created = [] if self._created else [{"type": "response.created", "response": {
            **response, "status": "in_progress", "output": []}}]
        index = max(self._items, default=-1) + 1
        return b"".join(self.encode(event) for event in [
            *created, *responses.refusal_item_events(response, index)])

    def _sent_content(self, index: int, item: Json) -> Json:
        """The content of a message left open (item `index`) as the client was sent it."""
        return {"content": self._parts.content(index)} if item.get("type") == "message" else {}

    def _sent_item(self, event: Json) -> None:
        """Note an item the client is sent (`response.output_item.added` or `.done`)."""
        kind, index, item = event.get("type"), event.get("output_index"), event.get("item")
        if kind in responses.ITEM_EVENTS and isinstance(index, int | float) \
                and small_index(index) and isinstance(item, dict):
            self._items[int(index)] = (item, kind == "response.output_item.done")

    def passing(self, event: SSEEvent) -> None:
        if event.data and "sequence_number" in event.data:  # not a comment, a keep-alive
            self._last = event
            self._created = self._created or "response.created" in event.data
            if '"response.output_item.' in event.data:
                self._sent_item(event.json() or {})
            elif any(sign in event.data for sign in PART_SIGNS):
                self._parts.note(event.json() or {})
        if self.named and event.data:  # read, however its keys are written
            self._check_model(event.json() or {})

    def error(self, message: str, code: str) -> bytes:
        return responses.error_event(message, code, self._next())

    def mark(self) -> Any:
        return (super().mark(), self._created, self._sequence, self._last, dict(self._items),
                self._parts.mark())

    def rewind(self, mark: Any) -> None:
        base, self._created, self._sequence, self._last, self._items, parts = mark
        self._parts.rewind(parts)
        super().rewind(base)

    def _next(self, event: Json | None = None) -> int:
        number = self._first(event) if self._sequence is None else self._sequence
        self._sequence = number + 1
        return number

    def _first(self, event: Json | None) -> int:
        """Where numbering begins: after the last event passed untouched, or at the first
        event's own number (an upstream may not begin at 0)."""
        after = self._last is not None
        source = (self._last.json() if self._last is not None else event) or {}
        number = source.get("sequence_number")
        return number + after if type(number) is int and number >= 0 else 0

    def encode(self, event: Json) -> bytes:
        if self.mode == BUFFERED:  # as a chat stream's chunks: held text's tokens go with none
            responses.drop_logprobs(event)
        self._created = self._created or event.get("type") == "response.created"
        self._sent_item(event)
        self._parts.note(event)
        return responses.encode(event, self._next(event))


class MessagesStreamGuard(EventStreamGuard):
    """Anthropic's Messages API: a cut closes the open blocks and stops the message for
    `refusal`."""

    reader = Reader(messages.delta_key, messages.whole_texts, messages.unreadable,
                    messages.opening_texts,
                    frozenset(kind for _, kind in messages.DELTA_TEXT.values()))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: dict[int, bool] = {}   # block index -> opened and not closed, as sent
        self._started = False              # a message_start sent
        self._stopped = False              # a message_delta (the stop reason) sent

    def closes(self, event: Json) -> Closes | None:
        closed = messages.closes(event)
        if closed is True:
            return _everything
        if closed is None or closed is False:
            return None
        return lambda key: key[1] == closed

    def with_text(self, frame: Json, text: str, changed: bool) -> Json:
        return messages.with_text(frame, text)

    def stop(self) -> bytes:
        """End the stream now, held text dropped: the open blocks closed and the message stopped
        for `refusal` (after a `message_start`, if the client has not had one: the SDKs need
        it)."""
        self.cut = True
        still = [i for i, is_open in sorted(self._open.items()) if is_open]
        started = [] if self._started else [{"type": "message_start", "message": {
            **messages.completion(new_id("msg"), self.ctx.model, "", "refusal"),
            "content": [], "stop_reason": None}}]
        ending = messages.ending(still)
        if self._stopped:  # the stop reason went out: the message only ends
            ending = [event for event in ending if event["type"] != "message_delta"]
        ending[-1] = self._naming_cut(ending[-1])  # `message_stop`
        return b"".join(self.encode(event) for event in [*started, *ending])

    def passing(self, event: SSEEvent) -> None:
        data = event.data or ""
        if any(kind in data for kind in ("message_start", "content_block_st", "message_delta")):
            # few events: read those
            self._sent(event.json() or {})

    def encode(self, event: Json) -> bytes:
        self._sent(event)
        return messages.encode(event)

    def mark(self) -> Any:
        return super().mark(), dict(self._open), self._started, self._stopped

    def rewind(self, mark: Any) -> None:
        base, self._open, self._started, self._stopped = mark
        super().rewind(base)

    def _sent(self, event: Json) -> None:
        kind = event.get("type")  # the blocks the client saw opened and not yet closed
        if kind in ("content_block_start", "content_block_stop"):
            self._open[index_of(event, 0)] = kind == "content_block_start"
        self._started = self._started or kind == "message_start"
        self._stopped = self._stopped or kind == "message_delta"


# The stream guard of each dialect whose stream is typed events, not chunks of choices.
EVENT_STREAM_GUARDS: dict[str, type[StreamGuard]] = {
    responses.ROUTE: ResponsesStreamGuard, messages.ROUTE: MessagesStreamGuard}
