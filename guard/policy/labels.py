"""Labels a policy's conditions name that no classifier they read can emit.

A condition's `labels_any` and `labels_all` hold for a verdict of one of the classifiers it reads
(those its `classifier:` names, else every classifier of the policy). Each classifier declares
the labels its verdicts can carry (`Classifier.emits`, with what its config adds, and
`classifier_error` when it fails closed: `ConfiguredClassifier.emits`); a label none of them
declares is never there, and a rule on it never holds: `pii:emial` for `pii:email`, `secret` from
the `pii` classifier, `classifier_error` from one that fails open. Such a label is a policy error,
as a misspelt classifier name is. A classifier whose labels are not known in advance (`emits` is
None: a webhook, a moderation endpoint, a plugin that does not say) may emit any: in a condition
that may read one, only a label whose prefix (before its ":") is that of a classifier's labels
it reads that declares them (`pii:` for `pii:email`) is still checked (`pii:emial` is an error
beside a webhook); any other passes, as one the open classifier may answer with.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence

from guard.policy.model import Condition
from guard.policy.source import Loc
from guard.types import ERROR_LABEL

Emits = Mapping[str, frozenset[str] | None]


def never_emitted(cond: Condition, emits: Emits, loc: Loc = ("when",)) -> Iterator[tuple[Loc, str]]:
    """(where, why) for each label `cond` and its sub-conditions name that no classifier they
    read can emit. `emits`: each classifier instance's labels (None: open); a name missing
    from it (a classifier that failed to build, an unknown one) counts as open."""
    if cond.labels_any or cond.labels_all:
        yield from _leaf(cond, emits, loc)
    for key, subs in (("all", cond.all_), ("any", cond.any_)):
        for index, sub in enumerate(subs or ()):
            yield from never_emitted(sub, emits, (*loc, key, index))
    for key, one in (("not", cond.not_), ("prompt", cond.prompt)):
        if one is not None:
            yield from never_emitted(one, emits, (*loc, key))


def _leaf(cond: Condition, emits: Emits, loc: Loc) -> Iterator[tuple[Loc, str]]:
    readers = cond.classifier or list(emits)
    opened = [name for name in readers if emits.get(name) is None]
    known = [declared for name in readers if (declared := emits.get(name)) is not None]
    emitted = frozenset().union(*known)
    # beside an open classifier, only a label in a prefix a declaring one owns can be told wrong
    owned = {prefix(label) for label in emitted if ":" in label} if opened else None
    missing = False
    for key, labels in (("labels_any", cond.labels_any), ("labels_all", cond.labels_all)):
        for index, label in enumerate(labels or ()):
            if label not in emitted and (owned is None or prefix(label) in owned):
                missing = True
                why = _why(label, cond.classifier, emitted, emits)
                yield (*loc, key, index), why if not opened else _owned(why, label, opened, emits)
    together = frozenset(cond.labels_all or ())
    if opened:
        return  # labels together may all be an open classifier's
    if not missing and together and not any(together <= labels for labels in known):
        among = f" of {', '.join(map(repr, cond.classifier))}" if cond.classifier else ""
        yield (*loc, "labels_all"), (
            f"no one classifier{among} emits all of {', '.join(map(repr, sorted(together)))} "
            "(a verdict is one classifier's)")


def prefix(label: str) -> str:
    """The part of a label before its ":" (`pii` of `pii:email`), the whole label without one."""
    return label.partition(":")[0]


def _owned(why: str, label: str, opened: Sequence[str], emits: Emits) -> str:
    """`why`, saying whose labels the prefix of `label` names, and how a rule reads a label of
    the same prefix an open classifier answers with."""
    owners = ", ".join(repr(name) for name, labels in emits.items() if labels is not None
                       and any(prefix(known) == prefix(label) and ":" in known for known in labels))
    return (f"{why}; '{prefix(label)}:' labels are those of {owners} (for one that "
            f"{', '.join(map(repr, opened))} answers with, name it under `classifier:`)")


def _never(label: str, named: Sequence[str] | None) -> str:
    """`... emits the label 'x'`, saying who does not."""
    if not named:
        who = "no classifier of the policy emits"
    elif len(named) == 1:
        who = f"classifier {named[0]!r} never emits"
    else:
        who = f"none of classifiers {', '.join(map(repr, named))} emits"
    return f"{who} the label {label!r}"


def _why(label: str, named: Sequence[str] | None, emitted: frozenset[str], emits: Emits) -> str:
    """Why `label` never holds, with what was probably meant."""
    says = _never(label, named)
    if label == ERROR_LABEL:
        return f"{says}: a failure is a {ERROR_LABEL} verdict only with `on_error: fail_closed`"
    if others := _emitters(label, emits):
        return f"{says} (emitted by {others})"
    everywhere = frozenset().union(*(labels for labels in emits.values() if labels is not None))
    for pool in (emitted, everywhere):
        if guess := close_label(label, pool):
            emitter = "" if guess in emitted else f", emitted by {_emitters(guess, emits)}"
            return f"{says} (did you mean {guess!r}{emitter}?)"
    if named:
        return f"{says} ({'it emits' if len(named) == 1 else 'they emit'} "\
               f"{', '.join(sorted(emitted))})"
    return says


def _emitters(label: str, emits: Emits) -> str:
    return ", ".join(repr(name) for name, labels in emits.items()
                     if labels is not None and label in labels)


def close_label(label: str, labels: frozenset[str]) -> str | None:
    """The label of `labels` that `label` is most probably a misspelling of, if any (letter
    case aside: `PII:Email` is `pii:email`)."""
    folded = {known.casefold(): known for known in sorted(labels)}
    found = difflib.get_close_matches(label.casefold(), folded, n=1)
    return folded[found[0]] if found else None
