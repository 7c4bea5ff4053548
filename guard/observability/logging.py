"""structlog setup: one JSON object per line on stderr.

Lines are written by a thread of their own, never by the event loop (`guard.observability.
log_out`): a log reader that stops reading (a pipe, blocking or not) or reads slowly never stops
guard. A line stderr refuses (a full log volume, a pipe whose reader left or stopped) is dropped
and counted (`lines_dropped`, guard_log_lines_dropped_total), never raised into the code that
logged: a request is answered, and a task goes on, whatever becomes of its log line. The first
line written again is preceded by one `log_lines_dropped` warning saying how many were lost.

Secrets never reach the log: header values are never logged, and a last processor masks the
values of keys that name credentials, whatever a caller passes.

`log_level` filters guard's diagnostics. Records (an incident line of the `log` sink, a kill
switch change) go through `record_logger`, which it does not filter: they are written whatever
`log_level` is.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import orjson
import structlog
from aiohttp.http_exceptions import HttpProcessingError

from guard.observability.log_out import CLOSE_WAIT_S, WRITER_THREAD, LogOut, Stream, stderr_out

_SECRET_KEYS = frozenset({"authorization", "api_key", "token", "password", "secret", "cookie"})


_RECORDS = structlog.make_filtering_bound_logger(logging.INFO)


def record_logger(name: str) -> Any:
    """A logger for records, written at info and above whatever `log_level` is."""
    return structlog.wrap_logger(None, wrapper_class=_RECORDS, logger_factory_args=(name,))


@functools.lru_cache(maxsize=1024)  # field names: bounded however a caller names them
def _is_secret(key: str) -> bool:
    return key.lower() in _SECRET_KEYS


def _mask_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event:
        if _is_secret(key):
            event[key] = "***"
    return event


class _Timestamp:
    """A processor adding `timestamp`, ISO 8601 in UTC to the microsecond, with the date and
    time of day formatted once a second: structlog's TimeStamper made a datetime per line, about
    a sixth of an access line's cost."""

    __slots__ = ("formatted",)

    def __init__(self) -> None:
        self.formatted = (-1, "")  # one assignment: the log writer thread renders lines too

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        now = time.time()
        second = int(now)
        at, prefix = self.formatted
        if second != at:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.formatted = (second, prefix)
        event["timestamp"] = f"{prefix}.{int((now - second) * 1e6):06d}Z"
        return event


def _dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def _worker_fields(worker: int) -> Any:
    """A processor naming the worker (its number under `--workers`, and its pid) in each line."""
    fields = {"worker": worker, "pid": os.getpid()}

    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in fields.items():
            event.setdefault(key, value)
        return event

    return add


def lines_dropped() -> int:
    """Log lines this process dropped because stderr refused them (guard_log_lines_dropped_total)."""
    return _Lines.out.dropped


def lines_settled(wait_s: float) -> bool:
    """Wait (at most `wait_s`) until each line logged so far is written or dropped; whether it
    came to that."""
    return _Lines.out.settled(wait_s)


def _stderr() -> LogOut:
    """Where lines on stderr go (`stderr_out`): its file descriptor, or stderr's own buffer when
    it has none (a test's capture)."""
    try:
        fd: int | None = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    return stderr_out(_stderr_buffer(), fd, _dropped_note)


def _stderr_buffer() -> Stream:
    """stderr's buffer; the null device when guard was started with stderr closed (`2>&-`:
    Python's `sys.stderr` is None, and guard ended at import, saying nothing anywhere)."""
    if sys.stderr is None:
        return Path(os.devnull).open("wb", buffering=0)  # the process's: never closed
    buffer = getattr(sys.stderr, "buffer", None)
    return _Text(sys.stderr) if buffer is None else buffer


class _Text:
    """A text stderr with no bytes under it (a caller's `redirect_stderr(io.StringIO())`),
    written as a raw stream."""

    def __init__(self, text: Any) -> None:
        self.text = text

    def write(self, data: bytes | memoryview, /) -> int:
        self.text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self.text.flush()


def _dropped_note(dropped: int, error: str) -> bytes:
    return _rendered("log_lines_dropped", "warning", {
        "dropped": dropped, "error": error,
        "detail": "log lines stderr refused (a full log volume, a closed pipe, a reader that "
                  "stopped reading) or that came faster than it took them (queue_full), or "
                  "refused while another guard process held the pipe for 2 s (pipe_held), were "
                  "dropped; counted in guard_log_lines_dropped_total"})


class _Lines:
    """What `configure_logging` set up, for `access_line` and `record_line`: the processors every
    structlog line goes through (the renderer aside) and where lines are written."""

    chain: list[Any] = []
    out: LogOut = LogOut(_stderr_buffer(), _dropped_note)


@atexit.register
def _close() -> None:
    """Write the lines still queued at exit, waiting a bounded time (`log_out.CLOSE_WAIT_S`)."""
    _Lines.out.close()


def _rendered(event_name: str, level: str, fields: dict[str, Any]) -> bytes:
    """The line of `fields` under `event_name` as structlog would write it, with its newline."""
    event: Any = {**fields, "event": event_name}
    for processor in _Lines.chain:
        event = processor(None, level, event)
    return orjson.dumps(event) + b"\n"


