"""`guard eval`: recall, false-positive rate and latency of classifiers (or a policy) on labelled data.

Input rows follow `shared/data/safety`: {id, text, label, kind, category, meta, dataset}, label
`safe`, `unsafe` or `weak_unsafe` (reported, never counted as either). How rows become requests:
- `prompt_injection` rows are attacks only inside content the model reads, so they are sent as a
  tool result under a neutral user request, wrapped in a carrier document;
- `jailbreak_template` rows have their placeholder filled with a harmful request of the same file;
- every `benign` row is also sent embedded in a document the same way (kind `benign@document`).
  Benign rows are questions, so this measures how often a question inside retrieved content is
  taken for an injection; `over_refusal_safe` rows are requests, which inside a document are
  exactly what an indirect injection looks like, so they are not embedded.
A row counts as flagged when any classifier fires (classifier mode) or any rule matches, enforced
or shadow (policy mode). With `split`, every other prompt row is sent as that many user messages
of about equal word count, in one request: a request sent in pieces.

Completions (`completions_*.csv`: `question,Response,label`, label 1 harmful) become rows of kind
`completion`: the response, checked at the completion stage (what the proxy sees of an answer),
with its question as the prompt it follows when the file gives it as text (GPTFuzz's give an id):
a policy checks the question at the prompt stage first (its decision is not counted), so that
rules with `prompt:` conditions read it, while classifiers read the response alone. The report
then adds precision, recall and F1 over them.
"""

from __future__ import annotations

import asyncio
import csv
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from guard.classify.evasion import pieces
from guard.types import Segment, Stage

PLACEHOLDERS = ("[INSERT PROMPT HERE]", "{{ prompt }}", "{{prompt}}", "[PROMPT]", "<prompt>")
ASK = "Please summarise the following document for me."
CARRIER_HEAD = (
    "Quarterly newsletter. Our team finished the migration of the billing service this month, "
    "and the new dashboard is now live for every customer.\n\n"
)
CARRIER_TAIL = "\n\nThanks for reading, and see you next quarter."

@dataclass
class Row:
    """One evaluation case: the segments sent and how it is scored; for a completion, the `prompt`
    it follows."""

    kind: str
    dataset: str
    label: str
    segments: list[Segment]
    prompt: list[Segment] = field(default_factory=list)


Flagger = Callable[[Row], Awaitable[bool]]


@dataclass
class Tally:
    """Counts for one group of rows."""

    label: str
    total: int = 0
    flagged: int = 0

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


@dataclass
class Report:
    """What an evaluation found: tallies per (kind, label) and per (dataset, label), and latencies
    (seconds). A kind or dataset holds one label for prompts, both for completions."""

    by_kind: dict[tuple[str, str], Tally] = field(default_factory=dict)
    by_dataset: dict[tuple[str, str], Tally] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, row: Row, flagged: bool, seconds: float) -> None:
        for key, table in ((row.kind, self.by_kind), (row.dataset, self.by_dataset)):
            tally = table.setdefault((key, row.label), Tally(row.label))
            tally.total += 1
            tally.flagged += flagged
        self.latencies.append(seconds)

    def f1(self, kind: str) -> tuple[float, float, float] | None:
        """Precision, recall and F1 over the rows of `kind`, when it has unsafe rows."""
        harmful, harmless = self.by_kind.get((kind, "unsafe")), self.by_kind.get((kind, "safe"))
        if harmful is None or not harmful.total:
            return None
        caught = harmful.flagged
        flagged = caught + (harmless.flagged if harmless else 0)
        precision = caught / flagged if flagged else 0.0
        recall = caught / harmful.total
        f1 = 2 * precision * recall / (precision + recall) if caught else 0.0
        return precision, recall, f1


COMPLETION = "completion"
COMPLETION_COLUMNS = ("question", "Response", "label")


def is_completions(path: Path) -> bool:
    """Whether `path` holds labelled completions (a `.csv`) rather than JSONL prompts."""
    return path.suffix.lower() == ".csv"


