"""What in a policy can never hold, and loads: each is a warning (`guard policy check`, start).

A tenant id written as a glob (tenants match exactly); a route glob matching none of the routes
guard serves (`model_routes.GUARDED`: a policy decides requests to those only); a rule whose
condition needs the other stage than the rule's own; a rule whose condition needs a classifier
that reads nothing on the rule's stages (its `roles` none of the stage's, `types.STAGE_ROLES`,
or its gate such a one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from guard.policy.engine import gate_of, globs, rule_stages
from guard.policy.model import Condition, Policy, Rule, routes_named, tenants_named
from guard.proxy.model_routes import GUARDED
from guard.types import STAGE_ROLES, Stage

if TYPE_CHECKING:
    from guard.classify.registry import ConfiguredClassifier

# Characters of a glob: tenant ids are matched exactly (models and routes take globs).
GLOB = frozenset("*?[")


def never_holding(policy: Policy, built: Mapping[str, ConfiguredClassifier]) -> list[str]:
    """Each thing in `policy` (its classifiers `built`) that can never hold, said."""
    out = [f"tenant {tenant!r} is matched exactly, not as a glob (only models and routes take "
           "globs): list the tenant ids it stands for"
           for tenant in sorted(set(tenants_named(policy))) if GLOB & set(tenant)]
    out += [f"route {route!r} matches none of the routes guard serves ({', '.join(sorted(GUARDED))})"
            for route in sorted(set(routes_named(policy)))
            if not any(globs([route]).fullmatch(served) for served in GUARDED)]
    for rule in policy.rules:
        out += [f"rule {rule.name!r} never matches: it runs on the {rule.stage} stage and its "
                f"condition needs stage {stage}"
                for stage in sorted(_needed_stages(rule.when)) if rule.stage not in ("both", stage)]
        out += [f"rule {rule.name!r} never matches: it runs on the {stage} stage, and {why}"
                for stage, why in _unread(rule, policy, built)]
    return out


def _needed_stages(cond: Condition) -> set[str]:
    """The stages `cond` holds on only: its own `stage`, and those of the conditions under
    `all` (not under `any`, `not` or `prompt`, which may hold otherwise)."""
    needed: set[str] = {cond.stage} if cond.stage is not None else set()
    for sub in cond.all_ or ():
        needed |= _needed_stages(sub)
    return needed


def needed(cond: Condition, key: Literal["classifier", "tenant"]) -> list[list[str]]:
    """The lists under `key` (`classifier`, `tenant`) that `cond` needs one item of to hold:
    its own, and those of the conditions under `all` (not under `any`, `not`, or `prompt`,
    which reads the prompt's verdicts)."""
    own = getattr(cond, key)
    out = [own] if own else []
    for sub in cond.all_ or ():
        out += needed(sub, key)
    return out


def _unread(rule: Rule, policy: Policy, built: Mapping[str, ConfiguredClassifier]
            ) -> list[tuple[Stage, str]]:
    """Why the rule finds nothing on each of its stages, if it finds nothing on any of them."""
    whys = []
    for stage in sorted(rule_stages(rule)):
        why = _never_fires(rule.when, stage, policy, built)
        if why is None:
            return []
        whys.append((stage, why))
    return whys


def _never_fires(cond: Condition, stage: Stage, policy: Policy,
                 built: Mapping[str, ConfiguredClassifier]) -> str | None:
    """Why `cond` finds nothing on `stage`: each classifier of a list it needs reads nothing."""
    for names in needed(cond, "classifier"):
        reasons = [_reads_nothing(name, stage, policy, built) for name in names]
        if all(reasons):
            return " and ".join(f"classifier {why}" for why in reasons)
    return None


def _reads_nothing(name: str, stage: Stage, policy: Policy,
                   built: Mapping[str, ConfiguredClassifier]) -> str | None:
    """Why classifier `name` can find nothing on `stage` (None: it may find something)."""
    roles: frozenset[str] | None = getattr(built[name].classifier, "roles", None)
    if roles is not None and not roles & STAGE_ROLES[stage]:
        return (f"{name!r} reads only role{'s' * (len(roles) > 1)} {', '.join(sorted(roles))}, "
                "which that stage has none of")
    gate = gate_of(policy.classifiers[name])
    if gate is not None and (why := _reads_nothing(gate, stage, policy, built)):
        # a gate opens on its own verdicts only (a failure opens it, but with no text of its
        # roles it has nothing to fail on)
        return f"{name!r} runs only when its gate {gate!r} opens, and {why}"
    return None
