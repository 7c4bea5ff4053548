"""A stand-in OpenAI-compatible model for `guard demo`, the tests and the benchmarks.

It answers `POST /v1/chat/completions`, `POST /v1/completions`, `POST /v1/responses` and
Anthropic's `POST /v1/messages` (streamed as SSE or not) and `GET /v1/models`,
deterministically. A whole chat completion asked with `store: true` is kept, as OpenAI keeps
them: `GET`, `POST` (metadata), `DELETE /v1/chat/completions/{id}` and `GET .../{id}/messages`
answer it. A
client (or a test through guard, which forwards end-to-end headers) steers each answer with
request headers:

  X-Mock-Reply: TEXT          answer exactly TEXT (percent-encoded, so `%0A` is a newline)
  X-Mock-Reply-Repeat: N      answer X-Mock-Reply N times over (an answer longer than a header)
  X-Mock-Tool-Args: JSON      answer with one tool call `lookup` whose arguments are JSON (chat,
                              responses: a `function_call` item after the message, messages: a
                              `tool_use` block)
  X-Mock-Reasoning: TEXT      reason first, as reasoning models served by vLLM do: TEXT in the
                              message's `reasoning_content` (streamed before the answer; chat),
                              a `reasoning` item's summary (responses), a `thinking` block
                              (messages)
  X-Mock-Chunk-Chars: N       characters per stream chunk (default: --chunk-chars)
  X-Mock-Chunk-Delay-Ms: MS   pause between stream chunks
  X-Mock-Latency-Ms: MS       pause before answering
  X-Mock-Fail: KIND           `status:CODE` (answer CODE), `midstream` (stream half, then drop the
                              connection), `hang` (never answer)
  X-Mock-Set-Cookie: COOKIE   add `Set-Cookie: COOKIE` to a whole answer, as a load balancer's
                              affinity cookie would be
  X-Mock-Request-Id: ID        answer with `x-request-id: ID`, as OpenAI names each answer
                              (`req_...`), whole and streamed
  X-Mock-Choice-Order: reversed
                              list a whole answer's choices, and send each piece of a stream's,
                              from the last index to the first: an upstream serving several
                              choices sends each when it is ready (clients place a choice by
                              its `index`)
  X-Mock-Choice-Order: sequential
                              stream each choice whole, from its first chunk (with the role,
                              for chat) to its finish, before the next one begins, as a server
                              working through a list of prompts one at a time does

A legacy completion of a list of prompts has `n` choices per prompt, choice `i * n + j` the j-th
of prompt i, as OpenAI numbers them.

`GET /_mock/requests` lists the last requests received (headers and body), for tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

WORDS = ("the guard stands in front of the model and every answer it gives is checked "
         "before anyone reads it so this text is plain and harmless filler for tests").split()
SEEN: web.AppKey[deque[dict[str, Any]]] = web.AppKey("seen")
# Responses API answers and chat completions asked with `store: true`, by id
STORED: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("stored")
OPTIONS = web.AppKey("options", dict)


def default_reply(prompt: str, words: int) -> str:
    seed = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
    picked = [WORDS[(seed + i * 7) % len(WORDS)] for i in range(words)]
    return "Stand-in answer: " + " ".join(picked) + "."


def reply_text(request: web.Request, prompt: str, max_tokens: int | None) -> str:
    given = request.headers.get("X-Mock-Reply")
    if given is not None:
        return urllib.parse.unquote(given) * int(request.headers.get("X-Mock-Reply-Repeat", "1"))
    return default_reply(prompt, min(max_tokens or 24, 2000))


def prompt_of(body: dict[str, Any]) -> str:
    if isinstance(body.get("prompt"), str):
        return str(body["prompt"])
    if isinstance(body.get("prompt"), list):
        return "\n".join(p for p in body["prompt"] if isinstance(p, str))
    messages = body.get("messages") or []
    texts = [m.get("content") for m in messages if isinstance(m, dict)]
    return "\n".join(t for t in texts if isinstance(t, str))


def usage(prompt: str, reply: str, n: int) -> dict[str, int]:
    p, c = len(prompt.split()), len(reply.split()) * n
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


async def chat(request: web.Request) -> web.StreamResponse:
    return await answer(request, chat=True)


async def completions(request: web.Request) -> web.StreamResponse:
    return await answer(request, chat=False)


async def received(request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
    """The request's body, noted for `/_mock/requests`; and the failure it asks for, if any."""
    body = await request.json(loads=orjson.loads)
    request.app[SEEN].append({"path": request.path, "headers": dict(request.headers),
                              "body": body})
    fail = request.headers.get("X-Mock-Fail", "")
    await asyncio.sleep(int(request.headers.get("X-Mock-Latency-Ms", "0")) / 1000)
    if fail == "hang":
        await asyncio.sleep(3600)
    if fail.startswith("status:"):
        status = int(fail.split(":", 1)[1])
        return body, web.json_response({"error": {"message": f"stand-in failure {status}",
                                                  "type": "server_error", "param": None,
                                                  "code": "mock_failure"}}, status=status)
    return body, None


