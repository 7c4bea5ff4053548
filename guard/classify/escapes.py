"""Escapes a text may hold that its reader decodes: JSON's (a tool call's arguments), HTML character
references, percent-escapes and a program text's (`\\xNN`, octal, `\\u{...}`). Each is decoded in
place, with where every decoded character stood in the text, so `normalize` can map what it reads
back onto the original characters."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from html.entities import html5

# JSON's escapes: of a character, of a surrogate pair (a high half, then a low half: a character
# past U+FFFF as `json.dumps` writes one, `\ud835\udfd5` for U+1D7D5, a bold 7; not a lone half),
# and the short ones. A tool call's arguments are JSON: the client reads `\u0041` as "A", and `\n`
# as a line break, so a key after one starts a word. An escaped backslash is one character, so
# `\\n` stays a backslash and "n".
JSON_ESCAPE = re.compile(r"\\u(?:[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                         r"|(?![dD][89a-fA-F])[0-9a-fA-F]{4})|\\[nrtbf\"\\/]")
_SHORT_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "\\": "\\",
                  "/": "/"}


# HTML character references (numeric ones also without their ";", as a browser reads them; named
# ones with it, but for the few a browser reads without it: `&shy`, `&nbsp`, `&amp`, `&lt`, `&gt`,
# `&quot`), percent-escapes (an ASCII byte alone, the bytes of another character together) and
# the escapes of program text: `\xNN` (bytes, as percent-escapes), octal `\NNN` and `\u{...}`, and
# a code point written `%uNNNN` (IE's escape()) or `U+NNNN` (four digits, or five or six alone:
# `U+0075c` is "u" and "c"). A
# text holding some is read once more with them decoded in place (`references=True`), so a key
# with one letter written `&#80;`, `%50` or `\x50`, or its "_" as `&lowbar;`, is read as the key,
# and "Ign&#111;r&#101; &#97;ll pr&#101;v&#105;&#111;&#117;s instructions" as the instruction.
# Escapes escaped once more (`%256F`, `&amp;#111;`) are read by a second pass (`shown_text`).
REFERENCE = re.compile(r"&#(?:[0-9]+|[xX][0-9A-Fa-f]+);?|&[A-Za-z][A-Za-z0-9]{1,31};"
                       r"|%u[0-9A-Fa-f]{4}|U\+(?:10|[1-9A-Fa-f])[0-9A-Fa-f]{4}(?![0-9A-Fa-f])|U\+[0-9A-Fa-f]{4}"
                       r"|%[0-7][0-9A-Fa-f]|(?:%[89A-Fa-f][0-9A-Fa-f])+"
                       r"|\\x[0-7][0-9A-Fa-f]|(?:\\x[89A-Fa-f][0-9A-Fa-f])+"
                       r"|\\[0-3][0-7]{2}|\\u\{[0-9A-Fa-f]{1,6}\}"
                       r"|&(?:shy|nbsp|amp|lt|gt|quot)")
# And markup a renderer shows as nothing, or as the character it escapes, read in the same pass:
# a Markdown chat UI shows `ghp\_aB3d...` (an escaped underscore), `AKIAQZ7XW3**JD5R6TLM2P**` (half
# in bold), `4111 1111<b></b> 1111 1111` and `Ign<!---->ore` as the intact value or word, a
# terminal an AWS key id with a colour reset (`\x1b[0m`) inside as the key id.
# - HTML: comments (`<!-- ... -->` of any length, read to its end by `shown_text`; `<!-->` and
#   `<!--->`, which end at once), bogus comments to the next ">" (`<!x>`, `<?x?>`,
#   `<![CDATA[]]>`), tags of any name (`<a_b>`, `<x:y>`) whose quoted attribute values may hold
#   ">"; one that breaks a line (`<br>`, `<p>`, `<section>`, ...) reads as a line break, any other
#   as nothing. An element a browser does not show reads as nothing with what it holds: `<style>`,
#   `<script>`, `<template>`, `<noscript>` and one with a `hidden` attribute (up to 256 characters
#   each). The legacy references a browser reads without their ";" (`&shy`, ...) are in `REFERENCE`.
# - Markdown: a backslash before ASCII punctuation (the punctuation), a link (its text:
#   `[AKIA...](url)JD5R...`, `[](url)`; also one a text ends inside the address of, `[JD5R...](`,
#   which a streaming Markdown UI shows as its text, and a stream's end may leave so),
#   emphasis, code and strike-through markers inside a word (`*`, `` ` ``, `~`) paired as
#   CommonMark pairs them: a run with the same run after it on its line (64 characters at most)
#   opens, that run closes (`4111*1111*1111*1111` shows its last
#   `*`); not `_`, which CommonMark shows as written inside a word, and keys are written with.
# - A terminal: ANSI control sequences (CSI, also as the 8-bit U+009B, OSC, a charset designation
#   `\x1b(B`) and a character the next overwrites (after a backspace or a cursor step back).
# Each but a comment is bounded in length, and a comment is read to the next "-->" found once,
# so a reading stays linear.
# A comment or tag after a space or tab takes the spaces and tabs after it too: HTML shows a run
# of them as one ("4111 1111 <!-- --> 1111 1111" as a card's groups).
_QUOTED = r"(?:\"[^\"]{0,1024}\"|'[^']{0,1024}')"
_HIDDEN = (r"(?i:<(?P<raw>style|script|template|noscript)(?:\s[^<>]{0,256})?>.{0,256}?</(?P=raw)\s*>)"
           r"|<(?P<hid>[A-Za-z][A-Za-z0-9]{0,31})\s(?:[^<>]{0,256}\s)?hidden(?:=\S{0,32})?(?:\s[^<>]{0,256})?>"
           r"[^<]{0,256}</(?P=hid)\s*>")
_HTML = (rf"{_HIDDEN}|<!--(?:-?>|.{{0,256}}?-->)?|<[!?][^>]{{0,256}}>"
         rf"|</?[A-Za-z][^\s/<>]{{0,31}}(?:\s[^<>\"']{{0,256}}(?:{_QUOTED}[^<>\"']{{0,256}}){{0,8}})?/?>")
MARKUP = (rf"(?P<spaced>(?<=[ \t]))?(?:{_HTML})(?(spaced)[ \t]*)"
          r"|\\[!-/:-@\[-`{-~]|\[[^\[\]\n]{0,256}\]\([^()\s]{0,256}(?:\)|\Z)"
          r"|(?<=[^\W_])(?P<em>[*`~]{1,3})(?=[^\W_])(?=[^\n]{0,64}?(?<=[^\W_])(?P=em))"
          r"|[^\n\x08\x1b](?:\x08|\x1b\[1?D)"
          r"|(?:\x1b\[|\x9b)[0-?]{0,32}[ -/]{0,8}[@-~]|\x1b[ -/]{1,8}[0-~]"
          r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,256}(?:\x07|\x1b\\|\x9c)")
SHOWN = re.compile(f"{REFERENCE.pattern}|{MARKUP}", re.DOTALL)
_LINE_BREAKING = frozenset("br p div li ul ol tr td th table h1 h2 h3 h4 h5 h6 hr blockquote pre "
                           "section article aside header footer nav main address figure figcaption "
                           "dl dt dd option form fieldset details summary caption".split())
_HIDDEN_ELEMENT = re.compile(_HIDDEN, re.DOTALL)
_TAG_NAME = re.compile(r"</?([^\s/<>]+)")
_MARKS = frozenset("&%\\<*`~\x1b+[\x08\x9b\x9d")
# What every match of `SHOWN` holds, looked for quickly: most texts have none (SHOWN, which may
# begin at any character, took 11 µs over 300 characters of code with a "+" in it)
_MAY_SHOW = re.compile(r"&[#A-Za-z]|%[0-9A-Fa-fu]|U\+|[\\<\[*`~\x08\x1b\x9b\x9d]")
_COMMENT_OPEN = "<!--"
_OVERWRITTEN = ("\x08", "\x1b[D", "\x1b[1D")  # after a character: the next one is written over it


# Markup a text ends inside of, still being written: a comment or a tag not yet closed, or a
# terminal's control sequence not yet ended (a CSI before its final byte, an OSC before its BEL or
# ST: a window title or a link's parameters may hold spaces).
_OPEN_MARKUP = re.compile(r"<(?:!(?:-(?:-(?:(?!-->).){0,256})?)?"
                          r"|/?(?:[A-Za-z][A-Za-z0-9-]{0,31}(?:\s[^<>]{0,256})?)?)\Z"
                          r"|\x1b(?:\[[0-?]{0,32}[ -/]{0,8}|\][^\x07\x1b]{0,256}\x1b?)?\Z", re.DOTALL)
_OPEN_REACH = 300  # what `open_markup` looks back over: the longest comment, tag or OSC SHOWN reads
# A tag still open past this many characters from its "<" stays open only with an attribute given
# a value (`<span title="a b c ...`): prose and code write "<" before a letter and words after it
# ("if x <y and y is positive ..."), which had held a stream 1.3 s, not its 0.25 s, until 256
# more characters or a "<" or ">" came.
OPEN_TAG_CHARS = 64
_ATTRIBUTE = re.compile(r"\s[A-Za-z_:][-\w:.]*=")


def open_markup(text: str) -> int:
    """Where a comment, a tag or a terminal's control sequence that `text` ends inside of begins
    (`len(text)` when none): a stream holds the word before it with it, since what it hides may
    join that word to the next (`ghp_aB3d<!-- ` and then `-->eF5g...`). A tag past
    OPEN_TAG_CHARS without an attribute's value is taken for prose."""
    lo = max(0, len(text) - _OPEN_REACH)
    starts = sorted({text.rfind(opening, lo) for opening in ("<!--", "<", "\x1b]", "\x1b[", "\x1b")}
                    - {-1})
    return next((at for at in starts if _OPEN_MARKUP.match(text, at) and _open(text, at)), len(text))


