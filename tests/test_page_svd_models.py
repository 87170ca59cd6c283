"""The SVD page with any local model (a tiny GQA decoder from LA_LENS_MODELS_DIR) and with LoRA adapters:
the weight picker, the spectrum atlas, the adapter section (example, folder, upload, bad upload)."""
import json
import shutil

import numpy as np
import pytest
import scipy.linalg
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.conftest import ROOT
from tests.model_fixtures import tiny_models  # noqa: F401
from tests.test_page_svd import AD_ANGLES, AD_HEAT, AD_SPEC, ATLAS_EFF, ATLAS_RANK, N_CHARTS, ORIG, metric

EXAMPLE = ROOT / "data" / "example_adapter"
LLAMA_KINDS = ["Q", "K", "V", "O", "MLP gate", "MLP up", "MLP down"]
LLAMA_NAMES = {"Q": "self_attn.q_proj", "K": "self_attn.k_proj", "V": "self_attn.v_proj", "O": "self_attn.o_proj",
               "MLP gate": "mlp.gate_proj", "MLP up": "mlp.up_proj", "MLP down": "mlp.down_proj"}


def effective_rank(s):
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def rank_for(s, f):
    e = np.cumsum(s ** 2) / (s ** 2).sum()
    return int(np.searchsorted(e, f - 1e-12)) + 1


def example_deltas() -> dict:
    """Independent reference: ΔW = (α/r) B A of every module, read straight from the example's files."""
    cfg = json.loads((EXAMPLE / "adapter_config.json").read_text())
    out = {}
    with safe_open(str(EXAMPLE / "adapter_model.safetensors"), framework="pt") as f:
        for key in f.keys():
            if ".lora_A" in key:
                module = key.split(".lora_A")[0].removeprefix("base_model.model.")
                a = f.get_tensor(key).double().numpy()
                b = f.get_tensor(key.replace("lora_A", "lora_B")).double().numpy()
                out[module] = cfg["lora_alpha"] / cfg["r"] * b @ a
    return out


@pytest.fixture
def models_with_adapter(tiny_models, tmp_path, monkeypatch):  # noqa: F811
    """A models folder with the tiny Llama (4 heads, 2 K/V heads) and a peft adapter trained on it."""
    peft = pytest.importorskip("peft")
    import transformers

    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(tiny_models["llama"], root / "tiny-llama")
    base = transformers.LlamaForCausalLM.from_pretrained(root / "tiny-llama", local_files_only=True)
    pm = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "down_proj"]))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g))
    pm.save_pretrained(root / "adapters" / "llama-lora")
    monkeypatch.setenv("LA_LENS_MODELS_DIR", str(root))
    return root


def test_weight_picker_and_atlas_follow_a_tiny_gqa_decoder(models_with_adapter):
    import transformers

    at = open_page("pages/svd.py", query_params={"model": "tiny-llama"})
    assert_no_exception(at)
    hf = transformers.LlamaForCausalLM.from_pretrained(models_with_adapter / "tiny-llama", local_files_only=True).model
    # the atlas: one row per layer, one column per kind, the numbers numpy finds in transformers' weights
    specs = chart_specs(at)
    eff, rank = specs[ATLAS_EFF], specs[ATLAS_RANK]
    for spec in (eff, rank):
        tr = spec["data"][0]
        assert arr(tr["z"]).shape == (2, 7) and tr["x"] == LLAMA_KINDS and tr["y"] == ["layer 0", "layer 1"]
        assert tr["colorbar"]["title"]["text"]
        assert spec["layout"]["xaxis"]["title"]["text"] == "matrix kind" and spec["layout"]["yaxis"]["title"]["text"]
    for i in range(2):
        for j, kind in enumerate(LLAMA_KINDS):
            w = hf.layers[i].get_submodule(LLAMA_NAMES[kind]).weight.detach().double().numpy()
            s = np.linalg.svd(w, compute_uv=False)
            assert arr(eff["data"][0]["z"])[i, j] == pytest.approx(effective_rank(s), rel=1e-3)
            assert arr(rank["data"][0]["z"])[i, j] == rank_for(s, 0.9)
    # the weight picker: every matrix of the layer with its real shape, heads with their K/V group
    at.radio(key="svd_source").set_value("model weight").run()
    assert at.selectbox(key="svd_group").options == ["layer 0", "layer 1", "embeddings & other"]
    assert at.selectbox(key="svd_mat").options == [
        "Q (query, 64×64)", "K (key, 32×64)", "V (value, 32×64)", "O (attention output, 64×64)",
        "MLP gate (MLP gate, 128×64)", "MLP up (MLP in, 128×64)", "MLP down (MLP out, 64×128)",
        "one head's W_Q,h W_K,hᵀ (64×64, rank ≤ 16)"]
    at.selectbox(key="svd_group").set_value("layer 1").run()
    at.selectbox(key="svd_mat").set_value("one head's W_Q,h W_K,hᵀ (64×64, rank ≤ 16)").run()
    assert at.selectbox(key="svd_head").options == ["0 (K/V group 0)", "1 (K/V group 0)", "2 (K/V group 1)",
                                                    "3 (K/V group 1)"]
    at.selectbox(key="svd_head").set_value(3).run()
    assert_no_exception(at)
    attn = hf.layers[1].self_attn
    wq, wk = attn.q_proj.weight.detach().double().numpy(), attn.k_proj.weight.detach().double().numpy()
    np.testing.assert_allclose(arr(chart_specs(at)[ORIG]["data"][0]["z"]), wq[48:64].T @ wk[16:32], atol=1e-5)
    assert any("rank is at most 16" in i.value for i in at.info)
    at.slider(key="svd_rank").set_value(16).run()
    assert any("float32 precision" in i.value for i in at.info)
    # a tall embedding table keeps its 64 columns on screen (block means of rows only)
    at.selectbox(key="svd_group").set_value("embeddings & other").run()
    at.selectbox(key="svd_mat").set_value(next(o for o in at.selectbox(key="svd_mat").options if "embed" in o)).run()
    assert_no_exception(at)
    z = arr(chart_specs(at)[ORIG]["data"][0]["z"])
    assert z.shape[1] == 64 and z.shape[0] <= 384
    assert metric(at, "rank r").endswith("of 64")


