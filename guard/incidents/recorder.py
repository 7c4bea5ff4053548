"""The incident recorder: turns decisions and events into incidents and fans them out to the
sinks, without ever making a request wait or fail.

`record_decision` / `record_event` build the incident, append it to each sink's in-memory queue
and return its id at once. One task per sink writes its queue in batches. Before an answer goes
out, `settled()` waits (bounded) for the incidents its request recorded to be written: a process
killed after a client saw an answer has its incidents on disk. A sink that raises is
marked down: what it refused, and everything after it, goes to that sink's disk spool (order
kept) until a retry succeeds; the spool is then replayed oldest first before new incidents.
The journal and the spools are fsynced at least every `fsync_interval_ms`. `aclose()` drains
every queue (into the sink or its spool) before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import structlog

from guard.errors import StartupError
from guard.incidents import model
from guard.incidents.excerpt import build_excerpt
from guard.incidents.hashkey import HashKey
from guard.incidents.lines import taken_by
from guard.incidents.settings import IncidentSettings
from guard.incidents.shutdown_loss import ShutdownLoss
from guard.incidents.sinks import JournalSink, LogSink, RedisStreamSink, Sink
from guard.incidents.spool import Spool
from guard.observability.metrics import Metrics
from guard.types import Decision, GuardContext, Segment, joined

log = structlog.get_logger("guard.incidents")

# In each request's task: the channel `settled` waits on, and how many incidents it must have
# taken for the last one this task recorded to be written.
_RECORDED: ContextVar[tuple[Channel, int] | None] = ContextVar("guard_incident_recorded",
                                                                 default=None)


def incidents_dir(state_dir: Path) -> Path:
    return state_dir / "incidents"


def journal_dir(state_dir: Path) -> Path:
    return incidents_dir(state_dir) / "journal"


def epoch_file(state_dir: Path) -> Path:
    """Where the Redis Stream sink remembers the stream's epoch (guard.incidents.sinks)."""
    return incidents_dir(state_dir) / "stream-epoch"


def spool_dir(state_dir: Path) -> Path:
    """The spools' directory: one directory in it per sink."""
    return incidents_dir(state_dir) / "spool"


