"""The keys every classifier instance shares, and what a registry entry is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from guard.types import Classifier


class Gate(BaseModel):
    """Run a classifier only when a cheaper one is unsure: `classifier` (another instance of the
    same policy, itself ungated) scored at least `min_score` on some segment of the check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classifier: str
    min_score: float = Field(ge=0.0, le=1.0)


class ClassifierSpec(BaseModel):
    """The keys every classifier instance accepts; the rest go to the type's own config model.

    type:      registry name of the classifier type.
    timeout_s: seconds one batch may take before it counts as a failure.
    on_error:  on failure or timeout, `fail_open` drops the verdict, `fail_closed` turns it into
               a `classifier_error` verdict that policies can block on. (A built-in classifier
               out of time refuses the request instead: guard is overloaded, `errors.Overloaded`.)
    cache:     reuse verdicts for texts already classified with the same config.
    normalize: match on normalised text (NFKC, invisible characters removed, look-alikes folded).
    gate:      run only after the gate classifier and only when it scored at least `min_score` on
               a segment (or failed); then on every segment, so the conversation stays whole.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    timeout_s: float = 1.0
    on_error: Literal["fail_open", "fail_closed"] = "fail_open"
    cache: bool = True
    normalize: bool = True
    gate: Gate | None = None


Factory = Callable[[str, Any, ClassifierSpec], Classifier]


class ClassifierType(NamedTuple):
    """A registry entry: the type's config model, its factory, and its default timeout (s).
    `conversation`: it judges each segment with the segments of every role before it in the
    batch, so it is never cached (given only the segments not in the cache, it would lose the
    turns before them, and a verdict kept per text would hold in another conversation)."""

    config: type[BaseModel]
    factory: Factory
    timeout_s: float = 1.0
    conversation: bool = False
