"""What a dialect is: where the texts sit in a request, a response and a stream chunk.

A `Slot` names one text by its path in the JSON body, so redaction writes back exactly where the
text came from, whatever the dialect.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from guard.classify.normalize import blank, kept_after, kept_before
from guard.proxy.sse import encode_event
from guard.redaction import apply_redactions
from guard.types import Action, Decision, Segment, Stage

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class KeyOf:
    """A path's last step that names an object's key itself, not its value: a tool call's input
    and other free-form objects may hold text in their keys. Writing there renames the key."""

    key: str

    def __str__(self) -> str:
        return f"{self.key} (key)"


Path = tuple[str | int | KeyOf, ...]


@dataclass(frozen=True, slots=True)
class Slot:
    """One text in a body: where it is, whose it is, and what it says."""

    path: Path
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class Delta:
    """New text for one choice in one stream chunk. `path` locates it inside the chunk."""

    choice: int
    path: Path
    text: str


@dataclass(frozen=True, slots=True)
class Text:
    """One text of an item or a block (APIs of typed events): `sub` is its part's index (0 for
    a call's fields), `kind` what it is (`text`, `refusal`, `summary`, `reasoning`, `thinking`,
    or the field's name, dotted for a nested one), `path` where it is, `role` whose it is."""

    sub: int
    kind: str
    path: Path
    role: str
    text: str


Key = tuple[int, int, str]  # (output index, sub-index, kind): one guarded text of a stream
Closes = Callable[[Key], bool]  # which texts of a stream an event closes
# Keys whose strings are names, ids, states and opaque data, not text a client shows as such.
NOT_TEXT = frozenset({
    "type", "id", "item_id", "call_id", "tool_use_id", "status", "role", "model", "object",
    "signature", "encrypted_content", "encrypted_index", "sequence_number", "stop_reason",
    "media_type", "logprobs", "b64_json", "partial_image_b64", "image_url",
})


# The keys beside a choice's text that name its tokens: log-probabilities, and vLLM's token ids
# (`return_token_ids`), which a client decodes with the model's tokenizer. Where the text is held,
# masked or refused they are dropped with it.
TOKEN_KEYS = ("logprobs", "token_ids")


def drop_tokens(choice: Any) -> bool:
    """Sets a choice's keys naming tokens (TOKEN_KEYS) to null; whether any held some."""
    if not isinstance(choice, dict):
        return False
    held = [key for key in TOKEN_KEYS if choice.get(key) is not None]
    choice.update(dict.fromkeys(held))
    return bool(held)


# The names the Messages and Responses APIs give the keys of their stream events that carry no
# text of their own (a block's close, the stop reason and usage, a hosted tool call's progress,
# an annotation, an error): not text. Another key there is read, as a hostile upstream's text.
PROTOCOL_NAMES = frozenset({
    "type", "index", "delta", "usage", "stop_reason", "stop_sequence", "stop_details",
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cache_creation", "ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens",
    "server_tool_use", "web_search_requests", "web_fetch_requests", "service_tier",
    "container", "context_management", "applied_edits", "error", "message", "code", "param",
    "item_id", "output_index", "content_index", "sequence_number", "annotation",
    "annotation_index", "url", "title", "start_index", "end_index", "file_id", "filename",
    "container_id", "partial_image_b64", "partial_image_index", "id", "expires_at",
    "total_tokens", "input_tokens_details", "output_tokens_details", "cached_tokens",
    "reasoning_tokens",
})
# The names of a chat or legacy completion's keys beside its choices (a chunk's, a whole
# answer's): OpenAI's, its `usage` counts (OpenRouter's cost too), vLLM's, Azure's content
# filter results: not text, as the Responses and Messages APIs' (PROTOCOL_NAMES).
FRAME_NAMES = PROTOCOL_NAMES | {
    "object", "created", "model", "system_fingerprint", "choices",
    "prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details",
    "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "image_tokens",
    "text_tokens", "cost", "is_byok", "cost_details", "upstream_inference_cost",
    "upstream_inference_prompt_cost", "upstream_inference_completions_cost",
    "prompt_token_ids", "kv_transfer_params", "prompt_filter_results", "prompt_index",
    "content_filter_results", "hate", "self_harm", "sexual", "violence", "jailbreak",
    "protected_material_text", "protected_material_code", "profanity", "filtered", "severity",
    "detected",
}
# A frame's keys holding no text of their own: its choices (each read as its channel or
# message), names and ids (NOT_TEXT), vLLM's `prompt_logprobs` (the prompt's tokens, as a
# choice's `logprobs` name the answer's) and OpenAI's `obfuscation` (random padding, new in
# each chunk: read, it would make every chunk a check).
FRAME_SKIP = NOT_TEXT | {"choices", "prompt_logprobs", "obfuscation"}
# The key under which guard names a cut stream's incident and rules: an upstream's own is
# dropped (`drop_upstream_guard`), so that a client reading it reads guard's only.
GUARD_KEY = "guard"


