"""guard that cannot start says why in one line and exits 2 (never a traceback, never a restart
loop); a running guard with nothing to reload survives SIGHUP; operator tools refuse bad values
as usage errors."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support import GuardServer, RedisServer, free_port

pytestmark = pytest.mark.timeout(120)


def guard(*args: str, env: dict[str, str | None] | None = None
          ) -> subprocess.CompletedProcess[str]:
    """`guard ARGS` with `env` over the environment (a None value unsets the variable)."""
    merged = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "guard", *args], capture_output=True, text=True,
                          timeout=90, check=False,
                          env={k: v for k, v in merged.items() if v is not None})


def config(tmp_path: Path, **keys: object) -> str:
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump({
        "listen": f"127.0.0.1:{free_port()}", "admin_listen": f"127.0.0.1:{free_port()}",
        "state_dir": str(tmp_path / "state"), "policies": None,
        "upstreams": {"default": {"url": "http://127.0.0.1:9"}}, **keys}))
    return str(path)


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def said_plainly(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert what in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_stops_guard_at_once(tmp_path: Path, taken: int, workers: str) -> None:
    """One process or a group of workers: one message, exit 2, no worker restarted in a loop."""
    started = time.monotonic()
    done = guard("serve", "-c", config(tmp_path, listen=f"127.0.0.1:{taken}"), "--workers", workers)
    said_plainly(done, f"cannot listen on 127.0.0.1:{taken}")
    assert done.stdout.count("worker_died") <= int(workers) - 1  # none restarted
    assert time.monotonic() - started < 60


def test_a_second_worker_group_on_the_same_ports_is_refused(tmp_path: Path) -> None:
    """From a probe: a second `--workers` group on a running group's ports started (both bind
    with SO_REUSEPORT) and took half the connections; it is refused like a single process."""
    running = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}},
                          "--workers", "2")
    running.start()
    try:
        done = guard("serve", "-c", str(running.config_path), "--workers", "2")
        said_plainly(done, f"cannot listen on 127.0.0.1:{running.port}")
        assert "workers_started" not in done.stdout
    finally:
        assert running.stop() == 0


def test_unusable_state_is_refused_before_anything_starts(tmp_path: Path) -> None:
    said_plainly(guard("serve", "-c", config(tmp_path, state_dir="/etc/passwd"), "--check"),
                 "state_dir /etc/passwd: not a directory")
    state = tmp_path / "state"
    state.mkdir()
    (state / "killswitch.json").write_text('{"switches": [garbage')
    said_plainly(guard("serve", "-c", config(tmp_path)), "killswitch.json: kill switch state unreadable")


def test_a_state_dir_unusable_inside_is_refused_by_check_and_serve(tmp_path: Path) -> None:
    """From a probe: `incidents` in state_dir left a file (or a directory guard cannot write)
    passed `serve --check`, then `serve` died with a traceback and exit 1."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "incidents").write_text("")
    why = f"state_dir {state}: {state / 'incidents'} is not a directory"
    said_plainly(guard("serve", "-c", config(tmp_path), "--check"), why)
    said_plainly(guard("serve", "-c", config(tmp_path)), why)


def test_bad_values_from_the_environment_are_named(tmp_path: Path) -> None:
    said_plainly(guard("serve", "-c", config(tmp_path), "--check", env={"GUARD_LISTEN": "[oops"}),
                 "GUARD_LISTEN")
    said_plainly(guard("serve", "-c", config(tmp_path), "--check",
                       env={"GUARD_LIMITS__MAX_CONNECTIONS": "[oops"}),
                 "GUARD_LIMITS__MAX_CONNECTIONS")
    # from a probe: an IPv6 address is not YAML, and was refused as such
    checked = guard("serve", "-c", config(tmp_path), "--check", env={"GUARD_LISTEN": "[::1]:8000"})
    assert checked.returncode == 0, checked.stderr[-2000:]
    said_plainly(guard("serve", "-c", config(tmp_path), "--check",
                       env={"GUARD_ADMIN_TOKENS": "alice"}), "entry 1: expected actor:token")


