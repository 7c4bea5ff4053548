"""YAML that remembers where each key came from, so every policy error can name its line.

`read_yaml(path)` returns the plain data and a `Lines` map from key paths (tuples of keys and
list indexes) to 1-based line numbers. `Lines.locate(loc)` turns a validation error location into
the `rules[2].when.all[0]` path an operator reads and the line to look at. A value at one of the
`verbatim` key paths that YAML would read as a number or a date is kept as the text written:
`version: 2025.10` is "2025.10", not the float 2025.1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from guard.errors import PolicyError, shown_key

Loc = tuple[str | int, ...]

_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def format_path(loc: Sequence[str | int]) -> str:
    """`('rules', 2, 'when')` as `rules[2].when`; a key that does not read as a name as `<key
    of N characters>` (`shown_key`)."""
    out = ""
    for part in loc:
        key = shown_key(part)
        out += f"[{part}]" if isinstance(part, int) else (f".{key}" if out else key)
    return out or "(top level)"


def parse_path(text: str) -> Loc:
    """The inverse of `format_path`: `classifiers.pii.entities[2]` as a tuple."""
    loc: list[str | int] = []
    for match in _PATH_PART.finditer(text):
        key, index = match.groups()
        loc.append(int(index) if index is not None else key)
    return tuple(loc)


class Lines:
    """Line numbers of the keys and items of one YAML document."""

    def __init__(self, path: Path, lines: dict[Loc, int], data: Any) -> None:
        self.path = path
        self._lines = lines
        self._data = data

    def line(self, loc: Loc) -> int:
        """The line of the longest prefix of `loc` that exists in the document."""
        for end in range(len(loc), -1, -1):
            found = self._lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return 1

    def clean(self, loc: Sequence[str | int]) -> Loc:
        """`loc` with pydantic's type tags dropped: only keys and indexes found in the data stay.

        A key missing from the data is kept when it is the last part (a missing required field).
        """
        data = self._data
        out: list[str | int] = []
        for position, part in enumerate(loc):
            last = position == len(loc) - 1
            in_dict = isinstance(data, dict) and part in data
            if in_dict or (isinstance(data, list) and isinstance(part, int)
                           and 0 <= part < len(data)):
                data = data[part]
            elif last or isinstance(part, int):
                out.append(part)
                break
            else:
                continue
            out.append(part)
        return tuple(out)

    def error(self, loc: Sequence[str | int], message: str) -> str:
        """`file:line: path: message`."""
        cleaned = self.clean(loc)
        return f"{self.path}:{self.line(cleaned)}: {format_path(cleaned)}: {message}"


# Far beyond any real policy file; bounds what a file can make the loader build.
MAX_DEPTH = 64
MAX_NODES = 200_000
# Tags of the plain scalars a `verbatim` path keeps as written (null and booleans are not text).
_MERGE = "tag:yaml.org,2002:merge"
_WRITTEN_AS_TEXT = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("int", "float", "timestamp"))


class _Converter:
    """Walks a composed YAML node tree into plain data, noting the line of every key and item."""

    def __init__(self, path: Path, verbatim: frozenset[Loc], merge_keys: bool) -> None:
        self.path = path
        self.verbatim = verbatim
        self.merge_keys = merge_keys
        self.lines: dict[Loc, int] = {(): 1}
        self.errors: list[str] = []
        self._scalars = yaml.SafeLoader("")  # its constructor resolves tagged scalars safely
        self._nodes = 0

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        # aliases make the node tree a graph: a cycle would recurse forever, and nested aliases
        # expand exponentially ("billion laughs"), so both are bounded
        self._nodes += 1
        if len(loc) > MAX_DEPTH:
            raise self._too_big(node, loc, f"nests deeper than {MAX_DEPTH} levels (as an alias "
                                "inside what it names does)")
        if self._nodes > MAX_NODES:
            raise self._too_big(node, loc, f"holds more than {MAX_NODES} values (an alias counts "
                                "its values each time it is used)")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(self.convert(item, (*loc, index)))
            return items
        if loc in self.verbatim and node.tag in _WRITTEN_AS_TEXT:
            return node.value
        return self._scalars.construct_object(node, deep=True)

    def _too_big(self, node: yaml.Node, loc: Loc, why: str) -> PolicyError:
        return PolicyError(f"{self.path}:{node.start_mark.line + 1}: {format_path(loc)}: "
                           f"the document {why}")

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        path = self.path
        # merged first: the mapping's own keys override them, and their lines are the ones kept
        out = self._merged(node, loc)
        own: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.convert(key_node, loc)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int):
                self.errors.append(f"{path}:{line}: {format_path(loc)}: keys must be scalars")
                continue
            if key in own:
                self.errors.append(f"{path}:{line}: {format_path((*loc, str(key)))}: duplicate key")
                continue
            own.add(key)
            self.lines[(*loc, key)] = line
            out[key] = self.convert(value_node, (*loc, key))
        return out

    def _merged(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        """What the mapping's merge keys (`<<: *base`, `<<: [*one, *two]`) bring in, an earlier
        mapping's keys winning; with `merge_keys` off, each is an error."""
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                continue
            where = f"{self.path}:{key_node.start_mark.line + 1}: {format_path(loc)}"
            if not self.merge_keys:
                self.errors.append(f"{where}: YAML merge keys (<<) are not supported; use `extends`")
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.errors.append(f"{where}: << takes a mapping or a list of mappings")
                    continue
                merged = {**self.convert(source, loc), **merged}
        return merged


def read_yaml(path: Path, verbatim: frozenset[Loc] = frozenset()) -> tuple[Any, Lines]:
    """Parse one YAML file; raises PolicyError naming the file and line on bad YAML (a key
    given twice, a merge key among them). A number or a date at a `verbatim` key path is kept as
    the text written."""
    return parse_yaml(read_source(path)[1], path, verbatim)


def read_source(path: Path) -> tuple[bytes, str]:
    """A YAML file's bytes and its text; PolicyError when it cannot be read as UTF-8."""
    try:
        raw = path.read_bytes()
        return raw, raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {exc}") from exc


def parse_yaml(text: str, path: Path, verbatim: frozenset[Loc] = frozenset(), *,
               merge_keys: bool = False) -> tuple[Any, Lines]:
    """`read_yaml` for the text of `path`, read already; `merge_keys` takes YAML's merge keys
    (`<<: *base`) where policy files refuse them."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        raise PolicyError(f"{path}:1: invalid YAML: nested too deeply") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(invalid_yaml(path, exc)) from exc
    converter = _Converter(path, verbatim, merge_keys)
    try:
        data = None if node is None else converter.convert(node, ())
    except yaml.YAMLError as exc:  # a tag no safe constructor knows (`!thing`)
        raise PolicyError(invalid_yaml(path, exc)) from exc
    if converter.errors:
        raise PolicyError("; ".join(converter.errors), converter.errors)
    return data, Lines(path, converter.lines, data)


def invalid_yaml(path: Path, exc: yaml.YAMLError) -> str:
    """`file:line: invalid YAML: problem`, one line (PyYAML's own message spans five, quotes
    the text and names it `<unicode string>`)."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    return f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', None) or exc}"
