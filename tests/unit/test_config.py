"""Loading guard.yaml: defaults, overrides, and errors that name the file, key and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard.config_load import load_config
from guard.errors import ConfigError


def test_defaults_without_a_file() -> None:
    """With no file and no environment, guard listens on loopback and allows nothing unguarded."""
    settings = load_config(None, environ={})
    assert settings.listen == "127.0.0.1:8000"
    assert settings.admin_listen == "127.0.0.1:9000"
    assert settings.upstreams["default"].url == "http://127.0.0.1:8001"


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    """policies and state_dir in a config file resolve against the file's directory."""
    config = tmp_path / "conf" / "guard.yaml"
    config.parent.mkdir()
    config.write_text("policies: ./pol\nstate_dir: st\n")
    settings = load_config(config, environ={})
    assert settings.policies == config.parent / "pol"
    assert settings.state_dir == config.parent / "st"


def test_env_overrides_top_level_and_nested_keys(tmp_path: Path) -> None:
    """GUARD_<KEY> and GUARD_<SECTION>__<KEY> override the file, parsed as YAML scalars."""
    config = tmp_path / "guard.yaml"
    config.write_text("max_body_bytes: 100\nupstreams: {default: {url: 'http://a:1'}}\n")
    settings = load_config(config, environ={
        "GUARD_MAX_BODY_BYTES": "2048", "GUARD_REDIS_URL": "redis://127.0.0.1:6379/0",
        "GUARD_UPSTREAMS__DEFAULT__TIMEOUT_S": "5", "GUARD_PASSTHROUGH": "[/v1/embeddings]",
        "GUARD_ADMIN_TOKENS": "alice:secret"})
    assert settings.max_body_bytes == 2048
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.upstreams["default"].url == "http://a:1"
    assert settings.upstreams["default"].timeout_s == 5
    assert settings.passthrough == ["/v1/embeddings"]


def test_env_overrides_one_key_of_a_built_in_section() -> None:
    """From a probe: with no `upstreams` in the file, GUARD_UPSTREAMS__DEFAULT__TIMEOUT_S
    replaced the built-in upstreams with one lacking a url (`upstreams.default.url: Field
    required`), and a second upstream dropped the default; an override goes into the defaults."""
    settings = load_config(None, environ={
        "GUARD_UPSTREAMS__DEFAULT__TIMEOUT_S": "120", "GUARD_KILLSWITCH__RELEASE_APPROVALS": "2",
        "GUARD_UPSTREAMS__LOCAL__URL": "http://127.0.0.1:11434", "GUARD_ROUTES": "{'llama*': local}"})
    default, local = settings.upstreams["default"], settings.upstreams["local"]
    assert (default.url, default.timeout_s) == ("http://127.0.0.1:8001", 120)
    assert (local.url, local.timeout_s) == ("http://127.0.0.1:11434", 600)
    assert settings.routes == {"llama*": "local"}
    assert settings.killswitch.release_approvals == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("listen: nowhere\n", "listen"),
    ("bogus_key: 1\n", "bogus_key"),
    ("routes: {'gpt-*': missing}\n", "routes.gpt-*: unknown upstream 'missing'"),
    ("upstreams: {other: {url: 'http://x'}}\n", "a `default` upstream is required"),
    ("redis_url: localhost:6379\n", "redis_url"),
    ("redis_url: 'redis://127.0.0.1:63a9/0'\n", "redis_url: not a valid Redis URL: Port could"),
    ("redis_url: 'redis://[::1/0'\n", "redis_url: not a valid Redis URL: Invalid IPv6 URL"),
    ("- a list\n", "expected a mapping"),
    ("tenant_header: ''\n", "tenant_header: must be an HTTP header name"),
    ("state_dir: ''\n", "state_dir: must not be empty"),
    ("tenant_header: 'X Tenant'\n", "tenant_header: must be an HTTP header name"),
    ("log_content: true\n", "log_content: retired, it never did anything"),
    ("shutdown_grace_s: .inf\n", "shutdown_grace_s: Input should be a finite number"),
    ("shutdown_drain_s: .nan\n", "shutdown_drain_s: Input should be a finite number"),
    ("limits: {client_write_timeout_s: .inf}\n", "limits.client_write_timeout_s: Input should be "
     "a finite number"),
    ("limits: {client_write_timeout_s: 0}\n", "limits.client_write_timeout_s: Input should be "
     "greater than 0"),
    ("upstreams: {default: {url: 'http://'}}\n", "must name a host"),
    ("upstreams: {default: {url: 'http://host:99999'}}\n", "must name a host"),
    ("upstreams: {default: {url: 'http://exa mple.com'}}\n", "must name a host"),
    ("upstreams: {default: {url: 'http://h/v1?x=1'}}\n", "must not hold a query"),
    ("admin_listen: 127.0.0.1:8000\n", "listen (127.0.0.1:8000) and admin_listen (127.0.0.1:8000)"),
    ("listen: ':9000'\n", "listen (:9000) and admin_listen (127.0.0.1:9000) must not share"),
    ("{listen: '[::]:9000', admin_listen: '[::1]:9000'}\n", "listen ([::]:9000) and admin_listen"),
])
def test_errors_name_file_key_and_reason(tmp_path: Path, text: str, expected: str) -> None:
    """Every invalid file raises ConfigError naming the file and the offending key path."""
    config = tmp_path / "guard.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert str(config) in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("redis_uri: redis://r:6379\n", ": redis_uri: unknown key (did you mean redis_url?)"),
    ("limits: {max_conections: 5}\n",
     ": limits.max_conections: unknown key (did you mean max_connections?)"),
    ("upstreams: {default: {url: 'http://x', timeout: 3}}\n",
     ": upstreams.default.timeout: unknown key (did you mean timeout_s?)"),
    ("killswitch: {breakers: [{name: b, label: x, threshold: 1, window_s: 1, duration_s: 1, "
     "scop: model}]}\n", ": killswitch.breakers.0.scop: unknown key (did you mean scope?)"),
    ("cache: {zzz: 1}\n", ": cache.zzz: unknown key (expected one of: max_entries, max_chars, "
     "shared, ttl_s)"),
    ("listen: 8000\n", ": listen: '8000' is not host:port (such as 127.0.0.1:8000, or "
     "0.0.0.0:8000 for every interface)"),
    ("admin_listen: '9000'\n", ": admin_listen: '9000' is not host:port (such as"),
    ("incidents: 5\n", ": incidents: expected a mapping of keys (got 5)"),
])
def test_file_errors_say_what_was_meant(tmp_path: Path, text: str, expected: str) -> None:
    """From a probe: a typo'd key in the file read `redis_uri: Extra inputs are not permitted`
    (the same typo as a variable had a "did you mean"), and `listen: 8000` read `Input should be
    a valid string`; an unknown key names the one likely meant, a listener the host:port form."""
    config = tmp_path / "guard.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert f"{config}{expected}" in str(caught.value)


