"""figures.layers: tokens through the layers, per-layer lines, logit-lens table, checked on what the figures
hold: coordinates, frames, slider, axes, colour bars, text."""
from __future__ import annotations

import numpy as np
import pytest

from figures import layers as fl

TOKENS = ["[CLS]", "the", "cat", "sat", "the", "[SEP]"]


@pytest.fixture(scope="module")
def coords():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, len(TOKENS), 2)).cumsum(0)                 # (L+1, T, 2)


def _xy(trace):
    return np.column_stack([np.asarray(trace.x, float), np.asarray(trace.y, float)])


def test_token_paths_frames_one_per_layer_with_the_tokens_there(coords):
    share = np.array([0.1, 0.5, 0.62, 0.9])
    fig = fl.token_paths(coords, TOKENS, layer_share=share)
    names = ["embeddings", "layer 1", "layer 2", "layer 3"]
    assert [f.name for f in fig.frames] == names
    for i, fr in enumerate(fig.frames):
        assert list(fr.traces) == [1]
        np.testing.assert_allclose(_xy(fr.data[0]), coords[i], rtol=1e-6)
        assert list(fr.data[0].text) == TOKENS and names[i] in fr.data[0].hovertemplate
        assert f"the axes show {100 * share[i]:.1f}% of this layer's token spread" in fr.layout.title.text
    cur = fig.data[1]                                                        # starts at the last layer
    np.testing.assert_allclose(_xy(cur), coords[-1], rtol=1e-6)
    assert cur.mode == "markers+text" and list(cur.marker.color) == list(range(len(TOKENS)))
    assert cur.marker.colorbar.title.text == "token position"
    assert "layer 3" in fig.layout.title.text and "90.0%" in fig.layout.title.text


def test_token_paths_lines_trace_each_token_across_all_layers(coords):
    fig = fl.token_paths(coords, TOKENS)
    pts = _xy(fig.data[0])                                                   # tokens separated by NaN rows
    n_l, t, _ = coords.shape
    assert pts.shape == ((n_l + 1) * t, 2)
    for j in range(t):
        block = pts[j * (n_l + 1):(j + 1) * (n_l + 1)]
        np.testing.assert_allclose(block[:n_l], coords[:, j], rtol=1e-6)
        assert np.isnan(block[n_l]).all()
    assert fig.data[0].mode == "lines" and fig.data[0].hoverinfo == "skip"


def test_token_paths_axes_hold_every_layer_and_the_slider_animates_in_the_browser(coords):
    fig = fl.token_paths(coords, TOKENS, layer=1, axis_titles=("PC1", "PC2", "PC3"))
    lo, hi = fig.layout.xaxis.range
    assert lo < coords[..., 0].min() and hi > coords[..., 0].max()
    lo, hi = fig.layout.yaxis.range
    assert lo < coords[..., 1].min() and hi > coords[..., 1].max()
    assert fig.layout.xaxis.title.text == "PC1" and fig.layout.yaxis.title.text == "PC2"
    assert fig.layout.yaxis.scaleanchor == "x"                               # equal units
    slider = fig.layout.sliders[0]
    assert slider.active == 1 and [s.label for s in slider.steps] == [f.name for f in fig.frames]
    assert all(s.method == "animate" for s in slider.steps)
    np.testing.assert_allclose(_xy(fig.data[1]), coords[1], rtol=1e-6)
    assert fig.layout.updatemenus[0].buttons[0].label == "▶ play"


def test_token_paths_in_3d_and_many_tokens_without_text():
    rng = np.random.default_rng(1)
    c3 = rng.normal(size=(3, 5, 3))
    fig = fl.token_paths(c3, list("abcde"), layer_names=["in", "mid", "out"])
    assert fig.data[0].type == fig.data[1].type == "scatter3d"
    np.testing.assert_allclose(np.asarray(fig.frames[2].data[0].z, float), c3[2, :, 2], rtol=1e-6)
    assert fig.layout.scene.xaxis.title.text == "PC1" and fig.layout.scene.aspectmode == "data"
    assert fig.layout.sliders[0].steps[0].args[1]["frame"]["redraw"] is True   # 3-D needs a redraw
    many = fl.token_paths(rng.normal(size=(2, fl.LABEL_MAX + 1, 2)), [str(i) for i in range(fl.LABEL_MAX + 1)])
    assert many.data[1].mode == "markers"


