"""How guard shows a model name a client chose: in its access line, metric labels and incidents."""

from __future__ import annotations

from guard.classify.builtin.secrets import holds_key

REDACTED = "[REDACTED]"


def shown_model(name: str | None) -> str | None:
    """`name` as the request named it, or `[REDACTED]` when it holds a key or token of a known
    shape (a client that put its key where the model goes): no log line, metric label or
    incident carries a credential."""
    return REDACTED if name and holds_key(name) else name
