"""Kill switch settings: the `killswitch:` section of guard.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.killswitch.model import MAX_REASON_CHARS, MAX_TTL_S, MIN_TTL_S, parse_scope


class BreakerRule(BaseModel):
    """One automatic breaker: enough matching incidents in a window engage a switch.

    name:       names the breaker in metrics, audit events and the switch's reason.
    label:      counts decisions whose enforced verdicts carry this classifier label.
    action:     counts decisions with this enforced action (`block`, `redact`, `flag`).
                Give `label`, `action`, or both (both must hold).
    model:      a glob on the request's model name (`*` counts every model).
    threshold:  incidents within `window_s` that trip the breaker (≥ 1): counted fleet-wide
                through Redis, else by each process (each worker of `--workers` on its own).
    window_s:   seconds of the sliding window the incidents are counted in.
    scope:      the scope of the switch it engages; `{model}` and `{tenant}` are replaced by the
                tripping request's model and tenant (`model:{model}` stops just that model).
    mode:       `block` (HTTP 503) or `refuse` (a refusal completion).
    duration_s: seconds the switch stays engaged, from 1 to a year (a TTL); it then expires
                by itself.
    max_switches: switches of this breaker engaged at once, at most (a scope with `{model}`
                engages one per model name, and clients choose those); further trips are
                logged (`breaker_switch_limit`), not engaged.
    reason:     the switch's reason, which clients read (an incident number, a contact);
                default "stopped automatically by breaker <name>". The threshold and window
                are never in it: the `breaker` incident and the log line hold them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str | None = None
    action: Literal["block", "redact", "flag"] | None = None
    model: str = "*"
    threshold: int = Field(ge=1)
    window_s: float = Field(gt=0)
    scope: str = "model:{model}"
    mode: Literal["block", "refuse"] = "block"
    duration_s: float = Field(ge=MIN_TTL_S, le=MAX_TTL_S)
    max_switches: int = Field(16, ge=1)
    reason: str | None = Field(None, min_length=1, max_length=MAX_REASON_CHARS,
                               pattern=r"\S")

    @field_validator("scope")
    @classmethod
    def _valid_scope(cls, value: str) -> str:
        parse_scope(value.replace("{model}", "m").replace("{tenant}", "t"))
        return value

    @model_validator(mode="after")
    def _counts_something(self) -> BreakerRule:
        if self.label is None and self.action is None:
            raise ValueError(f"breaker {self.name!r}: give `label`, `action`, or both")
        return self


class KillSwitchSettings(BaseModel):
    """How switches are released, kept in sync and answered.

    release_approvals: distinct actors who must approve a release (1, or 2 for the two-person
                       rule: the first DELETE records a request, a second actor completes it).
    resync_interval_s: seconds between full re-reads of the shared state (heals a missed
                       announcement; also how often a lost Redis connection is retried at most).
    retry_after_s:     seconds sent in `Retry-After` when a `block` switch answers 503.
    breakers:          automatic breakers (see BreakerRule).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    release_approvals: Literal[1, 2] = 1
    resync_interval_s: float = Field(5.0, gt=0, le=300)
    retry_after_s: int = Field(30, ge=0)
    breakers: list[BreakerRule] = Field(default_factory=list)

    @field_validator("breakers")
    @classmethod
    def _unique_names(cls, value: list[BreakerRule]) -> list[BreakerRule]:
        names = [rule.name for rule in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate breaker names: {', '.join(duplicates)}")
        return value
