"""PolicyStore: pinned inspectors, real classifiers through the runner, atomic hot reload."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from guard.classify.runner import ClassifierRunner
from guard.errors import PolicyError
from guard.observability.metrics import Metrics
from guard.policy.store import KEPT_VERSIONS, UNSETTLED_POLLS, PolicyStore, count_decision
from guard.redaction import apply_redactions
from guard.types import Action, GuardContext, Segment, Span, Stage

POLICY = """
name: {name}
version: "{version}"
{scope}
classifiers:
  words: {{type: keywords, lists: [{{terms: [forbidden], label: bad}}]}}
  mails: {{type: regex, patterns: [{{pattern: '[a-z]+@[a-z]+\\.com', label: 'pii:email'}}],
          max_match_chars: 64}}
rules:
  - {{name: no-words, stage: prompt, when: {{classifier: words}}, action: {action}}}
  - {{name: mask-mail, stage: completion, when: {{classifier: mails}}, action: redact}}
  - {{name: watch-mail, stage: prompt, when: {{classifier: mails}}, action: block, mode: shadow}}
streaming: {{mode: optimistic, check_chars: 32}}
"""

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="m")


def write(path: Path, name: str = "default", version: str = "1", action: str = "block",
          scope: str = "") -> Path:
    text = POLICY.format(name=name, version=version, action=action, scope=scope)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def seg(text: str, stage: Stage = Stage.PROMPT, index: int = 0) -> Segment:
    return Segment(text, "user" if stage is Stage.PROMPT else "completion", index, stage)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
async def store(tmp_path: Path, metrics: Metrics) -> AsyncIterator[PolicyStore]:
    write(tmp_path / "default.yaml")
    runner = ClassifierRunner(metrics)
    store = PolicyStore(tmp_path, runner, metrics, watch_interval_s=0.05)
    yield store
    await store.aclose()
    await runner.aclose()


async def test_inspect_classifies_and_decides(store: PolicyStore) -> None:
    """A prompt with a forbidden word is blocked by a real keywords classifier."""
    inspector = store.for_request(CTX)
    decision = await inspector.inspect(Stage.PROMPT, [seg("say the forbidden word")])
    assert decision.action is Action.BLOCK and decision.rules == ("no-words",)
    assert decision.policy == "default"


async def test_shadow_match_is_reported_but_allows(store: PolicyStore) -> None:
    """A shadow rule on the prompt records its match without changing the action."""
    decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("mail bob@example.com")])
    assert decision.action is Action.ALLOW
    assert [m.rule for m in decision.shadow] == ["watch-mail"]


async def test_completion_redaction_spans(store: PolicyStore) -> None:
    """The completion stage redacts the regex span in the original text."""
    text = "write to bob@example.com today"
    decision = await store.for_request(CTX).inspect(Stage.COMPLETION,
                                                    [seg(text, Stage.COMPLETION)])
    assert decision.action is Action.REDACT
    assert decision.redactions == {0: (Span(9, 24, "pii:email"),)}


async def test_stream_settings_and_holdback(store: PolicyStore) -> None:
    """The inspector carries the policy's stream settings and per-stage hold-back."""
    inspector = store.for_request(CTX)
    assert inspector.stream.mode == "optimistic" and inspector.stream.check_chars == 32
    assert inspector.holdback_chars(Stage.COMPLETION) == 64


async def test_reload_swaps_atomically_and_pins_in_flight_requests(
        store: PolicyStore, tmp_path: Path, metrics: Metrics) -> None:
    """After a reload new requests see the new policy; an inspector taken before keeps the old."""
    before = store.for_request(CTX)
    old_version = store.version
    write(tmp_path / "default.yaml", version="2", action="flag")
    result = await store.reload()
    assert result.ok and result.changed and result.version != old_version
    after = store.for_request(CTX)
    words = [seg("forbidden")]
    assert (await before.inspect(Stage.PROMPT, words)).action is Action.BLOCK
    assert (await after.inspect(Stage.PROMPT, words)).action is Action.FLAG
    assert metrics.registry.get_sample_value("guard_policy_reloads_total", {"result": "ok"}) == 1
    assert metrics.registry.get_sample_value("guard_policy_info",
                                             {"version": result.version}) == 1
    assert metrics.registry.get_sample_value("guard_policy_info", {"version": old_version}) == 0


