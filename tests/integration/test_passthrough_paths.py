"""Pass-through templates that take any path (`/v1/{tail:.*}`, `/{tail:.*}`) in front of an
upstream that routes as uvicorn (vLLM, SGLang, LiteLLM) and gin (Ollama) do, on the decoded path:
no other spelling of a guarded route reaches it, nor another server's model route (LiteLLM's
`/chat/completions`, Ollama's `/api/chat`, TGI's `/generate`...), and plain pass-through paths
still do."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from aiohttp import web

from tests.support import GuardServer, closed_after_test, sent_raw

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"  # a GitHub token's shape: blocked


class DecodingUpstream:
    """An upstream reading each path as lenient servers do (decoded, `;params` and empty
    segments dropped, any case), serving its chat route on that reading; it notes every path."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def serve(self, request: web.Request) -> web.Response:
        self.paths.append(request.raw_path)
        read = "/".join(segment.partition(";")[0] for segment in
                        urllib.parse.unquote(request.raw_path).replace("\\", "/").split("/")
                        if segment.partition(";")[0]).casefold()
        if read == "v1/chat/completions":
            return web.json_response({
                "id": "c", "object": "chat.completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "the key: " + TOKEN}}]})
        return web.json_response({"object": "list", "data": [], "read": read})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.serve)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.start())
        ready.set()
        self.loop.run_forever()
        assert self.runner is not None
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()


def guarded_upstream(where: Path, passthrough: list[str]) -> Iterator[tuple[DecodingUpstream,
                                                                           GuardServer]]:
    """A decoding upstream, and guard in front of it passing `passthrough` through."""
    upstream = DecodingUpstream()
    ready = threading.Event()
    thread = threading.Thread(target=upstream.run, args=(ready,))
    thread.start()
    ready.wait(10)
    guard = GuardServer(where, {
        "upstreams": {"default": {"url": f"http://127.0.0.1:{upstream.port}"}},
        "passthrough": passthrough, "policies": str(POLICIES)})
    try:
        guard.start()
        yield upstream, guard
    finally:
        guard.stop()
        upstream.loop.call_soon_threadsafe(upstream.loop.stop)
        thread.join(10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DecodingUpstream,
                                                                      GuardServer]]:
    yield from guarded_upstream(tmp_path_factory.mktemp("passthrough"),
                                ["/v1/{tail:.*}", "/{tail:.*}"])


CHAT_BODY = {"model": "m", "messages": [{"role": "user", "content": "keep this: " + TOKEN}]}


