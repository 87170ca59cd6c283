"""Plotly figures of the PCA page: scree plot, 2D/3D scatter coloured by metadata, highlights, arrows."""
from __future__ import annotations

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go

from figures.common import COLORS, SEQUENTIAL, add_arrow, add_arrow3d, f32, style

PALETTE = pc.qualitative.Dark24 + pc.qualitative.Light24 + pc.qualitative.Alphabet  # 74 distinct colours
MAX_CATEGORIES = 40   # more than this: the 39 most frequent get a colour, the rest are grey "other"
GL_ABOVE = 5000       # WebGL scatter above this many points
OTHER = "other"


def scree(ratio, total_label: str = "", n_show: int | None = None, height: int = 340) -> go.Figure:
    """Explained variance ratio per component (bars) and its running sum (line), in percent.

    Parameters
    ----------
    ratio : array_like, shape (k,)
        Explained variance ratio of the first k components (shares of the total, not of the k).
    """
    r = np.asarray(ratio, dtype=np.float64)[:n_show]
    pcs = [f"PC{i + 1}" for i in range(r.size)]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=pcs, y=f32(100 * r), name="this component", marker_color=COLORS["e2"],
                         hovertemplate="%{x}: %{y:.2f}% of the variance<extra></extra>"))
    fig.add_trace(go.Scatter(x=pcs, y=f32(100 * np.cumsum(r)), name="cumulative", mode="lines+markers",
                             line=dict(color=COLORS["e1"], width=2), marker=dict(size=5),
                             hovertemplate="PC1…%{x}: %{y:.2f}% together<extra></extra>"))
    title = "Scree plot: share of the variance along each principal axis"
    style(fig, title + (f" ({total_label})" if total_label else ""), "principal component",
          "explained variance (%)", height=height)
    fig.update_yaxes(range=[0, 100])
    fig.update_xaxes(type="category")
    return fig


def _categorical(values) -> tuple[np.ndarray, list, str]:
    """Map values to at most MAX_CATEGORIES groups (most frequent first); the rest become 'other'."""
    vals = np.asarray([str(v) for v in values], dtype=object)
    uniq, counts = np.unique(vals, return_counts=True)
    order = uniq[np.argsort(-counts, kind="stable")]
    note = ""
    if order.size > MAX_CATEGORIES:
        keep = set(order[: MAX_CATEGORIES - 1])
        note = f"{MAX_CATEGORIES - 1} most frequent of {order.size} values coloured; the rest grey ({OTHER})"
        vals = np.where(np.isin(vals, list(keep)), vals, OTHER)
        order = list(order[: MAX_CATEGORIES - 1]) + [OTHER]
    return vals, list(order), note


def is_numeric(values) -> bool:
    """Numeric metadata with more than 12 distinct values gets a colour bar; everything else is categorical."""
    a = np.asarray(values)
    return a.dtype.kind in "iuf" and np.unique(a[np.isfinite(a.astype(float))]).size > 12


