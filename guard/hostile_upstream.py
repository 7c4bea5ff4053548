"""A stand-in upstream that misbehaves on purpose, for hardening tests and the fuzz harness.

It speaks HTTP/1.1 by hand on raw sockets, so it can break the protocol in ways a web framework
would not let it: wrong Content-Length, half events, invalid UTF-8, connection resets. Each
request picks a behaviour with the `X-Hostile` header (guard forwards it end to end), else the
server's default (`--mode`). Tuning headers: `X-Hostile-Bytes` (size of huge things, default
4 MiB), `X-Hostile-Delay-Ms` (pause between drips, default 50), `X-Hostile-Reply` (the text of
the `ok` answer, percent-encoded), `X-Hostile-Status` and `X-Hostile-Headers` (its status and
more header lines).

Behaviours (MODES): ok, garbage-sse, half-event, huge-line, huge-body, invalid-utf8, not-json,
json-array, endless, endless-body, drip, drip-json, short-length, long-length, reset,
reset-midstream, silent, weird-stream, weird-json, comment-flood, mixed-endings, lenient-json,
undecodable, compressed, mislabelled, stray, switching, scripted, status:CODE.

`GET /_hostile/stats` answers {"open": connections open now, "served": requests answered,
"aborted": answers the peer broke off}: tests check that guard lets go of a stream it abandoned.

Run it as `python -m guard.hostile_upstream --port 8001 [--mode ok]`, or in process:
`async with HostileUpstream() as upstream: ... upstream.url`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import itertools
import json
import os
import socket
import struct
import time
import urllib.parse
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_HEAD = 64 * 1024
DEFAULT_BYTES = 4 << 20
DEFAULT_DELAY_MS = 50


@dataclass
class Request:
    """One parsed request: method, path, lower-cased headers and the body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; {} when it is anything else."""
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    def number(self, name: str, default: int) -> int:
        value = self.headers.get(name, "")
        return int(value) if value.isdigit() else default


@dataclass
class Stats:
    """What the server has seen; read by tests through `/_hostile/stats`."""

    open: int = 0
    served: int = 0
    aborted: int = 0
    modes: dict[str, int] = field(default_factory=dict)


class Conn:
    """One client connection: write helpers that know how to misbehave."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.chunked = False

    async def send(self, data: bytes) -> None:
        """Body bytes (framed as one chunk after a chunked head)."""
        if self.chunked:
            data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int = 200, content_type: str = "application/json",
                   length: int | None = None, close: bool = True, chunked: bool = False,
                   extra: tuple[str, ...] = ()) -> None:
        """The status line and headers (`extra`: more header lines); without `length` nor
        `chunked` the body runs until the connection closes."""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}",
                 f"Content-Type: {content_type}", *extra]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        if close:
            lines.append("Connection: close")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        self.chunked = chunked

    async def whole(self, body: bytes, status: int = 200, content_type: str = "application/json",
                    close: bool = False, extra: tuple[str, ...] = ()) -> None:
        await self.head(status, content_type, len(body), close, extra=extra)
        await self.send(body)

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), not a FIN: the peer sees ECONNRESET."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


_REASONS = {101: "Switching Protocols", 200: "OK", 400: "Bad Request", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable"}

# A behaviour answers one request; True keeps the connection open for the next one.
Behaviour = Callable[[Request, Conn], Awaitable[bool]]


def _chat(request: Request) -> bool:
    return request.path.startswith("/v1/chat/")


def _reply(request: Request) -> str:
    given = request.headers.get("x-hostile-reply")
    return urllib.parse.unquote(given) if given is not None else "A plain, harmless answer."


def completion(request: Request, text: str) -> dict[str, Any]:
    """A whole, well-formed completion of `text` in the request's dialect."""
    choice: dict[str, Any] = (
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
         "logprobs": None} if _chat(request)
        else {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None})
    return {"id": "hostile-1", "object": "chat.completion" if _chat(request) else
            "text_completion", "created": int(time.time()), "model": "hostile",
            "choices": [choice]}


