"""The result of looking inside every attention head for one text."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from la_core.device import to_numpy
from la_core.models.capture import LayerRecord

__all__ = ["ModelAttention", "from_records"]


@dataclass
class ModelAttention:
    """What every attention head of a model did with one text.

    Attributes
    ----------
    tokens : list of str
        The tokens as the tokenizer names them, special tokens included (length T).
    attentions : numpy.ndarray, shape (L, H, T, T), float32
        The model's own softmax weights (causal mask included for decoders); row i says how query
        token i spreads over the keys.
    q, k, v : numpy.ndarray, shape (L, H, T, d_k), float32
        Per layer and head, the queries, keys and values exactly as the scores use them: bias
        included, after RoPE (Llama family), grouped key/value heads repeated for every query head,
        so ``softmax(q kᵀ / √d_k + mask)`` rebuilds ``attentions``. When a model scales its scores
        by something other than ``1/√d_k`` (a GPT-2 option), the ratio is folded into ``q``.
    truncated : bool
        True when the text had more tokens than the limit and was cut (only with ``truncate=True``).
    n_tokens_total : int
        Number of tokens of the full text (special tokens included) before truncation.
    note : str
        Human-readable note about truncation ("" when nothing was cut).
    d_model, n_layers, n_heads, d_k : int
        The model's sizes, for shape tables (``d_k`` is the head size d_head).
    mask : numpy.ndarray of bool, shape (L, T, T)
        True where a query may attend to a key, per layer (all True for an encoder). When every
        layer has the same mask this is a read-only broadcast view of one (T, T) array.
    causal : bool
        Whether the model is a decoder (each token sees only itself and earlier tokens).
    n_kv_heads : int
        Key/value heads before repetition (fewer than ``n_heads`` with grouped-query attention).
    """

    tokens: list
    attentions: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    truncated: bool
    n_tokens_total: int
    note: str
    d_model: int
    n_layers: int
    n_heads: int
    d_k: int
    mask: np.ndarray | None = None
    causal: bool = False
    n_kv_heads: int = 0


def _masks(records: list[LayerRecord], T: int) -> np.ndarray:
    per_layer = [r.allowed if r.allowed is not None else torch.ones(T, T, dtype=torch.bool) for r in records]
    first = per_layer[0]
    if all(torch.equal(first, m) for m in per_layer[1:]):
        return np.broadcast_to(to_numpy(first), (len(records), T, T))     # one mask, no copies
    return to_numpy(torch.stack(per_layer))                               # (L, T, T)


def from_records(records: list[LayerRecord], tokens: list, n_total: int, note: str, spec) -> ModelAttention:
    """Stack the per-layer records of one forward pass into a :class:`ModelAttention`.

    Raises
    ------
    RuntimeError
        If the model ran a different number of attention layers than it has (its attention did not
        go through the registered function).
    """
    if len(records) != spec.n_layers:
        raise RuntimeError(f"Recorded {len(records)} attention layers, but the model has {spec.n_layers}; "
                           "its attention did not run through LA Lens's attention function.")
    T = len(tokens)

    def stack(field: str) -> np.ndarray:
        return to_numpy(torch.stack([getattr(r, field) for r in records]))   # (L, H, ...)

    return ModelAttention(tokens=tokens, attentions=stack("weights"), q=stack("q"), k=stack("k"),
                          v=stack("v"), truncated=len(tokens) < n_total, n_tokens_total=n_total,
                          note=note, d_model=spec.d_model, n_layers=spec.n_layers, n_heads=spec.n_heads,
                          d_k=spec.d_head, mask=_masks(records, T), causal=spec.causal,
                          n_kv_heads=spec.n_kv_heads)
