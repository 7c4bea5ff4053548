"""Loading policy files: errors with file, line and key path; extends; directory scopes."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from guard.errors import PolicyError
from guard.policy.loader import load_policy_file
from guard.policy.model import Policy
from guard.policy.policy_set import load_policies
from guard.policy.testing import find_case_files
from guard.types import GuardContext, Segment, Stage, Verdict


@dataclass
class StubClassifier:
    """Finds nothing; stands in for a real classifier where only loading is under test."""

    name: str
    max_match_chars: int | None
    roles: frozenset[str] | None = None  # the roles it reads (None: every one)

    async def classify(self, segments: list[Segment]) -> list[Verdict]:
        return [Verdict(self.name, s.index) for s in segments]


@dataclass
class Built:
    name: str
    classifier: StubClassifier
    config_hash: str = "x"
    emits: frozenset[str] | None = None  # may emit any label: conditions on it are not checked


def builder(name: str, raw: Mapping[str, Any]) -> Any:
    """Accepts types `a` (bounded) and `whole` (unbounded); anything else is a policy error."""
    if raw.get("type") == "bad-entity":
        raise PolicyError(f"classifiers.{name}.entities[1]: unknown entity 'passport'")
    if raw.get("type") not in ("a", "whole"):
        raise PolicyError(f"classifiers.{name}.type: unknown classifier type {raw.get('type')!r}")
    size = None if raw["type"] == "whole" else int(raw.get("chars", 20))
    roles = frozenset(raw["roles"]) if "roles" in raw else None
    return Built(name, StubClassifier(name, size, roles))


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


GOOD = """
name: {name}
version: 1
{scope}
classifiers:
  s: {{type: a, chars: 40}}
  w: {{type: a}}
rules:
  - name: block-s
    stage: prompt
    when: {{classifier: s}}
    action: block
  - name: flag-w
    stage: completion
    when: {{classifier: w}}
    action: flag