def test_an_encoded_slash_sent_by_the_sdk_is_refused(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """From a probe: `client.post("/chat%2Fcompletions")` was forwarded uninspected, served as
    the chat route, the token in its prompt and in its answer passing both ways."""
    upstream, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    before = len(upstream.paths)
    with pytest.raises(openai.BadRequestError) as refused:
        client.post("/chat%2Fcompletions", body=CHAT_BODY, cast_to=object)
    assert refused.value.code == "invalid_path"
    assert "encoded separator" in refused.value.message
    assert len(upstream.paths) == before


@pytest.mark.parametrize("path", [
    "/v1/chat%2Fcompletions", "/v1/chat%2fcompletions", "/v1/chat%252Fcompletions",
    "/v1/chat%5Ccompletions", "/v1/chat%5ccompletions", "/v1/chat\\completions",
    "/v1/chat;x/completions", "/v1/chat/completions;x", "/v1/chat/completions%00",
    "/v1//chat/completions", "/v1/chat//completions", "/v1/chat/completions/",
    "/v1/Chat/Completions", "/v1/CHAT/completions", "/v1/%63hat/completions/",
    "/v1/Responses", "/v1/messages/", "/v1/files/..;x/chat/completions"])
def test_other_spellings_of_a_guarded_route_are_refused(
        stack: tuple[DecodingUpstream, GuardServer], path: str) -> None:
    """Each spelling an upstream reads as a guarded route is a 400 `invalid_path` naming why,
    and nothing reaches the upstream."""
    upstream, guard = stack
    before = len(upstream.paths)
    status, payload = sent_raw(guard, path, orjson.dumps(CHAT_BODY))
    assert status.startswith(b"HTTP/1.1 400"), (status, payload)
    error = orjson.loads(payload)["error"]
    assert error["code"] == "invalid_path" and error["message"]
    assert TOKEN.encode() not in payload
    assert len(upstream.paths) == before


@pytest.mark.parametrize("path", [
    "/v1/models", "/v1/files/abc", "/v1/files/File-ABC/content", "/v1/embeddings",
    "/v1/chat/completions/chatcmpl-1/messages", "/v1/files/a%20b"])
def test_plain_pass_through_paths_still_reach_the_upstream(
        stack: tuple[DecodingUpstream, GuardServer], path: str) -> None:
    """A path that reads the same to every server, under a guarded route or not, is forwarded
    as it was sent."""
    upstream, guard = stack
    status, payload = sent_raw(guard, path, b"{}")
    assert status.startswith(b"HTTP/1.1 200"), (status, payload)
    assert upstream.paths[-1] == path


def test_the_guarded_route_itself_still_reads_the_prompt(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """The route spelled plainly is inspected: the token in the prompt is refused."""
    upstream, guard = stack
    before = len(upstream.paths)
    status, _ = sent_raw(guard, "/v1/chat/completions", orjson.dumps(CHAT_BODY))
    assert status.startswith(b"HTTP/1.1 400")
    assert len(upstream.paths) == before


# From a probe: through `/{tail:.*}`, each of these was forwarded with a token in its prompt,
# unread (8 of 8 of the probe's); the servers named serve each as a model's answer.
MODEL_ROUTES = {
    "/chat/completions": "/v1/chat/completions",                       # LiteLLM, llama.cpp
    "/completions": "/v1/completions",                                 # LiteLLM, llama.cpp
    "/responses": "/v1/responses",                                     # LiteLLM
    "/engines/m/chat/completions": "/v1/chat/completions",             # LiteLLM
    "/engines/org/m/completions": "/v1/completions",                   # LiteLLM ({model:path})
    "/openai/deployments/m/chat/completions": "/v1/chat/completions",  # LiteLLM (Azure's shape)
    "/openai/v1/chat/completions": "/v1/chat/completions",             # Azure, Groq
    "/api/v0/chat/completions": "/v1/chat/completions",                # LM Studio
    "/anthropic/v1/messages": "/v1/messages",                          # LiteLLM
    "/invocations": "/v1/chat/completions",                            # vLLM, SGLang (SageMaker)
    "/api/chat": "/v1/chat/completions",                               # Ollama
    "/api/generate": "/v1/completions",                                # Ollama
    "/generate": "/v1/completions",                                    # TGI, SGLang, vLLM
    "/generate_stream": "/v1/completions",                             # TGI
    "/completion": "/v1/completions",                                  # llama.cpp
    "/infill": "/v1/completions",                                      # llama.cpp
    "/": "/v1/completions",                                            # TGI (POST)
    "/API/Chat": "/v1/chat/completions",                               # in any case
    "/api//generate/": "/v1/completions",                              # as servers read it
    "/v1/engines/m/chat/completions": "/v1/chat/completions",          # under /v1/ too
    # from a re-probe: forwarded through /v1/{tail:.*} or /{tail:.*} with the token (7 of 7)
    "/v1/chat": "/v1/chat/completions",                                # Cohere, LiteLLM
    "/v2/chat": "/v1/chat/completions",                                # Cohere
    "/cohere/v1/chat": "/v1/chat/completions",                         # LiteLLM
    "/bedrock/model/m/converse": "/v1/chat/completions",               # LiteLLM (Bedrock)
    "/model/m/invoke": "/v1/chat/completions",                         # Bedrock
    "/model/m/converse-stream": "/v1/chat/completions",                # Bedrock
    "/api/extra/generate/stream": "/v1/completions",                   # KoboldCpp
    "/v1/complete": "/v1/messages",                                    # Anthropic's legacy
    "/anthropic/v1/complete": "/v1/messages",                          # LiteLLM
}


@pytest.mark.parametrize(("path", "like"), MODEL_ROUTES.items())
def test_other_servers_model_routes_are_refused(
        stack: tuple[DecodingUpstream, GuardServer], path: str, like: str) -> None:
    """A model route of a common server, which a broad template would forward with its prompt
    and answer unread, is a 400 `invalid_path` naming the guarded route it resembles."""
    upstream, guard = stack
    before = len(upstream.paths)
    status, payload = sent_raw(guard, path, orjson.dumps(CHAT_BODY))
    assert status.startswith(b"HTTP/1.1 400"), (status, payload)
    error = orjson.loads(payload)["error"]
    assert error["code"] == "invalid_path"
    assert error["message"].endswith(f"ask {like}")
    assert TOKEN.encode() not in payload
    assert len(upstream.paths) == before


@pytest.mark.parametrize("path", [
    "/v1beta/models/gemini-pro:generateContent", "/gemini/v1beta/models/g:streamGenerateContent",
    "/models/m:generateContent", "/v1/models/gemini-pro:generateContent"])
def test_gemini_routes_are_refused(stack: tuple[DecodingUpstream, GuardServer], path: str) -> None:
    """From a re-probe: LiteLLM's Gemini routes (`/v1beta/models/{model}:generateContent`)
    were forwarded through `/{tail:.*}` with a token in the prompt, unread."""
    upstream, guard = stack
    before = len(upstream.paths)
    status, payload = sent_raw(guard, path, orjson.dumps(CHAT_BODY))
    assert status.startswith(b"HTTP/1.1 400"), (status, payload)
    assert "Gemini's API" in orjson.loads(payload)["error"]["message"]
    assert len(upstream.paths) == before


def test_an_sdk_whose_base_url_lacks_v1_is_refused(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """The openai SDK with `base_url` without /v1 asks `/chat/completions`: refused, not
    forwarded through `/{tail:.*}` to a LiteLLM that serves it."""
    upstream, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=guard.url, api_key="k", max_retries=0))
    before = len(upstream.paths)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="m", messages=CHAT_BODY["messages"])  # type: ignore[arg-type]
    assert refused.value.code == "invalid_path"
    assert "/v1/chat/completions" in refused.value.message
    assert len(upstream.paths) == before


