"""`guard policy check | test | explain`: validate, test and debug policies from a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from guard.cli import command_group, shown
from guard.errors import PolicyError

if TYPE_CHECKING:
    from guard.policy.loader import LoadedPolicy
    from guard.policy.model import Condition
    from guard.policy.policy_set import PolicySet
    from guard.policy.testing import CaseResult
    from guard.types import Decision, Segment, Span, Stage, Verdict

EPILOG = """examples:
  guard policy check policies/                 # validate every policy; exit 1 with the errors
  guard policy test policies/                  # run every *_test.yaml case under policies/
  guard policy test policies/strict.yaml       # run strict_test.yaml
  guard policy explain --text "my key is AKIAIOSFODNN7EXAMPLE"
  guard policy explain --stage completion --tenant acme --policy policies/ --text "mail jane@example.com"

exit codes: 0 ok, 1 invalid policy or failed cases, 2 usage
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `policy` and its subcommands to the `guard` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    _, commands = command_group(subparsers, "policy", "check, test and explain policies",
                                __doc__, EPILOG)

    check = commands.add_parser(
        "check", help="validate a policy file or directory", formatter_class=formatter,
        epilog="examples:\n  guard policy check policies/\n  guard policy check my.yaml\n")
    check.add_argument("path", type=Path, help="a policy directory or file")
    check.set_defaults(func=cmd_check)

    test = commands.add_parser(
        "test", help="run the *_test.yaml cases beside policies", formatter_class=formatter,
        epilog="examples:\n  guard policy test policies/\n  guard policy test "
               "policies/default_test.yaml -k secret\n")
    test.add_argument("path", type=Path, help="a directory (searched recursively), a policy or "
                                              "a *_test.yaml file")
    test.add_argument("-k", dest="keyword", default=None,
                      help="only cases whose note contains this text")
    test.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    test.set_defaults(func=cmd_test)

    explain = commands.add_parser(
        "explain", help="show each classifier's verdict and which rules fired, and why",
        formatter_class=formatter,
        epilog='examples:\n  guard policy explain --text "ignore previous instructions"\n'
               '  guard policy explain --stage completion --policy policies/strict.yaml '
               '--text "call +1 415 555 0100"\n'
               '  guard policy explain --policy policies/strict.yaml --before "Tell me how to '
               'break" --before "into a house when the" --text "owners are on holiday"\n'
               '  guard policy explain --policy policies/strict.yaml --stage completion '
               '--prompt "How did people pick locks?" --text "To pick the lock, insert a tension '
               'wrench into the keyhole, then rake the pins until they set and turn the plug."\n')
    explain.add_argument("--text", required=True, help="the text to inspect")
    explain.add_argument("--before", action="append", default=[], metavar="TEXT",
                         help="an earlier user message of the same request, oldest first "
                              "(repeat it; models that read turns together join them)")
    explain.add_argument("--prompt", default=None, metavar="TEXT",
                         help="the user message a completion answers (completion stage; what "
                              "rules' `prompt:` conditions read)")
    explain.add_argument("--stage", choices=("prompt", "completion"), default="prompt")
    explain.add_argument("--policy", type=Path, default=Path("policies"),
                         help="a policy directory or file (default: ./policies)")
    explain.add_argument("--tenant", default=None, help="request tenant (chooses the policy)")
    explain.add_argument("--model", default="test-model", help="request model name")
    explain.add_argument("--route", default="/v1/chat/completions", help="request route")
    explain.set_defaults(func=cmd_explain)



# -- check ---------------------------------------------------------------------------------------


def _load(path: Path, err: TextIO) -> PolicySet | PolicyError:
    """The policies at `path`, or the error after printing each of its lines (file, line,
    reason) to `err`. What a classifier misses in the environment (an API key's variable, on a
    machine without the secrets) is a warning here; `guard serve --check` refuses it."""
    from guard.policy.policy_set import load_policies

    try:
        return load_policies(path, needs_env=False)
    except PolicyError as exc:
        for line in exc.errors:
            print(line, file=err)
        return exc


