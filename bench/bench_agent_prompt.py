"""What an agent's conversation costs a prompt check: guard's CPU to read the prompt of an agent
that has made N tool calls (each call's arguments and its result a text of its own, read joined
to the texts before it of its kind), against the same characters sent as one user message, in one
run, with the default pack (policies/default.yaml) and no verdict cache (a conversation guard has
not seen: a new replica, or one after a restart).

    .venv/bin/python bench/bench_agent_prompt.py [--calls 50,200] [--rounds 5]

The classifiers' timeout (`timeout_s`, 1 s in the packs) bounds a prompt's reading: a prompt of
more than 256 texts not read within it is refused (`prompt_too_large`), so the margin below that
second is what a loaded machine has to spare. A CI run refused 200 calls (1,001 texts), read in
0.51-0.74 s on an idle machine then.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import publish
from guard.classify.runner import ClassifierRunner, warm_up
from guard.observability.metrics import Metrics
from guard.policy.loader import load_policy_file
from guard.policy.store import PolicyInspector
from guard.proxy.protocols.base import segments
from guard.proxy.protocols.openai_chat import prompt_slots
from guard.types import GuardContext, Stage

DEFAULT = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"


def agent(calls: int, salt: str) -> dict[str, Any]:
    """A chat request: a task, then `calls` tool calls each with its result (a few lines of code)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"Tidy the repository {salt}."}]
    for n in range(calls):
        messages.append({"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{n:04d}", "type": "function",
            "function": {"name": "read_file", "arguments": f'{{"path": "src/{salt}/m{n}.py"}}'}}]})
        messages.append({"role": "tool", "tool_call_id": f"call_{n:04d}",
                         "content": f"def f{n}(x):\n    return x + {n}  # {salt}\n" * 4})
    return {"model": "m", "messages": messages}


def as_one(body: dict[str, Any]) -> dict[str, Any]:
    """The same characters as one user message (the baseline)."""
    texts = [m["content"] or m["tool_calls"][0]["function"]["arguments"] for m in body["messages"]]
    return {"model": "m", "messages": [{"role": "user", "content": "\n".join(texts)}]}


async def cpu(inspector: PolicyInspector, body: dict[str, Any]) -> tuple[int, float]:
    """(texts, process CPU seconds) to inspect `body`'s prompt."""
    read = segments(prompt_slots(body), Stage.PROMPT)
    started = time.process_time()
    await inspector.inspect(Stage.PROMPT, read)
    return len(read), time.process_time() - started


async def measure(calls: list[int], rounds: int) -> list[list[str]]:
    loaded = load_policy_file(DEFAULT)
    await warm_up(loaded.classifiers.values())
    ctx = GuardContext(request_id="bench", route="/v1/chat/completions", model="m")
    rows = []
    for n in calls:
        agents, ones = [], []
        for r in range(rounds):  # a runner of its own each time: no verdict cache
            runner = ClassifierRunner(Metrics(CollectorRegistry()))
            inspector = PolicyInspector(loaded, runner, ctx)
            texts, seconds = await cpu(inspector, agent(n, f"a{r}"))
            agents.append(seconds)
            ones.append((await cpu(inspector, as_one(agent(n, f"b{r}"))))[1])
            await runner.aclose()
        mid, base = statistics.median(agents), statistics.median(ones)
        rows.append([str(n), f"{texts:,}", f"{mid * 1e3:.0f}", f"{mid / texts * 1e6:.0f}",
                     f"{base * 1e3:.1f}", f"{mid / base:.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="50,200", help="tool calls, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="conversations measured for each")
    args = parser.parse_args()
    rows = asyncio.run(measure([int(c) for c in args.calls.split(",")], args.rounds))
    intro = ("An agent's chat prompt: a task, then tool calls each with its result (arguments and "
             "result texts of their own), through the default pack with no verdict cache; process "
             f"CPU time to read it, median of {args.rounds}, against the same characters as one "
             "user message.")
    publish("Agent conversations", f"bench/bench_agent_prompt.py --calls {args.calls} --rounds "
            f"{args.rounds}", intro, ["tool calls", "texts", "CPU ms", "µs a text",
                                      "as one message, ms", "ratio"], rows)


if __name__ == "__main__":
    main()
