"""The `guard` command. Each area adds its subcommands through a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import unicodedata
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from guard.errors import (
    ConfigError,
    GuardError,
    PolicyError,
    StoppedStarting,
    logged_lines_first,
    stop_while_checking,
    stop_while_starting,
    stopped_starting,
)

if TYPE_CHECKING:
    from guard.admin.auth import AdminTokens
    from guard.components import Components
    from guard.config import Settings

EPILOG_SERVE = """exit status: 0 stopped cleanly (SIGTERM, SIGINT, also while it starts), 2 cannot
start (an invalid configuration or policy, a port taken, unusable state); with
--check, 0 valid, 2 not, 128 + N stopped by signal N before the check finished
(143 SIGTERM, 130 SIGINT).

examples:
  guard serve -c guard.yaml
  guard serve -c guard.yaml --check     # validate config and policies, print a summary, exit
  GUARD_UPSTREAMS__DEFAULT__URL=http://127.0.0.1:11434 guard serve -c guard.yaml --workers 4
"""
EPILOG_MOCK = """It answers POST /v1/chat/completions, /v1/completions, /v1/responses and
Anthropic's /v1/messages (streamed or not) and GET /v1/models; it keeps its Responses API
answers (background ones too) for GET, DELETE and POST .../cancel on /v1/responses/{id}.
Request headers steer an answer (X-Mock-Reply, X-Mock-Tool-Args, X-Mock-Reasoning,
X-Mock-Chunk-Chars, ...: see README).

examples:
  guard mock-upstream --port 8001
  guard mock-upstream --port 8001 --chunk-chars 8 --chunk-delay-ms 20
"""
EPILOG_DEMO = """examples:
  guard demo          # run the tour, then keep serving until Ctrl-C
  guard demo --once   # run the tour and exit
