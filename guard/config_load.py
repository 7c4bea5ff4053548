"""Reading guard's settings (`guard.config.Settings`): the YAML file, then the environment, then
the checks made before anything starts.

`GUARD_<KEY>` overrides a top-level key (`GUARD_REDIS_URL`); a double underscore walks into a
section (`GUARD_UPSTREAMS__DEFAULT__URL`, `GUARD_KILLSWITCH__RELEASE_APPROVALS`), the file's or,
when the file has none, the built-in one (`upstreams`' default upstream). Values are read
as YAML scalars, so `null`, numbers, booleans and `[a, b]` lists work; a value that is not YAML
is its text (`[::]:8000`), and so is a path setting's `~` (which the setting refuses).
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from guard.config import Settings, parse_host_port
from guard.errors import (
    ConfigError,
    PolicyError,
    closest,
    given,
    shown_key,
    shown_path,
    unknown_hint,
    validation_message,
)
from guard.policy.source import parse_yaml
from guard.proxy.model_routes import GUARDED, model_route, path_pattern, reached, under_guarded

ENV_PREFIX = "GUARD_"
# GUARD_* variables that are not settings: the operator CLI's token and admin URL
# (guard.admin.client), the admin tokens' default variable (`admin_tokens_env`), the image's
# health check URL (deploy/docker/Dockerfile), the directory a `--workers` supervisor hands its
# workers for kill switches held off a full state volume (guard.workers, guard.killswitch.held),
# the per-user cache directory of derived model weights (guard.classify.builtin._profanity_cache).
NOT_SETTINGS = frozenset({"GUARD_ADMIN_TOKEN", "GUARD_ADMIN_URL", "GUARD_ADMIN_TOKENS",
                          "GUARD_HEALTH_URL", "GUARD_HELD_DIR", "GUARD_CACHE_DIR"})
# The variables Kubernetes gives a pod for each Service of its namespace (unless the pod sets
# `enableServiceLinks: false`), a Service `guard-redis` with a port 6379 named `redis`:
# GUARD_REDIS_SERVICE_HOST, _SERVICE_PORT, _SERVICE_PORT_REDIS, _PORT=tcp://10.0.0.7:6379,
# _PORT_6379_TCP (the same URL), _PORT_6379_TCP_PROTO, _PORT_6379_TCP_PORT, _PORT_6379_TCP_ADDR.
# https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables
SERVICE_LINK = re.compile(r"[A-Z0-9_]+?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?"
                          r"|PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)")
# `<SERVICE>_PORT` alone is a link only by its value: GUARD_PORT=8000 is a mistake
SERVICE_LINK_URL = re.compile(r"(tcp|udp|sctp)://\S+")
# Names given to a listener's parts, which guard takes together as host:port
HOST_PORT = {"port": "listen", "host": "listen", "admin_port": "admin_listen",
             "admin_host": "admin_listen"}

def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (optional), apply `GUARD_*` overrides, validate. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    source = str(path) if path else "defaults"
    raw = {} if path is None else _read(path)
    named = _upstream_names(raw)
    overridden = _apply_env(raw, environ)
    _refuse_lookalike_upstreams(overridden, named, raw, source)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, overridden)) from exc
    if path is not None:
        settings = _relative_to(settings, path.parent)
    _refuse_mistyped(environ, settings)
    _refuse_missing_hash_key(environ, settings, source)
    return settings


def _read(path: Path) -> dict[str, Any]:
    """The file's keys; its YAML read as a policy file's is (a key given twice is an error naming
    its line, not the last one silently winning), merge keys (`<<: *base`) allowed."""
    try:
        loaded, _ = parse_yaml(path.read_text(encoding="utf-8"), path, merge_keys=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except PolicyError as exc:
        raise ConfigError("; ".join(exc.errors)) from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys")
    return loaded or {}


def check_state_dir(path: Path, *, make: bool = True) -> None:
    """`state_dir`, and the directories incidents are written in inside it, are writable
    directories or can be made (`state_dir` is made if missing, unless `make` is False): else
    ConfigError, before anything is started."""
    from guard.incidents.recorder import incidents_dir, journal_dir, spool_dir

    if path.exists() and not path.is_dir():
        raise ConfigError(f"state_dir {path}: not a directory")
    if make:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"state_dir {path}: cannot be made: {exc.strerror or exc}") from exc
    # (`incidents` left a file, or a directory owned by root after a first run as root)
    for directory in (path, incidents_dir(path), journal_dir(path), spool_dir(path)):
        nearest = next(p for p in (directory, *directory.parents) if p.exists())
        if not nearest.is_dir():
            raise ConfigError(f"state_dir {path}: {nearest} is not a directory")
        if not os.access(nearest, os.R_OK | os.W_OK | os.X_OK):
            raise ConfigError(f"state_dir {path}: cannot be made or written ({nearest})")


def check_policies_path(settings: Settings, path: Path | None) -> None:
    """`policies` naming nothing that exists is a ConfigError saying where a relative path was
    looked for (the config file's directory, not the working directory) and how to run without
    policies, before the policy loader's bare "no such file"."""
    if settings.policies is None or settings.policies.exists():
        return
    where = (f"the config file's directory, {path.parent}" if path is not None
             else "the working directory, as no config file was given")
    raise ConfigError(f"{path or 'defaults'}: policies: {settings.policies}: no such policy file or "
                      f"directory (a relative path is relative to {where}); point `policies:` at "
                      "a policy directory or file, or set `policies: null` to run without policies")


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Write `GUARD_*` values into `raw`; return key path → variable name, for error messages."""
    applied: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        if keys[0] not in Settings.model_fields:
            continue
        if len(keys) > 1 and keys[0] not in raw:
            # into the built-in section, not a new one in its place: GUARD_UPSTREAMS__DEFAULT__
            # TIMEOUT_S keeps the default upstream's url
            raw[keys[0]] = Settings.model_construct().model_dump(include={keys[0]})[keys[0]]
        node = raw
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        try:
            node[keys[-1]] = value if not value or _home(keys, value) else yaml.safe_load(value)
        except yaml.YAMLError:
            # not YAML: the text itself (`[::]:8000`), which the setting's type then checks
            node[keys[-1]] = value
        applied[".".join(keys)] = name
    return applied


def _home(keys: Sequence[str], value: str) -> bool:
    """`~` given for a path setting: kept as text, which the setting refuses (a shell's home
    directory, not YAML's null: `GUARD_POLICIES=~` had run every request unguarded)."""
    annotation = _annotation_at(Settings, keys)
    return value == "~" and Path in (annotation, *typing.get_args(annotation))


def _refuse_mistyped(environ: Mapping[str, str], settings: Settings) -> None:
    """A GUARD_* variable that names no setting but reads like one (a section path, a section
    walked into with single underscores, a listener's port, or a name close to a setting's) is a
    ConfigError, as the same typo in the file is: ignored, it would
    leave the setting it meant at its default. Other GUARD_* names (Kubernetes service links
    such as GUARD_SERVICE_HOST, the variables a `*_env` key of the settings or of a policy
    names, a classifier's `api_key_env`) are not guard's to judge."""
    read_elsewhere = {*NOT_SETTINGS, *env_keys(settings.model_dump())}
    policy_names: set[str] | None = None  # the policy files are read only for a suspect name
    for name in sorted(environ):
        if (not name.startswith(ENV_PREFIX) or name in read_elsewhere
                or service_link(name, environ[name])):
            continue
        key, section, _ = name[len(ENV_PREFIX):].lower().partition("__")
        if key in Settings.model_fields:
            continue
        hint = _meant(key)
        if not (hint or section):
            continue
        if policy_names is None:
            policy_names = policies_env_keys(settings.policies) if settings.policies else set()
        if name not in policy_names:
            raise ConfigError(f"{name}: not a setting{hint}; unknown GUARD_* variables that "
                              "look like settings are refused")


def _upstream_names(raw: Mapping[str, Any]) -> set[str]:
    """The upstreams the file names (the built-in ones when it has no `upstreams`), before the
    environment adds any."""
    if "upstreams" not in raw:
        return set(Settings.model_construct().upstreams)
    upstreams = raw["upstreams"]
    return {str(name) for name in upstreams} if isinstance(upstreams, dict) else set()


def _refuse_lookalike_upstreams(overridden: Mapping[str, str], named: set[str],
                                raw: Mapping[str, Any], source: str) -> None:
    """An upstream that only GUARD_UPSTREAMS__<NAME>__* variables make, that no route uses, and
    whose name is close to one the file has (GUARD_UPSTREAMS__DEFUALT__URL) is a ConfigError,
    before the settings are checked (its missing url would be the error): it is a typo, which
    would leave the upstream it meant at its old URL. Names compare in any case: a variable's
    is read in lower case, so an upstream the file names with capitals (`Llama`) can be set by
    none, which the error says."""
    routes = raw.get("routes")
    routed = {str(name) for name in routes.values()} if isinstance(routes, dict) else set()
    by_lower = {upstream.lower(): upstream for upstream in sorted(named)}
    for key, variable in overridden.items():
        section, _, rest = key.partition(".")
        name, _, inner = rest.partition(".")
        if section != "upstreams" or not name or name in named or name in routed:
            continue
        if name in by_lower:
            capitalised = by_lower[name]
            raise ConfigError(
                f"{variable}: cannot set upstreams.{capitalised}: variable names are read in "
                f"lower case, so an upstream named with capital letters cannot be set from the "
                f"environment; rename it {name!r} in {source} (and in its routes), and the "
                "variable sets it")
        close = closest(name, sorted(by_lower))
        if close:
            meant = "__".join([section, close, *([inner] if inner else [])])
            renamed = (f"; an upstream named with capital letters cannot be set from the "
                       f"environment: rename {by_lower[close]} {close!r} in {source}"
                       if by_lower[close] != close else "")
            raise ConfigError(
                f"{variable}: makes a new upstream {name!r} that no route uses, and {source} "
                f"has no upstream of that name (did you mean {by_lower[close]}? "
                f"{ENV_PREFIX}{meant.replace('.', '__').upper()}{renamed}); "
                f"upstreams.{by_lower[close]} would keep its own settings")


def unused_upstreams(settings: Settings) -> list[str]:
    """A warning for each upstream that neither a route nor the default routing (`default`)
    sends requests to: a name mistyped in `routes:` or in a GUARD_UPSTREAMS__* variable leaves
    the upstream meant unchanged."""
    used = {"default", *settings.routes.values()}
    return [f"upstreams.{shown_key(name)}: no request goes to it: only `default` and the upstreams "
            "`routes:` name are used; name it in a route, or remove it"
            for name in settings.upstreams if name not in used]


def cache_not_shared(settings: Settings) -> str | None:
    """A warning when `cache.shared` is on without `redis_url`: there is nothing to share
    verdicts through, so each replica keeps its own."""
    if not settings.cache.shared or settings.redis_url:
        return None
    return ("cache.shared is true but redis_url is not set: verdicts are not shared, each "
            "process keeps its own cache; set redis_url, or cache.shared: false")


def _meant(key: str) -> str:
    """What a variable `GUARD_<KEY>` that names no setting was likely meant to be (` (did you
    mean ...)`), or "" when it does not read like a setting."""
    if key in HOST_PORT:
        meant = HOST_PORT[key]
        _, port = parse_host_port(Settings.model_fields[meant].default)
        return (f" (did you mean {ENV_PREFIX}{meant.upper()}? it takes host:port, such as "
                f"{ENV_PREFIX}{meant.upper()}=0.0.0.0:{port})")
    for section in Settings.model_fields:
        if key.startswith(section + "_") and _section(Settings.model_fields[section].annotation):
            path = _nested(Settings.model_fields[section].annotation, key[len(section) + 1:].split("_"))
            meant = "__".join([section, *path]).upper() if path else f"{section.upper()}__<KEY>"
            return (f" (did you mean {ENV_PREFIX}{meant}? a double underscore walks into a "
                    "section)")
    close = closest(key, list(Settings.model_fields))
    return f" (did you mean {ENV_PREFIX}{close.upper()}?)" if close else ""


def _section(annotation: Any) -> bool:
    """Whether a setting of this type has keys of its own (`upstreams`, `limits`)."""
    return typing.get_origin(annotation) is dict or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel))


