"""la_core.random_matrices against numpy: the kinds keep their laws, spectrum is numpy's eigvals sorted."""
import numpy as np
import pytest

from la_core import random_matrices as lr


@pytest.mark.parametrize("kind", lr.RANDOM_KINDS)
def test_random_spectra_kinds(kind):
    a = lr.random_matrix(kind, 64, seed=3)
    vals = lr.spectrum(a)
    assert vals.shape == (64,)
    np.testing.assert_allclose(np.sort_complex(vals), np.sort_complex(np.linalg.eigvals(a)), atol=1e-8)
    if kind == "orthogonal":
        np.testing.assert_allclose(np.abs(vals), 1.0, atol=1e-10)
        np.testing.assert_allclose(a.T @ a, np.eye(64), atol=1e-12)
    if kind == "symmetric":
        np.testing.assert_allclose(vals.imag, 0.0)
        np.testing.assert_array_equal(a, a.T)
    if kind == "stochastic":
        assert abs(vals[0] - 1.0) < 1e-10
        np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-12)
        assert np.all(a > 0)
    if kind == "gaussian":
        assert np.abs(vals).max() < 1.5


def test_the_seed_fixes_the_matrix():
    a = lr.random_matrix("gaussian", 16, seed=7)
    np.testing.assert_array_equal(a, lr.random_matrix("gaussian", 16, seed=7))
    assert not np.array_equal(a, lr.random_matrix("gaussian", 16, seed=8))
    assert a.dtype == np.float64 and a.shape == (16, 16)


def test_spectrum_is_sorted_by_modulus_and_complex():
    a = np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.5]])    # ±2i and 0.5
    vals = lr.spectrum(a)
    assert vals.dtype == np.complex128
    np.testing.assert_allclose(vals, [2j, -2j, 0.5], atol=1e-12)
    sym = lr.spectrum(np.diag([1.0, -3.0, 2.0]))                         # the symmetric solver, same order
    np.testing.assert_allclose(sym, [-3.0, 2.0, 1.0])
    huge = lr.spectrum(np.diag([1e200, -3e200]))                         # rescaled so LAPACK converges
    np.testing.assert_allclose(huge.real, [-3e200, 1e200], rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: lr.random_matrix("cauchy", 4), "kind must be one of"),
    (lambda: lr.random_matrix("gaussian", 4.0), "n must be an integer"),
    (lambda: lr.random_matrix("gaussian", 0), "n must be at least 1"),
    (lambda: lr.random_matrix("gaussian", lr.MAX_N + 1), "n must be at most 4096"),
    (lambda: lr.random_matrix("gaussian", 4, seed=-1), "seed must be at least 0"),
    (lambda: lr.random_matrix("gaussian", 4, seed=1.5), "seed must be an integer"),
    (lambda: lr.random_matrix(None, 4), "kind must be one of 'gaussian', 'symmetric', 'orthogonal', 'stochastic'"),
    (lambda: lr.spectrum(np.ones((2, 3))), r"A must be square \(n, n\)"),
    (lambda: lr.spectrum([[1.0, np.nan], [0.0, 1.0]]), "A contains NaN or infinite values"),
])
def test_strict_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