def test_token_paths_refuses_mismatched_input(coords):
    with pytest.raises(ValueError, match="coords must have shape"):
        fl.token_paths(coords[0], TOKENS)
    with pytest.raises(ValueError, match="tokens has 2 entries for 6 tokens"):
        fl.token_paths(coords, ["a", "b"])
    with pytest.raises(ValueError, match="layer_names has 1 names for 4 layers"):
        fl.token_paths(coords, TOKENS, layer_names=["x"])
    with pytest.raises(ValueError, match="layer must be in 0 … 3"):
        fl.token_paths(coords, TOKENS, layer=4)


def test_layer_stats_lines_and_axes():
    share, cos = np.array([0.2, 0.55, 0.7]), np.array([0.1, -0.2, 0.8])
    fig = fl.layer_stats(share, cos)
    a, b = fig.data
    np.testing.assert_allclose(np.asarray(a.y, float), 100 * share, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b.y, float), cos, rtol=1e-6)
    assert list(a.x) == ["embeddings", "layer 1", "layer 2"] and b.yaxis == "y2"
    assert fig.layout.yaxis.title.text == "variance shown by the axes (%)" and tuple(fig.layout.yaxis.range) == (0, 100)
    assert fig.layout.yaxis2.title.text == "mean cosine between tokens"
    assert tuple(fig.layout.yaxis2.range) == (-1.0, 1.0)                     # a negative cosine: full range
    assert tuple(fl.layer_stats(share, np.abs(cos)).layout.yaxis2.range) == (0.0, 1.0)
    with pytest.raises(ValueError, match="same length"):
        fl.layer_stats(share, cos[:2])


def test_logit_lens_figure_is_a_labelled_heatmap_of_the_top_token():
    rng = np.random.default_rng(2)
    n_l, t, top = 3, 4, 5
    probs = np.sort(rng.random((n_l, t, top)), axis=-1)[..., ::-1] / 3
    words = np.array([[[f"w{i}{j}{r}" for r in range(top)] for j in range(t)] for i in range(n_l)], dtype=object)
    fig = fl.logit_lens_figure(words, probs, ["a", "b", "a", "c"])
    h = fig.data[0]
    assert h.type == "heatmap" and (h.zmin, h.zmax) == (0.0, 1.0)
    np.testing.assert_allclose(np.asarray(h.z, float), probs[..., 0], rtol=1e-6)
    assert np.asarray(h.text).tolist() == words[..., 0].tolist() and h.texttemplate == "%{text}"
    assert list(h.x) == ["0: a", "1: b", "2: a", "3: c"]                    # repeated tokens stay apart
    assert list(h.y) == ["embeddings", "layer 1", "layer 2"]
    assert h.colorbar.title.text == "probability of the top next token"
    cell = np.asarray(h.customdata, dtype=object)[1, 2]
    assert cell.split("<br>")[0] == f"1. w120  {probs[1, 2, 0]:.3f}" and cell.count("<br>") == top - 1
    assert fig.layout.xaxis.title.text == "position: input token" and fig.layout.yaxis.title.text == "layer"
    assert fig.layout.yaxis.autorange is None                              # first layer at the bottom
    wide = fl.logit_lens_figure(np.repeat(words, 11, axis=1), np.repeat(probs, 11, axis=1), list("abcd") * 11)
    assert wide.data[0].text is None                                         # > 40 positions: hover only
    with pytest.raises(ValueError, match="same shape"):
        fl.logit_lens_figure(words[..., :2], probs, list("abac"))
    with pytest.raises(ValueError, match="tokens has 3 entries for 4 positions"):
        fl.logit_lens_figure(words, probs, list("abc"))
