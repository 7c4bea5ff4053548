"""structlog setup: one JSON object per line on stderr.

A line stderr refuses (a full log volume, a pipe whose reader left) is dropped and counted
(`lines_dropped`, guard_log_lines_dropped_total), never raised into the code that logged: a
request is answered, and a task goes on, whatever becomes of its log line. The first line written
again is preceded by one `log_lines_dropped` warning saying how many were lost (`LogOut`).

Secrets never reach the log: header values are never logged, and a last processor masks the
values of keys that name credentials, whatever a caller passes.

`log_level` filters guard's diagnostics. Records (an incident line of the `log` sink, a kill
switch change) go through `record_logger`, which it does not filter: they are written whatever
`log_level` is.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import Any, BinaryIO

import orjson
import structlog
from aiohttp.http_exceptions import HttpProcessingError

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

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second, self.prefix = -1, ""

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event["timestamp"] = f"{self.prefix}.{int((now - second) * 1e6):06d}Z"
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


class LogOut:
    """stderr for log lines, written one whole line per call (unbuffered, so what a write took
    is known: a buffer would write a refused line later, after the ones that followed it).

    `write` never raises: a line the stream refuses is dropped and counted (`lines_dropped`).
    `put` raises the OSError instead (a record the caller keeps elsewhere meanwhile: the `log`
    incident sink spools it). The first line written after lines were dropped is preceded by
    one `log_lines_dropped` warning saying how many, and a line cut short (the disk filled part
    way through it) is ended first, so that the next line reads whole."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()  # stdlib logging also writes from threads
        self._unsaid = 0  # dropped since the last line written
        self._error = ""
        self._torn = False  # the last write took part of its line
        self.dropped = 0  # lines dropped since it was made

    def write(self, line: bytes) -> int:
        """Write `line` (with its newline); never raises. (structlog's BytesLogger calls it.)"""
        with self._lock:
            try:
                self._put(line)
            except OSError:
                self._unsaid += 1
                self.dropped += 1
        return len(line)

    def flush(self) -> None:
        """Nothing is buffered (structlog's BytesLogger calls it after each line)."""

    def put(self, line: bytes) -> None:
        """Write `line` (with its newline) or raise the OSError that refused it."""
        with self._lock:
            self._put(line)

    def _put(self, line: bytes) -> None:
        if self._unsaid or self._torn:
            self._say_dropped()
        self._write_all(line)

    def _say_dropped(self) -> None:
        note = b"\n" if self._torn else b""
        if self._unsaid:
            note += _rendered("log_lines_dropped", "warning", {
                "dropped": self._unsaid, "error": self._error,
                "detail": "log lines stderr refused (a full log volume, a closed pipe) were "
                          "dropped; counted in guard_log_lines_dropped_total"})
        self._write_all(note)
        self._torn, self._unsaid = False, 0

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                took = self.stream.write(view[written:])
                if took is None:  # a non-blocking stream that is full
                    raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
                written += took
        except OSError as exc:
            self._error = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            self._torn = self._torn or written > 0
            raise
        finally:
            with contextlib.suppress(OSError, ValueError):
                self.stream.flush()  # a buffered stream (a test's capture); raw ones hold nothing


def lines_dropped() -> int:
    """Log lines this process dropped because stderr refused them (guard_log_lines_dropped_total)."""
    return _Lines.out.dropped


def _stderr() -> BinaryIO:
    """stderr's file descriptor, written without a buffer; stderr's own buffer when it has no
    descriptor (a test's capture)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stderr.buffer
    return open(fd, "wb", buffering=0, closefd=False)  # stderr's: never closed


class _Lines:
    """What `configure_logging` set up, for `access_line` and `record_line`: the processors every
    structlog line goes through (the renderer aside) and where lines are written."""

    chain: list[Any] = []
    out: LogOut = LogOut(sys.stderr.buffer)


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


def record_line(event_name: str, fields: dict[str, Any]) -> int:
    """Write a record (an incident of the `log` sink) whatever `log_level` is; its bytes. Raises
    the OSError when stderr refuses it (the caller keeps it and writes it again)."""
    line = _rendered(event_name, "info", fields)
    _Lines.out.put(line)
    return len(line)


def configure_logging(level: str = "info", *, worker: int | None = None) -> None:
    """JSON lines with a timestamp, level and logger name; standard logging routed the same way.
    `worker`: this process's number under `guard serve --workers`, named with its pid in every
    line."""
    numeric = logging.getLevelName(level.upper())
    named = [] if worker is None else [_worker_fields(worker)]
    # one line per request at info: each step here is paid per request (bench/BENCHMARKS.md,
    # "Access lines"): bytes written as orjson renders them, no text layer between
    _Lines.chain = [*named, structlog.processors.add_log_level, _Timestamp(),
                    structlog.processors.format_exc_info, _mask_secrets]
    _Lines.out = LogOut(_stderr())
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


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
