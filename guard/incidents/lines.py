"""Appending incident lines to a file, and saying how many went in when the disk cut it short."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO


class ShortWrite(OSError):
    """A write the disk refused part way (a full disk): the first `taken` lines are in the
    file whole, `written` bytes in all (the next line may be there in part)."""

    def __init__(self, cause: OSError, taken: int, written: int) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.taken = taken
        self.written = written


def taken_by(exc: BaseException) -> int:
    """How many lines of the batch a failed write took (0 unless it was a ShortWrite)."""
    return exc.taken if isinstance(exc, ShortWrite) else 0


def write_lines(file: BinaryIO, lines: Sequence[bytes]) -> int:
    """Write `lines`, each with its newline, to `file` (opened unbuffered, so that what a write
    took is known); the bytes written. Raises ShortWrite when the disk takes only part."""
    data = b"".join(line + b"\n" for line in lines)
    view = memoryview(data)
    written = 0
    try:
        while written < len(data):
            written += file.write(view[written:])
    except OSError as exc:
        raise ShortWrite(exc, _whole(lines, written), written) from exc
    return written


def _whole(lines: Sequence[bytes], written: int) -> int:
    """How many of `lines` the first `written` bytes hold whole (a line's newline aside: a
    reader takes a last line without it)."""
    end = 0
    for taken, line in enumerate(lines):
        end += len(line) + 1
        if end - 1 > written:
            return taken
    return len(lines)
