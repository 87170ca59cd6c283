"""Singular value decomposition and the best rank-r approximation (Eckart–Young).

``A = U diag(S) Vh`` with orthonormal columns of ``U``, orthonormal rows of ``Vh`` and
``S`` descending. Keeping the first ``r`` triplets gives the best rank-r approximation in the
Frobenius and spectral norms; its error is exactly the tail of the spectrum.

The SVD runs in torch (``torch.linalg.svd``, float32 by default) on the la_core device, like the
rest of la_core, so a GPU is used where there is one; ``backend="numpy"`` is kept as the reference
that ``bench/bench_svd.py`` compares it with.

The SVD page's sources (one matrix, a grey image, or R, G, B channels) are factored once by
:func:`la_core.svd_channels.factor_channels`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_choice, as_dtype, as_finite_float, as_float_array, as_fraction, as_int
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["SVDResult", "svd", "reconstruct", "reconstruct_many", "truncation_error", "energy",
           "rank_for_energy", "ParamCounts", "lora_params", "storage", "effective_rank",
           "synthetic", "head_qk", "Geometry2D", "geometry_2d"]


class SVDResult(NamedTuple):
    """Thin SVD factors ``A = U diag(S) Vh`` (unpacks as ``U, S, Vh = svd(A)``)."""

    U: np.ndarray   # (m, k)
    S: np.ndarray   # (k,) descending, ≥ 0
    Vh: np.ndarray  # (k, n)


class ParamCounts(NamedTuple):
    """How many numbers a full ``m×n`` matrix and its low-rank form hold."""

    full: int
    low_rank: int


def _spectrum(S, name: str = "S") -> np.ndarray:
    s = as_float_array(S, name, ndim=1)
    if np.any(s < 0):
        raise ValueError(f"{name} must hold singular values (all ≥ 0); got a negative entry {s.min():.3g}.")
    return s


def svd(A, dtype: str = "float32", backend: str = "torch") -> SVDResult:
    """Thin SVD ``A = U diag(S) Vh``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Finite real matrix.
    dtype : {"float32", "float64"}, default "float32"
    backend : {"torch", "numpy"}, default "torch"
        ``torch`` runs ``torch.linalg.svd`` on the la_core device; ``numpy`` runs
        ``numpy.linalg.svd`` (kept as a reference).

    Returns
    -------
    SVDResult
        ``U`` (m, k), ``S`` (k,) descending and ≥ 0, ``Vh`` (k, n), with ``k = min(m, n)``, all
        of ``dtype``.

    Raises
    ------
    ValueError
        If ``A`` is not a finite 2-D numeric array, or ``dtype``/``backend`` is unknown.
    """
    td = as_dtype(dtype)
    backend = as_choice(backend, "backend", ("torch", "numpy"))
    a = A if isinstance(A, np.ndarray) and A.dtype == dtype and A.ndim == 2 and A.size else None
    if a is None or not np.isfinite(a).all():   # slow path: convert and explain what is wrong
        a = as_float_array(A, "A", ndim=2)
    if backend == "numpy":
        return SVDResult(*np.linalg.svd(a.astype(dtype, copy=False), full_matrices=False))
    big = float(np.abs(a).max())
    if td == torch.float32 and big > 1e37:
        raise ValueError(f"A has entries up to {big:.3g}, beyond float32's range for an SVD; "
                         "rescale it or pass dtype='float64'.")
    c = big if (big > 1e150 or 0 < big < 1e-150) else 1.0      # keep products inside float64
    t = to_tensor(a if c == 1.0 else a / c, dtype=td)           # (m, n)
    U, S, Vh = torch.linalg.svd(t, full_matrices=False)         # (m, k), (k,), (k, n)
    S = to_numpy(S)
    return SVDResult(to_numpy(U), S * np.asarray(c, dtype=S.dtype), to_numpy(Vh))


def reconstruct(U, S, Vh, rank: int) -> np.ndarray:
    """Best rank-r approximation ``U[:, :r] diag(S[:r]) Vh[:r]``.

    Parameters
    ----------
    U, S, Vh : numpy.ndarray
        Thin SVD factors as returned by :func:`svd`.
    rank : int
        Number of triplets kept; 0 gives zeros, more than ``len(S)`` is clipped.

    Returns
    -------
    numpy.ndarray, shape (m, n), dtype of ``U``.
    """
    U, S, Vh = np.asarray(U), np.asarray(S), np.asarray(Vh)
    if U.ndim != 2 or S.ndim != 1 or Vh.ndim != 2 or U.shape[1] != S.shape[0] or Vh.shape[0] != S.shape[0]:
        raise ValueError("U, S, Vh must be thin SVD factors with shapes (m, k), (k,), (k, n); got "
                         f"{U.shape}, {S.shape}, {Vh.shape}.")
    r = min(as_int(rank, "rank", 0), S.shape[0])
    dtype = U.dtype if U.dtype in (np.float32, np.float64) else np.float32
    if r == 0:
        return np.zeros((U.shape[0], Vh.shape[1]), dtype=dtype)
    td = torch.float64 if dtype == np.float64 else torch.float32
    dev = get_device()
    u = to_tensor(U[:, :r], td, dev)                              # (m, r)
    s = to_tensor(S[:r], td, dev)                                 # (r,)
    vh = to_tensor(Vh[:r], td, dev)                               # (r, n)
    return to_numpy((u * s) @ vh)                                 # (m, n)


def reconstruct_many(U, S, Vh, ranks) -> np.ndarray:
    """Reconstructions for several ranks at once, built incrementally.

    Returns
    -------
    numpy.ndarray, shape (len(ranks), m, n), float32
    """
    U = as_float_array(U, "U", ndim=2).astype(np.float32)
    S = as_float_array(S, "S", ndim=1).astype(np.float32)
    Vh = as_float_array(Vh, "Vh", ndim=2).astype(np.float32)
    if U.shape[1] < S.shape[0] or Vh.shape[0] < S.shape[0]:
        raise ValueError(f"U {U.shape}, S {S.shape} and Vh {Vh.shape} do not fit together (thin SVD shapes).")
    if isinstance(ranks, (str, bytes)) or not np.iterable(ranks):
        raise ValueError(f"ranks must be a list of non-negative integers; got {ranks!r}.")
    ranks = [min(as_int(r, "rank", 0), S.shape[0]) for r in ranks]
    dev = get_device()
    u, s, vh = to_tensor(U, device=dev), to_tensor(S, device=dev), to_tensor(Vh, device=dev)
    out = torch.empty((len(ranks), U.shape[0], Vh.shape[1]), device=dev)   # (F, m, n)
    order = np.argsort(ranks, kind="stable")
    acc = torch.zeros((U.shape[0], Vh.shape[1]), device=dev)              # (m, n)
    done = 0
    for i in order:
        r = ranks[i]
        if r > done:
            acc = acc + (u[:, done:r] * s[done:r]) @ vh[done:r]           # (m, n)
            done = r
        out[i] = acc
    return to_numpy(out)


def truncation_error(S, rank, kind: str = "frobenius"):
    """Error of the best rank-r approximation, from the spectrum alone (Eckart–Young).

    Parameters
    ----------
    S : array_like, shape (k,)
        Singular values (descending).
    rank : int or array_like of int
    kind : {"frobenius", "relative", "spectral"}
        ``frobenius``: ``sqrt(Σ_{i>r} σ_i²) = ‖A − A_r‖_F``; ``relative``: that divided by
        ``‖A‖_F``; ``spectral``: ``σ_{r+1} = ‖A − A_r‖_2`` (0 when ``r ≥ k``).

    Returns
    -------
    float or numpy.ndarray (same shape as ``rank``)
    """
    kind = as_choice(kind, "kind", ("frobenius", "relative", "spectral"))
    s = np.sort(_spectrum(S))[::-1]
    k = s.shape[0]
    scalar = np.isscalar(rank) or isinstance(rank, (int, np.integer))
    rk = np.atleast_1d(np.asarray(rank))
    if rk.dtype.kind not in "iu" or np.any(rk < 0):
        raise ValueError(f"rank must be a non-negative integer (or an array of them); got {rank!r}.")
    rk = np.minimum(rk, k)
    if kind == "spectral":
        padded = np.append(s, 0.0)
        out = padded[rk]
    else:
        sq = s ** 2
        tail = np.append(np.cumsum(sq[::-1])[::-1], 0.0)       # tail[r] = Σ_{i≥r} σ_i² (0-based)
        out = np.sqrt(np.maximum(tail[rk], 0.0))
        if kind == "relative":
            total = np.sqrt(sq.sum())
            out = out / total if total > 0 else np.zeros_like(out)
    return float(out[0]) if scalar else out.reshape(np.shape(rank))


def energy(S) -> np.ndarray:
    """Cumulative energy: ``energy[r-1] = Σ_{i≤r} σ_i² / Σ σ_i²`` (the fraction kept by rank r).

    Returns
    -------
    numpy.ndarray, shape (k,), non-decreasing, last entry 1 (all zeros for a zero spectrum).
    """
    s = np.sort(_spectrum(S))[::-1]
    if s.size and s[0] > 0:
        s = s / s[0]                                              # ratios only: no overflow in σ²
    sq = s ** 2
    total = sq.sum()
    if total == 0:
        return np.zeros_like(sq)
    e = np.cumsum(sq) / total
    e[-1] = 1.0
    return e


def rank_for_energy(S, fraction: float) -> int:
    """Smallest rank whose cumulative energy reaches ``fraction`` (in (0, 1]).

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1] or the spectrum is all zeros.
    """
    fraction = as_fraction(fraction, "fraction")
    e = energy(S)
    if e.size == 0 or e[-1] == 0:
        raise ValueError("S is all zeros: no rank keeps a fraction of zero energy.")
    return int(np.searchsorted(e, fraction - 1e-12) + 1)


def lora_params(m: int, n: int, r: int) -> ParamCounts:
    """Parameter counts of a full ``m×n`` update and a rank-r LoRA update ``ΔW = B A``.

    ``B`` is ``(m, r)`` and ``A`` is ``(r, n)``, so LoRA trains ``r(m + n)`` numbers instead of ``mn``.

    Returns
    -------
    ParamCounts
        ``full = mn`` and ``low_rank = r(m + n)``.
    """
    m, n, r = as_int(m, "m", 1), as_int(n, "n", 1), as_int(r, "r", 0)
    return ParamCounts(m * n, r * (m + n))


def storage(m: int, n: int, r: int) -> ParamCounts:
    """Numbers stored by the full matrix ``mn`` and by a rank-r SVD ``r(m + n + 1)``."""
    full, low = lora_params(m, n, r)
    return ParamCounts(full, low + r)


def effective_rank(S) -> float:
    """Entropy-based effective rank (Roy & Vetterli, 2007): ``exp(H(p))`` with ``p = σ / Σσ``.

    It is 1 for a rank-1 matrix and ``k`` for a flat spectrum of ``k`` equal values.

    Raises
    ------
    ValueError
        If ``S`` is all zeros.
    """
    s = _spectrum(S)
    total = s.sum()
    if total == 0:
        raise ValueError("S is all zeros: the effective rank of the zero matrix is undefined.")
    p = s / total
    p = p[p > 0]                                                  # 0·log 0 = 0 (also for underflow)
    return float(np.exp(-(p * np.log(p)).sum()))


# ----------------------------------------------------------------------------- sources
def synthetic(m: int, n: int, decay: float = 0.5, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A random ``m×n`` matrix with spectrum ``σ_i = i^(−decay)`` plus Gaussian noise.

    ``A = Q_1 diag(σ) Q_2ᵀ + noise · N / √max(m, n)`` with random orthonormal ``Q_1, Q_2``; the
    noise term has spectral norm about ``2 · noise``.

    Returns
    -------
    numpy.ndarray, shape (m, n), float32
    """
    m, n, seed = as_int(m, "m", 1, 100_000), as_int(n, "n", 1, 100_000), as_int(seed, "seed", 0)
    if m * n > 50_000_000:
        raise ValueError(f"a synthetic {m}×{n} matrix is too large; keep m·n ≤ 50 million entries.")
    decay, noise = as_finite_float(decay, "decay"), as_finite_float(noise, "noise")
    if decay < 0 or noise < 0:
        raise ValueError(f"decay and noise must be finite and ≥ 0; got decay={decay}, noise={noise}.")
    g = torch.Generator().manual_seed(int(seed))
    k = min(m, n)
    q1, _ = torch.linalg.qr(torch.randn(m, k, generator=g, dtype=torch.float64))   # (m, k)
    q2, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))   # (n, k)
    sigma = torch.arange(1, k + 1, dtype=torch.float64) ** (-float(decay))         # (k,)
    a = (q1 * sigma) @ q2.T                                                         # (m, n)
    if noise > 0:
        a = a + noise * torch.randn(m, n, generator=g, dtype=torch.float64) / np.sqrt(max(m, n))
    return a.float().numpy()


