"""Loading policy files: YAML -> validated Policy -> built classifiers -> compiled, or errors.

`load_policy_file(path)` loads one file (resolving `extends`); `guard.policy.policy_set` loads a
directory of them. Nothing is ever half-loaded: any error anywhere raises PolicyError listing
every problem as `file:line: key.path: what was expected`.

What a classifier needs from the environment (`env_problems`: an `api_key_env` unset or unusable)
is an error where the policy is to serve (`serve`, `serve --check`, a reload) and a warning where
it is only checked or tested (`guard policy check|test|explain`, `needs_env=False`), which often
runs on a machine without the secrets.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from guard.errors import PolicyError, given, model_at, unknown_hint, validation_message
from guard.policy.engine import CompiledPolicy, compile_policy, gate_of
from guard.policy.labels import never_emitted
from guard.policy.model import KNOWN_KEYS, Condition, Policy
from guard.policy.never import never_holding
from guard.policy.overrides import loosened
from guard.policy.source import Lines, Loc, parse_path, parse_yaml, read_source
from guard.types import Stage, StreamSettings

if TYPE_CHECKING:
    from guard.classify.registry import ConfiguredClassifier

Builder = Callable[[str, Mapping[str, Any]], "ConfiguredClassifier"]

MAX_EXTENDS_DEPTH = 4
TEST_SUFFIX = "_test.yaml"


def _registry_builder() -> Builder:
    from guard.classify.registry import build_classifier

    return build_classifier


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy ready to serve: validated, its classifiers built, its rules compiled.

    files:    this file, every file it extends and every file its classifiers read (a model
              artefact): what its digest covers and the store's watcher reloads on.
    warnings: things that load but are probably mistakes (unused classifiers, ...).
    by_stage: the classifiers each stage runs (those its rules read).
    holdback: per stage, the longest finding its classifiers can make (None: unbounded): what a
              stream holds back, and how far each check looks back (flags and shadow rules see
              findings split across chunks too).
    encoded_runs: per stage, whether a classifier reads encoded runs decoded: a stream then
              also holds back, and re-reads, an encoded run whole.
    values:   per stage, the longest finding of the classifiers that bound theirs (0: none
              do): a stream holds a value in progress back while it is shorter.
    stream:   the policy's streaming settings.
    """

    path: Path
    policy: Policy
    compiled: CompiledPolicy
    classifiers: Mapping[str, ConfiguredClassifier]
    files: tuple[Path, ...]
    digest: str
    warnings: tuple[str, ...]
    by_stage: Mapping[Stage, tuple[ConfiguredClassifier, ...]]
    holdback: Mapping[Stage, int | None]
    encoded_runs: Mapping[Stage, bool]
    values: Mapping[Stage, int]
    stream: StreamSettings

    @property
    def name(self) -> str:
        return self.policy.name

    @functools.cached_property
    def reads_request(self) -> bool:
        """Whether a completion classifier judges an answer after its request (`reads_request`):
        the prompt's last user message is then kept for it."""
        return any(getattr(c.classifier, "reads_request", False)
                   for c in self.by_stage[Stage.COMPLETION])

    @functools.cached_property
    def inspects(self) -> Mapping[Stage, bool]:
        """Per stage, whether any rule applies there or reads its verdicts (a completion rule's
        `prompt:`), or, for prompts, a completion classifier reads the request; else nothing is
        classified or decided there."""
        return {stage: any(stage in rule.stages for rule in self.compiled.rules)
                or bool(self.compiled.classifiers_by_stage[stage])
                or (stage is Stage.PROMPT and self.reads_request) for stage in Stage}


# -- one file -------------------------------------------------------------------------------------


