"""Scopes, validation and matching of kill switches (no I/O)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from guard.killswitch.held import APPROVE, ENGAGE, RELEASE, Held
from guard.killswitch.model import (
    Entry,
    Scope,
    SwitchIndex,
    model_name_problem,
    non_ascii_warning,
    parse_scope,
    same_scope,
    validate_switch_request,
)
from guard.killswitch.settings import BreakerRule, KillSwitchSettings
from guard.types import GuardContext, Switch


def ctx(model: str = "gpt-4o", tenant: str | None = None, route: str = "/v1/chat/completions"
        ) -> GuardContext:
    return GuardContext(request_id="r1", route=route, model=model, tenant=tenant)


def entry(scope: str, mode: str = "block", created: float = 1.0, expires: float | None = None,
          sid: str | None = None) -> Entry:
    return Entry(Switch(id=sid or f"ks_{scope}_{mode}", scope=scope, mode=mode, reason="r",
                        actor="alice", created_at=created, expires_at=expires))


@pytest.mark.parametrize(("text", "want"), [
    ("global", Scope("global")),
    ("model:gpt-4*", Scope("model", "gpt-4*")),
    ("tenant:acme", Scope("tenant", "acme")),
    ("route:/v1/completions", Scope("route", "/v1/completions")),
])
def test_parse_scope_accepts_the_four_kinds(text: str, want: Scope) -> None:
    """Each documented scope form parses and prints back unchanged."""
    assert parse_scope(text) == want
    assert str(parse_scope(text)) == text


@pytest.mark.parametrize("text", ["", "everything", "model:", "tenant:", "route:v1", "user:x",
                                  "model:a\nb", "model:" + "x" * 300])
def test_parse_scope_rejects_anything_else(text: str) -> None:
    """Unknown kinds, empty values, relative routes and control characters are refused."""
    with pytest.raises(ValueError, match="scope"):
        parse_scope(text)


@pytest.mark.parametrize(("text", "says"), [
    ("model:a\nb", "holds a control character, U+000A, at index 7"),
    ("model:" + "x" * 300, "at most 256 characters (got 306)")])
def test_a_refused_scope_says_what_is_wrong(text: str, says: str) -> None:
    """From a probe: a scope with one control character was told it must be "at most 256
    printable characters", though it was short; each problem is now named as it is."""
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_scope(text)


@pytest.mark.parametrize(("model", "problem"), [
    ("gpt-\u200b4o", r"model must be printable characters only: 'gpt-\u200b4o' holds U+200B (an "
                     "invisible or control character) at index 4"),
    ("gpt-4o\nx", r"model must be printable characters only: 'gpt-4o\nx' holds U+000A (an "
                  "invisible or control character) at index 6"),
    ("m" * 251, "model must be at most 250 characters (got 251)"),
    ("m" * 250, None),
])
def test_a_model_name_problem_says_what_is_wrong(model: str, problem: str | None) -> None:
    """From a probe: a short model name with a zero-width space was refused as "at most 250
    printable characters"; the refusal now names the character (escaped) and where it is."""
    assert model_name_problem(model) == problem


def test_reason_is_required_and_ttl_positive() -> None:
    """A switch without a reason, with a bad mode or a non-positive TTL is refused."""
    with pytest.raises(ValueError, match="reason"):
        validate_switch_request("global", "block", "  ", None)
    with pytest.raises(ValueError, match="mode"):
        validate_switch_request("global", "stop", "why", None)
    with pytest.raises(ValueError, match="ttl_s"):
        validate_switch_request("global", "block", "why", 0)
    with pytest.raises(ValueError, match=r"at most a year \(31622400 seconds\)"):  # past a year: a slip
        validate_switch_request("global", "block", "why", 1e300)
    # from a probe: the admin API took 0.2 (201) where the CLI refused `--ttl 0.2`
    with pytest.raises(ValueError, match=r"at least a second \(it would lift before the fleet"):
        validate_switch_request("global", "block", "why", 0.2)
    assert validate_switch_request("global", "block", "why", 1)[3] == 1.0
    assert validate_switch_request("global", "refuse", " why ", 5)[2:] == ("why", 5.0)


