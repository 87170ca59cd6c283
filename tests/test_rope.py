"""la_core.rope against direct formulas and against transformers: RoPE as a block-diagonal rotation
matrix (both pair layouts), R(mθ)R(−mθ) = I, offset invariance, and a tiny Llama's own rotation
(its frequencies, apply_rotary_pos_emb, and q/k before RoPE read from its projections)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from la_core import rope as lr
from tests.model_fixtures import tiny_models  # noqa: F401

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
    got = lr.rope_rotate(x, pos)
    want = np.stack([rotation_matrix(16, p) @ x[t] for t, p in enumerate(pos)])
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_rope_angles_and_frequencies():
    x = np.ones((3, 8))
    res = lr.rope_rotate(x, [0, 2, 7], base=500.0, return_angles=True)
    _, ang = res                                         # a RopeRotation unpacks as (rotated, angles)
    np.testing.assert_array_equal(res.rotated, lr.rope_rotate(x, [0, 2, 7], base=500.0))
    assert res.angles is ang
    theta = 500.0 ** (-np.arange(4) * 2 / 8)
    np.testing.assert_allclose(ang, np.array([0, 2, 7])[:, None] * theta[None, :])
    np.testing.assert_allclose(lr.rope_frequencies(8, 500.0), theta)
    assert lr.rope_frequencies(64)[0] == 1.0


def test_rope_position_zero_is_identity_and_vector_input():
    x = np.random.default_rng(1).standard_normal((4, 64))
    np.testing.assert_allclose(lr.rope_rotate(x, np.zeros(4, int)), x, atol=1e-12)
    v = x[0]
    np.testing.assert_allclose(lr.rope_rotate(v, 3), lr.rope_rotate(v[None], [3])[0])


def test_rope_scores_depend_only_on_offset():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal(64), rng.standard_normal(64)
    S = lr.rope_scores(q, k, 32)
    for off in range(-31, 32):
        diag = np.diagonal(S, offset=off)
        assert np.ptp(diag) < 1e-9
    # and it is not constant overall (the offset matters)
    assert np.ptp(S) > 0.1
    assert S[5, 5] == pytest.approx(q @ k)


@SETTINGS
@given(half=st.integers(1, 16), m=st.integers(-5000, 5000), n=st.integers(-5000, 5000),
       shift=st.integers(-1000, 1000), seed=st.integers(0, 2**31 - 1),
       base=st.floats(2.0, 1e6))
def test_rope_offset_invariance_and_norms(half, m, n, shift, seed, base):
    d = 2 * half
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal(d), rng.standard_normal(d)
    qm, kn = lr.rope_rotate(np.stack([q, k]), [m, n], base)
    qs, ks = lr.rope_rotate(np.stack([q, k]), [m + shift, n + shift], base)
    assert qm @ kn == pytest.approx(qs @ ks, abs=1e-6 * (1 + abs(qm @ kn)))
    np.testing.assert_allclose(np.linalg.norm(qm), np.linalg.norm(q), rtol=1e-10)
    # inverse: rotating by -m undoes m
    back = lr.rope_rotate(qm, -m, base)
    np.testing.assert_allclose(back, q, atol=1e-8)




def half_rotation_matrix(d, pos, theta):
    """RoPE matrix in transformers' layout: pair i is (i, i + d/2)."""
    R = np.eye(d)
    for i in range(d // 2):
        c, s = np.cos(pos * theta[i]), np.sin(pos * theta[i])
        j = i + d // 2
        R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def test_half_layout_pairs_i_with_i_plus_half_d():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 12))
    pos = np.array([0, 1, 3, 40, 999])
    theta = lr.rope_frequencies(12, 500.0)
    got = lr.rope_rotate(x, pos, 500.0, layout="half")
    want = np.stack([half_rotation_matrix(12, p, theta) @ x[t] for t, p in enumerate(pos)])
    np.testing.assert_allclose(got, want, atol=1e-10)
    first, second = lr.pair_indices(12, "half")
    np.testing.assert_array_equal(first, np.arange(6))
    np.testing.assert_array_equal(second, np.arange(6, 12))
    np.testing.assert_array_equal(lr.pair_indices(12)[1], np.arange(1, 12, 2))


