"""`guard incidents tail | export | report`: recorded incidents from a terminal.

Incidents are read from the journal directly (`--state-dir`, on the guard's own machine) or from
the admin API (`--admin-url`, default $GUARD_ADMIN_URL or http://127.0.0.1:9000, with the token
in GUARD_ADMIN_TOKEN, never on the command line).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import chain, islice
from pathlib import Path
from typing import Any, NoReturn, Protocol, TextIO

from guard.admin.client import AdminError, add_admin_arguments, admin_call, seconds
from guard.cli import command_group, shown, whole
from guard.incidents import report
from guard.incidents.query import MAX_LIMIT, Page, Query, parse_since, stream_cursor_ms
from guard.incidents.terminal import escape_controls

CSV_COLUMNS = ["id", "time", "kind", "request_id", "tenant", "model", "route", "stage", "action",
               "mode", "rules", "severity", "category", "policy", "policy_version",
               "content_hash", "excerpt", "verdicts"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t")

EPILOG = """examples:
  export GUARD_ADMIN_TOKEN=...                       # for reading through the admin API
  guard incidents tail                               # follow new incidents (Ctrl-C stops)
  guard incidents tail --action block --rule secrets
  guard incidents export --since 24h --format csv -o incidents.csv
  guard incidents export --since 2025-06-01T00:00:00Z --state-dir /var/lib/guard
  guard incidents report --since 7d -o review.md
  guard incidents report --since 7d --format html -o review.html

since: 15m, 2h, 7d (ago), Unix seconds, or an ISO 8601 time
exit codes: 0 done, 1 the incidents could not be read, 2 usage
"""

Fetch = Callable[[Query], Page]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `incidents` and its subcommands to the `guard` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    _, commands = command_group(subparsers, "incidents", "follow, export and report incidents",
                                __doc__, EPILOG)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--state-dir", type=Path,
                            help="read the journal in this state_dir instead of the admin API")
        add_admin_arguments(parser)
        parser.add_argument("--action", help="only this action (block, redact, flag, ...)")
        parser.add_argument("--rule", help="only incidents where this rule matched")
        parser.add_argument("--tenant", help="only this tenant")

    tail = commands.add_parser("tail", help="print recent incidents and follow new ones",
                               epilog=EPILOG, formatter_class=formatter)
    common(tail)
    tail.add_argument("-n", "--lines", type=whole(0, MAX_LIMIT), default=10,
                      help="recent incidents to print first (default 10)")
    tail.add_argument("--interval", type=seconds, default=1.0, help="seconds between polls (default 1)")
    tail.add_argument("--lookback", type=seconds, default=300.0,
                      help="reading a journal: seconds back each poll looks for incidents that "
                           "arrived late, default 300 (through the admin API of a guard with "
                           "Redis, tail follows the stream's cursor and misses none)")
    tail.add_argument("--count", type=whole(0, 2**31), default=0,
                      help="exit after printing this many incidents (default: follow forever)")
    tail.set_defaults(func=cmd_tail)

    export = commands.add_parser("export", help="write incidents as JSON lines or CSV",
                                 epilog=EPILOG, formatter_class=formatter)
    common(export)
    export.add_argument("--since", required=True, type=since_arg, help="start of the period")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=cmd_export)

    rep = commands.add_parser("report", help="a summary for an incident review",
                              epilog=EPILOG, formatter_class=formatter)
    common(rep)
    rep.add_argument("--since", required=True, type=since_arg, help="start of the period")
    rep.add_argument("--format", choices=["markdown", "html"],
                     help="default: from the output file's extension, else markdown")
    rep.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    rep.set_defaults(func=cmd_report)



# -- sources ---------------------------------------------------------------------------------

def source(args: argparse.Namespace) -> Fetch:
    """Where `args` say incidents are read from: the journal, or the admin API."""
    if args.state_dir is not None:
        from guard.incidents.reader import JournalReader
        from guard.incidents.recorder import journal_dir

        if not args.state_dir.is_dir():  # a mistyped path is not "no incidents yet"
            raise ValueError(f"--state-dir {args.state_dir}: no such directory")
        if not journal_dir(args.state_dir).is_dir():
            raise ValueError(f"--state-dir {args.state_dir}: no incident journal there (a guard "
                             "state_dir holds incidents/journal/)")
        args.journal = JournalReader(args.state_dir)
        return args.journal.page_now  # type: ignore[no-any-return]
    return AdminFetch(args)


class AdminFetch:
    """Incidents through the admin API, with the cursor the answer says to go on from."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.warnings: dict[str, None] = {}  # what the answers said they may lack, each once

    def __call__(self, query: Query) -> Page:
        params = {"limit": str(query.limit)}
        if query.since is not None:
            params["since"] = f"{query.since:.6f}"
        for name in ("action", "rule", "tenant", "kind", "after"):
            if getattr(query, name):
                params[name] = getattr(query, name)
        _, body = admin_call(self.args, "GET", "/admin/incidents", query=params,
                             expect={"incidents": list})
        cursor, source, warning = body.get("cursor"), body.get("source"), body.get("warning")
        if isinstance(warning, str):
            self.warnings[warning] = None
        return Page(body["incidents"], source if isinstance(source, str) else "",
                    cursor if isinstance(cursor, str) else None)


