"""One attention function, registered with transformers, that records what every layer computes.

Models are loaded with ``attn_implementation=CAPTURE``. Every attention layer of a supported
family then calls :func:`capture_attention`, with the queries and keys exactly as its scores use
them: after RoPE for the Llama family, with grouped key/value heads not yet repeated. Inside a
:func:`recording` block the function computes eager attention (softmax in float32) and keeps,
per layer, q, k and v expanded to every query head, the weights and the mask; outside one it
hands the same inputs to transformers' SDPA kernel, so hidden states and embeddings do not build
(H, T, T) weight arrays they do not need.

The eager mask function is registered under the same name: transformers builds a layer's mask
only for implementations listed in ``ALL_MASK_ATTENTION_FUNCTIONS``, and without it a decoder
would get no causal mask at all.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

import torch

CAPTURE = "la_lens_capture"

__all__ = ["CAPTURE", "LayerRecord", "register", "recording", "capture_attention"]


class LayerRecord(NamedTuple):
    """What one attention layer computed for the first sequence of the batch (float32, CPU)."""

    q: torch.Tensor        # (H, T, d_head), scaled so that softmax(q kᵀ/√d_head + mask) = weights
    k: torch.Tensor        # (H, T, d_head), grouped heads repeated for every query head
    v: torch.Tensor        # (H, T, d_head)
    weights: torch.Tensor  # (H, T, T)
    allowed: torch.Tensor | None  # (T, T) bool, True where a query may attend; None = no mask


# One list per running forward pass; a ContextVar keeps concurrent threads (app sessions) apart.
_records: ContextVar[list | None] = ContextVar("la_lens_attention_records", default=None)


def _repeat_heads(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, H_kv, T, d) -> (B, H_kv·n_rep, T, d), each key/value head serving n_rep query heads."""
    return x if n_rep == 1 else x.repeat_interleave(n_rep, dim=1)


def _allowed(mask: torch.Tensor | None, t_k: int) -> torch.Tensor | None:
    if mask is None:
        return None
    m = mask[0, 0, :, :t_k]                                   # (T_q, T_k), shared by the heads
    if m.dtype == torch.bool:
        return m.cpu()
    return (m > torch.finfo(m.dtype).min / 2).cpu()


def capture_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention for transformers' ``AttentionInterface``: eager and recorded inside :func:`recording`.

    Parameters
    ----------
    module : torch.nn.Module
        The attention layer calling it.
    query : torch.Tensor, shape (B, H, T_q, d_head)
    key, value : torch.Tensor, shape (B, H_kv, T_k, d_head)
    attention_mask : torch.Tensor or None, shape (B, 1, T_q, T_k)
        Additive mask (0 where allowed, the dtype's minimum elsewhere) from the eager mask function.
    scaling : float, optional
        Score scale; default ``1/√d_head``.
    dropout : float
        Used only when the module is training.

    Returns
    -------
    tuple of (torch.Tensor, torch.Tensor or None)
        Output ``(B, T_q, H, d_head)`` and the weights ``(B, H, T_q, T_k)`` (None outside recording).
    """
    records = _records.get()
    if records is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, **kwargs)
    d_head = query.shape[-1]
    scaling = d_head ** -0.5 if scaling is None else float(scaling)
    n_rep = query.shape[1] // key.shape[1]
    k = _repeat_heads(key, n_rep)                                      # (B, H, T_k, d)
    v = _repeat_heads(value, n_rep)                                    # (B, H, T_k, d)
    scores = torch.matmul(query.float(), k.float().transpose(-1, -2)) * scaling   # (B, H, T_q, T_k)
    if attention_mask is not None:
        scores = scores + attention_mask[..., :k.shape[-2]].float()
    weights = torch.softmax(scores, dim=-1)                            # (B, H, T_q, T_k), float32
    mixed = torch.nn.functional.dropout(weights, p=dropout, training=module.training)
    out = torch.matmul(mixed.to(v.dtype), v).transpose(1, 2).contiguous()   # (B, T_q, H, d)
    # q as the scores use it: a scale other than 1/√d_head (GPT-2's per-layer option) is folded in
    fold = scaling * math.sqrt(d_head)
    q_rec = query[0].float() * fold if abs(fold - 1.0) > 1e-12 else query[0].float()
    records.append(LayerRecord(q=q_rec.cpu(), k=k[0].float().cpu(), v=v[0].float().cpu(),
                               weights=weights[0].cpu(), allowed=_allowed(attention_mask, k.shape[-2])))
    return out, weights


def register() -> None:
    """Register :func:`capture_attention` and the eager mask under :data:`CAPTURE` (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(CAPTURE, capture_attention)
    AttentionMaskInterface.register(CAPTURE, eager_mask)


@contextmanager
def recording():
    """Collect one :class:`LayerRecord` per attention layer run inside the block (in call order)."""
    records: list[LayerRecord] = []
    token = _records.set(records)
    try:
        yield records
    finally:
        _records.reset(token)
