"""IncidentV1: the evidence guard keeps for every decision that is not a plain allow, and for
operational events (kill switch changes, breaker trips, stream cut-offs).

Serialised with orjson as one JSON object per incident (`"v": 1` first). An incident never holds
the text it is about: a `content_hash` always, an `excerpt` only when excerpts are enabled, and
then redacted and truncated (guard.incidents.excerpt).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from guard.observability.shown import shown_model
from guard.types import Action, Decision, GuardContext, Mode, RuleMatch, Verdict

VERSION = 1
DECISION = "decision"
STREAM_EVENTS = frozenset({"stream_cut", "stream_unchecked"})  # of a streamed answer
EVENT_KINDS = frozenset({"killswitch", "breaker", *STREAM_EVENTS})

# Policy severities from the mildest; an unknown severity ranks above `info` and below `low`.
SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class MatchV1:
    """One rule that matched: the rule's name, what it does, how bad and what kind it is."""

    rule: str
    action: str
    mode: str
    severity: str
    category: str


@dataclass(frozen=True, slots=True)
class VerdictV1:
    """A classifier finding as kept in an incident: labels and score, never the span text.

    joined: how many earlier messages of the segment's role the score was read with (a request
            sent in pieces, `turns:`); 0 for the segment alone. Incidents written before it
            existed read as 0.
    """

    classifier: str
    segment: int
    labels: tuple[str, ...]
    score: float
    joined: int = 0


@dataclass(frozen=True, slots=True)
class IncidentV1:
    """One incident.

    id:            unique, time-ordered (`inc-<unix ms hex>-<random>`).
    time:          Unix time in seconds when guard made the decision or saw the event.
    kind:          `decision`, or the event kind (`killswitch`, `breaker`, `stream_cut`,
                   `stream_unchecked`).
    action, mode:  for a decision, the strictest enforced action (`mode: enforce`); for a decision
                   with only shadow matches, the strictest action they would have taken
                   (`mode: shadow`). Events carry their own action in `details`.
    rules:         names of every matched rule, enforced and shadow.
    verdicts:      the fired verdicts the decision was made on.
    prompt_verdicts: a completion decision's: what fired on the request's prompt among what the
                   matched rules' `prompt:` conditions read (incidents written before it: none).
    severity, category: of the strictest match (events: `info`/`event` unless details say).
    content_hash:  `hmac-sha256:<hex>` of the UTF-8 text the decision was made on, under the
                   operator's key or the deployment's (guard.incidents.hashkey); incidents
                   written before every hash was keyed may hold `sha256:<hex>`.
    excerpt:       redacted, truncated text; None unless excerpts are enabled.
    details:       event specifics (actor, scope, reason, rule, offset...); for a decision,
                   empty but for `stream_ended`: an optimistic stream's text the client had
                   been sent was read after the stream ended early, the value saying why
                   (`client_disconnected`, `client_stalled`, or the ending's error code).
    """

    id: str
    time: float
    kind: str = DECISION
    request_id: str | None = None
    tenant: str | None = None
    model: str | None = None
    route: str | None = None
    stage: str | None = None
    action: str = "allow"
    mode: str = "enforce"
    policy: str = ""
    policy_version: str = ""
    rules: tuple[str, ...] = ()
    matches: tuple[MatchV1, ...] = ()
    verdicts: tuple[VerdictV1, ...] = ()
    prompt_verdicts: tuple[VerdictV1, ...] = ()
    severity: str = "info"
    category: str = "event"
    content_hash: str | None = None
    excerpt: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"v": VERSION, **asdict(self)}

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), default=_fallback)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IncidentV1:
        """Read an incident written by any version this code knows (1)."""
        if data.get("v") != VERSION:
            raise ValueError(f"unknown incident version {data.get('v')!r}")
        values = {k: v for k, v in data.items() if k in _FIELDS}
        values["rules"] = tuple(values.get("rules") or ())
        values["matches"] = tuple(MatchV1(**m) for m in values.get("matches") or ())
        for key in ("verdicts", "prompt_verdicts"):
            values[key] = tuple(
                VerdictV1(v["classifier"], v["segment"], tuple(v["labels"]), v["score"],
                          v.get("joined", 0))
                for v in values.get(key) or ())
        return cls(**values)

    @classmethod
    def from_json(cls, raw: bytes | str) -> IncidentV1:
        return cls.from_dict(orjson.loads(raw))


_FIELDS = frozenset(IncidentV1.__dataclass_fields__)


