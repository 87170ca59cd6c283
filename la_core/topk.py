"""Exact top-k rows of a matrix by cosine, dot or Euclidean score, without a float64 pass over it.

The exact answer is the float64 score of every row (:func:`exact_scores`), ranked best first with
ties broken by row index. Copying a float32 matrix to float64 to get it costs more than the
arithmetic, so :func:`top_k` works in two steps:

1. **Bounded fast pass.** Each chunk of rows is scored in the matrix's own dtype with torch on
   :func:`la_core.device.get_device` (the chunk is a view of the array or memmap, never copied):
   ``D = x·q̃`` and ``r = ‖x‖`` per row, where ``q̃ = 2^s q`` is the query scaled by a power of two
   so that ``max|q̃| ∈ [1, 2)`` (exact, and keeps float32 away from overflow and underflow). With
   unit roundoff ``u`` (2⁻²⁴ for float32, 2⁻⁵³ for float64) the textbook bounds for any summation
   order are ``|D − x·q̃| ≤ (d+1)u Σ|x_i q̃_i| ≤ (d+1)u ‖x‖‖q̃‖`` (Cauchy–Schwarz) and
   ``|r − ‖x‖| ≤ (d+3)u/2 ‖x‖``; we use ``α = 2((d+2)u + 2u_mm)`` and ``β = 2(d+4)u``, a safety
   factor of about 2, where ``u_mm`` is the extra rounding of a reduced-precision float32 matmul
   (TF32/bf16, when torch allows one). Writing ``c = D / (r‖q̃‖)``, the true values lie in
   ``cosine ± ((α+β)/(1−β))``, ``dot = D·2⁻ˢ ± α r/(1−β) ‖q‖`` and
   ``‖x−q‖² = r² − 2D·2⁻ˢ + ‖q‖² ± ((2β+β²)x̂² + 2α x̂‖q‖)`` with ``x̂ = r/(1−β)``; the float64
   score differs from the true one by at most ``α₆₄ = 2(d+8)2⁻⁵³`` relative (twice that absolute
   for cosine), which is added. So every row gets an interval ``[lo, hi]`` of its sort key (−score
   for cosine and dot, the distance for euclidean) that holds its float64 key.
2. **Exact rescoring.** Let ``T`` be the k-th smallest ``hi`` among the rows seen (the exact keys of
   the best k so far count with ``lo = hi``). ``k`` rows have float64 keys ``≤ T``, so a row with
   ``lo > T`` is beaten by k rows and cannot be in the answer; every other row is rescored by
   :func:`exact_scores` and merged with the best k by the (key, index) order.

Rows outside the range where the bounds hold (a zero, tiny or huge row: ``r`` outside
``[2⁻⁴⁰, 2⁴⁰]`` in float32, ``[2⁻⁴⁰⁰, 2⁴⁰⁰]`` in float64, or NaN/inf) get ``(−∞, ∞)`` and are always
rescored, so NaN/inf still raise ``ValueError`` and odd rows still get their float64 score; a zero
or extreme query makes every row such a row (the old full float64 scan).

Cost: one pass over ``X`` in its own dtype — a matrix–vector product and the row norms on each chunk
while it is in cache, 2·n·d multiply–adds — plus ``d`` float64 operations per rescored row. The
first chunk rescores about k rows; later ones only rows within about ``2(α+β)`` of the k-th score
(a handful on real embeddings). Data with many exact ties (duplicated rows) are rescored in full,
the cost of the old float64 scan.
"""
from __future__ import annotations

import numpy as np
import torch

from la_core.checks import as_choice, as_float_array, as_int, as_matrix
from la_core.device import get_device, host_view

__all__ = ["METRICS", "exact_scores", "top_k"]

METRICS = ("cosine", "dot", "euclidean")

_SAFETY = 2.0                   # multiplies the float32/float64 error bounds; tests shrink it to show it matters
_U64 = 2.0 ** -53
_Q_RANGE = (2.0 ** -300, 2.0 ** 300)             # largest |query entry| for which the fast pass is used
_ROW_RANGE = {torch.float32: (2.0 ** -40, 2.0 ** 40), torch.float64: (2.0 ** -400, 2.0 ** 400)}


