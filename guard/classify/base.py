"""What local (in-process) classifiers share: normalise, scan, map spans back, stay off the loop.

A local classifier implements `scan(norm, segment)`, a synchronous function over the normalised
text of one segment, returning its findings in normalised coordinates. `LocalClassifier.classify`
does the rest: normalisation (unless opted out), mapping spans to the original text, merging
overlapping spans, timing, and moving large batches to a worker thread so the event loop never
waits on a long scan.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import functools
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from guard.classify.decode import find_readings
from guard.classify.decode.runs import RUN_CHARS
from guard.classify.escapes import has_references
from guard.classify.normalize import (
    RUNS_ON,
    Normalized,
    blank,
    has_inner_mark,
    kept_after,
    kept_before,
    may_split_words,
    normalize,
    original_text,
    read_as_is,
    references_read,
    running_on,
    runs_across,
    spread_joint,
)
from guard.types import Segment, Span, Stage, Verdict

# Batches with more characters, or more texts, than these are scanned in a worker thread. Below
# them, the hop to a thread (tens of microseconds) costs more than the scan itself, and the scan
# holds the event loop a few milliseconds at most (each text costs every classifier a fixed
# amount: 8,000 one-letter texts held it 1.3 s when only characters were counted).
OFFLOAD_CHARS = 8_192
INLINE_TEXTS = 32
# The worker thread checks run in, apart from the default executor's (file I/O: the kill switch
# file, the incident spool), so that checks queued under load do not delay those. One: pure-Python
# scans share one interpreter lock, so more threads only slice every check into its timeout at
# once (four clients' long texts with two threads: 40 of 40 refused; with one, 2 of 41 checked),
# and take the lock from the event loop more often (with six, a kill switch took 1 to 4 s to act
# under load). Checks run in arrival order; more cores are replicas or `--workers`.
CHECK_THREADS = 1
_CHECKS = ThreadPoolExecutor(CHECK_THREADS, thread_name_prefix="guard-check")
# How much of each side `_across` joins when a classifier declares no longest finding.
JOIN_CHARS = 1_024
# A finding this close to a window's end, nothing but blanks between, reaches it (`_run_on`).
EDGE_CHARS = 16
# The shortest base64, base32 or hex run decoded (guard/classify/decode/runs.py), and its
# characters: texts joined are decoded again only where such a run crosses where they meet
# (`_decodes_across`; not a run of names and ids read back to back, `call_0001read_file`).
RUN_LEAST = 16
# A run of a long value that begins this close after a window's start may be opened by what
# stands before the window (a PEM block's BEGIN line, up to ~30 characters before its run:
# "-----BEGIN ENCRYPTED PRIVATE KEY-----" has spaces; ~110 with a legacy encrypted key's
# `Proc-Type:` and `DEK-Info:` header lines, whose spaces and commas stop the run), read apart
# (`_run_on`).
OPENING = 128
# A window read in a run that began before it starts this many characters (a multiple of) from
# where the run began: base64's quads, base32's octets and hex's pairs decode as in the whole run.
ALIGN = 8
_ENCODED = re.compile(r"[A-Za-z0-9+/=]*")


T = TypeVar("T")
Item = TypeVar("Item")


class Abandoned(Exception):
    """Raised in a worker thread whose work nobody awaits any more (`off_loop`)."""


class Work:
    """The CPU seconds the check thread has spent on one request's checks (`off_loop`), the one
    it is on counted so far: what tells a prompt too costly to read in time from a check thread
    busy with other requests' checks when a check times out (`ClassifierRunner`). CPU time, not
    wall time: a check waiting for the interpreter lock while the event loop reads other
    requests' prompts is not spending its own (a probe: 3 of 32 prompts of 300 texts, read in
    0.04 s alone, were told "send fewer" under four other clients' load on wall time)."""

    __slots__ = ("clock", "done", "since")

    def __init__(self) -> None:
        self.done = 0.0
        self.clock: Callable[[], float] = time.perf_counter
        self.since: float | None = None

    def spent(self) -> float:
        since = self.since
        return self.done + (self.clock() - since if since is not None else 0.0)

    def charged(self, work: Callable[[threading.Event], T]) -> Callable[[threading.Event], T]:
        def run(stop: threading.Event) -> T:
            self.clock = clock = thread_clock()
            self.since = started = clock()
            try:
                return work(stop)
            finally:  # read from the event loop meanwhile: counted twice for an instant, not never
                self.done += clock() - started
                self.since = None
        return run


