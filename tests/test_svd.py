"""la_core.svd against numpy: singular values, Eckart–Young, energy, LoRA counts, bad input."""
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from la_core import svd as ls
from la_core import svd_channels as sc

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 7), (40, 40), (120, 64)])
def test_singular_values_match_numpy(shape):
    A = RNG.standard_normal(shape)
    U, S, Vh = ls.svd(A)
    k = min(shape)
    assert U.shape == (shape[0], k) and S.shape == (k,) and Vh.shape == (k, shape[1])
    assert U.dtype == np.float32
    np.testing.assert_allclose(S, np.linalg.svd(A, compute_uv=False), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-4)
    np.testing.assert_allclose(Vh @ Vh.T, np.eye(k), atol=1e-4)
    np.testing.assert_allclose(ls.reconstruct(U, S, Vh, k), A, atol=1e-4)


def test_svd_result_is_a_named_tuple():
    A = RNG.standard_normal((6, 4))
    res = ls.svd(A, dtype="float64")
    assert isinstance(res, ls.SVDResult) and len(res) == 3
    U, S, Vh = res
    assert res.U is U and res.S is S and res.Vh is Vh
    np.testing.assert_allclose((res.U * res.S) @ res.Vh, A, atol=1e-12)
    assert isinstance(ls.svd(A, backend="numpy"), ls.SVDResult)


@pytest.mark.parametrize("C, shape, image", [(1, (30, 20), False), (3, (12, 17), True), (1, (9, 9), True)])
def test_factor_channels_matches_numpy_per_channel(C, shape, image):
    chans = (RNG.random((C, *shape)) * (255 if image else 1) - (0 if image else 0.5)).astype(np.float32)
    f = sc.factor_channels(chans, image, note="test")
    k = min(shape)
    assert f.shape == (C, *shape, k) and f.colour == (C == 3) and f.image is image and f.note == "test"
    assert f.U.shape == (C, shape[0], k) and f.S.shape == (C, k) and f.Vh.shape == (C, k, shape[1])
    assert f.A is chans and f.t_svd >= 0
    ref = np.linalg.svd(chans.astype(np.float64), full_matrices=False)       # stacked: one per channel
    np.testing.assert_allclose(f.S, ref.S, rtol=1e-4, atol=1e-4 * ref.S.max())
    np.testing.assert_allclose(f.s, np.sqrt((ref.S ** 2).sum(0)), rtol=1e-4)
    for r in (0, 1, k // 2, k):
        ref_r = (ref.U[..., :r] * ref.S[:, None, :r]) @ ref.Vh[:, :r]          # (C, m, n)
        rec = f.reconstruct(r)
        assert rec.shape == chans.shape
        np.testing.assert_allclose(rec, ref_r, atol=2e-4 * ref.S.max())
        # Eckart–Young over all channels together: the combined spectrum's tail is the total error
        err = np.linalg.norm(chans.astype(np.float64) - ref_r)
        assert ls.truncation_error(f.s, r) == pytest.approx(err, rel=1e-3, abs=1e-4 * ref.S.max())
    if image:
        assert (f.lo, f.hi, f.signed) == (0.0, 255.0, False)
    else:
        assert f.hi == pytest.approx(np.abs(chans).max()) and f.lo == -f.hi and f.signed


def test_factor_channels_previews_are_block_means_of_the_approximations():
    chans = RNG.standard_normal((3, 70, 45)).astype(np.float32)
    f = sc.factor_channels(chans, False)
    p = f.previews(max_side=20)                                  # blocks of 4×4: 17×11 previews
    assert p.factor == 4 and p.ranks == list(range(1, 46)) and p.frames.shape == (45, 17, 11, 3)
    for i in (0, 9, 44):
        full = f.reconstruct(p.ranks[i])[:, :68, :44]                             # (3, 68, 44)
        block = full.reshape(3, 17, 4, 11, 4).mean(axis=(2, 4))
        np.testing.assert_allclose(p.frames[i], np.moveaxis(block, 0, -1), atol=1e-4)
    grey = sc.factor_channels(RNG.standard_normal((1, 300, 100)), False).previews()
    assert grey.factor == 3 and grey.frames.shape[1:] == (100, 33)            # one channel: no channel axis
    assert grey.ranks[:64] == list(range(1, 65)) and grey.ranks[-1] == 100 and grey.ranks == sorted(set(grey.ranks))


def test_factor_channels_pickles():
    f = sc.factor_channels(RNG.standard_normal((1, 5, 4)), False, note="n")
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.U, f.U)
    assert g.note == "n" and g.hi == f.hi


