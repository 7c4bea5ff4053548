"""Admin authentication: bearer tokens that name actors, for the audit trail.

Tokens come from the environment variable named by `admin_tokens_env` (default
`GUARD_ADMIN_TOKENS`), as `alice:TOKEN1,bob:TOKEN2`, each entry split at its first `:` (a token
may hold `:` and `;`, as generated passwords do). What shows a list written wrong is refused:
whitespace inside a token (`alice:A bob:B`), a `;` followed by what reads as another entry
(`alice:A;bob:B`), and a character that is not printable ASCII (a control, NUL, zero-width,
`é`: the CLI could not send it); one shorter than `MIN_TOKEN_CHARS` is warned about, not refused. A request
to any admin path other than the open ones needs `Authorization: Bearer <token>`: without one it
gets 401, with an unknown one 403.
Tokens are compared in constant time against every configured token, so neither timing nor the
order of the list tells an attacker anything. Handlers read the actor with `request[ADMIN_ACTOR]`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import prometheus_client
import structlog
from aiohttp import web

from guard.errors import ConfigError

log = structlog.get_logger("guard.admin")

ADMIN_ACTOR = web.RequestKey("admin_actor", str)
"""The authenticated actor's name, set by `admin_auth_middleware` on every admin request."""

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RESERVED_ACTORS = frozenset({"breaker", "ttl"})  # written by guard itself in the audit trail
_ACTOR_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_ANOTHER_ENTRY = re.compile(r";\s*[A-Za-z0-9_.@-]{1,64}:")  # `;` written for `,`: `A;bob:B`
MIN_TOKEN_CHARS = 16

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class AdminTokens:
    """Actor names and the SHA-256 digests of their tokens (raw tokens are not kept); `short`:
    the actors whose token is shorter than `MIN_TOKEN_CHARS`."""

    digests: tuple[tuple[str, bytes], ...] = ()
    short: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> AdminTokens:
        pairs = tuple(pairs)
        return cls(tuple((actor, _digest(token)) for actor, token in pairs),
                   tuple(actor for actor, token in pairs if len(token) < MIN_TOKEN_CHARS))

    @property
    def actors(self) -> tuple[str, ...]:
        return tuple(actor for actor, _ in self.digests)

    def actor_for(self, token: str) -> str | None:
        """The actor `token` belongs to, or None. Always compares against every token."""
        given = _digest(token)
        found: str | None = None
        for actor, digest in self.digests:
            if hmac.compare_digest(given, digest) and found is None:
                found = actor
        return found


def _digest(token: str) -> bytes:
    # Equal-length digests keep compare_digest from leaking the configured tokens' lengths.
    # A header's bytes that are not UTF-8 arrive as surrogates: written back as they came, they
    # match no token (each printable ASCII) and are refused as any unknown one (encoded strictly,
    # they had failed the request, 500, with a traceback each).
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def parse_admin_tokens(text: str, source: str = "GUARD_ADMIN_TOKENS") -> AdminTokens:
    """`alice:TOKEN1,bob:TOKEN2` → AdminTokens. ConfigError names the bad entry by position
    (never by its token)."""
    pairs: list[tuple[str, str]] = []
    for position, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        if not item:
            continue
        actor, sep, token = item.partition(":")
        actor, token = actor.strip(), token.strip()
        if not sep or not token:
            raise ConfigError(f"{source}: entry {position}: expected actor:token")
        if not _ACTOR_NAME.match(actor):
            raise ConfigError(f"{source}: entry {position}: actor names use letters, digits, "
                              "and _ . @ - (at most 64)")
        if actor in RESERVED_ACTORS:
            raise ConfigError(f"{source}: entry {position}: {actor!r} is reserved for guard")
        if held := _not_in_a_token(token):
            raise ConfigError(f"{source}: entry {position} (actor {actor!r}): its token holds "
                              f"{held}; entries are actor:token, separated by ',' "
                              "(alice:TOKEN1,bob:TOKEN2), and a token holds no whitespace, no "
                              "';' before another name: and only printable ASCII characters")
        pairs.append((actor, token))
    actors = [a for a, _ in pairs]
    if len(set(actors)) != len(actors):
        raise ConfigError(f"{source}: an actor is listed twice")
    if len({t for _, t in pairs}) != len(pairs):
        raise ConfigError(f"{source}: two actors share a token; each actor needs its own")
    return AdminTokens.from_pairs(pairs)


def _not_in_a_token(token: str) -> str:
    """What `token` holds that shows a list written wrong (" and "-joined), or "". `:` and `;`
    alone are a token's own (generated passwords hold them)."""
    held = []
    if any(char.isspace() for char in token):
        held.append("whitespace")
    if _ANOTHER_ENTRY.search(token):
        held.append("';' then what reads as another entry (name:)")
    if not all(char.isspace() or char.isprintable() for char in token):
        held.append("a character that is not printable (control, NUL or zero-width)")
    elif not token.isascii():
        held.append("a character beyond ASCII (the guard CLI sends printable ASCII only, and "
                    "clients send header bytes beyond it in differing encodings)")
    return " and ".join(held)


def load_admin_tokens(
    env_name: str = "GUARD_ADMIN_TOKENS", environ: Mapping[str, str] | None = None
) -> AdminTokens:
    """The tokens in the environment variable `env_name` (none configured: every admin call is
    refused, which is the safe default)."""
    environ = os.environ if environ is None else environ
    return parse_admin_tokens(environ.get(env_name, ""), source=env_name)