def test_listeners_on_one_port_but_apart_are_accepted(tmp_path: Path) -> None:
    """Distinct hosts on one port (IPv4 and IPv6, IPv6 listeners bound IPv6-only) do not clash."""
    config = tmp_path / "guard.yaml"
    for data, admin in (("127.0.0.1:9000", "127.0.0.2:9000"), ("[::]:9000", "127.0.0.1:9000")):
        config.write_text(f"{{listen: '{data}', admin_listen: '{admin}'}}\n")
        settings = load_config(config, environ={})
        assert (settings.listen, settings.admin_listen) == (data, admin)


def test_a_bad_redis_url_is_named_without_its_password() -> None:
    """From a probe: a Redis URL its client cannot parse passed the check, then `serve` died
    with a traceback; it is a configuration error that does not echo the password."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"GUARD_REDIS_URL": "redis://:hunter2pw@h:99999/0"})
    assert "redis_url (from GUARD_REDIS_URL): not a valid Redis URL: Port out of range" in str(
        caught.value)
    assert "hunter2pw" not in str(caught.value)


@pytest.mark.parametrize(("name", "expected"), [
    ("GUARD_REDIS_URI", "GUARD_REDIS_URI: not a setting (did you mean GUARD_REDIS_URL?)"),
    ("GUARD_POLICY", "(did you mean GUARD_POLICIES?)"),
    ("GUARD_UPSTREAM__DEFAULT__URL", "(did you mean GUARD_UPSTREAMS?)"),
    ("GUARD_KILL__RELEASE_APPROVALS", "GUARD_KILL__RELEASE_APPROVALS: not a setting;"),
    ("GUARD_UPSTREAMS_DEFAULT_URL", "(did you mean GUARD_UPSTREAMS__DEFAULT__URL? a double "
     "underscore walks into a section)"),
    ("GUARD_UPSTREAMS_MY_LOCAL_TIMEOUT_S", "(did you mean GUARD_UPSTREAMS__MY_LOCAL__TIMEOUT_S?"),
    ("GUARD_LIMITS_MAX_CONNECTIONS", "(did you mean GUARD_LIMITS__MAX_CONNECTIONS?"),
    ("GUARD_KILLSWITCH_BOGUS", "(did you mean GUARD_KILLSWITCH__<KEY>?"),
    ("GUARD_PORT", "(did you mean GUARD_LISTEN? it takes host:port, such as "
     "GUARD_LISTEN=0.0.0.0:8000)"),
    ("GUARD_ADMIN_PORT", "(did you mean GUARD_ADMIN_LISTEN? it takes host:port"),
])
def test_a_mistyped_variable_is_refused(name: str, expected: str) -> None:
    """From a probe: GUARD_REDIS_URI was ignored (the replica ran on embedded state) while the
    same typo in guard.yaml was refused; a variable that reads like a setting is refused too,
    GUARD_UPSTREAMS_DEFAULT_URL (single underscores) and GUARD_PORT (8000) among them."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={name: "redis://redis:6379/0"})
    assert expected in str(caught.value)


