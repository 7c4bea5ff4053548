"""evaluate(): conditions, strictest-wins, shadow mode, redactions, purity."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from guard.policy.engine import apply_redactions, compile_policy, evaluate
from guard.policy.model import Policy
from guard.types import Action, GuardContext, Mode, Span, Stage, Verdict

CTX = GuardContext(request_id="r1", route="/v1/chat/completions", model="gpt-4o-mini",
                   tenant="acme")


def policy(*rules: dict[str, Any], **extra: Any) -> Any:
    raw = {
        "name": "t", "version": "1",
        "classifiers": {"secrets": {"type": "secrets"}, "pii": {"type": "pii"},
                        "inj": {"type": "prompt_injection"}, "prof": {"type": "profanity"}},
        "rules": list(rules), **extra,
    }
    return compile_policy(Policy.model_validate(raw))


def rule(name: str, when: dict[str, Any], action: str = "block", **extra: Any) -> dict[str, Any]:
    return {"name": name, "when": when, "action": action, **extra}


SECRET = Verdict("secrets", 0, frozenset({"secret", "secret:github_token"}), 1.0,
                 (Span(4, 44, "secret:github_token"),))
EMAIL = Verdict("pii", 1, frozenset({"pii", "pii:email", "pii:phone"}), 0.9,
                (Span(0, 5, "pii:phone"), Span(10, 20, "pii:email")))
INJ = Verdict("inj", 0, frozenset({"prompt_injection"}), 0.72)
NOTHING = Verdict("prof", 0)


def test_no_rule_matches_allows() -> None:
    """With no matching rule the decision is allow with no matches."""
    d = evaluate(policy(rule("s", {"classifier": "secrets"})), [NOTHING], CTX, Stage.PROMPT)
    assert d.action is Action.ALLOW and d.matches == ()


def test_classifier_fired() -> None:
    """`classifier: x` holds when x produced a verdict with labels, and records it as evidence."""
    d = evaluate(policy(rule("s", {"classifier": "secrets"})), [SECRET, NOTHING], CTX,
                 Stage.PROMPT)
    assert d.action is Action.BLOCK
    assert d.rules == ("s",) and d.matches[0].verdicts == (SECRET,)


def test_verdict_without_labels_never_fires() -> None:
    """A verdict with empty labels (nothing found) satisfies no verdict condition."""
    p = policy(rule("p", {"classifier": "prof"}), rule("any", {"labels_any": ["profanity"]}))
    assert evaluate(p, [NOTHING], CTX, Stage.PROMPT).action is Action.ALLOW


def test_labels_any_and_all() -> None:
    """labels_any needs one listed label, labels_all every listed label, on the same verdict."""
    p = policy(rule("any", {"labels_any": ["pii:card", "pii:email"]}, "flag"),
               rule("all", {"labels_all": ["pii:email", "pii:card"]}, "block"))
    d = evaluate(p, [EMAIL], CTX, Stage.PROMPT)
    assert d.action is Action.FLAG and d.rules == ("any",)


def test_labels_all_must_hold_on_one_verdict() -> None:
    """labels_all is not satisfied by labels spread over two verdicts."""
    p = policy(rule("both", {"labels_all": ["secret", "pii"]}))
    assert evaluate(p, [SECRET, EMAIL], CTX, Stage.PROMPT).action is Action.ALLOW


def test_score_gte_threshold() -> None:
    """score_gte compares with the verdict's score, inclusive."""
    at = policy(rule("inj", {"classifier": "inj", "score_gte": 0.72}))
    above = policy(rule("inj", {"classifier": "inj", "score_gte": 0.73}))
    assert evaluate(at, [INJ], CTX, Stage.PROMPT).action is Action.BLOCK
    assert evaluate(above, [INJ], CTX, Stage.PROMPT).action is Action.ALLOW


def test_strictest_enforced_action_wins_and_all_matches_listed() -> None:
    """block > redact > flag > allow, whatever the rule order; every matching rule is listed."""
    p = policy(rule("f", {"classifier": "pii"}, "flag"),
               rule("r", {"classifier": "pii"}, "redact"),
               rule("b", {"classifier": "secrets"}, "block"),
               rule("a", {"classifier": "inj"}, "allow"))
    d = evaluate(p, [EMAIL, SECRET, INJ], CTX, Stage.PROMPT)
    assert d.action is Action.BLOCK
    assert [m.rule for m in d.matches] == ["f", "r", "b", "a"]
    assert [m.action for m in d.matches] == [Action.FLAG, Action.REDACT, Action.BLOCK,
                                             Action.ALLOW]