def chunk(request: Request, text: str | None, finish: str | None = None) -> bytes:
    """One well-formed SSE chunk event in the request's dialect."""
    if _chat(request):
        choice: dict[str, Any] = {"index": 0, "delta": {} if text is None else {"content": text},
                                  "finish_reason": finish, "logprobs": None}
    else:
        choice = {"index": 0, "text": text or "", "finish_reason": finish, "logprobs": None}
    payload = {"id": "hostile-1", "object": "chat.completion.chunk", "created": 0,
               "model": "hostile", "choices": [choice]}
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def stream_of(request: Request, text: str, size: int = 8) -> bytes:
    pieces = [text[i:i + size] for i in range(0, len(text), size)]
    return (b"".join(chunk(request, p) for p in pieces) + chunk(request, None, "stop")
            + b"data: [DONE]\n\n")


async def ok(request: Request, conn: Conn) -> bool:
    """Well behaved: a completion (streamed when asked) of `X-Hostile-Reply`, keep-alive, with
    the status `X-Hostile-Status` (default 200) and the header lines `X-Hostile-Headers`
    (percent-encoded, separated by `|`)."""
    text, code = _reply(request), request.number("x-hostile-status", 200)
    lines = urllib.parse.unquote(request.headers.get("x-hostile-headers", ""))
    extra = tuple(line for line in lines.split("|") if line)
    if code == 304:  # Not Modified carries no content (RFC 9110 §15.4.5)
        await conn.whole(b"", status=code, extra=extra)
    elif request.json().get("stream") is True:
        await conn.whole(stream_of(request, text), status=code, content_type="text/event-stream",
                         extra=extra)
    else:
        await conn.whole(orjson.dumps(completion(request, text)), status=code, extra=extra)
    return True


async def stray(request: Request, conn: Conn) -> bool:
    """The `ok` answer, then, `X-Hostile-Delay-Ms` later, a second one nobody asked for (a 500
    naming `X-Hostile-Reply`) on the connection kept open: a framework writing a late error after
    its handler answered."""
    await ok(request, conn)
    await asyncio.sleep(request.number("x-hostile-delay-ms", DEFAULT_DELAY_MS) / 1000)
    await status(request, conn, 500, f"an answer nobody asked for, after {_reply(request)}")
    return True


async def switching(request: Request, conn: Conn) -> bool:
    """101 Switching Protocols, which nobody asked for, then a completion of `X-Hostile-Reply`
    in whatever the new protocol is; the connection stays open until the peer closes it."""
    await conn.head(101, close=False, extra=("Upgrade: websocket", "Connection: Upgrade"))
    await conn.send(orjson.dumps(completion(request, _reply(request))))
    while await conn.reader.read(65536):
        pass
    return False


async def scripted(request: Request, conn: Conn) -> bool:
    """The answer the request scripts in `X-Hostile-Events` (percent-encoded JSON): a list of
    event objects sent as a stream, each with an `event:` line naming its `type` (as the
    Responses API streams), or one object sent whole as the answer's body; or, given in
    `X-Hostile-Body`, those exact bytes as a whole JSON answer (a key given twice), or as a
    stream when `X-Hostile-Type: text/event-stream` says so."""
    exact = request.headers.get("x-hostile-body")
    if exact is not None:
        await conn.whole(urllib.parse.unquote_to_bytes(exact), content_type=request.headers.get(
            "x-hostile-type", "application/json"))
        return True
    script = json.loads(urllib.parse.unquote(request.headers.get("x-hostile-events", "[]")))
    if isinstance(script, list):
        await conn.whole(b"".join(
            b"event: " + str(event.get("type")).encode() + b"\ndata: " + orjson.dumps(event)
            + b"\n\n" for event in script), content_type="text/event-stream")
    else:
        await conn.whole(orjson.dumps(script))
    return True