def scatter(coords, labels=None, color=None, color_name: str = "", axis_titles=("PC1", "PC2", "PC3"),
            title: str = "", selected: int | None = None, neighbors=None, index=None,
            height: int = 620, marker_size: float | None = None) -> go.Figure:
    """2D or 3D scatter of points coloured by a metadata column.

    Parameters
    ----------
    coords : array_like, shape (m, 2) or (m, 3)
        Coordinates of the points shown (already sampled for display).
    labels : sequence of str, optional
        Hover text per point.
    color : array_like, shape (m,), optional
        Numeric values (colour bar) or categories (palette + legend).
    selected : int, optional
        Position (in ``coords``) of the picked point, drawn as a star.
    neighbors : sequence of int, optional
        Positions (in ``coords``) of its neighbours, drawn as rings with their labels.
    index : array_like of int, optional
        Original row numbers (shown on hover); defaults to 0..m-1.
    """
    xyz = f32(coords)
    m, dim = xyz.shape
    if dim not in (2, 3):
        raise ValueError(f"coords must have 2 or 3 columns; got {dim}.")
    labels = np.asarray([str(i) for i in range(m)] if labels is None else [str(v) for v in labels], dtype=object)
    index = np.arange(m) if index is None else np.asarray(index)
    size = marker_size or (6 if m < 2000 else 4 if m < 20000 else 2.5)
    if dim == 3:
        size = max(2.0, size - 2)
    gl = m > GL_ABOVE
    fig = go.Figure()

    def add(mask, name, marker, showlegend=True):
        sel = np.flatnonzero(mask)
        pts = xyz[sel]
        hover = "%{text}<br>row %{customdata}<br>" + (
            "(%{x:.3f}, %{y:.3f}, %{z:.3f})" if dim == 3 else "(%{x:.3f}, %{y:.3f})") + f"<extra>{name}</extra>"
        common = dict(mode="markers", name=name, text=labels[sel].tolist(), customdata=index[sel],
                      marker=marker, hovertemplate=hover, showlegend=showlegend)
        if dim == 3:
            fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **common))
        else:
            cls = go.Scattergl if gl else go.Scatter
            fig.add_trace(cls(x=pts[:, 0], y=pts[:, 1], **common))

    note = ""
    if color is None:
        add(np.ones(m, bool), "points", dict(size=size, color=COLORS["e2"], opacity=0.75), showlegend=False)
    elif is_numeric(color):
        c = f32(np.asarray(color, dtype=np.float64))
        add(np.ones(m, bool), color_name, dict(size=size, color=c, colorscale=SEQUENTIAL, opacity=0.8,
                                                   colorbar=dict(title=dict(text=color_name, side="right"))),
            showlegend=False)
    else:
        vals, order, note = _categorical(color)
        for i, cat in enumerate(order):
            col = "#adb5bd" if cat == OTHER and note else PALETTE[i % len(PALETTE)]
            add(vals == cat, str(cat), dict(size=size, color=col, opacity=0.8))
    if neighbors is not None and len(neighbors):
        nb = np.asarray(neighbors, dtype=int)
        pts = xyz[nb]
        kw = dict(mode="markers+text", name="nearest neighbours", text=labels[nb].tolist(),
                  textposition="top center", customdata=index[nb],
                  marker=dict(size=size + 8, color="rgba(0,0,0,0)", line=dict(color=COLORS["highlight"], width=2.5)),
                  hovertemplate="neighbour: %{text}<extra></extra>")
        if dim == 3:
            fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **kw))
        else:
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], **kw))
    if selected is not None:
        p = xyz[[int(selected)]]
        kw = dict(mode="markers+text", name="selected", text=[str(labels[int(selected)])], textposition="bottom center",
                  customdata=index[[int(selected)]],
                  marker=dict(size=size + 12, symbol="diamond" if dim == 3 else "star", color=COLORS["highlight"],
                              line=dict(color="black", width=1)),
                  hovertemplate="selected: %{text}<extra></extra>")
        if dim == 3:
            fig.add_trace(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], **kw))
        else:
            fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], **kw))
    full_title = title + (f"<br><sup>{note}</sup>" if note else "")
    if dim == 3:
        style(fig, full_title, height=height)
        fig.update_layout(scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                                     zaxis_title=axis_titles[2]))
    else:
        style(fig, full_title, axis_titles[0], axis_titles[1], height=height)
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01,
                                  title=dict(text=color_name) if color_name else None),
                      margin=dict(r=160))
    return fig


def add_analogy_arrows(fig: go.Figure, points: dict, result: str | None = None) -> go.Figure:
    """Arrows of ``A - B + C`` in the view's plane (or space): B→A, then the same offset moved to C.

    Parameters
    ----------
    points : dict
        ``{"A": (label, xy), "B": (label, xy), "C": (label, xy)}`` with 2 or 3 coordinates each, plus
        optionally ``"D"`` (the top result) and ``"target"`` (where ``C + A - B`` lands in the view).
    """
    a, b, c = (np.asarray(points[k][1], float) for k in "ABC")
    dim = a.size
    arrow = add_arrow3d if dim == 3 else add_arrow
    kw = {} if dim == 3 else dict(width=2.5)
    arrow(fig, b, a, COLORS["e1"], f"{points['B'][0]} → {points['A'][0]} (A − B)", **kw)
    arrow(fig, c, c + (a - b), COLORS["u"], f"{points['C'][0]} + (A − B)", dash="dash", **kw)
    if "D" in points:
        d = np.asarray(points["D"][1], float)
        arrow(fig, c, d, COLORS["x"], f"{points['C'][0]} → {points['D'][0]} (top answer)", **kw)
    return fig
