"""Property tests: policy loading on arbitrary YAML raises nothing but PolicyError, and the stream
guard takes any sequence of upstream events without an exception, keeping the SSE framing."""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from guard.errors import PolicyError, UpstreamError
from guard.policy.loader import load_policy_file
from guard.proxy.protocols import DIALECTS
from guard.proxy.sse import SSEParser, encode_event, parse_event
from guard.proxy.stream_guard import StreamGuard
from guard.types import Action, GuardContext
from tests.fuzz.strategies import CHAT_LIKE, CHOICE, JSON, TEXT
from tests.unit.proxy.test_stream_guard_inspector import EMAIL, SECRET, ListRecorder, inspector

POLICIES = Path(__file__).resolve().parents[2] / "policies"
DEFAULT = yaml.safe_load((POLICIES / "default.yaml").read_text())
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def load_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_policy_file(path)
        except PolicyError as exc:
            assert exc.errors or str(exc)


YAML_BITS = st.sampled_from([
    "name: x\n", "version: 1\n", "rules:\n", "  - ", "classifiers:\n", "  a: {type: secrets}\n",
    "when: {classifier: a}\n", "action: block\n", "extends: ../../etc/passwd\n",
    "extends: fuzzed.yaml\n", "&a [*a]\n", "!!python/object:os.system\n", "{", "}", "[", "]",
    ": ", "- ", "\t", "'", '"', "\n", "~", "1e999", "0x1F", "<<: *a\n", "? k\n", "%YAML 1.1\n",
    "---\n", "...\n",
])


@FUZZ
@example("!0")  # an unknown tag once escaped as a bare yaml ConstructorError
@given(st.one_of(st.text(max_size=200), st.lists(YAML_BITS, max_size=25).map("".join)))
def test_policy_text_loads_or_raises_policy_error(text: str) -> None:
    """Any text as a policy file: it loads, or PolicyError says why; no other exception."""
    load_text(text)


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize(("text", "why"), [
    ("a: &a [*a]\n", "nests deeper than 64 levels"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    (LAUGHS, "holds more than 200000 values"),
], ids=["alias-cycle", "deep-nesting", "billion-laughs"])
def test_hostile_yaml_is_a_policy_error_quickly(text: str, why: str) -> None:
    """A self-referencing alias, 5,000 levels of nesting, and nested aliases expanding to 10^9
    values: each a PolicyError in bounded time, not a RecursionError or a memory blow-up, that
    says which bound the document passed (one message had named both, for either)."""
    started = time.monotonic()
    with pytest.raises(PolicyError, match=why), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hostile.yaml"
        path.write_text(text)
        load_policy_file(path)
    assert time.monotonic() - started < 10  # PyYAML's own scanner takes ~4 s on deep nesting


@st.composite
def mutated_default(draw: st.DrawFn) -> dict[str, Any]:
    """The default policy with a few values replaced by arbitrary JSON, or keys removed."""
    policy = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = policy
        path: list[Any] = []
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict)
                                       else list(range(len(node)))))
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = policy
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(st.one_of(JSON, TEXT, st.sampled_from(
                [{"type": "regex", "patterns": ["(a+)+$"]}, {"type": "webhook"}, [], {}, -1,
                 "block", "flag", {"classifier": "nope"}, {"not": {"not": {}}},
                 {"prompt": {"classifier": "nope"}}, {"prompt": {"prompt": {}}}, {"prompt": 5},
                 {"all": [{"classifier": "secrets"}, {"prompt": {"labels_any": "x"}}]}])))
    return policy


@FUZZ
@given(mutated_default())
def test_mutated_default_policy_loads_or_raises_policy_error(policy: dict[str, Any]) -> None:
    """The default policy with random values changed or removed: loads, or a PolicyError."""
    load_text(yaml.safe_dump(policy, allow_unicode=True))


# -- the stream guard ----------------------------------------------------------------------------

CHAT = DIALECTS["/v1/chat/completions"]
CTX = GuardContext(request_id="fuzz", route=CHAT.route, model="m", stream=True)


def event_of(payload: Any) -> bytes:
    # the stdlib writes integers of any size, as an upstream may
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


RAW_EVENTS = st.one_of(
    st.builds(lambda c: event_of({"choices": c}), st.lists(CHOICE, max_size=3)),
    CHAT_LIKE.map(event_of),
    st.sampled_from([b"data: [DONE]\n\n", b": keep-alive\n\n", b"data: {\n\n", b"event: x\n\n",
                     encode_event({"choices": [{"index": 0, "delta": {"content": SECRET}}]}),
                     encode_event({"choices": [{"index": 0, "delta": {"content": EMAIL}}]}),
                     encode_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})]),
)


async def drive(raws: list[bytes], mode: str) -> bytes:
    """What the relay sends: an event guard cannot read as JSON, though a client could, or answer
    text in a shape guard cannot read, ends the stream (UpstreamError; the relay then writes an
    error event, not shown here)."""
    guard = StreamGuard(CHAT, inspector(mode=mode, secret=Action.BLOCK, max_holdback_ms=0),
                        CTX, ListRecorder())
    out = b""
    try:
        for raw in raws:
            out += await guard.feed(parse_event(raw))
            if guard.cut:
                break
            out += await guard.tick()
    except UpstreamError as exc:  # JSON only a lenient client reads, or text in an odd shape
        assert exc.code == "upstream_protocol_error"
        assert parse_event(raw).unreadable or any(
            why in str(exc) for why in ("shape", "another case", "changed the key it comes under",
                                        "out of order", "given twice", "it had finished"))
        return out
    return out + await guard.finish()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(RAW_EVENTS, max_size=8), st.sampled_from(["buffered", "optimistic"]))
def test_stream_guard_takes_any_event_sequence(raws: list[bytes], mode: str) -> None:
    """Any events in any order: no exception, the output is whole SSE events, and a secret in
    the upstream's content never reaches the client in buffered mode."""
    out = asyncio.run(drive(raws, mode))
    parser = SSEParser()
    events = parser.feed(out)
    assert parser.close() is None
    assert b"".join(e.raw for e in events) == out
    if mode == "buffered":
        for event in events:
            body = event.json()
            if body is None:
                continue
            for delta in CHAT.stream_deltas(body):
                assert SECRET not in delta.text
    for event in events:
        if event.data is not None and event.data != "[DONE]":
            try:
                orjson.loads(event.data)
            except orjson.JSONDecodeError:
                assert event.raw in raws  # only the upstream's own bytes may be non-JSON,
                with pytest.raises(ValueError):  # and only when no client reads them either
                    json.loads(event.data)
