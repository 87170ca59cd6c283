"""la_core.eigen against numpy, known matrices, and hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from la_core import eigen as le


def residual(a, vals, vecs):
    return np.abs(a @ vecs - vecs * vals[None, :]).max()


@pytest.mark.parametrize("n", [2, 3, 5, 8, 16, 33, 64])
def test_random_real_matches_numpy(n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n))
    vals, vecs = le.eigen(a)
    assert residual(a, vals, vecs) <= 1e-4
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=0), 1.0, atol=1e-10)
    ref = np.linalg.eigvals(a)
    np.testing.assert_allclose(np.abs(vals), np.sort(np.abs(ref))[::-1], atol=1e-8)
    assert np.all(np.diff(np.abs(vals)) <= 1e-12)                       # sorted by |λ| descending
    # same multiset of eigenvalues
    for lam in ref:
        assert np.min(np.abs(vals - lam)) < 1e-8


def test_rotation_gives_plus_minus_i():
    vals, vecs = le.eigen([[0.0, -1.0], [1.0, 0.0]])
    assert np.iscomplexobj(vals)
    np.testing.assert_allclose(sorted(vals.imag), [-1, 1], atol=1e-12)
    np.testing.assert_allclose(vals.real, 0, atol=1e-12)
    assert residual(np.array([[0.0, -1.0], [1.0, 0.0]]), vals, vecs) < 1e-12
    r, theta = le.complex_rotation([[0.0, -1.0], [1.0, 0.0]])
    assert r == pytest.approx(1.0) and theta == pytest.approx(90.0)
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    r, theta = le.complex_rotation(0.9 * np.array([[c, -s], [s, c]]))
    assert r == pytest.approx(0.9) and theta == pytest.approx(30.0)


def test_real_eigenvalues_of_nonsymmetric_come_back_real():
    a = np.array([[1.0, 1.0], [0.5, 1.5]])
    vals, vecs = le.eigen(a)
    assert vals.dtype == np.float64 and vecs.dtype == np.float64
    np.testing.assert_allclose(vals, [2.0, 0.5], atol=1e-12)
    assert residual(a, vals, vecs) < 1e-12


def test_symmetric_path_real_orthonormal():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((20, 20))
    s = g + g.T
    vals, q = le.eigen(s)
    assert vals.dtype == np.float64 and q.dtype == np.float64
    np.testing.assert_allclose(q.T @ q, np.eye(20), atol=1e-10)
    np.testing.assert_allclose(q @ np.diag(vals) @ q.T, s, atol=1e-10)
    np.testing.assert_allclose(np.abs(vals), np.sort(np.abs(np.linalg.eigvalsh(s)))[::-1], atol=1e-10)
    assert le.eigvec_condition(q) == pytest.approx(1.0)
    q2, lam = le.symmetric_factors([[2.0, 1.0], [1.0, 2.0]])
    assert np.linalg.det(q2) == pytest.approx(1.0)
    np.testing.assert_allclose(lam, [3.0, 1.0])


@pytest.mark.parametrize("a", [[[1.0, 1.0], [0.0, 1.0]], [[2.0, 1.0], [-1.0, 0.0]],
                               [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]])
def test_defective_matrix_handled(a):
    vals, vecs = le.eigen(a)                                            # no crash
    assert np.all(np.isfinite(vals)) and np.all(np.isfinite(vecs))
    assert le.is_defective(a)
    assert le.eigvec_condition(vecs) > le.DEFECTIVE_COND


def test_repeated_but_diagonalisable_is_not_defective():
    assert not le.is_defective(np.eye(3) * 2.0)
    assert not le.is_defective([[2.0, 1.0], [1.0, 2.0]])
    assert not le.is_defective([[1.0, 1.0], [0.5, 1.5]])


def test_iterates_equal_matrix_powers():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 5)) / 2
    v = rng.standard_normal(5)
    it = le.iterate(a, v, 7)
    assert it.shape == (8, 5)
    for k in range(8):
        np.testing.assert_allclose(it[k], np.linalg.matrix_power(a, k) @ v, rtol=1e-10, atol=1e-12)
    itn = le.iterate(a, v, 7, normalize=True)
    for k in range(8):
        p = np.linalg.matrix_power(a, k) @ v
        np.testing.assert_allclose(itn[k], p / np.linalg.norm(p), atol=1e-10)


def test_power_iteration_rate_on_known_matrix():
    # diag(2, 1) from (1, 1): tan θ_k = (1/2)^k exactly
    pi = le.power_iteration(np.diag([2.0, 1.0]), [1.0, 1.0], 30)
    assert pi.converges and pi.ratio == pytest.approx(0.5)
    np.testing.assert_allclose(np.tan(pi.angles), 0.5 ** np.arange(31), rtol=1e-9)
    assert pi.estimates[-1] == pytest.approx(2.0, abs=1e-12)
    # a rotated symmetric matrix with eigenvalues 3, 1: rate 1/3 per step
    c, s = np.cos(0.4), np.sin(0.4)
    q = np.array([[c, -s], [s, c]])
    a = q @ np.diag([3.0, 1.0]) @ q.T
    pi = le.power_iteration(a, [0.0, 1.0], 20)
    assert pi.ratio == pytest.approx(1 / 3)
    rates = np.tan(pi.angles[1:15]) / np.tan(pi.angles[:14])
    np.testing.assert_allclose(rates, 1 / 3, rtol=1e-6)
    # non-symmetric, real eigenvalues 2 and 0.5
    pi = le.power_iteration([[1.0, 1.0], [0.5, 1.5]], [1.0, -0.3], 40)
    assert pi.ratio == pytest.approx(0.25)
    assert pi.angles[-1] < 1e-12 and pi.estimates[-1] == pytest.approx(2.0)


def test_power_iteration_reports_non_convergence():
    assert not le.power_iteration([[0.0, -1.0], [1.0, 0.0]], [1.0, 0.0], 5).converges
    assert not le.power_iteration([[0.0, 1.0], [1.0, 0.0]], [1.0, 0.2], 5).converges


def test_unit_circle_image():
    a = np.array([[2.0, 1.0], [0.0, 0.5]])
    circle, image = le.unit_circle_image(a, 100)
    assert circle.shape == image.shape == (100, 2)
    np.testing.assert_allclose(np.linalg.norm(circle, axis=1), 1.0)
    np.testing.assert_allclose(image, circle @ a.T)
    # the longest image vector has length σ₁
    assert np.linalg.norm(image, axis=1).max() == pytest.approx(np.linalg.norm(a, 2), rel=1e-3)


def test_sample_cloud_covariance():
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    pts = le.sample_cloud(cov, 20000, seed=1)
    np.testing.assert_allclose(np.cov(pts.T), cov, atol=0.12)


@pytest.mark.parametrize("bad, match", [
    (np.ones((2, 3)), r"A must be square \(n, n\); got shape \(2, 3\)"),
    ([[1.0, np.nan], [0.0, 1.0]], "A contains NaN or infinite values"),
    ([[1.0, np.inf], [0.0, 1.0]], "A contains NaN or infinite values"),
    (np.ones(3), "A must be 2-D"),
    ("abc", "A must be a numeric array"),
])
def test_bad_matrix_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        le.eigen(bad)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="v must have length 2"):
        le.iterate(np.eye(2), [1.0, 2.0, 3.0], 3)
    with pytest.raises(ValueError, match=r"steps must be at least 0; got -1\. Accepted: integers in \[0, 10000\]"):
        le.iterate(np.eye(2), [1.0, 2.0], -1)
    with pytest.raises(ValueError, match="v must be non-zero"):
        le.power_iteration(np.eye(2), [0.0, 0.0], 3)
    with pytest.raises(ValueError, match="v contains NaN"):
        le.iterate(np.eye(2), [np.nan, 1.0], 3)
    with pytest.raises(ValueError, match="A must be 2×2"):
        le.unit_circle_image(np.eye(3), 10)
    with pytest.raises(ValueError, match="cov must be positive semi-definite"):
        le.sample_cloud([[1.0, 2.0], [2.0, 1.0]], 10)
    with pytest.raises(ValueError, match="A must be symmetric"):
        le.symmetric_factors([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="real eigenvalues"):
        le.complex_rotation(np.eye(2))


matrices = st.integers(2, 6).flatmap(
    lambda n: arrays(np.float64, (n, n), elements=st.floats(-5, 5, allow_nan=False, width=32)))


@settings(max_examples=50, deadline=None)
@given(matrices)
def test_property_eigen_residual_and_sorting(a):
    vals, vecs = le.eigen(a)
    assert vals.shape == (a.shape[0],) and vecs.shape == a.shape
    assert np.all(np.diff(np.abs(vals)) <= 1e-9)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=0), 1.0, atol=1e-9)
    # residual relative to ‖A‖ (defective matrices still satisfy A v = λ v column by column)
    # (near-defective matrices: LAPACK's own residual can be larger, so allow numpy's as the bound too)
    w, v = np.linalg.eig(a)
    ref = np.abs(a @ v - v * w).max()
    assert residual(a, vals, vecs) <= max(1e-6 * max(1.0, np.abs(a).max()) * a.shape[0], 10 * ref)
    np.testing.assert_allclose(np.sum(vals).real, np.trace(a), atol=1e-8 * max(1.0, np.abs(a).sum()))
    if np.iscomplexobj(vals):
        assert np.any(np.abs(vals.imag) > 0)


@settings(max_examples=50, deadline=None)
@given(matrices)
def test_property_symmetric_part_orthonormal(a):
    s = (a + a.T) / 2
    vals, q = le.eigen(s)
    assert not np.iscomplexobj(vals)
    np.testing.assert_allclose(q.T @ q, np.eye(len(s)), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(matrices, st.integers(0, 6))
def test_property_iterate_matches_powers(a, k):
    v = np.arange(1, a.shape[0] + 1, dtype=float)
    it = le.iterate(a, v, k)
    ref = np.linalg.matrix_power(a, k) @ v
    np.testing.assert_allclose(it[k], ref, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(ref).max()))


@settings(max_examples=40, deadline=None)
@given(st.floats(0.2, 3.0), st.floats(0.05, 0.9), st.floats(0.0, np.pi), st.floats(0.1, 1.4),
       st.booleans())
def test_property_power_iteration_rate_symmetric_2x2(l1, frac, rot, start, flip):
    # symmetric A = Q diag(λ₁, λ₂) Qᵀ: tan θ_k = tan θ_0 · |λ₂/λ₁|^k exactly
    l2 = (-1 if flip else 1) * frac * l1
    q = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    a = q @ np.diag([l1, l2]) @ q.T
    v0 = q @ np.array([np.cos(start), np.sin(start)])           # angle `start` from the top eigenvector
    pi = le.power_iteration(a, v0, 8)
    assert pi.converges and pi.ratio == pytest.approx(frac, rel=1e-9)
    np.testing.assert_allclose(np.tan(pi.angles), np.tan(start) * frac ** np.arange(9), rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(le.line_angle(pi.top_vector, q[:, 0]), 0.0, atol=1e-7)


def test_line_angle_is_sign_blind_and_accurate_near_zero():
    assert le.line_angle([1.0, 0.0], [-2.0, 0.0]) == 0.0
    assert le.line_angle([1.0, 0.0], [0.0, 3.0]) == pytest.approx(np.pi / 2)
    assert le.line_angle([1.0, 0.0], [1.0, 1e-12]) == pytest.approx(1e-12, rel=1e-6)
    with pytest.raises(ValueError, match="zero vector"):
        le.line_angle([0.0, 0.0], [1.0, 0.0])


def test_results_have_names_and_still_unpack():
    a = np.array([[2.0, 1.0], [1.0, 2.0]])
    res = le.eigen(a)
    assert isinstance(res, le.EigResult) and res._fields == ("eigenvalues", "eigenvectors")
    lam, V = res
    assert lam is res.eigenvalues and V is res.eigenvectors
    ref = np.linalg.eigh(a)                                             # numpy's EighResult, the same idea
    np.testing.assert_allclose(np.sort(res.eigenvalues), ref.eigenvalues)
    f = le.symmetric_factors(a)
    assert f._fields == ("eigenvectors", "eigenvalues")
    np.testing.assert_allclose(f.eigenvectors @ np.diag(f.eigenvalues) @ f.eigenvectors.T, a, atol=1e-12)
    ci = le.unit_circle_image(a, 8)
    np.testing.assert_allclose(ci.image, ci.circle @ a.T)
    rot = le.complex_rotation([[0.0, -2.0], [2.0, 0.0]])
    assert rot == (rot.modulus, rot.angle_deg) and rot.modulus == pytest.approx(2.0)
    assert rot.angle_deg == pytest.approx(90.0)


@pytest.mark.parametrize("call, match", [
    (lambda: le.iterate(np.eye(2), [1.0, 0.0], 3.0), r"steps must be an integer; got 3\.0 \(float\)"),
    (lambda: le.iterate(np.eye(2), [1.0, 0.0], True), "steps must be an integer; got True"),
    (lambda: le.unit_circle_image(np.eye(2), 2), "n_points must be at least 3"),
    (lambda: le.sample_cloud(np.eye(2), 10, seed="a"), "seed must be an integer"),
    (lambda: le.eigen(np.eye(2), real_tol="x"), "real_tol must be a number"),
    (lambda: le.is_symmetric(np.eye(2), tol=np.nan), "tol must be finite"),
    (lambda: le.is_defective(np.eye(2), cond_limit=0), "cond_limit must be a positive finite number"),
    (lambda: le.eigvec_condition(np.ones((2, 3))), "square"),
    (lambda: le.eigvec_condition(np.array([[1, np.nan], [0, 1j]])), "vectors contains NaN"),
    (lambda: le.line_angle([1.0, 0.0], [[1.0, "a"]]), "v must be a numeric array"),
    (lambda: le.line_angle([1.0, 0.0], [1.0, 0.0, 0.0]), "same length"),
])
def test_strict_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    assert le.iterate(np.eye(2), [1.0, 0.0], np.int64(2)).shape == (3, 2)   # NumPy integers are integers


def test_complex_eigenvectors_accepted_where_documented():
    _, vecs = le.eigen([[0.0, -1.0], [1.0, 0.0]])
    assert np.iscomplexobj(vecs) and le.eigvec_condition(vecs) == pytest.approx(1.0)
    assert le.line_angle(vecs[:, 0], 1j * vecs[:, 0]) == pytest.approx(0.0, abs=1e-12)


def _numpy_angles(a, v0, steps):
    """Angles (radians) between Aᵏv₀ and the top eigenline, from numpy's matrix powers."""
    a = np.asarray(a, float)
    top = np.linalg.eig(a)[1][:, np.argmax(np.abs(np.linalg.eigvals(a)))].real
    out = []
    for k in range(steps + 1):
        p = np.linalg.matrix_power(a, k) @ v0
        c = abs(p @ top) / (np.linalg.norm(p) * np.linalg.norm(top))
        out.append(np.arccos(min(c, 1.0)))
    return np.array(out)


