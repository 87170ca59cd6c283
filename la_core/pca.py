"""Exact PCA of embeddings with scikit-learn's interface.

``PCA`` mirrors :class:`sklearn.decomposition.PCA` (``fit``, ``transform``, ``mean_``, ``components_``,
``explained_variance_``…) but is exact on every row and streams the rows in chunks: it accumulates the
d×d Gram matrix ``XᵀX`` in float64 (chunk products in X's dtype), shifting the rows by the first rows'
mean when the data sit far from the origin so that centring afterwards does not cancel digits, and then
takes the top k eigenvectors. Memory stays near the size of ``X`` plus d². With fewer rows than
features and d above 2048, it uses the n×n Gram of the rows instead (:mod:`la_core.pca_rows`).

Kernels, picked per device by measurement (bench/bench_pca.py): on the CPU the chunk Gram is NumPy's
float32 ``syrk`` (faster than torch's matmul there; blocks of its upper triangle by torch were faster
at d = 384 and slower at 768 and 1024), the coordinates are one torch product of every row with the k
axes (0.24 s against 0.35 s for NumPy's chunked product, 1,000,000 × 384 onto 30 axes) and the
eigenvectors come from LAPACK's ``syevr`` for the top k only (a full ``torch.linalg.eigh`` computes
all d of them); on CUDA the chunks go to the GPU, are multiplied in float64 and ``torch.linalg.eigh``
runs there.

The same moments (n, column sums, Gram) come from a Dask array through :mod:`la_core.pca_dask` when one
is passed, so a cluster can fit what does not fit in one machine; :meth:`PCA.fit_from_moments` is the
step both paths share (the batch job :mod:`la_core.pca_batch` calls it too).

Neighbours, analogies and semantic axes live in :mod:`la_core.neighbors`.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from la_core.checks import as_int, as_matrix
from la_core.device import get_device, host_view
from la_core.pca_rows import ROWS_GRAM_ABOVE, fit_rows

__all__ = ["PCA"]

_CPU_CHUNK = 16384     # rows per chunk on the CPU (float32 Gram per chunk, float64 running sum)
_GPU_CHUNK = 131072    # rows per chunk sent to a GPU


def _is_dask(x) -> bool:
    return type(x).__module__.startswith("dask")


def _not_finite(name: str) -> ValueError:
    return ValueError(f"{name} contains NaN or infinite values (or values so large that their squares overflow); "
                      "only finite numbers are accepted.")


def _svd_flip_rows(V: np.ndarray) -> np.ndarray:
    """scikit-learn's ``svd_flip(u_based_decision=False)``: the largest-|·| entry of each row is positive."""
    idx = np.argmax(np.abs(V), axis=1)
    signs = np.sign(V[np.arange(V.shape[0]), idx])
    signs[signs == 0] = 1.0
    return V * signs[:, None]


def _gram_moments(X: np.ndarray, device: torch.device | None = None, shift: np.ndarray | None = None,
                 chunk_rows: int | None = None):
    """Column sums and Gram matrix of ``X - shift``, streamed over row chunks.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d), float32 or float64
    device : torch.device, optional
        ``cpu`` uses NumPy's float32 syrk per chunk; ``cuda`` multiplies float64 chunks on the GPU.
    shift : numpy.ndarray, shape (d,), optional
        Subtracted from every row before accumulating (avoids cancellation when centring later).

    Returns
    -------
    col_sum : numpy.ndarray, shape (d,), float64
    gram : numpy.ndarray, shape (d, d), float64
    """
    device = device or get_device()
    n, d = X.shape
    shift32 = None if shift is None else shift.astype(X.dtype)
    if device.type == "cuda":
        step = chunk_rows or _GPU_CHUNK
        G = torch.zeros((d, d), dtype=torch.float64, device=device)          # (d, d)
        s = torch.zeros(d, dtype=torch.float64, device=device)               # (d,)
        sh = None if shift is None else torch.as_tensor(shift, dtype=torch.float64, device=device)
        for i in range(0, n, step):
            c = torch.as_tensor(np.ascontiguousarray(X[i:i + step])).to(device, non_blocking=True)
            c = c.to(torch.float64)                                           # (B, d)
            if sh is not None:
                c = c - sh
            G += c.T @ c                                                      # (d, d)
            s += c.sum(0)                                                     # (d,)
        return s.cpu().numpy(), G.cpu().numpy()
    step = chunk_rows or _CPU_CHUNK
    G = np.zeros((d, d), dtype=np.float64)                                   # (d, d)
    s = np.zeros(d, dtype=np.float64)                                        # (d,)
    contiguous = X.flags.c_contiguous
    buf = np.empty((min(step, n), d), dtype=X.dtype) if shift32 is not None or not contiguous else None
    for i in range(0, n, step):
        if buf is None:
            c = X[i:i + step]                                                # (B, d) view, no copy
        else:
            c = buf[: min(step, n - i)]
            if shift32 is not None:
                np.subtract(X[i:i + step], shift32, out=c)                   # (B, d)
            else:
                c[...] = X[i:i + step]
        G += c.T @ c                                                         # (d, d) syrk in X's dtype
        s += c.sum(0)
    return s, G


