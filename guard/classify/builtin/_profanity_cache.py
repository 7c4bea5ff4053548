"""The profanity model's weights, kept in a small per-user file so a start need not unpickle them.

Unpickling alt-profanity-check's joblib files imports scikit-learn: about a second of CPU at every
start, only to copy the weights into plain tuples (`LinearTextModel`). The first start writes
those tuples here; later starts read them back (a few milliseconds) without importing
scikit-learn. The file holds only derived numbers (JSON, never a pickle) and is trusted only when
its key matches the installed package — a SHA-256 of the package's data files, its version and
FORMAT — and the SHA-256 of its body matches its header. Anything else (missing, stale, corrupt,
unreadable) is a miss: the caller unpickles the package and writes the file again.

Directory: `$GUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/guard`, else `~/.cache/guard`; created 0700,
the file written 0600 through a temporary file and `os.replace`. A directory that cannot be
written (a read-only container) only means no cache: logged at debug level, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import structlog

CACHE_DIR_ENV = "GUARD_CACHE_DIR"
FORMAT = 1  # bump when the file's layout or the meaning of its numbers changes
FILE_NAME = "profanity-weights.json"
log = structlog.get_logger("guard.classify")

# What LinearTextModel is built from: term → (idf, one coefficient per fold), one intercept per
# fold, one sigmoid (a, b) per fold.
Weights = dict[str, tuple[float, tuple[float, ...]]]
Plain = tuple[Weights, tuple[float, ...], tuple[tuple[float, float], ...]]


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


def package_key() -> str | None:
    """The installed alt-profanity-check's identity: its data files' bytes, its version and
    FORMAT, hashed; None when it cannot be read (no cache is used then)."""
    spec = importlib.util.find_spec("profanity_check")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    digest = hashlib.sha256(f"guard-profanity-cache {FORMAT}\n".encode())
    try:
        digest.update(importlib.metadata.version("alt-profanity-check").encode() + b"\n")
        data = sorted(Path(spec.submodule_search_locations[0], "data").glob("*.joblib"))
        if not data:
            return None
        for path in data:
            body = path.read_bytes()
            digest.update(f"{path.name} {len(body)}\n".encode())
            digest.update(body)
    except (OSError, importlib.metadata.PackageNotFoundError):
        return None
    return digest.hexdigest()


def read_weights(key: str, directory: Path) -> Plain | None:
    """The weights kept under `key`, or None for anything but a file that verifies."""
    try:
        header, body = (directory / FILE_NAME).read_bytes().split(b"\n", 1)
        head = orjson.loads(header)
        if (head.get("format") != FORMAT or head.get("key") != key
                or head.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        return _plain(orjson.loads(body))
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        log.debug("profanity_cache_not_used", error=str(exc))
        return None


def write_weights(key: str, directory: Path, plain: Plain) -> None:
    """Keep `plain` under `key` in `directory`; a failure only means no cache (debug log)."""
    weights, intercepts, sigmoids = plain
    body = orjson.dumps({"terms": list(weights), "idf": [w[0] for w in weights.values()],
                         "coef": [w[1] for w in weights.values()],
                         "intercepts": intercepts, "sigmoids": sigmoids})
    header = orjson.dumps({"format": FORMAT, "key": key,
                           "sha256": hashlib.sha256(body).hexdigest()})
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{FILE_NAME}.")  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header + b"\n" + body)
            Path(temp).replace(directory / FILE_NAME)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise
    except OSError as exc:
        log.debug("profanity_cache_not_written", directory=str(directory), error=str(exc))


def _plain(data: Any) -> Plain:
    """The weights in `data` (a decoded body), checked for shape and type; ValueError if not."""
    terms, idf, coef = data["terms"], data["idf"], data["coef"]
    intercepts = tuple(_number(x) for x in data["intercepts"])
    sigmoids = tuple((_number(a), _number(b)) for a, b in data["sigmoids"])
    if not (len(terms) == len(idf) == len(coef)) or len(intercepts) != len(sigmoids) or not terms:
        raise ValueError("inconsistent lengths")
    weights: Weights = {}
    for term, value, row in zip(terms, idf, coef, strict=True):
        if not isinstance(term, str) or len(row) != len(intercepts):
            raise ValueError(f"bad term {term!r}")
        weights[term] = (_number(value), tuple(_number(x) for x in row))
    if len(weights) != len(terms):
        raise ValueError("repeated terms")
    return weights, intercepts, sigmoids


def _number(value: Any) -> float:
    if type(value) is not float:  # orjson gives back exactly the floats it was given
        raise ValueError(f"not a float: {value!r}")
    return value