def test_example_adapter_heatmap_summary_module_and_base_comparison():
    at = open_page("pages/svd.py")
    assert_no_exception(at)
    deltas = example_deltas()
    spectra = {m: np.linalg.svd(d, compute_uv=False)[:8] for m, d in deltas.items()}
    heat = chart_specs(at)[AD_HEAT]["data"][0]
    assert heat["x"] == ["q", "v"] and arr(heat["z"]).shape == (6, 2)
    for m, s in spectra.items():
        layer, j = int(m.split(".")[2]), ["query", "value"].index(m.rsplit(".", 1)[1])
        assert arr(heat["z"])[layer, j] == rank_for(s, 0.9)
    table = at.dataframe[-1].value
    assert len(table) == 12 and list(table["rank_90"]) == [rank_for(spectra[m], 0.9) for m in table["module"]]
    assert any(b.label == "Download the summary (CSV)" for b in at.get("download_button"))
    module = "encoder.layer.3.attention.self.value"
    at.selectbox(key="svd_ad_module").set_value(module).run()
    assert_no_exception(at)
    specs = chart_specs(at)
    np.testing.assert_allclose(arr(specs[AD_SPEC]["data"][0]["y"]), spectra[module], rtol=1e-4)
    import transformers

    from la_core.models import bundled_path

    w = transformers.AutoModel.from_pretrained(bundled_path(), local_files_only=True).get_submodule(module)
    w = w.weight.detach().double().numpy()
    assert metric(at, "‖ΔW‖_F / ‖W‖_F") == f"{np.linalg.norm(deltas[module]) / np.linalg.norm(w):.2%}"
    k = at.slider(key="svd_ad_k").value                                    # 99 % of ‖ΔW‖²_F at first, then kept
    assert k == rank_for(spectra["encoder.layer.0.attention.self.query"], 0.99)
    ud, uw = np.linalg.svd(deltas[module])[0][:, :k], np.linalg.svd(w)[0][:, :k]
    np.testing.assert_allclose(np.sort(arr(specs[AD_ANGLES]["data"][0]["y"])),
                               np.sort(np.degrees(scipy.linalg.subspace_angles(ud, uw))), atol=1e-2)


def _adapter_files(sigma, peft_type="LORA") -> list:
    """A rank-4 adapter on MiniLM layer 0's query with ΔW's singular values ``sigma`` (α = r: scale 1)."""
    rng = np.random.default_rng(1)
    q1, _ = np.linalg.qr(rng.standard_normal((384, 4)))
    q2, _ = np.linalg.qr(rng.standard_normal((384, 4)))
    prefix = "base_model.model.encoder.layer.0.attention.self.query"
    weights = st_save({f"{prefix}.lora_A.weight": torch.tensor(np.ascontiguousarray(q2.T), dtype=torch.float32),
                       f"{prefix}.lora_B.weight": torch.tensor(q1 * sigma, dtype=torch.float32)})
    cfg = json.dumps({"peft_type": peft_type, "r": 4, "lora_alpha": 4, "target_modules": ["query"]}).encode()
    return [("adapter_config.json", cfg, "application/json"), ("adapter_model.safetensors", weights, "application/octet-stream")]


