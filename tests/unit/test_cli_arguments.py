"""Command-line arguments out of range, and a port already taken, are usage errors, not
tracebacks."""

from __future__ import annotations

import argparse
import itertools
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from guard.cli import main
from guard.incidents.query import parse_since
from guard.killswitch.cli import parse_duration

ROOT = Path(__file__).resolve().parents[2]


def guard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "guard", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def parsed(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`guard ARGS` run in this process (what argparse decides needs no interpreter of its own):
    its exit status, stdout and stderr."""
    try:
        status = main(list(args))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)


@pytest.mark.parametrize(("args", "said"), [
    (["mock-upstream", "--port", "99999"], "--port: must be a whole number from 0 to 65535"),
    (["mock-upstream", "--chunk-chars", "0"], "--chunk-chars: must be a whole number from 1"),
    (["serve", "--workers", "0"], "--workers: must be a whole number from 1 to 256"),
    (["eval", "--data", "x.jsonl", "--split", "65"], "--split: must be a whole number from 1 to 64"),
    # from a probe: -1 evaluated all rows but the last, 0 and `,` reported on nothing, exit 0
    (["eval", "--data", "x.jsonl", "--limit", "-1"], "--limit: must be a whole number from 1"),
    (["eval", "--data", "x.jsonl", "--limit", "0"], "--limit: must be a whole number from 1"),
    (["eval", "--data", "x.jsonl", "--classifiers", ","],
     "--classifiers: give at least one classifier type"),
    # from a probe: 0, negative and nan were taken (a busy loop, or "cannot read incidents")
    (["incidents", "tail", "--interval", "0"], "--interval: must be a number of seconds above 0"),
    (["incidents", "tail", "--interval", "nan"], "--interval: must be a number of seconds above 0"),
    (["incidents", "tail", "--lookback", "-5"], "--lookback: must be a number of seconds above 0"),
    (["incidents", "tail", "-n", "-3"], "--lines: must be a whole number from 0 to 10000"),
])
def test_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str], args: list[str],
                                       said: str) -> None:
    done = parsed(capsys, *args)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_a_taken_port_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = guard("mock-upstream", "--port", str(port))
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["serve", "--check"], ["policy", "test", "policies/"],
                                  ["policy", "check", "policies/"]])
def test_a_closed_stdout_is_no_traceback(args: list[str]) -> None:
    """Output into a pipe its reader already closed (`| head -1`) ends with exit 1, silently."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "guard", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False,
                              cwd=ROOT)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize(("args", "said"), [
    (["serve", "--help"],
     "exit status: 0 stopped cleanly (SIGTERM, SIGINT, also while it starts), 2 cannot start"),
    (["serve", "--help"], "metrics merged (default 1)"),
    (["mock-upstream", "--help"], "address to listen on (default 127.0.0.1)"),
    (["mock-upstream", "--help"], "port to listen on (default 8001"),
    (["mock-upstream", "--help"], "pause between chunks, in milliseconds (default 0)"),
    (["incidents", "tail", "--help"], "seconds between polls (default 1)"),
])
def test_help_gives_defaults_and_exit_status(capsys: pytest.CaptureFixture[str], args: list[str],
                                             said: str) -> None:
    """From a probe: `serve --help` said neither its exit statuses nor --workers' default,
    `mock-upstream --help` gave --host and --port no help or default, `incidents tail --help`
    no --interval default."""
    done = parsed(capsys, *args)
    assert done.returncode == 0 and said in " ".join(done.stdout.split())


def _parsers(parser: argparse.ArgumentParser, name: str = "guard"
             ) -> list[tuple[str, argparse.ArgumentParser]]:
    """`parser` and every (sub)command's under it, by their command lines."""
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                found += _parsers(sub, f"{name} {word}")
    return found


LABEL = re.compile(r"[\w ]+: ")  # a line of its own, such as `exit codes: ...`


