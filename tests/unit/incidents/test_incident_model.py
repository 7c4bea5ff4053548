"""IncidentV1: what an incident holds, how it is serialised, and what it never holds."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import orjson
import pytest

from guard.incidents import model
from guard.incidents.cli import csv_writer
from guard.incidents.excerpt import build_excerpt, scrub
from guard.types import Action, Mode, Segment, Span, Stage, Verdict
from tests.unit.incidents.helpers import HASH_KEY, context, decision, prompt


def csv_text(incident: model.IncidentV1) -> str:
    """`guard incidents export --format csv` of one incident."""
    out = io.StringIO()
    csv_writer(out)(incident.to_dict())
    return out.getvalue()


SECRET_PROMPT = "my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc please keep it"


def test_decision_incident_fields() -> None:
    """A blocked prompt becomes an incident with context, rules, verdict labels and a hash."""
    inc = model.from_decision(context(), decision(), SECRET_PROMPT, excerpt=None,
                              hash_key=HASH_KEY)
    assert inc.kind == "decision" and inc.action == "block" and inc.mode == "enforce"
    assert (inc.request_id, inc.tenant, inc.model) == ("req-1", "acme", "gpt-4o")
    assert inc.rules == ("no-secrets",) and inc.severity == "critical"
    assert inc.category == "secrets" and inc.stage == "prompt"
    assert inc.verdicts[0].labels == ("api_key",) and inc.verdicts[0].score == 0.97
    assert inc.content_hash is not None and inc.content_hash.startswith("hmac-sha256:")
    assert inc.excerpt is None


def test_serialised_incident_never_holds_the_text() -> None:
    """Without excerpts the serialised incident contains no part of the text."""
    raw = model.from_decision(context(), decision(), SECRET_PROMPT, excerpt=None,
                              hash_key=HASH_KEY).to_json()
    assert b"sk_live" not in raw and b"please" not in raw
    assert orjson.loads(raw)["v"] == 1


def test_round_trip() -> None:
    """to_json and from_json are inverse."""
    inc = model.from_decision(context(), decision(), "text", excerpt="x", hash_key=HASH_KEY)
    assert model.IncidentV1.from_json(inc.to_json()) == inc


def test_a_verdict_read_with_earlier_turns_says_so() -> None:
    """A verdict scored on a message joined to earlier ones records how many; an incident written
    before the field existed reads as the message alone."""
    joined = Verdict("hr", 2, frozenset({"harmful"}), 0.93, joined=2)
    base = decision()
    inc = model.from_decision(context(), replace(base, verdicts=(joined,)), "pieces", excerpt=None,
                              hash_key=HASH_KEY)
    assert inc.verdicts[0].joined == 2
    assert orjson.loads(inc.to_json())["verdicts"][0]["joined"] == 2
    assert model.IncidentV1.from_json(inc.to_json()) == inc
    older = orjson.loads(model.from_decision(context(), base, "text", excerpt=None,
                                             hash_key=HASH_KEY).to_json())
    del older["verdicts"][0]["joined"]
    assert model.IncidentV1.from_dict(older).verdicts[0].joined == 0


def test_a_completion_incident_keeps_what_its_rules_read_on_the_prompt() -> None:
    """`prompt_verdicts` round-trip, show in the CSV after the answer's own, and an incident
    written before the field existed reads as none."""
    doubted = Verdict("harmful_in_doubt", 0, frozenset({"harmful"}), 0.6412)
    answer = Verdict("harmful_out_low", 0, frozenset({"harmful"}), 0.37)
    inc = model.from_decision(
        context(), replace(decision(), stage=Stage.COMPLETION, verdicts=(answer,),
                           prompt_verdicts=(doubted,)), "Sure. Slide ...", excerpt=None, hash_key=HASH_KEY)
    assert inc.prompt_verdicts == (model.VerdictV1("harmful_in_doubt", 0, ("harmful",), 0.6412),)
    assert model.IncidentV1.from_json(inc.to_json()) == inc
    [row] = list(csv.DictReader(io.StringIO(csv_text(inc))))
    assert row["verdicts"] == "harmful_out_low 0.37;prompt: harmful_in_doubt 0.6412"
    older = orjson.loads(inc.to_json())
    del older["prompt_verdicts"]
    assert model.IncidentV1.from_dict(older).prompt_verdicts == ()


def test_unknown_version_is_refused() -> None:
    """A record of a version this code does not know is an error, not a guess."""
    with pytest.raises(ValueError, match="version"):
        model.IncidentV1.from_dict({"v": 2, "id": "x", "time": 0})


def test_shadow_match_records_what_it_would_have_done() -> None:
    """A shadow-only match is recorded with mode shadow and the action it would have taken."""
    inc = model.from_decision(context(), decision(mode=Mode.SHADOW), "t", excerpt=None,
                              hash_key=HASH_KEY)
    assert (inc.action, inc.mode) == ("block", "shadow")


def test_ids_sort_by_time_and_are_unique() -> None:
    """Incident ids sort by creation time and never repeat."""
    ids = [model.new_id(1000.0 + i) for i in range(100)]
    assert ids == sorted(ids) and len(set(ids)) == 100


def test_event_incident() -> None:
    """A kill switch event keeps its details and defaults to severity high."""
    inc = model.from_event("killswitch", {"action": "engage", "scope": "global",
                                          "actor": "alice", "reason": "leak"})
    assert inc.kind == "killswitch" and inc.category == "killswitch"
    assert inc.severity == "high" and inc.details["actor"] == "alice"
    assert model.IncidentV1.from_json(inc.to_json()).details["scope"] == "global"
    assert inc.tenant is None


def test_an_event_scoped_to_a_tenant_is_that_tenants() -> None:
    """A kill switch or a breaker's trip for `tenant:acme` is listed under tenant acme (filtering
    by tenant showed none of them); one scoped to a model or a route names no tenant."""
    engaged = model.from_event("killswitch", {"action": "engage", "scope": "tenant:acme"})
    tripped = model.from_event("breaker", {"action": "trip", "scope": "tenant:acme"})
    by_model = model.from_event("killswitch", {"action": "engage", "scope": "model:gpt-4*"})
    assert (engaged.tenant, tripped.tenant, by_model.tenant) == ("acme", "acme", None)


@pytest.mark.parametrize("secret", [
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "AKIAIOSFODNN7EXAMPLE", "password=hunter2", "Bearer abcdefghijklmnop.qrstuv",
    "4111 1111 1111 1111", "postgres://admin:s3cr3t@db.internal/x",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "AbCdEfGh1234567890IjKlMnOp",
])
def test_scrub_masks_credentials(secret: str) -> None:
    """Credential-shaped tokens never survive into an excerpt, whatever the policy found."""
    out = scrub(f"before {secret} after")
    assert secret not in out and "hunter2" not in out and "s3cr3t" not in out
    assert out.startswith("before ") and "[REDACTED:" in out


@pytest.mark.parametrize("hidden", ["\u200b", "\u00ad", "\u2060"])
@pytest.mark.parametrize(("lead", "token"), [
    ("Authorization: Bearer ", "9fK2mQ7xLp4Rt8Vz1Yb6Nc3W"),
    ("use ", "acme_prod_9fK2mQ7xLp4Rt8Vz1Yb6Nc3"),
    ("id ", "Zx8Qm2Lr7Tp4Vn9Kc3Bw6Hy1Jd5Fg0"),
])
def test_scrub_masks_credentials_with_an_invisible_character_inside(
        lead: str, token: str, hidden: str) -> None:
    """From a probe: a token with one zero-width space, soft hyphen or word joiner inside was
    kept whole in the excerpt (scrub read the raw text). Scrub reads it as the secrets
    classifier does, and masks the invisible character with the rest."""
    out = scrub(f"{lead}{token[:7]}{hidden}{token[7:]} and more")
    assert out.endswith("[REDACTED:credential] and more") or out.endswith("[REDACTED:token] and more")
    assert token[:4] not in out and hidden not in out


@pytest.mark.parametrize("written", [
    "\uff53\uff4b_\uff4c\uff49\uff56\uff45_4eC39HqLyjWDarjtT1zdp7dc",  # full-width letters
    "\u0455k_live_4eC39HqLyjWDarjtT1zdp7dc",            # a Cyrillic "s"
    "Bearer 9fK2mQ7\\u0078Lp4Rt8Vz1Yb6Nc3W",           # a JSON escape inside
    "Zx8Qm2L%72Tp4Vn9Kc3Bw6Hy1Jd5Fg0",                  # a percent-escape inside
    "4111&#32;1111 1111 1111",                          # an HTML reference
    "四五三九 一四八八 〇三四三 六四六七",                 # a card in Chinese numerals
])
def test_scrub_reads_look_alikes_and_escapes(written: str) -> None:
    """Look-alike letters and escaped characters do not hide a token from scrub either; the text
    around it keeps its own characters."""
    out = scrub(f"Réponds vite: {written} merci")
    assert out.startswith("Réponds vite: [REDACTED:") and out.endswith("] merci")


def test_excerpt_masks_spans_and_truncates() -> None:
    """The excerpt masks the classifier's spans, then truncates to the configured length."""
    text = "call me at alice@example.com " + "word " * 100
    d = decision(action=Action.REDACT, spans=(Span(11, 28, "email"),))
    out = build_excerpt(d, prompt(text), 40)
    assert len(out) == 40 and out.endswith("…")
    assert "alice" not in out and out.startswith("call me at [REDACTED:email]")