async def test_broken_reload_is_rejected_and_old_set_stays(
        store: PolicyStore, tmp_path: Path, metrics: Metrics) -> None:
    """A file that fails validation is reported and the running policy stays in force."""
    version = store.version
    (tmp_path / "default.yaml").write_text("name: default\nversion: 3\nrules: [{name: x}]\n")
    result = await store.reload()
    assert not result.ok and result.version == version
    assert any("default.yaml:3: rules[0].when: Field required" in e for e in result.errors)
    assert store.describe()["last_reload_errors"] == result.errors
    decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("forbidden")])
    assert decision.action is Action.BLOCK
    assert metrics.registry.get_sample_value("guard_policy_reloads_total",
                                             {"result": "error"}) == 1


async def test_a_reload_naming_a_label_no_classifier_emits_is_rejected(
        store: PolicyStore, tmp_path: Path) -> None:
    """A block rule on a misspelt label would never hold: the reload is refused, saying what was
    meant, and the running policy stays."""
    path = write(tmp_path / "default.yaml", version="2")
    path.write_text(path.read_text().replace("when: {classifier: words}",
                                             "when: {classifier: words, labels_any: [bda]}"))
    result = await store.reload()
    assert not result.ok
    assert result.errors == [f"{path}:9: rules[0].when.labels_any[0]: classifier 'words' never "
                             "emits the label 'bda' (did you mean 'bad'?)"]
    decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("forbidden")])
    assert decision.action is Action.BLOCK


@pytest.mark.parametrize("timeout", [".nan", ".inf"])
async def test_a_timeout_that_is_not_finite_is_refused_on_reload(
        store: PolicyStore, tmp_path: Path, timeout: str) -> None:
    """From a probe: `timeout_s: .nan` or `.inf` loaded, then every call of the classifier failed
    at once (open by default); a reload naming one is refused and the running policy stays."""
    path = write(tmp_path / "default.yaml", version="2")
    path.write_text(path.read_text().replace("{type: keywords,",
                                             f"{{type: keywords, timeout_s: {timeout},"))
    result = await store.reload()
    assert not result.ok
    assert any("classifiers.words.timeout_s: must be a finite number" in e for e in result.errors)
    decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("forbidden")])
    assert decision.action is Action.BLOCK


async def test_rejected_files_stay_visible_until_they_load(
        store: PolicyStore, tmp_path: Path, metrics: Metrics) -> None:
    """From a probe: the reload-failed alert resolved after 10 min while the broken files stayed
    on disk (a new pod could not start on them). guard_policy_files_rejected is 1 from the
    rejection until a reload succeeds, whatever the time since."""
    def rejected() -> float | None:
        return metrics.registry.get_sample_value("guard_policy_files_rejected")

    assert rejected() == 0
    (tmp_path / "default.yaml").write_text("name: default\nversion: 3\nrules: [{name: x}]\n")
    assert not (await store.reload()).ok
    assert rejected() == 1
    assert not (await store.reload()).ok
    assert rejected() == 1
    write(tmp_path / "default.yaml", version="4")
    assert (await store.reload()).ok
    assert rejected() == 0


async def test_watcher_reloads_on_file_change(store: PolicyStore, tmp_path: Path) -> None:
    """Editing a policy file is picked up by the watcher without any call."""
    await store.start()
    version = store.version
    write(tmp_path / "tenant.yaml", name="acme", action="allow", scope="scope: {tenants: [acme]}")
    for _ in range(100):
        if store.version != version:
            break
        await asyncio.sleep(0.02)
    assert store.version != version
    acme = GuardContext(request_id="r", route="/v1/chat/completions", model="m", tenant="acme")
    decision = await store.for_request(acme).inspect(Stage.PROMPT, [seg("forbidden")])
    assert decision.policy == "acme" and decision.action is Action.ALLOW


