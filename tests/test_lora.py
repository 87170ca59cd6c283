"""la_core.lora against real PEFT adapters (peft.get_peft_model on tiny random BERT, GPT-2 and Llama),
numpy.linalg.svd of the dense update, merge_and_unload, and scipy.linalg.subspace_angles."""
import json

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import save as st_save

from la_core import lora

peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")

LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# peft's rule (re.match(rf"(.*\.)?({key})$", name)): "layers.1.self_attn.k_proj" must not catch layer 11,
# "down_proj" catches every down_proj.
RANK_PATTERN = {"layers.1.self_attn.k_proj": 2, "q_proj": 6}
ALPHA_PATTERN = {"down_proj": 3, r"layers\.0\.mlp\.up_proj": 20}


def _base(kind: str):
    torch.manual_seed(0)
    if kind == "bert":
        cfg = transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                      intermediate_size=128, vocab_size=100, max_position_embeddings=32)
        return transformers.BertModel(cfg), dict(target_modules=["query", "key", "value", "dense"])
    if kind == "gpt2":
        cfg = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=100, n_positions=32)
        return transformers.GPT2LMHeadModel(cfg), dict(target_modules=["c_attn", "c_proj", "c_fc"],
                                                       fan_in_fan_out=True)
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=100, max_position_embeddings=32)
    extra = dict(use_rslora=True) if kind == "llama_rslora" else dict(rank_pattern=RANK_PATTERN,
                                                                       alpha_pattern=ALPHA_PATTERN)
    return transformers.LlamaForCausalLM(cfg), dict(target_modules=LLAMA_TARGETS, **extra)


def _peft_adapter(kind: str, folder, r: int = 4, alpha: int = 8):
    """A real peft adapter with random (non-zero) lora_B, saved as safetensors. Returns (peft model, folder)."""
    model, kw = _base(kind)
    pm = peft.get_peft_model(model, peft.LoraConfig(r=r, lora_alpha=alpha, **kw))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_B" in name:                       # peft initialises B to zero: no update to look at
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    pm.save_pretrained(folder)                         # safetensors is peft's default
    return pm, folder


@pytest.fixture(scope="module", params=["bert", "gpt2", "llama", "llama_rslora"])
def made(request, tmp_path_factory):
    pm, folder = _peft_adapter(request.param, tmp_path_factory.mktemp(request.param))
    return request.param, pm, folder, lora.load_adapter(folder)


def _peft_layers(pm):
    """module name (relative to the base model) -> peft LoRA layer."""
    base = pm.get_base_model()
    return {n: m for n, m in base.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A}


def _dense_ref(layer) -> np.ndarray:
    a = layer.lora_A["default"].weight.detach().double().numpy()      # (r, in)
    b = layer.lora_B["default"].weight.detach().double().numpy()      # (out, r)
    return layer.scaling["default"] * b @ a                           # (out, in)


def test_modules_ranks_scales_match_peft(made):
    kind, pm, _, ad = made
    layers = _peft_layers(pm)
    assert set(ad.modules) == set(layers) and len(ad.modules) == len(layers) > 0
    for m, layer in layers.items():
        assert ad.rank_of(m) == layer.r["default"]
        assert ad.scale_of(m) == pytest.approx(layer.scaling["default"], rel=1e-12)
        assert ad.shape_of(m) == (layer.out_features, layer.in_features)
    if kind == "llama":   # the patterns really changed something, as peft applied them
        assert ad.rank_of("model.layers.1.self_attn.k_proj") == 2 and ad.rank_of("model.layers.0.self_attn.k_proj") == 4
        assert ad.rank_of("model.layers.0.self_attn.q_proj") == 6
        assert ad.scale_of("model.layers.0.mlp.up_proj") == pytest.approx(20 / 4)
        assert ad.scale_of("model.layers.1.mlp.down_proj") == pytest.approx(3 / 4)
    if kind == "llama_rslora":
        assert ad.use_rslora and ad.scale == pytest.approx(8 / 2)


def test_delta_svd_equals_dense_svd(made):
    _, pm, _, ad = made
    for m, layer in _peft_layers(pm).items():
        dense = _dense_ref(layer)
        U, S, Vh = ad.delta_svd(m)
        k = min(ad.rank_of(m), *dense.shape)
        assert U.shape == (dense.shape[0], k) and S.shape == (k,) and Vh.shape == (k, dense.shape[1])
        ref = np.linalg.svd(dense, compute_uv=False)
        np.testing.assert_allclose(S, ref[:k], rtol=1e-5, atol=1e-6 * ref[0])
        assert np.all(ref[k:] <= 1e-9 * ref[0])                        # the rest of ΔW's spectrum is zero
        np.testing.assert_allclose((U * S) @ Vh, dense, atol=1e-5 * ref[0])
        np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-5)
        np.testing.assert_allclose(ad.singular_values(m), ref[:k], rtol=1e-9, atol=1e-12 * ref[0])