@pytest.mark.parametrize(("tokens", "said"), [
    ("alice:TOKENAAAAAAAAAAAA;bob:TOKENBBBBBBBBBBBB", "';' then what reads as another entry"),
    ("alice:TOKENAAAAAAAAAAAA; bob:TOKENBBBBBBBBBBBB", "whitespace and ';' then what reads as"),
    ("alice:TOKENAAAAAAAAAAAA bob:TOKENBBBBBBBBBBBB", "its token holds whitespace;"),
    ("alice:TOKENAAAA\u200bAAAAAAAA", "a character that is not printable"),
    ("alice:TOKENAAAA\x1bAAAAAAAA", "a character that is not printable"),
    # from a probe: accepted at start, yet the guard CLI refuses to send it
    ("alice:TOKENAAAAt\u00f6ken\u00e9\u00e9\u00e9\u00e9", "a character beyond ASCII"),
])
def test_an_admin_token_list_with_the_wrong_separator_stops_serve(
        tmp_path: Path, tokens: str, said: str) -> None:
    """From a probe: `alice:A;bob:B` (';' for ',') passed `serve --check` as one actor alice with
    the token `A;bob:B`, bob not an actor; it is refused naming the actor, never the token."""
    done = guard("serve", "-c", config(tmp_path), "--check", env={"GUARD_ADMIN_TOKENS": tokens})
    said_plainly(done, "GUARD_ADMIN_TOKENS: entry 1 (actor 'alice'): its token holds ")
    assert said in done.stderr and "TOKENAAAA" not in done.stderr + done.stdout
    assert "entries are actor:token, separated by ','" in done.stderr


@pytest.mark.parametrize("token", ["Qx7:vR2!pL9#mW4$kT8^zN", "Qx7;vR2!pL9#mW4$kT8^zN",
                                   "Qx7:vR2;!pL9:mW4$kT8^zN"])
