"""shown_model: a model name is shown as the request named it unless it holds a key."""

from __future__ import annotations

import pytest

from guard.observability.shown import REDACTED, shown_model


@pytest.mark.parametrize("name", [
    "sk-llama-2-7b-slovak-instruct-v1", "sk-gpt2-distilled-news-summarizer",
    "org/sk-bert-base-cased-finetuned-ner", "sk-mistral-7b-instruct-v0.2-q4",
    "gpt-4o-2024-08-06", "ft:gpt-4o-2024-08-06:acme::AbC123xyz",
])
def test_a_model_name_of_words_is_shown_as_named(name: str) -> None:
    """From a re-probe: `sk-` and 20 characters of words joined by hyphens read as an OpenAI key,
    and `sk-llama-2-7b-slovak-instruct-v1` was shown `[REDACTED]` in logs, metrics and incidents.
    A name made only of short lower-case words, numbers and sizes (`7b`, `v1`) is no key."""
    assert shown_model(name) == name


@pytest.mark.parametrize("name", [
    "sk-proj-Zq8Xw2Lr5Tn9Vb3Mc7Kp1Hs6Jd4Fg0Ay", "AKIAZ7QX3RPL5MNV2KJD",
    "sk-x9k2m4p7q1w8e3r6t5y0", "sk-llama-x9k2m4p7q1w8e3r6t5y0", "sk-a1b2c3d4-e5f6a7b8-c9d0e1f2",
])
def test_a_model_name_holding_a_key_is_redacted(name: str) -> None:
    """Keys, also lower-case ones and ones in groups, stay `[REDACTED]`."""
    assert shown_model(name) == REDACTED


@pytest.mark.parametrize("name", [
    "SK-PROJ-ZQ8XW2LR5TN9VB3MC7KP1HS6JD4FG0AY", "GHP_ZQ8XW2LR5TN9VB3MC7KP1HS6JD4FG0AYB3MC",
])
def test_a_key_sent_upper_cased_is_redacted(name: str) -> None:
    """From a re-probe: a key sent upper-cased as the model has no key's shape as sent, and was
    shown as sent in access lines, metric labels and incidents (the breaker already folded it)."""
    assert shown_model(name) == REDACTED


@pytest.mark.parametrize("name", ["GPT-4O-2024-08-06", "SK-LLAMA-2-7B-SLOVAK-INSTRUCT-V1",
                                  "META-LLAMA/LLAMA-3.1-8B-INSTRUCT"])
def test_a_model_name_of_words_upper_cased_is_shown_as_named(name: str) -> None:
    assert shown_model(name) == name
