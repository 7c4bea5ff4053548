"""One guarded text of a stream (a choice's content, or one tool call's arguments): the text not
yet released, the overlap kept for classification, and how a release is cut and masked.

Offsets are absolute character offsets into the channel's whole text since the stream began.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from guard.classify.base import OPENING, run_around
from guard.classify.decode.runs import RunStarts
from guard.classify.escapes import held_open, open_markup, references_decoded
from guard.classify.normalize import (
    BLANK_RUN,
    DROPPED_CODES,
    KEY_BLANKS,
    LINE_BREAKS,
    PADDED,
    SPACE_LIKE,
    kept_after,
    kept_before,
    kept_chars,
    kept_text,
)
from guard.redaction import json_opening, merge_spans
from guard.types import Segment, Span

Json = dict[str, Any]
# Channel kinds that are a call's arguments (chat's `tool` and `function_call`, the Responses
# API's fields of a call, a shell call's commands): their text is the `tool_call` role's.
TOOL_KINDS = frozenset({"tool", "function_call", "arguments", "input", "code", "command"})


@dataclass(slots=True)
class Piece:
    """The text one upstream delta added that has not been released yet.

    frame: the upstream chunk's top-level fields (id, object, created, model, ...), so a
           re-emitted chunk keeps them.
    raw:   the upstream event's exact bytes when the event held this text and nothing else, so an
           unchanged piece is forwarded byte for byte.
    seq:   where its event came in the stream (a stream of typed events keeps their order).
    """

    start: int
    end: int
    arrived: float
    frame: Json
    raw: bytes | None
    seq: int = 0


@dataclass(slots=True)
class Part:
    """A released piece of text: the upstream bytes unchanged (`raw`), or text to re-emit."""

    frame: Json
    text: str
    raw: bytes | None
    arrived: float
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Read:
    """A channel's window as the classifiers last read it, and what they found: read again
    unchanged (a text closed once more, nothing added), it is not sent to them again.

    start, end: the window's offsets in the channel's text.
    segment:    what the classifiers were sent (the window, with what it was read with).
    spans:      the values to mask in it (absolute offsets), and how.
    """

    start: int
    end: int
    segment: Segment
    spans: list[Span]
    mask: str


@dataclass(slots=True)
class Channel:
    """One guarded text. kind: `content`, `refusal`, `reasoning_content` or `reasoning` (chat),
    `tool` or `function_call` (a call's arguments) or `text` (legacy completions); `number` is
    its segment index in the decisions made on this stream."""

    number: int
    kind: str
    choice: int
    call: int = 0
    base: int = 0               # absolute offset of text[0]
    text: str = ""              # text from `base` to the end received so far
    released: int = 0           # everything before this offset has gone to the client
    checked: int = 0            # everything before this offset has been classified
    unchecked_since: float | None = None
    arrived: float = 0.0        # when its last text came
    soft_ticked: int = 0        # pending text before this offset had its word-boundary release
    masked_to: int = 0          # the end of the last value whose mask has been written
    word_wait: int = -1         # the end when a word in progress was held past its time
    word_read: int = -1         # the end when the word it ends in was read as ended (optimistic)
    closed_at: float | None = None  # when its part or block closed (typed streams): no more text
    kept: int = 0               # characters normalisation keeps in the whole text so far,
    kept_released: int = 0      # and before `released`,
    kept_checked: int = 0       # and before `checked` (`kept_chars`)
    behind: str = ""            # the text before `base` as a window starting there is read
    lead: str = ""              # after (`lead_of`), and that when markup is open at `base`
    read: Read | None = None    # the window last classified
    json: str | None = None     # a text that is JSON: how it opens at `base` (`json_opening`)
    pieces: deque[Piece] = field(default_factory=deque)
    runs: RunStarts = field(default_factory=RunStarts)  # where its encoded runs began
    going: str = ""             # where the run of a long value going on at `base` began
                                # (`going_value`), read before the text kept (`before`, `ending`)

    @property
    def ending(self) -> str:
        """The text kept, read before the texts a client puts after it: after where the run of a
        long value going on at its start began (`going`), which one of those may go on with."""
        return self.going + self.text

    def before(self, start: int) -> str:
        """What a window starting at `start` is read after: where the run of a long value going
        on at `base` began (`going`) and the text kept up to `start`, so a value that opens the
        run is followed through it (`LocalClassifier._run_on`); nothing when no such run goes on
        (the window reads what it needs, `window`)."""
        return self.going + self.text[:start - self.base] if self.going else ""

    @property
    def role(self) -> str:
        return "tool_call" if self.kind in TOOL_KINDS else "assistant"

    @property
    def end(self) -> int:
        return self.base + len(self.text)

    @property
    def pending(self) -> int:
        return self.end - self.released

    def add(self, text: str, now: float, frame: Json, raw: bytes | None, *, hold: bool,
            seq: int = 0) -> None:
        """Append a delta's text; keep it as a pending piece when it is held back (not an empty
        one with no bytes of its own to send, as a call opened with empty arguments brings: it
        never went out, and its deadline, always past, had a stream waiting for the call's
        text spin on it)."""
        if hold and (text or raw is not None):
            self.pieces.append(Piece(self.end, self.end + len(text), now, frame, raw, seq))
        if self.unchecked_since is None:
            self.unchecked_since = now
        self.arrived = now
        self.text += text
        self.kept += kept_chars(text)
        if not hold:
            self.released, self.kept_released = self.end, self.kept

    def back(self, at: int, count: int) -> int:
        """The offset `count` characters before `at`, counting only the characters normalisation
        keeps (`kept_before`): a value padded with invisible characters or marks must not
        stretch past the hold-back, which counts what the classifiers read."""
        return self.base + kept_before(self.text, at - self.base, count)

    def fresh(self, count: int) -> bool:
        """Whether `count` characters the classifiers read came since the last check, or PADDED
        times as many of any (marks padding a text do not make checks more frequent: each reads
        a window as long, `back`)."""
        return self.kept - self.kept_checked >= count or self.end - self.checked >= PADDED * count

    def holds_more(self, count: int) -> bool:
        """Whether the pending text holds more than `count` characters the classifiers read, or
        more than PADDED times as many of any: what goes past a hold-back of `count`."""
        return self.kept - self.kept_released > count or self.pending > PADDED * count

    def window(self, since: int, overlap: int | None, runs: bool = False) -> tuple[int, str, str]:
        """The text to classify so that every finding touching [since, end) lies wholly inside:
        it starts `overlap - 1` characters (as the classifiers count them, `back`) before `since`
        (or at the start, when unbounded), and with `runs` at the start of an encoded run going
        on there. And what it is read after: the markup it starts inside of, with the text
        before that (`lead`, when it starts where the text kept starts)."""
        start = self.base if overlap is None else self.back(since, max(0, overlap - 1))
        if runs:
            start = self.run_start(start)
        return start, self.text[start - self.base:], self.lead if start == self.base else ""

    def run_start(self, at: int) -> int:
        """Where the encoded run that offset `at` falls inside begins (`at` when none does):
        `run_start`, remembered from one check to the next."""
        return self.runs.start(self.text, self.base, at)

    def mark_checked(self, at: int | None = None) -> None:
        """Everything before `at` (the end, when None) has been classified. Text left after it
        (a word still being written, optimistic mode) waits for more text: its next check on
        time comes when more has come (`holds_word`), or once none has come for a while or
        another text has begun (the word is read as ended, `word_read`), or at the end."""
        if at is None or at >= self.end:
            self.checked, self.kept_checked = self.end, self.kept
            self.unchecked_since = None
            return
        if at > self.checked:
            self.checked = at
            self.kept_checked = self.kept - kept_chars(self.text[at - self.base:])
        self.word_wait = self.end

    def trim(self, overlap: int | None, runs: bool = False) -> None:
        """Forget text no future window needs (unbounded classifiers need all of it; with `runs`,
        an encoded run going on where the next window starts is kept whole; the start of a long
        value the text ends with is kept apart, `going`)."""
        if overlap is None:
            return
        keep = self.back(min(self.released, self.checked), max(0, overlap - 1))
        if runs:
            keep = self.run_start(keep)
        if keep > self.base:
            self.going = going_value(self.going + self.text, len(self.going) + keep - self.base,
                                     overlap)
            if self.json is not None:
                self.json = json_opening(self.json, self.text[:keep - self.base])
            self.behind, self.lead = lead_of(self.behind + self.text[:keep - self.base], overlap,
                                             bool(self.lead))
            self.text = self.text[keep - self.base:]
            self.base = keep

    def word_cut(self, since: int | None = None, until: int | None = None) -> int:
        """The end of the last whole word of the text after `since` (`released` when None: the
        pending text) and before `until` (the end when None), or `since` when none ends."""
        since = self.released if since is None else since
        pending = self.text[since - self.base:(self.end if until is None else until) - self.base]
        for i in range(len(pending) - 1, -1, -1):
            if pending[i].isspace():
                return since + i + 1
        return since

    def overdue(self, now: float, limit_s: float) -> int:
        """The end of the pending pieces that arrived at least `limit_s` ago."""
        cut = self.released
        for piece in self.pieces:
            if now - piece.arrived < limit_s:
                break
            cut = piece.end
        return cut

    def hold_word(self, at: int, longest: int, settled: bool = False) -> int:
        """`at`, or where the value the pending text may end in begins, when `at` falls inside
        it (`value_start`), while that is shorter than `longest`, the longest finding (counted
        as the classifiers read it: marks padding a value do not lengthen it). A value a
        model writes slower than `max_holdback_ms` is then released whole or not at all, where
        releasing what had waited would send most of it before it could be read; text in
        scripts written without spaces is released as it waits. `settled`: the text closed
        long enough ago that no text continuing the value is coming."""
        pending = self.text[self.released - self.base:]
        start = self.released + value_start(pending)
        if at <= start or settled or kept_chars(self.text[start - self.base:]) >= longest:
            return at
        self.word_wait = self.end
        return start

    @property
    def holds_word(self) -> bool:
        """Whether a word in progress is held past its time (`hold_word`), waiting for more
        text or for its text to settle."""
        return self.word_wait == self.end

    def deadline(self, max_s: float, settles: float | None = None) -> float | None:
        """When pending text must next be looked at: a word-boundary release `max_s` after it
        arrived, and a release of everything `2 * max_s` after (the word in progress, unless
        `hold_word` holds it: then when more text comes, or `2 * max_s` after `settles`, when
        a closed text's value may stop waiting for a text to go on from it)."""
        if not self.pieces:
            return None
        if self.holds_word:
            return None if settles is None else settles + 2 * max_s
        hard = self.pieces[0].arrived + 2 * max_s
        soft = next((p.arrived + max_s for p in self.pieces if p.end > self.soft_ticked), hard)
        return min(soft, hard)

    def release(self, cut: int, spans: list[Span], mask: str) -> list[Part]:
        """Release the pending text before `cut`, with `spans` (absolute) masked.

        A span's mask is written once, where its first unreleased character was; the rest of the
        span is dropped, so a value straddling pieces comes out as one mask.
        """
        cut = min(cut, self.end)
        first = self.released
        merged = [s for s in merge_spans(spans) if s.end > first and s.start < cut]
        parts: list[Part] = []
        while self.pieces and self.pieces[0].start < cut:
            piece = self.pieces[0]
            stop = min(piece.end, cut)
            touched = any(s.start < stop and s.end > piece.start for s in merged)
            if stop == piece.end and not touched and piece.raw is not None:
                parts.append(Part(piece.frame, "", piece.raw, piece.arrived, piece.seq))
            else:
                text = self._render(piece.start, stop, merged, first, mask)
                if text:
                    parts.append(Part(piece.frame, text, None, piece.arrived, piece.seq))
            if stop == piece.end:
                self.pieces.popleft()
            else:
                piece.start, piece.raw = stop, None
        if cut > self.released:
            self.kept_released += kept_chars(self._slice(self.released, cut))
            self.released = cut
        return parts

    def _render(self, start: int, stop: int, spans: list[Span], first: int, mask: str) -> str:
        out: list[str] = []
        pos = start
        for span in spans:
            lo, hi = max(span.start, start), min(span.end, stop)
            if lo >= hi:
                continue
            out.append(self._slice(pos, lo))
            # one mask per value: not again for a value a former release began to mask (a slow
            # stream releases a value's rest later, and the next window finds it again)
            if lo == max(span.start, first) and span.start >= self.masked_to:
                out.append(mask.replace("{label}", span.label))
                self.masked_to = span.end
            pos = hi
        out.append(self._slice(pos, stop))
        return "".join(out)

    def _slice(self, start: int, stop: int) -> str:
        return self.text[start - self.base:stop - self.base]


def lead_of(text: str, overlap: int, shown: bool = False) -> tuple[str, str]:
    """The end of `text` as the text after it is read after it (its last `overlap - 1`
    characters), and what a window starting there is read after: the markup `text` ends inside
    of (`held_open`), what it hides left out, after the value in progress before it
    (`value_start`); nothing when `text` ends in no such markup. A value a comment or a tag
    longer than the hold-back splits is so read whole, though its first half has gone out and
    the markup's text is no longer kept. With `shown` (`text` begins with such a lead: its
    markup may have closed) the characters before are taken as shown (markup read as a
    renderer shows it), so a value two of them split is read whole too."""
    if not shown and _OPENINGS.isdisjoint(text):  # no markup: the usual case, at once
        return text[kept_before(text, len(text), max(0, overlap - 1)):], ""
    opened = held_open(text)
    at, opening = opened if opened is not None else (len(text), "")
    decoded = references_decoded(text[:at]) if shown else None
    before = text[:at] if decoded is None else decoded[0]
    back = kept_before(before, len(before), max(0, overlap - 1))
    if opened is None:
        return before[back:], ""
    lead = before[max(back, value_start(before)):] + opening
    return before[back:] + opening, lead


# The characters `held_open` markup begins with
_OPENINGS = frozenset("<[\x1b\x9b\x9d&")


def straddle(cut: int, spans: list[Span]) -> int:
    """Move a release cut past every span it would split, so a mask is never cut in two."""
    moved = True
    while moved:
        moved = False
        for span in spans:
            if span.start < cut < span.end:
                cut, moved = span.end, True
    return cut


# The longest value written in groups `value_start` holds whole, each separator counted as one
# character (one of up to `KEY_BLANKS` blanks, a CRLF one: 6 characters): an IBAN's 34
# characters and 8 separators (42), an AWS key id one character a line (39). Groups further back
# are released as they wait: a column of figures written slowly is not held until the stream
# ends.
VALUE_IN_GROUPS_CHARS = 64


def value_start(text: str) -> int:
    """Where a value `text` may end in begins: the word in progress (the characters at the end
    that are not spaces nor of a script written without spaces: a key, an address or a link, in
    any letters, look-alikes and other scripts' digits included), and before it the groups that
    one separator the patterns read inside a value (up to `KEY_BLANKS` spaces, tabs and line
    breaks) joins to it, each holding a digit or written in capitals and digits only (a card, a
    phone number, an IBAN, an AWS key id written in groups; a last group followed by its separator counts
    too). `len(text)` when it ends in neither. Read with HTML character references and
    percent-escapes decoded, as the classifiers reading decoded text do (a card's digits with
    `&shy;` between them are a card's groups, no longer than written plain), and read as shown:
    markup inside a value hides nothing, and a comment or tag still open at the end continues
    the word before it (`open_markup`)."""
    text = text[:open_markup(text)]
    decoded = references_decoded(text)
    if decoded is None:
        return _value_start(text)
    read, starts = decoded
    start = _value_start(read)
    return starts[start] if start < len(read) else len(text)


def _value_start(text: str) -> int:
    end = len(text) - _gap(text, len(text))
    start = _run_start(text, end)
    if start == end or (end < len(text) and not _joined(text, start, end)):
        return len(text)  # a word ended by a space, or no word at all
    read = kept_chars(text[start:end])  # the groups' characters, a separator counting one
    while (gap := _gap(text, start)) and start - gap >= 1 and not _spaced(text[start - gap - 1]):
        before = _run_start(text, start - gap)
        read += kept_chars(text[before:start - gap]) + 1
        if not _joined(text, before, start - gap) or read > VALUE_IN_GROUPS_CHARS:
            break  # not a value's group, or further back than any value in groups reaches
        start = before
    return start


def _joined(text: str, start: int, end: int) -> bool:
    """Whether the group at [start, end) is a value's: a group itself, or a short one after a
    group (an IBAN's bank code, `gb82 west 1234`)."""
    if _group(kept_text(text[start:end])):
        return True
    gap = _gap(text, start)
    return _short(kept_text(text[start:end])) and gap > 0 and start - gap >= 1 \
        and not _spaced(text[start - gap - 1]) \
        and _group(kept_text(text[_run_start(text, start - gap):start - gap]))


def _spaced(char: str) -> bool:
    """A space the patterns read as one (not a file separator, which normalisation drops)."""
    return char.isspace() and ord(char) not in DROPPED_CODES


def _short(text: str) -> bool:
    """Up to four letters or digits: a group of a value whose group before holds a digit."""
    return len(text) <= 4 and text.isalnum()


# The separators a value's groups may have between them (`pii`, `secrets`): up to `KEY_BLANKS`
# blanks in any mix (a blank line, a hard break `" \n"`, a break and indentation), a CRLF one
# of them; a lone carriage return may be a line break's first half.
_BLANKS = re.compile(rf"{BLANK_RUN}\Z")


def _gap(text: str, at: int) -> int:
    """The length of the separator ending at `at`, or 0; characters normalisation drops
    (`" \u200b "` reads as two spaces) count with it, and a no-break space as a space."""
    i, spaces = at, list[int]()  # where the separator's characters are, last first
    while i and len(spaces) < 2 * KEY_BLANKS:
        char = text[i - 1]
        if char in " \t" or char in LINE_BREAKS or char in SPACE_LIKE:
            spaces.append(i - 1)
        elif ord(char) not in DROPPED_CODES:
            break
        i -= 1
    read = "".join(" " if text[p] in SPACE_LIKE else text[p] for p in reversed(spaces))
    gap = _BLANKS.search(read)
    return at - spaces[len(read) - gap.start() - 1] if gap else 0


def _group(text: str) -> bool:
    """A group of a value written in groups: it holds a digit, or is capitals and digits."""
    return _has_digit(text) or (text.isascii() and text.isalnum() and text.isupper())


def _run_start(text: str, end: int) -> int:
    """Where the run of characters ending at `end` begins: back to a space or a character of a
    script written without spaces, not one normalisation removes (a file separator or a Hangul
    filler inside a key is no space to the classifiers)."""
    i = end
    while i and (ord(text[i - 1]) in DROPPED_CODES
                 or not (text[i - 1].isspace() or _unspaced(text[i - 1]))):
        i -= 1
    return i


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Chinese, Japanese):
# a word in progress there is not held, or a whole line would wait.
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x2E80, 0x2FDF),
             (0x3000, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
             (0xFF61, 0xFF9F), (0x20000, 0x3FFFF))