@pytest.mark.parametrize("base_at_first", ["missing", "broken"])
async def test_a_rejected_reload_is_retried_when_a_base_it_read_changes(
        tmp_path: Path, metrics: Metrics, base_at_first: str) -> None:
    """From a probe: a new policy extending a base outside the directory that was missing or
    broken was rejected, and creating or fixing the base reloaded nothing (the old error stayed,
    guard_policy_files_rejected at 1). The files a rejected load read or looked for are watched."""
    policies, shared = tmp_path / "pols", tmp_path / "shared"
    policies.mkdir()
    shared.mkdir()
    write(policies / "default.yaml")
    base = shared / "acme_base.yaml"
    if base_at_first == "broken":
        write(base, name="acme_base", action="allow")
        base.write_text(base.read_text().replace("classifier: words", "classifier: wordz"))
    runner = ClassifierRunner(metrics)
    store = PolicyStore(policies, runner, metrics, watch_interval_s=0.05)
    await store.start()
    try:
        (policies / "acme.yaml").write_text("name: acme\nversion: '1'\n"
                                            "extends: ../shared/acme_base.yaml\n"
                                            "scope: {tenants: [acme]}\n")
        for _ in range(100):
            if store.describe()["last_reload_errors"]:
                break
            await asyncio.sleep(0.02)
        assert "acme_base.yaml" in store.describe()["last_reload_errors"][0]
        write(base, name="acme_base", action="allow")
        for _ in range(100):
            if len(store.current.policies) == 2:
                break
            await asyncio.sleep(0.02)
        assert [p.name for p in store.current.policies] == ["acme", "default"]
        assert store.describe()["last_reload_errors"] == []
        assert metrics.registry.get_sample_value("guard_policy_files_rejected") == 0
    finally:
        await store.aclose()
        await runner.aclose()


async def test_the_watcher_ignores_hidden_files(store: PolicyStore, tmp_path: Path,
                                               metrics: Metrics) -> None:
    """From a probe: a Mac's `._default.yaml` copied into the directory made the watcher reload,
    and every reload was rejected; hidden files are no policies and trigger nothing."""
    await store.start()
    (tmp_path / "._default.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02Mac OS X  \xff\xfe")
    (tmp_path / ".#default.yaml").symlink_to("root@host.12345:1700000000")
    await asyncio.sleep(0.3)  # six polls
    assert metrics.registry.get_sample_value("guard_policy_reloads_total", {"result": "error"}) in (
        None, 0)
    assert metrics.registry.get_sample_value("guard_policy_files_rejected") == 0


async def test_a_yml_file_is_said_to_be_ignored_when_it_appears(store: PolicyStore,
                                                                  tmp_path: Path) -> None:
    """From a probe: a policy saved as `acme.yml` was skipped without a word. The watcher sees
    it appear and logs that it is ignored (as start and every reload do); nothing else loads."""
    await store.start()
    version = store.version
    with structlog.testing.capture_logs() as logs:
        write(tmp_path / "acme.yml", name="acme", scope="scope: {tenants: [acme]}")
        for _ in range(100):
            if any(e["event"] == "policy_warning" for e in logs):
                break
            await asyncio.sleep(0.02)
    assert [e["warning"] for e in logs if e["event"] == "policy_warning"] == [
        f"{tmp_path / 'acme.yml'}: ignored: only *.yaml files are policies (rename it acme.yaml "
        "to load it)"]
    assert store.version == version and [p.name for p in store.current.policies] == ["default"]