def test_an_admin_token_holding_colons_and_semicolons_still_starts(
        tmp_path: Path, token: str) -> None:
    """From a probe: 9c29b98 refused a token holding ':' or ';' (AWS get-random-password makes
    them), which had worked, the entry being split at its first ':' (exit 0 → 2); such a token
    is alice's again."""
    done = guard("serve", "-c", config(tmp_path), "--check",
                 env={"GUARD_ADMIN_TOKENS": f"alice:{token},bob:bob-token-0123456789"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "admin tokens: alice, bob (from GUARD_ADMIN_TOKENS)" in done.stdout


def hooked(tmp_path: Path) -> Path:
    """A policy directory whose webhook classifier reads its key from HOOK_API_KEY."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(
        "name: default\nversion: 1\nclassifiers:\n"
        "  hook: {type: webhook, url: 'http://127.0.0.1:9/check', api_key_env: HOOK_API_KEY}\n"
        "rules:\n  - {name: hook, stage: prompt, when: {classifier: hook}, action: block}\n")
    return policies


@pytest.fixture(scope="module")
def hooked_with_a_usable_key(tmp_path_factory: pytest.TempPathFactory
                             ) -> subprocess.CompletedProcess[str]:
    """`serve --check` of `hooked` policies with HOOK_API_KEY usable: the same for every unusable
    value below, so run once (a run each took ~1 s)."""
    workdir = tmp_path_factory.mktemp("hooked")
    return guard("serve", "-c", config(workdir, policies=str(hooked(workdir))), "--check",
                 env={"HOOK_API_KEY": "sk-real"})


@pytest.mark.parametrize(("value", "why"), [
    (None, "the variable HOOK_API_KEY is not set"),
    ("", "the variable HOOK_API_KEY is empty"),
    ("sk-CANARY\n", "the variable HOOK_API_KEY holds a character no HTTP header can carry"),
])
def test_an_unusable_api_key_variable_stops_serve_and_warns_in_policy_check(
        tmp_path: Path, hooked_with_a_usable_key: subprocess.CompletedProcess[str],
        value: str | None, why: str) -> None:
    """From a probe: an `api_key_env` unset, or holding a token file's trailing newline, loaded
    silently and every call failed (open); `serve --check` now refuses it naming the variable
    (never its value), and `guard policy check` (often run without the secrets) warns."""
    policies = hooked(tmp_path)
    checked = config(tmp_path, policies=str(policies))
    env = {"HOOK_API_KEY": value}
    refused = guard("serve", "-c", checked, "--check", env=env)
    said_plainly(refused, f"default.yaml:4: classifiers.hook.api_key_env: {why}")
    check = guard("policy", "check", str(policies), env=env)
    assert check.returncode == 0, check.stderr
    assert f"warning: {policies / 'default.yaml'}:4: classifiers.hook.api_key_env: {why}" in (
        check.stdout)
    assert "CANARY" not in check.stdout + refused.stderr
    fine = hooked_with_a_usable_key
    assert fine.returncode == 0, fine.stderr[-2000:]


@pytest.mark.parametrize(("kind", "headers", "why"), [
    ("llama_guard", {"Authorization": "Bearer sk-CANARY\n"},
     "header Authorization: its value holds a control character, U+000A, at index 16"),
    ("webhook", {"Authorization\n": "Bearer sk-CANARY"},
     "header 0's name (14 characters) is not an HTTP token"),
    ("openai_moderation", {"X Key": "sk-CANARY"},
     "header 0's name (5 characters) is not an HTTP token"),
])
def test_a_header_no_request_can_carry_stops_policy_check_and_serve(
        tmp_path: Path, kind: str, headers: dict[str, str], why: str) -> None:
    """From a probe: a remote classifier's `headers:` value ending in a newline (or a name
    holding one) passed `policy check` and `serve`, then every call failed ("Forbidden control
    character") and, failing open, its rule let 3 of 3 harmful prompts through. Both refuse it
    now at its file and line, never echoing the value."""
    policies = tmp_path / "policies"
    policies.mkdir()
    spec = {"type": kind, "url": "http://127.0.0.1:9/v1", "headers": headers}
    (policies / "default.yaml").write_text(
        "name: default\nversion: 1\nclassifiers:\n"
        f"  remote: {json.dumps(spec)}\n"
        "rules:\n  - {name: remote, stage: prompt, when: {classifier: remote}, action: block}\n")
    check = guard("policy", "check", str(policies))
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"default.yaml:4: classifiers.remote.headers: {why}" in check.stderr, check.stderr
    refused = guard("serve", "-c", config(tmp_path, policies=str(policies)), "--check")
    said_plainly(refused, f"classifiers.remote.headers: {why}")
    assert "CANARY" not in check.stdout + check.stderr + refused.stderr


def test_the_readme_shows_the_message_guard_prints(tmp_path: Path) -> None:
    """README's example of an invalid configuration is guard's message to the letter (it once
    showed pydantic's "Value error, " that guard leaves out)."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    shown = re.search(r"^guard: invalid configuration: .*$", readme, re.M)
    assert shown is not None
    (tmp_path / "guard.yaml").write_text("upstreams:\n  default:\n    url: vllm:8000\n")
    done = subprocess.run([sys.executable, "-m", "guard", "serve", "-c", "guard.yaml", "--check"],
                          capture_output=True, text=True, timeout=90, check=False, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert (done.returncode, done.stderr.strip()) == (2, shown.group())


def test_sighup_with_nothing_to_reload_keeps_guard_serving(tmp_path: Path) -> None:
    server = GuardServer(tmp_path, {"upstreams": {"default": {"url": "http://127.0.0.1:9"}}})
    server.start()
    try:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert server.proc.poll() is None
        assert "sighup_ignored" in server.output()
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(("args", "env", "said"), [
    (["killswitch", "status", "--timeout", "-1"], {}, "--timeout: must be a number of seconds"),
    (["killswitch", "status", "--timeout", "nan"], {}, "--timeout: must be a number of seconds"),
    (["killswitch", "status", "--admin-url", "http://127.0.0.1:abc"], {"GUARD_ADMIN_TOKEN": "t"},
     "--admin-url must be an http:// or https:// URL with a host"),
    (["killswitch", "status", "--admin-url", "http://[::1"], {"GUARD_ADMIN_TOKEN": "t"},
     "--admin-url must be an http:// or https:// URL with a host"),
    (["killswitch", "status"], {"GUARD_ADMIN_TOKEN": "t\u00f6k"}, "must be printable ASCII"),
    (["killswitch", "engage", "--scope", "global", "--reason", "r", "--ttl", "nan"], {},
     "a TTL must be at least a second"),
    (["killswitch", "engage", "--scope", "global", "--reason", "r", "--ttl", "1e300"], {},
     "a TTL must be at least a second"),
    (["killswitch", "engage", "--scope", "global", "--reason", "r", "--ttl", "1e-9"], {},
     "a TTL must be at least a second"),
    (["killswitch", "release", ""], {}, "give the switch id"),
    (["killswitch", "status"], {"GUARD_ADMIN_TOKEN": "tok\nX: 1"}, "must be printable ASCII"),
])
def test_operator_tools_refuse_bad_values_plainly(args: list[str], env: dict[str, str],
                                                  said: str) -> None:
    done = guard(*args, env=env)
    assert done.returncode in (1, 2) and said in done.stderr and "Traceback" not in done.stderr


class NotGuard(http.server.BaseHTTPRequestHandler):
    """Answers 200 to everything, as a wrong port or a proxy's login page does."""

    def do_GET(self) -> None:
        body = b"<html>Sign in</html>" if "incidents" in self.path else b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_DELETE = do_GET

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def not_guard() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotGuard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("args", "said"), [
    (["killswitch", "status"], "no list 'switches' in its answer"),
    (["killswitch", "engage", "--scope", "global", "--reason", "x"], "no dict 'switch' in"),
    (["killswitch", "release", "ks_1"], "no list 'approvers' in its answer"),
    (["incidents", "export", "--since", "1h"], "not JSON ('<html>Sign in</html>')"),
])
def test_an_answer_that_is_not_guards_is_said_plainly(not_guard: str, args: list[str],
                                                      said: str) -> None:
    """From a probe: a 200 from something else (wrong port, a proxy's login page) made the
    operator CLI crash with KeyError, or say "Expecting value"; it names the URL, exit 1."""
    done = guard(*args, env={"GUARD_ADMIN_TOKEN": "t", "GUARD_ADMIN_URL": not_guard})
    assert done.returncode == 1, done.stderr
    assert f"{not_guard} did not answer as guard's admin API: {said}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


class Elsewhere(http.server.BaseHTTPRequestHandler):
    """Where a redirect points (another port, as another host would be): notes every request's
    Authorization header."""

    seen: list[str | None] = []

    def do_GET(self) -> None:
        Elsewhere.seen.append(self.headers.get("Authorization"))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_DELETE = do_GET

    def log_message(self, *_: object) -> None:
        pass


def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("args", [
    ["killswitch", "status"],
    ["killswitch", "engage", "--scope", "global", "--reason", "x"],
    ["incidents", "export", "--since", "1h"],
])
def test_the_admin_token_never_follows_a_redirect(args: list[str], status: int) -> None:
    """From a probe: an admin URL answering a redirect (an ingress, an SSO login) made the CLI
    send `Authorization: Bearer $GUARD_ADMIN_TOKEN` to the redirect's target, another host or
    port; it now follows none, says where the redirect pointed, exit 1."""
    Elsewhere.seen = []
    elsewhere = serving(Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_address[1]}/login"

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_DELETE = do_GET

        def log_message(self, *_: object) -> None:
            pass

    redirecting = serving(Redirecting)
    try:
        done = guard(*args, env={"GUARD_ADMIN_TOKEN": "never-leave-the-admin-port",
                                 "GUARD_ADMIN_URL": f"http://127.0.0.1:{redirecting.server_address[1]}"})
    finally:
        for server in (redirecting, elsewhere):
            server.shutdown()
            server.server_close()
    assert Elsewhere.seen == []
    assert done.returncode == 1, done.stderr
    assert (f"the admin URL answered a redirect (HTTP {status}) to {target}; not following it "
            "with the admin token: point --admin-url (or $GUARD_ADMIN_URL) at guard's admin "
            "port") in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "never-leave" not in done.stderr


@pytest.mark.parametrize(("location", "said"), [
    ("//oncall:HUNTER2PASSWORD@elsewhere.example/x", "to //***@elsewhere.example/x;"),
    ("http://elsewhere.example/\x1b]0;pwned\x07\x1b[2J",
     "to http://elsewhere.example/\\x1b]0;pwned\\x07\\x1b[2J;"),
])
@pytest.mark.parametrize("args", [["killswitch", "status"], ["incidents", "export", "--since", "1h"]])
def test_a_redirects_location_is_shown_masked_and_escaped(
        args: list[str], location: str, said: str) -> None:
    """From a probe: a scheme-relative Location (`//user:password@host/`) was printed with its
    password, and one holding escape sequences (a terminal title, a screen clear) reached the
    operator's terminal raw; the user info is shown as ***, control characters as escapes."""

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    redirecting = serving(Redirecting)
    try:
        done = guard(*args, env={"GUARD_ADMIN_TOKEN": "t" * 20,
                                 "GUARD_ADMIN_URL": f"http://127.0.0.1:{redirecting.server_address[1]}"})
    finally:
        redirecting.shutdown()
        redirecting.server_close()
    assert done.returncode == 1, done.stderr
    assert said in done.stderr, done.stderr
    assert "HUNTER2PASSWORD" not in done.stderr and "\x1b" not in done.stderr


@pytest.mark.parametrize("args", [["killswitch", "status"], ["incidents", "export", "--since", "1h"]])
def test_an_admin_url_that_is_no_http_server_is_said_plainly(args: list[str]) -> None:
    """From a probe: `--admin-url` at an SSH port (its banner for an answer) ended the CLI with
    a BadStatusLine traceback; it says the URL is no HTTP server or not guard's admin port."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def banner() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    threading.Thread(target=banner, daemon=True).start()
    try:
        done = guard(*args, env={"GUARD_ADMIN_TOKEN": "t" * 20, "GUARD_ADMIN_URL": url})
    finally:
        listener.close()
    assert done.returncode == 1, done.stderr
    assert f"{url} is not an HTTP server, or not guard's admin port (BadStatusLine): check " \
        "--admin-url or $GUARD_ADMIN_URL" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_admin_url_at_a_database_is_said_to_be_no_http_server(tmp_path: Path) -> None:
    """From a probe: `--admin-url` at redis-server's port (it drops a client that sends HTTP
    without a word) was reported as "cannot reach the admin API", sending on-call after the
    network rather than the URL."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        done = guard("killswitch", "status", env={
            "GUARD_ADMIN_TOKEN": "t" * 20, "GUARD_ADMIN_URL": f"http://127.0.0.1:{redis.port}"})
    finally:
        redis.stop()
    assert done.returncode == 1, done.stderr
    assert "closed the connection without an answer: not an HTTP server" in done.stderr
    assert "cannot reach" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["http://oncall:HUNTER2PASSWORD@127.0.0.1:9",
                                 "https://HUNTER2PASSWORD@127.0.0.1:9/",
                                 "http://oncall:HUNTER2PASSWORD@127.0.0.1:abc"])
def test_an_admin_url_with_a_password_is_refused_unshown(url: str) -> None:
    """From a probe: `--admin-url http://user:PASSWORD@host` was read as a host name
    `user:PASSWORD@host`, failed, and printed the password; it is refused, the user info shown
    as ***, exit 1."""
    done = guard("killswitch", "status", "--admin-url", url,
                 env={"GUARD_ADMIN_TOKEN": "t" * 20})
    assert done.returncode == 1, done.stderr
    assert "HUNTER2PASSWORD" not in done.stderr + done.stdout
    assert "--admin-url must not hold a user name or password (" in done.stderr, done.stderr
    assert "://***@127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