def test_delta_equals_scaled_product(made):
    _, pm, _, ad = made
    for m, layer in _peft_layers(pm).items():
        a = layer.lora_A["default"].weight.detach()
        b = layer.lora_B["default"].weight.detach()
        d = ad.delta(m)
        assert d.dtype == np.float32
        np.testing.assert_allclose(d, (b @ a * layer.scaling["default"]).numpy(), rtol=1e-5, atol=1e-6)


def test_merge_and_unload_adds_delta(made):
    kind, _, folder, ad = made
    model, _ = _base(kind)                              # the same seed: the same base weights
    pm = peft.PeftModel.from_pretrained(model, folder)  # peft reads the saved file itself
    base = {m: layer.base_layer.weight.detach().clone() for m, layer in _peft_layers(pm).items()}
    merged = pm.merge_and_unload()
    for m, w0 in base.items():
        diff = (merged.get_submodule(m).weight.detach() - w0).numpy()
        if kind == "gpt2":                              # Conv1D keeps (in, out): fan_in_fan_out
            diff = diff.T
        np.testing.assert_allclose(diff, ad.delta(m), atol=1e-5)


def test_bytes_input_equals_folder(made):
    _, _, folder, ad = made
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    ab = lora.load_adapter(files)
    assert ab.modules == ad.modules and ab.r == ad.r and ab.rank_pattern == ad.rank_pattern
    m = ad.modules[-1]
    np.testing.assert_array_equal(ab.delta(m), ad.delta(m))
    # an uploaded-file object (getvalue) works too
    up = {k: type("Up", (), {"getvalue": lambda self, v=v: v})() for k, v in files.items()}
    assert lora.load_adapter(up).modules == ad.modules


def test_summary_values(made):
    _, pm, _, ad = made
    calls = []
    df = ad.summary(progress=lambda d, t: calls.append((d, t)))
    n = len(ad.modules)
    assert calls == [(i + 1, n) for i in range(n)]
    assert list(df.module) == list(ad.modules)
    layers = _peft_layers(pm)
    for row in df.itertuples():
        dense = _dense_ref(layers[row.module])
        s = np.linalg.svd(dense, compute_uv=False)
        s = s[: min(row.r, *dense.shape)]
        e = np.cumsum(s ** 2) / (s ** 2).sum()
        p = s / s.sum()
        assert row.norm_fro == pytest.approx(np.linalg.norm(dense), rel=1e-9)
        assert row.sigma_1 == pytest.approx(s[0], rel=1e-9)
        assert row.effective_rank == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-9)
        assert row.rank_90 == np.searchsorted(e, 0.9 - 1e-12) + 1 and row.rank_99 == np.searchsorted(e, 0.99 - 1e-12) + 1
        assert row.rank_used == pytest.approx(row.rank_90 / row.r)
        layer = ad.layer_of(row.module)
        assert row.shape == dense.shape and (row.layer == layer if layer is not None else row.layer is pd.NA)
    assert (df.rank_used <= 1).all()


def test_layer_and_kind(made):
    kind, _, _, ad = made
    expect = {
        "bert": {"encoder.layer.1.attention.self.query": "q", "encoder.layer.1.attention.output.dense": "o",
                 "encoder.layer.0.intermediate.dense": "MLP up", "encoder.layer.0.output.dense": "MLP down"},
        "gpt2": {"transformer.h.1.attn.c_attn": "qkv", "transformer.h.1.attn.c_proj": "o",
                 "transformer.h.0.mlp.c_fc": "MLP up", "transformer.h.0.mlp.c_proj": "MLP down"},
    }.get(kind, {f"model.layers.1.{p}.{t}": k for p, t, k in [
        ("self_attn", "q_proj", "q"), ("self_attn", "k_proj", "k"), ("self_attn", "v_proj", "v"),
        ("self_attn", "o_proj", "o"), ("mlp", "gate_proj", "MLP gate"), ("mlp", "up_proj", "MLP up"),
        ("mlp", "down_proj", "MLP down")]})
    for m, k in expect.items():
        assert ad.kind_of(m) == k, m
        assert ad.layer_of(m) == int(m.split(".")[2] if kind != "gpt2" else m.split(".")[2])
    assert len(ad.modules) == (13 if kind == "bert" else 8 if kind == "gpt2" else 14)
    if kind == "bert":                                  # "dense" also caught the pooler, outside the blocks
        assert ad.modules[0] == "pooler.dense" and ad.layer_of("pooler.dense") is None
        assert ad.kind_of("pooler.dense") == "other"
    layers = [ad.layer_of(m) for m in ad.modules if ad.layer_of(m) is not None]
    assert layers == sorted(layers)
    with pytest.raises(ValueError, match="modules"):
        ad.kind_of("no.such.module")


