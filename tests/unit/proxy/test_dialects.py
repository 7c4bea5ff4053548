"""What each dialect reads in a request, and what it names as unreadable."""

from __future__ import annotations

from guard.proxy.protocols.base import folded_keys
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


def test_a_part_is_text_by_its_type_not_by_holding_a_text_key() -> None:
    """An image part with a dummy `text` is still an image to the upstream: named unread."""
    body = {"messages": [{"role": "user", "content": [
        {**IMAGE, "text": ""}, {"type": "input_audio", "input_audio": {}, "refusal": ""},
        {"type": "input_text", "text": "read"}, {"type": "output_text", "text": "read too"}]}]}
    assert [s.text for s in CHAT.prompt_slots(body)] == ["read", "read too"]
    assert CHAT.unread(body) == ["messages[0].content[0] (image_url)",
                                 "messages[0].content[1] (input_audio)"]


def test_names_call_ids_and_predicted_output_are_read() -> None:
    """Texts the model is given besides content: a message's `name`, a tool result's call id, the
    names of the functions it called, and predicted output."""
    body = {"messages": [
        {"role": "user", "name": "alice", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"}],
        "prediction": {"type": "content", "content": [{"type": "text", "text": "predicted"}]}}
    read = {(s.path, s.role, s.text) for s in CHAT.prompt_slots(body)}
    assert {(("messages", 0, "name"), "user", "alice"),
            (("messages", 1, "tool_calls", 0, "function", "name"), "tool_call", "lookup"),
            (("messages", 2, "tool_call_id"), "tool", "call_1"),
            (("prediction", "content", 0, "text"), "user", "predicted")} <= read


def test_a_whole_answer_is_read_in_every_text_field() -> None:
    body = {"choices": [{"index": 0, "message": {
        "role": "assistant", "content": "answer", "refusal": "no", "reasoning_content": "think",
        "tool_calls": [{"id": "c", "type": "function",
                        "function": {"name": "send", "arguments": "{\"to\": 1}"}}],
        "function_call": {"name": "old", "arguments": "{}"}}}]}
    assert sorted(s.text for s in CHAT.completion_slots(body)) == sorted(
        ["answer", "no", "think", "send", "{\"to\": 1}", "old", "{}"])


def test_prompt_embeddings_are_named_unread() -> None:
    assert COMPLETIONS.unread({"prompt": "x", "prompt_embeds": "AAAA"}) == [
        "prompt_embeds (embeddings)"]


def test_keys_that_fold_onto_the_apis_are_found_outside_free_form_parts() -> None:
    body = {"messages": [{"Content": "x", "role": "user"}], "MODEL": "m",
            "metadata": {"UserId": "u"}, "tools": [{"function": {"parameters": {"Name": {}}}}],
            "me\u017f\u017fages": []}
    assert sorted(folded_keys(body)) == sorted([
        "'Content' (reads as 'content')", "'MODEL' (reads as 'model')",
        "'me\u017f\u017fages' (reads as 'messages')"])
    assert folded_keys({"messages": [{"role": "user", "content": "Hello World"}]}) == []


def test_an_answer_asked_for_as_audio_is_named_unread() -> None:
    body = {"modalities": ["text", "audio"], "messages": [{"role": "user", "content": "hi"}]}
    assert CHAT.unread(body) == ["modalities (audio output)"]
    assert CHAT.unread({"modalities": ["text"], "messages": []}) == []


def test_a_stream_is_asked_for_as_a_lenient_upstream_reads_stream() -> None:
    from guard.proxy.handler import asks_to_stream
    assert [asks_to_stream({"stream": v}) for v in (True, 1, "true", "yes", " True ")] == [True] * 5
    assert [asks_to_stream({"stream": v}) for v in (False, 0, "false", "no", None, 2, [])] == [False] * 7
    assert asks_to_stream({}) is False


def test_an_answers_content_as_text_parts_is_read_part_by_part() -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": [
        {"type": "text", "text": "one"}, {"type": "thinking", "thinking": "hidden"},
        {"type": "text", "text": "two"}], "thinking": "aloud"}}]}
    assert [(s.path, s.text) for s in CHAT.completion_slots(body)] == [
        (("choices", 0, "message", "content", 0, "text"), "one"),
        (("choices", 0, "message", "content", 2, "text"), "two"),
        (("choices", 0, "message", "thinking"), "aloud")]
