"""The contracts of guard.types."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from guard.types import GuardContext, Verdict


def test_guard_context_reads_back_every_field_and_stays_frozen() -> None:
    """GuardContext's own __init__ sets each field to what it was given, takes every field (one
    added later is not left unset), and no field can be assigned afterwards."""
    fields = [field.name for field in dataclasses.fields(GuardContext)]
    assert list(inspect.signature(GuardContext).parameters) == fields
    verdicts = (Verdict("inj", 0, frozenset(), 0.5),)
    given = {"request_id": "r", "route": "/v1/chat/completions", "model": "m", "tenant": "t",
             "stream": True, "prompt_verdicts": verdicts, "model_unknown": True}
    ctx = GuardContext(**given)
    assert {name: getattr(ctx, name) for name in fields} == given
    defaults = GuardContext("r", "/v1/chat/completions", "m")
    assert (defaults.tenant, defaults.stream, defaults.prompt_verdicts,
            defaults.model_unknown) == (None, False, (), False)
    assert dataclasses.replace(ctx, model="n") == GuardContext(**{**given, "model": "n"})
    for name in fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(ctx, name, None)
