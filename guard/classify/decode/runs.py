# ruff: noqa: RUF001  (Morse marks are what this module reads)
"""Encoded runs: base64, base32, hex, binary, percent-encoded bytes, HTML character references,
Unicode escapes and Morse code that decode to readable text (`encoded(text)`)."""

from __future__ import annotations

import base64
import binascii
import html
import re
import string
from bisect import bisect_left
from collections.abc import Callable, Iterator

import re2

from guard.classify.decode.english import common_words, english

# Runs that may be encoded text, in the order tried at each position: binary octets, hex bytes
# apart ("68 6f 77", "\x68\x6f", "0x68, 0x6f"), percent-encoded bytes ("%68%6f"), HTML character
# references ("&#104;&#x6f;", zero-padded too: "&#0000000104;"), Unicode escapes ("\u0068"), a
# base64, base32 or hex run, Morse code.
# RE2, but `re` for a text with lone surrogates (which broken JSON can carry), which RE2 does not take.
_MORSE_MARK = r"[.\-_·•−–]"
_RUN_PATTERN = (
    r"(?P<binary>(?:[01]{8}[ ,]?){8,})"
    r"|(?P<hex_apart>(?:[0-9A-Fa-f]{2}[ ,:]{1,2}){7,}[0-9A-Fa-f]{2}"
    r"|(?:(?:\\x|0x)[0-9A-Fa-f]{2}[ ,]{0,2}){8,})"
    r"|(?P<percent>(?:%[0-9A-Fa-f]{2}){8,})"
    r"|(?P<entities>(?:&#(?:0*[0-9]{2,7}|[xX]0*[0-9A-Fa-f]{2,6});){8,})"
    r"|(?P<escapes>(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}){8,})"
    r"|(?P<base64>[A-Za-z0-9+/]{16,}={0,2})"
    rf"|(?P<morse>{_MORSE_MARK}{{1,7}}(?:(?: {{1,3}}| ?[/|] ?){_MORSE_MARK}{{1,7}}){{7,}})"
)
ENCODED_RUN = re2.compile(_RUN_PATTERN)
_ENCODED_RUN = re.compile(_RUN_PATTERN)
# A match's group by its `lastindex`: the RE2 wrapper's `lastgroup` builds the name table anew each time.
_GROUPS = {index: name for name, index in _ENCODED_RUN.groupindex.items()}
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){8,}")
_BASE32 = re.compile(r"[A-Z2-7]{16,}=*")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")
# A line of a block of base64 lines after the first: whole, its line break before it.
_NEXT_LINE = re.compile(r"\r?\n([A-Za-z0-9+/]+={0,2})(?![^\r\n])")
# What `_block_start` reads a line by: base64 characters, a line's part so far, its last run.
_ALPHABET = re.compile(r"[A-Za-z0-9+/]+")
_LINE_PART = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_TAIL = re.compile(r"[^A-Za-z0-9+/][A-Za-z0-9+/]*\Z")
RUNS_READ = 4  # encoded runs read decoded per text, at most
RUN_CHARS = 8192  # of each run
_NEAR_CHARS = 256  # `run_start` looks this far back first, then RUN_CHARS
_AFTER_CHARS = 96  # and this far ahead: enough for the shortest run of any kind to show

MORSE = dict(
    zip(
        ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- "
        "-..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. .-.-.- --..-- "
        "..--.. -.-.-- .----. -....- -..-. ---... -.--. -.--.-".split(),
        "abcdefghijklmnopqrstuvwxyz0123456789.,?!'-/:()",
        strict=True,
    )
)
_MORSE_MARKS = str.maketrans("_·•−–", "-..--")
_MORSE_WORD_GAP = re.compile(r" ?[/|] ?| {2,}")


