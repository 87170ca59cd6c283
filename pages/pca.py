"""PCA of embeddings: exact PCA on every row, scree, 2D/3D views, neighbours, analogies, semantic axes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from figures import pca as fp
from la_core.neighbors import sample_indices, semantic_axes
from ui.chart import chart, clicked_point, kept_figure
from ui.pca_compute import ANALOGY_MAX, NEIGHBOURS_MAX, analogy_rows, fit_pca, neighbours, trust
from ui.pca_data import (SELECT_ALL_BELOW, choose_data, data_suffix, default_color, find_row, forget_other_data,
                         option_index, pick_group, point_picker, query_param)
from figures.search import search_traces
from ui.pca_coordinates import render_batch
from ui.pca_density import shade
from ui.pca_layers import layers_section
from ui.pca_search import search_box
from ui.pca_export import SemanticColumns, axis_column, export_frame, semantic_store, to_csv, to_parquet

DISPLAY_CAP = 100_000   # points sent to the browser at most (PCA itself uses every row)
# Above DISPLAY_CAP a 2D view shades every row (a heatmap) and draws this many sampled points over it, small
# and translucent: 100,000 of them covered the shading wherever the rows are dense, and took the browser
# 1.2 s to draw (0.45 s for 30,000), the larger part of a million-row file's first view
OVER_SHADING, SHADED_MARKER, SHADED_OPACITY = 20_000, 2.0, 0.5
# Widths below which the grids of controls and tables drop a column (st.grid): a component picker shows
# "PC12" whole from CONTROL_PX, a label or metric picker its value from PICKER_PX, and a table or a set of
# anchors sits beside another only from PANEL_PX (a 900 px window with the sidebar open: 440 px in all).
CONTROL_PX, PICKER_PX, PANEL_PX = 130, 180, 360


# ================================================================================ data
st.title("PCA of embeddings")
st.markdown(
    "An embedding model turns every word or sentence into a point in hundreds of dimensions. "
    "**Principal component analysis** finds the directions along which those points spread the most; "
    "looking along the top two or three gives the most faithful flat picture a *linear* map can give. "
    "Here the PCA is **exact and uses every row** (the d×d covariance matrix, then its eigenvectors), "
    "and you can check how much each axis explains, ask for a point's nearest neighbours in the full "
    "space, do word arithmetic like *king − man + woman*, and build your own axes from example words."
)

ds, batch = choose_data()


if batch is not None:
    render_batch(batch, DISPLAY_CAP, CONTROL_PX)
    st.stop()

# ================================================================================ PCA
forget_other_data(ds)   # a new data set starts with its own view, not the last one's selection or axes
X = ds.X
n, d = X.shape
st.caption(f"**{ds.name}**: {n:,} rows × {d} dimensions" + (f" · {ds.note}" if ds.note else ""))
center = st.toggle("Centre the data first (subtract the mean vector)", value=query_param("center", "1") != "0",
                   key="pca_center")
st.caption("Why centre? PCA looks for directions of largest *spread around the mean*. Without centring, the first "
           "axis mostly points from the origin to the cloud's mean (embeddings share a common offset), so it "
           "describes where the cloud sits rather than how it is shaped. Toggle it to see PC1 change.")
try:
    with st.spinner(f"Exact PCA on all {n:,} rows × {d} dimensions…"):
        model, Z = fit_pca(ds.key, center, X)
except ValueError as exc:
    st.error(f"PCA failed: {exc}")
    st.stop()
k = model.n_components_
pcs = [f"PC{i + 1}" for i in range(k)]
ratio = model.explained_variance_ratio_
chart(fp.scree(ratio, total_label=f"first {k} of {min(n, d)}"), key="pca_scree")
st.caption(f"The first two axes explain **{100 * ratio[:2].sum():.1f}%** of the {'variance' if center else 'sum of squares'}, "
           f"the first three **{100 * ratio[:3].sum():.1f}%**, the first {k} **{100 * ratio.sum():.1f}%**. "
           "Whatever the rest holds is invisible in a 2D or 3D view.")

meta_cols = [] if ds.meta is None else [str(c) for c in ds.meta.columns]
_SUFFIX = data_suffix(ds)   # widgets whose options are this data's labels or columns: keys tied to the data


def K(base: str) -> str:
    return base + _SUFFIX


def present(words: list[str]) -> list[str]:
    """The example's default words, where this data has them all (the token table of a model may)."""
    return words if all(find_row(ds, w) is not None for w in words) else []


