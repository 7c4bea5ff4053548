"""What an override (`extends`) relaxes from its base: each loosening is a warning (as is a
`disable` that does nothing).

An override may loosen its base on purpose (a tenant that must see what others may not): it
loads, and each loosening is said, naming the rule or classifier and what changed. A redefined
condition is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guard.policy.engine import rule_stages
from guard.policy.model import Policy
from guard.policy.source import Lines
from guard.types import Mode


def loosened(policy: Policy, base: Policy, lines: Lines, base_name: str) -> list[str]:
    """Each loosening of `base` by `policy` (the override, read from `lines`)."""
    return (_rules_loosened(policy, base, lines, base_name)
            + _classifiers_loosened(policy, base, lines, base_name))


def _rules_loosened(policy: Policy, base: Policy, lines: Lines, base_name: str) -> list[str]:
    """An enforced rule disabled, made a shadow rule, given a milder action or fewer stages."""
    enforced = {r.name: r for r in base.rules if r.mode is Mode.ENFORCE and r.action.rank}
    redefined = {rule.name: index for index, rule in enumerate(policy.rules)}
    out = []
    for index, name in enumerate(policy.disable):
        if name in redefined:  # the redefinition is in force, and judged below
            out.append(lines.error(("disable", index), f"does nothing: rules[{redefined[name]}] "
                                   f"redefines {name!r}, which replaces {base_name}'s rule "
                                   "(remove one of them)"))
        elif name in enforced:
            out.append(lines.error(("disable", index), f"loosens {base_name}: its rule "
                                   f"{name!r} ({enforced[name].action}) no longer applies"))
    for index, rule in enumerate(policy.rules):
        was = enforced.get(rule.name)
        if was is None:
            continue
        if rule.mode is Mode.SHADOW:
            out.append(lines.error(("rules", index, "mode"), f"loosens {base_name}: its rule "
                                   f"{rule.name!r} ({was.action}) only watches here (shadow)"))
        elif rule.action.rank < was.action.rank:
            out.append(lines.error(("rules", index, "action"), f"loosens {base_name}: its rule "
                                   f"{rule.name!r} {was.action}s there, {rule.action}s here"))
        out += [lines.error(("rules", index, "stage"), f"loosens {base_name}: its rule "
                            f"{rule.name!r} ({was.action}) no longer applies on the {stage} "
                            "stage here")
                for stage in sorted(rule_stages(was) - rule_stages(rule))]
    return out


def _classifiers_loosened(policy: Policy, base: Policy, lines: Lines, base_name: str
                          ) -> list[str]:
    """A classifier redefined as another type, or from failing closed to failing open. A
    redefined classifier replaces the base's whole, so an override that only means to raise a
    threshold drops `on_error` with it: warned (rather than merged key by key) so that a
    classifier, like a rule, reads as written."""
    out = []
    for name, raw in policy.classifiers.items():
        was = base.classifiers.get(name)
        if was is None:
            continue
        if raw.get("type") != was.get("type"):
            out.append(lines.error(
                ("classifiers", name, "type"), f"loosens {base_name}: its classifier {name!r} "
                f"is of type {was.get('type')!r} there, {raw.get('type')!r} here (the rules "
                "reading it read another kind of finding)"))
        if _fails_closed(was) and not _fails_closed(raw):
            out.append(lines.error(
                ("classifiers", name, "on_error"), f"loosens {base_name}: its classifier "
                f"{name!r} fails closed there, open here (a classifier redefined replaces the "
                "base's whole: give `on_error: fail_closed` to keep it)"))
    return out


def _fails_closed(raw: Mapping[str, Any]) -> bool:
    return raw.get("on_error") == "fail_closed"