def encoded(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(kind, start, end, decoded) of the first RUNS_READ encoded runs of `text` that decode to
    text. Runs that do not (long words, paths, hashes) are passed over without counting: trying
    one costs a decode of its characters, linear in the text's length, while what is bounded is
    the readings a model then scores. A block of base64 lines (`_block`) is one run, read joined;
    when that reads as nothing, without its shorter last line, then line by line as before."""
    read = 0
    for group, start, end, lines in _candidates(text):
        found = _read(group, text[start:end]) if lines is None else _read_block(text, lines)
        if found is not None:
            yield found[0], start, end, found[1]
            read += 1
        elif lines is not None:
            for run in _lines_read(text, lines):
                yield run
                read += 1
                if read == RUNS_READ:
                    return
        if read == RUNS_READ:
            return


def _read(group: str, chunk: str) -> tuple[str, str] | None:
    """(kind, decoded) of a run of `_RUN_PATTERN`'s `group`, None when it decodes to no text."""
    kind = "hex" if group == "hex_apart" or (group == "base64" and _HEX.fullmatch(chunk)) else group
    plain = _base32(chunk[:RUN_CHARS]) if kind == "base64" and _BASE32.fullmatch(chunk) else None
    if plain is not None:
        return "base32", plain
    plain = _DECODERS[kind](chunk[:RUN_CHARS])
    return None if plain is None else (kind, plain)


def _read_block(text: str, lines: list[tuple[int, int]]) -> tuple[str, str] | None:
    """A block of base64 lines read joined (its first RUN_CHARS characters), then without its
    last line when that is shorter (a line of text after the block may look like one)."""
    found = _read("base64", _joined(text, lines))
    width = lines[0][1] - lines[0][0]
    if found is None and len(lines) > 2 and lines[-1][1] - lines[-1][0] < width:
        found = _read("base64", _joined(text, lines[:-1]))
    return found


def _lines_read(text: str, lines: list[tuple[int, int]]) -> Iterator[tuple[str, int, int, str]]:
    """The runs of a block that reads as nothing joined, each read alone (as any run is)."""
    for group, start, end, _ in _candidates(text, lines[0][0], lines[-1][1], blocks=False):
        found = _read(group, text[start:end])
        if found is not None:
            yield found[0], start, end, found[1]


def _joined(text: str, lines: list[tuple[int, int]]) -> str:
    joined: list[str] = []
    chars = 0
    for start, end in lines:
        if chars >= RUN_CHARS:
            break
        joined.append(text[start:min(end, start + RUN_CHARS - chars)])
        chars += len(joined[-1])
    return "".join(joined)


def _candidates(text: str, pos: int = 0, endpos: int | None = None, *, blocks: bool = True
                ) -> Iterator[tuple[str, int, int, list[tuple[int, int]] | None]]:
    """(group of `_RUN_PATTERN`, start, end, lines) of every run of `text[pos:endpos]` that may be
    encoded; `lines`, the spans of its lines, for a block of base64 lines (`_block`), read as one
    run (the runs it holds are not given apart). An ASCII text is matched as bytes, which spares
    the RE2 wrapper its character offsets (a text can hold thousands of runs: every word of 16
    letters is one)."""
    endpos = len(text) if endpos is None else endpos
    if text.isascii():
        matches: Iterator[re2._Match[bytes] | re.Match[str]] = ENCODED_RUN.finditer(
            text.encode("ascii"), pos, endpos)
    else:
        matches = (ENCODED_RUN if _utf8(text) else _ENCODED_RUN).finditer(text, pos, endpos)
    past = pos  # the end of the last block
    for match in matches:
        group, start, end = _GROUPS[match.lastindex or 0], match.start(), match.end()
        if start < past:
            continue
        lines = _block(text, start, end) if blocks and group == "base64" else None
        if lines is not None:
            past = end = lines[-1][1]
        yield group, start, end, lines


def _block(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """The lines of a block of base64 wrapped into lines (MIME at 76 characters, PEM at 64) that
    the run at [start, end) begins, None when it begins none: the run ends its line, and is
    followed by whole lines of its length, a multiple of 4 and at least 16 characters, the last
    one maybe shorter; `=` padding ends the block. Lines end with `\n` or `\r\n`. Ordinary
    lines rarely qualify (one length, no space, ...), and those that do but decode to nothing
    joined are read alone (`encoded`)."""
    width = end - start
    if width % 4 or text[end - 1] == "=" or not text.startswith(("\n", "\r\n"), end):
        return None
    lines = [(start, end)]
    while (line := _NEXT_LINE.match(text, lines[-1][1])) is not None:
        begin, stop = line.span(1)
        if stop - begin > width:
            break
        lines.append((begin, stop))
        if stop - begin < width or text[stop - 1] == "=":
            break
    return lines if len(lines) > 1 else None


def run_start(text: str, at: int) -> int:
    """Where the encoded run that `at` falls inside begins (`at` itself when it falls inside none):
    a stream holds such a run back, or re-reads it, whole, since what decodes is the run, not a
    window of it. At most RUN_CHARS back, what `encoded` decodes of a run anyway; a run still
    being written counts as soon as it looks like one, whatever it will decode to."""
    if not 0 < at < len(text):
        return at
    # the characters after `at` only decide whether a run goes on past it
    for reach in (_NEAR_CHARS, RUN_CHARS):
        lo = max(0, at - reach)
        chunk = text[lo:at + _AFTER_CHARS]
        runs = ENCODED_RUN if _utf8(chunk) else _ENCODED_RUN
        start = next((lo + m.start() for m in runs.finditer(chunk) if lo + m.start() < at < lo + m.end()), at)
        # a run found right where the look-back began may have begun before: look further back
        if start == at or start - lo > _AFTER_CHARS or lo == 0:
            break
    return _past_line_breaks(text, at, start)


def _past_line_breaks(text: str, at: int, start: int) -> int:
    """`start`, or where the block of base64 lines `at` falls inside begins when that is earlier
    (`_block_start`)."""
    block = _block_start(text, at)
    return start if block is None else min(start, block)


def _block_start(text: str, at: int) -> int | None:
    """Where the block of base64 lines (`_block`) that `at` falls inside past its first line
    begins, None when it falls inside none: `at` is on a later line, or on the line break after
    a line of the block's width (the block may go on: a stream may not have the next line yet).
    At most RUN_CHARS back: a block going on further back begins there. Read backwards, line by
    line, as `_block` reads forwards, but more widely (any line that begins with a character of
    the alphabet may go on a block): a stream holds a block a little longer, never shorter."""
    if not 0 < at < len(text):
        return None
    lo = max(0, at - RUN_CHARS)
    found = text.rfind("\n", lo, at)
    char = text[at]
    if char == "\n" or (char == "\r" and text[at + 1:at + 2] in ("\n", "")):
        after = at + (2 if char == "\r" else 1)
        if after < len(text) and not _ALPHABET.match(text, after):
            return None  # the block ends with this line
        end = at - 1 if char == "\n" and found < at - 1 and text[at - 1] == "\r" else at
        top = _block_top(text, lo, max(found + 1, lo), end)
        return None if top is None else top[0]
    # on a line after the first, all of which up to `at` may be the block's
    line = found + 1
    if found < 0 or not (_LINE_PART.fullmatch(text, line, at) and (_ALPHABET.match(text, at) or char == "=")):
        return None
    end = _before_break(text, line)
    top = _block_top(text, lo, max(text.rfind("\n", lo, end) + 1, lo), end)
    return None if top is None or at - line >= top[1] else top[0]


def _before_break(text: str, line: int) -> int:
    """Where the line before the one beginning at `line` (after a line break) ends."""
    return line - 2 if line >= 2 and text[line - 2] == "\r" else line - 1


def _block_top(text: str, lo: int, line: int, end: int) -> tuple[int, int] | None:
    """(start, width) of the block of base64 lines whose line [line, end) may be one of its full
    lines (ending in a run of 16 characters or more, a multiple of 4, without padding), walking
    up its lines of that width; None when it may not be. A block going on before `lo` begins
    there."""
    tail = _TAIL.search(text, line, end)
    top = line if tail is None else tail.start() + 1
    width = end - top
    if width < 16 or width % 4:
        return None
    while top == line:  # a whole line: the block may begin on a line above
        if line <= lo:
            return (lo if lo else line), width
        end = _before_break(text, line)
        line = max(text.rfind("\n", lo, end) + 1, lo)
        above = end - width
        if above < line or not _ALPHABET.fullmatch(text, above, end) \
                or (above > line and _ALPHABET.match(text, above - 1)):
            return top, width
        top = above
    return top, width


# What `RunStarts` reads a stream's text by: stretches of the base64 alphabet (base32 and hex
# runs are written in it too), and the characters a run of another kind may hold just before one.
_STRETCH = re.compile(r"[A-Za-z0-9+/]+")
_STRETCH_MIN = 16  # the shortest base64 run
_JOINING = frozenset(string.hexdigits + "xXuU%&#;:, \\")
_NEAR_RUN = 32  # how far back `RunStarts` looks for a run of another kind going on into a stretch


class RunStarts:
    """`run_start` for one stream's text, which grows at its end and is cut at its start: the
    same offsets, in time proportional to the text added since the last call rather than to
    the RUN_CHARS a long run is looked back (a 200,000-character base64 answer took a look-back
    of 8,192 characters at each check).

    It remembers where each stretch of base64 characters began: a position inside one, with no
    run of another kind going on into it, has its run begin where the stretch does, or RUN_CHARS
    back when that is further. Any other position, or a stretch whose start another kind's run
    may reach (`_crossed`), is looked back as `run_start` does. Offsets are absolute: `base` is
    the offset of `text[0]`."""

    __slots__ = ("_open", "_read", "_stretches")

    def __init__(self) -> None:
        self._read = 0       # the text before this offset has been read
        self._open = 0       # where the stretch of base64 characters ending at `_read` begins
        self._stretches: list[tuple[int, int]] = []  # those closed before, long enough for a run

    def start(self, text: str, base: int, at: int) -> int:
        """`base + run_start(text, at - base)`."""
        if not base < at < base + len(text):
            return at
        self._catch_up(text, base)
        stretch = self._stretch(at)
        start = None if stretch is None else self._quick(text, base, at, max(stretch[0], base), stretch[1])
        if start is None:
            return base + run_start(text, at - base)
        return base + _past_line_breaks(text, at - base, start - base)

    def _catch_up(self, text: str, base: int) -> None:
        """Read the text added since the last call; forget stretches cut off before `base`."""
        if self._read < base:
            self._read = self._open = base
            self._stretches.clear()
        elif self._stretches and self._stretches[0][1] <= base:
            self._stretches = [s for s in self._stretches if s[1] > base]
        end = base + len(text)
        begin, stop = self._open, self._read  # the stretch going on at `_read`, if any
        for match in _STRETCH.finditer(text, self._read - base):
            if base + match.start() != stop:
                self._close(begin, stop)
                begin = base + match.start()
            stop = base + match.end()
        if stop == end:
            self._open = begin
        else:
            self._close(begin, stop)
            self._open = end
        self._read = end

    def _close(self, begin: int, stop: int) -> None:
        if stop - begin >= _STRETCH_MIN:
            self._stretches.append((begin, stop))

    def _stretch(self, at: int) -> tuple[int, int] | None:
        """The stretch of base64 characters `at` falls inside, past its first character."""
        if self._open < at:
            return self._open, self._read
        i = bisect_left(self._stretches, (at,)) - 1
        if i >= 0 and self._stretches[i][1] > at:
            return self._stretches[i]
        return None

    def _quick(self, text: str, base: int, at: int, begin: int, stop: int) -> int | None:
        """What `run_start` gives for `at` inside the stretch [begin, stop), read without looking
        back; None when that takes a look-back. Every look-back `run_start` takes (the near one,
        then RUN_CHARS) finds one base64 run from where it begins, or from the stretch's start
        when that is later: the look-back's text is base64 characters from there to past `at`
        (at most _AFTER_CHARS), when neither a binary nor a `0x` hex run begins there instead,
        and no run of another kind goes on into the stretch from before it."""
        seen = min(stop, at + _AFTER_CHARS)  # of the stretch, what a look-back reads
        if seen - begin < _STRETCH_MIN:
            return None
        near, far = max(base, at - _NEAR_CHARS), max(base, at - RUN_CHARS)
        if near > begin:  # the near look-back begins inside the stretch: it looks further back
            if not _base64_at(text, near - base):
                return None
            if far > begin:
                return far if _base64_at(text, far - base) else None
        if begin > base and _crossed(text, begin - base, min(base + len(text), at + _AFTER_CHARS) - base):
            return None
        return begin if _base64_at(text, begin - base) else None


def _base64_at(text: str, at: int) -> bool:
    """Whether a run found at `at`, inside a stretch of base64 characters, is a base64 run: not
    binary octets (`_RUN_PATTERN` tries those first) nor hex bytes written `0x41...`."""
    head = text[at:at + 8]
    return head[:2] != "0x" and not all(c in "01" for c in head)


def _crossed(text: str, begin: int, end: int) -> bool:
    """Whether a run of another kind than base64 may go on across `begin`, the start of a stretch
    of base64 characters (reading `text[:end]`, as the look-back does). Only some do, from some
    characters: binary octets and hex bytes past their separators, percent-escapes past `%`,
    character references past `#`, `\\x` and `\\u` escapes past the backslash; a Morse code's
    `/` is never followed by a base64 character. Such a run is looked for from each position
    where it may have begun (the characters runs of those kinds are written in, up to _NEAR_RUN
    back; further back counts as crossed)."""
    before, first = text[begin - 1], text[begin]
    if not ((before in " ,:%" and first in string.hexdigits) or (before == "\\" and first in "xuU")
            or (before == "#" and first in "0123456789xX")):
        return False
    since = begin
    while since > 0 and text[since - 1] in _JOINING:
        since -= 1
        if begin - since > _NEAR_RUN:
            return True
    return any((m := _ENCODED_RUN.match(text, p, end)) and m.end() > begin for p in range(since, begin))


def _utf8(text: str) -> bool:
    """Whether `text` can be written in UTF-8 (it cannot when broken JSON left lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _base64(chunk: str) -> str | None:
    # a run cut short (where a text or a window it is read in ends) may end a character past
    # its last whole quad, which decodes to no byte: read without it
    chunk = chunk[:len(chunk) - (len(chunk) % 4 == 1)]
    try:
        return _readable(base64.b64decode(chunk + "=" * (-len(chunk) % 4)))
    except (binascii.Error, ValueError):
        return None


def _base32(chunk: str) -> str | None:
    try:
        return _readable(base64.b32decode(chunk + "=" * (-len(chunk) % 8)))
    except (binascii.Error, ValueError):
        return None


def _binary(chunk: str) -> str | None:
    digits = re.sub(r"[^01]", "", chunk)  # whole octets: a run is cut at RUN_CHARS
    return _readable(bytes(int(digits[i : i + 8], 2) for i in range(0, len(digits) - 7, 8)))


def _hex(chunk: str) -> str | None:
    digits = re.sub(r"\\x|0x|[^0-9A-Fa-f]", "", chunk)
    return _readable(bytes.fromhex(digits[: len(digits) // 2 * 2]))  # whole bytes: a run is cut


def _percent(chunk: str) -> str | None:
    return _readable(bytes.fromhex("".join(_PERCENT.findall(chunk))))


def _entities(chunk: str) -> str | None:
    # leading zeros dropped first: `int` refuses more than 4,300 digits, zeros included
    return _printable(html.unescape(_LEADING_ZEROS.sub("", chunk)))


_LEADING_ZEROS = re.compile(r"(?<=&#)0+(?=[0-9])|(?<=&#[xX])0+(?=[0-9A-Fa-f])")


def _escapes(chunk: str) -> str | None:
    whole = "".join(_ESCAPE.findall(chunk))  # a run cut at RUN_CHARS may end inside an escape
    try:
        return _printable(whole.encode("ascii").decode("unicode_escape"))
    except UnicodeDecodeError:
        return None


def _morse(chunk: str) -> str | None:
    words = _MORSE_WORD_GAP.split(chunk.translate(_MORSE_MARKS))
    plain = " ".join("".join(MORSE.get(code, "") for code in word.split()) for word in words)
    return plain if common_words(plain) >= 2 and english(plain) else None


_DECODERS: dict[str, Callable[[str], str | None]] = {
    "binary": _binary,
    "hex": _hex,
    "base64": _base64,
    "percent": _percent,
    "entities": _entities,
    "escapes": _escapes,
    "morse": _morse,
}


def _readable(raw: bytes) -> str | None:
    """`raw` as text, when it is UTF-8 of printable characters with more than one word."""
    try:
        return _printable(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _printable(plain: str) -> str | None:
    """`plain`, when it is printable characters with more than one word, or one word of printable
    ASCII long enough to be a key or an address (12 characters: random bytes decode to that by
    chance about once in 150,000 tries)."""
    printable = sum(c.isprintable() or c in "\n\t" for c in plain)
    if printable < 0.95 * len(plain):
        return None
    if " " in plain.strip():
        return plain
    word = plain.strip()
    return word if len(word) >= 12 and word.isascii() and word.isprintable() else None
