"""Shared Plotly building blocks: colours, heatmaps with honest colour bars, arrows, layout."""
from __future__ import annotations

import copy
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per role, used the same way on every page, readable on the light and the dark theme's
# background (charts take their background, text and axis colours from the theme's chart template).
COLORS = {
    "e1": "#E8590C",       # image of the first basis vector / first column
    "e2": "#1C7ED6",       # image of the second basis vector / second column
    "x": "#2B8A3E",        # the input vector
    "u": "#7048E8",        # a direction / second vector
    "proj": "#C2255C",     # a projection
    "resid": "#868E96",    # a residual (mid grey: a dark grey vanishes on the dark background)
    "grid_fixed": "rgba(130,130,130,0.7)",
    "grid_moved": "rgba(76,110,245,0.75)",
    "highlight": "#F59F00",
}
DIVERGING = "RdBu_r"   # signed values, always with zmid=0
SEQUENTIAL = "Viridis"  # non-negative values (weights, energies)
FONT = dict(family="Inter, Arial, sans-serif", size=13)
# Grid and zero lines: grey with some transparency, faint on either background (#eee and #bbb on white).
GRID_COLOR = "rgba(128,128,128,0.2)"
ZERO_COLOR = "rgba(128,128,128,0.55)"


def f32(a) -> np.ndarray:
    """Float32 NumPy array for Plotly (compact JSON, no Python lists)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


# ----------------------------------------------------------------------------- one-step figures
# Figures redrawn on a slider press are built from plain dicts and validated once by go.Figure.
# Adding traces one by one and calling update_layout / update_xaxes / add_annotation / make_subplots
# parses and validates every property again on each call, and every press pays it before its chart
# is sent (figures: docs/performance.md).

# Equal axes keep their ranges and shrink the plot area instead ("domain"). With Plotly's default
# ("range") the ranges grow to fill the box, the tick labels change with them, and the axes' automargin
# (on in the app's chart template) then moves the margins, which changes the box again: Plotly drew
# such a chart up to three times per update (docs/performance.md).
EQUAL_CONSTRAIN = "domain"


# Animation frames carry their few-point coordinates (arrow tips, short segments) as lists of floats:
# each float32 array goes through Plotly's array checks and base64 on its own, which for hundreds of
# two-point traces costs more than the lists, and the JSON is smaller (docs/performance.md). Longer
# arrays (grid lines, images) stay float32.
FRAME_LIST_MAX = 16
# 3D views a little further away than Plotly's default eye (1.25, 1.25, 1.25): from there a cube fills
# a narrow chart edge to edge, cutting its tick labels and end points at 900 px (and its bottom at 1,920)
CAMERA_3D = dict(eye=dict(x=2.2, y=2.2, z=1.45))


def _small_as_lists(obj):
    if isinstance(obj, np.ndarray):
        if obj.ndim == 1 and obj.size <= FRAME_LIST_MAX and obj.dtype.kind == "f":
            return [float(f"{v:.7g}") if math.isfinite(v) else None for v in obj.tolist()]
        return obj
    if isinstance(obj, dict):
        return {k: _small_as_lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_small_as_lists(v) for v in obj]
    return obj


def figure(data, layout: dict, frames=None) -> go.Figure:
    """A ``go.Figure`` from trace dicts (each with its ``type``) and a layout dict, in one step.

    ``frames``: animation frames as dicts; float arrays of up to ``FRAME_LIST_MAX`` values in them are
    sent as lists (faster to build and encode than base64 for so few values).
    """
    if frames:
        frames = [_small_as_lists(f) if isinstance(f, dict) else f for f in frames]
    return go.Figure(data=list(data), layout=layout, frames=frames)


def axis(title: str | None = None, **extra) -> dict:
    """An axis with the common look (what :func:`style` gives every axis): title, faint grid, zero line."""
    return dict(title=dict(text=title), showgrid=True, gridcolor=GRID_COLOR, zeroline=True, zerolinecolor=ZERO_COLOR,
                **extra)


def layout(title: str | None = None, x_title: str | None = None, y_title: str | None = None,
           height: int = 420, equal_axes: bool = False, grid: dict | None = None) -> dict:
    """The common layout as a dict: what :func:`style` sets, without a figure. No background colour:
    the chart takes the active theme's (light or dark) from its template.

    ``grid``: a layout from :func:`subplots`; each of its axes gets the common look and the titles.
    """
    lay = dict(grid or {})
    if title:
        lay["title"] = dict(text=title, x=0.01, xanchor="left")
    lay.update(height=height, font=FONT, margin=dict(l=55, r=20, t=50 if title else 20, b=50),
               legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))
    names = [k for k in lay if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]
    for name in names:
        lay[name] = {**lay.get(name, {}), **axis(x_title if name.startswith("x") else y_title)}
        if equal_axes:
            lay[name]["constrain"] = EQUAL_CONSTRAIN
            if name.startswith("y"):
                lay[name].update(scaleanchor="x", scaleratio=1)
    return lay


def legend_below(lay: dict, gap_px: int = 62) -> dict:
    """``lay`` with its legend in rows under the plot, ``gap_px`` below the plot area (clear of the tick
    labels and the x-axis title at any plot height), left-aligned. Call it once the height and margins are
    final: the position is a fraction of the plot area's height."""
    plot_h = max(40, lay["height"] - lay["margin"]["t"] - lay["margin"]["b"])
    lay["legend"] = {**lay.get("legend", {}), "orientation": "h", "x": 0.0, "xanchor": "left",
                     "y": -gap_px / plot_h, "yanchor": "top"}
    return lay


