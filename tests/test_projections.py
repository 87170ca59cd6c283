"""la_core.projections against numpy, plus hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from la_core import projections as lp

rng = np.random.default_rng(0)


def numpy_projection(x, basis):
    """Reference: least squares onto the column space of basisᵀ (works for dependent rows)."""
    B = np.atleast_2d(basis).T                                    # (n, k)
    coef, *_ = np.linalg.lstsq(B, np.atleast_2d(x).T, rcond=None)
    return (B @ coef).T.reshape(np.shape(x))


@pytest.mark.parametrize("n, k", [(2, 1), (3, 2), (8, 3), (384, 5)])
def test_project_matches_numpy(n, k):
    basis = rng.normal(size=(k, n))
    x = rng.normal(size=(7, n))
    proj, resid = lp.project(x, basis)
    np.testing.assert_allclose(proj, numpy_projection(x, basis), atol=1e-10)
    np.testing.assert_allclose(proj + resid, x, atol=1e-12)


def test_rank_deficient_basis():
    a = rng.normal(size=5)
    basis = np.stack([a, 2 * a, -a])            # rank 1
    x = rng.normal(size=5)
    proj, resid = lp.project(x, basis)
    np.testing.assert_allclose(proj, (x @ a) / (a @ a) * a, atol=1e-12)
    assert lp.orthonormal_basis(basis).shape == (1, 5)
    c = rng.normal(size=5)
    basis2 = np.stack([a, c, a + c])            # rank 2
    np.testing.assert_allclose(lp.project(x, basis2)[0], numpy_projection(x, basis2[:2]), atol=1e-10)


def test_1d_input_and_1d_basis():
    proj, resid = lp.project([3.0, 4.0], [1.0, 0.0])
    np.testing.assert_allclose(proj, [3, 0])
    np.testing.assert_allclose(resid, [0, 4])
    res = lp.project([3.0, 4.0], [1.0, 0.0])
    assert res._fields == ("projection", "residual")
    np.testing.assert_allclose(res.projection, [3, 0])
    np.testing.assert_allclose(res.residual, [0, 4])


def test_cosine_dot_angle():
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    ref = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(lp.cosine_similarity(a, b), ref)
    np.testing.assert_allclose(lp.cosine_similarity(a, b[0]), a @ b[0] / np.linalg.norm(a, axis=1) / np.linalg.norm(b[0]))
    assert lp.dot([1, 2, 3], [4, 5, 6]) == 32
    assert lp.angle_deg([1, 0], [0, 2]) == pytest.approx(90)
    assert lp.cosine_similarity([1, 0], [-3, 0]) == pytest.approx(-1)


def test_map_2x2_order():
    W = lp.map_2x2(90, 2, 3, 0.5)
    R = np.array([[0, -1], [1, 0]])
    np.testing.assert_allclose(W, R @ np.array([[1, 0.5], [0, 1]]) @ np.diag([2, 3]), atol=1e-12)
    np.testing.assert_allclose(lp.map_2x2(0, 1, 1, 0), np.eye(2))


def test_det_rank_vs_numpy():
    for _ in range(5):
        W = rng.normal(size=(4, 4))
        assert lp.determinant(W) == pytest.approx(np.linalg.det(W))
        assert lp.rank(W) == np.linalg.matrix_rank(W)
    assert lp.rank([[1, 2], [2, 4]]) == 1
    assert lp.rank(np.zeros((3, 2))) == 0
    assert lp.rank(rng.normal(size=(3, 2))) == 2


def test_apply_grid_and_cells():
    W = rng.normal(size=(3, 2))
    lines = lp.grid_lines(2, n_lines=5)
    assert lines.shape == (10, 2, 2)
    np.testing.assert_allclose(lp.apply(W, lines), lines @ W.T)
    assert lp.grid_lines(3, n_lines=3).shape == (27, 2, 3)
    W23 = rng.normal(size=(2, 3))
    np.testing.assert_allclose(lp.apply(W23, lp.unit_cell(3)), lp.unit_cell(3) @ W23.T)
    sq = lp.apply(np.diag([2.0, 3.0]), lp.unit_cell(2))
    area = 0.5 * abs(np.dot(sq[:-1, 0], sq[1:, 1]) - np.dot(sq[1:, 0], sq[:-1, 1]))
    assert area == pytest.approx(6.0)


def test_column_mix():
    W = rng.normal(size=(2, 3))
    x = rng.normal(size=3)
    contrib, total = lp.column_mix(W, x)
    np.testing.assert_allclose(total, W @ x)
    np.testing.assert_allclose(contrib, (W * x).T)
    res = lp.column_mix(W, x)
    assert res._fields == ("contributions", "total")
    np.testing.assert_allclose(res.total, W @ x)
    np.testing.assert_allclose(res.contributions.sum(0), res.total)


@pytest.mark.parametrize("call, msg", [
    (lambda: lp.project([1, 2, 3], [[1, 0]]), "same space"),
    (lambda: lp.project([1, 2], [[0, 0], [0, 0]]), "zero vector"),
    (lambda: lp.project([np.nan, 1], [[1, 0]]), "NaN"),
    (lambda: lp.cosine_similarity([0, 0], [1, 0]), "zero vector"),
    (lambda: lp.cosine_similarity([1, 2], [1, 2, 3]), "same length"),
    (lambda: lp.cosine_similarity(np.ones((2, 3)), np.ones((3, 3))), "same number of rows"),
    (lambda: lp.map_2x2(float("nan"), 1, 1, 0), "finite"),
    (lambda: lp.map_2x2("a", 1, 1, 0), "number"),
    (lambda: lp.determinant(np.ones((2, 3))), "square"),
    (lambda: lp.column_mix(np.ones((2, 3)), [1, 2]), "columns"),
    (lambda: lp.apply(np.ones((2, 3)), np.ones((4, 2))), "coordinates"),
    (lambda: lp.grid_lines(4), r"dim must be at most 3; got 4\. Accepted: integers in \[2, 3\]"),
    (lambda: lp.grid_lines(2.0), "dim must be an integer"),
    (lambda: lp.unit_cell(1), r"dim must be at least 2; got 1\. Accepted: integers in \[2, 3\]"),
    (lambda: lp.grid_lines(2, extent=0.0), "extent must be a positive finite number"),
    (lambda: lp.grid_lines(2, n_lines=7.0), "n_lines must be an integer"),
    (lambda: lp.grid_lines(2, n_points=1), "n_points must be at least 2"),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


finite = st.floats(-100, 100, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 8), k=st.integers(1, 4), data=st.data())
def test_projection_properties(n, k, data):
    basis = data.draw(hnp.arrays(np.float64, (k, n), elements=finite))
    x = data.draw(hnp.arrays(np.float64, (n,), elements=finite))
    if np.linalg.norm(basis) < 1e-3:
        return
    proj, resid = lp.project(x, basis)
    scale = 1 + np.abs(x).max()
    np.testing.assert_allclose(proj + resid, x, atol=1e-9 * scale)          # decomposition
    q = lp.orthonormal_basis(basis)
    assert np.abs(q @ resid).max() <= 1e-8 * scale                          # residual ⟂ subspace
    np.testing.assert_allclose(lp.project(proj, basis)[0], proj, atol=1e-8 * scale)   # idempotent
    assert np.linalg.norm(proj) <= np.linalg.norm(x) * (1 + 1e-9) + 1e-9   # projections shrink


@settings(max_examples=50, deadline=None)
@given(angle=st.floats(-360, 360), sx=st.floats(-5, 5), sy=st.floats(-5, 5), sh=st.floats(-5, 5))
def test_map_2x2_properties(angle, sx, sy, sh):
    W = lp.map_2x2(angle, sx, sy, sh)
    assert lp.determinant(W) == pytest.approx(sx * sy, abs=1e-9)            # rotation & shear keep area
    np.testing.assert_allclose(W[:, 0], lp.rotation(angle) @ [sx, 0], atol=1e-12)
