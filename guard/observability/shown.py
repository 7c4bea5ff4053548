"""How guard shows a model name a client chose: in its access line, metric labels and incidents."""

from __future__ import annotations

REDACTED = "[REDACTED]"


def shown_model(name: str | None) -> str | None:
    """`name` as the request named it, or `[REDACTED]` when it holds a key or token of a known
    shape (a client that put its key where the model goes): no log line, metric label or
    incident carries a credential."""
    if not name:
        return name
    # imported here: the classifiers cost ~0.8 s to import, and the commands that read
    # incidents or metrics (`guard incidents export`, the kill switch CLI) need none of them
    from guard.classify.builtin.secrets import holds_key

    return REDACTED if holds_key(name) else name