def test_every_scope_kind_matches_its_requests_only() -> None:
    """model globs, tenants and routes stop their own requests and nothing else."""
    index = SwitchIndex([entry("model:gpt-4*"), entry("tenant:acme"),
                         entry("route:/v1/completions")], now=0)
    assert index.match(ctx("gpt-4o")) is not None
    assert index.match(ctx("llama-3")) is None
    assert index.match(ctx("llama-3", tenant="acme")) is not None
    assert index.match(ctx("llama-3", tenant="other")) is None
    assert index.match(ctx("llama-3", route="/v1/completions")) is not None


def test_a_tenant_scope_takes_a_glob_as_a_model_scope_does() -> None:
    """From a probe: `tenant:acme-*` stopped only a tenant literally named `acme-*` (acme-eu
    and acme-us kept getting 200), and `tenant:*` none. Tenant globs match as model globs do,
    but in the case given: tenants are matched exactly as the header names them."""
    index = SwitchIndex([entry("tenant:acme-*"), entry("tenant:t[0-9]", sid="t")], now=0)
    for tenant in ("acme-eu", "acme-us", "acme-*", "t1"):
        assert index.match(ctx(tenant=tenant)) is not None, tenant
    for tenant in ("acme", "ACME-eu", "t12", "globex"):
        assert index.match(ctx(tenant=tenant)) is None, tenant
    every = SwitchIndex([entry("tenant:*")], now=0)
    assert every.match(ctx(tenant="globex")) is not None
    assert every.match(ctx()) is None  # a request naming no tenant is no tenant's


def test_block_beats_refuse_and_oldest_wins_among_equals() -> None:
    """When several switches match, block wins over refuse; among equals the oldest."""
    index = SwitchIndex([entry("global", "refuse", created=1),
                         entry("model:gpt-4o", "block", created=5, sid="newer"),
                         entry("tenant:acme", "block", created=2, sid="older")], now=0)
    assert index.match(ctx("gpt-4o", tenant="acme")).id == "older"  # type: ignore[union-attr]
    assert index.match(ctx("gpt-4o")).id == "newer"  # type: ignore[union-attr]
    assert index.match(ctx("other")).mode == "refuse"  # type: ignore[union-attr]


def test_expired_switches_do_not_match_and_next_expiry_is_known() -> None:
    """The index ignores expired switches and knows when the next one runs out."""
    index = SwitchIndex([entry("global", expires=10), entry("tenant:a", expires=30)], now=20)
    assert index.match(ctx()) is None
    assert index.match(ctx(tenant="a")) is not None
    assert index.next_expiry == 30


def test_entry_round_trips_through_json() -> None:
    """What the stores write is read back identically, approvals included."""
    original = Entry(entry("global", expires=9.5).switch, release_approvals=("alice",))
    assert Entry.from_json(original.to_json()) == original


def test_settings_reject_unknown_keys_and_bad_breakers() -> None:
    """The `killswitch:` section is strict: unknown keys, empty breakers, duplicates fail."""
    with pytest.raises(ValueError, match="extra"):
        KillSwitchSettings.model_validate({"release_approvals": 2, "approvals": 3})
    with pytest.raises(ValueError, match="label"):
        BreakerRule(name="b", threshold=3, window_s=10, duration_s=60)
    with pytest.raises(ValueError, match="scope"):
        BreakerRule(name="b", action="block", threshold=3, window_s=10, duration_s=60,
                    scope="user:{model}")
    rule = {"name": "b", "action": "block", "threshold": 3, "window_s": 10, "duration_s": 60}
    with pytest.raises(ValueError, match="duplicate"):
        KillSwitchSettings.model_validate({"breakers": [rule, rule]})
    assert KillSwitchSettings.model_validate({"breakers": [rule]}).breakers[0].scope == (
        "model:{model}")


