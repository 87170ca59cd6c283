"""Every row drawn on the PCA page: when a 2-D view shows a sample, a heatmap under it counts every row
(:func:`la_core.density.density_2d`, log colour) in the view's range.

The chart component (ui/chart.py) reports clicks, not zoom events, so the view's range is set in four
number inputs; the heatmap and the axes follow them, and the caption says how many rows fall in view.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from figures.density import with_density
from la_core.density import Density, density_2d
from ui.chart import kept_figure

__all__ = ["BINS", "count_rows", "view_range", "shade"]

BINS = 200


@st.cache_data(max_entries=16, show_spinner="Counting every row in the view…")
def count_rows(key: tuple, x_range: tuple, y_range: tuple, _xy: np.ndarray) -> Density:
    """Every row of ``_xy`` (n, 2) counted in a BINS × BINS grid over the ranges (cached per view)."""
    return density_2d(_xy, x_range, y_range, bins=BINS)


def view_range(xy: np.ndarray, suffix: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The view's x and y ranges from four number inputs (default: every row), checked."""
    lo, hi = xy.min(0).astype(float), xy.max(0).astype(float)
    with st.expander("Zoom the shading: the range counted and shown"):
        st.caption("Set the ranges to zoom: every row inside them is counted again on a finer grid. (The chart's "
                   "own zoom enlarges the picture but does not count again.)")
        c = st.columns(4)
        vals = [c[i].number_input(label, value=float(v), key=f"pca_dens_{name}{suffix}", format="%.4g")
                for i, (label, name, v) in enumerate([("x from", "x0", lo[0]), ("x to", "x1", hi[0]),
                                                       ("y from", "y0", lo[1]), ("y to", "y1", hi[1])])]
    x_range, y_range = (vals[0], vals[1]), (vals[2], vals[3])
    for axis, (a, b), (dlo, dhi) in (("x", x_range, (lo[0], hi[0])), ("y", y_range, (lo[1], hi[1]))):
        if not a < b:
            st.error(f"The {axis} range must run from a smaller to a larger number; got {a:g} to {b:g}. "
                     "Showing every row's range on that axis.")
            if axis == "x":
                x_range = (float(dlo), float(dhi))
            else:
                y_range = (float(dlo), float(dhi))
    return x_range, y_range


def _shaded(fig, dens: Density):
    out = with_density(fig, dens.counts, dens.x_edges, dens.y_edges, dens.n_in_view, dens.n_total)
    out.update_xaxes(range=list(dens.x_range), autorange=False)
    out.update_yaxes(range=list(dens.y_range), autorange=False)
    return out


def shade(view: tuple, fig, xy: np.ndarray, suffix: str):
    """``fig`` with every row of ``xy`` (n, 2) counted under its points, in the range the user set."""
    x_range, y_range = view_range(xy, suffix)
    dens = count_rows(view, x_range, y_range, xy)
    st.caption(f"The shading counts **every row**: {dens.n_in_view:,} of {dens.n_total:,} rows fall in the "
               f"current view (x {x_range[0]:.3g} … {x_range[1]:.3g}, y {y_range[0]:.3g} … {y_range[1]:.3g}); "
               "the colour is log10 of the rows per bin, empty bins are left clear.")
    return kept_figure((*view, "density", x_range, y_range), _shaded, fig, dens)
