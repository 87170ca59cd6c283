"""Every row drawn on the PCA page: when a 2-D view shows a sample, a heatmap under it counts every row
(:func:`la_core.density.density_2d`, log colour) in the range the chart shows.

Zooming or panning the chart sends Plotly's relayout event (ui/chart.py's ``on_relayout``); the rows
are counted again for the new range, on a grid as fine as before, and only the heatmap and a few
layout entries go back to the browser (the sampled points stay as they are). A double click, or the
button under the chart, shows every row's range again.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from figures.density import density_overlay
from la_core.density import Density, density_2d, view_from_relayout
from ui.chart import relayout_event

__all__ = ["BINS", "count_rows", "view_state_key", "shade"]

BINS = 200


@st.cache_data(max_entries=16, show_spinner="Counting every row in the view…")
def count_rows(key: tuple, x_range: tuple, y_range: tuple, _xy: np.ndarray) -> Density:
    """Every row of ``_xy`` (n, 2) counted in a BINS × BINS grid over the ranges (cached per view)."""
    return density_2d(_xy, x_range, y_range, bins=BINS)


def view_state_key(suffix: str) -> str:
    """Session-state key of the zoomed view ``(x_range, y_range)`` (None per axis: every row's range)."""
    return f"pca_density_view{suffix}"


def _on_zoom(chart_key: str, suffix: str):
    """The chart's relayout callback: keep the new view for the next run."""
    def remember() -> None:
        event = relayout_event(chart_key)
        if event is None:
            return
        before = st.session_state.get(view_state_key(suffix)) or (None, None)
        try:
            view = view_from_relayout(event, *before)
        except ValueError:
            return                      # not a zoom (nothing the chart sends should get here)
        st.session_state[view_state_key(suffix)] = None if view == (None, None) else view
    return remember


def _reset(suffix: str) -> None:
    st.session_state[view_state_key(suffix)] = None
    # a new ui revision: Plotly drops the user's zoom and shows the whole range again
    st.session_state[f"pca_density_resets{suffix}"] = st.session_state.get(f"pca_density_resets{suffix}", 0) + 1


def _checked(view, lo: np.ndarray, hi: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ranges to count: the zoomed ones where they are usable, every row's range elsewhere."""
    out = []
    for i, r in enumerate(view or (None, None)):
        ok = (r is not None and len(r) == 2 and all(np.isfinite(r)) and r[0] < r[1])
        out.append((float(r[0]), float(r[1])) if ok else (float(lo[i]), float(hi[i])))
    return out[0], out[1]


def shade(view: tuple, fig, xy: np.ndarray, suffix: str, chart_key: str) -> dict:
    """The arguments of :func:`ui.chart.chart` that draw every row of ``xy`` (n, 2) under ``fig``'s points,
    counted in the range the chart shows, and re-count them when the user zooms."""
    lo, hi = xy.min(0).astype(float), xy.max(0).astype(float)
    zoomed = st.session_state.get(view_state_key(suffix))
    x_range, y_range = _checked(zoomed, lo, hi)
    dens = count_rows(view, x_range, y_range, xy)
    title = fig.layout.title.text or ""
    trace, patch = density_overlay(dens.counts, dens.x_edges, dens.y_edges, title, fig.layout.margin.b,
                                   dens.n_in_view, dens.n_total,
                                   uirevision=repr((view, suffix, st.session_state.get(f"pca_density_resets{suffix}", 0))))
    where = ("every row's range" if zoomed is None else
             f"x {x_range[0]:.3g} … {x_range[1]:.3g}, y {y_range[0]:.3g} … {y_range[1]:.3g}")
    st.caption(f"The shading counts **every row**: {dens.n_in_view:,} of {dens.n_total:,} rows fall in the "
               f"current view ({where}); the colour is log10 of the rows per bin, empty bins are left clear. "
               "Zoom or pan the chart and the rows are counted again for what it shows.")
    if zoomed is not None:
        st.button("Count every row's range again", key=f"pca_density_reset{suffix}", on_click=_reset,
                  args=(suffix,), help="Or double-click the chart.")
    return {"under": [trace], "layout": patch, "on_relayout": _on_zoom(chart_key, suffix)}
