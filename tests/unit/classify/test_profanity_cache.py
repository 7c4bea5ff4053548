"""The profanity weights cache: same scores as the unpickled model, no scikit-learn on a later
start, and nothing trusted that does not verify."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from guard.classify.builtin._profanity_cache import (
    FILE_NAME,
    cache_dir,
    package_key,
    read_weights,
    write_weights,
)
from guard.classify.builtin.profanity import LinearTextModel

ROOT = Path(__file__).resolve().parents[3]
PHRASES = ["", "!!!", "have a lovely afternoon", "you are a damn idiot", "F U C K this",
           "The the THE the", "résumé naïve café", "shit " * 50, "fuck off you dumb cunt",
           "What is the boiling point of water at altitude?", "stfu noob", "motherfucker"]
# One load in a fresh interpreter: whether it imported scikit-learn, then the scores of PHRASES.
LOAD = ("import json, sys\nfrom guard.classify.builtin.profanity import load_model\n"
        "model = load_model()\n"
        f"print(json.dumps(['sklearn' in sys.modules, [model.probability(t) for t in {PHRASES!r}]]))\n")


@pytest.fixture(scope="module")
def unpickled() -> LinearTextModel:
    from profanity_check import profanity_check as shipped

    return LinearTextModel.from_package(shipped.vectorizer, shipped.model)


def texts(model: LinearTextModel, n: int = 300) -> list[str]:
    """`n` texts of the model's own terms, mixed with everyday words and PHRASES."""
    rng = random.Random(20240611)
    terms = sorted(model.weights)
    everyday = "the a of please thanks water idiot you are what is hello".split()
    made = [" ".join(rng.choice(terms if rng.random() < 0.6 else everyday)
                     for _ in range(rng.randint(1, 40))) for _ in range(n - len(PHRASES))]
    return PHRASES + made


def load_in_subprocess(directory: Path) -> tuple[bool, list[float]]:
    env = {**os.environ, "GUARD_CACHE_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    imported, scores = json.loads(out[-1])  # the last line: log lines may come before it
    return imported, scores


def test_cached_weights_score_bit_for_bit_like_the_unpickled_ones(
        unpickled: LinearTextModel, tmp_path: Path) -> None:
    """Weights written and read back give exactly (==, not to a tolerance) the same
    probabilities as the weights read from the unpickled package, on a few hundred texts."""
    key = package_key()
    assert key is not None
    write_weights(key, tmp_path, unpickled.plain())
    cached = read_weights(key, tmp_path)
    assert cached is not None and cached == unpickled.plain()
    model = LinearTextModel(*cached)
    for text in texts(unpickled):
        assert model.probability(text) == unpickled.probability(text), text


def test_a_later_start_reads_the_cache_without_scikit_learn(
        unpickled: LinearTextModel, tmp_path: Path) -> None:
    """The first load unpickles (scikit-learn) and writes the cache, 0600 in a 0700 directory;
    the second reads it, never imports scikit-learn, and scores the same."""
    directory = tmp_path / "cache" / "guard"
    first_imported, first = load_in_subprocess(directory)
    assert first_imported
    assert (directory / FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700
    second_imported, second = load_in_subprocess(directory)
    assert not second_imported
    assert first == second == [unpickled.probability(text) for text in PHRASES]


def corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    header, body = data.split(b"\n", 1)
    if how == "digit flipped":
        at = body.index(b"0.") + 3
        path.write_bytes(header + b"\n" + body[:at] + (b"1" if body[at:at + 1] != b"1" else b"2")
                         + body[at + 1:])
    elif how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "not json":
        path.write_bytes(b"\x80\x04garbage")
    elif how == "another package":
        path.write_bytes(header.replace(b'"key":"', b'"key":"0') + b"\n" + body)
    elif how == "ints for floats, digest redone":  # verifies, but is not what guard writes
        body = body.replace(b'"intercepts":[', b'"intercepts":[1,', 1)
        digest = hashlib.sha256(body).hexdigest().encode()
        path.write_bytes(header[:header.index(b'"sha256":"') + 10] + digest + b'"}\n' + body)


@pytest.mark.parametrize("how", ["digit flipped", "truncated", "not json", "another package",
                                 "ints for floats, digest redone"])
def test_a_cache_that_does_not_verify_is_not_used(
        unpickled: LinearTextModel, tmp_path: Path, how: str) -> None:
    """A changed, cut, unreadable, foreign or ill-formed cache file reads as no cache."""
    key = package_key()
    assert key is not None
    write_weights(key, tmp_path, unpickled.plain())
    corrupt(tmp_path / FILE_NAME, how)
    assert read_weights(key, tmp_path) is None


def test_a_corrupt_cache_falls_back_to_the_package_and_is_rewritten(
        unpickled: LinearTextModel, tmp_path: Path) -> None:
    """Guard scores right past a corrupt cache (it unpickles the package) and writes the cache
    again, which the next start uses."""
    key = package_key()
    assert key is not None
    write_weights(key, tmp_path, unpickled.plain())
    corrupt(tmp_path / FILE_NAME, "digit flipped")
    imported, scores = load_in_subprocess(tmp_path)
    assert imported and scores == [unpickled.probability(text) for text in PHRASES]
    assert read_weights(key, tmp_path) == unpickled.plain()


def test_an_unwritable_cache_directory_is_no_error(
        unpickled: LinearTextModel, tmp_path: Path) -> None:
    """A directory that cannot be made (a read-only container) only means no cache."""
    (tmp_path / "file").write_text("")
    directory = tmp_path / "file" / "guard"
    write_weights("k", directory, unpickled.plain())
    assert read_weights("k", directory) is None


def test_the_cache_directory_follows_the_environment() -> None:
    """GUARD_CACHE_DIR first, then $XDG_CACHE_HOME/guard (absolute only), then ~/.cache/guard."""
    assert cache_dir({"GUARD_CACHE_DIR": "/srv/c", "XDG_CACHE_HOME": "/x"}) == Path("/srv/c")
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/guard")
    assert cache_dir({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "guard"
    assert cache_dir({}) == Path.home() / ".cache" / "guard"
