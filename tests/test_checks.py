"""la_core.checks: every helper accepts what it promises, refuses the rest with a ValueError that
names the argument, what was wrong and what is accepted."""
import numpy as np
import pytest
import torch

from la_core import checks
from la_core.checks import (DTYPES, as_choice, as_dtype, as_finite_float, as_float_array, as_fraction, as_int,
                            as_matrix, as_positive_float, as_seed, as_square_matrix)


def test_every_public_helper_is_tested_here():
    tested = {"as_int", "as_seed", "as_finite_float", "as_positive_float", "as_fraction", "as_float_array",
              "as_square_matrix", "as_matrix", "as_choice", "as_dtype", "DTYPES"}
    assert set(checks.__all__) == tested


# ------------------------------------------------------------------------------------ integers
@pytest.mark.parametrize("ok", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_as_int_accepts_python_and_numpy_integers(ok):
    got = as_int(ok, "n")
    assert got == 3 and type(got) is int


@pytest.mark.parametrize("bad", [3.0, np.float64(3.0), True, False, np.bool_(True), "3", None, [3], np.array([3])])
def test_as_int_is_strict(bad):
    with pytest.raises(ValueError, match=r"^n must be an integer; got .*\(\w+\)\.$"):
        as_int(bad, "n")


def test_as_int_bounds():
    assert as_int(1, "n", 1, 5) == 1 and as_int(5, "n", 1, 5) == 5
    with pytest.raises(ValueError, match=r"^n must be at least 1; got 0\. Accepted: integers in \[1, 5\]\.$"):
        as_int(0, "n", 1, 5)
    with pytest.raises(ValueError, match=r"^n must be at most 5; got 6\. Accepted: integers in \[1, 5\]\.$"):
        as_int(np.int64(6), "n", 1, 5)
    with pytest.raises(ValueError, match=r"^T must be at least 1; got -2\.$"):
        as_int(-2, "T", 1)
    with pytest.raises(ValueError, match=r"^k must be at most 9; got 10\.$"):
        as_int(10, "k", max_value=9)
    with pytest.raises(ValueError, match=r"got 2\.0 \(float\)\. Accepted: integers in \[1, 5\]\.$"):
        as_int(2.0, "n", 1, 5)
    with pytest.raises(ValueError, match=r"got True \(bool\)\. Accepted: integers ≥ 0\.$"):
        as_int(True, "n", 0)
    with pytest.raises(ValueError, match=r"Accepted: integers ≤ 3\.$"):
        as_int(1.5, "n", max_value=3)


def test_as_seed():
    assert as_seed(0) == 0 and as_seed(np.int64(2**63 - 1)) == 2**63 - 1
    torch.Generator().manual_seed(as_seed(2**63 - 1))           # the bound is one torch accepts
    np.random.default_rng(as_seed(2**63 - 1))
    for bad, msg in ((-1, "at least 0"), (2**63, f"at most {2**63 - 1}"), (1.0, "an integer"), (True, "an integer")):
        with pytest.raises(ValueError, match=rf"^seed must be {msg}; got .*Accepted: integers in \[0, {2**63 - 1}\]"):
            as_seed(bad)
    with pytest.raises(ValueError, match="random_state must be"):
        as_seed(-1, "random_state")


# ------------------------------------------------------------------------------------- floats
@pytest.mark.parametrize("ok, want", [(2, 2.0), (2.5, 2.5), (np.float32(0.5), 0.5), (-3.0, -3.0), (0, 0.0),
                                      (np.int64(4), 4.0), ("bad", None)])
def test_as_finite_float(ok, want):
    if want is None:
        with pytest.raises(ValueError, match="x must be a number; got 'bad'"):
            as_finite_float(ok, "x")
        return
    got = as_finite_float(ok, "x")
    assert got == want and type(got) is float


@pytest.mark.parametrize("bad, msg", [(np.nan, "finite"), (np.inf, "finite"), (-np.inf, "finite"),
                                      (True, "number"), (None, "number"), ("1.0", "number"), ([1.0], "number"),
                                      (1 + 2j, "number")])
def test_as_finite_float_refuses(bad, msg):
    with pytest.raises(ValueError, match=f"x must be a {msg}|x must be {msg}"):
        as_finite_float(bad, "x")


def test_as_positive_float():
    assert as_positive_float(1e-300, "scale") == 1e-300 and as_positive_float(3, "scale") == 3.0
    for bad in (0, 0.0, -1.0, np.inf, np.nan, True, "2", None):
        with pytest.raises(ValueError, match=r"^scale must be a positive finite number; got "):
            as_positive_float(bad, "scale")


def test_as_fraction():
    assert as_fraction(1, "energy") == 1.0 and as_fraction(0.25, "energy") == 0.25
    assert as_fraction(np.float32(1e-6), "energy") > 0
    for bad in (0, 0.0, -0.1, 1.0000001, 2, np.nan, np.inf, False, "0.5"):
        with pytest.raises(ValueError, match=r"^energy must be a number in \(0, 1\]; got "):
            as_fraction(bad, "energy")


# ------------------------------------------------------------------------------------ choices
def test_as_choice():
    assert as_choice("cosine", "metric", ("euclidean", "cosine")) == "cosine"
    assert as_choice("b", "k", ["a", "b"]) == "b" and as_choice("a", "k", {"a": 1}) == "a"
    for bad in ("Cosine", "", None, 1, ("cosine",)):
        with pytest.raises(ValueError, match=r"^metric must be one of 'euclidean', 'cosine'; got "):
            as_choice(bad, "metric", ("euclidean", "cosine"))
    for bad_choices in ("abc", None, 3):
        with pytest.raises(ValueError, match="choices for metric must be a tuple of strings"):
            as_choice("a", "metric", bad_choices)


def test_as_dtype_takes_the_two_strings_only():
    assert DTYPES == {"float32": torch.float32, "float64": torch.float64}
    assert as_dtype("float32") is torch.float32 and as_dtype("float64") is torch.float64
    for bad in ("float16", "Float32", "f4", torch.float32, np.float32, np.dtype("float64"), None):
        with pytest.raises(ValueError, match=r"^dtype must be one of 'float32', 'float64'; got "):
            as_dtype(bad)
    with pytest.raises(ValueError, match="^precision must be one of"):
        as_dtype("int8", "precision")


# ------------------------------------------------------------------------------------- arrays
def test_accepts_finite():
    got = as_float_array([[1, 2], [3, 4]], "A", ndim=2)
    np.testing.assert_array_equal(got, [[1.0, 2.0], [3.0, 4.0]])
    assert got.dtype == np.float64
    assert as_float_array(torch.ones(2, 3), "A", ndim=(1, 2)).shape == (2, 3)
    assert as_float_array(5, "s").shape == ()                   # no ndim: any number of dimensions


@pytest.mark.parametrize("bad, msg", [
    ([[1, np.nan]], "NaN"), ([[np.inf, 1]], "NaN or infinite"), ([1, 2], "2-D"), ([["a", "b"]], "numeric"),
    (np.zeros((0, 2)), "at least 1 entries"), (np.ones((2, 2), complex), "real-valued"), (None, "numeric"),
    ([[1, 2], [3]], "numeric"),
])
def test_rejects(bad, msg):
    with pytest.raises(ValueError, match=f"^A .*{msg}"):
        as_float_array(bad, "A", ndim=2)


def test_ndim_alternatives_and_min_size():
    with pytest.raises(ValueError, match="x must be 1-D or 2-D; got shape"):
        as_float_array(np.ones((1, 1, 1)), "x", ndim=(1, 2))
    with pytest.raises(ValueError, match="at least 2 entries along every axis"):
        as_float_array(np.ones((3, 1)), "x", ndim=2, min_size=2)


def test_square():
    np.testing.assert_array_equal(as_square_matrix([[1, 0], [0, 1]]), np.eye(2))
    with pytest.raises(ValueError, match=r"A must be square \(n, n\); got shape \(2, 3\)"):
        as_square_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cov must be 2-D"):
        as_square_matrix(np.zeros(3), "cov")
    with pytest.raises(ValueError, match="cov contains NaN"):
        as_square_matrix([[1, np.nan], [0, 1]], "cov")


# ------------------------------------------------------------------------------------ matrices
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_as_matrix_keeps_float_memmaps_without_copy(tmp_path, dtype):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(12, dtype=dtype).reshape(4, 3))
    mm = np.load(path, mmap_mode="r")
    got = as_matrix(mm)
    assert got.dtype == dtype and np.shares_memory(got, mm)
    arr = np.ones((5, 2), dtype)
    assert as_matrix(arr) is arr
    np.testing.assert_array_equal(as_matrix(torch.ones(2, 2, dtype=torch.float32)), np.ones((2, 2), np.float32))