async def mislabelled(request: Request, conn: Conn) -> bool:
    """A whole JSON answer of `X-Hostile-Reply`, labelled `text/event-stream`."""
    await conn.whole(orjson.dumps(completion(request, _reply(request))),
                     content_type="text/event-stream")
    return True


async def undecodable(request: Request, conn: Conn) -> bool:
    """A whole answer in a content encoding nobody asked for and guard cannot decode (brotli)."""
    body = b"\x0b\x02\x80not really brotli"
    await conn.head(length=len(body), close=True, extra=("Content-Encoding: br",))
    await conn.send(body)
    return False


async def compressed(request: Request, conn: Conn) -> bool:
    """A completion of `X-Hostile-Reply` and `X-Hostile-Bytes` more letters (default none),
    compressed with `X-Hostile-Encoding` (gzip, the default, or deflate), with the status
    `X-Hostile-Status` and an honest Content-Length: a few hundred KiB on the wire that decode
    to tens of megabytes."""
    text = _reply(request) + "B" * request.number("x-hostile-bytes", 0)
    body = orjson.dumps(completion(request, text))
    encoding = request.headers.get("x-hostile-encoding", "gzip")
    # the fastest level: 64 MiB packed at level 9 took 0.37 s (65 KiB), at 1 0.12 s (290 KiB),
    # and a loaded CI run's guard, waiting 1 s for the answer, timed out before it came
    packed = zlib.compress(body, 1) if encoding == "deflate" else gzip.compress(body, 1)
    await conn.whole(packed, status=request.number("x-hostile-status", 200),
                     extra=(f"Content-Encoding: {encoding}",))
    return True


async def mixed_endings(request: Request, conn: Conn) -> bool:
    """A stream of `X-Hostile-Reply` whose events end with every blank line SSE allows, mixed:
    LF then CRLF, CRLF then CR, LF then CR, CR then CRLF, and the common ones."""
    endings = itertools.cycle([b"\n\r\n", b"\r\n\r", b"\n\r", b"\r\r\n", b"\r\n\r\n", b"\n\n"])
    events = stream_of(request, _reply(request), size=5).split(b"\n\n")[:-1]
    await conn.whole(b"".join(e + next(endings) for e in events), content_type="text/event-stream")
    return True


async def lenient_json(request: Request, conn: Conn) -> bool:
    """A stream whose second chunk carries `X-Hostile-Reply` in JSON that only a lenient parser
    reads (Python's json module, as the openai SDK uses): a NaN beside the text."""
    await conn.head(content_type="text/event-stream")
    await conn.send(chunk(request, "a safe start "))
    text = orjson.dumps(_reply(request)).decode()
    key = '"delta": {"content": ' if _chat(request) else '"text": '
    close = "}" if _chat(request) else ""
    await conn.send(f'data: {{"choices": [{{"index": 0, {key}{text}{close}, "logprobs": NaN}}]}}'
                    "\n\n".encode())
    await conn.send(chunk(request, None, "stop") + b"data: [DONE]\n\n")
    return False


async def garbage_sse(request: Request, conn: Conn) -> bool:
    """Random bytes, lines without fields, events with broken JSON, then the end."""
    await conn.head(content_type="text/event-stream")
    await conn.send(chunk(request, "before the garbage "))
    await conn.send(os.urandom(2048) + b"\n\n")
    await conn.send(b"no colon here\n: a comment\nretry: x\nid: 7\n\n")
    await conn.send(b'data: {"choices": [{"delta": {"content": \n\n')
    await conn.send(b"event: error\ndata: null\n\n" + b"data: 12\n\n" + b"data: []\n\n")
    await conn.send(chunk(request, "after the garbage"))
    return False


async def half_event(request: Request, conn: Conn) -> bool:
    """Good events, then half an event, then the connection closes."""
    await conn.head(content_type="text/event-stream")
    await conn.send(chunk(request, "the first half ") + b'data: {"id": "x", "choi')
    return False