def _needs_shift(X: np.ndarray, rows: int = 2048, always: bool = False):
    """The first rows' mean when the data sit far from the origin compared with their spread, else None.

    Accumulating ``XᵀX`` and subtracting ``n μμᵀ`` afterwards loses about log10(1 + |μ|²/spread)
    digits to cancellation. When the mean is larger than the spread (``|μ|² > mean |x - μ|²``, e.g.
    raw hidden states with a big common offset) the chunks are shifted by this mean first, at the
    cost of one copy per chunk; for data around the origin (normalised sentence embeddings, centred
    features) the chunk products read X in place.
    """
    head = X[: min(X.shape[0], rows)]                                        # (B, d) view
    mu = head.mean(0, dtype=np.float64)                                      # (d,)
    if not np.all(np.isfinite(mu)):
        raise _not_finite("X")
    with np.errstate(over="ignore", invalid="ignore"):
        # mean squared distance to the mean = mean |x|² - |μ|² (a heuristic: its own rounding does not matter)
        spread = float(np.einsum("ij,ij->i", head, head, dtype=np.float64).mean() - mu @ mu)
        far = float(mu @ mu) > spread                                        # huge values: the Gram check raises
    return mu if always or far else None


class PCA:
    """Exact principal component analysis with scikit-learn's interface.

    Parameters
    ----------
    n_components : int or None
        Number of components k to keep (1 ≤ k ≤ min(n_samples, n_features)); None keeps min(n, d).
    center : bool, default True
        Subtract the column means first (ordinary PCA). ``False`` gives uncentred PCA: the directions
        of largest second moment ``XᵀX``, whose first axis mostly points at the mean.
    device : torch.device or str, optional
        Where to compute; defaults to :func:`la_core.device.get_device`.

    Attributes
    ----------
    mean_ : numpy.ndarray, shape (d,)
        Column means (zeros when ``center=False``).
    components_ : numpy.ndarray, shape (k, d)
        Orthonormal principal axes, signs as scikit-learn's ``svd_flip``.
    explained_variance_ : numpy.ndarray, shape (k,)
        Eigenvalues of ``X_cᵀX_c / (n - 1)`` (``X_c = X`` when uncentred).
    explained_variance_ratio_ : numpy.ndarray, shape (k,)
        Share of the total variance (or, uncentred, of the total sum of squares); zeros when it is 0.
    singular_values_ : numpy.ndarray, shape (k,)
        Singular values of ``X_c``.
    n_samples_, n_features_in_, n_components_ : int
    total_variance_ : float
        Total variance (uncentred: sum of squares over ``n - 1``), the denominator of the ratios.
    noise_variance_ : float
        Mean of the discarded eigenvalues (0 when none are discarded).
    """

    def __init__(self, n_components: int | None = 2, center: bool = True, device=None):
        self.n_components = n_components
        self.center = center
        self.device = device

    # ----------------------------------------------------------------------------- fitting
    def _device(self) -> torch.device:
        return torch.device(self.device) if self.device is not None else get_device()

    def _check_k(self, n: int, d: int) -> int:
        k = self.n_components
        limit = min(n, d)
        if k is None:
            return limit
        k = as_int(k, "n_components")
        if not 1 <= k <= limit:
            raise ValueError(f"n_components={k} must be between 1 and min(n_samples, n_features)={limit} "
                             f"for data of shape ({n}, {d}).")
        return k

    def fit(self, X, y=None) -> "PCA":
        """Fit the principal axes on every row of ``X`` (NumPy array, memmap, tensor or Dask array)."""
        if _is_dask(X):
            from la_core.pca_dask import moments

            n, s, G = moments(X)
            return self.fit_from_moments(int(n), np.asarray(s, np.float64), np.asarray(G, np.float64))
        X = as_matrix(X, min_rows=2 if self.center else 1)
        n, d = X.shape
        k = self._check_k(n, d)
        if n < d and d > ROWS_GRAM_ABOVE:                                   # n×n instead of d×d
            shift = _needs_shift(X, always=True) if self.center else None
            with np.errstate(over="ignore", invalid="ignore"):
                mean, evals, V, total = fit_rows(X, k, self.center, shift)
            self._set(n, d, k, mean, evals, _svd_flip_rows(V), total)
            return self
        device = self._device()
        if self.center:
            shift = _needs_shift(X, always=device.type == "cuda")            # (d,) or None
        else:
            shift = None
        with np.errstate(over="ignore", invalid="ignore"):                    # overflow -> inf -> checked
            s, G = _gram_moments(X, device, shift=shift)
        return self.fit_from_moments(n, s, G, shift=shift)

    def fit_from_moments(self, n_samples: int, col_sum, gram, shift=None) -> "PCA":
        """Fit from the moments of the rows instead of the rows themselves.

        :meth:`fit` computes these moments by streaming ``X``; a batch job computes them block by
        block on a cluster (:mod:`la_core.pca_batch`) and passes them here. Every fitted attribute
        is set exactly as :meth:`fit` would set it on the same rows.

        Parameters
        ----------
        n_samples : int
            Number of rows n.
        col_sum : array_like, shape (d,)
            Column sums of ``X - shift``.
        gram : array_like, shape (d, d)
            Uncentred ``(X - shift)ᵀ(X - shift)``.
        shift : array_like, shape (d,), optional
            The vector subtracted from every row (zeros when None); the centred covariance does not
            depend on it, but a shift near the mean avoids cancellation in ``gram``.

        Returns
        -------
        PCA
            ``self``, fitted.

        Raises
        ------
        ValueError
            If the shapes disagree, there are too few rows, the moments hold NaN/inf, or
            ``n_components`` is out of range.
        """
        col_sum = np.asarray(col_sum, np.float64)
        gram = np.asarray(gram, np.float64)
        n = as_int(n_samples, "n_samples")
        if gram.ndim != 2:
            raise ValueError(f"gram must be a (d, d) matrix; got shape {gram.shape}.")
        d = gram.shape[0]
        if gram.shape != (d, d) or col_sum.shape != (d,):
            raise ValueError(f"moments must be col_sum (d,) and gram (d, d); got {col_sum.shape} and {gram.shape}.")
        if n < (2 if self.center else 1):
            raise ValueError(f"PCA needs at least {2 if self.center else 1} rows; got {n}.")
        if not (np.all(np.isfinite(gram)) and np.all(np.isfinite(col_sum))):
            raise _not_finite("X")
        k = self._check_k(n, d)
        shift = np.zeros(d) if shift is None else np.asarray(shift, np.float64)
        if self.center:
            mu_s = col_sum / n                                               # (d,) mean of X - shift
            scatter = gram - n * np.outer(mu_s, mu_s)                         # (d, d) centred XᵀX
            mean = shift + mu_s
        else:
            # uncentred second moment of X itself: (X-s)ᵀ(X-s) + s·sumᵀ + sum·sᵀ + n s sᵀ
            scatter = gram + np.outer(shift, col_sum) + np.outer(col_sum, shift) + n * np.outer(shift, shift)
            mean = np.zeros(d)
        scatter = (scatter + scatter.T) / 2
        total = float(np.trace(scatter))
        dev = self._device()
        if dev.type == "cuda":
            evals, evecs = torch.linalg.eigh(torch.as_tensor(scatter, dtype=torch.float64, device=dev))
            evals = evals.flip(0)[:k].cpu().numpy()                          # (k,) descending
            V = evecs.flip(1)[:, :k].T.cpu().numpy()                         # (k, d)
        else:
            # LAPACK's syevr for only the top k eigenpairs: the CPU does not compute the d - k
            # eigenvectors nobody asked for, as a full torch.linalg.eigh would.
            evals, evecs = scipy.linalg.eigh(scatter, subset_by_index=[d - k, d - 1], driver="evr")
            evals, V = evals[::-1].copy(), evecs[:, ::-1].T.copy()          # (k,), (k, d)
        evals = evals.clip(min=0.0)
        self._set(n, d, k, mean, evals, _svd_flip_rows(V), total)
        return self

    def _set(self, n: int, d: int, k: int, mean: np.ndarray, evals: np.ndarray, V: np.ndarray, total: float):
        denom = max(n - 1, 1)
        total = max(total, float(evals.sum()), 0.0)
        self.n_samples_, self.n_features_in_, self.n_components_ = n, d, k
        self.mean_ = mean
        self.components_ = V
        self.singular_values_ = np.sqrt(evals)
        self.explained_variance_ = evals / denom
        self.explained_variance_ratio_ = evals / total if total > 0 else np.zeros(k)
        self.total_variance_ = total / denom
        rest = min(n, d) - k
        self.noise_variance_ = float(max(total - evals.sum(), 0.0) / rest / denom) if rest > 0 else 0.0

    # ----------------------------------------------------------------------------- projecting
    def _check_fitted(self):
        if not hasattr(self, "components_"):
            raise ValueError("This PCA is not fitted yet; call fit(X) first.")

    def transform(self, X, axes=None) -> np.ndarray:
        """Coordinates of ``X`` on the principal axes, ``(X - mean_) @ components_.T``.

        Parameters
        ----------
        X : array_like or dask array, shape (n, d)
        axes : sequence of int, optional
            Indices of the axes to project on (0 is the first component), in the order wanted; all
            ``n_components_`` by default. A view of two axes reads X once, like all of them, but
            multiplies by 2 columns instead of k.

        Returns
        -------
        numpy.ndarray (dask array for a dask X), shape (n, len(axes)), X's float dtype
        """
        self._check_fitted()
        V = self.components_ if axes is None else self.components_[self._axes(axes)]   # (m, d)
        if _is_dask(X):
            from la_core.pca_dask import transform_blocks

            return transform_blocks(X, self.mean_ if self.center else np.zeros_like(self.mean_), V)
        X = as_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features but this PCA was fitted on {self.n_features_in_}.")
        dt = X.dtype
        W = torch.from_numpy(np.ascontiguousarray(V.T, dtype=dt))                # (d, m)
        offset = torch.from_numpy((self.mean_ @ V.T).astype(dt))                   # (m,) = mean @ W
        # one product over every row: torch's CPU matmul beat NumPy's on a thin W (m columns), and it is
        # a single release of the GIL, so a busy server thread cannot stall it chunk after chunk
        out = torch.mm(host_view(X), W)                                           # (n, m)
        out -= offset
        out = out.numpy()
        if not np.all(np.isfinite(out)):
            raise _not_finite("X")
        return out

    def _axes(self, axes) -> list[int]:
        k = self.n_components_
        try:
            out = [as_int(a, "axes", 0, k - 1) for a in axes]
        except TypeError:
            out = []
        if not out:
            raise ValueError(f"axes must be a non-empty list of component indices, 0 to {k - 1}; got {axes!r:.60}.")
        return out

    def fit_transform(self, X, y=None) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same rows, shape (n, k)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """Back to the original space: ``Z @ components_ + mean_``."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float64)
        return Z @ self.components_ + self.mean_
