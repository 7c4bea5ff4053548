"""The disk spool: order, delivery marks, bounds, and adoption of a dead process's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guard.incidents.spool import Spool


def lines(start: int, count: int) -> list[bytes]:
    return [b'{"n":%d}' % i for i in range(start, start + count)]


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
    (tmp_path / "00000000000000000001-1.jsonl").write_bytes(b'{"n":0}\n{"n":1}\n{"n"')
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
