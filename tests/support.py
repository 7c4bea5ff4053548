"""Helpers for tests that start real servers: free ports, waiting for a port, subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from guard.components import COMPONENTS

# Ports handed to servers come from below Linux's ephemeral range (32768-60999): a port the
# kernel picks for port 0 may be taken meanwhile as the local end of some client's connection,
# and a server started on it a moment later cannot listen (seen once in ~2,600 tests on a busy
# machine).
# Under pytest-xdist (`make test`) each worker process takes its own share of them (gw0 every
# other port from 20000, gw1 the others): two workers' tests picked the same port between one's
# check and its server's bind (an "address already in use" in a clean run).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
_SERVER_PORTS = range(20000 + int(_WORKER.removeprefix("gw")) % _WORKERS, 32768, _WORKERS)
# Handed out in a shuffled round, none twice before all have been: picked at random each time,
# a test's two picks made before either server listened (a guard's port and its admin port)
# were sometimes the same one, and its second server could not listen (a CI failure).
_ROUND: list[int] = []


def _next_port() -> int:
    if not _ROUND:
        _ROUND.extend(_SERVER_PORTS)
        random.SystemRandom().shuffle(_ROUND)
    return _ROUND.pop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses right now, outside the ephemeral range."""
    for _ in range(200):
        port = _next_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts connections on `port`, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class RedisServer:
    """A real redis-server on a loopback port, in its own directory. Can be stopped and restarted."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make test` installs it")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.options: list[str] = []  # more of redis-server's flags, from the next start

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@contextlib.contextmanager
def running_redis(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


GUARD = [sys.executable, "-m", "guard"]


class Process:
    """A guard command run as a real subprocess, with its output kept for assertions."""

    def __init__(self, args: list[str], workdir: Path, env: dict[str, str] | None = None,
                 stderr: int | None = None) -> None:
        self.args = args
        self.log_path = workdir / f"proc-{free_port()}.log"
        self.env = {**os.environ, **(env or {})}
        self.stderr = stderr  # a file descriptor for its stderr; None: with stdout, in log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Run the command, not waiting for it to be ready (`start_together`)."""
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args, stdout=self._log,
            stderr=subprocess.STDOUT if self.stderr is None else self.stderr, env=self.env)

    def wait_ready(self) -> None:
        """Block until the process serves; a plain command is ready once spawned."""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def logged(self, text: str, wait_s: float = 10.0) -> bool:
        """Whether `text` is in the output, waited for: a line reaches it a moment after the
        answer it tells of (guard writes lines from a thread of its own)."""
        deadline = time.monotonic() + wait_s
        while text not in self.output():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def rss_kib(self) -> int:
        """Resident set size, in KiB (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """CPU time used so far, user and system, in seconds (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._log.close()
        self.proc = None
        return code


class PortServer(Process):
    """A server command given `--port N` on a free port; started means accepting connections."""

    def __init__(self, args: list[str], workdir: Path) -> None:
        self.port = free_port()
        super().__init__([*args, "--port", str(self.port)], workdir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        wait_for_port(self.port)


class MockUpstream(PortServer):
    """`guard mock-upstream` on a free port."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        super().__init__([*GUARD, "mock-upstream", *extra], workdir)


class HostileProcess(PortServer):
    """`python -m guard.hostile_upstream` on a free port."""

    def __init__(self, workdir: Path, mode: str = "ok") -> None:
        super().__init__([*GUARD[:1], "-m", "guard.hostile_upstream", "--mode", mode], workdir)

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/_hostile/stats", timeout=10) as answer:
            return dict(json.loads(answer.read()))


class GuardServer(Process):
    """`guard serve -c CONFIG` on free ports, started and ready (its /readyz answers 200)."""

    def __init__(self, workdir: Path, config: dict[str, Any], *extra: str,
                 env: dict[str, str] | None = None, stderr: int | None = None) -> None:
        self.port = free_port()
        self.admin_port = free_port()
        config = {"listen": f"127.0.0.1:{self.port}",
                  "admin_listen": f"127.0.0.1:{self.admin_port}",
                  "state_dir": str(workdir / "state"), "policies": None, **config}
        self.config_path = workdir / f"guard-{self.port}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        super().__init__([*GUARD, "serve", "-c", str(self.config_path), *extra], workdir, env,
                         stderr)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def metrics(self) -> str:
        """guard's /metrics, scraped twice: a counter's series new since the last scrape is at 0
        in the first one (observability/tally.py), and, in a single process, exact in the
        second."""
        for _ in range(2):
            with urllib.request.urlopen(f"{self.admin_url}/metrics", timeout=10) as answer:
                text = answer.read().decode()
        return text

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples `name` on guard's /metrics whose labels include `labels`."""
        text = self.metrics()
        return sum(sample.value for family in text_string_to_metric_families(text)
                   for sample in family.samples if sample.name == name
                   and labels.items() <= sample.labels.items())

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"guard exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.admin_url}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"guard not ready after 30 s:\n{self.output()}")


def start_together(*servers: Process) -> None:
    """Start `servers` side by side, then wait until each is ready: each loads on a core of its
    own while the others load (one after another, a test waited for every start in turn)."""
    for server in servers:
        server.spawn()
    for server in servers:
        server.wait_ready()


def in_optimistic_mode(pack: Path, workdir: Path) -> Path:
    """A copy of policy `pack` in `workdir` whose streams are optimistic, not buffered."""
    copy = workdir / pack.name
    copy.write_text(pack.read_text().replace("mode: buffered", "mode: optimistic"))
    return copy


@contextlib.contextmanager
def guard_before_mock(workdir: Path, policies: Path | None, env: dict[str, str] | None = None,
                      **settings: Any) -> Iterator[GuardServer]:
    """`guard serve` with `policies` (and any other `settings`) in front of a running `guard
    mock-upstream`; both stopped after, even when start-up fails."""
    mock = MockUpstream(workdir)
    server = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}},
                                   "policies": None if policies is None else str(policies),
                                   **settings},
                         env=env)
    try:
        start_together(mock, server)
        yield server
    finally:
        server.stop()
        mock.stop()


