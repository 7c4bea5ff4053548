"""Mixed traffic and a disposable stack for the chaos and soak runs (bench/chaos.py, bench/soak.py).

The stack: a persistent redis-server (append-only file, fsync always, so a killed Redis comes
back with its data), the stand-in model and `guard serve` with policies/default.yaml and
`redis_url` set, every process on a loopback port under one directory.

The traffic cycles through six kinds, each streamed and not: allowed, blocked (an AWS key in the
prompt), redacted (an e-mail address in the stand-in's answer), flagged (an e-mail address in the
prompt). Every answer is checked against what the policy promises, and every decision the client
could see (an `X-Guard-Incident-Id` header, or a masked e-mail address in a stream) is kept, so
that the incidents written can be counted against it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import redis

from tests.support import GuardServer, MockUpstream, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "default.yaml"
ADMIN_TOKEN = "chaos-admin-token"  # a throwaway token for a loopback stack
MASK = "[REDACTED:"  # the default policy masks as [REDACTED:<label>]
STREAM = "guard:incidents"
DRAIN_S = 1.0  # shutdown_drain_s: clients move off keep-alive connections before guard closes them

# Error kinds: what a client can observe going wrong. POLICY_VIOLATION (a block that passed, an
# address that was not masked) is never acceptable; the others are, while something is down.
REFUSED = "guard_refused"
# Reset on a connection opened for this request, before any answer: the request met a listener
# that was closing (a new connection still in the accept queue is reset when guard stops
# listening), so no handler read it; to the client, the same as a refused connection.
RESET_NEW = "guard_reset_new_connection"
# Reset on a keep-alive connection that had already carried an answer, or mid-answer.
DISCONNECTED = "guard_disconnected"
TRUNCATED = "stream_truncated"
UPSTREAM_BROKEN = "stream_upstream_broken"
TIMEOUT = "client_timeout"
POLICY_VIOLATION = "policy_violation"
ERROR_PAUSE_S = 0.1  # a worker's pause after a failed request


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix and the decision the default policy must make on it."""

    name: str
    stream: bool
    expect: str  # allow | block | redact | flag


KINDS = [Kind(f"{name}{'-stream' if stream else ''}", stream, name)
         for name in ("allow", "block", "redact", "flag") for stream in (False, True)]
# The mix: allowed requests are the common case.
MIX = [k for k in KINDS for _ in range(2 if k.expect == "allow" else 1)]


def _key_id(n: int) -> str:
    """An AWS-access-key-shaped id (the secrets classifier's pattern), distinct per `n`."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    tail = "".join(alphabet[(n >> (5 * i)) & 31] for i in range(4))
    return f"AKIAIOSFODNN{tail}EXAM"[:20]


@dataclass
class Result:
    """What one request's client saw."""

    kind: Kind
    started: float
    ended: float = 0.0
    status: int = 0
    error: str | None = None
    request_id: str = ""
    incident_id: str | None = None
    masked_in_stream: bool = False


def _connection_trace() -> aiohttp.TraceConfig:
    """Marks a request's `trace_request_ctx.new` when it opened a connection of its own."""
    async def created(session: aiohttp.ClientSession, ctx: SimpleNamespace, params: object) -> None:
        ctx.trace_request_ctx.new = True

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(created)
    return trace