async def huge_line(request: Request, conn: Conn) -> bool:
    """One SSE data line of `X-Hostile-Bytes` bytes that never ends."""
    await conn.head(content_type="text/event-stream")
    await conn.send(chunk(request, "soon a huge line "))
    await conn.send(b"data: ")
    block = b"A" * 65536
    for _ in range(request.number("x-hostile-bytes", DEFAULT_BYTES) // len(block)):
        await conn.send(block)
    await conn.send(b"\n\n")
    return False


async def huge_body(request: Request, conn: Conn) -> bool:
    """A 200 JSON answer of `X-Hostile-Bytes` bytes, with an honest Content-Length."""
    size = request.number("x-hostile-bytes", DEFAULT_BYTES)
    prefix, suffix = b'{"choices": [{"index": 0, "text": "', b'"}]}'
    await conn.head(length=len(prefix) + size + len(suffix))
    await conn.send(prefix)
    block = b"B" * 65536
    left = size
    while left > 0:
        await conn.send(block[:left])
        left -= len(block)
    await conn.send(suffix)
    return False


async def invalid_utf8(request: Request, conn: Conn) -> bool:
    """Bytes that are not UTF-8 inside the text, streamed or whole."""
    bad = b"caf\xc3 \xff\xfe broken \xed\xa0\x80 surrogate \xf4\x90\x80\x80 end"
    if request.json().get("stream") is True:
        await conn.head(content_type="text/event-stream")
        event = b'data: {"choices": [{"index": 0, "delta": {"content": "' + bad + b'"}}]}\n\n'
        await conn.send(event + b"data: \xff\xff\n\n" + chunk(request, None, "stop")
                        + b"data: [DONE]\n\n")
    else:
        await conn.whole(b'{"choices": [{"index": 0, "message": {"content": "' + bad + b'"}}]}',
                         close=True)
    return False


async def not_json(request: Request, conn: Conn) -> bool:
    """200 with an HTML page where JSON should be."""
    await conn.whole(b"<html><body>502 from some load balancer</body></html>",
                     content_type="application/json", close=True)
    return False


async def json_array(request: Request, conn: Conn) -> bool:
    """200 with JSON that is not an object."""
    await conn.whole(b"[1, 2, 3]", close=True)
    return False


async def endless(request: Request, conn: Conn) -> bool:
    """A stream of well-formed chunks that never ends (until the peer goes away)."""
    await conn.head(content_type="text/event-stream", chunked=True)
    for count in itertools.count():
        await conn.send(chunk(request, f"word{count} "))
        if count % 64 == 0:
            await asyncio.sleep(0.001)
    return False


async def endless_body(request: Request, conn: Conn) -> bool:
    """A 200 JSON answer without Content-Length whose body never ends."""
    await conn.head()
    await conn.send(b'{"choices": [{"index": 0, "text": "')
    block = b"C" * 65536
    while True:
        await conn.send(block)
        await asyncio.sleep(0)


async def drip(request: Request, conn: Conn) -> bool:
    """A short, valid stream sent one byte at a time, `X-Hostile-Delay-Ms` apart."""
    await conn.head(content_type="text/event-stream")
    delay = request.number("x-hostile-delay-ms", DEFAULT_DELAY_MS) / 1000
    for byte in stream_of(request, _reply(request)):
        await conn.send(bytes([byte]))
        await asyncio.sleep(delay)
    return False


async def drip_json(request: Request, conn: Conn) -> bool:
    """A whole JSON answer sent one byte at a time, `X-Hostile-Delay-Ms` apart."""
    body = orjson.dumps(completion(request, _reply(request)))
    await conn.head(length=len(body))
    delay = request.number("x-hostile-delay-ms", DEFAULT_DELAY_MS) / 1000
    for byte in body:
        await conn.send(bytes([byte]))
        await asyncio.sleep(delay)
    return False


async def short_length(request: Request, conn: Conn) -> bool:
    """Content-Length promises more than is sent, then the connection closes."""
    body = orjson.dumps(completion(request, _reply(request)))
    await conn.head(length=len(body) + 1000)
    await conn.send(body)
    return False


async def long_length(request: Request, conn: Conn) -> bool:
    """Content-Length promises less than is sent: the answer is cut, the rest is junk."""
    body = orjson.dumps(completion(request, _reply(request)))
    await conn.head(length=len(body) // 2, close=False)
    await conn.send(body + b"HTTP/1.1 200 OK\r\n\r\njunk")
    return False


async def reset(request: Request, conn: Conn) -> bool:
    """The connection is reset before any answer."""
    conn.reset()
    return False


async def reset_midstream(request: Request, conn: Conn) -> bool:
    """A few chunks of a stream (or half a JSON answer), then a reset."""
    if request.json().get("stream") is True:
        await conn.head(content_type="text/event-stream", chunked=True)
        await conn.send(chunk(request, "first ") + chunk(request, "second "))
    else:
        body = orjson.dumps(completion(request, _reply(request)))
        await conn.head(length=len(body))
        await conn.send(body[: len(body) // 2])
    await asyncio.sleep(0.05)
    conn.reset()
    return False


async def silent(request: Request, conn: Conn) -> bool:
    """Never answers; the connection stays open until the peer gives up."""
    while await conn.reader.read(65536):
        pass
    return False


# Chunks whose JSON is valid but whose shapes are not what any API sends.
WEIRD_CHUNKS: tuple[Any, ...] = (
    {"choices": [{"index": "zero", "delta": {"content": "string index "}}]},
    {"choices": [{"index": {"a": 1}, "delta": {"content": "object index "}}]},
    {"choices": [{"index": 1.5, "delta": {"content": "float index "}}]},
    {"choices": [{"index": -3, "delta": {"content": "negative index "}}]},
    {"choices": [{"index": False, "delta": {"content": "bool index "}}]},
    {"choices": [{"index": 10**30, "delta": {"content": "huge index "}}]},
    {"choices": [{"index": None, "delta": {"content": "null index "}}]},
    {"choices": "a string"},
    {"choices": [{"delta": "not an object"}, 7, None, []]},
    {"choices": [{"index": 0, "delta": {"tool_calls": 5}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": "abc"}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": "k", "function":
                                                       {"arguments": "{\"a\":"}}]}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": [], "function":
                                                       {"arguments": "1}"}}]}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": 3}}]}}]},
    {"choices": [{"index": 0, "text": 12, "finish_reason": 5}]},
    {"choices": [{"index": "1", "finish_reason": "stop"}]},
    {"choices": [{"index": 0, "delta": {"content": None}, "finish_reason": []}]},
    {"choices": [], "usage": {"prompt_tokens": "many"}},
    {"error": {"message": "upstream says no"}},
)


async def comment_flood(request: Request, conn: Conn) -> bool:
    """`X-Hostile-Bytes` of SSE keep-alive comments in one write, then a valid stream."""
    await conn.head(content_type="text/event-stream")
    comment = b": keep-alive\n\n"
    await conn.send(comment * (request.number("x-hostile-bytes", DEFAULT_BYTES) // len(comment)))
    await conn.send(stream_of(request, _reply(request)))
    return False


async def weird_stream(request: Request, conn: Conn) -> bool:
    """Valid SSE and valid JSON, but chunk shapes no API sends (odd indices, wrong types)."""
    await conn.head(content_type="text/event-stream")
    await conn.send(chunk(request, "normal start "))
    for payload in WEIRD_CHUNKS:
        await conn.send(b"data: " + json.dumps(payload).encode() + b"\n\n")
    await conn.send(chunk(request, None, "stop") + b"data: [DONE]\n\n")
    return False


async def weird_json(request: Request, conn: Conn) -> bool:
    """A whole answer with odd shapes in the choices."""
    body = {"choices": [{"index": "x", "message": {"content": "text", "tool_calls": 5}},
                        {"message": {"content": 7, "tool_calls": [{"function": "f"}]}}, 3, None,
                        {"message": "m"}, {"text": ["a"]}]}
    await conn.whole(orjson.dumps(body), close=True)
    return False


async def status(request: Request, conn: Conn, code: int, message: str = "") -> bool:
    await conn.whole(orjson.dumps({"error": {"message": message or f"hostile {code}",
                                             "type": "server_error", "param": None,
                                             "code": "hostile"}}), status=code)
    return True


MODES: dict[str, Behaviour] = {
    "ok": ok, "garbage-sse": garbage_sse, "half-event": half_event, "huge-line": huge_line,
    "huge-body": huge_body, "invalid-utf8": invalid_utf8, "not-json": not_json,
    "json-array": json_array, "endless": endless, "endless-body": endless_body, "drip": drip,
    "drip-json": drip_json, "short-length": short_length, "long-length": long_length,
    "reset": reset, "reset-midstream": reset_midstream, "silent": silent,
    "weird-stream": weird_stream, "weird-json": weird_json, "comment-flood": comment_flood,
    "mixed-endings": mixed_endings, "lenient-json": lenient_json, "undecodable": undecodable,
    "compressed": compressed, "mislabelled": mislabelled, "stray": stray,
    "switching": switching, "scripted": scripted,
}


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or None when the peer closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    try:
        body = await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return Request(method, path, headers, body)


class HostileServer:
    """The server: one behaviour per request, chosen by `X-Hostile` or `default_mode`."""

    def __init__(self, default_mode: str = "ok") -> None:
        if behaviour_of(default_mode) is None:
            raise ValueError(f"unknown mode {default_mode!r}; known: {', '.join(MODES)}")
        self.default_mode = default_mode
        self.stats = Stats()

    async def connection(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        self.stats.open += 1
        conn = Conn(reader, writer)
        try:
            while (request := await read_request(reader)) is not None:
                if not await self.answer(request, conn):
                    break
        except (ConnectionError, asyncio.CancelledError):
            self.stats.aborted += 1
        finally:
            self.stats.open -= 1
            writer.close()

    async def answer(self, request: Request, conn: Conn) -> bool:
        if request.path == "/_hostile/stats":
            stats = {"open": self.stats.open - 1, "served": self.stats.served,
                     "aborted": self.stats.aborted, "modes": self.stats.modes}
            await conn.whole(orjson.dumps(stats), close=True)
            return False
        mode = request.headers.get("x-hostile", self.default_mode)
        behaviour = behaviour_of(mode) or ok
        self.stats.modes[mode] = self.stats.modes.get(mode, 0) + 1
        self.stats.served += 1
        return await behaviour(request, conn)


def behaviour_of(mode: str) -> Behaviour | None:
    if mode.startswith("status:") and mode[7:].isdigit():
        code = int(mode[7:])
        return lambda request, conn: status(request, conn, code)
    return MODES.get(mode)


class HostileUpstream:
    """The server in process, on a free loopback port: `async with HostileUpstream() as u`."""

    def __init__(self, default_mode: str = "ok", port: int = 0) -> None:
        self.server = HostileServer(default_mode)
        self._port = port
        self._listener: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._listener is not None
        return int(self._listener.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> HostileUpstream:
        self._listener = await asyncio.start_server(self.server.connection, "127.0.0.1",
                                                    self._port, limit=MAX_HEAD)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._listener is not None
        self._listener.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await self._listener.wait_closed()


async def _run(host: str, port: int, mode: str) -> None:
    server = HostileServer(mode)
    listener = await asyncio.start_server(server.connection, host, port, limit=MAX_HEAD)
    async with listener:
        await listener.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m guard.hostile_upstream",
                                     description="An upstream that misbehaves on purpose.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--mode", default="ok", help=f"default behaviour: {', '.join(MODES)}, "
                        "or status:CODE")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args.host, args.port, args.mode))


if __name__ == "__main__":
    main()