def test_guard_variables_that_are_not_settings_are_left_alone() -> None:
    """Every GUARD_* name the code, the image and the chart use, Kubernetes' service links for a
    Service named guard, and the variables settings name (`*_env`) are not taken for typos."""
    import re

    root = Path(__file__).resolve().parents[2]
    used = {name for folder in ("guard", "deploy", "helm") for path in (root / folder).rglob("*")
            if path.is_file() and path.suffix in {".py", ".yaml", ".tpl", ""}
            for name in re.findall(r"\bGUARD_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="replace"))}
    assert {"GUARD_ADMIN_TOKEN", "GUARD_ADMIN_URL", "GUARD_HEALTH_URL"} <= used
    links = {"GUARD_SERVICE_HOST", "GUARD_SERVICE_PORT", "GUARD_PORT", "GUARD_PORT_8000_TCP_ADDR",
             "GUARD_ADMIN_SERVICE_HOST", "GUARD_ADMIN_PORT"}
    named = {"GUARD_OPS_TOKENS", "GUARD_HASH_KEY"}
    for name in used | links | named:
        try:
            value = "tcp://10.0.0.7:8000" if name in links else "x"  # GUARD_PORT=8000 is a typo
            load_config(None, environ={name: value, "GUARD_ADMIN_TOKENS_ENV": "GUARD_OPS_TOKENS",
                                       "GUARD_INCIDENTS__HASH_KEY_ENV": "GUARD_HASH_KEY"})
        except ConfigError as exc:
            assert "not a setting" not in str(exc), name


@pytest.mark.parametrize("service", ["guard-redis", "guard-state", "guard-policies",
                                     "guard-routes", "guard-upstreams", "guard"])
def test_kubernetes_service_links_are_left_alone(service: str) -> None:
    """From a probe: a Service named guard-redis beside guard gave every pod GUARD_REDIS_PORT=
    tcp://10.0.0.7:6379, which `serve --check` refused (did you mean GUARD_REDIS_URL?): every
    variable Kubernetes makes for a Service, in each of its shapes, is left alone."""
    prefix = service.upper().replace("-", "_")
    url = "tcp://10.0.0.7:6379"
    links = {f"{prefix}_SERVICE_HOST": "10.0.0.7", f"{prefix}_SERVICE_PORT": "6379",
             f"{prefix}_SERVICE_PORT_REDIS_MAIN": "6379", f"{prefix}_PORT": url,
             f"{prefix}_PORT_6379_TCP": url, f"{prefix}_PORT_6379_TCP_PROTO": "tcp",
             f"{prefix}_PORT_6379_TCP_PORT": "6379", f"{prefix}_PORT_6379_TCP_ADDR": "10.0.0.7",
             f"{prefix}_PORT_53_UDP_ADDR": "10.0.0.7", f"{prefix}_PORT_9_SCTP": "sctp://10.0.0.7:9"}
    settings = load_config(None, environ=links)
    assert settings.redis_url is None


def test_variables_a_policy_names_are_left_alone(tmp_path: Path) -> None:
    """From a probe: a llama_guard classifier with `api_key_env: GUARD_UPSTREAM_KEY` made
    `serve --check` refuse the variable it reads (did you mean GUARD_UPSTREAMS?); the variables a
    policy's `*_env` keys name, in a directory or a single policy file, are the policy's."""
    policy = tmp_path / "pol" / "default.yaml"
    policy.parent.mkdir()
    policy.write_text("name: default\nversion: '1'\nclassifiers:\n  lg: {type: llama_guard, "
                      "url: 'http://127.0.0.1:1/v1', model: m, api_key_env: GUARD_UPSTREAM_KEY}\n"
                      "rules: []\n")
    environ = {"GUARD_UPSTREAM_KEY": "secret"}
    for where in (policy.parent, policy):
        config = tmp_path / "guard.yaml"
        config.write_text(f"policies: {where.relative_to(tmp_path)}\n")
        assert load_config(config, environ=environ).policies == where
    with pytest.raises(ConfigError, match="GUARD_UPSTREAM_KEY: not a setting"):
        load_config(None, environ=environ)


def test_env_error_names_the_variable(tmp_path: Path) -> None:
    """A bad override says which environment variable it came from."""
    with pytest.raises(ConfigError, match=r"max_body_bytes \(from GUARD_MAX_BODY_BYTES\)"):
        load_config(None, environ={"GUARD_MAX_BODY_BYTES": "lots"})


@pytest.mark.parametrize(("text", "expected"), [
    ("listen: 127.0.0.1:8000\n\tadmin_listen: 127.0.0.1:9000\n",
     ":2: invalid YAML: found character '\\t' that cannot start any token"),
    ("key: [unclosed\n", ":2: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("listen: !thing x\n", ":1: invalid YAML: could not determine a constructor for the tag"),
])
def test_bad_yaml_is_one_line_naming_file_and_line(tmp_path: Path, text: str,
                                                   expected: str) -> None:
    """From a probe: a YAML syntax error was PyYAML's five lines about `<unicode string>`; it
    is one line, `file:line: invalid YAML: problem`, as in policy files."""
    config = tmp_path / "guard.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert str(caught.value).startswith(f"{config}{expected}")
    assert "\n" not in str(caught.value)


def test_a_key_given_twice_is_refused_naming_its_line(tmp_path: Path) -> None:
    """From a probe: a `killswitch:` section pasted twice was taken silently, the last one
    winning (`release_approvals: 2` dropped); a key given twice is refused as in policy files."""
    config = tmp_path / "guard.yaml"
    config.write_text("killswitch:\n  release_approvals: 2\nlisten: 127.0.0.1:8000\n"
                      "killswitch:\n  retry_after_s: 10\n"
                      "upstreams:\n  default: {url: 'http://a:1', url: 'http://b:1'}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert str(caught.value) == (f"{config}:4: killswitch: duplicate key; "
                                 f"{config}:7: upstreams.default.url: duplicate key")


def test_merge_keys_still_work(tmp_path: Path) -> None:
    """YAML merge keys (`<<: *base`) in guard.yaml are taken, as PyYAML took them; a key of the
    mapping's own overrides a merged one (that is no duplicate)."""
    config = tmp_path / "guard.yaml"
    config.write_text("upstreams:\n  default: &base {url: 'http://a:1', timeout_s: 30}\n"
                      "  slow: {<<: [{connect_timeout_s: 3}, *base], url: 'http://b:1'}\n")
    slow = load_config(config, environ={}).upstreams["slow"]
    assert (slow.url, slow.timeout_s, slow.connect_timeout_s) == ("http://b:1", 30, 3)


@pytest.mark.parametrize(("environ", "why"), [({}, "is not set"), ({"HASH_KEY": ""}, "is empty")])
def test_a_hash_key_variable_unset_or_empty_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        environ: dict[str, str], why: str) -> None:
    """From a probe: `incidents.hash_key_env` naming an unset variable was taken silently and
    every content_hash was a plain, guessable sha256:; `serve --check` (and serve) refuse it."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\nincidents: {{hash_key_env: HASH_KEY}}\n")
    monkeypatch.delenv("HASH_KEY", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "-c", str(config), "--check"]) == 2
    assert (f"guard: invalid configuration: {config}: incidents.hash_key_env: the variable "
            f"HASH_KEY {why}") in capsys.readouterr().err
    monkeypatch.setenv("HASH_KEY", "a-deployment-secret")
    assert main(["serve", "-c", str(config), "--check"]) == 0


def test_serve_check_in_process_leaves_the_callers_signal_handlers(tmp_path: Path) -> None:
    """`main(["serve", "--check"])` called in a process (a test, a tool) gave it guard's start-up
    handlers for good: SIGHUP ignored, which every child it started then inherited, and SIGTERM
    raising StoppedStarting. A check, valid or not, hands the caller's handlers back."""
    import signal

    from guard.cli import main

    config = tmp_path / "guard.yaml"
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)}
    for text, status in ((f"policies: null\nstate_dir: {tmp_path}\n", 0), ("listen: [\n", 2)):
        config.write_text(text)
        assert main(["serve", "-c", str(config), "--check"]) == status
        assert {sig: signal.getsignal(sig) for sig in before} == before