def journal_has_verdict(guard: GuardServer, wanted: tuple[str, int, int], key: str = "verdicts"
                        ) -> bool:
    """Whether the incident journal of `guard` holds a verdict (classifier, segment, joined) under
    `key` of some incident: polled, since the journal writer writes in batches, off the request."""
    journal = guard.config_path.parent / "state" / "incidents" / "journal"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # complete lines only: a batch may be half written
        lines = [line for path in journal.glob("*.jsonl") for line in path.read_text().split("\n")[:-1]]
        found = {(v["classifier"], v["segment"], v["joined"])
                 for line in lines for v in json.loads(line).get(key) or ()}
        if wanted in found:
            return True
        time.sleep(0.05)
    return False


def journal_incidents(guard: GuardServer, request_id: str, wait_s: float = 10.0
                      ) -> list[dict[str, Any]]:
    """The incidents of request `request_id` in the journal of `guard`: polled for up to
    `wait_s` until there is one (the journal writer writes in batches, off the request)."""
    journal = guard.config_path.parent / "state" / "incidents" / "journal"
    deadline = time.monotonic() + wait_s
    while True:
        # complete lines only: a batch may be half written
        lines = [line for path in journal.glob("*.jsonl") for line in path.read_text().split("\n")[:-1]]
        found = [incident for incident in map(json.loads, lines)
                 if incident.get("request_id") == request_id]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


# SDK clients a test's helpers made, closed when the test ends (conftest's `close_test_clients`).
# Left to the garbage collector, an SDK client and its pooled connection die together in one
# cycle: the socket can be finalised first and warn of being unclosed inside whichever later
# test the collection happens to run in.
TEST_CLIENTS: list[Any] = []
ClientT = TypeVar("ClientT")


def closed_after_test(client: ClientT) -> ClientT:
    """`client`, to be closed when the running test ends."""
    TEST_CLIENTS.append(client)
    return client


def _replying(url: str, reply: str, headers: dict[str, str]) -> Any:
    import openai

    headers["X-Mock-Reply"] = urllib.parse.quote(reply)
    return openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, default_headers=headers)


def stream_reply(url: str, reply: str, prompt: str = "help me", **headers: str
                 ) -> tuple[str, str | None]:
    """A streamed chat completion through guard at `url`, the stand-in model answering `reply`
    to `prompt`, read with the sync openai SDK: the text the client received and the last finish
    reason."""
    parts, finish = [], None
    with _replying(url, reply, headers) as client:
        for chunk in client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": prompt}], stream=True):
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
    return "".join(parts), finish


def whole_reply(url: str, reply: str, prompt: str = "help me", **headers: str
                ) -> tuple[str, str | None]:
    """`stream_reply` without streaming: the answer's text and finish reason."""
    with _replying(url, reply, headers) as client:
        answer = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}])
    return answer.choices[0].message.content or "", answer.choices[0].finish_reason


# -- streams of typed events (the Responses API, Anthropic's Messages API) -------------------------

POLICIES = Path(__file__).resolve().parents[1] / "policies"


