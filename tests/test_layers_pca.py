"""la_core.layers: the PCA shared by all layers against scikit-learn, the per-layer share and cosine
against NumPy, the residual stream around the final norm, and the logit lens against transformers'
causal-LM modules (``lm_head(norm(h))`` and the model's own logits) on tiny random models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from la_core import layers as ll
from tests.model_fixtures import tiny_models  # noqa: F401

TEXT = "the cat sat on the mat because it was warm"


def _states(seed=0, n_layers=4, t=9, d=16):
    rng = np.random.default_rng(seed)
    steps = rng.normal(size=(n_layers + 1, t, d)) * np.linspace(1, 4, n_layers + 1)[:, None, None]
    return np.cumsum(steps, axis=0) + 3.0                                    # drifting, growing, offset


def _same_up_to_sign(a, b, atol):
    """Columns of a equal those of b up to one sign per column."""
    for j in range(a.shape[1]):
        s = np.sign(a[:, j] @ b[:, j]) or 1.0
        np.testing.assert_allclose(a[:, j], s * b[:, j], atol=atol)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_pca_is_sklearn_pca_of_the_stacked_tokens(k, dtype):
    from sklearn.decomposition import PCA as SkPCA

    h = _states().astype(dtype)
    n_l, t, d = h.shape
    res = ll.layer_pca(h, k)
    sk = SkPCA(k, svd_solver="full").fit(h.reshape(-1, d).astype(np.float64))
    ref = sk.transform(h.reshape(-1, d).astype(np.float64))
    assert res.coords.shape == (n_l, t, k) and res.coords.dtype == np.float32
    tol = 1e-4 * np.abs(ref).max()
    _same_up_to_sign(res.coords.reshape(-1, k).astype(np.float64), ref, tol)
    _same_up_to_sign(res.components.T, sk.components_.T, 1e-5)
    np.testing.assert_allclose(res.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-5)
    np.testing.assert_allclose(res.mean, sk.mean_, rtol=1e-5, atol=1e-5)


def test_layer_share_and_variance_against_numpy():
    h = _states(1)
    res = ll.layer_pca(h, 2)
    W = res.components                                                       # (2, d)
    for i, layer in enumerate(h):
        c = layer - layer.mean(0)
        total = (c ** 2).sum()
        assert res.layer_share[i] == pytest.approx(((c @ W.T) ** 2).sum() / total, rel=1e-9)
        assert res.layer_variance[i] == pytest.approx(np.var(layer, axis=0, ddof=1).sum(), rel=1e-9)
    assert np.all((0 <= res.layer_share) & (res.layer_share <= 1))


def test_layers_lying_in_the_shared_plane_are_fully_shown_and_a_collapsed_layer_loses_nothing():
    rng = np.random.default_rng(2)
    h = np.zeros((3, 6, 5))
    h[0, :, :2] = rng.normal(size=(6, 2))                                    # in the plane of dims 0, 1
    h[1, :, :2] = rng.normal(size=(6, 2)) * 3
    h[2, :, :2] = (7.0, -3.0)                                                # every token the same point
    res = ll.layer_pca(h, 2)
    np.testing.assert_allclose(res.layer_share, [1.0, 1.0, 1.0], atol=1e-12)
    assert res.layer_variance[2] == 0.0


def test_mean_cosine_is_the_mean_over_pairs_of_different_tokens():
    h = _states(3, t=7)
    h[2, 4] = 0.0                                                            # a zero vector: cosine 0
    got = ll.mean_cosine(h)
    want = []
    for layer in h:
        n = np.linalg.norm(layer, axis=1, keepdims=True)
        u = np.divide(layer, n, out=np.zeros_like(layer), where=n > 0)
        cos = u @ u.T
        off = ~np.eye(len(layer), dtype=bool)
        want.append(cos[off].mean())
    np.testing.assert_allclose(got, want, atol=1e-12)
    same = np.tile(np.arange(1.0, 5.0), (2, 3, 1))                           # identical tokens: cosine 1
    np.testing.assert_allclose(ll.mean_cosine(same), [1.0, 1.0])
    opposite = np.array([[[1.0, 0.0], [-1.0, 0.0]]])
    np.testing.assert_allclose(ll.mean_cosine(opposite), [-1.0])
    huge = np.array([[[1e300, 1e300], [1e300, -1e300]]])                     # no overflow
    np.testing.assert_allclose(ll.mean_cosine(huge), [0.0], atol=1e-12)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 5)), "must be 3-D"),
    (np.zeros((2, 1, 4)), "at least 1 layer, 2 tokens"),
    (np.full((2, 3, 4), np.nan), "NaN or infinite"),
    ([["a"]], "3-D"),
    (np.array([[["a", "b"], ["c", "d"]]]), "numeric matrix"),
    (None, "3-D"),
])
def test_bad_states_are_refused(bad, message):
    for fn in (ll.layer_pca, ll.mean_cosine):
        with pytest.raises(ValueError, match=message):
            fn(bad)


def test_bad_k_is_refused():
    with pytest.raises(ValueError, match=r"k must be at most 3"):
        ll.layer_pca(_states(), 4)
    with pytest.raises(ValueError, match="k must be an integer"):
        ll.layer_pca(_states(), 2.0)
    with pytest.raises(ValueError, match="k=3 axes need at least 3 dimensions"):
        ll.layer_pca(_states(d=2), 3)


def test_layer_names():
    assert ll.layer_names(2) == ["embeddings", "layer 1", "layer 2"]
    with pytest.raises(ValueError, match="n_layers must be at least 0"):
        ll.layer_names(-1)


# ----------------------------------------------------------------------------- tiny models
@pytest.fixture(scope="module")
def handles(tiny_models):  # noqa: F811
    """Handles of the tiny models, their final norms given random weights (a freshly initialised norm has
    weight 1 and bias 0, so applying it twice would give nearly the same as once, and no test would see it)."""
    from la_core.models import load_model

    out = {fam: load_model(tiny_models[fam], device="cpu") for fam in ("bert", "gpt2", "llama", "mistral", "qwen2")}
    gen = torch.Generator().manual_seed(0)
    for fam in ("gpt2", "llama", "mistral", "qwen2"):
        base = out[fam].model
        norm = base.ln_f if fam == "gpt2" else base.norm
        with torch.no_grad():
            for p in norm.parameters():
                p.copy_(torch.rand(p.shape, generator=gen) * 2 - 0.5)
    return out


@pytest.fixture(scope="module")
def causal_lms(tiny_models, handles):  # noqa: F811
    """The same folders as transformers' causal LMs, with the handles' final-norm weights."""
    from transformers import AutoModelForCausalLM

    out = {}
    for fam in ("gpt2", "llama", "mistral"):
        lm = AutoModelForCausalLM.from_pretrained(tiny_models[fam], attn_implementation="eager").eval()
        ours = handles[fam].model.ln_f if fam == "gpt2" else handles[fam].model.norm
        with torch.no_grad():
            for p, q in zip(_norm(lm).parameters(), ours.parameters()):
                p.copy_(q)
        out[fam] = lm
    return out


def _reference_run(handle, lm):
    """The causal LM's own forward, with the inputs the handle gives its base model."""
    enc = handle.tokenizer(TEXT, return_tensors="pt")
    with torch.no_grad():
        return lm(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)