def no_tokens_warning(tokens: AdminTokens, env_name: str,
                      environ: Mapping[str, str] | None = None) -> str | None:
    """What `serve --check` and the start-up log say when no admin token is configured: every
    admin call would be refused, the kill switch's too. GUARD_ADMIN_TOKEN, the operator CLI's
    one token, set instead (one letter short of the default) is named."""
    if tokens.digests:
        return None
    environ = os.environ if environ is None else environ
    state = "is empty" if env_name in environ else "is not set"
    mixed_up = ("; GUARD_ADMIN_TOKEN is set, but that is the guard CLI's own token, which the "
                f"server does not read (did you mean {env_name}?)"
                if environ.get("GUARD_ADMIN_TOKEN") and env_name != "GUARD_ADMIN_TOKEN" else "")
    return (f"no admin tokens: {env_name} {state}{mixed_up}: every admin call but /healthz, "
            "/readyz and /metrics (kill switch, reloads, incidents) will be refused; set "
            f"{env_name}=name:token,...")


def short_tokens_warning(tokens: AdminTokens, env_name: str) -> str | None:
    """What `serve --check` and the start-up log say when an actor's token is shorter than
    `MIN_TOKEN_CHARS` (a warning only: deployments with short tokens keep starting)."""
    if not tokens.short:
        return None
    names = ", ".join(f"{actor}'s" for actor in tokens.short)
    return (f"short admin tokens: {names} token{'s' if len(tokens.short) > 1 else ''} in "
            f"{env_name} {'are' if len(tokens.short) > 1 else 'is'} shorter than "
            f"{MIN_TOKEN_CHARS} characters, easy to guess; give each actor a long random one "
            "(openssl rand -hex 24)")


def error_body(message: str, type_: str, code: str, param: str | None = None
               ) -> dict[str, dict[str, str | None]]:
    """OpenAI's error shape, which every guard error answer uses."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class Refusals:
    """What `admin_auth_middleware` refuses: counted by code, and logged at most every
    `every_s` with the counts since the last line (a run of guesses makes one line, not one per
    guess), by code (`refused`) and by the caller's address (`remote`: the peer's, the first
    `MAX_REMOTES` seen since the last line, the rest counted as `other`; never the token); what
    a burst leaves unlogged is written `every_s` after its last line."""

    CODES = ("missing_admin_token", "invalid_admin_token")
    MAX_REMOTES = 16

    def __init__(self, counter: prometheus_client.Counter, every_s: float = 10.0) -> None:
        self.counter = counter
        for code in self.CODES:  # at 0 from the start: the first refusal shows as an increase
            counter.labels(code)
        self.every_s = every_s
        self.since: Counter[str] = Counter()
        self.remotes: Counter[str] = Counter()
        self.next_log = 0.0
        self._later: asyncio.TimerHandle | None = None

    def __call__(self, code: str, remote: str | None = None) -> None:
        self.counter.labels(code).inc()
        self.since[code] += 1
        remote = remote or "unknown"
        if remote not in self.remotes and len(self.remotes) >= self.MAX_REMOTES:
            remote = "other"
        self.remotes[remote] += 1
        loop = asyncio.get_running_loop()
        if loop.time() >= self.next_log:
            self._write(loop)
        elif self._later is None:
            self._later = loop.call_at(self.next_log, self._write, loop)

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._later is not None:
            self._later.cancel()
            self._later = None
        if self.since:
            log.warning("admin_auth_refused", refused=dict(self.since), remote=dict(self.remotes),
                        detail="admin calls refused for their token since the last such line")
            self.since.clear()
            self.remotes.clear()
        self.next_log = loop.time() + self.every_s


def admin_auth_middleware(
    tokens: AdminTokens, open_paths: Iterable[str] = OPEN_PATHS,
    refused: Callable[[str, str | None], None] = lambda code, remote: None,
    tokens_env: str = "GUARD_ADMIN_TOKENS",
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware: open paths pass; every other path needs a known bearer token.
    `refused` hears the code and the peer address of each call refused (counted, and logged now
    and then: a run of guesses or a client with a stale token shows, and from where). With no
    token configured, a token is refused as ever, but the answer says that the guard has none
    (`tokens_env` is where they belong): the caller's token is not what is wrong."""
    always_open = frozenset(open_paths)
    if tokens.digests:
        invalid = "This admin token is not valid."
    else:
        invalid = (f"This guard has no admin tokens configured, so it refuses every admin call: "
                   f"set {tokens_env} (actor:token,...) in its environment and restart it.")

    @web.middleware
    async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in always_open:
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            refused("missing_admin_token", request.remote)
            return web.json_response(
                error_body("An admin token is required: Authorization: Bearer <token>.",
                           "authentication_error", "missing_admin_token"),
                status=401, headers={"WWW-Authenticate": 'Bearer realm="guard-admin"'},
            )
        actor = tokens.actor_for(token)
        if actor is None:
            refused("invalid_admin_token", request.remote)
            # `alice:TOKEN` copied whole from the tokens variable (whether the rest is a token
            # is not said: the hint is the same for any token with a colon)
            whole_entry = (f" Give the token alone: in {tokens_env}'s name:token entries it is "
                           "the part after the colon." if ":" in token and tokens.digests else "")
            return web.json_response(
                error_body(invalid + whole_entry, "permission_error", "invalid_admin_token"),
                status=403,
            )
        request[ADMIN_ACTOR] = actor
        return await handler(request)

    return admin_auth
