"""The density of every row as a heatmap, drawn under a sampled scatter.

Counts come from :func:`la_core.density.density_2d` (``counts[iy, ix]`` with the bin edges). The
colour is log10 of the count, so a bin of 10 rows and one of 100,000 both show; empty bins are left
transparent, and the colour bar is ticked in rows (1, 10, 100, …), titled "rows per bin (log)".
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import f32, figure, layout

COLORSCALE = "Blues"
COLORBAR_TITLE = "rows per bin (log)"


def _check(counts, x_edges, y_edges):
    c = np.asarray(counts)
    ex, ey = np.asarray(x_edges, dtype=np.float64), np.asarray(y_edges, dtype=np.float64)
    if c.ndim != 2 or ex.shape != (c.shape[1] + 1,) or ey.shape != (c.shape[0] + 1,):
        raise ValueError(f"counts (bins_y, bins_x) needs x_edges (bins_x + 1,) and y_edges (bins_y + 1,); got "
                         f"{c.shape}, {ex.shape}, {ey.shape}.")
    if c.size and (c.min() < 0 or not np.isfinite(c).all()):
        raise ValueError("counts must be finite and not negative.")
    return c, ex, ey


def density_trace(counts, x_edges, y_edges, name: str = "every row", opacity: float = 0.85,
                  colorbar: dict | None = None, **ref) -> dict:
    """A heatmap trace dict of row counts on a log colour scale (put it first, under the points).

    Parameters
    ----------
    counts : array_like, shape (bins_y, bins_x)
        Rows per bin, ``counts[iy, ix]`` (``Density.counts``).
    x_edges, y_edges : array_like, shapes (bins_x + 1,), (bins_y + 1,)
        Equally spaced bin edges (``Density.x_edges`` / ``y_edges``).
    colorbar : dict, optional
        Changes to the colour bar (position...); by default it lies horizontally under the plot, out
        of the way of a scatter's legend and colour bar on the right.
    ref : str
        The cell's axes (``xaxis="x2", yaxis="y2"``), if any.

    Returns
    -------
    dict
        ``type="heatmap"``: z = log10(count) (empty bins NaN, drawn transparent), customdata = count.
    """
    c, ex, ey = _check(counts, x_edges, y_edges)
    c = c.astype(np.float64)
    with np.errstate(divide="ignore"):
        z = np.where(c > 0, np.log10(np.where(c > 0, c, 1.0)), np.nan)           # (bins_y, bins_x)
    top = int(np.ceil(np.nanmax(z))) if np.isfinite(z).any() else 0
    powers = list(range(0, max(top, 1) + 1))
    bar = dict(title=dict(text=COLORBAR_TITLE, side="top"), orientation="h", x=0.5, xanchor="center", y=-0.18,
               yanchor="top", len=0.5, thickness=12, tickvals=powers, ticktext=[f"{10 ** p:,}" for p in powers])
    bar.update(colorbar or {})
    dx, dy = (ex[-1] - ex[0]) / (ex.size - 1), (ey[-1] - ey[0]) / (ey.size - 1)
    return dict(type="heatmap", z=f32(z), x0=float(ex[0] + dx / 2), dx=float(dx), y0=float(ey[0] + dy / 2),
                dy=float(dy), customdata=c.astype(np.int64), zmin=0.0, zmax=float(max(top, 1)),
                colorscale=COLORSCALE, opacity=opacity, name=name, colorbar=bar, hoverongaps=False,
                hovertemplate="x ≈ %{x:.3g}, y ≈ %{y:.3g}<br>%{customdata:,} rows in this bin<extra></extra>",
                **ref)


def density_figure(counts, x_edges, y_edges, x_title: str = "PC1", y_title: str = "PC2", title: str = "",
                   n_in_view: int | None = None, n_total: int | None = None, height: int = 560) -> go.Figure:
    """The density heatmap alone, with labelled axes; the title says how many rows are in view."""
    trace = density_trace(counts, x_edges, y_edges)
    c = np.asarray(counts)
    shown = int(c.sum()) if n_in_view is None else int(n_in_view)
    count = f"{shown:,} rows in view" + (f" of {int(n_total):,}" if n_total is not None else "")
    lay = layout(f"{title}<br><sup>{count}</sup>" if title else count, x_title, y_title, height=height)
    lay["xaxis"]["range"] = [float(x_edges[0]), float(x_edges[-1])]
    lay["yaxis"]["range"] = [float(y_edges[0]), float(y_edges[-1])]
    lay["margin"] = {**lay["margin"], "b": 120}
    return figure([trace], lay)


def density_overlay(counts, x_edges, y_edges, title: str = "", margin_b: int | None = None,
                    n_in_view: int | None = None, n_total: int | None = None, uirevision: str | None = None
                    ) -> tuple[dict, dict]:
    """The heatmap trace to draw under a sampled scatter, and the changes it needs in that figure's layout.

    Kept apart from the scatter so that a zoom, which counts the rows again, sends the new heatmap
    and these few layout entries rather than the sampled points again (ui/chart.py's ``under`` and
    ``layout`` arguments).

    Parameters
    ----------
    counts, x_edges, y_edges
        As for :func:`density_trace`.
    title : str
        The scatter's title; when the counts are given, a last line says how many rows the heatmap
        counts (``"N of M rows in view, every one counted"``).
    margin_b : int, optional
        The scatter's bottom margin; it grows to at least 130 px to hold the horizontal colour bar.
    uirevision : str, optional
        Plotly keeps the user's zoom across updates with the same value.

    Returns
    -------
    (dict, dict)
        The heatmap trace and the layout changes (``title``, ``margin``, ``uirevision``).
    """
    trace = density_trace(counts, x_edges, y_edges)
    patch = {"margin": {"b": max(int(margin_b or 0), 130)}}
    if n_in_view is not None:
        count = f"{int(n_in_view):,}" + (f" of {int(n_total):,}" if n_total is not None else "")
        line = f"<sup>shading: {count} rows in view, every one counted</sup>"
        patch["title"] = {"text": f"{title}<br>{line}" if title else line}
    if uirevision is not None:
        patch["uirevision"] = uirevision
    return trace, patch


def with_density(fig: go.Figure, counts, x_edges, y_edges, n_in_view: int | None = None,
                 n_total: int | None = None) -> go.Figure:
    """``fig`` (a 2-D scatter of sampled points) with the heatmap of every row drawn under its traces
    (:func:`density_overlay` applied to a copy of the figure)."""
    lay = fig.layout.to_plotly_json()
    trace, patch = density_overlay(counts, x_edges, y_edges, (lay.get("title") or {}).get("text") or "",
                                   (lay.get("margin") or {}).get("b"), n_in_view, n_total)
    for name, value in patch.items():
        lay[name] = {**(lay.get(name) or {}), **value} if isinstance(value, dict) else value
    return go.Figure(data=[trace, *fig.data], layout=lay, frames=fig.frames)