def group_name(rows: list[int], first: int = 3) -> str:
    """An anchor group in a title: its first ``first`` labels, "…" when it has more."""
    return ", ".join(str(ds.labels[i]) for i in rows[:first]) + ("…" if len(rows) > first else "")


AXIS_TITLE_CHARS = 48     # about the width of the plotting area of a 440 px chart (a 900 px window)


def axis_title(number: int, away: list[int], towards: list[int]) -> str:
    """A semantic axis's title, read from low to high: ``← away · axis i · towards →``, naming fewer of each
    group's labels (down to one and "…") when that is too long for a narrow chart."""
    for first in (3, 2, 1):
        text = f"← {group_name(away, first)} · axis {number} · {group_name(towards, first)} →"
        if len(text) <= AXIS_TITLE_CHARS:
            break
    return text


metric_names = {"cosine": "cosine similarity", "dot": "dot product", "euclidean": "Euclidean distance"}


# ================================================================================ view + neighbours
def _clicked():
    """Plot click -> select that row (the point's row number travels in its customdata)."""
    point = clicked_point("pca_scatter")
    if point is None:
        return
    cd = point.get("customdata")
    row = cd[0] if isinstance(cd, (list, tuple)) else cd
    if row is None:
        return
    row = int(row)
    if not 0 <= row < n:
        return
    if n > SELECT_ALL_BELOW:
        st.session_state[K("pca_point") + "_search"] = str(ds.labels[row])
    st.session_state[K("pca_point")] = row


@st.fragment
def view_section():
    st.header("1. The picture and a point's neighbours")
    # six tracks: view, x, y, z and a double-width colour picker on a wide page; three a row when narrow
    g = st.grid(6, min_column_width=CONTROL_PX)
    dims = g.radio("View", ["2D", "3D"], index=1 if query_param("dims") == "3D" and k >= 3 else 0, key="pca_dims",
                   horizontal=True, disabled=k < 3)
    x = g.selectbox("x axis", pcs, index=option_index(pcs, query_param("x"), 0), key="pca_x")
    y = g.selectbox("y axis", pcs, index=option_index(pcs, query_param("y"), min(1, k - 1)), key="pca_y")
    z = g.selectbox("z axis", pcs, index=option_index(pcs, query_param("z"), min(2, k - 1)), key="pca_z",
                    disabled=dims == "2D")
    colours = ["(none)"] + meta_cols
    color = g.cell(column_span=2).selectbox("Colour by", colours, key=K("pca_color"),
                                            index=option_index(colours, query_param("color", default_color(ds)), 0))
    comps = [pcs.index(x), pcs.index(y)] + ([pcs.index(z)] if dims == "3D" else [])
    if len(set(comps)) < len(comps):
        st.warning("Pick different components for the axes.")
        return
    neighbours_view(comps, {"dims": dims, "x": x, "y": y, "z": z, "color": color})