def build_request(kind: Kind, n: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body and headers for the `n`-th request of `kind` (`n` varies the texts)."""
    prompt = f"Summarise item {n} of the weekly notes for the team, briefly."
    headers = {"X-Request-Id": f"req-{os.getpid()}-{kind.name}-{n}-{time.monotonic_ns()}",
               "X-Mock-Chunk-Chars": "8", "X-Mock-Chunk-Delay-Ms": "10"}
    if kind.expect == "block":
        prompt = f"Why does boto fail with my key {_key_id(n)} in job {n}?"
    elif kind.expect == "flag":
        prompt = f"Please write to me at pat.lee{n}@example.com about item {n}."
    elif kind.expect == "redact":
        reply = f"Sure. The owner of item {n} is reachable at jo.doe{n}@example.org, any time."
        headers["X-Mock-Reply"] = urllib.parse.quote(reply)
    body = {"model": "chaos", "stream": kind.stream, "max_tokens": 12,
            "messages": [{"role": "user", "content": prompt}]}
    return body, headers


def check_answer(result: Result, headers: Any, text: str, n: int) -> None:
    """Set `result.error` when the answer breaks the policy or ends badly."""
    kind = result.kind
    result.incident_id = headers.get("X-Guard-Incident-Id")
    decision = headers.get("X-Guard-Decision", "")
    if kind.expect == "block":
        if result.status != 400 or decision != "block" or "content_filter" not in text:
            result.error = POLICY_VIOLATION
        return
    if result.status != 200:
        result.error = _status_error(result.status, text)
        return
    if kind.stream:
        if 'data: {"error"' in text:
            result.error = UPSTREAM_BROKEN
        elif not text.endswith("data: [DONE]\n\n"):
            result.error = TRUNCATED
        result.masked_in_stream = kind.expect == "redact" and MASK in text
    address = f"jo.doe{n}@example.org"
    if kind.expect == "redact":
        leaked = address in text or address in _joined_stream(text)
        unmasked = not kind.stream and MASK not in text
        broken = leaked or unmasked
    else:
        broken = decision != kind.expect  # a stream's headers go out before its completion
    if broken:
        result.error = POLICY_VIOLATION


def _joined_stream(text: str) -> str:
    """The content of a chat stream's deltas, joined (a masked value may span chunks)."""
    parts = []
    for line in text.splitlines():
        if line.startswith("data: {"):
            with contextlib.suppress(orjson.JSONDecodeError):
                for choice in orjson.loads(line[6:]).get("choices") or ():
                    parts.append(str((choice.get("delta") or {}).get("content") or ""))
    return "".join(parts)


def _status_error(status: int, text: str) -> str:
    try:
        code = orjson.loads(text)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        code = "?"
    return f"http_{status}_{code}"


class Traffic:
    """Closed-loop mixed load: `concurrency` workers, optionally capped at `rate` requests/s."""

    def __init__(self, url: str, concurrency: int, rate: float | None = None,
                 pool: int = 400, timeout_s: float = 15.0) -> None:
        self.url = url
        self.concurrency = concurrency
        self.rate = rate
        self.pool = pool
        self.timeout_s = timeout_s
        self.results: list[Result] = []
        self._stop = asyncio.Event()
        self._counter = itertools.count()
        self._next_slot = time.monotonic()

    async def run(self) -> None:
        """Send requests until `stop()`; every result is appended to `results`."""
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         trace_configs=[_connection_trace()]) as session:
            await asyncio.gather(*(self._worker(session) for _ in range(self.concurrency)))

    def stop(self) -> None:
        self._stop.set()

    async def _worker(self, session: aiohttp.ClientSession) -> None:
        while not self._stop.is_set():
            await self._pace()
            if self._stop.is_set():
                return
            n = next(self._counter)
            result = await self.one(session, MIX[n % len(MIX)], n % self.pool)
            self.results.append(result)
            if result.error is not None and result.error != POLICY_VIOLATION:
                # as a client would: not a busy loop of refused connections while guard is down
                await asyncio.sleep(ERROR_PAUSE_S)

    async def _pace(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        self._next_slot = max(self._next_slot + 1 / self.rate, now)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._next_slot - now):
                await self._stop.wait()

    async def one(self, session: aiohttp.ClientSession, kind: Kind, n: int) -> Result:
        """Send one request of `kind` and check its answer."""
        body, headers = build_request(kind, n)
        result = Result(kind, time.monotonic(), request_id=headers["X-Request-Id"])
        connection = SimpleNamespace(new=False)
        try:
            async with session.post(f"{self.url}/v1/chat/completions", json=body,
                                    headers=headers, trace_request_ctx=connection) as response:
                result.status = response.status
                text = (await response.read()).decode()
                check_answer(result, response.headers, text, n)
        except aiohttp.ClientConnectorError:
            result.error = REFUSED
        except aiohttp.ClientPayloadError:
            result.error = TRUNCATED
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            result.error = RESET_NEW if connection.new and not result.status else DISCONNECTED
        except TimeoutError:
            result.error = TIMEOUT
        result.ended = time.monotonic()
        return result


