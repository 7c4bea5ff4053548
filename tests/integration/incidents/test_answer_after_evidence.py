"""An answer reaches its client only once the incidents it made are written: guard's data app on
real sockets, with the real recorder and journal, in front of the stand-in model, the openai SDK
as client, and the journal's disk writes held back as a stalled disk would hold them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from guard.app import build_components, data_runner
from guard.config import Settings, UpstreamSettings
from guard.incidents.query import Query
from guard.incidents.reader import JournalReader
from guard.mock_upstream import build_app
from tests.support import apps_serving, free_port
from tests.unit.incidents.test_incident_recorder import stalled_journal

pytestmark = pytest.mark.timeout(60)

POLICY = """
name: default
version: "t1"
classifiers:
  secrets: {type: secrets}
  pii: {type: pii, entities: [email]}
rules:
  - {name: no-secrets, stage: prompt, when: {classifier: secrets}, action: block,
     severity: critical, category: secrets}
  - {name: pii-mask, stage: completion, when: {classifier: pii}, action: redact,
     severity: medium, category: pii}
  - {name: pii-in-prompts, stage: prompt, when: {classifier: pii}, action: flag, mode: shadow,
     severity: low, category: pii}
streaming: {mode: buffered, check_chars: 16, max_holdback_ms: 250}
"""


@pytest.fixture
async def guard_url(tmp_path: Path) -> AsyncIterator[str]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(POLICY)
    upstream_port, port = free_port(), free_port()
    components = build_components(Settings(
        listen=f"127.0.0.1:{port}", admin_listen=f"127.0.0.1:{free_port()}",
        state_dir=tmp_path / "state", policies=policies,
        upstreams={"default": UpstreamSettings(url=f"http://127.0.0.1:{upstream_port}")}))
    async with apps_serving((build_app(chunk_chars=4), upstream_port),
                            (data_runner(components), port)):
        yield f"http://127.0.0.1:{port}"


def client(url: str, reply: str = "fine") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-client", max_retries=0,
                              default_headers={"X-Mock-Reply": urllib.parse.quote(reply)})


def journal(tmp_path: Path) -> list[dict[str, object]]:
    return JournalReader(tmp_path / "state").query_now(Query(limit=100))


async def test_a_block_is_answered_after_its_incident_is_written(
        guard_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 400 for a prompt carrying a key waits while the journal cannot be written, and its
    incident is in the journal when it arrives; a clean request meanwhile does not wait."""
    with stalled_journal(monkeypatch) as (writing, release):
        async with client(guard_url) as sdk:
            blocked = asyncio.create_task(sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "key AKIAQYLPMN5HHHFPZAM2"}]))
            await asyncio.wait_for(asyncio.to_thread(writing.wait, 10), 11)
            clean = await asyncio.wait_for(sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hello"}]), 5)
            assert clean.choices[0].message.content == "fine"
            await asyncio.sleep(0.3)
            assert not blocked.done() and journal(tmp_path) == []
            release.set()
            with pytest.raises(openai.BadRequestError) as refused:
                await asyncio.wait_for(blocked, 10)
    incident_id = refused.value.response.headers["X-Guard-Incident-Id"]
    assert [i["id"] for i in journal(tmp_path)] == [incident_id]


async def test_a_redacted_stream_goes_on_after_its_incident_is_written(
        guard_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A streamed answer whose text was masked sends the masked text only once the incident is
    in the journal."""
    text: list[str] = []
    reply = "Write to jane.doe@example.com about the plan for Monday."
    with stalled_journal(monkeypatch) as (writing, release):
        async with client(guard_url, reply) as sdk:
            stream = await sdk.chat.completions.create(
                model="m", stream=True, messages=[{"role": "user", "content": "who?"}])

            async def read() -> None:
                async for chunk in stream:
                    text.extend(c.delta.content or "" for c in chunk.choices)

            reading = asyncio.create_task(read())
            await asyncio.wait_for(asyncio.to_thread(writing.wait, 10), 11)
            await asyncio.sleep(0.3)
            assert not reading.done() and "[REDACTED" not in "".join(text)
            release.set()
            await asyncio.wait_for(reading, 10)
    assert "[REDACTED:pii:email]" in "".join(text)
    assert [i["action"] for i in journal(tmp_path)] == ["redact"]


async def test_a_stream_names_its_prompt_incident_only_once_it_is_written(
        guard_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream's headers carry the prompt's incident id (a shadow flag here): they are sent
    once that incident is in the journal."""
    with stalled_journal(monkeypatch) as (writing, release):
        async with client(guard_url) as sdk:
            opening = asyncio.create_task(sdk.chat.completions.with_raw_response.create(
                model="m", stream=True,
                messages=[{"role": "user", "content": "mail me at joe.bloggs@example.org"}]))
            await asyncio.wait_for(asyncio.to_thread(writing.wait, 10), 11)
            await asyncio.sleep(0.3)
            assert not opening.done()
            release.set()
            raw = await asyncio.wait_for(opening, 10)
            incident_id = raw.headers["X-Guard-Incident-Id"]
            await raw.parse().close()
    assert incident_id in [i["id"] for i in journal(tmp_path)]


async def test_content_hash_is_of_the_request_texts_joined_as_docs_say(
        guard_url: str, tmp_path: Path) -> None:
    """From a docs probe: docs/incidents.md said `content_hash` was of "the text" and matched a
    reported message alone, while it is of every text of the request (system prompt and
    earlier turns too) joined by newlines; the docs now say so, and this pins it."""
    system, asked = "Be brief.", "my key is AKIAIOSFODNN7EXAMPLE"
    async with client(guard_url) as sdk:
        with pytest.raises(openai.BadRequestError):
            await sdk.chat.completions.create(model="m", messages=[
                {"role": "system", "content": system}, {"role": "user", "content": asked}])
    [incident] = journal(tmp_path)
    key = (tmp_path / "state" / "incident-hash.key").read_bytes()
    whole = hmac.new(key, f"{system}\n{asked}".encode(), hashlib.sha256).hexdigest()
    assert incident["content_hash"] == f"hmac-sha256:{whole}"