def _base(lm):
    return lm.transformer if hasattr(lm, "transformer") else lm.model


def _norm(lm):
    base = _base(lm)
    return base.ln_f if hasattr(base, "ln_f") else base.norm


@pytest.mark.parametrize("family", ["gpt2", "llama", "mistral", "qwen2"])
def test_token_states_put_the_raw_last_layer_where_transformers_puts_the_normed_one(handles, family):
    h = handles[family]
    ts = ll.token_states(h, TEXT)
    hs = h.hidden_states(TEXT)                                              # transformers' hidden_states
    assert ts.states.shape == hs.shape == (h.n_layers + 1, len(ts.tokens), h.d_model)
    assert ts.tokens == h.tokenizer.convert_ids_to_tokens(h.tokenizer(TEXT)["input_ids"])
    np.testing.assert_array_equal(ts.states[:-1], hs[:-1])
    norm = getattr(h.model, ts.final_norm)
    assert ts.final_norm == ("ln_f" if family == "gpt2" else "norm")
    with torch.no_grad():
        normed = norm(torch.from_numpy(ts.states[-1])).numpy()
    np.testing.assert_allclose(normed, hs[-1], atol=1e-5)                   # transformers' last is normed
    assert np.abs(ts.states[-1] - hs[-1]).max() > 0.1                       # … and ours is not


def test_token_states_of_an_encoder_are_its_hidden_states(handles):
    h = handles["bert"]
    ts = ll.token_states(h, TEXT)
    assert ts.final_norm is None
    np.testing.assert_array_equal(ts.states, h.hidden_states(TEXT))


