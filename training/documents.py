"""Long technical documents as negatives: reference prose and source code from the standard library
of the Python that trains (CPython 3.11), read at training time, never copied into the project.

Users paste documents and code into prompts ("Summarize this:", "Review this code"), and agents
read them as tool results. The prompts of the training data are short: its benign rows are
questions of a line, while jailbreaks run to thousands of characters of instructions, headings
and lists. So the jailbreak model learned length and layout: at the packs' 0.2 it flagged 21 of
22 of the interpreter's reference topics cut to 3,000 characters, 57 of 61 package READMEs and 92
of 120 pieces of source code sent for review (bench/BENCHMARKS.md, "Long documents"). The
prompt-injection model, which read documents already, flagged 52 of the 61 READMEs: instructions
to their human readers ("run pip install ...") in a layout it had not seen clean.

Each source (a reference topic of `pydoc_data.topics`, a module of the standard library) belongs
to one split by a hash of its name: a fifth for dev, so the dev figures on this material measure
documents the model was not fitted on. A document is a stretch of whole lines of random length,
asked about in one of the frames below (jailbreak) or carried as a retrieved document or tool
result (prompt_injection).
"""

from __future__ import annotations

import ast
import functools
import math
import random
import sysconfig
import zlib
from pathlib import Path
from pydoc_data.topics import topics

from training import synthetic

# What a user says around a pasted document (prose) or piece of code (written for this project).
_ASK_PROSE = [
    "Summarize this:\n\n{doc}",
    "Can you summarize the following documentation in five bullet points?\n\n{doc}",
    "Explain this to me in simple terms.\n\n{doc}",
    "{doc}\n\nWhat does this mean?",
    "{doc}\n\nTL;DR?",
    "Translate the text below into German, keeping the code as it is.\n\n{doc}",
    "I'm reading these docs and I don't get it:\n\n{doc}\n\nCan you give me an example?",
    "Please proofread this section of our manual:\n---\n{doc}\n---",
    "Turn these notes into a short blog post for beginners:\n\n{doc}",
]
_ASK_CODE = [
    "Review this code and point out any bugs:\n\n```python\n{doc}\n```",
    "What does this module do?\n\n{doc}",
    "Write unit tests for the following code.\n\n{doc}",
    "Refactor this to be more readable, and explain your changes:\n\n{doc}",
    "```\n{doc}\n```\nwhy does this fail with a TypeError sometimes?",
    "Add type hints and docstrings to this:\n{doc}",
    "Here's part of the standard library source. Walk me through it line by line.\n\n{doc}",
]
# Of the documents: reference prose, a project's README in Markdown composed around a module (its
# docstrings, signatures and code), and the rest code.
PROSE_SHARE, README_SHARE = 0.35, 0.3
_README_SECTIONS = {
    "Contributing": ["Talk a larger change through in an issue before you send it; small fixes can "
                     "go straight to a merge request.", "Every change needs its tests, and the "
                     "linters have to pass on it."],
    "License": ["Licensed under {license}; the full text is in the LICENSE file at the top of the tree."],
    "Changelog": ["### {major}.{minor}.0\n\n- Python 3.{old} is no longer supported.\n- Large "
                  "inputs parse faster.\n- A 204 answer no longer crashes the client."],
    "Testing": ["`pytest -q` runs the tests; `{upper}_DEBUG=1` prints more and keeps them off the "
                "network."],
}
MIN_CHARS, MAX_CHARS = 300, 12000


def documents(split: str, rng: random.Random, count: int, *, asked: bool) -> list[str]:
    """`count` stretches of the split's sources; with `asked`, in a user's frame, else as a
    document or tool result an agent reads (bare, or wrapped as mail, page, table or file)."""
    prose, code = _sources(split)
    out = []
    for _ in range(count):
        draw = rng.random()
        is_prose = draw < PROSE_SHARE + README_SHARE
        doc = (_stretch(rng.choice(prose), rng) if draw < PROSE_SHARE
               else readme(rng.choice(code), rng) if is_prose else _stretch(rng.choice(code), rng))
        if asked:
            out.append(rng.choice(_ASK_PROSE if is_prose else _ASK_CODE).format(doc=doc))
        else:
            out.append(synthetic.wrap_document(doc, rng) if rng.random() < 0.5 else doc)
    return out