@st.fragment
def neighbours_view(comps: list[int], controls: dict):
    """The picture and the neighbour list: the point, metric and k widgets rerun only this, not the view
    controls above, so the browser has fewer elements to replace before it redraws the chart."""
    dims, color = controls["dims"], controls["color"]
    # the point picker twice as wide as the metric and k; on a narrow page a row of its own above them
    g = st.grid(4, min_column_width=PICKER_PX)
    sel = point_picker(ds, "Selected point", K("pca_point"), query_param("point"), container=g.cell(column_span=2))
    metric = g.selectbox("Neighbour metric", list(metric_names), format_func=metric_names.get,
                         index=option_index(list(metric_names), query_param("metric"), 0), key="pca_metric")
    kn = g.slider("Neighbours k", 1, max(2, min(NEIGHBOURS_MAX, n - 1)), max(1, min(10, n - 1)), key="pca_k")
    hits = search_box(ds, kn)
    nb_idx, nb_score = np.empty(0, int), np.empty(0)
    if sel is not None:
        with st.spinner(f"Searching {n:,} rows for the nearest neighbours…"):
            nb_idx, nb_score = neighbours(ds.key, int(sel), kn, metric, X)

    # what goes to the browser: a seeded sample, the same whatever is selected, so that a new point or k
    # sends only the marks (a selected point or neighbour outside the sample is marked where it lies)
    shaded = dims == "2D" and n > DISPLAY_CAP                           # every row shaded under the sample
    shown = sample_indices(n, OVER_SHADING if shaded else DISPLAY_CAP, seed=0)      # sorted
    if n > len(shown):
        st.info(f"Showing {len(shown):,} of {n:,} points (a seeded uniform random sample; the selected point and "
                "its neighbours are marked wherever they lie)" + (", over a shading that counts every row" if shaded
                                                                  else "") +
                ". The PCA, the neighbours and the export use every row.")
    every = Z.on(comps)                                                  # (n, 2 or 3) every row
    coords = every[shown]                                                # (m, 2 or 3)
    extra = np.asarray(([int(sel)] if sel is not None else []) + nb_idx.tolist(), dtype=np.int64)
    outside = np.setdiff1d(extra, shown)
    mark_rows = np.concatenate([shown, outside])                         # the sample, then the rows outside it
    mark_xy = np.concatenate([coords, every[outside]]) if len(outside) else coords

    def where(r) -> int:
        i = int(np.searchsorted(shown, r))
        return i if i < len(shown) and shown[i] == r else len(shown) + int(np.searchsorted(outside, r))

    points = dict(labels=None if ds.row_names else ds.labels[shown], color=None if color == "(none)" else ds.meta[color].to_numpy()[shown],
                  color_name="" if color == "(none)" else color,
                  axis_titles=[f"{pcs[i]} ({100 * ratio[i]:.1f}%)" for i in comps],
                  title=f"{' vs '.join(pcs[i] for i in comps)} ({'centred' if center else 'uncentred'} PCA)",
                  index=shown, height=700 if dims == "2D" else 760,      # the legend's rows below come out of it
                  **(dict(marker_size=SHADED_MARKER, opacity=SHADED_OPACITY) if shaded else {}))
    # The points stay the same when only the selected point or k change: kept, with their JSON, under a
    # key that names what they are drawn from
    view = (ds.key, center, tuple(comps), color, dims)
    fig = kept_figure(view, fp.scatter_points, coords, **points)
    marks = fp.highlight_traces(mark_xy, ds.labels[mark_rows], selected=where(sel) if sel is not None else None,
                                neighbors=[where(r) for r in nb_idx], index=mark_rows)
    if hits is not None:      # the query where the PCA puts it: the same centring and axes as every row
        star = model.transform(hits.vector[None, :].astype(np.float32))[0, comps]             # (2 or 3,)
        marks += search_traces(every[hits.rows], ds.labels[hits.rows], hits.rows, star, hits.query,
                               hits.scores)
    if dims == "2D":
        # the sample's points over a heatmap that counts every row, counted again on zoom
        shading = shade(view, fig, every, _SUFFIX + "".join(map(str, comps)), "pca_scatter") if shaded else {}
        chart(fig, key="pca_scatter", on_click=_clicked, extra=marks, **shading)
        st.caption("Click a point to select it (or pick it above).")
    else:
        # the wheel scrolls the page, not the 3D camera (which would trap it); drag rotates, the toolbar zooms
        chart(fig, key="pca_scatter3d", extra=marks, config={"scrollZoom": False})
        st.caption("Drag to rotate; the toolbar zooms (the mouse wheel scrolls the page).")

    if hits is not None:
        st.markdown(f"**Nearest rows to the query “{hits.query}”** (cosine similarity in the full {d}-dimensional "
                    f"space, embedded with {hits.model}); ringed in green, the query is the green star.")
        st.table(pd.DataFrame({"rank": np.arange(1, len(hits.rows) + 1), "label": ds.labels[hits.rows],
                               "cosine": np.round(hits.scores, 4)}), hide_index=True)
    cc = st.grid(2, min_column_width=PANEL_PX)      # the list beside the score, or above it when narrow
    cc = [cc.cell(), cc.cell()]
    if sel is not None:
        table = pd.DataFrame({"rank": np.arange(1, len(nb_idx) + 1), "label": ds.labels[nb_idx],
                              metric_names[metric]: np.round(nb_score, 4)})
        if "category" in meta_cols:
            table["category"] = ds.meta["category"].to_numpy()[nb_idx]
        cc[0].markdown(f"**Nearest neighbours of “{ds.labels[sel]}”** in the full {d}-dimensional space "
                       f"({metric_names[metric]}; {'higher' if metric != 'euclidean' else 'lower'} is closer). "
                       f"They are ringed in the plot, the first {min(fp.N_LABELS, len(nb_idx))} labelled (hover "
                       "for the others): neighbours that look far away in the picture show what the projection "
                       "hides.")
        # a static table: the interactive data grid's rendering held back the redraw of the chart above
        cc[0].table(table, hide_index=True, height="content" if len(table) <= 12 else 460)
    # trustworthiness of this view
    try:
        score, used = trust(ds.key, center, tuple(comps), "euclidean", X, every)
    except ValueError as exc:
        cc[1].info(f"Trustworthiness is not available here: {exc}")
        score = None
    if score is not None:
        cc[1].metric(f"Trustworthiness of this {len(comps)}D view", f"{score:.3f}")
    if score is not None:
        cc[1].caption(f"For {used:,} {'sampled ' if used < n else ''}points, do the 10 nearest neighbours *in the "
                      f"picture* also lie close in the original {d} dimensions? 1.0 means no false neighbours; "
                      "0.5 is what a random scatter scores. A low value says the plot is inventing neighbourhoods "
                      "(scikit-learn's trustworthiness, Euclidean distances).")
    st.query_params.update({**controls, "metric": metric,
                            "center": "1" if center else "0",
                            **({"point": str(ds.labels[sel])} if sel is not None else {})})