@pytest.mark.parametrize("family", ["gpt2", "llama", "mistral"])
def test_logit_lens_is_lm_head_of_the_final_norm_of_every_layer(handles, causal_lms, family):
    h, lm = handles[family], causal_lms[family]
    lens = ll.logit_lens(h, TEXT, top=5)
    out = _reference_run(h, lm)
    n_l, t = h.n_layers + 1, len(lens.tokens)
    assert lens.top_ids.shape == lens.top_probs.shape == lens.top_tokens.shape == (n_l, t, 5)
    assert lens.layer_names == ll.layer_names(h.n_layers) and lens.final_norm in ("ln_f", "norm")
    assert lens.head == ("input embeddings (tied)" if family == "gpt2" else "lm_head.weight")
    with torch.no_grad():
        for i in range(n_l):
            raw = out.hidden_states[i][0]
            # transformers' last hidden state is already normed: the norm is applied once, not twice
            logits = lm.lm_head(raw if i == n_l - 1 else _norm(lm)(raw))       # (T, V)
            p, ids = torch.softmax(logits, -1).topk(5, dim=-1)
            np.testing.assert_allclose(lens.top_probs[i], p.numpy(), atol=2e-5)
            np.testing.assert_array_equal(lens.top_ids[i], ids.numpy())
    # the last layer is the model's own next-token distribution
    p, ids = torch.softmax(out.logits[0], -1).topk(5, dim=-1)
    np.testing.assert_allclose(lens.top_probs[-1], p.numpy(), atol=2e-5)
    np.testing.assert_array_equal(lens.top_ids[-1], ids.numpy())
    assert lens.top_tokens[0, 0, 0] == h.tokenizer.convert_ids_to_tokens(int(lens.top_ids[0, 0, 0]))
    assert np.all(np.diff(lens.top_probs, axis=-1) <= 0)                     # best first


def test_logit_lens_refuses_models_without_a_head(handles):
    with pytest.raises(ValueError, match=r"qwen2 has no language-model head: no lm_head.weight .*'Qwen2Model'"):
        ll.logit_lens(handles["qwen2"], TEXT)
    with pytest.raises(ValueError, match="is an encoder \\(bert\\); it has no next-token head"):
        ll.logit_lens(handles["bert"], TEXT)
    with pytest.raises(ValueError, match="model must be a la_core.models.Model"):
        ll.logit_lens("gpt2", TEXT)
    with pytest.raises(ValueError, match="top must be at most 50"):
        ll.logit_lens(handles["gpt2"], TEXT, top=51)
    with pytest.raises(ValueError, match="text must be a non-empty string"):
        ll.logit_lens(handles["gpt2"], "  ")


def test_logit_lens_top_tokens_name_ids_past_the_tokenizer(handles, monkeypatch):
    h = handles["llama"]
    lens = ll.logit_lens(h, TEXT, top=3)
    n_tok = len(h.tokenizer)
    W = torch.from_numpy(h.weight("lm_head.weight"))
    extra = torch.cat([W, 10 * W[:1]])                                      # a row past the vocabulary
    monkeypatch.setattr(ll, "_unembedding", lambda model, module: (extra, "lm_head.weight"))
    lens2 = ll.logit_lens(h, TEXT, top=3)
    assert (lens2.top_ids == n_tok).any() and not (lens.top_ids == n_tok).any()
    assert set(lens2.top_tokens[lens2.top_ids == n_tok]) == {f"<id {n_tok}>"}


def test_shared_pca_of_a_real_residual_stream(handles):
    ts = ll.token_states(handles["llama"], TEXT)
    res = ll.layer_pca(ts.states, 3)
    assert res.coords.shape == (handles["llama"].n_layers + 1, len(ts.tokens), 3)
    assert np.isfinite(res.coords).all() and res.layer_share.shape == (handles["llama"].n_layers + 1,)


def test_logit_lens_in_chunks_of_positions_gives_the_same_table(handles, monkeypatch):
    h = handles["gpt2"]
    whole = ll.logit_lens(h, TEXT)
    monkeypatch.setattr(ll, "_LOGITS_PER_CHUNK", 3 * len(h.tokenizer))      # 3 positions at a time
    parts = ll.logit_lens(h, TEXT)
    np.testing.assert_array_equal(parts.top_ids, whole.top_ids)
    np.testing.assert_allclose(parts.top_probs, whole.top_probs, atol=1e-6)
    assert len(whole.tokens) > 3