def _open(text: str, at: int) -> bool:
    """Whether the open markup `text` ends in from `at` (`_OPEN_MARKUP`) counts (OPEN_TAG_CHARS)."""
    return len(text) - at <= OPEN_TAG_CHARS or text.startswith(("<!", "\x1b"), at) \
        or _ATTRIBUTE.search(text, at) is not None


# Markup a text ends inside of that the shown reading reads as one, however much of it has come:
# a comment (of any length, looked for apart), an element a browser does not show, a tag (its
# quoted values up to 1,024 characters each), a bogus comment, an OSC, a CSI, a Markdown link
# (its text shown, its address not) and a numeric reference padded with zeros. The `hidden*`
# groups: what it hides, which a reading after it may leave out (`held_open`).
_HELD_OPEN = re.compile("|".join((
    r"(?i:<(?:style|script|template|noscript)(?:\s[^<>]{0,256})?>)(?P<hidden1>.{0,256})\Z",
    r"<[A-Za-z][A-Za-z0-9]{0,31}\s(?:[^<>]{0,256}\s)?hidden(?:=\S{0,32})?(?:\s[^<>]{0,256})?>"
    r"(?P<hidden2>[^<]{0,256})\Z",
    rf"</?[A-Za-z][^\s/<>]{{0,31}}(?:\s[^<>\"']{{0,256}}(?:{_QUOTED}[^<>\"']{{0,256}}){{0,8}}"
    r"(?:\"(?P<hidden3>[^\"]{0,1024})|'(?P<hidden4>[^']{0,1024}))?)?\Z",
    r"<[!?](?P<hidden5>[^>]{0,256})\Z",
    r"(?:\x1b\]|\x9d)(?P<hidden6>[^\x07\x1b\x9c]{0,256})\x1b?\Z",
    r"(?:\x1b\[|\x9b)[0-?]{0,32}[ -/]{0,8}\Z|\x1b\Z",
    r"\[[^\[\]\n]{0,256}(?:\]\((?P<hidden7>[^()\s]{0,256}))?\Z",
    r"&#[xX]?(?P<hidden8>0*)[0-9A-Fa-f]*\Z",
)), re.DOTALL)
_HIDDEN_GROUPS = tuple(f"hidden{n}" for n in range(1, 9))
# How far back a construct `held_open` reads may begin: a tag with eight quoted values and the
# text between them
_HELD_REACH = 12_000