def test_excerpt_masks_the_spans_of_every_segment() -> None:
    """From a probe: a phone number the pii classifier flagged in the user message after a
    system message was in clear (only segment 0's spans were masked)."""
    flagged = Verdict("pii", 1, frozenset({"pii:phone"}), 1.0,
                      spans=(Span(11, 28, "pii:phone"),))
    d = replace(decision(), verdicts=(flagged,))
    assert build_excerpt(d, prompt("Be brief.", "Call me at +1 (415) 555-2671."), 200) == \
        "Be brief.\nCall me at [REDACTED:pii:phone]."


@pytest.mark.parametrize("between", [[], ["ok"]])
def test_excerpt_masks_a_key_sent_in_pieces_in_every_piece(between: list[str]) -> None:
    """From a probe: a key split across two messages, found where it ends (its span reaching
    back, below 0), left its first character in the excerpt, `g[REDACTED:...]`: the reach back
    was counted in the joined text, one newline short per message, and through messages of
    other roles. It is masked in the messages of its role before, as the policy masks them."""
    key = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    segments = [Segment(text, role, i, Stage.PROMPT) for i, (text, role) in enumerate(
        [("my key is " + key[:10], "user"), *((t, "assistant") for t in between),
         (key[10:] + " thanks", "user")])]
    found = Verdict("secrets", len(segments) - 1, frozenset({"secret"}), 1.0,
                    spans=(Span(-10, len(key) - 10, "secret:github_token"),))
    out = build_excerpt(replace(decision(), verdicts=(found,)), segments, 200)
    assert out == "\n".join(["my key is [REDACTED:secret:github_token]", *between,
                              "[REDACTED:secret:github_token] thanks"])