def _nested(annotation: Any, words: list[str]) -> list[str] | None:
    """The key path inside a setting of type `annotation` that `words` (a variable's name split
    at single underscores) spell, `[default, url]` for upstreams' DEFAULT_URL; None if none."""
    if not words:
        return [] if not _section(annotation) else None
    for cut in range(1, len(words) + 1):
        head, rest = "_".join(words[:cut]), words[cut:]
        if typing.get_origin(annotation) is dict:
            inner: Any = typing.get_args(annotation)[1]
        elif _section(annotation) and head in annotation.model_fields:
            inner = annotation.model_fields[head].annotation
        else:
            continue
        if (path := _nested(inner, rest)) is not None:
            return [head, *path]
    return None


def service_link(name: str, value: str) -> bool:
    """Whether `name=value` is one of the variables Kubernetes sets for a Service."""
    if SERVICE_LINK.fullmatch(name):
        return True
    return name.endswith("_PORT") and SERVICE_LINK_URL.fullmatch(value) is not None


def env_keys(data: object) -> set[str]:
    """The variable names that `*_env` keys anywhere in `data` (settings, a policy) hold."""
    if isinstance(data, dict):
        return {name for key, value in data.items() for name in (
            {value} if str(key).endswith("_env") and isinstance(value, str) else env_keys(value))}
    if isinstance(data, list):
        return {name for item in data for name in env_keys(item)}
    return set()