def test_relative_update_and_principal_angles(made):
    kind, pm, _, ad = made
    for m, layer in list(_peft_layers(pm).items())[:3]:
        w = layer.base_layer.weight.detach().double().numpy()
        if kind == "gpt2":                              # Conv1D stores (in, out)
            if w.shape[0] != w.shape[1]:
                with pytest.raises(ValueError, match="Conv1D"):
                    ad.relative_update(m, w)
            w = w.T
        dense = _dense_ref(layer)
        assert ad.relative_update(m, w) == pytest.approx(np.linalg.norm(dense) / np.linalg.norm(w), rel=1e-6)
        assert lora.relative_update(dense, w) == pytest.approx(np.linalg.norm(dense) / np.linalg.norm(w), rel=1e-9)
        k = min(3, ad.rank_of(m))
        ud = np.linalg.svd(dense)[0][:, :k]
        uw = np.linalg.svd(w)[0][:, :k]
        ref = np.sort(np.degrees(scipy.linalg.subspace_angles(ud, uw)))
        np.testing.assert_allclose(ad.principal_angles(m, w, k), ref, atol=1e-4)
        np.testing.assert_allclose(lora.principal_angles(dense, np.linalg.svd(w), k), ref, atol=1e-4)
        with pytest.raises(ValueError, match="k must be at most"):
            ad.principal_angles(m, w, ad.rank_of(m) + 1)


def test_principal_angles_known_subspaces():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((20, 20)))[0]
    w = q[:, :5] @ np.diag([5.0, 4, 3, 2, 1]) @ q[:, 10:15].T          # W writes into q0..q4
    same = lora.principal_angles(q[:, :2] @ q[:, 15:17].T, w, 2)        # ΔW into q0, q1
    new = lora.principal_angles(q[:, 6:8] @ q[:, 15:17].T, w, 2)        # ΔW into q6, q7
    np.testing.assert_allclose(same, [0, 0], atol=1e-6)
    np.testing.assert_allclose(new, [90, 90], atol=1e-6)
    with pytest.raises(ValueError, match="all zeros"):
        lora.principal_angles(np.zeros((20, 20)), w, 1)
    with pytest.raises(ValueError, match="all zeros"):
        lora.relative_update(w, np.zeros((20, 20)))


# ----------------------------------------------------------------------------- hand-written files
def _files(tensors: dict, **cfg) -> dict:
    config = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, **cfg}
    t = {k: torch.as_tensor(v) for k, v in tensors.items()}
    return {"adapter_config.json": json.dumps(config).encode(), "adapter_model.safetensors": st_save(t)}


def _ab(module: str, out: int, inn: int, r: int, seed: int = 0, name: str | None = None) -> dict:
    rng = np.random.default_rng(seed)
    seg = f".{name}" if name else ""
    return {f"base_model.model.{module}.lora_A{seg}.weight": rng.standard_normal((r, inn)).astype(np.float32),
            f"base_model.model.{module}.lora_B{seg}.weight": rng.standard_normal((out, r)).astype(np.float32)}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_and_double_weights(dtype):
    t = {k: torch.as_tensor(v).to(dtype) for k, v in _ab("layers.0.o_proj", 20, 12, 4).items()}
    ad = lora.load_adapter(_files(t))
    a, b = (v.double().numpy() for v in t.values())
    dense = 2.0 * b @ a
    np.testing.assert_allclose(ad.delta_svd("layers.0.o_proj", "float64").S, np.linalg.svd(dense, compute_uv=False)[:4],
                               rtol=1e-10)
    np.testing.assert_allclose(ad.delta("layers.0.o_proj"), dense, rtol=1e-5, atol=1e-5)