"""


def good(path: Path, name: str = "p", scope: str = "") -> Path:
    return write(path, GOOD.format(name=name, scope=scope))


def tenant_override(directory: Path, tenant: str, body: str) -> Path:
    """`<tenant>.yaml`, extending default.yaml for `tenant` alone, with `body` after its four
    header lines (name, version, extends, scope)."""
    header = f'name: {tenant}\nversion: "2"\nextends: default.yaml\nscope: {{tenants: [{tenant}]}}\n'
    return write(directory / f"{tenant}.yaml", header + textwrap.dedent(body).lstrip())


def errors_of(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policies(path, builder)
    return caught.value.errors


def test_good_file_loads_with_stage_classifiers_and_holdback(tmp_path: Path) -> None:
    """A valid file loads; each stage runs only the classifiers its rules read."""
    loaded = load_policy_file(good(tmp_path / "p.yaml"), builder)
    assert loaded.policy.version == "1"
    assert [c.name for c in loaded.by_stage[Stage.PROMPT]] == ["s"]
    assert loaded.holdback == {Stage.PROMPT: 40, Stage.COMPLETION: 20}
    assert loaded.inspects == {Stage.PROMPT: True, Stage.COMPLETION: True}


@pytest.mark.parametrize("written", ["2025.10", "1.20", "3.0", "010", "2025-01-15", "7"])
def test_an_unquoted_version_is_the_text_written(tmp_path: Path, written: str) -> None:
    """From a probe: `version: 2025.10` was read as a float and reported as "2025.1"."""
    path = write(tmp_path / "p.yaml", GOOD.format(name="p", scope="").replace(
        "version: 1", f"version: {written}"))
    assert load_policy_file(path, builder).policy.version == written


def test_a_float_version_not_read_from_a_file_is_refused() -> None:
    """A float given as data (not through the loader) cannot say how it was written."""
    with pytest.raises(ValidationError, match="give the version as a quoted string"):
        Policy.model_validate({"name": "p", "version": 2025.10})


def test_a_stage_without_rules_is_not_inspected(tmp_path: Path) -> None:
    """A policy whose rules are all prompt-stage leaves completions (and streams) untouched."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers: {a: {type: a, chars: 30}}
        rules:
          - {name: r, stage: prompt, when: {classifier: a}, action: block}
    """)
    loaded = load_policy_file(path, builder)
    assert loaded.inspects == {Stage.PROMPT: True, Stage.COMPLETION: False}


def test_a_completion_rule_reading_the_prompt_has_the_prompt_inspected(tmp_path: Path) -> None:
    """With only completion rules, the prompt stage still runs what their `prompt:` reads."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers: {a: {type: a, chars: 30}, b: {type: a}}
        rules:
          - name: r
            stage: completion
            when: {all: [{classifier: b}, {prompt: {classifier: a}}]}
            action: block
    """)
    loaded = load_policy_file(path, builder)
    assert loaded.inspects == {Stage.PROMPT: True, Stage.COMPLETION: True}
    assert [c.name for c in loaded.by_stage[Stage.PROMPT]] == ["a"]
    assert [c.name for c in loaded.by_stage[Stage.COMPLETION]] == ["b"]
    assert loaded.warnings == ()
    unknown = tmp_path / "u.yaml"
    unknown.write_text(path.read_text().replace("{prompt: {classifier: a}}", "{prompt: {classifier: z}}"))
    assert errors_of(unknown) == [f"{unknown}:7: rules[0].when.all[1].prompt.classifier[0]: "
                                  "unknown classifier 'z' (declared under `classifiers:`: a, b)"]


def test_unbounded_classifier_makes_holdback_none(tmp_path: Path) -> None:
    """A classifier that needs the whole text makes the stage's hold-back None."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers: {w: {type: whole}, a: {type: a}}
        rules:
          - {name: r, stage: completion, when: {classifier: [w, a]}, action: block}
    """)
    loaded = load_policy_file(path, builder)
    assert loaded.holdback == {Stage.PROMPT: 0, Stage.COMPLETION: None}


def test_unknown_key_names_file_line_path_and_expected_keys(tmp_path: Path) -> None:
    """A key like none allowed is reported with its line, path and the keys that are allowed."""
    path = good(tmp_path / "p.yaml")
    path.write_text(path.read_text().replace("    action: flag", "    zzz: flag"))
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:15: rules[1].zzz: unknown key (expected one of: name,")
               for e in errors), errors
    assert any(f"{path}:12: rules[1].action: Field required" in e for e in errors), errors


def test_a_misspelt_key_names_the_key_meant(tmp_path: Path) -> None:
    """From a probe: `acton:` (`severty:`) listed every key a rule takes where guard.yaml's keys
    name the one meant; a policy's misspelt key now does too."""
    path = good(tmp_path / "p.yaml")
    path.write_text(path.read_text().replace("    action: flag", "    acton: flag"))
    errors = errors_of(path)
    assert f"{path}:15: rules[1].acton: unknown key (did you mean action?)" in errors, errors
    assert any(f"{path}:12: rules[1].action: Field required" in e for e in errors), errors


def test_a_broken_symlink_is_named_as_the_operator_sees_it(tmp_path: Path) -> None:
    link = tmp_path / "zz.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(PolicyError, match=f"{link}: a symbolic link to {tmp_path / 'gone.yaml'}"):
        load_policy_file(link)


def test_bad_enum_value_names_expected_values_and_what_was_given(tmp_path: Path) -> None:
    """A wrong action says what was expected and what the file had."""
    path = good(tmp_path / "p.yaml")
    path.write_text(path.read_text().replace("action: block", "action: deny"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:11: rules[0].action: Input should be 'allow'")
    assert "(got 'deny')" in error


def test_nested_condition_error_points_at_the_nested_key(tmp_path: Path) -> None:
    """An error deep in all/any/not names the full path and its line."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers: {s: {type: a}}
        rules:
          - name: r
            when:
              all:
                - {classifier: s}
                - not:
                    score_gte: 1.5
            action: block
    """)
    [error] = errors_of(path)
    assert error.startswith(f"{path}:10: rules[0].when.all[1].not.score_gte: ")
    assert "less than or equal to 1" in error


def test_empty_condition_is_rejected(tmp_path: Path) -> None:
    """A condition with no keys is an error, not a rule that always matches."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        rules:
          - {name: r, when: {}, action: block}
    """)
    [error] = errors_of(path)
    assert f"{path}:4: rules[0].when: a condition needs at least one of" in error


def test_unknown_classifier_reference(tmp_path: Path) -> None:
    """A rule naming an undeclared classifier is an error at that reference's line."""
    path = good(tmp_path / "p.yaml")
    path.write_text(path.read_text().replace("when: {classifier: w}", "when: {classifier: [w, x]}"))
    [error] = errors_of(path)
    assert error == (f"{path}:14: rules[1].when.classifier[1]: unknown classifier 'x' "
                     "(declared under `classifiers:`: s, w)")