def held_open(text: str) -> tuple[int, str] | None:
    """Where the markup `text` ends inside of begins (`_HELD_OPEN`), and its text so far as a
    reading after it needs it: what it hides left out (a comment's text, a quoted value's, an
    OSC's, a link's address, a hidden element's content, a reference's padding zeros), so a
    stream's window starting inside it is read after that (`Channel.lead`) and joined to the
    word before it, however long it is. None when `text` ends in none."""
    comment = text.rfind(_COMMENT_OPEN)
    if comment != -1 and "-->" not in text[comment + 4:] \
            and not text.startswith(("<!-->", "<!--->"), comment):
        return comment, _COMMENT_OPEN
    m = _HELD_OPEN.search(text, max(0, len(text) - _HELD_REACH))
    if m is None:
        return None
    hidden = next((m.span(g) for g in _HIDDEN_GROUPS if m.group(g) is not None), None)
    at = m.start()
    return (at, text[at:]) if hidden is None else (at, text[at:hidden[0]] + text[hidden[1]:])


def has_references(text: str) -> bool:
    """Whether `text` holds an HTML character reference, a percent-escape, a program text's escape
    or markup (`SHOWN`): what `references_decoded` may read otherwise."""
    return may_show(text) and SHOWN.search(text) is not None


def may_show(text: str) -> bool:
    """Whether `text` may hold what `has_references` looks for: False for every part of it too
    (what this looks for is a character or two, wherever they stand)."""
    return _MAY_SHOW.search(text) is not None


