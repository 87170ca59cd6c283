"""The Attention page with every local model the sidebar offers (a tiny GQA Llama, a tiny GPT-2), and
the new-user bugs: a mask-aware uniform reference, a model check that is true of the settings on
screen, every token labelled, square grid tiles, a readable shapes table."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch

from figures.attention_model import GRID_WIDTH
from la_core import models
from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.model_fixtures import N_HEADS, N_KV, N_LAYERS, tiny_models  # noqa: F401
from tests.test_ui_models import models_dir  # noqa: F401  (tiny-llama and tiny-gpt2 in LA_LENS_MODELS_DIR)

STEP_SOFTMAX, ENTROPY_ROWS, ENTROPY_CURVE, MASKS, REAL, GRID = 3, 4, 5, 6, 12, 13
MASKED_GREY = "#8c8c8c"


def spec(at, i):
    return chart_specs(at)[i]


def model_head(at):
    at.radio(key="att_source").set_value(at.radio(key="att_source").options[1]).run()
    assert_no_exception(at)


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def reference_weights(ma, layer, head):
    """The head's weights rebuilt independently with torch's SDPA maths (softmax(q kᵀ/√d + mask))."""
    q, k = (torch.as_tensor(x[layer, head], dtype=torch.float64) for x in (ma.q, ma.k))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    scores = scores.masked_fill(~torch.as_tensor(np.array(ma.mask[layer])), float("-inf"))
    return torch.softmax(scores, -1).numpy()


# ------------------------------------------------------------------ bug 1: the uniform reference follows the mask
def test_uniform_reference_follows_the_causal_mask():
    at = open_page("pages/attention.py")
    model_head(at)
    assert spec(at, ENTROPY_CURVE)["layout"]["shapes"][1]["y0"] == pytest.approx(np.log(16))   # no mask: log T
    at.radio(key="att_mask").set_value("causal").run()
    assert_no_exception(at)
    T = 16
    curve = spec(at, ENTROPY_CURVE)["layout"]
    uniform = curve["shapes"][1]                                  # [0] is the default-scale marker line
    assert uniform["y0"] == pytest.approx(np.log(np.arange(1, T + 1)).mean(), abs=1e-9)   # 1.917, not log 16 = 2.773
    assert uniform["y0"] == pytest.approx(1.917, abs=5e-4)
    assert curve["annotations"][1]["text"] == "uniform over allowed keys"
    ref = spec(at, ENTROPY_ROWS)["data"][1]                        # per-row bound: row i (1-based) sees i keys
    np.testing.assert_allclose(arr(ref["y"]), np.log(np.arange(1, T + 1)), atol=1e-6)
    rows = arr(spec(at, ENTROPY_ROWS)["data"][0]["y"])
    assert np.all(rows <= arr(ref["y"]) + 1e-5)                   # no row above its own bound
    assert "1.917 = uniform over the keys each query may see" in texts(at.caption)
    # the curve tends to the same bound at the smallest scale
    assert arr(spec(at, ENTROPY_CURVE)["data"][0]["y"])[0] == pytest.approx(1.917, abs=2e-3)
    at.radio(key="att_mask").set_value("sliding window").run()
    at.slider(key="att_window").set_value(4).run()
    bound = np.log(np.minimum(np.arange(1, T + 1), 4))
    assert spec(at, ENTROPY_CURVE)["layout"]["shapes"][1]["y0"] == pytest.approx(bound.mean(), abs=1e-9)
    at.radio(key="att_mask").set_value("padding").run()
    at.slider(key="att_pad").set_value(5).run()
    assert spec(at, ENTROPY_CURVE)["layout"]["shapes"][1]["y0"] == pytest.approx(np.log(5), abs=1e-9)


# ------------------------------------------------------------------ bug 2: the model check follows the settings
def test_model_check_only_claims_a_match_with_the_models_own_settings():
    at = open_page("pages/attention.py")
    model_head(at)
    assert "match the model's attention" in texts(at.success)
    at.radio(key="att_mask").set_value("causal").run()
    assert "match the model's attention" not in texts(at.success)
    info = texts(at.info)
    assert "the causal mask" in info and "not the model's own settings (no mask" in info
    assert "Set the mask to **none** to rebuild" in info
    ma = models.load_model().attention(at.text_area(key="att_text").value, truncate=True)
    shown = arr(spec(at, STEP_SOFTMAX)["data"][0]["z"])
    stated = float(re.search(r"up to \*\*([0-9.e+-]+)\*\*", info).group(1))
    assert stated == pytest.approx(np.nanmax(np.abs(np.nan_to_num(shown) - ma.attentions[0, 0])), rel=1e-2)
    assert stated > 0.1                                           # far from a match
    at.radio(key="att_mask").set_value("none").run()
    at.select_slider(key="att_scale").set_value(100.0).run()
    assert "match the model's attention" not in texts(at.success)
    assert "scale 100× 1/√d_k" in texts(at.info) and "the scale to **1×**" in texts(at.info)
    at.select_slider(key="att_scale").set_value(1.0).run()
    assert "match the model's attention" in texts(at.success) and not at.info


def test_a_decoder_head_starts_from_its_causal_mask_and_matches(models_dir):  # noqa: F811
    at = open_page("pages/attention.py", query_params={"model": "tiny-llama"})
    model_head(at)
    assert at.radio(key="att_mask").value == "causal"            # the model's own mask, so the check holds
    assert "match the model's attention" in texts(at.success)
    at.radio(key="att_mask").set_value("none").run()
    assert "match the model's attention" not in texts(at.success)
    assert "Set the mask to **causal**" in texts(at.info)


# ------------------------------------------------------------------ bug 3: labels, square tiles, readable table
def test_every_token_is_labelled_on_the_step_heatmaps():
    at = open_page("pages/attention.py")
    model_head(at)
    ma = models.load_model().attention(at.text_area(key="att_text").value, truncate=True)
    assert len(ma.tokens) == 16
    for i in (0, 3):
        lay = spec(at, i)["layout"]
        for ax in ("xaxis", "yaxis"):
            assert lay[ax]["tickmode"] == "array"
            assert [t.replace("\u200b", "") for t in lay[ax]["ticktext"]] == ma.tokens
            assert lay[ax]["tickvals"] == spec(at, i)["data"][0][ax[0]]
    for i in range(MASKS, MASKS + 4):                             # the four mask panels too
        assert len(spec(at, i)["layout"]["xaxis"]["tickvals"]) == 16
    assert len(spec(at, ENTROPY_ROWS)["layout"]["xaxis"]["tickvals"]) == 16


def test_all_heads_grid_has_square_tiles_and_the_shapes_table_is_whole():
    at = open_page("pages/attention.py")
    lay = spec(at, GRID)["layout"]
    L, H = 6, 12
    for n in range(1, L * H + 1):                                 # every tile keeps its x scale: square
        sfx = "" if n == 1 else str(n)
        assert lay[f"yaxis{sfx}"]["scaleanchor"] == f"x{sfx}" and lay[f"yaxis{sfx}"]["constrain"] == "domain"
    assert lay["height"] <= GRID_WIDTH * L / H + 120                 # sized from the grid, not a fixed 760 px
    assert not at.dataframe                                       # a static table: every cell's text is shown
    table = at.table[0].value
    assert "X W_Qᵀ + b_Q (same for K, V); W_Q is (d_model, d_model)" in table["operation"].tolist()
    assert "591,360 parameters" in texts(at.caption)


# ------------------------------------------------------------------ any local model
@pytest.mark.parametrize("folder", ["tiny-llama", "tiny-gpt2"])
def test_decoder_real_model_section(models_dir, folder):  # noqa: F811
    at = open_page("pages/attention.py", query_params={"model": folder})
    assert_no_exception(at)
    assert at.header[3].value == f"4. A real model: {folder}"
    assert at.selectbox(key="att_layer").options == [str(i) for i in range(N_LAYERS)]
    assert len(at.selectbox(key="att_head").options) == N_HEADS
    assert "rollout up to this layer" not in at.radio(key="att_view").options
    assert "No attention rollout for a decoder" in texts(at.caption)
    m = models.load_model(models_dir / folder)
    ma = m.attention(at.text_area(key="att_text").value, truncate=True)
    T = len(ma.tokens)
    at.selectbox(key="att_layer").set_value(1).run()
    at.selectbox(key="att_head").set_value(3).run()
    assert_no_exception(at)
    heat = spec(at, REAL)
    z = arr(heat["data"][0]["z"])
    upper = np.triu(np.ones((T, T), bool), 1)
    assert np.isnan(z[upper]).all()                               # the causal triangle: masked, not 0
    assert heat["layout"]["plot_bgcolor"] == MASKED_GREY
    np.testing.assert_allclose(z[~upper], ma.attentions[1, 3][~upper], atol=1e-6)
    assert "Grey cells are masked (the causal mask)" in texts(at.caption)
    # the rebuild check on screen, and an independent rebuild, both within 1e-4
    check = texts(at.success)
    stated = float(re.search(r"Rebuild check, layer 1, head 3: .*largest absolute difference \*\*([0-9.e+-]+)\*\*",
                             check).group(1))
    assert stated <= 1e-4
    assert np.abs(reference_weights(ma, 1, 3) - ma.attentions[1, 3]).max() <= 1e-4
    grid = spec(at, GRID)
    assert len(grid["data"]) == N_LAYERS * N_HEADS
    assert np.isnan(arr(grid["data"][0]["z"])[upper]).all()
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    heads = at.selectbox(key="att_head").options
    if folder == "tiny-llama":                                    # GQA: 4 query heads, 2 K/V heads
        group = N_HEADS // N_KV
        assert heads == [f"{h} · K/V head {h // group} (heads {h // group * group}–{h // group * group + group - 1})"
                         for h in range(N_HEADS)]
        assert titles[:N_HEADS] == [f"h{h}<br>kv {h // group}" for h in range(N_HEADS)]
        assert "Grouped-query attention" in texts(at.markdown) and "RoPE" in texts(at.markdown)
        np.testing.assert_array_equal(ma.k[0, 0], ma.k[0, 1])    # the labels say what the model does
        assert f"({N_KV}, {T}, 16) → ({N_HEADS}, {T}, 16)" in at.table[0].value.iloc[:, -1].tolist()
    else:
        assert heads == [str(h) for h in range(N_HEADS)]
        assert titles[:N_HEADS] == [f"h{h}" for h in range(N_HEADS)]


def test_tiny_llama_long_text_is_cut_with_a_message_and_block_averaged(models_dir):  # noqa: F811
    at = open_page("pages/attention.py", query_params={"model": "tiny-llama"})
    text = "the cat sat on the mat " * 60                          # 362 tokens, over the 256-token limit
    at.text_area(key="att_text").set_value(text).run()
    assert_no_exception(at)
    assert "reads at most 256" in texts(at.warning)
    ma = models.load_model(models_dir / "tiny-llama").attention(text, truncate=True)
    assert len(ma.tokens) == 256
    overview = arr(spec(at, REAL)["data"][0]["z"])               # 128×128 tiles of 2×2 weights
    w = ma.attentions[0, 0].reshape(128, 2, 128, 2).mean(axis=(1, 3))   # masked weights count as the 0 they are
    above = np.triu(np.ones((128, 128), bool), 1)                # tiles with no allowed pair: masked (grey)
    assert np.isnan(overview[above]).all()
    np.testing.assert_allclose(overview[~above], w[~above], atol=1e-6)
    assert "each tile is the mean of 2×2 weights" in texts(at.caption)
    at.slider(key="att_zoom_start").set_value(100).run()
    zoom = arr(spec(at, REAL + 1)["data"][0]["z"])
    exact = ma.attentions[0, 0, 100:164, 100:164]
    upper = np.triu(np.ones((64, 64), bool), 1)
    assert np.isnan(zoom[upper]).all()
    np.testing.assert_allclose(zoom[~upper], exact[~upper], atol=1e-6)


def test_switching_models_keeps_the_page_working_and_never_reruns_the_model(models_dir, monkeypatch):  # noqa: F811
    calls = []
    run = models.Model.attention
    monkeypatch.setattr(models.Model, "attention", lambda self, *a, **k: calls.append(self.name) or run(self, *a, **k))
    at = open_page("pages/attention.py")
    at.selectbox(key="att_layer").set_value(5).run()
    at.selectbox(key="att_head").set_value(11).run()
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("tiny-llama").run()
    assert_no_exception(at)
    assert at.selectbox(key="att_layer").options == ["0", "1"]
    n = len(calls)
    model_head(at)
    for key, value in (("att_layer", 1), ("att_head", 2), ("att_step_layer", 1), ("att_step_head", 3)):
        at.selectbox(key=key).set_value(value).run()
        assert_no_exception(at)
    at.select_slider(key="att_scale").set_value(10.0).run()
    at.radio(key="att_view").set_value("mean over heads").run()
    assert len(calls) == n                                       # selectors and sliders use the cached pass


def test_the_zoom_outline_is_drawn_on_the_overview_only():
    from figures.attention_model import attention_heatmap

    w = np.random.default_rng(0).dirichlet(np.ones(300), size=300)
    tokens = [f"t{i}" for i in range(300)]
    overview = attention_heatmap(w, tokens, "all", block=3, window=(90, 30))
    (rect,) = overview.layout.shapes
    assert (rect.x0, rect.x1) == (90 / 3 - 0.5, 120 / 3 - 0.5)
    np.testing.assert_allclose(overview.data[0].z[10, 20], w[30:33, 60:63].mean(), rtol=1e-6)
    zoom = attention_heatmap(w[90:120, 90:120], tokens[90:120], "zoom", first=90, window=(90, 30))
    assert not zoom.layout.shapes and zoom.data[0].x[0] == "90:t90"


@pytest.mark.parametrize("T,block", [(12, 3), (13, 3), (7, 1)])
def test_block_mean_is_the_mean_of_each_tile(T, block):
    from figures.attention_model import block_mean

    rng = np.random.default_rng(T)
    w = rng.random((2, T, T)).astype(np.float32)
    mask = np.tril(np.ones((T, T), bool))
    got = block_mean(w, block, mask)
    n = -(-T // block)
    assert got.shape == (2, n, n)
    for i in range(n):
        for j in range(n):
            tile = (slice(None), slice(i * block, (i + 1) * block), slice(j * block, (j + 1) * block))
            if mask[tile[1:]].any():
                np.testing.assert_allclose(got[:, i, j], w[tile].mean(axis=(1, 2)), rtol=1e-6)
            else:
                assert np.isnan(got[:, i, j]).all()                 # no allowed pair: masked


def test_a_sliding_window_model_is_drawn_and_rebuilt_with_its_window(tiny_models, tmp_path, monkeypatch):  # noqa: F811
    """Mistral's window (4 keys here) is the model's own mask: drawn as masked, named, and taken over
    by the step-by-step section, where the rebuild then matches."""
    shutil.copytree(tiny_models["mistral"], tmp_path / "tiny-mistral")
    monkeypatch.setenv("LA_LENS_MODELS_DIR", str(tmp_path))
    at = open_page("pages/attention.py", query_params={"model": "tiny-mistral"})
    assert_no_exception(at)
    ma = models.load_model(tmp_path / "tiny-mistral").attention(at.text_area(key="att_text").value)
    T = len(ma.tokens)
    z = arr(spec(at, REAL)["data"][0]["z"])
    window = np.tril(np.ones((T, T), bool)) & ~np.tril(np.ones((T, T), bool), -4)
    assert np.isnan(z[~window]).all() and np.isfinite(z[window]).all()
    assert "Grey cells are masked (a sliding window of 4)" in texts(at.caption)
    model_head(at)
    assert (at.radio(key="att_mask").value, at.slider(key="att_window").value) == ("sliding window", 4)
    assert "match the model's attention" in texts(at.success)