def _validation_errors(lines: Lines, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = lines.clean(err["loc"])
        if err["type"] == "extra_forbidden":
            model = model_at(Policy, loc[:-1])
            hint = unknown_hint(str(loc[-1]), KNOWN_KEYS[model]) if model else ""
            out.append(lines.error(loc, f"unknown key{hint}"))
            continue
        out.append(lines.error(loc, validation_message(err) + given(err)))
    return out


def _read(path: Path) -> tuple[dict[str, Any], Lines, bytes]:
    """The file's data, its lines, and the bytes they were parsed from (what the policy's
    digest covers: a file replaced after it was read must not name the content in force)."""
    raw, text = read_source(path)
    data, lines = parse_yaml(text, path, verbatim=frozenset({("version",)}))
    if not isinstance(data, dict):
        raise PolicyError(f"{path}:1: expected a mapping with name, version, classifiers, rules")
    return data, lines, raw


@dataclass
class _Origin:
    """Where a rule or classifier was written, for error lines in extended policies."""

    lines: Lines
    loc: Loc


def _validate(path: Path, data: dict[str, Any], lines: Lines) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = _validation_errors(lines, exc)
        raise PolicyError(f"{path}: {len(errors)} error(s)", errors) from exc


@dataclass
class _Reading:
    """What resolving a file's `extends` noted on the way.

    looked_at: the file and each file `extends` names, noted before it is read (it may not
               exist): a change to one may make a failed load succeed.
    loosened:  what an override relaxes from its base (warnings).
    """

    looked_at: list[Path]
    loosened: list[str] = field(default_factory=list)


def _resolve(path: Path, depth: int, seen: tuple[Path, ...], reading: _Reading) -> tuple[
        Policy, dict[str, _Origin], dict[str, _Origin], tuple[tuple[Path, bytes], ...]]:
    """The file's policy with `extends` applied, where each rule and classifier came from, and
    the files read (with their bytes)."""
    data, lines, raw = _read(path)
    policy = _validate(path, data, lines)
    rule_origin = {r.name: _Origin(lines, ("rules", i)) for i, r in enumerate(policy.rules)}
    clf_origin = {n: _Origin(lines, ("classifiers", n)) for n in policy.classifiers}
    seen_names: set[str] = set()
    errors = []
    for index, rule in enumerate(policy.rules):
        if rule.name in seen_names:
            errors.append(lines.error(("rules", index, "name"),
                                      f"duplicate rule name {rule.name!r} (names must be unique)"))
        seen_names.add(rule.name)
    if policy.disable and policy.extends is None:
        errors.append(lines.error(("disable",), "`disable` only applies with `extends`"))
    if errors:
        raise PolicyError(f"{path}: {len(errors)} error(s)", errors)
    if policy.extends is None:
        return policy, rule_origin, clf_origin, ((path, raw),)

    base_path = (path.parent / policy.extends).resolve()
    reading.looked_at.append(base_path)
    if base_path in seen or depth >= MAX_EXTENDS_DEPTH:
        raise PolicyError(lines.error(("extends",), "extends loops back or nests deeper than "
                                      f"{MAX_EXTENDS_DEPTH} files"))
    if not base_path.is_file():
        raise PolicyError(lines.error(("extends",), f"no such policy file: {base_path}"))
    base, base_rules, base_clfs, base_files = _resolve(base_path, depth + 1, (*seen, base_path),
                                                          reading)
    for index, name in enumerate(policy.disable):
        if name not in base_rules:
            errors.append(lines.error(("disable", index),
                                      f"no rule {name!r} in {base_path.name} to disable"))
    if errors:
        raise PolicyError(f"{path}: {len(errors)} error(s)", errors)
    reading.loosened += loosened(policy, base, lines, base_path.name)
    own = {r.name: r for r in policy.rules}
    rules = [own.pop(r.name, r) for r in base.rules if r.name not in policy.disable]
    rules += [r for r in policy.rules if r.name in own]
    merged = policy.model_copy(update={
        "classifiers": {**base.classifiers, **policy.classifiers},
        "rules": rules,
        **{key: _merged_section(getattr(base, key), getattr(policy, key))
           for key in ("block", "redaction", "streaming")},
    })
    base_rules = {k: v for k, v in base_rules.items() if k not in policy.disable}
    return (merged, {**base_rules, **rule_origin}, {**base_clfs, **clf_origin},
            ((path, raw), *base_files))


def _merged_section(base: BaseModel, own: BaseModel) -> BaseModel:
    """A settings section (`block`, `streaming`...) of an extending policy: the base's, with the
    keys this file gives replacing the base's one by one."""
    return base.model_copy(update={key: getattr(own, key) for key in own.model_fields_set})


def _condition_refs(cond: Condition, loc: Loc) -> list[tuple[Loc, str]]:
    out = [((*loc, "classifier", i), name) for i, name in enumerate(cond.classifier or ())]
    for key, subs in (("all", cond.all_), ("any", cond.any_)):
        for index, each in enumerate(subs or ()):
            out += _condition_refs(each, (*loc, key, index))
    for key, sub in (("not", cond.not_), ("prompt", cond.prompt)):
        if sub is not None:
            out += _condition_refs(sub, (*loc, key))
    return out


def _check_references(policy: Policy, origins: dict[str, _Origin]) -> list[str]:
    errors = []
    known = ", ".join(policy.classifiers) or "none declared"
    for rule in policy.rules:
        origin = origins[rule.name]
        for loc, name in _condition_refs(rule.when, (*origin.loc, "when")):
            if name not in policy.classifiers:
                errors.append(origin.lines.error(
                    loc, f"unknown classifier {name!r} (declared under `classifiers:`: {known})"))
    return errors


def _build(policy: Policy, origins: dict[str, _Origin], builder: Builder
           ) -> tuple[dict[str, ConfiguredClassifier], list[str], list[str]]:
    """The built classifiers, the errors, and what they miss in the environment."""
    built: dict[str, ConfiguredClassifier] = {}
    errors: list[str] = []
    unmet: list[str] = []
    for name, raw in policy.classifiers.items():
        origin = origins[name]
        try:
            built[name] = builder(name, raw)
        except PolicyError as exc:
            for message in exc.errors:
                path, _, reason = message.partition(": ")
                loc = parse_path(path) if path.startswith("classifiers.") else origin.loc
                errors.append(origin.lines.error(loc, reason or message))
            continue
        for problem in getattr(built[name].classifier, "env_problems", ()):
            key, _, reason = problem.partition(": ")
            unmet.append(origin.lines.error((*origin.loc, key), reason))
    return built, errors, unmet


def _check_labels(policy: Policy, origins: dict[str, _Origin],
                  built: Mapping[str, ConfiguredClassifier]) -> list[str]:
    """Each label a rule names that no classifier its condition reads can emit (labels.py)."""
    emits = {name: c.emits for name, c in built.items()}
    return [origins[rule.name].lines.error((*origins[rule.name].loc, *loc), why)
            for rule in policy.rules for loc, why in never_emitted(rule.when, emits)]


def _check_gates(policy: Policy, origins: dict[str, _Origin]) -> list[str]:
    errors = []
    for name, raw in policy.classifiers.items():
        gate = gate_of(raw)
        if gate is not None and (reason := _gate_error(name, gate, policy.classifiers)):
            origin = origins[name]
            errors.append(origin.lines.error((*origin.loc, "gate", "classifier"), reason))
    return errors


def _gate_error(name: str, gate: str, declared: dict[str, dict[str, Any]]) -> str | None:
    if gate == name:
        return "a classifier cannot gate itself"
    if gate not in declared:
        return f"unknown classifier {gate!r} (declared under `classifiers:`: {', '.join(declared)})"
    if gate_of(declared[gate]) is not None:
        return f"{gate!r} is gated itself (gates do not chain)"
    return None


def _warnings(loaded: CompiledPolicy, built: Mapping[str, ConfiguredClassifier], path: Path,
              inherited: set[str]) -> list[str]:
    """`inherited`: the classifiers a base declares (one left unread by disabling its rules is
    nothing this file can change)."""
    policy = loaded.policy
    used = {n for names in loaded.classifiers_by_stage.values() for n in names}
    out = [f"{path}: classifier {n!r} is declared but no rule reads it"
           for n in policy.classifiers if n not in used and n not in inherited]
    if not policy.rules:
        out.append(f"{path}: no rules: every request is allowed")
    out += [f"{path}: classifier {n!r} has threshold 0: every text scores at least that, so it "
            "fires on every text it reads (a rule on it matches them all): give the score it "
            "should fire at" for n, raw in policy.classifiers.items() if _zero(raw.get("threshold"))]
    out += [f"{path}: redaction.mask: {{{name}}} is written as it is: only {{label}} is "
            "replaced (by the span's label)"
            for name in sorted(set(PLACEHOLDER.findall(policy.redaction.mask)) - {"label"})]
    return out + [f"{path}: {problem}" for problem in never_holding(policy, built)]


# What reads as a placeholder in a mask: a word in braces (`{label}` is the only one replaced)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _zero(value: Any) -> bool:
    """A number that is 0 (`threshold: false` is no number, and is the type's to refuse)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def _digest(files: Iterable[tuple[Path, bytes]]) -> str:
    h = hashlib.sha256()
    for f, raw in files:
        h.update(f.name.encode() + b"\0" + raw + b"\0")
    return h.hexdigest()[:12]


def load_policy_file(path: Path, builder: Builder | None = None, *, needs_env: bool = True
                     ) -> LoadedPolicy:
    """Load, validate, build and compile one policy file (with what it extends). `needs_env`:
    what a classifier misses in the environment is an error (else a warning; module docstring).
    The PolicyError's `files` are this file and those it extends (or names but lacks)."""
    path = Path(path)
    reading = _Reading([path])
    try:
        return _load(path, builder or _registry_builder(), needs_env, reading)
    except PolicyError as exc:
        exc.files = (*exc.files, *reading.looked_at)
        raise


def _load(path: Path, builder: Builder, needs_env: bool, reading: _Reading) -> LoadedPolicy:
    if path.is_symlink() and not path.exists():  # name the file the operator sees, not the target
        raise PolicyError(f"{path}: a symbolic link to {path.readlink()}, which does not exist")
    resolved = path.resolve()
    policy, rule_origins, clf_origins, read = _resolve(resolved, 0, (resolved,), reading)
    errors = _check_references(policy, rule_origins)
    built, build_errors, unmet = _build(policy, clf_origins, builder)
    errors += build_errors + _check_gates(policy, clf_origins) + (unmet if needs_env else [])
    errors += _check_labels(policy, rule_origins, built)
    if errors:
        raise PolicyError(f"{path}: {len(errors)} error(s)", errors)
    # files a classifier read (a model artefact) count as the policy's own: digest and watcher
    artefacts = tuple(f for c in built.values() for f in getattr(c.classifier, "files", ()))
    files = (*(f for f, _ in read), *artefacts)
    digest = _digest([*read, *((f, f.read_bytes()) for f in artefacts)])
    compiled = compile_policy(policy)
    by_stage = {stage: tuple(built[n] for n in compiled.classifiers_by_stage[stage])
                for stage in Stage}
    holdback: dict[Stage, int | None] = {}
    encoded_runs: dict[Stage, bool] = {}
    values: dict[Stage, int] = {}
    for stage, names in compiled.classifiers_by_stage.items():
        lengths = [built[n].classifier.max_match_chars for n in names]
        holdback[stage] = None if None in lengths else max((n or 0 for n in lengths), default=0)
        encoded_runs[stage] = any(getattr(built[n].classifier, "reads_encoded_runs", False) for n in names)
        values[stage] = max((n for n in lengths if n is not None), default=0)
    inherited = {n for n, origin in clf_origins.items() if origin.lines.path != resolved}
    warnings = tuple(_warnings(compiled, built, path, inherited) + reading.loosened
                     + ([] if needs_env else unmet))
    return LoadedPolicy(path, policy, compiled, built, files, digest, warnings, by_stage,
                        holdback, encoded_runs, values, policy.streaming.settings())