def head_qk(w_q, w_k, head: int, n_heads: int, n_kv_heads: int | None = None) -> np.ndarray:
    """The bilinear form of one attention head: ``W_Q,h W_K,gᵀ`` (d_in × d_in, rank ≤ d_head).

    ``w_q, w_k`` are in torch layout ``(out, in)``: ``w_q`` is ``(n_heads·d_head, d_in)`` and
    ``w_k`` is ``(n_kv_heads·d_head, d_in)``. The head's slice of ``w_q`` is rows
    ``h·d_head … (h+1)·d_head``; with grouped-query attention (``n_kv_heads < n_heads``) head ``h``
    reads the keys of group ``g = h // (n_heads / n_kv_heads)``. The score of tokens x, y is
    ``x W_Q,h W_K,gᵀ yᵀ`` with ``W_Q,h = w_q[rows].T`` (d_in, d_head); with rotary positions (RoPE)
    this is the form at relative distance 0 (other distances put a rotation between the two).

    Parameters
    ----------
    w_q, w_k : array_like, shapes (n_heads·d_head, d_in) and (n_kv_heads·d_head, d_in)
    head : int
        0 … n_heads − 1.
    n_heads : int
    n_kv_heads : int, optional
        Key/value heads (default ``n_heads``: no grouping); must divide ``n_heads``.

    Returns
    -------
    numpy.ndarray, shape (d_in, d_in), float32
    """
    wq = as_float_array(w_q, "w_q", ndim=2)
    wk = as_float_array(w_k, "w_k", ndim=2)
    n_heads = as_int(n_heads, "n_heads", 1)
    n_kv = n_heads if n_kv_heads is None else as_int(n_kv_heads, "n_kv_heads", 1, n_heads)
    if n_heads % n_kv or wq.shape[0] % n_heads:
        raise ValueError(f"w_q must have n_heads·d_head rows and n_kv_heads must divide n_heads; got w_q "
                         f"{wq.shape}, n_heads={n_heads}, n_kv_heads={n_kv}.")
    d_k = wq.shape[0] // n_heads
    if wk.shape != (n_kv * d_k, wq.shape[1]):
        raise ValueError(f"w_k must have shape (n_kv_heads·d_head, d_in) = ({n_kv * d_k}, {wq.shape[1]}) to go "
                         f"with w_q {wq.shape} (n_heads={n_heads}, n_kv_heads={n_kv}); got {wk.shape}.")
    head = as_int(head, "head", 0, n_heads - 1)
    group = head // (n_heads // n_kv)
    q = to_tensor(wq[head * d_k:(head + 1) * d_k])                # (d_k, d_in)
    k = to_tensor(wk[group * d_k:(group + 1) * d_k])              # (d_k, d_in)
    return to_numpy(q.T @ k)                                      # (d_in, d_in), rank ≤ d_k


