"""Where log lines go: stderr, written whole, one line per call, never raising into the code that
logged; written by a thread of its own (`QueuedLogOut`) so that a log reader that stops reading
never stops the event loop.

A line stderr refuses (a full log volume, a log reader that stopped) is dropped and counted
(`dropped`); the first line written again is preceded by one `log_lines_dropped` warning saying
how many. A record the caller keeps elsewhere meanwhile (an incident of the `log` sink) is `put`
instead: its future fails, and the caller spools it and writes it again.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

# What a slow log reader may fall behind by before lines are dropped: 2-3 thousand access lines
# on top of the pipe's own 64 KiB (about 200), a burst's worth
QUEUE_BYTES = 1 << 20
# How long a reader may take nothing before it is deemed stopped: the lines waiting are dropped
# (and a record's `put` fails) rather than held for it; a reader that takes anything is alive
STALL_S = 2.0
# How long the lines still queued at exit may take to be written
CLOSE_WAIT_S = 3.0
# The `error` a `log_lines_dropped` line names for lines that came faster than stderr took them
# (the queue full), where stderr itself refused none
QUEUE_FULL = "queue_full"
WRITER_THREAD = "guard-log"  # the name of the thread writing the lines
# The `error` a `log_lines_dropped` line names for lines refused because another guard process
# held the pipe for `STALL_S` (`_Pipe`), and how often the pipe is tried meanwhile
PIPE_HELD = "pipe_held"
TURN_S = 0.0005


class Stream(Protocol):
    """A raw stream: `write` takes what it can of `data` and says how much, or None when it is
    a non-blocking stream with no room."""

    def write(self, data: bytes | memoryview, /) -> int | None: ...

    def flush(self) -> None: ...


Note = Callable[[int, str], bytes]
"""The `log_lines_dropped` line (with its newline) saying how many lines were dropped and the
error that refused the last of them."""


class LogOut:
    """Log lines written in the caller's thread (a stream without a file descriptor: a test's
    capture). `write` never raises: a line the stream refuses is dropped and counted. `put`
    returns a future that fails with the OSError instead. A line cut short (the disk filled
    part way through it) is ended before the next one, so that the next reads whole."""

    def __init__(self, stream: Stream, note: Note) -> None:
        self.stream = stream
        self._note = note
        self._writing = threading.Lock()  # stdlib logging also writes from threads
        self._unsaid = 0  # dropped since the last line written
        self._error = ""
        self._torn = False  # the last write took part of its line
        self._lost = 0  # lines the stream refused since it was made
        self._full_since: float | None = None  # the stream refused bytes and took none since
        self._waited = False  # the line being written waited (for room, or for the pipe)
        # a pipe guard's other processes write to: held while a line is written (`_Pipe`)
        self._shared = stream if isinstance(stream, _Pipe) else None

    @property
    def dropped(self) -> int:
        """Lines dropped since it was made."""
        return self._lost

    def write(self, line: bytes) -> int:
        """Write `line` (with its newline); never raises."""
        with contextlib.suppress(OSError):
            self._written(line)
        self._flush()
        return len(line)

    def put(self, line: bytes) -> Future[None]:
        """Write `line` (with its newline): a future, done once it is written, failed with the
        OSError that refused it (the line not counted as dropped)."""
        done: Future[None] = Future()
        try:
            self._written(line, counted=False)
        except OSError as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)
        self._flush()
        return done

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Nothing waits to be written."""

    def settled(self, wait_s: float) -> bool:
        """Each line so far is written or dropped (nothing waits)."""
        return True

    def _flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()  # a buffered stream (a test's capture)

    def _written(self, line: bytes, *, counted: bool = True, wait: bool = False) -> None:
        """Write `line`, the `log_lines_dropped` line first if lines were dropped; or count it
        dropped (unless not `counted`) and raise the OSError."""
        with self._writing:
            try:
                if self._shared is None:
                    self._said(line, wait)
                else:
                    self._hold(self._shared, wait)
                    try:
                        self._said(line, wait)
                    finally:
                        self._shared.let_go()
                        if self._waited:  # for room, or for the pipe: the others' turn now
                            self._waited = False  # (a poll would not win against a holder
                            time.sleep(TURN_S * 2)  # taking it back at once: starved)
            except OSError:
                if counted:
                    self._unsaid += 1
                    self._lost += 1
                raise

    def _said(self, line: bytes, wait: bool) -> None:
        if self._unsaid or self._torn:
            self._say_dropped(wait)
        self._write_all(line, wait)

    def _hold(self, pipe: _Pipe, wait: bool) -> None:
        """`pipe` held for a line, waited for as room is (`_room`): another guard process
        that keeps it for `stall_s` (stopped by a debugger, SIGSTOP) is deemed stopped, as a
        reader that takes nothing is, and the line refused (BlockingIOError)."""
        while not pipe.hold():
            if not (wait and self._turn()):
                self._error = PIPE_HELD
                raise BlockingIOError(errno.EAGAIN, "the log pipe is held by another process")

    def _say_dropped(self, wait: bool) -> None:
        note = b"\n" if self._torn else b""
        if self._unsaid:
            note += self._note(self._unsaid, self._error)
        self._write_all(note, wait)
        self._torn, self._unsaid = False, 0

    def _write_all(self, data: bytes, wait: bool) -> None:
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                try:
                    took = self.stream.write(view[written:])
                except BlockingIOError:
                    took = None
                if took is None:  # a non-blocking stream that is full
                    if wait and self._room():
                        continue
                    raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
                written += took
                self._full_since = None
        except OSError as exc:
            self._error = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            self._torn = self._torn or written > 0
            raise

    def _room(self) -> bool:
        """Whether the full stream has room again, waited for (at most until it is deemed
        stopped); in the caller's thread it is never waited for."""
        return False

    def _turn(self) -> bool:
        """Whether to try a pipe another process holds again, after a moment (at most until
        it is deemed stopped); in the caller's thread it is not tried again."""
        return False


