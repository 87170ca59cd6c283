"""Scaled dot-product attention, one step at a time.

``Attention(Q, K, V) = softmax(Q Kᵀ · scale + M) V`` with ``scale = 1/√d_k`` by default and ``M`` a
mask that is 0 where a query may look and −∞ where it may not. :func:`attention_steps` keeps every
intermediate matrix so a page can show them; the result equals
``torch.nn.functional.scaled_dot_product_attention``.

Also here: per-row attention entropy and its largest value under a mask, attention rollout across
layers (Abnar & Zuidema, 2020) and the variance experiment behind the √d_k. The masks live in
:mod:`la_core.attention_masks` and are re-exported here (``attention.causal_mask`` ...).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from la_core.attention_masks import (MaskKind, as_mask, causal_mask, describe_mask, kv_head_of, padding_mask,
                                     sliding_window_mask)
from la_core.checks import as_dtype, as_finite_float, as_float_array, as_int, as_positive_float, as_seed
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["AttentionSteps", "Entropy", "ScalingStudy", "attention_steps", "attention_entropy", "max_entropy",
           "entropy_by_scale", "attention_rollout", "scaling_study",
           # re-exported from la_core.attention_masks
           "MaskKind", "causal_mask", "sliding_window_mask", "padding_mask", "describe_mask", "kv_head_of"]


@dataclass
class AttentionSteps:
    """Every intermediate of one scaled dot-product attention.

    Attributes
    ----------
    scores : numpy.ndarray, shape (..., T_q, T_k)
        ``Q Kᵀ``, the raw dot products.
    scaled : numpy.ndarray, shape (..., T_q, T_k)
        ``scores * scale``.
    masked : numpy.ndarray, shape (..., T_q, T_k)
        ``scaled`` with ``-inf`` where the mask forbids attending.
    weights : numpy.ndarray, shape (..., T_q, T_k)
        Row-wise softmax of ``masked``; every row sums to 1 and masked cells are exactly 0.
    output : numpy.ndarray, shape (..., T_q, d_v)
        ``weights @ V``.
    scale : float
        The factor used (``1/√d_k`` unless given).
    mask : numpy.ndarray of bool or None, shape broadcastable to (..., T_q, T_k)
        True where a query may attend to a key; None when nothing was masked.
    """

    scores: np.ndarray
    scaled: np.ndarray
    masked: np.ndarray
    weights: np.ndarray
    output: np.ndarray
    scale: float
    mask: np.ndarray | None


def _softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis.

    ``torch.softmax`` splits even a few rows across its CPU threads, and in the app's server (the
    browser busy on another core) each call then waits for a sleeping worker thread far longer
    than the work itself takes. Below 32k elements, torch runs the max, exp and sum here on the
    calling thread, so small inputs use them; large ones keep the fused kernel.
    """
    if x.numel() >= 32_768:
        return torch.softmax(x, dim=-1)
    e = (x - x.amax(dim=-1, keepdim=True)).exp()                 # (..., n); exp(−∞) = 0 exactly
    return e / e.sum(dim=-1, keepdim=True)


_CHUNK_ELEMENTS = 1 << 22   # entropy_by_scale: scores held at once (float64), bounds its memory