def test_a_model_switch_stops_the_name_in_any_case_and_with_spaces_around() -> None:
    """From a probe: `model:gpt-4o` let `GPT-4o` and `gpt-4o ` through, which Ollama and other
    case-blind upstreams read as the model stopped. Names are matched case folded and
    stripped; a provider prefix or a tag takes a glob (`model:*gpt-4o*`)."""
    index = SwitchIndex([entry("model:gpt-4o"), entry("model:Llama-3*")], now=0)
    for name in ("gpt-4o", "GPT-4o", " gpt-4o\n", "LLAMA-3.1", "llama-3"):
        assert index.match(ctx(name)) is not None, name
    assert index.match(ctx("gpt-4o-mini")) is None
    assert index.match(ctx("openai/gpt-4o")) is None
    assert SwitchIndex([entry("model:*gpt-4o*")], now=0).match(ctx("openai/gpt-4o:latest"))


def test_a_request_naming_no_model_meets_every_model_switch() -> None:
    """From a probe: a request without a model (absent, null, "", spaces) passed `model:gpt-4o`,
    while the upstream picked a model for it (vLLM's base model, a stored prompt's). It meets
    every model switch; one whose model is still to be learned (fetched by id) meets none yet."""
    index = SwitchIndex([entry("model:gpt-4o", "refuse"), entry("model:llama-*", sid="b")], now=0)
    for name in ("", "  "):
        assert index.match(ctx(name)).id == "b"  # type: ignore[union-attr]
    pending = GuardContext(request_id="r1", route="/v1/responses", model="", model_unknown=True)
    assert index.match(pending) is None
    assert SwitchIndex([entry("tenant:acme")], now=0).match(ctx("")) is None


def test_a_stored_scope_with_an_invisible_character_still_applies() -> None:
    """Refused when engaged, but a switch stored before (Redis, the state file) keeps matching
    what it names: reading the state must not fail on it."""
    with pytest.raises(ValueError, match="U\\+200B ZERO WIDTH SPACE"):
        validate_switch_request("model:gpt-\u200b4o", "block", "r", None)
    index = SwitchIndex([entry("model:gpt-\u200b4o")], now=0.0)
    assert index.match(ctx(model="gpt-\u200b4o")) is not None


def test_non_ascii_is_named_by_code_point_for_model_and_tenant_scopes_only() -> None:
    """U+2011 (a no-break hyphen) in a model scope is named; ASCII and route scopes say nothing."""
    warning = non_ascii_warning(parse_scope("model:gpt\u20114o"))
    assert warning is not None and "U+2011 NON-BREAKING HYPHEN" in warning
    assert "gpt\\u20114o" in warning  # the name itself written in ASCII
    assert non_ascii_warning(parse_scope("tenant:caf\u00e9")) is not None
    assert non_ascii_warning(parse_scope("model:gpt-4o")) is None
    assert non_ascii_warning(parse_scope("route:/v1/caf\u00e9")) is None


def test_same_scope_reads_model_names_as_switches_match_them() -> None:
    assert same_scope("model:GPT-4o", "model:gpt-4o")
    assert same_scope("global", "global")
    assert not same_scope("tenant:Acme", "tenant:acme")
    assert not same_scope("model:gpt-4o", "tenant:gpt-4o")


def test_a_change_held_during_an_outage_is_written_by_the_documented_rule() -> None:
    """Held.written, what Redis holds once a change made during an outage is written over what
    it holds then: an engage is added (never dropped, never replacing), a release removes its
    switch, approvals are merged and release it once enough, and none brings back a switch
    released elsewhere meanwhile."""
    switch = entry("model:m", sid="ks_1")
    approved_here = replace(switch, release_approvals=("alice",))
    approved_there = replace(switch, release_approvals=("bob",))
    assert Held(switch, "why", 1, ENGAGE).written(None, needed=1) == switch
    assert Held(switch, "why", 1, ENGAGE).written(approved_there, needed=2) == approved_there
    assert Held(switch, "why", 1, RELEASE).written(approved_there, needed=2) is None
    assert Held(switch, "why", 1, RELEASE).written(None, needed=1) is None
    merged = Held(approved_here, "why", 1, APPROVE).written(switch, needed=3)
    assert merged == replace(switch, release_approvals=("alice",))
    assert Held(approved_here, "why", 1, APPROVE).written(approved_there, needed=3) == replace(
        switch, release_approvals=("bob", "alice"))
    assert Held(approved_here, "why", 1, APPROVE).written(approved_there, needed=2) is None
    assert Held(approved_here, "why", 1, APPROVE).written(None, needed=2) is None