@pytest.mark.parametrize("name", ["GUARD_STATE_DIR", "GUARD_POLICIES"])
def test_an_empty_path_variable_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    """From a probe: GUARD_STATE_DIR= (a template rendered empty) was read as ".", the config
    file's directory, and GUARD_POLICIES= loaded guard.yaml itself as a policy; both are refused
    naming the variable, as an empty GUARD_REDIS_URL is."""
    config = tmp_path / "guard.yaml"
    config.write_text("policies: /srv/policies\nstate_dir: /var/lib/guard\n")
    key = name.removeprefix("GUARD_").lower()
    with pytest.raises(ConfigError, match=rf"^{config}: {key} \(from {name}\): must not be empty"):
        load_config(config, environ={name: ""})


@pytest.mark.parametrize(("name", "instead"), [
    ("GUARD_POLICIES", "write `null` to run without policies, or a full path"),
    ("GUARD_STATE_DIR", "write a full path"),
])
def test_a_path_variable_of_a_tilde_is_refused(tmp_path: Path, name: str, instead: str) -> None:
    """From a probe: GUARD_POLICIES=~ (meant as a home directory) was read as YAML's null and
    ran every request unguarded ("policies: none"); `~` for a path is refused, saying what to
    write, and GUARD_POLICIES=null still runs without policies."""
    config = tmp_path / "guard.yaml"
    config.write_text("policies: /srv/policies\nstate_dir: /var/lib/guard\n")
    key = name.removeprefix("GUARD_").lower()
    with pytest.raises(ConfigError, match=rf"^{config}: {key} \(from {name}\): `~` is YAML's "
                       rf"null, not a home directory \(guard expands none\): {instead}$"):
        load_config(config, environ={name: "~"})
    assert load_config(config, environ={"GUARD_POLICIES": "null"}).policies is None


