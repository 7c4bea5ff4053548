"""Where common model servers answer with a model's text on a route guard does not guard: the
OpenAI routes spelled bare or under another prefix (LiteLLM's `/chat/completions`, its
`/engines/{model}/...` and Azure-shaped `/openai/deployments/{model}/...`; llama.cpp's
`/completion` and `/infill`), Anthropic's under another prefix, Ollama's `/api/chat` and
`/api/generate`, TGI's, SGLang's and vLLM's `/generate` (`POST /` too, on TGI) and SageMaker's
`/invocations` (vLLM, SGLang, TGI). A `passthrough:` template matching one (`/{tail:.*}`) would
forward a prompt and its answer unread: `passthrough.check_path` refuses them, and
`config_load.broad_passthrough` warns of a template that reaches beyond /v1/."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """A path shape (matched whole against a path as servers read it, in lower case), the
    servers that answer a model's text there, and the guarded route it does the work of.
    `methods`: the methods it answers (None: any)."""

    pattern: re.Pattern[str]
    servers: str
    like: str
    methods: frozenset[str] | None = None


MODEL_ROUTES = (
    ModelRoute(re.compile(r"(/.+)?/chat/completions"),
               "LiteLLM, llama.cpp, LM Studio, Azure OpenAI", "/v1/chat/completions"),
    ModelRoute(re.compile(r"(/.+)?/completions|/completion|/infill"),
               "LiteLLM, llama.cpp, Azure OpenAI", "/v1/completions"),
    ModelRoute(re.compile(r"(/.+)?/responses"), "LiteLLM, Azure OpenAI", "/v1/responses"),
    ModelRoute(re.compile(r"/.+/v1/messages"), "LiteLLM and other gateways", "/v1/messages"),
    ModelRoute(re.compile(r"/api/chat"), "Ollama", "/v1/chat/completions"),
    ModelRoute(re.compile(r"(/.+)?/generate(_stream)?"), "Ollama, TGI, SGLang, vLLM",
               "/v1/completions"),
    ModelRoute(re.compile(r"(/.+)?/invocations"), "SageMaker's (vLLM, SGLang, TGI)",
               "/v1/chat/completions"),
    ModelRoute(re.compile(r"/"), "TGI", "/v1/completions", methods=frozenset({"POST"})),
)


# the guarded routes those do the work of: a path at or under one is guard's to read
GUARDED = frozenset(route.like for route in MODEL_ROUTES)


def under_guarded(path: str) -> str | None:
    """The guarded route `path` is, or is under (as spelled, in lower case)."""
    path = path.casefold()
    return next((like for like in sorted(GUARDED)
                 if path == like or path.startswith(like + "/")), None)


def model_route(read: str, method: str | None = None) -> ModelRoute | None:
    """The model route a path (as servers read it) is, asked with `method` (None: any); None
    for a path at or under a guarded route."""
    read = read.casefold()
    if any(read == like or read.startswith(like + "/") for like in GUARDED):
        return None
    return next((route for route in MODEL_ROUTES if route.pattern.fullmatch(read) and (
        method is None or route.methods is None or method in route.methods)), None)
