"""Incident values written where an operator reads them: a terminal runs the control characters
a client can put in a model name or an excerpt (ESC [ 2 J clears the screen, OSC 52 writes the
clipboard, and a terminal takes U+009B as ESC [).

Not `guard.cli.shown`, which writes one value on one line (line breaks and format characters
escaped too, as `\x1b`): these are whole excerpts and JSON lines, whose line breaks stay, and
whose escapes must read back as the same text (`\u001b` is JSON's own)."""

from __future__ import annotations

import re

# C0 but tab and line feed, DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with each control character but tab and line feed as the text `\\u001b`."""
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
