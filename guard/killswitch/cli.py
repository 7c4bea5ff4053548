"""`guard killswitch status | engage | release`: the admin API from a terminal.

The token comes from GUARD_ADMIN_TOKEN (one actor's token, never a command-line argument, so it
stays out of shell history and `ps`). The admin URL from --admin-url or GUARD_ADMIN_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from typing import Any

from guard.admin.client import AdminError, add_admin_arguments, admin_call
from guard.cli import command_group, shown

EPILOG = """examples:
  export GUARD_ADMIN_TOKEN=...            # your own admin token (names you in the audit trail)
  guard killswitch status
  guard killswitch engage --scope model:gpt-4o --reason 'leaking PII' --ttl 30m
  guard killswitch engage --scope global --mode refuse --reason 'incident 1234'
  guard killswitch release ks_3f2a9c1d0b4e --reason 'fixed in v2'
  guard killswitch status --json --admin-url http://10.0.0.5:9000

scopes: global, model:<name or glob>, tenant:<id or glob>, route:<path>
modes:  block (HTTP 503 with Retry-After), refuse (a refusal completion, HTTP 200)
exit codes: 0 done (or release approval recorded), 1 refused or failed, 2 usage
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `killswitch` and its subcommands to the `guard` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    _, commands = command_group(subparsers, "killswitch", "engage, release and list kill switches",
                                __doc__, EPILOG)

    def common(parser: argparse.ArgumentParser) -> None:
        add_admin_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the API's JSON answer")

    status = commands.add_parser("status", help="list engaged switches", epilog=EPILOG,
                                 formatter_class=formatter)
    common(status)
    status.set_defaults(func=cmd_status)

    engage = commands.add_parser("engage", help="engage a switch on every replica",
                                 epilog=EPILOG, formatter_class=formatter)
    engage.add_argument("--scope", required=True,
                        help="global, model:<glob>, tenant:<id or glob> or route:<path>")
    engage.add_argument("--mode", choices=("block", "refuse"), default="block",
                        help="block: 503 (default); refuse: a refusal completion")
    engage.add_argument("--reason", required=True, help="why (recorded and shown to clients)")
    engage.add_argument("--ttl", type=parse_duration, default=None,
                        help="expire after this long: a number of seconds (90) or a duration: 90s, "
                             "15m, 2h, 1h30m (default: never)")
    common(engage)
    engage.set_defaults(func=cmd_engage)

    release = commands.add_parser("release", help="release (or approve releasing) a switch",
                                  epilog=EPILOG, formatter_class=formatter)
    release.add_argument("id", type=switch_id, help="the switch id shown by `status`")
    release.add_argument("--reason", default="", help="why it is safe to release (recorded)")
    common(release)
    release.set_defaults(func=cmd_release)



def switch_id(text: str) -> str:
    """An argparse type: a switch id as `status` shows it (`ks_...`), else a usage error."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give the switch id that `guard killswitch status` shows")
    return text


def parse_duration(text: str) -> float:
    """`90` (seconds), `90s`, `15m`, `2h`, `1h30m` → seconds (`guard.durations`)."""
    from guard.durations import duration_s
    from guard.killswitch.model import ttl_problem

    seconds = duration_s(text)
    if seconds is None:
        try:
            seconds = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration like 90 (seconds), 90s, 15m, 2h, 1h30m") from None
    if problem := ttl_problem(seconds):
        raise argparse.ArgumentTypeError(f"{problem} (given as {text!r})")
    return seconds


def _run(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None,
         *, expect: dict[str, type]) -> tuple[int, dict[str, Any]] | None:
    try:
        return admin_call(args, method, path, body=body, expect=expect)
    except AdminError as exc:
        print(f"guard killswitch: {shown(str(exc))}", file=sys.stderr)
        return None


def cmd_status(args: argparse.Namespace) -> int:
    answer = _run(args, "GET", "/admin/killswitch", expect={"switches": list})
    if answer is None:
        return 1
    _, body = answer
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    print(format_table(body["switches"], time.time()))
    for switch in body["switches"]:
        if switch.get("saved") is False:
            print(f"warning: {shown(str(switch['id']))} "
                  f"{shown(str(switch.get('unsaved_reason', 'not saved')))}", file=sys.stderr)
    if body.get("stale"):
        print("warning: this replica cannot reach the shared state; showing its last known "
              "state", file=sys.stderr)
    return 0


def cmd_engage(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"scope": args.scope, "mode": args.mode, "reason": args.reason}
    if args.ttl is not None:
        payload["ttl_s"] = args.ttl
    answer = _run(args, "POST", "/admin/killswitch", payload, expect={"switch": dict})
    if answer is None:
        return 1
    switch = answer[1]["switch"]
    if args.json:
        print(json.dumps(answer[1], indent=2))
    else:
        until = ("until released" if switch["expires_at"] is None
                 else f"for {_duration(switch['expires_at'] - time.time())}")
        print(f"engaged {shown(str(switch['id']))}: {shown(str(switch['scope']))} "
              f"{switch['mode']} {until}")
    _warn(args, answer[1])
    return 0


def _warn(args: argparse.Namespace, body: dict[str, Any]) -> None:
    """An answer's `warning` on stderr (in the JSON already with --json)."""
    if not args.json and "warning" in body:
        print(f"warning: {shown(str(body['warning']))}", file=sys.stderr)


def cmd_release(args: argparse.Namespace) -> int:
    path = "/admin/killswitch/" + urllib.parse.quote(args.id, safe="")
    answer = _run(args, "DELETE", path, {"reason": args.reason} if args.reason else None,
                  expect={"approvers": list})
    if answer is None:
        return 1
    status, body = answer
    if args.json:
        print(json.dumps(body, indent=2))
    elif status == 202:
        print(f"approval recorded for {args.id} ({len(body['approvers'])} of {body['needed']}: "
              f"{', '.join(body['approvers'])}); another actor must release it too")
    else:
        print(f"released {args.id} (approved by {', '.join(body['approvers'])})")
    _warn(args, body)
    return 0


def format_table(switches: list[dict[str, Any]], now: float) -> str:
    """Engaged switches as an aligned table for a terminal; SAVED is "no" for a switch enforced
    by the answering process only (the warnings under the table say why)."""
    if not switches:
        return "no kill switch engaged"
    header = ("ID", "SCOPE", "MODE", "ACTOR", "AGE", "EXPIRES IN", "APPROVALS", "SAVED",
              "REASON")
    rows = [header]
    for s in switches:
        expires = "-" if s["expires_at"] is None else _duration(s["expires_at"] - now)
        approvals = f"{len(s['release_approvals'])}/{s.get('release_approvals_needed', 1)}"
        reason = shown(s["reason"])
        reason = reason if len(reason) <= 60 else reason[:57] + "..."
        saved = "no" if s.get("saved") is False else "yes"  # absent: a guard before the field
        rows.append((s["id"], shown(s["scope"]), s["mode"], shown(s["actor"]),
                     _duration(now - s["created_at"]), expires, approvals, saved, reason))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    )


def _duration(seconds: float) -> str:
    """`seconds` to the nearest unit shown: a TTL of 1h engaged a moment ago (3599.8 s left)
    reads 60m, not 59m."""
    seconds = max(0.0, seconds)
    if seconds < 119.5:
        return f"{int(seconds + 0.5)}s"
    minutes = int(seconds / 60 + 0.5)
    if minutes < 120:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"