def test_classifier_build_error_gets_a_line(tmp_path: Path) -> None:
    """Errors from building a classifier are mapped back to the line of the key they name."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers:
          pii:
            type: bad-entity
            entities:
              - email
              - passport
        rules:
          - {name: r, when: {classifier: pii}, action: block}
    """)
    assert errors_of(path) == [f"{path}:8: classifiers.pii.entities[1]: unknown entity 'passport'"]


def test_duplicate_rule_and_yaml_keys(tmp_path: Path) -> None:
    """Duplicate rule names and duplicate YAML keys are both rejected."""
    path = good(tmp_path / "p.yaml")
    path.write_text(path.read_text().replace("name: flag-w", "name: block-s"))
    assert errors_of(path) == [f"{path}:12: rules[1].name: duplicate rule name 'block-s' "
                               "(names must be unique)"]
    dup = write(tmp_path / "d.yaml", "name: a\nname: b\nversion: 1\n")
    assert errors_of(dup) == [f"{dup}:2: name: duplicate key"]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """Broken YAML syntax is reported with its line."""
    path = write(tmp_path / "p.yaml", "name: p\nrules:\n  - {name: r\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:4: invalid YAML")


def test_extends_merges_classifiers_and_rules(tmp_path: Path) -> None:
    """extends: same-named rules replace, new ones are added, `disable` removes base rules."""
    good(tmp_path / "default.yaml", name="default")
    child = tenant_override(tmp_path, "acme", """
        disable: [flag-w]
        classifiers: {x: {type: a}}
        rules:
          - {name: block-s, stage: both, when: {classifier: s}, action: redact}
          - {name: new, when: {classifier: x}, action: flag}
        block: {message: "Not for acme.", status: 403}
    """)
    loaded = load_policy_file(child, builder)
    rules = {r.name: r for r in loaded.policy.rules}
    assert list(rules) == ["block-s", "new"] and rules["block-s"].action == "redact"
    assert set(loaded.classifiers) == {"s", "w", "x"}
    assert loaded.policy.block.status == 403
    assert len(loaded.files) == 2


def test_extends_merges_block_and_streaming_key_by_key(tmp_path: Path) -> None:
    """From a probe: an override giving only `block.message` and `streaming.max_holdback_ms`
    got guard's defaults for the rest (status 400, check_chars 64) instead of its base's."""
    write(tmp_path / "default.yaml", GOOD.format(name="default", scope="") + """
block: {message: "Blocked by base", status: 403}
redaction: {mask: "[gone]"}
streaming: {mode: optimistic, check_chars: 16, max_holdback_ms: 1000, recheck_growth: 0}
""")
    child = tenant_override(tmp_path, "acme", """
        block: {message: "Blocked (acme wording)"}
        streaming: {max_holdback_ms: 100}
    """)
    policy = load_policy_file(child, builder).policy
    assert (policy.block.message, policy.block.status) == ("Blocked (acme wording)", 403)
    assert policy.redaction.mask == "[gone]"
    assert policy.streaming.model_dump() == {"mode": "optimistic", "check_chars": 16,
                                             "max_holdback_ms": 100, "recheck_growth": 0}


def test_a_base_classifier_left_unread_by_disable_is_not_warned_of(tmp_path: Path) -> None:
    """A classifier the base declares, unread once its rules are disabled, is nothing the
    override can change: no warning (the shipped tenant override printed one on every test
    run); one the override declares itself and leaves unread is still warned of."""
    good(tmp_path / "default.yaml", name="default")
    child = tenant_override(tmp_path, "acme", """
        disable: [flag-w]
        classifiers: {x: {type: a}}
    """)
    unread = [w for w in load_policy_file(child, builder).warnings if "no rule reads" in w]
    assert unread == [f"{child}: classifier 'x' is declared but no rule reads it"]


def test_disable_takes_a_single_rule_name(tmp_path: Path) -> None:
    """From a probe: `disable: flag-w` was an error though a single string works wherever a list
    is expected."""
    good(tmp_path / "default.yaml", name="default")
    child = tenant_override(tmp_path, "acme", """
        disable: flag-w
    """)
    assert [r.name for r in load_policy_file(child, builder).policy.rules] == ["block-s"]