def policies_env_keys(path: Path) -> set[str]:
    """The variables the `*_env` keys of the policy files at `path` (a directory or one file)
    name, a classifier's `api_key_env`. A file that cannot be read gives none: loading the
    policies says what is wrong with it."""
    from guard.policy.policy_set import policy_files

    files = policy_files(path) if path.is_dir() else [path]
    names: set[str] = set()
    for file in files:
        try:
            names |= env_keys(yaml.safe_load(file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
    return names


def _refuse_missing_hash_key(environ: Mapping[str, str], settings: Settings, source: str) -> None:
    """`incidents.hash_key_env` naming a variable unset or empty (a Secret not mounted, a typo)
    is a ConfigError: guard would hash under a key of its own, not the one asked for, and the
    hashes would not compare with those of the deployments sharing it."""
    name = settings.incidents.hash_key_env
    if name is None or environ.get(name):
        return
    why = "is empty" if name in environ else "is not set"
    raise ConfigError(f"{source}: incidents.hash_key_env: the variable {name} {why}; without "
                      "its key, content_hash would be under this deployment's own key and would "
                      "not compare with the hashes of deployments sharing that key")


def _describe(exc: ValidationError, source: str, overridden: Mapping[str, str]) -> str:
    problems = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"])
        origin = next((f" (from {var})" for key, var in overridden.items()
                       if path == key or path.startswith(key + ".")), "")
        problems.append(f"{source}: {shown_path(error['loc']) or '(top level)'}{origin}: "
                        f"{_reason(error)}")
    return "; ".join(problems)


def _reason(error: Mapping[str, Any]) -> str:
    """Why a value is refused, in guard's words where pydantic's say little: an unknown key
    with the key it likely meant (or the keys there are), a section that is not a mapping."""
    if error["type"] == "extra_forbidden":
        model = _annotation_at(Settings, error["loc"][:-1])
        keys = list(model.model_fields) if _section(model) and model is not dict else []
        return "unknown key" + unknown_hint(str(error["loc"][-1]), keys)
    if error["type"] in ("model_type", "dict_type"):  # its value unquoted: it may be a secret
        return "expected a mapping of keys" + given(error)
    return validation_message(error)


def _annotation_at(annotation: Any, loc: Sequence[str | int]) -> Any:
    """The type of the setting at `loc` inside one of type `annotation` (a section's keys
    walked by name, a mapping's by any key, a list's by index); None where there is none."""
    for part in loc:
        if typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        elif _section(annotation) and str(part) in annotation.model_fields:
            annotation = annotation.model_fields[str(part)].annotation
        else:
            return None
    return annotation


def _relative_to(settings: Settings, base: Path) -> Settings:
    """Relative paths in a config file are relative to the file, not the working directory."""
    updates: dict[str, Path] = {}
    if settings.policies is not None and not settings.policies.is_absolute():
        updates["policies"] = base / settings.policies
    if not settings.state_dir.is_absolute():
        updates["state_dir"] = base / settings.state_dir
    return settings.model_copy(update=updates)


def admin_exposed(settings: Settings) -> str | None:
    """A warning when the admin API listens beyond loopback (0.0.0.0 in a container, a public
    address): it is not refused, but /metrics there needs no token and the kill switch is there."""
    host, _ = parse_host_port(settings.admin_listen)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        loopback = False
    if loopback:
        return None
    return (f"admin_listen {settings.admin_listen}: the admin API (kill switches, reloads, "
            "incidents; /metrics and health without a token) listens beyond loopback; keep the "
            "admin port off the public network")


def doubled_paths(settings: Settings) -> list[str]:
    """A warning for each upstream URL ending in /v1 (an OpenAI SDK's base_url copied): guard
    appends the request path, /v1 included, so every call would go to .../v1/v1/... and the
    client get the upstream's 404."""
    return [f"upstreams.{name}.url {upstream.url} ends in /v1: guard appends the request path, "
            f"so /v1/chat/completions would go to {upstream.url}/v1/chat/completions (a 404); "
            f"drop the /v1 (url: {upstream.url.removesuffix('/v1')})"
            for name, upstream in settings.upstreams.items()
            if urllib.parse.urlsplit(upstream.url).path.endswith("/v1")]


def broad_passthrough(settings: Settings) -> list[str]:
    """A warning for each `passthrough:` template that matches paths outside /v1/ (`/{tail:.*}`,
    `/api/{tail:.*}`): servers answer with a model's text on routes there that guard does not
    guard; those it knows are refused (`model_routes`, named), others would pass unread. And for
    a path listed that is one of those it knows: it is refused all the same."""
    warnings = []
    for template in settings.passthrough:
        if "{" in template and not template.startswith("/v1/"):
            warnings.append(
                f"passthrough {template} matches paths outside /v1/, where model servers answer "
                f"a prompt unguarded (guard refuses those it knows{_named(template)}; others "
                "would pass unread): list only the paths that should pass (/health)")
        elif "{" not in template and (known := model_route(template.rstrip("/") or "/")):
            warnings.append(f"passthrough {template} is where {known.refusal()}: guard refuses "
                            f"{known.refused(template)} (400 invalid_path)")
    return warnings


def passthrough_model_routes(settings: Settings) -> list[str]:
    """A warning for each `passthrough:` template under /v1/ that matches routes where a model
    runs on a prompt guard does not read (`/v1/{tail:.*}`: `POST /v1/batches`, `POST
    /v1/messages/batches`; `/v1/threads/{tail:.*}`: `POST /v1/threads/runs`), naming them: guard
    refuses them (400 `invalid_path`), so what the template was meant for may not work."""
    return [f"passthrough {template} matches routes where a model runs on a prompt guard does "
            f"not read (guard refuses them, 400 invalid_path{_named(template)}): list only the "
            "paths that should pass"
            for template in settings.passthrough
            if "{" in template and template.startswith("/v1/") and reached(template)]


def _named(template: str) -> str:
    """The model routes `template` matches, as a clause: `: POST /v1/batches, /api/chat`."""
    routes = reached(template)
    return f": {', '.join(routes)}" if routes else ""


def passthrough_under_guarded(settings: Settings) -> list[str]:
    """A warning for each `passthrough:` template that may match a path at or under a guarded
    route (`/v1/{tail:.*}`, `/v1/chat/completions/{id}/messages`): an upstream keeps answers and
    prompts there (`GET /v1/chat/completions` lists stored completions, answers included;
    `/v1/responses/{id}/input_items`), which would reach the client unread. Guard's own routes
    there (a stored answer fetched by id) are read all the same."""
    warnings = []
    for template in settings.passthrough:
        pattern = path_pattern(template)
        # a literal at or under the route, or a variable taking it and what is under it (not
        # `/v1/{x}/batches`: one segment cannot take `chat/completions`)
        route = under_guarded(template) if "{" not in template else next(
            (like for like in sorted(GUARDED) if template.startswith(like + "/") or any(
                pattern.fullmatch(like + under) for under in ("", "/x", "/x/x", "/x/x/x"))),
            None)
        if route is not None:
            warnings.append(
                f"passthrough {template} may match paths at or under the guarded route {route}, "
                "where an upstream keeps answers and prompts (GET /v1/chat/completions lists "
                "stored completions; /v1/responses/{id}/input_items): they would reach the "
                "client unread; list only the paths that should pass")
    return warnings
