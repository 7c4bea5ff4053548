"""Request bodies read through their Content-Encoding, by guard rather than by aiohttp (whose
decoding the listeners turn off, `auto_decompress=False`: it refused `br` and `zstd` in plain
text before any handler ran). gzip and deflate are inflated a step at a time, so `max_body_bytes`
bounds the decoded size as it grows: a small body that would decode to gigabytes is refused
(413) once past the limit, never inflated whole. Any other coding, or more than one, is refused
(415) before the body is read."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import NoReturn

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDictProxy

from guard.errors import RequestError

# The codings guard decodes, by their names in Content-Encoding ("x-gzip": RFC 9110, 8.4.1.3).
DECODED = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
# How much is inflated at a time, between checks of the decoded size.
STEP_BYTES = 64 * 1024


def content_coding(headers: CIMultiDictProxy[str], accepted: Mapping[str, str]) -> str:
    """The coding of a request's body, `accepted`'s name for it ("identity" when none is
    named). Raises RequestError (415, `unsupported_content_encoding`) for any other, or a list:
    a body guard cannot read is not passed on unread."""
    if hdrs.CONTENT_ENCODING not in headers:  # most requests: at once
        return "identity"
    coding = ", ".join(listed(headers, hdrs.CONTENT_ENCODING)) or "identity"
    if coding == "identity":
        return coding
    if coding in accepted:
        return accepted[coding]
    decoded = list(dict.fromkeys(accepted.values()))
    named = ", ".join(headers.getall(hdrs.CONTENT_ENCODING))
    raise RequestError(
        f"Content-Encoding {named!r} is not one guard decodes; a body may be sent as "
        f"{', '.join([*decoded, 'identity'])} (not encoded), in one coding at most",
        status=415, code="unsupported_content_encoding",
        headers={"Accept-Encoding": ", ".join(decoded) or "identity"})


def listed(headers: CIMultiDictProxy[str], name: str) -> list[str]:
    """The codings a header names, on all its lines, folded; empty list elements are none (RFC
    9110, 5.6.1.2). Most requests name none: at once."""
    if name not in headers:
        return []
    return [c.strip().lower() for c in ",".join(headers.getall(name)).split(",") if c.strip()]


async def read_decoded(request: web.Request, limit: int) -> bytes:
    """The request's body, decoded from its Content-Encoding; larger than `limit` bytes as
    sent or decoded: 413 (aiohttp's HTTPRequestEntityTooLarge, as for a body not encoded)."""
    coding = content_coding(request.headers, DECODED)
    if hdrs.TRANSFER_ENCODING in request.headers:  # most requests name none
        check_transfer(request.headers)
    try:
        if coding == "identity":
            return await request.read()  # bounded by the app's client_max_size
        inflating = Inflating(coding, limit)
        async for chunk in request.content.iter_any():
            inflating.feed(chunk)
        return inflating.done()
    except RequestPayloadError as exc:  # the request's framing broke (chunks, length)
        raise RequestError(f"request body could not be read: {exc}") from exc


def check_transfer(headers: CIMultiDictProxy[str]) -> None:
    """Refuse (501) a Transfer-Encoding other than chunked: aiohttp reads `gzip, chunked` as
    chunked alone, and the gzip would go unread."""
    transfer = [c for c in listed(headers, hdrs.TRANSFER_ENCODING) if c != "chunked"]
    if transfer:
        raise RequestError(f"Transfer-Encoding {', '.join(transfer)!r} is not one guard "
                           "decodes; only chunked is", status=501,
                           code="unsupported_transfer_encoding")


class Inflating:
    """A gzip or deflate body, inflated as it arrives, STEP_BYTES of output at a time."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.sent = 0
        self.size = 0
        self.pieces: list[bytes] = []
        self.zlib: zlib._Decompress | None = None

    def feed(self, data: bytes) -> None:
        self.sent += len(data)
        if self.sent > self.limit:  # empty blocks decode to nothing: bound what is sent too
            raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=self.sent)
        if not data:
            return
        if self.zlib is None:
            self.zlib = zlib.decompressobj(self.window_bits(data[0]))
        if self.zlib.eof:
            self.refuse("data follows the end of its compressed stream")
        while True:
            try:
                piece = self.zlib.decompress(data, STEP_BYTES)
            except zlib.error as exc:
                self.refuse(str(exc))
            self.size += len(piece)
            if self.size > self.limit:
                raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=self.size)
            self.pieces.append(piece)
            data = self.zlib.unconsumed_tail
            if self.zlib.eof:
                if self.zlib.unused_data:
                    self.refuse("data follows the end of its compressed stream")
                return
            if not data and len(piece) < STEP_BYTES:  # a full step may leave output pending
                return

    def done(self) -> bytes:
        if self.zlib is not None and not self.zlib.eof:
            self.refuse("it ends before its compressed stream does")
        return b"".join(self.pieces)

    def window_bits(self, first: int) -> int:
        """zlib's wbits for the coding: gzip's header; deflate's zlib header, or (as some
        clients send it, and aiohttp took it) none, a raw deflate stream."""
        if self.coding == "gzip":
            return 16 + zlib.MAX_WBITS
        return zlib.MAX_WBITS if first & 0x0F == 8 else -zlib.MAX_WBITS  # CM, RFC 1950

    def refuse(self, why: str) -> NoReturn:
        raise RequestError(f"request body does not decode as {self.coding}: {why}",
                           code="invalid_content_encoding")
