"""la_core.topk (and nearest_neighbors / analogy on top of it) against a brute-force float64 reference:
the same indices, order and bit-for-bit scores, on random data, exact ties, 1-ulp near-ties, odd scales,
and a constructed case that fails when the float32 error bound is made too small."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import la_core.topk as topk
from la_core.neighbors import analogy, nearest_neighbors
from la_core.topk import exact_scores, top_k

METRICS = ("cosine", "dot", "euclidean")


def _reference(X, q, k, metric, skip=()):
    """Every row scored in float64 (einsum: each row's sum in one fixed order), lexsorted by (key, index).

    None when a score is not finite (the function under test must raise then).
    """
    c = np.ascontiguousarray(X, np.float64)             # einsum sums a row in one order when rows are contiguous
    q = np.ascontiguousarray(q, np.float64)
    with np.errstate(all="ignore"):
        if metric == "euclidean":
            diff = c - q
            s = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        else:
            s = np.einsum("ij,j->i", c, q)
            if metric == "cosine":
                norms = np.sqrt(np.einsum("ij,ij->i", c, c)) * np.linalg.norm(q)
                s = np.divide(s, norms, out=np.zeros_like(s), where=norms != 0)
    key = s if metric == "euclidean" else -s
    if not np.all(np.isfinite(key)):
        return None
    idx = np.setdiff1d(np.arange(c.shape[0]), np.asarray(list(skip), np.int64) % c.shape[0])
    order = np.lexsort((idx, key[idx]))[:k]
    return idx[order], s[idx][order]


def _old_nearest(X, q, k, metric, chunk_rows=8192):
    """The float64 scan this module replaced (BLAS gemv per chunk, argpartition merge)."""
    sign = 1.0 if metric == "euclidean" else -1.0
    best_idx, best_key = np.empty(0, np.int64), np.empty(0)
    for i in range(0, X.shape[0], chunk_rows):
        c = np.asarray(X[i:i + chunk_rows], np.float64)
        if metric == "euclidean":
            s = np.sqrt(np.einsum("ij,ij->i", c - q, c - q))
        else:
            s = c @ q
            if metric == "cosine":
                s = s / (np.sqrt(np.einsum("ij,ij->i", c, c)) * np.linalg.norm(q))
        best_idx = np.concatenate([best_idx, np.arange(i, i + c.shape[0])])
        best_key = np.concatenate([best_key, sign * s])
        if best_key.shape[0] > k:
            part = np.argpartition(best_key, k - 1)[:k]
            best_idx, best_key = best_idx[part], best_key[part]
    order = np.lexsort((best_idx, best_key))
    return best_idx[order], sign * best_key[order]


def _check(X, q, k, metric, chunk_rows=8192, exclude=None):
    """top_k equals the reference exactly, or both refuse non-finite scores."""
    want = _reference(X, q, k, metric, exclude or ())
    if want is None:
        with pytest.raises(ValueError, match="NaN or infinite"):
            top_k(X, q, k, metric, chunk_rows=chunk_rows, exclude=exclude)
        return
    idx, score = top_k(X, q, k, metric, chunk_rows=chunk_rows, exclude=exclude)
    np.testing.assert_array_equal(idx, want[0])
    np.testing.assert_array_equal(score, want[1])
    assert idx.dtype == np.int64 and score.dtype == np.float64


# ------------------------------------------------------------------------------ random data
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_data_matches_reference(metric, dtype):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((6000, 48)) * rng.uniform(0.2, 3.0, (6000, 1))).astype(dtype)
    for q in (np.asarray(X[17], np.float64), rng.standard_normal(48), 1e-5 * rng.standard_normal(48)):
        for k, chunk in ((1, 8192), (10, 1000), (64, 777)):
            _check(X, q, k, metric, chunk_rows=chunk, exclude=[17, 3, 5999])


@pytest.mark.parametrize("metric", METRICS)
def test_same_indices_as_the_old_float64_scan(metric):
    """The old scan's BLAS gemv rounds a row differently depending on its chunk, so its scores can
    differ in the last bits; the ranking of distinct rows is the same."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20000, 96)).astype(np.float32)
    q = rng.standard_normal(96)
    old_idx, old_score = _old_nearest(X, q, 50, metric, chunk_rows=3000)
    idx, score = top_k(X, q, 50, metric, chunk_rows=3000)
    np.testing.assert_array_equal(idx, old_idx)
    np.testing.assert_allclose(score, old_score, rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------------------ ties and near-ties
def _tied(dtype, rng):
    """Rows with many exact duplicates, scaled copies and copies 1 ulp apart in one entry."""
    base = rng.standard_normal((5, 32)).astype(dtype)
    X = rng.standard_normal((3000, 32)).astype(dtype)
    X[100:600] = base[0]                                        # 500 exact duplicates
    X[700:900] = base[1]
    one_ulp = np.tile(base[0], (200, 1))
    cols = rng.integers(0, 32, 200)
    one_ulp[np.arange(200), cols] = np.nextafter(one_ulp[np.arange(200), cols], dtype(np.inf))
    X[1000:1200] = one_ulp                                      # each 1 ulp from base[0]
    X[1300:1400] = base[0] * dtype(2)                           # same cosine, twice the length
    X[2000:2050] = 0                                            # zero rows
    return X, base


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_ties_and_one_ulp_near_ties(metric, dtype):
    X, base = _tied(dtype, np.random.default_rng(2))
    for q in (base[0].astype(np.float64), base[0] + 1e-3, base[1].astype(np.float64)):
        for k in (1, 7, 300, 650):
            _check(X, q, k, metric, chunk_rows=512, exclude=[100, 1000])


def test_ties_are_broken_by_row_index():
    X, base = _tied(np.float32, np.random.default_rng(3))
    idx, score = top_k(X, base[0].astype(np.float64), 5, "euclidean")
    np.testing.assert_array_equal(idx, [100, 101, 102, 103, 104])
    assert np.all(score == 0)


def _near_ties(metric):
    """300 different rows whose float64 scores agree to about 1e-9 relative (same cosine, dot or
    distance before rounding to float32) above 2,000 worse rows: float32 scores misrank them."""
    rng = np.random.default_rng(4)
    d = 384
    q = rng.standard_normal(d)
    qh = q / np.linalg.norm(q)
    Z = rng.standard_normal((300, d))
    Z -= np.outer(Z @ qh, qh)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)                  # unit, orthogonal to q
    if metric == "euclidean":
        ties, filler = q + 0.5 * np.linalg.norm(q) * Z, q + rng.standard_normal((2000, d))
    else:
        ties, filler = 3.0 * (0.9 * qh + np.sqrt(0.19) * Z), rng.standard_normal((2000, d)) * 3.0 / np.sqrt(d)
    return np.vstack([filler, ties]).astype(np.float32), q


@pytest.mark.parametrize("metric", METRICS)
def test_near_ties_need_the_error_bound(metric, monkeypatch):
    """With the bound the answer is exact; with it shrunk 1,000-fold (or to nothing) it is not, so
    this case would catch a bound that is too small. (Float32 errors here reach about 1/300 of the
    bound: the bound is for the worst case, torch's blocked sums do better.)"""
    X, q = _near_ties(metric)
    _check(X, q, 10, metric, chunk_rows=1000)
    want = _reference(X, q, 10, metric)
    for too_small in (0.0, 1e-3):
        monkeypatch.setattr(topk, "_SAFETY", too_small)
        idx, score = top_k(X, q, 10, metric, chunk_rows=1000)
        assert not np.array_equal(idx, want[0]), f"shrinking the bound to {too_small}× did not change the answer"


def test_reduced_precision_matmul_widens_the_bound():
    X, q = _near_ties("cosine")
    old = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium")
        assert topk._matmul_roundoff(torch.device("cpu"), torch.float32) == 2.0 ** -8
        _check(X, q, 10, "cosine")
    finally:
        torch.set_float32_matmul_precision(old)
    assert topk._matmul_roundoff(torch.device("cpu"), torch.float32) == 0.0


# ------------------------------------------------------------------------------ edges
@pytest.mark.parametrize("metric", METRICS)
def test_k_larger_than_n_exclusions_and_odd_scales(metric):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 6)).astype(np.float32)
    X[3] = 3e38                                          # float32 squares overflow: scored in float64
    X[4] = 1e-30                                         # float32 squares underflow
    X[5] = 0
    for q in (rng.standard_normal(6), np.zeros(6), np.full(6, 1e-310), np.full(6, 1e200), X[4].astype(np.float64)):
        _check(X, q, 100, metric, chunk_rows=7, exclude=[0, -1])
        _check(X, q, 3, metric, chunk_rows=7)
    idx, score = top_k(X, np.ones(6), 5, metric, exclude=range(40))
    assert idx.shape == score.shape == (0,)