def test_an_override_that_loosens_its_base_is_warned_of(tmp_path: Path) -> None:
    """From a probe: a tenant override disabling the base's blocking rule, or redefining it to
    allow, loaded without a word; each loosening is a warning naming the rule and what changed
    (a stricter redefinition is not)."""
    good(tmp_path / "default.yaml", name="default")
    child = tenant_override(tmp_path, "acme", """
        disable: [block-s]
        rules:
          - {name: flag-w, stage: completion, when: {classifier: w}, action: allow}
    """)
    other = tenant_override(tmp_path, "globex", """
        rules:
          - {name: block-s, when: {classifier: s}, action: block, mode: shadow}
          - {name: flag-w, stage: completion, when: {classifier: w}, action: block}
    """)
    assert load_policy_file(child, builder).warnings == (
        f"{child}:5: disable[0]: loosens default.yaml: its rule 'block-s' (block) no longer "
        "applies",
        f"{child}:7: rules[0].action: loosens default.yaml: its rule 'flag-w' flags there, allows "
        "here")
    assert load_policy_file(other, builder).warnings == (
        f"{other}:6: rules[0].mode: loosens default.yaml: its rule 'block-s' (block) only "
        "watches here (shadow)",)


def test_extends_errors(tmp_path: Path) -> None:
    """Disabling an unknown base rule or extending a missing file names the key and line."""
    good(tmp_path / "default.yaml", name="default")
    child = write(tmp_path / "c.yaml", """
        name: c
        version: "1"
        extends: default.yaml
        disable: [nope]
    """)
    assert errors_of(child) == [f"{child}:4: disable[0]: no rule 'nope' in default.yaml to disable"]
    missing = write(tmp_path / "m.yaml", "name: m\nversion: 1\nextends: gone.yaml\n")
    [error] = errors_of(missing)
    assert error.startswith(f"{missing}:3: extends: no such policy file")


def ctx(tenant: str | None = None, model: str = "gpt-4o",
        route: str = "/v1/chat/completions") -> GuardContext:
    return GuardContext(request_id="r", route=route, model=model, tenant=tenant)


def test_directory_scopes_choose_the_most_specific_policy(tmp_path: Path) -> None:
    """Tenant+model beats tenant beats model; unclaimed requests get default.yaml."""
    good(tmp_path / "default.yaml", name="default")
    good(tmp_path / "acme.yaml", name="acme", scope="scope: {tenants: [acme]}")
    good(tmp_path / "acme_gpt.yaml", name="acme-gpt",
         scope="scope: {tenants: [acme], models: ['gpt-*']}")
    good(tmp_path / "llama.yaml", name="llama", scope="scope: {models: ['llama*']}")
    write(tmp_path / "default_test.yaml", "not: a policy\n")
    policies = load_policies(tmp_path, builder)
    assert policies.choose(ctx("acme", "gpt-4o")).name == "acme-gpt"
    assert policies.choose(ctx("acme", "llama3")).name == "acme"
    assert policies.choose(ctx("other", "llama3")).name == "llama"
    assert policies.choose(ctx(None, "mistral")).name == "default"


def test_a_policy_scoped_to_models_takes_them_in_any_case(tmp_path: Path) -> None:
    """From a docs probe: `GPT-4o ` (read as `gpt-4o` by a case-blind upstream such as Ollama)
    was given the default policy, not the one scoped to `gpt-*`."""
    good(tmp_path / "default.yaml", name="default")
    good(tmp_path / "gpt.yaml", name="gpt", scope="scope: {models: ['gpt-*']}")
    policies = load_policies(tmp_path, builder)
    assert [policies.choose(ctx(None, m)).name for m in ("GPT-4o ", "Gpt-4", "mistral")] == [
        "gpt", "gpt", "default"]


def test_a_request_naming_no_model_takes_the_policy_whose_models_hold_the_empty_name(
        tmp_path: Path) -> None:
    """From a re-probe: a request naming no model (vLLM then serves its base model) got the
    default policy, not the one scoped to the model its upstream serves; docs/policies.md now
    says to give `""` in that policy's `models`, and this pins that it works."""
    good(tmp_path / "default.yaml", name="default")
    good(tmp_path / "llama.yaml", name="llama", scope="scope: {models: ['llama-3*', '']}")
    policies = load_policies(tmp_path, builder)
    assert [policies.choose(ctx(None, m)).name for m in ("", "  ", "llama-3-8b", "mistral")] == [
        "llama", "llama", "llama", "default"]


