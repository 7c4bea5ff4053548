"""One module per API dialect. Each finds the texts of a body and writes changed texts back."""

from __future__ import annotations

from guard.proxy.protocols.anthropic_messages import MESSAGES
from guard.proxy.protocols.base import Dialect
from guard.proxy.protocols.openai_chat import CHAT
from guard.proxy.protocols.openai_completions import COMPLETIONS
from guard.proxy.protocols.openai_responses import RESPONSES

DIALECTS: dict[str, Dialect] = {d.route: d for d in (CHAT, COMPLETIONS, RESPONSES, MESSAGES)}

__all__ = ["DIALECTS", "Dialect"]
