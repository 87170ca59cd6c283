"""Every 2-D weight of a model as a matrix to decompose, grouped by layer and kind, read lazily.

A :class:`MatrixRef` names one matrix without reading it: its group (a layer, or the embeddings
and other matrices outside the blocks), its kind (Q, K, V, O, MLP up/gate/down, embeddings, other,
or one head's ``W_Q,h W_K,gᵀ``) and its shape as shown. Per-layer matrices are shown in
``(out, in)`` orientation (``Model.layer_weight``: GPT-2's Conv1D transposed, its fused ``c_attn``
cut into Q, K and V); the others as stored. :func:`read_matrix` reads one from the memory-mapped
files when it is chosen.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from la_core.checks import as_int
from la_core.svd import head_qk

__all__ = ["MatrixRef", "QK", "OUTSIDE", "model_matrices", "layer_matrices", "read_matrix"]

QK = "QK head"                      # kind of one head's W_Q,h W_K,gᵀ
OUTSIDE = "embeddings & other"      # group of the matrices outside the numbered layers
_ORDER = ("Q", "K", "V", "O", "MLP gate", "MLP up", "MLP down", QK, "embeddings", "other")
_LAYER_KINDS = ("Q", "K", "V", "O", "MLP up", "MLP gate", "MLP down")
_DESCRIBE = {"Q": "query", "K": "key", "V": "value", "O": "attention output", "MLP up": "MLP in",
             "MLP gate": "MLP gate", "MLP down": "MLP out"}


class MatrixRef(NamedTuple):
    """One matrix of a model, named but not read."""

    layer: int | None       # None outside the numbered layers
    kind: str               # Q K V O MLP up/gate/down, QK head, embeddings, other
    name: str               # checkpoint tensor name (for QK head: the layer's Q name)
    shape: tuple            # (rows, columns) as shown

    @property
    def group(self) -> str:
        return OUTSIDE if self.layer is None else f"layer {self.layer}"

    def label(self, d_head: int | None = None) -> str:
        """What a picker shows, with the real shape."""
        m, n = self.shape
        if self.kind == QK:
            return f"one head's W_Q,h W_K,hᵀ ({m}×{n}, rank ≤ {d_head})"
        if self.kind in _DESCRIBE:
            return f"{self.kind} ({_DESCRIBE[self.kind]}, {m}×{n})"
        return f"{self.name} ({m}×{n})"


def _shown_shape(model, layer, kind: str, name: str) -> tuple[int, int]:
    shape = model.weight_shape(name)                               # from the header: nothing is read
    if model.family == "gpt2" and layer is not None and kind in ("QKV", *_LAYER_KINDS):
        shape = shape[::-1]                                        # Conv1D (in, out) -> (out, in)
        if kind == "QKV":
            shape = (shape[0] // 3, shape[1])                      # one third of c_attn each
    return int(shape[0]), int(shape[1])


def model_matrices(model) -> list[MatrixRef]:
    """Every 2-D weight of ``model`` (a ``la_core.models.Model``), by layer then kind.

    Per layer: Q, K, V, O, MLP gate/up/down (GPT-2's fused ``c_attn`` as its Q, K and V views),
    any other 2-D weight of that layer, and one head's ``W_Q,h W_K,gᵀ`` where the layer has Q and K;
    then the embeddings and the other matrices outside the layers (pooler, LM head).

    Returns
    -------
    list of MatrixRef
    """
    refs = []
    for name in model.weight_names():
        layer, kind = model.weight_kind(name)
        if layer is not None and kind == "QKV":
            shape = _shown_shape(model, layer, kind, name)
            refs += [MatrixRef(layer, k, name, shape) for k in ("Q", "K", "V")]
        elif layer is not None and kind in _LAYER_KINDS:
            refs.append(MatrixRef(layer, kind, name, _shown_shape(model, layer, kind, name)))
        else:
            refs.append(MatrixRef(layer, kind if kind in ("embeddings", "other") else "other", name,
                                  _shown_shape(model, None, kind, name)))
    have = {(r.layer, r.kind): r for r in refs if r.layer is not None}
    for (layer, kind), q in list(have.items()):
        if kind == "Q" and (layer, "K") in have:
            refs.append(MatrixRef(layer, QK, q.name, (q.shape[1], q.shape[1])))
    return sorted(refs, key=lambda r: (r.layer is None, r.layer or 0, _ORDER.index(r.kind), r.name))


def layer_matrices(refs) -> list[MatrixRef]:
    """The per-layer weight matrices among ``refs`` (what the spectrum atlas scans: no QK heads)."""
    return [r for r in refs if r.layer is not None and r.kind in _LAYER_KINDS]


def read_matrix(model, ref: MatrixRef, head: int = 0) -> np.ndarray:
    """The matrix ``ref`` names, float32, read lazily (``head``: which head for a QK ref).

    Raises
    ------
    ValueError
        A ref that does not belong to this model, or a head out of range.
    """
    if not isinstance(ref, MatrixRef):
        raise ValueError(f"ref must be a MatrixRef from model_matrices(model); got {type(ref).__name__}.")
    if ref.kind == QK:
        head = as_int(head, "head", 0, model.n_heads - 1)
        return head_qk(model.layer_weight(ref.layer, "Q"), model.layer_weight(ref.layer, "K"), head,
                       model.n_heads, model.n_kv_heads)
    if ref.layer is not None and ref.kind in _LAYER_KINDS:
        out = model.layer_weight(ref.layer, ref.kind)
    else:
        out = model.weight(ref.name)
    if tuple(out.shape) != tuple(ref.shape):
        raise ValueError(f"{ref.name} is {out.shape[0]}×{out.shape[1]} in {model.name}, not "
                         f"{ref.shape[0]}×{ref.shape[1]}: the ref comes from another model.")
    return out