def json_escape(escape: str) -> str:
    """What one match of `JSON_ESCAPE` stands for."""
    if len(escape) == 12:  # a surrogate pair
        high, low = int(escape[2:6], 16), int(escape[8:], 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return _SHORT_ESCAPES[escape[1]] if len(escape) == 2 else chr(int(escape[2:], 16))


def shown(escape: str) -> str:
    """What one match of `SHOWN` shows as: a reference's character (`reference`), a line break
    for a tag that breaks a line, the punctuation a backslash escapes, or nothing."""
    first = escape[0]
    if first == "<":
        if _HIDDEN_ELEMENT.match(escape):
            return ""
        tag = _TAG_NAME.match(escape)
        return "\n" if tag is not None and tag.group(1).lower() in _LINE_BREAKING else ""
    if first == "[":  # a Markdown link: its text
        return escape[1:escape.index("]")]
    if first in "*`~\x1b\x9b\x9d" or escape[1:] in _OVERWRITTEN:
        return ""
    if first == "\\" and len(escape) == 2:
        return escape[1]
    return reference(escape)


def _shown(escape: str) -> str:
    """`shown`, remembered for a short escape: a run of references repeats a few, and a stream
    re-reads its run, up to 8,192 characters, at each check."""
    return _shown_short(escape) if len(escape) <= _SHORT_ESCAPE else shown(escape)


_SHORT_ESCAPE = 16  # `&#x1F600;`, `%F0%9F%98%80`; a reference may have any number of zeros
_shown_short = functools.lru_cache(maxsize=4096)(shown)


def reference(reference: str) -> str:
    """What one match of `REFERENCE` stands for (itself when it decodes to nothing)."""
    if reference[:2] in ("%u", "U+"):  # a code point: `%uNNNN` or `U+NNNN`
        code = int(reference[2:], 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else reference
    if reference[0] == "%" or reference[:2] == "\\x":  # bytes: `%NN` or `\xNN`
        try:
            return bytes.fromhex(reference.replace("%", "").replace("\\x", "")).decode("utf-8")
        except UnicodeDecodeError:
            return reference
    if reference[0] == "\\":
        code = int(reference[3:-1], 16) if reference[1] == "u" else int(reference[1:], 8)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else reference
    if reference[1] == "#":
        return _numeric_reference(reference)
    return html5.get(reference[1:], reference)


def _numeric_reference(reference: str) -> str:
    """A numeric reference's character, its leading zeros dropped first: past any code point's
    digits it stays as written (`int` refuses more than 4,300 digits, and a classifier raising
    on a text fails open)."""
    hexadecimal = reference[2] in "xX"
    digits = reference[3 if hexadecimal else 2:].rstrip(";").lstrip("0") or "0"
    if len(digits) > (6 if hexadecimal else 7):
        return reference
    return html.unescape(f"&#{'x' if hexadecimal else ''}{digits};")


def unescaped(text: str, escape: re.Pattern[str],
              read: Callable[[str], str]) -> tuple[str, list[int], list[int]] | None:
    """`text` with each match of `escape` read as what `read` makes of it, and for each character
    where it starts and ends in `text`; None when it has none that reads otherwise."""
    return _rebuilt(text, [(*m.span(), plain, 0) for m in escape.finditer(text)
                           if (plain := read(m.group())) != m.group()])


# A span of a text read otherwise: (start, end, what it reads as, width), where each character
# read stands for the whole span (width 0: a reference's character, a link's text), or for
# `width` characters of it in turn (a run of escapes of one width, `%41%42`, read at once).
Found = tuple[int, int, str, int]


def _rebuilt(text: str, found: list[Found]) -> tuple[str, list[int], list[int]] | None:
    """`text` with each span of `found` replaced by its text, and for each character where it
    starts and ends in `text`; None when `found` is empty."""
    if not found:
        return None
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for a, b, plain, width in found:
        if a > pos:
            parts.append(text[pos:a])
            starts.extend(range(pos, a))
            ends.extend(range(pos + 1, a + 1))
        parts.append(plain)
        if width:
            starts.extend(range(a, b, width))
            ends.extend(range(a + width, b + 1, width))
        elif len(plain) == 1:  # most: a reference's character
            starts.append(a)
            ends.append(b)
        else:
            starts.extend([a] * len(plain))
            ends.extend([b] * len(plain))
        pos = b
    parts.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(parts), starts, ends


def shown_text(text: str) -> tuple[str, list[int], list[int]] | None:
    """`text` as shown (`SHOWN` read by `shown`), with where each character starts and ends in
    `text`; None when it has nothing that reads otherwise. An escape the first pass made, in part
    from what it decoded (`%256F` to `%6F`, `&amp;#111;` to `&#111;`), is decoded by a second
    one: a reader that decodes twice reads it so. Two passes at most."""
    first = _rebuilt(text, _shown_spans(text))
    if first is None:
        return None
    once, starts, ends = first
    if _MARKS.isdisjoint(once):
        return first
    made = [ends[i] - starts[i] > 1 for i in range(len(once))]  # what the first pass decoded
    again = _rebuilt(once, [(*m.span(), plain, 0) for m in REFERENCE.finditer(once)
                            if any(made[m.start():m.end()])
                            and (plain := reference(m.group())) != m.group()])
    if again is None:
        return first
    twice, starts2, ends2 = again
    return twice, [starts[i] for i in starts2], [ends[i - 1] for i in ends2]


def _shown_spans(text: str) -> list[Found]:
    """Each match of `SHOWN` in `text` that shows otherwise, with what it shows: a comment read to
    its "-->" however far (each "-->" looked for once; an unclosed "<!--" stays as written), and
    an emphasis run that opens with the run that closes it."""
    found: list[Found] = []
    close = -2  # the "-->" after the last comment's "<!--" (-1: none; -2: not looked for)
    closer: tuple[int, int] | None = None  # the run closing the last emphasis opened
    pos = 0
    while (m := SHOWN.search(text, pos if closer else _references(text, pos, found))) is not None:
        a, b = m.span()
        if closer is not None and a >= closer[0]:
            found.append((*closer, "", 0))
            pos, closer = closer[1], None
            continue
        if closer is not None and b > closer[0]:  # crosses the closer: that is not one
            closer = None
        escape = m.group()
        if escape.rstrip(" \t") == _COMMENT_OPEN:  # a comment longer than SHOWN reads
            if close == -2 or 0 <= close < a + 4:  # not looked for past this "<!--"
                close = text.find("-->", a + 4)
            if close == -1:
                pos = a + 4
                continue
            b = close + 3
            if a and text[a - 1] in " \t":
                while b < len(text) and text[b] in " \t":
                    b += 1
            escape = text[a:b]
        elif (run := m.group("em")) is not None:
            end = _closer(run).match(text, b)
            if end is not None:
                closer = (end.end() - len(run), end.end())
        if (plain := _shown(escape)) != escape:
            found.append((a, b, plain, 0))
        pos = b
    if closer is not None:
        found.append((*closer, "", 0))
    return found


def _references(text: str, pos: int, found: list[Found]) -> int:
    """Read the run of references, percent-escapes and program text's escapes at `pos` into
    `found`; where it ends. A reference where the last match ended is what SHOWN finds next (its
    alternatives come first): a run of them (which a stream re-reads, up to 8,192 characters, at
    each check) is read without the markup's cases, and a run of ASCII bytes written `%NN` or
    `\\xNN` (each one match of `REFERENCE`, the character of its byte) at once."""
    while True:
        if (run := _ASCII_BYTES.match(text, pos)) is not None:
            width, escape = (3, "%") if text[pos] == "%" else (4, "\\x")
            found.append((pos, run.end(), bytes.fromhex(run.group().replace(escape, "")).decode(), width))
            pos = run.end()
        elif (r := REFERENCE.match(text, pos)) is not None:
            escape = r.group()
            if (plain := _shown(escape)) != escape:
                found.append((pos, r.end(), plain, 0))
            pos = r.end()
        else:
            return pos


_ASCII_BYTES = re.compile(r"(?:%[0-7][0-9A-Fa-f])+|(?:\\x[0-7][0-9A-Fa-f])+")


@functools.cache
def _closer(run: str) -> re.Pattern[str]:
    """Where the run of emphasis markers closing `run` ends, from just after `run`."""
    return re.compile(rf"[^\n]{{0,64}}?(?<=[^\W_]){re.escape(run)}")


def references_decoded(text: str) -> tuple[str, list[int]] | None:
    """`text` as shown: its references and escapes decoded in place and its markup read as a
    renderer shows it (`SHOWN`, `shown_text`), and where each of its characters starts in `text`;
    None when it has none that reads otherwise."""
    if not has_references(text):
        return None
    decoded = shown_text(text)
    return None if decoded is None else decoded[:2]