def test_shadow_rules_are_listed_but_never_change_the_action() -> None:
    """A matching shadow block leaves the action at what enforced rules decided."""
    p = policy(rule("shadow-block", {"classifier": "inj"}, "block", mode="shadow"),
               rule("flag", {"classifier": "inj"}, "flag"))
    d = evaluate(p, [INJ], CTX, Stage.PROMPT)
    assert d.action is Action.FLAG
    assert [(m.rule, m.mode) for m in d.shadow] == [("shadow-block", Mode.SHADOW)]
    assert d.rules == ("flag",)


def test_shadow_redact_adds_no_redactions() -> None:
    """Spans of a shadow redact rule are never masked."""
    p = policy(rule("r", {"classifier": "pii"}, "redact", mode="shadow"))
    d = evaluate(p, [EMAIL], CTX, Stage.COMPLETION)
    assert d.action is Action.ALLOW and d.redactions == {}


def test_rule_stage_filters() -> None:
    """A prompt rule never matches on the completion stage; `both` matches on either."""
    p = policy(rule("p", {"classifier": "secrets"}, stage="prompt"),
               rule("c", {"classifier": "pii"}, "flag", stage="completion"),
               rule("b", {"classifier": "inj"}, "flag", stage="both"))
    prompt = evaluate(p, [SECRET, EMAIL, INJ], CTX, Stage.PROMPT)
    completion = evaluate(p, [SECRET, EMAIL, INJ], CTX, Stage.COMPLETION)
    assert [m.rule for m in prompt.matches] == ["p", "b"]
    assert [m.rule for m in completion.matches] == ["c", "b"]


def test_condition_stage_key() -> None:
    """`stage:` inside a condition restricts a `both` rule to one stage."""
    p = policy(rule("x", {"all": [{"classifier": "pii"}, {"stage": "completion"}]}, "redact"))
    assert evaluate(p, [EMAIL], CTX, Stage.PROMPT).action is Action.ALLOW
    assert evaluate(p, [EMAIL], CTX, Stage.COMPLETION).action is Action.REDACT


@pytest.mark.parametrize(("when", "holds"), [
    ({"tenant": ["acme"]}, True),
    ({"tenant": "other"}, False),
    ({"model": ["gpt-4o*"]}, True),
    ({"model": "claude-*"}, False),
    ({"route": "/v1/chat/*"}, True),
    ({"route": ["/v1/completions"]}, False),
])
def test_context_conditions(when: dict[str, Any], holds: bool) -> None:
    """tenant is exact, model and route are globs; context-only rules match without verdicts."""
    d = evaluate(policy(rule("ctx", when, "flag")), [], CTX, Stage.PROMPT)
    assert (d.action is Action.FLAG) is holds


@pytest.mark.parametrize("model", ["GPT-4o", " gpt-4o-mini ", "Gpt-4O"])
def test_a_model_condition_matches_any_case_and_surrounding_spaces(model: str) -> None:
    """From a docs probe: a model glob matched case-sensitively while kill switches fold case,
    so `GPT-4o ` (which Ollama reads as `gpt-4o`) escaped a rule for `gpt-4o*`, and a policy
    scoped to it; model names match as `model_key` everywhere, the patterns folded too."""
    ctx = GuardContext(request_id="r", route="/v1/chat/completions", model=model)
    for when in ({"model": ["gpt-4o*"]}, {"model": ["GPT-4O*"]}):
        assert evaluate(policy(rule("m", when, "flag")), [], ctx, Stage.PROMPT).action \
            is Action.FLAG


def test_missing_tenant_matches_no_tenant_condition() -> None:
    """A request without a tenant never matches a tenant list."""
    ctx = GuardContext(request_id="r", route="/v1/chat/completions", model="m")
    assert evaluate(policy(rule("t", {"tenant": "acme"}, "flag")), [], ctx,
                    Stage.PROMPT).action is Action.ALLOW


def test_all_any_not_composition() -> None:
    """all / any / not compose; `not` contributes no evidence of its own."""
    when = {"all": [
        {"any": [{"classifier": "secrets"}, {"classifier": "inj", "score_gte": 0.9}]},
        {"not": {"tenant": "red-team"}},
    ]}
    p = policy(rule("x", when))
    assert evaluate(p, [SECRET], CTX, Stage.PROMPT).action is Action.BLOCK
    assert evaluate(p, [INJ], CTX, Stage.PROMPT).action is Action.ALLOW
    red = GuardContext(request_id="r", route="/v1/chat/completions", model="m", tenant="red-team")
    assert evaluate(p, [SECRET], red, Stage.PROMPT).action is Action.ALLOW
    assert evaluate(p, [SECRET], CTX, Stage.PROMPT).matches[0].verdicts == (SECRET,)


