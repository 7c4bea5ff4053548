"""The data path's checks of a request body before any policy reads it (`proxy.handler`)."""

from __future__ import annotations

import sys

import pytest

from guard.errors import RequestError
from guard.proxy.request_checks import MODEL_RESPELT, check_model_key


def test_the_keys_that_fold_to_model_are_its_ascii_spellings() -> None:
    """No code point but M, O, D, E, L folds to nothing or to a piece of 'model', so the keys a
    case-blind reader takes for `model` are its 32 ASCII spellings: MODEL_RESPELT, less `model`."""
    folding = {c for c in map(chr, range(sys.maxunicode + 1))
               if not "\ud800" <= c <= "\udfff" and c.casefold() != c and c.casefold() in "model"}
    assert folding == set("MODEL")
    assert len(MODEL_RESPELT) == 31
    assert all(key.casefold() == "model" != key for key in MODEL_RESPELT)


def test_a_model_key_in_another_case_is_refused_naming_each() -> None:
    """`Model`, `MODEL` beside `model` are refused (400), named in the body's order."""
    with pytest.raises(RequestError, match=r"'MoDeL' \(reads as 'model'\), 'MODEL' \(reads"):
        check_model_key({"MoDeL": "a", "model": "b", "MODEL": "c"}, b"{}")
    check_model_key({"model": "b", "modelo": "c", "Mode": "d"}, b"{}")