def strings(node: Any, path: Path, skip: frozenset[str] = frozenset(), *,
            names: frozenset[str] = frozenset()) -> Iterator[tuple[Path, str]]:
    """Every string in a JSON value with its path, the objects' keys too (`KeyOf`) but those
    in `names` (the protocol's own), but under the keys in `skip`."""
    stack: list[tuple[Path, Any]] = [(path, node)]
    while stack:
        at, value = stack.pop()
        if isinstance(value, str):
            yield at, value
        elif isinstance(value, dict):
            for k, v in reversed(value.items()):
                if k not in skip:
                    stack.append(((*at, k), v))
                    if k not in names:
                        stack.append(((*at, KeyOf(k)), k))
        elif isinstance(value, list):
            stack.extend(((*at, i), v) for i, v in reversed(list(enumerate(value))))


def frame_strings(body: Json) -> list[tuple[Path, str]]:
    """Every string of a chat or legacy completion's keys beside its choices (a chunk's or a
    whole answer's frame: `usage`, an `error`, a provider's own fields such as Groq's `x_groq`),
    keys too, but names and ids (FRAME_SKIP, at the top) and the protocol's names
    (FRAME_NAMES): a compromised upstream's text there reaches the client as the answer's does."""
    return [found for key, value in body.items() if key not in FRAME_SKIP
            for found in strings({key: value}, (), names=FRAME_NAMES)]


def holds_text(node: Any, names: frozenset[str] = PROTOCOL_NAMES) -> bool:
    """Whether a value holds a string `strings` reads (keys too, but `names`)."""
    return next(strings(node, (), names=names), None) is not None


def drop_frame_texts(body: Json) -> None:
    """Takes out of a chat or legacy completion refused the keys beside its choices that hold
    text (`frame_strings`): they may hold what was refused, as the message's other fields."""
    for key in [key for key, value in body.items() if frame_strings({key: value})]:
        del body[key]


def drop_upstream_guard(body: Json) -> bool:
    """Takes an upstream's own `guard` key out of a chunk or an event (GUARD_KEY); whether it
    had one."""
    if GUARD_KEY not in body:
        return False
    del body[GUARD_KEY]
    return True


def leaves(node: Any, path: Path, role: str, sub: int = 0, *,
           names: frozenset[str] = frozenset()) -> Iterator[Text]:
    """The texts of a value guard has no reading for (an item or a block of a kind it does not
    know): every string in it but names, ids and opaque data (NOT_TEXT), each kind named by its
    dotted path inside the value; its keys too, but those in `names`: in an event whose keys
    are the protocol's own names (`index`, `usage`, PROTOCOL_NAMES), not text."""
    for at, value in strings(node, path, NOT_TEXT, names=names):
        yield Text(sub, ".".join(map(str, at[len(path):])) or "text", at, role, value)


# OpenAI caps `n` at 128; an upstream's index beyond that (or not an integer) is not trusted.
MAX_INDEX = 128
# But a legacy list of prompts has `n` choices for each prompt, any number of them: a choice's
# index is trusted up to the integers JavaScript reads exactly (`choice_index`), as a client
# keys two choices apart by it. A stream's must be under the choices its request asked for.
MAX_CHOICE_INDEX = 2 ** 53
# The most choices guard writes itself (a refusal, a stream's ending). A legacy list of prompts
# times `n` may ask for a million; one refusal each would turn a 50 KB request into 300 MB. A
# stream's ending finishes past them each choice the client was sent text of, all the same.
MAX_CHOICES_WRITTEN = 1024