def since_arg(value: str) -> float:
    """An argparse type: `--since` as Unix seconds, a bad value a usage error (exit 2)."""
    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _filters(args: argparse.Namespace, **extra: Any) -> Query:
    return Query(action=args.action, rule=args.rule, tenant=args.tenant, **extra)


def every_since(fetch: Fetch, base: Query) -> Iterator[dict[str, Any]]:
    """Every incident matching `base` from `base.since` on, page by page, each once, after the
    cursor each page gives: in the order they reached the Redis Stream (an incident that reached
    it after newer ones is neither passed over nor the start of pages read again), or were
    written to the journal (each page reads on from where the last one stopped, in every file).
    A guard of an earlier release answers the journal without a cursor: each page from the time
    the last one ended at."""
    page = fetch(replace(base, limit=MAX_LIMIT))
    yield from page.incidents
    if page.cursor is not None:
        yield from _after_cursor(fetch, base, page.cursor, len(page.incidents))
    else:
        yield from _after_time(fetch, base, page.incidents)


def _after_cursor(fetch: Fetch, base: Query, cursor: str, found: int
                  ) -> Iterator[dict[str, Any]]:
    """The pages after `cursor`, until one short of the limit: from the journal, that one read
    to the end of every file; from the stream, one that looked at no entry or at one that
    reached the stream after the export began (a selective filter's page stops short at the
    reader's MAX_SCAN entries with its cursor moved on: there is more to ask for)."""
    began_ms = time.time() * 1000
    moved = True
    while found == MAX_LIMIT or (moved and _added_before(cursor, began_ms)):
        page = fetch(replace(base, limit=MAX_LIMIT, after=cursor))
        yield from page.incidents
        found, moved = len(page.incidents), page.cursor != cursor
        cursor = page.cursor or cursor


def _added_before(cursor: str, ms: float) -> bool:
    """Whether `cursor` is a stream entry added before `ms` (a journal cursor is none)."""
    added = stream_cursor_ms(cursor)
    return added is not None and added < ms


def _after_time(fetch: Fetch, base: Query, page: list[dict[str, Any]]
                ) -> Iterator[dict[str, Any]]:
    """The pages after `page`, each from the time the one before ended at."""
    while len(page) == MAX_LIMIT:
        since = float(page[-1]["time"])
        # Only the ids at the page's last instant can come back on the next page.
        seen = {i["id"] for i in page if float(i["time"]) == since}
        page = fetch(replace(base, since=since, limit=MAX_LIMIT)).incidents
        fresh = [i for i in page if i["id"] not in seen]
        if not fresh:
            return
        yield from fresh


def _say_warnings(fetch: Fetch) -> None:
    """What the admin API said its answers may lack (a lost Redis Stream), on stderr."""
    for warning in getattr(fetch, "warnings", ()):
        print(f"guard incidents: warning: {warning}", file=sys.stderr)


def _say_skipped(args: argparse.Namespace) -> None:
    """Journal lines a crash tore are skipped, and said so, never fatal to the rest."""
    reader = getattr(args, "journal", None)
    if reader is not None and reader.skipped:
        file, line = next(iter(reader.skipped))
        print(f"guard incidents: skipped {len(reader.skipped)} unreadable journal line(s), the "
              f"first {file}:{line} (torn by a crash, or not an incident)", file=sys.stderr)