def _at_least_one(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# The parameters the stand-in reads, checked as OpenAI checks them: (accepts, what it expects).
PARAMETERS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n": (_at_least_one, "an integer of at least 1"),
    "max_tokens": (_at_least_one, "an integer of at least 1"),
    "stream_options": (lambda value: isinstance(value, dict), "an object"),
}


def bad_parameter(body: Any) -> web.Response | None:
    """The 400 OpenAI answers for a body that is not an object or a parameter of the wrong type
    or value (null is the default, as there); None when the stand-in can answer the body."""
    if not isinstance(body, dict):
        return invalid_request("The request body must be a JSON object.", None, "invalid_type")
    for name, (accepts, expected) in PARAMETERS.items():
        value = body.get(name)
        if value is not None and not accepts(value):
            return invalid_request(f"Invalid value for '{name}': expected {expected}, got "
                                   f"{orjson.dumps(value).decode()}.", name, "invalid_value")
    return None


def invalid_request(message: str, param: str | None, code: str) -> web.Response:
    return json_answer({"error": {"message": message, "type": "invalid_request_error",
                                  "param": param, "code": code}}, status=400)


async def answer(request: web.Request, *, chat: bool) -> web.StreamResponse:
    body, failed = await received(request)
    if failed is not None:
        return failed
    if (refused := bad_parameter(body)) is not None:
        return refused
    fail = request.headers.get("X-Mock-Fail", "")
    prompt = prompt_of(body)
    text = reply_text(request, prompt, body.get("max_tokens"))
    n = int(body.get("n") or 1) * prompts_in(body)
    model = str(body.get("model") or "stand-in")
    completion_id = ("chatcmpl-" if chat else "cmpl-") + hashlib.sha1(  # noqa: S324 (an id)
        prompt.encode()).hexdigest()[:12]
    tool_args = request.headers.get("X-Mock-Tool-Args") if chat else None
    reasoning = request.headers.get("X-Mock-Reasoning") if chat else None
    reasoning = None if reasoning is None else urllib.parse.unquote(reasoning)
    if body.get("stream") is True:
        return await stream(request, body, chat=chat, completion_id=completion_id, model=model,
                            text=text, n=n, tool_args=tool_args, fail=fail, prompt=prompt,
                            reasoning=reasoning)
    choices = [whole_choice(i, text, chat=chat, tool_args=tool_args, reasoning=reasoning)
               for i in choice_order(request, n)]
    cookie = request.headers.get("X-Mock-Set-Cookie")
    whole = {"id": completion_id, "object": "chat.completion" if chat else "text_completion",
             "created": int(time.time()), "model": model, "choices": choices,
             "usage": usage(prompt, text, n)}
    if chat and body.get("store") is True:  # fetched later by id
        request.app[STORED][completion_id] = {**whole, "messages": body.get("messages") or []}
    return web.json_response(whole, dumps=lambda o: orjson.dumps(o).decode(),
                             headers={"Set-Cookie": cookie} if cookie else None)


