"""la_core.pca.PCA against scikit-learn and brute-force NumPy, plus hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.decomposition import PCA as SkPCA

from la_core import pca as lp
from la_core.pca import PCA


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
    b = PCA(3).fit_from_moments(X.shape[0], X.sum(0), X.T @ X)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-8)
    np.testing.assert_allclose(a.explained_variance_, b.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(a.mean_, b.mean_, atol=1e-10)


def test_fit_from_moments_bad_input():
    X = _data(30, 4, seed=5)
    with pytest.raises(ValueError, match="col_sum"):
        PCA(2).fit_from_moments(30, X.sum(0)[:3], X.T @ X)
    with pytest.raises(ValueError, match="gram must be a"):
        PCA(2).fit_from_moments(30, X.sum(0), 1.0)
    with pytest.raises(ValueError, match="at least 2 rows"):
        PCA(2).fit_from_moments(1, X.sum(0), X.T @ X)
    with pytest.raises(ValueError, match="n_samples must be an integer"):
        PCA(2).fit_from_moments(30.0, X.sum(0), X.T @ X)
    with pytest.raises(ValueError, match="NaN"):
        PCA(2).fit_from_moments(30, X.sum(0), np.full((4, 4), np.inf))


def test_no_import_cycle_with_the_batch_command():
    """la_core.pca neither imports la_core.pca_batch nor runs as a script: the command has one home."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(lp))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "la_core.pca_batch" not in imported and "la_core.pca_dask" in imported
    assert "__main__" not in inspect.getsource(lp)
    assert lp.__all__ == ["PCA"]


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
    with pytest.raises(ValueError, match="integer"):
        PCA(2.0).fit(X)                                # strict: a whole float is not an integer either
    with pytest.raises(ValueError, match="integer"):
        PCA(True).fit(X)
    assert PCA(np.int64(2)).fit(X).n_components_ == 2
    with pytest.raises(ValueError, match="not fitted"):
        PCA(2).transform(X)
    with pytest.raises(ValueError, match="features"):
        PCA(2).fit(X).transform(np.ones((3, 5)))


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
def test_fuzz_fit(X, k, center):
    """Anything: a finite result or ValueError with a message, never another exception or NaN."""
    try:
        p = PCA(k, center=center).fit(X)
    except ValueError as exc:
        assert str(exc)
    else:
        for v in (p.components_, p.explained_variance_ratio_, p.singular_values_, p.transform(X)):
            assert np.all(np.isfinite(v))


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
    res = fit_rows(X, k, center, block=4)
    mean, evals, V, total = res
    assert res.V is V and res.total == total                # a named result that still unpacks
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


def test_transform_on_some_axes_is_those_columns():
    X = _data(500, 9, seed=12).astype(np.float32)
    p = PCA(5).fit(X)
    full = p.transform(X)
    np.testing.assert_allclose(p.transform(X, axes=[3, 0]), full[:, [3, 0]], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p.transform(X, axes=np.array([4])), full[:, [4]], rtol=1e-5, atol=1e-5)
    for bad in ([], [5], [-1], [1.0], 3, "ab"):
        with pytest.raises(ValueError, match="axes"):
            p.transform(X, axes=bad)
