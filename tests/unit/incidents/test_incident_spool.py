"""The disk spool: order, delivery marks, bounds, and adoption of a dead process's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guard.incidents.lines import MAX_LINE
from guard.incidents.spool import Spool


def lines(start: int, count: int) -> list[bytes]:
    return [b'{"id":"n%d"}' % i for i in range(start, start + count)]


def test_replays_in_order_across_batches(tmp_path: Path) -> None:
    """Lines come back oldest first, batch by batch, and a fully read spool is removed."""
    spool = Spool(tmp_path, 1 << 20)
    spool.append(lines(0, 5))
    spool.append(lines(5, 5))
    got: list[bytes] = []
    while batch := spool.read_batch(3):
        got += batch
        spool.commit()
    assert got == lines(0, 10)
    assert not spool.pending() and list(tmp_path.glob("*.jsonl")) == []


def test_uncommitted_batch_is_read_again(tmp_path: Path) -> None:
    """A batch the sink did not take is offered again on the next read."""
    spool = Spool(tmp_path, 1 << 20)
    spool.append(lines(0, 4))
    assert spool.read_batch(2) == lines(0, 2)
    assert spool.read_batch(2) == lines(0, 2)
    spool.close()


def test_bounded_by_max_bytes(tmp_path: Path) -> None:
    """Beyond max_bytes append takes only what fits and says how many."""
    spool = Spool(tmp_path, 100)
    assert 0 < spool.append(lines(0, 50)) < 50
    spool.close()


def test_new_process_adopts_orphan_and_skips_delivered(tmp_path: Path) -> None:
    """A spool left by a dead process is replayed from its last delivered offset."""
    first = Spool(tmp_path, 1 << 20)
    first.append(lines(0, 6))
    assert first.read_batch(2) == lines(0, 2)
    first.commit()
    first.close()  # the process is gone: its lock is released
    second = Spool(tmp_path, 1 << 20)
    assert second.pending()
    assert second.read_batch(100) == lines(2, 4)
    second.close()


def test_live_owner_keeps_its_files(tmp_path: Path) -> None:
    """A spool file locked by a live process is left to that process."""
    owner = Spool(tmp_path, 1 << 20)
    owner.append(lines(0, 1))
    other = Spool(tmp_path, 1 << 20)
    assert not other.pending() and owner.pending()
    other.close()
    owner.close()


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    """A line cut short by a crash is not delivered as a broken record."""
    (tmp_path / "00000000000000000001-1.jsonl").write_bytes(b'{"id":"n0"}\n{"id":"n1"}\n{"id"')
    spool = Spool(tmp_path, 1 << 20)
    assert spool.read_batch(10) == lines(0, 2)
    spool.commit()
    assert spool.read_batch(10) == [] and not spool.pending()
    spool.close()


def test_a_spool_file_a_full_disk_left_empty_is_not_kept(tmp_path: Path) -> None:
    """From a second probe: every refused write on a full disk left an empty spool file (five a
    second). A file whose first write failed is removed; the next write opens a new one."""
    import pytest

    spool = Spool(tmp_path, 1 << 20)
    real_open = spool._open_writer
    full = True

    class Refusing:
        def __init__(self, writer: Any) -> None:
            self.writer = writer

        def write(self, data: bytes) -> int:
            if full:
                raise OSError(28, "No space left on device")
            return int(self.writer.write(data))

        def flush(self) -> None:
            self.writer.flush()

        def close(self) -> None:
            self.writer.close()

        def fileno(self) -> int:
            return int(self.writer.fileno())

    def opened() -> Any:
        spool._writer = Refusing(real_open())
        return spool._writer

    spool._open_writer = opened  # type: ignore[method-assign]
    for _ in range(3):
        with pytest.raises(OSError):
            spool.append([b'{"id": "a"}'])
    assert list(tmp_path.glob("*.jsonl")) == [] and not spool.pending()
    full = False
    assert spool.append([b'{"id": "a"}']) == 1
    assert spool.read_batch(10) == [b'{"id": "a"}']
    spool.close()


def read_all(spool: Spool) -> list[bytes]:
    got: list[bytes] = []
    while batch := spool.read_batch(3):
        got += batch
        spool.commit()
    return got


def test_a_damaged_line_is_skipped_and_reported(tmp_path: Path) -> None:
    """From a probe: a line of NUL bytes in the Redis spool failed every replay (the sink could
    not read its id), so the sink stayed down for good. It is skipped and reported once; the
    lines around it are delivered."""
    damaged = [*lines(0, 4), b"\x00" * 40, b'{"no": "id"}', *lines(4, 4)]
    (tmp_path / "00000000000000000001-1.jsonl").write_bytes(b"\n".join(damaged) + b"\n")
    skipped: list[tuple[int, int, str]] = []
    spool = Spool(tmp_path, 1 << 20, lambda _, at, size, why: skipped.append((at, size, why)))
    assert read_all(spool) == lines(0, 8)
    assert skipped == [(48, 41, "not_an_incident"), (89, 13, "not_an_incident")]
    assert not spool.pending()


def test_a_line_too_long_is_skipped_and_the_rest_delivered(tmp_path: Path) -> None:
    """From a probe: a 1.2 MB incident in the spool being written made every read return
    nothing (no end of line in the first MiB) and a restart deleted the file with all the
    incidents after it. It is skipped and reported; the others are delivered."""
    skipped: list[tuple[int, int, str]] = []
    spool = Spool(tmp_path, 1 << 30, lambda _, at, size, why: skipped.append((at, size, why)))
    long = b'{"id":"big","model":"%s"}' % (b"x" * (MAX_LINE + 200_000))
    spool.append([*lines(0, 2), long, *lines(2, 2)])
    spool.append(lines(4, 2))
    assert read_all(spool) == lines(0, 6)
    assert skipped == [(24, len(long) + 1, "too_long")]
    spool.close()


def test_part_of_a_batch_can_be_committed(tmp_path: Path) -> None:
    """A sink that took the first lines of a batch (a short write) has only those marked."""
    spool = Spool(tmp_path, 1 << 20)
    spool.append(lines(0, 5))
    assert spool.read_batch(4) == lines(0, 4)
    spool.commit(3)
    assert spool.read_batch(4) == lines(3, 2)
    spool.close()


def test_waiting_counts_what_is_not_delivered_yet(tmp_path: Path) -> None:
    """`waiting` (the guard_incident_spool_waiting gauge) counts lines spooled and neither
    delivered nor skipped: down as batches are committed, in part or whole, and for a spool left
    by a dead process, from its last delivered offset, damaged lines included until skipped."""
    first = Spool(tmp_path, 1 << 20)
    first.append(lines(0, 6))
    assert first.waiting == 6
    assert first.read_batch(4) == lines(0, 4)
    first.commit(1)
    assert first.waiting == 5
    first.close()
    (tmp_path / "99999999999999999999-1.jsonl").write_bytes(b"\x00\n" + lines(6, 1)[0] + b"\n")
    second = Spool(tmp_path, 1 << 20)
    assert second.waiting == 7
    assert second.read_batch(3) == lines(1, 3)
    second.commit()
    assert second.waiting == 4
    assert read_all(second) == [*lines(4, 2), *lines(6, 1)]
    assert second.waiting == 0 and not second.pending()
    second.close()