def test_float64_and_numpy_backend():
    A = RNG.standard_normal((30, 20))
    U, S, Vh = ls.svd(A, dtype="float64")
    assert S.dtype == np.float64
    np.testing.assert_allclose(S, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    _, S2, _ = ls.svd(A, backend="numpy")
    np.testing.assert_allclose(S2, S, rtol=1e-5)


@pytest.mark.parametrize("r", [0, 1, 3, 10, 25, 40])
def test_eckart_young_measured_error_is_spectrum_tail(r):
    A = RNG.standard_normal((60, 40))
    U, S, Vh = ls.svd(A, dtype="float64")
    Ar = ls.reconstruct(U, S, Vh, r)
    fro = np.linalg.norm(A - Ar)
    assert fro == pytest.approx(ls.truncation_error(S, r), rel=1e-9, abs=1e-9)
    assert fro / np.linalg.norm(A) == pytest.approx(ls.truncation_error(S, r, kind="relative"), rel=1e-9, abs=1e-9)
    spec = np.linalg.norm(A - Ar, 2)
    assert spec == pytest.approx(ls.truncation_error(S, r, kind="spectral"), rel=1e-9, abs=1e-9)
    # best: a random rank-r matrix built differently is never better
    if 0 < r < 40:
        Q = A @ RNG.standard_normal((40, r))                  # a random rank-r column space
        B = Q @ np.linalg.pinv(Q) @ A                          # best fit of A inside it
        assert np.linalg.norm(A - B) >= fro - 1e-9


def test_reconstruct_rank_is_exactly_r_and_clipping():
    A = RNG.standard_normal((30, 20))
    U, S, Vh = ls.svd(A, dtype="float64")
    for r in (1, 2, 7, 19):
        assert np.linalg.matrix_rank(ls.reconstruct(U, S, Vh, r)) == r
    np.testing.assert_array_equal(ls.reconstruct(U, S, Vh, 0), np.zeros((30, 20)))
    np.testing.assert_allclose(ls.reconstruct(U, S, Vh, 999), ls.reconstruct(U, S, Vh, 20))


def test_reconstruct_many_matches_single():
    A = RNG.standard_normal((25, 18)).astype(np.float32)
    U, S, Vh = ls.svd(A)
    ranks = [5, 1, 18, 3, 3, 40]
    many = ls.reconstruct_many(U, S, Vh, ranks)
    for i, r in enumerate(ranks):
        np.testing.assert_allclose(many[i], ls.reconstruct(U, S, Vh, r), atol=1e-5)


def test_energy_and_rank_for_energy():
    S = np.array([4.0, 2.0, 1.0, 1.0])
    e = ls.energy(S)
    np.testing.assert_allclose(e, np.cumsum(S ** 2) / (S ** 2).sum())
    assert ls.rank_for_energy(S, 0.5) == 1          # 16/22 ≥ 0.5
    assert ls.rank_for_energy(S, 0.9) == 2          # 20/22 = 0.909
    assert ls.rank_for_energy(S, 0.95) == 3
    assert ls.rank_for_energy(S, 1.0) == 4
    assert ls.truncation_error(S, [0, 1, 2, 4]).tolist() == pytest.approx([np.sqrt(22), np.sqrt(6), np.sqrt(2), 0])


def test_lora_params_and_storage():
    assert ls.lora_params(384, 384, 8) == (147456, 6144)
    counts = ls.storage(np.int64(100), 50, 3)                  # NumPy integers are integers
    assert (counts.full, counts.low_rank) == (5000, 3 * 151) and type(counts.full) is int
    assert ls.lora_params(1536, 384, 16) == (1536 * 384, 16 * 1920)
    assert ls.lora_params(4096, 4096, 0) == (4096 ** 2, 0)
    assert ls.storage(100, 50, 3) == (5000, 3 * 151)


def test_effective_rank():
    assert ls.effective_rank([5.0, 0, 0]) == pytest.approx(1.0)
    assert ls.effective_rank(np.ones(7)) == pytest.approx(7.0)
    assert 1 < ls.effective_rank([3.0, 2.0, 1.0]) < 3


def test_head_qk_has_rank_at_most_dk():
    wq, wk = RNG.standard_normal((48, 48)), RNG.standard_normal((48, 48))
    m = ls.head_qk(wq, wk, head=2, n_heads=6)
    assert m.shape == (48, 48)
    assert np.linalg.matrix_rank(m, tol=1e-3) == 8
    x, y = RNG.standard_normal(48), RNG.standard_normal(48)
    q, k = (wq @ x)[16:24], (wk @ y)[16:24]
    assert x @ m @ y == pytest.approx(q @ k, rel=1e-4)


def test_geometry_2d_ends_at_A_x():
    A = np.array([[2.0, 1.0], [0.5, -1.0]])
    g = ls.geometry_2d(A, 50)
    np.testing.assert_allclose(g.stages[3], g.stages[0] @ A.T, atol=1e-12)
    np.testing.assert_allclose(np.abs(g.stages[2]).max(axis=0), g.S, rtol=1e-2)


def test_synthetic_spectrum_and_downsample():
    A = ls.synthetic(50, 30, decay=1.0, noise=0.0, seed=1)
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False), 1.0 / np.arange(1, 31), rtol=1e-4, atol=1e-6)
    img = RNG.random((9, 13, 3))
    d = sc.downsample(img, 5)
    assert d.shape == (3, 4, 3)
    np.testing.assert_allclose(d[0, 0], img[:3, :3].mean(axis=(0, 1)), rtol=1e-5)
    D = sc.block_mean_matrix(9, 3)
    np.testing.assert_allclose(D @ img[:, :12, 0] @ sc.block_mean_matrix(12, 3).T, d[:, :, 0], rtol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: ls.svd([1.0, 2.0]), "must be 2-D"),
    (lambda: ls.svd([[1.0, np.nan]]), "NaN or infinite"),
    (lambda: ls.svd(np.array([[1.0, np.inf]], np.float32)), "NaN or infinite"),
    (lambda: ls.svd([["a", "b"]]), "numeric array"),
    (lambda: ls.svd(np.zeros((0, 3))), "at least 1 entries"),
    (lambda: ls.svd(np.eye(2), dtype="int8"), "dtype must be"),
    (lambda: ls.reconstruct(np.eye(2), np.ones(2), np.eye(2), -1), "rank must be at least 0"),
    (lambda: ls.reconstruct(np.eye(2), np.ones(2), np.eye(2), 1.0), "rank must be an integer"),
    (lambda: ls.reconstruct_many(np.eye(2), np.ones(2), np.eye(2), [1, 2.0]), "rank must be an integer"),
    (lambda: ls.svd(np.eye(2), backend="scipy"), "backend must be one of"),
    (lambda: ls.reconstruct(np.eye(2), np.ones(3), np.eye(2), 1), "thin SVD factors"),
    (lambda: ls.truncation_error([1.0, -1.0], 1), "all ≥ 0"),
    (lambda: ls.truncation_error([1.0], 1, kind="nuclear"), "kind must be"),
    (lambda: ls.rank_for_energy([1.0], 1.5), r"in \(0, 1\]"),
    (lambda: ls.rank_for_energy([0.0, 0.0], 0.5), "all zeros"),
    (lambda: ls.lora_params(0, 3, 1), "m must be at least 1"),
    (lambda: ls.lora_params(3.0, 3, 1), "m must be an integer"),
    (lambda: ls.lora_params(3, 3, True), "r must be an integer"),
    (lambda: ls.lora_params(3, 3, -1), "r must be at least 0"),
    (lambda: ls.storage(3, np.float64(3), 1), "n must be an integer"),
    (lambda: ls.rank_for_energy([1.0], True), "must be a number"),
    (lambda: ls.head_qk(np.eye(4), np.eye(4), 2, 2), "head must be at most 1"),
    (lambda: ls.geometry_2d(np.eye(2), 50.0), "n_points must be an integer"),
    (lambda: sc.factor_channels(np.ones((2, 3)), False), "must be 3-D"),
    (lambda: sc.factor_channels(np.ones((1, 3, 3)), 1), "image must be True or False"),
    (lambda: sc.factor_channels(np.full((1, 2, 2), 1e300), False), "float32's range"),
    (lambda: sc.factor_channels(np.ones((1, 3, 3), np.float32), False).reconstruct(2.0), "rank must be an integer"),
    (lambda: ls.effective_rank([0.0]), "undefined"),
    (lambda: ls.geometry_2d(np.eye(3)), "2×2"),
])
def test_bad_input_raises_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


matrices = st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.floats(-100, 100, allow_nan=False, width=32)))


@settings(max_examples=40, deadline=None)
@given(matrices, st.integers(0, 15))
def test_properties(A, r):
    U, S, Vh = ls.svd(A, dtype="float64")
    assert np.all(np.diff(S) <= 1e-9) and np.all(S >= 0)
    e = ls.energy(S)
    assert np.all(np.diff(e) >= -1e-12)
    if S.sum() > 0:
        assert e[-1] == 1.0
    Ar = ls.reconstruct(U, S, Vh, r)
    scale = max(1.0, np.linalg.norm(A))
    assert abs(np.linalg.norm(A - Ar) - ls.truncation_error(S, r)) <= 1e-8 * scale
    assert ls.truncation_error(S, r, kind="spectral") <= ls.truncation_error(S, r) + 1e-12
    full, low = ls.lora_params(A.shape[0], A.shape[1], r)
    assert full == A.size and low == r * sum(A.shape)