def forwarded_as_sent(stack: tuple[DecodingUpstream, GuardServer], method: str,
                      path: str) -> None:
    """`method` `path` (a POST with an empty JSON object) answered by the upstream, which saw
    the path as sent."""
    upstream, guard = stack
    answer = httpx.request(method, guard.url + path, json={} if method == "POST" else None)
    assert answer.status_code == 200, answer.text
    assert upstream.paths[-1] == path


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/health"), ("GET", "/"), ("HEAD", "/"), ("GET", "/api/tags"),
    ("POST", "/api/embed"), ("POST", "/tokenize"), ("DELETE", "/v1/chat/completions/chatcmpl-1"),
    ("GET", "/v1/chat/completions/chatcmpl-1/messages"), ("POST", "/v1/threads/t/messages"),
    # from a re-probe: refused as model routes (400 invalid_path), they run no model
    ("POST", "/v1/uploads/upload_abc/complete"),      # uploads.complete, not Anthropic's
    ("GET", "/v1/organization/usage/completions"),    # the Usage API
    ("GET", "/v1/files/completions.jsonl"), ("DELETE", "/v1/files/completions.jsonl"),
    ("GET", "/v1/files/responses.json"), ("GET", "/v1/containers/c/files/generate.py"),
    ("GET", "/v1/files/invocations.csv")])  # files whose stem is a route's word
