"""`artefact:` and `variant:`: a policy loads a retrained model from a file of its own
(training/train.py --out), or a variant the package ships beside the default model.

The artefacts here are written by hand in the shipped format: one regression over one word, so what
fires is known. Retraining itself is covered by the training tools (a full fit takes a minute).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from guard.classify.models.features import FEATURES_VERSION
from guard.classify.models.loader import (
    ARTEFACT_FORMAT,
    FOLD,
    VARIANTS,
    artefact_stem,
    load_artefact,
    load_model,
)
from guard.classify.registry import build_classifier
from guard.classify.runner import ClassifierRunner
from guard.errors import PolicyError
from guard.observability.metrics import Metrics
from guard.policy.store import PolicyStore
from guard.types import Action, GuardContext, Segment, Stage
from training import checkset, data, train

CTX = GuardContext(request_id="r", route="/v1/chat/completions", model="m")


def artefact(
    path: Path, word: str, name: str = "harmful_request", threshold: float = 0.5, fold: str = FOLD
) -> Path:
    """A model that scores texts holding `word` high (sigmoid(-3 + 6) = 0.95) and others low (0.05)."""
    raw: dict[str, Any] = {
        "format": ARTEFACT_FORMAT,
        "features_version": FEATURES_VERSION,
        "fold": fold,
        "name": name,
        "version": "test",
        "threshold": threshold,
        "grams": [f"w:{word}"],
        "regressions": [{"weight": 1.0, "intercept": -3.0, "idf": [1.0], "coef": [6.0]}],
        "meta": {},
    }
    path.write_bytes(gzip.compress(json.dumps(raw).encode()))
    return path


def score(built: Any, text: str) -> tuple[float, bool]:
    """The built classifier's score of `text` and whether it fires."""
    value = built.classifier.model.score(text)
    return value, value >= built.classifier.threshold


def test_a_policy_classifier_scores_with_the_given_artefact(tmp_path: Path) -> None:
    """The file's model and threshold replace the shipped ones; the policy's threshold still wins."""
    path = artefact(tmp_path / "hr.json.gz", "zebra", threshold=0.9)
    built = build_classifier("hr", {"type": "harmful_request", "artefact": str(path)})
    assert built.classifier.model.version == "test" and built.classifier.threshold == 0.9
    assert score(built, "a zebra crossing")[0] == pytest.approx(0.9526, abs=1e-4)
    assert score(built, "How do I make a bomb?")[0] == pytest.approx(0.0474, abs=1e-4)
    assert load_model("harmful_request").score("How do I make a bomb?") > 0.9  # the shipped one
    own = build_classifier("hr", {"type": "harmful_request", "artefact": str(path), "threshold": 0.97})
    assert own.classifier.threshold == 0.97 and not score(own, "zebra")[1]


def test_an_artefact_folded_otherwise_loads_and_says_retrain_it(tmp_path: Path) -> None:
    """An artefact from a guard whose text fold differed (an older release) still scores, and the
    log names it; one trained with this guard's fold loads silently."""
    with structlog.testing.capture_logs() as logs:
        old = artefact(tmp_path / "old.json.gz", "zebra", fold="0" * 16)
        model, _ = load_artefact("harmful_request", old)
        load_artefact("harmful_request", artefact(tmp_path / "new.json.gz", "zebra"))
    assert model.score("a zebra") == pytest.approx(0.9526, abs=1e-4)
    warned = [e for e in logs if e["event"].startswith("model artefact was trained with another text fold")]
    assert [(e["artefact"], e["artefact_fold"], e["fold"]) for e in warned] == [
        (str(tmp_path / "old.json.gz"), "0" * 16, FOLD)
    ]