def thread_clock() -> Callable[[], float]:
    """The calling thread's CPU clock, which any thread can read (wall time where the system
    has none)."""
    try:
        clock = time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):
        return time.perf_counter
    return functools.partial(time.clock_gettime, clock)


# The request whose checks `off_loop` runs (set by the runner for each stage it reads)
WORK: ContextVar[Work | None] = ContextVar("guard_check_work", default=None)


def small(segments: Sequence[Segment], chars: int = OFFLOAD_CHARS) -> bool:
    """Whether a batch is small enough to check on the event loop (OFFLOAD_CHARS, INLINE_TEXTS),
    the earlier turns read with each text (`Segment.context`) counted too."""
    if len(segments) > INLINE_TEXTS:
        return False
    return sum(len(s.text) + sum(map(len, s.context)) for s in segments) <= chars


async def off_loop(work: Callable[[threading.Event], T]) -> T:
    """`work(stop)` in the check thread (CHECK_THREADS). When the check awaiting it gives up (its
    timeout, a cancelled request), `stop` is set: work that checks it between texts
    (`until_stopped`) then ends within one text instead of holding the thread and a core for
    nobody. A refused
    flood of 8,000 texts had kept guard busy for a second after its 413, and the next requests'
    checks timed out behind it."""
    stop = threading.Event()
    account = WORK.get()
    if account is not None:
        work = account.charged(work)
    try:
        return await asyncio.get_running_loop().run_in_executor(_CHECKS, work, stop)
    except asyncio.CancelledError:
        stop.set()
        raise