@dataclass(frozen=True, slots=True)
class Continued:
    """The text an answer goes on from, where a client shows the two as one: a legacy
    completion's prompt, an assistant message the model is asked to continue (a prefill). A
    value the prompt begins and the answer ends is read whole (`Segment.context`).

    before: for each prompt, the text its choices continue (its end, once `cut`).
    after:  the text a client puts after the answer (a fill-in-the-middle `suffix`; its start,
            once `cut`), read after each choice's continuing text (`Segment.after`).
    per:    choices per prompt: choice i continues `before[i // per]`.
    kind:   the kind of stream channel the continuing text comes in (`text`, `content`).
    at:     for a whole answer's text, by the answer and the text's path: the choice it is the
            continuing text of, by the choice's `index` (as a client places it: an upstream
            may list choices in another order), None for another text (reasoning, a refusal,
            a tool call).
    """

    before: tuple[str, ...]
    kind: str
    at: Callable[[Json, Path], int | None]
    after: str = ""
    per: int = MAX_INDEX

    def before_choice(self, choice: int) -> str:
        n = choice // max(1, self.per)
        return self.before[n] if n < len(self.before) else ""

    def cut(self, chars: int) -> Continued | None:
        """Only as much of each text as a finding reaches, `chars` read by the classifiers
        (`kept_before`); None when they find no values (nothing to join)."""
        if chars <= 0:
            return None
        return dataclasses.replace(
            self, before=tuple(t[kept_before(t, len(t), chars):] for t in self.before),
            after=self.after[:kept_after(self.after, 0, chars)])


def segments(slots: Sequence[Slot], stage: Stage, *, joined: int = 0,
             ahead: int | None = 0, continued: Continued | None = None,
             answer: Json | None = None) -> list[Segment]:
    """One segment per slot; with `joined`, each carries the texts of up to that many slots
    before it of its kind (`Segment.context`), and is read with the first `ahead` characters
    (all, for None) of the texts after it: an answer whose texts a client joins (the Responses
    API's message parts and items, the Messages API's text blocks) is read across them, and a
    value going on from one text into the next is found, and masked, in both. A span may end
    past its slot's text: masks stop at its end (`apply_redactions`). With `continued`, an
    answer's continuing texts (of the `answer` the slots are in) are read after the text they
    continue (`going_on`)."""
    if not joined:
        plain = [Segment(text=s.text, role=s.role, index=i, stage=stage)
                 for i, s in enumerate(slots)]
        return plain if continued is None else going_on(plain, slots, continued, joined,
                                                        answer or {})
    kinds: dict[tuple[str, Any, Any], list[int]] = {}
    for i, slot in enumerate(slots):
        # texts of one kind: by role and where they sit in their item or block (a message's
        # parts, `content[j].text`, apart from a reasoning summary's, `summary[j].text`)
        kind = (slot.role, slot.path[-1], slot.path[-3] if len(slot.path) >= 3 else None)
        kinds.setdefault(kind, []).append(i)
    out: dict[int, Segment] = {}
    for members in kinds.values():
        # a blank text (an empty part) takes no place among those read with another: empty
        # parts between the pieces of a value cannot push one out (`normalize.blank`)
        texts = [slots[i].text for i in members]
        shown = [not blank(text) for text in texts]
        earlier: list[str] = []
        for n, i in enumerate(members):
            pieces = [t for t, seen in zip(texts[n + 1:], shown[n + 1:], strict=True) if seen]
            after = "".join(pieces)
            after = after if ahead is None else after[:ahead]
            out[i] = Segment(texts[n] + after, slots[i].role, i, stage, tuple(earlier[-joined:]),
                             joins=joins(len(texts[n]), pieces, len(after)))
            if shown[n]:
                earlier.append(texts[n])
    joint = [out[i] for i in range(len(slots))]
    return joint if continued is None else going_on(joint, slots, continued, joined, answer or {})


def joins(own: int, pieces: Iterable[str], ahead: int) -> tuple[int, ...]:
    """Where each of `pieces`, read back to back after a text of `own` characters, begins, of
    those within the `ahead` characters read with it (`Segment.joins`)."""
    starts = itertools.accumulate((len(piece) for piece in pieces), initial=own)
    return tuple(at for at in starts if at < own + ahead)


