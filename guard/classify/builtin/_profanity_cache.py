"""The profanity model's weights, kept in a small per-user file so a start need not unpickle them.

Unpickling alt-profanity-check's joblib files imports scikit-learn: about a second of CPU at every
start, only to copy the weights into plain tuples (`LinearTextModel`). The first start writes
those tuples here; later starts read them back (a few milliseconds) without importing
scikit-learn. The file holds only derived numbers (JSON, never a pickle) and is trusted only when
its key matches the installed package — a SHA-256 of the package's data files, its version and
FORMAT — and the SHA-256 of its body matches its header. Anything else (missing, stale, corrupt,
unreadable) is a miss: the caller unpickles the package and writes the file again.

The file is one of `derived_cache`'s (its directory, header and checks).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

import orjson
import structlog

from guard.classify.derived_cache import CACHE_DIR_ENV, cache_dir, read_verified, write_verified

__all__ = ["CACHE_DIR_ENV", "FILE_NAME", "FORMAT", "cache_dir", "package_key", "read_weights",
           "write_weights"]
FORMAT = 1  # bump when the file's layout or the meaning of its numbers changes
FILE_NAME = "profanity-weights.json"
log = structlog.get_logger("guard.classify")

# What LinearTextModel is built from: term → (idf, one coefficient per fold), one intercept per
# fold, one sigmoid (a, b) per fold.
Weights = dict[str, tuple[float, tuple[float, ...]]]
Plain = tuple[Weights, tuple[float, ...], tuple[tuple[float, float], ...]]


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
    body = read_verified(directory, FILE_NAME, FORMAT, key)
    if body is None:
        return None
    try:
        return _plain(orjson.loads(body))
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        log.debug("profanity_cache_not_used", error=str(exc))
        return None


def write_weights(key: str, directory: Path, plain: Plain) -> None:
    """Keep `plain` under `key` in `directory`; a failure only means no cache (debug log)."""
    weights, intercepts, sigmoids = plain
    body = orjson.dumps({"terms": list(weights), "idf": [w[0] for w in weights.values()],
                         "coef": [w[1] for w in weights.values()],
                         "intercepts": intercepts, "sigmoids": sigmoids})
    write_verified(directory, FILE_NAME, FORMAT, key, body)


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
