"""Classifier types by name: a plain dict of built-ins, plus the `guard.classifiers` entry points.

To add a type, add one line to BUILTINS: `"name": ClassifierType(ConfigModel, factory)`. A third
party adds one without touching guard through an entry point in its own distribution:

    [project.entry-points."guard.classifiers"]
    my_type = "my_package.module:CLASSIFIER_TYPE"   # a ClassifierType (or a (config, factory) pair)

A factory is called as `factory(name, config, spec)` with the instance name from the policy, the
validated config model and the common keys, and returns a `guard.types.Classifier`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

import guard
from guard.build import source_digest
from guard.classify.builtin import (
    encoded_text,
    harmful,
    invisible_text,
    jailbreak,
    keywords,
    pii,
    profanity,
    prompt_injection,
    regex,
    secrets,
)
from guard.classify.remote import llama_guard, openai_moderation, webhook
from guard.classify.spec import ClassifierSpec, ClassifierType, Factory
from guard.errors import (
    ClassifierError,
    PolicyError,
    given,
    model_at,
    shown_key,
    unknown_hint,
    validation_message,
)
from guard.types import ERROR_LABEL, Classifier

ENTRY_POINT_GROUP = "guard.classifiers"
__all__ = [
    "ClassifierSpec", "ClassifierType", "ConfiguredClassifier", "Factory", "build_classifier",
    "known_types",
]


@dataclass(frozen=True)
class ConfiguredClassifier:
    """A classifier instance declared by a policy, ready to run."""

    name: str
    spec: ClassifierSpec
    classifier: Classifier
    config_hash: str

    @property
    def emits(self) -> frozenset[str] | None:
        """Every label a verdict of this instance can carry: its classifier's (`Classifier.emits`;
        None, open, when it declares none) and, failing closed, the runner's `ERROR_LABEL`."""
        labels: frozenset[str] | None = getattr(self.classifier, "emits", None)
        if labels is None or self.spec.on_error != "fail_closed":
            return labels
        return labels | {ERROR_LABEL}


BUILTINS: dict[str, ClassifierType] = {
    "regex": regex.TYPE,
    "keywords": keywords.TYPE,
    "pii": pii.TYPE,
    "secrets": secrets.TYPE,
    "invisible_text": invisible_text.TYPE,
    "encoded_text": encoded_text.TYPE,
    "prompt_injection": prompt_injection.TYPE,
    "jailbreak": jailbreak.TYPE,
    "profanity": profanity.TYPE,
    "llama_guard": llama_guard.TYPE,
    "openai_moderation": openai_moderation.TYPE,
    "webhook": webhook.TYPE,
    **harmful.REGISTRY_ENTRIES,
}


def _plugins() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_types() -> list[str]:
    """Every type name a policy can use: built-ins, then installed plugins."""
    return sorted(set(BUILTINS) | set(_plugins()))


def lookup(type_name: str) -> ClassifierType | None:
    """The registry entry for `type_name` (a built-in wins over a plugin of the same name)."""
    if type_name in BUILTINS:
        return BUILTINS[type_name]
    ep = _plugins().get(type_name)
    if ep is None:
        return None
    loaded = ep.load()
    if isinstance(loaded, ClassifierType):
        return loaded
    if isinstance(loaded, tuple) and len(loaded) in (2, 3):
        return ClassifierType(*loaded)
    raise TypeError(f"entry point {ep.value!r} is not a ClassifierType or (config, factory)")


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{shown_key(part)}"
    return out


# what pydantic calls a list it could not read, worded as a policy file reads
_LIST_TYPES = {"list_type": "list", "tuple_type": "list", "set_type": "list",
               "frozen_set_type": "list"}


def _errors(prefix: str, exc: ValidationError, config: type[BaseModel]) -> list[str]:
    """Each error as `classifiers.<name>.key: reason`, worded as a policy's own errors are: a
    misspelt key lists the keys expected there (`config`: the type's config model), a bad value
    is described (`given`: a misspelt word quoted, other strings never)."""
    out = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            keys = _keys_at(config, loc[:-1])
            out.append(f"{_path(prefix, loc)}: unknown key" + unknown_hint(str(loc[-1]), keys))
            continue
        message = ("Input should be a list" if error["type"] in _LIST_TYPES
                   else validation_message(error))
        out.append(f"{_path(prefix, loc)}: {message}{given(error)}")
    return out


