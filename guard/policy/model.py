"""The policy file schema. Operators write these files; every model forbids unknown keys.

```yaml
name: default
version: "2025-01-15"
scope: {tenants: [acme], models: ["gpt-4*"], routes: [/v1/chat/completions]}
classifiers:
  secrets: {type: secrets}
  inj: {type: prompt_injection, threshold: 0.5}
rules:
  - name: secrets-leak
    stage: both
    when: {classifier: secrets}
    action: block
    severity: critical
    category: secrets
  - name: injection
    stage: prompt
    when: {all: [{classifier: inj, score_gte: 0.8}, {not: {tenant: [red-team]}}]}
    action: block
    mode: shadow
block: {message: "Blocked by policy.", status: 400}
redaction: {mask: "[REDACTED:{label}]"}
streaming: {mode: buffered, check_chars: 64, max_holdback_ms: 250}
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.types import Action, Mode, StreamSettings

Severity = Literal["info", "low", "medium", "high", "critical"]
RuleStage = Literal["prompt", "completion", "both"]

VERDICT_KEYS = ("classifier", "labels_any", "labels_all", "score_gte")
CONTEXT_KEYS = ("tenant", "model", "route", "stage")
COMPOSITION_KEYS = ("all", "any", "not", "prompt")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _as_list(value: Any) -> Any:
    """A single string where a list is expected reads as a one-item list."""
    return [value] if isinstance(value, str) else value


class Condition(Strict):
    """When a rule matches. Every key given must hold (they are ANDed).

    Verdict keys, which must all hold for one and the same verdict that fired:
      classifier: a classifier instance name, or a list of them (any of them).
      labels_any: the verdict carries at least one of these labels.
      labels_all: the verdict carries every one of these labels.
      score_gte:  the verdict's score (0..1) is at least this.
    Request context:
      tenant: tenant ids (exact); model: model name globs; route: route globs (`/v1/*`);
      stage: `prompt` or `completion`.
    Composition:
      all: every sub-condition holds; any: at least one holds; not: the sub-condition fails.
      prompt: the sub-condition holds for the request's prompt: on the completion stage it reads
              the verdicts the prompt was decided on ("block an answer that goes along with a
              request the prompt stage only doubted"); on the prompt stage, the stage's own.
    """

    classifier: list[str] | None = None
    labels_any: list[str] | None = None
    labels_all: list[str] | None = None
    score_gte: float | None = Field(None, ge=0.0, le=1.0)
    tenant: list[str] | None = None
    model: list[str] | None = None
    route: list[str] | None = None
    stage: Literal["prompt", "completion"] | None = None
    all_: list[Condition] | None = Field(None, alias="all")
    any_: list[Condition] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")
    prompt: Condition | None = None

    _lists = field_validator(
        "classifier", "labels_any", "labels_all", "tenant", "model", "route", mode="before"
    )(_as_list)

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        keys = (*VERDICT_KEYS, *CONTEXT_KEYS)
        given = [k for k in keys if getattr(self, k) is not None]
        given += [k for k, v in (("all", self.all_), ("any", self.any_), ("not", self.not_),
                                 ("prompt", self.prompt))
                  if v is not None]
        if not given:
            raise ValueError(
                f"a condition needs at least one of: {', '.join((*keys, *COMPOSITION_KEYS))}"
            )
        for key in ("classifier", "labels_any", "labels_all", "tenant", "model", "route"):
            if getattr(self, key) == []:
                raise ValueError(f"`{key}` must not be an empty list")
        for key, items in (("all", self.all_), ("any", self.any_)):
            if items == []:
                raise ValueError(f"`{key}` must not be an empty list")
        return self

    @property
    def tests_verdicts(self) -> bool:
        """True when this leaf (not counting sub-conditions) looks at classifier verdicts."""
        return any(getattr(self, k) is not None for k in VERDICT_KEYS)


class Rule(Strict):
    """One rule: on `stage`, when `when` holds, take `action`.

    name:     unique in the policy; what decisions, metrics and incidents name.
    stage:    `prompt`, `completion` or `both`.
    when:     the condition (see Condition).
    action:   `allow`, `flag`, `redact` (mask the spans of the verdicts that matched) or `block`.
    severity: `info`, `low`, `medium`, `high` or `critical` (incidents and alerts).
    category: a short word grouping rules in incidents and metrics (`secrets`, `pii`, ...).
    mode:     `enforce` changes traffic; `shadow` only records what the rule would have done.
    description: free text for people reading the policy.
    """

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    stage: RuleStage = "both"
    when: Condition
    action: Action
    severity: Severity = "medium"
    category: str = Field("policy", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")
    mode: Mode = Mode.ENFORCE
    description: str = ""


class Scope(Strict):
    """Which requests a policy applies to. Each given list must match (tenant AND model AND route);
    within a list any item may match. The directory's `default.yaml` (or the one policy with
    `default: true`) applies to every request no other policy claims.

    tenants: tenant ids, exact.   models: model name globs.   routes: route globs.
    default: this policy is the fallback.
    """

    tenants: list[str] = []
    models: list[str] = []
    routes: list[str] = []
    default: bool = False

    _lists = field_validator("tenants", "models", "routes", mode="before")(_as_list)

    @model_validator(mode="after")
    def _default_or_scoped(self) -> Scope:
        if self.default and self.specificity:
            raise ValueError("`default: true` makes this policy the one for every request no "
                             "other policy claims, so tenants, models and routes would never "
                             "apply: give either, and the scoped rules a policy file of their own")
        return self

    @property
    def specificity(self) -> int:
        """How many dimensions the scope constrains; the most specific matching policy wins."""
        return sum(1 for dim in (self.tenants, self.models, self.routes) if dim)


class BlockSettings(Strict):
    """What a block answers.

    message: shown to the client (the prompt error message, or the completion's refusal text).
    status:  HTTP status of a blocked prompt (400..599); a blocked completion is always 200 with
             `finish_reason: content_filter`, as OpenAI clients expect.
    """

    message: str = Field("This request was blocked by the content policy.", min_length=1)
    status: int = Field(400, ge=400, le=599)


class RedactionSettings(Strict):
    """How redacted text reads. mask: replacement text; `{label}` becomes the span's label."""

    mask: str = "[REDACTED:{label}]"


class StreamingSettings(Strict):
    """How streamed completions are guarded (see guard.types.StreamSettings).

    mode:            `buffered` (no character leaves unclassified) or `optimistic`
                     (forward at once, cut the stream when a window fails).
    check_chars:     classify at least every this many new characters.
    max_holdback_ms: buffered mode releases classified text at least this often (milliseconds).
    recheck_growth:  with a classifier that reads the whole answer (no `max_match_chars`),
                     checks are spaced out as the stream runs: text may wait this fraction of
                     the time the stream had run, up to 5 s (0: every `max_holdback_ms`).
    """

    mode: Literal["buffered", "optimistic"] = "buffered"
    check_chars: int = Field(64, ge=1, le=65536)
    max_holdback_ms: int = Field(250, ge=0, le=60000)
    recheck_growth: float = Field(0.25, ge=0.0, le=4.0, allow_inf_nan=False)

    def settings(self) -> StreamSettings:
        return StreamSettings(self.mode, self.check_chars, self.max_holdback_ms,
                              self.recheck_growth)


class Policy(Strict):
    """One policy file.

    name:        unique across the directory; shown in decisions and incidents.
    version:     the operator's version string for this file; a policy file's unquoted number
                 or date is read as the text written (`2025.10` stays "2025.10").
    extends:     a policy file (path relative to this one) whose classifiers and rules this one
                 starts from: same-named classifiers and rules replace the base's, new ones are
                 added, `disable` removes base rules by name; block, redaction and streaming
                 come from the base, key by key, unless given here.
    description: free text.
    scope:       which requests it applies to (see Scope); absent: the default policy.
    classifiers: instance name -> classifier spec (`type` plus the type's own keys).
    rules:       evaluated all together; the strictest enforced action wins.
    """

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    version: str = Field(min_length=1, max_length=64)
    extends: str | None = None
    disable: list[str] = []
    description: str = ""
    scope: Scope | None = None
    classifiers: dict[str, dict[str, Any]] = {}
    rules: list[Rule] = []
    block: BlockSettings = BlockSettings()
    redaction: RedactionSettings = RedactionSettings()
    streaming: StreamingSettings = StreamingSettings()

    _lists = field_validator("disable", mode="before")(_as_list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, float):  # only from data not read by the loader, which keeps text
            raise ValueError(  # noqa: TRY004  (pydantic reports a ValueError as a policy error)
                f"a number ({value!r}) does not say how it was written (2025.10 reads 2025.1): "
                "give the version as a quoted string")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("classifiers")
    @classmethod
    def _classifier_names(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name in value:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"classifier name {name!r}: use letters, digits, - and _")
        return value

    @property
    def is_default(self) -> bool:
        return self.scope is None or self.scope.default


# Field names an operator can use at each level, for "unknown key" messages.
KNOWN_KEYS: dict[type[BaseModel], list[str]] = {
    model: [f.alias or name for name, f in model.model_fields.items()]
    for model in (Condition, Rule, Scope, BlockSettings, RedactionSettings, StreamingSettings,
                  Policy)
}


def tenants_named(policy: Policy) -> Iterator[str]:
    """Every tenant id a policy names: in its scope and in its rules' conditions."""
    return _named(policy, "tenants", "tenant")


def routes_named(policy: Policy) -> Iterator[str]:
    """Every route glob a policy names: in its scope and in its rules' conditions."""
    return _named(policy, "routes", "route")


def _named(policy: Policy, scope_key: str, condition_key: str) -> Iterator[str]:
    if policy.scope is not None:
        yield from getattr(policy.scope, scope_key)
    pending = [rule.when for rule in policy.rules]
    while pending:
        cond = pending.pop()
        yield from getattr(cond, condition_key) or ()
        pending += [*(cond.all_ or ()), *(cond.any_ or ())]
        pending += [c for c in (cond.not_, cond.prompt) if c is not None]