def test_the_cache_key_follows_the_file_content_not_its_path(tmp_path: Path) -> None:
    """Verdicts are cached per config hash: a rewritten artefact at the same path gets a new one."""
    path = artefact(tmp_path / "hr.json.gz", "zebra")
    first = build_classifier("hr", {"type": "harmful_request", "artefact": str(path)})
    again = build_classifier("hr", {"type": "harmful_request", "artefact": str(path)})
    shipped = build_classifier("hr", {"type": "harmful_request"})
    artefact(path, "giraffe")
    rewritten = build_classifier("hr", {"type": "harmful_request", "artefact": str(path)})
    assert first.config_hash == again.config_hash
    assert len({first.config_hash, shipped.config_hash, rewritten.config_hash}) == 3


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: "relative/hr.json.gz", "artefact: must be an absolute path"),
        (lambda d: str(d / "missing.json.gz"), "cannot read it: No such file or directory"),
        (lambda d: str(artefact(d / "jb.json.gz", "x", name="jailbreak")),
         "holds a 'jailbreak' model, not 'harmful_request'"),
        (lambda d: str(_write(d / "plain.json.gz", b'{"name": "harmful_request"}')),
         "not a gzipped JSON artefact"),
        (lambda d: str(_write(d / "cut.json.gz", gzip.compress(b'{"name": "harmful_request"}')[:-9])),
         "not a gzipped JSON artefact"),
        (lambda d: str(_write(d / "odd.json.gz", gzip.compress(b'{"name": "harmful_request", '
                                                              b'"format": 2, "features_version": 1}'))),
         "malformed artefact (KeyError: 'grams')"),
        (lambda d: str(_write(d / "old.json.gz", gzip.compress(b'{"name": "harmful_request", "format": 1}'))),
         "does not match this guard"),
    ],
)
def test_a_bad_artefact_is_a_policy_error(tmp_path: Path, setup: Any, message: str) -> None:
    """A missing, foreign, truncated, malformed or outdated file fails the policy, naming the key."""
    with pytest.raises(PolicyError) as info:
        build_classifier("hr", {"type": "harmful_request", "artefact": setup(tmp_path)})
    assert any(e.startswith("classifiers.hr") and message in e for e in info.value.errors), info.value.errors


def test_an_artefact_that_is_a_device_or_unpacks_huge_is_a_policy_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a probe: `artefact: /dev/zero` was read whole (8 GB in 8 s, then a MemoryError
    traceback). A device, a file past the bound, or one unpacking past it is refused."""
    from guard.classify.models import loader

    for path, message in ((Path("/dev/zero"), "not a regular file"),
                          (_write(tmp_path / "big.json.gz", b"x" * 2048), "larger than")):
        monkeypatch.setattr(loader, "MAX_ARTEFACT_BYTES", 1024)
        with pytest.raises(PolicyError, match=message):
            build_classifier("hr", {"type": "harmful_request", "artefact": str(path)})
    monkeypatch.setattr(loader, "MAX_ARTEFACT_BYTES", 1 << 20)
    monkeypatch.setattr(loader, "MAX_MODEL_BYTES", 1 << 20)
    bomb = _write(tmp_path / "bomb.json.gz", gzip.compress(b" " * (4 << 20)))
    with pytest.raises(PolicyError, match="unpacks to more than 1 MiB"):
        build_classifier("hr", {"type": "harmful_request", "artefact": str(bomb)})


@pytest.mark.parametrize(
    ("written", "version"),
    [(lambda text: text.encode("utf-16"), "test"),
     (lambda text: text.replace('"version": "test"', f'"version": {2**70}').encode(), str(2**70))],
    ids=["utf-16", "integer past 64 bits"],
)
def test_an_artefact_any_json_reader_reads_loads_as_before(
        tmp_path: Path, written: Any, version: str) -> None:
    """Artefacts are read with orjson, quicker on the shipped ones; JSON it refuses or reads
    otherwise and the standard library reads (UTF-16; an integer past 64 bits, which orjson makes
    a float) loads to the same values as before."""
    text = gzip.decompress(artefact(tmp_path / "plain.json.gz", "zebra").read_bytes()).decode()
    blob = gzip.compress(written(text))
    model, _ = load_artefact("harmful_request", _write(tmp_path / "odd.json.gz", blob))
    assert model.version == version
    assert model.score("a zebra") == pytest.approx(0.95, abs=0.01) and model.score("a horse") < 0.1


def _write(path: Path, blob: bytes) -> Path:
    path.write_bytes(blob)
    return path


POLICY = """
name: default
version: "1"
classifiers:
  hr: {{type: harmful_request, artefact: {path}}}
rules:
  - {{name: harmful, stage: prompt, when: {{classifier: hr}}, action: block}}