view_section()


# ================================================================================ analogies
@st.fragment
def analogy_section():
    st.header("2. Analogies: A − B + C")
    st.markdown("The classic test of word vectors: *king − man + woman ≈ queen*. Each vector is scaled to unit "
                "length, the three are combined, and the rows with the highest cosine similarity to the result "
                "are listed (the three inputs are left out, as gensim does). The arrows show the same arithmetic "
                "in the current PCA plane: if the relation is a consistent direction, the dashed arrow from C "
                "lands near the answer.")
    if n < 3:
        st.info("An analogy needs at least three rows (A, B and C).")
        return
    c = st.grid(4, min_column_width=PICKER_PX)      # A, B, C and k in a row, or two by two when narrow
    c = [c.cell() for _ in range(4)]
    defaults = tuple(present(["king", "man", "woman"]) or [str(v) for v in ds.labels[:3]])
    a = point_picker(ds, "A (e.g. king)", K("pca_an_a"), defaults[0], container=c[0])
    b = point_picker(ds, "minus B (e.g. man)", K("pca_an_b"), defaults[1], container=c[1])
    cc = point_picker(ds, "plus C (e.g. woman)", K("pca_an_c"), defaults[2], container=c[2])
    topk = c[3].slider("Top k", 1, ANALOGY_MAX, 5, key="pca_an_k")
    if None in (a, b, cc):
        return
    try:
        with st.spinner(f"Scoring all {n:,} rows against A − B + C…"):
            idx, score = analogy_rows(ds.key, int(a), int(b), int(cc), topk, X)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    if not len(idx):
        st.info("No rows left after leaving out the three inputs.")
        return
    # the table in one track and the chart in two on a wide page; the chart under the table when narrow
    g = st.grid(3, min_column_width=PANEL_PX - 60)
    left, right = g.cell(), g.cell(column_span=2)
    # a static table, as for the neighbours: the interactive data grid's rendering holds back the chart
    left.table(pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "label": ds.labels[idx],
                             "cosine": np.round(score, 4)}), hide_index=True,
               height="content" if len(idx) <= 12 else 460)
    comps = [pcs.index(st.session_state.get("pca_x", "PC1")), pcs.index(st.session_state.get("pca_y", pcs[min(1, k - 1)]))]
    rows = [a, b, cc] + idx.tolist()
    plane = Z.on(comps)
    pts = plane[np.asarray(rows)]
    shown = sample_indices(n, min(DISPLAY_CAP, 20000), seed=1)
    fig = fp.analogy_figure(plane[shown], pts, [ds.labels[r] for r in rows],
                            axis_titles=[pcs[i] for i in comps], labels=ds.labels[shown], index=shown,
                            title=f"{ds.labels[a]} − {ds.labels[b]} + {ds.labels[cc]} in the "
                                  f"{pcs[comps[0]]}/{pcs[comps[1]]} plane")
    if len(shown) < n:
        right.caption(f"Background: {len(shown):,} of {n:,} points (seeded sample).")
    with right:
        chart(fig, key="pca_analogy_plot")


analogy_section()