def going_on(read: list[Segment], slots: Sequence[Slot], continued: Continued,
             joined: int, answer: Json) -> list[Segment]:
    """`read`, each choice's continuing texts read after the text they continue: the first, and
    those read with all the continuing texts before them (`joined`), with it before their
    context; the last with the text after the answer (`Continued.after`). Only a finding
    reaching into a segment's own text is acted on (`LocalClassifier._across`, `_onward`)."""
    seen: dict[int, int] = {}
    last: dict[int, int] = {}
    out = list(read)
    for n, slot in enumerate(slots):
        choice = continued.at(answer, slot.path)
        if choice is None:
            continue
        k = seen[choice] = seen.get(choice, -1) + 1
        last[choice] = n
        before = continued.before_choice(choice)
        if k <= joined and before:
            out[n] = dataclasses.replace(out[n], context=(before, *out[n].context))
    if continued.after:
        for n in last.values():
            out[n] = dataclasses.replace(out[n], after=continued.after)
    return out


def masked(decision: Decision, texts: Sequence[tuple[Path, str]],
           first: int = 0) -> list[tuple[int, Path, str]]:
    """The texts a redacting `decision` masks (the n-th read as segment `first + n`): n, path
    and masked text, in the order to write them back: deepest first, so a key renamed is not
    on the way to a value inside it, and at one depth a value before its own key (renamed first,
    the key would leave the value's path pointing nowhere, and the write would add the
    unmasked key back)."""
    if decision.action is not Action.REDACT:
        return []
    out = [(n, path, apply_redactions(text, list(spans), decision.mask))
           for n, (path, text) in enumerate(texts)
           if (spans := decision.redactions.get(first + n))]
    return sorted(out, key=lambda item: write_order(item[1]))


# Where a prompt's messages are: chat's and the Messages API's `messages`, the Responses API's
# `input`, a legacy completion's `prompt` (each a string, or a list)
MESSAGE_LISTS = frozenset({"messages", "input", "prompt"})


def asked(slots: Sequence[Slot], decision: Decision) -> str:
    """What an answer answers: the texts of the prompt's last user message (its parts joined
    by new lines), as forwarded (masked where `decision` redacts). A name, an id, a legacy
    completion's `suffix`, a `prediction`, a stored prompt's variables are no part of it."""
    shown = {n: text for n, _, text in masked(decision, [(s.path, s.text) for s in slots])}
    messages: dict[Path, list[str]] = {}
    for n, slot in enumerate(slots):
        if slot.role == "user" and message_text(slot.path):
            messages.setdefault(slot.path[:2], []).append(shown.get(n, slot.text))
    return "\n".join(list(messages.values())[-1]) if messages else ""


def message_text(path: Path) -> bool:
    """Whether a slot at `path` is a message's text: a prompt or input that is one string, one
    of a legacy prompt's strings, a message's content or one of its text parts."""
    if path[0] not in MESSAGE_LISTS:
        return False
    if len(path) <= 2:
        return len(path) == 1 or isinstance(path[1], int)
    return isinstance(path[1], int) and path[2] == "content" and path[-1] in ("content", "text")


def write_order(path: Path) -> tuple[int, bool]:
    """Deepest first, and at one depth a value before its own key (`masked`)."""
    return -len(path), isinstance(path[-1], KeyOf)


def set_path(body: Json, path: Path, value: Any) -> None:
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    last = path[-1]
    if isinstance(last, KeyOf):  # the key renamed, in its place
        renamed = [(value if k == last.key else k, v) for k, v in node.items()]
        node.clear()
        node.update(renamed)
    elif isinstance(value, str) and isinstance(node[last], dict | list):
        node[last] = orjson.loads(value)  # a value read as its JSON text (`json_text`)
    else:
        node[last] = value


def get_path(body: Json, path: Path) -> Any:
    node: Any = body
    for key in path:
        node = key.key if isinstance(key, KeyOf) else node[key]
    return node


# Subtrees whose keys are the client's own (schemas, metadata, token ids): any spelling goes.
# The second line: servers' extensions (vLLM's structured outputs, plugin and processor
# arguments and template documents; llama.cpp's `json_schema`).
FREE_FORM = frozenset({"metadata", "tools", "functions", "response_format", "logit_bias",
                       "chat_template_kwargs", "schema", "variables", "env", "attributes",
                       "headers",
                       "guided_json", "structured_outputs", "json_schema", "vllm_xargs",
                       "mm_processor_kwargs", "media_io_kwargs", "logits_processors",
                       "documents"})


