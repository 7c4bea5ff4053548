"""What a request must be before guard reads it, each check refusing with a clear 4xx: a JSON
object, a `model` no kill switch could miss, no more texts or characters than the classifiers read
in time, nothing the model would read that guard cannot, and every key spelled, once, as the API
spells it (an upstream reading another spelling would read it unguarded).
"""

from __future__ import annotations

import itertools

import orjson

from guard.config import LimitSettings
from guard.errors import RequestError
from guard.killswitch.model import model_name_problem
from guard.proxy.protocols.base import Json, Slot, duplicate_keys, key_census, lax_bool


def parse_body(raw: bytes) -> Json:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object", code="invalid_json")
    return body


def model_of(body: Json) -> str:
    """The model a request names; one no kill switch could name is refused (400)."""
    model = body.get("model")
    problem = model_name_problem(model)
    if problem:
        raise RequestError(problem, code="invalid_request")
    return model if isinstance(model, str) else ""


def asks_to_stream(body: Json) -> bool:
    """Whether the request asks for a stream as a lenient upstream reads `stream` (vLLM coerces
    1, "true", "yes"): then an event stream is guarded event by event. A request that did not ask
    gets its answer read whole, whatever its Content-Type says (a client not streaming parses the
    body as JSON: a stream guard would pass it on unread)."""
    return lax_bool(body.get("stream")) is True


def check_prompt_items(body: Json, limits: LimitSettings) -> None:
    """Refuse (413) a request whose top-level lists (`messages`, `input`, a legacy `prompt`)
    hold more items than `max_prompt_texts`, before they are walked: 300,000 messages holding
    no text (13 KB gzipped) had held the event loop a second, counted as no text at all."""
    for key, value in body.items():
        if isinstance(value, list) and len(value) > limits.max_prompt_texts:
            raise RequestError(f"`{key}` holds {len(value)} items; guard inspects at most "
                               f"{limits.max_prompt_texts}", status=413, code="prompt_too_large")


def check_prompt_size(slots: list[Slot], limits: LimitSettings) -> None:
    """Refuse (413) more prompt text than the classifiers can be trusted to read in time, or
    more texts than guard keeps track of cheaply (`max_prompt_texts`): padding must buy neither
    a pass nor a stalled event loop (and a prompt of very many texts whose checks time out is
    refused by the runner: `MANY_SEGMENTS`)."""
    if len(slots) > limits.max_prompt_texts:
        raise RequestError(f"the prompt holds {len(slots)} texts; guard inspects at most "
                           f"{limits.max_prompt_texts}", status=413, code="prompt_too_large")
    size = sum(len(slot.text) for slot in slots)
    if size > limits.max_prompt_chars:
        raise RequestError(f"prompt text is {size} characters; guard inspects at most "
                           f"{limits.max_prompt_chars}", status=413, code="prompt_too_large")


def check_readable(unread: list[str], setting: str) -> None:
    """Refuse (400) a prompt that sends the model what guard cannot read, unless the operator
    chose `limits.unreadable_content: pass`: nothing reaches the model unread by accident."""
    if unread and setting == "refuse":
        shown = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
        raise RequestError(f"guard reads text only and cannot inspect {shown}; the operator can "
                           "forward such content unread with limits.unreadable_content: pass",
                           code="unreadable_content")


def check_model_key(body: Json, raw: bytes) -> None:
    """Refuse (400) a `model` an upstream could read otherwise than the kill switch gate and the
    routing do, whatever the request's policy reads: the key in another case (`Model`, which a
    case-blind upstream reads), or given twice (a parser keeping the first reads the other).
    Cheap, for every request: the whole body is checked only when `"model"` is written more than
    once or a key may be spelled with escapes (a policy that reads prompts has every key checked
    so, `check_spelling` and `check_unique`: 43k instructions a request, against about 1k)."""
    if not MODEL_RESPELT.isdisjoint(body):  # in C: 1.1k instructions, casefolding each key 3.2k
        check_spelling([f"'{key}' (reads as 'model')" for key in body if key in MODEL_RESPELT])
    if raw.count(b'"model"') > 1 or may_escape(raw):
        check_unique(duplicate_keys(raw, key_census(body)[1]))


# The keys other than `model` that fold to it (`str.casefold`): its other 31 spellings in ASCII
# letters, as no other character folds to any of m, o, d, e, l (a test reads every code point).
MODEL_RESPELT = frozenset(map("".join, itertools.product("mM", "oO", "dD", "eE", "lL"))) - {"model"}


def may_escape(raw: bytes) -> bool:
    """Whether a JSON text may hold a `\\u` escape. `find`, not `in` (which first tries the needle
    as an int and clears the error that raises), and a backslash first (memchr, many times
    faster than looking for the pair): 1k instructions for a 1 KB body without one, from 6k."""
    return raw.find(b"\\") >= 0 and raw.find(b"\\u") >= 0


def check_spelling(folded: list[str]) -> None:
    """Refuse (400) keys that differ from the API's only in case: guard reads what the API names,
    and an upstream that ignores case would read the other spelling unguarded."""
    if folded:
        raise RequestError(f"keys must be spelled as the API spells them: {', '.join(folded[:3])}",
                           code="invalid_request")


def check_unique(duplicates: list[str]) -> None:
    """Refuse (400) a key given twice in one object: guard reads the last value, and an upstream
    whose parser keeps the first would read the other one unguarded."""
    if duplicates:
        raise RequestError("a key is given twice in one object, which parsers read differently: "
                           + ", ".join(f"'{key}'" for key in duplicates[:3]),
                           code="invalid_request")