@pytest.mark.parametrize("dtype, want", [(np.int64, np.float64), (np.int32, np.float32), (np.int16, np.float32),
                                         (np.uint8, np.float32), (bool, np.float32), (np.float16, np.float32)])
def test_as_matrix_converts_other_numbers(dtype, want):
    got = as_matrix(np.arange(6).reshape(2, 3).astype(dtype))
    assert got.dtype == want
    np.testing.assert_array_equal(got, np.arange(6).reshape(2, 3).astype(dtype).astype(want))


@pytest.mark.parametrize("bad, msg", [
    (np.array([[1, "a"]], dtype=object), "numeric matrix"), (np.array([["a", "b"]]), "numeric matrix"),
    (np.ones((2, 2), complex), "real-valued"), (np.ones(3), r"2-D \(n_samples, n_features\); got shape \(3,\)"),
    (np.ones((2, 2, 2)), "2-D"), (np.ones((0, 3)), "at least 1 row"), (np.ones((3, 0)), "1 column"),
])
def test_as_matrix_refuses(bad, msg):
    with pytest.raises(ValueError, match=f"^X .*{msg}"):
        as_matrix(bad)


def test_as_matrix_min_rows():
    assert as_matrix(np.ones((2, 3)), "emb", min_rows=2).shape == (2, 3)
    with pytest.raises(ValueError, match=r"emb needs at least 2 row\(s\) and 1 column; got shape \(1, 3\)"):
        as_matrix(np.ones((1, 3)), "emb", min_rows=2)