Chunk = Callable[[str, str, int, str | None, str | None], Json]


@dataclass(frozen=True, slots=True)
class Structured:
    """The texts of an answer that are JSON, a client parses them: a mask may land only inside
    their string literals (`redaction.breaks_json`), else the answer is refused. A call's
    arguments (a Messages tool call's input) always; the answer's text when the request asked
    for JSON (`wants_json`, `text.format`).

    kinds: the kinds of the stream channels (and texts of typed events) that are JSON.
    at:    whether a whole answer's text at a path is.
    """

    kinds: frozenset[str] = frozenset()
    at: Callable[[Path], bool] = lambda path: False


NOT_JSON = Structured()
# The formats that ask for an answer in JSON (chat's `response_format`, the Responses API's
# `text.format`).
JSON_FORMATS = frozenset({"json_object", "json_schema"})


def asks_json(fmt: Any) -> bool:
    """Whether a request's answer format asks for JSON."""
    return isinstance(fmt, dict) and fmt.get("type") in JSON_FORMATS


# The keys of servers' structured outputs that ask for JSON: vLLM's `guided_json` and
# `guided_json_object`, llama.cpp's `json_schema`; and those inside vLLM's `structured_outputs`.
JSON_EXTENSIONS = ("guided_json", "guided_json_object", "json_schema")
JSON_OUTPUTS = ("json", "json_object")
_SERVER_OPTIONS = frozenset((*JSON_EXTENSIONS, "structured_outputs"))


def wants_json(body: Json) -> bool:
    """Whether a request asks for its answer in JSON: `response_format` (chat, and legacy
    completions on vLLM), or a server's own option (`JSON_EXTENSIONS`, `structured_outputs`)."""
    if asks_json(body.get("response_format")):
        return True
    if body.keys().isdisjoint(_SERVER_OPTIONS):  # most requests: one set operation, no generator
        return False
    outputs = body.get("structured_outputs")
    return any(
        body.get(key) not in (None, False) for key in JSON_EXTENSIONS) or (
        isinstance(outputs, dict) and any(outputs.get(key) not in (None, False)
                                          for key in JSON_OUTPUTS))


def json_text(value: Any) -> str:
    """A JSON value as the text a stream sends it in (a tool call's input): read as such, every
    number and key in it, and put back parsed (`set_path`)."""
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Dialect:
    """An API dialect guard understands.

    prompt_slots:     the texts a request sends (messages, prompt strings, tool results).
    unread:           the places where a request sends the model what is not text (images,
                      audio, files, token ids): guard cannot read those (`place` names them).
    completion_slots: the texts a non-streamed response returns.
    stream_deltas:    the texts one stream event adds.
    completion:       builds a whole answer with the given text (refusals, kill switch), in as
                      many choices as asked (`choices_asked`; the APIs without choices: one
                      answer).
    refuse:           an upstream's whole answer with its texts replaced by a refusal.
    refusal_events:   a refusal as a whole stream (a kill switch in refuse mode), in as many
                      choices as asked, ending with its usage when the client asked for it in a
                      stream of chunks (`asks_usage`).
    error_event:      the event that ends a stream which cannot go on.
    chunk:            builds one stream chunk carrying text (with the assistant's role, for
                      chat: a choice's first chunk may be that one) and/or a finish reason (the
                      APIs whose streams are chunks of choices; None for streams of typed
                      events).
    free_form:        keys whose subtrees hold the client's own keys (see `folded_keys`).
    choices_asked:    how many choices a request asks for (None: not counted), which a stream's
                      choices must stay under: a client printing the first choice of each
                      chunk joins choices an upstream sends one after another.
    joins_answer:     how many earlier texts of its role each text of an answer is read with
                      (`segments`): 0 where an answer's texts are alternatives (legacy
                      completions' choices).
    continued:        the text a request asks the answer to go on from (`Continued`), None
                      for an answer a client shows on its own.
    structured:       the texts of the answer to a request that are JSON (`Structured`).
    """

    route: str
    prompt_slots: Callable[[Json], list[Slot]]
    unread: Callable[[Json], list[str]]
    completion_slots: Callable[[Json], list[Slot]]
    stream_deltas: Callable[[Json], list[Delta]]
    completion: Callable[[str, str, str, str, int], Json]
    refuse: Callable[[Json, str], Json]
    refusal_events: Callable[[str, str, bool, int], bytes]
    error_event: Callable[[str, str], bytes]
    chunk: Chunk | None = None
    free_form: frozenset[str] = FREE_FORM
    joins_answer: int = 0
    choices_asked: Callable[[Json], int | None] = lambda body: None
    continued: Callable[[Json], Continued | None] = lambda body: None
    structured: Callable[[Json], Structured] = lambda body: NOT_JSON


