"""`webhook`: your own classifier service, over a small JSON contract.

Request (POST, JSON):
    {"stage": "prompt" | "completion",
     "segments": [{"index": int, "role": str, "text": str}, ...],
     "context": {"classifier": "<instance name>", ...the `context` map of the config}}
Answer (2xx, JSON):
    {"labels": [str, ...], "score": float in [0, 1],
     "spans": [{"segment": int, "start": int, "end": int, "label": str}, ...]}
`labels` and `score` apply to every segment a span names; with no spans, to the last segment of
the request (the newest message). `start`/`end` are character offsets into that segment's text.
Empty `labels` means nothing was found. `labels` and `score` are required, `spans` may be left
out, and any other key is refused: an answer off this contract (`{}`, `{"error": ...}`, a
misspelt key, a verdict nested one level down) is a failure, never "nothing found".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guard.classify.remote._http import (
    ServiceHeaders,
    ServiceURL,
    auth_headers,
    env_problems,
    off_contract,
    post_json,
)
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.errors import ClassifierError
from guard.types import Segment, Span, Verdict


class WebhookConfig(BaseModel):
    """Config of a `webhook` classifier.

    url:             the endpoint to POST to.
    api_key_env:     environment variable holding a bearer token, if the endpoint needs one.
    context:         fixed keys sent in every request's `context`.
    max_match_chars: the longest span the service reports (None: it needs the whole text).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: ServiceURL
    api_key_env: str | None = None
    headers: ServiceHeaders = {}
    context: dict[str, str] = {}
    max_match_chars: int | None = Field(None, gt=0)


class _SpanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment: int
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: str


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str]
    score: float = Field(ge=0.0, le=1.0)
    spans: list[_SpanIn] = []


class WebhookClassifier:
    """POSTs each batch to the configured URL (see module docstring). Its labels are whatever
    the service answers: not known in advance."""

    emits = None

    def __init__(self, name: str, config: WebhookConfig, timeout_s: float) -> None:
        self.name = name
        # the service is told which instance asks, so its verdicts are cached per instance
        self.fingerprint = f"instance:{name}"
        self.config = config
        self.timeout_s = timeout_s
        self.max_match_chars = config.max_match_chars
        self.headers = auth_headers(config.api_key_env, config.headers)
        self.env_problems = env_problems(config.api_key_env)

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        if not segments:
            return []
        started = time.perf_counter()
        payload: dict[str, Any] = {
            "stage": segments[0].stage.value,
            "segments": [{"index": s.index, "role": s.role, "text": s.text} for s in segments],
            "context": {**self.config.context, "classifier": self.name},
        }
        raw = await post_json(self.name, self.config.url, payload, headers=self.headers,
                              timeout_s=self.timeout_s)
        try:
            answer = _Answer.model_validate(raw)
        except ValidationError as exc:
            raise off_contract(self.name, exc) from exc
        latency = time.perf_counter() - started
        by_index = {s.index: s for s in segments}
        spans: dict[int, list[Span]] = {}
        for sp in answer.spans:
            seg = by_index.get(sp.segment)
            if seg is None or not sp.start <= sp.end <= len(seg.text):
                raise ClassifierError(f"{self.name}: a span {sp.start}-{sp.end} of segment "
                                      f"{sp.segment} is outside the texts sent")
            spans.setdefault(sp.segment, []).append(Span(sp.start, sp.end, sp.label))
        labelled = set(spans) or ({segments[-1].index} if answer.labels else set())
        labels = frozenset(answer.labels)
        return [
            Verdict(self.name, s.index, labels, answer.score, tuple(spans.get(s.index, ())),
                    latency)
            if s.index in labelled else Verdict(self.name, s.index, latency_s=latency)
            for s in segments
        ]


def _make(name: str, config: WebhookConfig, spec: ClassifierSpec) -> WebhookClassifier:
    return WebhookClassifier(name, config, spec.timeout_s)


TYPE = ClassifierType(WebhookConfig, _make, timeout_s=2.0)