def attention_steps(q, k, v, scale: float | None = None, mask=None, dtype: str = "float64") -> AttentionSteps:
    """Scaled dot-product attention with every intermediate kept.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d_k)
        Queries (leading batch/head dimensions are optional and broadcast).
    k : array_like, shape (..., T_k, d_k)
        Keys.
    v : array_like, shape (..., T_k, d_v)
        Values.
    scale : float, optional
        Multiplies the scores; default ``1/√d_k``. Must be positive and finite.
    mask : array_like of bool, shape broadcastable to (..., T_q, T_k), optional
        True where a query may attend to a key. Every row needs at least one True.
    dtype : {"float64", "float32"}, default "float64"
        Precision of the computation (float32 is faster for large T).

    Returns
    -------
    AttentionSteps

    Raises
    ------
    ValueError
        Bad shapes (d_k of q and k differ, T_k of k and v differ, leading dims do not broadcast),
        non-finite values, a non-positive scale, or a mask row with no True.
    """
    dt = as_dtype(dtype)
    q_ = as_float_array(q, "q")
    k_ = as_float_array(k, "k")
    v_ = as_float_array(v, "v")
    for name, a in (("q", q_), ("k", k_), ("v", v_)):
        if a.ndim < 2:
            raise ValueError(f"{name} must have shape (T, d) (optionally with leading batch/head dims); "
                             f"got shape {a.shape}.")
    if q_.shape[-1] != k_.shape[-1]:
        raise ValueError(f"q and k must share d_k (last axis); got q {q_.shape} and k {k_.shape}.")
    if k_.shape[-2] != v_.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys T_k (second-to-last axis); "
                         f"got k {k_.shape} and v {v_.shape}.")
    try:
        lead = np.broadcast_shapes(q_.shape[:-2], k_.shape[:-2], v_.shape[:-2])
    except ValueError:
        raise ValueError(f"leading (batch/head) dims of q {q_.shape}, k {k_.shape}, v {v_.shape} "
                         "do not broadcast.") from None
    d_k = q_.shape[-1]
    s = 1.0 / math.sqrt(d_k) if scale is None else as_positive_float(scale, "scale")
    score_shape = (*lead, q_.shape[-2], k_.shape[-2])
    keep = None if mask is None else as_mask(mask, score_shape)

    dev = get_device()
    Q = to_tensor(q_, dtype=dt, device=dev)                      # (..., T_q, d_k)
    K = to_tensor(k_, dtype=dt, device=dev)                      # (..., T_k, d_k)
    V = to_tensor(v_, dtype=dt, device=dev)                      # (..., T_k, d_v)
    with torch.inference_mode():
        scores = Q @ K.transpose(-2, -1)                         # (..., T_q, T_k)
        scaled = scores * s                                      # (..., T_q, T_k)
        if keep is None:
            masked = scaled
        else:
            M = torch.as_tensor(np.array(keep), device=dev)      # (..., T_q, T_k) bool
            masked = scaled.masked_fill(~M, float("-inf"))       # (..., T_q, T_k)
        weights = _softmax(masked)                               # (..., T_q, T_k)
        output = weights @ V                                     # (..., T_q, d_v)
    return AttentionSteps(scores=to_numpy(scores), scaled=to_numpy(scaled), masked=to_numpy(masked),
                          weights=to_numpy(weights), output=to_numpy(output), scale=s,
                          mask=None if keep is None else np.array(keep))


# ------------------------------------------------------------------------------------- entropy
class Entropy(NamedTuple):
    """Per-row entropy (nats) of attention weights and the largest possible value ``log T_k``."""

    per_row: np.ndarray
    max_nats: float


def _check_weights(weights, name: str = "weights", ndim=None) -> np.ndarray:
    w = as_float_array(weights, name, ndim=ndim)
    if w.ndim < 2:
        raise ValueError(f"{name} must have shape (..., T_q, T_k); got {w.shape}.")
    if (w < -1e-9).any():
        raise ValueError(f"{name} must be non-negative (softmax rows); found {w.min():.3g}.")
    sums = w.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        raise ValueError(f"{name} rows must each sum to 1 (softmax output); row sums range "
                         f"{sums.min():.4g}..{sums.max():.4g}.")
    return np.clip(w, 0.0, None)


def attention_entropy(weights) -> Entropy:
    """Entropy of every attention row, ``-Σ_j w_ij log w_ij`` in nats (0·log 0 = 0).

    0 means the row puts all its weight on one key; ``log T_k`` means uniform over all keys.

    Parameters
    ----------
    weights : array_like, shape (..., T_q, T_k)
        Rows that sum to 1.

    Returns
    -------
    Entropy
        ``per_row`` of shape (..., T_q) and ``max_nats = log(T_k)``.
    """
    w = _check_weights(weights)
    W = to_tensor(w, dtype=torch.float64)                         # (..., T_q, T_k)
    H = -torch.special.xlogy(W, W).sum(-1)                        # (..., T_q)
    return Entropy(per_row=to_numpy(H), max_nats=float(math.log(w.shape[-1])))


