"""A directory of policies: which files are policies, and which policy a request gets.

`load_policies(path)` loads a directory (every `*.yaml` except `*_test.yaml` and hidden files;
`default.yaml` is the fallback) or one file, and returns a `PolicySet` that picks the policy for a
request by its scope. Nothing is half-loaded: an error in any file fails the whole set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guard.errors import PolicyError
from guard.policy.engine import globs, model_globs
from guard.policy.loader import TEST_SUFFIX, Builder, LoadedPolicy, load_policy_file
from guard.policy.model import Scope
from guard.policy.never import needed
from guard.policy.source import read_yaml
from guard.types import GuardContext, model_key

if TYPE_CHECKING:
    from guard.classify.registry import ConfiguredClassifier


@dataclass(frozen=True)
class _Scoped:
    loaded: LoadedPolicy
    tenants: frozenset[str] | None
    models: re.Pattern[str] | None
    routes: re.Pattern[str] | None

    def matches(self, ctx: GuardContext, model: str) -> bool:
        """`model`: the request's, as `model_key` reads it (once for every scope)."""
        return ((self.tenants is None or ctx.tenant in self.tenants)
                and (self.models is None or self.models.match(model) is not None)
                and (self.routes is None or self.routes.match(ctx.route) is not None))


@dataclass(frozen=True)
class PolicySet:
    """Every policy in force, and the rule that picks one for a request.

    The most specific scope that matches wins (tenants+models+routes over two of them over one);
    among equally specific scopes a tenant scope beats a model scope beats a route scope, then
    file name order. Requests no scope claims get the default policy.

    warnings: about the directory: files in it that are not loaded but look meant to be, and
              what never applies since a policy chosen first takes its requests.
    """

    default: LoadedPolicy
    scoped: tuple[_Scoped, ...]
    version: str
    source: Path
    warnings: tuple[str, ...] = ()

    @property
    def policies(self) -> tuple[LoadedPolicy, ...]:
        return (*(s.loaded for s in self.scoped), self.default)

    def all_warnings(self) -> list[str]:
        """Every policy's warnings, then the directory's: what `guard policy` commands print."""
        return [*(w for p in self.policies for w in p.warnings), *self.warnings]

    def classifiers(self) -> Iterator[ConfiguredClassifier]:
        """Every policy's classifiers (one shared by two policies comes twice)."""
        for loaded in self.policies:
            yield from loaded.classifiers.values()

    def choose(self, ctx: GuardContext) -> LoadedPolicy:
        model = model_key(ctx.model)
        for scoped in self.scoped:
            if scoped.matches(ctx, model):
                return scoped.loaded
        return self.default


def _scoped(loaded: LoadedPolicy) -> _Scoped:
    scope = loaded.policy.scope or Scope()
    return _Scoped(loaded, frozenset(scope.tenants) or None,
                   model_globs(scope.models) if scope.models else None,
                   globs(scope.routes) if scope.routes else None)


def _rank(loaded: LoadedPolicy) -> tuple[int, bool, bool, bool, str]:
    scope = loaded.policy.scope or Scope()
    return (-scope.specificity, not scope.tenants, not scope.models, not scope.routes,
            loaded.path.name)


def policy_files(directory: Path) -> list[Path]:
    """The policy files of a directory: `*.yaml` except `*_test.yaml` and hidden files, by name."""
    return sorted(p for p in visible(directory.glob("*.yaml")) if not p.name.endswith(TEST_SUFFIX))


def ignored_files(directory: Path) -> list[Path]:
    """Files of a directory that look like policies but are not loaded (`*.yml`): warned about."""
    return sorted(visible(directory.glob("*.yml")))


def ignored_warnings(directory: Path) -> tuple[str, ...]:
    """A warning for each file of `directory` that looks like a policy but is not loaded."""
    return tuple(f"{file}: ignored: only *.yaml files are policies (rename it {file.stem}.yaml "
                 "to load it)" for file in ignored_files(directory))


def visible(paths: Iterable[Path]) -> Iterator[Path]:
    """`paths` but hidden files, which pathlib's glob matches and a shell's `*.yaml` does not: an
    editor's lock file (Emacs' `.#default.yaml`, a dangling link), a Mac's `._default.yaml`."""
    return (p for p in paths if not p.name.startswith("."))


