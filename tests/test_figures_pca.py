"""figures.pca.analogy_figure, built in one step, is the figure the PCA page used to build with
update_traces / add_traces / add_scatter / update_xaxes calls."""
import json

import numpy as np
import plotly.io as pio

from figures import pca as fp
from figures.common import COLORS, arrow


def old_builder(coords, words_xy, words, axis_titles, title, labels, index):
    fig = fp.scatter(coords, labels=labels, axis_titles=axis_titles, title=title, neighbors=None, index=index,
                     height=520, marker_size=4)
    fig.update_traces(marker=dict(color="#ced4da"), selector=dict(name="points"))
    a, b, c, d = (np.asarray(p, float) for p in words_xy[:4])
    fig.add_traces([arrow(b, a, COLORS["e1"], f"{words[1]} → {words[0]} (A − B)", width=2.5),
                    arrow(c, c + (a - b), COLORS["u"], f"{words[2]} + (A − B)", "dash", width=2.5),
                    arrow(c, d, COLORS["x"], f"{words[2]} → {words[3]} (top answer)", width=2.5)])
    fig.add_scatter(x=words_xy[:, 0].astype(np.float32), y=words_xy[:, 1].astype(np.float32), mode="markers+text",
                    text=list(words), textposition="top center", name="A, B, C and answers",
                    marker=dict(size=9, color="#212529"))
    ends = np.vstack([words_xy, words_xy[2] + words_xy[0] - words_xy[1]])
    lo, hi = ends.min(0), ends.max(0)
    pad = 0.25 * np.maximum(hi - lo, 1e-6)
    fig.update_xaxes(range=[float(lo[0] - pad[0]), float(hi[0] + pad[0])])
    fig.update_yaxes(range=[float(lo[1] - pad[1]), float(hi[1] + pad[1])])
    return fig


def test_analogy_figure_is_the_old_builders_figure():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(40, 2))
    labels = np.array([f"w{i}" for i in range(40)])
    rows = [3, 7, 11, 20, 25]
    words = [str(labels[r]) for r in rows]
    args = dict(axis_titles=["PC1", "PC3"], title="w3 − w7 + w11", labels=labels, index=np.arange(40))
    new = json.loads(pio.to_json(fp.analogy_figure(coords, coords[rows], words, **args), validate=False))
    old = json.loads(pio.to_json(old_builder(coords, coords[rows], words, **args), validate=False))
    assert new == old
    assert new["layout"]["xaxis"]["range"][0] < coords[rows, 0].min()      # zoomed onto the words, with a margin
