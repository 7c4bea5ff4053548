"""Every case of every `*_test.yaml` under policies/ runs as its own pytest item."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.errors import PolicyError
from guard.policy.loader import LoadedPolicy, load_policies
from guard.policy.testing import CaseRunner, LoadedCase, iter_cases

POLICIES = Path(__file__).resolve().parents[3] / "policies"
ITEMS = list(iter_cases(POLICIES))
SHARED: dict[Path, LoadedPolicy] = {}


def _id(item: LoadedCase | PolicyError) -> str:
    return item.id if isinstance(item, LoadedCase) else f"malformed:{item}"


@pytest.mark.parametrize("item", ITEMS, ids=_id)
async def test_policy_case(item: LoadedCase | PolicyError) -> None:
    """The shipped policy decides this case the way its test file says."""
    if isinstance(item, PolicyError):
        pytest.fail("\n".join(item.errors))
    runner = CaseRunner(policies=SHARED)
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