def test_keys_in_one_condition_are_anded() -> None:
    """classifier + labels_any + tenant in one mapping must all hold."""
    p = policy(rule("x", {"classifier": "pii", "labels_any": ["pii:email"], "tenant": "other"}))
    assert evaluate(p, [EMAIL], CTX, Stage.PROMPT).action is Action.ALLOW


def test_redactions_are_spans_of_enforced_redact_rules_per_segment() -> None:
    """Redact collects the evidence spans by segment index, sorted."""
    other = Verdict("pii", 3, frozenset({"pii", "pii:ip"}), 1.0, (Span(2, 9, "pii:ip"),))
    d = evaluate(policy(rule("r", {"classifier": "pii"}, "redact")), [EMAIL, other], CTX,
                 Stage.COMPLETION)
    assert d.action is Action.REDACT
    assert d.redactions == {1: (Span(0, 5, "pii:phone"), Span(10, 20, "pii:email")),
                            3: (Span(2, 9, "pii:ip"),)}


def test_redact_rule_with_labels_masks_only_those_labels() -> None:
    """A redact rule about pii:email masks emails, not the phone numbers in the same verdict."""
    d = evaluate(policy(rule("r", {"labels_any": ["pii:email"]}, "redact")), [EMAIL], CTX,
                 Stage.COMPLETION)
    assert d.redactions == {1: (Span(10, 20, "pii:email"),)}


def test_redact_with_category_label_masks_children() -> None:
    """labels_any: [pii] masks every `pii:*` span."""
    d = evaluate(policy(rule("r", {"labels_any": ["pii"]}, "redact")), [EMAIL], CTX,
                 Stage.COMPLETION)
    assert len(d.redactions[1]) == 2


def test_redact_with_nothing_to_mask_becomes_block() -> None:
    """A redact decision whose evidence has no spans blocks instead of passing the text."""
    d = evaluate(policy(rule("r", {"classifier": "inj"}, "redact")), [INJ], CTX, Stage.PROMPT)
    assert d.action is Action.BLOCK and d.matches[0].action is Action.REDACT


@pytest.mark.parametrize("rules", [
    [rule("inj", {"classifier": "inj"}, "redact"), rule("pii", {"classifier": "pii"}, "redact")],
    [rule("either", {"any": [{"classifier": "inj"}, {"classifier": "pii"}]}, "redact")],
    [rule("acme", {"tenant": ["acme"]}, "redact"), rule("pii", {"classifier": "pii"}, "redact")],
])
def test_redact_rule_with_nothing_to_mask_blocks_whatever_others_mask(
        rules: list[dict[str, Any]]) -> None:
    """One redact rule (or verdict in its evidence) with no spans blocks, though pii has spans."""
    d = evaluate(policy(*rules), [INJ, EMAIL], CTX, Stage.PROMPT)
    assert d.action is Action.BLOCK and d.redactions


def test_block_settings_and_mask_travel_in_the_decision() -> None:
    """The decision carries the policy's name, version, block message/status and mask."""
    p = policy(rule("s", {"classifier": "secrets"}),
               block={"message": "No.", "status": 403}, redaction={"mask": "***"})
    d = evaluate(p, [SECRET], CTX, Stage.PROMPT)
    assert (d.policy, d.policy_version, d.message, d.status, d.mask) == ("t", "1", "No.", 403,
                                                                         "***")


def test_evaluate_is_pure() -> None:
    """The same input gives equal decisions, and the verdict list is left untouched."""
    p = policy(rule("r", {"classifier": "pii"}, "redact"), rule("s", {"classifier": "secrets"}))
    verdicts = [EMAIL, SECRET]
    first = evaluate(p, verdicts, CTX, Stage.PROMPT)
    assert evaluate(p, verdicts, CTX, Stage.PROMPT) == first and verdicts == [EMAIL, SECRET]


def test_uncompiled_policy_is_accepted() -> None:
    """evaluate() also takes a plain Policy, compiling it on the fly."""
    raw = Policy.model_validate({"name": "t", "version": "1", "classifiers": {"s": {"type": "x"}},
                                 "rules": [rule("s", {"classifier": "s"})]})
    verdict = Verdict("s", 0, frozenset({"x"}), 1.0)
    assert evaluate(raw, [verdict], CTX, Stage.PROMPT).action is Action.BLOCK