"""

T = TypeVar("T")

# Areas that add subcommands of their own (each module has `register(subparsers)`). Every command
# imports all of them, so they import at the top only what building the parser needs: a
# command's own imports are made when it runs (`guard killswitch engage` does not load the
# classifiers' models, nor `guard mock-upstream` Redis).
AREAS = ("guard.policy.cli", "guard.killswitch.cli", "guard.incidents.cli", "guard.classify.cli")


class Parser(argparse.ArgumentParser):
    """`guard`'s parser and every subcommand's (argparse builds subcommands' parsers of their
    parent's class). A command refuses the options it does not know itself, with its own usage,
    before it says which required ones are missing: argparse left them to the top parser, so
    `guard serve --bogus` showed `guard`'s usage, and `killswitch engage --bogus` complained only
    of --scope and --reason."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        given = list(sys.argv[1:] if args is None else args)
        if self._subparsers is not None:  # a group: its command's parser reads the rest
            return super().parse_known_args(given, namespace)
        for arg in given:
            if arg == "--":
                break
            option = self._parse_optional(arg)
            if option is not None and option[0] is None:
                self.error(f"unrecognized arguments: {arg}")
        parsed, extras = super().parse_known_args(given, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="guard", description="A runtime guard for deployed language models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  guard demo --once\n  guard serve -c guard.yaml\n"
               "  guard killswitch engage --scope model:gpt-4o --reason 'leaking PII'\n")
    parser.add_argument("--version", action=Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the guarding proxy", epilog=EPILOG_SERVE,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("-c", "--config", type=Path, help="guard.yaml (default: built-in defaults)")
    serve.add_argument("--workers", type=whole(1, 256), default=1,
                       help="processes sharing the listen port (SO_REUSEPORT); metrics merged "
                            "(default 1)")
    serve.add_argument("--check", action="store_true",
                       help="validate the configuration and every policy (models loaded), print "
                            "what would run, and exit: 0 valid, 2 not, 128+N stopped by signal N "
                            "(nothing is started)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # its number, from --workers
    serve.set_defaults(func=cmd_serve)

    mock = sub.add_parser("mock-upstream", help="run the stand-in model (OpenAI and Anthropic APIs)",
                          epilog=EPILOG_MOCK, formatter_class=argparse.RawDescriptionHelpFormatter)
    mock.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    mock.add_argument("--port", type=whole(0, 65535), default=8001,
                      help="port to listen on (default 8001, where guard's default upstream points)")
    mock.add_argument("--chunk-chars", type=whole(1, 1 << 20), default=4,
                      help="characters per stream chunk (default 4)")
    mock.add_argument("--chunk-delay-ms", type=whole(0, 60_000), default=0,
                      help="pause between chunks, in milliseconds (default 0)")
    mock.set_defaults(func=cmd_mock)

    demo = sub.add_parser("demo", help="run guard in front of the stand-in model, with a tour",
                          epilog=EPILOG_DEMO, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--once", action="store_true", help="run the tour and exit")
    demo.set_defaults(func=cmd_demo)

    for area in AREAS:
        try:
            module = importlib.import_module(area)
        except ImportError:
            continue
        module.register(sub)
    return parser


class Version(argparse._VersionAction):
    """`--version`: guard's build, described only when asked (describing it hashes guard's
    source, which no other command needs)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        from guard.build import describe

        self.version = describe()
        super().__call__(parser, namespace, values, option_string)


def command_group(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                  help_: str, doc: str | None, epilog: str
                  ) -> tuple[argparse.ArgumentParser,
                             argparse._SubParsersAction[argparse.ArgumentParser]]:
    """`guard NAME COMMAND ...` for an area: its parser (help when no command), its commands."""
    top = subparsers.add_parser(name, help=help_, description=doc, epilog=epilog,
                                formatter_class=argparse.RawDescriptionHelpFormatter)

    def usage(_args: argparse.Namespace) -> int:
        top.print_help()
        return 2

    top.set_defaults(func=usage)
    return top, top.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def main(argv: Sequence[str] | None = None) -> int:
    standard_streams_open()
    try:
        status = run(argv)
        sys.stdout.flush()  # now, while a closed pipe is still caught below
    except BrokenPipeError:
        return stdout_closed()
    except StoppedStarting as stopped:  # guard serve told to stop before it served: a clean stop
        return stopped_starting(stopped)
    return status


def standard_streams_open() -> None:
    """The null device on each of file descriptors 0-2 that guard was started without (`2>&-`,
    `>&-`, `<&-`), and as Python's stream for it: the next file guard opened took that number
    (uvloop's epoll: libuv aborts as it closes a descriptor below 3, SIGABRT at every stop) and
    a command's output met a stdout that is None (a traceback, exit status 1)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: `fd`
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115  (the process's)


def run(argv: Sequence[str] | None) -> int:
    """The command's exit status; guard's own errors said on one line of stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return logged(args)
    except ConfigError as exc:
        return cannot_start(args, f"invalid configuration: {exc}")
    except PolicyError as exc:
        return cannot_start(args, f"invalid policies: {'; '.join(exc.errors)}")
    except GuardError as exc:  # cannot start: a port taken, unusable state, unreadable saved state
        return cannot_start(args, str(exc))
    except KeyboardInterrupt:
        return 130


def logged(args: argparse.Namespace) -> int:
    """The command's exit status; its log lines on stderr (`command_logging`) unless it sets up
    logging itself."""
    if args.func in (cmd_serve, cmd_demo, cmd_mock):
        return int(args.func(args))
    from guard.observability.logging import command_logging

    with command_logging():
        return int(args.func(args))


def cannot_start(args: argparse.Namespace, message: str) -> int:
    """Exit status 2, `message` said on stderr (and, by a worker of a `--workers` group, to its
    supervisor, which logs it)."""
    logged_lines_first()
    print(f"guard: {message}", file=sys.stderr)
    if getattr(args, "worker", None) is not None:
        from guard.workers import CANNOT_START_NOTE, tell_supervisor

        tell_supervisor(CANNOT_START_NOTE, message)
    return 2


def stdout_closed() -> int:
    """The reader of stdout went away early (`guard policy test policies/ | head -1`): no
    traceback, and stdout pointed at /dev/null so that Python's own flush at exit does not fail
    again. Exit status 1, as Python's documentation recommends for this end (its "Note on
    SIGPIPE"): the output was cut short."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    # a reload signal during start-up would end the process (SIGHUP's default) before guard
    # listens for it: ignored until the server's own handler is in place (`app`); a stop
    # signal ends it, exit status 0, with --check 128 + its number (`StoppedStarting`).
    # `python -m guard serve` does both from its first line (`__main__`)
    stop = stop_while_checking if args.check else stop_while_starting
    previous = [(sig, signal.signal(sig, handler)) for sig, handler in (
        (signal.SIGHUP, signal.SIG_IGN), (signal.SIGTERM, stop), (signal.SIGINT, stop))]
    from guard.admin.auth import load_admin_tokens
    from guard.config_load import check_policies_path, check_state_dir, load_config
    from guard.observability.logging import configure_logging

    ends_here = True  # a check, or a configuration guard cannot start with: the caller's
    try:              # handlers come back (a process that calls `main` keeps its own)
        settings = load_config(args.config)
        check_policies_path(settings, args.config)
        check_state_dir(settings.state_dir, make=not args.check)
        tokens = load_admin_tokens(settings.admin_tokens_env)  # malformed: an error now
        if args.check:
            print(checked(settings, args.config, tokens))
            return 0
        ends_here = False
    finally:
        if ends_here:
            for sig, handler in previous:
                signal.signal(sig, handler)
    configure_logging(settings.log_level, worker=args.worker)
    if args.worker is None:  # once per group: its workers share the one state_dir
        warn_if_state_volume_small(settings, args.workers)
    if args.workers > 1:
        from guard.workers import run_workers

        return run_workers(args.config, args.workers, [settings.listen, settings.admin_listen])
    from guard.app import serve

    # once it has stopped serving, a further stop signal (one repeated until the process is
    # gone) is the same request, and a reload moot: ignored, not an end by the signal (143,
    # SIGHUP's 129) or a KeyboardInterrupt
    run_async(serve(settings, reuse_port=args.reuse_port, ignore_later_signals=True,
                    on_ready=None if args.worker is None else serving_in_group))
    return 0


async def serving_in_group(components: Components) -> None:
    """A worker of a `--workers` group serves: its supervisor no longer stops the group when a
    worker cannot start, and reloads asked of the group now reach it (guard.workers); one asked
    while it started did not, so it catches up first."""
    from guard.policy.wiring import catch_up
    from guard.workers import READY, tell_supervisor

    await catch_up(components)
    tell_supervisor(READY)


def warn_if_state_volume_small(settings: Settings, processes: int) -> None:
    """Log `state_volume_too_small` with the settings and figures when what the incident
    limits let `processes` processes write to `state_dir` exceeds the room there."""
    import structlog

    from guard.incidents.budget import too_small

    figures = too_small(settings.incidents, settings.state_dir, processes=processes,
                        redis=bool(settings.redis_url))
    if figures is not None:
        structlog.get_logger("guard").warning("state_volume_too_small", **figures)


def checked(settings: Settings, path: Path | None, tokens: AdminTokens) -> str:
    """What `guard serve --check` prints for valid settings; PolicyError when a policy is not."""
    from guard.admin.auth import no_tokens_warning, short_tokens_warning
    from guard.config_load import (
        admin_exposed,
        broad_passthrough,
        cache_not_shared,
        doubled_paths,
        passthrough_model_routes,
        passthrough_under_guarded,
        unused_upstreams,
    )
    from guard.policy.cli import scope_of
    from guard.policy.policy_set import load_policies

    lines = [f"guard: configuration valid ({path or 'built-in defaults'})",
             f"  listen {settings.listen}, admin {settings.admin_listen}"]
    if exposed := admin_exposed(settings):
        lines.append(f"  warning: {exposed}")
    if missing := no_tokens_warning(tokens, settings.admin_tokens_env):
        lines.append(f"  warning: {missing}")
    else:
        lines.append(f"  admin tokens: {', '.join(tokens.actors)} (from {settings.admin_tokens_env})")
    if short := short_tokens_warning(tokens, settings.admin_tokens_env):
        lines.append(f"  warning: {short}")
    # (an upstream URL never holds credentials: the configuration refuses them)
    lines += [f"  upstream {name}: {upstream.url}" for name, upstream in settings.upstreams.items()]
    lines += [f"  warning: {unused}" for unused in unused_upstreams(settings)]
    lines += [f"  warning: {doubled}" for doubled in doubled_paths(settings)]
    lines += [f"  warning: {broad}" for broad in broad_passthrough(settings)]
    lines += [f"  warning: {reaching}" for reaching in passthrough_model_routes(settings)]
    lines += [f"  warning: {under}" for under in passthrough_under_guarded(settings)]
    if settings.policies is None:
        lines.append("  policies: none (every request is allowed unguarded)")
    else:
        policies = load_policies(settings.policies)
        lines += [f"  policy {p.name} {p.policy.version} ({len(p.policy.rules)} rules, "
                  f"{'default' if p is policies.default else scope_of(p)}) from {p.path}"
                  for p in policies.policies]
        lines += [f"  warning: {warning}" for warning in policies.warnings]
    lines.append(f"  incidents: state_dir {settings.state_dir}"
                 + (", Redis" if settings.redis_url else ""))
    if not_shared := cache_not_shared(settings):
        lines.append(f"  warning: {not_shared}")
    return "\n".join(lines)


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a usage error naming both."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, not {value!r}")
        return number

    return parse


def shown(text: str) -> str:
    """`text` for a terminal: control and format characters (escape sequences, C1 controls, bidi
    overrides, line breaks) written as escapes, `\\x1b`, `\\u202e`. What a client, a model or
    anyone with a token wrote must not drive the operator's terminal."""
    return "".join(ch if ch == " " or unicodedata.category(ch)[0] not in "CZ"
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


def cmd_mock(args: argparse.Namespace) -> int:
    from guard.mock_upstream import run

    try:
        run(args.host, args.port, args.chunk_chars, args.chunk_delay_ms)
    except OSError as exc:  # the port is taken, or the host is not this machine's
        print(f"guard mock-upstream: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from guard.demo import run_demo
    from guard.observability.logging import configure_logging

    configure_logging("error")
    return run_async(run_demo(once=args.once))


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop when it is installed, else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        return asyncio.run(main)
    return uvloop.run(main)
