"""Local models: MiniLM and tiny random models of every family, against transformers' own outputs."""
import os

import numpy as np
import pytest
import torch

from la_core import attention as A
from la_core import models
from tests.model_fixtures import D_MODEL, FAMILIES, N_HEADS, N_KV, N_LAYERS, tiny_models  # noqa: F401

LLAMA_LIKE = ("llama", "mistral", "qwen2")
TEXT = "The bank raised interest rates, so she moved her savings to the river bank."
TEXTS = ["The cat sat on the mat.", "A dog barked.", "king", "queens and kings of the old land rule"]


# ----------------------------------------------------------------------------- MiniLM: embeddings and weights
@pytest.fixture(scope="module")
def m():
    return models.load_model()


def test_config(m):
    assert (m.config.num_hidden_layers, m.config.num_attention_heads, m.config.hidden_size) == (6, 12, 384)


def test_embed_matches_sentence_transformers(m):
    from sentence_transformers import SentenceTransformer

    texts = ["The cat sat on the mat.", "A dog barked.", "king"]
    ours = m.embed(texts)
    ref = SentenceTransformer(models.bundled_path(), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (3, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    # similar sentences are closer than unrelated ones
    assert ours[0] @ ours[1] < 0.9


def test_weights(m):
    names = m.weight_names()
    q = "encoder.layer.0.attention.self.query.weight"
    assert q in names
    assert m.weight(q).shape == (384, 384)
    assert m.weight("encoder.layer.0.intermediate.dense.weight").shape == (1536, 384)
    with pytest.raises(ValueError, match="no parameter"):
        m.weight("nope")


# ----------------------------------------------------------------------------- MiniLM (handle)
def test_default_is_minilm_and_lazy():
    h = models.load_model()
    assert (h.name, h.family, h.n_layers, h.n_heads, h.n_kv_heads, h.d_model, h.d_head) == \
        (models.BUNDLED_NAME, "bert", 6, 12, 12, 384, 32)
    assert (h.causal, h.rope_theta, h.max_tokens, h.token_limit) == (False, None, 512, 512)
    assert os.path.samefile(h.path, models.bundled_path())
    w = h.weight("encoder.layer.0.attention.self.query.weight")
    assert w.shape == (384, 384) and not h.loaded          # weights come from the file, not the module
    assert "embeddings.position_ids" not in h.weight_names()   # an int64 buffer, not a weight
    assert isinstance(h.model, torch.nn.Module) and h.loaded


def test_minilm_embed_long_text_and_progress(m):
    """The handle embeds like sentence-transformers also past its 256-token input limit."""
    from sentence_transformers import SentenceTransformer

    texts = TEXTS + ["word " * 400]
    calls = []
    ours = m.embed(texts, batch_size=2, progress=lambda done, total: calls.append((done, total)))
    ref = SentenceTransformer(models.bundled_path(), device="cpu").encode(texts)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert calls == [(2, 5), (4, 5), (5, 5)]
    raw = m.embed(texts[:1], normalize=False)
    np.testing.assert_allclose(raw / np.linalg.norm(raw), ours[:1], atol=1e-6)
    assert m.embed([]).shape == (0, 384)
    with pytest.raises(ValueError, match="list of strings"):
        m.embed("a single string")


def _hooked_minilm_attention(text, m):
    """The former implementation: eager BertModel, output_attentions, forward hooks on Q/K/V."""
    from transformers import AutoModel

    ref = AutoModel.from_pretrained(models.bundled_path(), attn_implementation="eager").eval()
    enc = m.tokenizer(text, return_tensors="pt")
    got = {}
    hooks = [getattr(layer.attention.self, w).register_forward_hook(
        lambda _m, _i, out, key=(i, w): got.__setitem__(key, out[0]))
        for i, layer in enumerate(ref.encoder.layer) for w in ("query", "key", "value")]
    with torch.inference_mode():
        out = ref(**enc, output_attentions=True)
    for h in hooks:
        h.remove()
    att = torch.stack([a[0] for a in out.attentions]).numpy()
    T = att.shape[-1]
    heads = {w: torch.stack([got[(i, w)] for i in range(6)]).view(6, T, 12, 32).transpose(1, 2).numpy()
             for w in ("query", "key", "value")}
    return att, heads


def test_minilm_attention_equals_former_results(m):
    ma = m.attention(TEXT)
    att, heads = _hooked_minilm_attention(TEXT, m)
    np.testing.assert_allclose(ma.attentions, att, atol=1e-6)
    for mine, w in ((ma.q, "query"), (ma.k, "key"), (ma.v, "value")):
        np.testing.assert_allclose(mine, heads[w], atol=1e-5)
    assert ma.mask.shape == (6, len(ma.tokens), len(ma.tokens)) and ma.mask.all() and not ma.causal


def test_minilm_too_long_is_refused_unless_truncated(m):
    with pytest.raises(ValueError, match=r"702 tokens.*at most 512"):
        m.attention("word " * 700)
    with pytest.raises(ValueError, match="at most 512"):
        m.hidden_states("word " * 700)
    assert m.attention("word " * 700, truncate=True).truncated


# ----------------------------------------------------------------------------- every family
@pytest.fixture(scope="module")
def handles(tiny_models):  # noqa: F811
    return {f: models.load_model(tiny_models[f]) for f in FAMILIES}


@pytest.fixture(scope="module")
def references(tiny_models, handles):  # noqa: F811
    from transformers import AutoModel

    return {f: AutoModel.from_pretrained(tiny_models[f], attn_implementation="eager").to(handles[f].device).eval()
            for f in FAMILIES}


def _run_reference(h, ref, text):
    enc = h.tokenizer(text, return_tensors="pt")
    keep = ("input_ids", "attention_mask") + (("token_type_ids",) if h.family == "bert" else ())
    with torch.inference_mode():
        return ref(**{k: v.to(h.device) for k, v in enc.items() if k in keep},
                   output_attentions=True, output_hidden_states=True, use_cache=False)


@pytest.mark.parametrize("family", FAMILIES)
def test_sizes_from_config(handles, family):
    h = handles[family]
    kv = N_KV if family in LLAMA_LIKE else N_HEADS
    assert (h.family, h.n_layers, h.n_heads, h.n_kv_heads, h.d_model, h.d_head) == \
        (family, N_LAYERS, N_HEADS, kv, D_MODEL, D_MODEL // N_HEADS)
    assert h.causal == (family != "bert")
    assert h.rope_theta == {"llama": 500000.0, "mistral": 10000.0, "qwen2": 10000.0}.get(family)
    assert h.max_tokens == (256 if family in LLAMA_LIKE else 128)
    assert h.name == family and not h.loaded


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_equals_eager_and_rebuilds(handles, references, family):
    h = handles[family]
    ma = h.attention(TEXT)
    ref = _run_reference(h, references[family], TEXT)
    T = len(ma.tokens)
    want = torch.stack([a[0] for a in ref.attentions]).float().cpu().numpy()
    assert ma.attentions.shape == (N_LAYERS, N_HEADS, T, T)
    np.testing.assert_allclose(ma.attentions, want, atol=1e-5)
    for x in (ma.q, ma.k, ma.v):
        assert x.shape == (N_LAYERS, N_HEADS, T, D_MODEL // N_HEADS) and x.dtype == np.float32
    # softmax(q kᵀ/√d + mask) rebuilds every head, the mask being the one the model used
    rebuilt = A.attention_steps(ma.q, ma.k, ma.v, mask=ma.mask[:, None]).weights
    assert np.abs(rebuilt - ma.attentions).max() <= 1e-4
    expected = np.ones((T, T), bool)
    if family != "bert":
        expected = np.tril(expected)
    if family == "mistral":                                  # sliding window of 4 keys
        expected &= ~np.tril(expected, -4)
    assert (ma.mask == expected).all() and ma.causal == (family != "bert")
    assert (ma.attentions[..., ~expected] == 0).all()
    if family in LLAMA_LIKE:                                  # grouped K/V: heads 0 and 1 share one
        assert ma.n_kv_heads == N_KV
        np.testing.assert_array_equal(ma.k[:, 0], ma.k[:, 1])
        np.testing.assert_array_equal(ma.v[:, 2], ma.v[:, 3])
        assert np.abs(ma.k[:, 0] - ma.k[:, 2]).max() > 1e-3


def test_llama_q_is_after_rope(handles, references):
    """Position 0 is not rotated; later positions are rotated (same length, other direction)."""
    h, ref = handles["llama"], references["llama"]
    ma = h.attention(TEXT)
    got = {}
    hook = ref.layers[0].self_attn.q_proj.register_forward_hook(lambda _m, _i, out: got.setdefault("q", out[0]))
    _run_reference(h, ref, TEXT)
    hook.remove()
    T, dh = len(ma.tokens), D_MODEL // N_HEADS
    pre = got["q"].view(T, N_HEADS, dh).transpose(0, 1).float().cpu().numpy()   # (H, T, d) before RoPE
    np.testing.assert_allclose(ma.q[0, :, 0], pre[:, 0], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ma.q[0], axis=-1), np.linalg.norm(pre, axis=-1), rtol=1e-4)
    assert np.abs(ma.q[0, :, 5] - pre[:, 5]).max() > 1e-2


@pytest.mark.parametrize("family", FAMILIES)
def test_hidden_states_equal_transformers(handles, references, family):
    h = handles[family]
    hs = h.hidden_states(TEXT)
    ref = _run_reference(h, references[family], TEXT)
    want = torch.stack([x[0] for x in ref.hidden_states]).float().cpu().numpy()
    assert hs.shape == (N_LAYERS + 1, want.shape[1], D_MODEL)
    np.testing.assert_allclose(hs, want, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_embed_pads_correctly(handles, references, family):
    """Batched, padded embeddings equal the mean of each text's own last hidden states."""
    h = handles[family]
    got = h.embed(TEXTS, batch_size=3)
    want = np.stack([_run_reference(h, references[family], t).last_hidden_state[0].float().cpu().numpy().mean(0)
                     for t in TEXTS])
    assert got.shape == (len(TEXTS), D_MODEL) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_weights_read_lazily_from_the_files(tiny_models, family):  # noqa: F811
    from safetensors.numpy import load_file

    h = models.load_model(tiny_models[family])
    stored = load_file(str(tiny_models[family] / "model.safetensors"))
    names = h.weight_names()
    assert sorted(names) == sorted(n for n, a in stored.items() if a.ndim == 2 and a.dtype.kind == "f")
    for n in names:
        np.testing.assert_array_equal(h.weight(n), stored[n])
    kinds = {h.weight_kind(n) for n in names}
    per_layer = {"bert": {"Q", "K", "V", "O", "MLP up", "MLP down"}, "gpt2": {"QKV", "O", "MLP up", "MLP down"}}
    want = per_layer.get(family, {"Q", "K", "V", "O", "MLP up", "MLP gate", "MLP down"})
    for layer in range(N_LAYERS):
        assert {k for (lay, k) in kinds if lay == layer} == want
    assert (None, "embeddings") in kinds
    assert not h.loaded
    with pytest.raises(ValueError, match="no parameter"):
        h.weight_kind("nope")


@pytest.mark.parametrize("family", FAMILIES)
def test_layer_weight_is_out_in(handles, references, family):
    """x Wᵀ (+ b) with layer_weight(…, "Q") is the layer's query projection, for every family."""
    h, ref = handles[family], references[family]
    dh, inter = D_MODEL // N_HEADS, 2 * D_MODEL
    kv = N_KV if family in LLAMA_LIKE else N_HEADS
    shapes = {"Q": (N_HEADS * dh, D_MODEL), "K": (kv * dh, D_MODEL), "V": (kv * dh, D_MODEL),
              "O": (D_MODEL, N_HEADS * dh), "MLP up": (inter if family != "gpt2" else 4 * D_MODEL, D_MODEL),
              "MLP down": (D_MODEL, inter if family != "gpt2" else 4 * D_MODEL)}
    for kind, shape in shapes.items():
        assert h.layer_weight(1, kind).shape == shape, kind
    x = torch.randn(5, D_MODEL, generator=torch.Generator().manual_seed(0))
    if family == "bert":
        proj = ref.encoder.layer[1].attention.self.query
    elif family == "gpt2":
        proj = lambda t: ref.h[1].attn.c_attn(t)[:, :D_MODEL]    # noqa: E731  (Q is the first third)
    else:
        proj = (ref.layers if hasattr(ref, "layers") else ref.model.layers)[1].self_attn.q_proj
    with torch.inference_mode():
        want = proj(x.to(h.device)).float().cpu().numpy()                    # (5, d_model)
        bias = proj(torch.zeros(1, D_MODEL, device=h.device)).float().cpu().numpy()
    np.testing.assert_allclose(x.numpy() @ h.layer_weight(1, "Q").T + bias, want, atol=1e-5)
    if family == "bert":
        with pytest.raises(ValueError, match="no 'MLP gate' matrix"):
            h.layer_weight(0, "MLP gate")
    with pytest.raises(ValueError, match="layer must be at most 1"):
        h.layer_weight(2, "Q")
    with pytest.raises(ValueError, match="kind must be one of"):
        h.layer_weight(0, "QKV")


def test_sharded_checkpoint(tiny_models, handles):  # noqa: F811
    h = models.load_model(tiny_models["sharded"])
    assert len(list(tiny_models["sharded"].glob("*.safetensors"))) > 1
    assert h.weight_names() == handles["llama"].weight_names()    # same seed, same weights
    for n in h.weight_names():
        np.testing.assert_array_equal(h.weight(n), handles["llama"].weight(n))
    np.testing.assert_allclose(h.attention(TEXT).attentions, handles["llama"].attention(TEXT).attentions, atol=1e-6)


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("case, message", [
    ("bin_only", r"only pickled PyTorch weights \(pytorch_model\.bin\).*never opens pickles"),
    ("no_tokenizer", "has no tokenizer"),
    ("no_config", "has no config.json"),
    ("t5", r"family is 't5'.*supported families: bert .*gpt2.*llama.*mistral.*qwen2"),
])
def test_folders_refused_with_a_reason(tiny_models, case, message):  # noqa: F811
    with pytest.raises(ValueError, match=message):
        models.load_model(tiny_models[case])


def test_not_a_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist or is not a folder"):
        models.load_model(tmp_path / "missing")
    with pytest.raises(ValueError, match="folder path"):
        models.load_model(3)
    with pytest.raises(ValueError, match="must name a folder"):
        models.load_model("  ")


def test_text_over_the_limit(handles):
    h = handles["bert"]                                         # 128 positions
    with pytest.raises(ValueError, match=r"202 tokens.*at most 128"):
        h.attention("word " * 200)
    cut = h.attention("word " * 200, truncate=True)
    assert cut.truncated and cut.n_tokens_total == 202 and cut.attentions.shape[-1] == 128
    assert "202 tokens" in cut.note
    with pytest.raises(ValueError, match="non-empty string"):
        h.attention("  ")


# ----------------------------------------------------------------------------- the models folder
def test_list_and_resolve_model_folders(tmp_path, tiny_models):  # noqa: F811
    import shutil

    root = tmp_path / "root"
    (root / "team" / "big").mkdir(parents=True)
    shutil.copy(tiny_models["gpt2"] / "config.json", root / "team" / "big")
    shutil.copytree(tiny_models["bert"], root / "small")
    (root / "small" / "sub").mkdir()
    shutil.copy(tiny_models["bert"] / "config.json", root / "small" / "sub")   # inside a model: not searched
    (root / ".hidden").mkdir()
    shutil.copy(tiny_models["bert"] / "config.json", root / ".hidden")
    (root / "outside").symlink_to(tiny_models["llama"], target_is_directory=True)
    (root / "alias").symlink_to(root / "small", target_is_directory=True)
    assert models.list_model_folders(root) == ["alias", "small", "team/big"]
    assert models.list_model_folders(root / "small") == ["."]
    assert os.path.samefile(models.resolve_model_folder(root, "team/big"), root / "team" / "big")
    assert models.load_model(models.resolve_model_folder(root, "small")).family == "bert"
    for bad, msg in (("../root", r"'\.\.'"), ("/etc", "absolute"), ("outside", "outside the models folder"),
                     ("nope", "not a folder")):
        with pytest.raises(ValueError, match=msg):
            models.resolve_model_folder(root, bad)
    with pytest.raises(ValueError, match="does not exist"):
        models.list_model_folders(root / "nope")
