"""Projections and linear maps: dot products, cosines, projections onto subspaces, 2×2 maps,
determinant and rank, images of grids, and ``Wx`` as a mix of W's columns.

Everything computes in float64 torch on the la_core device and returns NumPy.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_finite_float, as_float_array, as_int, as_positive_float
from la_core.device import to_numpy, to_tensor

__all__ = ["Projection", "ColumnMix", "orthonormal_basis", "project", "dot", "cosine_similarity", "angle_deg",
           "rotation", "map_2x2", "determinant", "rank", "apply", "grid_lines", "unit_cell", "column_mix"]

_F64 = torch.float64


class Projection(NamedTuple):
    """What :func:`project` returns; unpacks as ``projection, residual``."""

    projection: np.ndarray     # shape like x: the part of x inside the subspace
    residual: np.ndarray       # shape like x: x − projection, orthogonal to the subspace


class ColumnMix(NamedTuple):
    """What :func:`column_mix` returns; unpacks as ``contributions, total``."""

    contributions: np.ndarray  # (n, m): row i is x_i · W[:, i]
    total: np.ndarray          # (m,) = W @ x


def orthonormal_basis(basis, rtol: float | None = None) -> np.ndarray:
    """Orthonormal rows spanning the row space of ``basis`` (dependent rows allowed).

    Parameters
    ----------
    basis : array_like, shape (k, n) or (n,)
        Rows spanning a subspace of R^n; they need not be independent or orthonormal.
    rtol : float, optional
        Singular values below ``rtol * σ_max`` count as zero; default ``max(k, n) * eps``.

    Returns
    -------
    numpy.ndarray, shape (r, n)
        ``r`` = rank of ``basis``; rows are orthonormal.

    Raises
    ------
    ValueError
        If ``basis`` is not a finite 1-D/2-D array or spans only the zero vector.
    """
    b = as_float_array(basis, "basis", ndim=(1, 2))
    b = b.reshape(1, -1) if b.ndim == 1 else b
    rtol = max(b.shape) * np.finfo(np.float64).eps if rtol is None else as_finite_float(rtol, "rtol")
    B = to_tensor(b, _F64)                                        # (k, n)
    _, S, Vh = torch.linalg.svd(B, full_matrices=False)           # S (min(k,n),), Vh (min, n)
    tol = rtol * float(S[0]) if S.numel() else 0
    r = int((S > tol).sum()) if S.numel() and float(S[0]) > 0 else 0
    if r == 0:
        raise ValueError("basis spans only the zero vector; give at least one non-zero row.")
    return to_numpy(Vh[:r])                                       # (r, n)


def project(x, basis) -> Projection:
    """Orthogonal projection of ``x`` onto the span of the rows of ``basis``.

    Parameters
    ----------
    x : array_like, shape (n,) or (m, n)
        A vector or a batch of row vectors.
    basis : array_like, shape (k, n) or (n,)
        Rows spanning the subspace (any rank ≥ 1; not necessarily orthonormal).

    Returns
    -------
    Projection
        Unpacks as ``projection, residual``, both shaped like ``x``: ``projection + residual == x``
        and ``residual`` is orthogonal to every basis row.

    Raises
    ------
    ValueError
        Non-finite values, wrong dimensions, mismatched ``n``, or a zero basis.
    """
    xa = as_float_array(x, "x", ndim=(1, 2))
    q = orthonormal_basis(basis)
    if xa.shape[-1] != q.shape[1]:
        raise ValueError(f"x has {xa.shape[-1]} coordinates but the basis rows have {q.shape[1]}; "
                         "they must live in the same space R^n.")
    X = to_tensor(xa.reshape(-1, xa.shape[-1]), _F64)             # (m, n)
    Q = to_tensor(q, _F64)                                        # (r, n)
    P = (X @ Q.T) @ Q                                             # (m, n)
    proj = to_numpy(P).reshape(xa.shape)
    return Projection(proj, xa - proj)


def _vectors(a, b) -> tuple[np.ndarray, np.ndarray]:
    aa = as_float_array(a, "a", ndim=(1, 2))
    bb = as_float_array(b, "b", ndim=(1, 2))
    if aa.shape[-1] != bb.shape[-1]:
        raise ValueError(f"a and b must have the same length; got {aa.shape} and {bb.shape}.")
    if aa.ndim == 2 and bb.ndim == 2 and aa.shape[0] != bb.shape[0] and 1 not in (aa.shape[0], bb.shape[0]):
        raise ValueError(f"row batches must have the same number of rows (or one row); "
                         f"got {aa.shape} and {bb.shape}.")
    return aa, bb


def dot(a, b) -> np.ndarray | float:
    """Dot product of two vectors, or row-wise for batches (a (m, n) with b (n,) or (m, n))."""
    aa, bb = _vectors(a, b)
    out = to_numpy((to_tensor(aa, _F64) * to_tensor(bb, _F64)).sum(-1))
    return float(out) if out.ndim == 0 else out


def cosine_similarity(a, b) -> np.ndarray | float:
    """Cosine of the angle between vectors: ``a·b / (|a| |b|)``, in [-1, 1].

    Parameters
    ----------
    a, b : array_like, shape (n,) or (m, n)
        Vectors or row batches (a single vector is compared with every row of the other).

    Returns
    -------
    float or numpy.ndarray of shape (m,)

    Raises
    ------
    ValueError
        If any vector is zero (its direction is undefined), or on bad shapes / non-finite values.
    """
    aa, bb = _vectors(a, b)
    A, B = to_tensor(aa, _F64), to_tensor(bb, _F64)
    na, nb = torch.linalg.vector_norm(A, dim=-1), torch.linalg.vector_norm(B, dim=-1)
    if bool((na == 0).any()) or bool((nb == 0).any()):
        raise ValueError("cosine similarity is undefined for a zero vector (it has no direction); "
                         "give non-zero vectors.")
    out = to_numpy(((A / na[..., None]) * (B / nb[..., None])).sum(-1).clamp(-1.0, 1.0))
    return float(out) if out.ndim == 0 else out


def angle_deg(a, b) -> np.ndarray | float:
    """Angle between vectors in degrees (0…180); zero vectors raise ``ValueError``."""
    c = cosine_similarity(a, b)
    return float(np.degrees(np.arccos(c))) if np.ndim(c) == 0 else np.degrees(np.arccos(c))


def rotation(angle_deg: float) -> np.ndarray:
    """2×2 rotation by ``angle_deg`` degrees counter-clockwise."""
    t = math.radians(as_finite_float(angle_deg, "angle_deg"))
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def map_2x2(angle_deg: float, scale_x: float, scale_y: float, shear: float) -> np.ndarray:
    """The 2×2 matrix ``R(angle) @ [[1, shear], [0, 1]] @ diag(scale_x, scale_y)``.

    Read right to left, as it acts on a vector: first scale the axes, then shear horizontally
    (x += shear·y), then rotate counter-clockwise by ``angle_deg``.

    Returns
    -------
    numpy.ndarray, shape (2, 2)
    """
    sx, sy, sh = (as_finite_float(v, n) for v, n in ((scale_x, "scale_x"), (scale_y, "scale_y"), (shear, "shear")))
    return rotation(angle_deg) @ np.array([[1.0, sh], [0.0, 1.0]]) @ np.diag([sx, sy])


def determinant(W) -> float:
    """Determinant of a square matrix (the signed area/volume scale of the map)."""
    w = as_float_array(W, "W", ndim=2)
    if w.shape[0] != w.shape[1]:
        raise ValueError(f"the determinant needs a square matrix; got shape {w.shape}.")
    c = float(np.abs(w).max())
    if c == 0:
        return 0.0
    sign, logabs = torch.linalg.slogdet(to_tensor(w / c, _F64))   # det(W) = cⁿ det(W/c): no overflow inside
    if float(sign) == 0:
        return 0.0
    with np.errstate(over="ignore"):
        return float(sign) * float(np.exp(float(logabs) + w.shape[0] * np.log(c)))


def rank(W, rtol: float | None = None) -> int:
    """Numerical rank: singular values above ``rtol * σ_max`` (default ``max(m, n) * eps``)."""
    w = as_float_array(W, "W", ndim=2)
    rtol = max(w.shape) * np.finfo(np.float64).eps if rtol is None else as_finite_float(rtol, "rtol")
    S = torch.linalg.svdvals(to_tensor(w, _F64))
    if float(S[0]) == 0:
        return 0
    tol = rtol * float(S[0])
    return int((S > tol).sum())


def apply(W, points) -> np.ndarray:
    """Images of row points under W: ``points @ Wᵀ``, shape (..., m) for points (..., n)."""
    w = as_float_array(W, "W", ndim=2)
    p = as_float_array(points, "points", ndim=(1, 2, 3))
    if p.shape[-1] != w.shape[1]:
        raise ValueError(f"points have {p.shape[-1]} coordinates but W takes {w.shape[1]} (shape {w.shape}).")
    return to_numpy(to_tensor(p, _F64) @ to_tensor(w, _F64).T)    # (..., m)


def grid_lines(dim: int = 2, extent: float = 3.0, n_lines: int = 7, n_points: int = 2) -> np.ndarray:
    """Lines of a square (dim=2) or cubic (dim=3) grid, shape (L, n_points, dim).

    ``n_lines`` (1 … 51) lines per family, each sampled at ``n_points`` (2 … 1000) points from
    ``-extent`` to ``extent`` (> 0). The bounds keep a 3-D grid within a few hundred MB.
    """
    dim = as_int(dim, "dim", 2, 3)
    extent = as_positive_float(extent, "extent")
    n_lines = as_int(n_lines, "n_lines", 1, 51)
    n_points = as_int(n_points, "n_points", 2, 1000)
    ticks = np.linspace(-extent, extent, n_lines)
    t = np.linspace(-extent, extent, n_points)
    lines = []
    for axis in range(dim):
        others = [a for a in range(dim) if a != axis]
        for combo in np.array(np.meshgrid(*[ticks] * (dim - 1))).reshape(dim - 1, -1).T:
            pts = np.zeros((n_points, dim))
            pts[:, axis] = t
            for o, v in zip(others, combo):
                pts[:, o] = v
            lines.append(pts)
    return np.array(lines)


def unit_cell(dim: int = 2) -> np.ndarray:
    """Closed outline of the unit square (dim=2, shape (5, 2)) or the edges of the unit cube
    (dim=3, shape (16, 3), one path)."""
    if as_int(dim, "dim", 2, 3) == 2:
        return np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float)
    path = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1],
            [0, 1, 1], [0, 0, 1], [1, 0, 1], [1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 1], [0, 1, 0]]
    return np.array(path, float)


def column_mix(W, x) -> ColumnMix:
    """``Wx`` as the sum of W's columns weighted by x: ``Wx = Σ_i x_i · W[:, i]``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    x : array_like, shape (n,)

    Returns
    -------
    ColumnMix
        Unpacks as ``contributions, total``: ``contributions`` (n, m), row i is ``x_i * W[:, i]``
        (drawn tip-to-tail they end at ``Wx``), and ``total`` (m,) ``= W @ x``.
    """
    w = as_float_array(W, "W", ndim=2)
    xv = as_float_array(x, "x", ndim=1)
    if xv.shape[0] != w.shape[1]:
        raise ValueError(f"W has {w.shape[1]} columns but x has {xv.shape[0]} entries; Wx needs them equal.")
    Wt, xt = to_tensor(w, _F64), to_tensor(xv, _F64)
    contrib = (Wt * xt[None, :]).T                                # (n, m)
    return ColumnMix(to_numpy(contrib), to_numpy(contrib.sum(0)))  # (n, m), (m,)