# The spellings a lenient upstream reads as a boolean, as pydantic's lax mode does (vLLM's and
# SGLang's request models): case aside, and surrounding spaces aside.
TRUE_SPELLINGS = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE_SPELLINGS = frozenset({"false", "0", "no", "off", "f", "n"})


def lax_bool(value: Any) -> bool | None:
    """A flag as a lenient upstream reads it: `true`/`false`, 0 and 1 (`1.0` too), and the
    strings in TRUE_SPELLINGS and FALSE_SPELLINGS in any case; None for anything else (an
    upstream refuses it, or reads it some other way: the caller takes the safer reading)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        spelled = value.strip().lower()
        if spelled in TRUE_SPELLINGS or spelled in FALSE_SPELLINGS:
            return spelled in TRUE_SPELLINGS
    return None


def may_read(value: Any, wanted: bool) -> bool:
    """Whether a lenient upstream may read a given flag as `wanted`: it does, or it is spelled
    in no way `lax_bool` knows. An absent flag (None) is for the caller to read."""
    read = lax_bool(value)
    return read is None or read is wanted


def n_asked(body: Json) -> int | None:
    """A request's `n` (1 when absent) as a lenient upstream reads it (`1.0`, `"1"`, `true`);
    None when it is not a small positive integer in any of those spellings."""
    n = body.get("n")
    if n is None:
        return 1
    if isinstance(n, str) and n.strip().isdigit():
        n = int(n.strip())
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    return int(n) if isinstance(n, int) and 0 < n <= MAX_INDEX else None


def chunked_refusal(chunk: Chunk, model: str, text: str, usage: bool = False,
                    choices: int = 1) -> bytes:
    """A refusal as a stream of chunks: for each of the `choices` asked, a text chunk and a
    finishing chunk with `content_filter`; then a chunk of its usage when the client asked
    (`usage`), then `[DONE]`."""
    completion_id = new_id("guard")
    events: list[Json] = []
    for index in range(choices):
        events.append(chunk(completion_id, model, index, text, None))
        events.append(chunk(completion_id, model, index, None, "content_filter"))
    if usage:
        events.append(usage_chunk(chunk, completion_id, model, None))
    return b"".join(encode_event(event) for event in events) + encode_event("[DONE]")


# The usage of an answer guard made, or cut before the upstream's usage came (chat, legacy
# completions): nothing known, zeros. A client reading `usage.total_tokens` gets a number.
NO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def counts(usage: Json) -> Json:
    """A usage's counts: its numbers and flags, and objects of them, under the API's names
    (FRAME_NAMES); its strings, lists and keys of its own dropped. What a stream cut for a text
    in its usage ends with: the client keeps the counts, no text unread or cut for."""
    out: Json = {}
    for key, value in usage.items():
        if key in FRAME_NAMES and (value is None or isinstance(value, int | float | dict)):
            out[key] = counts(value) if isinstance(value, dict) else value
    return out


def asks_usage(body: Json) -> bool:
    """Whether a streaming request asks for its usage in a last chunk
    (`stream_options.include_usage`), as a lenient upstream reads the flag."""
    options = body.get("stream_options")
    return isinstance(options, dict) and lax_bool(options.get("include_usage")) is True


def usage_chunk(chunk: Chunk, completion_id: str, model: str, usage: Json | None) -> Json:
    """The chunk a stream asked for its usage ends with: no choices, the `usage` (the
    upstream's, when it came; else NO_USAGE)."""
    counted = chunk(completion_id, model, 0, None, None)
    counted["choices"] = []
    counted["usage"] = dict(usage) if usage is not None else dict(NO_USAGE)
    return counted


def error_event(message: str, code: str) -> bytes:
    """An error in OpenAI's shape as an SSE event: how a broken stream ends cleanly."""
    return encode_event({"error": {"message": message, "type": "server_error", "param": None,
                                   "code": code}})


def index_of(item: Any, position: int, below: int = MAX_INDEX) -> int:
    """An item's `index` (a tool call's, a block's) when it is a non-negative integer under
    `below`, else its position in its list: an upstream may send any JSON there, and guard keys
    state on it. `1.0` and `true` are read as 1, as clients read them (JavaScript's numbers,
    Python's dict keys): keyed apart, a value sent under `1` and `1.0` would be read in two
    halves."""
    index = item.get("index", position) if isinstance(item, dict) else position
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    if isinstance(index, int) and 0 <= index < below:
        return int(index)
    return position


def choice_index(choice: Any, position: int) -> int:
    """A choice's `index` (`index_of`), trusted up to MAX_CHOICE_INDEX: a legacy prompt list's
    choice 300, read as its position in its chunk (0), had its text read, and held, as choice
    0's while the client showed it as choice 300's."""
    return index_of(choice, position, MAX_CHOICE_INDEX)


def choice_at(answer: Json, path: Path, text: tuple[str, ...]) -> int | None:
    """The `index` of the choice (`choice_index`) whose text at `choices[i].<text>` (or inside it) a
    whole answer's text at `path` is; None for a text elsewhere."""
    at = path[:2]
    if len(path) < 2 + len(text) or at[0] != "choices" or not isinstance(at[1], int) \
            or path[2:2 + len(text)] != text:
        return None
    choices = list_at(answer, "choices")
    return choice_index(choices[at[1]], at[1]) if at[1] < len(choices) else at[1]


def place(path: Path, what: str) -> str:
    """A place in a body as a client would write it: `messages[2].content[0] (image_url)`."""
    name = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".")
    return f"{name} ({what})"


