"""la_core.pca against scikit-learn and brute-force NumPy, plus hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.decomposition import PCA as SkPCA
from sklearn.manifold import trustworthiness

from la_core import pca as lp
from la_core.pca import PCA, analogy, nearest_neighbors, semantic_axes, semantic_axis


def _data(n, d, seed=0, offset=3.0, rank=None):
    rng = np.random.default_rng(seed)
    scales = np.linspace(4.0, 0.2, d)
    X = rng.standard_normal((n, d)) * scales + offset
    if rank is not None:
        X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) + offset
    return X


@pytest.mark.parametrize("n,d,k,rank", [(40, 120, 5, None),      # n < d
                                        (3000, 48, 3, None),     # n >> d
                                        (200, 30, 4, 6),         # rank-deficient
                                        (500, 16, 16, None)])    # every component
def test_matches_sklearn(n, d, k, rank):
    X = _data(n, d, seed=n, rank=rank)
    ours = PCA(k).fit(X)
    ref = SkPCA(k, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-5)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-5)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-5)
    np.testing.assert_allclose(ours.mean_, ref.mean_, atol=1e-10)
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-6)   # same svd_flip signs
    assert ours.components_.shape == (k, d) and ours.n_samples_ == n and ours.n_features_in_ == d
    new = _data(25, d, seed=99)
    np.testing.assert_allclose(ours.transform(new), ref.transform(new), atol=1e-6)


def test_rank_deficient_spectrum_is_zero_beyond_rank():
    X = _data(200, 30, rank=4)
    p = PCA(8).fit(X)
    assert np.all(p.explained_variance_ratio_[4:] < 1e-10)
    np.testing.assert_allclose(p.explained_variance_ratio_[:4].sum(), 1.0, rtol=1e-9)


def test_float32_matches_sklearn_on_float64():
    X = _data(20000, 64, seed=3, offset=10.0).astype(np.float32)   # big offset: shift stops cancellation
    ours = PCA(3).fit(X)
    ref = SkPCA(3, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-5)
    np.testing.assert_allclose(np.abs(ours.components_ @ ref.components_.T), np.eye(3), atol=1e-4)
    assert ours.transform(X).dtype == np.float32


def test_chunked_moments_equal_one_shot():
    X = _data(1000, 12, seed=4)
    shift = X[:10].mean(0)
    s, G = lp._gram_moments(X, shift=shift, chunk_rows=37)
    np.testing.assert_allclose(G, (X - shift).T @ (X - shift), rtol=1e-10)
    np.testing.assert_allclose(s, (X - shift).sum(0), rtol=1e-10, atol=1e-9)


def test_fit_from_moments_is_the_same_fit():
    X = _data(300, 10, seed=5)
    a = PCA(3).fit(X)
    b = PCA(3)._fit_from_moments(X.shape[0], X.sum(0), X.T @ X)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-8)
    np.testing.assert_allclose(a.explained_variance_, b.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(a.mean_, b.mean_, atol=1e-10)


def test_constant_column_and_zero_variance():
    X = _data(100, 6, seed=6)
    X[:, 2] = 7.0
    ours = PCA(6).fit(X)
    ref = SkPCA(6).fit(X)
    np.testing.assert_allclose(ours.explained_variance_ratio_[:5], ref.explained_variance_ratio_[:5], rtol=1e-5)
    assert abs(ours.explained_variance_ratio_[5]) < 1e-12 and np.all(np.isfinite(ours.components_))
    flat = np.full((10, 4), 3.0)
    p = PCA(2).fit(flat)
    assert np.all(p.explained_variance_ratio_ == 0) and np.all(np.isfinite(p.transform(flat)))


def test_uncentred_is_the_svd_of_raw_data():
    X = _data(80, 10, seed=7, offset=2.0)
    p = PCA(3, center=False).fit(X)
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(p.singular_values_, S[:3], rtol=1e-8)
    np.testing.assert_allclose(np.abs(p.components_ @ Vt[:3].T), np.eye(3), atol=1e-8)
    np.testing.assert_allclose(p.explained_variance_ratio_, S[:3] ** 2 / (S ** 2).sum(), rtol=1e-8)
    np.testing.assert_allclose(p.transform(X), X @ p.components_.T, atol=1e-8)
    assert np.all(p.mean_ == 0)
    # with a large offset, uncentred PC1 points at the mean; centred PC1 does not have to
    m = X.mean(0) / np.linalg.norm(X.mean(0))
    assert abs(p.components_[0] @ m) > 0.9


def test_uncentred_matches_sklearn_on_centred_data():
    X = _data(150, 8, seed=8)
    X = X - X.mean(0)
    a = PCA(3, center=False).fit(X)
    b = SkPCA(3).fit(X)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-8)
    np.testing.assert_allclose(a.explained_variance_ratio_, b.explained_variance_ratio_, rtol=1e-8)


@pytest.mark.parametrize("bad,match", [
    (np.ones(5), "2-D"), (np.ones((1, 4)), "at least 2 row"), (np.array([[1.0, np.nan], [2, 3]]), "NaN"),
    (np.array([[1.0, np.inf], [2, 3]]), "NaN or infinite"), (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    (np.array([[1e200, -1e200], [-1e200, 1e200], [0.0, 0.0]]), "overflow"),
])
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        PCA(1).fit(bad)


def test_bad_n_components_and_unfitted():
    X = _data(10, 4)
    with pytest.raises(ValueError, match="between 1 and"):
        PCA(5).fit(X)
    with pytest.raises(ValueError, match="integer"):
        PCA(1.5).fit(X)
    with pytest.raises(ValueError, match="not fitted"):
        PCA(2).transform(X)
    with pytest.raises(ValueError, match="features"):
        PCA(2).fit(X).transform(np.ones((3, 5)))


# ------------------------------------------------------------------------------ neighbours
def _brute(X, q, metric):
    if metric == "cosine":
        s = X @ q / (np.linalg.norm(X, axis=1) * np.linalg.norm(q))
        return s, -s
    if metric == "dot":
        s = X @ q
        return s, -s
    s = np.linalg.norm(X - q, axis=1)
    return s, s


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_neighbors_vs_brute_force(metric):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 16)).astype(np.float32)
    idx, score = nearest_neighbors(X, 17, k=7, metric=metric, chunk_rows=333)
    s, key = _brute(X.astype(np.float64), X[17].astype(np.float64), metric)
    key[17] = np.inf
    want = np.argsort(key, kind="stable")[:7]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(score, s[want], rtol=1e-6)
    assert 17 not in idx
    q = rng.standard_normal(16)
    idx2, score2 = nearest_neighbors(X, q, k=3, metric=metric)
    s, key = _brute(X.astype(np.float64), q, metric)
    np.testing.assert_array_equal(idx2, np.argsort(key, kind="stable")[:3])


def test_neighbors_bad_input():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbors(X, 0, metric="manhattan")
    with pytest.raises(ValueError, match="out of range"):
        nearest_neighbors(X, 9)
    with pytest.raises(ValueError, match="length 3"):
        nearest_neighbors(X, np.ones(5))
    with pytest.raises(ValueError, match="positive integer"):
        nearest_neighbors(X, 0, k=0)


# ------------------------------------------------------------------------------ analogy
def test_analogy_on_constructed_data():
    # words = gender ± royalty offsets on a few independent directions
    rng = np.random.default_rng(2)
    base, gender, royal = rng.standard_normal((3, 50))
    noise = lambda: 0.05 * rng.standard_normal(50)  # noqa: E731
    words = {"man": base + gender, "woman": base - gender, "king": base + gender + royal,
             "queen": base - gender + royal, "boy": 0.5 * base + gender}
    words.update({f"filler{i}": rng.standard_normal(50) for i in range(30)})
    names = list(words)
    X = np.stack([words[w] + noise() for w in names])
    idx, score = analogy(X, positive=[names.index("king"), names.index("woman")], negative=[names.index("man")], k=3)
    assert names[idx[0]] == "queen"
    assert not {names.index("king"), names.index("woman"), names.index("man")} & set(idx.tolist())
    # gensim's formula by hand
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    t = (U[names.index("king")] + U[names.index("woman")] - U[names.index("man")]) / 3
    t /= np.linalg.norm(t)
    np.testing.assert_allclose(score[0], U[idx[0]] @ t, rtol=1e-9)


def test_analogy_bad_input():
    X = np.eye(4)
    with pytest.raises(ValueError, match="cancel"):
        analogy(X, [0], [0])
    with pytest.raises(ValueError, match="out of range"):
        analogy(X, [7], [1])


# ------------------------------------------------------------------------------ semantic axes
def test_semantic_axes_orthogonal_and_projection():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 8))
    res = semantic_axes(X, ([0, 1], [2, 3]), ([4, 5], [6]))
    np.testing.assert_allclose(res.directions @ res.directions.T, np.eye(2), atol=1e-12)
    v1 = X[[0, 1]].mean(0) - X[[2, 3]].mean(0)
    np.testing.assert_allclose(res.directions[0], v1 / np.linalg.norm(v1), atol=1e-12)
    np.testing.assert_allclose(res.coords, X @ res.directions.T, atol=1e-12)
    v2 = X[[4, 5]].mean(0) - X[[6]].mean(0)
    assert res.raw_cosine == pytest.approx(v1 @ v2 / np.linalg.norm(v1) / np.linalg.norm(v2))
    c, v = semantic_axis(X, [0], [2])
    assert c[0] > c[2]        # group a lands on the positive side
    with pytest.raises(ValueError, match="same centroid"):
        semantic_axis(X, [0, 1], [1, 0])


def test_trustworthiness_matches_sklearn_and_sample():
    X = _data(300, 10, seed=9)
    Y = PCA(2).fit_transform(X)
    score, used = lp.view_trustworthiness(X, Y, n_neighbors=5, max_rows=1000)
    assert used == 300 and score == pytest.approx(trustworthiness(X, Y, n_neighbors=5))
    assert lp.view_trustworthiness(X, Y, max_rows=100)[1] == 100
    s = lp.sample_indices(10**6, 1000, seed=0)
    assert len(s) == 1000 and np.all(np.diff(s) > 0)
    np.testing.assert_array_equal(s, lp.sample_indices(10**6, 1000, seed=0))


# ------------------------------------------------------------------------------ properties
matrices = hnp.arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(2, 8)),
                      elements=st.floats(-100, 100, allow_nan=False, width=32))


@settings(max_examples=40, deadline=None)
@given(X=matrices, k=st.integers(1, 2))
def test_properties(X, k):
    p = PCA(k).fit(X)
    assert np.all(np.isfinite(p.components_)) and np.all(np.isfinite(p.explained_variance_ratio_))
    r = p.explained_variance_ratio_
    assert np.all(r >= -1e-12) and r.sum() <= 1 + 1e-9 and np.all(np.diff(r) <= 1e-9)
    if p.explained_variance_[-1] > 1e-6 * max(1.0, p.explained_variance_[0]):
        np.testing.assert_allclose(p.components_ @ p.components_.T, np.eye(k), atol=1e-6)
        # total variance: sum of variances of the projections equals explained variance
        Z = p.transform(X)
        np.testing.assert_allclose(Z.var(0, ddof=1), p.explained_variance_,
                                   rtol=1e-6, atol=1e-6 * p.explained_variance_[0] + 1e-9)
    # translation invariance of centred PCA
    q = PCA(k).fit(X + 1000.0)
    np.testing.assert_allclose(q.explained_variance_, p.explained_variance_, rtol=1e-4,
                               atol=1e-6 * max(1.0, p.explained_variance_[0]))


@settings(max_examples=30, deadline=None)
@given(X=matrices, metric=st.sampled_from(["cosine", "dot", "euclidean"]), k=st.integers(1, 5))
def test_neighbors_property(X, metric, k):
    idx, score = nearest_neighbors(X, 0, k=k, metric=metric)
    assert 0 not in idx and len(idx) == min(k, X.shape[0] - 1) and len(set(idx.tolist())) == len(idx)
    assert np.all(np.isfinite(score))
    assert np.all(np.diff(score) >= -1e-12) if metric == "euclidean" else np.all(np.diff(score) <= 1e-12)


def test_shift_only_when_the_mean_dominates():
    X = _data(500, 8, offset=0.0)
    assert lp._needs_shift(X) is None
    far = X + 50.0
    np.testing.assert_allclose(lp._needs_shift(far), far[:500].mean(0))
    # either path gives the same exact PCA
    np.testing.assert_allclose(PCA(3).fit(far).explained_variance_, PCA(3).fit(X).explained_variance_, rtol=1e-9)
    assert lp._needs_shift(X, always=True) is not None


def test_dask_array_goes_through_the_moments_hook():
    da = pytest.importorskip("dask.array")
    pytest.importorskip("la_core.pca_dask")
    X = _data(900, 12, seed=11)
    D = da.from_array(X, chunks=(200, 12))
    a, b = PCA(3).fit(D), PCA(3).fit(X)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-8)
    np.testing.assert_allclose(a.explained_variance_ratio_, b.explained_variance_ratio_, rtol=1e-9)
    Z = a.transform(D)
    Z = Z.compute() if hasattr(Z, "compute") else Z
    np.testing.assert_allclose(Z, b.transform(X), atol=1e-8)


awkward = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                     elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf, 1e300, 0.0])))


@settings(max_examples=50, deadline=None)
@given(X=awkward, k=st.one_of(st.integers(-1, 6), st.none()), center=st.booleans())
def test_fuzz_fit_and_axes(X, k, center):
    """Anything: a finite result or ValueError with a message, never another exception or NaN."""
    try:
        p = PCA(k, center=center).fit(X)
    except ValueError as exc:
        assert str(exc)
    else:
        for v in (p.components_, p.explained_variance_ratio_, p.singular_values_, p.transform(X)):
            assert np.all(np.isfinite(v))
    try:
        res = semantic_axes(X, ([0], [1]), ([1], [2]))
    except ValueError as exc:
        assert str(exc)
    else:
        assert np.all(np.isfinite(res.coords))


# ---------------------------------------------------------------- fewer rows than features: the n×n path
@pytest.mark.parametrize("n,d,k", [(60, 3000, 5), (60, 3000, 60), (2500, 2100, 3)])
def test_row_gram_path_matches_sklearn(n, d, k):
    X = _data(n, d, seed=d + k, offset=3.0)
    ours = PCA(k).fit(X)
    ref = SkPCA(k, svd_solver="full").fit(X)
    m = min(k, n - 1)                                  # centred data of n rows have rank ≤ n − 1
    np.testing.assert_allclose(ours.explained_variance_ratio_[:m], ref.explained_variance_ratio_[:m], rtol=1e-6)
    np.testing.assert_allclose(ours.singular_values_[:m], ref.singular_values_[:m], rtol=1e-6)
    np.testing.assert_allclose(ours.components_[:m], ref.components_[:m], atol=1e-6)
    np.testing.assert_allclose(ours.mean_, ref.mean_, atol=1e-10)
    np.testing.assert_allclose(ours.components_ @ ours.components_.T, np.eye(k), atol=1e-9)
    new = _data(7, d, seed=1)
    np.testing.assert_allclose(ours.transform(new)[:, :m], ref.transform(new)[:, :m], atol=1e-6)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-6, abs=1e-9)


def test_row_gram_path_is_taken_and_uncentred_matches_svd(monkeypatch):
    def no_feature_gram(*a, **k):
        raise AssertionError("the d×d Gram should not be built for n < d")

    monkeypatch.setattr(lp, "_gram_moments", no_feature_gram)
    X = _data(40, 2600, seed=5)
    ours = PCA(40, center=False).fit(X)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(ours.singular_values_, s, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.components_ @ vt.T), np.eye(40), atol=1e-7)
    big = (np.random.default_rng(0).standard_normal((30, 2500)) + 1e4).astype(np.float32)  # far from 0
    ours = PCA(3).fit(big)
    ref = SkPCA(3, svd_solver="full").fit(big.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-4)


@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(9, 20)),
                  elements=st.floats(-100, 100, allow_nan=False)), st.booleans())
@settings(max_examples=60, deadline=None)
def test_row_gram_equals_feature_gram(X, center):
    """The n×n path and the d×d path give the same spectrum and, where it is distinct, the same axes."""
    from la_core.pca_rows import fit_rows

    n, d = X.shape
    k = n - 1 if center else n
    mean, evals, V, total = fit_rows(X, k, center, block=4)
    ref = PCA(k, center=center).fit(X)                # d ≤ 2048: the d×d path
    lam = ref.singular_values_ ** 2
    scale = max(lam.max(initial=0.0), 1e-12)
    # both paths round relative to ‖X‖²: centring nearly constant data leaves tiny eigenvalues
    np.testing.assert_allclose(evals, lam, atol=1e-8 * scale + 1e-13 * float((X ** 2).sum()))
    np.testing.assert_allclose(V @ V.T, np.eye(k), atol=1e-8)
    np.testing.assert_allclose(mean, X.mean(0) if center else 0.0, atol=1e-9)
    Xc = X - mean
    np.testing.assert_allclose(total, float((Xc ** 2).sum()), rtol=1e-9, atol=1e-9)
    gaps = np.abs(np.diff(np.concatenate([[np.inf], lam, [0.0]])))
    for i in range(k):                                 # axes with a clear gap on both sides agree up to sign
        if min(gaps[i], gaps[i + 1]) > 1e-6 * scale:
            assert abs(V[i] @ ref.components_[i]) == pytest.approx(1.0, abs=1e-6)


def test_row_gram_data_without_variance_at_tiny_scale():
    """Rows equal up to one ulp, at 1e-136: the eigenvalues are rounding noise of ~1e-288, not
    variance. They must not be divided through (that gave a zero axis); the axes stay orthonormal."""
    from la_core.pca_rows import fit_rows

    X = np.full((7, 11), 1.0663059832383095e-136)
    X.flat[[71, 55]] = np.nextafter(X.flat[[71, 55]], np.inf)
    mean, evals, V, total = fit_rows(X, 6, True, block=4)
    np.testing.assert_allclose(V @ V.T, np.eye(6), atol=1e-8)
    assert np.all(np.isfinite(V)) and np.all(evals >= 0)