@pytest.mark.parametrize(("admin_listen", "warned"), [
    ("127.0.0.1:9000", False), ("[::1]:9000", False), ("localhost:9000", False),
    ("0.0.0.0:9000", True), (":9000", True), ("[::]:9000", True), ("203.0.113.7:9000", True),
    ("guard-admin.internal:9000", True),
])
def test_serve_check_warns_of_an_admin_api_beyond_loopback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], admin_listen: str, warned: bool) -> None:
    """From a probe: admin_listen on 0.0.0.0 was called valid without a word; it still is (a
    container's must listen there), with a warning to keep the admin port off the public network."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\nadmin_listen: '{admin_listen}'\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warning = (f"  warning: admin_listen {admin_listen}: the admin API (kill switches, reloads, "
               "incidents; /metrics and health without a token) listens beyond loopback; keep the "
               "admin port off the public network")
    assert (warning in capsys.readouterr().out.splitlines()) is warned


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "  warning: no admin tokens: GUARD_ADMIN_TOKENS is not set: every admin call but "
         "/healthz, /readyz and /metrics (kill switch, reloads, incidents) will be refused; set "
         "GUARD_ADMIN_TOKENS=name:token,..."),
    ({"GUARD_ADMIN_TOKENS": ""}, "  warning: no admin tokens: GUARD_ADMIN_TOKENS is empty:"),
    ({"GUARD_ADMIN_TOKEN": "s3cret"}, "  warning: no admin tokens: GUARD_ADMIN_TOKENS is not set; "
     "GUARD_ADMIN_TOKEN is set, but that is the guard CLI's own token, which the server does not "
     "read (did you mean GUARD_ADMIN_TOKENS?): every admin call"),
    ({"GUARD_ADMIN_TOKENS": "alice:t1,bob:t2"}, "  admin tokens: alice, bob (from GUARD_ADMIN_TOKENS)"),
    ({"GUARD_ADMIN_TOKENS": "alice:t1,bob:bob-token-0123456789"}, "  warning: short admin tokens: "
     "alice's token in GUARD_ADMIN_TOKENS is shorter than 16 characters, easy to guess; give "
     "each actor a long random one"),
])
def test_serve_check_says_whether_admin_tokens_are_set(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        environ: dict[str, str], expected: str) -> None:
    """From a probe: with no admin tokens `serve --check` said nothing (the kill switch would
    refuse everyone), and GUARD_ADMIN_TOKEN, one letter short, was silently not read."""
    from guard.cli import main

    for name in ("GUARD_ADMIN_TOKENS", "GUARD_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith(expected) for line in out.splitlines()), out


@pytest.mark.parametrize(("url", "warned"), [
    ("http://vllm:8000/v1", True), ("https://api.openai.com/v1/", True),
    ("http://vllm:8000", False), ("http://gw/openai", False), ("http://gw/v1beta", False),
])
def test_serve_check_warns_of_an_upstream_url_ending_in_v1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, warned: bool) -> None:
    """From a probe: an upstream URL copied from an SDK's base_url (…/v1) passed the check, then
    every request went to /v1/v1/chat/completions; the check names the doubled path."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\nupstreams: {{default: {{url: '{url}'}}}}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    base = url.rstrip("/")
    warning = (f"  warning: upstreams.default.url {base} ends in /v1: guard appends the request "
               f"path, so /v1/chat/completions would go to {base}/v1/chat/completions (a 404); "
               f"drop the /v1 (url: {base.removesuffix('/v1')})")
    assert (warning in capsys.readouterr().out.splitlines()) is warned