@contextlib.contextmanager
def guard_with_scripted_upstream(workdir: Path, admin_token: str | None = None,
                                 policies: Path = POLICIES
                                 ) -> Iterator[tuple[MockUpstream, GuardServer]]:
    """`guard serve` with `policies` (the packs) in front of the stand-in model, and of the
    hostile upstream in `scripted` mode for models named `hostile*` (its answer scripted per
    request in `X-Hostile-Events`); `admin_token`, if given, is alice's."""
    mock = MockUpstream(workdir)
    hostile = PortServer([sys.executable, "-m", "guard.hostile_upstream", "--mode", "scripted"],
                         workdir)
    guard = GuardServer(workdir, {
        "upstreams": {"default": {"url": mock.url}, "hostile": {"url": hostile.url}},
        "routes": {"hostile*": "hostile"}, "policies": str(policies)},
        env={"GUARD_ADMIN_TOKENS": f"alice:{admin_token}"} if admin_token else None)
    try:
        start_together(mock, hostile, guard)
        yield mock, guard
    finally:
        guard.stop()
        hostile.stop()
        mock.stop()


class RouteClient:
    """A guarded route of `guard` in front of the stand-in `mock`: raw posts with the route's
    defaults, and the requests the model received. Subclasses name the route and add an SDK."""

    route = ""
    defaults: Mapping[str, Any] = {}
    headers: Mapping[str, str] = {}
    client: Any  # the SDK pointed at guard, set by each subclass

    def __init__(self, mock: MockUpstream, guard: GuardServer) -> None:
        self.mock, self.guard = mock, guard

    def seen(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.mock.url}/_mock/requests", timeout=10) as r:
            return list(json.loads(r.read()))

    def raw(self, body: Mapping[str, Any], **headers: str) -> Any:
        import httpx

        return httpx.post(f"{self.guard.url}{self.route}", json={**self.defaults, **body},
                          headers={**self.headers, **headers}, timeout=20)


class OpenAIRouteClient(RouteClient):
    """A route of the OpenAI API, with the openai SDK pointed at guard (`client`)."""

    def __init__(self, mock: MockUpstream, guard: GuardServer) -> None:
        import openai

        super().__init__(mock, guard)
        self.client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client",
                                    max_retries=0)


RouteClientT = TypeVar("RouteClientT", bound=RouteClient)


@contextlib.contextmanager
def scripted_route(kind: type[RouteClientT], workdir: Path, admin_token: str
                   ) -> Iterator[RouteClientT]:
    """A route client (`kind`) of `guard_with_scripted_upstream`; its SDK client closed after."""
    with guard_with_scripted_upstream(workdir, admin_token) as (mock, guard):
        servers = kind(mock, guard)
        try:
            yield servers
        finally:
            servers.client.close()


def upstream_got(guard: GuardServer, text: str) -> bool:
    """Whether the stand-in model behind `guard` (its `default` upstream) was sent `text` in any
    request body it received."""
    mock = yaml.safe_load(guard.config_path.read_text())["upstreams"]["default"]["url"]
    with urllib.request.urlopen(f"{mock}/_mock/requests", timeout=10) as answer:
        sent = json.loads(answer.read())
    return any(text in json.dumps(request.get("body"), ensure_ascii=False) for request in sent)


def assert_refused_unsent(guard: GuardServer, text: str, unsent: str) -> None:
    """`text`, a user's message sent through `guard` with the openai SDK, is refused as the
    content policy's (400 `content_filter`), and `unsent` never reached its stand-in model."""
    import openai

    with openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0) as client, \
            pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "content_filter"
    assert not upstream_got(guard, unsent)


def mock_reply(text: str, **more: str) -> dict[str, str]:
    """Headers making the stand-in model answer `text` in 5-character pieces."""
    return {"X-Mock-Reply": urllib.parse.quote(text), "X-Mock-Chunk-Chars": "5", **more}


def secret_header(where: str, secret: str) -> dict[str, str]:
    """The stand-in's header putting `secret` in a tool call's arguments (JSON), or in its
    reasoning (`X-Mock-Reasoning`)."""
    if where == "X-Mock-Tool-Args":
        return {where: json.dumps({"token": secret})}
    return {where: urllib.parse.quote(f"the token is {secret}")}


def typed_events(raw: str) -> list[dict[str, Any]]:
    """The events of a raw SSE answer of typed events, each checked to name its type in its
    `event:` line."""
    found = []
    for block in raw.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            event = json.loads(lines["data"])
            assert lines.get("event") == event["type"]
            found.append(event)
    return found


def scripted(script: Any) -> str:
    """`script` as the hostile upstream's X-Hostile-Events header: JSON with only `%`
    percent-encoded, so that a stream holding a long value several times stays within a
    header's 8 KB."""
    return urllib.parse.quote(json.dumps(script, separators=(",", ":")),
                              safe=" !\"#$&'()*+,/:;<=>?@[\\]^_`{|}~")