def _fallback(value: Any) -> Any:
    """Event details may carry tuples, sets or enums; anything else becomes its string."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def new_id(now: float | None = None) -> str:
    """A unique id that sorts by time: milliseconds since the epoch, then 64 random bits."""
    millis = int((time.time() if now is None else now) * 1000)
    return f"inc-{millis:012x}-{os.urandom(8).hex()}"


def content_hash(text: str, key: bytes) -> str:
    """`hmac-sha256:<hex>` of the text under `key` (guard.incidents.hashkey): never a plain
    hash, which a short text (a card number, an e-mail address) is found again from by hashing
    every candidate."""
    data = text.encode("utf-8", "surrogatepass")
    return "hmac-sha256:" + hmac.new(key, data, hashlib.sha256).hexdigest()


def severity_rank(severity: str) -> int:
    try:
        return SEVERITIES.index(severity) * 2
    except ValueError:
        return 1


def headline(decision: Decision) -> tuple[tuple[RuleMatch, ...], Mode]:
    """The matches an incident is about: the enforced ones, or else the shadow ones."""
    enforced = decision.enforced
    return (enforced, Mode.ENFORCE) if enforced else (decision.shadow, Mode.SHADOW)


def from_decision(ctx: GuardContext, decision: Decision, text: str, *,
                  excerpt: str | None, now: float | None = None,
                  hash_key: bytes, details: Mapping[str, Any] | None = None) -> IncidentV1:
    """The incident for a decision with at least one match (enforced or shadow); `details`:
    its circumstances, when they need saying (`stream_ended`)."""
    now = time.time() if now is None else now
    relevant, mode = headline(decision)
    action = decision.action if mode is Mode.ENFORCE else max(
        (m.action for m in relevant), key=lambda a: a.rank, default=Action.ALLOW)
    top = max(relevant, key=lambda m: (m.action.rank, severity_rank(m.severity)), default=None)
    worst = max((m.severity for m in relevant), key=severity_rank, default="info")
    return IncidentV1(
        id=new_id(now), time=now, request_id=ctx.request_id, tenant=ctx.tenant,
        model=shown_model(ctx.model), route=ctx.route, stage=str(decision.stage), action=str(action),
        mode=str(mode), policy=decision.policy, policy_version=decision.policy_version,
        rules=tuple(m.rule for m in decision.matches),
        matches=tuple(MatchV1(m.rule, str(m.action), str(m.mode), m.severity, m.category)
                      for m in decision.matches),
        verdicts=_kept(v for v in decision.verdicts if v.fired),
        prompt_verdicts=_kept(decision.prompt_verdicts),
        severity=worst, category=top.category if top is not None else "policy",
        content_hash=content_hash(text, hash_key), excerpt=excerpt, details=details or {},
    )


def _kept(verdicts: Iterable[Verdict]) -> tuple[VerdictV1, ...]:
    return tuple(VerdictV1(v.classifier, v.segment, tuple(sorted(v.labels)), round(v.score, 4),
                           v.joined) for v in verdicts)


def from_event(kind: str, details: Mapping[str, Any], now: float | None = None,
               ctx: GuardContext | None = None, content_hash: str | None = None) -> IncidentV1:
    """The incident for an operational event; its request fields are those of `ctx`, the
    request it happened in, else what `details` says; an event scoped to one tenant
    (`tenant:acme`, a kill switch or a breaker's trip) is that tenant's. `content_hash`: that
    of the text the event is about (`stream_unchecked`), if any."""
    now = time.time() if now is None else now
    if ctx is not None:
        details = {"request_id": ctx.request_id, "tenant": ctx.tenant, "model": shown_model(ctx.model),
                   "route": ctx.route, **details}
    scope_kind, _, scoped = str(details.get("scope") or "").partition(":")
    if scope_kind == "tenant" and scoped and details.get("tenant") is None:
        details = {**details, "tenant": scoped}  # a switch or trip for one tenant is theirs
    severity = str(details.get("severity") or ("high" if kind in ("killswitch", "breaker")
                                                else "medium"))
    return IncidentV1(
        id=new_id(now), time=now, kind=kind, request_id=_opt_str(details.get("request_id")),
        tenant=_opt_str(details.get("tenant")), model=_opt_str(details.get("model")),
        route=_opt_str(details.get("route")),
        stage="completion" if kind in STREAM_EVENTS else None,
        action=str(details.get("action") or kind), mode="enforce",
        rules=(str(details["rule"]),) if details.get("rule") else (),
        severity=severity, category=kind, content_hash=content_hash, details=dict(details),
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
