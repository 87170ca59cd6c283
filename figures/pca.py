"""Plotly figures of the PCA page: scree plot, 2D/3D scatter coloured by metadata, highlights, arrows."""
from __future__ import annotations

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go

from figures.common import COLORS, SEQUENTIAL, arrow, f32, figure, layout

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
    bars = dict(type="bar", x=pcs, y=f32(100 * r), name="this component", marker=dict(color=COLORS["e2"]),
                hovertemplate="%{x}: %{y:.2f}% of the variance<extra></extra>")
    line = dict(type="scatter", x=pcs, y=f32(100 * np.cumsum(r)), name="cumulative", mode="lines+markers",
                line=dict(color=COLORS["e1"], width=2), marker=dict(size=5),
                hovertemplate="PC1…%{x}: %{y:.2f}% together<extra></extra>")
    title = "Scree plot: share of the variance along each principal axis"
    lay = layout(title + (f" ({total_label})" if total_label else ""), "principal component",
                 "explained variance (%)", height=height)
    lay["xaxis"]["type"] = "category"
    lay["yaxis"]["range"] = [0, 100]
    return figure([bars, line], lay)


def _strings(values) -> np.ndarray:
    """``str`` of each value, as a NumPy string array: sorted, compared and validated by Plotly far faster than
    Python strings. Object dtype if a value holds a NUL character (NumPy strings drop trailing NULs)."""
    s = [str(v) for v in values]
    return np.asarray(s, dtype=object if "\0" in "".join(s) else str)


def _categorical(values) -> tuple[np.ndarray, list, str]:
    """Map values to at most MAX_CATEGORIES groups (most frequent first); the rest become 'other'."""
    vals = _strings(values)
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


def _marker_size(m: int, dim: int, marker_size: float | None) -> float:
    size = marker_size or (6 if m < 2000 else 4 if m < 20000 else 2.5)
    return max(2.0, size - 2) if dim == 3 else size


def _hover_text(labels: np.ndarray):
    """Hover text of the points at some positions: Plotly keeps a NumPy string array as it is, while it
    checks a list string by string."""
    return (lambda rows: labels[rows]) if labels.dtype.kind == "U" else (lambda rows: labels[rows].tolist())


def _xyz(coords) -> np.ndarray:
    xyz = f32(coords)
    if xyz.ndim != 2 or xyz.shape[1] not in (2, 3):
        raise ValueError(f"coords must have 2 or 3 columns; got shape {xyz.shape}.")
    return xyz


def _trace(xyz: np.ndarray, rows, kind: str, **kw) -> dict:
    """A trace dict of the points at positions ``rows``: (x, y) or (x, y, z) columns plus ``kw``."""
    pts = xyz[rows]
    return dict(type=kind, x=pts[:, 0], y=pts[:, 1], **(dict(z=pts[:, 2]) if xyz.shape[1] == 3 else {}), **kw)


