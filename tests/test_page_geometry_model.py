"""AppTest of the Geometry page's RoPE with a local model from LA_LENS_MODELS_DIR: a tiny Llama
(rope_theta 500000, d_head 16) sets the demo's base and head size, and its real q and k, read
independently through la_core.models and transformers, are what the model section rotates; GPT-2
has no RoPE and the page says so."""

import numpy as np
import pytest

from la_core.models import load_model
from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.model_fixtures import models_dir, tiny_models  # noqa: F401

PAGE = "pages/geometry.py"
PAIR, ANIM, SCORES, OFFSET, SPEEDS, WAVELENGTH, MODEL_PAIR, MODEL_OFFSET = range(8)
THETA, D_HEAD = 500_000, 16          # the tiny Llama of tests/model_fixtures.py
TEXT = "The cat sat on the mat because it was warm."


def trace(spec, prefix):
    return next(t for t in spec["data"] if str(t.get("name", "")).startswith(prefix))


def tip(spec, prefix):
    t = trace(spec, prefix)
    return np.array([arr(t["x"])[-1], arr(t["y"])[-1]])


def test_llama_sets_the_demo_to_its_theta_and_head_size(models_dir):  # noqa: F811
    at = open_page(PAGE, query_params={"model": "tiny-llama"})
    assert_no_exception(at)
    assert at.selectbox(key="geo_rope_d").value == D_HEAD
    assert at.select_slider(key="geo_rope_base").value == THETA
    assert at.slider(key="geo_rope_pair").value == D_HEAD // 8
    assert any("θ = 500,000" in md.value and "d_head = 16" in md.value for md in at.markdown)
    wl = arr(chart_specs(at)[WAVELENGTH]["data"][0]["y"])
    np.testing.assert_allclose(wl, 2 * np.pi * THETA ** (2 * np.arange(D_HEAD // 2) / D_HEAD), rtol=1e-5)
    assert len(chart_specs(at)) == 10 + 2                # the model section adds two charts


def test_model_section_rotates_the_models_own_q(models_dir):  # noqa: F811
    """The arrow 'q at m' is the model's own q (after RoPE) in pair i = (i, i + d/2); the dashed q at
    position 0, turned by m·θ_i with θ_i = 500000^(−2i/16), lands on it; the starred score is the
    model's q·k and lies on the curve of the same pre-RoPE vectors placed at other positions."""
    at = open_page(PAGE, query_params={"model": "tiny-llama"})
    layer, head, pair = 1, 3, 2
    at.selectbox(key="geo_mr_layer").set_value(layer).run()
    at.selectbox(key="geo_mr_head").set_value(head).run()
    at.slider(key="geo_mr_pair").set_value(pair).run()
    assert_no_exception(at)
    m, n = at.selectbox(key="geo_mr_m").value, at.selectbox(key="geo_mr_n").value
    ma = load_model(models_dir / "tiny-llama").attention(TEXT)
    assert (m, n) == (len(ma.tokens) - 1, len(ma.tokens) - 4)
    q, k = ma.q[layer, head, m], ma.k[layer, head, n]
    i, j = pair, pair + D_HEAD // 2
    spec = chart_specs(at)[MODEL_PAIR]
    np.testing.assert_allclose(tip(spec, "q at m"), q[[i, j]], atol=1e-5)
    q0 = tip(spec, "q at position 0")
    angle = m * THETA ** (-2 * pair / D_HEAD)
    c, s = np.cos(angle), np.sin(angle)
    np.testing.assert_allclose([c * q0[0] - s * q0[1], s * q0[0] + c * q0[1]], q[[i, j]], atol=1e-5)
    assert spec["layout"]["xaxis"]["title"]["text"] == f"dimension {i}"
    off = chart_specs(at)[MODEL_OFFSET]
    star = trace(off, "the model's q·k")
    assert arr(star["x"])[0] == m - n
    assert arr(star["y"])[0] == pytest.approx(float(q @ k), rel=1e-5)
    x, y = arr(off["data"][0]["x"]), arr(off["data"][0]["y"])
    on_offset = y[x == m - n]
    assert on_offset.size > 1 and np.ptp(on_offset) < 1e-4 * np.abs(y).max()
    np.testing.assert_allclose(on_offset, float(q @ k), rtol=1e-4)
    assert np.ptp(y) > 1e-3                               # other offsets give other scores
    assert any(f"q·k = {float(q @ k):.4f}" in md.value for md in at.markdown)


def test_forward_pass_is_cached_by_model_and_text(models_dir, monkeypatch):  # noqa: F811
    from la_core.models.handle import Model
    from ui.geometry_rope import model_qk

    model_qk.clear()
    calls = []
    real = Model.attention
    monkeypatch.setattr(Model, "attention", lambda self, text, **kw: calls.append(text) or real(self, text, **kw))
    at = open_page(PAGE, query_params={"model": "tiny-llama"})
    at.selectbox(key="geo_mr_layer").set_value(1).run()
    at.selectbox(key="geo_mr_head").set_value(2).run()
    at.selectbox(key="geo_mr_m").set_value(3).run()
    at.slider(key="geo_mr_pair").set_value(5).run()
    assert calls == [TEXT]
    at.text_input(key="geo_rope_text").set_value("Another sentence.").run()
    assert_no_exception(at)
    assert calls == [TEXT, "Another sentence."]
    assert at.selectbox(key="geo_mr_m").value < 8            # kept inside the shorter text


def test_gpt2_has_no_rope_and_says_so(models_dir):  # noqa: F811
    at = open_page(PAGE, query_params={"model": "tiny-gpt2"})
    assert_no_exception(at)
    info = " ".join(i.value for i in at.info)
    assert "tiny-gpt2" in info and "no RoPE" in info and "position embedding" in info
    assert len(chart_specs(at)) == 10                     # no model section
    assert at.selectbox(key="geo_rope_d").value == 64
    assert at.select_slider(key="geo_rope_base").value == 10_000
    # choosing the Llama in the sidebar moves the controls to its values
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("tiny-llama").run()
    assert_no_exception(at)
    assert (at.selectbox(key="geo_rope_d").value, at.select_slider(key="geo_rope_base").value) == (D_HEAD, THETA)
    assert not any("no RoPE" in i.value for i in at.info)