async def test_constructor_refuses_a_broken_set(tmp_path: Path, metrics: Metrics) -> None:
    """guard never starts on a broken policy: the constructor raises PolicyError."""
    (tmp_path / "default.yaml").write_text("name: default\n")
    with pytest.raises(PolicyError):
        PolicyStore(tmp_path, ClassifierRunner(metrics), metrics)


async def test_describe_lists_policies_and_rules(store: PolicyStore) -> None:
    """describe() gives the version, the default and every rule with action and mode."""
    info = store.describe()
    assert info["version"] == store.version and info["default"] == "default"
    [policy] = info["policies"]
    assert [(r["name"], r["mode"]) for r in policy["rules"]] == [
        ("no-words", "enforce"), ("mask-mail", "enforce"), ("watch-mail", "shadow")]
    assert policy["classifiers"] == {"words": "keywords", "mails": "regex"}


async def test_count_decision_counts_each_match_with_its_mode(
        store: PolicyStore, metrics: Metrics) -> None:
    """guard_decisions_total gets one sample per matched rule (shadow ones with mode=shadow)."""
    decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("mail bob@example.com")])
    count_decision(metrics, CTX, decision)
    value = metrics.registry.get_sample_value(
        "guard_decisions_total",
        {"stage": "prompt", "action": "block", "mode": "shadow", "rule": "watch-mail",
         "model": "m"})
    assert value == 1


async def test_a_file_being_written_is_loaded_once_it_settles(tmp_path: Path,
                                                              metrics: Metrics) -> None:
    """From a probe: a policy rewritten in place was loaded half written, its first rule alone
    (which parses), and the rule after it stopped applying. A change is loaded once the files
    read the same at two polls in a row."""
    path = write(tmp_path / "default.yaml")
    runner = ClassifierRunner(metrics)
    store = PolicyStore(tmp_path, runner, metrics, watch_interval_s=0.5)
    await store.start()
    try:
        whole = path.read_text()
        cut = whole.index("  - {name: mask-mail")
        path.write_text(whole[:cut].replace('"1"', '"2"'))  # valid YAML, one rule
        await asyncio.sleep(0.1)  # less than a poll: seen at most once
        path.write_text(whole.replace('"1"', '"2"'))
        for _ in range(60):
            if metrics.registry.get_sample_value("guard_policy_reloads_total", {"result": "ok"}):
                break
            await asyncio.sleep(0.05)
        assert metrics.registry.get_sample_value(
            "guard_policy_reloads_total", {"result": "ok"}) == 1
        rules = store.describe()["policies"][0]["rules"]
        assert [r["name"] for r in rules] == ["no-words", "mask-mail", "watch-mail"]
    finally:
        await store.aclose()
        await runner.aclose()


async def test_a_change_that_never_settles_is_logged_once(store: PolicyStore,
                                                          tmp_path: Path) -> None:
    """A file rewritten at every poll never loads (it might be half written); the log says so,
    once a streak, so nobody wonders why an edit does not take."""
    await store.start()
    version = store.version
    with structlog.testing.capture_logs() as logs:
        for n in range(UNSETTLED_POLLS * 8):  # four writes a poll, for two streaks' worth
            write(tmp_path / "default.yaml", version=f"busy-{n}")
            await asyncio.sleep(0.0125)
        await asyncio.sleep(0.2)       # then it settles and loads
    unsettled = [e for e in logs if e["event"] == "policy_change_unsettled"]
    assert len(unsettled) == 1 and unsettled[0]["version"] == version
    assert store.version != version