def legend_at_bottom(lay: dict) -> dict:
    """``lay`` with its legend in rows at the bottom of the chart, under the x-axis title, left-aligned with the
    plot. Plotly makes the bottom margin as tall as the legend needs, so the legend stays clear of the axis
    title however many rows it takes at the chart's width: for a long legend, whose rows a narrow chart
    multiplies (:func:`legend_below` places it a share of the plot's height down, a share that shrinks in
    pixels when such a legend pushes the margin and the plot gets shorter)."""
    lay["legend"] = {**lay.get("legend", {}), "orientation": "h", "x": 0.0, "xanchor": "left",
                     "yref": "container", "y": 0.0, "yanchor": "bottom"}
    return lay


_GRIDS: dict[str, tuple[dict, dict]] = {}


def subplots(rows: int, cols: int, subplot_titles=None, **kw) -> tuple[dict, dict]:
    """``make_subplots``' layout (axis domains and anchors, subplot titles) as a dict, and where each
    cell's traces go.

    Returns
    -------
    layout : dict
        A fresh copy; pass it to :func:`layout` as ``grid``.
    refs : dict
        ``refs[(row, col)]`` is what a trace in that cell needs, e.g. ``{"xaxis": "x2", "yaxis": "y2"}``
        or ``{"scene": "scene2"}``.

    make_subplots is slow to build (docs/performance.md); a grid is built once per shape (titles are filled in after).
    """
    titles = list(subplot_titles or [])
    key = repr((rows, cols, [bool(t) for t in titles], sorted(kw.items())))
    if key not in _GRIDS:
        fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"\0{i}" if t else "" for i, t in
                                                                  enumerate(titles)] or None, **kw)
        lay = fig.layout.to_plotly_json()
        lay.pop("template", None)
        refs = {}
        for r in range(1, rows + 1):
            for c in range(1, cols + 1):
                sub = fig.get_subplot(r, c)
                if sub is None:
                    continue
                if isinstance(sub, tuple):              # SubplotXY(xaxis, yaxis)
                    refs[(r, c)] = dict(xaxis=sub.xaxis.plotly_name.replace("axis", ""),
                                        yaxis=sub.yaxis.plotly_name.replace("axis", ""))
                else:
                    refs[(r, c)] = {sub.plotly_name.rstrip("0123456789"): sub.plotly_name}
        _GRIDS[key] = lay, refs
    lay, refs = _GRIDS[key]
    lay = copy.deepcopy(lay)
    for a in lay.get("annotations", []):
        if str(a.get("text", "")).startswith("\0"):
            a["text"] = titles[int(a["text"][1:])]
    return lay, dict(refs)


def tidy(value, scale: float = 1.0, rtol: float = 1e-12):
    """A number or array for display: 0 where ``|value| ≤ rtol·|scale|`` (the round-off left of an exact
    zero, such as cos 90° = 6e-17) and +0.0 instead of −0.0. NaN stays NaN."""
    v = np.asarray(value, dtype=float)
    out = np.where(np.abs(v) <= rtol * abs(float(scale)), 0.0, v) + 0.0    # -0.0 + 0.0 is +0.0
    return float(out) if out.ndim == 0 else out


def num(value, spec: str = ".3g", scale: float = 1.0) -> str:
    """``value`` formatted with ``spec`` after :func:`tidy`, and a zero never signed: "0.000", not
    "−0.000" (a small negative rounded away) nor "+0.000", nor "1.2e-16" for round-off."""
    text = format(tidy(value, scale), spec)
    if text[:1] in "+-":
        try:
            zero = float(text.rstrip("%")) == 0.0
        except ValueError:
            zero = False
        text = text[1:] if zero else text
    return text


def arrow(start, end, color: str, name: str, dash: str | None = None, width: float = 3.0,
          showlegend: bool = True, **ref) -> dict:
    """A 2D arrow from ``start`` to ``end`` as a trace dict: a line with a triangle head.

    A zero-length arrow (length ≤ 1e-12 of its coordinates' size) gets no head: a head has no direction
    there, and Plotly would point it anywhere.
    ``ref``: the cell's axes from :func:`subplots` (``xaxis="x2", yaxis="y2"``), if any.
    """
    start, end = np.asarray(start, float), np.asarray(end, float)
    size = max(1.0, float(np.abs(start).max()), float(np.abs(end).max()))
    head = bool(np.linalg.norm(end - start) > 1e-12 * size)                # False for NaN too
    marks = dict(mode="lines+markers", marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous",
                                                   color=color)) if head else dict(mode="lines")
    return dict(type="scatter", x=f32([start[0], end[0]]), y=f32([start[1], end[1]]), **marks,
                name=name, line=dict(color=color, width=width, dash=dash),
                showlegend=showlegend, hovertemplate=f"{name}: (%{{x:.3g}}, %{{y:.3g}})<extra></extra>", **ref)