def unread_inside(node: Any, path: Path, kinds: frozenset[str],
                  named: Callable[[Json, Path], list[str]]) -> list[str]:
    """The places `named` finds in the objects of `kinds` (by `type`) anywhere inside `node`, a
    value read whole: what it may hold that is not text (an image a tool sent back)."""
    if isinstance(node, list):
        return [found for j, inner in enumerate(node)
                for found in unread_inside(inner, (*path, j), kinds, named)]
    if not isinstance(node, dict):
        return []
    if node.get("type") in kinds:
        return named(node, path)
    return [found for key, inner in node.items()
            for found in unread_inside(inner, (*path, key), kinds, named)]


def folded_keys(node: Any, free_form: frozenset[str] = FREE_FORM,
                only: frozenset[str] | None = None) -> list[str]:
    """Keys spelled so that they fold to another, lower-case ASCII key ("Messages", or
    "messages" with a long s): guard reads `messages`, while an upstream that matches keys
    ignoring case (Go's encoding/json, so Ollama and many gateways) would also read, or read
    instead, the other spelling. With `only`, just those folding to one of these keys."""
    return key_census(node, free_form, only)[0]


def key_census(node: Any, free_form: frozenset[str] = FREE_FORM,
               only: frozenset[str] | None = None) -> tuple[list[str], int]:
    """`folded_keys` (outside the subtrees under `free_form` keys), and how many keys the
    whole value has (for `duplicate_keys`), in one walk."""
    found: list[str] = []
    count = 0
    stack: list[tuple[Any, bool]] = [(node, True)]
    while stack:
        item, checked = stack.pop()
        if type(item) is dict:
            count += len(item)
            for key, value in item.items():
                if checked and not (key.islower() and key.isascii()):  # rare: the API's keys
                    folded = key.casefold()                             # are lower-case ASCII
                    if folded != key and folded.isascii() and (only is None or folded in only):
                        found.append(f"'{key}' (reads as '{folded}')")
                if key == "variables" and type(value) is dict:
                    # a prompt's variables: named by the client, but an object given as a
                    # value is the API's own (an input_text part)
                    count += len(value)
                    stack.extend((v, checked) for v in value.values()
                                 if type(v) is dict or type(v) is list)
                elif type(value) is dict or type(value) is list:
                    stack.append((value, checked and key not in free_form))
        elif type(item) is list:
            stack.extend((v, checked) for v in item if type(v) is dict or type(v) is list)
    return found, count