def test_no_help_text_breaks_a_line_mid_sentence() -> None:
    """From a probe: `serve --help` read "2 cannot\nstart (an invalid\nconfiguration or policy":
    the help texts are printed as written, so a line ending short of its width while the next
    one goes on with the sentence shows as a stray break."""
    from guard.cli import build_parser

    broken = []
    for name, parser in _parsers(build_parser()):
        for text in (parser.description or "", parser.epilog or ""):
            lines = text.splitlines()
            for line, after in itertools.pairwise(lines):
                if (line.strip() and after.strip() and not line.startswith(" ")
                        and not after.startswith(" ") and not LABEL.match(after)
                        and len(line) + 1 + len(after.split()[0]) <= 80):
                    broken.append(f"{name}: {line!r} / {after!r}")
    assert broken == []


@pytest.mark.parametrize(("written", "seconds"), [
    ("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400),
    ("1h30m", 5400), ("2m30s", 150), ("1d12h", 129600), ("1h 30m", 5400), ("1.5h", 5400),
])
def test_a_ttl_is_seconds_or_a_duration_in_units(written: str, seconds: float) -> None:
    """From a probe: `--ttl 1h30m` was refused (one number and one unit only). Durations of
    several units are read, and a bare number is seconds."""
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["", "h", "1x", "30m1h", "1h1h", "1h-30m", "m30"])
def test_a_ttl_not_written_as_a_duration_is_refused(written: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a duration"):
        parse_duration(written)


def test_the_ttl_help_says_a_bare_number_is_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    done = parsed(capsys, "killswitch", "engage", "--help")
    assert "a number of seconds (90) or a duration: 90s, 15m, 2h, 1h30m" in " ".join(
        done.stdout.split())


def test_since_reads_a_duration_of_several_units() -> None:
    """`--since 1h30m` (ago) is read as --ttl's durations are."""
    assert parse_since("1h30m", now=10_000) == 10_000 - 5400


@pytest.mark.parametrize("args", [
    ["serve", "--bogus"], ["demo", "--bogus"], ["killswitch", "engage", "--bogus"],
    ["killswitch", "engage", "--scope", "global", "--reason", "r", "extra"],
    ["policy", "check", "policies", "--bogus"], ["incidents", "tail", "--bogus"],
])
def test_an_unknown_argument_is_refused_by_its_command(args: list[str]) -> None:
    """From a probe: `guard serve --bogus` and `guard demo --bogus` printed guard's top-level
    usage, and `killswitch engage --bogus` complained only that --scope and --reason were
    missing. The command itself names the unknown argument, with its own usage."""
    done = guard(*args)
    command = " ".join(a for a in args[:2] if not a.startswith("-") and a != "policies")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"usage: guard {command} "), done.stderr
    assert f"guard {command}: error: unrecognized arguments: {args[-1]}" in done.stderr


def test_a_command_logs_on_stderr_not_among_its_output(tmp_path: Path) -> None:
    """From a probe: a command other than serve logged with structlog's defaults, every level on
    stdout: `guard policy test` with an unusable cache directory printed 14 `derived_cache_not_used`
    debug lines among its results. Now stdout holds its output only, below warning nothing."""
    unusable = tmp_path / "file"
    unusable.write_text("not a directory")
    ran = subprocess.run([sys.executable, "-m", "guard", "policy", "test", str(ROOT / "policies")],
                         capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "GUARD_CACHE_DIR": str(unusable / "cache")})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout and all(not line.startswith("{") for line in ran.stdout.splitlines())
    assert "derived_cache_not_used" not in ran.stdout + ran.stderr


def test_command_logging_writes_warnings_to_stderr_and_puts_back_the_set_up(
        capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    from guard.observability.logging import command_logging

    before = structlog.get_config()
    with command_logging():
        structlog.get_logger("guard").debug("quiet_here", detail="x")
        structlog.get_logger("guard").warning("said_here", token="sk-secret")
    out, err = capsys.readouterr()
    assert out == ""
    line = orjson.loads(err)
    assert (line["event"], line["level"], line["token"]) == ("said_here", "warning", "***")
    assert structlog.get_config() == before
