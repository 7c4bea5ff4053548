"""An answer that goes on from the prompt's own text (a legacy completion and its fill-in-the-middle
suffix, an Anthropic prefill, chat's `continue_final_message`) is read after that text: a key or
a card the prompt begins and the model ends is found, and only the answer's part is masked or
the answer refused. An ordinary answer is read alone. Real `guard serve` with the shipped packs
(the strict one for tenant `consumer`) before the stand-in model, the openai and anthropic SDKs
as clients, whole and streamed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from tests.support import GuardServer, closed_after_test, guard_before_mock, mock_reply

pytestmark = pytest.mark.timeout(120)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
KEY_ID = "AKIA" + "QZ7XW3JD5R6TLM2P"                        # an AWS access key id's shape
TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"     # a GitHub token's shape
PREFILL = "Sure. The deploy token is ghp_"
ASK = {"role": "user", "content": "What is the deploy token?"}
STREAMED = [False, True]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path_factory.mktemp("continued"), POLICIES,
                           incidents={"excerpts": True}) as server:
        yield server


def openai_client(guard: GuardServer, tenant: str = "") -> openai.OpenAI:
    return closed_after_test(openai.OpenAI(
        base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
        default_headers={"X-Guard-Tenant": tenant} if tenant else None))


def completed(guard: GuardServer, prompt: str, reply: str, stream: bool, *, tenant: str = "",
              **more: Any) -> tuple[str, str | None]:
    """A legacy completion of `prompt`, the stand-in answering `reply`: its text, and finish."""
    client = openai_client(guard, tenant)
    if not stream:
        answer = client.completions.create(model="m", prompt=prompt, extra_headers=mock_reply(reply),
                                           **more)
        return answer.choices[0].text, answer.choices[0].finish_reason
    parts, finish = [], None
    for chunk in client.completions.create(model="m", prompt=prompt, stream=True,
                                           extra_headers=mock_reply(reply), **more):
        for choice in chunk.choices:
            parts.append(choice.text)
            finish = choice.finish_reason or finish
    return "".join(parts), finish


def chatted(guard: GuardServer, messages: list[dict[str, str]], reply: str, stream: bool,
            **more: Any) -> tuple[str, str | None]:
    """A chat completion of `messages`, the stand-in answering `reply`: its text, and finish."""
    client = openai_client(guard)
    if not stream:
        answer = client.chat.completions.create(model="m", messages=messages,  # type: ignore[arg-type]
                                                extra_headers=mock_reply(reply), **more)
        return answer.choices[0].message.content or "", answer.choices[0].finish_reason
    parts, finish = [], None
    for chunk in client.chat.completions.create(model="m", messages=messages,  # type: ignore[arg-type]
                                                stream=True, extra_headers=mock_reply(reply),
                                                **more):
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    return "".join(parts), finish


def prefilled(guard: GuardServer, messages: list[dict[str, str]], reply: str, stream: bool
              ) -> tuple[str, str | None]:
    """A Messages API answer to `messages`, the stand-in answering `reply`: its text, and why
    it stopped."""
    client = closed_after_test(anthropic.Anthropic(base_url=guard.url, api_key="k", max_retries=0))
    if not stream:
        answer = client.messages.create(model="m", max_tokens=64, messages=messages,  # type: ignore[arg-type]
                                        extra_headers=mock_reply(reply))
        text = "".join(block.text for block in answer.content if block.type == "text")
        return text, answer.stop_reason
    parts, stop = [], None
    for event in client.messages.create(model="m", max_tokens=64, messages=messages,  # type: ignore[arg-type]
                                        stream=True, extra_headers=mock_reply(reply)):
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            parts.append(event.delta.text)
        if event.type == "message_delta":
            stop = event.delta.stop_reason or stop
    return "".join(parts), stop


# -- a key the prompt begins and the model ends ------------------------------------------------

@pytest.mark.parametrize("stream", STREAMED)
def test_a_fill_in_the_middle_completion_ending_a_key_is_refused(guard: GuardServer,
                                                                   stream: bool) -> None:
    """The editor shows prompt + completion + suffix: a key id begun in the prompt is whole."""
    prompt, suffix = '# config\nAWS_ACCESS_KEY_ID = "AKIA', '"\n'
    text, finish = completed(guard, prompt, KEY_ID[4:], stream, suffix=suffix)
    assert KEY_ID not in prompt + text + suffix
    assert KEY_ID[4:] not in text
    assert finish == "content_filter"


@pytest.mark.parametrize("stream", STREAMED)
def test_a_key_ended_before_the_suffix_goes_on_is_refused(guard: GuardServer,
                                                          stream: bool) -> None:
    """A key id the completion begins and the client's suffix ends is read across the two."""
    prompt, suffix = "# config\nAWS_ACCESS_KEY_ID = ", 'TLM2P"\n'
    text, finish = completed(guard, prompt, '"' + KEY_ID[:-5], stream, suffix=suffix)
    assert KEY_ID not in prompt + text + suffix
    assert finish == "content_filter"


