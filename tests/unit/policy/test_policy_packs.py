"""Every case of every `*_test.yaml` under policies/ runs as its own pytest item."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from guard.classify.models.loader import load_model
from guard.errors import PolicyError
from guard.policy.policy_set import load_policies
from guard.policy.testing import CaseRunner, LoadedCase, PolicyCache, iter_cases

POLICIES = Path(__file__).resolve().parents[3] / "policies"
ITEMS = list(iter_cases(POLICIES))
SHARED = PolicyCache()


def _id(item: LoadedCase | PolicyError) -> str:
    return item.id if isinstance(item, LoadedCase) else f"malformed:{item}"


@pytest.mark.parametrize("item", ITEMS, ids=_id)
async def test_policy_case(item: LoadedCase | PolicyError) -> None:
    """The shipped policy decides this case the way its test file says."""
    if isinstance(item, PolicyError):
        pytest.fail("\n".join(item.errors))
    runner = CaseRunner(cache=SHARED)
    try:
        result = await runner.run(item)
    finally:
        await runner.aclose()
    assert result.passed, f"{item.file}:{item.line}: " + "; ".join(result.failures)


def test_shipped_directory_loads() -> None:
    """policies/ loads as a set (what `guard serve` loads by default), with default.yaml first."""
    policies = load_policies(POLICIES)
    assert policies.default.name == "default"


@pytest.mark.parametrize("name", ["default", "strict"])
def test_pack_has_at_least_30_cases(name: str) -> None:
    """Each shipped pack keeps a test file of at least 30 cases."""
    cases = [i for i in ITEMS if isinstance(i, LoadedCase) and i.file.name == f"{name}_test.yaml"]
    assert len(cases) >= 30


def _docs_cases() -> list[dict[str, object]]:
    """The cases of the test-file example in docs/policies.md ("Testing policies")."""
    text = (POLICIES.parent / "docs" / "policies.md").read_text(encoding="utf-8")
    section = text[text.index("## Testing policies"):]
    block = section[section.index("```yaml") + len("```yaml"):]
    cases: list[dict[str, object]] = yaml.safe_load(block[:block.index("```")])["cases"]
    return cases


async def test_the_docs_example_of_a_case_with_a_prompt_holds_on_the_strict_pack(
        tmp_path: Path) -> None:
    """From a probe: the docs' example of an answer read with its request failed against the
    strict pack (its prompt was blocked, the answer passed); it is now strict_test.yaml's case."""
    cases = [c for c in _docs_cases() if "prompt" in c]
    assert cases
    (tmp_path / "strict.yaml").write_text((POLICIES / "strict.yaml").read_text())
    (tmp_path / "strict_test.yaml").write_text(yaml.safe_dump({"cases": cases}))
    runner = CaseRunner(cache=SHARED)
    try:
        results = [await runner.run(item) for item in iter_cases(tmp_path)]
    finally:
        await runner.aclose()
    assert [r.failures for r in results] == [()] * len(cases)


# Pack classifiers that run a trained model at its dev-tuned threshold (rounded up to 3 decimals):
# a retraining that moves the threshold must move the pack with it. The jailbreak model runs at a
# deliberately lower 0.2 (see the packs' comments), so it is not listed.
AT_MODEL_THRESHOLD = {"harmful_request": "harmful_request", "prompt_injection_model": "prompt_injection"}


@pytest.mark.parametrize("pack", ["default.yaml", "strict.yaml"])
def test_packs_use_the_models_dev_thresholds(pack: str) -> None:
    """Each pack's trained-model threshold is its model's current dev threshold, rounded up; a
    second, gated reading of the same model (strict's `harmful_in_doubt`) its looser point."""
    classifiers = yaml.safe_load((POLICIES / pack).read_text())["classifiers"]
    checked = 0
    for spec in classifiers.values():
        model = AT_MODEL_THRESHOLD.get(spec.get("type"))
        if model is None:
            continue
        loaded = load_model(model)
        point = loaded.meta["threshold_benign_budget_only"] if "gate" in spec else loaded.threshold
        assert spec["threshold"] == math.ceil(point * 1000) / 1000, spec
        checked += 1
    assert checked >= 1