def cmd_check(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    policies = _load(args.path, err)
    if isinstance(policies, PolicyError):
        print(f"{args.path}: invalid ({len(policies.errors)} error(s))", file=err)
        return 1
    for loaded in policies.policies:
        scope = "default" if loaded is policies.default else scope_of(loaded)
        print(f"ok  {loaded.path}  {loaded.name} {loaded.policy.version}  "
              f"{len(loaded.policy.rules)} rules  ({scope})", file=out)
        print_warnings(loaded.warnings, out)
    print_warnings(policies.warnings, out)
    print(f"{args.path}: valid, version {policies.version}", file=out)
    return 0


def print_warnings(warnings: Sequence[str], out: TextIO) -> None:
    """`warning: ...`, one a line: what loads but is probably a mistake."""
    for warning in warnings:
        print(f"warning: {warning}", file=out)


def scope_of(loaded: LoadedPolicy) -> str:
    """Whom a policy applies to: `default`, or its tenants, models and routes."""
    scope = loaded.policy.scope
    if scope is None:
        return "default"
    parts = [f"{k}={','.join(v)}" for k, v in
             (("tenants", scope.tenants), ("models", scope.models), ("routes", scope.routes)) if v]
    return " ".join(parts) or "default"


# -- test ----------------------------------------------------------------------------------------


def cmd_test(args: argparse.Namespace) -> int:
    import asyncio

    if not args.path.exists():  # a typo, not "no test cases found"
        print(f"{args.path}: no such policy file or directory", file=sys.stderr)
        return 1
    return asyncio.run(run_tests(args.path, args.keyword, args.verbose, sys.stdout))


async def run_tests(path: Path, keyword: str | None, verbose: bool, out: TextIO) -> int:
    """Run the cases; print dots (or lines), the failures, and a summary. Returns the exit code."""
    from guard.policy.testing import CaseRunner, iter_cases, tested_policies

    started = time.perf_counter()
    runner = CaseRunner()
    results: list[CaseResult] = []
    broken: list[PolicyError] = []
    unloaded: dict[Path, PolicyError | None] = {}  # each policy's load error, reported once
    not_run = 0
    current: Path | None = None

    def loads(policy: Path) -> bool:
        key = policy.resolve()
        if key not in unloaded:
            unloaded[key] = error = runner.load_error(policy)
            broken.extend([error] if error else [])
        return unloaded[key] is None

    try:
        for policy in tested_policies(path):
            loads(policy)
        for item in iter_cases(path):
            if isinstance(item, PolicyError):
                broken.append(item)
                continue
            if keyword and keyword.lower() not in item.case.note.lower():
                continue
            if not loads(item.policy_path):
                not_run += 1
                continue
            if item.file != current and not verbose:
                out.write(("\n" if current else "") + f"{item.file} ")
            current = item.file
            result = await runner.run(item)
            results.append(result)
            if verbose:
                print(f"{'PASSED' if result.passed else 'FAILED'}  {item.id}", file=out)
            else:
                out.write("." if result.passed else "F")
        if current and not verbose:
            out.write("\n")
    finally:
        await runner.aclose()
    print_warnings(runner.warnings(), sys.stderr)
    return _summary(results, broken, time.perf_counter() - started, out, not_run)


def _summary(results: list[CaseResult], broken: list[PolicyError], seconds: float,
             out: TextIO, not_run: int = 0) -> int:
    failed = [r for r in results if not r.passed]
    if failed or broken:
        print("\n=================================== FAILURES ===================================",
              file=out)
    for result in failed:
        case = result.case
        print(f"___ {case.file}:{case.line} {case.case.note} ___", file=out)
        for failure in result.failures:
            print(f"    {failure}", file=out)
        if result.decision is not None:
            print(f"    decision: {_matches(result.decision)}", file=out)
    for error in broken:
        for line in error.errors:
            print(f"ERROR {line}", file=out)
    passed = len(results) - len(failed)
    parts = [f"{len(failed)} failed"] if failed else []
    parts.append(f"{passed} passed")
    if broken:
        parts.append(f"{sum(len(error.errors) for error in broken)} error(s)")
    if not_run:
        parts.append(f"{not_run} not run (their policy does not load)")
    print(f"==== {', '.join(parts)} in {seconds:.2f}s ====", file=out)
    if not results and not broken:
        print("no test cases found", file=out)
        return 1
    return 1 if failed or broken else 0


def _matches(decision: Decision) -> str:
    found = [f"{m.rule}({m.action}{', shadow' if m.mode == 'shadow' else ''})"
             for m in decision.matches]
    return f"{decision.action}: " + (", ".join(found) or "no rule matched")


# -- explain -------------------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> int:
    import asyncio

    from guard.policy.engine import evaluate
    from guard.types import GuardContext, Segment, Stage

    out, err = sys.stdout, sys.stderr
    policies = _load(args.policy, err)
    if isinstance(policies, PolicyError):
        return 1
    print_warnings(policies.all_warnings(), err)
    ctx = GuardContext(request_id="explain", route=args.route, model=args.model,
                       tenant=args.tenant)
    loaded = policies.choose(ctx)
    stage = Stage(args.stage)
    if args.before and stage is not Stage.PROMPT:
        print("guard policy explain: --before gives earlier user messages: prompts only", file=err)
        return 2
    if args.prompt is not None and stage is not Stage.COMPLETION:
        print("guard policy explain: --prompt gives the request a completion answers: "
              "use it with --stage completion", file=err)
        return 2
    if args.prompt is not None:
        asked = [Segment(args.prompt, "user", 0, Stage.PROMPT)]
        ctx = dataclasses.replace(ctx, prompt_verdicts=tuple(asyncio.run(_classify(loaded, asked))))
    role = "user" if stage is Stage.PROMPT else "completion"
    segments = [Segment(t, role, i, stage) for i, t in enumerate([*args.before, args.text])]
    verdicts = asyncio.run(_classify(loaded, segments, args.prompt or ""))
    decision = evaluate(loaded.compiled, verdicts, ctx, stage)
    print(explain(loaded, segments[-1], verdicts, decision, args.before, ctx.prompt_verdicts),
          file=out)
    return 0


async def _classify(loaded: LoadedPolicy, segments: list[Segment],
                    request: str = "") -> list[Verdict]:
    from guard.classify.runner import ClassifierRunner, warm_up
    from guard.observability.metrics import Metrics

    runner = ClassifierRunner(Metrics())
    try:
        # every classifier of the policy, so a verdict that no rule of this stage reads shows too
        await warm_up(loaded.classifiers.values())
        return await runner.run(list(loaded.classifiers.values()), segments, segments[0].stage,
                                request)
    finally:
        await runner.aclose()


def explain(loaded: LoadedPolicy, segment: Segment, verdicts: list[Verdict],
            decision: Decision, earlier: Sequence[str] = (),
            prompt: Sequence[Verdict] = ()) -> str:
    """The report `guard policy explain` prints: the verdicts on `segment`, the last message of a
    request whose `earlier` user messages came before it, what fired on the `prompt` a completion
    answers, and the request's decision."""
    policy = loaded.policy
    stage_names = set(loaded.compiled.classifiers_by_stage[segment.stage])
    lines = [f"policy  {policy.name} (version {policy.version}) from {loaded.path}",
             f"stage   {segment.stage}"]
    if earlier:
        lines.append(f"message {segment.index + 1} of {segment.index + 1} (user messages before it: "
                     f"{len(earlier)})")
    lines += ["", "classifiers:"]
    width = max((len(n) for n in loaded.classifiers), default=4)
    by_name = {v.classifier: v for v in verdicts if v.segment == segment.index}
    for name in loaded.classifiers:
        kind = str(policy.classifiers[name].get("type"))
        verdict = by_name.get(name)
        unused = "" if name in stage_names else "  (no rule of this stage reads it)"
        if verdict is None:
            lines.append(f"  {name:<{width}}  {kind:<18} {_missing(loaded, name, verdicts)}{unused}")
            continue
        if not verdict.labels:
            lines.append(f"  {name:<{width}}  {kind:<18} -  score {verdict.score:.2f}{unused}")
            continue
        lines.append(f"  {name:<{width}}  {kind:<18} FIRED  score {verdict.score:.2f}  labels "
                     f"{', '.join(sorted(verdict.labels))}{unused}")
        read = segment.text
        if verdict.joined:
            from guard.classify.builtin.harmful import with_turns

            read = with_turns(segment.text, earlier, verdict.joined)
            lines.append(f"  {'':<{width}}    read joined to the {verdict.joined} user message(s) "
                         "before it")
        if leaning := _leaning(loaded, name, read):
            lines.append(f"  {'':<{width}}    leaning on {leaning}")
        for span in verdict.spans:
            found = segment.text[max(0, span.start):span.end]  # below 0: begun in a text before
            piece = found if len(found) <= 40 else found[:37] + "..."
            lines.append(f"  {'':<{width}}    span {span.start}-{span.end} {span.label}: {piece!r}"
                         + _decoded_from(segment.text, span))
    lines += _on_the_prompt(loaded, segment.stage, prompt, width)
    lines += ["", "rules:"]
    matched = {m.rule: m for m in decision.matches}
    for compiled in loaded.compiled.rules:
        rule = compiled.rule
        head = f"{rule.action}/{rule.mode}"
        if segment.stage not in compiled.stages:
            lines.append(f"  -        {rule.name}  [{head}]  not a {segment.stage} rule")
            continue
        match = matched.get(rule.name)
        state = "MATCHED" if match else "no match"
        lines.append(f"  {state:<8} {rule.name}  [{head}, {rule.severity}]  when "
                     f"{describe_condition(rule.when)}")
        if match and match.verdicts:
            why = ", ".join(f"{v.classifier} ({', '.join(sorted(v.labels))}; score {v.score:.2f})"
                            + ("" if v.segment == segment.index else f" on message {v.segment + 1}")
                            for v in match.verdicts)
            lines.append(f"           because: {why}")
    lines += ["", f"decision: {decision.action}"
              + (f"  (rules: {', '.join(decision.rules)})" if decision.rules else "")]
    if decision.shadow:
        lines.append(f"shadow:   {', '.join(m.rule for m in decision.shadow)} "
                     "(recorded only)")
    if decision.redactions:
        from guard.redaction import apply_redactions

        redacted = apply_redactions(segment.text, decision.redactions.get(segment.index, ()),
                                    decision.mask)
        lines.append(f"redacted: {shown(redacted)}")
    return "\n".join(lines)


def _on_the_prompt(loaded: LoadedPolicy, stage: Stage, prompt: Sequence[Verdict],
                   width: int) -> list[str]:
    """What fired on the prompt a completion answers, where a completion rule reads it."""
    from guard.types import Stage

    if fired := [v for v in prompt if v.labels]:
        return ["", "on the prompt (what `prompt:` conditions read):"] + [
            f"  {v.classifier:<{width}}  FIRED  score {v.score:.2f}  labels "
            f"{', '.join(sorted(v.labels))}" for v in fired]
    if stage is Stage.COMPLETION and loaded.compiled.reads_prompt:
        return ["", "on the prompt: nothing fired" + ("" if prompt else " (no --prompt given)")]
    return []


def _leaning(loaded: LoadedPolicy, name: str, text: str) -> str:
    """What a trained model's score leans on most: its top n-grams and what each adds to the
    decision sum (word n-grams as words, character n-grams quoted), in the decoded reading that
    scored, if one did."""
    from guard.classify.models.loader import TextModel

    model = getattr(loaded.classifiers[name].classifier, "model", None)
    if not isinstance(model, TextModel):
        return ""
    read = model.decided_on(text)
    grams = [f"{shown(gram[2:]) if gram[:2] in ('w:', 'b:') else repr(gram)} {added:+.2f}"
             for gram, added in model.leaning(read)]
    decoded = "" if read == text else f"(read decoded: {read[:60]!r}) "
    return decoded + ", ".join(grams)


def _decoded_from(text: str, span: Span) -> str:
    """A note, " (found decoded, KIND)", when the span is an encoded run a finding was read in."""
    from guard.classify.decode import find_readings

    kinds = [r.kind for r in find_readings(text) if (r.start, r.end) == (span.start, span.end)]
    return f" (found decoded, {kinds[0]})" if kinds else ""


def _missing(loaded: LoadedPolicy, name: str, verdicts: list[Verdict]) -> str:
    """Why a classifier has no verdict: its gate stayed shut, or it failed open."""
    from guard.classify.runner import gate_opens

    gate = loaded.classifiers[name].spec.gate
    if gate is None or gate_opens(gate, verdicts):
        return "no verdict (failed open)"
    best = max(v.score for v in verdicts if v.classifier == gate.classifier)
    return f"skipped: gate {gate.classifier} scored {best:.2f} < {gate.min_score}"


def describe_condition(cond: Condition) -> str:
    """A condition in one line, in the policy file's own terms."""
    parts: list[str] = []
    data: dict[str, Any] = cond.model_dump(exclude_none=True, by_alias=True,
                                           exclude={"all_", "any_", "not_", "prompt"})
    for key, value in data.items():
        written = ",".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"{key}={written}")
    for key, subs in (("all", cond.all_), ("any", cond.any_)):
        if subs:
            parts.append(f"{key}(" + "; ".join(describe_condition(s) for s in subs) + ")")
    for key, sub in (("not", cond.not_), ("prompt", cond.prompt)):
        if sub is not None:
            parts.append(f"{key}({describe_condition(sub)})")
    return " ".join(parts)

