"""Which part of a transformer a weight name belongs to: layer and kind (Q, K, V, O, MLP, embeddings).

The rules look at the end of a name, so the same rule serves a checkpoint saved from the bare
model (``encoder.layer.0...``) and from a model with a head (``bert.encoder.layer.0...``,
``model.layers.0...``, ``transformer.h.0...``).

Orientation: :func:`as_out_in` returns every per-layer matrix as ``(out_features, in_features)``,
the ``torch.nn.Linear`` convention (``y = x Wᵀ``). GPT-2 stores its ``Conv1D`` weights as
``(in, out)`` and fuses Q, K and V in one ``c_attn`` matrix; they are transposed and split here.
"""
from __future__ import annotations

import re

import numpy as np

KINDS = ("Q", "K", "V", "QKV", "O", "MLP up", "MLP gate", "MLP down", "embeddings", "other")
LAYER_KINDS = ("Q", "K", "V", "O", "MLP up", "MLP gate", "MLP down")   # what layer_weight serves
_FUSED = "QKV"   # GPT-2's c_attn: Q, K and V side by side

_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h)\.(\d+)\.")
_RULES = {
    "bert": [
        (r"attention\.self\.query\.weight$", "Q"),
        (r"attention\.self\.key\.weight$", "K"),
        (r"attention\.self\.value\.weight$", "V"),
        (r"attention\.output\.dense\.weight$", "O"),
        (r"intermediate\.dense\.weight$", "MLP up"),
        (r"layer\.\d+\.output\.dense\.weight$", "MLP down"),
        (r"embeddings\.\w+_embeddings\.weight$", "embeddings"),
    ],
    "gpt2": [
        (r"attn\.c_attn\.weight$", _FUSED),
        (r"attn\.c_proj\.weight$", "O"),
        (r"mlp\.c_fc\.weight$", "MLP up"),
        (r"mlp\.c_proj\.weight$", "MLP down"),
        (r"(?:^|\.)(?:wte|wpe)\.weight$", "embeddings"),
    ],
    "llama": [
        (r"self_attn\.q_proj\.weight$", "Q"),
        (r"self_attn\.k_proj\.weight$", "K"),
        (r"self_attn\.v_proj\.weight$", "V"),
        (r"self_attn\.o_proj\.weight$", "O"),
        (r"mlp\.gate_proj\.weight$", "MLP gate"),
        (r"mlp\.up_proj\.weight$", "MLP up"),
        (r"mlp\.down_proj\.weight$", "MLP down"),
        (r"(?:^|\.)embed_tokens\.weight$", "embeddings"),
    ],
}
_RULES["mistral"] = _RULES["qwen2"] = _RULES["llama"]
_COMPILED = {fam: [(re.compile(p), k) for p, k in rules] for fam, rules in _RULES.items()}
# The token table among the "embeddings" weights: not BERT's position / token_type tables, not GPT-2's wpe.
_TOKEN_TABLE = {"bert": re.compile(r"(?:^|\.)word_embeddings\.weight$"),
                "gpt2": re.compile(r"(?:^|\.)wte\.weight$"),
                "llama": re.compile(r"(?:^|\.)embed_tokens\.weight$")}
_TOKEN_TABLE["mistral"] = _TOKEN_TABLE["qwen2"] = _TOKEN_TABLE["llama"]

__all__ = ["KINDS", "LAYER_KINDS", "weight_kind", "layer_index", "source_kind", "as_out_in", "token_table"]


def weight_kind(family: str, name: str) -> tuple[int | None, str]:
    """``(layer, kind)`` of a weight name; layer is None outside the numbered blocks.

    Parameters
    ----------
    family : str
        A supported ``model_type``.
    name : str
        A tensor name of the checkpoint.

    Returns
    -------
    tuple of (int or None, str)
        ``kind`` is one of :data:`KINDS` (``"QKV"`` is GPT-2's fused attention input matrix).
    """
    kind = "other"
    for pattern, k in _COMPILED[family]:
        if pattern.search(name):
            kind = k
            break
    m = _LAYER.search(name)
    layer = int(m.group(1)) if m and kind != "embeddings" else None
    return layer, kind


def token_table(family: str, names) -> str | None:
    """The token-embedding matrix (one row per vocabulary entry) among ``names``, or None.

    Parameters
    ----------
    family : str
        A supported ``model_type``.
    names : iterable of str
        Tensor names of the checkpoint (the first match wins).

    Returns
    -------
    str or None
        ``word_embeddings`` (BERT), ``wte`` (GPT-2) or ``embed_tokens`` (Llama family), with any
        prefix; position and segment embeddings are never returned.
    """
    pattern = _TOKEN_TABLE[family]
    return next((n for n in names if pattern.search(n)), None)


def layer_index(family: str, names) -> dict[tuple[int, str], str]:
    """``{(layer, kind): name}`` for the per-layer matrices among ``names`` (first name wins)."""
    out: dict[tuple[int, str], str] = {}
    for name in names:
        layer, kind = weight_kind(family, name)
        if layer is not None and kind != "other":
            out.setdefault((layer, kind), name)
    return out


def source_kind(family: str, kind: str) -> str:
    """The stored kind that holds ``kind`` (GPT-2 keeps Q, K and V in one fused matrix)."""
    return _FUSED if family == "gpt2" and kind in ("Q", "K", "V") else kind


def as_out_in(family: str, kind: str, stored: np.ndarray) -> np.ndarray:
    """A stored per-layer matrix in ``(out, in)`` orientation; GPT-2's Q, K, V cut from ``c_attn``.

    Parameters
    ----------
    family, kind : str
        ``kind`` is the wanted kind (``"Q"``, not ``"QKV"``).
    stored : numpy.ndarray, shape as in the checkpoint

    Returns
    -------
    numpy.ndarray, shape (out_features, in_features)
    """
    if family != "gpt2":
        return stored
    w = stored.T                                              # Conv1D (in, out) -> (out, in)
    if kind in ("Q", "K", "V"):
        d = w.shape[0] // 3                                   # c_attn: (3 d_model, d_model)
        i = "QKV".index(kind)
        w = w[i * d:(i + 1) * d]                              # (d_model, d_model)
    return np.ascontiguousarray(w)
