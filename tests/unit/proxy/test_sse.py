"""The SSE parser on the line endings and openings the specification allows, and which data it
calls unreadable (JSON to a lenient client, not to guard)."""

from __future__ import annotations

import pytest

from guard.proxy.sse import SSEParser, parse_event


def events_of(*reads: bytes) -> list[tuple[bytes, str | None]]:
    parser = SSEParser()
    found = [e for r in reads for e in parser.feed(r)]
    tail = parser.close()
    return [(e.raw, e.data) for e in [*found, *([tail] if tail else [])]]


@pytest.mark.parametrize("blank", [b"\n\n", b"\r\r", b"\r\n\r\n", b"\n\r\n", b"\r\n\r", b"\n\r",
                                   b"\r\r\n", b"\r\n\n"])
def test_any_blank_line_ends_an_event(blank: bytes) -> None:
    """A line ending (CRLF, LF or CR) right after another, in any mix, ends an event."""
    raw = b'data: {"a": 1}' + blank + b'data: {"b": 2}' + blank
    assert events_of(raw) == [(b'data: {"a": 1}' + blank, '{"a": 1}'),
                              (b'data: {"b": 2}' + blank, '{"b": 2}')]


def test_a_crlf_is_one_line_ending_even_split_across_reads() -> None:
    """`data: x` CR | LF `data: y` is one event of two lines, not two events; a CR ending a read
    waits for the next byte before it counts as a blank line."""
    assert events_of(b"data: x\r", b"\ndata: y\r\n\r\n") == [(b"data: x\r\ndata: y\r\n\r\n", "x\ny")]
    assert events_of(b"data: x\r\n\r", b"\ndata: y\n\n") == [(b"data: x\r\n\r\n", "x"),
                                                            (b"data: y\n\n", "y")]


def test_a_byte_order_mark_opening_the_stream_is_skipped() -> None:
    assert events_of(b"\xef\xbb", b"\xbfdata: 1\n\n") == [(b"data: 1\n\n", "1")]
    assert events_of(b"data: \xef\xbb\xbf\n\n")[0][1] == "\ufeff"  # only at the very start


@pytest.mark.parametrize(("data", "unreadable"), [
    (b'{"a": NaN}', True),                      # Python's json reads NaN; orjson does not
    (b'{"a": "\\ud800 x"}', True),              # a lone surrogate
    (b'{"a": 100000000000000000000000000}', False),  # orjson reads it, as a float
    (b'{"a": 1}', False),
    (b"{not json", False),                      # no client reads it either
    (b"[DONE]", False),
    (b"", False),
    (b'[{"type": "response.output_text.delta", "delta": "x"}]', True),  # read item by item
    (b'"text"', True),
    (b"null", False),                           # no text in it: what a client does with it
    (b"12", False),                             # cannot leak anything
    (b"[]", False),
    (b'{"a": ' * 1100 + b'"x"' + b"}" * 1100, True),  # deeper than json reads: it raised
])
def test_unreadable_is_json_only_a_lenient_client_reads(data: bytes, unreadable: bool) -> None:
    assert parse_event(b"data: " + data + b"\n\n").unreadable is unreadable


def test_data_that_begins_with_done_ends_the_stream() -> None:
    """The openai SDK stops at data beginning with [DONE] ("[DONE] " too): so does guard, which
    would otherwise pass it on ahead of held text."""
    assert parse_event(b"data: [DONE] \n\n").done
    assert parse_event(b"data: [DONE]\n\n").done
    assert not parse_event(b'data: {"x": "[DONE]"}\n\n').done


@pytest.mark.parametrize(("raw", "bare"), [
    (b": ghp_secret\r\n\r\n", b":\n\n"),  # a keep-alive: still one, emptied
    (b"id: ghp_secret\nretry: 10\n\n", b":\n\n"),
    (b": a note\nevent: message\ndata: {\"a\":\ndata: 1}\r\n\r\n",
     b"event: message\ndata: {\"a\":\ndata: 1}\n\n"),
])
def test_bare_keeps_only_an_events_name_and_data(raw: bytes, bare: bytes) -> None:
    """What a guarded stream sends of an event: its `event:` and `data:` lines; a comment, an
    `id:` or `retry:` line, which a client reading the bytes reads, goes."""
    event = parse_event(raw)
    assert event.extra and event.bare().raw == bare and event.bare().data == event.data
    plain = parse_event(b"event: message\ndata: {}\n\n")
    assert not plain.extra and plain.bare() is plain