def prompts_in(body: dict[str, Any]) -> int:
    """How many prompts a request completes: the strings of a legacy `prompt` list, else 1."""
    prompt = body.get("prompt")
    return max(1, sum(isinstance(p, str) for p in prompt)) if isinstance(prompt, list) else 1


def choice_order(request: web.Request, n: int) -> list[int]:
    """The order choices are listed and sent in (`X-Mock-Choice-Order`)."""
    order = list(range(n))
    return order[::-1] if request.headers.get("X-Mock-Choice-Order") == "reversed" else order


def choice_groups(request: web.Request, n: int) -> list[list[int]]:
    """The choices a stream sends together, group after group: all at once, each piece in
    `choice_order`, or one after another (`X-Mock-Choice-Order: sequential`)."""
    if request.headers.get("X-Mock-Choice-Order") == "sequential":
        return [[i] for i in range(n)]
    return [choice_order(request, n)]


def whole_choice(index: int, text: str, *, chat: bool, tool_args: str | None,
                 reasoning: str | None = None) -> dict[str, Any]:
    if not chat:
        return {"index": index, "text": text, "logprobs": None, "finish_reason": "stop"}
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    finish = "stop"
    if tool_args is not None:
        message["content"] = None
        message["tool_calls"] = [{"id": f"call_{index}", "type": "function",
                                  "function": {"name": "lookup", "arguments": tool_args}}]
        finish = "tool_calls"
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish}


