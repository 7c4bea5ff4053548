"""What build of guard runs: its version, and a digest of its source.

`__version__` moves with releases; the digest moves with any change to guard's code, so replicas
of two builds tell apart in a rolling upgrade or a rollback even when the version was not bumped
(`guard --version`, `guard_build_info{source}`, the `guard_started` line).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

import guard

PACKAGE = Path(guard.__file__).parent


def source_digest(package: Path, paths: Iterable[Path] | None = None) -> str:
    """A hash of the source files `paths` under `package` (every Python file by default): their
    names and contents."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py") if paths is None else paths):
        source = path.read_bytes()
        digest.update(f"{path.relative_to(package).as_posix()}\0{len(source)}\0".encode())
        digest.update(source)
    return digest.hexdigest()


@functools.cache
def running_source() -> str:
    """The digest of the guard running here, 12 hex digits (read once: about 2 MB of source)."""
    return source_digest(PACKAGE)[:12]


def describe() -> str:
    return f"guard {guard.__version__} (source {running_source()})"