def test_other_paths_a_broad_template_takes_still_reach_the_upstream(
        stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    """A path that runs no model, asked as its API asks it, is forwarded as it was sent."""
    forwarded_as_sent(stack, method, path)


def test_a_template_beyond_v1_is_warned_of_at_start(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    _, guard = stack
    [warning] = [json.loads(line) for line in guard.output().splitlines()
                 if '"passthrough_beyond_v1"' in line]
    assert warning["level"] == "warning"
    assert warning["detail"].startswith("passthrough /{tail:.*} matches paths outside /v1/")


def _runs_a_model(client: openai.OpenAI, anthropic_client: anthropic.Anthropic) -> dict[str, Any]:
    """SDK calls that run a model on a prompt guard does not read, the token in each."""
    messages: Any = CHAT_BODY["messages"]
    return {
        "batches.create": lambda: client.batches.create(
            input_file_id="file-1", endpoint="/v1/chat/completions", completion_window="24h",
            metadata={"note": TOKEN}),
        "beta.threads.create_and_run": lambda: client.beta.threads.create_and_run(
            assistant_id="asst_1", thread={"messages": messages}),
        "beta.threads.runs.create": lambda: client.beta.threads.runs.create(
            "thread_1", assistant_id="asst_1", additional_instructions=TOKEN),
        "beta.threads.runs.submit_tool_outputs": lambda: (
            client.beta.threads.runs.submit_tool_outputs(
                "run_1", thread_id="thread_1", tool_outputs=[{"tool_call_id": "c", "output": TOKEN}])),
        "audio.speech.create": lambda: client.audio.speech.create(
            model="gpt-4o-mini-tts", voice="alloy", input=TOKEN),
        "images.generate": lambda: client.images.generate(prompt=TOKEN),
        "responses.compact": lambda: client.responses.compact(model="m", input=TOKEN),
        "anthropic messages.batches.create": lambda: anthropic_client.messages.batches.create(
            requests=[{"custom_id": "1", "params": {"model": "m", "max_tokens": 5,
                                                     "messages": messages}}]),
        # stored upstream, then read by the model when a guarded request names it
        "conversations.create": lambda: client.conversations.create(items=messages),
        "conversations.items.create": lambda: client.conversations.items.create(
            "conv_1", items=messages),
        "beta.chatkit.sessions.create": lambda: client.beta.chatkit.sessions.create(
            user=TOKEN, workflow={"id": "wf_1"}),
        "anthropic beta.skills.create": lambda: anthropic_client.beta.skills.create(
            files=[("s/SKILL.md", SKILL)]),
        "anthropic beta.skills.versions.create": lambda: (
            anthropic_client.beta.skills.versions.create("skill_1", files=[("s/SKILL.md", SKILL)])),
    }


SKILL = f"---\nname: s\ndescription: d\n---\nAlways say {TOKEN}\n".encode()


@pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning")
@pytest.mark.parametrize("call", list(_runs_a_model(openai.OpenAI(api_key="k"),
                                                    anthropic.Anthropic(api_key="k"))))
def test_apis_that_run_a_model_on_what_guard_does_not_read_are_refused(
        stack: tuple[DecodingUpstream, GuardServer], call: str) -> None:
    """From a probe: through `/v1/{tail:.*}` (or `/v1/batches`, `/v1/threads/{tail:.*}`,
    `/v1/audio/{tail:.*}`), a batch, an Assistants run and a speech request each reached the
    upstream with a token the chat route refuses (4 of 4), and `serve --check` warned of none.
    From a re-probe: a conversation's items and an Anthropic skill, holding a token, were
    forwarded (200) and then read by the model through `POST /v1/responses` naming the
    conversation, `/v1/messages` naming the skill; a ChatKit session's key was handed out."""
    upstream, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    anthropic_client = closed_after_test(anthropic.Anthropic(base_url=guard.url, api_key="k",
                                                             max_retries=0))
    before = len(upstream.paths)
    with pytest.raises((openai.BadRequestError, anthropic.BadRequestError)) as refused:
        _runs_a_model(client, anthropic_client)[call]()
    error: Any = refused.value.body  # the openai SDK's is the error, anthropic's holds it
    assert error.get("error", error)["code"] == "invalid_path"
    assert "a model runs on a prompt guard does not read" in refused.value.message or (
        "ask /v1/responses" in refused.value.message)
    assert len(upstream.paths) == before


SUFFIXES = [".", "..", "%2e", "%20", "%3F", "%3Fx=1", "%23", ".json", "~", "%09"]


@pytest.mark.parametrize("path", [
    base + suffix for base in ("/v1/batches", "/v1/audio/speech", "/v1/threads/t1/runs",
                               "/v1/messages/batches", "/v1/images/generations")
    for suffix in SUFFIXES] + ["/v1/chat/completions.json", "/v1/chat/completions%3F",
                               "/v1/responses~", "/v1/files/a%20",
                               "/v1/chat/completions/chatcmpl-1.json"])
def test_suffixed_spellings_of_refused_routes_are_refused(
        stack: tuple[DecodingUpstream, GuardServer], path: str) -> None:
    """From a re-probe: through `/v1/{tail:.*}`, 40 of 50 refused routes spelled with a suffix
    (a trailing `.`, `%20`, `%3F`, `%23`, `.json`, `~`) were forwarded with a token in the
    prompt: IIS trims trailing dots and spaces, Spring's suffix matching takes `.json`, a proxy
    that decodes `%3F` reads the path as ending there, each reaching the refused route."""
    upstream, guard = stack
    before = len(upstream.paths)
    status, payload = sent_raw(guard, path, orjson.dumps(CHAT_BODY))
    assert status.startswith(b"HTTP/1.1 400"), (status, payload)
    assert orjson.loads(payload)["error"]["code"] == "invalid_path"
    assert len(upstream.paths) == before


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/models/gpt-4.1"), ("GET", "/v1/models/ft:gpt-4o:org:custom:id"),
    ("GET", "/v1/files/batch.jsonl"), ("POST", "/v1/files/file-1.2/content"),
    ("GET", "/v1/batches/batch_1.json"),
    ("POST", "/v1/embeddings.json")])
