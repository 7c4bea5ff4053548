"""Normalisation's Unicode tables kept in the derived-table cache: equal to freshly scanned ones,
written by the first start and read by the next, a file that does not verify rebuilt, no cache
directory no error."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import orjson
import pytest

from guard.classify import unicode_tables
from guard.classify.normalize import DROPPED_CODES, FORMAT_CODES, INVISIBLE, MARK_CODES

ROOT = Path(__file__).resolve().parents[3]


def test_tables_are_what_the_unicode_database_says() -> None:
    """Marks are category M, formats Cf; each NFKC mark decomposes into marks only: what the
    module reads at start (from the cache or not) is what a scan finds."""
    marks, formats, nfkc = unicode_tables.build()
    assert (marks, formats) == (MARK_CODES, FORMAT_CODES)
    assert INVISIBLE | marks | nfkc == DROPPED_CODES
    assert all(unicodedata.category(chr(c)).startswith("M") for c in marks)
    assert all(unicodedata.category(chr(c)) == "Cf" for c in formats)
    assert 0xFF9E in nfkc and 0x0F73 in nfkc  # half-width voiced sound mark, a Tibetan vowel sign
    assert all(ord(m) in marks for c in nfkc for m in unicodedata.normalize("NFKC", chr(c)))


def test_first_start_writes_the_tables_and_the_next_reads_equal_ones(tmp_path: Path) -> None:
    """With no file the tables are scanned and written; read back they equal a fresh scan."""
    fresh = unicode_tables.build()
    assert unicode_tables.code_tables(tmp_path) == fresh
    path = tmp_path / unicode_tables.FILE_NAME
    written = path.read_bytes()
    assert unicode_tables.code_tables(tmp_path) == fresh
    assert path.read_bytes() == written


def reheadered(path: Path, body: bytes) -> None:
    header = orjson.loads(path.read_bytes().split(b"\n", 1)[0])
    path.write_bytes(orjson.dumps(header | {"sha256": hashlib.sha256(body).hexdigest()}) + b"\n" + body)


@pytest.mark.parametrize("damage", ["flipped byte", "other key", "not code points", "two lists",
                                    "not json"])
def test_a_tables_file_that_does_not_verify_or_fit_is_rebuilt_not_trusted(
        tmp_path: Path, damage: str) -> None:
    """A damaged, stale or ill-formed file (even one whose checksum matches) is scanned again and
    written again, never read."""
    fresh = unicode_tables.code_tables(tmp_path)
    path = tmp_path / unicode_tables.FILE_NAME
    good = path.read_bytes()
    header, body = good.split(b"\n", 1)
    if damage == "flipped byte":
        path.write_bytes(header + b"\n" + body.replace(b"768", b"769", 1))
    elif damage == "other key":
        path.write_bytes(orjson.dumps(orjson.loads(header) | {"key": "0" * 64}) + b"\n" + body)
    elif damage == "not code points":
        reheadered(path, orjson.dumps([[-1], [], ["a"]]))
    elif damage == "two lists":
        reheadered(path, orjson.dumps([[768], [173]]))
    else:
        reheadered(path, b"[[768],")
    assert unicode_tables.code_tables(tmp_path) == fresh
    assert path.read_bytes() == good


def test_an_unwritable_cache_directory_only_means_no_cache(tmp_path: Path) -> None:
    """A cache directory that cannot be made gives the scanned tables, and a guard importing
    normalisation with it starts."""
    (tmp_path / "file").write_text("")
    unwritable = tmp_path / "file" / "cache"
    assert unicode_tables.code_tables(unwritable) == unicode_tables.build()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GUARD_CACHE_DIR": str(unwritable)}
    done = subprocess.run([sys.executable, "-c", "import guard.classify.normalize"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