def _not_finite(name: str) -> ValueError:
    return ValueError(f"{name} contains NaN or infinite values (or values so large that their squares overflow); "
                      "only finite numbers are accepted.")


def exact_scores(rows, query, metric: str = "cosine") -> np.ndarray:
    """Float64 scores of ``rows`` against ``query``, each row's independent of the others.

    Row sums use ``numpy.einsum``, whose order of summation within a row does not depend on the
    other rows (a BLAS matrix–vector product's does, by an ulp), so equal rows get equal scores.

    Parameters
    ----------
    rows : array_like, shape (m, d)
    query : array_like, shape (d,)
    metric : {"cosine", "dot", "euclidean"}
        Cosine similarity (0 for a zero row or query), dot product or Euclidean distance.

    Returns
    -------
    numpy.ndarray, shape (m,), float64

    Raises
    ------
    ValueError
        If ``rows`` is not a matrix or a score is not finite (NaN/inf in ``rows``, or values so large
        that their squares overflow), ``query`` is not a finite vector of length d, or ``metric`` unknown.
    """
    metric = as_choice(metric, "metric", METRICS)
    rows = as_matrix(rows, "rows", min_rows=0)
    q = as_float_array(query, "query", ndim=1)
    if q.shape[0] != rows.shape[1]:
        raise ValueError(f"query must be a vector of length {rows.shape[1]}; got shape {q.shape}.")
    out = _exact(rows, q, metric)
    if not np.all(np.isfinite(out)):
        raise _not_finite("rows")
    return out


def _exact(rows: np.ndarray, q: np.ndarray, metric: str) -> np.ndarray:
    c = np.ascontiguousarray(rows, dtype=np.float64)                        # (m, d)
    q = np.ascontiguousarray(q, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):                      # callers raise on NaN/inf
        if metric == "euclidean":
            diff = c - q
            return np.sqrt(np.einsum("ij,ij->i", diff, diff))               # (m,)
        dots = np.einsum("ij,j->i", c, q)                                   # (m,)
        if metric == "dot":
            return dots
        norms = np.sqrt(np.einsum("ij,ij->i", c, c)) * np.linalg.norm(q)
        return np.divide(dots, norms, out=np.zeros_like(dots), where=norms != 0)   # a NaN row stays NaN


def _matmul_roundoff(device: torch.device, dtype: torch.dtype) -> float:
    """Extra unit roundoff per operand when torch may run a float32 matmul in TF32 or bf16."""
    if dtype != torch.float32:
        return 0.0
    backend = torch.backends.cuda.matmul if device.type == "cuda" else getattr(torch.backends.mkldnn, "matmul", None)
    modes = {torch.get_float32_matmul_precision(), str(getattr(backend, "fp32_precision", "none"))}
    if device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        modes.add("tf32")
    return 0.0 if modes <= {"highest", "none", "ieee"} else 2.0 ** -8     # bf16's, the coarser of the two