@pytest.mark.parametrize("a", [[[2.0, 1.0], [-1.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]], [[1.5, 0.25], [-1.0, 0.5]],
                               [[2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]]])
def test_defective_power_iteration_converges_like_one_over_k(a):
    """|λ₂/λ₁| = 1, yet the iterates reach the single eigenline, like 1/k (not geometrically)."""
    v0 = np.cos(np.arange(len(a)) + 1.0)
    pi = le.power_iteration(a, v0, 200)
    assert pi.behaviour == "algebraic" and pi.converges and pi.ratio == 1.0
    ref = _numpy_angles(a, v0, 200)
    np.testing.assert_allclose(pi.angles[1:], ref[1:], rtol=1e-6, atol=1e-12)
    k = np.array([50, 100, 200])
    np.testing.assert_allclose(k * pi.angles[k], 200 * pi.angles[200], rtol=0.1)    # θ_k ≈ C/(k + k₀)
    assert pi.angles[200] > 1e-3                                       # no geometric rate would be this slow


@pytest.mark.parametrize("a, behaviour", [
    ([[0.0, 1.0], [1.0, 0.0]], "alternates"),                          # reflection: λ = 1, −1
    ([[1.0, 0.0], [0.0, -1.0]], "alternates"),
    ([[2.0, 0.0], [0.0, 2.0]], "fixed"),                               # 2I: every vector is an eigenvector
    ([[0.0, -1.0], [1.0, 0.0]], "rotates"),
    ([[2.0, 0.0], [0.0, 0.5]], "geometric"),
    ([[0.5, 0.5], [0.5, 0.5]], "geometric"),                           # λ₂ = 0: there in one step
])
def test_power_iteration_behaviour_without_a_single_slow_line(a, behaviour):
    v0 = np.array([np.cos(1.0), np.sin(1.0)])
    pi = le.power_iteration(a, v0, 6)
    assert pi.behaviour == behaviour
    assert pi.converges == (behaviour == "geometric")
    a2 = np.linalg.matrix_power(np.asarray(a), 2)
    if behaviour == "alternates":                                      # A² = I: x₂ = x₀, x₁ on another line
        np.testing.assert_allclose(pi.vectors[2], pi.vectors[0], atol=1e-12)
        assert le.line_angle(pi.vectors[1], pi.vectors[0]) > 0.1
        np.testing.assert_allclose(a2, np.eye(2))
    if behaviour == "fixed":
        np.testing.assert_allclose(pi.vectors, np.tile(v0, (7, 1)), atol=1e-12)


@pytest.mark.parametrize("a", [[[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [-1.0, -1.0]], [[0.0, 0.0], [0.0, 0.0]]])
def test_nilpotent_and_zero_matrices_vanish_without_error(a):
    assert not np.any(np.linalg.matrix_power(np.asarray(a), 2))         # A² = 0
    pi = le.power_iteration(a, [np.cos(0.3), np.sin(0.3)], 5)
    assert pi.behaviour == "vanishes" and not pi.converges
    assert np.isnan(pi.angles[2:]).all() and np.isfinite(pi.angles[0])
    assert set(le.BEHAVIOURS) >= {pi.behaviour}