class Channel:
    """One sink with its in-memory queue, its disk spool and its retry state."""

    def __init__(self, sink: Sink, spool_dir: Path, settings: IncidentSettings,
                 metrics: Metrics, on_progress: Callable[[], None] = lambda: None) -> None:
        self.sink = sink
        self.on_progress = on_progress
        self.idle = asyncio.Event()
        self.idle.set()
        self.settings = settings
        self.metrics = metrics
        self.queue: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.spool_dir = spool_dir
        self.spool: Spool | None = None
        self.down_since: float | None = None
        self._retry_at = 0.0
        self._backoff_s = settings.retry_interval_ms / 1000
        self._synced_at = time.monotonic()
        self._unsynced = 0
        self._syncing: asyncio.Task[None] | None = None
        self._stalled = False  # neither sink nor spool took the last batch: wait for _retry_at
        self._unwritable = False  # the spool refused a write and has not taken one since
        self.closing = False
        self.lost_at_shutdown = 0  # what neither the sink nor its spool took by the end
        self.appended = 0  # incidents ever queued here
        self.in_flight = 0  # of them, those in the batch being written
        self.crash_dropped = 0  # the batch in hand when `run` last raised (a bug): lost
        self._moved = asyncio.Event()

    @property
    def unwritable(self) -> bool:
        """Neither the sink nor its spool takes writes (a full disk) until a retry succeeds."""
        return self._unwritable

    def taken(self) -> int:
        """How many of the queued incidents were written, spooled or dropped (in queue order)."""
        return self.appended - len(self.queue) - self.in_flight

    async def taken_up_to(self, count: int) -> None:
        """Return once `taken()` reaches `count`."""
        while self.taken() < count:
            await self._moved.wait()

    def _moved_on(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()

    async def open(self) -> None:
        self.spool = await asyncio.to_thread(Spool, self.spool_dir, self.settings.spool_max_bytes,
                                             self._unreadable)
        if self.spool.pending():
            log.warning("incident_spool_found", sink=self.sink.name, dir=str(self.spool_dir),
                        incidents=self.spool.waiting)
        self._count_waiting()

    def _count_waiting(self) -> None:
        if self.spool is not None:
            self.metrics.incident_spool_waiting.labels(self.sink.name).set(self.spool.waiting)

    async def run(self) -> None:
        """Write queued incidents until closed and drained; never raises."""
        batch_size = self.settings.batch_size
        while True:
            if (not self.queue or self._stalled) and not self.closing:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._wait_s()):
                        await self.wake.wait()
                self.wake.clear()
                self._stalled = self._stalled and time.monotonic() < self._retry_at
                if self._stalled and not self.closing:
                    continue  # a new incident woke it: the disk is tried at the retry, not now
            await self._replay_if_due()
            while self.queue:
                count = min(batch_size, len(self.queue))
                batch = [self.queue.popleft() for _ in range(count)]
                self.in_flight = count
                try:
                    delivered = await self._deliver(batch)
                except Exception:
                    self.crash_dropped = count  # counted by the recorder, which restarts it
                    raise
                finally:
                    self.in_flight = 0
                    self._moved_on()
                if not delivered:
                    break  # kept in memory: tried again at the next retry
                self.on_progress()
            if not self.queue:
                self.idle.set()
            await self._sync_if_due()
            if self.closing and (not self.queue or self._stalled):
                await self._replay_if_due(final=True)
                await self._sync_if_due(force=True)
                self.drop_queue()
                return

    def _wait_s(self) -> float:
        interval = self.settings.fsync_interval_ms / 1000
        now = time.monotonic()
        waits = [max(0.0, self._synced_at + interval - now)] if self._unsynced else [interval]
        if self._stalled or (self.spool is not None and self.spool.pending()):
            waits.append(max(0.0, self._retry_at - now))
        return max(0.001, min(waits))

    async def _deliver(self, batch: list[bytes]) -> bool:
        """Write `batch` to the sink, or to its spool when the sink is down; False when neither
        took it (a full disk under both): it goes back to the front of the queue."""
        assert self.spool is not None
        if self.spool.pending() or self.down_since is not None:
            return await self._to_spool(batch)
        try:
            await self.sink.write(batch)
        except Exception as exc:
            taken = taken_by(exc)  # a short write: those lines are in, never written twice
            self._unsynced += taken
            self._mark_down(exc)
            return await self._to_spool(batch[taken:])
        self._unsynced += len(batch)
        return True

    async def _to_spool(self, batch: Sequence[bytes]) -> bool:
        assert self.spool is not None
        try:
            taken = await asyncio.to_thread(self.spool.append, batch)
        except OSError as exc:
            self._spooled(taken_by(exc))
            self._hold(batch[taken_by(exc):], exc)
            return False
        self._spooled(taken)
        if taken < len(batch):
            self.metrics.incident_dropped.inc(len(batch) - taken)
            log.error("incident_spool_full", sink=self.sink.name, dropped=len(batch) - taken)
        if self._unwritable:
            log.info("incident_spool_writable_again", sink=self.sink.name)
        self._stalled = self._unwritable = False
        return True

    def _spooled(self, count: int) -> None:
        self._unsynced += count
        self.metrics.incident_spooled.labels(self.sink.name).inc(count)
        self._count_waiting()

    def _unreadable(self, path: Path, offset: int, size: int, reason: str) -> None:
        """A spooled line no sink could take (damaged, or too long): skipped, counted as lost."""
        self.metrics.incident_dropped.inc()
        log.error("incident_spool_line_unreadable", sink=self.sink.name, file=str(path),
                  offset=offset, bytes=size, reason=reason)

    def _hold(self, batch: Sequence[bytes], exc: OSError) -> None:
        """A batch neither the sink nor its spool took (a full disk): back to the front of the
        queue, tried again at the next retry."""
        self.queue.extendleft(reversed(batch))
        if not self._unwritable:
            log.error("incident_spool_unwritable", sink=self.sink.name,
                      error=type(exc).__name__, queued=len(self.queue))
        self._stalled = self._unwritable = True
        self._mark_down(exc)
        self.on_progress()  # the queue depth gauge shows what waits in memory

    def drop_queue(self) -> None:
        """At shutdown, what neither the sink nor its spool would take: lost (the recorder
        counts it, at the next start if it can; see shutdown_loss.py)."""
        if self.queue:
            self.lost_at_shutdown += len(self.queue)
            log.error("incident_lost_at_shutdown", sink=self.sink.name, dropped=len(self.queue))
            self.queue.clear()
            self.idle.set()
            self._moved_on()

    async def _replay_if_due(self, final: bool = False) -> None:
        """Send the spool to the sink, oldest first, while the sink takes it."""
        spool = self.spool
        if spool is None or not spool.pending() or (time.monotonic() < self._retry_at
                                                     and not final):
            return
        try:
            await self._replay(spool)
        finally:
            self._count_waiting()

    async def _replay(self, spool: Spool) -> None:
        replayed = 0
        while True:
            batch = await asyncio.to_thread(spool.read_batch, self.settings.batch_size)
            if not batch:
                break
            try:
                await self.sink.write(batch)
            except Exception as exc:
                await asyncio.to_thread(spool.commit, taken_by(exc))
                self._unsynced += taken_by(exc)
                self._mark_down(exc)
                return
            await asyncio.to_thread(spool.commit)
            self._count_waiting()
            replayed += len(batch)
            self._unsynced += len(batch)
        if not replayed:
            return  # nothing was sent (only unreadable lines were left): not known to be back
        log.info("incident_sink_recovered", sink=self.sink.name, replayed=replayed)
        self.down_since = None
        self._backoff_s = self.settings.retry_interval_ms / 1000

    def _mark_down(self, exc: Exception) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
            log.warning("incident_sink_down", sink=self.sink.name, error=type(exc).__name__,
                        detail=str(exc)[:200])
        else:
            self._backoff_s = min(self._backoff_s * 2, self.settings.retry_max_ms / 1000)
        self._retry_at = now + self._backoff_s

    async def _sync_if_due(self, force: bool = False) -> None:
        """Fsync what was written, every `fsync_interval_ms` (or `fsync_batch` incidents), in
        the background: incidents go on being written while a slow disk syncs (a SIGKILL loses
        only what was not written). `force` (closing) waits for it."""
        if self._syncing is not None and not self._syncing.done():
            if not force:
                return
            await self._syncing
        if not self._unsynced:
            return
        due = time.monotonic() - self._synced_at >= self.settings.fsync_interval_ms / 1000
        if not (force or due or self._unsynced >= self.settings.fsync_batch):
            return
        self._synced_at = time.monotonic()
        self._unsynced = 0
        if force:
            await self._sync()
        else:
            self._syncing = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        with contextlib.suppress(Exception):
            await self.sink.sync()
        if self.spool is not None:
            await asyncio.to_thread(self.spool.sync)

    async def aclose(self) -> None:
        if self._syncing is not None:
            with contextlib.suppress(Exception):
                await self._syncing
        with contextlib.suppress(Exception):
            await self.sink.aclose()
        if self.spool is not None:
            if self.spool.pending():
                log.warning("incident_spool_left", sink=self.sink.name, dir=str(self.spool_dir),
                            incidents=self.spool.waiting,
                            detail="kept on disk; sent to the sink by the next start")
            await asyncio.to_thread(self.spool.close)


