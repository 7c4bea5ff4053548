"""The openai SDK's helpers on answers guard masked, cut or refused (`guard serve`, a real process,
with the shipped packs, in front of the stand-in model): an app gets the SDK's ordinary results
and exceptions, never a JSON or validation error of guard's making, nor a usage it cannot read."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.support import POLICIES, GuardServer, closed_after_test, guard_before_mock

pytestmark = pytest.mark.timeout(120)

CARD = 4111111111111111  # a card number, which the packs mask
EMAIL = "bob.smith@example.org"
SECRET = "ghp_" + "Zq8Xw2Lp4Rt6Yv9Bn3Mk5Hj7Gf1Ds0Ae2Cx1a"  # a key, which the packs cut
TOKEN = "sdk-admin-token-0123456789abcdef"
PAUSED = "paused-model"  # the model a refuse-mode kill switch stops (`switched`)


class Account(BaseModel):
    name: str
    card: int


class Lookup(BaseModel):
    q: str
    n: int


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    with guard_before_mock(tmp_path_factory.mktemp("sdk"), POLICIES,
                           env={"GUARD_ADMIN_TOKENS": f"alice:{TOKEN}"}) as server:
        admin = {"Authorization": f"Bearer {TOKEN}"}
        engaged = httpx.post(f"{server.admin_url}/admin/killswitch", headers=admin, json={
            "scope": f"model:{PAUSED}", "mode": "refuse", "reason": "drill"})
        assert engaged.status_code in (200, 201), engaged.text
        yield server


def client(guard: GuardServer, tenant: str | None = None, **headers: str) -> openai.OpenAI:
    if tenant is not None:
        headers["X-Guard-Tenant"] = tenant
    return closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0,
                                           default_headers={"X-Mock-Chunk-Chars": "4", **headers}))


def replying(text: str) -> dict[str, str]:
    return {"X-Mock-Reply": urllib.parse.quote(text)}


MSG: list[Any] = [{"role": "user", "content": "my account, please"}]
TENANTS = [None, "consumer"]  # the default pack, and the strict one


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_card_number_as_a_json_number_refuses_a_structured_answer(guard: GuardServer,
                                                                    tenant: str | None) -> None:
    """Masked, `{"card": [REDACTED:pii:card]}` is no JSON: parse() raised pydantic's
    ValidationError, the stream() helper a bare ValueError. Refused, both raise the SDK's own."""
    sdk = client(guard, tenant, **replying(json.dumps({"name": "Bob", "card": CARD})))
    with pytest.raises(openai.ContentFilterFinishReasonError):
        sdk.chat.completions.parse(model="gpt-4o", messages=MSG, response_format=Account)
    with pytest.raises(openai.ContentFilterFinishReasonError), sdk.chat.completions.stream(
            model="gpt-4o", messages=MSG, response_format=Account) as stream:
        for _ in stream:
            pass
        stream.get_final_completion()


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_value_inside_a_json_string_is_still_masked(guard: GuardServer,
                                                      tenant: str | None) -> None:
    answer = json.dumps({"name": EMAIL, "card": 3})
    sdk = client(guard, tenant, **replying(answer))
    parsed = sdk.chat.completions.parse(model="gpt-4o", messages=MSG,
                                        response_format=Account).choices[0]
    assert parsed.message.parsed is not None
    assert parsed.message.parsed.name == "[REDACTED:pii:email]"
    with sdk.chat.completions.stream(model="gpt-4o", messages=MSG,
                                     response_format=Account) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion().choices[0].message.parsed
    assert final is not None and final.name == "[REDACTED:pii:email]"


TOOLS = [openai.pydantic_function_tool(Lookup, name="lookup")]


# a card as a JSON number, also with an exponent: a client's parser reads 4111111111111111e0 as
# the card (the probe found `e0` and `E+0` passed, whole and streamed, with no incident)
CARD_NUMBERS = [f'{{"q": "x", "n": {CARD}{exponent}}}' for exponent in ("", "e0", "E+0")]