def test_ids_and_paths_holding_dots_still_pass(
        stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    forwarded_as_sent(stack, method, path)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/batches", "/v1/models/gpt-4o"])
@pytest.mark.parametrize(("headers", "query"), [
    ({"X-HTTP-Method-Override": "POST"}, ""), ({"X-Method-Override": "POST"}, ""),
    ({"x-http-method": "POST"}, ""), ({}, "?_method=POST"), ({}, "?_METHOD=POST")])
def test_a_method_override_on_a_pass_through_request_is_refused(
        stack: tuple[DecodingUpstream, GuardServer], path: str, headers: dict[str, str],
        query: str) -> None:
    """From a re-probe: through `/v1/{tail:.*}`, `GET /v1/batches` (and the stored-completions
    list, a model's entry) with `X-HTTP-Method-Override: POST` or `?_method=POST` and a chat
    body holding a token reached the upstream with both (12 of 12): one that honours the
    override runs `POST /v1/batches`, which guard refuses."""
    upstream, guard = stack
    before = len(upstream.paths)
    answer = httpx.request("GET", guard.url + path + query, headers=headers,
                           content=orjson.dumps(CHAT_BODY) if query else None)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "method_override"
    assert len(upstream.paths) == before


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/chat/completions"), ("GET", "/v1/batches"), ("GET", "/v1/models/gpt-4o"),
    ("GET", "/v1/models"), ("DELETE", "/v1/files/file-1"), ("HEAD", "/v1/files/file-1")])
def test_a_body_on_a_pass_through_get_head_or_delete_is_refused(
        stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    """From a re-probe: a GET carrying a chat body with a token was forwarded, body and all,
    for an upstream that reads the method from elsewhere (an override guard did not see) to
    run."""
    upstream, guard = stack
    before = len(upstream.paths)
    answer = httpx.request(method, guard.url + path, content=orjson.dumps(CHAT_BODY))
    assert answer.status_code == 400, answer.text
    if method != "HEAD":
        assert answer.json()["error"]["code"] == "invalid_request"
    assert len(upstream.paths) == before
    assert httpx.request(method, guard.url + path).status_code == 200  # without one, it passes


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/batches"), ("GET", "/v1/batches/batch_1"), ("POST", "/v1/batches/batch_1/cancel"),
    ("GET", "/v1/messages/batches/b_1/results"), ("GET", "/v1/threads/thread_1/runs"),
    ("POST", "/v1/messages/count_tokens"), ("POST", "/v1/audio/transcriptions")])