class _FastPass:
    """Key intervals ``[lo, hi]`` of a chunk's rows from one low-cost pass (see the module docstring)."""

    def __init__(self, dtype: np.dtype, q: np.ndarray, metric: str):
        self.metric = metric
        self.dtype = torch.float64 if dtype == np.float64 else torch.float32
        self.device = get_device()
        if self.device.type == "mps" and self.dtype == torch.float64:
            self.device = torch.device("cpu")                               # mps has no float64
        d = q.shape[0]
        u = 2.0 ** -53 if self.dtype == torch.float64 else 2.0 ** -24
        self.s = 1 - int(np.frexp(np.abs(q).max())[1])                      # max|q̃| in [1, 2)
        q_scaled = np.ldexp(q, self.s)
        self.qt = torch.from_numpy(q_scaled).to(device=self.device, dtype=self.dtype)
        self.qn = float(np.linalg.norm(q))
        self.Q = float(np.linalg.norm(q_scaled))
        self.alpha = _SAFETY * ((d + 2) * u + 2 * _matmul_roundoff(self.device, self.dtype))
        self.beta = _SAFETY * (d + 4) * u
        self.a64 = _SAFETY * (d + 8) * _U64 + 16 * _U64
        self.d = d
        self.row_range = _ROW_RANGE[self.dtype]

    @staticmethod
    def usable(q: np.ndarray) -> bool:
        m = float(np.abs(q).max())
        return _Q_RANGE[0] <= m <= _Q_RANGE[1]

    def intervals(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``lo``, ``hi`` (b,) bounds of the float64 sort keys and the ``hard`` rows they do not bound."""
        t = host_view(block).to(device=self.device, dtype=self.dtype)      # no copy on the CPU
        D = torch.mv(t, self.qt).cpu().numpy().astype(np.float64)          # ≈ x·q̃
        r = torch.linalg.vector_norm(t, dim=1).cpu().numpy().astype(np.float64)   # ≈ ‖x‖
        hard = ~((r >= self.row_range[0]) & (r <= self.row_range[1]) & np.isfinite(D))
        r = np.where(hard, 1.0, r)
        D = np.where(hard, 0.0, D)
        xh = r / (1 - self.beta)                                            # ≥ ‖x‖
        if self.metric == "cosine":
            w = (self.alpha + self.beta) / (1 - self.beta) + 2 * self.a64
            key = -D / (r * self.Q)
            lo, hi = key - w, key + w
        elif self.metric == "dot":
            v = np.ldexp(D, -self.s)
            w = (self.alpha + self.a64) * xh * self.qn + 8 * _U64 * np.abs(v) + 2.0 ** -1000
            lo, hi = -v - w, -v + w
        else:
            v = np.ldexp(D, -self.s)
            S = r * r - 2 * v + self.qn ** 2                                # ≈ ‖x − q‖²
            eps = ((2 * self.beta + self.beta ** 2) * xh ** 2 + 2 * self.alpha * xh * self.qn
                   + (self.d + 8) * _U64 * (xh + self.qn) ** 2 + self.d * 2.0 ** -1000)
            g = 1 + self.a64 + 8 * _U64
            tiny = np.sqrt(self.d) * 2.0 ** -530                            # float64 underflow in diff²
            lo = np.sqrt(np.maximum(S - eps, 0.0)) / g - tiny
            hi = np.sqrt(S + eps) * g + tiny
        hard |= ~(np.isfinite(lo) & np.isfinite(hi))
        lo[hard], hi[hard] = -np.inf, np.inf
        return lo, hi, hard


def _best(idx: np.ndarray, key: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest ``(key, idx)`` pairs, in order."""
    if key.shape[0] > 4 * k:                       # cut before sorting: rows past the k-th key cannot win
        keep = key <= np.partition(key, k - 1)[k - 1]
        idx, key = idx[keep], key[keep]
    order = np.lexsort((idx, key))[:k]
    return idx[order], key[order]


_CHUNK_BYTES = 1 << 28           # rows scored at a time: about this many bytes of them…
_CHUNK_ROWS = (8192, 1 << 20)    # …but at least and at most these many rows


def _default_chunk_rows(X: np.ndarray) -> int:
    """Rows per chunk of :func:`top_k`: about 256 MiB of ``X``, between 8,192 and 1,048,576 rows.

    Alone, the chunk size hardly matters (a million 384-dimensional rows take 0.15 s from 8,192 to
    262,144 rows a chunk on 2 cores). In a server it does: each chunk releases and takes back
    Python's GIL a few dozen times, and while another thread holds it (a web server encoding a large
    message) each taking back can wait its switch interval (5 ms). With 8,192-row chunks the same
    search then took 2.3 to 9.6 s, with 262,144-row chunks 0.5 to 1.1 s; the per-row arrays of a
    chunk stay small (a few float64 values a row).
    """
    rows = _CHUNK_BYTES // max(1, X.shape[1] * X.dtype.itemsize)
    return int(min(max(rows, _CHUNK_ROWS[0]), _CHUNK_ROWS[1]))


def _top_k(X: np.ndarray, q: np.ndarray, k: int, metric: str, chunk_rows: int,
           skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` on checked arguments (``skip`` sorted, non-negative)."""
    sign = 1.0 if metric == "euclidean" else -1.0                           # sort key: smaller is better
    fast = _FastPass(X.dtype, q, metric) if _FastPass.usable(q) else None
    if fast is not None and max(fast.alpha, fast.beta) > 0.25:             # millions of columns: no useful bound
        fast = None
    best_idx, best_key = np.empty(0, np.int64), np.empty(0, np.float64)
    n = X.shape[0]
    for start in range(0, n, chunk_rows):
        block = np.asarray(X[start:start + chunk_rows])                     # (b, d) view
        b = block.shape[0]
        if fast is None:
            lo, hi, hard = np.full(b, -np.inf), np.full(b, np.inf), np.ones(b, bool)
        else:
            lo, hi, hard = fast.intervals(block)
        gone = skip[np.searchsorted(skip, start):np.searchsorted(skip, start + b)] - start
        hi[gone] = np.inf                                                    # excluded rows do not set T
        pool = np.concatenate([best_key, hi])
        T = np.partition(pool, k - 1)[k - 1] if pool.shape[0] >= k else np.inf
        cand = lo <= T
        cand[gone] = False
        pos = np.flatnonzero(cand | hard)          # hard excluded rows too: NaN anywhere still raises
        if pos.shape[0] == 0:
            continue
        key = sign * _exact(block[pos], q, metric)
        if not np.all(np.isfinite(key)):
            raise _not_finite("X")
        keep = cand[pos]
        best_idx, best_key = _best(np.concatenate([best_idx, start + pos[keep]]),
                                   np.concatenate([best_key, key[keep]]), k)
    return best_idx, sign * best_key


def top_k(X, query, k: int = 10, metric: str = "cosine", chunk_rows: int | None = None,
          exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of ``X`` with the best float64 score against ``query``, exactly, ties by row index.

    Same answer as scoring every row with :func:`exact_scores` and sorting by (key, row index),
    but ``X`` (array or memmap) is read once in its own dtype; see the module docstring.

    Parameters
    ----------
    X : array_like, shape (n, d)
    query : array_like, shape (d,)
        Finite vector.
    k : int, default 10
        Number of rows, at least 1.
    metric : {"cosine", "dot", "euclidean"}
        Cosine similarity and dot product rank highest first; Euclidean distance lowest first.
    chunk_rows : int, optional
        Rows scored at a time; by default :func:`_default_chunk_rows` (about 256 MiB of them).
    exclude : iterable of int, optional
        Row indices (negative ones count from the end) to leave out.

    Returns
    -------
    indices : numpy.ndarray, shape (k',), int64
        Best first, k' = min(k, rows left).
    scores : numpy.ndarray, shape (k',), float64

    Raises
    ------
    ValueError
        If ``X`` is not a numeric matrix or holds NaN/inf (or values whose squares overflow), the
        query is not a finite vector of length d, or another argument is not accepted.
    """
    metric = as_choice(metric, "metric", METRICS)
    X = as_matrix(X)
    q = as_float_array(query, "query", ndim=1)
    if q.shape[0] != X.shape[1]:
        raise ValueError(f"query must be a vector of length {X.shape[1]}; got shape {q.shape}.")
    k = as_int(k, "k", 1)
    chunk_rows = _default_chunk_rows(X) if chunk_rows is None else as_int(chunk_rows, "chunk_rows", 1)
    n = X.shape[0]
    if exclude is None or isinstance(exclude, (int, np.integer)):
        exclude = [] if exclude is None else [exclude]
    try:
        skip = [as_int(i, "exclude", -n, n - 1) % n for i in exclude]
    except TypeError:
        raise ValueError(f"exclude must be a list of integer row indices; got {exclude!r:.60}.") from None
    return _top_k(X, np.ascontiguousarray(q), k, metric, chunk_rows, np.unique(np.asarray(skip, np.int64)))