@pytest.mark.parametrize("stream", STREAMED)
def test_a_prefill_the_model_ends_with_a_token_is_refused(guard: GuardServer,
                                                          stream: bool) -> None:
    """Anthropic's clients show a prefill and the answer going on from it as one reply."""
    text, stop = prefilled(guard, [ASK, {"role": "assistant", "content": PREFILL}], TOKEN[4:],
                           stream)
    assert TOKEN not in PREFILL + text
    assert TOKEN[4:] not in text
    assert stop != "end_turn"


@pytest.mark.parametrize("stream", STREAMED)
def test_a_continued_chat_message_ending_a_token_is_refused(guard: GuardServer,
                                                            stream: bool) -> None:
    """vLLM's `continue_final_message`: the answer goes on from the last assistant message."""
    text, finish = chatted(guard, [ASK, {"role": "assistant", "content": PREFILL}], TOKEN[4:],
                           stream, extra_body={"continue_final_message": True,
                                               "add_generation_prompt": False})
    assert TOKEN not in PREFILL + text
    assert finish == "content_filter"


# A flag spelled as a lenient upstream reads it (pydantic's lax mode: vLLM, SGLang) asks for a
# continuation as its `true`/`false` does: each had let the key through, whole and streamed.
SPELLED_FLAGS = [
    {"add_generation_prompt": 0}, {"add_generation_prompt": "false"},
    {"continue_final_message": "Yes"},
    {"chat_template_kwargs": {"add_generation_prompt": "false"}},
    {"chat_template_kwargs": {"continue_final_message": "false"}},  # a template reads it true
]


@pytest.mark.parametrize("stream", STREAMED)
@pytest.mark.parametrize("flags", SPELLED_FLAGS, ids=json.dumps)
def test_a_continuation_flag_spelled_leniently_is_read_joined(guard: GuardServer, stream: bool,
                                                              flags: dict[str, Any]) -> None:
    text, finish = chatted(guard, [ASK, {"role": "assistant", "content": PREFILL}], TOKEN[4:],
                           stream, extra_body=flags)
    assert TOKEN not in PREFILL + text
    assert finish == "content_filter"


@pytest.mark.parametrize("stream", STREAMED)
@pytest.mark.parametrize("prefix", ["true", 1])
def test_a_mistral_prefix_spelled_leniently_is_read_joined(guard: GuardServer, stream: bool,
                                                           prefix: object) -> None:
    message = {"role": "assistant", "content": PREFILL, "prefix": prefix}
    text, finish = chatted(guard, [ASK, message], TOKEN[4:], stream)  # type: ignore[list-item]
    assert TOKEN not in PREFILL + text
    assert finish == "content_filter"


@pytest.mark.parametrize("stream", STREAMED)
def test_echo_false_spelled_as_a_string_is_read_joined(guard: GuardServer, stream: bool) -> None:
    """vLLM reads `echo: "false"` as no echo: the answer goes on from the prompt."""
    text, finish = completed(guard, 'KEY = "AKIA', KEY_ID[4:], stream,
                             extra_body={"echo": "false"})
    assert KEY_ID[4:] not in text
    assert finish == "content_filter"


# -- personal data, the strict pack: only the answer's characters are masked -------------------

@pytest.mark.parametrize("stream", STREAMED)
def test_a_card_number_the_completion_ends_is_masked_in_the_answer(guard: GuardServer,
                                                                   stream: bool) -> None:
    """Masked where the answer writes it; the prompt's own characters are the client's."""
    prompt = "Card on file: 4111 1111"
    text, finish = completed(guard, prompt, " 1111 1111\nThanks.", stream, tenant="consumer")
    assert "4111 1111 1111 1111" not in prompt + text
    assert text == "[REDACTED:pii:card]\nThanks."
    assert finish == "stop"


@pytest.mark.parametrize("stream", STREAMED)
def test_an_address_split_at_its_at_sign_is_masked_in_the_answer(guard: GuardServer,
                                                                 stream: bool) -> None:
    """An email address the prompt begins (`jane.doe`) and the answer ends (`@...`)."""
    prompt = "Contact: jane.doe"
    text, _ = completed(guard, prompt, "@example.org, any weekday.", stream, tenant="consumer")
    assert "jane.doe@example.org" not in prompt + text
    assert text == "[REDACTED:pii:email], any weekday."
    excerpts = incident_excerpts(guard, "completion")
    # the incident's excerpt is the answer's text, masked: not the prompt's
    assert excerpts and all(excerpt.startswith("[") and "jane.doe" not in excerpt
                            for excerpt in excerpts)


def incident_excerpts(guard: GuardServer, stage: str) -> list[str]:
    """The excerpts of the journal's incidents of `stage` (polled: the journal is written in
    batches, off the request)."""
    journal = guard.config_path.parent / "state" / "incidents" / "journal"
    deadline = time.monotonic() + 10
    found: list[str] = []
    while time.monotonic() < deadline and not found:
        lines = [line for path in journal.glob("*.jsonl")
                 for line in path.read_text().split("\n")[:-1]]
        found = [incident["excerpt"] for incident in map(json.loads, lines)
                 if incident.get("stage") == stage and "weekday" in (incident["excerpt"] or "")]
        time.sleep(0.05)
    return found


