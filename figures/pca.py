"""Plotly figures of the PCA page: scree plot, 2D/3D scatter coloured by metadata, highlights, arrows."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import CAMERA_3D, COLORS, SEQUENTIAL, arrow, f32, figure, layout, legend_at_bottom

# 20 category colours told apart on both themes: every pair differs by a CIEDE2000 colour difference of
# at least 16 (Plotly's Dark24 has pairs under 9, such as two magentas), each stands out from the grey of
# "other" and the orange highlights, and each has a contrast of at least 2.5:1 against the white and the
# dark page background (tests/test_figures_pca.py measures all of it).
PALETTE = ("#1959b3", "#92ae04", "#fb6a6a", "#37b1bc", "#7b4f12", "#e406f9", "#1d6346", "#df8f20", "#9e2e53",
           "#6a9afb", "#05ba7e", "#ba1405", "#687010", "#dd88ba", "#6b06f9", "#257180", "#f90680", "#159115",
           "#856bd4", "#a7189b")
MAX_CATEGORIES = len(PALETTE)   # more: the 20 most frequent get a colour, the rest are grey "other"
OTHER_GREY = "#adb5bd"
RING = "#e8590c"      # the highlights (selected point, neighbours, anchors): orange, readable on both themes
N_LABELS = 5          # neighbours labelled on the chart (the rest on hover)
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
    # a short title and the legend under the plot: both whole in a 440 px wide chart (900 px window)
    title = "Scree plot: variance per axis"
    lay = layout(title + (f" ({total_label})" if total_label else ""), "principal component",
                 "explained variance (%)", height=height)
    lay["xaxis"]["type"] = "category"
    lay["yaxis"]["range"] = [0, 100]
    return figure([bars, line], legend_at_bottom(lay))


def _strings(values) -> np.ndarray:
    """``str`` of each value, as a NumPy string array: sorted, compared and validated by Plotly far faster than
    Python strings. Object dtype if a value holds a NUL character (NumPy strings drop trailing NULs)."""
    s = [str(v) for v in values]
    return np.asarray(s, dtype=object if "\0" in "".join(s) else str)


def _categorical(values) -> tuple[np.ndarray, list, str]:
    """Map values to at most MAX_CATEGORIES coloured groups (most frequent first); the rest become 'other'."""
    vals = _strings(values)
    uniq, counts = np.unique(vals, return_counts=True)
    order = uniq[np.argsort(-counts, kind="stable")]
    note = ""
    if order.size > MAX_CATEGORIES:
        keep = order[:MAX_CATEGORIES]
        note = f"showing the top {MAX_CATEGORIES} of {order.size} categories, others grey ({OTHER})"
        other = OTHER if OTHER not in set(keep.tolist()) else f"({OTHER})"
        vals = np.where(np.isin(vals, keep), vals, other)
        order = list(keep) + [other]
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
            height: int = 620, marker_size: float | None = None, n_labels: int | None = N_LABELS) -> go.Figure:
    """2D or 3D scatter of points coloured by a metadata column, with a selected point and its neighbours.

    :func:`scatter_points` and :func:`highlight_traces` in one figure.

    Parameters
    ----------
    coords : array_like, shape (m, 2) or (m, 3)
        Coordinates of the points shown (already sampled for display).
    labels : sequence of str, optional
        Hover text per point; without them a point is named by its row number (``index``).
    color : array_like, shape (m,), optional
        Numeric values (colour bar) or categories (palette + legend).
    selected : int, optional
        Position (in ``coords``) of the picked point, drawn as a hollow star (a hollow diamond in 3D).
    neighbors : sequence of int, optional
        Positions (in ``coords``) of its neighbours, best first, drawn as rings.
    n_labels : int or None, default N_LABELS
        Rings labelled on the chart (the first ones; all for None), where a label finds a place clear of
        the labels before it; the others are named on hover.
    index : array_like of int, optional
        Original row numbers (shown on hover); defaults to 0..m-1.
    """
    data, lay = _points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size)
    return figure(data + highlight_traces(coords, labels, selected, neighbors, index, marker_size, n_labels), lay)


def scatter_points(coords, labels=None, color=None, color_name: str = "", axis_titles=("PC1", "PC2", "PC3"),
                   title: str = "", index=None, height: int = 620, marker_size: float | None = None,
                   opacity: float | None = None) -> go.Figure:
    """:func:`scatter` without the selected point and its neighbours: the part that stays the same when
    only they change (the page keeps it, and sends :func:`highlight_traces` on top). ``opacity`` (0.75
    to 0.8 by default) lets a shading drawn under the points show through them."""
    return figure(*_points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size,
                           opacity))


def _points(coords, labels, color, color_name, axis_titles, title, index, height, marker_size, opacity=None):
    xyz = _xyz(coords)
    m, dim = xyz.shape
    # no labels: the points are named by their row number alone, which travels in customdata anyway
    # (a million-row file's 100,000 "row i" texts were 40% of the chart's JSON)
    text = None if labels is None else _hover_text(_strings(labels))
    index = np.arange(m) if index is None else np.asarray(index)
    size = _marker_size(m, dim, marker_size)
    kind = "scatter3d" if dim == 3 else "scattergl" if m > GL_ABOVE else "scatter"
    data = []

    def add(mask, name, marker, showlegend=True):
        sel = np.flatnonzero(mask)
        hover = ("" if text is None else "%{text}<br>") + "row %{customdata}<br>" + (
            "(%{x:.3f}, %{y:.3f}, %{z:.3f})" if dim == 3 else "(%{x:.3f}, %{y:.3f})") + f"<extra>{name}</extra>"
        named = {} if text is None else {"text": text(sel)}
        data.append(_trace(xyz, sel, kind, mode="markers", name=name, customdata=index[sel], marker=marker,
                           hovertemplate=hover, showlegend=showlegend, **named))

    note = ""
    if color is None:
        add(np.ones(m, bool), "points", dict(size=size, color=COLORS["e2"], opacity=opacity or 0.75), showlegend=False)
    elif is_numeric(color):
        c = f32(np.asarray(color, dtype=np.float64))
        add(np.ones(m, bool), color_name, dict(size=size, color=c, colorscale=SEQUENTIAL, opacity=opacity or 0.8,
                                                   colorbar=dict(title=dict(text=color_name, side="right"))),
            showlegend=False)
    else:
        vals, order, note = _categorical(color)
        for i, cat in enumerate(order):
            col = OTHER_GREY if i >= MAX_CATEGORIES else PALETTE[i]
            add(vals == cat, str(cat), dict(size=size, color=col, opacity=opacity or 0.8))
    full_title = title + (f"<br><sup>{note}</sup>" if note else "")
    if dim == 3:
        lay = layout(full_title, height=height)
        lay["scene"] = {f"{a}axis": dict(title=dict(text=t)) for a, t in zip("xyz", axis_titles)}
        lay["scene"]["camera"] = CAMERA_3D
    else:
        lay = layout(full_title, axis_titles[0], axis_titles[1], height=height)
    # the legend in rows under the plot: beside it, it took 160 px of a 440 px chart (900 px window)
    lay["legend"] = dict(title=dict(text=color_name, side="top") if color_name else None)  # None: untitled
    return data, legend_at_bottom(lay)


# Where a label can sit around its point (Plotly's textposition), as the direction of the label from
# the point; the first is preferred when several are equally free.
_PLACES = {"top center": (0, 1), "bottom center": (0, -1), "middle right": (1, 0), "middle left": (-1, 0),
           "top right": (1, 1), "top left": (-1, 1), "bottom right": (1, -1), "bottom left": (-1, -1)}


def label_positions(xy, texts, others=(), span=None, plot_px=(380.0, 420.0), char_px: float = 7.0,
                    line_px: float = 15.0, marker_px: float = 9.0, drop: bool = False) -> list[str | None]:
    """A textposition for each labelled point of a 2D chart, chosen greedily (in order) so that the
    labels overlap one another and the highlighted markers as little as possible, and stay inside the
    plotting area (Plotly clips a label at its edge).

    Parameters
    ----------
    xy : array_like, shape (m, 2)
        The labelled points, most important first (it gets the freest place).
    texts : sequence of str, length m
    others : array_like, shape (r, 2), optional
        More highlighted markers that labels should not cover.
    span : pair of (lo, hi) arrays, optional
        The data range the chart shows (default: that of the points); sets the scale to pixels and the
        edges labels should not cross.
    plot_px : (width, height)
        Approximate size of the plotting area in pixels; the default is that of a chart on a narrow page
        (a 900 px window with the sidebar open), the smallest it gets: a wider chart only leaves more room
        between the labels and the edges.
    drop : bool, default False
        Leave out a label (never the first) that finds no place clear of the labels before it and mostly
        inside the plot, for labels the hover also gives (a tight cluster's neighbours piled up unreadably).

    Returns
    -------
    list of str or None
        Plotly textpositions; None for a label left out (``drop``).
    """
    pts = np.asarray(xy, np.float64).reshape(-1, 2)
    marks = np.vstack([pts, np.asarray(others, np.float64).reshape(-1, 2)])
    lo, hi = (marks.min(0), marks.max(0)) if span is None else (np.asarray(span[0], float), np.asarray(span[1], float))
    scale = np.asarray(plot_px, float) / np.where(hi - lo > 0, hi - lo, 1.0)
    px, mk = (pts - lo) * scale, (marks - lo) * scale                  # pixels, y upwards
    marker_boxes = [np.r_[m - marker_px, m + marker_px] for m in mk]    # (x0, y0, x1, y1)
    label_boxes: list[np.ndarray] = []
    gap = marker_px / 2 + 2

    def box(p, text, d):
        w, h = max(1, len(text)) * char_px, line_px
        x0 = p[0] - w / 2 if d[0] == 0 else p[0] + gap if d[0] > 0 else p[0] - gap - w
        y0 = p[1] - h / 2 if d[1] == 0 else p[1] + gap if d[1] > 0 else p[1] - gap - h
        return np.array([x0, y0, x0 + w, y0 + h])

    def area(b, others):
        return sum(max(0.0, min(b[2], o[2]) - max(b[0], o[0])) * max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
                   for o in others)

    frame = np.r_[0.0, 0.0, scale * (hi - lo)]                    # the plotting area, in the same pixels

    def outside(b):
        return (b[2] - b[0]) * (b[3] - b[1]) - area(b, [frame])

    out = []
    for i, (p, text) in enumerate(zip(px, texts)):
        markers = marker_boxes[:i] + marker_boxes[i + 1:]       # a label may touch its own marker
        best = None
        for j, (name, d) in enumerate(_PLACES.items()):
            b = box(p, str(text), d)
            # over another label costs more than over a marker: both labels become unreadable; past the
            # edge a label is cut, which costs more than a marker under it but less than two labels mixed
            cost = area(b, markers) + 4.0 * area(b, label_boxes) + 2.0 * outside(b) + 1e-3 * j
            if best is None or cost < best[0]:
                best = (cost, name, b)
        # with drop, a label that would still cover one already written, or lose a third of itself past
        # the edge, is left to the hover
        w, h = best[2][2] - best[2][0], best[2][3] - best[2][1]
        if drop and i and (area(best[2], label_boxes) > 0 or outside(best[2]) > w * h / 3):
            out.append(None)
            continue
        label_boxes.append(best[2])
        out.append(best[1])
    return out


def highlight_traces(coords, labels=None, selected: int | None = None, neighbors=None, index=None,
                     marker_size: float | None = None, n_labels: int | None = N_LABELS) -> list[dict]:
    """The neighbours (rings, the first ``n_labels`` labelled, the rest named on hover) and the selected
    point (a hollow star, so it hides no neighbour) of :func:`scatter`, as trace dicts; the arguments
    mean the same as there. ``n_labels=None`` labels every ring whose label fits (:func:`label_positions`
    with ``drop``)."""
    xyz = _xyz(coords)
    m, dim = xyz.shape
    # only the few points drawn here get their labels converted (a page keeps the rest in its figure)
    text = (lambda rows: _strings(rows if labels is None else np.asarray(labels)[rows]))
    index = np.arange(m) if index is None else np.asarray(index)
    size = _marker_size(m, dim, marker_size)
    marks = "scatter3d" if dim == 3 else "scatter"   # rings and star: SVG even above GL_ABOVE points
    nb = np.asarray([] if neighbors is None else neighbors, dtype=int)
    sel = [] if selected is None else [int(selected)]
    shown = nb[: len(nb) if n_labels is None else n_labels]
    rows = sel + shown.tolist()                               # labelled points, the selected one first
    if dim == 2 and rows and m:
        places = label_positions(xyz[rows], text(rows), others=xyz[nb[len(shown):]], drop=True,
                                 span=(np.nanmin(xyz, 0), np.nanmax(xyz, 0)))
    else:
        places = ["top center"] * len(rows)
    data = []
    ring_places = places[len(sel):] + [None] * (len(nb) - len(shown))    # None: named on hover only
    if len(nb):
        data.append(_trace(xyz, nb, marks, mode="markers+text", name="nearest neighbours", text=text(nb),
                           texttemplate=["" if p is None else "%{text}" for p in ring_places],
                           textposition=[p or "top center" for p in ring_places],
                           textfont=dict(size=12, color=RING), customdata=index[nb],
                           marker=dict(size=size + 8, color="rgba(0,0,0,0)", line=dict(color=RING, width=2)),
                           hovertemplate="neighbour: %{text}<extra></extra>"))
    if sel:
        open_symbol = "diamond-open" if dim == 3 else "star-open"
        data.append(_trace(xyz, sel, marks, mode="markers+text", name="selected", text=text(sel),
                           textposition=places[0], textfont=dict(size=13, color=RING, weight="bold"),
                           customdata=index[sel],
                           marker=dict(size=size + 14, symbol=open_symbol, color=RING, line=dict(color=RING, width=2.5)),
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
    # zoom onto the words and where C + (A − B) lands (the background stays for context)
    ends = np.vstack([pts, pts[2] + pts[0] - pts[1]])
    lo, hi = ends.min(0), ends.max(0)
    pad = 0.25 * np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    texts = [str(w) for w in words]
    places = label_positions(pts, texts, span=(lo, hi))           # clear of each other and of the edges
    data.append(dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="markers+text",
                     text=texts, textposition=places, name="A, B, C and answers",
                     marker=dict(size=9, color="#868E96")))
    lay["xaxis"]["range"] = [float(lo[0]), float(hi[0])]
    lay["yaxis"]["range"] = [float(lo[1]), float(hi[1])]
    return figure(data, legend_at_bottom(lay))
