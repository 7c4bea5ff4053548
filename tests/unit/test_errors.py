"""How guard's errors name what a file gave them."""

from __future__ import annotations

import pytest

from guard.errors import shown_key


@pytest.mark.parametrize("key", [
    "max_tokens", "X-Api-Key", "Authorization", "maxTokens", "LLAMA_GUARD_URL", "gpt-4o-mini",
    "pii", "openai_moderation", "Content-Type", "v1", 3,
    # from a re-probe: an upstream's or classifier's own name was hidden (17 of 32 plausible)
    "vllm2", "llama3", "gpu01", "gpt4o", "replica10", "claude35", "injection_model2", "vLLM",
    "OpenAI", "HTTPProxy", "redisURL"])
def test_a_key_that_reads_as_a_name_is_shown_as_written(key: str | int) -> None:
    """Names (a misspelt setting, a header name) are echoed: the operator needs them."""
    assert shown_key(key) == str(key)


@pytest.mark.parametrize("key", [
    "Authorization: Bearer sk-proj-abc", "sk-proj-SECRETabcdef1234567890XYZ",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "Authorization\n", "a" * 80,
    "AKIAIOSFODNN7EXAMPLE1"])
def test_a_key_that_is_no_name_is_shown_by_its_length(key: str) -> None:
    """A token written as a key (a header as one string, a key pasted) is never echoed."""
    assert shown_key(key) == f"<key of {len(key)} characters>"
