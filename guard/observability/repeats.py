"""A warning that could come with every request (a classifier's service down, Redis away),
logged the first time at once and then at most once per interval, with how many times it
happened since the last line: the log says what is wrong without one line per request crowding
out the rest (incidents logged by the `log` sink share the same pipe)."""

from __future__ import annotations

import time


class Repeats:
    """Counts one warning's occurrences; `due()` says when to log them and how many."""

    __slots__ = ("_count", "_logged_at", "_said", "every_s")

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._count = 0  # since the last line
        self._logged_at = -every_s
        self._said: str | None = None  # what the last line said

    def due(self, says: str | None = None) -> int:
        """Count one more: how many to report now (this one included), or 0 while a line saying
        the same (`says`: a new cause is logged at once) was logged less than `every_s` ago."""
        self._count += 1
        now = time.monotonic()
        if says == self._said and now - self._logged_at < self.every_s:
            return 0
        count, self._count, self._logged_at, self._said = self._count, 0, now, says
        return count
