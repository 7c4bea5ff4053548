"""guard's error tree. Errors become HTTP answers in exactly one place: `proxy.errors`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from guard.types import Switch


class StoppedStarting(BaseException):
    """A stop signal (SIGTERM, SIGINT) while `guard serve` started, before its server's own
    handler was in place: nothing was served, and the process ends at once, exit status 0; under
    `--check` (`checking`), 128 + the signal's number, as a shell reports a process a signal
    ended: a check cut short (a CI job cancelled) is no verdict. A BaseException, as
    KeyboardInterrupt is: no `except Exception` on the way keeps it."""

    def __init__(self, signum: int, checking: bool = False) -> None:
        super().__init__(signum, checking)
        self.signum, self.checking = signum, checking


def stop_while_starting(signum: int, _: object) -> None:
    """The handler of SIGTERM and SIGINT from `guard serve`'s first line until the server's own
    (`app.serve`) replaces it."""
    raise StoppedStarting(signum)


def stop_while_checking(signum: int, _: object) -> None:
    """`stop_while_starting` for `guard serve --check`."""
    raise StoppedStarting(signum, checking=True)


def asks_check(argv: Sequence[str]) -> bool:
    """Whether `guard serve`'s arguments `argv` ask for `--check` (as argparse reads it, an
    abbreviation too): for the handler in place before they are parsed (`__main__`)."""
    return any(len(arg) >= 4 and "--check".startswith(arg) for arg in argv)


def stopped_starting(stopped: StoppedStarting) -> int:
    """Exit status 0 (with --check, 128 + the signal's number), said in one JSON line on stderr
    (`stopped_while_starting`, naming the signal): a pod stopped as it started leaves a line.
    Written with the standard library alone, as logging may not be configured yet (the line then
    passes no `log_level`)."""
    import json
    import os
    import signal
    import sys
    import time

    now = time.time()
    status = 128 + stopped.signum if stopped.checking else 0
    detail = ("a stop signal before the check finished: the configuration was not checked"
              if stopped.checking else "a stop signal before guard listened: nothing was served")
    line = {"event": "stopped_while_starting", "signal": signal.Signals(stopped.signum).name,
            "detail": detail, "exit_status": status,
            "pid": os.getpid(), "level": "info",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            + f".{int(now % 1 * 1e6):06d}Z"}
    logged_lines_first()
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()
    return status


def logged_lines_first(wait_s: float = 2.0) -> None:
    """Before a line written straight to stderr: the log lines still queued for the writer
    thread (`guard.observability.log_out`) written, waiting at most `wait_s`, so that they do not
    come after it. Nothing to wait for when logging was never set up."""
    import sys

    logging = sys.modules.get("guard.observability.logging")
    if logging is not None:
        logging.lines_settled(wait_s)


class GuardError(Exception):
    """Base of every error guard raises on purpose."""


class ConfigError(GuardError):
    """A configuration file or variable is invalid. The message names the file, key path, reason."""


class StartupError(GuardError):
    """guard cannot start: a port is taken, the state directory is unusable, saved state is
    unreadable. The message says what and where."""


def cannot_listen(address: str, exc: OSError) -> StartupError:
    """A listener that cannot start: its port is taken, or the address is not this machine's."""
    return StartupError(f"cannot listen on {address}: {exc.strerror or exc}")


class PolicyError(GuardError):
    """A policy file is invalid; `errors` lists each problem found, `files` the files the load
    read or looked for (those `extends` names, missing ones too): a change to one of them may
    make the load succeed."""

    def __init__(self, message: str, errors: list[str] | None = None, *,
                 files: tuple[Path, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors or [message]
        self.files = files


class ClassifierError(GuardError):
    """A classifier failed (raised, timed out, or answered something unusable)."""


class PromptTooCostly(ClassifierError):
    """A prompt a classifier cannot read whole in reasonable time (what makes it costly is
    said): refused (413), not passed unread or read in part."""


class UpstreamError(GuardError):
    """The upstream could not be reached, timed out, or broke its protocol. `detail`, for the log
    only (it may name the upstream's address, which clients are not told): where the upstream is
    and what failed, in the system's words."""

    def __init__(self, message: str, *, status: int = 502, code: str = "upstream_error",
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


class Overloaded(UpstreamError):
    """A check on guard's own CPU could not finish within its timeout: guard is overloaded (a
    few clients sending long texts at once can make it so). The request is refused (503
    `guard_overloaded`, to retry) rather than passed unread, whatever the classifier's
    `on_error`. An UpstreamError so that a stream it ends closes with an error event, as when
    the upstream fails."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503, code="guard_overloaded")


class RequestError(GuardError):
    """The client's request is unusable (malformed JSON, too large, unknown path)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request",
                 param: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param
        self.headers = dict(headers or {})


class ClientStalled(GuardError):
    """The client did not take a write of its answer within `limits.client_write_timeout_s`
    (`proxy.silence` ends the write): it stopped reading."""


class SwitchedOff(GuardError):
    """A kill switch engaged while this request was in flight (`proxy.silence` ends its wait for
    the upstream, or for the client to take a write)."""

    def __init__(self, switch: Switch) -> None:
        super().__init__(f"stopped by kill switch {switch.id}: {switch.reason}")
        self.switch = switch


def validation_message(error: Mapping[str, Any]) -> str:
    """One pydantic validation error's message as guard shows it: without pydantic's "Value
    error, " in front of the messages guard's own validators write."""
    return str(error["msg"]).removeprefix("Value error, ")


# Error types whose string missed a closed set of words (an action, an entity): a misspelt word
# is quoted back. No other string is: a header, an address or a variable may hold a credential.
_CLOSED_SET_ERRORS = frozenset({"literal_error", "enum"})
MAX_QUOTED_CHARS = 24


def given(error: Mapping[str, Any]) -> str:
    """What follows a validation error's message about the value given: ` (got 'deny')` for a
    short word that missed a closed set, a number or a boolean; ` (got a string of 34
    characters)` for any other string, never quoted (`headers: "Authorization: Bearer …"` had
    its token echoed in `policy check`, a reload's 422 and its log line); "" otherwise."""
    value = error.get("input")
    if error["type"] == "missing":
        return ""
    if isinstance(value, bool | int | float):
        return f" (got {value!r})"
    if not isinstance(value, str):
        return ""
    if error["type"] in _CLOSED_SET_ERRORS and len(value) <= MAX_QUOTED_CHARS:
        return f" (got {value!r})"
    return f" (got a string of {len(value)} characters)"


# A key that reads as a name: groups of words (`max_tokens`, `X-Api-Key`, `maxTokens`, `ENV_VAR`),
# numbers and short mixes (`gpt-4o`), a word numbered (`vllm2`, `gpu01`, `gpt4o`), a short word
# of any case (`vLLM`, `OpenAI`, `redisURL`), each group at most 24 characters, the key at most 64
_KEY_GROUP = re.compile(r"[A-Za-z][a-z]*(?:[A-Z][a-z]+)*|[A-Z]+|\d{1,8}|[a-z0-9]{1,4}"
                        r"|[A-Za-z][a-z]*\d{1,4}[a-z]{0,2}|[A-Za-z]{1,12}")
_KEY_SEPARATORS = re.compile(r"[-_.]+")
MAX_SHOWN_KEY_CHARS = 64
_SHOWN_KEY = re.compile(r"<key of \d+ characters>")


def shown_key(key: str | int) -> str:
    """A file's key as an error names it: as written when it reads as a name, else `<key of N
    characters>`. A key is the operator's text as a value is (`headers: {"Authorization: Bearer
    sk-..."}` makes the whole header one key; a token pasted at the top of guard.yaml is a key
    too): one that holds anything but words, numbers and short mixes is not echoed. A key
    shown so already (a classifier's error, placed in its policy file) stays as it is."""
    text = str(key)
    if isinstance(key, int) or _SHOWN_KEY.fullmatch(text) or _reads_as_name(text):
        return text
    return f"<key of {len(text)} characters>"


def _reads_as_name(text: str) -> bool:
    return len(text) <= MAX_SHOWN_KEY_CHARS and all(
        len(group) <= MAX_QUOTED_CHARS and _KEY_GROUP.fullmatch(group)
        for group in _KEY_SEPARATORS.split(text))


def shown_path(loc: Sequence[str | int]) -> str:
    """A validation error's location as `a.b.0.c`, each key as `shown_key` shows it."""
    return ".".join(map(shown_key, loc))


# How close (difflib ratio) an unknown name must be to a known one to read as a typo of it:
# REDIS_URI for REDIS_URL (0.89), POLICY for POLICIES (0.71), severty for severity (0.94); not
# SERVICE_HOST (0.43).
LOOKS_LIKE = 0.7


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known name `name` is likely a typo of (None: none is close enough)."""
    close = difflib.get_close_matches(name, known, 1, LOOKS_LIKE)
    return close[0] if close else None


def unknown_hint(name: str, known: Sequence[str]) -> str:
    """What follows "unknown key" (or type...): ` (did you mean X?)` for the known name it likely
    meant, else ` (expected one of: a, b)`, or nothing when none is known."""
    meant = closest(name, known)
    if meant is not None:
        return f" (did you mean {meant}?)"
    return f" (expected one of: {', '.join(known)})" if known else ""


def model_at(model: type[BaseModel] | None, loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose keys live at `loc` inside `model` (list indexes skipped; None: no model
    there), for an "unknown key (expected one of: ...)" message."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        field = fields.get(str(part))
        model = _model_in(field.annotation) if field else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (`Want`, `list[Message] | None`...)."""
    from pydantic import BaseModel  # the error tree itself stays light: every command imports it

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)
