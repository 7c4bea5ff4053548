"""A label a condition names that no classifier it reads can emit is a policy error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guard.errors import PolicyError
from guard.policy.loader import load_policy_file

CLASSIFIERS = """\
name: p
version: "1"
classifiers:
  pii: {type: pii, entities: [email, phone]}
  secrets: {type: secrets}
  words: {type: keywords, lists: [{terms: [napalm], label: weapons}]}
  tickets: {type: regex, patterns: [{pattern: 'acme-[0-9]+', label: ticket}]}
  lg: {type: llama_guard, url: "http://127.0.0.1:9/v1"}
rules:
"""


def policy(tmp_path: Path, rules: str, classifiers: str = CLASSIFIERS) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(classifiers + textwrap.indent(textwrap.dedent(rules).lstrip(), "  "))
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path, needs_env=False)
    return caught.value.errors


def test_a_misspelt_label_is_an_error_that_says_what_was_meant(tmp_path: Path) -> None:
    """From the brief: `labels_any: [pii:emial]` loaded, and the block rule never held."""
    path = policy(tmp_path, """
        - {name: mail, when: {classifier: pii, labels_any: [pii:emial]}, action: block}
        - {name: any, when: {labels_any: [Weapons, tiket]}, action: block}
    """)
    assert errors(path) == [
        f"{path}:10: rules[0].when.labels_any[0]: classifier 'pii' never emits the label "
        "'pii:emial' (did you mean 'pii:email'?)",
        f"{path}:11: rules[1].when.labels_any[0]: no classifier of the policy emits the label "
        "'Weapons' (did you mean 'weapons'?)",
        f"{path}:11: rules[1].when.labels_any[1]: no classifier of the policy emits the label "
        "'tiket' (did you mean 'ticket'?)",
    ]


def test_labels_follow_the_classifiers_config(tmp_path: Path) -> None:
    """What a classifier's config leaves out (an entity) is never emitted; the labels a policy
    gives its own patterns and word lists are, as are Llama Guard's codes and names."""
    path = policy(tmp_path, """
        - name: ok
          when: {labels_any: [pii:phone, weapons, ticket, keyword, S10, hate, unsafe]}
          action: block
        - {name: card, when: {classifier: pii, labels_any: [pii:card]}, action: block}
    """)
    assert errors(path) == [
        f"{path}:13: rules[1].when.labels_any[0]: classifier 'pii' never emits the label "
        "'pii:card' (it emits pii, pii:email, pii:phone)",
    ]


def test_a_label_of_another_classifier_names_it(tmp_path: Path) -> None:
    """A verdict is one classifier's: `secret` from `pii` never holds, and `labels_all` over two
    classifiers' labels never holds either."""
    path = policy(tmp_path, """
        - {name: wrong, when: {classifier: [pii, words], labels_any: [secret]}, action: block}
        - {name: both, when: {labels_all: [pii:email, weapons]}, action: block}
        - {name: fine, when: {classifier: secrets, labels_all: [secret, secret:jwt]}, action: block}
    """)
    assert errors(path) == [
        f"{path}:10: rules[0].when.labels_any[0]: none of classifiers 'pii', 'words' emits the "
        "label 'secret' (emitted by 'secrets')",
        f"{path}:11: rules[1].when.labels_all: no one classifier emits all of 'pii:email', "
        "'weapons' (a verdict is one classifier's)",
    ]


def test_classifier_error_needs_a_classifier_that_fails_closed(tmp_path: Path) -> None:
    """`classifier_error` is the runner's verdict for a classifier that fails closed: on one that
    fails open a rule on it never holds."""
    rule = "- {name: down, when: {classifier: lg, labels_any: [classifier_error]}, action: block}"
    path = policy(tmp_path, rule)
    assert errors(path) == [
        f"{path}:10: rules[0].when.labels_any[0]: classifier 'lg' never emits the label "
        "'classifier_error': a failure is a classifier_error verdict only with "
        "`on_error: fail_closed`",
    ]
    closed = CLASSIFIERS.replace('127.0.0.1:9/v1"}', '127.0.0.1:9/v1", on_error: fail_closed}')
    assert load_policy_file(policy(tmp_path, rule, closed), needs_env=False).name == "p"


