"""`openai_moderation`: any endpoint speaking the `/v1/moderations` format.

All segments go in one request (`input` is a list). Each result's flagged categories become the
labels (e.g. `harassment`, `violence/graphic`); the score is the highest `category_scores` value
of a flagged category (of any category when nothing is flagged).
Each result must carry `flagged` and `categories` (`category_scores` may be left out, other keys
are ignored): a result without them (`{"error": ...}`) is a failure, never "nothing found".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

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
from guard.types import Segment, Verdict


class OpenAIModerationConfig(BaseModel):
    """Config of an `openai_moderation` classifier.

    url:         base URL of the API (…/v1); `/moderations` is appended.
    model:       moderation model name (omitted from the request when empty).
    api_key_env: environment variable holding the bearer token, if the endpoint needs one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: ServiceURL
    model: str = "omni-moderation-latest"
    api_key_env: str | None = None
    headers: ServiceHeaders = {}


class _Result(BaseModel):
    flagged: bool
    categories: dict[str, bool | None]
    category_scores: dict[str, float] = {}


class _Answer(BaseModel):
    results: list[_Result]


class OpenAIModerationClassifier:
    """One moderation request per batch of segments. Its labels are the categories the endpoint
    answers with, which another service than OpenAI's names its own way: not known in advance."""

    emits = None

    def __init__(self, name: str, config: OpenAIModerationConfig, timeout_s: float) -> None:
        self.name = name
        self.config = config
        self.timeout_s = timeout_s
        self.max_match_chars: int | None = None
        self.endpoint = config.url.rstrip("/") + "/moderations"
        self.headers = auth_headers(config.api_key_env, config.headers)
        self.env_problems = env_problems(config.api_key_env)

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        started = time.perf_counter()
        payload: dict[str, Any] = {"input": [s.text for s in segments]}
        if self.config.model:
            payload["model"] = self.config.model
        answer = await post_json(self.name, self.endpoint, payload, headers=self.headers,
                                 timeout_s=self.timeout_s)
        try:
            results = _Answer.model_validate(answer).results
        except ValidationError as exc:
            raise off_contract(self.name, exc) from exc
        if len(results) != len(segments):
            raise ClassifierError(f"{self.name}: {len(results)} results for {len(segments)} inputs")
        latency = time.perf_counter() - started
        return [self._verdict(seg, r, latency) for seg, r in zip(segments, results, strict=True)]

    def _verdict(self, seg: Segment, result: _Result, latency: float) -> Verdict:
        scores = result.category_scores
        flagged = {name for name, hit in result.categories.items() if hit is True}
        if result.flagged and not flagged:
            flagged = {"flagged"}
        pool = [scores[c] for c in flagged if c in scores] or list(scores.values())
        score = min(1.0, max(0.0, max(pool, default=1.0 if flagged else 0.0)))
        return Verdict(self.name, seg.index, frozenset(flagged), score, (), latency)


def _make(name: str, config: OpenAIModerationConfig, spec: ClassifierSpec
          ) -> OpenAIModerationClassifier:
    return OpenAIModerationClassifier(name, config, spec.timeout_s)


TYPE = ClassifierType(OpenAIModerationConfig, _make, timeout_s=2.0)
