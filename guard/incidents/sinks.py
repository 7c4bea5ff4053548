"""Where incidents are written: a structlog line, the JSONL journal, a Redis Stream.

A sink takes a batch of serialised incidents (one JSON object each, no newline) and either
takes all of them or raises (`ShortWrite` when it took the first ones); `guard.incidents.recorder`
spools what a sink refuses. Blocking file I/O runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from guard.incidents.lines import ShortWrite, write_lines
from guard.observability.logging import record_line

events = structlog.get_logger("guard.incidents")


class Sink(Protocol):
    """A destination for incidents. `write` takes the whole batch or raises (`ShortWrite` when
    it took the first lines of it)."""

    name: str

    async def write(self, lines: Sequence[bytes]) -> None: ...

    async def sync(self) -> None: ...

    async def aclose(self) -> None: ...


class LogSink:
    """One `incident` JSON line per incident on stderr, like structlog's (with everything the
    incident holds), whatever `log_level` is. A line stderr refuses (a full log volume) raises,
    as a full disk under the journal does: the recorder spools it and writes it again."""

    name = "log"

    async def write(self, lines: Sequence[bytes]) -> None:
        written = 0
        for taken, line in enumerate(lines):
            incident: dict[str, Any] = orjson.loads(line)
            incident.pop("v", None)
            incident["incident_id"] = incident.pop("id")
            incident["incident_time"] = incident.pop("time")
            try:
                written += await record_line("incident", incident)
            except OSError as exc:
                raise ShortWrite(exc, taken, written) from exc

    async def sync(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class JournalSink:
    """Append-only JSONL files in `directory`, one writer per process, rotated by size.

    Files are named `<time_ns>-<pid>.jsonl` so that names sort by creation time and processes
    never share a file; the file being written is held under an exclusive `flock`, which
    journal retention (`guard.incidents.retention`) never deletes. Every batch is written to
    the page cache at once (a SIGKILL does not lose it), unbuffered, so that a write a full
    disk cut short says which lines went in (they are not written again); `sync()` fsyncs,
    and the recorder calls it every `fsync_interval_ms`. The writes run in a thread of the
    journal's own, so they never wait behind classifiers scoring in the default executor while
    incidents sit in memory, and fsync in another, so they never wait behind a slow disk's
    sync either.
    """

    name = "journal"

    def __init__(self, directory: Path, rotate_bytes: int) -> None:
        self.directory = directory
        self.rotate_bytes = rotate_bytes
        self._file: BinaryIO | None = None
        self._size = 0
        self._dirty = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guard-journal")
        # fsync in a thread of its own, so writes go on while a slow disk syncs. Files are closed
        # in that thread too (after their last fsync), so none is closed under an fsync, and a
        # new file's write never waits for the old one's sync or the directory's.
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guard-journal-sync")

    async def _in_thread(self, work: Callable[[], None]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def write(self, lines: Sequence[bytes]) -> None:
        await self._in_thread(lambda: self.write_now(lines))

    def write_now(self, lines: Sequence[bytes]) -> None:
        if self._file is None or self._size >= self.rotate_bytes:
            self._rotate()
        assert self._file is not None
        try:
            self._size += write_lines(self._file, lines)
        except ShortWrite as exc:
            # a full disk: the file may now end in part of a line; the next write starts a new
            # file (readers skip a torn last line), and only the lines not taken are written again
            old, self._file = self._file, None
            self._syncer.submit(self._retire, old, self._size + exc.written == 0)
            raise
        self._dirty = True

    async def sync(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._syncer, self.sync_now)

    def sync_now(self) -> None:
        """Fsync the current file (in the sync thread, the only one that closes files)."""
        file = self._file
        if file is not None and self._dirty:
            self._dirty = False  # a write from here on marks it again
            os.fsync(file.fileno())

    async def aclose(self) -> None:
        await self._in_thread(lambda: None)  # the writes queued before it are done
        await asyncio.get_running_loop().run_in_executor(self._syncer, self.close_now)
        self._thread.shutdown(wait=False)
        self._syncer.shutdown(wait=False)

    def close_now(self) -> None:
        self.sync_now()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _rotate(self) -> None:
        """A new file for the writes from now on; the old one's last fsync, its close and the
        directory's fsync (a new entry is durable only once its directory is synced) go to the
        sync thread, so no write waits for a disk."""
        old = self._file
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}.jsonl"
        self._file = path.open("ab", buffering=0)  # a short write is seen (`write_lines`)
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)  # retention passes over it (retention.py)
        self._size = 0
        self._dirty = False
        self._syncer.submit(self._retire, old)

    def _retire(self, old: BinaryIO | None, empty: bool = False) -> None:
        """Close `old` after its last fsync (removed when `empty`: a new file whose first write
        a full disk refused holds nothing), then fsync the directory."""
        if old is not None:
            with contextlib.suppress(OSError):
                os.fsync(old.fileno())
            with contextlib.suppress(OSError):  # a full disk: what it held is written again
                old.close()
            if empty:
                with contextlib.suppress(OSError):
                    Path(old.name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# Adds each incident unless its id was added within the dedupe TTL: a batch re-sent after a
# lost reply (Redis restarted after executing it) is then not added twice. Atomic in Redis.
# Answers the stream's epoch (KEYS[2]), set to ARGV[4] by the first write into a Redis without
# one: a writer that saw another epoch before knows the stream was lost meanwhile.
_XADD_ONCE = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[4]
  redis.call('SET', KEYS[2], epoch)
end
local added = 0
for i = 5, #ARGV, 2 do
  if redis.call('SET', ARGV[3] .. ARGV[i], '1', 'NX', 'EX', ARGV[2]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[i], 'data', ARGV[i + 1])
    added = added + 1
  end
end
return {added, epoch}
"""