def test_directory_needs_exactly_one_default(tmp_path: Path) -> None:
    """A directory without default.yaml (or a `default: true` scope) does not load."""
    good(tmp_path / "a.yaml", name="a", scope="scope: {tenants: [x]}")
    [error] = errors_of(tmp_path)
    assert "exactly one default policy" in error


def test_a_scope_on_the_default_policy_is_an_error(tmp_path: Path) -> None:
    """From a probe: `scope: {tenants: [acme]}` in default.yaml (or beside `default: true`) was
    accepted and ignored, and a tenant it did not name got its rules; both are errors at the
    scope's line saying what to do. Loaded alone, a file applies to every request (as before)."""
    default = good(tmp_path / "default.yaml", name="default", scope="scope: {tenants: [acme]}")
    [error] = errors_of(tmp_path)
    assert error.startswith(f"{default}:3: scope: default.yaml is the policy for every request "
                            "no other policy claims, so a scope here would never apply: remove it")
    assert load_policies(default, builder).choose(ctx("globex")).name == "default"
    good(tmp_path / "default.yaml", name="default")
    other = good(tmp_path / "main.yaml", name="main",
                 scope="scope: {default: true, tenants: [acme]}")
    [error] = errors_of(tmp_path)
    assert error.startswith(f"{other}:3: scope: `default: true` makes this policy the one for "
                            "every request no other policy claims")


def test_directory_reports_errors_of_every_file(tmp_path: Path) -> None:
    """All broken files are reported together, and nothing is loaded."""
    good(tmp_path / "default.yaml", name="default").write_text("name: default\n")
    write(tmp_path / "b.yaml", "name: b\nversion: 1\n")
    errors = errors_of(tmp_path)
    assert any("default.yaml:1: version: Field required" in e for e in errors)
    assert any("b.yaml:1: scope: missing" in e for e in errors)


def test_hidden_files_are_not_policies(tmp_path: Path) -> None:
    """From a probe: an Emacs lock file (`.#default.yaml`, a dangling link) or a Mac's
    AppleDouble file (`._default.yaml`, binary) was loaded as a policy and broke the set; hidden
    files are skipped, as a shell's `*.yaml` skips them."""
    good(tmp_path / "default.yaml", name="default")
    (tmp_path / ".#default.yaml").symlink_to("root@host.12345:1700000000")
    (tmp_path / "._default.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02Mac OS X  \xff\xfe")
    (tmp_path / "._default_test.yaml").write_bytes(b"\x00\x05\x16\x07\xff\xfe")
    assert [p.path.name for p in load_policies(tmp_path, builder).policies] == ["default.yaml"]
    assert find_case_files(tmp_path) == []


def test_single_file_applies_to_every_request(tmp_path: Path) -> None:
    """Loading one file makes it the policy for every request, whatever its scope."""
    path = good(tmp_path / "only.yaml", name="only", scope="scope: {tenants: [x]}")
    assert load_policies(path, builder).choose(ctx("y")).name == "only"


def test_version_changes_with_content(tmp_path: Path) -> None:
    """The set version is a digest of the files: any edit changes it."""
    path = good(tmp_path / "default.yaml", name="default")
    first = load_policies(tmp_path, builder).version
    path.write_text(path.read_text() + "description: edited\n")
    assert load_policies(tmp_path, builder).version != first


def test_gates_are_checked_and_join_their_gated_classifiers_stage(tmp_path: Path) -> None:
    """A gate must name another declared, ungated classifier; a gate no rule reads still runs in
    every stage its gated classifier runs in."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers:
          cheap: {type: a}
          heavy: {type: a, gate: {classifier: cheap, min_score: 0.3}}
        rules:
          - {name: r, stage: prompt, when: {classifier: heavy}, action: block}
    """)
    loaded = load_policy_file(path, builder)
    assert loaded.compiled.classifiers_by_stage[Stage.PROMPT] == ("cheap", "heavy")
    assert loaded.compiled.classifiers_by_stage[Stage.COMPLETION] == ()
    assert loaded.warnings == ()
    bad = write(tmp_path / "bad.yaml", """
        name: p
        version: "1"
        classifiers:
          a1: {type: a, gate: {classifier: a1, min_score: 0.3}}
          a2: {type: a, gate: {classifier: nope, min_score: 0.3}}
          a3: {type: a, gate: {classifier: a2, min_score: 0.3}}
        rules:
          - {name: r, when: {classifier: a3}, action: block}
    """)
    assert errors_of(bad) == [
        f"{bad}:4: classifiers.a1.gate.classifier: a classifier cannot gate itself",
        f"{bad}:5: classifiers.a2.gate.classifier: unknown classifier 'nope' "
        "(declared under `classifiers:`: a1, a2, a3)",
        f"{bad}:6: classifiers.a3.gate.classifier: 'a2' is gated itself (gates do not chain)",
    ]


