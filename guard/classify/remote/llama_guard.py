"""`llama_guard`: Llama Guard 3/4 behind an OpenAI-compatible chat endpoint (vLLM, Ollama, ...).

A prompt's newest turns (JUDGED_ONE_BY_ONE) are judged one by one, each in the context of the
`context_turns` before it, as a `User` turn (prompts, documents, tool results) or an `Agent` turn
(the model's answers); the turns before them are judged together, in one call, as one `User` turn
of their texts joined: a check costs a bounded number of calls however many messages a request
holds, and the first call that fails cancels the others. On the completion stage each choice is
judged on its own, as an `Agent` turn after a `User` turn holding the request's last user message
(`with_request`; choices are alternatives, not turns). With `prompt: build`, guard
writes Llama Guard's task prompt itself and sends it as one user message (servers without the
model's chat template); with `prompt: template`, it sends the turns as chat messages and the
server's chat template writes the task. The answer `safe`, or `unsafe` and a line of codes like
`S1,S10`, becomes the labels `unsafe`, `S1`, `violent_crimes`, `S10`, `hate`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from guard.classify.remote._http import ServiceHeaders, ServiceURL, auth_headers, env_problems, post_json
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.errors import ClassifierError
from guard.types import Segment, Stage, Verdict

_T = TypeVar("_T")

# MLCommons AI Safety hazard taxonomy, as Llama Guard 3 numbers it.
HAZARDS: dict[str, tuple[str, str]] = {
    "S1": ("violent_crimes", "Violent Crimes"),
    "S2": ("non_violent_crimes", "Non-Violent Crimes"),
    "S3": ("sex_related_crimes", "Sex-Related Crimes"),
    "S4": ("child_sexual_exploitation", "Child Sexual Exploitation"),
    "S5": ("defamation", "Defamation"),
    "S6": ("specialized_advice", "Specialized Advice"),
    "S7": ("privacy", "Privacy"),
    "S8": ("intellectual_property", "Intellectual Property"),
    "S9": ("indiscriminate_weapons", "Indiscriminate Weapons"),
    "S10": ("hate", "Hate"),
    "S11": ("suicide_self_harm", "Suicide & Self-Harm"),
    "S12": ("sexual_content", "Sexual Content"),
    "S13": ("elections", "Elections"),
    "S14": ("code_interpreter_abuse", "Code Interpreter Abuse"),
}
HazardCode = Literal[
    "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12", "S13", "S14"
]
# What a verdict can carry: `unsafe`, and each hazard's code and name (whatever `categories` asks
# for, the answer may name any code: a server's chat template lists all of them).
LABELS = frozenset({"unsafe", *HAZARDS, *(label for label, _ in HAZARDS.values())})
# the model's own texts: its answers and the tool calls it made
AGENT_ROLES = frozenset({"assistant", "completion", "tool_call"})
# The newest turns of a prompt judged one by one (a call each); the older ones share one call, so
# padding a request with many short messages buys neither a timeout nor a pass.
JUDGED_ONE_BY_ONE = 4


class LlamaGuardConfig(BaseModel):
    """Config of a `llama_guard` classifier.

    url:         base URL of the OpenAI-compatible API (…/v1); `/chat/completions` is appended.
    model:       model name the server knows Llama Guard by.
    prompt:      `build` (guard writes the task prompt) or `template` (the server's chat template).
    categories:  hazard codes to check (default all, S1-S14).
    api_key_env: environment variable holding a bearer token, if the server needs one.
    context_turns: earlier turns sent along with the judged one.
    with_request: on the completion stage, send the request's last user message as the `User`
                 turn the judged answer follows (Llama Guard's response classification).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: ServiceURL
    model: str = "llama-guard-3"
    prompt: Literal["build", "template"] = "build"
    categories: list[HazardCode] = Field(default_factory=lambda: list(get_args(HazardCode)))
    api_key_env: str | None = None
    headers: ServiceHeaders = {}
    context_turns: int = Field(6, ge=0)
    with_request: bool = True


def turn_name(role: str) -> str:
    return "Agent" if role in AGENT_ROLES else "User"


def build_prompt(turns: Sequence[Segment], categories: Sequence[str]) -> str:
    """Llama Guard 3's task prompt judging the last of `turns`."""
    judged = turn_name(turns[-1].role)
    listing = "\n".join(f"{c}: {HAZARDS[c][1]}." for c in categories)
    conversation = "\n\n".join(f"{turn_name(t.role)}: {t.text}" for t in turns)
    return (
        f"Task: Check if there is unsafe content in '{judged}' messages in conversations according "
        f"our safety policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{listing}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{conversation}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {judged} message in the above "
        f"conversation:\n - First line must read 'safe' or 'unsafe'.\n"
        f" - If unsafe, a second line must include a comma-separated list of violated categories."
    )


def parse_answer(answer: str) -> tuple[bool, list[str]]:
    """(unsafe, codes) from `safe` or `unsafe\\nS1,S10`; ValueError on anything else, saying
    what was wrong without quoting the answer (a server running another model echoes the text)."""
    lines = [ln.strip() for ln in answer.strip().splitlines() if ln.strip()]
    if not lines:
        raise ValueError("empty answer")
    head = lines[0].lower()
    if head == "safe":
        return False, []
    if head != "unsafe":
        raise ValueError(f"the answer's first line ({len(lines[0])} characters) is not safe/unsafe")
    codes = [c.strip().upper() for c in ",".join(lines[1:]).split(",") if c.strip()]
    unknown = [c for c in codes if c not in HAZARDS]
    if unknown:
        raise ValueError(f"{len(unknown)} unknown hazard code(s) of {len(codes)} (S1-S14 known)")
    return True, codes


class LlamaGuardClassifier:
    """Asks Llama Guard about each segment (concurrently), in conversation context."""

    emits = LABELS

    def __init__(self, name: str, config: LlamaGuardConfig, timeout_s: float) -> None:
        self.name = name
        self.config = config
        self.max_match_chars: int | None = None
        self.timeout_s = timeout_s
        self.endpoint = config.url.rstrip("/") + "/chat/completions"
        self.headers = auth_headers(config.api_key_env, config.headers)
        self.env_problems = env_problems(config.api_key_env)
        self.reads_request = config.with_request

    def _messages(self, turns: Sequence[Segment]) -> list[dict[str, str]]:
        if self.config.prompt == "build":
            return [{"role": "user", "content": build_prompt(turns, self.config.categories)}]
        return [
            {"role": "assistant" if t.role in AGENT_ROLES else "user", "content": t.text}
            for t in turns
        ]

    async def _judge(self, turns: Sequence[Segment]) -> tuple[bool, list[str]]:
        payload: dict[str, Any] = {
            "model": self.config.model, "messages": self._messages(turns),
            "temperature": 0, "max_tokens": 20,
        }
        answer = await post_json(self.name, self.endpoint, payload, headers=self.headers,
                                 timeout_s=self.timeout_s)
        try:
            content = answer["choices"][0]["message"]["content"]
            return parse_answer(str(content))
        except (KeyError, IndexError, TypeError) as exc:
            raise ClassifierError(f"{self.name}: answer is not a chat completion") from exc
        except ValueError as exc:
            raise ClassifierError(f"{self.name}: cannot read Llama Guard's answer: {exc}") from exc

    async def classify(self, segments: Sequence[Segment]) -> list[Verdict]:
        started = time.perf_counter()
        calls = judged(segments, self.config.context_turns)
        results = await _gather_or_cancel([self._judge(turns) for _, turns in calls])
        latency = time.perf_counter() - started
        out: list[Verdict] = []
        for (seg, _), (unsafe, codes) in zip(calls, results, strict=True):
            if not unsafe:
                out.append(Verdict(self.name, seg.index, latency_s=latency))
                continue
            labels = {"unsafe", *codes, *(HAZARDS[c][0] for c in codes)}
            out.append(Verdict(self.name, seg.index, frozenset(labels), 1.0, (), latency))
        return out


def judged(segments: Sequence[Segment], keep: int) -> list[tuple[Segment, list[Segment]]]:
    """The calls of a check: (the segment the verdict is for, the turns sent, judging the last).
    Older turns than the newest JUDGED_ONE_BY_ONE: one turn of their texts, for the newest of
    them (the others get no verdict of their own). Completion choices: each alone, after the
    request they answer when they carry it (`Segment.request`)."""
    if segments and segments[0].stage is Stage.COMPLETION:
        return [(seg, [*asked(seg), seg]) for seg in segments]
    first = max(0, len(segments) - JUDGED_ONE_BY_ONE)
    calls = [(segments[i], list(segments[max(0, i - keep): i + 1]))
             for i in range(first, len(segments))]
    if first:
        last = segments[first - 1]
        older = Segment("\n\n".join(s.text for s in segments[:first]), "user", last.index,
                        last.stage)
        calls.insert(0, (last, [older]))
    return calls


def asked(answer: Segment) -> list[Segment]:
    """The `User` turn an answer follows: the request it carries, if any (`Segment.request`)."""
    return [Segment(answer.request, "user", answer.index, Stage.PROMPT)] if answer.request else []


async def _gather_or_cancel(jobs: Sequence[Coroutine[Any, Any, _T]]) -> list[_T]:
    """`asyncio.gather`, but the first failure cancels the calls still running."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


def _make(name: str, config: LlamaGuardConfig, spec: ClassifierSpec) -> LlamaGuardClassifier:
    return LlamaGuardClassifier(name, config, spec.timeout_s)


TYPE = ClassifierType(LlamaGuardConfig, _make, timeout_s=2.0, conversation=True)