async def stream(request: web.Request, body: dict[str, Any], *, chat: bool, completion_id: str,
                 model: str, text: str, n: int, tool_args: str | None, fail: str,
                 prompt: str, reasoning: str | None = None) -> web.StreamResponse:
    size = chunk_size(request)
    delay = int(request.headers.get("X-Mock-Chunk-Delay-Ms",
                                    request.app[OPTIONS]["chunk_delay_ms"])) / 1000
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    created = int(time.time())
    kind = "chat.completion.chunk" if chat else "text_completion"

    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        payload: dict[str, Any] = {"id": completion_id, "object": kind, "created": created,
                                   "model": model, "system_fingerprint": None, "choices": choices}
        if include_usage:
            payload["usage"] = None
        payload.update(extra)
        return b"data: " + orjson.dumps(payload) + b"\n\n"

    def choice(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        if chat:
            return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {"index": index, "text": delta.get("content", ""), "logprobs": None,
                "finish_reason": finish}

    source = tool_args if tool_args is not None else text
    finish = "tool_calls" if tool_args is not None else "stop"
    try:
        for group in choice_groups(request, n):
            if chat:
                await response.write(event([choice(i, {"role": "assistant", "content": ""}, None)
                                            for i in sorted(group)]))
            if reasoning:
                await send_pieces(request, response, pieces(reasoning, size), event, choice,
                                  group, delay=delay, tool_args=None, fail="",
                                  key="reasoning_content")
            await send_pieces(request, response, pieces(source, size), event, choice, group,
                              delay=delay, tool_args=tool_args, fail=fail)
            if fail == "midstream":
                return response
            await response.write(event([choice(i, {}, finish) for i in sorted(group)]))
    except (ConnectionResetError, asyncio.CancelledError) as exc:
        request.app[SEEN].append({"path": request.path, "aborted": True,
                                  "request_id": request.headers.get("X-Request-Id")})
        if isinstance(exc, asyncio.CancelledError):
            raise
        return response  # the client left (guard closed the stream): nothing more to say
    if include_usage:
        await response.write(event([], usage=usage(prompt, text, n)))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def send_pieces(request: web.Request, response: web.StreamResponse, texts: list[str],
                      event: Any, choice: Any, choices: list[int], *, delay: float,
                      tool_args: str | None, fail: str, key: str = "content") -> None:
    for count, piece in enumerate(texts):
        if fail == "midstream" and count >= len(texts) // 2:
            assert request.transport is not None
            request.transport.abort()
            return
        for i in choices:
            if tool_args is not None:
                call: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
                if count == 0:
                    call.update(id=f"call_{i}", type="function")
                    call["function"]["name"] = "lookup"
                delta: dict[str, Any] = {"tool_calls": [call]}
            else:
                delta = {key: piece}
            await response.write(event([choice(i, delta, None)]))
        if delay:
            await asyncio.sleep(delay)


# -- the Responses API ---------------------------------------------------------------------------

def responses_prompt(body: dict[str, Any]) -> str:
    given = body.get("input")
    if isinstance(given, str):
        return given
    items = given if isinstance(given, list) else []
    texts = [i.get("content") for i in items if isinstance(i, dict)]
    return "\n".join(t for t in texts if isinstance(t, str))


def output_items(request: web.Request, text: str, reply_id: str) -> list[dict[str, Any]]:
    """The answer's items: a reasoning summary (X-Mock-Reasoning), the message, and a call of
    `lookup` (X-Mock-Tool-Args)."""
    items: list[dict[str, Any]] = []
    reasoning = request.headers.get("X-Mock-Reasoning")
    if reasoning is not None:
        items.append({"type": "reasoning", "id": f"rs_{reply_id}", "summary": [
            {"type": "summary_text", "text": urllib.parse.unquote(reasoning)}]})
    items.append({"type": "message", "id": f"msg_{reply_id}", "status": "completed",
                  "role": "assistant", "content": [
                      {"type": "output_text", "text": text, "annotations": [], "logprobs": []}]})
    arguments = request.headers.get("X-Mock-Tool-Args")
    if arguments is not None:
        items.append({"type": "function_call", "id": f"fc_{reply_id}", "call_id": "call_0",
                      "name": "lookup", "arguments": arguments, "status": "completed"})
    return items


async def responses(request: web.Request) -> web.StreamResponse:
    body, failed = await received(request)
    if failed is not None:
        return failed
    prompt = responses_prompt(body)
    text = reply_text(request, prompt, body.get("max_output_tokens"))
    reply_id = hashlib.sha1(prompt.encode()).hexdigest()[:12]  # noqa: S324 (an id)
    words = usage(prompt, text, 1)
    response: dict[str, Any] = {
        "id": f"resp_{reply_id}", "object": "response", "created_at": int(time.time()),
        "status": "completed", "error": None, "incomplete_details": None,
        "instructions": body.get("instructions"), "model": str(body.get("model") or "stand-in"),
        "output": output_items(request, text, reply_id), "parallel_tool_calls": True,
        "temperature": 1.0, "tool_choice": "auto", "tools": [], "top_p": 1.0, "metadata": {},
        "usage": {"input_tokens": words["prompt_tokens"],
                  "output_tokens": words["completion_tokens"],
                  "total_tokens": words["total_tokens"]}}
    if body.get("store", True) is not False:  # fetched later by id
        request.app[STORED][response["id"]] = response
    if body.get("background") is True and body.get("stream") is not True:
        return json_answer({**response, "status": "queued", "output": [], "usage": None})
    if body.get("stream") is not True:
        return json_answer(response)
    return await typed_stream(request, response_events(response, chunk_size(request)),
                              numbered=True)


async def stored_response(request: web.Request) -> web.StreamResponse:
    """`GET /v1/responses/{id}` (whole, or streamed with `stream=true` from after
    `starting_after`), `POST /v1/responses/{id}/cancel` and `DELETE /v1/responses/{id}`, as the
    Responses API answers them for a stored response (its answer already complete)."""
    request.app[SEEN].append({"path": request.path, "method": request.method,
                              "query": dict(request.query), "headers": dict(request.headers)})
    response = request.app[STORED].get(request.match_info["id"])
    if response is None:
        return json_answer({"error": {"message": "No response found with that id.",
                                      "type": "invalid_request_error", "param": None,
                                      "code": "not_found"}}, status=404)
    if request.method == "DELETE":
        del request.app[STORED][response["id"]]
        return json_answer({"id": response["id"], "object": "response.deleted",
                            "deleted": True})
    if "X-Mock-Model" in request.headers:  # a stand-in that names another model (or none)
        response = {**response, "model": request.headers["X-Mock-Model"] or None}
    await asyncio.sleep(int(request.headers.get("X-Mock-Latency-Ms", "0")) / 1000)
    if request.path.endswith("/cancel"):
        return json_answer({**response, "status": "cancelled"})
    if request.query.get("stream") != "true":
        return json_answer(response)
    after = int(request.query.get("starting_after", "-1"))
    events = response_events(response, chunk_size(request))
    return await typed_stream(request, events, numbered=True, after=after)


async def stored_chat(request: web.Request) -> web.Response:
    """`GET`, `POST` (its `metadata` set), `DELETE /v1/chat/completions/{id}` and `GET
    .../{id}/messages`, as OpenAI answers them for a chat completion asked with `store: true`."""
    request.app[SEEN].append({"path": request.path, "method": request.method,
                              "query": dict(request.query), "headers": dict(request.headers)})
    kept = request.app[STORED].get(request.match_info["id"])
    if kept is None or kept.get("object") != "chat.completion":
        return json_answer({"error": {"message": "No chat completion found with that id.",
                                      "type": "invalid_request_error", "param": None,
                                      "code": "not_found"}}, status=404)
    if request.method == "POST":
        update = await request.json()
        if not isinstance(update, dict) or "metadata" not in update:  # as the API answers it
            return json_answer({"error": {"message": "Missing required parameter: 'metadata'.",
                                          "type": "invalid_request_error", "param": "metadata",
                                          "code": "missing_required_parameter"}}, status=400)
        kept["metadata"] = update["metadata"]
    completion = {key: value for key, value in kept.items() if key != "messages"}
    if request.method == "DELETE":
        del request.app[STORED][completion["id"]]
        return json_answer({"id": completion["id"], "object": "chat.completion.deleted",
                            "deleted": True})
    if request.path.endswith("/messages"):
        data = [{"id": f"{completion['id']}-{i}", **message}
                for i, message in enumerate(kept["messages"])]
        return json_answer({"object": "list", "data": data, "has_more": False})
    return json_answer(completion)


def json_answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: orjson.dumps(o).decode())