def test_conditions_that_can_never_hold_are_warned_of(tmp_path: Path) -> None:
    """From a probe: a tenant written as a glob (tenants match exactly) and a prompt rule whose
    condition needs the completion stage loaded without a word; each is a warning now, and the
    same condition under `any` or `not`, which may hold otherwise, is not."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        scope: {tenants: ["acme-*"]}
        classifiers: {s: {type: a}}
        rules:
          - {name: dead, stage: prompt, when: {all: [{classifier: s}, {stage: completion}]},
             action: block}
          - {name: alive, stage: prompt, when: {any: [{classifier: s}, {stage: completion}]},
             action: block}
          - {name: both, when: {all: [{classifier: s}, {stage: completion}]}, action: block}
          - {name: globbed, when: {not: {tenant: "beta?"}}, action: flag}
    """)
    warned = [w for w in load_policy_file(path, builder).warnings if "never" in w or "glob" in w]
    assert warned == [
        f"{path}: tenant 'acme-*' is matched exactly, not as a glob (only models and routes take "
        "globs): list the tenant ids it stands for",
        f"{path}: tenant 'beta?' is matched exactly, not as a glob (only models and routes take "
        "globs): list the tenant ids it stands for",
        f"{path}: rule 'dead' never matches: it runs on the prompt stage and its condition needs "
        "stage completion",
    ]


def test_a_rule_on_a_classifier_that_reads_nothing_on_its_stage_is_warned_of(tmp_path: Path
                                                                             ) -> None:
    """From a probe: a completion rule on a classifier reading user messages only (which no
    answer has), or on one gated by such a classifier (whose gate never opens there), loaded
    without a word; a rule that may match on another stage, or through `any`, is not warned of."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers:
          asked: {type: a, roles: [user]}
          answered: {type: a, roles: [completion, assistant]}
          gated: {type: a, gate: {classifier: asked, min_score: 0.3}}
        rules:
          - {name: dead, stage: completion, when: {classifier: asked}, action: block}
          - {name: dead-gated, stage: completion, when: {all: [{classifier: gated}]},
             action: block}
          - {name: history, stage: prompt, when: {classifier: answered}, action: flag}
          - {name: both, when: {classifier: asked}, action: block}
          - {name: alive, stage: completion, when: {any: [{classifier: asked},
                                                          {classifier: answered}]}, action: flag}
    """)
    warned = [w for w in load_policy_file(path, builder).warnings if "never" in w]
    assert warned == [
        f"{path}: rule 'dead' never matches: it runs on the completion stage, and classifier "
        "'asked' reads only role user, which that stage has none of",
        f"{path}: rule 'dead-gated' never matches: it runs on the completion stage, and "
        "classifier 'gated' runs only when its gate 'asked' opens, and 'asked' reads only role "
        "user, which that stage has none of",
    ]


def test_a_threshold_of_zero_is_warned_of(tmp_path: Path) -> None:
    """From a probe: `threshold: 0` loaded without a word, and every text fired ("What is the
    capital of France?" was blocked)."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        classifiers:
          inj: {type: a, threshold: 0}
          low: {type: a, threshold: 0.01}
        rules:
          - {name: inj, when: {classifier: [inj, low]}, action: block}
    """)
    assert [w for w in load_policy_file(path, builder).warnings if "threshold" in w] == [
        f"{path}: classifier 'inj' has threshold 0: every text scores at least that, so it "
        "fires on every text it reads (a rule on it matches them all): give the score it should "
        "fire at"]


@pytest.mark.parametrize(("mask", "warned"), [
    ("[X:{lable}]", ["lable"]), ("[X:{label}]", []), ("{label} {kind} {label}", ["kind"]),
    ("{REDACTED}", ["REDACTED"]), ("[hidden {}]", [])])