def test_rslora_and_patterns_from_written_files():
    mods = ["model.layers.1.self_attn.q_proj", "model.layers.11.self_attn.q_proj", "model.layers.1.mlp.xq_proj"]
    t = {}
    for i, (m, r) in enumerate(zip(mods, (2, 16, 16))):
        t.update(_ab(m, 12, 10, r, seed=i))
    ad = lora.load_adapter(_files(t, r=16, lora_alpha=4, use_rslora=True,
                                  rank_pattern={"layers.1.self_attn.q_proj": 2},
                                  alpha_pattern={"q_proj": 9}))
    assert [ad.rank_of(m) for m in mods] == [2, 16, 16]
    assert [ad.scale_of(m) for m in mods] == pytest.approx([9 / np.sqrt(2), 9 / 4, 4 / 4])
    from peft.utils.other import get_pattern_key   # the rule peft itself applies
    for m in mods:
        assert ad.rank_of(m) == {"layers.1.self_attn.q_proj": 2}.get(
            get_pattern_key(["layers.1.self_attn.q_proj"], m), 16)
    # adapter-name segment (lora_A.default.weight) is accepted
    named = lora.load_adapter(_files(_ab("layers.0.q_proj", 6, 5, 4, name="default")))
    assert named.modules == ("layers.0.q_proj",) and named.kind_of("layers.0.q_proj") == "q"


@pytest.mark.parametrize("case, match", [
    ("full_state_dict", "no lora_A/lora_B"), ("no_chain", "do not chain"), ("r_mismatch", "do not chain"),
    ("nan", "NaN"), ("inf", "infinite"), ("loha", "peft_type"), ("dora", "DoRA"), ("missing_b", "no lora_B"),
    ("bad_json", "JSON"), ("not_safetensors", "safetensors"), ("int_weights", "floating"), ("conv", "2-D"),
    ("two_adapters", "several adapters"), ("bad_regex", "regular expression"), ("no_r", "no 'r'"),
    ("r_float", "integer"), ("no_config", "no adapter_config.json"), ("not_dict", "dict of file bytes"),
    ("bad_value", "file names to bytes"), ("empty", "non-empty"), ("nan_bf16", "NaN"),
])
def test_bad_adapters(case, match):
    good = _ab("model.layers.0.self_attn.q_proj", 8, 6, 4)
    ka, kb = list(good)
    cfg, t = {}, dict(good)
    if case == "full_state_dict":
        t = {"model.layers.0.self_attn.q_proj.weight": np.ones((8, 6), np.float32)}
    elif case == "no_chain":
        t[kb] = np.ones((8, 3), np.float32)
    elif case == "r_mismatch":
        cfg = {"r": 8}
    elif case in ("nan", "inf"):
        t[kb] = t[kb].copy()
        t[kb][2, 1] = np.nan if case == "nan" else np.inf
    elif case == "loha":
        cfg = {"peft_type": "LOHA"}
    elif case == "dora":
        cfg = {"use_dora": True}
    elif case == "missing_b":
        del t[kb]
    elif case == "int_weights":
        t[ka] = np.ones((4, 6), np.int64)
    elif case == "empty":
        t[ka] = np.ones((4, 0), np.float32)
    elif case == "nan_bf16":
        t = {k: torch.as_tensor(v).bfloat16() for k, v in t.items()}
        t[ka][0, 0] = float("nan")
    elif case == "conv":
        t[ka] = np.ones((4, 6, 1, 1), np.float32)
    elif case == "two_adapters":
        t.update(_ab("model.layers.1.self_attn.q_proj", 8, 6, 4, name="other"))
    elif case == "bad_regex":
        cfg = {"rank_pattern": {"q_proj(": 2}}
    elif case == "r_float":
        cfg = {"r": 4.0}
    files = _files(t, **cfg)
    if case == "bad_json":
        files["adapter_config.json"] = b"{r: 4"
    elif case == "not_safetensors":
        files["adapter_model.safetensors"] = b"\x00" * 40
    elif case == "no_r":
        files["adapter_config.json"] = json.dumps({"peft_type": "LORA", "lora_alpha": 8}).encode()
    elif case == "no_config":
        del files["adapter_config.json"]
    elif case == "not_dict":
        files = 42
    elif case == "bad_value":
        files["adapter_config.json"] = {"r": 4}
    with pytest.raises(ValueError, match=match) as exc:
        lora.load_adapter(files)
    assert "Accepted" in str(exc.value) or case in ("r_float",)