def _keys_at(config: type[BaseModel] | None, loc: tuple[int | str, ...]) -> list[str]:
    """The keys a classifier's settings take at `loc`: at the top, the keys every classifier
    takes and the type's own."""
    model = model_at(config, loc)
    own = [info.alias or name for name, info in model.model_fields.items()] if model else []
    return [*ClassifierSpec.model_fields, *own] if not loc else own


def _validate_settings(config: type[BaseModel], settings: dict[str, Any]) -> BaseModel:
    """The type's config from its settings, a single string given where a list is expected read
    as a one-item list (as everywhere in a policy)."""
    try:
        return config.model_validate(settings)
    except ValidationError as exc:
        listed = _single_strings_listed(settings, exc)
        if listed is None:
            raise
        return config.model_validate(listed)


def _single_strings_listed(data: Any, exc: ValidationError) -> Any:
    """`data` with each string that failed for not being a list made a one-item list (None: no
    such string)."""
    found = [tuple(e["loc"]) for e in exc.errors()
             if e["type"] in _LIST_TYPES and isinstance(e.get("input"), str)]
    if not found:
        return None
    data = copy.deepcopy(data)
    for loc in found:
        parent = data
        try:
            for part in loc[:-1]:
                parent = parent[part]
            parent[loc[-1]] = [parent[loc[-1]]]
        except (KeyError, IndexError, TypeError):  # a union's tag in the path: left as it is
            continue
    return data


def code_fingerprint(package: Path) -> str:
    """A hash of the source under `package` (guard's package directory) that computes verdicts:
    the classify package (classifiers, normalisation, decoding, models' features) and the types
    it returns. Any change to that code changes it, whatever `guard.__version__` says."""
    return source_digest(package, [*package.glob("classify/**/*.py"), package / "types.py"])


# Read once at import (about 0.3 MB): a replica of other code never shares a cached verdict with
# this one, in a rolling upgrade too.
CODE_FINGERPRINT = code_fingerprint(Path(guard.__file__).parent)


def config_hash(type_name: str, config: BaseModel, spec: ClassifierSpec, fingerprint: str = "") -> str:
    """A stable hash of what decides a verdict: type, config, normalisation, the code that
    computes it (`CODE_FINGERPRINT`) and the classifier's `fingerprint` (a trained model's
    identity, which a file path does not give)."""
    blob = orjson.dumps(
        {"type": type_name, "config": config.model_dump(mode="json"),
         "normalize": spec.normalize, "code": CODE_FINGERPRINT, "fingerprint": fingerprint},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def build_classifier(name: str, raw: Mapping[str, Any]) -> ConfiguredClassifier:
    """Validate one `classifiers.<name>` entry of a policy and build it.

    Raises PolicyError whose messages name the key path and the reason.
    """
    prefix = f"classifiers.{name}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{prefix}: expected a mapping with a `type` key")
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise PolicyError(f"{prefix}.type: missing (expected one of {', '.join(known_types())})")
    try:
        entry = lookup(type_name)
    except Exception as exc:  # a broken plugin is a policy problem, reported as one
        raise PolicyError(
            f"{prefix}.type: cannot load classifier type {type_name!r}: {exc}"
        ) from exc
    if entry is None:
        raise PolicyError(
            f"{prefix}.type: unknown classifier type {type_name!r}"
            + unknown_hint(type_name, known_types())
        )
    common = {"timeout_s": entry.timeout_s, **raw}
    if entry.conversation:
        if raw.get("cache") is True:
            raise PolicyError(f"{prefix}.cache: {type_name} judges each turn with the conversation "
                              "before it; its verdicts cannot be cached per text")
        common["cache"] = False
    try:
        spec = ClassifierSpec.model_validate(common)
    except ValidationError as exc:
        errors = _errors(prefix, exc, ClassifierSpec)
        raise PolicyError("; ".join(errors), errors) from exc
    own = dict(spec.model_extra or {})
    try:
        config = _validate_settings(entry.config, own)
    except ValidationError as exc:
        errors = _errors(prefix, exc, entry.config)
        raise PolicyError("; ".join(errors), errors) from exc
    if not 0 < spec.timeout_s < math.inf:  # NaN too: it timed every call out at once
        raise PolicyError(f"{prefix}.timeout_s: must be a finite number of seconds greater than 0")
    try:
        classifier = entry.factory(name, config, spec)
    except (ValueError, ImportError, ClassifierError) as exc:  # e.g. an unreadable model artefact
        raise PolicyError(f"{prefix}: {exc}") from exc
    fingerprint = str(getattr(classifier, "fingerprint", ""))
    return ConfiguredClassifier(name, spec, classifier, config_hash(type_name, config, spec, fingerprint))
