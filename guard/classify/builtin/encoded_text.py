"""`encoded_text`: text hidden in an encoding that a model reads and a person skimming does not.

Base64, base32, hex, binary, percent-encoded bytes, HTML character references and Unicode escapes
that decode to readable text, Morse code, and stretches that read as English only in a letter cipher
(ROT13 or another Caesar shift, Atbash), written backwards, word by word reversed or upside down
(guard/classify/decode/, which the trained models use to score what such text says). This
classifier says only that the encoding is there, whatever the decoded text asks: for a policy that
flags or blocks encoded payloads as such. Works on the original text (decoding is its own
normalisation). Base64 of binary data, hashes and keys decode to nothing readable and do not fire.
An encoding inside another (ROT13 text in base64) adds its own label over the outer one's span.
Labels: `encoded_text` plus `encoded_text:<kind>`, kind one of `decode.KINDS` (base64, base32,
hex, binary, percent, entities, escapes, morse, rot13, caesar, atbash, backwards, words_reversed,
upside_down).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guard.classify.base import Finding, LocalClassifier
from guard.classify.decode import KINDS, find_readings
from guard.classify.normalize import Normalized
from guard.classify.spec import ClassifierSpec, ClassifierType
from guard.types import Segment


class EncodedTextConfig(BaseModel):
    """Config of an `encoded_text` classifier.

    kinds:     which encodings fire (default: all of `decode.KINDS`).
    min_chars: the shortest decoded text that fires, in characters (default 12: a short run that
               happens to decode to two words is not a payload).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: tuple[str, ...] = KINDS
    min_chars: int = Field(12, ge=1)

    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            raise ValueError(f"kinds must be some of {', '.join(KINDS)}; got {', '.join(unknown) or 'none'}")
        return kinds


class EncodedTextClassifier(LocalClassifier):
    """Finds encoded stretches of text (see module docstring)."""

    category = "encoded_text"

    def __init__(self, name: str, config: EncodedTextConfig) -> None:
        # A payload is judged whole (its decoding needs all of it), so nothing bounds a finding.
        super().__init__(name, normalize=False, max_match_chars=None)
        self.kinds = frozenset(config.kinds)
        self.min_chars = config.min_chars

    def scan(self, norm: Normalized, segment: Segment) -> Iterable[Finding]:
        found = {
            (r.kind, r.start, r.end)
            for r in find_readings(norm.text)
            if r.kind in self.kinds and len(r.text.strip()) >= self.min_chars
        }
        return [Finding(f"encoded_text:{kind}", 0.9, start, end) for kind, start, end in sorted(found)]

    def finding_labels(self) -> Iterable[str]:
        return [f"encoded_text:{kind}" for kind in self.kinds]


def _make(name: str, config: EncodedTextConfig, spec: ClassifierSpec) -> EncodedTextClassifier:
    return EncodedTextClassifier(name, config)


TYPE = ClassifierType(EncodedTextConfig, _make)
