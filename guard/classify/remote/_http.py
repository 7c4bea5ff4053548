"""Pooled HTTP for remote classifiers: one aiohttp session per event loop, errors as ClassifierError.

Sessions are created on first use inside the running loop (aiohttp sessions belong to a loop) and
closed by `close_sessions()`, which `ClassifierRunner.aclose()` calls.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import urllib.parse
import weakref
from contextvars import ContextVar
from typing import Annotated, Any

import aiohttp
import orjson
from aiohttp.client_proto import ResponseHandler
from aiohttp.connector import Connection
from pydantic import AfterValidator, ValidationError

from guard.errors import ClassifierError, shown_key, shown_path
from guard.pooled import UNASKED_RETRIES, CleanConnectionRequest, UnaskedAnswer, connection_failure

# The most an answer may hold once decoded: a verdict is a few hundred bytes, and a gzip answer of
# one megabyte can inflate to a gigabyte.
MAX_ANSWER_BYTES = 1 << 20
_READ_CHUNK = 1 << 16

# Per event loop: the pooled session, and one that opens a connection per call (a retry's).
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)
_fresh_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


class ClassifierTimeout(ClassifierError, TimeoutError):
    """The remote service did not answer in time (the runner counts it as a timeout)."""


class _Handler(ResponseHandler):
    """aiohttp's protocol of a connection, counting what decides a retry: how many requests went
    out on it, and how many bytes arrived since the last one did."""

    requests = 0
    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)

    @property
    def closed_idle(self) -> bool:
        """Whether a call that failed on it most likely met a kept-alive connection the service
        had closed as idle: it had served a request before, and nothing of this one's answer
        came. (On a new connection, or once an answer began, the service got the call: sending
        it again would be a second delivery.)"""
        return self.requests > 1 and self.received == 0


class _Connector(aiohttp.TCPConnector):
    """A TCPConnector whose connections are _Handlers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # the protocol a connector builds has no public hook (and partial's type is invariant)
        self._factory = functools.partial(_Handler, loop=self._loop)  # type: ignore[assignment]


# The connection the current task's call last went out on (set as it is written).
_sent_on: ContextVar[_Handler | None] = ContextVar("_sent_on", default=None)


class _Request(CleanConnectionRequest):
    """A call, not written on a connection holding an answer nobody asked for, that counts itself
    on its connection's _Handler."""

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        handler = conn.protocol
        if isinstance(handler, _Handler):
            handler.requests += 1
            handler.received = 0
            _sent_on.set(handler)
        return await super().send(conn)


def session(*, fresh: bool = False) -> aiohttp.ClientSession:
    """The pooled session of the running loop (keep-alive connections, bounded per host), or with
    `fresh` the one whose every call opens a new connection."""
    loop = asyncio.get_running_loop()
    sessions = _fresh_sessions if fresh else _sessions
    current = sessions.get(loop)
    if current is None or current.closed:
        connector = (_Connector(limit=256, limit_per_host=64, force_close=True) if fresh
                     else _Connector(limit=256, limit_per_host=64, keepalive_timeout=30))
        # a pooled connection holding an answer nobody asked for is not written on (its answer
        # would be read as the next text's verdict); no User-Agent (aiohttp's names its version
        # and Python's), as upstream requests without a client's
        current = aiohttp.ClientSession(
            connector=connector, request_class=_Request, skip_auto_headers=("User-Agent",),
            json_serialize=lambda o: orjson.dumps(o).decode())
        sessions[loop] = current
    return current


async def close_sessions() -> None:
    """Close the running loop's sessions (and forget sessions of loops that are gone)."""
    loop = asyncio.get_running_loop()
    for sessions in (_sessions, _fresh_sessions):
        current = sessions.pop(loop, None)
        if current is not None and not current.closed:
            await current.close()


async def post_json(
    name: str, url: str, payload: Any, *, headers: dict[str, str], timeout_s: float
) -> Any:
    """POST `payload` as JSON, return the decoded JSON answer; ClassifierError on any failure.

    Messages name the classifier, where it is (`shown`) and the kind of failure, never the
    text that was sent nor what the service answered (an error may quote the prompt).
    """
    where = shown(url)
    try:
        async with asyncio.timeout(timeout_s):
            resp = await _answer(url, payload, headers)
            async with resp:
                if not 200 <= resp.status < 300:
                    raise ClassifierError(f"{name}: {where} answered HTTP {resp.status} "
                                          "(body not read; redirects are not followed)")
                body = await _bounded_body(name, where, resp)
    except TimeoutError as exc:
        raise ClassifierTimeout(f"{name}: {where} did not answer within {timeout_s}s") from exc
    except UnaskedAnswer as exc:
        raise ClassifierError(f"{name}: {where} sends answers nobody asked for") from exc
    except aiohttp.ClientError as exc:
        raise ClassifierError(f"{name}: cannot reach {where}: {connection_failure(exc)[0]}") from exc
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ClassifierError(f"{name}: {where} answered something that is not JSON") from exc