def load_policies(path: Path, builder: Builder | None = None, *, needs_env: bool = True
                  ) -> PolicySet:
    """Load a policy directory or one policy file (which then applies to every request);
    `needs_env` as for `load_policy_file`."""
    path = Path(path)
    if path.is_file():
        loaded = load_policy_file(path, builder, needs_env=needs_env)
        return PolicySet(loaded, (), loaded.digest, path)
    if not path.is_dir():
        raise PolicyError(f"{path}: no such policy file or directory")
    files = policy_files(path)
    if not files:
        raise PolicyError(f"{path}: no policy files (*.yaml) in this directory")
    loaded_all: list[LoadedPolicy] = []
    errors: list[str] = []
    looked_at: list[Path] = []
    for file in files:
        try:
            loaded_all.append(load_policy_file(file, builder, needs_env=needs_env))
        except PolicyError as exc:
            errors += exc.errors
            looked_at += exc.files
    defaults, scoped, set_errors = _sort_scopes(loaded_all)
    errors += set_errors
    if not errors and len(defaults) != 1:
        found = ", ".join(p.path.name for p in defaults) or "none"
        errors.append(f"{path}: exactly one default policy needed (default.yaml or "
                      f"`scope: {{default: true}}`); found: {found}")
    if errors:
        looked_at += (f for p in loaded_all for f in p.files)
        raise PolicyError(f"{path}: {len(errors)} error(s)", errors, files=tuple(looked_at))
    scoped.sort(key=_rank)
    version = hashlib.sha256(
        "".join(p.digest for p in sorted(loaded_all, key=lambda p: p.path.name)).encode()
    ).hexdigest()[:12]
    return PolicySet(defaults[0], tuple(_scoped(p) for p in scoped if p is not defaults[0]),
                     version, path, ignored_warnings(path) + _taken_first(scoped, defaults[0]))


def _taken_first(scoped: list[LoadedPolicy], default: LoadedPolicy) -> tuple[str, ...]:
    """What never applies because a policy chosen first (`scoped` in the order `choose` tries
    them) takes every request it would: a policy whose scope an earlier one covers, a rule
    needing tenants that policies of tenants alone take."""
    out = []
    taken: dict[str, LoadedPolicy] = {}  # tenant -> the policy that takes all its requests
    for index, loaded in enumerate([*scoped, default]):
        first = next((e for e in scoped[:index] if _covers(e.policy.scope, loaded.policy.scope)),
                     None)
        if first is not None:
            out.append(f"{loaded.path}: scope: never applies: {first.path.name}, which comes "
                       "first, takes every request it would")
        for rule in loaded.policy.rules:
            # a policy that holds the rule itself (it extends this file) applies it
            lost = next((tenants for tenants in needed(rule.when, "tenant")
                         if all(t in taken and rule not in taken[t].policy.rules
                                for t in tenants)), None)
            if lost is not None:
                files = ", ".join(dict.fromkeys(taken[t].path.name for t in lost))
                out.append(f"{loaded.path}: rule {rule.name!r} never matches: every request of "
                           f"tenant {', '.join(lost)} goes to {files}")
        scope = loaded.policy.scope
        if scope is not None and scope.tenants and not scope.models and not scope.routes:
            taken.update({t: loaded for t in scope.tenants if t not in taken})
    return tuple(out)


def _covers(first: Scope | None, then: Scope | None) -> bool:
    """Whether a request `then` takes is always one `first` takes (each list of `first` is
    empty, any, or holds all of `then`'s, which is not)."""
    if first is None or then is None or not then.specificity:
        return False
    return all(not mine or (theirs and set(theirs) <= set(mine))
               for mine, theirs in ((first.tenants, then.tenants), (first.models, then.models),
                                    (first.routes, then.routes)))


def _sort_scopes(loaded_all: list[LoadedPolicy]
                 ) -> tuple[list[LoadedPolicy], list[LoadedPolicy], list[str]]:
    """(default candidates, scoped policies, errors) of a directory's policies."""
    names: dict[str, Path] = {}
    defaults: list[LoadedPolicy] = []
    scoped: list[LoadedPolicy] = []
    errors: list[str] = []
    for loaded in loaded_all:
        if loaded.name in names:
            errors.append(f"{loaded.path}:1: name: policy name {loaded.name!r} is already used "
                          f"by {names[loaded.name].name}")
        names[loaded.name] = loaded.path
        scope = loaded.policy.scope
        if loaded.path.name == "default.yaml" and scope is not None and scope.specificity:
            errors.append(_scoped_default(loaded.path))
        elif loaded.path.name == "default.yaml" or (scope is not None and scope.default):
            defaults.append(loaded)
        elif scope is None:
            errors.append(f"{loaded.path}:1: scope: missing (only default.yaml may omit it; "
                          "give tenants, models or routes)")
        elif scope.specificity == 0:
            errors.append(f"{loaded.path}:1: scope: give tenants, models or routes "
                          "(or `default: true`)")
        if scope is not None and scope.specificity:
            scoped.append(loaded)
    return defaults, scoped, errors


def _scoped_default(path: Path) -> str:
    """The error for a `scope:` in default.yaml, which would be ignored (it takes every request
    no other policy claims), at the scope's line."""
    return read_yaml(path)[1].error(
        ("scope",), "default.yaml is the policy for every request no other policy claims, so a "
        "scope here would never apply: remove it, and put the scoped rules in a file of their own "
        "(acme.yaml with this scope, `extends: default.yaml`)")