def expected_incidents(results: list[Result]) -> dict[str, float]:
    """Incident keys the clients saw, with when they saw them: `id:<incident id>` for a header,
    `req:<request id>` for a completion redaction seen only as a mask in a stream."""
    seen: dict[str, float] = {}
    for r in results:
        if r.incident_id:
            seen[f"id:{r.incident_id}"] = r.ended
        if r.masked_in_stream:
            seen[f"req:{r.request_id}"] = r.ended
    return seen


def incident_keys(incident: dict[str, Any]) -> Iterator[str]:
    yield f"id:{incident.get('id')}"
    if incident.get("kind") == "decision" and incident.get("stage") == "completion":
        yield f"req:{incident.get('request_id')}"


def journal_incidents(state_dir: Path) -> dict[str, dict[str, Any]]:
    """Every incident in the journal files (a torn last line after a SIGKILL is skipped)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((state_dir / "incidents" / "journal").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                incident = orjson.loads(line)
                found[incident["id"]] = incident
    return found


def stream_incidents(redis_url: str) -> dict[str, dict[str, Any]]:
    """Every incident in the Redis Stream."""
    found: dict[str, dict[str, Any]] = {}
    client = redis.Redis.from_url(redis_url)
    try:
        start = "-"
        while True:
            entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(  # type: ignore[assignment]
                STREAM, min=start, count=5000)
            for _, fields in entries:
                incident = orjson.loads(fields[b"data"])
                found[incident["id"]] = incident
            if len(entries) < 5000:
                return found
            start = "(" + entries[-1][0].decode()
    finally:
        client.close()


def error_counts(results: list[Result]) -> Counter[str]:
    return Counter(r.error for r in results if r.error)


class Redis:
    """redis-server with an append-only file fsynced on every write, so that a SIGKILL loses
    nothing it acknowledged: what guard wrote before a Redis crash is still there after."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make system` installs it")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
            self.proc = None


@dataclass
class Stack:
    """Redis, the stand-in model and guard (policies/default.yaml, Redis set) under `workdir`."""

    workdir: Path
    shutdown_grace_s: float = 10.0
    redis: Redis = field(init=False)
    upstream: MockUpstream = field(init=False)
    guard: GuardServer = field(init=False)

    def __post_init__(self) -> None:
        self.policies = self.workdir / "policies"
        self.policies.mkdir(parents=True, exist_ok=True)
        self.policy_file = self.policies / "default.yaml"
        shutil.copy(POLICY, self.policy_file)
        self.redis = Redis(self.workdir / "redis")
        self.upstream = MockUpstream(self.workdir)
        self.state_dir = self.workdir / "state"
        self.guard = GuardServer(
            self.workdir,
            {"upstreams": {"default": {"url": self.upstream.url, "connect_timeout_s": 2}},
             "redis_url": self.redis.url, "policies": str(self.policies),
             "state_dir": str(self.state_dir), "shutdown_grace_s": self.shutdown_grace_s,
             "shutdown_drain_s": DRAIN_S,
             "log_level": "warning"},
            env={"GUARD_ADMIN_TOKENS": f"chaos:{ADMIN_TOKEN}"})

    def start(self) -> None:
        self.redis.start()
        self.upstream.start()
        self.guard.start()

    def stop(self) -> int:
        """Stop guard gracefully (incidents drained), then the others; guard's exit code."""
        code = self.guard.stop(signal.SIGTERM, timeout=self.shutdown_grace_s + 20)
        self.upstream.stop()
        self.redis.kill(signal.SIGTERM)
        return code

    def incidents(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """(journal, Redis Stream) incidents by id. Redis must be running."""
        return journal_incidents(self.state_dir), stream_incidents(self.redis.url)


def proc_sample(pid: int) -> tuple[int, int]:
    """(resident set size in bytes, open file descriptors) of a process, from /proc."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))