class IncidentRecorder:
    """guard's Recorder: builds IncidentV1 records and writes them to every configured sink.

    Sinks: the structlog line (`log`), the journal in `state_dir/incidents/journal` (`journal`),
    and the Redis Stream when `redis_url` is set. Spools live in
    `state_dir/incidents/spool/<sink>`. Call `await start()` before recording is expected to
    reach the sinks and `await aclose()` on shutdown (drains everything).
    """

    def __init__(self, settings: IncidentSettings, state_dir: Path, redis_url: str | None,
                 metrics: Metrics, *, sinks: Sequence[Sink] | None = None) -> None:
        self.settings = settings
        self.hash_key = HashKey(settings.hash_key(), state_dir, redis_url)
        self.state_dir = state_dir
        self.metrics = metrics
        if sinks is None:
            sinks = default_sinks(settings, state_dir, redis_url)
        self.channels = [Channel(s, spool_dir(state_dir) / s.name, settings, metrics,
                                 self._update_depth)
                         for s in sinks]
        # What an answer waits for: the journal, else the Redis Stream (the log keeps nothing).
        self._kept = next((c for name in ("journal", "redis") for c in self.channels
                           if c.sink.name == name), None)
        self._tasks: list[asyncio.Task[None]] = []
        self._sharing: asyncio.Task[None] | None = None
        self._closed = False
        self._loss = ShutdownLoss(incidents_dir(state_dir) / "lost")

    # -- the Recorder protocol (called on the event loop, must be cheap and never raise) -----

    def record_decision(self, ctx: GuardContext, decision: Decision,
                        segments: Sequence[Segment],
                        details: Mapping[str, Any] | None = None) -> str | None:
        """Record one incident for a decision with any match (shadow included); its id."""
        if not decision.matches:
            return None
        try:
            text, _ = joined((segment.index, segment.text) for segment in segments)
            excerpt = self._excerpt(ctx, decision, segments) if self.settings.excerpts else None
            incident = model.from_decision(ctx, decision, text, excerpt=excerpt,
                                           hash_key=self.hash_key.value, details=details)
        except Exception:
            log.exception("incident_build_failed", request_id=ctx.request_id)
            self.metrics.incident_dropped.inc()
            return None
        return self.submit(incident)

    def _excerpt(self, ctx: GuardContext, decision: Decision, segments: Sequence[Segment]
                 ) -> str | None:
        """The incident's excerpt; None (the incident kept without one) when it cannot be built:
        an excerpt is a convenience, the incident is the evidence."""
        try:
            return build_excerpt(decision, segments, self.settings.excerpt_chars)
        except Exception:
            log.exception("incident_excerpt_failed", request_id=ctx.request_id)
            return None

    def record_event(self, kind: str, details: Mapping[str, Any],
                     ctx: GuardContext | None = None, text: str | None = None) -> str:
        """Record an operational event (`killswitch`, `breaker`, `stream_cut`,
        `stream_unchecked`), of the request `ctx` when one made it, `text` (what it is about)
        kept as its content hash; its id."""
        try:
            hashed = None if text is None else model.content_hash(text, self.hash_key.value)
            incident = model.from_event(kind, details, ctx=ctx, content_hash=hashed)
        except Exception:
            log.exception("incident_build_failed", kind=kind)
            self.metrics.incident_dropped.inc()
            return model.new_id()
        return self.submit(incident)

    def submit(self, incident: model.IncidentV1) -> str:
        """Queue `incident` for every sink; returns its id. Never waits, never raises."""
        self.metrics.recorded[incident.category, incident.severity, incident.action,
                              incident.mode].pending += 1
        if self._closed:
            self.metrics.incident_dropped.inc()
            log.error("incident_after_close", incident_id=incident.id)
            return incident.id
        line = incident.to_json()
        for channel in self.channels:
            if len(channel.queue) >= self.settings.queue_size:
                self.metrics.incident_dropped.inc()
                log.error("incident_queue_full", sink=channel.sink.name, incident_id=incident.id)
                continue
            channel.queue.append(line)
            channel.appended += 1
            channel.idle.clear()
            channel.wake.set()
            if channel is self._kept:
                _RECORDED.set((channel, channel.appended))
        self._update_depth()
        return incident.id

    async def settled(self) -> None:
        """Wait until the incidents this task recorded are written to the journal (or its spool,
        or the Redis Stream without a journal), at most `answer_wait_ms`: call it before an
        answer goes out, so a SIGKILL after the client saw it cannot lose them. Returns at once
        when there is nothing to wait for."""
        recorded = _RECORDED.get()
        if recorded is None:
            return
        channel, count = recorded
        wait_s = self.settings.answer_wait_ms / 1000
        # A full disk under both the journal and its spool (logged once) keeps incidents in
        # memory until it has room: waiting would only slow every answer down meanwhile.
        if channel.taken() < count and wait_s > 0 and not self._closed \
                and not channel.unwritable:
            started = time.monotonic()
            try:
                async with asyncio.timeout(wait_s):
                    await channel.taken_up_to(count)
            except TimeoutError:
                log.warning("incident_answered_before_written", sink=channel.sink.name,
                            waited_ms=round((time.monotonic() - started) * 1000),
                            queued=len(channel.queue))
        _RECORDED.set(None)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the spools (adopting any a previous process left) and start the writers;
        StartupError when one cannot be (`check_state_dir` checks what it can beforehand).
        The content-hash key becomes the fleet's first (with Redis), and is offered to Redis
        again every few seconds from then on (hashkey.py)."""
        await self.hash_key.share()
        for channel in self.channels:
            try:
                await channel.open()
            except OSError as exc:
                raise StartupError(f"state_dir {self.state_dir}: cannot use "
                                   f"{exc.filename or channel.spool_dir}: {exc.strerror or exc}"
                                   ) from exc
        self._tasks = [asyncio.create_task(self._run(c), name=f"incidents-{c.sink.name}")
                       for c in self.channels]
        self._sharing = asyncio.create_task(self.hash_key.run_sharing(),
                                            name="incidents-hash-key")
        await self._count_lost_before()

    async def _count_lost_before(self) -> None:
        """Add what processes stopped before lost at their shutdown to the dropped counter: they
        could not show it to a scrape."""
        try:
            lost = await asyncio.to_thread(self._loss.open)
        except OSError as exc:
            log.warning("incident_loss_unread", dir=str(self._loss.directory), error=str(exc))
            return
        if lost:
            self.metrics.incident_dropped.inc(lost)
            log.error("incident_lost_at_last_shutdown", dropped=lost,
                      detail="incidents a process stopped before lost at its shutdown (a full "
                             "disk), now counted in guard_incident_dropped_total")

    async def _run(self, channel: Channel) -> None:
        """Run `channel`'s writer until it is closed and drained. A writer that raised (a bug:
        it handles its sink's and spool's failures) is restarted after `retry_interval_ms`,
        the batch it held counted as dropped; at shutdown its queue is dropped and counted
        (`drop_queue`). Never silent: each crash is logged (an error line, or a counted drop
        when stderr refuses it)."""
        while True:
            try:
                await channel.run()
                return
            except Exception:
                dropped, channel.crash_dropped = channel.crash_dropped, 0
                self.metrics.incident_dropped.inc(dropped)
                log.exception("incident_writer_crashed", sink=channel.sink.name, dropped=dropped,
                              restart=not channel.closing)
                if channel.closing:
                    channel.drop_queue()
                    return
            finally:
                self._update_depth()
            await asyncio.sleep(self.settings.retry_interval_ms / 1000)

    async def aclose(self) -> None:
        """Stop accepting, write or spool everything queued, fsync, close the sinks."""
        if self._closed:
            return
        self._closed = True
        if self._sharing is not None:
            self._sharing.cancel()
            await asyncio.gather(self._sharing, return_exceptions=True)
        await self.hash_key.aclose()
        for channel in self.channels:
            channel.closing = True
            channel.wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        lost = sum(channel.lost_at_shutdown for channel in self.channels)
        if not await asyncio.to_thread(self._loss.save, lost):
            self.metrics.incident_dropped.inc(lost)  # too late for a scrape: the log says it
        for channel in self.channels:
            await channel.aclose()
        self._update_depth()

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued incident was written or spooled; for tests and the CLI."""
        async with asyncio.timeout(timeout_s):
            for channel in self.channels:
                await channel.idle.wait()
        self._update_depth()

    def _update_depth(self) -> None:
        self.metrics.incident_queue_depth.set(max((len(c.queue) for c in self.channels),
                                                  default=0))


def default_sinks(settings: IncidentSettings, state_dir: Path,
                  redis_url: str | None) -> list[Sink]:
    """The sinks `settings` ask for: log, journal, and the Redis Stream when Redis is set."""
    sinks: list[Sink] = []
    if settings.log:
        sinks.append(LogSink())
    if settings.journal:
        sinks.append(JournalSink(journal_dir(state_dir), settings.rotate_bytes))
    if redis_url:
        sinks.append(RedisStreamSink(redis_url, settings.redis_stream, settings.redis_maxlen,
                                     settings.redis_dedupe_ttl_s,
                                     epoch_file=epoch_file(state_dir)))
    return sinks