def messages_answer(guard: GuardServer, texts: Sequence[str], stream: bool) -> list[str]:
    """Each text block of an Anthropic Messages answer made of `texts` (the hostile upstream's,
    scripted: models `hostile*`, `guard_with_scripted_upstream`), as a client receives it."""
    if stream:
        script: Any = [{"type": "message_start", "message": {
            "id": "m", "type": "message", "role": "assistant", "content": []}}]
        for index, text in enumerate(texts):
            script += [{"type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}},
                       {"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": text}},
                       {"type": "content_block_stop", "index": index}]
        script += [{"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
                   {"type": "message_stop"}]
    else:
        script = {"id": "m", "type": "message", "role": "assistant", "stop_reason": "end_turn",
                  "content": [{"type": "text", "text": text} for text in texts]}
    got = httpx.post(f"{guard.url}/v1/messages", timeout=30, json={
        "model": "hostile", "max_tokens": 64, "stream": stream,
        "messages": [{"role": "user", "content": "hi"}]}, headers={
        "anthropic-version": "2023-06-01", "x-api-key": "k",
        "X-Hostile-Events": scripted(script)})
    assert got.status_code == 200, got.text
    if not stream:
        return [block["text"] for block in got.json()["content"]]
    shown = [""] * len(texts)
    for event in typed_events(got.text):
        if event["type"] == "content_block_delta":
            shown[event["index"]] += event["delta"]["text"]
    return shown


class EventLog:
    """An in-memory recorder of operational events (the `record_event` half of a Recorder)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def record_event(self, kind: str, details: Mapping[str, Any]) -> str:
        self.events.append((kind, dict(details)))
        return f"ev{len(self.events)}"


class SmallVolume:
    """A 256 KiB tmpfs of its own at `path`: `fill()` takes all its space (as guard's journal,
    never pruned, can take a real state volume's), `free()` gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        with self._filler.open("ab", buffering=0) as filler, contextlib.suppress(OSError):
            while True:  # until ENOSPC
                filler.write(bytes(4096))

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)


class MountRefused(Exception):
    """This test run may not mount a file system (not root, or no CAP_SYS_ADMIN)."""


@contextlib.contextmanager
def small_volume(path: Path) -> Iterator[SmallVolume]:
    """A SmallVolume mounted at `path` (made) for the block's length; MountRefused where this
    process may not mount one (CI runs the tests as root, where it can)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        raise MountRefused(mounted.stderr.strip() or f"mount exited {mounted.returncode}")
    try:
        yield SmallVolume(path)
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """`promtool ARGS` run in deploy/prometheus (where the shipped rule files are)."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed; `make test` installs the prometheus package")
    return subprocess.run([binary, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True,
                          timeout=60, check=False)
# Tools the deployment tests run (checkov, hadolint, docker-compose) live in their own venv: their
# pinned dependencies would clash with guard's.
TOOLS_VENV = ROOT / ".venv-tools"
TOOLS_REQUIREMENTS = ROOT / "deploy" / "docker" / "tools-requirements.txt"


def tool(name: str) -> Path:
    """A command from .venv-tools/, creating that venv from tools-requirements.txt on first use."""
    path = TOOLS_VENV / "bin" / name
    if not path.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "install", "-q", "-r",
                        str(TOOLS_REQUIREMENTS)], check=True)
    return path


@contextlib.asynccontextmanager
async def apps_serving(*served: tuple[web.AppRunner | web.Application, int]
                       ) -> AsyncIterator[None]:
    """Each on its loopback port (in this process), for the block's length; cleaned up in
    reverse order. A runner is run as given: guard's own, `guard.app.data_runner`, as `guard
    serve` runs it (bodies undecoded); an application as `guard mock-upstream` runs a stand-in,
    with aiohttp's defaults."""
    runners: list[web.AppRunner] = []
    try:
        for app, port in served:
            assert not (isinstance(app, web.Application) and COMPONENTS in app), \
                "run guard's application by its runner (guard.app.data_runner), as serve does"
            runner = app if isinstance(app, web.AppRunner) else web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", port).start()
        yield
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def sent_raw(guard: GuardServer, path: str, body: bytes) -> tuple[bytes, bytes]:
    """`POST path` as written (no client library re-spells it): the status line and body."""
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], payload


def filled(write_end: int) -> None:
    """Fill a non-blocking pipe to its last byte (with empty lines): a write to it then fails
    with EAGAIN until its reader reads, like a log reader that stopped reading."""
    for size in (4096, 1):
        with contextlib.suppress(BlockingIOError):
            while True:
                os.write(write_end, b"\n" * size)


def drained(read_end: int) -> bytes:
    """What a pipe holds, read until it is empty (its read end made non-blocking)."""
    os.set_blocking(read_end, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(read_end, 1 << 16):
            data += chunk
    return data