def test_labels_inside_composed_conditions_are_checked(tmp_path: Path) -> None:
    """Under `all`, `any`, `not` and `prompt:` alike, each at its own key path."""
    path = policy(tmp_path, """
        - name: nested
          stage: completion
          when:
            all:
              - any: [{classifier: words, labels_any: [weapon]}, {classifier: pii}]
              - not: {classifier: secrets, labels_any: [secret:aws_key]}
              - prompt: {classifier: lg, labels_all: [unsafe, S01]}
          action: block
    """)
    found = errors(path)
    assert [line.split(": ", 2)[1] for line in found] == [
        "rules[0].when.all[0].any[0].labels_any[0]", "rules[0].when.all[1].not.labels_any[0]",
        "rules[0].when.all[2].prompt.labels_all[1]"]
    assert "(did you mean 'weapons'?)" in found[0]
    assert "(did you mean 'S1'?)" in found[2]


def test_a_classifier_with_labels_of_its_own_leaves_only_its_labels_unchecked(
        tmp_path: Path) -> None:
    """A webhook (or a moderation endpoint) answers with labels guard cannot know in advance: a
    condition that may read it passes a label it may answer with, but still not one whose
    prefix is a declaring classifier's (`pii:emial` beside a webhook had loaded, and the rule
    never held); one that names only others is checked in full."""
    hooked = CLASSIFIERS.replace("rules:\n", "  hook: {type: webhook, url: \"http://127.0.0.1:9/x\"}\nrules:\n")
    path = policy(tmp_path, """
        - {name: hook, when: {classifier: hook, labels_any: [anything, pii:passport]}, action: block}
        - {name: all, when: {labels_any: [pii:emial, toxic, sexual/minors, secret:github_tokn]}, action: flag}
        - {name: pii, when: {classifier: pii, labels_any: [pii:emial]}, action: block}
        - {name: both, when: {classifier: [pii, hook], labels_all: [pii:email, toxic]}, action: flag}
    """, hooked)
    assert errors(path) == [
        f"{path}:12: rules[1].when.labels_any[0]: no classifier of the policy emits the label "
        "'pii:emial' (did you mean 'pii:email'?); 'pii:' labels are those of 'pii' (for one "
        "that 'hook' answers with, name it under `classifier:`)",
        f"{path}:12: rules[1].when.labels_any[3]: no classifier of the policy emits the label "
        "'secret:github_tokn' (did you mean 'secret:github_token'?); 'secret:' labels are "
        "those of 'secrets' (for one that 'hook' answers with, name it under `classifier:`)",
        f"{path}:13: rules[2].when.labels_any[0]: classifier 'pii' never emits the label "
        "'pii:emial' (did you mean 'pii:email'?)",
    ]


def test_an_override_that_narrows_a_classifier_is_told_of_the_base_rules_it_voids(
        tmp_path: Path) -> None:
    """A base rule on `pii:phone` never holds under an override whose `pii` leaves phones out:
    the error names the base's line and the override's file."""
    base = policy(tmp_path, "- {name: phones, when: {labels_any: [pii:phone]}, action: block}\n")
    override = tmp_path / "acme.yaml"
    override.write_text('name: acme\nversion: "1"\nextends: p.yaml\n'
                        "classifiers:\n  pii: {type: pii, entities: [email]}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(override, needs_env=False)
    assert str(caught.value).startswith(f"{override.resolve()}: 1 error(s)")
    assert caught.value.errors == [
        f"{base}:10: rules[0].when.labels_any[0]: no classifier of the policy emits the label "
        "'pii:phone'"]