def _read_failed(exc: Exception, args: argparse.Namespace, written: int = 0) -> int:
    went = f" (the {written} read before are written)" if written else ""
    print(f"guard incidents: cannot read incidents: {shown(str(exc))}{went}", file=sys.stderr)
    return 1


# -- commands --------------------------------------------------------------------------------

def cmd_tail(args: argparse.Namespace) -> int:
    try:
        fetch = source(args)
    except ValueError as exc:
        return _read_failed(exc, args)
    out = _Printer(args.count)
    try:
        if isinstance(fetch, AdminFetch):
            recent = fetch(_filters(args, limit=max(1, args.lines)))
            if recent.cursor is not None:
                out.all(recent.incidents[-args.lines:] if args.lines else [])
                return _follow(fetch, args, recent.cursor, out)
        return _poll_look_back(fetch, args, out)
    except (KeyboardInterrupt, _Done):
        return 0
    except BrokenPipeError:
        raise  # the reader of stdout went away: guard.cli.main's quiet exit 1, not a read error
    except (AdminError, OSError, ValueError) as exc:
        return _read_failed(exc, args)


class _Done(Exception):
    """`--count` incidents have been printed."""


class _Printer:
    """Prints incidents as JSON lines, and says when `count` (0: no end) have been."""

    def __init__(self, count: int) -> None:
        self.count, self.printed = count, 0

    def all(self, incidents: list[dict[str, Any]]) -> None:
        for incident in incidents:
            print(_json_line(incident), flush=True)
            self.printed += 1
            if self.count and self.printed >= self.count:
                raise _Done


def _follow(fetch: AdminFetch, args: argparse.Namespace, cursor: str, out: _Printer) -> int:
    """Through the Redis Stream's cursor: every incident that reaches it, once, in arrival order,
    however late a replica replays its spool. While the stream cannot be read (503), ask again
    each interval from the same cursor: nothing is skipped."""
    waiting = False
    while True:
        time.sleep(args.interval)
        try:
            page = fetch(_filters(args, limit=MAX_LIMIT, after=cursor))
        except AdminError as exc:
            if exc.status != 503:
                raise
            if not waiting:
                print(f"guard incidents: {shown(str(exc))}; asking again every "
                      f"{args.interval:g} s", file=sys.stderr)
            waiting = True
            continue
        waiting = False
        cursor = page.cursor or cursor
        out.all(page.incidents)


def _poll_look_back(fetch: Fetch, args: argparse.Namespace, out: _Printer) -> int:
    """From the journal (no arrival order to follow): an incident can arrive after newer ones,
    with its own older time, so every poll reads the whole look-back window and prints what it
    has not printed. What is there at the start is not new."""
    seen = {i["id"]: float(i["time"]) for i in _look_back(fetch, args)[1]}
    batch = fetch(_filters(args, limit=max(1, args.lines))).incidents[-args.lines:] \
        if args.lines else []
    while True:
        for incident in batch:
            seen[incident["id"]] = float(incident["time"])
        out.all(batch)
        time.sleep(args.interval)
        horizon, window = _look_back(fetch, args)
        seen = {id_: at for id_, at in seen.items() if at >= horizon}
        batch = [i for i in window if i["id"] not in seen]


def _look_back(fetch: Fetch, args: argparse.Namespace) -> tuple[float, list[dict[str, Any]]]:
    """The start of the look-back window, and every incident from then on."""
    since = time.time() - args.lookback
    return since, list(every_since(fetch, _filters(args, since=since)))