def max_entropy(mask) -> np.ndarray:
    """The largest entropy each attention row can have under a mask: ``log`` of the keys it may see.

    A row's entropy is largest when its weights are uniform over the keys it may attend to, so
    under a causal mask query i (0-based) can reach at most ``log(i + 1)``, not ``log T_k``.

    Parameters
    ----------
    mask : array_like of bool, shape (..., T_q, T_k)
        True where a query may attend; every row needs at least one True.

    Returns
    -------
    numpy.ndarray, shape (..., T_q)
        ``log(number of True in the row)`` in nats (0 for a row that sees one key).
    """
    m = as_mask(mask)
    return np.log(m.sum(axis=-1, dtype=np.float64))


def entropy_by_scale(q, k, scales, mask=None) -> np.ndarray:
    """Mean attention entropy for each of several scales, in one batched pass.

    The same numbers as ``attention_entropy(attention_steps(q, k, v, scale=s, mask=mask).weights)
    .per_row.mean()`` for every ``s``, with one softmax over all scales instead of one call per
    scale (the attention page draws its entropy curve from dozens of scales on every rerun).

    Parameters
    ----------
    q : array_like, shape (..., T_q, d_k)
    k : array_like, shape (..., T_k, d_k)
    scales : array_like, shape (S,)
        Positive, finite multipliers of the scores ``q kᵀ``.
    mask : array_like of bool, optional
        As in :func:`attention_steps`.

    Returns
    -------
    numpy.ndarray, shape (S,)
        Mean over all query rows of ``-Σ_j w_ij log w_ij`` (nats) at each scale.

    Raises
    ------
    ValueError
        What :func:`attention_steps` refuses; scales that are empty, not 1-D, not positive and
        finite; scores too large for the scale (overflow).
    """
    s = as_float_array(scales, "scales", ndim=1)
    if s.size == 0 or not (s > 0).all():
        raise ValueError(f"scales must be a non-empty list of positive finite numbers; got {s!r}.")
    k_ = as_float_array(k, "k")
    base = attention_steps(q, k_, k_, scale=1.0, mask=mask)        # validates; scores = q kᵀ
    dev = get_device()
    means = []
    with torch.inference_mode():
        scores = to_tensor(base.scores, dtype=torch.float64, device=dev)          # (..., T_q, T_k)
        keep = None if base.mask is None else torch.as_tensor(base.mask, device=dev)   # (..., T_q, T_k) bool
        # a few scales at a time, so a long text (T = 2048: 4M scores) never holds S copies at once
        per_chunk = max(1, _CHUNK_ELEMENTS // max(1, scores.numel()))
        for lo in range(0, s.size, per_chunk):
            S = to_tensor(s[lo:lo + per_chunk], dtype=torch.float64, device=dev)   # (S_c,)
            scaled = S.reshape(-1, *([1] * scores.dim())) * scores                 # (S_c, ..., T_q, T_k)
            if not torch.isfinite(scaled).all():
                raise ValueError("scale × scores overflows; use smaller scales or smaller q, k.")
            if keep is not None:
                scaled = scaled.masked_fill(~keep, float("-inf"))
            W = _softmax(scaled)                                                   # (S_c, ..., T_q, T_k)
            H = -torch.special.xlogy(W, W).sum(-1)                                 # (S_c, ..., T_q)
            means.append(H.reshape(H.shape[0], -1).mean(1))                        # (S_c,)
    return to_numpy(torch.cat(means))


# ------------------------------------------------------------------------------------- rollout
def attention_rollout(attentions, residual: float = 0.5) -> np.ndarray:
    """Attention rollout across layers (Abnar & Zuidema, 2020).

    Each layer's head-averaged attention ``A_l`` is mixed with the identity for the residual
    connection, ``Â_l = residual·I + (1-residual)·A_l``, rows are renormalised to sum to 1, and the
    layers are multiplied: ``R_l = Â_l Â_{l-1} … Â_1``.

    Parameters
    ----------
    attentions : array_like, shape (L, T, T) or (L, H, T, T)
        Per-layer attention weights; with a head axis, heads are averaged first.
    residual : float, default 0.5
        Weight of the identity (0 ≤ residual < 1).

    Returns
    -------
    numpy.ndarray, shape (L, T, T)
        ``R_l`` after every layer; ``[-1]`` is the rollout of the whole stack. Rows sum to 1.
    """
    a = _check_weights(attentions, "attentions", ndim=(3, 4))
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"attentions must be square self-attention maps (T, T); got {a.shape}.")
    r = as_finite_float(residual, "residual")
    if not 0.0 <= r < 1.0:
        raise ValueError(f"residual must be in [0, 1); got {residual!r}.")
    A = to_tensor(a, dtype=torch.float64)                         # (L, [H,] T, T)
    if A.ndim == 4:
        A = A.mean(dim=1)                                         # (L, T, T)
    T = A.shape[-1]
    eye = torch.eye(T, dtype=A.dtype, device=A.device)            # (T, T)
    A_hat = r * eye + (1.0 - r) * A                               # (L, T, T)
    A_hat = A_hat / A_hat.sum(-1, keepdim=True)                   # rows sum to 1
    out = []
    R = eye
    for layer in A_hat:
        R = layer @ R                                             # (T, T)
        out.append(R)
    return to_numpy(torch.stack(out))                             # (L, T, T)


