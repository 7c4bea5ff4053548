"""The registry: building classifiers from policy entries, and errors that name the key path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import guard
from guard.classify import registry
from guard.classify.registry import BUILTINS, build_classifier, code_fingerprint, known_types
from guard.errors import PolicyError
from guard.types import Classifier


def test_builtins_are_known() -> None:
    """Every built-in type is listed by known_types()."""
    assert set(BUILTINS) <= set(known_types())


def test_build_applies_common_keys_and_own_config() -> None:
    """Common keys go to the spec, the rest to the type's config; the result is a Classifier."""
    built = build_classifier("words", {"type": "keywords", "terms": ["x"], "timeout_s": 0.3,
                                       "on_error": "fail_closed"})
    assert built.name == "words" and built.spec.timeout_s == 0.3
    assert built.spec.on_error == "fail_closed" and built.spec.cache
    assert isinstance(built.classifier, Classifier)
    assert built.classifier.name == "words"


def test_config_hash_is_stable_and_config_sensitive() -> None:
    """Equal configs hash alike (whatever the instance name); different configs do not."""
    a = build_classifier("a", {"type": "keywords", "terms": ["x"]})
    b = build_classifier("b", {"type": "keywords", "terms": ["x"]})
    c = build_classifier("c", {"type": "keywords", "terms": ["y"]})
    assert a.config_hash == b.config_hash != c.config_hash


def test_code_fingerprint_changes_with_any_classifier_source(tmp_path: Path) -> None:
    """One byte changed in a classifier's source changes the code fingerprint."""
    package = Path(guard.__file__).parent
    shutil.copytree(package / "classify", tmp_path / "classify")
    shutil.copy(package / "types.py", tmp_path / "types.py")
    assert code_fingerprint(tmp_path) == registry.CODE_FINGERPRINT
    secrets = tmp_path / "classify" / "builtin" / "secrets.py"
    secrets.write_bytes(secrets.read_bytes() + b"\n")
    assert code_fingerprint(tmp_path) != registry.CODE_FINGERPRINT


def test_config_hash_carries_the_code_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same config built by other code hashes apart: a shared cache never mixes their verdicts."""
    before = build_classifier("s", {"type": "secrets"}).config_hash
    monkeypatch.setattr(registry, "CODE_FINGERPRINT", "other code")
    assert build_classifier("s", {"type": "secrets"}).config_hash != before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "nope"}, "classifiers.x.type: unknown classifier type 'nope' (expected one of"),
        ({"type": "secret"}, "classifiers.x.type: unknown classifier type 'secret' (did you mean "
         "secrets?)"),
        ({}, "classifiers.x.type: missing"),
        ({"type": "keywords", "terms": ["a"], "colour": 1},
         "classifiers.x.colour: unknown key (expected one of: type, timeout_s, on_error, cache, "
         "normalize, gate, lists, terms,"),
        ({"type": "keywords", "lists": [{"terms": ["a"], "lable": "x"}]},
         "classifiers.x.lists[0].lable: unknown key (did you mean label?)"),
        ({"type": "keywords", "terms": ["a"], "gate": {"classifier": "g", "min_scor": 0.2}},
         "classifiers.x.gate.min_scor: unknown key (did you mean min_score?)"),
        ({"type": "keywords", "terms": ["a"], "gate": {"classifier": "g", "zzz": 0.2}},
         "classifiers.x.gate.zzz: unknown key (expected one of: classifier, min_score)"),
        ({"type": "pii", "entities": ["phnoe"]}, "Input should be 'email', 'phone', 'card', 'iban', "
         "'ssn' or 'ip' (got 'phnoe')"),
        ({"type": "harmful_request", "roles": 3}, "classifiers.x.roles: Input should be a list "
         "(got 3)"),
        ({"type": "keywords", "terms": ["a"], "on_error": "retry"}, "classifiers.x.on_error:"),
        ({"type": "regex", "patterns": ["ok", "(a"]},
         "classifiers.x.patterns[1].pattern: invalid pattern"),
        ({"type": "regex", "patterns": ["(a)\\1"]}, "invalid pattern (RE2 syntax)"),
        ({"type": "keywords"}, "classifiers.x: give `terms` or `lists`"),
        ({"type": "keywords", "terms": ["a"], "timeout_s": 0}, "classifiers.x.timeout_s: must be"),
        ({"type": "webhook", "url": "http://h/", "timeout_s": float("nan")},
         "classifiers.x.timeout_s: must be a finite number"),
        ({"type": "webhook", "url": "http://h/", "timeout_s": float("inf")},
         "classifiers.x.timeout_s: must be a finite number"),
    ],
)
def test_invalid_entries_name_the_key_path(raw: dict[str, object], message: str) -> None:
    """A broken classifier entry raises PolicyError naming the key path and the reason."""
    with pytest.raises(PolicyError) as info:
        build_classifier("x", raw)
    assert any(message in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(("raw", "key"), [
    ({"type": "pii", "entities": "email"}, "entities"),
    ({"type": "keywords", "terms": "alpha"}, "terms"),
    ({"type": "keywords", "lists": [{"terms": "alpha", "label": "a"}]}, "lists"),
    ({"type": "harmful_request", "roles": "user"}, "roles"),
])
def test_a_single_string_reads_as_a_one_item_list(raw: dict[str, Any], key: str) -> None:
    """From a probe: the docs say a single string works wherever a list is expected, and
    `entities: email`, `terms: alpha`, `roles: user` were errors in a classifier's settings;
    each now builds the classifier the one-item list builds."""
    value = raw[key]
    listed = [{**value[0], "terms": [value[0]["terms"]]}] if key == "lists" else [value]
    assert (build_classifier("x", raw).config_hash
            == build_classifier("x", {**raw, key: listed}).config_hash)