@pytest.mark.parametrize("arguments, masked", [
    *((arguments, None) for arguments in CARD_NUMBERS),
    (json.dumps({"q": EMAIL, "n": 3}), '{"q": "[REDACTED:pii:email]", "n": 3}'),
])
def test_tool_arguments_are_masked_inside_strings_and_refused_outside(
        guard: GuardServer, arguments: str, masked: str | None) -> None:
    sdk = client(guard, **{"X-Mock-Tool-Args": arguments})
    calls: list[Any] = []
    for how in ("parse", "stream"):
        try:
            if how == "parse":
                done = sdk.chat.completions.parse(model="gpt-4o", messages=MSG, tools=TOOLS)
            else:
                with sdk.chat.completions.stream(model="gpt-4o", messages=MSG,
                                                 tools=TOOLS) as stream:
                    for _ in stream:
                        pass
                    done = stream.get_final_completion()
            calls.append(done.choices[0].message.tool_calls[0].function.arguments)
        except openai.ContentFilterFinishReasonError:
            calls.append(None)
    assert calls == [masked, masked]
    streamed = sdk.chat.completions.create(model="gpt-4o", messages=MSG, tools=TOOLS,
                                           stream=True)
    said = "".join(call.function.arguments or "" for chunk in streamed for choice in chunk.choices
                   for call in choice.delta.tool_calls or ())
    assert said == (masked or "") or (masked is None and "REDACTED" not in said)
    assert str(CARD) not in said


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("arguments", CARD_NUMBERS)
def test_responses_call_arguments_with_a_card_number_are_refused(guard: GuardServer,
                                                                 arguments: str,
                                                                 stream: bool) -> None:
    sdk = client(guard, **{"X-Mock-Tool-Args": arguments})
    if stream:
        events = list(sdk.responses.create(model="gpt-4o", input="hi", stream=True))
        response = events[-1].response  # type: ignore[union-attr]
        said = json.dumps([event.model_dump(mode="json") for event in events])
    else:
        response = sdk.responses.create(model="gpt-4o", input="hi")
        said = response.model_dump_json()
    calls = [item.arguments for item in response.output if item.type == "function_call"]
    assert response.status == "incomplete" and not calls and str(CARD) not in said
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "content_filter"


def test_responses_structured_text_with_a_card_number_is_refused(guard: GuardServer) -> None:
    sdk = client(guard, **replying(json.dumps({"name": "Bob", "card": CARD})))
    response = sdk.responses.parse(model="gpt-4o", input="hi", text_format=Account)
    assert response.status == "incomplete"
    assert "REDACTED" not in json.dumps(response.model_dump(mode="json"))


# JSON a request asks for in a server's own words (vLLM's, on chat and legacy completions)
SCHEMA = Account.model_json_schema()
ASKED_IN_JSON = [
    ("chat", {"guided_json": SCHEMA}),
    ("chat", {"structured_outputs": {"json": SCHEMA}}),
    ("completions", {"response_format": {"type": "json_object"}}),
    ("completions", {"guided_json": SCHEMA}),
]


def answered(sdk: openai.OpenAI, api: str, extra: dict[str, Any], stream: bool
             ) -> tuple[str, list[str | None]]:
    """The text of the first choice an app reads, and the finish reasons."""
    if api == "chat":
        if not stream:
            choice = sdk.chat.completions.create(model="m", messages=MSG,
                                                 extra_body=extra).choices[0]
            return choice.message.content or "", [choice.finish_reason]
        chunks = list(sdk.chat.completions.create(model="m", messages=MSG, stream=True,
                                                  extra_body=extra))
        return ("".join(c.delta.content or "" for k in chunks for c in k.choices),
                [c.finish_reason for k in chunks for c in k.choices if c.finish_reason])
    if not stream:
        done = sdk.completions.create(model="m", prompt="hi", extra_body=extra).choices[0]
        return done.text, [done.finish_reason]
    parts = list(sdk.completions.create(model="m", prompt="hi", stream=True, extra_body=extra))
    return ("".join(c.text for k in parts for c in k.choices),
            [c.finish_reason for k in parts for c in k.choices if c.finish_reason])


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api, extra", ASKED_IN_JSON)
def test_json_asked_for_in_a_servers_own_option_is_refused_not_broken(
        guard: GuardServer, api: str, extra: dict[str, Any], stream: bool) -> None:
    """vLLM's `guided_json`, `structured_outputs` and legacy completions' `response_format`
    ask for JSON too: a card number as a JSON number was masked as prose, and the app got
    `{"card": [REDACTED:pii:card], ...}` (8 of 8). Now refused; a string is still masked."""
    sdk = client(guard, **replying(json.dumps({"name": "Bob", "card": CARD})))
    text, finished = answered(sdk, api, extra, stream)
    assert str(CARD) not in text and "REDACTED" not in text
    assert finished == ["content_filter"]
    sdk = client(guard, **replying(json.dumps({"name": EMAIL, "card": 3})))
    text, _ = answered(sdk, api, extra, stream)
    assert json.loads(text) == {"name": "[REDACTED:pii:email]", "card": 3}


# Anthropic's Messages API: a tool call's `input` is a JSON object (raw httpx: no SDK needed)
ANTHROPIC = {"x-api-key": "k", "anthropic-version": "2023-06-01", "X-Mock-Chunk-Chars": "3"}
TOOL_USE = {"model": "claude-3-5-sonnet-20241022", "max_tokens": 100, "messages": MSG,
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}]}