async def _answer(url: str, payload: Any, headers: dict[str, str]) -> aiohttp.ClientResponse:
    """The answer to one call, its head read. A pooled connection holding an answer nobody asked
    for is closed unwritten and the call goes out on another (UNASKED_RETRIES times at most). A
    call on a kept-alive connection the service closed as idle goes out once more on a new one."""
    passed_over = 0
    while True:
        _sent_on.set(None)
        try:
            return await _send(session(), url, payload, headers)
        except UnaskedAnswer:
            passed_over += 1
            if passed_over > UNASKED_RETRIES:
                raise
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            handler = _sent_on.get()
            if handler is None or not handler.closed_idle:
                raise
            return await _send(session(fresh=True), url, payload, headers)


async def _send(client: aiohttp.ClientSession, url: str, payload: Any, headers: dict[str, str]
                ) -> aiohttp.ClientResponse:
    # a redirect is not followed: it would re-send the text and the configured secret headers
    # to another address, or turn the POST into a GET whose answer reads as a verdict
    return await client.post(url, json=payload, headers=headers, allow_redirects=False)


async def _bounded_body(name: str, where: str, resp: aiohttp.ClientResponse) -> bytes:
    """The decoded answer, read chunk by chunk; ClassifierError past MAX_ANSWER_BYTES."""
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_READ_CHUNK):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise ClassifierError(f"{name}: {where} answered more than {MAX_ANSWER_BYTES} bytes "
                                  "(decoded); not read further")
    return bytes(body)


def off_contract(name: str, exc: ValidationError) -> ClassifierError:
    """A ClassifierError naming where an answer breaks its contract and how, without the value
    (what the service answered may quote the text)."""
    first = exc.errors()[0]
    where = shown_path(first["loc"]) or "the top level"
    return ClassifierError(f"{name}: answer off contract at {where}: {first['msg']} "
                           f"({exc.error_count()} problem(s))")


def shown(url: str) -> str:
    """`url` as logs show it: scheme, host and port, without credentials, path or query (an API
    key often travels in the query, and a webhook's secret in its path)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unparsable address)"
    return f"{parts.scheme}://{host}{port}/…" if parts.path.strip("/") else \
        f"{parts.scheme}://{host}{port}"


def service_url(url: str) -> str:
    """A remote classifier's address, checked when its policy loads (a typo would otherwise load
    and fail every call, its rules passing all traffic with `on_error: fail_open`)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        raise ValueError(f"not a usable address: {shown(url)} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or not _HOST.fullmatch(parts.hostname) or parts.port == 0:
        raise ValueError(f"not an http(s) address with a host: {shown(url)}")
    return url


ServiceURL = Annotated[str, AfterValidator(service_url)]
_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")  # a name, an IPv4 or an IPv6 address
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 7230's token
_NOT_IN_A_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # controls but tab: CR, LF, NUL...


def service_headers(headers: dict[str, str]) -> dict[str, str]:
    """A remote classifier's `headers:`, checked when its policy loads: a name that is not an
    HTTP token, or a value holding a control character (the newline a token file ends with),
    made every call fail, its rules passing all traffic with `on_error: fail_open`. Says where,
    never the value (a credential, most likely), nor a name that is no token (`Authorization:
    Bearer sk-...` written as one string is all name)."""
    for index, (name, value) in enumerate(headers.items()):
        if not _HEADER_NAME.fullmatch(name):
            joined = "; a name and its value written as one?" if " " in name.strip() else ""
            raise ValueError(f"header {index}'s name ({len(name)} characters) is not an HTTP "
                             f"token (letters, digits and !#$%&'*+-.^_`|~ only{joined}): no "
                             "request can carry it")
        if found := _NOT_IN_A_VALUE.search(value):
            newline = " (a trailing newline?)" if found.group() == "\n" else ""
            raise ValueError(f"header {shown_key(name)}: its value holds a control character, "
                             f"U+{ord(found.group()):04X}, at index {found.start()}{newline}: "
                             "no request can carry it")
    return headers


ServiceHeaders = Annotated[dict[str, str], AfterValidator(service_headers)]


def auth_headers(api_key_env: str | None, extra: dict[str, str]) -> dict[str, str]:
    """The headers of every call: JSON, `extra`, and the bearer token in `api_key_env` if set."""
    headers = {"Content-Type": "application/json", **extra}
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def env_problems(api_key_env: str | None) -> tuple[str, ...]:
    """Why the variable `api_key_env` cannot give a bearer token (`key: reason`, never its
    value): unset or empty (a typo), or holding what no header can carry (the newline a token
    file ends with). Either way every call would fail, its rules passing all traffic."""
    if api_key_env is None:
        return ()
    value = os.environ.get(api_key_env)
    if value is None:
        return (f"api_key_env: the variable {api_key_env} is not set",)
    if not value:
        return (f"api_key_env: the variable {api_key_env} is empty",)
    if not (value.isascii() and value.isprintable()):
        return (f"api_key_env: the variable {api_key_env} holds a character no HTTP header can "
                "carry (a control character such as a trailing newline, or a non-ASCII one)",)
    return ()
