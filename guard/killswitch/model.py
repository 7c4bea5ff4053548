"""Switches, their scopes, and the precomputed index the gate matches requests against.

A scope is `global`, `model:<name or glob>`, `tenant:<id or glob>` or `route:<path or glob>`.
Every switch whose scope matches a request applies (a request naming no model meets every `model:` switch: the
upstream picks a model for it, maybe the one stopped); of those, a `block` switch beats a
`refuse` switch, and among equals the oldest wins (so the answer is stable while switches come
and go).
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from guard.observability.shown import DIGEST, matched_model
from guard.types import GuardContext, Switch, model_key

SCOPE_KINDS = ("global", "model", "tenant", "route")
MODES = ("block", "refuse")
MAX_SCOPE_CHARS = 256
# The longest model name a request may give: one a `model:` switch or breaker can still name.
MAX_MODEL_CHARS = MAX_SCOPE_CHARS - len("model:")
MAX_REASON_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GLOB_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Scope:
    """A parsed scope: `kind` is one of SCOPE_KINDS, `value` is empty for `global`."""

    kind: str
    value: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "global" else f"{self.kind}:{self.value}"


def parse_scope(text: str) -> Scope:
    """`global`, `model:<glob>`, `tenant:<id or glob>` or `route:<path>` → Scope; ValueError
    otherwise."""
    if not isinstance(text, str) or not text:
        raise ValueError("scope is required: global, model:<glob>, tenant:<id or glob> or "
                         "route:<path>")
    if len(text) > MAX_SCOPE_CHARS:
        raise ValueError(f"scope must be at most {MAX_SCOPE_CHARS} characters (got {len(text)})")
    if control := _CONTROL.search(text):
        raise ValueError(f"scope {text!r} holds a control character, "
                         f"U+{ord(control.group()):04X}, at index {control.start()}")
    if text == "global":
        return Scope("global")
    kind, sep, value = text.partition(":")
    if not sep or kind not in SCOPE_KINDS[1:]:
        raise ValueError(
            f"scope {text!r} is not global, model:<glob>, tenant:<id or glob> or route:<path>"
        )
    if not value:
        raise ValueError(f"scope {text!r} names no {kind}")
    if kind == "route" and not value.startswith("/"):
        raise ValueError(f"scope {text!r}: a route is a path starting with /")
    return Scope(kind, value)


# The shortest TTL: a shorter switch would lift before it reached every replica and worker.
MIN_TTL_S = 1.0
# The longest TTL: past a year, a switch is meant to stay (omit the TTL) or the value is a slip.
MAX_TTL_S = 366 * 86400.0


def ttl_problem(ttl_s: object) -> str | None:
    """Why a TTL is refused (None when it is not): the one check for the admin API, the CLI's
    `--ttl` and breakers' `duration_s`."""
    if (isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float)
            or not MIN_TTL_S <= ttl_s <= MAX_TTL_S):  # (NaN fails too)
        return (f"a TTL must be at least a second (it would lift before the fleet saw it) and at "
                f"most a year ({MAX_TTL_S:.0f} seconds), not {ttl_s!r}")
    return None


def validate_switch_request(
    scope: str, mode: str, reason: str, ttl_s: float | None
) -> tuple[Scope, str, str, float | None]:
    """Check what an operator (or a breaker) asks to engage; ValueError names the bad field."""
    parsed = engageable_scope(scope)
    if mode not in MODES:
        raise ValueError(f"mode must be block or refuse, not {mode!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason is required: say why the switch is engaged")
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"reason must be at most {MAX_REASON_CHARS} characters")
    if ttl_s is not None and (problem := ttl_problem(ttl_s)):
        raise ValueError(f"ttl_s: {problem} (seconds; omit it for a switch that stays until "
                         "released)")
    return parsed, mode, reason.strip(), None if ttl_s is None else float(ttl_s)