# ================================================================================ semantic axes
@st.fragment
def axes_section():
    st.header("3. Semantic axes")
    st.markdown("Instead of the directions PCA finds, build your own: an axis runs from the average of one group "
                "of anchors to the average of another, and every point is projected onto it. The second axis is "
                "made perpendicular to the first (Gram–Schmidt), so the two readings do not leak into each other. "
                "Type anchors as labels separated by commas; each must match a label exactly.")
    store = semantic_store()
    store.pop(ds.key, None)          # until axes are built below, the export has none
    c = st.grid(2, min_column_width=PANEL_PX)      # the two axes side by side, or one under the other
    c = [c.cell(), c.cell()]
    c[0].markdown("**Axis 1 (x)**: *away from* on the left, *towards* on the right")
    a1 = pick_group(ds, "towards", K("pca_ax1_a"), present(["man", "king", "he", "boy", "father"]), c[0])
    b1 = pick_group(ds, "away from", K("pca_ax1_b"), present(["woman", "queen", "she", "girl", "mother"]), c[0])
    c[1].markdown("**Axis 2 (y)**: *away from* at the bottom, *towards* at the top")
    a2 = pick_group(ds, "towards", K("pca_ax2_a"), present(["king", "queen", "prince", "princess", "emperor", "empress"]), c[1])
    b2 = pick_group(ds, "away from", K("pca_ax2_b"), present(["man", "woman", "boy", "girl", "husband", "wife"]), c[1])
    if not (a1 and b1):
        st.info("Pick at least one anchor on each side of axis 1 (and of axis 2 for a second axis).")
        return
    try:
        res = semantic_axes(X, (a1, b1), (a2, b2) if a2 and b2 else None)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    # a coordinate grows towards the first group: it is plotted right (x) or up (y), and named so
    # (the axis titles name the groups, the chart's title only which axis is which: short enough for 440 px)
    names = [axis_column(1, group_name(b1), group_name(a1))]
    if res.coords.shape[1] == 1:
        xy = np.stack([res.coords[:, 0], Z.on([0])[:, 0]], 1)
        titles = (axis_title(1, b1, a1), "PC1")
        title = "Semantic axis 1 (x) against PC1 (y)"
    else:
        xy = res.coords
        titles = (axis_title(1, b1, a1), axis_title(2, b2, a2))      # the y title reads bottom to top
        title = "Semantic axes 1 (x) and 2 (y)"
        names.append(axis_column(2, group_name(b2), group_name(a2)))
    store[ds.key] = SemanticColumns(names, res.coords)
    color = default_color(ds)
    color = None if color == "(none)" else color
    anchors = sorted(set(a1 + b1 + a2 + b2))
    shown = sample_indices(n, DISPLAY_CAP, seed=0)
    shown = np.union1d(shown, anchors) if n > DISPLAY_CAP else shown
    where = {int(r): i for i, r in enumerate(shown)}
    fig = fp.scatter(xy[shown], labels=ds.labels[shown], color=None if color is None else ds.meta[color].to_numpy()[shown],
                     color_name=color or "", axis_titles=titles, title=title,
                     neighbors=[where[int(r)] for r in anchors], index=shown, height=660, n_labels=None)
    fig.update_traces(name="anchors", hovertemplate="anchor: %{text}<extra></extra>",
                      selector=dict(name="nearest neighbours"))
    chart(fig, key="pca_axes_plot")
    shown_note = f" Showing {len(shown):,} of {n:,} points." if len(shown) < n else ""
    if res.raw_cosine is not None:
        st.caption(f"Before Gram–Schmidt the two directions had cosine **{res.raw_cosine:.2f}** "
                   f"(angle {np.degrees(np.arccos(np.clip(res.raw_cosine, -1, 1))):.0f}°); the plotted axes are at "
                   "exactly 90°. Anchors are ringed." + shown_note)
    elif shown_note:
        st.caption(shown_note.strip())


axes_section()


# ================================================================================ export
@st.fragment
def export_section():
    st.header("4. Export the coordinates")
    st.markdown(f"The coordinates of **all {n:,} rows** on the first {k} principal axes and on the semantic axes "
                "above, with the labels and metadata, as CSV or Parquet (the file is built when you click). "
                "Charts export as PNG from their toolbar.")
    stem = Path(ds.name).stem.replace(" ", "_")
    store = semantic_store()       # read at the click: the axes on screen then

    def frame():
        return export_frame(ds.labels, Z.on(range(k)), pcs, ds.meta, store.get(ds.key))

    with st.container(horizontal=True):          # the buttons as wide as their labels, wrapping when narrow
        st.download_button("Download CSV", lambda: to_csv(frame()), file_name=f"{stem}_pca_coordinates.csv",
                           mime="text/csv", key="pca_dl_csv", on_click="ignore", icon=":material/download:")
        st.download_button("Download Parquet", lambda: to_parquet(frame()),
                           file_name=f"{stem}_pca_coordinates.parquet", mime="application/octet-stream",
                           key="pca_dl_parquet", on_click="ignore", icon=":material/download:")
    st.caption("The page URL keeps the view (axes, colour, selected point, metric), so a link reproduces it for "
               "the built-in example.")


export_section()
layers_section(5)
