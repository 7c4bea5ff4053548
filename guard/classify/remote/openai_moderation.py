"""`openai_moderation`: any endpoint speaking the `/v1/moderations` format.

All segments go in one request (`input` is a list). Each result's flagged categories become the
labels (e.g. `harassment`, `violence/graphic`); the score is the highest `category_scores` value
of a flagged category (of any category when nothing is flagged).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from guard.classify.remote._http import ServiceURL, auth_headers, post_json
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
    headers: dict[str, str] = {}


class OpenAIModerationClassifier:
    """One moderation request per batch of segments."""

    def __init__(self, name: str, config: OpenAIModerationConfig, timeout_s: float) -> None:
        self.name = name
        self.config = config
        self.timeout_s = timeout_s
        self.max_match_chars: int | None = None
        self.endpoint = config.url.rstrip("/") + "/moderations"
        key = os.environ.get(config.api_key_env) if config.api_key_env else None
        self.headers = auth_headers(key, config.headers)

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        started = time.perf_counter()
        payload: dict[str, Any] = {"input": [s.text for s in segments]}
        if self.config.model:
            payload["model"] = self.config.model
        answer = await post_json(self.name, self.endpoint, payload, headers=self.headers,
                                 timeout_s=self.timeout_s)
        try:
            results = answer["results"]
            if len(results) != len(segments):
                raise ClassifierError(
                    f"{self.name}: {len(results)} results for {len(segments)} inputs"
                )
            latency = time.perf_counter() - started
            return [self._verdict(seg, r, latency) for seg, r in zip(segments, results, strict=True)]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ClassifierError(f"{self.name}: answer is not a moderation response") from exc

    def _verdict(self, seg: Segment, result: dict[str, Any], latency: float) -> Verdict:
        categories: dict[str, Any] = result.get("categories") or {}
        scores: dict[str, Any] = result.get("category_scores") or {}
        flagged = {name for name, hit in categories.items() if hit is True}
        if result.get("flagged") and not flagged:
            flagged = {"flagged"}
        pool = [float(scores[c]) for c in flagged if c in scores] or [
            float(v) for v in scores.values()
        ]
        score = min(1.0, max(0.0, max(pool, default=1.0 if flagged else 0.0)))
        return Verdict(self.name, seg.index, frozenset(flagged), score, (), latency)


def _make(name: str, config: OpenAIModerationConfig, spec: ClassifierSpec
          ) -> OpenAIModerationClassifier:
    return OpenAIModerationClassifier(name, config, spec.timeout_s)


TYPE = ClassifierType(OpenAIModerationConfig, _make, timeout_s=2.0)
