"""Many patterns, one linear-time pass: an RE2 set screens the text, then only the patterns that
matched are run again for their positions.

Chosen by measurement (bench/bench_classifiers.py, BENCHMARKS.md): for 5,000 patterns an RE2 set
compiles in ~30 ms and screens ~400 MB/s; Hyperscan scans faster but took ~7 s to compile the same
set with start-of-match tracking (a policy reload) and only builds on x86. Python's `re`
backtracks, so it never runs a pattern that comes from a policy file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import re2


def _options(case_sensitive: bool) -> re2.Options:
    opts = re2.Options()
    opts.case_sensitive = case_sensitive
    opts.log_errors = False
    return opts


def check_pattern(pattern: str) -> str:
    """`pattern` if RE2 accepts it, else ValueError with RE2's reason (for config validation)."""
    try:
        re2.compile(pattern, _options(True))
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"invalid pattern (RE2 syntax): {reason}") from None
    return pattern


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class PatternSet:
    """Compiled patterns; `finditer` yields (pattern index, start, end) of every match.

    word_boundary: keep only matches that neither start nor end inside a word (Unicode-aware,
                   unlike RE2's ASCII-only `\\b`).
    group:         report the span of this capture group instead of the whole match, for the
                   patterns that have it (a secret's value after its name).
    """

    def __init__(
        self, patterns: Sequence[str], *, case_sensitive: bool = False, word_boundary: bool = False
    ) -> None:
        opts = _options(case_sensitive)
        self._set = re2.Set.SearchSet(opts)
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()
        self._compiled = [re2.compile(p, opts) for p in patterns]
        self.word_boundary = word_boundary
        self.size = len(patterns)

    def matched(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in `text` (one pass)."""
        return self._set.Match(text) or []

    def finditer(self, text: str, group: int = 0) -> Iterator[tuple[int, int, int]]:
        for idx in self.matched(text):
            pattern = self._compiled[idx]
            g = group if group <= pattern.groups else 0
            for m in pattern.finditer(text):
                start, end = m.span(g)
                if start < 0 or end <= start:
                    continue
                if self.word_boundary and not _at_boundaries(text, start, end):
                    continue
                yield idx, start, end


def _at_boundaries(text: str, start: int, end: int) -> bool:
    if start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start]):
        return False
    return not (end < len(text) and is_word_char(text[end]) and is_word_char(text[end - 1]))
