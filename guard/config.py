"""guard's settings: one pydantic model. `guard.config_load` reads them from YAML, every key
overridable by the environment (`GUARD_*`), and checks them before anything starts.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from guard.incidents.settings import IncidentSettings
from guard.killswitch.settings import KillSwitchSettings

HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
# A redis:// URL's path: its database number, which redis-py reads with every '/' dropped
# (`/2/` and `//2` are database 2); `/2/3` would be database 23, and is refused as a typo.
REDIS_DB_PATH = re.compile(r"/?|/+[0-9]+/*")


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
                         a built-in classifier out of time on a huge text refuses it (503
                         `guard_overloaded`). The default keeps the worst texts measured
                         (RELIABILITY.md) at 0.26 s, well inside the classifiers' 1 s timeout;
                         raise both together.
    max_prompt_texts:    most texts (messages, text parts, tool calls and results) in one prompt,
                         and most items in a request's top-level list (`messages`, `input`);
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
    max_chars:   and at most this many characters of the texts they are for, each span their
                 verdicts keep counted as 128 (a bound on memory whatever the texts' length or
                 findings: about 64 MB of ASCII text by default).
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

    @field_validator("listen", "admin_listen", mode="before")
    @classmethod
    def _host_port(cls, value: object) -> object:
        # `listen: 8000` is a number to YAML: named as the host:port it is not, not as a type
        parse_host_port(value if isinstance(value, str) else repr(value))
        return value

    @field_validator("policies", "state_dir", mode="before")
    @classmethod
    def _a_path(cls, value: object, info: ValidationInfo) -> object:
        # a template or Secret rendered empty: Path("") is the current directory
        if value == "":
            raise ValueError("must not be empty (it would be read as the current directory)")
        # `GUARD_POLICIES=~` (config_load keeps a path variable's `~` as text, not YAML's null):
        # meant as a home directory, it would have run every request unguarded
        if value == "~":
            instead = ("`null` to run without policies, or a full path" if info.field_name ==
                       "policies" else "a full path")
            raise ValueError(f"`~` is YAML's null, not a home directory (guard expands none): "
                             f"write {instead}")
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
        path = urllib.parse.unquote(urllib.parse.urlsplit(value).path)
        if value.startswith(("redis://", "rediss://")) and not REDIS_DB_PATH.fullmatch(path):
            # redis-py drops a path that is not a number and uses database 0, shared with
            # whatever else uses it (its kill switches, incidents, verdicts)
            raise ValueError(f"the path {path!r} is not a database number: end the URL with "
                             "/0, /1, ... (or nothing, for database 0)")
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
    def _incidents_kept(self) -> Settings:
        # guard records every incident somewhere: with the log and the journal off and no Redis
        # Stream, each would be dropped, and /admin/incidents answer an empty journal
        if not (self.incidents.journal or self.incidents.log or self.redis_url):
            raise ValueError("incidents.journal and incidents.log are both false and redis_url "
                             "is not set: every incident would be lost; turn one of them back "
                             "on, or set redis_url (incidents then go to its Redis Stream, "
                             "incidents.redis_stream)")
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
        raise ValueError(f"{value!r} is not host:port (such as 127.0.0.1:8000, or 0.0.0.0:8000 "
                         "for every interface)")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (an explicit ":port" asks for all)


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
