"""What an override relaxes from its base: each loosening is a warning naming what changed."""

from __future__ import annotations

from pathlib import Path

from guard.policy.loader import load_policy_file
from tests.unit.policy.test_policy_loader import builder, tenant_override, write

BASE = """
name: default
version: "1"
classifiers:
  s: {type: a, chars: 40, on_error: fail_closed}
  w: {type: a}
rules:
  - {name: block-s, stage: both, when: {classifier: s}, action: block}
  - {name: flag-w, stage: completion, when: {classifier: w}, action: flag}
"""


def loosenings(path: Path) -> list[str]:
    return [w for w in load_policy_file(path, builder).warnings if "loosens" in w]


def test_a_redefined_classifier_that_no_longer_fails_closed_is_warned_of(tmp_path: Path) -> None:
    """From a probe: raising a fail-closed classifier's threshold in an override, as the strict
    pack's docs advise, replaced its whole spec and silently made it fail open."""
    write(tmp_path / "default.yaml", BASE)
    child = tenant_override(tmp_path, "acme", """
        classifiers:
          s: {type: a, chars: 60}
    """)
    kept = tenant_override(tmp_path, "globex", """
        classifiers:
          s: {type: a, chars: 60, on_error: fail_closed}
    """)
    assert loosenings(child) == [
        f"{child}:6: classifiers.s.on_error: loosens default.yaml: its classifier 's' fails "
        "closed there, open here (a classifier redefined replaces the base's whole: give "
        "`on_error: fail_closed` to keep it)"]
    assert loosenings(kept) == []


def test_a_narrower_stage_or_another_classifier_type_is_warned_of(tmp_path: Path) -> None:
    """From a probe: redefining a base rule on both stages for the prompt alone, or a base
    classifier as another type, stopped what the base stops with no warning."""
    write(tmp_path / "default.yaml", BASE)
    child = tenant_override(tmp_path, "acme", """
        classifiers:
          w: {type: whole}
        rules:
          - {name: block-s, stage: prompt, when: {classifier: s}, action: block}
          - {name: flag-w, stage: both, when: {classifier: w}, action: flag}
    """)
    assert loosenings(child) == [
        f"{child}:8: rules[0].stage: loosens default.yaml: its rule 'block-s' (block) no longer "
        "applies on the completion stage here",
        f"{child}:6: classifiers.w.type: loosens default.yaml: its classifier 'w' is of type "
        "'a' there, 'whole' here (the rules reading it read another kind of finding)"]


def test_a_rule_disabled_and_redefined_is_said_to_be_in_force(tmp_path: Path) -> None:
    """From a probe: `disable: [block-s]` with a redefined `block-s` warned that the rule "no
    longer applies" while the redefinition blocked; the warning now says it is in force."""
    write(tmp_path / "default.yaml", BASE)
    child = tenant_override(tmp_path, "acme", """
        disable: [block-s]
        rules:
          - {name: block-s, stage: both, when: {classifier: s}, action: block}
    """)
    assert load_policy_file(child, builder).warnings == (
        f"{child}:5: disable[0]: does nothing: rules[0] redefines 'block-s', which replaces "
        "default.yaml's rule (remove one of them)",)
