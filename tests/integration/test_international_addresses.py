"""E-mail addresses in letters of other scripts (RFC 6531 local parts, IDN domains) are masked
whole by a `pii` redact rule, through a real `guard serve` in front of the stand-in model: in a
prompt (the upstream gets none of the name) and in an answer streamed five characters a chunk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import GuardServer, guard_before_mock, stream_reply, upstream_got, whole_reply

pytestmark = pytest.mark.timeout(120)

POLICY = """
name: default
version: "1"
classifiers:
  pii: {type: pii, entities: [email]}
rules:
  - {name: mask-mail, stage: both, when: {classifier: pii}, action: redact}
"""
ADDRESSES = ["łukasz.wałęsa@example.pl", "Κώστας.Παπαδόπουλος@example.gr", "jan@przykład.pl"]
MASKED = "Write to {0}, {0} or {0} today.".format("[REDACTED:pii:email]")


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardServer]:
    workdir = tmp_path_factory.mktemp("international_addresses")
    policy = workdir / "default.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with guard_before_mock(workdir, policy) as server:
        yield server


def test_an_international_address_in_a_prompt_is_masked_whole(guard: GuardServer) -> None:
    """From a probe: `łukasz.wał` reached the model in clear, the Greek and IDN ones whole."""
    prompt = "Write to {}, {} or {} today.".format(*ADDRESSES)
    whole_reply(guard.url, "ok", prompt=prompt)
    assert upstream_got(guard, MASKED)
    for part in ("łukasz", "Κώστας", "Παπαδόπουλος", "przykład"):
        assert not upstream_got(guard, part), part


def test_an_international_address_in_a_streamed_answer_is_masked_whole(guard: GuardServer) -> None:
    """The same addresses in an answer sent five characters a chunk reach the client masked."""
    text, _ = stream_reply(guard.url, "Write to {}, {} or {} today.".format(*ADDRESSES),
                           **{"X-Mock-Chunk-Chars": "5"})
    assert text == MASKED