def until_stopped(items: Iterable[Item], stop: threading.Event | None) -> Iterator[Item]:
    """`items`, one at a time, until `stop` is set (then Abandoned)."""
    for item in items:
        if stop is not None and stop.is_set():
            raise Abandoned
        yield item


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a scan found, in normalised-text coordinates; start == end means no span."""

    label: str
    score: float
    start: int = 0
    end: int = 0


# The context a classifier that `joins_turns` asks the runner for (`context_turns`): the prompt
# segments before each one, of its role (a document's and the user's counted as one,
# `types.JOINED_ROLES`). A value cut in up to this many pieces plus one is read
# whole (only the last `max_match_chars` of them count).
JOINED_TURNS = dict.fromkeys(("user", "system", "tool", "document", "assistant", "tool_call"), 8)


class LocalClassifier:
    """Base of the built-in local classifiers (see module docstring).

    category:        the label every verdict that fires carries (`pii`, `secret`, ...).
    leet:            fold leetspeak while normalising (keyword lists).
    spread:          join letters spread apart and drop asterisks inside words while normalising
                     ("b.o.m.b", "bo*mb"; keyword lists, and regex classifiers that ask for it).
    marks:           with `spread`, also scan a second reading of the text with the other marks
                     inside words dropped ("na-palm"; `scan_marks`), and add what it finds: a
                     second reading, since ordinary compounds ("self-harm") keep their words in
                     the first (keyword lists).
    whole_runs:      with `spread`, also scan a reading with each run of letters spread with single
                     spaces joined whole, the word gaps the split found in it kept as word
                     boundaries only (`Normalized.cuts`): a term the split cuts inside ("n i g h t j
                     a r" read "night jar") is still whole there (keyword lists).
    offload_chars:   batches larger than this run in the default executor.
    decoded:         also scan the text's decoded readings (guard/classify/decode/: base64, hex,
                     a cipher, ...); a finding there spans the whole encoded run, so a stream also
                     holds back an encoded run until it ends (`reads_encoded_runs`). And a text
                     holding HTML character references, percent-escapes or markup once more as
                     shown (a key with one letter written `&#80;`, `ghp\\_...`; `references`).
    references:      also scan a text holding HTML character references, percent-escapes, a
                     program text's escapes or markup (`escapes.SHOWN`) once more as shown: those
                     decoded in place, markup read as a renderer shows it (the scored heuristics:
                     "Ign&#111;r&#101; &#97;ll pr&#101;v...", "Disre<!---->gard"); a finding there
                     spans the characters it was read from. Implied by `decoded`.
    accents:         drop accents on Latin letters while normalising (formats that are ASCII,
                     such as keys: an accent on each letter hides nothing from a reader).
    joins_turns:     also read each prompt segment joined to the ones before it of its role
                     (and of the roles read with it, `types.JOINED_ROLES`), for values split
                     across messages, text parts or documents (`_across`, JOINED_TURNS). The
                     texts are read back to back, nothing between (a key cut in two reads whole).
    phrases_across:  with `joins_turns`, also scan texts joined with each boundary of two between
                     letters or digits as a cut, which `scan` reads as white space a match must
                     cross (`_across_bounds`; keyword lists with a phrase: its words meet across
                     two texts whether white space is between or not).
    """

    category: str = ""
    in_process = True
    accents: bool = False
    joins_turns: bool = False
    leet: bool = False
    spread: bool = False
    marks: bool = False
    whole_runs: bool = False
    phrases_across: bool = False
    references: bool = False
    offload_chars: int = OFFLOAD_CHARS

    def __init__(self, name: str, *, normalize: bool = True, max_match_chars: int | None,
                 decoded: bool = False) -> None:
        self.name = name
        self.normalize = normalize
        self.decoded = self.reads_encoded_runs = decoded
        self.max_match_chars = max_match_chars

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        """Findings in one segment's normalised text."""
        raise NotImplementedError

    def finding_labels(self) -> Iterable[str] | None:
        """Every label a finding of `scan` can carry, as configured; None: not known (`emits`)."""
        return None

    @property
    def emits(self) -> frozenset[str] | None:
        """Every label a verdict can carry (`Classifier.emits`): `category` and its findings';
        None (open) for a subclass that does not say what its findings carry (a plugin's)."""
        labels = self.finding_labels()
        if labels is None:
            return None
        return frozenset({*labels, *((self.category,) if self.category else ())})

    def scan_marks(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        """Findings in the second reading (`marks`): by default what `scan` finds there."""
        return self.scan(norm, segment)

    def runs_inline(self, segments: Sequence[Segment]) -> bool:
        """True when the batch is small enough to scan on the event loop (`small`) and holds no
        letters spread apart for `spread` to split into words (a millisecond or more)."""
        if not small(segments, self.offload_chars):
            return False
        return not (self.spread and self.normalize and any(may_split_words(s.text) for s in segments))

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        if not self.runs_inline(segments):
            return await off_loop(lambda stop: self.classify_sync(segments, stop))
        return self.classify_sync(segments)

    def classify_sync(
        self, segments: Sequence[Segment], stop: threading.Event | None = None
    ) -> list[Verdict]:
        """The whole batch, synchronously (what the executor runs, until `stop`)."""
        started = time.perf_counter()
        results = [self._one(segment) for segment in until_stopped(segments, stop)]
        latency = time.perf_counter() - started
        return [
            Verdict(self.name, seg.index, labels, score, spans, latency)
            for seg, (labels, score, spans) in zip(segments, results, strict=True)
        ]

    def _normalized(self, text: str, references: bool = False) -> Normalized:
        if not self.normalize:
            return references_read(text) if references else original_text(text)
        return normalize(text, leet=self.leet, spread=self.spread, accents=self.accents,
                         references=references)

    def _reads_references(self, text: str) -> bool:
        """Whether `text` is read once more as shown (`references`, `decoded`)."""
        return (self.decoded or self.references) and has_references(text)

    def _readings(self, text: str, norm: Normalized | None = None) -> Iterator[Normalized]:
        """The readings of a text, alone (`_one`) or joined (`_across`, `_onward`): normalised
        (`norm`, when already made), and as shown when it holds references or markup, so a half
        with a letter written `&#74;` is read as the whole text is."""
        yield self._normalized(text) if norm is None else norm
        if self._reads_references(text):
            yield self._normalized(text, references=True)
        if self.whole_runs and self.spread and self.normalize and may_split_words(text):
            whole = normalize(text, leet=self.leet, spread=True, accents=self.accents, whole=True)
            if whole.cuts:
                yield whole

    def _one(self, segment: Segment) -> tuple[frozenset[str], float, tuple[Span, ...]]:
        own = segment.own
        found = self._read(own, segment)
        if self.decoded and segment.context:
            found += self._realigned(segment)
        if len(own) < len(segment.text):
            found += self._crossing(segment)
        # what is read across texts is not a blank text's to mask: the texts around it find it
        # (they read past it, `normalize.blank`), and a mask there would show where it was cut
        shown = self.joins_turns and not blank(own)
        for found_across in (
                self._across(segment) if segment.context and shown else (),
                self._onward(segment) if segment.after and shown else (),
                self._ahead(segment) if segment.joins and shown else ()):
            found += [(finding, span) for finding, span in found_across]
        if not found:
            return frozenset(), 0.0, ()
        labels = {f.label for f, _ in found}
        if self.category:
            labels.add(self.category)
        score = max(f.score for f, _ in found)
        return frozenset(labels), score, merge_spans(span for _, span in found if span is not None)

    def _read(self, text: str, segment: Segment) -> list[tuple[Finding, Span | None]]:
        """What every reading of `text` alone finds (`_readings`, the `marks` reading, decoded
        runs), each finding with its span in `text` (None: a finding with no span)."""
        norm = self._normalized(text)
        found = list(self._scanned(text, segment, norm))
        if self.marks and self.spread and self.normalize and has_inner_mark(norm.text):
            joined = normalize(text, leet=self.leet, spread=True, marks=True)
            if joined.text != norm.text:
                found += [(joined, f) for f in self.scan_marks(joined, segment)]
        if self.decoded:
            found += self._decoded(text, segment)
        return [(f, Span(*where.original_span(f.start, f.end), f.label) if f.end > f.start
                 else None) for where, f in found]

    def _realigned(self, segment: Segment) -> list[tuple[Finding, Span | None]]:
        """What the text's first run finds decoded from where its decoding is aligned to the
        run's start (ALIGN), when the run goes on from the texts before it (`Segment.context`)
        and began there off ALIGN: read alone it decodes misaligned, and a value in it farther
        from the cut than the reach is read by no window across the cut."""
        # (a run going on further back than RUN_CHARS begins there, as `run_around` reads it)
        before = "".join(segment.context)[-RUN_CHARS:]
        text, cut = before + segment.own, len(before)
        if not self._decodes_across(text, cut):
            return []
        skip = aligned(run_around(text, cut), cut) - cut
        if not skip:
            return []
        return [(f, Span(f.start, f.end, f.label) if f.end > f.start else None)
                for _, f in self._decoded(segment.own, segment, skip)]

    def _decoded(self, text: str, segment: Segment, skip: int = 0
                 ) -> Iterator[tuple[Normalized, Finding]]:
        """What `scan` finds in the decoded readings of `text` (`decoded`), each over the encoded
        run it was read from: as read in `text` (an identity reading). The first `skip`
        characters are not read: a window that starts inside a run is read from where its
        decoding is aligned to the run's start (ALIGN)."""
        for reading in find_readings(text[skip:]):
            for f in self.scan(self._normalized(reading.text), segment):
                yield original_text(text), (dataclasses.replace(f, start=skip + reading.start,
                                                                end=skip + reading.end)
                                            if f.end > f.start else f)

    def _decodes_across(self, text: str, cut: int) -> bool:
        """Whether texts joined at `cut` are read decoded (`_decoded`): with `decoded`, when an
        encoded run may cross the cut (`runs_across`: most joined texts have none)."""
        return self.decoded and runs_across(text, cut, RUN_LEAST, _ENCODED)

    def _run_on(self, text: str, at: int, run: tuple[int, int], window: tuple[int, int],
                found: list[tuple[Finding, int, int]], segment: Segment
                ) -> list[tuple[Finding, int, int]]:
        """`found`, what a reading of `text[window]` finds across the cut at `at` (texts joined;
        spans in `text`), and a value longer than the reach that goes on past the window followed
        through its run (RUNS_ON; `run`, the one across the cut, `run_around`): a PEM block or a
        long base64 run cut across texts is masked whole, while each reading stays `reach` long,
        however long the run (the whole run read wider and wider had cost harmless base64 40 to
        60 times its CPU).

        - The run through the cut began before the window, or so near its start that what opens
          it may begin before (OPENING): the window around where it began is read (a BEGIN line,
          where its decoding starts); a value found there that covers the run as far as it
          reads it (`_covers`) opens the run, and covers it on through the cut.
        - A value found across the cut that covers the run going on past the window's end as
          far as the window reads it covers it on too (a cut inside a BEGIN line: the run is
          the body's, which begins after the cut).
        A value covering a run ends where the run ends in `text`, or where it reads on past
        that (a PEM block's END line, read after its opening)."""
        lo, hi = window
        reach = self.max_match_chars or JOIN_CHARS
        going: list[tuple[Finding, int, tuple[int, int], int]] = []
        begun, end = run_around(text, hi, hi - lo) if found else (hi, hi)
        if begun < end:
            going += [(f, s, window, end) for f, s, e in found
                      if _covers(text, (s, e), begun, window, reach)]
        start, end = run
        # (not a run going on further back than RUN_CHARS, as decoding reads it: its start is
        # not seen, and a window there reads only the run's middle)
        if lo > 0 and at - RUN_CHARS < start < min(end, lo + OPENING):
            opening = kept_before(text, start, reach), min(at, kept_after(text, start, reach))
            read = [(f, opening[0] + span.start, opening[0] + span.end)
                    for f, span in self._read(text[slice(*opening)], segment) if span is not None]
            going += [(f, s, opening, end) for f, s, e in read
                      if _covers(text, (s, e), start, opening, reach)]
        # first: a value followed through its run ends where one read in the window may end too,
        # and covers more (`_across` keeps the first of each end)
        return [(f, s, self._ends(text, end, head, segment)) for f, s, head, end in going] + found

    def _ends(self, text: str, end: int, head: tuple[int, int], segment: Segment) -> int:
        """Where a value read in `text[head]`, reaching its end, ends when it goes on through a
        run that ends at `end`: there, or past it where a reading of `head` and what stands
        around `end` finds it goes on (the characters between, all the run's, left out)."""
        reach = self.max_match_chars or JOIN_CHARS
        first, rest = text[slice(*head)], max(head[1], end - reach)
        spliced = first + text[rest:kept_after(text, end, reach)]
        ends = [end]
        for norm, f in self._scanned(spliced, segment):
            begin, stop = norm.original_span(f.start, f.end)
            if begin < len(first) < stop:
                ends.append(rest + stop - len(first))
        return max(ends)

    def _crossing(self, segment: Segment) -> list[tuple[Finding, Span | None]]:
        """What an answer's own text read on into the texts after it (`Segment.joins`) finds
        that crosses into them: a client shows each text apart, so the own text is read alone
        (`_one`: "bomb" + "ok" read joined is "bombok", no word) and joined only where a value
        goes on past its end; `reach` characters on each side of that end, not the whole text
        (a value that goes on is followed through its run, `_run_on`). A finding with no span is
        the joined texts' (a score), as read joined."""
        own, text, reach = len(segment.own), segment.text, self.max_match_chars or JOIN_CHARS
        run = run_around(text, own)
        cut, end = aligned(run, kept_before(text, own, reach)), kept_after(text, own, reach)
        scores: list[tuple[Finding, Span | None]] = []
        found = []
        for f, span in self._read(text[cut:end], segment):
            if span is None:
                scores.append((f, None))
            elif span.start < own - cut < span.end:
                found.append((f, span.start + cut, span.end + cut))
        return scores + [(f, Span(s, e, f.label))
                         for f, s, e in self._run_on(text, own, run, (cut, end), found, segment)]

    def _across(self, segment: Segment) -> list[tuple[Finding, Span]]:
        """Findings that span the end of the segments before this one (of its role, joined) and
        the start of this one: a value sent in pieces, in messages or text parts. In a prompt,
        each span starts before this segment (below 0) by the characters of the pieces before
        it, which a decision masks in those segments too (`redaction.reaching_back`); in an
        answer, at 0 (the pieces before are read with the start of this one: `segments`).
        `reach` characters each side of the cut (a value that goes on is followed through its
        run, `_run_on`)."""
        reach = self.max_match_chars or JOIN_CHARS
        stop = kept_after(segment.text, 0, reach)
        tail = segment.text[:stop]
        heads = _heads(segment.context, reach)
        # and where the texts of an answer read after this one begin in it
        ahead = [at for at in segment.joins if at < len(tail)]
        # texts read as they are (the usual ones) are read only where a finding may be: each head
        # is a part of the longest, so that one tells for all
        longest = next(iter(heads), "")
        as_is = read_as_is(longest + tail)
        before = "".join(segment.context)
        text, cut = before + segment.text, len(before)
        decoding = self._decodes_across(longest + tail, len(longest))
        # the longest head may start inside a run: decoded from where its decoding is aligned
        run = run_around(text, cut)
        skip = aligned(run, cut - len(longest)) - (cut - len(longest))
        found: list[tuple[Finding, int, int]] = []  # across the cut, in `text`
        for first, (head, bounds) in enumerate(heads.items(), start=1):
            joined = head + tail
            readable = not as_is or self.may_find_as_is(joined)
            found_in = self._scanned(joined, segment) if readable else iter(())
            cuts = [*bounds, *(len(head) + at for at in ahead)]
            # letters spread apart across the cuts: on the longest head only, which holds every
            # cut the shorter ones do (each reading splits its runs into words, ~1 ms)
            glue = first == 1
            found_in = itertools.chain(found_in, self._at_bounds(joined, cuts, segment, glue=glue,
                                                                 phrases=readable))
            if decoding:
                found_in = itertools.chain(found_in, self._decoded(joined, segment,
                                                                   skip if first == 1 else 0))
            for norm, f in found_in:
                start, end = norm.original_span(f.start, f.end)
                if start < len(head) < end:
                    found.append((f, cut - len(head) + start, cut - len(head) + end))
        seen: set[tuple[int, str]] = set()
        out: list[tuple[Finding, Span]] = []
        for f, start, end in self._run_on(text, cut, run, (cut - len(longest), cut + stop),
                                          found, segment):
            if (end, f.label) not in seen:
                seen.add((end, f.label))
                back = start - cut if segment.stage is Stage.PROMPT else 0
                out.append((f, Span(back, end - cut, f.label)))
        return out

    def _ahead(self, segment: Segment) -> Iterator[tuple[Finding, Span]]:
        """Findings that start in an answer's own text and go on into the texts read after it,
        read with the boundaries of those as cuts (`Segment.joins`, `_across_bounds`): a
        phrase's first words there ("about Project", "Bluebird now") are masked in it as a
        value going on is (a span may end past its text: masks stop at its end)."""
        own = segment.joins[0]
        for norm, f in self._at_bounds(segment.text, list(segment.joins), segment):
            start, end = norm.original_span(f.start, f.end)
            if start < own:
                yield f, Span(start, end, f.label)

    def _at_bounds(self, text: str, bounds: list[int], segment: Segment, *, glue: bool = True,
                   phrases: bool = True) -> Iterator[tuple[Normalized, Finding]]:
        """What only a reading that knows where the texts joined in `text` meet (`bounds`) finds:
        a phrase's words across them (`phrases_across`, unless not `phrases`), letters spread
        apart on both sides (`spread`, `_glued`, when `glue`)."""
        if phrases and self.phrases_across:
            yield from self._across_bounds(text, bounds, segment)
        if glue and self.spread and self.normalize:
            yield from self._glued(text, bounds, segment)

    def _glued(self, text: str, bounds: list[int], segment: Segment
               ) -> Iterator[tuple[Normalized, Finding]]:
        """What `scan` finds in the readings of `text` with the separator of letters spread apart
        put back at each boundary they meet at (`spread_joint`: "n i g h t j" + "a r" joined read
        "n i g h t ja r", the run ended at "ja"), in `text`'s coordinates. Only texts cut so,
        whose letters may hold a finding (`may_find_in`), are read again."""
        joints = _joints(text, bounds)
        if not joints or not self.may_find_in(self._normalized(text)):
            return
        pieces, last = [], 0
        for at, separator in joints:
            pieces += [text[last:at], separator]
            last = at
        glued = "".join([*pieces, text[last:]])
        put = [at + n for n, (at, _) in enumerate(joints)]  # where each separator put stands
        for reading in self._readings(glued):
            found = list(self.scan(reading, segment))
            if found:
                unglued = _unglued(reading, put)
                yield from ((unglued, f) for f in found)

    def may_find_in(self, norm: Normalized) -> bool:
        """Whether a reading with the letters of `norm` (a text's reading), only what stands
        between them told apart otherwise, may hold a finding: False spares `_glued` its reading
        (a keyword list: some term's letters are there). By default, True."""
        return True

    def may_find_as_is(self, text: str) -> bool:
        """Whether a reading of `text`, a text read as it is (`normalize.read_as_is`: its own
        characters, less spread letters' separators, leetspeak folded one for one), may hold a
        finding, by a cheap look (a pattern set's screen, a term's characters): False spares
        `_across` the reading of a join (up to eight for each of a prompt's texts). By default,
        True."""
        return True

    def _across_bounds(self, text: str, bounds: list[int], segment: Segment
                       ) -> Iterator[tuple[Normalized, Finding]]:
        """What `scan` finds across the boundaries of texts joined (`bounds`, original offsets)
        that fall between two letters or digits, read as cuts (`Normalized.cuts`): a phrase's
        words meet there with or without white space between ("about Project", "Bluebird now"),
        as a reader reads two messages, while the joined reading has none (`phrases_across`)."""
        norm = self._normalized(text)
        read = norm.text
        cuts = sorted({at for at in map(norm.position, bounds)
                       if 0 < at < len(read) and read[at - 1].isalnum() and read[at].isalnum()})
        if cuts:
            across = dataclasses.replace(norm, cuts=tuple(cuts))
            yield from ((across, f) for f in self.scan(across, segment))

    def _scanned(self, text: str, segment: Segment, norm: Normalized | None = None
                 ) -> Iterator[tuple[Normalized, Finding]]:
        """What `scan` finds in each reading of a text (`_readings`), with the reading."""
        for reading in self._readings(text, norm):
            yield from ((reading, f) for f in self.scan(reading, segment))

    def _onward(self, segment: Segment) -> list[tuple[Finding, Span]]:
        """Findings that span the end of an answer's text (read after the texts before it,
        `Segment.context`) and the start of the text a client puts after it (`Segment.after`, a
        fill-in-the-middle suffix): each span ends at the end of the segment's text, so only the
        answer's characters are masked. A value wholly in the text after is not the answer's.
        `reach` characters each side of the cut (a value that goes on is followed through its
        run, `_run_on`)."""
        reach = self.max_match_chars or JOIN_CHARS
        before = "".join(segment.context)
        text = before + segment.text + segment.after
        cut = len(before) + len(segment.text)
        run = run_around(text, cut)
        start = aligned(run, kept_before(text, cut, reach))
        end = kept_after(text, cut, reach)
        window = text[start:end]
        found_in = self._scanned(window, segment)
        if self._decodes_across(window, cut - start):
            found_in = itertools.chain(found_in, self._decoded(window, segment))
        found = []
        for norm, f in found_in:
            begin, stop = norm.original_span(f.start, f.end)
            if begin < cut - start < stop:
                found.append((f, start + begin, start + stop))
        return [(f, Span(max(0, begin - len(before)), len(segment.text), f.label))
                for f, begin, _ in self._run_on(text, cut, run, (start, end), found, segment)]


def run_around(text: str, at: int, back: int = RUN_CHARS) -> tuple[int, int]:
    """Where the run of a long value's characters (RUNS_ON) that goes on across offset `at` of
    `text` begins (at most `back` characters back: a run going on further begins there) and
    where it ends; (at, at) when none does (prose stops a run at its first space)."""
    begin = max(0, at - back)
    start = begin + running_on(text[begin:at], back)
    end = RUNS_ON.match(text, at).end()  # type: ignore[union-attr]  # a starred class matches
    return (start, end) if start < at < end else (at, at)


def aligned(run: tuple[int, int], start: int) -> int:
    """`start`, the start of a window read across a cut, moved on to ALIGN characters from where
    the run across the cut (`run_around`) began when it began before it, so the run's encoding
    decodes in the window as in the whole run."""
    begun, _ = run
    return start + (begun - start) % ALIGN if begun < start else start


def _covers(text: str, found: tuple[int, int], begun: int, window: tuple[int, int],
            reach: int) -> bool:
    """Whether a value `found` in `text[window]` covers the run that began at `begun` (RUNS_ON)
    as far as the window reads it, half the reach or more: from where the run begins in the
    window (ALIGN: a decoded reading starts there) to the window's end (EDGE_CHARS, only
    blanks between). Such a value goes on where its run does; a word that ends where a window
    ends, or a run's first word, does not."""
    (start, end), (lo, hi) = found, window
    first = max(begun, lo)
    return (start <= first + ALIGN and 2 * (hi - first) >= reach
            and hi - EDGE_CHARS < end <= hi and blank(text[end:hi]))


def _heads(context: Sequence[str], reach: int) -> dict[str, list[int]]:
    """What `_across` reads a segment's text after, longest first: each earlier text (`context`)
    joined with those after it, of which the last `reach` characters normalisation keeps
    (`kept_before`: so marks do not push a value out), with where each text after the first
    begins in it (the last: where the segment's does). Joined from each text on, as a value
    starts where a text starts as well as inside one, and the text before must not run into its
    first word ("isghp_..."). The texts are joined once: a join from a text on is the end of
    that, and is cut where the whole is when it begins before (`kept_before` counts back from
    the end alike)."""
    joined = "".join(context)
    begins = [0, *itertools.accumulate(map(len, context))]
    cut = kept_before(joined, len(joined), reach)
    starts = sorted({max(at, cut) for at in begins[:-1]})
    return {joined[at:]: [begin - at for begin in begins if begin > at] for at in starts}


def _joints(text: str, bounds: list[int]) -> list[tuple[int, str]]:
    """The boundaries in `text` where letters spread apart meet, each with their separator
    (`spread_joint`), in order: a text of one letter between two ("n i g h t" + "j" + "a r") goes
    on with the run before it when the next boundary does too, read with the separator put at
    the one before it."""
    at_bounds = set(bounds)
    joints: list[tuple[int, str]] = []
    pieces: list[str] = []
    last = 0
    for at in sorted(at_bounds):
        before = ("".join(pieces[-6:]) + text[last:at])[-4:]  # as read: separators put back
        if separator := spread_joint(before + text[at:at + 2], len(before),
                                     cut_after=at + 1 in at_bounds):
            joints.append((at, separator))
            pieces += [text[last:at], separator]
            last = at
    return joints


def _unglued(norm: Normalized, put: list[int]) -> Normalized:
    """`norm`, a reading of a text with characters put in at `put` (their places there), mapped
    to the text without them (a span over one ends at the character after it)."""
    def back(at: int) -> int:
        return at - bisect.bisect_left(put, at)
    spans = [norm.original_span(i, i + 1) for i in range(len(norm.text))]
    return dataclasses.replace(norm, starts=tuple(back(start) for start, _ in spans),
                               ends=tuple(back(end) for _, end in spans),
                               length=norm.length - len(put), removed=())


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans sorted, with overlapping or touching spans of the same label merged into one."""
    ordered = sorted(spans, key=lambda s: (s.label, s.start, s.end))
    merged: list[Span] = []
    for span in ordered:
        last = merged[-1] if merged else None
        if last is not None and last.label == span.label and span.start <= last.end:
            merged[-1] = Span(last.start, max(last.end, span.end), last.label)
        else:
            merged.append(span)
    return tuple(sorted(merged, key=lambda s: (s.start, s.end, s.label)))
