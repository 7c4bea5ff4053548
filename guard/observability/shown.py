"""How guard shows a model name a client chose: in its access line, metric labels and incidents;
and a credential it keeps or matches by (a tenant named by key), by digest."""

from __future__ import annotations

import hashlib
import re

from guard.types import model_key

REDACTED = "[REDACTED]"
DIGEST = re.compile(r"sha256:[0-9a-f]{16}")
# Names already shown, and how: a process sees a few model names, again and again (each request
# shows its name two or three times). Bounded: past it, names are judged each time.
REMEMBERED = 1024
_shown: dict[str, str] = {}
# The groups of a model name (`sk-llama-2-7b-slovak-instruct-v1`): a word, a number, or a short
# mix (a size or a version: `7b`, `v1`, `gpt2`, `q4`). A key has long groups mixing letters and
# digits, or capitals.
_GROUP_SEPARATORS = re.compile(r"[-/:._]+")
_WORD_LIKE = re.compile(r"[a-z]{1,12}|\d{1,8}|[a-z0-9]{1,4}")


def shown_model(name: str | None) -> str | None:
    """`name` as the request named it, or `[REDACTED]` when it holds a key or token of a known
    shape (a client that put its key where the model goes): no log line, metric label or incident
    carries a credential, sent in any case. A name made only of short lower-case words, numbers
    and sizes is no key (`sk-llama-2-7b-slovak-instruct-v1`)."""
    if not name:
        return name
    shown = _shown.get(name)
    if shown is None:
        shown = _judged(name)
        if len(_shown) < REMEMBERED:
            _shown[name] = shown
    return shown


def digest(value: str) -> str:
    """A credential as guard names it (a tenant named by key, a model name holding a key):
    `sha256:` and the first 16 hex digits of its digest."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def matched_model(name: str) -> str:
    """`name` as kill switches and breakers keep and match it: `model_key`, or `sha256:` and 16
    hex digits of that when `shown_model` hides it (a breaker scoped `model:{model}` then stops
    a client that sent its key as the model, in any case, without writing the key into the
    switch: every spelling folds to one key, and so to one digest)."""
    key = model_key(name)
    return digest(key) if shown_model(name) == REDACTED else key


def _judged(name: str) -> str:
    # imported here: the classifiers cost ~0.8 s to import, and the commands that read
    # incidents or metrics (`guard incidents export`, the kill switch CLI) need none of them
    from guard.classify.builtin.secrets import holds_key

    # a key sent upper-cased (`SK-PROJ-…`) has no key's shape as sent: judged case folded too
    held = any(holds_key(form) and not _words(form) for form in {name, name.lower()})
    return REDACTED if held else name


def _words(name: str) -> bool:
    """Whether `name` is made only of word-like groups (`_WORD_LIKE`): `sk-` and 20 characters of
    them read as an OpenAI key's shape, but a key is never written so."""
    return all(_WORD_LIKE.fullmatch(group) for group in _GROUP_SEPARATORS.split(name) if group)