def test_the_bookkeeping_of_those_apis_still_passes(
        stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    """Listing, fetching and cancelling batches and runs run no model: forwarded as listed."""
    forwarded_as_sent(stack, method, path)


@pytest.mark.parametrize(("route", "method"), [
    (route, method) for route in ("/v1/chat/completions", "/v1/completions", "/v1/responses",
                                  "/v1/messages")
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "GET")
    if (route, method) != ("/v1/chat/completions", "GET")])  # the next test's
def test_a_guarded_route_asked_with_another_method_is_405_before_any_template(
        stack: tuple[DecodingUpstream, GuardServer], route: str, method: str) -> None:
    """From a probe: through `/v1/{tail:.*}`, PUT and PATCH /v1/chat/completions were forwarded
    with the chat body unread, and GET, DELETE, OPTIONS and HEAD forwarded, where the README
    promised 405 with `Allow`. (`GET /v1/chat/completions`, the list of stored completions, is
    forwarded on purpose: warned of, below.)"""
    upstream, guard = stack
    before = len(upstream.paths)
    answer = httpx.request(method, guard.url + route,
                           content=None if method in ("GET", "HEAD") else orjson.dumps(CHAT_BODY))
    assert answer.status_code == 405, answer.text
    allowed = {"GET", "POST"} if route == "/v1/chat/completions" else {"POST"}
    assert {method.strip() for method in answer.headers["Allow"].split(",")} == allowed
    if method != "HEAD":
        assert answer.json()["error"]["code"] == "method_not_allowed"
    assert len(upstream.paths) == before