class QueuedLogOut(LogOut):
    """Log lines written by a thread of its own, in the order they came, so that the callers
    (the event loop) never wait for stderr. Lines wait in a queue of at most `queue_bytes`; a
    line that finds it full is dropped and counted at once. The thread waits for a full
    non-blocking stream to take bytes again; one that takes none for `stall_s` is deemed stopped:
    the lines queued are dropped and counted, one by one, until it takes a line again."""

    def __init__(self, stream: Stream, note: Note, *, fileno: int,
                 queue_bytes: int = QUEUE_BYTES, stall_s: float = STALL_S) -> None:
        super().__init__(stream, note)
        self._room_made = select.poll()  # the stream's room, waited for
        self._room_made.register(fileno, select.POLLOUT)
        self._queue_bytes, self._stall_s = queue_bytes, stall_s
        self._queue: collections.deque[bytes | _Record] = collections.deque()
        self._queued = 0  # bytes in the queue
        self._unqueued = 0  # lines dropped for want of room since the last line queued
        self._refused = 0  # lines dropped for want of room since it was made
        self._lock = threading.Lock()  # the queue and its counts
        # held while the thread has nothing to write; released by whoever queues the next entry
        # (a plain lock: an Event's wait made a lock per call, a third of a line's cost)
        self._wake = threading.Lock()
        self._wake.acquire()
        self._idle = False  # the thread waits for `_wake` (set by it, cleared by its waker)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=WRITER_THREAD, daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        return self._lost + self._refused

    def write(self, line: bytes) -> int:
        """Queue `line` (with its newline), or drop and count it; never raises or waits."""
        self._queued_up(line)
        return len(line)

    def put(self, line: bytes) -> Future[None]:
        done: Future[None] = Future()
        if not self._queued_up(_Record(line, done), counted=False):
            done.set_exception(BlockingIOError(errno.EAGAIN, "log lines queued to the limit"))
        return done

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Write what is queued, waiting at most `wait_s`; lines from here on are written in
        the caller's thread without waiting for room."""
        with self._lock:
            self._closing = True
            wake, self._idle = self._idle, False
        if wake:
            self._wake.release()
        self._thread.join(wait_s)
        if not self._thread.is_alive():
            self._say_last_dropped()

    def _say_last_dropped(self) -> None:
        """The lines dropped last, no line written after them to say so (a burst beyond the
        queue as guard stops): said now, or they went unsaid, the counter gone with the
        process."""
        with self._lock:
            unqueued, self._unqueued = self._unqueued, 0
        with self._writing:
            if unqueued:
                self._unsaid += unqueued
                self._error = QUEUE_FULL
        with contextlib.suppress(OSError):
            self._written(b"", counted=False)  # the note alone, the pipe held for it
        self._flush()

    def settled(self, wait_s: float) -> bool:
        """Wait (at most `wait_s`) until each line queued so far is written or dropped."""
        done: Future[None] = Future()
        with self._lock:
            if self._closing:
                return not self._thread.is_alive()
            self._queue.append(_Record(b"", done))
            wake, self._idle = self._idle, False
        if wake:
            self._wake.release()
        with contextlib.suppress(TimeoutError):
            done.result(wait_s)
        return done.done()

    def _queued_up(self, entry: bytes | _Record, *, counted: bool = True) -> bool:
        """Queue `entry`; False when the queue is full (the line counted as dropped unless not
        `counted`). Once closed, the entry is written here and now."""
        size = len(entry) if isinstance(entry, bytes) else len(entry.line)
        with self._lock:
            closed = self._closing
            if not closed:
                if self._queued + size > self._queue_bytes:
                    if counted:
                        self._unqueued += 1
                        self._refused += 1
                    return False
                if self._unqueued:
                    self._queue.append(_Record(b"", None, self._unqueued))
                    self._unqueued = 0
                self._queue.append(entry)
                self._queued += size
            wake, self._idle = self._idle, False
        if closed:
            self._write_entry(entry, wait=False)
        elif wake:
            self._wake.release()
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._queue:
                    entry = self._queue.popleft()
                    self._queued -= len(entry) if isinstance(entry, bytes) else len(entry.line)
                elif self._closing:
                    return
                else:
                    self._idle = True
                    entry = None
            if entry is None:
                self._wake.acquire()
                continue
            try:
                self._write_entry(entry, wait=True)
            except Exception as exc:  # a stream raising what no stream should (a closed file's
                self._failed(entry, exc)  # ValueError): that line lost, not the thread

    def _write_entry(self, entry: bytes | _Record, *, wait: bool) -> bool:
        if isinstance(entry, bytes):
            try:
                self._written(entry, wait=wait)
            except OSError:
                return False
            return True
        if entry.dropped:  # dropped for want of room: said before the next line written
            with self._writing:
                self._unsaid += entry.dropped
                self._error = QUEUE_FULL  # the stream took lines more slowly than they came
            return True
        try:
            if entry.line:
                self._written(entry.line, counted=False, wait=wait)
        except OSError as exc:
            if entry.done is not None:
                entry.done.set_exception(exc)
            return False
        if entry.done is not None:
            entry.done.set_result(None)
        return True

    def _failed(self, entry: bytes | _Record, error: Exception) -> None:
        """`entry` dropped and counted (its `put` failed, as for an OSError) for `error`."""
        with self._writing:
            self._unsaid += 1
            self._lost += 1
            self._error = type(error).__name__
        if isinstance(entry, _Record) and entry.done is not None and not entry.done.done():
            entry.done.set_exception(OSError(errno.EIO, f"the log stream failed: {error!r}"))

    def _room(self) -> bool:
        left = self._stall_left()
        if left <= 0:  # stopped: each line tried once, dropped if refused
            return False
        self._waited = True
        # room, or an error the next write raises (the reader closed the pipe)
        return bool(self._room_made.poll(left * 1000))

    def _turn(self) -> bool:
        left = self._stall_left()
        if left <= 0:
            return False
        self._waited = True
        time.sleep(min(left, TURN_S))
        return True

    def _stall_left(self) -> float:
        """How long until the stream, refusing bytes since `_full_since`, is deemed stopped."""
        now = time.monotonic()
        if self._full_since is None:
            self._full_since = now
        return self._full_since + self._stall_s - now


