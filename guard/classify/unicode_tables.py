"""The code point tables normalisation needs from the Unicode database, kept in a
`derived_cache` file so a start need not scan the database for them.

Finding every combining mark and format character (a category lookup for each of 130,000 code
points) and the characters NFKC makes marks only (a decomposition for each of 126,000) took about
45 ms of every start. They depend only on the interpreter's Unicode database and on this module:
the first start writes them (JSON lists of code points), later starts read them back. A file is
keyed by the Unicode version, the interpreter's version and this module's source; one that does
not verify or holds anything but code points is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import unicodedata
from pathlib import Path

import orjson
import structlog

from guard.classify.derived_cache import cache_dir, read_verified, write_verified

FORMAT = 1  # bump when the file's layout or the meaning of its lists changes
FILE_NAME = "unicode-tables.json"
log = structlog.get_logger("guard.classify")


def build() -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """Combining marks: every character of Unicode's category M (Mn, Mc, Me), whatever its
    combining class (an enclosing circle U+20DD, a keycap U+20E3 or a Devanagari vowel sign has
    class 0). Format characters (category Cf), which the trained models' fold drops. And the
    characters NFKC makes combining marks only (a half-width voiced sound mark, Tibetan vowel
    signs): what a cluster drops when on nothing."""
    marks, formats = set(), set()
    for code in itertools.chain(range(0xA0, 0x20000), range(0xE0000, 0xE1000)):
        kind = unicodedata.category(chr(code))
        if kind[0] == "M":
            marks.add(code)
        elif kind == "Cf":
            formats.add(code)

    def nfkc_marks(code: int) -> bool:
        char = chr(code)
        return bool(unicodedata.decomposition(char)) and all(
            ord(c) in marks for c in unicodedata.normalize("NFKC", char))

    return frozenset(marks), frozenset(formats), frozenset(filter(nfkc_marks, range(0x300, 0x1F000)))


def key() -> str:
    """What the tables are made from: the Unicode database, the interpreter and this module."""
    digest = hashlib.sha256(f"guard-unicode-tables {FORMAT} {unicodedata.unidata_version} "
                            f"{sys.version}\n".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def code_tables(directory: Path | None = None) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """`build()`'s tables, read from the cache in `directory` (default: `cache_dir()`) when a
    start kept them there, else built and kept."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return build()
    wanted = key()
    body = read_verified(directory, FILE_NAME, FORMAT, wanted)
    if body is not None:
        try:
            lists = orjson.loads(body)
            if (isinstance(lists, list) and len(lists) == 3
                    and all(isinstance(codes, list) and set(map(type, codes)) <= {int} for codes in lists)
                    and all(0 <= code <= sys.maxunicode for codes in lists for code in codes)):
                marks, formats, nfkc = (frozenset(codes) for codes in lists)
                return marks, formats, nfkc
        except ValueError as exc:
            log.debug("unicode_tables_not_used", error=str(exc))
    tables = build()
    write_verified(directory, FILE_NAME, FORMAT, wanted, orjson.dumps([sorted(t) for t in tables]))
    return tables