def test_pickle_only_folder_is_refused_unopened(tmp_path, monkeypatch):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8}))
    (tmp_path / "adapter_model.bin").write_bytes(b"\x80\x04not really a pickle")

    def boom(*a, **k):
        raise AssertionError("a pickle was opened")

    monkeypatch.setattr(torch, "load", boom)
    monkeypatch.setattr("pickle.load", boom)
    with pytest.raises(ValueError, match="pickle"):
        lora.load_adapter(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        lora.load_adapter(tmp_path / "missing")


def test_folder_with_missing_config_and_path_to_file(tmp_path):
    files = _files(_ab("layers.0.q_proj", 6, 5, 4))
    (tmp_path / "adapter_model.safetensors").write_bytes(files["adapter_model.safetensors"])
    with pytest.raises(ValueError, match="no adapter_config.json"):
        lora.load_adapter(str(tmp_path))
    (tmp_path / "adapter_config.json").write_bytes(files["adapter_config.json"])
    assert lora.load_adapter(tmp_path / "adapter_model.safetensors").modules == ("layers.0.q_proj",)


def test_zero_update_summary_and_bad_progress():
    t = _ab("layers.0.v_proj", 6, 5, 4)
    t["base_model.model.layers.0.v_proj.lora_B.weight"] = np.zeros((6, 4), np.float32)   # as peft initialises
    ad = lora.load_adapter(_files(t))
    row = ad.summary().iloc[0]
    assert row.norm_fro == 0 and np.isnan(row.effective_rank) and row.rank_90 is pd.NA and np.isnan(row.rank_used)
    with pytest.raises(ValueError, match="progress"):
        ad.summary(progress=3)
    with pytest.raises(ValueError, match="dtype"):
        ad.delta_svd("layers.0.v_proj", dtype="float16")


@settings(max_examples=60, deadline=None)
@given(out=st.integers(1, 30), inn=st.integers(1, 30), r=st.integers(1, 40), seed=st.integers(0, 2 ** 16),
       alpha=st.floats(0.5, 64))
def test_delta_svd_property(out, inn, r, seed, alpha):
    t = _ab("m.0.q_proj", out, inn, r, seed=seed)
    ad = lora.load_adapter(_files(t, r=r, lora_alpha=alpha))
    a, b = (v.astype(np.float64) for v in t.values())
    dense = alpha / r * b @ a
    U, S, Vh = ad.delta_svd("m.0.q_proj", dtype="float64")
    ref = np.linalg.svd(dense, compute_uv=False)
    k = min(r, out, inn)
    assert S.shape == (k,)
    np.testing.assert_allclose(S, ref[:k], rtol=1e-9, atol=1e-10 * ref[0])
    np.testing.assert_allclose((U * S) @ Vh, dense, atol=1e-9 * ref[0])


def test_shipped_example_adapter_fits_minilm():
    from tests.conftest import ROOT
    from la_core.models import load_model

    folder = ROOT / "data" / "example_adapter"
    ad = lora.load_adapter(folder)
    assert ad.r == 8 and len(ad.modules) == 12 and {ad.kind_of(m) for m in ad.modules} == {"q", "v"}
    assert (folder / "adapter_model.safetensors").stat().st_size < 400_000
    base = load_model(None, torch.device("cpu")).model
    pm = peft.PeftModel.from_pretrained(base, folder)
    before = {m: pm.get_base_model().get_submodule(m).base_layer.weight.detach().clone() for m in ad.modules}
    merged = pm.merge_and_unload()
    df = ad.summary()
    assert (df.rank_90 < 8).all()                       # trained: the update uses fewer directions than r
    for m in ad.modules:
        w = before[m].numpy()
        np.testing.assert_allclose(merged.get_submodule(m).weight.detach().numpy() - w, ad.delta(m), atol=1e-5)
        assert 0 < ad.relative_update(m, w) < 1


def test_odd_config_values_and_folder_entries(tmp_path):
    files = _files(_ab("layers.0.q_proj", 6, 5, 4), target_modules=[3, "q_proj"])
    assert lora.load_adapter(files).target_modules == ("3", "q_proj")
    assert lora.load_adapter(_files(_ab("layers.0.q_proj", 6, 5, 4), target_modules={"x": 1})).target_modules == (
        "q_proj",)                                      # not a list: the last name parts found instead
    (tmp_path / "adapter_config.json").mkdir()          # a folder where the config should be
    (tmp_path / "adapter_model.safetensors").write_bytes(files["adapter_model.safetensors"])
    with pytest.raises(ValueError, match="cannot be read"):
        lora.load_adapter(tmp_path)