def epoch_key(stream: str) -> str:
    """The key holding the stream's epoch: `<ms>-<random>`, when its first entry was added."""
    return f"{stream}:epoch"


def lost_key(stream: str) -> str:
    """The key holding the epoch of a stream begun after Redis lost the one before (it
    restarted empty): the entries before that epoch's time are not in it."""
    return f"{stream}:lost"


def epoch_ms(epoch: str) -> int | None:
    """The time (Unix ms) an epoch began, None for a value that is no epoch."""
    head = epoch.partition("-")[0]
    return int(head) if head.isdigit() else None


class RedisStreamSink:
    """`XADD` to a Redis Stream trimmed to about `maxlen` entries; fields `id` and `data`.

    The stream carries an epoch (`epoch_key`), which the sink remembers in `epoch_file` (the
    state dir: across restarts of guard) with the stream's name and Redis's address. Written into
    that Redis holding another epoch than the one remembered, or none, the stream was lost (Redis
    restarted empty, without persistence): the sink marks the new epoch as begun after a loss
    (`lost_key`), which the readers report. An epoch remembered of another stream or another
    Redis (the stream renamed, `redis_url` changed) says nothing of this one."""

    name = "redis"

    def __init__(self, url: str, stream: str, maxlen: int, dedupe_ttl_s: int,
                 timeout_s: float = 2.0, epoch_file: Path | None = None) -> None:
        self.stream = stream
        self.epoch_file = epoch_file
        self._epoch: str | None = None  # the stream's epoch as last seen, once read
        self.maxlen = maxlen
        self.dedupe_ttl_s = dedupe_ttl_s
        self.dedupe_prefix = f"{stream}:seen:"
        self._redis = Redis.from_url(url, socket_timeout=timeout_s,
                                     socket_connect_timeout=timeout_s,
                                     # the recorder retries (and spools meanwhile); fail fast
                                     retry=Retry(NoBackoff(), 0))
        self._script = self._redis.register_script(_XADD_ONCE)
        self._where = redis_address(self._redis)

    async def write(self, lines: Sequence[bytes]) -> None:
        fresh = f"{time.time_ns() // 1_000_000}-{secrets.token_hex(4)}"
        args: list[Any] = [self.maxlen, self.dedupe_ttl_s, self.dedupe_prefix, fresh]
        for line in lines:
            args += [orjson.loads(line)["id"], line]
        _, epoch = await self._script(keys=[self.stream, epoch_key(self.stream)], args=args)
        await self._note_epoch(epoch.decode() if isinstance(epoch, bytes) else str(epoch))

    async def _note_epoch(self, epoch: str) -> None:
        if epoch == self._epoch:
            return
        if self._epoch is None and self.epoch_file is not None:
            self._epoch = await asyncio.to_thread(read_epoch, self.epoch_file, self.stream,
                                                  self._where)
        if self._epoch is not None and epoch != self._epoch:
            # marked before it is remembered: a failure here has the batch written again
            await self._redis.set(lost_key(self.stream), epoch)
            events.warning("incident_stream_lost", stream=self.stream, epoch=epoch,
                           before=self._epoch)
        if epoch != self._epoch and self.epoch_file is not None:
            try:
                await asyncio.to_thread(_write_epoch, self.epoch_file, self.stream, self._where,
                                        epoch)
            except OSError as exc:  # remembered in this process alone, until it can be written
                events.warning("incident_stream_epoch_unsaved", path=str(self.epoch_file),
                               error=str(exc))
        self._epoch = epoch

    async def sync(self) -> None:
        return None

    async def aclose(self) -> None:
        await self._redis.aclose()


def redis_address(client: Redis) -> str:
    """Where `client` reaches Redis (`host:port/db`, or the socket's path), without credentials."""
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"{where}/{kwargs.get('db', 0)}"


def read_epoch(path: Path, stream: str, where: str) -> str | None:
    """The epoch this replica last saw of `stream` in the Redis at `where`; None when it saw
    none, or its file is of another stream or Redis (or unreadable: no loss is claimed)."""
    try:
        saved = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):  # none written yet (a first start), or unreadable
        return None
    if not isinstance(saved, dict) or saved.get("stream") != stream \
            or saved.get("redis") != where or not isinstance(saved.get("epoch"), str):
        return None
    return saved["epoch"] or None


def _write_epoch(path: Path, stream: str, where: str, epoch: str) -> None:
    """Written aside then renamed: a torn epoch would read as a lost stream."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    aside.write_bytes(orjson.dumps({"stream": stream, "redis": where, "epoch": epoch}))
    aside.replace(path)
