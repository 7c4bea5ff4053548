# ruff: noqa: S311  (seeded generators deal the conversations reproducibly; no secrets here)
"""A request split across several user messages, against the shipped models
(`python -m training.split_compare`).

guard scores each message of a conversation on its own. An attacker can send a harmful request
or a jailbreak in pieces, each harmless-looking alone, and ask the model to join them. This
measures how often at least one piece alone still fires at the model's own threshold, for dev
harmful requests (harmful_request, both recipes) and dev jailbreaks (jailbreak) cut into 2 to 8
pieces of equal word count, beside the whole text; and, for the cost of joining pieces into one
reading, how often the last three pieces joined fire (what guard's `turns: 3` reads: each message
joined to the two before it), how often ordinary dev questions fire when cut into two-word pieces
(short texts score least reliably), and what the joined reading costs on harmless conversations:
dev benign questions, everyday chat messages and benign questions mixed with the alarming-sounding
over_refusal ones, four to a conversation. Figures: bench/BENCHMARKS.md, "Requests split across
messages".
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

from guard.classify.builtin.harmful import DEFAULT_TURNS, with_turns
from guard.classify.evasion import pieces
from guard.classify.models.loader import TextModel, load_model
from training import conversational, data
from training.fit import SEED
from training.train import ROBUST_KINDS

# The messages before each one that the served models read with it (`turns: 3`, their default).
BEFORE = DEFAULT_TURNS["harmful_request"] - 1


def shares(model: TextModel, texts: list[str], n: int) -> tuple[float, float, float]:
    """Whole text caught, some piece alone caught, the last three pieces joined caught (at each
    piece), as shares of `texts`."""
    fires: Callable[[str], bool] = lambda t: model.score(t) >= model.threshold  # noqa: E731
    whole = alone = joined = 0
    for text in texts:
        cut = pieces(text, n)
        whole += fires(text)
        alone += any(map(fires, cut))
        joined += any(fires(with_turns(piece, cut[:k], BEFORE)) for k, piece in enumerate(cut))
    return whole / len(texts), alone / len(texts), joined / len(texts)


def conversations(seed: int = SEED) -> dict[str, list[list[str]]]:
    """Harmless dev messages, shuffled and dealt into conversations of four user messages."""
    prompts = data.prompts("dev")
    benign = [r["text"] for r in prompts if r["kind"] == "benign"]
    alarming = [r["text"] for r in prompts if r["kind"] == "over_refusal_safe"]
    rng = random.Random(seed)
    pools = {
        "benign questions": benign,
        "everyday chat": conversational.everyday_chat("dev", rng, 400),
        "benign and over_refusal": benign[:300] + alarming,
    }
    out = {}
    for name, texts in pools.items():
        dealt = texts[:]
        rng.shuffle(dealt)
        out[name] = [dealt[i : i + 4] for i in range(0, len(dealt) - 3, 4)]
    return out


def flagged_requests(model: TextModel, threshold: float, convs: list[list[str]]) -> tuple[int, int, int]:
    """Requests (each turn of a conversation, with the turns before it), those flagged with every
    message read alone, those flagged when each message is also read joined to the two before it.
    A message that fires alone flags every later request of its conversation either way (it is
    history there), so what the joined reading adds is the requests where nothing fires alone."""
    n = alone = joined = 0
    for conv in convs:
        fired_alone = fired_joined = False
        for k, text in enumerate(conv):
            own = model.score(text) >= threshold
            together = k > 0 and model.score(with_turns(text, conv[:k], BEFORE)) >= threshold
            fired_alone |= own
            fired_joined |= own or together
            n += 1
            alone += fired_alone
            joined += fired_joined
    return n, alone, joined


def main(argv: list[str]) -> int:
    print("| model | positives | pieces | whole text | some piece alone | last three pieces joined |")
    print("|---|---|---|---|---|---|")
    models = (("harmful_request", None), ("harmful_request", "conversational"), ("jailbreak", None))
    for name, variant in models:
        model = load_model(name, variant)
        dev = data.build(name, "dev", SEED)
        positives = [e.text for e in dev if e.label and e.group.split("/")[0] in ROBUST_KINDS[name]]
        for n in (2, 4, 8):
            whole, alone, joined = shares(model, positives, n)
            label = name if variant is None else f"{name} ({variant})"
            cells = " | ".join(f"{100 * share:.1f}" for share in (whole, alone, joined))
            print(f"| {label} | {len(positives)} | {n} | {cells} |")
    model = load_model("harmful_request")
    benign = [r["text"] for r in data.prompts("dev") if r["kind"] == "benign"]
    two_words = [piece for text in benign for piece in pieces(text, max(1, len(text.split()) // 2))]
    flagged = sum(model.score(t) >= model.threshold for t in two_words) / len(two_words)
    print(f"\nharmful_request on {len(two_words)} two-word pieces of the dev benign questions: "
          f"{100 * flagged:.1f}% flagged (whole questions: see the model card)")
    print("\n| model (threshold) | harmless conversations of four | requests | flagged, messages read "
          "alone | flagged, each also joined to the two before |")
    print("|---|---|---|---|---|")
    convs = conversations()
    scorers = (("harmful_request", None), ("harmful_request", "conversational"), ("jailbreak", None),
               ("jailbreak", 0.2))
    for name, fixed in scorers:
        model = load_model(name, fixed if isinstance(fixed, str) else None)
        threshold = fixed if isinstance(fixed, float) else model.threshold
        label = f"{name} ({fixed})" if isinstance(fixed, str) else name
        for pool, dealt in convs.items():
            n, alone, joined = flagged_requests(model, threshold, dealt)
            print(f"| {label} ({threshold:.4g}) | {pool} | {n} | {100 * alone / n:.2f} | "
                  f"{100 * joined / n:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