def style(fig: go.Figure, title: str | None = None, x_title: str | None = None,
          y_title: str | None = None, height: int = 420, equal_axes: bool = False) -> go.Figure:
    """Apply the common layout: title, labelled axes, margins, optional equal aspect (no background
    colour: the theme's chart template gives it).

    Set property by property: ``update_layout``/``update_xaxes`` spend most of their time parsing
    their keyword paths, and every figure of every rerun would pay it (docs/performance.md).
    """
    lay = fig.layout
    lay.title = dict(text=title, x=0.01, xanchor="left") if title else None
    lay.height = height
    lay.font = FONT
    lay.margin = dict(l=55, r=20, t=50 if title else 20, b=50)
    lay.legend = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0)
    for axes, text in ((fig.select_xaxes(), x_title), (fig.select_yaxes(), y_title)):
        for ax in axes:
            ax.title.text = text
            ax.showgrid, ax.gridcolor, ax.zeroline, ax.zerolinecolor = True, GRID_COLOR, True, ZERO_COLOR
    if equal_axes:
        fig.update_xaxes(constrain=EQUAL_CONSTRAIN)
        fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain=EQUAL_CONSTRAIN)
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
    trace, lay = heatmap_parts(z, colorbar_title, title, x_labels, y_labels, x_title, y_title, signed, zmin, zmax,
                               colorscale, height, hover)
    return figure([trace], lay)


def heatmap_parts(z, colorbar_title: str, title: str | None = None, x_labels=None, y_labels=None,
                  x_title: str | None = None, y_title: str | None = None, signed: bool | None = None,
                  zmin: float | None = None, zmax: float | None = None, colorscale: str | None = None,
                  height: int = 420, hover: str = "%{z:.4g}") -> tuple[dict, dict]:
    """:func:`heatmap` as (trace dict, layout dict), to change before building the figure."""
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
    trace = dict(type="heatmap", z=z, x=x_labels, y=y_labels,
                 colorbar=dict(title=dict(text=colorbar_title, side="right")),
                 hovertemplate=f"row %{{y}}<br>col %{{x}}<br>value {hover}<extra></extra>", **kw)
    lay = layout(title, x_title, y_title, height=height)
    lay["xaxis"].update(showgrid=False, zeroline=False)
    lay["yaxis"].update(autorange="reversed", showgrid=False, zeroline=False)
    return trace, lay


def arrow3d(start, end, color: str, name: str, dash: str | None = None) -> list[dict]:
    """A 3D arrow as trace dicts: a line, and a cone at the tip (none for a zero-length arrow)."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    d = end - start
    out = [dict(type="scatter3d", x=f32([start[0], end[0]]), y=f32([start[1], end[1]]), z=f32([start[2], end[2]]),
                mode="lines", name=name, line=dict(color=color, width=6, dash=dash))]
    if np.linalg.norm(d) > 1e-12:
        out.append(dict(type="cone", x=f32([end[0]]), y=f32([end[1]]), z=f32([end[2]]), u=f32([d[0]]),
                        v=f32([d[1]]), w=f32([d[2]]), sizemode="absolute", sizeref=0.25, anchor="tip",
                        showscale=False, colorscale=[[0, color], [1, color]], showlegend=False, hoverinfo="skip"))
    return out


def unit_circle(n: int = 200) -> np.ndarray:
    """Points of the unit circle, shape (n, 2)."""
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def colorbar_below(lay: dict, title: str, gap_px: int = 56, thickness: int = 10) -> dict:
    """A thin horizontal colour bar under the plot, its title ``gap_px`` below the plot area (clear of the x
    tick labels and the x-axis title at any plot height: a fraction of the plot's height would run into them
    when the plot fills its box), the bar under its title. Sets ``lay``'s bottom margin to hold it; call it
    once the height and the other margins are final. Returns the ``colorbar`` dict for the trace."""
    title_px, ticks_px = 20, 22                               # Plotly anchors the bar itself, not its title
    lay["margin"] = {**lay["margin"], "b": gap_px + title_px + thickness + ticks_px + 4}
    plot_h = max(40, lay["height"] - lay["margin"]["t"] - lay["margin"]["b"])
    return dict(orientation="h", thickness=thickness, len=1.0, x=0.0, xanchor="left",
                y=-(gap_px + title_px) / plot_h, yanchor="top", title=dict(text=title, side="top"),
                tickfont=dict(size=11))