def _unspaced(char: str) -> bool:
    """A character of a script written without spaces, but a digit (a number in Thai or Khmer
    digits is a value like any other)."""
    code = ord(char)
    return code >= 0x0E00 and any(lo <= code <= hi for lo, hi in _UNSPACED) \
        and not char.isdecimal()


def going_value(text: str, cut: int, overlap: int) -> str:
    """Of a channel's `text` (what it kept apart before, `going`, then its text) trimmed at `cut`,
    what is kept apart: where the run of a long value's characters that the text kept goes on
    in began (`run_around`, read OPENING characters past `cut`: a PEM block's body, whose BEGIN
    line `cut` may fall inside; a long base64 run; half the hold-back or more), `overlap`
    characters each side of that (the BEGIN line, where its decoding starts), up to `cut`. Kept
    while the run goes on unbroken, however long: a window, or a text after this one, read after
    it follows a value that opens the run through the run (`LocalClassifier._run_on`), each
    reading only its own characters and these (up to 8,192 characters of the run had been kept,
    re-read at every window). Nothing for prose, or a word."""
    at = min(len(text) - 1, cut + OPENING)
    start, end = run_around(text, at, at)
    if end - start < overlap // 2 or start >= at:
        return ""
    stop = min(cut, kept_after(text, start, overlap))
    if start < stop and text[cut:cut + 1] in (" ", "\t"):
        # the text kept goes on inside the run's indentation (a PEM block indented in YAML):
        # what is kept apart ends after a line break, so the two read one after the other run
        # on (blanks are a run's only next to a line break, RUNS_ON)
        stop = max(text.rfind("\n", start, stop), text.rfind("\r", start, stop)) + 1 or stop
    return text[kept_before(text, start, overlap):stop]
