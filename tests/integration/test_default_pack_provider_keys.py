"""The shipped default pack (`guard serve`, a real process, in front of the stand-in model) refuses
a key of each provider format the secrets classifier learnt after its first set (Hugging Face,
npm, PyPI, SendGrid, DigitalOcean, Shopify, Databricks, age) as it refuses a GitHub token: in a
prompt (read with the openai SDK), with a zero-width space inside, cut in two across messages,
and in an answer streamed three characters a chunk; the upstream never receives a refused
prompt, the client never a character of the key. And keys glued to words: an OpenAI key after
a word ending in `sk-` is cut, paths and identifiers that only look glued to a key prefix pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.support import GuardServer, guard_before_mock, stream_reply, upstream_got
from tests.unit.classify.builtin_helpers import PROVIDER_KEYS

pytestmark = pytest.mark.timeout(120)

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path_factory.mktemp("provider_keys"), DEFAULT) as server:
        yield server


def _refused(guard: GuardServer, messages: list[dict[str, Any]]) -> bool:
    """Whether guard answers the chat request with a content-filter refusal (400)."""
    with openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0) as client:
        try:
            client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
        except openai.BadRequestError as refusal:
            return isinstance(refusal.body, dict) and refusal.body["code"] == "content_filter"
    return False


@pytest.mark.parametrize("kind", PROVIDER_KEYS)
@pytest.mark.parametrize("written", ["plain", "zero-width space inside"])
def test_a_provider_key_in_a_prompt_is_refused_unsent(guard: GuardServer, kind: str,
                                                      written: str) -> None:
    key = PROVIDER_KEYS[kind]
    sent = key if written == "plain" else key[:8] + "\u200b" + key[8:]
    assert _refused(guard, [{"role": "user", "content": f"why does this fail? {sent} thanks"}])
    assert not upstream_got(guard, key[8:])


@pytest.mark.parametrize("kind", PROVIDER_KEYS)
def test_a_provider_key_cut_across_two_messages_is_refused(guard: GuardServer, kind: str) -> None:
    key = PROVIDER_KEYS[kind]
    half = len(key) // 2
    assert _refused(guard, [{"role": "user", "content": f"my key is {key[:half]}"},
                            {"role": "user", "content": f"{key[half:]} and that is all"}])
    assert not upstream_got(guard, key[half:])


@pytest.mark.parametrize("kind", PROVIDER_KEYS)
def test_a_provider_key_in_a_streamed_answer_is_cut(guard: GuardServer, kind: str) -> None:
    # not after a secret-like name ("token: "), which the `generic` pattern would find it by
    text, finish = stream_reply(guard.url, f"Here it is: {PROVIDER_KEYS[kind]} keep it safe.",
                                **{"X-Mock-Chunk-Chars": "3"})
    assert finish == "content_filter"
    assert "Here it is: ".startswith(text)  # not a character of the key


@pytest.mark.parametrize("words", ["task-", "Ask-", "mask-based-"])
def test_an_openai_key_after_a_word_ending_in_sk_is_cut(guard: GuardServer, words: str) -> None:
    """From a probe: `task-sk-proj-...` in an answer reached the client (the match began at the
    word's `sk-` and was rejected whole, the key inside never tried)."""
    key = "sk-proj-Ab3dEf5hIj7lMn9pQr1tUv3xYz5bCd7fGh9jKl1nOp3rSt5vWx7zAb9dEf1hIj3lMn5p"
    text, finish = stream_reply(guard.url, f"Here it is: {words}{key} done.",
                                **{"X-Mock-Chunk-Chars": "3"})
    assert finish == "content_filter"
    assert key[8:16] not in text


@pytest.mark.parametrize("code", [
    "aws s3 sync private/ /mnt/data/backups/production/database/snapshots/daily",
    "AWS private subnet config in /etc/terraform/modules/networking/vpc/private/subnets",
    "The AWS Secrets Manager secret version hash: "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "def bookmark_test_CheckUserLogin2FAWorksOnMobile(): pass",
])
def test_a_prompt_of_paths_and_identifiers_without_a_key_passes(guard: GuardServer,
                                                               code: str) -> None:
    """From a probe: once keys glued to letters were read, these prompts were refused (400)."""
    assert not _refused(guard, [{"role": "user", "content": f"Why does this fail?\n{code}"}])
