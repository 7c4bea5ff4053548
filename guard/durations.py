"""Durations as operators write them: `90s`, `15m`, `2h`, `7d`, `1w`, and of several units,
largest first (`1h30m`, `2m30s`, `1d 12h`). `--ttl` (kill switch) and `--since` read them."""

from __future__ import annotations

import re

UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# each unit at most once, largest first: linear (no nested repeats)
_DURATION = re.compile("".join(rf"(?:(\d+(?:\.\d+)?)\s*{unit}\s*)?" for unit in UNIT_S))


def duration_s(text: str) -> float | None:
    """`text`'s duration in seconds; None when it is not written as one (a bare number is not:
    callers read that as seconds, or as a time)."""
    written = _DURATION.fullmatch(text.strip())
    if written is None or not any(written.groups()):
        return None
    return sum(float(number) * seconds
               for number, seconds in zip(written.groups(), UNIT_S.values(), strict=True)
               if number is not None)