@pytest.mark.parametrize("layout", lr.LAYOUTS)
@pytest.mark.parametrize("m", [0, 1, 7, 2047, -3])
def test_rotation_times_inverse_is_identity(layout, m):
    """R(mθ) R(−mθ) = I: rotate the identity's rows, then undo, as matrices."""
    d = 16
    eye = np.eye(d)
    R = lr.rope_rotate(eye, m, 10000.0, layout=layout).T           # columns: R e_j
    R_inv = lr.rope_unrotate(eye, m, 10000.0, layout=layout).T
    np.testing.assert_allclose(R @ R_inv, eye, atol=1e-12)
    np.testing.assert_allclose(R_inv, R.T, atol=1e-12)              # a rotation: the inverse is the transpose


def test_scores_in_the_half_layout_depend_only_on_offset():
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal(16), rng.standard_normal(16)
    theta = rng.uniform(0.001, 1.0, 8)
    S = lr.rope_scores(q, k, 40, layout="half", frequencies=theta)
    for off in range(-39, 40):
        assert np.ptp(np.diagonal(S, offset=off)) < 1e-9
    assert S[3, 1] == pytest.approx(lr.rope_rotate(q, 3, layout="half", frequencies=theta)
                                    @ lr.rope_rotate(k, 1, layout="half", frequencies=theta))


# --------------------------------------------------------------------- a model's own rotation
def llama_config(**rope):
    import transformers as tr

    return tr.LlamaConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                          max_position_embeddings=256, rope_parameters=rope)


ROPES = {
    "default": dict(rope_type="default", rope_theta=500000.0),
    "llama3": dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                   original_max_position_embeddings=64),
    "yarn": dict(rope_type="yarn", rope_theta=10000.0, factor=4.0, original_max_position_embeddings=64),
}


@pytest.mark.parametrize("kind", ROPES)
def test_model_rope_matches_transformers_rotary_embedding(kind):
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    cfg = llama_config(**ROPES[kind])
    emb = LlamaRotaryEmbedding(cfg)
    rope = lr.model_rope(cfg)
    assert rope.rope_type == kind and rope.base == ROPES[kind]["rope_theta"]
    np.testing.assert_array_equal(rope.frequencies, emb.inv_freq.double().numpy())
    assert rope.scaling == pytest.approx(emb.attention_scaling)
    assert (rope.scaling != 1.0) == (kind == "yarn")
    T, d = 50, 16
    pos = torch.arange(T)[None]                                      # (1, T)
    q = torch.randn(1, 4, T, d, generator=torch.Generator().manual_seed(0))   # (B, H, T, d)
    cos, sin = emb(q, pos)                                           # (1, T, d) each
    q_rot, _ = apply_rotary_pos_emb(q, q, cos, sin)                  # (1, H, T, d)
    for h in range(4):
        ours = lr.model_rope_rotate(q[0, h].numpy(), np.arange(T), rope)
        np.testing.assert_allclose(ours, q_rot[0, h].numpy(), atol=2e-5)
        back = lr.model_rope_unrotate(q_rot[0, h].double().numpy(), np.arange(T), rope)
        np.testing.assert_allclose(back, q[0, h].numpy(), atol=2e-5)


def test_models_without_rope():
    import transformers as tr

    assert lr.model_rope(tr.GPT2Config()) is None
    assert lr.model_rope(tr.BertConfig()) is None
    with pytest.raises(ValueError, match="family"):
        lr.model_rope(tr.T5Config())
    with pytest.raises(ValueError, match="rope_type 'wobble' is unknown"):
        lr.model_rope(llama_config(rope_type="wobble", rope_theta=10000.0))


