"""la_core.geometry against direct formulas: norms vs NumPy, distance concentration vs scipy, and
the shape checker vs torch itself (RoPE: tests/test_rope.py)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist

from la_core import geometry as lg

SETTINGS = settings(max_examples=40, deadline=None)
finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


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
                                        ("768", (768,)), ("(768,)", (768,)), ("()", ()),
                                        ("32 768", (32, 768)), ("  4   768 ", (4, 768)), ("4 × 768", (4, 768)),
                                        ("4x768", (4, 768)), ("2 X 12 x 5", (2, 12, 5)), ("(2 12 5 32)", (2, 12, 5, 32)),
                                        ("[4, 768,]", (4, 768)), ("4 ,768", (4, 768))])
def test_parse_shape(text, shape):
    assert lg.parse_shape(text) == shape


@pytest.mark.parametrize("text", ["", "a, b", "4, -1", "4.5, 2", "1,2,3,4,5,6,7,8,9", "2000000, 2"])
def test_parse_shape_rejects_bad_text(text):
    with pytest.raises(ValueError, match="shape|axes|axis"):
        lg.parse_shape(text)


@pytest.mark.parametrize("text, why", [
    ("4; 768", "';' is not a separator"), ("4 / 768", "'/' is not a separator"), ("4,,768", "two separators"),
    ("(4, 768", "bracket '\\(' is not closed"), ("T, d", "'T' is not a number"), ("4, -1", "-1 is negative"),
    ("4.5 2", "4.5 is not a whole number"), ("", "empty"),
])
def test_parse_shape_says_what_is_wrong(text, why):
    with pytest.raises(ValueError, match=why) as err:
        lg.parse_shape(text, "shape of b")
    msg = str(err.value)
    assert msg.startswith(f"shape of b {text!r} is not a shape")
    assert "commas, spaces, × or x" in msg


@pytest.mark.parametrize("op, a, b, fixed", [
    ("@", (32, 768), (32, 768), "b.T: (768, 32)"),
    ("@", (2, 12, 5, 32), (2, 12, 5, 32), "b.transpose(-2, -1): (2, 12, 32, 5)"),
    ("@", (768, 32), (768, 64), "a.T: (32, 768)"),
    ("-", (32, 768), (32,), "b[:, None]: (32, 1)"),
    ("masked_fill", (2, 12, 5, 5), (2, 5), "b[:, None, None]: (2, 1, 1, 5)"),
])
def test_failing_shapes_get_a_fix_that_torch_accepts(op, a, b, fixed):
    r = lg.shape_op(op, a, b)
    assert not r.ok and r.hints
    assert fixed in r.hints[0]
    fn = {"@": torch.matmul, "-": torch.sub, "masked_fill": lambda x, m: x.masked_fill(m, 0.0)}[op]
    x = torch.zeros(a)
    y = torch.zeros(b, dtype=torch.bool if op == "masked_fill" else torch.float32)
    fixes = {"b.T": lambda: fn(x, y.T), "b.transpose(-2, -1)": lambda: fn(x, y.transpose(-2, -1)),
             "a.T": lambda: fn(x.T, y), "b[:, None]": lambda: fn(x, y[:, None]),
             "b[:, None, None]": lambda: fn(x, y[:, None, None])}
    expr = fixed.rsplit(": ", 1)[0]
    want = tuple(fixes[expr]().shape)          # the suggested change, run in torch
    assert f"gives {want}" in r.hints[0] or f"the result is {want}" in r.hints[0]


def test_hints_only_where_a_fix_exists():
    assert lg.shape_op("@", (4, 8), (8, 3)).hints == []       # works: nothing to fix
    r = lg.shape_op("-", (32, 768), (3,))
    assert not r.ok and r.hints == []                          # no size-1 axes make (3,) fit


def test_bad_input_raises_clear_errors():
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


@pytest.mark.parametrize("call, match", [
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
