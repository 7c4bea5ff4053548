"""Guarding a streamed completion: SSE events in, the bytes the client may see out.

Every choice's content (and its refusal and reasoning text), and every tool call's arguments, is
a channel classified on its own (one segment each, indexed by channel number). The policy pins how:

- `buffered` (default): a delta's text is held until it has been classified. After a check the
  text is released except its last `holdback - 1` characters (`holdback`: the longest finding
  the completion classifiers can make), so a finding that starts in released text lies wholly in
  the classified text: a finding split across any chunk boundary is seen whole before any of it
  is released. Each check also re-reads `holdback - 1` characters before the first unreleased
  one (text released early by `max_holdback_ms` may hold the start of a finding). When a
  classifier reads encoded runs decoded (`decoded: true`), a finding covers a whole base64 or hex
  run: a run is then held until it ends (at most RUN_CHARS characters), and each window starts
  where a run going on at its start began (`Channel.run_start`). Redactions
  are masked in the released text, across chunk boundaries. Checks run when at least
  `check_chars` new characters can be released (the first one at once, for time to first
  token), at the end of a choice, and when held text reaches `max_holdback_ms`: then classified
  text is released up to its last word boundary, and a word still in progress at most one more
  `max_holdback_ms` later (a slow stream is never held indefinitely). Such a check on time
  decides on what it would release, not on the word still being written: when any rule matches
  the window read to the end (a flag or a shadow rule too), the window up to the release is read
  again and decides, and a value found running past the release is held until it ends
  (`_check`); a block of only classifiers reading the whole text on an open text's first
  EARLY_CHARS characters holds it rather than cutting (`_early`).
- `optimistic`: deltas go out as they arrive; every `check_chars` characters (or
  `max_holdback_ms` after unchecked text arrived) the text is classified before the next event is
  forwarded, and a failing check cuts the stream. Text already sent cannot be masked, so a redact
  decision cuts the stream too. A check on time decides, as in buffered mode, on the text up to
  its last word boundary (the word in progress is left unchecked: read by the next check, on
  time once more text has come, or at the end), and an early block of whole-text classifiers
  waits for more text rather than cutting. The word waits for its text to go on, but not for
  good (a chat text has no close: the arguments of a tool call the next one follows end in a
  word no more text comes to): it is read as ended once its text has had nothing more for
  WORD_IDLE times `max_holdback_ms`, and when another text of its choice begins (the next tool
  call, a call after the content), before that text goes out (`_words_ended`).

A block cuts the stream: no further content, a last chunk per unfinished choice with
`finish_reason: "content_filter"`, then `data: [DONE]`; the relay closes the upstream. The cut is
recorded with its rule and the character offset of the finding in its choice's text.

When the completion classifiers can find nothing (hold-back 0) events pass through untouched, and
in any mode an event whose text is released whole and unmasked is forwarded with its own bytes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, cast

import orjson

from guard.errors import UpstreamError
from guard.observability.metrics import Metrics
from guard.proxy.protocols.base import (
    GUARD_KEY,
    MAX_CHOICES_WRITTEN,
    NO_USAGE,
    NOT_JSON,
    Continued,
    Delta,
    Dialect,
    Path,
    Structured,
    choice_index,
    counts,
    drop_upstream_guard,
    folded_keys,
    index_of,
    list_at,
    masked,
    repeats_keys,
    set_path,
    usage_chunk,
    write_order,
)
from guard.proxy.protocols.openai_chat import (
    CALL_KINDS,
)
from guard.proxy.sse import DONE_EVENT, SSEEvent, encode_event
from guard.proxy.stream_chunks import (
    ANSWER_FREE_FORM,
    ANSWER_KEYS,
    CALL_CHANNELS,
    REASONING,
    aside_texts,
    channel_kind,
    drop_choice_tokens,
    drop_detail_texts,
    finishing_choices,
    indices,
    plain_chunk,
    rechunk,
    text_shell,
    unreadable_answer,
)
from guard.proxy.stream_window import Channel, Json, Part, Read, straddle
from guard.redaction import as_block, breaks_json
from guard.types import (
    Action,
    Decision,
    GuardContext,
    Inspector,
    Recorder,
    RuleMatch,
    Segment,
    Span,
    Stage,
    strictest,
)

BUFFERED = "buffered"
OPTIMISTIC = "optimistic"
CUT_ACTIONS = {BUFFERED: {Action.BLOCK}, OPTIMISTIC: {Action.BLOCK, Action.REDACT}}
ASIDE = 1 << 20  # segment numbers of texts read aside from the channels (citations)
# the texts read aside a stream keeps, with their masks, so as not to read them again: past
# this many (a new id each chunk, for long) they are forgotten, and read again as they come
ASIDE_TEXTS = 4096
# a text read aside that is one token of an id's shape (`req_8f3a9b...`, a UUID, a fingerprint)
# is read only by the classifiers bounding their findings (keys, personal data, patterns): a
# classifier judging the whole text's meaning (a remote model) gains little from it, and a
# per-chunk id made each chunk a call to it
ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# however long a stream has run, `recheck_growth` makes text wait at most this long (or
# `max_holdback_ms`, if longer): a model writing for minutes is not held back for minutes
RECHECK_MAX_S = 5.0
# a classifier reading the whole text judges an answer's first words as a whole answer of them
# ("This is", "[ChatGPT]: I'm" score as harmful answers): its block, on a check on time of an
# answer still going on, holds the text (nothing goes out) while the text read is shorter than
# this; more text, or the answer's end, decides
EARLY_CHARS = 64
# an optimistic text's last word, left unread by a check on time, is read as ended once its text
# has had nothing more for this many times its wait (`max_holdback_ms`), as buffered mode lets a
# word in progress out
WORD_IDLE = 2
CutAt = Callable[[Channel, list[Span]], int]   # where a release stops, given the spans to mask


class StreamGuard:
    """Decides, event by event, what of an upstream stream the client receives."""

    def __init__(self, dialect: Dialect, inspector: Inspector, ctx: GuardContext,
                 recorder: Recorder, metrics: Metrics | None = None,
                 observers: Sequence[Callable[[GuardContext, Decision], None]] = ()) -> None:
        self.dialect = dialect
        self.observers = observers
        self.inspector = inspector
        self.ctx = ctx
        self.recorder = recorder
        self.metrics = metrics
        self.cut = False
        self.incident_id: str | None = None
        settings = inspector.stream
        self.mode = OPTIMISTIC if settings.mode == OPTIMISTIC else BUFFERED
        self.check_chars = max(1, settings.check_chars)
        self.max_s = max(0.0, settings.max_holdback_ms / 1000)
        self.holdback = inspector.holdback_chars(Stage.COMPLETION)
        self.passthrough = not inspector.inspects(Stage.COMPLETION)
        # a finding whose first character is released must end inside the classified text: with
        # findings at most `holdback` long, holding back `holdback - 1` characters is enough
        self.held = None if self.holdback is None else max(0, self.holdback - 1)
        # a value in progress is held back while shorter than the longest finding; with a
        # classifier that reads the whole text, of those that bound their findings (Llama Guard
        # judges the text so far, not a value in it)
        self.value_held = self.held if self.held is not None else max(
            0, inspector.value_chars(Stage.COMPLETION) - 1)
        # a classifier that reads the whole answer is sent all of it at each check: the checks
        # of a long stream are spaced out as it runs, so that what it is sent grows with the
        # answer's length, not with its square (for 20 s; then a check every RECHECK_MAX_S)
        self.growth = settings.recheck_growth if self.holdback is None else 0.0
        # a classifier reading encoded runs decoded finds a key anywhere in a base64 run: such a
        # run is held back, and re-read, whole (see Channel.run_start)
        self.runs = inspector.reads_encoded_runs(Stage.COMPLETION)
        self.whole_readers = inspector.reads_whole(Stage.COMPLETION)
        self._channels: dict[tuple[int, str, int], Channel] = {}
        self._choices: dict[int, bool] = {}        # choice index -> finished
        self._frame: Json = {}
        self._recorded: set[str] = set()
        self._matches: dict[str, RuleMatch] = {}
        self._action = Action.ALLOW
        self._first_text: float | None = None
        self._first_sent = False
        self._done = False
        # an answer fetched by id: the model it must name (its policy reads it); only streams
        # whose events name their model check it
        self.named: str | None = None
        # how many choices the request asked for: a stream's must stay under it (None: any)
        self.choices_asked: int | None = None
        self._reasoning: dict[int, frozenset[str]] = {}  # each choice's reasoning keys
        self._calls: dict[int, set[int]] = {}  # each choice's tool calls opened
        # the prompt's text the answer goes on from (`Dialect.continued`), and the choices
        # whose texts are read to their end (a fill-in-the-middle suffix is read after that)
        self.continued: Continued | None = None
        self._ending: set[int] = set()
        # the texts of the answer that are JSON: a mask outside their string literals cuts
        self.structured: Structured = NOT_JSON
        # the client asked for the stream's usage (`asks_usage`): a cut stream ends with it, the
        # upstream's when it came (`_usage`; its counts only, `counts`, when the cut was for a
        # text in it), else zeros; not twice (`_usage_sent`)
        self.usage_asked = False
        self._usage: Json | None = None
        self._usage_sent = False
        # why the stream ended before its end, once `ended_early` reads what went out unread
        self._ended_early: str | None = None
        # what a cut's closing chunks tell the client (`guard`): its incident and rules, which
        # the stream's headers, sent before the answer was read, cannot
        self._cut_by: Json | None = None
        # each text beside the channels read so far (`_read_aside`), and its mask (None: none)
        self._aside: dict[str, str | None] = {}

    # -- the interface the relay drives --------------------------------------------------------

    async def feed(self, event: SSEEvent) -> bytes:
        """Bytes to send now for this event (possibly none while text is held back)."""
        if self.passthrough or self.cut or self._done:
            return event.raw if self.passthrough else b""
        event = event.bare()  # a comment, an `id:` line: read by no check
        if event.done:
            out = await self._end_choices(None, DONE_EVENT)
            self._done = not self.cut
            return out
        body = event_json(event)
        return event.raw if body is None else await self._feed_chunk(event, body)

    async def _feed_chunk(self, event: SSEEvent, body: Json) -> bytes:
        """`feed` for a chunk of JSON: checked, its texts beside the choices' read, its text
        held or passed."""
        changed = drop_detail_texts(body)
        changed = drop_upstream_guard(body) or changed  # only guard's own names a cut
        choices = body.get("choices")
        why = self._unreadable(body, choices)
        if why:  # a client would read text where guard does not: fail closed
            raise UpstreamError(f"upstream sent {why}", status=502,
                                code="upstream_protocol_error")
        if isinstance(body.get("usage"), dict):  # a cut for a text in it keeps its counts
            self._usage = counts(body["usage"])
        aside = aside_texts(body, choices)
        if aside:  # read before the chunk's frame and usage are kept for a cut's ending
            cut, masked = await self._read_aside(body, aside)
            if self.cut:
                return cut
            changed = changed or masked
        self._frame = {k: v for k, v in body.items() if k != "choices"}
        if isinstance(body.get("usage"), dict):
            self._usage = body["usage"]
        finishing = finishing_choices(choices)
        deltas = self.dialect.stream_deltas(body)
        # they name tokens of text held (this chunk's, or another's of its choice, or cut): in
        # every chunk, beside text of any choice or none
        if self.mode == BUFFERED and drop_choice_tokens(choices):
            changed = True
        if changed:
            event = SSEEvent(encode_event(body), orjson.dumps(body).decode())
        if deltas:
            # a chunk opening a tool call follows what its choice said before (held text, the
            # previous call's held arguments): a client may append arguments to the call opened
            # last
            before = (await self._flush(self._before_new_calls(body))
                      if self.mode == BUFFERED else b"")
            return before if self.cut else before + await self._text_event(event, body, deltas,
                                                                           finishing)
        if isinstance(choices, list) and choices and not finishing:
            self._see(indices(choices))      # a role chunk, an empty delta: nothing to hold
            return event.raw
        # a finish chunk ends its choices; a chunk without choices (usage, error) ends them all
        out = await self._end_choices(finishing if choices else None, event.raw)
        self._usage_sent = self._usage_sent or (not self.cut and not choices
                                                and isinstance(body.get("usage"), dict))
        return out

    async def _read_aside(self, body: Json, slots: list[tuple[Path, str]]) -> tuple[bytes, bool]:
        """Texts of a chunk no channel carries (`aside_texts`: citations, an error's strings,
        usage's, a provider's own fields), which clients show: read as they come, whole, before
        the chunk goes out; each once a stream (a frame each chunk repeats, a text of an earlier
        chunk beside a per-chunk id), its mask reused. The bytes ending a cut stream, or whether
        a mask was written into them."""
        if len(self._aside) > ASIDE_TEXTS:  # ids new each chunk, for long: read again, not kept
            self._aside.clear()
        new = list({text: (path, text) for path, text in slots
                    if text not in self._aside}.values())
        ids = [slot for slot in new if self.whole_readers and ID.fullmatch(slot[1])]
        for unread, bounded in ((ids, True), ([s for s in new if s not in ids], False)):
            cut = await self._read_texts(unread, bounded) if unread else None
            if cut is not None:
                return cut, False
        writes = sorted(((path, mask) for path, text in slots
                         if (mask := self._aside[text]) is not None),
                        key=lambda write: write_order(write[0]))
        for path, text in writes:
            set_path(body, path, text)
        return b"", bool(writes)

    async def _read_texts(self, slots: list[tuple[Path, str]], bounded: bool) -> bytes | None:
        """Reads texts beside the channels not read before (`_read_aside`), keeping their masks:
        the bytes ending the stream they cut, if they do. `bounded`: id-shaped texts (ID), read
        only by the classifiers that bound their findings (`Inspector.inspect`)."""
        segments = [Segment(text, "assistant", ASIDE + n, Stage.COMPLETION)
                    for n, (_, text) in enumerate(slots)]
        decision = await self.inspector.inspect(Stage.COMPLETION, segments, bounded=bounded)
        self._record(decision, segments)
        if decision.action in CUT_ACTIONS[self.mode]:
            return self._cut_stream(decision, [], [])
        masks = {n: text for n, _, text in masked(decision, slots, ASIDE)}
        self._aside.update((text, masks.get(n)) for n, (_, text) in enumerate(slots))
        return None

    def _unreadable(self, body: Json, choices: Any) -> str:
        """What in a chunk a client would read otherwise than guard, if anything."""
        if not plain_chunk(body, choices):  # the common chunk of plain text needs none of these
            if unreadable_answer(choices):
                return "answer text in a shape guard cannot read"
            if folded_keys(body, ANSWER_FREE_FORM, ANSWER_KEYS):
                return "a key spelled in another case than the API's"
            if self._calls_out_of_order(choices):
                return "a tool call opened out of order"
            if self._reasoning_keys_change(choices):
                return "reasoning that changed the key it comes under"
        if self.choices_asked is not None and isinstance(choices, list) and any(
                index >= self.choices_asked for index in indices(choices)):
            # read apart, but a client printing each chunk's first choice joins them
            return "more choices than the request asked for"
        return ""

    def _calls_out_of_order(self, choices: Any) -> bool:
        """Whether a chunk opens a tool call whose index is not the next of its choice's: the
        SDKs put calls in a list by index, so call 2 opened first is the list's first, and call
        0's arguments after it are joined to its (guard reads the two apart)."""
        for i, choice in enumerate(choices if isinstance(choices, list) else ()):
            delta = choice.get("delta") if isinstance(choice, dict) else None
            opened = self._calls.setdefault(choice_index(choice, i), set())
            for k, call in enumerate(list_at(delta, "tool_calls")):
                index = index_of(call, k)
                if index not in opened:
                    if index != len(opened):
                        return True
                    opened.add(index)
        return False

    def _reasoning_keys_change(self, choices: Any) -> bool:
        """Whether a choice's reasoning comes under other keys than in its first chunk with
        reasoning: read apart, a client keeping one buffer for reasoning under any key joins
        them (one delta carrying the same text under two keys, as some servers send, is one)."""
        for i, choice in enumerate(choices if isinstance(choices, list) else ()):
            delta = choice.get("delta") if isinstance(choice, dict) else None
            keys = frozenset(k for k in REASONING if isinstance(delta, dict) and delta.get(k))
            if keys and self._reasoning.setdefault(choice_index(choice, i), keys) != keys:
                return True
        return False

    def deadline(self) -> float | None:
        """The `time.monotonic()` at which `tick` must run if no event arrives before."""
        if self.passthrough or self.cut or not self.max_s:
            return None
        times = [t for t in map(self._due_at, self._channels.values()) if t is not None]
        return min(times, default=None)

    async def tick(self) -> bytes:
        """Release (buffered) or check (optimistic) text that has waited `max_holdback_ms`."""
        if self.cut or self.passthrough or not self.max_s:
            return b""
        now = time.monotonic()
        due = [ch for ch in self._channels.values()
               if (when := self._due_at(ch)) is not None and when <= now]
        if not due:
            return b""
        if self.mode == OPTIMISTIC:
            return await self._check_words(due, {ch.number for ch in due if self._idle(ch, now)})

        def stop(ch: Channel) -> int:
            wait = self._wait(ch)
            words = ch.run_start(ch.word_cut()) if self.runs else ch.word_cut()
            # a closed text's value waits for the text that may continue it, not for good
            settles = self._settles_at(ch)
            settled = settles is not None and now - settles >= 2 * wait
            cut = ch.hold_word(max(words, ch.overdue(now, 2 * wait)), self.value_held, settled)
            ch.soft_ticked = ch.end
            return cut

        stops = {ch.number: stop(ch) for ch in due}  # `_check` may move them back
        return await self._check(due, lambda ch, spans: straddle(stops[ch.number], spans), stops)

    async def _check_words(self, channels: list[Channel], ended: Collection[int] = ()) -> bytes:
        """An optimistic check on time (`tick`), after the stream ended (`ended_early`), or of
        the texts before one that began (`_text_event`): the text went out, and what decides is
        the text up to its last whole word, the word still being written left unread (`_check`,
        `Channel.mark_checked`), but in the channels numbered in `ended`, whose word is read as
        ended: to their ends (an early block still only holds, `_early`)."""
        words = {}
        for ch in channels:
            end = self._text_end(ch)
            words[ch.number] = end if ch.number in ended else ch.word_cut(ch.checked, end)
            if ch.number in ended:
                ch.word_read = ch.end  # read as ended: more text decides again
        return await self._check(channels, to_end, words)

    async def finish(self) -> bytes:
        """Bytes still held back when the upstream stream ended. The stream is done once its
        last check ran: a check that failed (overloaded) leaves its text to `ended_early`."""
        if self.cut or self.passthrough or self._done:
            return b""
        self._ending.update(ch.choice for ch in self._channels.values())
        out = await self._flush(list(self._channels.values()))
        self._done = True
        return out

    async def ended_early(self, why: str) -> None:
        """The stream ended before its end (`why`: `client_disconnected`, `client_stalled`, or
        the code of the error event ending it). An optimistic stream's text the client was sent
        and no check has read yet is read now, as a check on time reads it (`_check_words`: a
        word cut off by the end, `The nig`, decides nothing; a value found running on into it,
        a key, is read to the end of what went out), and its decision recorded, the incident's
        `details.stream_ended` saying why (the decision came after the stream had ended): a
        block then cuts nothing and sends nothing. Buffered streams sent nothing unread. A check
        that cannot run leaves the text to `unchecked`."""
        if not self._may_have_sent_unread():
            return
        self._ended_early = why
        waiting = [ch for ch in self._channels.values() if ch.checked < ch.released]
        if waiting:
            await self._check_words(waiting)

    def unchecked(self, why: str, error: str) -> None:
        """Record that text an optimistic stream sent the client went unread: the stream ended
        (`why`) and its late check could not run (`error`: overloaded, cancelled by shutdown).
        The event (`stream_unchecked`) holds how many characters, and their content hash."""
        if not self._may_have_sent_unread():
            return
        unread = [(ch, ch.text[max(0, ch.checked - ch.base):max(0, ch.released - ch.base)])
                  for ch in self._channels.values()]
        unread = [(ch, text) for ch, text in unread if text]
        if not unread:
            return
        self.recorder.record_event("stream_unchecked", {
            "stream_ended": why, "error": error, "mode": self.mode,
            "chars": sum(len(text) for _, text in unread),
            "choices": sorted({ch.choice for ch, _ in unread}),
            "incident_id": self.incident_id,
        }, self.ctx, text="\n".join(text for _, text in unread))

    # -- events --------------------------------------------------------------------------------

    async def _text_event(self, event: SSEEvent, body: Json, deltas: list[Delta],
                          finishing: set[int]) -> bytes:
        now = time.monotonic()
        if self._first_text is None:
            self._first_text = now
        hold = self.mode == BUFFERED
        shell = text_shell(body, deltas) if hold else None
        alone = hold and shell is None and len(deltas) == 1
        touched: list[Channel] = []
        began: set[int] = set()  # the channels getting their first text
        for delta in deltas:
            if delta.text and self._choices.get(delta.choice):  # its held tail went out at its
                raise UpstreamError("upstream sent text for a choice it had finished",  # end
                                    status=502, code="upstream_protocol_error")
            channel = self._channel(body, delta)
            if delta.text and not channel.end:
                began.add(channel.number)
            channel.add(delta.text, now, self._frame, event.raw if alone else None, hold=hold)
            touched.append(channel)
        self._see({d.choice for d in deltas})
        if not hold:
            return await self._pass(event.raw, touched, began, finishing, now)
        ending = [ch for ch in touched if ch.choice in finishing]
        due = [ch for ch in touched if ch not in ending and self._release_due(ch)]
        out = await self._check(due, self._holdback_cut) if due else b""
        if self.cut:
            return out
        shell_bytes = encode_event(shell) if shell is not None else b""
        if finishing:
            # the finish reason must follow the choice's last text
            return out + await self._end_choices(finishing, shell_bytes)
        return shell_bytes + out

    async def _pass(self, raw: bytes, touched: list[Channel], began: set[int],
                    finishing: set[int], now: float) -> bytes:
        """Optimistic: an event of text goes out once the checks it makes due have passed: of
        the texts before one it begins (`_words_ended`), and of those it brings to
        `check_chars` new characters."""
        out = await self._words_ended(began) if began else b""
        due = [ch for ch in touched if self._check_due(ch)]
        if due and not self.cut:
            out += await self._check(due, to_end)
        if self.cut:
            return out
        self._observe_first(now)
        if finishing:
            return out + await self._end_choices(finishing, raw)
        return out + raw

    async def _words_ended(self, began: set[int]) -> bytes:
        """Optimistic: a text began (channels numbered `began` got their first text), so the
        texts of its choice before it, which went out, have likely ended (a client shows tool
        call i + 1, or a call after the content, after them): their unread text is read to its
        end before the new text goes out, a key the last tool call's arguments end in too, not
        at the answer's end. Not another choice's: choices stream interleaved, and choice 1's
        first text said nothing of whether choice 0's word "bomb" had ended ("bombastic": a
        re-probe's harmless answer cut); its word is read once it idles (`_idle`)."""
        choices = {ch.choice for ch in self._channels.values() if ch.number in began}
        before = [ch for ch in self._channels.values() if ch.choice in choices
                  and ch.number not in began and ch.checked < self._text_end(ch)]
        return await self._check_words(before, {ch.number for ch in before}) if before else b""

    async def _end_choices(self, choices: set[int] | None, raw: bytes) -> bytes:
        """Flush the channels of finishing choices (all, for None) before the event that ends
        them, so the finish chunk comes after their last text."""
        channels = [ch for ch in self._channels.values() if choices is None or ch.choice in choices]
        self._ending.update(ch.choice for ch in channels)
        out = await self._flush(channels)
        if self.cut:
            return out
        for index in choices if choices is not None else list(self._choices):
            self._choices[index] = True
        return out + raw

    def _channel(self, body: Json, delta: Delta) -> Channel:
        kind, call = channel_kind(delta.path), 0
        if kind in CALL_CHANNELS:
            position, k = cast(int, delta.path[1]), cast(int, delta.path[4])
            call = index_of(body["choices"][position]["delta"]["tool_calls"][k], k)
        key = (delta.choice, kind, call)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = self._new_channel(kind, delta.choice, call)
        return channel

    def _new_channel(self, kind: str, choice: int, call: int) -> Channel:
        """A channel for a new text, read as JSON when it is (`structured`)."""
        return Channel(len(self._channels), kind, choice, call,
                       json="" if kind in self.structured.kinds else None)

    def _before_new_calls(self, body: Json) -> list[Channel]:
        """The channels of each choice in which `body` opens a tool call (gives its id or its
        function's name), but that call's own."""
        opened: dict[int, set[int]] = {}
        for i, choice in enumerate(list_at(body, "choices")):
            delta = choice.get("delta") if isinstance(choice, dict) else None
            for k, call in enumerate(list_at(delta, "tool_calls")):
                if isinstance(call, dict) and ("id" in call or any(
                        isinstance(call.get(kind), dict) and "name" in call[kind]
                        for kind in CALL_KINDS)):
                    opened.setdefault(choice_index(choice, i), set()).add(index_of(call, k))
        return [ch for ch in self._channels.values() if ch.choice in opened
                and not (ch.kind in CALL_CHANNELS and ch.call in opened[ch.choice])]

    def _see(self, choices: Iterable[int]) -> None:
        for index in choices:
            self._choices.setdefault(index, False)

    # -- checking and releasing ----------------------------------------------------------------

    def _due_at(self, ch: Channel) -> float | None:
        if self.mode == BUFFERED:
            # when a closed text settles matters only to a word it holds: not asked otherwise
            settles = self._settles_at(ch) if ch.pieces and ch.holds_word else None
            return ch.deadline(self._wait(ch), settles)
        if ch.unchecked_since is None:
            return None
        if not ch.holds_word:
            return ch.unchecked_since + self._wait(ch)
        # a word left unread waits for more text, but not for good: a chat text has no close,
        # and the word a tool call's arguments end in gets no more text (`_idle`)
        return None if ch.word_read == ch.end else ch.arrived + WORD_IDLE * self._wait(ch)

    def _idle(self, ch: Channel, now: float) -> bool:
        """Whether an optimistic channel's text has had nothing more for long enough that the
        word it ends in is read as ended (WORD_IDLE times its wait, as a buffered stream lets a
        word in progress out: a model writing a character every `max_holdback_ms` and a bit is
        not read mid-word)."""
        return now - ch.arrived >= WORD_IDLE * self._wait(ch)

    def _wait(self, ch: Channel) -> float:
        """How long a channel's unchecked text may wait: `max_holdback_ms`, and with a classifier
        reading the whole answer at least `recheck_growth` times how long the stream had run
        when that text arrived (up to RECHECK_MAX_S)."""
        since = ch.unchecked_since
        if not self.growth or since is None or self._first_text is None:
            return self.max_s
        return max(self.max_s, min(RECHECK_MAX_S, self.growth * (since - self._first_text)))

    def _settles_at(self, ch: Channel) -> float | None:
        """When the value a closed text ends in may stop waiting for a text to go on from it
        (None: the text is open; a chat choice's texts are read apart, so none goes on)."""
        return ch.closed_at

    def _check_due(self, ch: Channel) -> bool:
        """Whether an optimistic stream's channel is due a check: `check_chars` new characters,
        with a classifier reading the whole answer at least `recheck_growth` times those checked."""
        return ch.fresh(max(self.check_chars, int(self.growth * ch.checked)))

    def _release_due(self, ch: Channel) -> bool:
        """Whether a buffered channel holds more than its hold-back, and is due a check: its first
        (the first text goes out as soon as it may), then every `check_chars` new characters. A
        check that released nothing (an encoded run from the text's start, held whole) does not
        make the next one due: that had re-read the run, up to 8,192 characters decoded, at every
        event."""
        if self.held is None or not ch.holds_more(self.held):
            return False
        return ch.checked == 0 or ch.fresh(self.check_chars)

    def _holdback_cut(self, ch: Channel, spans: list[Span]) -> int:
        cut = ch.back(ch.end, self.held or 0)
        return straddle(ch.run_start(cut) if self.runs else cut, spans)

    def _may_have_sent_unread(self) -> bool:
        """Whether text went out no check has read: an optimistic stream, neither cut, passed
        through untouched, nor ended with its last check run (`ended_early`, `unchecked`)."""
        return self.mode == OPTIMISTIC and not (self.cut or self.passthrough or self._done)

    @staticmethod
    def _unfinished(channels: list[Channel]) -> list[Channel]:
        """The channels holding text, or text no check has read."""
        return [ch for ch in channels if ch.pending or ch.checked < ch.end]

    async def _flush(self, channels: list[Channel]) -> bytes:
        waiting = self._unfinished(channels)
        if not waiting:
            return b""
        return await self._check(waiting, to_end)

    async def _check(self, channels: list[Channel], cut_at: CutAt,
                     stops: dict[int, int] | None = None) -> bytes:
        """Classify the channels' windows; then cut the stream, or release up to `cut_at`. A
        window the classifiers read last, unchanged since (a text closed again with nothing
        added: the Responses API closes a text's part, its item, then the response), is not
        read again: its findings stand.

        `stops` (a check on time, `tick`): where each channel's release (buffered) or what
        decides (optimistic) would stop, before the word still being written. The window is
        read to the end as always; if any rule matches (a flag or a shadow rule too), what
        decides is the window read only up to where the release stops (a word's beginning,
        `I'm unable to ass` or `The nig`, or a key id's first 20 characters of 26, is no
        finding the whole answer has), and the release stops before a value found running past
        it (held, not released: it is read whole when it has ended). A block on an answer's
        first words by classifiers reading the whole text (`_early`) holds the text, uncut. In
        optimistic mode only the text before where that reading stopped counts as checked."""
        unread, ends = self._unread(channels), None
        if unread:
            segments = [segment for _, _, segment, _ in unread]
            decision = await self.inspector.inspect(Stage.COMPLETION, segments)
            if stops is not None and decision.matches:
                for ch, start, _, led in unread:
                    if ch.number in stops:
                        stops[ch.number] = self._before_findings(ch, stops[ch.number], decision,
                                                                 start - led)
                ends = stops
                unread = self._unread([ch for ch, _, _, _ in unread], ends)
                segments = [segment for _, _, segment, _ in unread]
                decision = await self.inspector.inspect(Stage.COMPLETION, segments)
            if stops is not None and self._early(decision, channels, stops):
                for ch in channels:
                    ch.word_wait = ch.end  # held: looked at again when more text has come
                return b""
            if decision.action is Action.REDACT and any(
                    ch.json is not None and breaks_json(
                        ch.text, [Span(s.start - ch.base, s.end - ch.base, s.label)
                                  for s in masks(decision, ch, start, led)],
                        decision.mask, ch.json) for ch, start, _, led in unread):
                decision = as_block(decision)  # the value is held: it goes no further
            self._record(decision, segments)
            if decision.action in CUT_ACTIONS[self.mode]:
                return self._cut_stream(decision, [ch for ch, _, _, _ in unread],
                                        [start - led for _, start, _, led in unread])
            for ch, start, segment, led in unread:
                spans = masks(decision, ch, start, led) \
                    if decision.action is Action.REDACT else []
                ch.read = Read(start, self._end(ch, ends), segment, spans, decision.mask)
        out: list[bytes] = []
        now = time.monotonic()
        for ch in channels:
            assert ch.read is not None  # read now, or before and unchanged since
            cut = cut_at(ch, ch.read.spans)
            # optimistic: a check on time's window stopping short leaves the rest to a later one
            ch.mark_checked(self._end(ch, ends) if self.mode == OPTIMISTIC else None)
            if self.mode == BUFFERED:
                parts = ch.release(cut, ch.read.spans, ch.read.mask)
                out.extend(self._emit(ch, parts, now))
            ch.trim(self.holdback, self.runs)
        return b"".join(out)

    def _unread(self, channels: list[Channel], stops: dict[int, int] | None = None,
                ) -> list[tuple[Channel, int, Segment, int]]:
        """The channels' windows (to `stops`, or to their ends) the classifiers have not read
        as they are: each with its start, what is sent, and the length of its lead."""
        unread: list[tuple[Channel, int, Segment, int]] = []
        for ch in channels:
            start, text, lead = ch.window(self._since(ch), self.holdback, self.runs)
            end = self._end(ch, stops)
            text = text[:max(0, end - start)]
            segment = self._segment(ch, text, lead, end)
            if ch.read is None or (ch.read.start, ch.read.end, ch.read.segment) \
                    != (start, end, segment):
                unread.append((ch, start, segment, len(lead)))
        return unread

    def _since(self, ch: Channel) -> int:
        """Where the text a check decides on begins: the first character not released
        (buffered), or not classified (optimistic: all of it went out)."""
        return ch.released if self.mode == BUFFERED else ch.checked

    def _end(self, ch: Channel, stops: dict[int, int] | None) -> int:
        """Where a channel's window stops: its end, or where its release (buffered) or what
        decides (optimistic) would (`stops`)."""
        stop = None if stops is None else stops.get(ch.number)
        end = self._text_end(ch)
        return end if stop is None else max(self._since(ch), min(end, stop))

    def _text_end(self, ch: Channel) -> int:
        """Where a channel's text ends for its checks: its end, or once the stream ended early
        (`ended_early`) the end of what went out (what was dropped unsent, `rewind`, is not read
        as the client's)."""
        return ch.released if self._ended_early else ch.end

    def _before_findings(self, ch: Channel, stop: int, decision: Decision, at: int) -> int:
        """`stop`, or the start of the first value a check on time found running past it (not
        before `_since`): such a value is held (buffered) or left unread (optimistic) until it
        ends, when it is read whole. After the stream ended (`ended_early`) no check comes
        later: a value found past `stop`, in the word the end cut off too, is read now, to the
        end of what went out. `at`: the absolute offset of the segment's first character."""
        spans = [span for match in decision.enforced
                 if match.action in (Action.BLOCK, Action.REDACT)
                 for verdict in match.verdicts if verdict.segment == ch.number
                 for span in verdict.spans]
        spans += decision.redactions.get(ch.number, ())
        if self._ended_early:
            return self._text_end(ch) if any(stop < at + span.end for span in spans) else stop
        starts = [at + span.start for span in spans if at + span.start < stop < at + span.end]
        if not starts:
            return stop
        ch.word_wait = ch.end  # the next release waits for more text (`Channel.deadline`)
        return max(self._since(ch), min(starts))

    def _early(self, decision: Decision, channels: list[Channel], stops: dict[int, int]) -> bool:
        """Whether a check on time's block is only that of classifiers reading the whole text,
        on the first words (`EARLY_CHARS`) of open texts (their answer goes on): then nothing is
        released (or marked checked), and the stream is not cut."""
        if decision.action is not Action.BLOCK:
            return False
        opened = {ch.number for ch in channels if ch.closed_at is None}
        verdicts = [v for m in decision.enforced if m.action is Action.BLOCK for v in m.verdicts]
        return bool(verdicts) and all(
            v.classifier in self.whole_readers and v.segment in opened
            and stops.get(v.segment, EARLY_CHARS) < EARLY_CHARS for v in verdicts)

    def _segment(self, ch: Channel, text: str, lead: str = "", end: int | None = None,
                 ) -> Segment:
        """What the classifiers read of a channel's window: a choice is read alone, but after
        the markup its window starts inside of (`lead`), or the prompt's text it goes on from,
        and before a suffix (`_continues`, `_suffix`). `end`: where the window stops (the
        channel's end when None; a window stopping before it has no suffix after it)."""
        end = ch.end if end is None else end
        going_on = self._continues(ch, text, end) if not lead else ()
        before = ch.before(end - len(text))  # a long value's run the window starts inside
        return Segment(lead + text, ch.role, ch.number, Stage.COMPLETION,
                       (*going_on, before) if before else going_on,
                       after=self._suffix(ch) if end == ch.end else "")

    def _continues(self, ch: Channel, text: str, end: int) -> tuple[str, ...]:
        """The prompt's text a window is read after (`Dialect.continued`): the end of the text
        the channel's text goes on from, for a window that starts at its start (and stops at
        `end`)."""
        going_on = self.continued
        if going_on is None or ch.kind != going_on.kind or len(text) != end:
            return ()
        before = going_on.before_choice(ch.choice)
        return (before,) if before else ()

    def _suffix(self, ch: Channel) -> str:
        """The text a client puts after a channel's (a fill-in-the-middle suffix), once its
        choice has ended: until then the text after the window is the answer's own."""
        going_on = self.continued
        if going_on is None or ch.kind != going_on.kind or ch.choice not in self._ending:
            return ""
        return going_on.after

    def _emit(self, ch: Channel, parts: list[Part], now: float) -> list[bytes]:
        if parts:
            self._observe_first(now)
        out = []
        for part in parts:
            if self.metrics is not None:
                self.metrics.stream_holdback.observe(now - part.arrived)
            out.append(self._reemit(ch, part))
        return out

    def _reemit(self, ch: Channel, part: Part) -> bytes:
        """The bytes of a released part: the upstream's own, or a chunk re-emitting its text."""
        if part.raw is not None:
            return part.raw
        return encode_event(rechunk(ch, part.frame, part.text))

    def _observe_first(self, now: float) -> None:
        """Time to first token added: from the first text's arrival to its release."""
        if self._first_text is not None and not self._first_sent:
            self._first_sent = True
            if self.metrics is not None:
                self.metrics.stream_first_token_added.observe(now - self._first_text)

    @property
    def text_released(self) -> bool:
        """Whether the stream's first text has been released to go out."""
        return self._first_sent

    # -- decisions, incidents, the cut ---------------------------------------------------------

    @property
    def decision(self) -> Decision:
        """The stream's completion decision so far: the strictest action taken and every rule
        that matched any window (what the relay counts once, when the stream ends)."""
        return Decision(action=self._action, stage=Stage.COMPLETION,
                        matches=tuple(self._matches.values()))

    def _record(self, decision: Decision, segments: list[Segment]) -> None:
        """Record a decision once per rule per stream: overlapping windows find a value again."""
        self._action = strictest([self._action, decision.action])
        for match in decision.matches:
            self._matches.setdefault(match.rule, match)
        rules = {m.rule for m in decision.matches}
        if not rules - self._recorded and decision.action is not Action.BLOCK:
            return
        self._recorded |= rules
        for observe in self.observers:
            observe(self.ctx, decision)
        late = {"stream_ended": self._ended_early} if self._ended_early else None
        self.incident_id = self.recorder.record_decision(self.ctx, decision, segments,
                                                         details=late) or self.incident_id

    def _cut_stream(self, decision: Decision, channels: list[Channel],
                    starts: list[int]) -> bytes:
        self.cut = True
        if self._ended_early:  # the stream had ended: nothing to cut, nothing to send
            return b""
        match = next((m for m in decision.enforced if m.action is decision.action),
                     decision.enforced[0] if decision.enforced else None)
        rule = match.rule if match is not None else "unknown"
        where = {ch.number: (ch, start) for ch, start in zip(channels, starts, strict=True)}
        found = sorted(
            (where[v.segment][1] + span.start, where[v.segment][0].choice)
            for v in (match.verdicts if match is not None else ()) if v.segment in where
            for span in v.spans)
        # no channel: a text an event repeated whole (the Responses API), read at its start
        offset, choice = (found[0] if found else (channels[0].checked, channels[0].choice)
                          if channels else (0, 0))
        if self.metrics is not None:
            self.metrics.cut_by[rule].pending += 1
        self.recorder.record_event("stream_cut", {
            "rule": rule, "offset": offset, "choice": choice, "mode": self.mode,
            "action": str(decision.action), "incident_id": self.incident_id,
        }, self.ctx)
        self._cut_by = {"incident_id": self.incident_id, "rules": list(decision.rules)}
        return self.stop()

    def mark(self) -> Any:
        """What the client has been sent, as far as the stream's ending reads it (`rewind`): the
        choices finished, and where each channel's text released ends."""
        return dict(self._choices), {key: (ch.released, ch.kept_released)
                                     for key, ch in self._channels.items()}

    def rewind(self, mark: Any) -> None:
        """Forget what was encoded since `mark` but never written (a kill switch engaged, or a
        check was overloaded, before it went out), so the ending is built for what the client
        has seen (an ending for events it never had broke the SDKs' stream readers), and an
        optimistic stream's late read (`ended_early`, `unchecked`) reads the text that went out
        (it read a dropped read's text as the client's)."""
        self._choices, released = mark
        for key, ch in self._channels.items():
            ch.released, ch.kept_released = released.get(key, (0, 0))

    def stop(self) -> bytes:
        """End the stream now, held text dropped: a `content_filter` finish for each choice
        not finished of those the request asked for (`choices_asked`) or the client was sent
        (one, when neither is known), the usage when the client asked for it and has not had
        it, then [DONE] (a cut, or a kill switch in refuse mode). A choice the client was sent
        nothing of is finished all the same: an SDK's reader waits for each index asked. A cut
        with no choice left to finish is named by the usage chunk, or one without choices."""
        return self._stop_choices(None)

    def refused(self, text: str) -> bytes:
        """End the stream for a kill switch in refuse mode (`text`, its refusal): as a cut,
        `stop`, a choice the client was sent nothing of given the refusal first, as a refusal
        from the start gives it (the Responses API's ends completed with it)."""
        return self._stop_choices(text)

    def _stop_choices(self, refusal: str | None) -> bytes:
        self.cut = True
        asked = min(self.choices_asked or 0, MAX_CHOICES_WRITTEN)
        known = {*range(asked), *self._choices} or {0}
        cut_by = None if refusal is not None else self._cut_by
        out: list[Json] = []
        for index in sorted(i for i in known if not self._choices.get(i)):
            if refusal is not None and index not in self._choices:
                out.append(self._end_chunk(index, refusal, None))
            out.append(self._end_chunk(index, None, "content_filter", cut_by))
        # a cut after every choice finished (in the usage, an error, a frame's text) is named
        # by the last chunk: the usage, or one without choices as the usage's is
        unnamed = cut_by if not out else None
        if self.usage_asked and not self._usage_sent:
            out.append(self._last_chunk(NO_USAGE if self._usage is None else self._usage,
                                         unnamed))
        elif unnamed is not None:
            out.append(self._last_chunk(None, unnamed))
        return b"".join(map(encode_event, out)) + encode_event("[DONE]")

    def error(self, message: str, code: str) -> bytes:
        """The event ending a stream that cannot go on (the upstream broke, a kill switch in
        block mode, shutdown)."""
        return self.dialect.error_event(message, code)

    def _naming_cut(self, event: Json) -> Json:
        """`event`, the last of a cut stream's ending, naming the cut's incident and rules
        (`guard`, as a chat stream's closing chunk does); as it is for any other ending."""
        return event if self._cut_by is None else {**event, GUARD_KEY: self._cut_by}

    def _last_chunk(self, usage: Json | None, cut_by: Json | None) -> Json:
        """A chunk without choices ending the stream, with the upstream's id and model: with
        the usage (`usage`, when the client asked for it), naming a cut's incident (`cut_by`)."""
        assert self.dialect.chunk is not None  # the dialects whose streams are chunks
        chunk = usage_chunk(self.dialect.chunk, str(self._frame.get("id") or "guard-cut"),
                            str(self._frame.get("model") or self.ctx.model), usage)
        if usage is None:
            del chunk["usage"]
        return chunk if cut_by is None else {**chunk, GUARD_KEY: cut_by}

    def _end_chunk(self, index: int, text: str | None, finish: str | None,
                   cut_by: Json | None = None) -> Json:
        """A chunk of the stream's ending for choice `index`, in the upstream's frame (its id,
        model, and the keys it sends in each chunk); a cut's names its incident and rules
        (`cut_by`, under `guard`, as a blocked prompt's error does)."""
        frame = self._frame
        assert self.dialect.chunk is not None  # the dialects whose streams are chunks
        chunk = self.dialect.chunk(str(frame.get("id") or "guard-cut"),
                                   str(frame.get("model") or self.ctx.model), index, text,
                                   finish)
        chunk.update({k: v for k, v in frame.items() if k != "usage" or v is None})
        if cut_by is not None:
            chunk[GUARD_KEY] = cut_by
        return chunk


def masks(decision: Decision, ch: Channel, start: int, led: int) -> list[Span]:
    """A redacting decision's spans in a channel's window starting at `start` and read after
    `led` characters of lead, at their offsets in the channel's text: a value begun in the
    lead (gone out) is masked from the window's start on."""
    return [Span(max(start, start - led + s.start), start - led + s.end, s.label)
            for s in decision.redactions.get(ch.number, ()) if s.end > led]


def to_end(ch: Channel, spans: list[Span]) -> int:
    return ch.end


def event_json(event: SSEEvent) -> Json | None:
    """An event's JSON object, or None for an event without one (a comment, a keep-alive). An
    event a client's parser would read otherwise than guard ends the stream (502): JSON only a
    lenient parser reads, text outside an object, a key given twice in one object."""
    body = event.json()
    if body is None:
        if event.unreadable:
            raise UpstreamError("upstream sent a stream event guard cannot read as JSON",
                                status=502, code="upstream_protocol_error")
        return None
    if repeats_keys(cast(str, event.data), body):  # a parser keeping the first reads the other
        raise UpstreamError("upstream sent a stream event with a key given twice in one object",
                            status=502, code="upstream_protocol_error")
    return body
