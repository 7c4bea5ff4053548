"""Where common model servers answer with a model's text on a route guard does not guard: the
OpenAI routes spelled bare or under another prefix (LiteLLM's `/chat/completions`, its
`/engines/{model}/...` and Azure-shaped `/openai/deployments/{model}/...`; llama.cpp's
`/completion` and `/infill`), Anthropic's under another prefix, Ollama's `/api/chat` and
`/api/generate`, TGI's, SGLang's and vLLM's `/generate` (`POST /` too, on TGI) and SageMaker's
`/invocations` (vLLM, SGLang, TGI), KoboldCpp's `/api/extra/generate/stream`, Cohere's
`/v1/chat` and `/v2/chat`, Bedrock's `/model/{model}/converse` and `/invoke`, Gemini's
`/v1beta/models/{model}:generateContent` (LiteLLM). And the APIs that run a model on a prompt
guard does not read: OpenAI's and Anthropic's batches (a file or list of requests run later, their answers
fetched as files), Assistants runs, Responses compaction, evals runs, Anthropic's legacy
`/v1/complete`, speech, image and video generation, Realtime, ChatKit sessions; and those that
store text a guarded request then makes the model read unread (OpenAI's Conversations,
Anthropic's Agent Skills). A `passthrough:` template
matching one (`/v1/{tail:.*}`, `/{tail:.*}`) would forward a prompt, and often its answer,
unread: `passthrough.check_path` refuses them, and `config_load.broad_passthrough` names those a
template reaches."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """A path shape (matched whole against a path as servers read it, in lower case), the
    servers that run a model there, the guarded route it does the work of (None: none does) and
    paths of that shape (`examples`, what a warning names). `methods`: the methods it answers
    (None: any)."""

    pattern: re.Pattern[str]
    servers: str
    like: str | None
    examples: tuple[str, ...]
    methods: frozenset[str] | None = None

    def asked(self, path: str) -> str:
        """A path of it as asked: `POST /v1/batches`."""
        return " ".join([*sorted(self.methods or ()), path])

    def refusal(self) -> str:
        """What runs there, and what to ask instead."""
        if self.like is None:
            return (f"a model runs on a prompt guard does not read: {self.servers}; guard "
                    "forwards no such request")
        return (f"a model's text is answered unguarded: {self.servers}, as on the guarded route "
                f"{self.like}; ask {self.like}")

    def refused(self, path: str) -> str:
        """What guard refuses of `path`, a path of it: `POST /v1/batches`, `every request to
        /v1/realtime`."""
        return self.asked(path) if self.methods else f"every request to {path}"


POST = frozenset({"POST"})


MODEL_ROUTES = (
    ModelRoute(re.compile(r"(/.+)?/chat/completions"),
               "LiteLLM, llama.cpp, LM Studio, Azure OpenAI", "/v1/chat/completions",
               ("/chat/completions", "/openai/deployments/m/chat/completions")),
    # a model runs on these only when POSTed to (`GET /v1/organization/usage/completions` is
    # OpenAI's Usage API); `/chat/completions` lists stored completions on Azure, and Realtime
    # takes a GET, so those are refused to any method
    ModelRoute(re.compile(r"(/.+)?/completions|/completion|/infill"),
               "LiteLLM, llama.cpp, Azure OpenAI", "/v1/completions",
               ("/completions", "/completion", "/infill"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/responses"), "LiteLLM, Azure OpenAI", "/v1/responses",
               ("/responses",), methods=POST),
    ModelRoute(re.compile(r"/.+/v1/messages"), "LiteLLM and other gateways", "/v1/messages",
               ("/anthropic/v1/messages",), methods=POST),
    ModelRoute(re.compile(r"/api/chat"), "Ollama", "/v1/chat/completions", ("/api/chat",),
               methods=POST),
    ModelRoute(re.compile(r"(/.+)?/generate(_stream|/stream)?"),
               "Ollama, TGI, SGLang, vLLM, KoboldCpp", "/v1/completions",
               ("/generate", "/api/generate", "/api/extra/generate/stream"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/v[12]/chat"), "Cohere (LiteLLM's `/cohere/v1/chat` too)",
               "/v1/chat/completions", ("/v1/chat", "/v2/chat", "/cohere/v1/chat"),
               methods=POST),
    ModelRoute(re.compile(r"(/.+)?/model/[^/]+/(converse|invoke)(-stream|-with-response-stream)?"),
               "Amazon Bedrock (LiteLLM's `/bedrock/model/{model}/converse` too)",
               "/v1/chat/completions", ("/model/m/converse", "/bedrock/model/m/invoke"),
               methods=POST),
    ModelRoute(re.compile(r"(/.+)?/invocations"), "SageMaker's (vLLM, SGLang, TGI)",
               "/v1/chat/completions", ("/invocations",), methods=POST),
    ModelRoute(re.compile(r"/"), "TGI", "/v1/completions", ("/",), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/models/[^/]+:(stream)?generatecontent"), "Gemini's API "
               "(LiteLLM's `/v1beta/models/{model}:generateContent`, `/models/...` too)", None,
               ("/v1beta/models/m:generateContent", "/models/m:streamGenerateContent"),
               methods=POST),
    # APIs that run a model on what guard does not read (a file, a thread, a stored batch)
    ModelRoute(re.compile(r"(/.+)?/messages/batches"), "Anthropic's Message Batches (requests "
               "run later, their answers fetched unread)", None, ("/v1/messages/batches",),
               methods=POST),
    ModelRoute(re.compile(r"(/.+)?/batches"), "OpenAI's Batch API (a file's requests run later, "
               "their answers fetched unread as a file)", None, ("/v1/batches",), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/threads(/[^/]+)?/runs(/[^/]+/submit_tool_outputs)?"),
               "OpenAI's Assistants runs (a thread's messages, tool outputs)", None,
               ("/v1/threads/runs", "/v1/threads/thread_1/runs",
                "/v1/threads/thread_1/runs/run_1/submit_tool_outputs"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/responses/compact"), "OpenAI's Responses compaction",
               "/v1/responses", ("/v1/responses/compact",), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/evals/[^/]+/runs"), "OpenAI's evals runs", None,
               ("/v1/evals/eval_1/runs",), methods=POST),
    # `/v1/complete` under any prefix (LiteLLM's `/anthropic/v1/complete`), not any path ending
    # in `/complete` (OpenAI's `POST /v1/uploads/{id}/complete` finishes an upload)
    ModelRoute(re.compile(r"(/.+)?/v1/complete|/complete"), "Anthropic's legacy Text "
               "Completions", "/v1/messages", ("/v1/complete", "/anthropic/v1/complete"),
               methods=POST),
    ModelRoute(re.compile(r"(/.+)?/audio/speech"), "OpenAI's speech", None,
               ("/v1/audio/speech",), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/images/(generations|edits)"), "OpenAI's image generation",
               None, ("/v1/images/generations", "/v1/images/edits"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/videos(/[^/]+/remix)?"), "OpenAI's video generation", None,
               ("/v1/videos", "/v1/videos/video_1/remix"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/realtime(/.*)?"), "OpenAI's Realtime API (a session, or a "
               "key to one, that talks to the model past guard)", None,
               ("/v1/realtime", "/v1/realtime/sessions", "/v1/realtime/client_secrets")),
    ModelRoute(re.compile(r"(/.+)?/chatkit/sessions"), "OpenAI's ChatKit (a key to a session "
               "that talks to the model past guard)", None, ("/v1/chatkit/sessions",),
               methods=POST),
    # text stored upstream that a guarded route's request then makes the model read unread
    # (`conversation`, an `item_reference`; Anthropic's `container.skills`)
    ModelRoute(re.compile(r"(/.+)?/conversations(/[^/]+/items)?"), "OpenAI's Conversations (items "
               "stored for a response that names the conversation)", None,
               ("/v1/conversations", "/v1/conversations/conv_1/items"), methods=POST),
    ModelRoute(re.compile(r"(/.+)?/skills(/[^/]+/versions)?"), "Anthropic's Agent Skills "
               "(instructions stored for a message that names the skill)", None,
               ("/v1/skills", "/v1/skills/skill_1/versions"), methods=POST),
)


# the guarded routes those do the work of: a path at or under one is guard's to read
GUARDED = frozenset(route.like for route in MODEL_ROUTES if route.like is not None)


# paths under a guarded route that keep no prompt or answer: counts of a prompt's tokens, the list
# of message batches
UNSTORED = frozenset({"/v1/responses/input_tokens", "/v1/messages/count_tokens",
                      "/v1/messages/batches"})


def under_guarded(path: str) -> str | None:
    """The guarded route `path` is, or is under (as spelled, in lower case), where an upstream
    keeps prompts or answers (not one of `UNSTORED`)."""
    path = path.casefold()
    if path in UNSTORED:
        return None
    return next((like for like in sorted(GUARDED)
                 if path == like or path.startswith(like + "/")), None)


def model_route(read: str, method: str | None = None) -> ModelRoute | None:
    """The model route a path (as servers read it) is, asked with `method` (None: any); None
    for a guarded route itself (a path under one is a model route only where its API runs a
    model: `/v1/messages/batches`, `/v1/responses/compact`)."""
    read = read.casefold()
    if read in GUARDED:
        return None
    return next((route for route in MODEL_ROUTES if route.pattern.fullmatch(read) and (
        method is None or route.methods is None or method in route.methods)), None)


def reached(template: str) -> list[str]:
    """The model routes a `passthrough:` template matches, as asked (`POST /v1/batches`)."""
    pattern = path_pattern(template)
    return [route.asked(path) for route in MODEL_ROUTES for path in route.examples
            if pattern.fullmatch(path) and path not in GUARDED]


def path_pattern(path: str) -> re.Pattern[str]:
    """A route's path as a pattern: `{name}` stands for one path segment, `{name:regex}` for
    what the regex matches (it holds no braces)."""
    parts = re.split(r"\{([^{}]*)\}", path)  # literal, variable, literal, ...
    return re.compile("".join(
        re.escape(part) if i % 2 == 0 else f"(?:{part.partition(':')[2] or '[^/]+'})"
        for i, part in enumerate(parts)))

