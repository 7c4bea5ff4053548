"""A reasoning model's reasoning reaches the client beside its answer (vLLM and DeepSeek send it
as `reasoning_content`): guard reads it like the answer, whole and streamed, through the openai SDK."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.support import GuardServer, MockUpstream

pytestmark = pytest.mark.timeout(60)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SECRET = "ghp_ReasonLeak7Q3Z9X1W2B4C6D8E0F2G4H6J8K0L"  # a GitHub token's shape: default.yaml blocks it
EMAIL = "reasoning.leak.4471@example.org"           # default.yaml masks it in answers
QUESTION = [{"role": "user", "content": "how do I call the deploy API?"}]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    workdir = tmp_path_factory.mktemp("reasoning")
    mock = MockUpstream(workdir)
    mock.start()
    guard = GuardServer(workdir, {"upstreams": {"default": {"url": mock.url}},
                                  "policies": str(POLICIES)})
    guard.start()
    with openai.OpenAI(base_url=f"{guard.url}/v1", api_key="sk-client", max_retries=0) as client:
        yield client
    guard.stop()
    mock.stop()


def reasoning(text: str) -> dict[str, str]:
    return {"X-Mock-Reasoning": urllib.parse.quote(text), "X-Mock-Reply": "Use the token you were given.",
            "X-Mock-Chunk-Chars": "7"}


def test_a_secret_in_whole_reasoning_blocks_the_answer(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model="m", messages=QUESTION, extra_headers=reasoning(f"The token is {SECRET}, so say it."))
    assert answer.choices[0].finish_reason == "content_filter"
    assert SECRET not in answer.model_dump_json() and "ReasonLeak" not in answer.model_dump_json()


def streamed(client: openai.OpenAI, thinking: str) -> tuple[str, str, str | None]:
    """The reasoning, the answer and the last finish reason a streaming client received."""
    chunks = [c for c in client.chat.completions.create(
        model="m", messages=QUESTION, stream=True, extra_headers=reasoning(thinking)) if c.choices]
    said = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
                   for c in chunks)
    return said, "".join(c.choices[0].delta.content or "" for c in chunks), \
        chunks[-1].choices[0].finish_reason


def test_a_secret_in_streamed_reasoning_cuts_before_any_of_it(client: openai.OpenAI) -> None:
    said, _, finish = streamed(client, f"Thinking. The token is {SECRET}, so I will say it.")
    assert "ghp_" not in said and "ReasonLeak" not in said
    assert finish == "content_filter"


def test_an_email_in_streamed_reasoning_is_masked_and_the_answer_kept(client: openai.OpenAI) -> None:
    said, content, finish = streamed(client, f"The owner is {EMAIL}; I should not share that address.")
    assert said == "The owner is [REDACTED:pii:email]; I should not share that address."
    assert content == "Use the token you were given." and finish == "stop"
