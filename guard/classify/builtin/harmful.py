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

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guard.classify.models.loader import TextModel, load_artefact, load_model
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment, Verdict

__all__ = [
    "REGISTRY_ENTRIES",
    "ModelClassifier",
    "ModelConfig",
    "TextModel",
    "load_model",
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
    artefact: Path | None = None
    variant: str | None = None

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

    def __init__(self, name: str, model_name: str, config: ModelConfig) -> None:
        self.name = name
        # fingerprint: which model scored (the verdict cache keys on it); files: what the policy
        # watcher reloads on
        self.files: tuple[Path, ...] = ()
        if config.artefact is None:
            self.model = load_model(model_name, config.variant)
            self.fingerprint = f"{model_name}:{self.model.version}"
        else:
            self.model, digest = load_artefact(model_name, config.artefact)
            self.fingerprint = f"sha256:{digest}"
            self.files = (config.artefact,)
        self.label = LABELS[model_name]
        self.threshold = self.model.threshold if config.threshold is None else config.threshold
        self.roles = frozenset(config.roles or DEFAULT_ROLES[model_name])

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        """One verdict per segment; roles outside `roles` get an empty one."""
        chosen = [s for s in segments if s.role in self.roles]
        scores: list[float] = []
        latency = 0.0
        if chosen:
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            scores = await loop.run_in_executor(None, self.model.scores, [s.text for s in chosen])
            latency = time.perf_counter() - started
        by_index = {s.index: score for s, score in zip(chosen, scores, strict=True)}
        out = []
        for segment in segments:
            score = by_index.get(segment.index)
            if score is None:
                out.append(Verdict(self.name, segment.index, latency_s=latency))
                continue
            fired = score >= self.threshold
            labels = frozenset({self.label}) if fired else frozenset()
            out.append(Verdict(self.name, segment.index, labels, score, (), latency))
        return out


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
