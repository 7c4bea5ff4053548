"""Deciding: verdicts + request context -> Decision. Pure, synchronous, no I/O.

A policy is compiled once (at load) into closures over frozensets and precompiled globs, so
`evaluate` is a loop over rules with no parsing, no allocation beyond the answer, and no I/O.

Semantics, in full:
- every rule whose stage covers the stage being decided is evaluated (no first-match stop);
- a verdict condition holds when one verdict that fired (non-empty labels) satisfies every
  verdict key of the condition at once; the verdicts that did are the rule's evidence;
- the decision's action is the strictest action among matching `enforce` rules
  (block > redact > flag > allow); `shadow` matches are listed but never change it;
- redactions are the evidence spans of matching enforced `redact` rules, per segment; when a
  rule names labels, only spans with those labels (or their `category:` children) are masked.
  A redact decision becomes a block when one of those rules has nothing to mask (no evidence,
  or a verdict in its evidence without spans): that rule decided the text may not pass as it
  is, and there is no span to take out of it, whatever other rules mask.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guard.policy.model import CONTEXT_KEYS, Condition, Policy, Rule
from guard.redaction import apply_redactions, merge_spans
from guard.types import (
    Action,
    Decision,
    GuardContext,
    Mode,
    RuleMatch,
    Span,
    Stage,
    Verdict,
    model_key,
)

__all__ = ["CompiledPolicy", "apply_redactions", "compile_policy", "evaluate", "merge_spans"]

# A compiled condition: (verdicts that fired, context, stage) -> None when it does not hold,
# else the verdicts that made it hold (empty for pure context conditions).
Evidence = tuple[Verdict, ...] | None
Test = Callable[[Sequence[Verdict], GuardContext, Stage], Evidence]

_NO_EVIDENCE: tuple[Verdict, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    rule: Rule
    stages: frozenset[Stage]
    test: Test
    span_labels: frozenset[str] | None  # mask only spans with these labels (None: every span)
    prompt_reads: frozenset[str] | None = frozenset()  # what its `prompt:` reads (None: all)

    @property
    def answers_read_prompt(self) -> bool:
        """Whether, on the completion stage, it reads the prompt's verdicts (`prompt:`)."""
        return Stage.COMPLETION in self.stages and self.prompt_reads != frozenset()


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy ready to evaluate: its rules compiled, and which classifiers each stage needs."""

    policy: Policy
    rules: tuple[CompiledRule, ...]
    classifiers_by_stage: Mapping[Stage, tuple[str, ...]] = field(default_factory=dict)

    @functools.cached_property
    def reads_prompt(self) -> bool:
        """Whether a completion rule reads the prompt's verdicts (`prompt:`): only then does a
        request keep them for its completion stage."""
        return any(c.answers_read_prompt for c in self.rules)


def globs(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of the shell-style globs (`gpt-4*`, `/v1/*`), whole string."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def model_globs(patterns: Iterable[str]) -> re.Pattern[str]:
    """`globs` for model names, which match as their `model_key` (`GPT-4o ` as `gpt-4o`)."""
    return globs(model_key(p) for p in patterns)


def _leaf(cond: Condition) -> Test:
    """The verdict and context keys of one condition (not its sub-conditions) as one test."""
    names = frozenset(cond.classifier) if cond.classifier else None
    any_labels = frozenset(cond.labels_any) if cond.labels_any else None
    all_labels = frozenset(cond.labels_all) if cond.labels_all else None
    score = cond.score_gte
    tenants = frozenset(cond.tenant) if cond.tenant else None
    models = model_globs(cond.model) if cond.model else None
    routes = globs(cond.route) if cond.route else None
    stage = Stage(cond.stage) if cond.stage else None
    on_verdicts = cond.tests_verdicts

    def test(verdicts: Sequence[Verdict], ctx: GuardContext, at: Stage) -> Evidence:
        if stage is not None and at is not stage:
            return None
        if tenants is not None and ctx.tenant not in tenants:
            return None
        if models is not None and not models.match(model_key(ctx.model)):
            return None
        if routes is not None and not routes.match(ctx.route):
            return None
        if not on_verdicts:
            return _NO_EVIDENCE
        evidence = tuple(
            v for v in verdicts
            if (names is None or v.classifier in names)
            and (any_labels is None or not any_labels.isdisjoint(v.labels))
            and (all_labels is None or all_labels <= v.labels)
            and (score is None or v.score >= score)
        )
        return evidence or None

    return test


def _all(tests: Sequence[Test]) -> Test:
    def test(verdicts: Sequence[Verdict], ctx: GuardContext, at: Stage) -> Evidence:
        evidence: tuple[Verdict, ...] = ()
        for sub in tests:
            found = sub(verdicts, ctx, at)
            if found is None:
                return None
            evidence += found
        return evidence

    return test


def _any(tests: Sequence[Test]) -> Test:
    def test(verdicts: Sequence[Verdict], ctx: GuardContext, at: Stage) -> Evidence:
        evidence: Evidence = None
        for sub in tests:
            found = sub(verdicts, ctx, at)
            if found is not None:
                evidence = found if evidence is None else evidence + found
        return evidence

    return test


def _not(inner: Test) -> Test:
    def test(verdicts: Sequence[Verdict], ctx: GuardContext, at: Stage) -> Evidence:
        return _NO_EVIDENCE if inner(verdicts, ctx, at) is None else None

    return test


def _prompt(inner: Test) -> Test:
    """`inner` on the request's prompt: on the completion stage it reads the verdicts the prompt
    was decided on and gives no evidence (their spans are the prompt's, not the answer's)."""
    def test(verdicts: Sequence[Verdict], ctx: GuardContext, at: Stage) -> Evidence:
        if at is Stage.PROMPT:
            return inner(verdicts, ctx, at)
        fired = [v for v in ctx.prompt_verdicts if v.labels]
        return None if inner(fired, ctx, Stage.PROMPT) is None else _NO_EVIDENCE

    return test


def compile_condition(cond: Condition) -> Test:
    """One condition (and its sub-conditions) as one test; all parts ANDed."""
    tests: list[Test] = []
    if cond.tests_verdicts or any(getattr(cond, k) is not None for k in CONTEXT_KEYS):
        tests.append(_leaf(cond))
    if cond.all_:
        tests.append(_all([compile_condition(c) for c in cond.all_]))
    if cond.any_:
        tests.append(_any([compile_condition(c) for c in cond.any_]))
    if cond.not_ is not None:
        tests.append(_not(compile_condition(cond.not_)))
    if cond.prompt is not None:
        tests.append(_prompt(compile_condition(cond.prompt)))
    return tests[0] if len(tests) == 1 else _all(tests)


def _labels(cond: Condition) -> set[str]:
    labels = set(cond.labels_any or ()) | set(cond.labels_all or ())
    for sub in (*(cond.all_ or ()), *(cond.any_ or ())):
        labels |= _labels(sub)
    return labels


def _union(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    return None if a is None or b is None else a | b


def _subs(cond: Condition) -> tuple[Condition, ...]:
    """The sub-conditions under `all`, `any` and `not` (not `prompt`, which reads other verdicts)."""
    return (*(cond.all_ or ()), *(cond.any_ or ()), *((cond.not_,) if cond.not_ else ()))


def referenced_classifiers(cond: Condition, *, prompt: bool = True) -> set[str] | None:
    """Classifier names a condition reads; None when a verdict key names no classifier (all).
    `prompt=False` leaves out what its `prompt:` conditions read (`read_in_prompt`)."""
    names: set[str] | None = set()
    if cond.tests_verdicts:
        names = set(cond.classifier) if cond.classifier is not None else None
    for sub in _subs(cond):
        names = _union(names, referenced_classifiers(sub, prompt=prompt))
    if prompt and cond.prompt is not None:
        names = _union(names, referenced_classifiers(cond.prompt))
    return names


def read_in_prompt(cond: Condition) -> set[str] | None:
    """Classifier names a condition's `prompt:` conditions read (None: all), wherever they sit."""
    names: set[str] | None = set()
    for sub in _subs(cond):
        names = _union(names, read_in_prompt(sub))
    if cond.prompt is not None:
        names = _union(names, referenced_classifiers(cond.prompt))
    return names


