"""`guard eval`: measure classifiers or a whole policy on a labelled JSONL file."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from guard.classify.evasion import TRANSFORMS
from guard.cli import whole
from guard.errors import GuardError, PolicyError

if TYPE_CHECKING:
    from guard.classify.eval import Report, Row

DEFAULT_CLASSIFIERS = "prompt_injection,jailbreak,secrets,pii,invisible_text"
# what runs on a completions file unless --classifiers says otherwise
COMPLETION_CLASSIFIERS = "harmful_response"

EPILOG = """\
examples:
  guard eval --data ../shared/data/safety/prompts_dev.jsonl
  guard eval --data prompts_dev.jsonl --classifiers jailbreak,prompt_injection
  guard eval --data prompts_dev.jsonl --policy policies/
  guard eval --data ../shared/data/safety/completions_dev.csv
  guard eval --data completions_dev.csv --policy policies/strict.yaml
  guard eval --data prompts_dev.jsonl --policy policies/strict.yaml --evasion rot13
  guard eval --data prompts_dev.jsonl --classifiers harmful_request --split 3

Prints, per `kind` and per `dataset`, how many rows were flagged: the recall on unsafe rows and
the false-positive rate on safe rows, then latency percentiles per request. Benign rows are also
evaluated embedded in a retrieved document (`benign@document`). A `.csv` of labelled completions
(`question,Response,label`) is checked at the completion stage, with harmful_response unless
--classifiers says otherwise, and the report adds precision, recall and F1. With --evasion, every
text is first written the way an attacker would hide it (seeded, the same on every run): leetspeak,
homoglyphs, letters spread apart, ROT13, base64, ...; the model cards report each trained model's
recall after each of them. With --split N, every user prompt is sent as N user messages of about
equal word count in one request, as an attacker sends a request in pieces (the trained models read
each message joined to the two before it: `turns:` in docs/policies.md).
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `guard eval` to the guard command line."""
    parser = subparsers.add_parser(
        "eval", help="recall / false-positive rate of classifiers or a policy on labelled data",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, type=Path,
                        help="labelled JSONL prompts or CSV completions (shared/data/safety)")
    parser.add_argument("--policy", type=Path, default=None,
                        help="evaluate a policy file or directory instead of bare classifiers")
    parser.add_argument("--classifiers", type=classifier_names, default=None,
                        help=f"built-in types to run with default config (default: "
                             f"{DEFAULT_CLASSIFIERS}; on completions: {COMPLETION_CLASSIFIERS})")
    parser.add_argument("--limit", type=whole(1, 2**31), default=None, metavar="N",
                        help="only the first N rows")
    parser.add_argument("--evasion", choices=sorted(TRANSFORMS), default=None, metavar="NAME",
                        help=f"write every text so first: {', '.join(sorted(TRANSFORMS))}")
    parser.add_argument("--split", type=whole(1, 64), default=1, metavar="N",
                        help="send every user prompt as N user messages (1-64; default 1) of about equal "
                             "word count")
    parser.set_defaults(func=cmd_eval)


def classifier_names(text: str) -> list[str]:
    """An argparse type: comma-separated classifier types, at least one, else a usage error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"give at least one classifier type (e.g. "
                                         f"{DEFAULT_CLASSIFIERS}), not {text!r}")
    return names


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the evaluation; 0 on success, 2 on unusable input."""
    from guard.classify.eval import build_rows, format_report, is_completions, read_rows, run_sync

    try:
        raw = read_rows(args.data)
    except (OSError, ValueError) as exc:
        print(f"guard eval: cannot read {args.data}: {exc}", file=sys.stderr)
        return 2
    if not raw:
        print(f"guard eval: {args.data} holds no rows", file=sys.stderr)
        return 2
    if args.limit is not None:
        raw = raw[: args.limit]
    rows = build_rows(raw, _evasion(args.evasion), args.split)
    try:
        if args.policy is not None:
            report = run_sync(_with_policy(args.policy, rows))
            what = f"policy {args.policy}"
        else:
            names = args.classifiers or classifier_names(
                COMPLETION_CLASSIFIERS if is_completions(args.data) else DEFAULT_CLASSIFIERS
            )
            report = run_sync(_with_classifiers(names, rows))
            what = "classifiers " + ", ".join(names)
    except PolicyError as exc:
        details = [] if exc.errors == [str(exc)] else exc.errors  # a single problem: said once
        print(f"guard eval: {exc}", *details, sep="\n  ", file=sys.stderr)
        return 2
    except GuardError as exc:
        print(f"guard eval: {exc}", file=sys.stderr)
        return 2
    if args.evasion:
        what += f", texts written as {args.evasion}"
    if args.split > 1:
        what += f", user prompts sent as {args.split} messages"
    print(format_report(report, what))
    return 0


def _evasion(name: str | None) -> Callable[[str], str] | None:
    """The transform called `name`, seeded per transform (as training measures robustness)."""
    if name is None:
        return None
    transform, rng = TRANSFORMS[name], random.Random(f"7:{name}")  # noqa: S311  (reproducible, no secret)
    return lambda text: transform(text, rng)


async def _with_classifiers(names: list[str], rows: Sequence[Row]) -> Report:
    from guard.classify.eval import evaluate
    from guard.classify.registry import build_classifier
    from guard.classify.runner import ClassifierRunner, warm_up
    from guard.observability.metrics import Metrics

    built = [build_classifier(n, {"type": n}) for n in names]
    runner = ClassifierRunner(Metrics())
    await warm_up(built)  # else the first row pays a model's load, in its latency and its verdict

    async def flag(row: Row) -> bool:
        verdicts = await runner.run(built, row.segments, row.segments[0].stage)
        return any(v.fired for v in verdicts)

    try:
        return await evaluate(rows, flag)
    finally:
        await runner.aclose()


async def _with_policy(path: Path, rows: Sequence[Row]) -> Report:
    from guard.classify.eval import evaluate
    from guard.classify.runner import ClassifierRunner, warm_up
    from guard.observability.metrics import Metrics
    from guard.policy.store import PolicyStore
    from guard.types import GuardContext, Stage

    metrics = Metrics()
    runner = ClassifierRunner(metrics)
    store = PolicyStore(path, runner, metrics)
    await warm_up(store.current.classifiers())
    ctx = GuardContext(request_id="eval", route="/v1/chat/completions", model="eval")

    async def flag(row: Row) -> bool:
        inspector = store.for_request(ctx)
        if row.prompt:  # what the answer follows, for rules that read it (`prompt:`)
            await inspector.inspect(Stage.PROMPT, row.prompt)
        decision = await inspector.inspect(row.segments[0].stage, row.segments)
        return bool(decision.matches)

    try:
        return await evaluate(rows, flag)
    finally:
        await runner.aclose()