class _Record:
    """A queued line with the future of its `put` (or of `settled`), or the count of lines
    dropped for want of room before the next line queued."""

    __slots__ = ("done", "dropped", "line")

    def __init__(self, line: bytes, done: Future[None] | None, dropped: int = 0) -> None:
        self.line, self.done, self.dropped = line, done, dropped


class _Pipe:
    """A pipe reopened for writing without waiting (O_NONBLOCK on a file description of its
    own); left open for good, as stderr is.

    The pipe is shared (the workers of a `--workers` group and their supervisor write to the
    one stderr), and write(2) keeps a line whole only up to PIPE_BUF (4 KiB): a longer line (an
    incident of the `log` sink) written in parts as the reader makes room took another
    process's lines between its parts. Each process holds an flock on its own description of
    the pipe while it writes a line (`hold`, `let_go`), so that guard's processes write theirs
    one after the other."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def hold(self) -> bool:
        """From a line's first byte to its last (`let_go`): the pipe is this process's alone
        among guard's; False (not waited for) while another holds it."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def let_go(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def write(self, data: bytes | memoryview, /) -> int | None:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return None

    def flush(self) -> None:
        """Nothing is buffered."""


class _Socket:
    """A socket written without waiting (MSG_DONTWAIT), its file's flags left alone: other
    processes write to it too."""

    def __init__(self, fd: int) -> None:
        self.socket = socket.socket(fileno=fd)

    def __del__(self) -> None:
        self.socket.detach()  # stderr's: never closed

    def write(self, data: bytes | memoryview, /) -> int | None:
        try:
            return self.socket.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None

    def flush(self) -> None:
        """Nothing is buffered."""


def stderr_out(stream: Stream, fd: int | None, note: Note) -> LogOut:
    """Where log lines on file descriptor `fd` (stderr's) go: `stream` written in the caller's
    thread when it has none (a test's capture); otherwise a `QueuedLogOut` writing, without
    waiting in write(2), a pipe reopened non-blocking (a file description of its own: the
    pipe's other writers keep theirs blocking) or a socket (MSG_DONTWAIT). Any other file (a
    regular file keeps its offset and O_APPEND only on its own description, a terminal) is
    written as it is, by the thread."""
    if fd is None:
        return LogOut(stream, note)
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode):
        # no /proc, or no reader left (ENXIO): stderr's own description, written as it is
        with contextlib.suppress(OSError):
            pipe = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            return QueuedLogOut(_Pipe(pipe), note, fileno=pipe)
    if stat.S_ISSOCK(mode):
        return QueuedLogOut(_Socket(fd), note, fileno=fd)
    return QueuedLogOut(open(fd, "wb", buffering=0, closefd=False), note, fileno=fd)