@dataclass(frozen=True, slots=True)
class Entry:
    """A switch as stored: the switch, plus the actors who have approved its release so far."""

    switch: Switch
    release_approvals: tuple[str, ...] = ()

    def expired(self, now: float) -> bool:
        return self.switch.expires_at is not None and self.switch.expires_at <= now

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def as_dict(self) -> dict[str, Any]:
        """The wire form used by the store, the admin API and audit events."""
        data = asdict(self.switch)
        data["release_approvals"] = list(self.release_approvals)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        expires = data.get("expires_at")
        switch = Switch(
            id=str(data["id"]), scope=str(data["scope"]), mode=str(data["mode"]),
            reason=str(data["reason"]), actor=str(data["actor"]),
            created_at=float(data["created_at"]),
            expires_at=None if expires is None else float(expires),
        )
        return cls(switch, tuple(str(a) for a in data.get("release_approvals", ())))

    @classmethod
    def from_json(cls, text: str | bytes) -> Entry:
        return cls.from_dict(json.loads(text))


def _precedence(switch: Switch) -> tuple[int, float, str]:
    return (0 if switch.mode == "block" else 1, switch.created_at, switch.id)


def _strongest(switches: Iterable[Switch | None]) -> Switch | None:
    present = [s for s in switches if s is not None]
    return min(present, key=_precedence) if present else None


class _ByName:
    """Switches whose scopes name a model, a tenant or a route, each by a name or a glob
    (`*`, `?`, `[...]`, matched case-sensitively: model names are folded before they get here).
    An exact name costs a dict look-up; the globs are tried once per name met, the answer kept."""

    __slots__ = ("_cache", "_globs", "exact")

    def __init__(self, pairs: Iterable[tuple[str, Switch]]) -> None:
        pairs = list(pairs)
        self.exact = _best_per_key(p for p in pairs if not is_glob(p[0]))
        self._globs = [p for p in pairs if is_glob(p[0])]
        self._cache: dict[str, Switch | None] = {}

    def get(self, name: str) -> Switch | None:
        if not self._globs:
            return self.exact.get(name)
        try:
            return self._cache[name]
        except KeyError:
            pass
        found = _strongest(
            [self.exact.get(name), *(s for p, s in self._globs if fnmatch.fnmatchcase(name, p))]
        )
        # Names come from clients; bound the cache so odd names cannot grow it forever.
        if len(self._cache) >= _GLOB_CACHE_LIMIT:
            self._cache.clear()
        self._cache[name] = found
        return found


class SwitchIndex:
    """The engaged switches, arranged so that matching a request costs a few dict look-ups.

    Built once per state change; immutable afterwards except for the per-name glob caches,
    which only ever hold answers that are true for this index.
    """

    __slots__ = (
        "_any_model", "_digests", "_global", "_models", "_routes", "_tenants", "empty",
        "next_expiry",
    )

    def __init__(self, entries: Iterable[Entry], now: float) -> None:
        active = [e.switch for e in entries if not e.expired(now)]
        self.empty = not active
        self.next_expiry = min(
            (s.expires_at for s in active if s.expires_at is not None), default=math.inf
        )
        by_kind: dict[str, list[tuple[str, Switch]]] = {k: [] for k in SCOPE_KINDS}
        for switch in active:
            scope = parse_scope(switch.scope)
            by_kind[scope.kind].append((scope.value, switch))
        self._global = _strongest(s for _, s in by_kind["global"])
        self._tenants = _ByName(by_kind["tenant"])
        models = [(model_key(value), switch) for value, switch in by_kind["model"]]
        self._models = _ByName(models)
        self._digests = any(DIGEST.fullmatch(name) for name in self._models.exact)
        self._any_model = _strongest(s for _, s in models)
        self._routes = _ByName(by_kind["route"])

    def match(self, ctx: GuardContext) -> Switch | None:
        """The switch that stops `ctx`, or None. Expiry is the caller's business (next_expiry)."""
        if self.empty:
            return None
        found = self._global
        model = None if ctx.model_unknown else self._for_model(ctx.model)
        if self._digests and not ctx.model_unknown and ctx.model:
            # a breaker that tripped on a name holding a key names it by digest (`matched_model`)
            model = _strongest([model, self._models.exact.get(matched_model(ctx.model))])
        tenant = self._tenants.get(ctx.tenant) if ctx.tenant is not None else None
        return _strongest([found, model, tenant, self._routes.get(ctx.route)])

    def _for_model(self, model: str) -> Switch | None:
        model = model_key(model)
        return self._models.get(model) if model else self._any_model


