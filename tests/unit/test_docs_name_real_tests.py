"""The documents point at tests that exist, in the files they name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", "RELIABILITY.md", "THREAT_MODEL.md",
             *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_test_a_document_names_is_in_the_file_it_names(document: str) -> None:
    """From a probe: RELIABILITY.md placed two breaker tests in test_killswitch_disk_full.py;
    they are in test_killswitch_breaker.py. A `test_...` named in a paragraph or list item is
    defined in a test file that paragraph names (or, when it names none, in some test file)."""
    defined = {path.relative_to(ROOT).as_posix(): set(re.findall(r"def (test_\w+)", path.read_text()))
               for path in (ROOT / "tests").rglob("test_*.py")}
    misplaced = []
    for chunk in re.split(r"\n(?=- |\n|#)", (ROOT / document).read_text()):
        files = set(re.findall(r"`(tests/[^`\s]+\.py)`", chunk)) or set(defined)
        misplaced += [(name, sorted(files)) for name in re.findall(r"`(test_\w+)`", chunk)
                      if not any(name in defined.get(file, ()) for file in files)]
    assert misplaced == []
