"""`guard mock-upstream` answers a bad parameter as OpenAI does: 400 with a JSON error."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import MockUpstream


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockUpstream]:
    server = MockUpstream(tmp_path_factory.mktemp("mock"))
    server.start()
    yield server
    server.stop()


def post(mock: MockUpstream, path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
    request = urllib.request.Request(f"{mock.url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


CHAT = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/chat/completions", {**CHAT, "n": "two"}, "n"),
    ("/v1/completions", {"model": "x", "n": [1], "prompt": "hi"}, "n"),
    ("/v1/chat/completions", {**CHAT, "n": True}, "n"),
    ("/v1/chat/completions", {**CHAT, "n": 0}, "n"),
    ("/v1/chat/completions", {**CHAT, "stream": True, "stream_options": "x"}, "stream_options"),
])
def test_a_bad_parameter_is_a_400_in_openais_error_shape(
        mock: MockUpstream, path: str, body: dict[str, Any], param: str) -> None:
    """From a probe: `n` "two" or [1], or `stream_options` "x", crashed the handler into
    aiohttp's text/plain 500 ("Server got itself in trouble"), which guard passes on; a client
    of the real API gets a 400 naming the parameter."""
    status, kind, raw = post(mock, path, body)
    assert status == 400 and kind.startswith("application/json"), (status, kind, raw)
    error = json.loads(raw)["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert f"'{param}'" in error["message"], error


def test_good_values_still_answer(mock: MockUpstream) -> None:
    """`n` null or 2 and `stream_options` null or an object are answered as before."""
    assert post(mock, "/v1/chat/completions", {**CHAT, "n": None})[0] == 200
    status, _, raw = post(mock, "/v1/chat/completions", {**CHAT, "n": 2})
    assert status == 200 and len(json.loads(raw)["choices"]) == 2
    assert post(mock, "/v1/chat/completions",
                {**CHAT, "stream": True, "stream_options": None})[0] == 200
    assert post(mock, "/v1/chat/completions",
                {**CHAT, "stream": True, "stream_options": {"include_usage": True}})[0] == 200