def test_the_list_of_stored_completions_passes_where_a_template_matches_it(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """`client.chat.completions.list()` (`GET /v1/chat/completions`) is forwarded under
    `/v1/{tail:.*}`, as the warning of a template under a guarded route says."""
    upstream, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    assert list(client.chat.completions.list()) == []
    assert upstream.paths[-1] == "/v1/chat/completions"


def test_the_list_of_stored_completions_is_counted_under_its_template(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """From a re-probe: the forwarded list counted as guard_requests_total{route=
    "/v1/chat/completions"}, with the completions guard reads; now under the template that
    forwards it, as any path it takes."""
    _, guard = stack
    guarded = guard.metric("guard_requests_total", route="/v1/chat/completions")
    listed = guard.metric("guard_requests_total", route="/v1/{tail:.*}")
    for _ in range(5):
        assert httpx.get(guard.url + "/v1/chat/completions?limit=100").status_code == 200
    assert guard.metric("guard_requests_total", route="/v1/chat/completions") == guarded
    assert guard.metric("guard_requests_total", route="/v1/{tail:.*}") == listed + 5


def readme_passthrough_example() -> list[str]:
    """The templates README's settings table gives as `passthrough:`'s example."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `passthrough` |")]
    example = row.split("(aiohttp templates, ", 1)[1].split(";", 1)[0]
    return [part.strip(" `") for part in example.split(",")]


@pytest.fixture(scope="module")
def example_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DecodingUpstream,
                                                                              GuardServer]]:
    yield from guarded_upstream(tmp_path_factory.mktemp("example"), readme_passthrough_example())


SDK_CALLS: dict[str, tuple[Any, str]] = {
    "files.create": (lambda client: client.files.create(file=("a.jsonl", b"{}\n"),
                                                        purpose="batch"), "/v1/files"),
    "files.list": (lambda client: client.files.list(), "/v1/files"),
    "files.retrieve": (lambda client: client.files.retrieve("file-1"), "/v1/files/file-1"),
    "files.content": (lambda client: client.files.content("file-1"), "/v1/files/file-1/content"),
    "models.retrieve": (lambda client: client.models.retrieve("gpt-4o"), "/v1/models/gpt-4o"),
    "models.list": (lambda client: client.models.list(), "/v1/models")}


@pytest.mark.parametrize("name", SDK_CALLS)
def test_the_readme_example_serves_the_sdks_files_calls(
        example_stack: tuple[DecodingUpstream, GuardServer], name: str) -> None:
    """From a probe: through README's example, `/v1/files/{tail:.*}`, files.create and files.list
    (`/v1/files`) answered 404, as did models.retrieve (`/v1/models/{model}`) by default."""
    upstream, guard = example_stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    call, path = SDK_CALLS[name]
    call(client)
    assert upstream.paths[-1] == path



@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/batches"), ("POST", "/v1/audio/speech"), ("GET", "/v1/realtime"),
    ("POST", "/v1/responses/compact"), ("POST", "/v1/messages/batches"),
    ("POST", "/v1/conversations"), ("POST", "/api/chat")])
def test_a_404_for_a_refused_route_says_listing_it_does_not_help(
        example_stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    """From a re-probe: unlisted, these answered 404 "list it under `passthrough:` to forward
    it" (`/v1/responses/compact` a 405 naming GET and DELETE), where listing them gets a 400."""
    _, guard = example_stack
    answer = httpx.request(method, guard.url + path, json={} if method == "POST" else None)
    assert answer.status_code == 404, answer.text
    message = answer.json()["error"]["message"]
    assert f"guard refuses {method} {path} whatever `passthrough:` lists" in message, message
    assert "list it under" not in message


def test_counting_tokens_and_listing_batches_are_told_listing_works(
        example_stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """From a re-probe: `responses.input_tokens.count` answered 405 `Allow: DELETE, GET` (a
    stored response's route took `input_tokens` for an id), and Anthropic's
    `messages.count_tokens` and `messages.batches.list` a 404 saying such paths keep answers
    that would reach the client unread. Each keeps none: listing it forwards it."""
    _, guard = example_stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    anthropic_client = closed_after_test(anthropic.Anthropic(base_url=guard.url, api_key="k",
                                                             max_retries=0))
    calls = [lambda: client.responses.input_tokens.count(model="m", input="hi"),
             lambda: anthropic_client.messages.count_tokens(
                 model="m", messages=[{"role": "user", "content": "hi"}]),
             anthropic_client.messages.batches.list]
    for call in calls:
        with pytest.raises((openai.NotFoundError, anthropic.NotFoundError)) as unrouted:
            call()
        assert "list it under `passthrough:`" in unrouted.value.message, unrouted.value.message


def test_counting_a_responses_prompt_passes_where_listed(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    upstream, guard = stack
    client = closed_after_test(openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0))
    client.responses.input_tokens.count(model="m", input="hi")
    assert upstream.paths[-1] == "/v1/responses/input_tokens"


def sent_chunked(guard: GuardServer, method: str, path: str, chunks: list[bytes]) -> bytes:
    """`method path` with a body sent `Transfer-Encoding: chunked` (`chunks`, then the last, empty
    one), written by hand: the status line."""
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", guard.port)) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/files"), ("DELETE", "/v1/files/file-1"),
    ("DELETE", "/v1/chat/completions/chatcmpl-1")])
def test_an_empty_chunked_body_on_a_get_or_delete_is_no_body(
        stack: tuple[DecodingUpstream, GuardServer], method: str, path: str) -> None:
    """From a re-probe: a GET or DELETE sent `Transfer-Encoding: chunked` with no byte in it
    (as some HTTP clients send one) was refused, 400 "takes no body"; it is forwarded, and a
    chunked body of one byte or more is still refused."""
    upstream, guard = stack
    assert sent_chunked(guard, method, path, []).startswith(b"HTTP/1.1 200")
    assert upstream.paths[-1] == path
    before = len(upstream.paths)
    assert sent_chunked(guard, method, path, [orjson.dumps(CHAT_BODY)]).startswith(
        b"HTTP/1.1 400")
    assert len(upstream.paths) == before