def model_name_problem(model: object) -> str | None:
    """Why a request's `model` cannot be stopped by name (None when it can): it must be a string
    a `model:` switch can name, so a breaker counting it can engage one."""
    if model is None:
        return None
    if not isinstance(model, str):
        return "model must be a string"
    if len(model) > MAX_MODEL_CHARS:
        return f"model must be at most {MAX_MODEL_CHARS} characters (got {len(model)})"
    # not printable: control characters, and also a line or paragraph separator, which split a
    # log line for some readers, and a bidi override or a zero-width character
    index = next((i for i, char in enumerate(model) if not char.isprintable()), None)
    if index is not None:
        return (f"model must be printable characters only: {model!r} holds U+{ord(model[index]):04X}"
                f" (an invisible or control character) at index {index}")
    return None


def engageable_scope(text: str) -> Scope:
    """`parse_scope`, also refusing (ValueError) a scope no request can match
    (`scope_value_problem`)."""
    scope = parse_scope(text)
    problem = scope_value_problem(scope)
    if problem:
        raise ValueError(f"scope {text!r} refused, it could stop no request: {problem}")
    return scope


def scope_value_problem(scope: Scope) -> str | None:
    """Why a scope being engaged names what no request can carry (None when it can): a model
    name the data plane refuses (`model_name_problem`), or an invisible character (a zero-width
    space, a bidi mark, a no-break space), which a paste brings along unseen. Checked when a
    switch is engaged, not when a stored one is read: a switch already engaged keeps applying."""
    hidden = [ch for ch in scope.value if not ch.isprintable()]
    if hidden:
        return f"it holds invisible or control characters: {code_points(hidden)}"
    if scope.kind == "model" and (problem := model_name_problem(scope.value)):
        return f"a request naming such a model is refused ({problem})"
    return None


def non_ascii_warning(scope: Scope) -> str | None:
    """A warning for a `model:` or `tenant:` scope spelled with characters beyond ASCII (a
    no-break hyphen U+2011 pasted from a wiki for `-`): it stops only the name spelled with
    exactly those characters, so the on-call is told which ones, by code point."""
    if scope.kind not in ("model", "tenant") or scope.value.isascii():
        return None
    return (f"{scope.kind} {scope.value.encode('ascii', 'backslashreplace').decode()} holds "
            f"non-ASCII characters: {code_points(c for c in scope.value if not c.isascii())}; "
            f"it stops only a {scope.kind} spelled with exactly these (a look-alike pasted for "
            "an ASCII character stops nothing)")


def code_points(chars: Iterable[str]) -> str:
    """Characters by code point and name, each once: `U+2011 NON-BREAKING HYPHEN`."""
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}"
                     for c in dict.fromkeys(chars))


def same_scope(a: str, b: str) -> bool:
    """Whether two stored scopes stop the same requests as written (a model name as matched,
    `model_key`: `model:GPT-4o` and `model:gpt-4o` are one scope)."""
    if a == b:
        return True
    kind_a, _, value_a = a.partition(":")
    kind_b, _, value_b = b.partition(":")
    return kind_a == kind_b == "model" and model_key(value_a) == model_key(value_b)


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _best_per_key(pairs: Iterable[tuple[str, Switch]]) -> dict[str, Switch]:
    best: dict[str, Switch] = {}
    for key, switch in pairs:
        current = best.get(key)
        if current is None or _precedence(switch) < _precedence(current):
            best[key] = switch
    return best

