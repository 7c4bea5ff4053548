"""The incident review report's Markdown: what clients chose (model names, tenants) stays text."""

from __future__ import annotations

import re
import time

from guard.incidents import report

HOSTILE = ["![x](https://evil.example/pixel.png)", "[click me](https://evil.example/login)",
           "<img src=x onerror=alert(1)>", "a\\| extra column", "`code` *bold* _it_\r\nnext",
           "\x1b]52;c;ZWNobw==\x07\x1b[2J\x9b2J"]


def test_markdown_cells_are_text() -> None:
    """From a probe: a model name `![x](url)` became an image in the report, `<img ...>` raw
    HTML and `a\\|b` a row with an extra cell (only `|` was escaped, not the backslash). Every
    character Markdown or HTML reads as markup is escaped, so each row keeps its two cells, and
    control characters (a terminal runs them) are written as text."""
    now = time.time()
    incidents = [{"id": f"inc-{n}", "time": now, "kind": "decision", "model": name,
                  "tenant": name, "rules": ["pii"], "action": "flag"}
                 for n, name in enumerate(HOSTILE)]
    text = report.markdown(report.summarise(incidents, now - 3600))
    for dimension in ("model", "tenant"):
        section = text[text.index(f"## By {dimension}"):].split("\n\n")[1]
        rows = section.splitlines()[2:]
        assert len(rows) == len(HOSTILE)
        for row in rows:
            unescaped = re.sub(r"\\.", "", row)  # what is left once each escaped pair is gone
            assert unescaped.count("|") == 3, row
            assert not set(unescaped) & set("![]<>`*_\\\r\n\x1b\x07\x9b"), row


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