@pytest.mark.parametrize("metric", METRICS)
def test_non_finite_rows_raise_even_when_excluded(metric):
    X = np.random.default_rng(6).standard_normal((5000, 8)).astype(np.float32)
    for bad in (np.nan, np.inf):
        Y = X.copy()
        Y[4321, 2] = bad
        for exclude in (None, [4321]):
            with pytest.raises(ValueError, match="NaN or infinite"):
                top_k(Y, X[0], 5, metric, chunk_rows=1000, exclude=exclude)
        with pytest.raises(ValueError, match="X contains NaN"):
            nearest_neighbors(Y, 4321, metric=metric)


def test_memmap_and_non_contiguous_input(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3000, 20)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    M = np.load(tmp_path / "x.npy", mmap_mode="r")
    q = rng.standard_normal(20)
    for A in (M, np.asfortranarray(X), X[::-1], X[:, ::2]):
        for metric in METRICS:
            _check(A, q[:A.shape[1]], 12, metric, chunk_rows=500)


def test_neighbors_and_analogy_use_the_exact_ranking():
    X, base = _tied(np.float32, np.random.default_rng(8))
    for metric in METRICS:
        idx, score = nearest_neighbors(X, 100, k=20, metric=metric, exclude=[101])
        want = _reference(X, X[100], 20, metric, [100, 101])
        np.testing.assert_array_equal(idx, want[0])
        np.testing.assert_array_equal(score, want[1])
    pos, neg = [10, 1300], [20]
    U = np.asarray(X[pos + neg], np.float64)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    t = (U[0] + U[1] - U[2]) / 3
    want = _reference(X, t / np.linalg.norm(t), 15, "cosine", pos + neg)
    idx, score = analogy(X, pos, neg, k=15)
    np.testing.assert_array_equal(idx, want[0])
    np.testing.assert_array_equal(score, want[1])


