"""Appending incident lines to a file, saying how many went in when the disk cut it short, and
reading them back a bounded line at a time."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import BinaryIO

READ_CHUNK = 1 << 20
MAX_LINE = 1 << 20  # no incident guard writes is this long; a longer line is never held whole


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


def read_lines(path: Path, start: int = 0, chunk: int = READ_CHUNK
               ) -> Generator[tuple[bytes | None, int, bool]]:
    """The lines of `path` from `start` on: each with the offset just after it and whether its
    newline is there (only the last may lack it). A line longer than MAX_LINE comes as None,
    read past without being held."""
    with path.open("rb") as f:
        f.seek(start)
        at, head, cut = start, b"", 0  # head: the line being read; cut: its bytes let go
        while data := f.read(chunk):
            *whole, head = (head + data).split(b"\n")
            for line in whole:
                at += cut + len(line) + 1
                yield (None if cut or len(line) > MAX_LINE else line), at, True
                cut = 0
            if len(head) > MAX_LINE:
                cut, head = cut + len(head), b""
        if head or cut:
            yield (None if cut else head), at + cut + len(head), False
