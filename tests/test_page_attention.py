"""The Attention page through the real navigation: widgets change the charts the way the maths says."""

import numpy as np
import pytest

from la_core import attention as la
from la_core import models
from tests.apptest_utils import arr, assert_no_exception, chart_json, chart_specs, charts, open_page

STEP_SOFTMAX, STEP_MASKED, ENTROPY_CURVE, MASKS, STUDY, STUDY_MAX, REAL, GRID = 3, 2, 5, 6, 10, 11, 12, 13



def trace(at, chart, i=0):
    return chart_specs(at)[chart]["data"][i]


@pytest.fixture(scope="module")
def at():
    at = open_page("pages/attention.py")
    assert_no_exception(at)
    return at


def test_renders_every_section(at):
    assert at.title[0].value == "Attention"
    heads = [h.value for h in at.header]
    assert heads[:5] == ["1. Step by step", "2. Masks", "3. Why divide by √d_k?",
                         "4. A real model: all-MiniLM-L6-v2", "5. Multi-head attention: the shapes"]
    specs = chart_specs(at)
    assert len(specs) == 14
    for i in range(4):   # four heatmaps, each with its own titled colour bar
        assert specs[i]["data"][0]["colorbar"]["title"]["text"]
    assert specs[0]["data"][0]["zmid"] == 0 and specs[1]["data"][0]["zmid"] == 0
    w = arr(trace(at, STEP_SOFTMAX)["z"])
    assert w.shape == (8, 8)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)


def test_scale_slider_saturates_and_flattens(at):
    base = arr(trace(at, STEP_SOFTMAX)["z"])
    at.select_slider(key="att_scale").set_value(100.0).run()
    assert_no_exception(at)
    hot = arr(trace(at, STEP_SOFTMAX)["z"])
    np.testing.assert_allclose(hot.max(1), 1.0, atol=1e-3)                # one-hot rows
    assert hot.max(1).mean() > base.max(1).mean()
    at.select_slider(key="att_scale").set_value(0.01).run()
    cold = arr(trace(at, STEP_SOFTMAX)["z"])
    np.testing.assert_allclose(cold, 1 / 8, atol=0.02)                     # nearly uniform
    marker = trace(at, ENTROPY_CURVE, 1)
    assert arr(marker["x"])[0] == pytest.approx(0.01)
    at.select_slider(key="att_scale").set_value(1.0).run()


def test_T_and_causal_mask(at):
    at.slider(key="att_T").set_value(20).run()
    at.radio(key="att_mask").set_value("causal").run()
    assert_no_exception(at)
    w = arr(trace(at, STEP_SOFTMAX)["z"])
    assert w.shape == (20, 20)
    upper = np.triu(np.ones((20, 20), bool), 1)
    assert np.isnan(w[upper]).all()                                       # masked: drawn grey (gap)
    np.testing.assert_allclose(np.nansum(w, 1), 1.0, atol=1e-5)           # never looks ahead
    assert np.isnan(arr(trace(at, STEP_MASKED)["z"])[upper]).all()
    grey = trace(at, STEP_SOFTMAX, 1)                                      # masked cells drawn grey
    assert grey["name"] == "masked" and (~np.isnan(arr(grey["z"]))).sum() == upper.sum()
    at.radio(key="att_mask").set_value("sliding window").run()
    at.slider(key="att_window").set_value(2).run()
    w = arr(trace(at, STEP_SOFTMAX)["z"])
    assert np.isfinite(w).sum() == 20 + 19                                  # itself + one previous
    at.radio(key="att_mask").set_value("none").run()


def test_minilm_head_is_rebuilt(at):
    at.radio(key="att_source").set_value("a MiniLM head").run()
    at.selectbox(key="att_step_layer").set_value(2).run()
    at.selectbox(key="att_step_head").set_value(5).run()
    assert_no_exception(at)
    t = trace(at, STEP_SOFTMAX)
    ma = models.load_model().attention(at.text_area(key="att_text").value, truncate=True)
    assert [x.replace("\u200b", "") for x in t["x"]] == ma.tokens
    np.testing.assert_allclose(arr(t["z"]), ma.attentions[2, 5], atol=1e-5)
    assert any("match the model's attention" in s.value for s in at.success)
    at.radio(key="att_source").set_value("synthetic (random)").run()


def test_real_model_selectors_and_rollout(at):
    at.text_area(key="att_text").set_value("Paris is the capital of France.").run()
    assert_no_exception(at)
    ma = models.load_model().attention("Paris is the capital of France.", truncate=True)
    t = trace(at, REAL)
    assert [x.replace("\u200b", "") for x in t["x"]] == ma.tokens
    np.testing.assert_allclose(arr(t["z"]), ma.attentions[0, 0], atol=1e-6)
    at.selectbox(key="att_layer").set_value(4).run()
    at.selectbox(key="att_head").set_value(11).run()
    np.testing.assert_allclose(arr(trace(at, REAL)["z"]), ma.attentions[4, 11], atol=1e-6)
    at.radio(key="att_view").set_value("rollout up to this layer").run()
    r = arr(trace(at, REAL)["z"])
    np.testing.assert_allclose(r, la.attention_rollout(ma.attentions[:5])[-1], atol=1e-5)
    np.testing.assert_allclose(r.sum(1), 1.0, atol=1e-5)
    at.radio(key="att_view").set_value("mean over heads").run()
    np.testing.assert_allclose(arr(trace(at, REAL)["z"]), ma.attentions[4].mean(0), atol=1e-6)
    grid = chart_specs(at)[GRID]["data"]
    assert len(grid) == 72
    np.testing.assert_allclose(arr(grid[4 * 12 + 11]["z"]), ma.attentions[4, 11], atol=1e-6)
    shapes = at.table[0].value
    T = len(ma.tokens)
    assert f"(12, {T}, {T})" in shapes.iloc[:, -1].tolist() and f"(12, {T}, 32)" in shapes.iloc[:, -1].tolist()