def test_exact_scores_and_argument_checks():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((50, 7))
    q = rng.standard_normal(7)
    for metric in METRICS:
        full = exact_scores(X, q, metric)
        np.testing.assert_array_equal(exact_scores(X[[3, 40, 41]], q, metric), full[[3, 40, 41]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        exact_scores(np.full((2, 7), 1e300), q * 1e300, "dot")
    for call, msg in ((lambda: top_k(X, q, 0), "k must be at least 1"),
                      (lambda: top_k(X, q, metric="manhattan"), "metric"),
                      (lambda: top_k(X, q[:3]), "length 7"),
                      (lambda: top_k(X, q, exclude=[50]), "exclude must be at most 49"),
                      (lambda: top_k(X, q, exclude=[1.0]), "integer"),
                      (lambda: top_k(X, q, exclude=object()), "list of integer"),
                      (lambda: top_k(X, q, chunk_rows=0), "chunk_rows")):
        with pytest.raises(ValueError, match=msg):
            call()
    np.testing.assert_array_equal(top_k(X, q, 3, exclude=np.int64(-1))[0], top_k(X, q, 3, exclude=[49])[0])


# ------------------------------------------------------------------------------ property
_values = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 1 + 2 ** -23, 3.0, 1e-20]),
                    st.floats(-10, 10, width=32))


@st.composite
def _problems(draw):
    n, d = draw(st.integers(1, 40)), draw(st.integers(1, 6))
    X = draw(hnp.arrays(draw(st.sampled_from([np.float32, np.float64])), (n, d), elements=_values))
    query = draw(st.one_of(st.integers(0, n - 1), hnp.arrays(np.float64, d, elements=_values)))
    exclude = draw(st.lists(st.integers(0, n - 1), max_size=4))
    return X, query, exclude


@settings(max_examples=150, deadline=None)
@given(problem=_problems(), metric=st.sampled_from(METRICS), k=st.integers(1, 12), chunk=st.integers(1, 16))
def test_property_matches_brute_force(problem, metric, k, chunk):
    X, query, exclude = problem
    if isinstance(query, int):
        want = _reference(X, X[query], k, metric, exclude + [query])
        idx, score = nearest_neighbors(X, query, k=k, metric=metric, chunk_rows=chunk, exclude=exclude)
    else:
        want = _reference(X, query, k, metric, exclude)
        idx, score = top_k(X, query, k, metric, chunk_rows=chunk, exclude=exclude)
    np.testing.assert_array_equal(idx, want[0])
    np.testing.assert_array_equal(score, want[1])


def test_default_chunks_hold_about_256_mib_of_rows():
    from la_core.topk import _default_chunk_rows

    assert _default_chunk_rows(np.empty((10, 384), np.float32)) == (1 << 28) // (384 * 4)
    assert _default_chunk_rows(np.empty((10, 2), np.float64)) == 1 << 20          # at most a million rows
    assert _default_chunk_rows(np.empty((10, 100_000), np.float64)) == 8192       # at least 8,192
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 3)).astype(np.float32)
    q = rng.normal(size=3)
    for metric in ("cosine", "dot", "euclidean"):                                  # one chunk or many: same answer
        a = top_k(X, q, 15, metric)
        b = top_k(X, q, 15, metric, chunk_rows=1000)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
