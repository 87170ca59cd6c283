"""la_core.attention against torch's scaled_dot_product_attention, plus the maths it must obey."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from la_core import attention as A

SDPA = torch.nn.functional.scaled_dot_product_attention


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def sdpa(q, k, v, mask=None, scale=None):
    t = [torch.as_tensor(x, dtype=torch.float64) for x in (q, k, v)]
    m = None if mask is None else torch.as_tensor(mask)
    return SDPA(*t, attn_mask=m, scale=scale).numpy()


@pytest.mark.parametrize("T_q,T_k,d_k,d_v", [(1, 1, 1, 1), (5, 5, 8, 8), (7, 12, 3, 5), (64, 64, 256, 16)])
def test_matches_sdpa_without_mask(T_q, T_k, d_k, d_v):
    q, k, v = rand(T_q, d_k, seed=1), rand(T_k, d_k, seed=2), rand(T_k, d_v, seed=3)
    s = A.attention_steps(q, k, v)
    np.testing.assert_allclose(s.output, sdpa(q, k, v), atol=1e-10)
    np.testing.assert_allclose(s.scores, q @ k.T, atol=1e-10)
    np.testing.assert_allclose(s.scaled, q @ k.T / math.sqrt(d_k), atol=1e-10)
    assert s.scale == pytest.approx(1 / math.sqrt(d_k))
    assert s.mask is None
    np.testing.assert_array_equal(s.masked, s.scaled)


@pytest.mark.parametrize("kind", ["causal", "window", "padding", "random"])
@pytest.mark.parametrize("T,d_k", [(6, 4), (33, 64)])
def test_matches_sdpa_with_mask(kind, T, d_k):
    q, k, v = rand(T, d_k, seed=4), rand(T, d_k, seed=5), rand(T, 7, seed=6)
    if kind == "causal":
        mask = A.causal_mask(T)
    elif kind == "window":
        mask = A.sliding_window_mask(T, 3)
    elif kind == "padding":
        mask = A.padding_mask(T - 2, T)
    else:
        mask = np.random.default_rng(7).random((T, T)) < 0.5
        mask[:, 0] = True
    s = A.attention_steps(q, k, v, mask=mask, scale=0.7)
    np.testing.assert_allclose(s.output, sdpa(q, k, v, mask, scale=0.7), atol=1e-10)
    assert np.all(s.weights[~mask] == 0)
    assert np.all(np.isneginf(s.masked[~mask]))
    np.testing.assert_allclose(s.masked[mask], s.scaled[mask])


def test_batch_and_head_dims_and_float32():
    q, k, v = rand(2, 3, 5, 8, seed=8), rand(2, 3, 6, 8, seed=9), rand(2, 3, 6, 4, seed=10)
    mask = A.padding_mask([6, 4], 6)[:, None, :5, :]           # (2, 1, 5, 6) broadcasts over heads
    s = A.attention_steps(q, k, v, mask=mask)
    assert s.weights.shape == (2, 3, 5, 6) and s.output.shape == (2, 3, 5, 4)
    np.testing.assert_allclose(s.output, sdpa(q, k, v, mask), atol=1e-10)
    s32 = A.attention_steps(q, k, v, mask=mask, dtype="float32")
    assert s32.output.dtype == np.float32
    np.testing.assert_allclose(s32.output, s.output, atol=1e-5)


def test_rows_sum_to_one_and_causal_never_looks_ahead():
    T = 20
    s = A.attention_steps(rand(T, 16), rand(T, 16, seed=1), rand(T, 16, seed=2), mask=A.causal_mask(T))
    np.testing.assert_allclose(s.weights.sum(-1), 1.0, atol=1e-12)
    assert np.all(np.triu(s.weights, k=1) == 0)
    # changing a future token's key/value cannot change an earlier output
    k2, v2 = rand(T, 16, seed=1), rand(T, 16, seed=2)
    k2[-1] += 100.0
    v2[-1] -= 50.0
    s2 = A.attention_steps(rand(T, 16), k2, v2, mask=A.causal_mask(T))
    np.testing.assert_allclose(s2.output[:-1], s.output[:-1], atol=1e-12)
    assert not np.allclose(s2.output[-1], s.output[-1])


def test_scale_limits_uniform_and_one_hot():
    q, k, v = rand(8, 4), rand(10, 4, seed=1), rand(10, 3, seed=2)
    cold = A.attention_steps(q, k, v, scale=1e-12)
    np.testing.assert_allclose(cold.weights, 1 / 10, atol=1e-9)
    hot = A.attention_steps(q, k, v, scale=1e6)
    np.testing.assert_allclose(hot.weights.max(-1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(hot.weights.argmax(-1), (q @ k.T).argmax(-1))


@settings(max_examples=40, deadline=None)
@given(T_q=st.integers(1, 12), T_k=st.integers(1, 12), d_k=st.integers(1, 16), seed=st.integers(0, 10_000),
       log_scale=st.floats(-3, 1.5), density=st.floats(0.1, 1.0))
def test_properties(T_q, T_k, d_k, seed, log_scale, density):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((T_q, d_k)), rng.standard_normal((T_k, d_k)), rng.standard_normal((T_k, 3))
    mask = rng.random((T_q, T_k)) < density
    mask[np.arange(T_q), rng.integers(0, T_k, T_q)] = True    # at least one key per row
    s = A.attention_steps(q, k, v, scale=10 ** log_scale, mask=mask)
    np.testing.assert_allclose(s.weights.sum(-1), 1.0, atol=1e-12)
    assert np.all(s.weights >= 0) and np.all(s.weights[~mask] == 0)
    # output is a convex combination of the value rows: inside their bounding box
    assert np.all(s.output <= v.max(0) + 1e-9) and np.all(s.output >= v.min(0) - 1e-9)
    np.testing.assert_allclose(s.output, sdpa(q, k, v, mask, scale=10 ** log_scale), atol=1e-9)
    # adding a constant to a whole score row does not change the softmax: an extra coordinate
    # c_i in q_i against a column of ones in k shifts row i of QKᵀ by c_i
    c = rng.standard_normal((T_q, 1)) * 5
    shifted = A.attention_steps(np.hstack([q, c]), np.hstack([k, np.ones((T_k, 1))]), v,
                                scale=10 ** log_scale, mask=mask)
    np.testing.assert_allclose(shifted.scores, s.scores + c, atol=1e-9)
    np.testing.assert_allclose(shifted.weights, s.weights, atol=1e-9)
    ent = A.attention_entropy(s.weights)
    assert np.all(ent.per_row >= -1e-12) and np.all(ent.per_row <= np.log(mask.sum(-1)) + 1e-9)


def test_bad_inputs():
    q, k, v = rand(4, 3), rand(5, 3), rand(5, 2)
    with pytest.raises(ValueError, match="share d_k"):
        A.attention_steps(q, rand(5, 4), v)
    with pytest.raises(ValueError, match="same number of keys"):
        A.attention_steps(q, k, rand(6, 2))
    with pytest.raises(ValueError, match=r"shape \(T, d\)"):
        A.attention_steps(rand(3), k, v)
    with pytest.raises(ValueError, match="do not broadcast"):
        A.attention_steps(rand(2, 4, 3), rand(3, 5, 3), rand(3, 5, 2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        A.attention_steps(np.full((4, 3), np.nan), k, v)
    with pytest.raises(ValueError, match="positive finite"):
        A.attention_steps(q, k, v, scale=0)
    with pytest.raises(ValueError, match="positive finite"):
        A.attention_steps(q, k, v, scale=float("inf"))
    with pytest.raises(ValueError, match="does not fit"):
        A.attention_steps(q, k, v, mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="boolean"):
        A.attention_steps(q, k, v, mask=np.full((4, 5), 0.5))
    bad = np.ones((4, 5), bool)
    bad[2] = False
    with pytest.raises(ValueError, match=r"no key to attend to .*index \[\[2\]\]"):
        A.attention_steps(q, k, v, mask=bad)
    with pytest.raises(ValueError, match="dtype"):
        A.attention_steps(q, k, v, dtype="float16")


def test_masks():
    np.testing.assert_array_equal(A.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(A.sliding_window_mask(4, 2),
                                  [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(A.sliding_window_mask(4, 1, causal=False),
                                  [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]])
    assert A.sliding_window_mask(5, 99).sum() == A.causal_mask(5).sum()
    p = A.padding_mask(2, 4)
    assert p.shape == (4, 4) and p[:, :2].all() and not p[:, 2:].any()
    pb = A.padding_mask([1, 3], 3)
    assert pb.shape == (2, 3, 3) and pb[0, :, 0].all() and not pb[0, :, 1:].any() and pb[1].all()
    np.testing.assert_array_equal(A.padding_mask(np.array([True, False, True])), [[1, 0, 1]] * 3)
    with pytest.raises(ValueError, match="T must be at least 1; got 0"):
        A.causal_mask(0)
    with pytest.raises(ValueError, match="window must be at least 1; got 0"):
        A.sliding_window_mask(4, 0)
    for not_int in (4.0, True):                          # strict integers: no silent casts
        with pytest.raises(ValueError, match=r"T must be an integer; got .* Accepted: integers ≥ 1"):
            A.causal_mask(not_int)
    assert A.causal_mask(np.int64(3)).shape == (3, 3)
    with pytest.raises(ValueError, match="needs T"):
        A.padding_mask(3)
    with pytest.raises(ValueError, match="between 1 and T"):
        A.padding_mask(5, 4)
    with pytest.raises(ValueError, match="no real token"):
        A.padding_mask(0, 4)
    with pytest.raises(ValueError, match="lengths"):
        A.padding_mask(np.array([0.5, 1.0]), 4)


def test_entropy():
    w = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0]])
    e = A.attention_entropy(w)
    np.testing.assert_allclose(e.per_row, [0.0, np.log(4), np.log(2)], atol=1e-12)
    assert e.max_nats == pytest.approx(np.log(4))
    p = np.random.default_rng(0).dirichlet(np.ones(6), size=(2, 5))
    ref = -(p * np.log(p)).sum(-1)
    np.testing.assert_allclose(A.attention_entropy(p).per_row, ref, atol=1e-12)
    with pytest.raises(ValueError, match="sum to 1"):
        A.attention_entropy(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        A.attention_entropy(np.array([[1.5, -0.5]]))


def rollout_reference(att):
    """Straight NumPy transcription of Abnar & Zuidema (2020), eq. for rollout with residual."""
    T = att.shape[-1]
    result = np.eye(T)
    outs = []
    for a in att:
        a = 0.5 * a + 0.5 * np.eye(T)
        a = a / a.sum(-1, keepdims=True)
        result = a @ result
        outs.append(result)
    return np.array(outs)


def test_rollout():
    rng = np.random.default_rng(3)
    att = rng.dirichlet(np.ones(7), size=(4, 3, 7))            # (L=4, H=3, T=7, T)
    r = A.attention_rollout(att)
    assert r.shape == (4, 7, 7)
    np.testing.assert_allclose(r, rollout_reference(att.mean(1)), atol=1e-12)
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(A.attention_rollout(att.mean(1)), r, atol=1e-12)
    # identity attention everywhere: rollout is the identity
    np.testing.assert_allclose(A.attention_rollout(np.broadcast_to(np.eye(5), (3, 5, 5)))[-1], np.eye(5))
    # residual=0: plain product of the attention matrices
    a2 = att.mean(1)
    np.testing.assert_allclose(A.attention_rollout(a2, residual=0.0)[-1], a2[3] @ a2[2] @ a2[1] @ a2[0],
                               atol=1e-12)
    with pytest.raises(ValueError, match="square"):
        A.attention_rollout(rng.dirichlet(np.ones(4), size=(2, 3)))
    with pytest.raises(ValueError, match="3-D or 4-D"):
        A.attention_rollout(np.eye(3))
    with pytest.raises(ValueError, match="residual"):
        A.attention_rollout(att, residual=1.0)


def test_scaling_study_shows_saturation():
    st_ = A.scaling_study(d_ks=(1, 16, 256, 1024), n_keys=16, n_samples=400, seed=0)
    # Var(q·k) = d_k without scaling, 1 with it
    np.testing.assert_allclose(st_.var_raw / st_.d_k, 1.0, rtol=0.15)
    np.testing.assert_allclose(st_.var_scaled, 1.0, rtol=0.15)
    assert st_.max_weight_raw[-1] > 0.95 > st_.max_weight_scaled[-1]
    assert st_.entropy_raw[-1] < 0.2 < st_.entropy_scaled[-1]
    with pytest.raises(ValueError, match="positive integers"):
        A.scaling_study(d_ks=(0, 4))


def _numpy_mean_entropy(q, k, s, keep=None):
    """Reference: NumPy softmax of s·q kᵀ (masked), then −Σ w log w per row, averaged."""
    z = s * (q @ k.T)
    if keep is not None:
        z = np.where(keep, z, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    w = np.exp(z)
    w /= w.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(w > 0, w * np.log(w), 0.0).sum(-1)
    return h.mean()


@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 12), d_k=st.integers(1, 8), seed=st.integers(0, 10_000),
       kind=st.sampled_from(["none", "causal", "window"]))
def test_entropy_by_scale_matches_one_softmax_per_scale(T, d_k, seed, kind):
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(T, d_k)), rng.normal(size=(T, d_k))
    keep = {"none": None, "causal": A.causal_mask(T), "window": A.sliding_window_mask(T, 2)}[kind]
    scales = np.logspace(-2, 2, 9) / math.sqrt(d_k)
    got = A.entropy_by_scale(q, k, scales, mask=keep)
    ref = [_numpy_mean_entropy(q, k, s, keep) for s in scales]
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    # tiny scale: every row is uniform over the keys it may see
    allowed = np.ones((T, T), bool) if keep is None else keep
    np.testing.assert_allclose(A.entropy_by_scale(q, k, [1e-9], mask=keep)[0],
                               np.log(allowed.sum(-1)).mean(), atol=1e-6)


def test_entropy_by_scale_refuses_bad_scales():
    q = np.ones((3, 2))
    for bad in ([], [0.0], [-1.0], [[1.0]], [np.inf]):
        with pytest.raises(ValueError, match="scale"):
            A.entropy_by_scale(q, q, bad)
    with pytest.raises(ValueError, match="overflow"):
        A.entropy_by_scale(q * 1e200, q * 1e200, [1e300])


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (2, 4, 7), (64, 600)])   # the last one takes the fused kernel
def test_small_softmax_matches_torch_softmax(shape):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g, dtype=torch.float64) * 30
    x[..., 1:][torch.rand(*x[..., 1:].shape, generator=g) < 0.3] = float("-inf")   # masked, never a whole row
    got = A._softmax(x)
    torch.testing.assert_close(got, torch.softmax(x, dim=-1), rtol=1e-12, atol=1e-15)
    assert (got[torch.isinf(x)] == 0).all()


@pytest.mark.parametrize("call, match", [
    (lambda: A.attention_steps(rand(2, 3), rand(2, 3), rand(2, 3), dtype=torch.float32),
     "dtype must be one of 'float32', 'float64'"),
    (lambda: A.attention_steps(rand(2, 3), rand(2, 3), rand(2, 3), scale="x"), "scale must be a positive finite number"),
    (lambda: A.padding_mask(2, 4.0), "T must be an integer"),
    (lambda: A.sliding_window_mask(4, 2.0), "window must be an integer"),
    (lambda: A.scaling_study(n_keys=1), "n_keys must be at least 2"),
    (lambda: A.scaling_study(n_samples=0), "n_samples must be at least 1"),
    (lambda: A.scaling_study(seed=2.0), "seed must be an integer"),
    (lambda: A.attention_rollout(np.full((1, 2, 2), 0.5), residual=np.nan), "residual must be finite"),
    (lambda: A.attention_rollout(np.full((1, 2, 2), 0.5), residual=1.0), r"residual must be in \[0, 1\)"),
])
def test_strict_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ the uniform reference follows the mask
def test_max_entropy_follows_the_mask():
    T = 16
    np.testing.assert_allclose(A.max_entropy(np.ones((T, T), bool)), np.full(T, np.log(T)))
    causal = A.max_entropy(A.causal_mask(T))
    np.testing.assert_allclose(causal, np.log(np.arange(1, T + 1)))         # row i (1-based) sees i keys
    assert causal.mean() == pytest.approx(1.917, abs=5e-4) and causal.mean() < np.log(T) - 0.8
    np.testing.assert_allclose(A.max_entropy(A.sliding_window_mask(T, 3)), np.log(np.minimum(np.arange(1, T + 1), 3)))
    np.testing.assert_allclose(A.max_entropy(A.padding_mask(5, T)), np.full(T, np.log(5)))
    assert A.max_entropy(A.padding_mask([2, 4], 4)).shape == (2, 4)         # batch of masks


@settings(max_examples=30, deadline=None)
@given(T_q=st.integers(1, 10), T_k=st.integers(1, 10), seed=st.integers(0, 10_000))
def test_max_entropy_is_reached_by_uniform_rows_and_never_exceeded(T_q, T_k, seed):
    """Uniform weights over the allowed keys reach the bound exactly (entropy measured independently
    with scipy); the softmax of any scores under the same mask stays below it."""
    from scipy.stats import entropy

    rng = np.random.default_rng(seed)
    mask = rng.random((T_q, T_k)) < 0.5
    mask[np.arange(T_q), rng.integers(0, T_k, T_q)] = True
    uniform = mask / mask.sum(-1, keepdims=True)
    bound = A.max_entropy(mask)
    np.testing.assert_allclose(bound, [entropy(row) for row in uniform], atol=1e-12)
    w = A.attention_steps(rng.normal(size=(T_q, 4)), rng.normal(size=(T_k, 4)), rng.normal(size=(T_k, 2)),
                          mask=mask, scale=3.0).weights
    assert np.all(A.attention_entropy(w).per_row <= bound + 1e-12)


def test_max_entropy_refuses_bad_masks():
    with pytest.raises(ValueError, match="no key to attend to"):
        A.max_entropy(np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="shape"):
        A.max_entropy(np.ones(3, bool))
    with pytest.raises(ValueError, match="boolean"):
        A.max_entropy(np.full((2, 2), 0.5))


def test_describe_mask_names_every_mask_of_the_module():
    T = 9
    assert A.describe_mask(np.ones((T, T), bool)) == ("none", None)
    assert A.describe_mask(A.causal_mask(T)) == ("causal", None)
    assert A.describe_mask(A.sliding_window_mask(T, 4)) == ("sliding window", 4)
    assert A.describe_mask(A.sliding_window_mask(T, T)) == ("causal", None)    # a window as long as the text
    assert A.describe_mask(A.padding_mask(6, T)) == ("padding", 6)
    odd = A.causal_mask(T).T.copy()
    assert A.describe_mask(odd).kind == "other"
    with pytest.raises(ValueError, match="square"):
        A.describe_mask(np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="square"):
        A.describe_mask(np.ones((2, 3, 3), bool))


@pytest.mark.parametrize("H,G", [(4, 4), (4, 2), (32, 8), (14, 2), (8, 1)])
def test_kv_head_of_matches_repeat_kv(H, G):
    """transformers repeats each key/value head for n_heads/n_kv_heads consecutive query heads."""
    kv = torch.arange(G).reshape(1, G, 1, 1).float()                  # (B, H_kv, T, d): head index as value
    rep = kv.repeat_interleave(H // G, dim=1)                          # what repeat_kv does
    np.testing.assert_array_equal(A.kv_head_of(H, G), rep.flatten().long().numpy())
    with pytest.raises(ValueError, match="multiple"):
        A.kv_head_of(6, 4)
    with pytest.raises(ValueError, match="n_kv_heads must be at most"):
        A.kv_head_of(4, 5)


def test_entropy_by_scale_in_chunks_equals_one_pass(monkeypatch):
    rng = np.random.default_rng(1)
    q, k = rng.normal(size=(12, 4)), rng.normal(size=(12, 4))
    scales = np.logspace(-1, 1, 7)
    whole = A.entropy_by_scale(q, k, scales, mask=A.causal_mask(12))
    monkeypatch.setattr(A, "_CHUNK_ELEMENTS", 200)                     # one or two scales per chunk
    np.testing.assert_allclose(A.entropy_by_scale(q, k, scales, mask=A.causal_mask(12)), whole, rtol=1e-12)


def test_masks_live_in_attention_masks_and_as_mask_checks_them():
    from la_core import attention_masks as M

    assert A.causal_mask is M.causal_mask and A.describe_mask is M.describe_mask      # re-exported
    np.testing.assert_array_equal(M.as_mask([[1, 0], [1, 1]]), [[True, False], [True, True]])
    b = M.as_mask(A.causal_mask(3), (2, 4, 3, 3))                  # broadcast over batch and heads
    assert b.shape == (2, 4, 3, 3) and b[1, 3].sum() == 6
    with pytest.raises(ValueError, match="does not fit"):
        M.as_mask(A.causal_mask(3), (4, 4))
    with pytest.raises(ValueError, match="at least 2 integers"):
        M.as_mask(A.causal_mask(3), (3,))
    with pytest.raises(ValueError, match="every entry of shape must be an integer"):
        M.as_mask(A.causal_mask(3), (3.0, 3))
    with pytest.raises(ValueError, match="no key to attend to"):
        M.as_mask([[1, 0], [0, 0]])