async def test_a_value_sent_in_pieces_is_masked_in_every_piece(tmp_path: Path,
                                                               metrics: Metrics) -> None:
    """From a probe: an address or a card cut across two user messages (or text parts) was
    found where it ends and masked there only; `jane.doe@exa` went upstream. The pieces before
    are masked too, from their ends back."""
    (tmp_path / "default.yaml").write_text(textwrap.dedent("""
        name: default
        version: "1"
        classifiers:
          pii: {type: pii}
        rules:
          - {name: mask-pii, stage: prompt, when: {classifier: pii}, action: redact}
        """).lstrip())
    runner = ClassifierRunner(metrics)
    store = PolicyStore(tmp_path, runner, metrics)
    try:
        pieces = ["mail jane.doe", "@exa", "mple.com please", "unrelated"]
        segments = [seg(text, index=i) for i, text in enumerate(pieces)]
        segments.insert(2, Segment("a system line", "system", 9, Stage.PROMPT))
        decision = await store.for_request(CTX).inspect(Stage.PROMPT, segments)
        masked = {i: apply_redactions(pieces[i], decision.redactions.get(i, ()))
                  for i in range(len(pieces))}
        assert masked == {0: "mail [REDACTED:pii:email]", 1: "[REDACTED:pii:email]",
                          2: "[REDACTED:pii:email] please", 3: "unrelated"}
        assert 9 not in decision.redactions
    finally:
        await runner.aclose()


async def test_a_file_replaced_while_the_set_loads_is_loaded_again(tmp_path: Path,
                                                                   metrics: Metrics) -> None:
    """From a probe (three workers, a policy replaced twice by rename 0-10 ms apart around a
    SIGHUP): a file replaced while the set loaded was taken as loaded, so the watcher never
    loaded its newer content; workers stayed on different policies for good, and the version
    they reported was the newer file's digest (read again after the parse)."""
    from guard.classify.registry import build_classifier
    from guard.policy.loader import load_policy_file

    policy = write(tmp_path / "default.yaml", version="a")
    racing = {"armed": False}

    def builder(name: str, spec: Any) -> Any:
        if racing["armed"]:  # the file is replaced after it was read, while classifiers build
            racing["armed"] = False
            newer = write(tmp_path / ".next.yaml", version="b", action="allow")
            newer.rename(policy)
        return build_classifier(name, spec)

    runner = ClassifierRunner(metrics)
    store = PolicyStore(tmp_path, runner, metrics, builder=builder, watch_interval_s=0.05)
    try:
        await store.start()
        write(tmp_path / ".next.yaml", version="a2").rename(policy)
        racing["armed"] = True
        await store.reload()
        assert store.current.default.policy.version == "a2"  # what was read before the rename
        (tmp_path / "copy").mkdir()
        parsed = load_policy_file(write(tmp_path / "copy" / "default.yaml", version="a2"))
        assert store.current.default.digest == parsed.digest  # not b's
        for _ in range(100):
            if store.current.default.policy.version == "b":
                break
            await asyncio.sleep(0.02)
        assert store.current.default.policy.version == "b"
        decision = await store.for_request(CTX).inspect(Stage.PROMPT, [seg("forbidden")])
        assert decision.action is Action.ALLOW
    finally:
        await store.aclose()
        await runner.aclose()


async def test_policy_info_keeps_the_newest_replaced_versions(store: PolicyStore, tmp_path: Path,
                                                             metrics: Metrics) -> None:
    """From a probe: each reload that changed the files added a `guard_policy_info` series for
    good (800 reloads: 801 series). The version in force is 1, the last KEPT_VERSIONS replaced
    are 0, older ones are gone; a version loaded again is 1 once more."""
    first = store.version
    versions = [first]
    for n in range(KEPT_VERSIONS + 4):
        write(tmp_path / "default.yaml", version=f"v{n}")
        await store.reload()
        versions.append(store.version)
    shown = {s.labels["version"]: s.value for s in metrics.policy_info.collect()[0].samples}
    assert shown == {**dict.fromkeys(versions[-KEPT_VERSIONS - 1:-1], 0.0), versions[-1]: 1.0}
    write(tmp_path / "default.yaml", version="v1")
    await store.reload()
    shown = {s.labels["version"]: s.value for s in metrics.policy_info.collect()[0].samples}
    assert shown[versions[2]] == 1.0 and len(shown) == KEPT_VERSIONS + 1