def test_a_missing_policies_path_says_where_it_was_looked_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """From a probe: `policies: ./policies` in a config file kept elsewhere stopped guard with
    only `.../policies: no such policy file or directory`; the message names the `policies:`
    key, that the path is relative to the config file, and `policies: null`."""
    from guard.cli import main

    config = tmp_path / "conf" / "guard.yaml"
    config.parent.mkdir()
    config.write_text(f"policies: ./policies\nstate_dir: {tmp_path}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 2
    assert capsys.readouterr().err == (
        f"guard: invalid configuration: {config}: policies: {config.parent / 'policies'}: no such "
        f"policy file or directory (a relative path is relative to the config file's directory, "
        f"{config.parent}); point `policies:` at a policy directory or file, or set "
        "`policies: null` to run without policies\n")


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "guard.yaml"
    config.write_bytes(b'listen: "\xff"\n')
    with pytest.raises(ConfigError, match=f"{config}: not UTF-8 text"):
        load_config(config, environ={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A config path that does not exist is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", environ={})


def test_example_file_loads_and_documents_every_key() -> None:
    """guard.example.yaml is valid and mentions every top-level settings key (not retired ones)."""
    from guard.config import Settings

    example = Path(__file__).resolve().parents[2] / "guard.example.yaml"
    load_config(example, environ={})
    text = example.read_text()
    missing = [key for key, field in Settings.model_fields.items()
               if field.deprecated is None and f"\n{key}:" not in text]
    assert missing == []


def test_readme_table_has_every_top_level_key() -> None:
    """From a probe: the README's configuration table had no `shutdown_drain_s`; every top-level
    key but the sections (documented in guard.example.yaml and their own pages) and retired ones
    has a row."""
    import re

    from guard.config import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_]+)(?:\.[^`]*)?` \|", readme, flags=re.MULTILINE))
    sections = {"limits", "cache", "incidents", "killswitch"}
    keys = {name for name, field in Settings.model_fields.items() if not field.deprecated}
    assert keys - sections - rows == set()


def test_serve_check_validates_and_starts_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`guard serve --check`: a valid configuration prints what would run and exits 0 without
    listening; a bad policy or a bad key exits 2 with the same message `guard serve` gives."""
    from guard.cli import main

    repo_policies = Path(__file__).resolve().parents[2] / "policies"
    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: {repo_policies}\nstate_dir: {tmp_path / 'state'}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    out = capsys.readouterr().out
    assert f"guard: configuration valid ({config})" in out and "listen 127.0.0.1:8000" in out
    assert "policy default 2025.1 (7 rules, default)" in out and "tenants=consumer" in out
    assert not (tmp_path / "state").exists()  # nothing was started or written
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nrules: [{name: r, when: {classifier: c}, action: deny}]\n")
    config.write_text(f"policies: {bad}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 2
    assert "invalid policies" in capsys.readouterr().err
    config.write_text("listen: nowhere\n")
    assert main(["serve", "-c", str(config), "--check"]) == 2
    assert "invalid configuration" in capsys.readouterr().err


@pytest.mark.parametrize(("templates", "warned"), [
    (["/{tail:.*}"], ["/{tail:.*}"]), (["/api/{tail:.*}", "/v1/{tail:.*}"], ["/api/{tail:.*}"]),
    (["/v1{tail:.*}"], ["/v1{tail:.*}"]), (["/api/chat"], ["/api/chat"]),
    (["/v1/{tail:.*}", "/v1/embeddings", "/health", "/v1/chat/completions"], []),
])
def test_serve_check_warns_of_a_pass_through_template_beyond_v1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], templates: list[str],
        warned: list[str]) -> None:
    """From a probe: `passthrough: ["/{tail:.*}"]` passed the check and started unwarned, and
    forwarded other servers' model routes (/chat/completions, /api/chat, /generate) unread."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\npassthrough: {json.dumps(templates)}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines()
                if line.startswith("  warning: passthrough ")
                and "at or under the guarded route" not in line
                and "where a model runs" not in line]
    assert [line.split()[2] for line in warnings] == warned


@pytest.mark.parametrize(("templates", "named"), [
    (["/v1/files/{tail:.*}", "/v1/batches", "/v1/threads/{tail:.*}", "/v1/audio/{tail:.*}"],
     {"/v1/batches": ["OpenAI's Batch API"],
      "/v1/threads/{tail:.*}": ["POST /v1/threads/runs", "POST /v1/threads/thread_1/runs"],
      "/v1/audio/{tail:.*}": ["POST /v1/audio/speech"]}),
    (["/v1/{tail:.*}"], {"/v1/{tail:.*}": ["POST /v1/batches", "POST /v1/messages/batches",
                                           "POST /v1/threads/runs", "POST /v1/audio/speech"]}),
    (["/{tail:.*}"], {"/{tail:.*}": ["POST /v1/batches", "/api/chat", "/chat/completions"]}),
    (["/v1/files/{tail:.*}", "/v1/files", "/v1/embeddings", "/v1/models/{model}"], {}),
])
def test_serve_check_names_the_model_routes_a_pass_through_template_reaches(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], templates: list[str],
        named: dict[str, list[str]]) -> None:
    """From a probe: with `/v1/files/{tail:.*}`, `/v1/batches`, `/v1/threads/{tail:.*}` and
    `/v1/audio/{tail:.*}` the check warned of nothing, and a batch, an Assistants run and a
    speech request passed unread; under `/v1/{tail:.*}` the warning named only
    /v1/chat/completions, not `POST /v1/messages/batches`, which passed unread."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\npassthrough: {json.dumps(templates)}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warnings = {line.split()[2]: line for line in capsys.readouterr().out.splitlines()
                if line.startswith("  warning: passthrough ")
                and "at or under the guarded route" not in line}
    assert set(warnings) == set(named)
    for template, names in named.items():
        assert all(name in warnings[template] for name in names), warnings[template]


@pytest.mark.parametrize(("template", "says"), [
    ("/v1/batches", "is where a model runs on a prompt guard does not read: OpenAI's Batch API"),
    ("/v1/batches", "guard refuses POST /v1/batches (400 invalid_path)"),
    ("/v1/audio/speech", "does not read: OpenAI's speech; guard forwards no such request: "
     "guard refuses POST /v1/audio/speech"),
    ("/v1/realtime", "guard refuses every request to /v1/realtime"),
    ("/api/chat", "is where a model's text is answered unguarded: Ollama, as on the guarded "
     "route /v1/chat/completions; ask /v1/chat/completions: guard refuses POST /api/chat"),
    ("/chat/completions", "guard refuses every request to /chat/completions"),
])
def test_serve_check_says_what_of_a_listed_path_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str, says: str) -> None:
    """From a re-probe: `/v1/batches` listed was warned "guard refuses it", where only its POST
    is refused, and the warnings read "OpenAI's speech run a model"."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\npassthrough: [{template}]\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    [warning] = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith(f"  warning: passthrough {template} is where")]
    assert says in warning, warning


@pytest.mark.parametrize(("templates", "warned"), [
    (["/v1/chat/completions/{id}", "/v1/chat/completions/{id}/messages"],
     ["/v1/chat/completions/{id}", "/v1/chat/completions/{id}/messages"]),
    (["/v1/{tail:.*}", "/{tail:.*}", "/v1/chat/completions", "/v1/responses/{id}/input_items"],
     ["/v1/{tail:.*}", "/{tail:.*}", "/v1/chat/completions", "/v1/responses/{id}/input_items"]),
    (["/v1/embeddings", "/v1/files/{tail:.*}", "/health", "/v1/models/{model}"], []),
    # from a re-probe: one segment cannot take chat/completions; a count keeps no answer
    (["/v1/{x}/batches", "/v1/responses/input_tokens", "/v1/messages/count_tokens",
      "/v1/chat/{x}"], ["/v1/chat/{x}"]),
])
def test_serve_check_warns_of_a_pass_through_template_under_a_guarded_route(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], templates: list[str],
        warned: list[str]) -> None:
    """From a probe: guard's 404 told the operator to list `/v1/chat/completions/{id}`; listed,
    a stored completion (the key guard had refused) reached the app unread, unwarned."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\npassthrough: {json.dumps(templates)}\n")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines()
                if "at or under the guarded route" in line]
    assert [line.split()[2] for line in warnings] == warned


@pytest.mark.parametrize(("text", "refused"), [
    ("incidents: {journal: false, log: false}\n", True),
    ("incidents: {journal: false}\n", False), ("incidents: {log: false}\n", False),
    ("incidents: {journal: false, log: false}\nredis_url: redis://r:6379/0\n", False),
])
def test_settings_that_would_lose_every_incident_are_refused(
        tmp_path: Path, text: str, refused: bool) -> None:
    """From a probe: with the journal and the log both off and no Redis, a blocked request left
    no incident anywhere (/admin/incidents answered []), and `serve --check` exited 0; one
    incident output left (the log, the journal or the Redis Stream) is enough."""
    config = tmp_path / "guard.yaml"
    config.write_text(text)
    if not refused:
        load_config(config, environ={})
        return
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert (f"{config}: (top level): incidents.journal and incidents.log are both false and "
            "redis_url is not set: every incident would be lost") in str(caught.value)


@pytest.mark.parametrize(("url", "path"), [
    ("redis://127.0.0.1:6379/l", "/l"), ("rediss://r:6380/abc", "/abc"),
    ("redis://r:6379/0/1", "/0/1"), ("redis://r:6379/-1", "/-1"),
    ("redis://r:6379", None), ("redis://r:6379/", None), ("redis://r/15", None),
    ("redis://:pw@r:6379/%31", None), ("unix:///run/redis.sock?db=2", None),
    # from a probe: redis-py reads these as database 2 and 0 (it drops every '/'); 2acb442
    # refused them
    ("redis://r:6379/2/", None), ("redis://r:6379//2", None), ("rediss://r:6380/0/", None),
    ("redis://r:6379/2/3", "/2/3"), ("redis://r:6379/2/x", "/2/x"),
])
def test_a_redis_url_path_that_is_no_database_number_is_refused(
        tmp_path: Path, url: str, path: str | None) -> None:
    """From a probe: `redis://h:6379/l` (a letter l for 1) passed `serve --check` and ran on
    database 0, which redis-py uses for a path that is not a number, sharing kill switches and
    incidents with whatever else uses it; a path that is not empty, `/` or a number is refused."""
    config = tmp_path / "guard.yaml"
    config.write_text(f"redis_url: '{url}'\n")
    if path is None:
        assert load_config(config, environ={}).redis_url == url
        return
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert (f"{config}: redis_url: the path {path!r} is not a database number: end the URL with "
            "/0, /1, ... (or nothing, for database 0)") in str(caught.value)


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("", "GUARD_UPSTREAMS__DEFUALT__URL", "GUARD_UPSTREAMS__DEFUALT__URL: makes a new upstream "
     "'defualt' that no route uses, and {config} has no upstream of that name (did you mean "
     "default? GUARD_UPSTREAMS__DEFAULT__URL); upstreams.default would keep its own settings"),
    ("upstreams: {default: {url: 'http://a:1'}, local: {url: 'http://b:1'}}\n"
     "routes: {'llama*': local}\n", "GUARD_UPSTREAMS__LOACL__TIMEOUT_S",
     "(did you mean local? GUARD_UPSTREAMS__LOCAL__TIMEOUT_S)"),
    # from a probe: an upstream named with capitals can be set by no variable (their names are
    # read in lower case), and the error suggested the very variable it refused
    ("upstreams: {default: {url: 'http://a:1'}, Llama: {url: 'http://b:1'}}\n"
     "routes: {'llama*': Llama}\n", "GUARD_UPSTREAMS__LLAMA__URL",
     "GUARD_UPSTREAMS__LLAMA__URL: cannot set upstreams.Llama: variable names are read in lower "
     "case, so an upstream named with capital letters cannot be set from the environment; "
     "rename it 'llama' in {config} (and in its routes), and the variable sets it"),
    ("upstreams: {default: {url: 'http://a:1'}, Local: {url: 'http://b:1'}}\n"
     "routes: {'llama*': Local}\n", "GUARD_UPSTREAMS__LOACL__TIMEOUT_S",
     "(did you mean Local? GUARD_UPSTREAMS__LOCAL__TIMEOUT_S; an upstream named with capital "
     "letters cannot be set from the environment: rename Local 'local' in {config})"),
])
def test_an_upstream_name_mistyped_in_a_variable_is_refused(
        tmp_path: Path, text: str, name: str, expected: str) -> None:
    """From a probe: GUARD_UPSTREAMS__DEFUALT__URL made a new upstream `defualt` no route used,
    while `default` kept its URL, and `serve --check` said the configuration was valid."""
    config = tmp_path / "guard.yaml"
    config.write_text(text or "policies: null\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={name: "30"} if name.endswith("_S") else {
            name: "http://10.1.2.3:8000"})
    assert expected.format(config=config) in str(caught.value)


def test_an_upstream_a_variable_adds_for_a_route_is_accepted() -> None:
    """A new upstream close to an existing name is no typo when a route sends requests to it."""
    settings = load_config(None, environ={"GUARD_UPSTREAMS__DEFAULT2__URL": "http://b:1",
                                          "GUARD_ROUTES": "{'gpt-*': default2}"})
    assert settings.upstreams["default2"].url == "http://b:1"


def test_serve_check_refuses_a_mistyped_upstream_variable(tmp_path: Path) -> None:
    """`guard serve --check` exits 2 naming the variable and the upstream it likely meant."""
    import os
    import subprocess
    import sys

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\n")
    environ = {**os.environ, "GUARD_UPSTREAMS__DEFUALT__URL": "http://10.1.2.3:8000"}
    checked = subprocess.run([sys.executable, "-m", "guard", "serve", "-c", str(config), "--check"],
                             env=environ, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 2, checked.stdout
    assert "(did you mean default? GUARD_UPSTREAMS__DEFAULT__URL)" in checked.stderr


@pytest.mark.parametrize(("text", "warned"), [
    ("upstreams: {default: {url: 'http://a:1'}, spare: {url: 'http://b:1'}}\n", ["spare"]),
    ("upstreams: {default: {url: 'http://a:1'}, local: {url: 'http://b:1'}, "
     "old: {url: 'http://c:1'}}\nroutes: {'llama*': local}\n", ["old"]),
    ("upstreams: {default: {url: 'http://a:1'}, local: {url: 'http://b:1'}}\n"
     "routes: {'llama*': local}\n", []),
])
def test_serve_check_warns_of_an_upstream_no_route_uses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, warned: list[str]) -> None:
    """An upstream neither `default` nor named by a route receives nothing: likely a typo in
    `routes:` or in the upstream's name; `serve --check` says so."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\n{text}")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warnings = [line.split()[1] for line in capsys.readouterr().out.splitlines()
                if line.endswith("name it in a route, or remove it")]
    assert warnings == [f"upstreams.{name}:" for name in warned]


@pytest.mark.parametrize(("text", "warned"), [
    ("cache: {shared: true}\n", True), ("cache: {shared: true}\nredis_url: redis://r:6379/0\n", False),
    ("cache: {shared: false}\n", False),
])
def test_serve_check_warns_of_a_shared_cache_without_redis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, warned: bool) -> None:
    """`cache.shared: true` without `redis_url` shares nothing; it passed the check unwarned."""
    from guard.cli import main

    config = tmp_path / "guard.yaml"
    config.write_text(f"policies: null\nstate_dir: {tmp_path}\n{text}")
    assert main(["serve", "-c", str(config), "--check"]) == 0
    warning = ("  warning: cache.shared is true but redis_url is not set: verdicts are not shared, "
               "each process keeps its own cache; set redis_url, or cache.shared: false")
    assert (warning in capsys.readouterr().out.splitlines()) is warned
