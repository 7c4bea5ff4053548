"""A pass-through template that takes any path (`/v1/{tail:.*}`) in front of an upstream that
routes as uvicorn (vLLM, SGLang, LiteLLM) and gin (Ollama) do, on the decoded path: no other
spelling of a guarded route reaches it, and plain pass-through paths still do."""

from __future__ import annotations

import asyncio
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest
from aiohttp import web

from tests.support import GuardServer, sent_raw

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


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DecodingUpstream,
                                                                      GuardServer]]:
    upstream = DecodingUpstream()
    ready = threading.Event()
    thread = threading.Thread(target=upstream.run, args=(ready,))
    thread.start()
    ready.wait(10)
    guard = GuardServer(tmp_path_factory.mktemp("passthrough"), {
        "upstreams": {"default": {"url": f"http://127.0.0.1:{upstream.port}"}},
        "passthrough": ["/v1/{tail:.*}"], "policies": str(POLICIES)})
    try:
        guard.start()
        yield upstream, guard
    finally:
        guard.stop()
        upstream.loop.call_soon_threadsafe(upstream.loop.stop)
        thread.join(10)


CHAT_BODY = {"model": "m", "messages": [{"role": "user", "content": "keep this: " + TOKEN}]}


def test_an_encoded_slash_sent_by_the_sdk_is_refused(
        stack: tuple[DecodingUpstream, GuardServer]) -> None:
    """From a probe: `client.post("/chat%2Fcompletions")` was forwarded uninspected, served as
    the chat route, the token in its prompt and in its answer passing both ways."""
    upstream, guard = stack
    client = openai.OpenAI(base_url=f"{guard.url}/v1", api_key="k", max_retries=0)
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
    "/v1/chat/completions/chatcmpl-1", "/v1/files/a%20b"])
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