# A key and its colon as JSON writes them (whitespace may come between).
_KEY_COLON = re.compile(rb'"\s*:')


def duplicate_keys(raw: bytes, keys: int) -> list[str]:
    """Keys given twice in one object of `raw`, which has `keys` keys parsed (`key_census`).
    guard reads the last, as orjson does, while a parser that keeps the first (gjson, simdjson,
    some gateways) would read the other value, unguarded. No more key-colon pairs in the bytes
    than keys parsed proves there are none, at once (the usual case); else the bytes are parsed
    again keeping every pair."""
    if len(_KEY_COLON.findall(raw)) <= keys:
        return []
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                found.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except RecursionError:
        return ["(nested too deep to check)"]
    return found


def repeats_keys(data: str, event: Json) -> bool:
    """Whether a stream event (`data`, parsed as `event`) gives a key twice in one object, which
    a client parser keeping the first would read otherwise than guard. Checked per event, so
    cheaply first: no more colons in the data than keys in the event's first three levels
    proves there is none (a chunk of plain text, 0.5 us); else as `duplicate_keys`."""
    if data.count(":") <= _keys_near_top(event):
        return False
    return bool(duplicate_keys(data.encode(), key_census(event)[1]))


def _keys_near_top(node: Json) -> int:
    """Keys of `node`, of the objects among its values (directly or in a list), and of theirs."""
    count = len(node)
    for value in node.values():
        if type(value) is dict:
            count += _keys_and_inner(value)
        elif type(value) is list:
            for item in value:
                if type(item) is dict:
                    count += _keys_and_inner(item)
    return count


def _keys_and_inner(node: dict[str, Any]) -> int:
    count = len(node)
    for value in node.values():
        if type(value) is dict:
            count += len(value)
    return count


# The keys whose values name or number a text rather than say it: a speaker, a document, a
# function, a call.
LABELS = frozenset({"name", "title", "id", "call_id", "tool_call_id", "tool_use_id"})


def labels_last(slots: list[Slot]) -> list[Slot]:
    """`slots` with names, ids and an object's keys moved after the texts, in their order: read
    between a role's texts (classifiers read them joined, `runner.in_context`), they would part
    a value sent in pieces (a key split across two calls' arguments, each call named)."""
    return sorted(slots, key=lambda slot: isinstance(slot.path[-1], KeyOf)
                  or slot.path[-1] in LABELS)


def list_at(node: Any, key: str) -> list[Any]:
    """`node[key]` when it is a list, else an empty one."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def unread_in_messages(body: Json, unread_part: Callable[[Any, Path], list[str]]) -> list[str]:
    """The places of `messages` guard cannot read: a message that is not an object, a content
    neither a string nor a list, and what `unread_part` names of each part of a list."""
    places: list[str] = []
    for i, message in enumerate(list_at(body, "messages")):
        if not isinstance(message, dict):
            places.append(place(("messages", i), type(message).__name__))
            continue
        content = message.get("content")
        if content is None or isinstance(content, str):
            continue
        if not isinstance(content, list):
            places.append(place(("messages", i, "content"), type(content).__name__))
            continue
        for j, part in enumerate(content):
            places.extend(unread_part(part, ("messages", i, "content", j)))
    return places


def typed_event(event: Json) -> bytes:
    """One event as the Responses and Messages APIs stream it: an `event:` line naming its
    `type`, then its data. A type that is not one line of text gets no `event:` line: written
    there, a line break would start an event of the upstream's making."""
    kind = event.get("type")
    name = kind.encode() if isinstance(kind, str) and one_line(kind) else b""
    return (b"event: " + name + b"\n" if name else b"") + encode_event(event)


def one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


INDEX_KEYS = ("index", "output_index", "content_index", "summary_index", "command_index")


def bad_type_or_index(event: Json) -> bool:
    """A typed event whose `type` is not one line, or whose index is not a small non-negative
    integer: a client would read it otherwise than guard (Python reads `content[-1]` as the last
    block), so it is refused."""
    kind = event.get("type")
    if isinstance(kind, str) and not one_line(kind):
        return True
    return any(key in event and not small_index(event[key]) for key in INDEX_KEYS)


def small_index(value: Any) -> bool:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and 0 <= value < MAX_INDEX


def new_id(prefix: str) -> str:
    return f"{prefix}-guard{time.time_ns():x}"
