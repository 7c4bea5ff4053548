"""Hypothesis strategies shared by the fuzz tests: arbitrary JSON, and OpenAI-shaped JSON whose
every field may hold the wrong type."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Text that reaches the odd corners: invisible characters, combining marks, look-alikes,
# surrogate-free astral characters, and the ASCII that patterns care about.
TRICKY = st.sampled_from([
    "\u200b", "\u200d", "\u202e", "\ufeff", "\U000e0041", "\u0301", "\u0338", "\uff41", "\u0430",
    "\u03bf", "\U0001d41a", "sk-", "AKIA", "@", ".", "-", " ", "\n", "\r", ":", "data: ", "{", "}",
])
TEXT = st.one_of(st.text(max_size=40), st.lists(TRICKY, max_size=12).map("".join))

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=20)

# Keys the adapters look for, so arbitrary values land where they read.
KEYS = st.sampled_from(["messages", "prompt", "choices", "message", "delta", "content", "text",
                        "tool_calls", "function", "arguments", "index", "role", "finish_reason",
                        "logprobs", "type", "model", "stream", "n"])


def shaped(depth: int = 4) -> st.SearchStrategy[Any]:
    """JSON built from the keys OpenAI bodies use, with any value under any of them."""
    return st.recursive(
        st.one_of(SCALARS, JSON),
        lambda children: st.one_of(st.lists(children, max_size=3),
                                   st.dictionaries(KEYS, children, max_size=5)),
        max_leaves=depth * 6)


OBJECTS = st.one_of(st.dictionaries(KEYS, shaped(), max_size=5), st.dictionaries(TEXT, JSON))


INDEX = st.one_of(st.integers(-2, 300), JSON)
PART = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.one_of(TEXT, JSON)}),
    st.fixed_dictionaries({"type": st.just("refusal"), "refusal": st.one_of(TEXT, JSON)}),
    st.fixed_dictionaries({"type": st.sampled_from(["image_url", "input_audio", "file"]),
                           "image_url": JSON}),
    TEXT, JSON)
CONTENT = st.one_of(TEXT, JSON, st.lists(PART, max_size=3))
CALL = st.one_of(JSON, st.fixed_dictionaries({
    "index": INDEX,
    "function": st.one_of(JSON, st.fixed_dictionaries({"arguments": st.one_of(TEXT, JSON)}))}))
MESSAGE = st.one_of(JSON, st.fixed_dictionaries(
    {"role": st.one_of(st.sampled_from(["user", "system", "tool", "assistant"]), JSON),
     "content": CONTENT},
    optional={"tool_calls": st.one_of(JSON, st.lists(CALL, max_size=3)),
              "reasoning_content": st.one_of(TEXT, JSON), "refusal": st.one_of(TEXT, JSON),
              "function_call": st.one_of(JSON, st.fixed_dictionaries(
                  {"arguments": st.one_of(TEXT, JSON)}))}))
CHOICE = st.one_of(JSON, st.fixed_dictionaries(
    {"index": INDEX},
    optional={"message": MESSAGE, "delta": MESSAGE, "text": st.one_of(TEXT, JSON),
              "finish_reason": st.one_of(st.none(), st.just("stop"), JSON), "logprobs": JSON}))
# A request, a completion or a chunk close to what an API sends, with random defects.
CHAT_LIKE = st.fixed_dictionaries({
    "model": st.one_of(TEXT, JSON),
    "messages": st.one_of(st.lists(MESSAGE, max_size=3), JSON),
    "prompt": st.one_of(TEXT, st.lists(st.one_of(TEXT, st.integers(0, 50000)), max_size=3),
                        st.lists(st.lists(st.integers(0, 50000), max_size=3), max_size=2), JSON),
    "suffix": st.one_of(TEXT, JSON),
    "choices": st.one_of(st.lists(CHOICE, max_size=3), JSON),
})

# The Responses API: items of every kind guard reads (and some it does not), with defects.
RESPONSE_PART = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["input_text", "output_text", "summary_text",
                                                    "reasoning_text"]),
                           "text": st.one_of(TEXT, JSON)}),
    st.fixed_dictionaries({"type": st.just("refusal"), "refusal": st.one_of(TEXT, JSON)}),
    st.fixed_dictionaries({"type": st.sampled_from(["input_image", "input_file"]),
                           "image_url": JSON}),
    TEXT, JSON)
RESPONSE_CONTENT = st.one_of(TEXT, JSON, st.lists(RESPONSE_PART, max_size=3))
ITEM = st.one_of(JSON, st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["message", "function_call", "function_call_output",
                                        "reasoning", "custom_tool_call", "mcp_call",
                                        "computer_call_output", "item_reference"]), JSON)},
    optional={"role": st.one_of(st.sampled_from(["user", "developer", "assistant"]), JSON),
              "content": RESPONSE_CONTENT, "summary": RESPONSE_CONTENT,
              "output": RESPONSE_CONTENT, "arguments": st.one_of(TEXT, JSON),
              "name": st.one_of(TEXT, JSON), "input": st.one_of(TEXT, JSON)}))
# A request, an answer or a stream event close to what the Responses API sends.
RESPONSES_LIKE = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from([
        "response.output_text.delta", "response.output_text.done", "response.refusal.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.content_part.done", "response.reasoning_summary_part.done",
        "response.output_item.done", "response.completed", "response.x.delta"]), JSON)},
    optional={"input": st.one_of(TEXT, st.lists(ITEM, max_size=3), JSON),
              "instructions": st.one_of(TEXT, JSON),
              "output": st.one_of(st.lists(ITEM, max_size=3), JSON),
              "prompt": st.one_of(JSON, st.fixed_dictionaries({"variables": st.dictionaries(
                  TEXT, st.one_of(TEXT, RESPONSE_PART), max_size=3)})),
              "delta": st.one_of(TEXT, JSON), "text": st.one_of(TEXT, JSON),
              "arguments": st.one_of(TEXT, JSON), "part": RESPONSE_PART, "item": ITEM,
              "response": st.one_of(JSON, st.fixed_dictionaries(
                  {"output": st.one_of(st.lists(ITEM, max_size=3), JSON)})),
              "output_index": INDEX, "content_index": INDEX, "summary_index": INDEX})

# Anthropic's Messages API: blocks of every kind guard reads (and some it does not), with defects.
BLOCK = st.one_of(JSON, st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["text", "thinking", "tool_use", "tool_result",
                                        "document", "image", "redacted_thinking"]), JSON)},
    optional={"text": st.one_of(TEXT, JSON), "thinking": st.one_of(TEXT, JSON),
              "name": st.one_of(TEXT, JSON), "input": JSON,
              "content": st.one_of(TEXT, JSON, st.lists(st.fixed_dictionaries(
                  {"type": st.sampled_from(["text", "image"]), "text": st.one_of(TEXT, JSON)}),
                  max_size=2)),
              "source": st.one_of(JSON, st.fixed_dictionaries(
                  {"type": st.just("text"), "data": st.one_of(TEXT, JSON)}))}))
DELTA = st.one_of(JSON, st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["text_delta", "thinking_delta", "input_json_delta",
                                        "signature_delta", "other_delta"]), JSON)},
    optional={"text": st.one_of(TEXT, JSON), "thinking": st.one_of(TEXT, JSON),
              "partial_json": st.one_of(TEXT, JSON)}))
# A request, an answer or a stream event close to what the Messages API sends.
MESSAGES_LIKE = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["message", "message_start", "content_block_start",
                                        "content_block_delta", "content_block_stop",
                                        "message_delta"]), JSON)},
    optional={"system": st.one_of(TEXT, st.lists(BLOCK, max_size=2), JSON),
              "messages": st.one_of(st.lists(st.fixed_dictionaries(
                  {"role": st.sampled_from(["user", "assistant"]),
                   "content": st.one_of(TEXT, st.lists(BLOCK, max_size=3), JSON)}),
                  max_size=3), JSON),
              "content": st.one_of(st.lists(BLOCK, max_size=3), JSON),
              "message": st.one_of(JSON, st.fixed_dictionaries(
                  {"content": st.lists(BLOCK, max_size=2)})),
              "content_block": BLOCK, "delta": DELTA, "index": INDEX})
