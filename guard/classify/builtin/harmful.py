"""Trained classifiers: `harmful_request`, `harmful_response`, and model scorers for jailbreaks and
prompt injection.

Each wraps one shipped `TextModel` (guard/classify/models/): n-gram logistic regressions scored
with numpy in about half a millisecond per kilobyte. Scoring always runs in the default
executor, one call per batch of segments, so the event loop never waits on it.

Labels: `harmful` (harmful_request, harmful_response), `jailbreak`, `prompt_injection`. The score
of a verdict is the model's score; it fires at or above the threshold (the dev-tuned one unless
the policy sets its own). Verdicts carry no spans: a request is harmful as a whole, and there is
nothing to redact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.classify.base import off_loop, small, until_stopped
from guard.classify.models.features import splitting_at_most
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import ROLES, Segment, Verdict

__all__ = [
    "REGISTRY_ENTRIES",
    "ModelClassifier",
    "ModelConfig",
    "with_turns",
]

# Which segments each model reads unless the policy says otherwise: the roles its training data
# came from (a harmful *request* is the user's; injected instructions arrive in tool results and
# retrieved documents). Jailbreaks: the user's messages only. The system prompt is the operator's
# own text, sent with every request, so a false positive there blocks all of an application's
# traffic; where clients write their own system prompts, a policy adds `roles: [user, system]`.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "harmful_request": ("user",),
    "harmful_response": ("completion", "assistant"),
    "jailbreak": ("user",),
    "prompt_injection": ("tool", "document"),
}
# How many of a role's messages each model reads together by default: a user message is also
# scored joined to the two user messages before it, so a request sent in pieces is read whole
# (bench/BENCHMARKS.md, "Requests split across messages"). 1: each message alone.
DEFAULT_TURNS: dict[str, int] = {
    "harmful_request": 3,
    "harmful_response": 1,
    "jailbreak": 3,
    "prompt_injection": 1,
}
# Letters of words run together (a batch's, once folded; identifiers joined by underscores count)
# that the models split at most: about 10 us a letter, so some 0.3 s. A prompt with more is
# refused (413), not read in part: it would run the classifiers out of time, or leave a jailbreak
# in an early turn unsplit. 35 small code files read by an agent come to about 7,000.
GLUED_BATCH_LETTERS = 30_000
LABELS = {
    "harmful_request": "harmful",
    "harmful_response": "harmful",
    "jailbreak": "jailbreak",
    "prompt_injection": "prompt_injection",
}


class ModelConfig(BaseModel):
    """Config of a trained-model classifier.

    threshold: score in [0, 1] at or above which a segment fires; default: the model's own
               threshold, tuned on the dev split (see its model card).
    roles:     segment roles to score (others get an empty verdict); default depends on the model.
    turns:     how many messages of a role are read together: a message scores the higher of
               itself and itself joined to the `turns - 1` messages of its role before it (1: each
               message alone; prompts only). Default 3 for `harmful_request` and `jailbreak_model`,
               1 for the others.
    artefact:  absolute path of a model of the same kind retrained into a file of its own
               (`python -m training.train harmful_request --out DIR`); default: the model shipped
               in the package. Read when the policy is loaded.
    variant:   another recipe of the model shipped in the package (harmful_request:
               `conversational`, for assistants that mostly see conversation); default: the
               shipped recipe. Not with `artefact`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float | None = Field(None, ge=0.0, le=1.0)
    roles: tuple[str, ...] | None = None
    turns: int | None = Field(None, ge=1, le=16)
    artefact: Path | None = None
    variant: str | None = None

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(roles or ()) - ROLES)
        if unknown:  # a typo would read nothing, silently
            raise ValueError(f"unknown role(s) {', '.join(unknown)}: roles are "
                             f"{', '.join(sorted(ROLES))}")
        return roles

    @model_validator(mode="after")
    def _one_model(self) -> ModelConfig:
        if self.variant is not None and self.artefact is not None:
            raise ValueError("give either variant or artefact: an artefact is a model of its own")
        return self

    @field_validator("artefact")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        # relative to what? the working directory of whoever starts guard is a surprise
        if path is not None and not path.is_absolute():
            raise ValueError(f"must be an absolute path, not {str(path)!r}")
        return path


