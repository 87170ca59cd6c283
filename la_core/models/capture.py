"""One attention function, registered with transformers, that records what every layer computes.

Models are loaded with ``attn_implementation=CAPTURE``. Every attention layer of a supported
family then calls :func:`capture_attention`, with the queries and keys exactly as its scores use
them: after RoPE for the Llama family, with grouped key/value heads not yet repeated. Inside a
:func:`recording` block the function computes eager attention (softmax in float32) and writes,
per layer, q, k and v expanded to every query head, the weights and the mask into a
preallocated :class:`Recorder`; outside one it hands the same inputs to transformers' SDPA
kernel, so hidden states and embeddings do not build (H, T, T) weight arrays they do not need.

The eager mask function is registered under the same name: transformers builds a layer's mask
only for implementations listed in ``ALL_MASK_ATTENTION_FUNCTIONS``, and without it a decoder
would get no causal mask at all.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar

import torch

from la_core.device import empty_host

CAPTURE = "la_lens_capture"

__all__ = ["CAPTURE", "Recorder", "register", "recording", "capture_attention"]


class Recorder:
    """Arrays one recorded forward pass writes into, layer by layer (float32, CPU).

    Allocated once before the pass, so the (L, H, T, T) weights are written in place rather than
    built per layer and stacked afterwards (that copy cost as much as the eager attention itself).

    Attributes
    ----------
    weights : torch.Tensor, shape (L, H, T, T)
        Softmax weights of every layer and head.
    q, k, v : torch.Tensor, shape (L, H, T, d_head)
        q scaled so that ``softmax(q kᵀ/√d_head + mask) = weights``; k and v with grouped heads
        repeated for every query head.
    allowed : list of (torch.Tensor of bool, shape (T, T)) or None
        Per recorded layer, True where a query may attend; None where the layer had no mask.
    n_recorded : int
        Layers that ran so far.
    """

    def __init__(self, n_layers: int, n_heads: int, n_tokens: int, d_head: int):
        self.weights = empty_host(n_layers, n_heads, n_tokens, n_tokens)       # (L, H, T, T)
        self.q = empty_host(n_layers, n_heads, n_tokens, d_head)              # (L, H, T, d)
        self.k = empty_host(n_layers, n_heads, n_tokens, d_head)
        self.v = empty_host(n_layers, n_heads, n_tokens, d_head)
        self.allowed: list[torch.Tensor | None] = []
        self.n_recorded = 0
        self._mask_seen: tuple | None = None     # (mask tensor, its allowed, needs adding)

    def mask(self, attention_mask: torch.Tensor | None, t_k: int) -> tuple[torch.Tensor | None, bool]:
        """The (T_q, T_k) allowed pattern of a layer's mask, and whether adding it changes any score.

        Layers of one pass share the mask tensor, so it is read once per pass, not once per layer.
        """
        if attention_mask is None:
            return None, False
        if self._mask_seen is None or self._mask_seen[0] is not attention_mask:
            allowed = _allowed(attention_mask, t_k)
            self._mask_seen = (attention_mask, allowed, not bool(allowed.all()))
        return self._mask_seen[1], self._mask_seen[2]


# The recorder of the running forward pass; a ContextVar keeps concurrent threads (app sessions) apart.
_recorder: ContextVar[Recorder | None] = ContextVar("la_lens_attention_recorder", default=None)


def _repeat_heads(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, H_kv, T, d) -> (B, H_kv·n_rep, T, d), each key/value head serving n_rep query heads."""
    return x if n_rep == 1 else x.repeat_interleave(n_rep, dim=1)


def _allowed(mask: torch.Tensor, t_k: int) -> torch.Tensor:
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
    rec = _recorder.get()
    if rec is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, **kwargs)
    i = rec.n_recorded
    rec.n_recorded += 1
    if i >= rec.weights.shape[0]:
        raise RuntimeError(f"More attention layers ran than the {rec.weights.shape[0]} the model declares.")
    d_head = query.shape[-1]
    scaling = d_head ** -0.5 if scaling is None else float(scaling)
    n_rep = query.shape[1] // key.shape[1]
    k = _repeat_heads(key, n_rep).float()                              # (B, H, T_k, d)
    v = _repeat_heads(value, n_rep)                                    # (B, H, T_k, d)
    allowed, add_mask = rec.mask(attention_mask, k.shape[-2])
    # On the CPU with one sequence the scores are computed straight into the recorder's weights.
    direct = query.shape[0] == 1 and query.device == rec.weights.device
    weights = torch.matmul(query.float() * scaling, k.transpose(-1, -2),
                           out=rec.weights[i:i + 1] if direct else None)              # (B, H, T_q, T_k)
    if add_mask:
        weights.add_(attention_mask[..., :k.shape[-2]].float())
    torch.softmax(weights, dim=-1, out=weights)                        # in place, float32
    mixed = torch.nn.functional.dropout(weights, p=dropout, training=module.training)
    out = torch.matmul(mixed.to(v.dtype), v).transpose(1, 2).contiguous()   # (B, T_q, H, d)
    if not direct:
        rec.weights[i].copy_(weights[0])
    # q as the scores use it: a scale other than 1/√d_head (GPT-2's per-layer option) is folded in
    fold = scaling * math.sqrt(d_head)
    rec.q[i].copy_(query[0] * fold if abs(fold - 1.0) > 1e-12 else query[0])
    rec.k[i].copy_(k[0])
    rec.v[i].copy_(v[0])
    rec.allowed.append(allowed)
    return out, weights


def register() -> None:
    """Register :func:`capture_attention` and the eager mask under :data:`CAPTURE` (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(CAPTURE, capture_attention)
    AttentionMaskInterface.register(CAPTURE, eager_mask)


@contextmanager
def recording(n_layers: int, n_heads: int, n_tokens: int, d_head: int):
    """Record every attention layer run inside the block into a new :class:`Recorder`."""
    rec = Recorder(n_layers, n_heads, n_tokens, d_head)
    token = _recorder.set(rec)
    try:
        yield rec
    finally:
        _recorder.reset(token)