# ----------------------------------------------------------------------------- 2-D geometry
@dataclass
class Geometry2D:
    """The unit circle through ``Vᵀ`` (rotate/reflect), ``Σ`` (scale), ``U`` (rotate/reflect).

    Attributes
    ----------
    U, S, Vh : numpy.ndarray, shapes (2, 2), (2,), (2, 2)
    stages : list of numpy.ndarray, each (n_points, 2)
        circle, after Vᵀ, after Σ Vᵀ, after U Σ Vᵀ (= A x).
    names : list of str
    """

    U: np.ndarray
    S: np.ndarray
    Vh: np.ndarray
    stages: list
    names: list


def geometry_2d(A, n_points: int = 200) -> Geometry2D:
    """Push the unit circle through the three factors of a 2×2 matrix's SVD."""
    a = as_float_array(A, "A", ndim=2)
    if a.shape != (2, 2):
        raise ValueError(f"A must be a 2×2 matrix; got shape {a.shape}.")
    n_points = as_int(n_points, "n_points", 2)
    U, S, Vh = np.linalg.svd(a)
    t = np.linspace(0.0, 2.0 * np.pi, n_points)
    c = np.stack([np.cos(t), np.sin(t)], axis=1)                  # (N, 2)
    s1 = c @ Vh.T                                                  # (N, 2)  Vᵀ x
    s2 = s1 * S                                                    # (N, 2)  Σ Vᵀ x
    s3 = s2 @ U.T                                                  # (N, 2)  U Σ Vᵀ x = A x
    return Geometry2D(U=U, S=S, Vh=Vh, stages=[c, s1, s2, s3],
                      names=["unit circle x", "Vᵀx (rotate)", "ΣVᵀx (scale)", "UΣVᵀx = Ax (rotate)"])
