"""figures.density: the heatmap of every row under a sampled scatter (log colour, empty bins transparent,
colour bar in rows), checked on what the trace holds."""
from __future__ import annotations

import numpy as np
import pytest

from figures import density as fd
from la_core.density import density_2d


def test_density_trace_is_log_counts_with_empty_bins_transparent():
    rng = np.random.default_rng(3)
    xy = rng.normal(size=(50_000, 2))
    d = density_2d(xy, (-2, 2), (-1, 3), bins=(40, 20))
    tr = fd.density_trace(d.counts, d.x_edges, d.y_edges)
    z = np.asarray(tr["z"], float)
    assert z.shape == (20, 40)
    full = d.counts > 0
    np.testing.assert_allclose(z[full], np.log10(d.counts[full]), rtol=1e-6)
    assert np.isnan(z[~full]).all() and (~full).any()
    np.testing.assert_array_equal(tr["customdata"], d.counts)
    assert tr["x0"] == pytest.approx(d.x_centers[0]) and tr["dx"] == pytest.approx(0.1)
    assert tr["y0"] == pytest.approx(d.y_centers[0]) and tr["dy"] == pytest.approx(0.2)
    bar = tr["colorbar"]
    assert bar["title"]["text"] == "rows per bin (log)"
    top = int(np.ceil(np.log10(d.counts.max())))
    assert bar["tickvals"] == list(range(top + 1)) and bar["ticktext"][:3] == ["1", "10", "100"]
    assert tr["zmin"] == 0.0 and tr["zmax"] == top


def test_density_figure_says_how_many_rows_are_in_view():
    xy = np.random.default_rng(4).normal(size=(1000, 2))
    d = density_2d(xy, (-1, 1), (-1, 1), bins=10)
    fig = fd.density_figure(d.counts, d.x_edges, d.y_edges, n_in_view=d.n_in_view, n_total=d.n_total)
    assert f"{d.n_in_view:,} rows in view of 1,000" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "PC1" and tuple(fig.layout.xaxis.range) == (-1.0, 1.0)
    assert fig.data[0].type == "heatmap" and fig.data[0].colorbar.title.text == "rows per bin (log)"
    empty = fd.density_trace(np.zeros((2, 3), int), np.arange(4.0), np.arange(3.0))
    assert np.isnan(np.asarray(empty["z"], float)).all() and empty["colorbar"]["ticktext"] == ["1", "10"]
    with pytest.raises(ValueError, match="needs x_edges"):
        fd.density_trace(d.counts, d.x_edges[:-1], d.y_edges)
    with pytest.raises(ValueError, match="not negative"):
        fd.density_trace(-np.ones((2, 2)), np.arange(3.0), np.arange(3.0))


def test_with_density_puts_the_heatmap_under_the_points_and_says_what_it_counts():
    from figures.pca import scatter

    rng = np.random.default_rng(5)
    xy = rng.normal(size=(20_000, 2))
    d = density_2d(xy, bins=50)
    points = scatter(xy[::100], title="PCA of 20,000 rows (200 drawn)")
    fig = fd.with_density(points, d.counts, d.x_edges, d.y_edges, n_in_view=d.n_in_view, n_total=d.n_total)
    assert fig.data[0].type == "heatmap" and [t.type for t in fig.data[1:]] == [t.type for t in points.data]
    np.testing.assert_allclose(np.asarray(fig.data[1].x, float), xy[::100, 0], rtol=1e-6)
    assert fig.layout.title.text.startswith("PCA of 20,000 rows (200 drawn)<br>")
    assert "20,000 of 20,000 rows in view, every one counted" in fig.layout.title.text
    assert fig.layout.margin.b >= 130 and fig.layout.xaxis.title.text == "PC1"
    plain = fd.with_density(points, d.counts, d.x_edges, d.y_edges)
    assert plain.layout.title.text == points.layout.title.text