# -- an ordinary answer is its own text ----------------------------------------------------------

ORDINARY = "QZ7XW3JD5R6TLM2P is not a word I know; could you spell out what you need?"


@pytest.mark.parametrize("stream", STREAMED)
def test_an_ordinary_chat_answer_is_not_joined_to_the_prompt(guard: GuardServer,
                                                             stream: bool) -> None:
    """Without a continuation asked for, an answer starts a new turn: not read after the
    prompt's last characters, even when they begin a key id."""
    asked = {"role": "user", "content": "My key id starts AKIA"}
    assert chatted(guard, [asked], ORDINARY, stream) == (ORDINARY, "stop")


@pytest.mark.parametrize("stream", STREAMED)
def test_an_answer_after_a_user_message_is_not_a_prefill(guard: GuardServer,
                                                         stream: bool) -> None:
    """A Messages API answer after a user message is its own reply."""
    text, stop = prefilled(guard, [{"role": "user", "content": "My key id starts AKIA"}],
                           ORDINARY, stream)
    assert (text, stop) == (ORDINARY, "end_turn")


@pytest.mark.parametrize("stream", STREAMED)
def test_an_echoed_completion_is_read_as_it_comes(guard: GuardServer, stream: bool) -> None:
    """With `echo`, the answer holds its prompt: not joined to it once more."""
    text, finish = completed(guard, "Spell it: AKIA", ORDINARY, stream, echo=True)
    assert (text, finish) == (ORDINARY, "stop")


@pytest.mark.parametrize("stream", STREAMED)
def test_echo_spelled_as_a_string_is_read_as_it_comes(guard: GuardServer, stream: bool) -> None:
    text, finish = completed(guard, "Spell it: AKIA", ORDINARY, stream,
                             extra_body={"echo": "TRUE"})
    assert (text, finish) == (ORDINARY, "stop")


# -- several choices: each goes on from its own prompt, placed by its `index` -------------------

PROMPTS = ["Hello there,", "Card on file: 4111 1111"]
REVERSED = {"X-Mock-Choice-Order": "reversed"}


def completed_by_index(guard: GuardServer, prompts: list[str], reply: str, stream: bool, n: int,
                       ) -> dict[int, str]:
    """A legacy completion of a list of prompts, `n` choices each, the stand-in listing (and
    streaming) its choices from the last index to the first: each choice's text by its `index`,
    as a client places it."""
    client = openai_client(guard, "consumer")
    headers = mock_reply(reply, **REVERSED)
    if not stream:
        answer = client.completions.create(model="m", prompt=prompts, n=n, extra_headers=headers)
        return {choice.index: choice.text for choice in answer.choices}
    texts: dict[int, str] = {}
    for chunk in client.completions.create(model="m", prompt=prompts, n=n, stream=True,
                                           extra_headers=headers):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
    return texts


@pytest.mark.parametrize("stream", STREAMED)
def test_each_choice_of_a_batch_is_read_after_the_prompt_its_index_names(guard: GuardServer,
                                                                         stream: bool) -> None:
    """Choice `i * n + j` goes on from prompt i (OpenAI's numbering), whatever order the upstream
    lists or sends the choices in: the card the second prompt begins is masked in its own
    choices, and the first prompt's choices are left as they are."""
    n = 2
    texts = completed_by_index(guard, PROMPTS, " 1111 1111\nThanks.", stream, n)
    assert sorted(texts) == [0, 1, 2, 3]
    shown = {i: PROMPTS[i // n] + text for i, text in texts.items()}
    assert not [i for i, text in shown.items() if "4111 1111 1111 1111" in text]
    assert [texts[i] for i in range(4)] == [" 1111 1111\nThanks."] * 2 + [
        "[REDACTED:pii:card]\nThanks."] * 2


@pytest.mark.parametrize("stream", STREAMED)
def test_every_choice_of_a_continued_chat_message_is_read_after_it(guard: GuardServer,
                                                                   stream: bool) -> None:
    """`n` choices going on from one assistant message, sent from the last index to the first:
    each is read after the message, and the token it ends is shown in none."""
    client = openai_client(guard)
    more: dict[str, Any] = {"n": 2, "extra_headers": mock_reply(TOKEN[4:], **REVERSED),
                            "extra_body": {"continue_final_message": True,
                                           "add_generation_prompt": False}}
    messages: Any = [ASK, {"role": "assistant", "content": PREFILL}]
    texts: dict[int, str] = {}
    if not stream:
        answer = client.chat.completions.create(model="m", messages=messages, **more)
        texts = {c.index: c.message.content or "" for c in answer.choices}
    else:
        for chunk in client.chat.completions.create(model="m", messages=messages, stream=True,
                                                    **more):
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
    assert texts and not [i for i, text in texts.items() if TOKEN in PREFILL + text]