def access_line(fields: dict[str, Any]) -> None:
    """Write the access line (`request`) of `fields` through the processors every line goes
    through, without structlog's call layers: one line per request at `info`, and those layers
    were 30k of its 75k instructions (bench/bench_access_line.py). The caller checks the level
    (`Components.access_log`). Never raises: a line stderr refuses is dropped and counted."""
    _Lines.out.write(_rendered("request", "info", fields))


async def record_line(event_name: str, fields: dict[str, Any]) -> int:
    """Write a record (an incident of the `log` sink) whatever `log_level` is; its bytes, once
    written. Raises the OSError when stderr refuses it, or its reader took nothing for
    `log_out.STALL_S` (the caller keeps it and writes it again): written or not, never both."""
    line = _rendered(event_name, "info", fields)
    await asyncio.wrap_future(_Lines.out.put(line))
    return len(line)


def configure_logging(level: str = "info", *, worker: int | None = None) -> None:
    """JSON lines with a timestamp, level and logger name; standard logging routed the same way.
    `worker`: this process's number under `guard serve --workers`, named with its pid in every
    line."""
    numeric = logging.getLevelName(level.upper())
    named = [] if worker is None else [_worker_fields(worker)]
    # one line per request at info: each step here is paid per request (bench/BENCHMARKS.md,
    # "Access lines"): bytes written as orjson renders them, no text layer between
    _Lines.chain = [*named, *_processors()]
    _Lines.out.close()  # what the lines set up before wrote, first
    _Lines.out = _stderr()
    structlog.configure(
        processors=[*_Lines.chain, structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_LineLogger(_Lines.out).made,
        cache_logger_on_first_use=True,
    )
    handler = _LineHandler(_Lines.out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *named,
                           structlog.processors.add_log_level,
                           _Timestamp(), structlog.stdlib.ExtraAdder(("reason", "client"))],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _mask_secrets,
                    structlog.processors.JSONRenderer(serializer=_dumps)]))
    handler.addFilter(_client_faults_without_traceback)
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _traceback_after_lines
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _thread_traceback_after_lines
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _processors() -> list[Any]:
    """The processors every line goes through, the renderer aside."""
    return [structlog.processors.add_log_level, _Timestamp(),
            structlog.processors.format_exc_info, _mask_secrets]


@contextlib.contextmanager
def command_logging() -> Iterator[None]:
    """Logging for a command that runs and ends (`guard policy test`, `guard killswitch ...`):
    warnings and errors as JSON lines on stderr, nothing below warning, so that stdout holds the
    command's output only (structlog's defaults print every level to stdout). The set-up before
    is put back after: a process that calls `guard.cli.main` keeps its own (whose stderr,
    closed at start, `cli.standard_streams_open` has made the null device)."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[*_processors(), structlog.processors.JSONRenderer(serializer=_dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False)
    try:
        yield
    finally:
        structlog.configure(**saved)


def _traceback_after_lines(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    """An unhandled exception's traceback, written by Python straight to stderr, after the log
    lines still queued (at most `log_out.CLOSE_WAIT_S`)."""
    _Lines.out.settled(CLOSE_WAIT_S)
    sys.__excepthook__(kind, error, tb)


def _thread_traceback_after_lines(args: threading.ExceptHookArgs) -> None:
    """`_traceback_after_lines` for a thread's (not the log writer's own: it never waits for
    itself)."""
    if threading.current_thread().name != WRITER_THREAD:
        _Lines.out.settled(CLOSE_WAIT_S)
    threading.__excepthook__(args)


class _LineLogger:
    """structlog's logger, writing each rendered line through `LogOut.write` (structlog's
    BytesLogger writes to a file, which a write error leaves)."""

    def __init__(self, out: LogOut) -> None:
        self.out = out

    def msg(self, message: bytes) -> None:
        self.out.write(message + b"\n")

    log = debug = info = warning = warn = error = err = critical = exception = fatal = msg

    def made(self, *_: Any) -> _LineLogger:
        """structlog's logger factory: this logger, whatever the logger's name."""
        return self


class _LineHandler(logging.Handler):
    """Standard logging's lines, written like structlog's (`LogOut`): a line stderr refuses is
    dropped and counted, not reported by `handleError` (on the same stderr)."""

    def __init__(self, out: LogOut) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record).encode("utf-8", "backslashreplace") + b"\n"
        except Exception:
            self.handleError(record)
            return
        self.out.write(line)


def _client_faults_without_traceback(record: logging.LogRecord) -> bool:
    """A malformed request is the client's fault: one warning line, not an error traceback,
    saying why (the parser's reason, without the bytes it quotes) and who sent it (aiohttp's
    "Error handling request from %s")."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        client = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args, record.exc_info = "bad_client_request", (), None
        record.__dict__.update(reason=parser_reason(error.message), client=client)
    return True


# What a parser's message quotes of the request (`b'X-Long: aaa…'`, `'\x01'`) and the caret
# line under it: a header's value may be a credential, so none of it is logged.
_QUOTED = re.compile(r"""b?'(?:[^'\\\n]|\\.)*'?|b?"(?:[^"\\\n]|\\.)*"?|\^~*""")


def parser_reason(message: str) -> str:
    """aiohttp's reason for refusing a request without the request's bytes it quotes:
    `Got more than 8190 bytes when reading`, `Invalid header value char`."""
    words = _QUOTED.sub(" ", message).split()
    return " ".join(words).replace(" :", ":").strip(" :.")
