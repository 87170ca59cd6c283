"""la_core.geometry against direct formulas: RoPE as a block-diagonal rotation matrix, norms vs
NumPy, distance concentration vs scipy, and the shape checker vs torch itself."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist

from la_core import geometry as lg

SETTINGS = settings(max_examples=40, deadline=None)


def rotation_matrix(d, pos, base=10000.0):
    """Block-diagonal RoPE matrix R(pos): 2x2 rotations by pos * base^(-2i/d) on the diagonal."""
    R = np.zeros((d, d))
    for i in range(d // 2):
        a = pos * base ** (-2.0 * i / d)
        c, s = np.cos(a), np.sin(a)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, -s], [s, c]]
    return R


def test_rope_equals_block_diagonal_rotation_matrix():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 16))
    pos = np.array([0, 1, 5, 17, 100, 4095])
    got = lg.rope_rotate(x, pos)
    want = np.stack([rotation_matrix(16, p) @ x[t] for t, p in enumerate(pos)])
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_rope_angles_and_frequencies():
    x = np.ones((3, 8))
    res = lg.rope_rotate(x, [0, 2, 7], base=500.0, return_angles=True)
    _, ang = res                                         # a RopeRotation unpacks as (rotated, angles)
    np.testing.assert_array_equal(res.rotated, lg.rope_rotate(x, [0, 2, 7], base=500.0))
    assert res.angles is ang
    theta = 500.0 ** (-np.arange(4) * 2 / 8)
    np.testing.assert_allclose(ang, np.array([0, 2, 7])[:, None] * theta[None, :])
    np.testing.assert_allclose(lg.rope_frequencies(8, 500.0), theta)
    assert lg.rope_frequencies(64)[0] == 1.0


def test_rope_position_zero_is_identity_and_vector_input():
    x = np.random.default_rng(1).standard_normal((4, 64))
    np.testing.assert_allclose(lg.rope_rotate(x, np.zeros(4, int)), x, atol=1e-12)
    v = x[0]
    np.testing.assert_allclose(lg.rope_rotate(v, 3), lg.rope_rotate(v[None], [3])[0])


def test_rope_scores_depend_only_on_offset():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal(64), rng.standard_normal(64)
    S = lg.rope_scores(q, k, 32)
    for off in range(-31, 32):
        diag = np.diagonal(S, offset=off)
        assert np.ptp(diag) < 1e-9
    # and it is not constant overall (the offset matters)
    assert np.ptp(S) > 0.1
    assert S[5, 5] == pytest.approx(q @ k)


finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@SETTINGS
@given(half=st.integers(1, 16), m=st.integers(-5000, 5000), n=st.integers(-5000, 5000),
       shift=st.integers(-1000, 1000), seed=st.integers(0, 2**31 - 1),
       base=st.floats(2.0, 1e6))
def test_rope_offset_invariance_and_norms(half, m, n, shift, seed, base):
    d = 2 * half
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal(d), rng.standard_normal(d)
    qm, kn = lg.rope_rotate(np.stack([q, k]), [m, n], base)
    qs, ks = lg.rope_rotate(np.stack([q, k]), [m + shift, n + shift], base)
    assert qm @ kn == pytest.approx(qs @ ks, abs=1e-6 * (1 + abs(qm @ kn)))
    np.testing.assert_allclose(np.linalg.norm(qm), np.linalg.norm(q), rtol=1e-10)
    # inverse: rotating by -m undoes m
    back = lg.rope_rotate(qm, -m, base)
    np.testing.assert_allclose(back, q, atol=1e-8)


@SETTINGS
@given(x=st.lists(st.lists(finite, min_size=5, max_size=5), min_size=1, max_size=6))
def test_norms_match_numpy(x):
    a = np.array(x)
    r = lg.norms(a)
    np.testing.assert_allclose(r.l1, np.linalg.norm(a, 1, axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.l2, np.linalg.norm(a, 2, axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.linf, np.linalg.norm(a, np.inf, axis=1), rtol=1e-12, atol=1e-12)
    assert r.fro == pytest.approx(np.linalg.norm(a, "fro"), rel=1e-12, abs=1e-12)
    assert np.all(r.linf <= r.l2 + 1e-9) and np.all(r.l2 <= r.l1 + 1e-9)


def test_norms_of_a_vector_are_floats():
    r = lg.norms([3.0, -4.0])
    assert r == lg.Norms(l1=7.0, l2=5.0, linf=4.0, fro=5.0)
    assert all(type(v) is float for v in (r.l1, r.l2, r.linf, r.fro))


def test_distance_concentration_matches_scipy_and_shrinks():
    dims = [2, 16, 256, 4096]
    c = lg.distance_concentration(dims, n_points=60, seed=3)
    gen = torch.Generator().manual_seed(3)
    for j, d in enumerate(dims):
        x = torch.randn(60, d, generator=gen, dtype=torch.float64).numpy()
        ref = pdist(x)
        np.testing.assert_allclose(c.distances[j], ref, rtol=1e-9)
        np.testing.assert_allclose(c.cosines[j], 1 - pdist(x, "cosine"), atol=1e-9)
        assert c.contrast[j] == pytest.approx((ref.max() - ref.min()) / ref.min(), rel=1e-9)
    assert np.all(np.diff(c.contrast) < 0)
    assert c.cos_std[-1] == pytest.approx(1 / np.sqrt(4096), rel=0.2)
    u = lg.distance_concentration([3, 3000], n_points=40, seed=0, distribution="uniform")
    assert u.contrast[1] < u.contrast[0]


CASES = [
    ("@", (4, 768), (768, 4)), ("@", (4, 768), (4, 768)), ("+", (8, 768), (768,)),
    ("-", (32, 768), (768,)), ("-", (32, 768), (32,)), ("@", (2, 12, 5, 32), (2, 12, 32, 5)),
    ("@", (2, 12, 5, 32), (2, 12, 5, 32)), ("masked_fill", (2, 12, 5, 5), (2, 5)),
    ("masked_fill", (2, 12, 5, 5), (2, 1, 1, 5)), ("@", (), (3,)), ("@", (3,), (3,)),
]


@pytest.mark.parametrize("op,a,b", CASES)
def test_shape_op_matches_real_torch(op, a, b):
    r = lg.shape_op(op, ", ".join(map(str, a)) or "()", b)
    ta = torch.randn(a)
    tb = torch.rand(b) > 0.5 if op == "masked_fill" else torch.randn(b)
    fn = {"@": torch.matmul, "+": torch.add, "-": torch.sub,
          "masked_fill": lambda x, m: x.masked_fill(m, float("-inf"))}[op]
    try:
        want = tuple(fn(ta, tb).shape)
    except RuntimeError as exc:
        assert not r.ok and r.shape is None and r.error == str(exc)
    else:
        assert r.ok and r.shape == want and r.error is None
    assert r.ran_real


@SETTINGS
@given(a=st.lists(st.integers(1, 4), min_size=1, max_size=4), b=st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_broadcast_shape_agrees_with_torch_broadcast_shapes(a, b):
    r = lg.broadcast_shape(tuple(a), tuple(b))
    try:
        want = tuple(torch.broadcast_shapes(tuple(a), tuple(b)))
    except RuntimeError:
        assert not r.ok and "must match" in r.error
    else:
        assert r.ok and r.shape == want
    m = lg.matmul_shape(tuple(a), tuple(b))
    try:
        assert m.shape == tuple(torch.matmul(torch.zeros(a), torch.zeros(b)).shape)
    except RuntimeError as exc:
        assert not m.ok and m.error == str(exc)


def test_huge_shapes_use_meta_without_allocating():
    r = lg.matmul_shape("100000, 100000", "100000, 3")
    assert r.ok and r.shape == (100000, 3) and not r.ran_real


@pytest.mark.parametrize("text,shape", [("4, 768", (4, 768)), ("(2,12,5,32)", (2, 12, 5, 32)), ("[768]", (768,)),
                                        ("768", (768,)), ("(768,)", (768,)), ("()", ())])
def test_parse_shape(text, shape):
    assert lg.parse_shape(text) == shape


@pytest.mark.parametrize("text", ["", "4 768", "a, b", "4, -1", "4.5, 2", "1,2,3,4,5,6,7,8,9", "2000000, 2"])
def test_parse_shape_rejects_bad_text(text):
    with pytest.raises(ValueError, match="shape|axes|axis"):
        lg.parse_shape(text)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="even number of columns"):
        lg.rope_rotate(np.ones((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="must be integers"):
        lg.rope_rotate(np.ones((2, 4)), [0, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        lg.rope_rotate(np.array([[1.0, np.nan]]), [0])
    with pytest.raises(ValueError, match="NaN"):
        lg.rope_rotate(np.ones((1, 2)), [np.nan])
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        lg.rope_rotate(np.ones((2, 4)), [0, 1, 2])
    with pytest.raises(ValueError, match="base"):
        lg.rope_rotate(np.ones((1, 4)), [0], base=1.0)
    with pytest.raises(ValueError, match="integers"):
        lg.rope_rotate(np.ones((1, 4)), ["a"])
    with pytest.raises(ValueError, match="even integer"):
        lg.rope_frequencies(7)
    with pytest.raises(ValueError, match="NaN"):
        lg.norms([1.0, np.inf])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        lg.norms(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="dims"):
        lg.distance_concentration([2.5], 10)
    with pytest.raises(ValueError, match="1 … 65536"):
        lg.distance_concentration([0], 10)
    with pytest.raises(ValueError, match="n_points"):
        lg.distance_concentration([2], 1)
    with pytest.raises(ValueError, match="op must be"):
        lg.shape_op("//", "2", "2")
    with pytest.raises(ValueError, match="same shape"):
        lg.rope_scores(np.ones(4), np.ones(6), 5)


@pytest.mark.parametrize("call, match", [
    (lambda: lg.rope_frequencies(8.0), r"d must be an integer; got 8\.0 \(float\)"),
    (lambda: lg.rope_frequencies(True), "d must be an integer"),
    (lambda: lg.rope_frequencies(0), "d must be at least 2"),
    (lambda: lg.rope_frequencies(8, base="big"), "base must be a number"),
    (lambda: lg.rope_frequencies(8, base=np.inf), "base must be finite"),
    (lambda: lg.rope_scores(np.ones(4), np.ones(4), 5.0), "n_positions must be an integer"),
    (lambda: lg.rope_scores(np.ones(4), np.ones(4), 4097), r"n_positions must be at most 4096.*\[1, 4096\]"),
    (lambda: lg.distance_concentration([2], 10.0), "n_points must be an integer"),
    (lambda: lg.distance_concentration([2], 10, seed=-3), "seed must be at least 0"),
    (lambda: lg.distance_concentration([2], 10, distribution="cauchy"), "distribution must be one of 'gaussian', 'uniform'"),
    (lambda: lg.shape_op("@", (4.0, 3), (3,)), r"axis 0 of shape of a must be an integer; got 4\.0"),
    (lambda: lg.shape_op("@", (2, 3), (3, True)), "axis 1 of shape of b must be an integer; got True"),
    (lambda: lg.shape_op("@", (2, -1), (3,)), "axis 1 of shape of a must be at least 0"),
    (lambda: lg.shape_op("@", 5, (3,)), "shape of a must be a tuple of integers"),
    (lambda: lg.shape_op("@", (1,) * 9, (3,)), "9 axes; at most 8"),
    (lambda: lg.shape_op(None, (1,), (1,)), "op must be one of '@', '\\+'"),
])
def test_strict_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_shapes_accept_numpy_integers():
    r = lg.matmul_shape(np.array([2, 3]), (np.int64(3), 4))
    assert r.ok and r.shape == (2, 4) and r.a_shape == (2, 3)