def test_unrotating_the_models_q_and_k_gives_its_projections(tiny_models):  # noqa: F811
    """Model.attention's q, k are after RoPE; undoing the rotation with the model's own θ gives
    exactly q_proj and k_proj of the layer's input (read with hooks during the same pass)."""
    from la_core.models import load_model

    model = load_model(tiny_models["llama"])
    rope = lr.model_rope(model.config)
    assert rope.base == 500000.0 and rope.frequencies.size == model.d_head // 2
    seen = {}
    attn = model.model.layers[1].self_attn
    hooks = [getattr(attn, f"{n}_proj").register_forward_hook(
        lambda mod, inp, out, n=n: seen.__setitem__(n, out[0].detach())) for n in ("q", "k")]
    try:
        ma = model.attention("The cat sat on the mat because it was warm.")
    finally:
        for h in hooks:
            h.remove()
    T, d = len(ma.tokens), model.d_head
    q_pre = seen["q"].view(T, model.n_heads, d).transpose(0, 1).numpy()        # (H, T, d)
    k_pre = seen["k"].view(T, model.n_kv_heads, d).transpose(0, 1).numpy()     # (H_kv, T, d)
    group = model.n_heads // model.n_kv_heads
    for h in range(model.n_heads):
        np.testing.assert_allclose(lr.model_rope_unrotate(ma.q[1, h], np.arange(T), rope), q_pre[h], atol=1e-5)
        np.testing.assert_allclose(lr.model_rope_unrotate(ma.k[1, h], np.arange(T), rope), k_pre[h // group],
                                   atol=1e-5)
    # and the rotation must be the model's: the plain θ = 10000 does not undo it
    wrong = lr.rope_unrotate(ma.q[1, 0], np.arange(T), 10000.0, layout="half")
    assert np.abs(wrong - q_pre[0]).max() > 1e-3


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="even number of columns"):
        lr.rope_rotate(np.ones((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="must be integers"):
        lr.rope_rotate(np.ones((2, 4)), [0, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        lr.rope_rotate(np.array([[1.0, np.nan]]), [0])
    with pytest.raises(ValueError, match="NaN"):
        lr.rope_rotate(np.ones((1, 2)), [np.nan])
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        lr.rope_rotate(np.ones((2, 4)), [0, 1, 2])
    with pytest.raises(ValueError, match="base"):
        lr.rope_rotate(np.ones((1, 4)), [0], base=1.0)
    with pytest.raises(ValueError, match="integers"):
        lr.rope_rotate(np.ones((1, 4)), ["a"])
    with pytest.raises(ValueError, match="even integer"):
        lr.rope_frequencies(7)
    with pytest.raises(ValueError, match="same shape"):
        lr.rope_scores(np.ones(4), np.ones(6), 5)
    with pytest.raises(ValueError, match="layout must be one of 'interleaved', 'half'"):
        lr.rope_rotate(np.ones((1, 4)), [0], layout="pairs")
    with pytest.raises(ValueError, match=r"frequencies must have shape \(2,\)"):
        lr.rope_rotate(np.ones((1, 4)), [0], frequencies=[1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="ModelRope"):
        lr.model_rope_unrotate(np.ones(4), 0, rope=10000.0)


@pytest.mark.parametrize("call, match", [
    (lambda: lr.rope_frequencies(8.0), r"d must be an integer; got 8\.0 \(float\)"),
    (lambda: lr.rope_frequencies(True), "d must be an integer"),
    (lambda: lr.rope_frequencies(0), "d must be at least 2"),
    (lambda: lr.rope_frequencies(8, base="big"), "base must be a number"),
    (lambda: lr.rope_frequencies(8, base=np.inf), "base must be finite"),
    (lambda: lr.rope_scores(np.ones(4), np.ones(4), 5.0), "n_positions must be an integer"),
    (lambda: lr.rope_scores(np.ones(4), np.ones(4), 4097), r"n_positions must be at most 4096.*\[1, 4096\]"),
])
def test_strict_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
