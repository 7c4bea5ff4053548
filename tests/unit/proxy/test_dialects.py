"""What each dialect reads in a request, and what it names as unreadable."""

from __future__ import annotations

from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.protocols.openai_completions import COMPLETIONS

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def test_chat_reads_text_and_refusal_parts_and_names_the_rest() -> None:
    body = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "what is in this picture?"}, IMAGE]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't say."}]},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGR"}},
                                     "a bare string part"]},
    ]}
    read = [(s.path, s.role, s.text) for s in CHAT.prompt_slots(body)]
    assert read == [
        (("messages", 0, "content", 0, "text"), "user", "what is in this picture?"),
        (("messages", 1, "content", 0, "refusal"), "assistant", "I can't say."),
        (("messages", 2, "content", 1), "user", "a bare string part"),
    ]
    assert CHAT.unread(body) == ["messages[0].content[1] (image_url)",
                                 "messages[2].content[0] (input_audio)"]


def test_chat_text_only_requests_have_nothing_unread() -> None:
    body = {"messages": [{"role": "system", "content": "be brief"},
                         {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                         {"role": "assistant", "content": None, "tool_calls": []}]}
    assert CHAT.unread(body) == []


def test_chat_content_of_an_unknown_shape_is_named() -> None:
    body = {"messages": [{"role": "user", "content": {"text": "an object, not a list"}},
                         {"role": "user", "content": [42]}]}
    assert CHAT.prompt_slots(body) == []
    assert CHAT.unread(body) == ["messages[0].content (dict)", "messages[1].content[0] (int)"]


def test_completions_reads_the_suffix() -> None:
    body = {"prompt": "def add(a, b):", "suffix": "    return total"}
    assert [(s.path, s.text) for s in COMPLETIONS.prompt_slots(body)] == [
        (("prompt",), "def add(a, b):"), (("suffix",), "    return total")]
    assert COMPLETIONS.unread(body) == []


def test_completions_names_prompts_given_as_token_ids() -> None:
    assert COMPLETIONS.unread({"prompt": [9906, 1917]}) == ["prompt (token ids)"]
    assert COMPLETIONS.unread({"prompt": [[9906], "hello", [1917]]}) == [
        "prompt[0] (token ids)", "prompt[2] (token ids)"]
    assert COMPLETIONS.unread({"prompt": ["hello", "world"]}) == []
    assert COMPLETIONS.unread({"prompt": []}) == []
    assert COMPLETIONS.unread({}) == []
