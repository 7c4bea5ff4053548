"""structlog setup: one JSON object per line on stderr.

Secrets never reach the log: header values are never logged, and a last processor masks the
values of keys that name credentials, whatever a caller passes.

`log_level` filters guard's diagnostics. Records (an incident line of the `log` sink, a kill
switch change) go through `record_logger`, which it does not filter: they are written whatever
`log_level` is.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from aiohttp.http_exceptions import HttpProcessingError

_SECRET_KEYS = frozenset({"authorization", "api_key", "token", "password", "secret", "cookie"})


_RECORDS = structlog.make_filtering_bound_logger(logging.INFO)


def record_logger(name: str) -> Any:
    """A logger for records, written at info and above whatever `log_level` is."""
    return structlog.wrap_logger(None, wrapper_class=_RECORDS, logger_factory_args=(name,))


def _mask_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event:
        if key.lower() in _SECRET_KEYS:
            event[key] = "***"
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


def configure_logging(level: str = "info", *, worker: int | None = None) -> None:
    """JSON lines with a timestamp, level and logger name; standard logging routed the same way.
    `worker`: this process's number under `guard serve --workers`, named with its pid in every
    line."""
    numeric = logging.getLevelName(level.upper())
    named = [] if worker is None else [_worker_fields(worker)]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *named,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_secrets,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *named,
                           structlog.processors.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _mask_secrets,
                    structlog.processors.JSONRenderer(serializer=_dumps)]))
    handler.addFilter(_client_faults_without_traceback)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _client_faults_without_traceback(record: logging.LogRecord) -> bool:
    """A malformed request is the client's fault: one warning line, not an error traceback."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args, record.exc_info = "bad_client_request", (), None
        record.__dict__["reason"] = error.message
    return True