def test_excerpt_cut_never_leaves_a_secret_prefix() -> None:
    """A secret split by the scanning window is dropped, not kept as an unrecognised prefix."""
    # the masked password shrinks the text, so the window's end would fall inside the excerpt
    text = "password=" + "a" * 630 + " sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    out = build_excerpt(decision(), prompt(text), 100)
    assert "sk_" not in out and out.endswith("…")


def test_csv_export_lists_the_verdicts_with_what_they_were_read_with() -> None:
    """The CSV export's last column: each fired verdict's classifier and score, and the earlier
    messages a joined reading read with it; the columns before it are unchanged."""
    joined = Verdict("hr", 4, frozenset({"harmful"}), 0.93, joined=2)
    incident = model.from_decision(context(), replace(decision(), verdicts=(joined, *decision().verdicts)),
                                   "x", excerpt=None, hash_key=HASH_KEY)
    [row] = list(csv.DictReader(io.StringIO(csv_text(incident))))
    assert row["verdicts"] == "hr 0.93 +2 earlier;secrets 0.97"
    assert list(row)[:3] == ["id", "time", "kind"] and list(row)[-1] == "verdicts"


def test_a_content_hash_is_always_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    """From a probe: a card number was found again from its plain SHA-256 in 1 ms by hashing
    the 10,000 candidates. Every hash is an HMAC, under the key of `hash_key_env` when set
    (guard.incidents.hashkey otherwise)."""
    import hashlib
    import hmac

    from guard.incidents.settings import IncidentSettings

    text = "4111 1111 1111 1111"
    keyed = model.from_decision(context(), decision(), text, excerpt=None, hash_key=HASH_KEY)
    want = hmac.new(HASH_KEY, text.encode(), hashlib.sha256).hexdigest()
    assert keyed.content_hash == f"hmac-sha256:{want}"
    assert want != hashlib.sha256(text.encode()).hexdigest()
    monkeypatch.setenv("GUARD_HASH_KEY", "a-deployment-secret")
    assert IncidentSettings(hash_key_env="GUARD_HASH_KEY").hash_key() == b"a-deployment-secret"
    assert IncidentSettings().hash_key() is None


