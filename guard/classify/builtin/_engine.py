"""Many patterns, one linear-time pass: an RE2 set screens the text, then only the patterns that
matched are run again for their positions.

Chosen by measurement (bench/bench_classifiers.py, BENCHMARKS.md): for 5,000 patterns an RE2 set
compiles in ~30 ms and screens ~400 MB/s; Hyperscan scans faster but took ~7 s to compile the same
set with start-of-match tracking (a policy reload) and only builds on x86. Python's `re`
backtracks, so it never runs a pattern that comes from a policy file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

import re2

WINDOW = 4096  # characters screened at a time in long texts


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
        self,
        patterns: Sequence[str],
        *,
        case_sensitive: bool = False,
        word_boundary: bool = False,
        literals: Sequence[str | None] | None = None,
        reach: int = 256,
    ) -> None:
        opts = _options(case_sensitive)
        self._set = re2.Set.SearchSet(opts)
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()
        self._compiled = [re2.compile(p, opts) for p in patterns]
        self.word_boundary = word_boundary
        self.case_sensitive = case_sensitive
        self.reach = reach  # the longest match: window overlap for long texts
        self.size = len(patterns)
        # Patterns that are plain literals get their positions from str.find, which costs far
        # less per match than the RE2 wrapper's match objects (dense keyword hits).
        self._has_literals = bool(literals) and any(literals or ())
        self._literals = [
            (lit if case_sensitive else lit.lower()) if lit else None
            for lit in (literals or [None] * len(patterns))
        ]

    def matched(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in `text` (one pass)."""
        return self._set.Match(text) or []

    def may_match(self, text: str) -> bool:
        """Whether `finditer` may yield a match in `text`: False when no pattern matches it
        anywhere (one screening pass; a long text, screened window by window, is not ruled out)."""
        return len(text) > WINDOW > self.reach or bool(self.matched(text))

    def finditer(self, text: str, group: int = 0, cuts: Collection[int] = ()
                 ) -> Iterator[tuple[int, int, int]]:
        """(pattern index, start, end) of the matches; long texts are screened window by window.
        With `word_boundary`, a position in `cuts` is a word boundary too (`Normalized.cuts`).

        Screening one window and re-running only the patterns that matched in it keeps the cost
        per byte flat when many different patterns match somewhere in a long text. Windows
        overlap by `reach` characters on both sides; a match is kept by the window it starts in.
        """
        n = len(text)
        folded = text
        if self._has_literals and not self.case_sensitive:
            folded = _fold_case(text)
        if n <= WINDOW or self.reach >= WINDOW:
            yield from self._scan(text, folded, 0, n, 0, n, group, cuts)
            return
        reach = self.reach
        for start in range(0, n, WINDOW):
            end = min(n, start + WINDOW)
            lo, hi = max(0, start - reach), min(n, end + reach)
            yield from self._scan(text, folded, start, end, lo, hi, group, cuts)

    def _scan(
        self, text: str, folded: str, keep_from: int, keep_to: int, lo: int, hi: int, group: int,
        cuts: Collection[int],
    ) -> Iterator[tuple[int, int, int]]:
        # Slices, not pos/endpos: the RE2 wrapper re-encodes the whole string on every call.
        # A slice edge can only change anchors (^, $, \b) within `reach` of it, where no kept
        # match starts (except at the true start and end of the text).
        piece = text if lo == 0 and hi == len(text) else text[lo:hi]
        # On ASCII, bytes and characters line up: matching bytes spares the wrapper its
        # byte-to-character offset conversion, which costs O(window) per match.
        subject: str | bytes = piece.encode("ascii") if piece.isascii() else piece
        for idx in self.matched(piece):
            literal = self._literals[idx]
            if literal is not None:
                for hit in self._find_literal(folded, idx, literal, lo, hi, cuts):
                    if keep_from <= hit[1] < keep_to:
                        yield hit
                continue
            pattern = self._compiled[idx]
            g = group if group <= pattern.groups else 0
            for m in pattern.finditer(subject):
                start, end = m.span(g)
                if start < 0 or end <= start:
                    continue
                start += lo
                end += lo
                if not keep_from <= start < keep_to or (end == hi < len(text)):
                    continue  # not this window's, or cut by the window's edge (longer than reach)
                if self.word_boundary and not _at_boundaries(text, start, end, cuts):
                    continue
                yield idx, start, end

    def _find_literal(
        self, text: str, idx: int, literal: str, lo: int, hi: int, cuts: Collection[int]
    ) -> Iterator[tuple[int, int, int]]:
        n = len(literal)
        pos = text.find(literal, lo, hi)
        while pos >= 0:
            end = pos + n
            if not self.word_boundary or _at_boundaries(text, pos, end, cuts):
                yield idx, pos, end
            pos = text.find(literal, end if n else pos + 1, hi)


def _fold_case(text: str) -> str:
    """Lower-cased text of the same length (positions stay valid)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case to two (U+0130); keep one character for each.
    return "".join(ch.lower()[:1] or ch for ch in text)


def _at_boundaries(text: str, start: int, end: int, cuts: Collection[int] = ()) -> bool:
    if start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start]) and start not in cuts:
        return False
    return not (end < len(text) and is_word_char(text[end]) and is_word_char(text[end - 1])
                and end not in cuts)