def chunk_size(request: web.Request) -> int:
    return max(1, int(request.headers.get("X-Mock-Chunk-Chars",
                                          request.app[OPTIONS]["chunk_chars"])))


async def typed_stream(request: web.Request, events: list[dict[str, Any]], *,
                       numbered: bool = False, after: int = -1) -> web.StreamResponse:
    """`events` streamed as the Responses and Messages APIs stream: an `event:` line naming each
    event's type (with `numbered`, a `sequence_number` in each, and only those after `after`)."""
    stream = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                         "Cache-Control": "no-cache"})
    await stream.prepare(request)
    delay = int(request.headers.get("X-Mock-Chunk-Delay-Ms",
                                    request.app[OPTIONS]["chunk_delay_ms"])) / 1000
    fail = request.headers.get("X-Mock-Fail", "")
    try:
        for number, event in enumerate(events):
            if fail == "midstream" and number >= len(events) // 2:
                assert request.transport is not None
                request.transport.abort()
                return stream
            if numbered:
                event["sequence_number"] = number
                if number <= after:
                    continue
            await stream.write(f"event: {event['type']}\n".encode() + b"data: "
                               + orjson.dumps(event) + b"\n\n")
            if delay and "delta" in event:
                await asyncio.sleep(delay)
    except (ConnectionResetError, asyncio.CancelledError) as exc:
        request.app[SEEN].append({"path": request.path, "aborted": True,
                                  "request_id": request.headers.get("X-Request-Id")})
        if isinstance(exc, asyncio.CancelledError):
            raise
        return stream
    await stream.write_eof()
    return stream


