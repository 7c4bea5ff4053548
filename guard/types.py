"""The contracts every part of guard speaks. This module depends on nothing else in guard."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class Stage(enum.StrEnum):
    """Where a text sits in the exchange: sent by the client, or produced by the model."""

    PROMPT = "prompt"
    COMPLETION = "completion"


class Action(enum.StrEnum):
    """What the policy does with a request. Strictness: block > redact > flag > allow."""

    ALLOW = "allow"
    FLAG = "flag"
    REDACT = "redact"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.ALLOW: 0, Action.FLAG: 1, Action.REDACT: 2, Action.BLOCK: 3}


def joined(texts: Iterable[tuple[int, str]]) -> tuple[str, dict[int, int]]:
    """Segment texts, as (index, text), joined with newlines as a Recorder joins them, and where
    each segment index starts in the result."""
    parts: list[str] = []
    starts: dict[int, int] = {}
    at = 0
    for index, text in texts:
        starts[index] = at
        parts.append(text)
        at += len(text) + 1
    return "\n".join(parts), starts


# The roles a segment can have (`Segment.role`): what a classifier's `roles` may name.
ROLES = frozenset({"system", "user", "assistant", "tool", "tool_call", "document", "completion"})
# The roles a segment of each stage can have: a prompt's any but an answer's own; an answer's
# its text (`completion`, or `assistant` where the protocol names it so), tool calls and the
# tool results a server adds (a Messages `web_search_tool_result`). No answer text is the
# user's: a classifier reading only `user` finds nothing there (policy/never.py warns of a rule
# that needs one).
STAGE_ROLES: Mapping[Stage, frozenset[str]] = {
    Stage.PROMPT: ROLES - {"completion"},
    Stage.COMPLETION: frozenset({"completion", "assistant", "tool", "tool_call"}),
}


def model_key(name: str) -> str:
    """A model name as guard matches it (kill switches, breakers, policy scopes and rules,
    routes): without surrounding spaces, case folded. Upstreams such as Ollama read `GPT-4o `
    as `gpt-4o`; what stops or guards one must stop or guard both."""
    return name.strip().casefold()


def strictest(actions: Sequence[Action]) -> Action:
    """The strictest of `actions`; `allow` when there are none."""
    return max(actions, key=lambda a: a.rank, default=Action.ALLOW)


class Mode(enum.StrEnum):
    """`enforce` rules change traffic; `shadow` rules only record what they would have done."""

    ENFORCE = "enforce"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of a segment's original text, with the label that covers them.
    A start below 0 (in a prompt) reaches back into the texts of the segment's role before it,
    read joined (a value sent in pieces; `redaction.reaching_back`)."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text a classifier looks at.

    text:  the original text, exactly as the client or the model wrote it.
    role:  `system`, `user`, `assistant`, `tool` (tool results), `document`, or `completion`.
    index: the segment's position in the request (message index), or the choice index of a
           completion; verdicts refer to segments by it.
    stage: prompt or completion.
    context: the texts of the segments of the same role just before this one, oldest first, for
           a classifier that reads a message joined to the ones before it (a request sent in
           pieces); empty unless one of the stage's classifiers asks for them (`context_turns`).
           For one that reads values sent in pieces (`joins_turns`), the roles read together
           count as one (JOINED_ROLES: a document's texts and the user's).
           On the completion stage: the texts of the answer before this one that a client joins
           to it (`Dialect.joins_answer`).
           An answer that goes on from the prompt's text (a legacy prompt, an assistant
           message it continues) has that text's end first.
    request: on the completion stage, the request's last user message as it was forwarded
           (redacted), given only to a classifier that `reads_request`; empty otherwise.
    after: on the completion stage, the text a client puts right after this one that is not
           the answer's (a fill-in-the-middle suffix's start): a value the answer begins and
           it ends is read whole, and masked in the answer.
    joins: on the completion stage, where each text of the answer read after this one (those a
           client joins to it) begins in `text`, the first where its own text ends: a phrase's
           words meet across them as across two texts (`LocalClassifier.phrases_across`).
    """

    text: str
    role: str
    index: int
    stage: Stage
    context: tuple[str, ...] = ()
    request: str = ""
    after: str = ""
    joins: tuple[int, ...] = ()

    @property
    def own(self) -> str:
        """The segment's own text, without the texts after it read with it (`joins`)."""
        return self.text[:self.joins[0]] if self.joins else self.text


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classifier's finding on one segment. Empty `labels` means nothing was found.

    score:     confidence in [0, 1] of the strongest label.
    spans:     where redaction is possible, as character ranges of the segment's original text.
    latency_s: seconds the classifier spent on the batch this verdict came from.
    joined:    how many earlier messages of the segment's role were read with it to give `score`
               (a classifier reading turns together scores a request sent in pieces joined);
               0: the segment alone.
    """

    classifier: str
    segment: int
    labels: frozenset[str] = frozenset()
    score: float = 0.0
    spans: tuple[Span, ...] = ()
    latency_s: float = 0.0
    joined: int = 0

    @property
    def fired(self) -> bool:
        return bool(self.labels)


# The role whose texts a prompt segment of another role is read joined with by a classifier that
# reads values sent in pieces (`joins_turns`: guard/classify/runner.py `in_context`, masked back
# by guard/redaction.py `reaching_back`), in request order: a client cuts a key between its
# message's text and the documents it sends with it (a Messages document block, vLLM's
# `documents` after the last message) as between two messages. A role not named is read with
# its own; the trained models read only their own roles' turns.
JOINED_ROLES: Mapping[str, str] = {"document": "user"}


def joined_role(role: str) -> str:
    """The role whose texts a text of `role` is read joined with (JOINED_ROLES)."""
    return JOINED_ROLES.get(role, role)


# The label of the verdict a classifier with `on_error: fail_closed` gives in place of the ones
# it failed to give (guard/classify/runner.py).
ERROR_LABEL = "classifier_error"


@runtime_checkable
class Classifier(Protocol):
    """A detector. Receives the segments of one stage of one request, returns verdicts.

    name:           the instance name the policy gave it (what rules and metrics refer to).
    max_match_chars: the longest text one finding can span, or None when the classifier needs
                    the whole text (streams are held back by at most this many characters).

    A classifier may also carry `fingerprint: str`, what its verdicts depend on beyond its policy
    config (a trained model's digest), which the verdict cache keys on, and `files: tuple[Path,
    ...]`, files it read (a model artefact), which the policy's digest covers and its watcher
    reloads on, and `context_turns: Mapping[str, int]`, how many earlier prompt segments of each
    role it reads with a segment of that role (`Segment.context`; the verdict cache keys on them),
    and `roles: frozenset[str]`, the segment roles it reads (others get an empty verdict; absent:
    every role), and `reads_encoded_runs: bool`, true when it also reads what encoded runs (base64, hex, ...)
    decode to, so that a finding there covers the whole run: a stream then holds such a run back
    until it ends, beyond `max_match_chars` (guard/classify/decode/runs.py `run_start`), and
    `in_process: bool`, true when it runs on guard's own CPU (the built-in local and model
    classifiers): its timeout then means guard is overloaded, not that a service failed, and the
    request is refused (503, `errors.Overloaded`) rather than handled by `on_error`, and
    `reads_request: bool`, true when it judges an answer after the request it answers: on the
    completion stage its segments then carry the request's last user message (`Segment.request`;
    such a classifier is never cached, whose keys do not hold the request).

    And it may carry `emits: frozenset[str] | None`, every label its verdicts can carry (with
    those its policy config adds: a regex entry's `label`, a keyword list's), or None when it
    cannot know them in advance (a remote service's own categories): a policy whose condition
    names a label no classifier it reads emits can never hold, and does not load
    (guard/policy/labels.py); beside an open set, or none declared (a plugin's), only a label
    whose prefix (`pii:`) is that of a declared set's labels is checked. The
    `ERROR_LABEL` of a failure is the runner's, not the classifier's (`ConfiguredClassifier.emits`).
    """

    name: str
    max_match_chars: int | None

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]: ...


@dataclass(frozen=True, slots=True, init=False)
class GuardContext:
    """What guard knows about a request besides its text.

    model: the model the request names; empty when it names none (the upstream then picks one,
    its default or a stored prompt's, so every `model:` kill switch applies).
    prompt_verdicts: on the completion stage, the verdicts the prompt stage was decided on (what
    a rule's `prompt:` condition reads); empty before that.
    model_unknown: guard does not know the model: it is still to be learned from the answer (one
    fetched by id), or guard does not read the request (a pass-through path). `model:` kill
    switches do not apply until it is known.
    """

    request_id: str
    route: str
    model: str
    tenant: str | None = None
    stream: bool = False
    prompt_verdicts: tuple[Verdict, ...] = ()
    model_unknown: bool = False

    def __init__(self, request_id: str, route: str, model: str, tenant: str | None = None,
                 stream: bool = False, prompt_verdicts: tuple[Verdict, ...] = (),
                 model_unknown: bool = False) -> None:
        # Built once a request: a frozen dataclass's own __init__ sets each field through
        # object.__setattr__, about 3k instructions more than the slots' own setters (of ~700k).
        _set_request_id(self, request_id)
        _set_route(self, route)
        _set_model(self, model)
        _set_tenant(self, tenant)
        _set_stream(self, stream)
        _set_prompt_verdicts(self, prompt_verdicts)
        _set_model_unknown(self, model_unknown)


(_set_request_id, _set_route, _set_model, _set_tenant, _set_stream, _set_prompt_verdicts,
 _set_model_unknown) = (getattr(GuardContext, name).__set__ for name in GuardContext.__slots__)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule whose condition held."""

    rule: str
    action: Action
    mode: Mode
    severity: str
    category: str
    verdicts: tuple[Verdict, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one stage of one request.

    action:    the strictest enforced action (shadow rules never raise it).
    matches:   every rule that matched, enforced and shadow.
    verdicts:  every verdict the decision was made on.
    prompt_verdicts: on the completion stage, what fired on the request's prompt among the
               classifiers the `prompt:` conditions of the matched rules read.
    redactions: per segment index, the spans to mask when `action` is redact.
    message, status: what a block answers with.
    """

    action: Action
    stage: Stage
    policy: str = ""
    policy_version: str = ""
    matches: tuple[RuleMatch, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    redactions: Mapping[int, tuple[Span, ...]] = field(default_factory=dict)
    mask: str = "[REDACTED:{label}]"
    message: str = "This request was blocked by the content policy."
    status: int = 400
    prompt_verdicts: tuple[Verdict, ...] = ()

    @property
    def enforced(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.mode is Mode.ENFORCE)

    @property
    def shadow(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.mode is Mode.SHADOW)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(m.rule for m in self.enforced)


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How a policy guards streamed completions.

    mode:            `buffered` (no character leaves unclassified) or `optimistic`.
    check_chars:     classify at least every this many new characters.
    max_holdback_ms: buffered mode releases classified text at least this often on slow streams.
    recheck_growth:  with a classifier that reads the whole answer, text may also wait this
                     fraction of the time the stream had run when it arrived, up to 5 s (and,
                     optimistic, this fraction of the characters checked before): what each
                     check sends grows with the answer, so the checks are spaced out as it does.
    """

    mode: str = "buffered"
    check_chars: int = 64
    max_holdback_ms: int = 250
    recheck_growth: float = 0.25


class Inspector(Protocol):
    """The policy of one request, pinned when the request starts: classify, then decide.

    Reloading policies never changes the inspector of a request in flight.
    """

    @property
    def stream(self) -> StreamSettings: ...

    def holdback_chars(self, stage: Stage) -> int | None:
        """The longest finding the stage's classifiers can make, or None if unbounded."""
        ...

    def value_chars(self, stage: Stage) -> int:
        """The longest finding of the stage's classifiers that bound theirs (0 when none do;
        those that do not, such as Llama Guard, judge the text so far, not a value in it): a
        stream holds back a value it is in the middle of while it is shorter."""
        ...

    def reads_encoded_runs(self, stage: Stage) -> bool:
        """Whether a classifier of the stage reads encoded runs decoded (`reads_encoded_runs`):
        a stream then also holds back an encoded run until it ends."""
        ...

    def reads_whole(self, stage: Stage) -> frozenset[str]:
        """The names of the stage's classifiers that read the whole text (no `max_match_chars`:
        Llama Guard, the trained models): a stream's first words are no answer to them."""
        ...

    def inspects(self, stage: Stage) -> bool:
        """False when no rule applies at this stage: nothing to classify, decide or record."""
        ...

    async def inspect(self, stage: Stage, segments: Sequence[Segment], *,
                      bounded: bool = False) -> Decision:
        """Classify the segments, then decide. `bounded`: only the stage's classifiers that
        bound their findings read them (those not in `reads_whole`: keys, personal data,
        patterns), as a stream's id-shaped frame strings are read (`stream_guard.ID`)."""
        ...

    def answering(self, request: Callable[[], str]) -> None:
        """What the answers checked next answer: the request's last user message as it was
        forwarded, computed only if a completion classifier reads it (`Segment.request`)."""
        ...


class PolicySource(Protocol):
    """Chooses the policy for a request (by tenant, model or route) and pins it."""

    def for_request(self, ctx: GuardContext) -> Inspector: ...


@dataclass(frozen=True, slots=True)
class Switch:
    """An engaged kill switch. `scope` is `global`, `model:<glob>`, `tenant:<id or glob>` or
    `route:<path>`."""

    id: str
    scope: str
    mode: str
    reason: str
    actor: str
    created_at: float
    expires_at: float | None = None


class Gate(Protocol):
    """The kill switch gate: the switch that stops this request, if any. Synchronous and cheap.

    known: whether it knows the fleet's switches (False for a replica that started while the
    shared state was unreachable and had none saved: it would let through what the fleet
    stops, so it is not ready)."""

    def check(self, ctx: GuardContext) -> Switch | None: ...

    @property
    def known(self) -> bool: ...


class Recorder(Protocol):
    """Where evidence goes. Recording never blocks and never fails the request that calls it;
    `settled` lets an answer wait, bounded, for its evidence to be written first."""

    def record_decision(self, ctx: GuardContext, decision: Decision,
                        segments: Sequence[Segment],
                        details: Mapping[str, Any] | None = None) -> str | None:
        """Record the incidents a decision makes (none for a plain allow); returns the incident id.
        `segments`: what the decision was made on, their texts as the client or the model wrote
        them (an incident keeps a hash of them `joined`, and perhaps an excerpt). `details`: the
        incident's, when the decision's circumstances need saying (`stream_ended`)."""
        ...

    def record_event(self, kind: str, details: Mapping[str, Any],
                     ctx: GuardContext | None = None, text: str | None = None) -> str:
        """Record an operational event (kill switch change, breaker trip, stream cut, text a
        stream sent unchecked); returns its id. `ctx`: the request the event happened in, if
        any: the incident takes its request id, tenant, model and route. `text`: the text the
        event is about, kept only as the incident's `content_hash`, never itself."""
        ...

    async def settled(self) -> None:
        """Wait, bounded, until what the calling task recorded is written where the process dying
        cannot lose it; called before an answer goes out."""
        ...
