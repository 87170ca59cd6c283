"""The result of looking inside every attention head for one text."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from la_core.device import to_numpy
from la_core.models.capture import Recorder

__all__ = ["ModelAttention", "from_recorder", "MAX_ATTENTION_BYTES", "result_bytes", "check_result_size"]

MAX_ATTENTION_BYTES = 2 * 1024 ** 3   # default limit of one ModelAttention: past it a page would swap or crash
_F32 = 4


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


def _masks(allowed: list, T: int) -> np.ndarray:
    per_layer = [a if a is not None else torch.ones(T, T, dtype=torch.bool) for a in allowed]
    first = per_layer[0]
    if all(m is first or torch.equal(first, m) for m in per_layer[1:]):
        return np.broadcast_to(to_numpy(first), (len(per_layer), T, T))     # one mask, no copies
    return to_numpy(torch.stack(per_layer))                                # (L, T, T)


def from_recorder(rec: Recorder, tokens: list, n_total: int, note: str, spec) -> ModelAttention:
    """Wrap what one recorded forward pass wrote as a :class:`ModelAttention` (no copies).

    Raises
    ------
    RuntimeError
        If the model ran a different number of attention layers than it has (its attention did not
        go through the registered function).
    """
    if rec.n_recorded != spec.n_layers:
        raise RuntimeError(f"Recorded {rec.n_recorded} attention layers, but the model has {spec.n_layers}; "
                           "its attention did not run through LA Lens's attention function.")
    return ModelAttention(tokens=tokens, attentions=to_numpy(rec.weights), q=to_numpy(rec.q),
                          k=to_numpy(rec.k), v=to_numpy(rec.v), truncated=len(tokens) < n_total,
                          n_tokens_total=n_total, note=note, d_model=spec.d_model, n_layers=spec.n_layers,
                          n_heads=spec.n_heads, d_k=spec.d_head, mask=_masks(rec.allowed, len(tokens)),
                          causal=spec.causal, n_kv_heads=spec.n_kv_heads)


def result_bytes(spec, n_tokens: int) -> int:
    """Bytes of the float32 arrays of a :class:`ModelAttention` for ``n_tokens`` tokens.

    ``L·H·T²·4`` for the attention weights plus ``3·L·H·T·d_head·4`` for q, k and v (grouped
    key/value heads are repeated for every query head, so all three have ``H`` heads).
    """
    per_head = n_tokens * n_tokens + 3 * n_tokens * spec.d_head
    return spec.n_layers * spec.n_heads * per_head * _F32


def _tokens_within(spec, max_bytes: int) -> int:
    """The largest T whose result fits in ``max_bytes`` (0 when not even one token does)."""
    c = max_bytes // (spec.n_layers * spec.n_heads * _F32)           # T² + 3·d_head·T must stay ≤ c
    d3 = 3 * spec.d_head
    t = max(0, (math.isqrt(d3 * d3 + 4 * c) - d3) // 2)
    while result_bytes(spec, t + 1) <= max_bytes:
        t += 1
    while t > 0 and result_bytes(spec, t) > max_bytes:
        t -= 1
    return t


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def check_result_size(spec, n_tokens: int, max_bytes: int, name: str) -> None:
    """Refuse, before the model runs, a text whose :class:`ModelAttention` would exceed ``max_bytes``.

    Raises
    ------
    ValueError
        Saying the size, the limit and how many tokens fit.
    """
    need = result_bytes(spec, n_tokens)
    if need <= max_bytes:
        return
    fit = _tokens_within(spec, max_bytes)
    advice = (f"Use a shorter text: at most {fit:,} tokens (special tokens included) fit." if fit else
              "Not even one token fits; raise max_bytes.")
    raise ValueError(
        f"The attention of {n_tokens:,} tokens in {name} would take {_size(need)} of memory ({spec.n_layers} layers "
        f"× {spec.n_heads} heads × {n_tokens:,}² float32 weights, plus q, k and v), more than the limit of "
        f"{_size(max_bytes)} (max_bytes={max_bytes:,}). {advice}")