def _frozen(names: set[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


def rule_stages(rule: Rule) -> frozenset[Stage]:
    """The stages a rule's `stage` key applies it on."""
    if rule.stage == "both":
        return frozenset(Stage)
    return frozenset({Stage(rule.stage)})


def gate_of(raw: Mapping[str, Any]) -> str | None:
    """The classifier named by a classifier spec's `gate:` key, if any."""
    gate = raw.get("gate")
    name = gate.get("classifier") if isinstance(gate, Mapping) else None
    return name if isinstance(name, str) else None


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile every rule; work out which classifiers each stage has to run."""
    rules = tuple(
        CompiledRule(rule, rule_stages(rule), compile_condition(rule.when),
                     frozenset(_labels(rule.when)) or None, _frozen(read_in_prompt(rule.when)))
        for rule in policy.rules
    )
    def needed(stage: Stage, chosen: Iterable[CompiledRule]) -> tuple[str, ...]:
        names: set[str] = set()
        for compiled in chosen:
            found: set[str] | None = set()
            if stage in compiled.stages:
                found = referenced_classifiers(compiled.rule.when, prompt=stage is Stage.PROMPT)
            if stage is Stage.PROMPT and compiled.answers_read_prompt:
                # a completion rule's `prompt:` conditions read the prompt stage's verdicts
                reads = compiled.prompt_reads
                found = _union(found, None if reads is None else set(reads))
            names |= set(policy.classifiers) if found is None else found
        # a gated classifier needs its gate's verdicts in the same check
        names |= {gate for name in names if (gate := gate_of(policy.classifiers[name]))}
        return tuple(name for name in policy.classifiers if name in names)

    return CompiledPolicy(policy, rules, {stage: needed(stage, rules) for stage in Stage})


def _wanted(span: Span, labels: frozenset[str]) -> bool:
    return span.label in labels or span.label.split(":", 1)[0] in labels


def _unmaskable(matches: Iterable[tuple[CompiledRule, tuple[Verdict, ...]]]) -> bool:
    """Whether a redact rule has nothing to mask (no evidence, or a verdict in it without spans):
    masking what the others found would let what it matched through."""
    return any(not evidence or any(not v.spans for v in evidence) for _, evidence in matches)


def _redactions(matches: Iterable[tuple[CompiledRule, tuple[Verdict, ...]]]
                ) -> dict[int, tuple[Span, ...]]:
    spans: dict[int, set[Span]] = {}
    for compiled, evidence in matches:
        for verdict in evidence:
            chosen = verdict.spans
            if compiled.span_labels is not None:
                # a rule about some labels masks only those, unless no span carries them
                labels = compiled.span_labels
                chosen = tuple(s for s in verdict.spans if _wanted(s, labels)) or chosen
            if chosen:
                spans.setdefault(verdict.segment, set()).update(chosen)
    return {index: tuple(sorted(found, key=lambda s: (s.start, s.end, s.label)))
            for index, found in sorted(spans.items())}


def evaluate(policy: CompiledPolicy | Policy, verdicts: Sequence[Verdict], ctx: GuardContext,
             stage: Stage) -> Decision:
    """The policy's decision on one stage of one request. Pure: same input, same Decision.

    Pass a CompiledPolicy (compile once with `compile_policy`); a Policy is compiled per call.
    """
    if isinstance(policy, Policy):
        policy = compile_policy(policy)
    fired = [v for v in verdicts if v.labels]
    matches: list[RuleMatch] = []
    redact_evidence: list[tuple[CompiledRule, tuple[Verdict, ...]]] = []
    prompt_read: dict[int, Verdict] = {}
    action = Action.ALLOW
    for compiled in policy.rules:
        if stage not in compiled.stages:
            continue
        evidence = compiled.test(fired, ctx, stage)
        if evidence is None:
            continue
        if stage is Stage.COMPLETION and compiled.answers_read_prompt:
            names = compiled.prompt_reads
            prompt_read.update((id(v), v) for v in ctx.prompt_verdicts
                               if v.labels and (names is None or v.classifier in names))
        rule = compiled.rule
        matches.append(RuleMatch(rule.name, rule.action, rule.mode, rule.severity, rule.category,
                                 evidence))
        if rule.mode is Mode.ENFORCE:
            if rule.action.rank > action.rank:
                action = rule.action
            if rule.action is Action.REDACT:
                redact_evidence.append((compiled, evidence))
    redactions = _redactions(redact_evidence) if redact_evidence else {}
    if action is Action.REDACT and _unmaskable(redact_evidence):
        action = Action.BLOCK
    spec = policy.policy
    return Decision(
        action=action, stage=stage, policy=spec.name, policy_version=spec.version,
        matches=tuple(matches), verdicts=tuple(verdicts), redactions=redactions,
        mask=spec.redaction.mask, message=spec.block.message, status=spec.block.status,
        prompt_verdicts=tuple(prompt_read.values()),
    )
