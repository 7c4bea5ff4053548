"""The shipped models as loaded, kept in `derived_cache` files so a start need not rebuild them.

Loading a shipped model unpacks its gzipped JSON (a million numbers), then builds its n-gram keys
(`Vocabulary`): about 0.25 s of CPU for each of the two largest, at every start. The first start
writes what that gives (the n-grams, the regressions' arrays, the vocabulary's arrays) here, one
file per artefact; later starts read them back. The arrays are an `.npz` read with
`allow_pickle=False` (never a pickle), the rest JSON. A file is keyed by the artefact's SHA-256,
FORMAT, and the source of the modules that build a model from it, so a changed artefact or
loader is a miss; a file that does not verify or does not fit together is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import orjson
import structlog

from guard.classify.derived_cache import read_verified, write_verified
from guard.classify.models import features, vocabulary
from guard.classify.models.vocabulary import Vocabulary

if TYPE_CHECKING:
    from guard.classify.models.loader import TextModel

log = structlog.get_logger("guard.classify.models")
FORMAT = 1  # bump when the file's layout or the meaning of its values changes


def file_name(stem: str) -> str:
    """The cache file of the shipped artefact `stem`."""
    return f"model-{stem}.bin"


def model_key(blob: bytes) -> str:
    """The identity of what loading `blob` gives: the artefact, and the code and libraries that
    turn it into a model."""
    from guard.classify.models import loader

    digest = hashlib.sha256(f"guard-model-cache {FORMAT} {sys.version} {np.__version__}\n".encode())
    digest.update(hashlib.sha256(blob).digest())
    for module in (loader, vocabulary, features):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def read_model(stem: str, key: str, directory: Path) -> tuple[TextModel, Any] | None:
    """The model kept under `key` and the fold it was trained with, or None for anything but a
    file that verifies and fits together."""
    body = read_verified(directory, file_name(stem), FORMAT, key)
    if body is None:
        return None
    try:
        line, arrays_bytes = body.split(b"\n", 1)
        plain = orjson.loads(line)
        with np.load(io.BytesIO(arrays_bytes), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return _model(plain, arrays), plain["fold"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, zipfile.BadZipFile) as exc:
        log.debug("model_cache_not_used", model=stem, error=str(exc))
        return None


def _model(plain: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> TextModel:
    """The model `write_model` kept as `plain` and `arrays`; ValueError when they do not fit."""
    from guard.classify.models.loader import Regression, TextModel

    grams = tuple(plain["grams"])
    if not set(map(type, grams)) <= {str}:
        raise ValueError("an n-gram that is not a string")
    if plain["vocabulary"]["width"] != len(grams):
        raise ValueError("vocabulary width differs from the n-grams")
    regressions = []
    for i, (weight, intercept) in enumerate(plain["regressions"]):
        idf, coef = arrays[f"idf{i}"], arrays[f"coef{i}"]
        if (idf.dtype != np.float64 or coef.dtype != np.float64
                or not idf.shape == coef.shape == (len(grams),)):
            raise ValueError("regression arrays do not fit")
        regressions.append(Regression(weight=float(weight), intercept=float(intercept),
                                      idf=idf, coef=coef))
    if not regressions:
        raise ValueError("no regression")
    return TextModel(
        name=str(plain["name"]), version=str(plain["version"]),
        threshold=float(plain["threshold"]), grams=grams, regressions=tuple(regressions),
        vocabulary=Vocabulary.restored(plain["vocabulary"], arrays),
        meta=dict(plain["meta"]), sentences=int(plain["sentences"]),
    )


def write_model(stem: str, key: str, directory: Path, model: TextModel, fold: Any) -> None:
    """Keep `model` (trained with `fold`) under `key`; a failure only means no cache."""
    vocabulary_plain, vocabulary_arrays = model.vocabulary.state()
    plain = {"name": model.name, "version": model.version, "threshold": model.threshold,
             "grams": model.grams, "meta": model.meta, "sentences": model.sentences, "fold": fold,
             "regressions": [(r.weight, r.intercept) for r in model.regressions],
             "vocabulary": vocabulary_plain}
    arrays = dict(vocabulary_arrays)
    for i, regression in enumerate(model.regressions):
        arrays[f"idf{i}"], arrays[f"coef{i}"] = regression.idf, regression.coef
    out = io.BytesIO()
    np.savez(out, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    write_verified(directory, file_name(stem), FORMAT, key, orjson.dumps(plain) + b"\n" + out.getvalue())
