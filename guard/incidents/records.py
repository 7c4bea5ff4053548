"""What a journal line or stream entry must be to be read as an incident."""

from __future__ import annotations

from typing import Any

import orjson

# An incident's fields that hold a text, or nothing (absent or null).
_TEXTS = ("kind", "request_id", "tenant", "model", "route", "stage", "action", "mode", "policy",
          "policy_version", "severity", "category", "content_hash", "excerpt")
_TEXT_OR_NONE, _STR = frozenset({str, type(None)}), frozenset({str})
_DICT, _DICT_OR_NONE, _NUMBER = frozenset({dict}), frozenset({dict, type(None)}), (int, float)


def parse_incident(line: bytes) -> dict[str, Any] | None:
    """One journal line (or a Redis Stream entry's data) as an incident; None for a line a
    crash tore (SIGKILL mid-write) or that is not an incident: one bad line must not hide the
    others."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if _well_formed(record) else None


def _well_formed(record: Any) -> bool:
    """Whether `record` has an incident's types in every field readers use (filters, the CSV,
    the report): a line written otherwise (a bug, a hand edit, another writer) is skipped like
    a torn one rather than failing every query it falls in. (Types are compared in C, map over
    map: this runs for every line a query reads.)"""
    if type(record) is not dict or type(record.get("id")) is not str \
            or type(record.get("time")) not in _NUMBER:
        return False
    rules, matches = record.get("rules") or [], record.get("matches") or []
    return (_TEXT_OR_NONE.issuperset(map(type, map(record.get, _TEXTS)))
            and type(rules) is list and _STR.issuperset(map(type, rules))
            and type(matches) is list and _DICT.issuperset(map(type, matches))
            and _verdicts(record.get("verdicts")) and _verdicts(record.get("prompt_verdicts"))
            and type(record.get("details")) in _DICT_OR_NONE)


def _verdicts(verdicts: Any) -> bool:
    return verdicts is None or (type(verdicts) is list and all(
        type(v) is dict and type(v.get("classifier")) is str and type(v.get("score")) in _NUMBER
        and type(v.get("joined", 0)) is int for v in verdicts))
