"""guard's settings: one pydantic model, loaded from YAML, every key overridable by the environment.

`GUARD_<KEY>` overrides a top-level key (`GUARD_REDIS_URL`); a double underscore walks into a
section (`GUARD_UPSTREAMS__DEFAULT__URL`, `GUARD_KILLSWITCH__RELEASE_APPROVALS`), the file's or,
when the file has none, the built-in one (`upstreams`' default upstream). Values are read
as YAML scalars, so `null`, numbers, booleans and `[a, b]` lists work; a value that is not YAML
is its text (`[::]:8000`).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from guard.errors import ConfigError, PolicyError, validation_message
from guard.incidents.settings import IncidentSettings
from guard.killswitch.settings import KillSwitchSettings
from guard.policy.source import parse_yaml

ENV_PREFIX = "GUARD_"
# GUARD_* variables that are not settings: the operator CLI's token and admin URL
# (guard.admin.client), the admin tokens' default variable (`admin_tokens_env`), the image's
# health check URL (deploy/docker/Dockerfile).
NOT_SETTINGS = frozenset({"GUARD_ADMIN_TOKEN", "GUARD_ADMIN_URL", "GUARD_ADMIN_TOKENS",
                          "GUARD_HEALTH_URL"})
# How close (difflib ratio) an unknown variable's name must be to a setting's to read as a typo
# of it: REDIS_URI for REDIS_URL (0.89), POLICY for POLICIES (0.71); not SERVICE_HOST (0.43).
LOOKS_LIKE = 0.7
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamSettings(Strict):
    """One model endpoint.

    url:               base URL; guard appends the request path (`/v1/chat/completions`).
    timeout_s:         seconds the upstream may stay silent before guard answers 504 (or ends
                       a begun stream with an error event): before the answer's headers, then
                       between stream chunks, or until a non-streamed body is complete. Checked
                       four times per shortest timeout (at least every 0.25 s).
    connect_timeout_s: seconds to establish a connection before guard answers 502.
    max_connections:   pooled connections to this upstream (0: unlimited).
    """

    url: str = Field(json_schema_extra={"pattern": "^https?://"})
    timeout_s: float = Field(600.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    max_connections: int = Field(0, ge=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        parts = urllib.parse.urlsplit(value)
        if "@" in parts.netloc:
            # a client's Authorization is forwarded, and cannot be combined with URL credentials
            raise ValueError("must not hold credentials (user:password@); the client's "
                             "Authorization header is forwarded to the upstream")
        try:
            port = parts.port  # raises on a port that is not a number from 0 to 65535
        except ValueError:
            port = -1
        if not parts.hostname or port in (-1, 0) or any(c.isspace() for c in value):
            raise ValueError(f"must name a host and, optionally, a port from 1 to 65535: {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not hold a query or fragment: guard appends the request path")
        return value.rstrip("/")


class LimitSettings(Strict):
    """Bounds on what one client or one upstream can make guard hold, in time and memory.

    max_connections:     open client connections on the data port; beyond it new connections
                         get an immediate 503 `too_many_connections`.
    header_timeout_s:    a new connection must send its first request's headers within this.
    body_timeout_s:      a request body must arrive in full within this (408 otherwise).
    keepalive_timeout_s: idle keep-alive client connections are closed after this.
    client_write_timeout_s: a client must take each write of an answer (streamed, passed
                         through, or sent whole) within this; one that stops reading has its
                         answer ended (a stream's model connection closed, then the client's
                         connection), at most 0.25 s after this.
    max_header_bytes:    longest request line or header field (400 beyond).
    max_headers:         header fields per request (400 beyond).
    max_sse_event_bytes: longest SSE event accepted from an upstream; a longer one ends the
                         client's stream with an `upstream_protocol_error` event.
    max_response_bytes:  largest non-streamed upstream answer guard buffers to classify (502),
                         counted as decoded.
    max_prompt_chars:    most prompt text (characters, all messages together) guard classifies;
                         beyond it the request is refused with 413 `prompt_too_large`, because
                         classifiers that time out on a huge text fail open by default. The
                         default keeps the worst texts measured (RELIABILITY.md) near 0.4 s,
                         well inside the classifiers' 1 s timeout; raise both together.
    max_prompt_texts:    most texts (messages, text parts, tool calls and results) in one prompt;
                         beyond it 413 `prompt_too_large`. Each text costs guard's event loop
                         bookkeeping whatever its length: 60,000 one-letter messages had held it
                         2 s a request, stalling every stream. The default is eight times a long
                         agent conversation (200 tool calls and results: about 1,000 texts).
    unreadable_content:  what to do with a request whose prompt sends the model something guard
                         cannot read (an image, audio or file part, a prompt given as token
                         ids): `refuse` (400 `unreadable_content`, naming the part) or `pass`
                         (forward it; its text parts are still read). Only requests whose
                         policy inspects prompts are refused.
    """

    max_connections: int = Field(4096, gt=0)
    header_timeout_s: float = Field(10.0, gt=0)
    body_timeout_s: float = Field(30.0, gt=0)
    keepalive_timeout_s: float = Field(75.0, gt=0)
    client_write_timeout_s: float = Field(30.0, gt=0, allow_inf_nan=False)
    max_header_bytes: int = Field(8190, ge=1024)
    max_headers: int = Field(128, ge=16)
    max_sse_event_bytes: int = Field(1 << 20, ge=1024)
    max_response_bytes: int = Field(32 << 20, ge=1024)
    max_prompt_chars: int = Field(65_536, ge=1024)
    max_prompt_texts: int = Field(8192, ge=64)
    unreadable_content: Literal["refuse", "pass"] = "refuse"


class CacheSettings(Strict):
    """The verdict cache: a multi-turn conversation re-sends its history, and only new messages
    should cost a classification.

    max_entries: verdicts kept in process (least recently used evicted first).
    max_chars:   and at most this many characters of the texts they are for (a bound on memory
                 whatever the texts' length: about 64 MB of ASCII text by default).
    shared:      also keep verdicts in Redis (`redis_url`), shared by every replica.
    ttl_s:       seconds a verdict lives in Redis.
    """

    max_entries: int = Field(50_000, ge=0)
    max_chars: int = Field(64_000_000, ge=0)
    shared: bool = False
    ttl_s: int = Field(3600, gt=0)


class Settings(Strict):
    """Everything `guard serve` reads. See guard.example.yaml for every key with its default.

    A `json_schema_extra` repeats a validator's check in the JSON schema, which the Helm chart's
    values.schema.json is made from (guard.chart_schema).
    """

    listen: str = "127.0.0.1:8000"
    admin_listen: str = "127.0.0.1:9000"
    upstreams: dict[str, UpstreamSettings] = Field(
        default_factory=lambda: {"default": UpstreamSettings(url="http://127.0.0.1:8001")},
        json_schema_extra={"required": ["default"]},
    )
    routes: dict[str, str] = Field(default_factory=dict)
    passthrough: list[str] = Field(default_factory=list,
                                   json_schema_extra={"items": {"type": "string", "pattern": "^/"}})
    policies: Path | None = Path("./policies")
    redis_url: str | None = None
    state_dir: Path = Path("./.guard")
    tenant_header: str = Field("X-Guard-Tenant",
                               json_schema_extra={"pattern": f"^{HEADER_NAME.pattern}$"})
    admin_tokens_env: str = "GUARD_ADMIN_TOKENS"
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    shutdown_grace_s: float = Field(30.0, ge=0, allow_inf_nan=False)
    shutdown_drain_s: float = Field(0.0, ge=0, allow_inf_nan=False)  # still serving, Connection: close
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_content: bool = Field(False, deprecated="nothing reads it: guard never logs raw content",
                              json_schema_extra={"const": False})
    limits: LimitSettings = Field(default_factory=LimitSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    killswitch: KillSwitchSettings = Field(default_factory=KillSwitchSettings)

    @field_validator("listen", "admin_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_host_port(value)
        return value

    @field_validator("policies", "state_dir", mode="before")
    @classmethod
    def _a_path(cls, value: object) -> object:
        # a template or Secret rendered empty: Path("") is the current directory
        if value == "":
            raise ValueError("must not be empty (it would be read as the current directory)")
        return value

    @field_validator("tenant_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not HEADER_NAME.fullmatch(value):
            raise ValueError(f"must be an HTTP header name (letters, digits, -), not {value!r}: "
                             "no request would carry a tenant, and tenant scopes would never match")
        return value

    @field_validator("log_content")
    @classmethod
    def _never_logged(cls, value: bool) -> bool:
        if value:
            raise ValueError("retired, it never did anything: guard never writes raw prompts or "
                             "completions to its logs; for a redacted excerpt in each incident, "
                             "set incidents.excerpts: true")
        return value

    @field_validator("passthrough")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} must be an absolute path starting with /")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        from redis.asyncio.connection import parse_url

        try:
            parse_url(value)  # what every Redis client guard opens will do with it
        except ValueError as exc:  # its messages name the part, never the password
            raise ValueError(f"not a valid Redis URL: {exc}") from None
        return value

    @model_validator(mode="after")
    def _listeners_apart(self) -> Settings:
        data_host, data_port = parse_host_port(self.listen)
        admin_host, admin_port = parse_host_port(self.admin_listen)
        # Under --workers both listeners share their ports (SO_REUSEPORT): one port for both
        # would have the kernel spread connections over the data app and the admin app.
        if data_port == admin_port and _overlap(data_host, admin_host):
            raise ValueError(f"listen ({self.listen}) and admin_listen ({self.admin_listen}) "
                             "must not share a port: the admin API needs its own")
        return self

    @model_validator(mode="after")
    def _routes_name_upstreams(self) -> Settings:
        if "default" not in self.upstreams:
            raise ValueError("upstreams: a `default` upstream is required")
        for pattern, name in self.routes.items():
            if name not in self.upstreams:
                known = ", ".join(sorted(self.upstreams))
                raise ValueError(f"routes.{pattern}: unknown upstream {name!r} (known: {known})")
        return self


def parse_host_port(value: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) → (host, port); ValueError when it is neither."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (an explicit ":port" asks for all)


def admin_exposed(settings: Settings) -> str | None:
    """A warning when the admin API listens beyond loopback (0.0.0.0 in a container, a public
    address): it is not refused, but /metrics there needs no token and the kill switch is there."""
    host, _ = parse_host_port(settings.admin_listen)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        loopback = False
    if loopback:
        return None
    return (f"admin_listen {settings.admin_listen}: the admin API (kill switches, reloads, "
            "incidents; /metrics and health without a token) listens beyond loopback; keep the "
            "admin port off the public network")


def _overlap(host: str, other: str) -> bool:
    """Whether listeners on the two hosts (same port) would take each other's connections:
    the same host, or one the wildcard of the other's address family (asyncio binds IPv6
    listeners IPv6-only)."""
    if host == other:
        return True
    try:
        one, two = ipaddress.ip_address(host), ipaddress.ip_address(other)
    except ValueError:  # a host name: only the same name is known to clash
        return False
    return one.version == two.version and (one.is_unspecified or two.is_unspecified)


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (optional), apply `GUARD_*` overrides, validate. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    source = str(path) if path else "defaults"
    raw = {} if path is None else _read(path)
    overridden = _apply_env(raw, environ)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, overridden)) from exc
    _refuse_mistyped(environ, settings)
    _refuse_missing_hash_key(environ, settings, source)
    if path is not None:
        settings = _relative_to(settings, path.parent)
    return settings


def _read(path: Path) -> dict[str, Any]:
    """The file's keys; its YAML read as a policy file's is (a key given twice is an error naming
    its line, not the last one silently winning), merge keys (`<<: *base`) allowed."""
    try:
        loaded, _ = parse_yaml(path.read_text(encoding="utf-8"), path, merge_keys=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except PolicyError as exc:
        raise ConfigError("; ".join(exc.errors)) from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys")
    return loaded or {}


def check_state_dir(path: Path, *, make: bool = True) -> None:
    """`state_dir`, and the directories incidents are written in inside it, are writable
    directories or can be made (`state_dir` is made if missing, unless `make` is False): else
    ConfigError, before anything is started."""
    from guard.incidents.recorder import incidents_dir, journal_dir, spool_dir

    if path.exists() and not path.is_dir():
        raise ConfigError(f"state_dir {path}: not a directory")
    if make:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"state_dir {path}: cannot be made: {exc.strerror or exc}") from exc
    # (`incidents` left a file, or a directory owned by root after a first run as root)
    for directory in (path, incidents_dir(path), journal_dir(path), spool_dir(path)):
        nearest = next(p for p in (directory, *directory.parents) if p.exists())
        if not nearest.is_dir():
            raise ConfigError(f"state_dir {path}: {nearest} is not a directory")
        if not os.access(nearest, os.R_OK | os.W_OK | os.X_OK):
            raise ConfigError(f"state_dir {path}: cannot be made or written ({nearest})")


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Write `GUARD_*` values into `raw`; return key path → variable name, for error messages."""
    applied: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        if keys[0] not in Settings.model_fields:
            continue
        if len(keys) > 1 and keys[0] not in raw:
            # into the built-in section, not a new one in its place: GUARD_UPSTREAMS__DEFAULT__
            # TIMEOUT_S keeps the default upstream's url
            raw[keys[0]] = Settings.model_construct().model_dump(include={keys[0]})[keys[0]]
        node = raw
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        try:
            node[keys[-1]] = yaml.safe_load(value) if value else value
        except yaml.YAMLError:
            # not YAML: the text itself (`[::]:8000`), which the setting's type then checks
            node[keys[-1]] = value
        applied[".".join(keys)] = name
    return applied