def test_why_sqrt_dk(at):
    s = chart_specs(at)[STUDY]["data"]
    d, raw, scaled = arr(s[0]["x"]), arr(s[0]["y"]), arr(s[1]["y"])
    assert d[0] == 1 and d[-1] == 1024
    np.testing.assert_allclose(raw / d, 1.0, rtol=0.2)
    np.testing.assert_allclose(scaled, 1.0, rtol=0.2)
    m = chart_specs(at)[STUDY_MAX]["data"]
    np.testing.assert_array_equal(arr(m[0]["x"]), d)
    assert arr(m[0]["y"])[-1] > 0.9 > arr(m[1]["y"])[-1]                   # unscaled saturates


def test_bad_and_long_text(at):
    at.text_area(key="att_text").set_value("   ").run()
    assert_no_exception(at)
    assert at.error and "non-empty" in at.error[0].value
    at.text_area(key="att_text").set_value("token " * 600).run()
    assert_no_exception(at)
    assert at.warning and "602 tokens" in at.warning[0].value
    ma = models.load_model().attention("token " * 600, truncate=True)
    overview = arr(trace(at, REAL)["z"])                 # 512 tokens: 128×128 tiles of 4×4 weights
    np.testing.assert_allclose(overview, ma.attentions[0, 0].reshape(128, 4, 128, 4).mean(axis=(1, 3)), atol=1e-6)
    zoom = trace(at, REAL + 1)                           # and a window of exact weights
    np.testing.assert_allclose(arr(zoom["z"]), ma.attentions[0, 0, :64, :64], atol=1e-6)
    assert zoom["x"][0].startswith("0:")
    captions = " ".join(c.value for c in at.caption)
    assert "each tile is the mean of 4×4 weights" in captions
    assert "the mean of 11×11 weights" in captions       # the all-heads grid: 72 tiles of at most 48 cells


def test_long_synthetic_sequences_get_bigger_heatmaps():
    at = open_page("pages/attention.py")
    assert chart_specs(at)[STEP_SOFTMAX]["layout"]["height"] == 340
    at.slider(key="att_T").set_value(64).run()
    at.slider(key="att_dk").set_value(256).run()
    assert_no_exception(at)
    spec = chart_specs(at)[STEP_SOFTMAX]
    assert spec["layout"]["height"] == 600 and arr(spec["data"][0]["z"]).shape == (64, 64)
    assert "64 tokens, d_k = 256" in " ".join(c.value for c in at.caption)


def test_long_text_steps_show_a_window_of_exact_values():
    """A 512-token MiniLM head: the step heatmaps and mask gallery show 128 tokens (a window the
    slider moves), with exactly the values of the full computation, not all 512² cells ×11."""
    at = open_page("pages/attention.py")
    text = "The quick brown fox jumps over the lazy dog. " * 60
    at.text_area(key="att_text").set_value(text).run()
    at.radio(key="att_source").set_value("a MiniLM head").run()
    at.radio(key="att_mask").set_value("causal").run()
    assert_no_exception(at)
    ma = models.load_model().attention(text, truncate=True)
    T = len(ma.tokens)
    assert T == 512
    full = la.attention_steps(ma.q[0, 0], ma.k[0, 0], ma.v[0, 0], mask=np.tril(np.ones((T, T), bool)))
    start = at.slider(key="att_view_start")
    assert start.max == T - 128
    for lo in (0, 200):
        start.set_value(lo).run()
        assert_no_exception(at)
        specs = chart_specs(at)
        w = arr(trace(at, STEP_SOFTMAX)["z"])
        assert w.shape == (128, 128)
        np.testing.assert_allclose(np.nan_to_num(w), full.weights[lo:lo + 128, lo:lo + 128], atol=1e-5)
        assert trace(at, STEP_SOFTMAX)["x"][0].startswith(f"{lo}:")
        assert f"{lo}–{lo + 127} of 512" in " ".join(c.value for c in at.caption)
        step_bytes = sum(len(chart_json(charts(at)[i])) for i in (0, 1, 2, 3, 4, MASKS, MASKS + 1, MASKS + 2, MASKS + 3))
        assert step_bytes < 4_000_000, step_bytes
    # the real-model view: all 512 tokens as 4×4 block means, and a zoom window of exact weights that moves
    np.testing.assert_allclose(arr(specs[REAL]["data"][0]["z"]).shape, (128, 128))
    at.select_slider(key="att_zoom_size").set_value(32).run()
    at.slider(key="att_zoom_start").set_value(300).run()
    assert_no_exception(at)
    np.testing.assert_allclose(arr(trace(at, REAL + 1)["z"]), ma.attentions[0, 0, 300:332, 300:332], atol=1e-6)
    rect = chart_specs(at)[REAL]["layout"]["shapes"][0]                    # the zoom drawn on the overview
    assert (rect["x0"], rect["x1"]) == (300 / 4 - 0.5, 332 / 4 - 0.5)