def test_uploaded_adapter_and_a_bad_upload_keeps_the_last_good_one():
    at = open_page("pages/svd.py")
    at.radio(key="svd_ad_source").set_value("upload the two files").run()
    assert_no_exception(at)
    assert len(chart_specs(at)) == N_CHARTS                                # the example stays until an upload
    at.file_uploader(key="svd_ad_upload").set_value(_adapter_files(np.array([10.0, 2.0, 1.0, 0.5]))).run()
    assert_no_exception(at)
    assert not at.error
    heat = chart_specs(at)[AD_HEAT]["data"][0]
    assert heat["x"] == ["q"] and arr(heat["z"]).tolist() == [[1.0]]       # 100 of 105.25 is above 90 %
    np.testing.assert_allclose(arr(chart_specs(at)[AD_SPEC]["data"][0]["y"]), [10, 2, 1, 0.5], rtol=1e-5)
    assert any("Showing the uploaded adapter" in m.value for m in at.markdown)
    at.file_uploader(key="svd_ad_upload").set_value(_adapter_files(np.ones(4), peft_type="PREFIX_TUNING")).run()
    assert_no_exception(at)
    assert at.error and "not a LoRA adapter" in at.error[0].value
    assert arr(chart_specs(at)[AD_HEAT]["data"][0]["z"]).tolist() == [[1.0]]  # the last good adapter stays
    np.testing.assert_allclose(arr(chart_specs(at)[AD_SPEC]["data"][0]["y"]), [10, 2, 1, 0.5], rtol=1e-5)
    garbage = [("adapter_config.json", b"{}", "application/json"), ("adapter_model.safetensors", b"nope", "x")]
    at.file_uploader(key="svd_ad_upload").set_value(garbage).run()
    assert_no_exception(at)
    assert at.error and "Accepted" in at.error[0].value and at.title[0].value == "SVD & low rank"


def test_adapter_from_the_models_folder_is_compared_with_the_sidebar_model(models_with_adapter):
    import transformers

    at = open_page("pages/svd.py", query_params={"model": "tiny-llama"})
    at.radio(key="svd_ad_source").set_value("a folder in the models folder").run()
    assert at.selectbox(key="svd_ad_folder").options == ["adapters/llama-lora"]
    assert_no_exception(at)
    heat = chart_specs(at)[AD_HEAT]["data"][0]
    assert heat["x"] == ["q", "MLP down"] and arr(heat["z"]).shape == (2, 2)
    module = "model.layers.1.mlp.down_proj"
    at.selectbox(key="svd_ad_module").set_value(module).run()
    assert_no_exception(at)
    hf = transformers.LlamaForCausalLM.from_pretrained(models_with_adapter / "tiny-llama", local_files_only=True)
    w = hf.get_submodule(module).weight.detach().double().numpy()
    with safe_open(str(models_with_adapter / "adapters" / "llama-lora" / "adapter_model.safetensors"), framework="pt") as f:
        a = f.get_tensor(f"base_model.model.{module}.lora_A.weight").double().numpy()
        b = f.get_tensor(f"base_model.model.{module}.lora_B.weight").double().numpy()
    d = 2.0 * b @ a
    assert metric(at, "‖ΔW‖_F / ‖W‖_F") == f"{np.linalg.norm(d) / np.linalg.norm(w):.2%}"
    # the bundled MiniLM is not this adapter's base: the page says so instead of comparing
    at = open_page("pages/svd.py")
    at.radio(key="svd_ad_source").set_value("a folder in the models folder").run()
    assert_no_exception(at)
    assert any("not this adapter's base" in i.value for i in at.info)


def test_atlas_of_a_large_model_waits_for_the_switch(models_with_adapter, monkeypatch):
    """Above AUTO_COST the atlas is computed only when asked for, per model: switching the sidebar from
    a model whose atlas is on to a larger one does not start a scan."""
    import ui.svd_atlas

    monkeypatch.setattr(ui.svd_atlas, "AUTO_COST", 1e8)        # MiniLM (4·10⁹) is "large", the tiny Llama not
    at = open_page("pages/svd.py", query_params={"model": "tiny-llama"})
    assert len(chart_specs(at)) >= N_CHARTS - 1                 # the atlas is there (no base for the example: no angles)
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("").run()
    assert_no_exception(at)
    assert any("switch on to compute" in i.value for i in at.info)
    titles = [s["layout"].get("title", {}).get("text", "") for s in chart_specs(at)]
    assert "Effective rank" not in titles
    toggle = next(t for t in at.toggle if t.label.startswith("Compute the atlas"))
    assert toggle.value is False
    toggle.set_value(True).run()
    assert_no_exception(at)
    eff = chart_specs(at)[ATLAS_EFF]
    assert eff["layout"]["title"]["text"] == "Effective rank" and arr(eff["data"][0]["z"]).shape == (6, 6)


def test_a_weight_too_big_for_the_interactive_svd_says_so(models_with_adapter, monkeypatch):
    import ui.svd_sources

    monkeypatch.setattr(ui.svd_sources, "MAX_WEIGHT", 64 * 64)            # MLP up (128×64) is over it
    at = open_page("pages/svd.py", query_params={"model": "tiny-llama"})
    at.radio(key="svd_source").set_value("model weight").run()
    at.selectbox(key="svd_mat").set_value("MLP up (MLP in, 128×64)").run()
    assert_no_exception(at)
    assert at.error and "128×64 = 8,192 entries" in at.error[0].value and "atlas" in at.error[0].value
    assert metric(at, "rank r").endswith("of 213")                          # the built-in image instead
    at.selectbox(key="svd_mat").set_value("Q (query, 64×64)").run()
    assert not at.error and metric(at, "rank r").endswith("of 64")