def test_a_mask_placeholder_other_than_label_is_warned_of(
        tmp_path: Path, mask: str, warned: list[str]) -> None:
    """From a probe: a typo in the mask (`{lable}`) loaded without a word, and the literal
    `[X:{lable}]` stood in the answers."""
    path = write(tmp_path / "p.yaml", f"""
        name: p
        version: "1"
        classifiers: {{s: {{type: a}}}}
        redaction: {{mask: "{mask}"}}
        rules:
          - {{name: r, when: {{classifier: s}}, action: redact}}
    """)
    assert [w for w in load_policy_file(path, builder).warnings if "mask" in w] == [
        f"{path}: redaction.mask: {{{name}}} is written as it is: only {{label}} is replaced (by "
        "the span's label)" for name in warned]


def test_a_route_glob_matching_no_guarded_route_is_warned_of(tmp_path: Path) -> None:
    """From a probe: a scope's `routes:` or a condition's `route:` glob matching none of the four
    routes guard serves (`/chat/completions`, `/v1/chat/completion`) loaded without a word."""
    path = write(tmp_path / "p.yaml", """
        name: p
        version: "1"
        scope: {routes: ["/chat/completions", "/v1/*"]}
        classifiers: {s: {type: a}}
        rules:
          - {name: dead, when: {classifier: s, route: "/v1/chat/completion"}, action: block}
          - {name: alive, when: {classifier: s, route: "/v1/chat/*"}, action: block}
    """)
    assert [w for w in load_policy_file(path, builder).warnings if "route" in w] == [
        f"{path}: route '/chat/completions' matches none of the routes guard serves "
        "(/v1/chat/completions, /v1/completions, /v1/messages, /v1/responses)",
        f"{path}: route '/v1/chat/completion' matches none of the routes guard serves "
        "(/v1/chat/completions, /v1/completions, /v1/messages, /v1/responses)"]


def test_a_scope_or_tenant_rule_another_policy_takes_first_is_warned_of(tmp_path: Path) -> None:
    """From a probe: a second policy of the same scope (which never applies: the first by file
    name takes its requests), and a default's rule on a tenant that has a policy of its own,
    loaded without a word; a tenant whose policy takes only some of its requests is not warned
    of."""
    write(tmp_path / "default.yaml", """
        name: default
        version: "1"
        classifiers: {s: {type: a}}
        rules:
          - {name: all, when: {classifier: s}, action: flag}
          - {name: acme-s, when: {all: [{classifier: s}, {tenant: [acme, globex]}]}, action: block}
          - {name: beta-s, when: {classifier: s, tenant: beta}, action: block}
    """)
    for name, scope in (("acme", "{tenants: [acme, globex]}"), ("acme_v2", "{tenants: [acme]}"),
                        ("beta", "{tenants: [beta], models: [gpt-4*]}")):
        write(tmp_path / f"{name}.yaml", f"""
            name: {name}
            version: "1"
            scope: {scope}
            classifiers: {{s: {{type: a}}}}
            rules: [{{name: s, when: {{classifier: s}}, action: block}}]
        """)
    assert [w for w in load_policies(tmp_path, builder).all_warnings() if "never" in w] == [
        f"{tmp_path}/acme_v2.yaml: scope: never applies: acme.yaml, which comes first, takes "
        "every request it would",
        f"{tmp_path}/default.yaml: rule 'acme-s' never matches: every request of tenant acme, "
        "globex goes to acme.yaml"]


def test_a_tenant_rule_the_tenants_policy_inherits_is_not_said_to_never_match(
        tmp_path: Path) -> None:
    """From a re-probe: acme.yaml extends default.yaml, whose rule on tenant acme it applies;
    the default's rule was said to never match, and deleting it would loosen acme's policy."""
    write(tmp_path / "default.yaml", """
        name: default
        version: "1"
        classifiers: {s: {type: a}}
        rules:
          - {name: acme-s, when: {all: [{classifier: s}, {tenant: acme}]}, action: block}
    """)
    write(tmp_path / "acme.yaml", """
        name: acme
        version: "1"
        extends: default.yaml
        scope: {tenants: [acme]}
    """)
    assert [w for w in load_policies(tmp_path, builder).all_warnings() if "never" in w] == []
