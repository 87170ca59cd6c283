"""PCA through the n×n Gram matrix of the rows, for data with fewer rows than features.

With n < d, ``X_c X_cᵀ`` (n×n) has the same non-zero eigenvalues as ``X_cᵀ X_c`` (d×d), and the
principal axes follow from its eigenvectors u: ``v = X_cᵀ u / σ`` with ``σ = √λ``. Work is n²d
instead of nd² and memory n² instead of d²: 300 rows of 50,000 features need a 0.7 MB matrix here
where the d×d Gram would take 20 GB. Used by :class:`la_core.pca.PCA` when ``n < d`` and ``d`` is
above :data:`ROWS_GRAM_ABOVE`; CPU (NumPy/LAPACK, float64), since the n×n problem is small.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from la_core.checks import as_int, as_matrix

__all__ = ["ROWS_GRAM_ABOVE", "RowGramFit", "fit_rows"]

ROWS_GRAM_ABOVE = 2048   # features; with fewer rows than features above this, PCA uses the row Gram
_BLOCK = 2048            # columns per block (an n × 2048 float64 temporary)


class RowGramFit(NamedTuple):
    """Top-k principal axes from the row Gram (unpacks as ``mean, evals, V, total``).

    Attributes
    ----------
    mean : numpy.ndarray, shape (d,)
        Column means (zeros when not centred).
    evals : numpy.ndarray, shape (k,)
        Eigenvalues of ``X_cᵀX_c``, descending, ≥ 0.
    V : numpy.ndarray, shape (k, d)
        Orthonormal axes (signs not yet normalised).
    total : float
        ``trace(X_cᵀX_c)``, the total sum of squares.
    """

    mean: np.ndarray
    evals: np.ndarray
    V: np.ndarray
    total: float


def _blocks(X: np.ndarray, shift: np.ndarray | None, block: int):
    """Column blocks of ``X - shift`` as float64, with their column slices."""
    for j in range(0, X.shape[1], block):
        sl = slice(j, j + block)
        c = np.asarray(X[:, sl], dtype=np.float64)                          # (n, B)
        if shift is not None:
            c = c - shift[sl]
        yield sl, c


def fit_rows(X: np.ndarray, k: int, center: bool, shift: np.ndarray | None = None,
             block: int = _BLOCK) -> RowGramFit:
    """Top-k principal axes of ``X`` (n, d) from its n×n row Gram matrix.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    k : int
        Number of components, 1 ≤ k ≤ min(n, d).
    center : bool
        Centre the columns first (ordinary PCA) or not.
    shift : numpy.ndarray, shape (d,), optional
        Subtracted from every row before the products (centring removes it again); a value near
        the mean avoids cancellation when the data sit far from the origin.

    block : int, default 2048
        Columns per block (an n × block float64 temporary).

    Returns
    -------
    RowGramFit
        ``mean``, ``evals``, ``V`` and ``total``.

    Raises
    ------
    ValueError
        If X is not a finite 2-D numeric matrix (or its products overflow) or k is out of range.
    """
    center = bool(center)
    X = as_matrix(X, "X", min_rows=2 if center else 1)                      # float arrays stay as they are
    n, d = X.shape
    k = as_int(k, "k", 1, min(n, d))
    block = as_int(block, "block", 1)
    shift = np.asarray(shift, np.float64) if (center and shift is not None) else None
    K = np.zeros((n, n))                                                    # (n, n)
    mean = np.zeros(d)                                                      # (d,)
    for sl, c in _blocks(X, shift, block):
        K += c @ c.T
        if center:
            mean[sl] = c.mean(0) + (0.0 if shift is None else shift[sl])
    if not np.all(np.isfinite(K)):
        raise ValueError("X contains NaN or infinite values (or overflows); only finite numbers are accepted.")
    raw_total = float(np.trace(K))                                          # sum of squares before centring
    if center:
        r = K.mean(1)                                                       # (n,)
        K = K - r[:, None] - r[None, :] + r.mean()                          # H K H = X_c X_cᵀ
    K = (K + K.T) / 2
    total = float(np.trace(K))
    evals, U = scipy.linalg.eigh(K, subset_by_index=[n - k, n - 1], driver="evr")
    evals, U = evals[::-1].clip(min=0.0), U[:, ::-1]                        # (k,), (n, k) descending
    HU = U - U.mean(0) if center else U                                     # X_cᵀ U = (X - s)ᵀ H U
    V = np.empty((k, d))                                                    # (k, d)
    for sl, c in _blocks(X, shift, block):
        V[:, sl] = (c.T @ HU).T
    sigma = np.sqrt(evals)
    # below: rounding noise, relative to the largest eigenvalue and to the data's own size (centring
    # data without variance leaves eigenvalues of about 1e-16 of its sum of squares, not zeros)
    good = evals > max(evals.max(initial=0.0) * 1e-10, raw_total * 1e-13, 1e-300)
    V[good] /= sigma[good][:, None]
    if not good.all():
        # Directions without variance: any orthonormal completion is as good as another. QR keeps
        # the good axes (up to sign, restored below) and makes the rest orthogonal to them.
        rng = np.random.default_rng(0)
        basis = np.vstack([V[good], rng.standard_normal((int((~good).sum()), d))])
        q = np.linalg.qr(basis.T)[0].T                                      # (k, d)
        ng = int(good.sum())
        q[:ng] *= np.sign(np.sum(q[:ng] * V[good], axis=1))[:, None]
        V[np.concatenate([np.flatnonzero(good), np.flatnonzero(~good)])] = q
    return RowGramFit(mean, evals, V, total)