def test_classifiers_by_stage() -> None:
    """Each stage runs only the classifiers its rules read; a label-only condition needs all."""
    p = policy(rule("s", {"classifier": "secrets"}, stage="prompt"),
               rule("c", {"classifier": ["pii", "prof"]}, stage="completion"))
    assert p.classifiers_by_stage[Stage.PROMPT] == ("secrets",)
    assert p.classifiers_by_stage[Stage.COMPLETION] == ("pii", "prof")
    everything = policy(rule("l", {"labels_any": ["x"]}, stage="prompt"))
    assert everything.classifiers_by_stage[Stage.PROMPT] == ("secrets", "pii", "inj", "prof")
    assert everything.classifiers_by_stage[Stage.COMPLETION] == ()


def test_prompt_condition_reads_the_prompt_verdicts_on_the_completion_stage() -> None:
    """`prompt:` on the completion stage holds on the verdicts the prompt was decided on, and
    gives no evidence: the prompt's spans must not mask the answer."""
    p = policy(rule("answer-to-injection", {"all": [{"classifier": "pii"},
                                                    {"prompt": {"classifier": "inj"}}]},
                    stage="completion"))
    answer = Verdict("pii", 0, frozenset({"pii", "pii:email"}), 0.9, (Span(0, 5, "pii:email"),))
    after_injection = dataclasses.replace(CTX, prompt_verdicts=(INJ, NOTHING))
    d = evaluate(p, [answer], after_injection, Stage.COMPLETION)
    assert d.action is Action.BLOCK and d.matches[0].verdicts == (answer,)
    assert d.prompt_verdicts == (INJ,)  # what the rule read on the prompt, for its incident
    assert evaluate(p, [answer], CTX, Stage.COMPLETION).action is Action.ALLOW
    unfired = dataclasses.replace(CTX, prompt_verdicts=(Verdict("inj", 0, frozenset(), 0.72),))
    assert evaluate(p, [answer], unfired, Stage.COMPLETION).action is Action.ALLOW
    # the answer's own verdicts never stand in for the prompt's
    assert evaluate(p, [answer, INJ], CTX, Stage.COMPLETION).action is Action.ALLOW


def test_prompt_condition_on_the_prompt_stage_reads_its_own_verdicts() -> None:
    p = policy(rule("inj", {"prompt": {"classifier": "inj", "score_gte": 0.7}}))
    d = evaluate(p, [INJ], CTX, Stage.PROMPT)
    assert d.action is Action.BLOCK and d.matches[0].verdicts == (INJ,)
    assert evaluate(p, [NOTHING], CTX, Stage.PROMPT).action is Action.ALLOW


def test_classifiers_a_completion_rule_reads_in_the_prompt_run_on_the_prompt_stage() -> None:
    p = policy(rule("c", {"all": [{"classifier": "prof"}, {"not": {"prompt": {"classifier": "inj"}}}]},
                    stage="completion"))
    assert p.classifiers_by_stage[Stage.PROMPT] == ("inj",)
    assert p.classifiers_by_stage[Stage.COMPLETION] == ("prof",)
    assert p.reads_prompt  # a request keeps its prompt's verdicts only for such a policy
    assert not policy(rule("s", {"prompt": {"classifier": "inj"}}, stage="prompt")).reads_prompt
    unnamed = policy(rule("c", {"prompt": {"labels_any": ["x"]}}, stage="completion"))
    assert unnamed.classifiers_by_stage[Stage.PROMPT] == ("secrets", "pii", "inj", "prof")
    assert unnamed.classifiers_by_stage[Stage.COMPLETION] == ()


@pytest.mark.parametrize(("spans", "expected"), [
    ([], "my email is a@b.co ok"),
    ([Span(12, 18, "pii:email")], "my email is [REDACTED:pii:email] ok"),
    ([Span(0, 2, "a"), Span(1, 5, "b")], "[REDACTED:a]ail is a@b.co ok"),
    ([Span(0, 2, "a"), Span(2, 5, "b")], "[REDACTED:a]ail is a@b.co ok"),
    ([Span(12, 18, "x"), Span(0, 2, "y")], "[REDACTED:y] email is [REDACTED:x] ok"),
])
def test_apply_redactions(spans: list[Span], expected: str) -> None:
    """Spans are masked in order; overlapping and adjacent spans merge into one mask."""
    assert apply_redactions("my email is a@b.co ok", spans) == expected