def test_scrub_leaves_a_policy_mask_as_it_is() -> None:
    """From a docs probe: a GitHub token the policy had masked came out of an excerpt as
    `[REDACTED:[REDACTED:credential]`, its label's `secret:` read as an assignment. A mask in
    the form guard writes is left whole; text dressed up as one is still scrubbed."""
    assert scrub("key [REDACTED:secret:github_token] end") == \
        "key [REDACTED:secret:github_token] end"
    dressed = scrub("[REDACTED:password=hunter2] and [REDACTED:x AKIAIOSFODNN7EXAMPLE]")
    assert "hunter2" not in dressed and "AKIAIOSFODNN7EXAMPLE" not in dressed


@pytest.mark.parametrize(("written", "value"), [
    ("DB_PASSWORD=hunter2prod", "hunter2prod"),
    ("db_password: hunter2prod", "hunter2prod"),
    ('{"password": "hunter2prod"}', "hunter2prod"),
    ('{"client_secret": "q8Fz2LmN7vR4tY1wX9bC"}', "q8Fz2LmN7vR4tY1wX9bC"),
    ('{"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG"}', "wJalrXUtnFEMI/K7MDENG"),
    ('password = "correct horse battery staple"', "horse battery staple"),
    ("password = 'a \\' quote in it'", "quote in it"),
    ('{"password": "a\\"b c d"}', "b c d"),
    ("userPassword=hunter2prod", "hunter2prod"),
    ("export GITHUB_TOKEN=abc123def", "abc123def"),
    ("my password is Hunter2SecretPass", "Hunter2SecretPass"),
    ("The passphrase was hunter2, remember it", "hunter2"),
    ("token_v2: abc123def", "abc123def"),
    ("password: letmein\n", "letmein"),
    ('{"password": "123456"}', "123456"),
    ('{"token":{"password":"hunter2prod"}}', "hunter2prod"),
    ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ("sk_live_abcdefghijklmnopQRSTUV", "abcdefghijklmnopQRSTUV"),
])
def test_scrub_masks_the_whole_value_of_a_credential_assignment(written: str, value: str) -> None:
    """From a probe: 7 of 27 credential shapes came through an excerpt raw (a keyword with a
    prefix, `DB_PASSWORD`/`client_secret`; a JSON or YAML key; only the first word of a quoted
    value masked; `my password is X`). The value is masked whole, the key's name is kept."""
    out = scrub(f"config {written} end")
    assert value not in out and "[REDACTED:" in out
    assert out.startswith("config ") and out.endswith(" end")


@pytest.mark.parametrize("prose", [
    "I forgot my password yesterday and had to reset it.",
    "The password is required and must be 12 characters long.",
    "Your password is weak; choose a longer one.",
    "Password managers keep passwords safe.",
    "Set max_tokens: 200 and temperature: 0.7 for this call.",
    "author: Jane Austen, tokenizer: gpt2",
    "The secret is that there is no secret.",
    # from a re-probe: 11 of 11 of these were masked, a JSON object's structure with them
    '{"max_tokens": 256, "token_count": 42}',
    '{"token_usage": {"prompt": 12}}',
    "auth_method: oauth2",
    "password_policy: strong",
    "token_type: Bearer",
    "secret_santa: Alice",
    "The secret: always listen.",
    "auth: see below",
    "token: null",
    "Call the token endpoint with max_tokens=256.",
    "See https://example.com/docs/api-reference/chat-completions-create for details.",
    '{"password": true, "token": 3600, "secret": {"rotate": "daily"}, "api_key": [1.5e3]}',
])
def test_scrub_leaves_prose_about_passwords_alone(prose: str) -> None:
    """Sentences and settings that name a password, a token or a secret but hold none are not
    masked: a name that only holds the keyword (`token_count`, `secret_santa`), a value that is
    a number, true/false/null, an object or a list, a plain word followed by more prose."""
    assert scrub(prose) == prose