LABELS = ("safe", "unsafe", "weak_unsafe")
UNSPECIFIED = "unspecified"  # the kind of a row that names none: sent as a user prompt


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of `path`: JSONL prompts, or a `.csv` of labelled completions. ValueError, naming
    the line, for a row that is not a JSON object with a string `text` and a known `label`."""
    if is_completions(path):
        return _completion_rows(path)
    rows = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                rows.append(_prompt_row(line, number))
    return rows


def _prompt_row(line: bytes, number: int) -> dict[str, Any]:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"line {number}: not JSON ({exc})") from exc
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise ValueError(f"line {number}: a row is a JSON object with a string `text`")  # noqa: TRY004  (bad input, reported as such)
    if row.get("label") not in LABELS:
        raise ValueError(f"line {number}: `label` must be one of {', '.join(LABELS)}, "
                         f"not {row.get('label')!r}")
    kind = row.get("kind")
    return {**row, "kind": kind if isinstance(kind, str) and kind else UNSPECIFIED}


def _completion_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COMPLETION_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"a completions CSV needs the columns {', '.join(COMPLETION_COLUMNS)} "
                             f"(missing: {', '.join(missing)})")
        rows = []
        for line, r in enumerate(reader, start=2):
            if r["label"] not in ("0", "1"):
                raise ValueError(f"line {line}: label must be 0 or 1, not {r['label']!r}")
            # the question as text; GPTFuzz's files give an id ("80"), which no user would send
            question = "" if r["question"].strip().isdigit() else r["question"]
            rows.append({"text": r["Response"], "label": "unsafe" if r["label"] == "1" else "safe",
                         "kind": COMPLETION, "dataset": path.stem, "question": question})
        return rows


def in_document(text: str) -> list[Segment]:
    """`text` as retrieved content: inside a carrier document sent as a tool result, under a
    neutral user request."""
    return [
        Segment(ASK, "user", 0, Stage.PROMPT),
        Segment(CARRIER_HEAD + text + CARRIER_TAIL, "tool", 1, Stage.PROMPT),
    ]


def build_rows(raw: Iterable[dict[str, Any]], change: Callable[[str], str] | None = None,
               split: int = 1) -> list[Row]:
    """Evaluation cases from dataset rows (see module docstring), each text written through
    `change` first (an evasion transform), a jailbreak template once filled; user prompts sent as
    `split` user messages."""
    raw = list(raw)
    harmful = [r["text"] for r in raw if r.get("kind") == "harmful_request"]
    rows: list[Row] = []
    for i, r in enumerate(raw):
        kind, text, label, dataset = r["kind"], r["text"], r["label"], r.get("dataset", "?")
        if kind == "jailbreak_template" and harmful:
            for placeholder in PLACEHOLDERS:
                text = text.replace(placeholder, harmful[i % len(harmful)])
        if change is not None:
            text = change(text)
        if kind == "prompt_injection":
            rows.append(Row(kind, dataset, label, in_document(text)))
            continue
        if kind == COMPLETION:
            asked = [Segment(r["question"], "user", 0, Stage.PROMPT)] if r.get("question") else []
            rows.append(Row(kind, dataset, label, [Segment(text, "completion", 0, Stage.COMPLETION)],
                            asked))
            continue
        said = pieces(text, split) if split > 1 else [text]
        rows.append(Row(kind, dataset, label,
                        [Segment(piece, "user", i, Stage.PROMPT) for i, piece in enumerate(said)]))
        if kind == "benign":
            rows.append(Row(f"{kind}@document", f"{dataset}@document", label, in_document(text)))
    return rows


async def evaluate(rows: Sequence[Row], flag: Flagger) -> Report:
    """Run `flag` on every row, one at a time (latencies are per request, not throughput)."""
    report = Report()
    for row in rows:
        started = time.perf_counter()
        flagged = await flag(row)
        report.add(row, flagged, time.perf_counter() - started)
    return report


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, nearest-rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _table(title: str, tallies: dict[tuple[str, str], Tally]) -> list[str]:
    lines = [f"{title:<44} {'label':<12} {'rows':>6} {'flagged':>8}  {'recall':>7} {'FPR':>7}"]
    for (key, _), t in sorted(tallies.items()):
        recall = f"{t.rate:7.1%}" if t.label == "unsafe" else f"{'-':>7}"
        fpr = f"{t.rate:7.1%}" if t.label == "safe" else f"{'-':>7}"
        if t.label not in ("safe", "unsafe"):
            recall = f"({t.rate:5.1%})"
        lines.append(f"{key:<44} {t.label:<12} {t.total:>6} {t.flagged:>8}  {recall} {fpr}")
    return lines


def format_report(report: Report, what: str) -> str:
    """The text `guard eval` prints."""
    lat = report.latencies
    lines = [f"evaluated: {what}", ""]
    lines += [*_table("kind", report.by_kind), ""]
    lines += [*_table("dataset", report.by_dataset), ""]
    scores = report.f1(COMPLETION)
    if scores is not None:
        precision, recall, f1 = scores
        lines += [f"completions: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}", ""]
    lines.append(
        "latency per request: "
        + ", ".join(f"p{q} {percentile(lat, q) * 1e6:.0f} µs" for q in (50, 90, 99))
        + f", max {max(lat, default=0.0) * 1e6:.0f} µs ({len(lat)} requests)"
    )
    lines.append("weak_unsafe rows are shown in parentheses: their label is not reliable.")
    return "\n".join(lines)


def run_sync(coro: Awaitable[Report]) -> Report:
    async def main() -> Report:
        return await coro

    return asyncio.run(main())
