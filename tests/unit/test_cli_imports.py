"""Starting a `guard` command imports what that command needs, not the whole package: building
the parser, reading any command's arguments and printing any help loads no proxy, policy engine,
classifier, Redis client or HTTP stack; `guard mock-upstream` loads only the stand-in model's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]

# What the commands import when they run, never while their arguments are read.
HEAVY = ("guard.policy.store", "guard.policy.testing", "guard.policy.engine", "guard.policy.model",
         "guard.proxy", "guard.classify.eval", "guard.classify.decode", "guard.classify.models",
         "guard.classify.registry", "guard.incidents.reader", "guard.incidents.recorder",
         "guard.observability.metrics", "guard.config", "guard.build", "redis", "pydantic",
         "numpy", "aiohttp", "structlog", "prometheus_client", "yaml", "asyncio", "urllib.request")

ARGUMENTS = [
    ["serve", "-c", "guard.yaml", "--workers", "2"],
    ["demo", "--once"],
    ["killswitch", "engage", "--scope", "global", "--reason", "r", "--ttl", "15m"],
    ["killswitch", "release", "ks_1"],
    ["incidents", "tail", "-n", "5", "--interval", "0.5"],
    ["incidents", "export", "--since", "2h", "--format", "csv"],
    ["incidents", "report", "--since", "2025-06-01T00:00:00Z"],
    ["policy", "explain", "--text", "hi", "--stage", "completion"],
    ["eval", "--data", "x.jsonl", "--evasion", "rot13", "--classifiers", "pii", "--split", "2"],
]


def loaded_after(code: str) -> list[str]:
    """The HEAVY modules (or modules inside them) loaded once `code` ran in a fresh interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        heavy = {HEAVY!r}
        print(json.dumps(sorted(m for m in sys.modules
                                if any(m == h or m.startswith(h + ".") for h in heavy))))
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    return list(json.loads(done.stdout))


def test_parsing_and_help_import_no_command_code() -> None:
    """Every command's arguments read, and every parser's help formatted: nothing heavy loaded."""
    assert loaded_after(f"""
        import argparse
        from guard.cli import build_parser

        def every(parser):
            yield parser
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for sub in action.choices.values():
                        yield from every(sub)

        parser = build_parser()
        for argv in {ARGUMENTS!r}:
            assert parser.parse_args(argv).func
        for each in every(parser):
            each.format_help()
    """) == []


@pytest.mark.parametrize("argv", [["killswitch", "status", "--help"], ["--help"]])
def test_help_through_main_imports_no_command_code(argv: list[str]) -> None:
    """`guard ... --help` as the command runs it (guard.cli.main) loads nothing heavy."""
    assert loaded_after(f"""
        import contextlib, io
        from guard.cli import main

        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main({argv!r})
    """) == []


def test_mock_upstream_imports_only_the_stand_in() -> None:
    """`guard mock-upstream`: its arguments read and the stand-in model's module imported (what
    cmd_mock does) load what aiohttp.web loads, and nothing else heavy."""
    loaded = loaded_after("""
        from guard.cli import build_parser

        build_parser().parse_args(["mock-upstream", "--port", "8001", "--chunk-chars", "8"])
        import guard.mock_upstream
    """)
    assert loaded == loaded_after("from aiohttp import web")
    assert "aiohttp" in loaded


def test_a_guard_whose_policies_name_no_model_never_loads_numpy(tmp_path: Path) -> None:
    """A guard started with no policies (most of the suite's, and a pure proxy's) is ready
    without numpy and the trained models' code, about 0.1 s of every such start; a policy that
    names a model loads them while the guard starts."""
    probe = textwrap.dedent(f"""
        import asyncio, json, sys
        from guard.app import serve
        from guard.config import Settings

        async def main():
            stop = asyncio.Event()

            async def ready(_):
                stop.set()

            settings = Settings(listen="127.0.0.1:{free_port()}", admin_listen="127.0.0.1:{free_port()}",
                                state_dir={str(tmp_path / "state")!r}, policies=None)
            await serve(settings, on_ready=ready, stop=stop)

        asyncio.run(main())
        print(json.dumps(sorted(m for m in sys.modules
                                if m == "numpy" or m.startswith("guard.classify.models."))))
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == ["guard.classify.models.features"]