def response_events(response: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """The events a Responses API stream sends for `response`: each item opened, its texts as
    deltas of `size` characters and then whole, the item closed; the response completed."""
    opened = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": opened},
                                    {"type": "response.in_progress", "response": opened}]
    for index, item in enumerate(response["output"]):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "status": "in_progress", "content": []}})
            for n, part in enumerate(item["content"]):
                at = {**where, "content_index": n}
                events.append({"type": "response.content_part.added", **at,
                               "part": {**part, "text": ""}})
                events += [{"type": "response.output_text.delta", **at, "delta": piece,
                            "logprobs": []} for piece in pieces(part["text"], size)]
                events.append({"type": "response.output_text.done", **at,
                               "text": part["text"], "logprobs": []})
                events.append({"type": "response.content_part.done", **at, "part": part})
        elif item["type"] == "reasoning":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "summary": []}})
            for n, part in enumerate(item["summary"]):
                at = {**where, "summary_index": n}
                events.append({"type": "response.reasoning_summary_part.added", **at,
                               "part": {**part, "text": ""}})
                events += [{"type": "response.reasoning_summary_text.delta", **at,
                            "delta": piece} for piece in pieces(part["text"], size)]
                events.append({"type": "response.reasoning_summary_text.done", **at,
                               "text": part["text"]})
                events.append({"type": "response.reasoning_summary_part.done", **at,
                               "part": part})
        else:
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "arguments": "", "status": "in_progress"}})
            events += [{"type": "response.function_call_arguments.delta", **where,
                        "delta": piece} for piece in pieces(item["arguments"], size)]
            events.append({"type": "response.function_call_arguments.done", **where,
                           "arguments": item["arguments"]})
        events.append({"type": "response.output_item.done", "output_index": index,
                       "item": item})
    events.append({"type": "response.completed", "response": response})
    return events


# -- Anthropic's Messages API --------------------------------------------------------------------

def messages_prompt(body: dict[str, Any]) -> str:
    texts = [m.get("content") for m in body.get("messages") or [] if isinstance(m, dict)]
    return "\n".join(t for t in texts if isinstance(t, str))


def content_blocks(request: web.Request, text: str) -> list[dict[str, Any]]:
    """The answer's blocks: thinking (X-Mock-Reasoning), the text, and a call of `lookup`
    (X-Mock-Tool-Args)."""
    blocks: list[dict[str, Any]] = []
    thinking = request.headers.get("X-Mock-Reasoning")
    if thinking is not None:
        blocks.append({"type": "thinking", "thinking": urllib.parse.unquote(thinking),
                       "signature": "c2lnbmF0dXJl"})
    blocks.append({"type": "text", "text": text})
    arguments = request.headers.get("X-Mock-Tool-Args")
    if arguments is not None:
        blocks.append({"type": "tool_use", "id": "toolu_0", "name": "lookup",
                       "input": orjson.loads(arguments)})
    return blocks


async def messages(request: web.Request) -> web.StreamResponse:
    body, failed = await received(request)
    if failed is not None:
        return failed
    prompt = messages_prompt(body)
    text = reply_text(request, prompt, body.get("max_tokens"))
    words = usage(prompt, text, 1)
    blocks = content_blocks(request, text)
    message: dict[str, Any] = {
        "id": "msg_" + hashlib.sha1(prompt.encode()).hexdigest()[:12],  # noqa: S324 (an id)
        "type": "message", "role": "assistant", "model": str(body.get("model") or "stand-in"),
        "content": blocks, "stop_reason": "tool_use" if blocks[-1]["type"] == "tool_use"
        else "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": words["prompt_tokens"],
                  "output_tokens": words["completion_tokens"]}}
    if body.get("stream") is not True:
        return web.json_response(message, dumps=lambda o: orjson.dumps(o).decode())
    return await typed_stream(request, message_events(message, chunk_size(request)))


