"""The incident review report's Markdown: what clients chose (model names, tenants) stays text."""

from __future__ import annotations

import re
import time

from guard.incidents import report

HOSTILE = ["![x](https://evil.example/pixel.png)", "[click me](https://evil.example/login)",
           "<img src=x onerror=alert(1)>", "a\\| extra column", "`code` *bold* _it_\r\nnext",
           "\x1b]52;c;ZWNobw==\x07\x1b[2J\x9b2J"]


LINKABLE = [  # no more than report.TOP
"www.evil.example", "WWW.Evil.Example/login", "see www.evil.example", "http://x.example",
            "alice@evil.example", "mailto:alice@evil.example",
            "xmpp:foo@bar.baz", "``tick`@x.io | pipe``", "a\\|b@x.io", " x@y.example "]
_CELL_END = re.compile(r"(?<!\\)\|")  # cmark-gfm: a `|` after a backslash is in the cell
_CODE = re.compile(r"^(`+) (.*) \1$")  # a code span, padded by a space inside its fences


def rows_of(text: str, dimension: str) -> list[str]:
    section = text[text.index(f"## By {dimension}"):].split("\n\n")[1]
    return section.splitlines()[2:]


def code_span(cell: str) -> str | None:
    """The literal text of `cell` when it is one code span whose fences no run of backticks
    inside matches (CommonMark), with GFM's table escape `\\|` read; None otherwise."""
    code = _CODE.match(cell)
    if code is None or len(code.group(1)) in map(len, re.findall("`+", code.group(2))):
        return None
    return code.group(2).replace("\\|", "|")


def report_of(names: list[str]) -> str:
    now = time.time()
    incidents = [{"id": f"inc-{n}", "time": now, "kind": "decision", "model": name,
                  "tenant": name, "rules": ["pii"], "action": "flag"}
                 for n, name in enumerate(names)]
    return report.markdown(report.summarise(incidents, now - 3600))


def test_markdown_cells_are_text() -> None:
    """From a probe: a model name `![x](url)` became an image in the report, `<img ...>` raw
    HTML and `a\\|b` a row with an extra cell (only `|` was escaped, not the backslash). Every
    character Markdown or HTML reads as markup is escaped (or the value is a code span, whose
    content is literal), so each row keeps its two cells, and control characters (a terminal
    runs them) are written as text."""
    text = report_of(HOSTILE)
    for dimension in ("model", "tenant"):
        rows = rows_of(text, dimension)
        assert len(rows) == len(HOSTILE)
        for row in rows:
            cells = _CELL_END.split(row)[1:-1]
            assert len(cells) == 2 and cells[1].strip().isdigit(), row
            assert not set(row) & set("\r\n\x1b\x07\x9b"), row
            if code_span(cells[0].strip()) is not None:
                continue  # a URL in it: the test below
            unescaped = re.sub(r"\\.", "", row)  # what is left once each escaped pair is gone
            assert not set(unescaped) & set("![]<>`*_\\"), row


def test_markdown_cells_are_never_links() -> None:
    """From a probe: a tenant `www.evil.example` or a model `http://x.example` (or an e-mail
    address) was a link in the report on GitHub: GFM links these in text, backslash escapes
    or not. Each such value is a code span (GFM's autolink extension finds links in text nodes
    only), whose content reads as the value, letter for letter; a `|` in it no extra cell."""
    text = report_of(LINKABLE)
    for dimension in ("model", "tenant"):
        rows = rows_of(text, dimension)
        cells = [_CELL_END.split(row)[1:-1] for row in rows]
        assert all(len(row) == 2 and row[1].strip().isdigit() for row in cells), rows
        assert sorted(code_span(row[0].strip()) or row[0] for row in cells) == sorted(LINKABLE)
    events = report.markdown(report.summarise(
        [{"id": "e", "time": time.time(), "kind": "www.evil.example"}], 0))
    assert "- events: ` www.evil.example ` 1" in events


def test_the_html_report_writes_control_characters_out() -> None:
    """`report --format html` printed to a terminal ran a client's escape sequences: html.escape
    leaves control characters as they are. Each is written out as text, the markup escaped."""
    now = time.time()
    incidents = [{"id": f"inc-{n}", "time": now, "kind": "decision", "model": name,
                  "tenant": name, "rules": ["pii"], "action": "flag"}
                 for n, name in enumerate(HOSTILE)]
    page = report.html_page(report.summarise(incidents, now - 3600))
    assert not set(page) & set("\x1b\x07\x9b")
    assert "\\u001b]52;c;ZWNobw==" in page and "&lt;img src=x" in page


def test_the_kill_switch_history_is_in_time_order() -> None:
    """Pages from the journal come file by file (one worker's, then another's): the history
    listed each worker's changes together. It is in time order, whatever order they came in."""
    now = time.time()
    events = [{"id": f"ks-{n}", "time": now - at, "kind": "killswitch",
               "details": {"action": "engage", "id": f"ks{n}"}}
              for n, at in enumerate([30, 50, 10, 40, 20])]
    text = report.markdown(report.summarise(events, now - 3600))
    listed = re.findall(r"\| (ks\d) \|", text)
    assert listed == ["ks1", "ks3", "ks0", "ks4", "ks2"]
