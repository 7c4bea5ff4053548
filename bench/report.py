"""Writing a benchmark's figures into bench/BENCHMARKS.md, each under its own `## ` section."""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent / "BENCHMARKS.md"
HEADER = """# Benchmarks

Each section is written by the script named in it, with the command that produced it. Figures
come from one run on the development machine (2 cores, shared); ratios compare against a baseline
measured in the same run, which is what to read across machines.
"""


def write_section(title: str, command: str, body: str) -> None:
    """Replace (or append) the section `## title` of BENCHMARKS.md."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    section = (f"## {title}\n\nCommand: `{command}` ({stamp}, Python "
               f"{platform.python_version()}, {platform.machine()})\n\n{body.strip()}\n\n")
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else \
        text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text)


def table(columns: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of `rows` under `columns`."""
    lines = [columns, ["---"] * len(columns), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def publish(title: str, command: str, intro: str, columns: list[str], rows: list[list[str]]) -> None:
    """Print a benchmark's table under its introduction, and write it as its section."""
    body = f"{intro}\n\n{table(columns, rows)}"
    print(body)
    write_section(title, command, body)
