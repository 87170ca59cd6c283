"""Shared Plotly building blocks: colours, heatmaps with honest colour bars, arrows, layout."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# One colour per role, used the same way on every page.
COLORS = {
    "e1": "#E8590C",       # image of the first basis vector / first column
    "e2": "#1C7ED6",       # image of the second basis vector / second column
    "x": "#2B8A3E",        # the input vector
    "u": "#7048E8",        # a direction / second vector
    "proj": "#C2255C",     # a projection
    "resid": "#495057",    # a residual
    "grid_fixed": "rgba(130,130,130,0.7)",
    "grid_moved": "rgba(76,110,245,0.75)",
    "highlight": "#F59F00",
}
DIVERGING = "RdBu_r"   # signed values, always with zmid=0
SEQUENTIAL = "Viridis"  # non-negative values (weights, energies)
FONT = dict(family="Inter, Arial, sans-serif", size=13)


def f32(a) -> np.ndarray:
    """Float32 NumPy array for Plotly (compact JSON, no Python lists)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def style(fig: go.Figure, title: str | None = None, x_title: str | None = None,
          y_title: str | None = None, height: int = 420, equal_axes: bool = False) -> go.Figure:
    """Apply the common layout: title, labelled axes, margins, optional equal aspect.

    Set property by property: ``update_layout``/``update_xaxes`` take about 7 ms per figure here
    (mostly parsing their keyword paths), plain assignments 2 ms, and every figure of every
    rerun pays it.
    """
    lay = fig.layout
    lay.title = dict(text=title, x=0.01, xanchor="left") if title else None
    lay.height = height
    lay.font = FONT
    lay.margin = dict(l=55, r=20, t=50 if title else 20, b=50)
    lay.plot_bgcolor = lay.paper_bgcolor = "white"
    lay.legend = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0)
    for axes, text in ((fig.select_xaxes(), x_title), (fig.select_yaxes(), y_title)):
        for ax in axes:
            ax.title.text = text
            ax.showgrid, ax.gridcolor, ax.zeroline, ax.zerolinecolor = True, "#eee", True, "#bbb"
    if equal_axes:
        for ax in fig.select_yaxes():
            ax.scaleanchor, ax.scaleratio = "x", 1
    return fig


def heatmap(z, colorbar_title: str, title: str | None = None, x_labels=None, y_labels=None,
            x_title: str | None = None, y_title: str | None = None, signed: bool | None = None,
            zmin: float | None = None, zmax: float | None = None, colorscale: str | None = None,
            height: int = 420, hover: str = "%{z:.4g}") -> go.Figure:
    """A heatmap with a titled colour bar; signed data gets a diverging scale centred on zero.

    Parameters
    ----------
    z : array_like, shape (rows, cols)
    colorbar_title : str
        What the colour means (shown on the colour bar).
    signed : bool, optional
        Force a diverging (True) or sequential (False) scale; by default diverging when z has
        both signs.
    zmin, zmax : float, optional
        Shared colour range (pass the same values to compare several heatmaps honestly).
    """
    z = f32(z)
    finite = z[np.isfinite(z)]
    if signed is None:
        signed = finite.size > 0 and finite.min() < 0 < finite.max()
    kw = {}
    if signed:
        bound = zmax if zmax is not None else (float(np.abs(finite).max()) if finite.size else 1.0)
        bound = bound or 1.0
        kw = dict(zmin=-bound, zmax=bound, zmid=0.0, colorscale=colorscale or DIVERGING)
    else:
        kw = dict(colorscale=colorscale or SEQUENTIAL)
        if zmin is not None:
            kw["zmin"] = zmin
        if zmax is not None:
            kw["zmax"] = zmax
    trace = go.Heatmap(
        z=z, x=x_labels, y=y_labels, colorbar=dict(title=dict(text=colorbar_title, side="right")),
        hovertemplate=f"row %{{y}}<br>col %{{x}}<br>value {hover}<extra></extra>", **kw,
    )
    fig = go.Figure(trace)
    style(fig, title, x_title, y_title, height=height)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False)
    return fig


def add_arrow(fig: go.Figure, start, end, color: str, name: str, dash: str | None = None,
              width: float = 3.0, showlegend: bool = True, row=None, col=None) -> go.Figure:
    """Draw a 2D arrow from ``start`` to ``end`` as a line with a triangle head (legend-able)."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    fig.add_trace(go.Scatter(
        x=f32([start[0], end[0]]), y=f32([start[1], end[1]]), mode="lines+markers", name=name,
        line=dict(color=color, width=width, dash=dash),
        marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous", color=color),
        showlegend=showlegend, hovertemplate=f"{name}: (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
    ), row=row, col=col)
    return fig


def add_arrow3d(fig: go.Figure, start, end, color: str, name: str, dash: str | None = None) -> go.Figure:
    """Draw a 3D arrow: a line plus a cone at the tip."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    d = end - start
    fig.add_trace(go.Scatter3d(x=f32([start[0], end[0]]), y=f32([start[1], end[1]]), z=f32([start[2], end[2]]),
                               mode="lines", name=name, line=dict(color=color, width=6, dash=dash)))
    if np.linalg.norm(d) > 1e-12:
        fig.add_trace(go.Cone(x=f32([end[0]]), y=f32([end[1]]), z=f32([end[2]]), u=f32([d[0]]), v=f32([d[1]]),
                              w=f32([d[2]]), sizemode="absolute", sizeref=0.25, anchor="tip", showscale=False,
                              colorscale=[[0, color], [1, color]], showlegend=False, hoverinfo="skip"))
    return fig


def unit_circle(n: int = 200) -> np.ndarray:
    """Points of the unit circle, shape (n, 2)."""
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return np.stack([np.cos(t), np.sin(t)], axis=1)
