"""Decisions and contexts for incident tests, built from guard.types only."""

from __future__ import annotations

from guard.types import (
    Action,
    Decision,
    GuardContext,
    Mode,
    RuleMatch,
    Segment,
    Span,
    Stage,
    Verdict,
)

HASH_KEY = bytes(range(32))  # a content-hash key, as a recorder's HashKey holds


def context(request_id: str = "req-1", tenant: str | None = "acme") -> GuardContext:
    return GuardContext(request_id=request_id, route="/v1/chat/completions", model="gpt-4o",
                        tenant=tenant)


def prompt(*texts: str) -> list[Segment]:
    """User messages with `texts`: what a decision on the prompt was made on."""
    return [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(texts)]


def decision(action: Action = Action.BLOCK, mode: Mode = Mode.ENFORCE, rule: str = "no-secrets",
             severity: str = "critical", category: str = "secrets",
             spans: tuple[Span, ...] = ()) -> Decision:
    verdict = Verdict(classifier="secrets", segment=0, labels=frozenset({"api_key"}), score=0.97,
                      spans=spans)
    match = RuleMatch(rule=rule, action=action, mode=mode, severity=severity, category=category,
                      verdicts=(verdict,))
    enforced = action if mode is Mode.ENFORCE else Action.ALLOW
    return Decision(action=enforced, stage=Stage.PROMPT, policy="default", policy_version="v7",
                    matches=(match,), verdicts=(verdict,),
                    redactions={0: spans} if action is Action.REDACT else {})


def allow() -> Decision:
    return Decision(action=Action.ALLOW, stage=Stage.PROMPT)
