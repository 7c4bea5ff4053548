"""Files of derived tables, written once by a start and read back by the next ones.

A start of guard computes tables from package data (the profanity model's weights, the trained
models' n-gram keys): the same on every start of the same installation. The first start writes
them here; later starts read them back instead. A file holds a one-line JSON header, `{format,
key, sha256}`, then its body; it is trusted only when its format and key (a hash of what the
tables are made from and of the code that makes them) are those asked for and the SHA-256 of its
body matches. Anything else (missing, stale, corrupt, unreadable) is a miss: the caller builds the
tables and writes the file again.

Directory: `$GUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/guard`, else `~/.cache/guard`; created 0700,
a file written 0600 through a temporary file and `os.replace`. A directory that cannot be written
(a read-only container) only means no cache: logged at debug level, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import orjson
import structlog

CACHE_DIR_ENV = "GUARD_CACHE_DIR"
log = structlog.get_logger("guard.classify")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where guard keeps derived files for this user (module docstring); None without a home."""
    env = os.environ if environ is None else environ
    if named := env.get(CACHE_DIR_ENV):
        return Path(named)
    if (xdg := env.get("XDG_CACHE_HOME")) and Path(xdg).is_absolute():
        return Path(xdg) / "guard"
    try:
        return Path.home() / ".cache" / "guard"
    except RuntimeError:  # no HOME and no passwd entry
        return None


def read_verified(directory: Path, name: str, format_: int, key: str) -> bytes | None:
    """The body of `directory/name` when its header names `format_` and `key` and its SHA-256
    matches; None for anything else."""
    try:
        header, body = (directory / name).read_bytes().split(b"\n", 1)
        head = orjson.loads(header)
        if (not isinstance(head, dict) or head.get("format") != format_ or head.get("key") != key
                or head.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
    except (OSError, ValueError) as exc:
        log.debug("derived_cache_not_used", file=name, error=str(exc))
        return None
    return body


def write_verified(directory: Path, name: str, format_: int, key: str, body: bytes) -> None:
    """Keep `body` under `format_` and `key` as `directory/name`; a failure only means no cache
    (debug log)."""
    header = orjson.dumps({"format": format_, "key": key,
                           "sha256": hashlib.sha256(body).hexdigest()})
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header + b"\n" + body)
            Path(temp).replace(directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise
    except OSError as exc:
        log.debug("derived_cache_not_written", directory=str(directory), file=name, error=str(exc))