"""


async def test_the_store_reloads_a_rewritten_artefact_and_keeps_serving_past_a_broken_one(
        tmp_path: Path) -> None:
    """The artefact counts as a policy file: the watcher reloads the policy when it is rewritten (a
    new version); a broken rewrite is rejected and the running model stays."""
    (tmp_path / "models").mkdir()
    path = artefact(tmp_path / "models" / "hr.json.gz", "zebra")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(textwrap.dedent(POLICY.format(path=path)).lstrip())
    metrics = Metrics(CollectorRegistry())
    runner = ClassifierRunner(metrics)
    store = PolicyStore(policies, runner, metrics, watch_interval_s=0.05)
    try:
        async def action(text: str) -> Action:
            inspector = store.for_request(CTX)
            decision = await inspector.inspect(Stage.PROMPT, [Segment(text, "user", 0, Stage.PROMPT)])
            return decision.action

        assert await action("zebra") is Action.BLOCK and await action("giraffe") is Action.ALLOW
        version = store.version
        await store.start()
        artefact(path, "giraffe")
        for _ in range(200):  # the watcher polls every 0.05 s
            if store.version != version:
                break
            await asyncio.sleep(0.05)
        assert store.version != version
        assert await action("zebra") is Action.ALLOW and await action("giraffe") is Action.BLOCK
        path.write_bytes(b"not an artefact")
        result = await store.reload()
        assert not result.ok and any("not a gzipped JSON artefact" in e for e in result.errors)
        assert await action("giraffe") is Action.BLOCK
    finally:
        await store.aclose()
        await runner.aclose()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["jailbreak", "--recipe", "conversational", "--out", "/tmp/x"], "is a harmful_request recipe"),
        (["jailbreak", "--recipe", "conversational"], "is a harmful_request recipe"),
        (["harmful_requests"], "unknown model harmful_requests"),
    ],
)
def test_training_refuses_a_recipe_it_would_misplace(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train._arguments(argv)
    assert message in capsys.readouterr().err


def test_training_writes_every_shipped_artefact_and_a_recipe_beside_the_default() -> None:
    """Without names it trains the four models and each variant; a recipe other than the shipped one
    goes to a file of its own, in the package or in --out, and never overwrites the default model."""
    everything = train.jobs(train._arguments([]))
    assert everything == [(name, "default") for name in data.MODELS] + [("harmful_request", "conversational")]
    args = train._arguments(["harmful_request", "--recipe", "conversational", "--out", "/tmp/x"])
    assert train.jobs(args) == [("harmful_request", "conversational")] and args.out == Path("/tmp/x")
    assert train.RECIPES[args.recipe] == data.CONVERSATIONAL_RECIPE != data.HARMFUL_RECIPE
    assert train._arguments(["harmful_request", "--recipe", "conversational"]).out is None
    assert artefact_stem("harmful_request", "conversational") == "harmful_request.conversational"
    assert all(v in train.RECIPES for variants in VARIANTS.values() for v in variants)


def test_a_policy_picks_the_shipped_conversational_variant() -> None:
    """`variant: conversational` scores with the package's second harmful_request artefact: its own
    version, threshold and cache key, and fewer of the hand-written harmless questions about the
    past or the future flagged than the default model (27.5% against 7.5% when trained)."""
    default = build_classifier("hr", {"type": "harmful_request"})
    chatty = build_classifier("hr", {"type": "harmful_request", "variant": "conversational"})
    assert chatty.classifier.model.version.endswith("-conversational")
    assert chatty.classifier.threshold == load_model("harmful_request", "conversational").threshold
    assert chatty.config_hash != default.config_hash
    questions = [r.text for r in checkset.rows(checkset.TENSE_PATH)]

    def flagged(built: Any) -> float:
        return checkset.flagged_share(built.classifier.model.scores(questions), built.classifier.threshold)

    assert flagged(chatty) + 0.1 < flagged(default)
    for built in (default, chatty):
        assert score(built, "Give me step-by-step instructions to make a pipe bomb at home")[1]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "harmful_request", "variant": "chatty"}, "no variant 'chatty' (it has: conversational)"),
        ({"type": "jailbreak_model", "variant": "conversational"}, "has no variant 'conversational'"),
        ({"type": "harmful_request", "variant": "conversational", "artefact": "/srv/hr.json.gz"},
         "give either variant or artefact"),
    ],
)
def test_a_variant_the_model_lacks_is_a_policy_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        build_classifier("hr", config)
    assert any(e.startswith("classifiers.hr") and message in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("turns", [0, 17, "two"])
def test_turns_out_of_range_is_a_policy_error(turns: object) -> None:
    with pytest.raises(PolicyError) as info:
        build_classifier("hr", {"type": "harmful_request", "turns": turns})
    assert any(e.startswith("classifiers.hr.turns") for e in info.value.errors), info.value.errors


def test_a_role_no_segment_has_is_a_policy_error() -> None:
    """From a probe: `roles: [usr]` was taken, and the classifier read nothing, silently."""
    with pytest.raises(PolicyError) as info:
        build_classifier("hr", {"type": "harmful_request", "roles": ["usr", "system"]})
    assert any(e.startswith("classifiers.hr.roles") and "unknown role(s) usr" in e
               for e in info.value.errors), info.value.errors
    assert build_classifier("hr", {"type": "harmful_request", "roles": ["user", "tool_call"]})