# ------------------------------------------------------------------------------ why sqrt(d_k)
@dataclass
class ScalingStudy:
    """Monte-Carlo evidence for the 1/√d_k factor (see :func:`scaling_study`).

    Attributes
    ----------
    d_k : numpy.ndarray of int, shape (n_dims,)
    var_raw, var_scaled : numpy.ndarray, shape (n_dims,)
        Sample variance of ``q·k`` and of ``q·k/√d_k`` (theory: d_k and 1).
    max_weight_raw, max_weight_scaled : numpy.ndarray, shape (n_dims,)
        Mean over rows of the largest softmax weight over ``n_keys`` keys (1 = one-hot, saturated;
        ``1/n_keys`` = uniform).
    entropy_raw, entropy_scaled : numpy.ndarray, shape (n_dims,)
        Mean row entropy in nats.
    n_keys : int
    n_samples : int
    """

    d_k: np.ndarray
    var_raw: np.ndarray
    var_scaled: np.ndarray
    max_weight_raw: np.ndarray
    max_weight_scaled: np.ndarray
    entropy_raw: np.ndarray
    entropy_scaled: np.ndarray
    n_keys: int
    n_samples: int


def scaling_study(d_ks=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), n_keys: int = 16,
                  n_samples: int = 512, seed: int = 0) -> ScalingStudy:
    """Sample q, k with i.i.d. N(0, 1) entries and measure what scaling by 1/√d_k does.

    For each ``d_k``: ``n_samples`` queries against ``n_keys`` keys each. ``Var(q·k) = d_k``, so
    without the factor the softmax inputs grow like √d_k and the rows saturate toward one-hot.

    Returns
    -------
    ScalingStudy
    """
    dims = np.asarray(d_ks)
    if dims.ndim != 1 or dims.size == 0 or dims.dtype.kind not in "iu" or (dims < 1).any():
        raise ValueError(f"d_ks must be a non-empty list of positive integers; got {d_ks!r}.")
    n_keys = as_int(n_keys, "n_keys", 2)        # the softmax needs a choice
    n_samples = as_int(n_samples, "n_samples", 1)
    gen = torch.Generator().manual_seed(as_seed(seed))
    rows = {k: [] for k in ("vr", "vs", "mr", "ms", "er", "es")}
    for d in dims.tolist():
        q = torch.randn(n_samples, 1, d, generator=gen, dtype=torch.float64)       # (N, 1, d)
        k = torch.randn(n_samples, n_keys, d, generator=gen, dtype=torch.float64)  # (N, n_keys, d)
        raw = (q @ k.transpose(-2, -1)).squeeze(1)                                 # (N, n_keys)
        scaled = raw / math.sqrt(d)                                                # (N, n_keys)
        for tag, s in (("r", raw), ("s", scaled)):
            w = _softmax(s)                                                        # (N, n_keys)
            rows["v" + tag].append(float(s.var()))
            rows["m" + tag].append(float(w.max(-1).values.mean()))
            rows["e" + tag].append(float((-torch.special.xlogy(w, w).sum(-1)).mean()))
    return ScalingStudy(d_k=dims.astype(int), var_raw=np.array(rows["vr"]), var_scaled=np.array(rows["vs"]),
                        max_weight_raw=np.array(rows["mr"]), max_weight_scaled=np.array(rows["ms"]),
                        entropy_raw=np.array(rows["er"]), entropy_scaled=np.array(rows["es"]),
                        n_keys=n_keys, n_samples=n_samples)