def cmd_export(args: argparse.Namespace) -> int:
    """Writes each incident as it is read: what is held is one page, however long the period."""
    written = 0
    try:
        fetch = source(args)
        incidents = every_since(fetch, _filters(args, since=args.since))
        first = list(islice(incidents, 1))  # a source that cannot be read leaves -o untouched
        with _Output(args.output) as out:
            write = csv_writer(out) if args.format == "csv" else _jsonl_writer(out)
            for incident in chain(first, incidents):
                write(incident)
                written += 1
    except CannotWrite as exc:
        print(f"guard incidents: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # the reader of stdout went away: guard.cli.main's quiet exit 1, not a read error
    except (AdminError, OSError, ValueError) as exc:
        return _read_failed(exc, args, written)
    _say_skipped(args)
    _say_warnings(fetch)
    print(f"guard incidents: exported {written} incidents", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Counts each incident as it is read: what is held is one page and the counts."""
    try:
        fetch = source(args)
        summary = report.summarise(every_since(fetch, _filters(args, since=args.since)),
                                   args.since)
    except (AdminError, OSError, ValueError) as exc:
        return _read_failed(exc, args)
    _say_warnings(fetch)
    fmt = args.format or ("html" if args.output is not None
                          and args.output.suffix in (".html", ".htm") else "markdown")
    _say_skipped(args)
    written = _write(args.output, report.html_page(summary) if fmt == "html" else report.markdown(summary))
    return 0 if written else 1


class Writable(Protocol):
    """Where incidents are written as text: `_Output`, or a `StringIO` in tests."""

    def write(self, text: str, /) -> object: ...


def _jsonl_writer(out: _Output) -> Callable[[dict[str, Any]], None]:
    """A function writing an incident to `out` as a JSON line."""
    return lambda incident: out.write(_json_line(incident) + "\n")


def _json_line(incident: dict[str, Any]) -> str:
    """An incident as one JSON line a terminal shows as text: JSON escapes the C0 controls,
    and the C1 ones (U+009B CSI, U+009D OSC) are escaped too."""
    return escape_controls(json.dumps(incident, ensure_ascii=False))


def csv_writer(out: Writable) -> Callable[[dict[str, Any]], None]:
    """A function writing an incident to `out` as a CSV row, once the header is written."""
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()

    def write(incident: dict[str, Any]) -> None:
        read = [*map(_verdict, incident.get("verdicts") or ()),
                *(f"prompt: {_verdict(v)}" for v in incident.get("prompt_verdicts") or ())]
        row = {**incident, "rules": ";".join(incident.get("rules") or ()),
               "verdicts": ";".join(read)}
        writer.writerow({column: _csv_cell(row.get(column)) for column in CSV_COLUMNS})
    return write


def _csv_cell(value: Any) -> Any:
    """A value in a CSV cell that neither a terminal nor a spreadsheet runs: controls escaped,
    and text a spreadsheet would take for a formula (starting with = + - @ or a tab, OWASP's
    rule for CSV injection) behind a `'`."""
    if not isinstance(value, str):
        return value
    value = escape_controls(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _verdict(verdict: dict[str, Any]) -> str:
    """A fired verdict in a CSV cell: classifier and score, and the earlier messages it was read
    with ("harmful_in 0.93 +2 earlier")."""
    joined = verdict.get("joined") or 0
    return f"{verdict['classifier']} {verdict['score']}" + (f" +{joined} earlier" if joined else "")


def _write(path: Path | None, text: str) -> bool:
    """`text` to `path` (stdout when None); False, said on stderr, when it cannot be written."""
    try:
        with _Output(path) as out:
            out.write(text)
    except CannotWrite as exc:
        print(f"guard incidents: {exc}", file=sys.stderr)
        return False
    return True


class CannotWrite(Exception):
    """The output cannot be opened or written; the message names it and says why."""


class _Output:
    """Text written to `path`, or to stdout when None; CannotWrite when that fails."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.file: TextIO = sys.stdout

    def __enter__(self) -> _Output:
        if self.path is not None:
            try:
                self.file = self.path.open("w", encoding="utf-8")
            except OSError as exc:
                self._cannot(exc)
        return self

    def write(self, text: str) -> None:
        try:
            self.file.write(text)
        except OSError as exc:
            self._cannot(exc)

    def __exit__(self, *_: object) -> None:
        try:
            if self.path is None:
                self.file.flush()
            else:
                self.file.close()
        except OSError as exc:
            self._cannot(exc)

    def _cannot(self, exc: OSError) -> NoReturn:
        if isinstance(exc, BrokenPipeError) and self.path is None:
            raise exc  # `| head`: guard.cli.main ends quietly, as every command does
        raise CannotWrite(f"cannot write {self.path or 'to stdout'}: {exc.strerror or exc}") from exc
