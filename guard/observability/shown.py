"""How guard shows a model name a client chose: in its access line, metric labels and incidents."""

from __future__ import annotations

REDACTED = "[REDACTED]"
# Names already shown, and how: a process sees a few model names, again and again (each request
# shows its name two or three times). Bounded: past it, names are judged each time.
REMEMBERED = 1024
_shown: dict[str, str] = {}


def shown_model(name: str | None) -> str | None:
    """`name` as the request named it, or `[REDACTED]` when it holds a key or token of a known
    shape (a client that put its key where the model goes): no log line, metric label or
    incident carries a credential."""
    if not name:
        return name
    shown = _shown.get(name)
    if shown is None:
        shown = _judged(name)
        if len(_shown) < REMEMBERED:
            _shown[name] = shown
    return shown


def _judged(name: str) -> str:
    # imported here: the classifiers cost ~0.8 s to import, and the commands that read
    # incidents or metrics (`guard incidents export`, the kill switch CLI) need none of them
    from guard.classify.builtin.secrets import holds_key

    return REDACTED if holds_key(name) else name
