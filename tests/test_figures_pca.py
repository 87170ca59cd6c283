"""figures.pca.analogy_figure: A − B + C in a 2D view, checked on what the figure shows: the points in
grey, the three arrows (A − B, the same offset moved to C, C to the top answer), the words, the axes
and the zoom onto the words."""
import numpy as np
import pytest

from figures import pca as fp
from figures.common import COLORS


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(40, 2))
    labels = np.array([f"w{i}" for i in range(40)])
    rows = [3, 7, 11, 20, 25]                                # A, B, C and two answers, best first
    words = [str(labels[r]) for r in rows]
    fig = fp.analogy_figure(coords, coords[rows], words, axis_titles=["PC1", "PC3"], title="w3 − w7 + w11",
                            labels=labels, index=np.arange(100, 140))
    return coords, rows, words, fig


def _xy(trace):
    return np.column_stack([np.asarray(trace.x, float), np.asarray(trace.y, float)])


def test_traces_in_drawing_order(case):
    *_, fig = case
    assert [t.type for t in fig.data] == ["scatter"] * 5
    assert [t.name for t in fig.data] == ["points", "w7 → w3 (A − B)", "w11 + (A − B)", "w11 → w20 (top answer)",
                                          "A, B, C and answers"]


def test_background_points_are_grey_with_their_labels_and_rows(case):
    coords, _, _, fig = case
    pts = fig.data[0]
    assert pts.mode == "markers" and pts.marker.color == "#ced4da" and pts.showlegend is False
    np.testing.assert_allclose(_xy(pts), coords, rtol=1e-6)              # float32 on the wire
    assert list(pts.customdata) == list(range(100, 140))
    assert "w5" in pts.text[5]


def test_arrows_go_from_b_to_a_from_c_by_the_same_offset_and_from_c_to_the_answer(case):
    coords, rows, _, fig = case
    a, b, c, d = coords[rows[:4]]
    expected = [(b, a, COLORS["e1"], None), (c, c + (a - b), COLORS["u"], "dash"), (c, d, COLORS["x"], None)]
    for tr, (start, end, colour, dash) in zip(fig.data[1:4], expected):
        np.testing.assert_allclose(_xy(tr), [start, end], rtol=1e-6, atol=1e-6)
        assert tr.mode == "lines+markers" and list(tr.marker.symbol) == ["circle", "arrow"]   # a head at the end
        assert tr.line.color == colour and tr.marker.color == colour and tr.line.dash == dash
        assert tr.line.width == 2.5


def test_the_words_are_labelled_markers(case):
    coords, rows, words, fig = case
    w = fig.data[4]
    assert w.mode == "markers+text" and list(w.text) == words and w.textposition == "top center"
    np.testing.assert_allclose(_xy(w), coords[rows], rtol=1e-6)
    assert w.marker.color == "#868E96"                 # mid grey: seen on the light and the dark background


def test_axes_titles_and_zoom_onto_the_words_and_where_c_plus_offset_lands(case):
    coords, rows, _, fig = case
    lay = fig.layout
    assert lay.xaxis.title.text == "PC1" and lay.yaxis.title.text == "PC3"
    assert lay.title.text == "w3 − w7 + w11" and lay.height == 520
    a, b, c = coords[rows[:3]]
    ends = np.vstack([coords[rows], c + a - b])
    for axis, k in ((lay.xaxis, 0), (lay.yaxis, 1)):
        lo, hi = axis.range
        span = ends[:, k].max() - ends[:, k].min()
        assert lo == pytest.approx(ends[:, k].min() - 0.25 * span)   # a quarter of the span as margin
        assert hi == pytest.approx(ends[:, k].max() + 0.25 * span)
    outside = (coords[:, 0] < lay.xaxis.range[0]) | (coords[:, 0] > lay.xaxis.range[1])
    assert outside.any()                                                # zoomed in: some context points are off