def tool_input(guard: GuardServer, arguments: str, stream: bool) -> tuple[Any, str, str]:
    """The tool call's input a client reads (None without one), the stop reason, the body."""
    answer = httpx.post(f"{guard.url}/v1/messages", json={**TOOL_USE, "stream": stream},
                        headers={**ANTHROPIC, "X-Mock-Tool-Args": arguments}, timeout=30)
    assert answer.status_code == 200, answer.text
    if not stream:
        body = answer.json()
        calls = [b["input"] for b in body["content"] if b["type"] == "tool_use"]
        return (calls[0] if calls else None), body["stop_reason"], answer.text
    events = [json.loads(line[6:]) for line in answer.text.splitlines()
              if line.startswith("data: {")]
    said = "".join(e["delta"].get("partial_json", "") for e in events
                   if e["type"] == "content_block_delta")
    stop = [e["delta"]["stop_reason"] for e in events if e["type"] == "message_delta"]
    return (json.loads(said) if said else None), stop[-1], answer.text


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("arguments, masked", [
    (f'{{"card": {CARD}}}', None),
    (f'{{"n": [{CARD}], "q": "x"}}', None),
    (json.dumps({"q": EMAIL, "n": 3}), {"q": "[REDACTED:pii:email]", "n": 3}),
])
def test_anthropic_tool_input_numbers_are_read_and_refused(
        guard: GuardServer, arguments: str, masked: Any, stream: bool) -> None:
    """Only the strings of a whole answer's `input` were read: a card as a JSON number reached
    the client raw (3 of 3); streamed, it was masked inside `input_json_delta`, JSON no client
    parses. Now the input is read as its JSON text: a number masked refuses (or cuts) it."""
    given, stop, raw = tool_input(guard, arguments, stream)
    assert str(CARD) not in raw
    if masked is None:
        assert given is None and stop == "refusal"
    else:
        assert given == masked and stop == "tool_use"


# -- usage on answers guard cut or refused -------------------------------------------------------

CUT = {"X-Mock-Reply": urllib.parse.quote("a long answer " * 20 + SECRET + " and more")}


def streamed_usage(chunks: Any) -> tuple[list[int], list[str]]:
    """The usage totals of a stream's chunks, and its finish reasons."""
    got = list(chunks)
    return ([chunk.usage.total_tokens for chunk in got if chunk.usage],
            [choice.finish_reason for chunk in got for choice in chunk.choices
             if choice.finish_reason])


@pytest.mark.parametrize("model, headers", [("gpt-4o", CUT), (PAUSED, {})],
                         ids=["cut", "kill switch"])
def test_a_stream_asked_for_usage_ends_with_it_when_cut_or_refused(
        guard: GuardServer, model: str, headers: dict[str, str]) -> None:
    """A stream cut (or refused by a kill switch in refuse mode) sent no usage chunk, though
    the request asked for one: an app adding up `chunk.usage` found none."""
    sdk = client(guard, **headers)
    chat = sdk.chat.completions.create(model=model, messages=MSG, stream=True,
                                       stream_options={"include_usage": True})
    assert streamed_usage(chat) == ([0], ["content_filter"])
    legacy = sdk.completions.create(model=model, prompt="hi", stream=True,
                                    stream_options={"include_usage": True})
    assert streamed_usage(legacy) == ([0], ["content_filter"])


def test_a_refusal_guard_makes_carries_usage(guard: GuardServer) -> None:
    """A kill switch's refusal had `usage: null`: `resp.usage.total_tokens` raised."""
    sdk = client(guard)
    assert sdk.chat.completions.create(model=PAUSED, messages=MSG).usage.total_tokens == 0
    assert sdk.completions.create(model=PAUSED, prompt="hi").usage.total_tokens == 0
    whole = sdk.responses.create(model=PAUSED, input="hi")
    assert whole.usage is not None and whole.usage.total_tokens == 0


def test_a_cut_responses_stream_carries_usage(guard: GuardServer) -> None:
    events = list(client(guard, **CUT).responses.create(model="gpt-4o", input="hi", stream=True))
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.usage is not None and last.response.usage.total_tokens == 0


# -- the Responses API's stream helper -------------------------------------------------------------

def test_the_responses_stream_helper_gets_a_refuse_mode_switchs_refusal(
        guard: GuardServer) -> None:
    """`responses.stream()` raised a bare RuntimeError ("Didn't receive a `response.completed`
    event") on a refuse-mode kill switch's stream, which ended `incomplete`."""
    with client(guard).responses.stream(model=PAUSED, input="hi") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[-1] == "response.completed" and final.status == "completed"
    refusal = final.output[0].content[0]  # type: ignore[union-attr]
    assert refusal.type == "refusal" and refusal.refusal == "This service is paused: drill"


def test_a_policy_cut_ends_a_responses_stream_incomplete(guard: GuardServer) -> None:
    """A cut ends as OpenAI ends a filtered answer, `response.incomplete` for content_filter
    (the SDK's stream helper raises on it, as on OpenAI's: README, "Stream cut")."""
    events = list(client(guard, **CUT).responses.create(model="gpt-4o", input="hi", stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "content_filter"  # type: ignore
    assert SECRET not in "".join(e.model_dump_json() for e in events)
