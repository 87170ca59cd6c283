"""Exact nearest neighbours, analogies and semantic axes of embeddings, plus display helpers.

Every function uses every row of ``X`` (NumPy array or memmap, shape (n, d)), streaming it in row
chunks where all rows are scored, so memory stays near one chunk (neighbours are ranked by
:mod:`la_core.topk`). :func:`sample_indices` picks the rows to draw and :func:`view_trustworthiness`
scores how faithful a low-dimensional view is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from la_core.checks import as_choice, as_float_array, as_int, as_matrix
from la_core.topk import METRICS, _not_finite, top_k

__all__ = ["METRICS", "Neighbors", "nearest_neighbors", "analogy", "SemanticAxis", "SemanticAxes",
           "semantic_axis", "semantic_axes", "sample_indices", "Trustworthiness", "view_trustworthiness"]

class Neighbors(NamedTuple):
    """Rows closest to a query, best first (unpacks as ``indices, scores``).

    Attributes
    ----------
    indices : numpy.ndarray, shape (k',), int64
        Row indices, best first.
    scores : numpy.ndarray, shape (k',), float64
        Similarity (cosine, dot: higher is closer) or distance (euclidean: lower is closer).
    """

    indices: np.ndarray
    scores: np.ndarray


class SemanticAxis(NamedTuple):
    """Coordinates of every row on one semantic axis (unpacks as ``coords, direction``).

    Attributes
    ----------
    coords : numpy.ndarray, shape (n,), float64
        ``X @ direction``.
    direction : numpy.ndarray, shape (d,), float64
        Unit vector from the centroid of ``group_b`` towards that of ``group_a``.
    """

    coords: np.ndarray
    direction: np.ndarray


@dataclass
class SemanticAxes:
    """Coordinates of every row on one or two semantic axes.

    Attributes
    ----------
    coords : numpy.ndarray, shape (n, m)
        ``X @ directions.T`` (m = 1 or 2 axes).
    directions : numpy.ndarray, shape (m, d)
        Orthonormal axis directions (the second made orthogonal to the first by Gram–Schmidt).
    raw_cosine : float or None
        Cosine between the two centroid differences before orthogonalisation (None for one axis).
    """

    coords: np.ndarray
    directions: np.ndarray
    raw_cosine: float | None


class Trustworthiness(NamedTuple):
    """Trustworthiness of a view on a sample of rows (unpacks as ``score, n_used``).

    Attributes
    ----------
    score : float
        scikit-learn's trustworthiness, in [0, 1].
    n_used : int
        Rows sampled.
    """

    score: float
    n_used: int


# --------------------------------------------------------------------------------- neighbours
def _query_vector(X: np.ndarray, query, name: str = "query") -> tuple[np.ndarray, int | None]:
    """The query as a float64 vector, and its row index when it was given as one."""
    if isinstance(query, (int, np.integer)) and not isinstance(query, (bool, np.bool_)):
        i = _indices([query], X.shape[0], name)[0]
        return np.asarray(X[i], np.float64), i
    q = as_float_array(query, name) if not isinstance(query, str) else None
    if q is None or q.ndim != 1 or q.shape[0] != X.shape[1]:
        raise ValueError(f"{name} must be a row index or a vector of length {X.shape[1]}; got {query!r:.60}.")
    return q, None


def nearest_neighbors(X, query, k: int = 10, metric: str = "cosine", chunk_rows: int | None = None,
                      exclude=None) -> Neighbors:
    """The k rows of ``X`` closest to ``query``, exactly, streaming over row chunks.

    Exact means the float64 scores of :func:`la_core.topk.exact_scores`, best first, ties broken by
    row index; :func:`la_core.topk.top_k` finds them with one float32 pass over float32 data plus a
    float64 rescore of the few rows its error bound cannot rule out.

    Parameters
    ----------
    X : array_like, shape (n, d)
    query : int or array_like, shape (d,)
        A row index (that row is excluded from the result) or a vector.
    k, metric, chunk_rows, exclude
        As for :func:`la_core.topk.top_k` (cosine and dot rank highest first, Euclidean lowest).

    Returns
    -------
    Neighbors
        ``indices`` (k',) int64 and ``scores`` (k',) float64, k' = min(k, rows left), best first.

    Raises
    ------
    ValueError
        If ``X`` is not a numeric matrix or holds NaN/inf, the query is out of range or of the
        wrong length, or ``k``, ``metric`` or ``chunk_rows`` is not accepted.
    """
    metric = as_choice(metric, "metric", METRICS)
    X = as_matrix(X)
    q, qi = _query_vector(X, query)
    k = as_int(k, "k", 1)
    skip = [] if exclude is None else _indices(exclude, X.shape[0], "exclude")
    if qi is not None:
        if not np.all(np.isfinite(q)):
            raise _not_finite("X")
        skip.append(qi)
    return Neighbors(*top_k(X, q, k=k, metric=metric, chunk_rows=chunk_rows, exclude=skip))


def _unit_rows(X: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, n, out=np.zeros_like(X), where=n > 0)


def _indices(group, n: int, name: str) -> list[int]:
    """Row indices in ``[-n, n)`` (one int or a sequence), as non-negative ints."""
    if isinstance(group, (int, np.integer)):
        group = [group]
    try:
        out = [as_int(i, name) for i in group]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of integer row indices; got {group!r:.60}.") from None
    for i in out:
        if not -n <= i < n:
            raise ValueError(f"{name} row index {i} is out of range for {n} rows.")
    return [i % n for i in out]


def analogy(X, positive, negative=(), k: int = 10, chunk_rows: int | None = None) -> Neighbors:
    """Word-vector analogy in gensim's ``most_similar`` convention.

    ``king - man + woman`` is ``positive=[king, woman], negative=[man]``: each input row is
    L2-normalised, weighted +1 (positive) or -1 (negative), averaged and normalised; the result is
    ranked by cosine similarity to every row, leaving the input rows out.

    Parameters
    ----------
    X : array_like, shape (n, d)
    positive, negative : sequence of int
        Row indices.
    k : int
        Number of answers, at least 1.
    chunk_rows : int, optional
        Rows scored at a time (see :func:`la_core.topk.top_k`).

    Returns
    -------
    Neighbors
        ``indices`` (k',) int64 and ``scores`` (k',) float64, the cosine similarity to the combined
        direction, best first.

    Raises
    ------
    ValueError
        If a row index is out of range, no row is given, or the rows cancel out exactly.
    """
    X = as_matrix(X)
    n = X.shape[0]
    pos = _indices(positive, n, "positive")
    neg = _indices(negative, n, "negative")
    if not pos and not neg:
        raise ValueError("analogy needs at least one positive or negative row.")
    rows = _unit_rows(np.asarray(X[pos + neg], np.float64))                 # (p+m, d)
    weights = np.array([1.0] * len(pos) + [-1.0] * len(neg))
    target = (weights[:, None] * rows).mean(0)                              # (d,)
    norm = np.linalg.norm(target)
    if norm == 0:
        raise ValueError("the positive and negative rows cancel out exactly (or are zero vectors); "
                         "pick different words.")
    return nearest_neighbors(X, target / norm, k=k, metric="cosine", exclude=pos + neg, chunk_rows=chunk_rows)


# --------------------------------------------------------------------------------- semantic axes
def semantic_axis(X, group_a, group_b, orthogonal_to=None) -> SemanticAxis:
    """Project every row onto the direction from the centroid of ``group_b`` to that of ``group_a``.

    Parameters
    ----------
    X : array_like, shape (n, d)
    group_a, group_b : sequence of int
        Anchor row indices (e.g. ``man, king, he`` vs ``woman, queen, she``).
    orthogonal_to : array_like, shape (d,), optional
        A direction to remove first (Gram–Schmidt), for a second axis.

    Returns
    -------
    SemanticAxis
        ``coords`` (n,) and the unit ``direction`` (d,).

    Raises
    ------
    ValueError
        If an anchor is out of range, a group is empty, the two centroids coincide (after removing
        ``orthogonal_to``), or the data hold NaN/inf.
    """
    X = as_matrix(X)
    n, d = X.shape
    a = _indices(group_a, n, "group_a")
    b = _indices(group_b, n, "group_b")
    if not a or not b:
        raise ValueError("each side of a semantic axis needs at least one anchor row.")
    u = None
    if orthogonal_to is not None:
        u = as_float_array(orthogonal_to, "orthogonal_to", ndim=1)
        if u.shape[0] != d:
            raise ValueError(f"orthogonal_to must be a vector of length {d}; got shape {u.shape}.")
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.asarray(X[a], np.float64).mean(0) - np.asarray(X[b], np.float64).mean(0)   # (d,)
        if u is not None:
            u = u / np.linalg.norm(u)
            v = v - (v @ u) * u
        norm = np.linalg.norm(v)
    if not np.isfinite(norm):
        raise _not_finite("X (anchor rows)")
    if norm <= 1e-12 * max(1.0, float(np.abs(X[a + b]).max())):
        raise ValueError("the two anchor groups have the same centroid (or the axis lies along the first one); "
                         "pick anchors that differ.")
    v = v / norm
    with np.errstate(over="ignore", invalid="ignore"):
        coords = np.asarray(X @ v.astype(X.dtype), np.float64)                 # (n,)
    if not np.all(np.isfinite(coords)):
        raise _not_finite("X")
    return SemanticAxis(coords, v)


def semantic_axes(X, axis1, axis2=None) -> SemanticAxes:
    """One or two semantic axes, the second made orthogonal to the first.

    Parameters
    ----------
    X : array_like, shape (n, d)
    axis1 : pair of sequences of int
        ``(group_a, group_b)`` anchor rows of the first axis (see :func:`semantic_axis`).
    axis2 : pair of sequences of int, optional
        The same for a second axis.

    Returns
    -------
    SemanticAxes
        Coordinates, orthonormal directions and the cosine before orthogonalisation.

    Raises
    ------
    ValueError
        If an axis is not a pair of row-index lists, or as :func:`semantic_axis`.
    """
    for name, ax in (("axis1", axis1), ("axis2", axis2)):
        if (ax is not None or name == "axis1") and (not isinstance(ax, (tuple, list)) or len(ax) != 2):
            raise ValueError(f"{name} must be a pair (group_a, group_b) of row-index lists; got {ax!r}.")
    c1, v1 = semantic_axis(X, *axis1)
    if axis2 is None:
        return SemanticAxes(c1[:, None], v1[None, :], None)
    X = as_matrix(X)
    raw = np.asarray(X[_indices(axis2[0], X.shape[0], "group_a")], np.float64).mean(0) - \
        np.asarray(X[_indices(axis2[1], X.shape[0], "group_b")], np.float64).mean(0)
    rn = np.linalg.norm(raw)
    raw_cos = float(raw @ v1 / rn) if rn > 0 else 0.0
    c2, v2 = semantic_axis(X, *axis2, orthogonal_to=v1)
    return SemanticAxes(np.stack([c1, c2], 1), np.stack([v1, v2]), raw_cos)


# --------------------------------------------------------------------------------- display helpers
def sample_indices(n: int, cap: int, seed: int = 0) -> np.ndarray:
    """Sorted uniform random sample of ``min(n, cap)`` row indices (all rows when ``n <= cap``).

    Parameters
    ----------
    n : int
        Number of rows, at least 0.
    cap : int
        Largest sample, at least 1.
    seed : int, default 0
        Seed of the generator: the same arguments give the same sample.

    Returns
    -------
    numpy.ndarray, shape (min(n, cap),), int64
        Increasing row indices.
    """
    n, cap = as_int(n, "n", 0, 2**40), as_int(cap, "cap", 1, 2**40)
    seed = as_int(seed, "seed", 0)
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=cap, replace=False))


def view_trustworthiness(X, Y, n_neighbors: int = 10, max_rows: int = 2000, seed: int = 0,
                         metric: str = "euclidean") -> Trustworthiness:
    """How faithful a low-dimensional view ``Y`` of ``X`` is: scikit-learn's trustworthiness on a sample.

    1 means every point's k nearest neighbours in the view were also near it in the original space;
    values fall towards 0.5 (random) as the view invents neighbours.

    Parameters
    ----------
    X : array_like, shape (n, d)
        The original rows.
    Y : array_like, shape (n, m)
        Their coordinates in the view.
    n_neighbors : int, default 10
        Neighbours compared (fewer when the sample is small).
    max_rows : int, default 2000
        Rows sampled at most (:func:`sample_indices`).
    seed : int, default 0
    metric : {"euclidean", "cosine"}
        Distances in the original space (cosine: Euclidean between unit rows).

    Returns
    -------
    Trustworthiness
        ``score`` and ``n_used``, the number of rows sampled.

    Raises
    ------
    ValueError
        If ``X`` and ``Y`` differ in rows, fewer than 4 rows are sampled, or an argument is not accepted.
    """
    from sklearn.manifold import trustworthiness

    X = as_matrix(X)
    Y = as_matrix(Y, name="Y")
    n_neighbors = as_int(n_neighbors, "n_neighbors", 1)
    metric = as_choice(metric, "metric", ("euclidean", "cosine"))
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y need the same rows; got {X.shape[0]} and {Y.shape[0]}.")
    idx = sample_indices(X.shape[0], max_rows, seed)
    m = len(idx)
    k = min(n_neighbors, max(1, m // 2 - 1))
    if m < 4:
        raise ValueError(f"trustworthiness needs at least 4 rows; got {m}.")
    Xs = np.asarray(X[idx], np.float64)
    if metric == "cosine":
        Xs = _unit_rows(Xs)
    return Trustworthiness(float(trustworthiness(Xs, np.asarray(Y[idx], np.float64), n_neighbors=k)), m)