def message_events(message: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """The events a Messages API stream sends for `message`: each block opened, its text as
    deltas of `size` characters, closed; the stop reason; the end."""
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {
        **message, "content": [], "stop_reason": None, "usage": {
            "input_tokens": message["usage"]["input_tokens"], "output_tokens": 1}}}]
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opened, key, kind = {**block, "input": {}}, "partial_json", "input_json_delta"
            text = orjson.dumps(block["input"]).decode()
        else:
            key = kind = block["type"]
            opened, text = {**block, kind: ""}, block[kind]
            kind += "_delta"
            opened.pop("signature", None)
        events.append({"type": "content_block_start", "index": index, "content_block": opened})
        events += [{"type": "content_block_delta", "index": index,
                    "delta": {"type": kind, key: piece}} for piece in pieces(text, size)]
        if block["type"] == "thinking":
            events.append({"type": "content_block_delta", "index": index,
                           "delta": {"type": "signature_delta", "signature": block["signature"]}})
        events.append({"type": "content_block_stop", "index": index})
    events.append({"type": "message_delta", "delta": {"stop_reason": message["stop_reason"],
                                                      "stop_sequence": None},
                   "usage": {"output_tokens": message["usage"]["output_tokens"]}})
    events.append({"type": "message_stop"})
    return events


def pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


async def models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [
        {"id": "stand-in", "object": "model", "created": 0, "owned_by": "guard"}]})


async def seen(request: web.Request) -> web.Response:
    recent = request.app[SEEN]
    return web.json_response([*recent])


async def named(request: web.Request, response: web.StreamResponse) -> None:
    """The upstream's own id of an answer, when `X-Mock-Request-Id` asks for one."""
    if "X-Mock-Request-Id" in request.headers:
        response.headers["x-request-id"] = request.headers["X-Mock-Request-Id"]


def build_app(chunk_chars: int = 4, chunk_delay_ms: int = 0) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.on_response_prepare.append(named)
    seen_requests: deque[dict[str, Any]] = deque(maxlen=50)
    app[SEEN] = seen_requests
    app[OPTIONS] = {"chunk_chars": chunk_chars, "chunk_delay_ms": chunk_delay_ms}
    app[STORED] = {}
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/responses", responses)
    app.router.add_route("GET", "/v1/responses/{id}", stored_response)
    app.router.add_route("DELETE", "/v1/responses/{id}", stored_response)
    app.router.add_post("/v1/responses/{id}/cancel", stored_response)
    app.router.add_route("GET", "/v1/chat/completions/{id}", stored_chat)
    app.router.add_route("DELETE", "/v1/chat/completions/{id}", stored_chat)
    app.router.add_post("/v1/chat/completions/{id}", stored_chat)
    app.router.add_get("/v1/chat/completions/{id}/messages", stored_chat)
    app.router.add_post("/v1/messages", messages)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_mock/requests", seen)
    return app


# How long a stopped stand-in lets the answers it is writing go on: aiohttp's default (60 s) held
# every stop for as long as an answer asked with X-Mock-Latency-Ms still had to wait, though
# nobody reads an answer a stand-in gives while it stops.
STOP_S = 0.5


def run(host: str, port: int, chunk_chars: int, chunk_delay_ms: int) -> None:
    web.run_app(build_app(chunk_chars, chunk_delay_ms), host=host, port=port, access_log=None,
                print=lambda *_: None, shutdown_timeout=STOP_S)