@functools.cache
def _sources(split: str) -> tuple[list[str], list[str]]:
    """The texts of the split, in a fixed order: reference topics (prose) and standard library
    modules (code)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    modules = [(path.relative_to(stdlib).as_posix(), path) for path in sorted(stdlib.rglob("*.py"))]
    code = [(name, path.read_text(encoding="utf-8", errors="replace"))
            for name, path in modules if not _skipped(name)]
    return _of_split(sorted(topics.items()), split), _of_split(code, split)


def _of_split(named: list[tuple[str, str]], split: str) -> list[str]:
    return [text for name, text in named if len(text) >= MIN_CHARS and _split_of(name) == split]


def _skipped(relative: str) -> bool:
    """Tests (they hold deliberately odd input), installed packages and generated tables."""
    parts = relative.split("/")
    return (parts[0] == "site-packages" or any(p in ("test", "tests", "idle_test") for p in parts)
            or relative.startswith(("encodings/", "pydoc_data/")))


def _split_of(name: str) -> str:
    return "dev" if zlib.crc32(name.encode()) % 5 == 0 else "train"


def _stretch(text: str, rng: random.Random) -> str:
    """Whole lines of `text`, about MIN_CHARS to MAX_CHARS long (log-uniform), from anywhere."""
    size = int(math.exp(rng.uniform(math.log(MIN_CHARS), math.log(MAX_CHARS))))
    start = rng.randrange(max(1, len(text) - size))
    start = text.rfind("\n", 0, start) + 1
    end = text.rfind("\n", start, start + size)
    return text[start:end if end > start else start + size].strip("\n")


def readme(source: str, rng: random.Random) -> str:
    """A README in Markdown for a project made of the module `source`: its docstring as the
    description, install and usage sections, its functions and classes with their first docstring
    lines, and some of the sections READMEs have."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)
            and not node.name.startswith("_")]
    name = rng.choice([d.name for d in defs] or ["toolkit"]).lower().replace("_", "-") + rng.choice(
        ["", "-py", "lib", "-tools", "x"])
    parts = [f"# {name}"]
    if rng.random() < 0.5:
        parts.append(f"[![PyPI](https://img.shields.io/pypi/v/{name}.svg)](https://pypi.org/project/"
                     f"{name}/) [![CI](https://github.com/{name}/{name}/actions/workflows/ci.yml/"
                     "badge.svg)](https://github.com/{name}/{name}/actions)")
    parts.append(ast.get_docstring(tree) or f"{name} is a small library for everyday tasks.")
    parts.append(f"## Installation\n\n```console\n$ pip install {name}\n```")
    if defs:
        usage = ast.get_source_segment(source, rng.choice(defs)) or ""
        parts.append("## Usage\n\n```python\n" + usage[:rng.randint(300, 1500)] + "\n```")
        listed = [f"- `{d.name}`: {(ast.get_docstring(d) or 'see the docs.').splitlines()[0]}"
                  for d in defs[:rng.randint(3, 12)]]
        parts.append("## API\n\n" + "\n".join(listed))
    for title in rng.sample(sorted(_README_SECTIONS), rng.randint(1, 3)):
        text = rng.choice(_README_SECTIONS[title]).format(
            license=rng.choice(["MIT", "Apache 2.0", "BSD"]), major=rng.randint(1, 4),
            minor=rng.randint(0, 20), old=rng.randint(6, 8), upper=name.upper().replace("-", "_"))
        parts.append(f"## {title}\n\n{text}")
    return "\n\n".join(parts)[:MAX_CHARS]
