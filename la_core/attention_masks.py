"""Attention masks: which keys each query may see, and which key/value head each query head reads.

The usual masks (causal, sliding window, padding) as boolean arrays (True = may attend), the
check every mask goes through (:func:`as_mask`), a name for a given mask (:func:`describe_mask`,
e.g. a model's own) and the query-head groups of grouped-query attention (:func:`kv_head_of`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from la_core.checks import as_int

__all__ = ["MaskKind", "as_mask", "causal_mask", "sliding_window_mask", "padding_mask", "describe_mask", "kv_head_of"]


def as_mask(mask, shape=None) -> np.ndarray:
    """A boolean mask (0/1 numbers accepted), broadcast to ``shape`` = (..., T_q, T_k), or ValueError.

    Every query row must keep at least one key: the softmax of a row of −∞ only is undefined.

    Parameters
    ----------
    mask : array_like of bool, shape (..., T_q, T_k)
        True where a query may attend.
    shape : tuple of int, optional
        The attention scores' shape the mask must broadcast to; default the mask's own.

    Returns
    -------
    numpy.ndarray of bool
        A read-only broadcast view when ``shape`` adds dimensions.
    """
    if shape is not None:
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) < 2:
            raise ValueError(f"shape must be the scores' shape (..., T_q, T_k), at least 2 integers; got {shape!r}.")
        shape = tuple(as_int(n, "every entry of shape", min_value=0) for n in shape)
    arr = np.asarray(mask)
    if arr.dtype != bool:
        if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
            raise ValueError("mask must be boolean (True = may attend) or 0/1; "
                             f"got dtype {arr.dtype} with other values.")
        arr = arr.astype(bool)
    if arr.ndim < 2:
        raise ValueError(f"mask must have shape (T_q, T_k) (optionally with leading batch/head dims); "
                         f"got shape {arr.shape}.")
    shape = arr.shape if shape is None else shape
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"mask of shape {np.shape(mask)} does not fit the attention scores of shape "
                         f"{shape} (T_q, T_k = {shape[-2]}, {shape[-1]}).") from None
    empty = ~arr.any(axis=-1)
    if empty.any():
        rows = np.argwhere(empty)[:5].tolist()
        raise ValueError(f"mask leaves {int(empty.sum())} query row(s) with no key to attend to "
                         f"(first: index {rows}); softmax of an all −∞ row is undefined. "
                         "Every row of the mask needs at least one True.")
    return arr


def causal_mask(T: int) -> np.ndarray:
    """Causal mask: query i may attend to keys 0..i.

    Returns
    -------
    numpy.ndarray of bool, shape (T, T)
        Lower-triangular, True = may attend.
    """
    T = as_int(T, "T", 1)
    return np.tril(np.ones((T, T), dtype=bool))


def sliding_window_mask(T: int, window: int, causal: bool = True) -> np.ndarray:
    """Local attention mask.

    Parameters
    ----------
    T : int
    window : int
        ``causal=True``: query i sees the ``window`` most recent keys ``i-window+1 .. i`` (itself
        included, as in Mistral). ``causal=False``: query i sees keys with ``|i - j| <= window``.
    causal : bool, default True

    Returns
    -------
    numpy.ndarray of bool, shape (T, T)
    """
    T = as_int(T, "T", 1)
    window = as_int(window, "window", 1)
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    if causal:
        return (j <= i) & (j > i - window)
    return np.abs(i - j) <= window


def padding_mask(keep, T: int | None = None) -> np.ndarray:
    """Mask that hides padding keys.

    Parameters
    ----------
    keep : int, sequence of int, or boolean array
        Either the real length(s) of the sequence(s) (integers: keys ``0..length-1`` are real), or a
        boolean keep-vector of shape (T,) or (B, T) (True = real token).
    T : int, optional
        Padded length; required with lengths, inferred from a keep-vector.

    Returns
    -------
    numpy.ndarray of bool, shape (T, T) or (B, T, T)
        True where a query may attend; every query (padding ones too) sees all real keys.
    """
    arr = np.asarray(keep)
    if arr.dtype == bool:
        if arr.ndim not in (1, 2) or arr.shape[-1] < 1:
            raise ValueError(f"a boolean keep-vector must have shape (T,) or (B, T); got {arr.shape}.")
        if T is not None and as_int(T, "T", 1) != arr.shape[-1]:
            raise ValueError(f"keep-vector has length {arr.shape[-1]} but T={T}.")
        keys = arr
    elif arr.dtype.kind in "iu" and arr.ndim in (0, 1):
        if T is None:
            raise ValueError("padding_mask with lengths needs T (the padded length).")
        T = as_int(T, "T", 1)
        if arr.size == 0 or (arr < 0).any() or (arr > T).any():
            raise ValueError(f"lengths must be integers between 1 and T={T}; got {arr.tolist()}.")
        keys = np.arange(T) < arr[..., None]                   # (T,) or (B, T)
    else:
        raise ValueError("keep must be lengths (int or sequence of int) or a boolean keep-vector; "
                         f"got dtype {arr.dtype} with shape {arr.shape}.")
    if not keys.any(axis=-1).all():
        raise ValueError("padding_mask: a sequence has no real token (length 0); attention would be "
                         "undefined. Every sequence needs at least one real token.")
    Tn = keys.shape[-1]
    return np.broadcast_to(keys[..., None, :], (*keys.shape[:-1], Tn, Tn)).copy()


class MaskKind(NamedTuple):
    """What a square mask is: ``kind`` one of "none", "causal", "sliding window", "padding", "other";
    ``size`` the window (sliding window) or the number of real tokens (padding), else None."""

    kind: str
    size: int | None = None


def describe_mask(mask) -> MaskKind:
    """Name a (T, T) mask as one of the masks of this module, with its window or real length.

    Parameters
    ----------
    mask : array_like of bool, shape (T, T)
        True where a query may attend (e.g. a model's own mask from ``ModelAttention.mask[layer]``).

    Returns
    -------
    MaskKind
        "none" (all True), "causal", "sliding window" (causal, window < T), "padding" (the first
        ``size`` keys for every query) or "other".
    """
    m = as_mask(mask)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"describe_mask needs one square (T, T) mask; got shape {m.shape}.")
    T = m.shape[0]
    if m.all():
        return MaskKind("none")
    if np.array_equal(m, causal_mask(T)):
        return MaskKind("causal")
    w = int(m[-1].sum())
    if np.array_equal(m, sliding_window_mask(T, w)):
        return MaskKind("sliding window", w)
    n = int(m[0].sum())
    if np.array_equal(m, padding_mask(n, T)):
        return MaskKind("padding", n)
    return MaskKind("other")


def kv_head_of(n_heads: int, n_kv_heads: int) -> np.ndarray:
    """Which key/value head every query head reads under grouped-query attention (GQA).

    Query heads come in ``n_kv_heads`` consecutive groups of ``n_heads / n_kv_heads``; the heads of
    a group share one K and one V (transformers' ``repeat_kv``). Without GQA every head has its own.

    Returns
    -------
    numpy.ndarray of int, shape (n_heads,)
        ``kv[h]`` = the key/value head of query head ``h``.
    """
    H = as_int(n_heads, "n_heads", 1)
    G = as_int(n_kv_heads, "n_kv_heads", 1, H)
    if H % G:
        raise ValueError(f"n_heads ({H}) must be a multiple of n_kv_heads ({G}): each key/value head serves "
                         "the same number of query heads.")
    return np.arange(H) // (H // G)