def scatter(coords, labels=None, color=None, color_name: str = "", axis_titles=("PC1", "PC2", "PC3"),
            title: str = "", selected: int | None = None, neighbors=None, index=None,
            height: int = 620, marker_size: float | None = None) -> go.Figure:
    """2D or 3D scatter of points coloured by a metadata column, with a selected point and its neighbours.

    :func:`scatter_points` and :func:`highlight_traces` in one figure.

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
    data, lay = _points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size)
    return figure(data + highlight_traces(coords, labels, selected, neighbors, index, marker_size), lay)


def scatter_points(coords, labels=None, color=None, color_name: str = "", axis_titles=("PC1", "PC2", "PC3"),
                   title: str = "", index=None, height: int = 620, marker_size: float | None = None) -> go.Figure:
    """:func:`scatter` without the selected point and its neighbours: the part that stays the same when
    only they change (the page keeps it, and sends :func:`highlight_traces` on top)."""
    return figure(*_points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size))


def _points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size):
    xyz = _xyz(coords)
    m, dim = xyz.shape
    labels = _strings(range(m) if labels is None else labels)
    text = _hover_text(labels)
    index = np.arange(m) if index is None else np.asarray(index)
    size = _marker_size(m, dim, marker_size)
    kind = "scatter3d" if dim == 3 else "scattergl" if m > GL_ABOVE else "scatter"
    data = []

    def add(mask, name, marker, showlegend=True):
        sel = np.flatnonzero(mask)
        hover = "%{text}<br>row %{customdata}<br>" + (
            "(%{x:.3f}, %{y:.3f}, %{z:.3f})" if dim == 3 else "(%{x:.3f}, %{y:.3f})") + f"<extra>{name}</extra>"
        data.append(_trace(xyz, sel, kind, mode="markers", name=name, text=text(sel), customdata=index[sel],
                           marker=marker, hovertemplate=hover, showlegend=showlegend))

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
    full_title = title + (f"<br><sup>{note}</sup>" if note else "")
    if dim == 3:
        lay = layout(full_title, height=height)
        lay["scene"] = {f"{a}axis": dict(title=dict(text=t)) for a, t in zip("xyz", axis_titles)}
    else:
        lay = layout(full_title, axis_titles[0], axis_titles[1], height=height)
    lay["legend"] = dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01)
    lay["legend"]["title"] = dict(text=color_name) if color_name else None   # None: no legend title
    lay["margin"]["r"] = 160
    return data, lay


def highlight_traces(coords, labels=None, selected: int | None = None, neighbors=None, index=None,
                     marker_size: float | None = None) -> list[dict]:
    """The neighbours (rings with their labels) and the selected point (a star) of :func:`scatter`, as
    trace dicts; the arguments mean the same as there."""
    xyz = _xyz(coords)
    m, dim = xyz.shape
    # only the few points drawn here get their labels converted (a page keeps the rest in its figure)
    text = (lambda rows: _strings(rows if labels is None else np.asarray(labels)[rows]))
    index = np.arange(m) if index is None else np.asarray(index)
    size = _marker_size(m, dim, marker_size)
    marks = "scatter3d" if dim == 3 else "scatter"   # rings and star: SVG even above GL_ABOVE points
    data = []
    if neighbors is not None and len(neighbors):
        nb = np.asarray(neighbors, dtype=int)
        data.append(_trace(xyz, nb, marks, mode="markers+text", name="nearest neighbours", text=text(nb),
                           textposition="top center", customdata=index[nb],
                           marker=dict(size=size + 8, color="rgba(0,0,0,0)",
                                       line=dict(color=COLORS["highlight"], width=2.5)),
                           hovertemplate="neighbour: %{text}<extra></extra>"))
    if selected is not None:
        s = int(selected)
        data.append(_trace(xyz, [s], marks, mode="markers+text", name="selected", text=text([s]),
                           textposition="bottom center", customdata=index[[s]],
                           marker=dict(size=size + 12, symbol="diamond" if dim == 3 else "star",
                                       color=COLORS["highlight"], line=dict(color="black", width=1)),
                           hovertemplate="selected: %{text}<extra></extra>"))
    return data


def analogy_figure(coords, words_xy, words, axis_titles=("PC1", "PC2"), title: str = "", labels=None, index=None,
                   height: int = 520, marker_size: float = 4) -> go.Figure:
    """``A − B + C`` in a 2D view: the points in grey for context, the arrows, and the words involved, zoomed
    onto them.

    Parameters
    ----------
    coords : array_like, shape (m, 2)
        The background points (already sampled for display); ``labels`` and ``index`` as in :func:`scatter`.
    words_xy : array_like, shape (3 + r, 2)
        A, B, C and the r answers (best first) in the same plane.
    words : sequence of str
        Their labels.
    """
    pts = np.asarray(words_xy, float)                                   # (3 + r, 2)
    data, lay = _points(coords, labels, None, "", axis_titles, title, index, height, marker_size)
    data[0]["marker"] = {**data[0]["marker"], "color": "#ced4da"}
    a, b, c, d = pts[:4]
    wa, wb, wc, wd = (str(w) for w in words[:4])
    data += [arrow(b, a, COLORS["e1"], f"{wb} → {wa} (A − B)", width=2.5),             # the offset A − B
             arrow(c, c + (a - b), COLORS["u"], f"{wc} + (A − B)", "dash", width=2.5),   # moved to C
             arrow(c, d, COLORS["x"], f"{wc} → {wd} (top answer)", width=2.5)]
    data.append(dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="markers+text",
                     text=[str(w) for w in words], textposition="top center", name="A, B, C and answers",
                     marker=dict(size=9, color="#868E96")))
    # zoom onto the words and where C + (A − B) lands (the background stays for context)
    ends = np.vstack([pts, pts[2] + pts[0] - pts[1]])
    lo, hi = ends.min(0), ends.max(0)
    pad = 0.25 * np.maximum(hi - lo, 1e-6)
    lay["xaxis"]["range"] = [float(lo[0] - pad[0]), float(hi[0] + pad[0])]
    lay["yaxis"]["range"] = [float(lo[1] - pad[1]), float(hi[1] + pad[1])]
    return figure(data, lay)