def _refuse_mistyped(environ: Mapping[str, str], settings: Settings) -> None:
    """A GUARD_* variable that names no setting but reads like one (a section path, or a name
    close to a setting's) is a ConfigError, as the same typo in the file is: ignored, it would
    leave the setting it meant at its default. Other GUARD_* names (Kubernetes service links
    such as GUARD_SERVICE_HOST, a classifier's `api_key_env`) are not guard's to judge."""
    read_elsewhere = {*NOT_SETTINGS, settings.admin_tokens_env, settings.incidents.hash_key_env}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in read_elsewhere:
            continue
        key, section, _ = name[len(ENV_PREFIX):].lower().partition("__")
        if key in Settings.model_fields:
            continue
        close = difflib.get_close_matches(key, Settings.model_fields, 1, LOOKS_LIKE)
        if close or section:
            hint = f" (did you mean {ENV_PREFIX}{close[0].upper()}?)" if close else ""
            raise ConfigError(f"{name}: not a setting{hint}; unknown GUARD_* variables that "
                              "look like settings are refused")


def _refuse_missing_hash_key(environ: Mapping[str, str], settings: Settings, source: str) -> None:
    """`incidents.hash_key_env` naming a variable unset or empty (a Secret not mounted, a typo)
    is a ConfigError: guard would write the plain SHA-256 the setting is there to avoid."""
    name = settings.incidents.hash_key_env
    if name is None or environ.get(name):
        return
    why = "is empty" if name in environ else "is not set"
    raise ConfigError(f"{source}: incidents.hash_key_env: the variable {name} {why}; without "
                      "its key, content_hash would be a plain sha256: that a guessed text (a card "
                      "number) can be tested against")


def _describe(exc: ValidationError, source: str, overridden: Mapping[str, str]) -> str:
    problems = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"]) or "(top level)"
        origin = next((f" (from {var})" for key, var in overridden.items()
                       if path == key or path.startswith(key + ".")), "")
        problems.append(f"{source}: {path}{origin}: {validation_message(error)}")
    return "; ".join(problems)


def _relative_to(settings: Settings, base: Path) -> Settings:
    """Relative paths in a config file are relative to the file, not the working directory."""
    updates: dict[str, Path] = {}
    if settings.policies is not None and not settings.policies.is_absolute():
        updates["policies"] = base / settings.policies
    if not settings.state_dir.is_absolute():
        updates["state_dir"] = base / settings.state_dir
    return settings.model_copy(update=updates)
