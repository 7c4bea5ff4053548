"""The upstream side: pooled sessions per named upstream, routing by model, header hygiene."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Awaitable, Mapping

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError
from multidict import CIMultiDict, CIMultiDictProxy

from guard.classify.remote._http import shown
from guard.config import Settings
from guard.errors import UpstreamError
from guard.pooled import CleanConnectionRequest, UnaskedAnswer, connection_failure
from guard.proxy.silence import SilenceWatch
from guard.types import model_key

# RFC 9110 §7.6.1 connection-specific fields, plus those a proxy must recompute itself.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length",
})
# guard reads bodies to inspect them: the client's Accept-Encoding is not passed on (the upstream
# sees the client session's own, and what it compresses is decoded on arrival); guard has the
# whole body before it forwards, so a client's `Expect: 100-continue` is answered, not passed on
# (aiohttp's client would otherwise wait for the upstream's 100 before sending the body).
# content-encoding: aiohttp hands guard the request body decoded, and that is what goes upstream
NOT_FORWARDED_UP = HOP_BY_HOP | {"accept-encoding", "content-encoding", "expect"}
NOT_FORWARDED_DOWN = HOP_BY_HOP | {"content-encoding", "server", "date"}


def end_to_end(headers: CIMultiDictProxy[str] | CIMultiDict[str],
               dropped: frozenset[str], dropped_prefix: str = "") -> CIMultiDict[str]:
    """The headers a proxy forwards: all but hop-by-hop ones (`dropped`, in lower case), those
    whose name starts with `dropped_prefix` (in lower case; none when empty) and those any
    `Connection` line names."""
    kept = headers.copy()  # one copy in C, then the few removals that apply
    # each name looked at once (8.5k instructions for a request's four headers, where
    # multidict's case-blind intersection with `dropped`, which folds each of its names, took 9k)
    for name in headers:
        folded = name.lower()
        if folded in dropped or (dropped_prefix and folded.startswith(dropped_prefix)):
            kept.popall(name, None)
    for connection in headers.getall("Connection", ()):
        for token in connection.split(","):
            kept.popall(token.strip(), None)
    return kept




class Upstreams:
    """Named upstreams, each with its own connection pool; `pick` routes a model to one."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.upstreams
        # a model routes as it matches everywhere in guard: `GPT-4o ` as `gpt-4o` (model_key)
        self._routes = [(model_key(pattern), name) for pattern, name in settings.routes.items()]
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        # how long each upstream may stay silent: enforced by the sweep, not a timer per read
        self.silence_limits = {name: u.timeout_s for name, u in settings.upstreams.items()}
        self.silence = SilenceWatch(self.silence_limits.values(),
                                    settings.limits.client_write_timeout_s)
        self.pick = functools.lru_cache(maxsize=4096)(self._pick)

    async def start(self) -> None:
        for name, upstream in self._settings.items():
            connector = aiohttp.TCPConnector(limit=upstream.max_connections,
                                             ttl_dns_cache=300, enable_cleanup_closed=True)
            # No cookie jar: a shared session would keep one client's upstream cookies (a load
            # balancer's affinity cookie, say) and send them with every other client's requests.
            # Cookies pass end to end as headers instead.
            self._sessions[name] = aiohttp.ClientSession(
                connector=connector, request_class=CleanConnectionRequest, auto_decompress=True,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=upstream.connect_timeout_s))

    async def aclose(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def _pick(self, model: str) -> str:
        for pattern, name in self._routes:
            if fnmatch.fnmatchcase(model_key(model), pattern):
                return name
        return "default"

    def request(self, name: str, method: str, path_qs: str, headers: Mapping[str, str],
                body: bytes | None) -> Awaitable[aiohttp.ClientResponse]:
        """The request to upstream `name`, for the caller to await (no coroutine of its own: every
        I/O wake-up of the request passes through each frame that awaits it). Await it inside
        `except UPSTREAM_FAILURES` and raise `unreachable(name, url, exc)`; on UnaskedAnswer, a few
        times again first."""
        return self._sessions[name].request(
            method, self._settings[name].url + path_qs, headers=headers, data=body,
            allow_redirects=False)


# What awaiting `Upstreams.request` raises when the upstream cannot be reached or is too slow.
UPSTREAM_FAILURES = (TimeoutError, aiohttp.ClientError)


def unreachable(name: str, url: str, exc: BaseException) -> UpstreamError:
    """The answer to a request that could not reach upstream `name` at `url`: 504 or 502. The
    client is told the kind of failure; the log (`detail`) also where the upstream is (scheme,
    host and port) and the system's words."""
    where = shown(url)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # no connection within connect_timeout_s
        return UpstreamError(f"upstream {name!r} is unreachable: connection timed out",
                             status=502, code="upstream_unreachable",
                             detail=f"{where}: no connection within its connect_timeout_s")
    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamError(f"upstream {name!r} timed out", status=504, code="upstream_timeout",
                             detail=f"{where}: {type(exc).__name__}")
    if isinstance(exc, UnaskedAnswer):
        return UpstreamError(f"upstream {name!r} sends answers nobody asked for", status=502,
                             code="upstream_protocol_error", detail=where)
    if caused_by(exc, ContentEncodingError):  # br or zstd, say: named, as nothing else is amiss
        return UpstreamError(f"upstream {name!r} answered in a content encoding guard cannot "
                             "decode (it asks for gzip or deflate)", status=502,
                             code="upstream_protocol_error", detail=where)
    if isinstance(exc, aiohttp.ClientResponseError):  # it answered, in a form aiohttp cannot read
        # (not its message: it quotes the bytes it could not read, which may be answer text,
        # another request's left on a pooled connection by a wrong Content-Length)
        return UpstreamError(f"upstream {name!r} answered in a form guard cannot read "
                             f"({type(exc).__name__})", status=502,
                             code="upstream_protocol_error", detail=where)
    why, said = connection_failure(exc)
    return UpstreamError(f"upstream {name!r} is unreachable: {why}", status=502,
                         code="upstream_unreachable", detail=f"{where}: {said}")


# The status classes guard relays: an answer (2xx, read), or the upstream's error (4xx, 5xx).
# A redirect would send the client, and its prompt, around guard to a server of the upstream's
# choosing (the openai SDK follows one); a protocol switch (101) leaves the client waiting.
RELAYED_CLASSES = frozenset({2, 4, 5})
NOT_MODIFIED = 304  # no body and no Location: the client's cached copy is still current


def not_relayed(name: str, status: int, *, revalidating: bool = False) -> UpstreamError | None:
    """The answer to an upstream status guard never relays (1xx, 3xx, 600 and above): 502.
    `revalidating`: the request may ask whether the client's copy is current (a pass-through GET
    or HEAD), so a 304 Not Modified is relayed."""
    if status // 100 in RELAYED_CLASSES or (revalidating and status == NOT_MODIFIED):
        return None
    return UpstreamError(f"upstream {name!r} answered with status {status}, which guard does not "
                         "relay (only 2xx, 4xx and 5xx, and 304 to a pass-through GET or HEAD)",
                         status=502, code="upstream_protocol_error")


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `exc`, or an exception it was raised from, is a `kind`."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__
    return False


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole upstream body, bounded by `limit` bytes as decoded. Raises UpstreamError."""
    try:
        length = response.content_length
        if length is not None and length <= limit and "Content-Encoding" not in response.headers:
            return await response.read()  # the parser stops at Content-Length: no more can come
        # counted as decoded (aiohttp decodes a compressed body a bounded piece at a time): a
        # Content-Length counts what is on the wire, which a gzip answer multiplies by 1000
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise UpstreamError(f"upstream answer is larger than {limit} bytes", status=502,
                                    code="upstream_response_too_large")
            chunks.append(chunk)
        return b"".join(chunks)
    except aiohttp.ClientError as exc:  # a silence timeout is answered by the caller's watch
        raise UpstreamError(f"upstream broke off its answer: {type(exc).__name__}", status=502,
                            code="upstream_broken") from exc