class ModelClassifier:
    """Scores segments with one shipped model, off the event loop."""

    # The model reads the whole text, so a streamed completion cannot be judged on a window.
    max_match_chars: int | None = None
    in_process = True

    def __init__(self, name: str, model_name: str, config: ModelConfig) -> None:
        self.name = name
        # fingerprint: which model scored (the verdict cache keys on it); files: what the policy
        # watcher reloads on
        self.files: tuple[Path, ...] = ()
        # numpy and the model code load with the first model a policy names: a guard whose policies
        # name none (or that has none) never pays their 0.1 s
        from guard.classify.models.loader import load_artefact, load_model

        if config.artefact is None:
            self.model = load_model(model_name, config.variant)
            self.fingerprint = f"{model_name}:{self.model.version}"
        else:
            self.model, digest = load_artefact(model_name, config.artefact)
            self.fingerprint = f"sha256:{digest}"
            self.files = (config.artefact,)
        self.label = LABELS[model_name]
        self.emits = frozenset({self.label})
        self.threshold = self.model.threshold if config.threshold is None else config.threshold
        self.roles = frozenset(config.roles or DEFAULT_ROLES[model_name])
        self.turns = config.turns or DEFAULT_TURNS[model_name]
        # what the runner puts in Segment.context for it (and the verdict cache keys on)
        self.context_turns = dict.fromkeys(self.roles, self.turns - 1) if self.turns > 1 else {}

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        """One verdict per segment; roles outside `roles` get an empty one."""
        chosen = [s for s in segments if s.role in self.roles]
        by_index: dict[int, tuple[float, int]] = {}
        latency = 0.0
        if chosen:
            started = time.perf_counter()
            if small(chosen):  # a few short texts: a fraction of a millisecond, on the loop
                by_index = self._scores(chosen)
            else:
                by_index = await off_loop(lambda stop: self._scores(chosen, stop))
            latency = time.perf_counter() - started
        out = []
        for segment in segments:
            if segment.index not in by_index:
                out.append(Verdict(self.name, segment.index, latency_s=latency))
                continue
            score, joined = by_index[segment.index]
            labels = frozenset({self.label}) if score >= self.threshold else frozenset()
            out.append(Verdict(self.name, segment.index, labels, score, (), latency, joined))
        return out

    def _scores(self, segments: Sequence[Segment], stop: threading.Event | None = None
                ) -> dict[int, tuple[float, int]]:
        """Each segment's score and how many earlier turns gave it: the higher of its own text's
        (0) and, when the turns before it are read too, theirs and its joined into one text.
        PromptTooCostly when they hold more new words run together than GLUED_BATCH_LETTERS."""
        before = self.turns - 1
        texts = [s.text for s in segments]
        joined = {i: with_turns(s.text, s.context, before)
                  for i, s in enumerate(segments) if before and s.context}
        with splitting_at_most(GLUED_BATCH_LETTERS):
            scores = [self.model.score(t) for t in until_stopped(texts + list(joined.values()), stop)]
        best = {i: (score, 0) for i, score in enumerate(scores[: len(texts)])}
        for i, score in zip(joined, scores[len(texts):], strict=True):
            if score > best[i][0]:
                best[i] = (score, min(before, len(segments[i].context)))
        return {segments[i].index: found for i, found in best.items()}


def with_turns(text: str, earlier: Sequence[str], before: int) -> str:
    """`text` joined to the last `before` of `earlier` (the messages of its role before it), one per
    line: what a model reading turns scores beside `text` alone."""
    return "\n".join((*earlier[max(0, len(earlier) - before):], text))


def _factory(model_name: str) -> ClassifierType:
    def make(name: str, config: ModelConfig, spec: ClassifierSpec) -> ModelClassifier:
        return ModelClassifier(name, model_name, config)

    return ClassifierType(ModelConfig, make, 1.0)


# For guard/classify/registry.py BUILTINS. `harmful_request` and `harmful_response` are types of
# their own; `jailbreak_model` and `prompt_injection_model` let a policy use the model scorers
# beside (or instead of) the heuristic `jailbreak` and `prompt_injection` types.
REGISTRY_ENTRIES: dict[str, ClassifierType] = {
    "harmful_request": _factory("harmful_request"),
    "harmful_response": _factory("harmful_response"),
    "jailbreak_model": _factory("jailbreak"),
    "prompt_injection_model": _factory("prompt_injection"),
}
