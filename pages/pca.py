"""PCA of embeddings: exact PCA on every row, scree, 2D/3D views, neighbours, analogies, semantic axes."""
from __future__ import annotations

import hashlib
import io as _io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from figures import pca as fp
from la_core import pca as lp
from ui.chart import chart, clicked_point, kept_figure

try:  # the loader module (issue 8, la_core/io.py)
    from la_core import io as lio
except ImportError:  # pragma: no cover - only while io.py has not landed
    lio = None

try:  # coordinates written by the batch job (issue 11)
    from la_core.pca_batch import read_coordinates
except ImportError:  # pragma: no cover
    read_coordinates = None

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example_embeddings.parquet"
DISPLAY_CAP = 100_000   # points sent to the browser at most (PCA itself uses every row)
MAX_PCS = 30            # components computed and offered (scree shows them all)
SELECT_ALL_BELOW = 5000  # below this many rows, pickers list every label; above, search first
TRUST_ROWS = 1500       # rows sampled for trustworthiness
SRC_EXAMPLE, SRC_UPLOAD, SRC_FOLDER = "Built-in example (MiniLM words & phrases)", "Upload files", "Data folder"


@dataclass
class Dataset:
    key: str                 # cache key (content or upload id)
    name: str
    X: np.ndarray            # (n, d) float32, possibly memory-mapped
    meta: pd.DataFrame | None
    labels: np.ndarray       # (n,) str, hover text and picker names
    note: str = ""


def _labels(meta: pd.DataFrame | None, n: int) -> np.ndarray:
    """Hover/picker names: a 'label'-like column, else the only or first text column, else row numbers."""
    if meta is not None and len(meta.columns):
        cols = {str(c).lower(): c for c in meta.columns}
        for name in ("label", "word", "text", "name", "token", "title"):
            if name in cols:
                return meta[cols[name]].astype(str).to_numpy(dtype=object)
        text_cols = [c for c in meta.columns if not pd.api.types.is_numeric_dtype(meta[c])]
        col = text_cols[0] if text_cols else meta.columns[0]
        return meta[col].astype(str).to_numpy(dtype=object)
    return np.array([f"row {i}" for i in range(n)], dtype=object)


@st.cache_resource(show_spinner="Loading the built-in example…")
def example_dataset() -> Dataset:
    df = pd.read_parquet(EXAMPLE)
    X = np.stack(df["vector"].to_numpy()).astype(np.float32)            # (n, 384)
    meta = df.drop(columns=["vector"]).reset_index(drop=True)
    return Dataset("example", "built-in example", X, meta, _labels(meta, len(X)),
                   "all-MiniLM-L6-v2 sentence embeddings (384 dims, unit length) of words and short phrases")


def _from_embeddings(key: str, name: str, emb) -> Dataset:
    meta = emb.labels
    if meta is not None:
        meta = meta.reset_index(drop=True)
    return Dataset(key, name, emb.vectors, meta, _labels(meta, emb.vectors.shape[0]), getattr(emb, "note", "") or "")


@st.cache_resource(max_entries=4, show_spinner="Reading the uploaded file…")
def upload_dataset(key: str, name: str, _data: bytes, meta_name: str | None, _meta: bytes | None,
                   tensor: str | None) -> Dataset:
    """Load an upload (cached per upload id, so two sessions never share one)."""
    emb = lio.load_embeddings(_data, name, metadata=_meta, metadata_filename=meta_name, key=tensor)
    return _from_embeddings(key, name, emb)


@st.cache_resource(max_entries=2, show_spinner="Opening the file from the data folder (memory-mapped)…")
def folder_dataset(root: str, name: str, mtime: float, tensor: str | None) -> Dataset:
    emb = lio.open_data_file(root, name, key=tensor)   # refuses anything outside root
    return _from_embeddings(f"folder:{name}:{mtime}", name, emb)


def tensor_choice(data, name: str) -> str | None:
    """For .npz/.safetensors files holding several 2-D arrays, let the user pick one."""
    if not name.lower().endswith((".npz", ".safetensors")):
        return None
    shapes = {k: v for k, v in lio.list_tensors(data, name).items() if len(v) == 2}
    if len(shapes) <= 1:
        return None
    names = list(shapes)
    return st.selectbox("Array inside the file", names, key="pca_tensor",
                        format_func=lambda t: f"{t} {tuple(shapes[t])}")


@st.cache_resource(max_entries=6, show_spinner=False)
def fit_pca(key: str, center: bool, _X: np.ndarray):
    """Exact PCA of every row; returns the fitted model and the coordinates on the first k axes."""
    n, d = _X.shape
    k = min(MAX_PCS, n, d) if center else min(MAX_PCS, n, d)
    model = lp.PCA(k, center=center).fit(_X)
    return model, model.transform(_X)                                 # (n, k) float32


@st.cache_data(max_entries=32, show_spinner="Scoring how faithful this view is (trustworthiness)…")
def trust(key: str, center: bool, comps: tuple, metric: str, _X, _Z) -> tuple[float, int]:
    return lp.view_trustworthiness(_X, _Z[:, list(comps)], n_neighbors=10, max_rows=TRUST_ROWS, metric=metric)


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours(key: str, row: int, k: int, metric: str, _X):
    return lp.nearest_neighbors(_X, row, k=k, metric=metric)


@st.cache_data(max_entries=64, show_spinner=False)
def analogy_rows(key: str, a: int, b: int, c: int, k: int, _X):
    return lp.analogy(_X, positive=[a, c], negative=[b], k=k)


def _qp(name: str, default=None):
    """A view-state value from the URL (st.query_params), or default."""
    v = st.query_params.get(name)
    return default if v in (None, "") else v


def _index(options: list, value, default: int = 0) -> int:
    try:
        return options.index(value)
    except ValueError:
        return default


def _find(ds: Dataset, label: str) -> int | None:
    hits = np.flatnonzero(ds.labels == label)
    return int(hits[0]) if hits.size else None


def point_picker(ds: Dataset, label: str, key: str, default_label: str | None = None, container=st) -> int | None:
    """Pick a row by label: a selectbox of every label for small data, search-then-select above."""
    n = len(ds.labels)
    if n <= SELECT_ALL_BELOW:
        options = list(range(n))
    else:
        q = container.text_input(f"{label}: search labels", value=default_label or "", key=f"{key}_search",
                                 placeholder="type part of a label")
        hits = np.flatnonzero(np.char.find(ds.labels.astype(str), q) >= 0) if q else np.arange(min(n, 200))
        options = hits[:500].tolist()
        if not options:
            container.warning(f"No label contains {q!r}.")
            return None
    default = _find(ds, default_label) if default_label else None
    idx = options.index(default) if default in options else 0
    if key in st.session_state and st.session_state[key] in options:
        idx = options.index(st.session_state[key])       # set by a plot click: keep it, no clash with index
    return container.selectbox(label, options, index=idx, key=key, format_func=lambda i: str(ds.labels[i]))


def pick_group(ds: Dataset, label: str, key: str, defaults: list[str], container=st) -> list[int]:
    """Several anchor rows: a multiselect for small data, comma-separated labels above."""
    n = len(ds.labels)
    if n <= SELECT_ALL_BELOW:
        dflt = [i for i in (_find(ds, d) for d in defaults) if i is not None]
        return container.multiselect(label, list(range(n)), default=dflt, key=key,
                                     format_func=lambda i: str(ds.labels[i]))
    text = container.text_input(f"{label} (comma-separated labels)", ", ".join(defaults), key=key)
    out, missing = [], []
    for word in (w.strip() for w in text.split(",")):
        if word:
            i = _find(ds, word)
            (out if i is not None else missing).append(i if i is not None else word)
    if missing:
        container.warning(f"Not found: {', '.join(missing)}")
    return out


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

data_dir = os.environ.get("LA_LENS_DATA_DIR", "").strip()
sources = [SRC_EXAMPLE, SRC_UPLOAD] + ([SRC_FOLDER] if data_dir else [])
source = st.radio("Data", sources, index=_index(sources, _qp("data"), 0) if _qp("data") in sources else 0,
                  key="pca_source", horizontal=True)

ds: Dataset | None = None
batch = None
if source == SRC_EXAMPLE:
    ds = example_dataset()
elif source == SRC_UPLOAD:
    c1, c2 = st.columns(2)
    up = c1.file_uploader("Vectors: .npy, .npz, .csv/.tsv (Projector's vectors.tsv), .parquet or .safetensors",
                          key="pca_vectors", help="Any extension is accepted here; the loader checks the "
                          "contents and says what is wrong if it cannot read them.")
    meta_up = c2.file_uploader("Metadata (optional): .tsv/.csv, one row per vector (Projector's metadata.tsv)",
                               key="pca_metadata")
    if up is None:
        st.info("Upload a matrix of embeddings (one row per item, at least 2 × 2, finite numbers). Until then "
                "the built-in example is shown.")
    elif lio is None:
        st.error("The file loader (la_core/io.py) is not available in this build; showing the built-in example.")
    else:
        data = up.getvalue()
        tensor = None
        try:
            if read_coordinates is not None and up.name.lower().endswith(".parquet"):
                batch = read_coordinates(data)
            if batch is None:
                tensor = tensor_choice(data, up.name)
                key = f"upload:{up.file_id}:{meta_up.file_id if meta_up else ''}:{tensor or ''}"
                ds = upload_dataset(key, up.name, data, meta_up.name if meta_up else None,
                                    meta_up.getvalue() if meta_up else None, tensor)
                st.session_state["pca_last_good"] = ds
        except ValueError as exc:
            st.error(f"Could not use {up.name!r}: {exc}")
            ds = st.session_state.get("pca_last_good")
            st.info(f"Still showing the last file that loaded: {ds.name}." if ds is not None
                    else "Showing the built-in example meanwhile.")
else:
    if lio is None:
        st.error("The file loader (la_core/io.py) is not available in this build.")
    else:
        try:
            files = lio.list_data_files(data_dir)
        except (ValueError, OSError) as exc:
            files = []
            st.error(f"Cannot list LA_LENS_DATA_DIR={data_dir!r}: {exc}")
        if not files:
            st.info(f"No embedding files found in the data folder `{data_dir}`.")
        else:
            name = st.selectbox("File in the data folder (opened memory-mapped on the server)", files,
                                key="pca_folder_file")
            try:
                path = os.path.join(data_dir, name)   # name comes from list_data_files: inside the folder
                tensor = tensor_choice(path, name)
                if read_coordinates is not None and str(name).lower().endswith(".parquet"):
                    batch = read_coordinates(path)
                if batch is None:
                    ds = folder_dataset(data_dir, name, os.path.getmtime(path), tensor)
                    st.session_state["pca_last_good"] = ds
            except (ValueError, OSError) as exc:
                st.error(f"Could not open {name!r}: {exc}")
                ds = st.session_state.get("pca_last_good")

if ds is None and batch is None:
    ds = example_dataset()


# ================================================================================ batch coordinates
def render_batch(res) -> None:
    """A coordinates file written by the batch job: its scree and a sample of its points."""
    meta, coords = res.meta, res.coords
    pcs = list(getattr(res, "pc_columns", None) or [c for c in coords.columns if str(c).startswith("PC")])
    st.success(f"This is a coordinates file from the batch PCA job: {meta.get('n_samples', len(coords)):,} rows × "
               f"{meta.get('n_features', '?')} features, {len(pcs)} components "
               f"({'centred' if meta.get('center', True) else 'uncentred'}). Showing its scree and points.")
    chart(fp.scree(meta["explained_variance_ratio"]), key="pca_batch_scree")
    if len(pcs) < 2:
        st.info("The file has a single component; nothing to scatter.")
        return
    idx = lp.sample_indices(len(coords), DISPLAY_CAP, seed=0)
    st.caption(f"Showing {len(idx):,} of {len(coords):,} points (seeded uniform sample).")
    others = [c for c in coords.columns if c not in pcs]
    c1, c2, c3 = st.columns(3)
    x = c1.selectbox("x axis", pcs, index=0, key="pca_batch_x")
    y = c2.selectbox("y axis", pcs, index=1, key="pca_batch_y")
    col = c3.selectbox("Colour by", ["(none)"] + others, key="pca_batch_color")
    sub = coords.iloc[idx]
    labels = sub[others[0]].astype(str).to_numpy() if others else None
    fig = fp.scatter(sub[[x, y]].to_numpy(np.float32), labels=labels,
                     color=None if col == "(none)" else sub[col].to_numpy(), color_name="" if col == "(none)" else col,
                     axis_titles=(x, y), index=idx, title=f"{x} vs {y}")
    chart(fig, key="pca_batch_scatter")


if batch is not None:
    render_batch(batch)
    st.stop()

# ================================================================================ PCA
X = ds.X
n, d = X.shape
st.caption(f"**{ds.name}**: {n:,} rows × {d} dimensions" + (f" · {ds.note}" if ds.note else ""))
center = st.toggle("Centre the data first (subtract the mean vector)", value=_qp("center", "1") != "0",
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
# Widgets whose options are this data's labels or columns get keys tied to the data: with a fixed key the
# browser can keep showing the previous file's option text when only the options change.
_SUFFIX = "" if ds.key == "example" else "@" + hashlib.md5(ds.key.encode()).hexdigest()[:8]


def K(base: str) -> str:
    return base + _SUFFIX
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
    c = st.columns([1, 1, 1, 1, 1.4])
    dims = c[0].radio("View", ["2D", "3D"], index=1 if _qp("dims") == "3D" and k >= 3 else 0, key="pca_dims",
                      horizontal=True, disabled=k < 3)
    x = c[1].selectbox("x axis", pcs, index=_index(pcs, _qp("x"), 0), key="pca_x")
    y = c[2].selectbox("y axis", pcs, index=_index(pcs, _qp("y"), min(1, k - 1)), key="pca_y")
    z = c[3].selectbox("z axis", pcs, index=_index(pcs, _qp("z"), min(2, k - 1)), key="pca_z",
                       disabled=dims == "2D")
    default_color = "category" if "category" in meta_cols else (meta_cols[0] if meta_cols else "(none)")
    colours = ["(none)"] + meta_cols
    color = c[4].selectbox("Colour by", colours, index=_index(colours, _qp("color", default_color), 0),
                           key=K("pca_color"))
    comps = [pcs.index(x), pcs.index(y)] + ([pcs.index(z)] if dims == "3D" else [])
    if len(set(comps)) < len(comps):
        st.warning("Pick different components for the axes.")
        return
    neighbours_view(comps, {"dims": dims, "x": x, "y": y, "z": z, "color": color})


@st.fragment
def neighbours_view(comps: list[int], controls: dict):
    """The picture and the neighbour list: the point, metric and k widgets rerun only this, not the view
    controls above, so the browser has fewer elements to replace before it redraws the chart (Neighbours k
    press → chart redrawn 139/147 → 124/132 ms, A/B on the same machine)."""
    dims, color = controls["dims"], controls["color"]
    c = st.columns([2, 1, 1])
    sel = point_picker(ds, "Selected point", K("pca_point"), _qp("point"), container=c[0])
    metric = c[1].selectbox("Neighbour metric", list(metric_names), format_func=metric_names.get,
                            index=_index(list(metric_names), _qp("metric"), 0), key="pca_metric")
    kn = c[2].slider("Neighbours k", 1, max(2, min(50, n - 1)), max(1, min(10, n - 1)), key="pca_k")
    nb_idx, nb_score = np.empty(0, int), np.empty(0)
    if sel is not None:
        with st.spinner(f"Searching {n:,} rows for the nearest neighbours…"):
            nb_idx, nb_score = neighbours(ds.key, int(sel), kn, metric, X)

    # what goes to the browser: a seeded sample, plus the selected point and its neighbours
    shown = lp.sample_indices(n, DISPLAY_CAP, seed=0)
    extra = ([int(sel)] if sel is not None else []) + nb_idx.tolist()
    shown = np.union1d(shown, np.asarray(extra, dtype=np.int64)) if n > DISPLAY_CAP else shown
    pos = {int(r): i for i, r in enumerate(shown)} if n > DISPLAY_CAP else None
    where = (lambda r: pos[int(r)]) if pos is not None else (lambda r: int(r))
    if n > DISPLAY_CAP:
        st.info(f"Showing {len(shown):,} of {n:,} points (a seeded uniform random sample, plus the selected point "
                "and its neighbours). The PCA, the neighbours and the export use every row.")
    coords = Z[shown][:, comps]                                          # (m, 2 or 3)
    points = dict(labels=ds.labels[shown], color=None if color == "(none)" else ds.meta[color].to_numpy()[shown],
                  color_name="" if color == "(none)" else color,
                  axis_titles=[f"{pcs[i]} ({100 * ratio[i]:.1f}%)" for i in comps],
                  title=f"{' vs '.join(pcs[i] for i in comps)} ({'centred' if center else 'uncentred'} PCA)",
                  index=shown, height=640 if dims == "2D" else 720)
    # The points stay the same when only the selected point or k change: kept, with their JSON, under a
    # key that names what they are drawn from (all rows, or a sample that depends on the selection)
    view = (ds.key, center, tuple(comps), color, dims, n <= DISPLAY_CAP or tuple(extra))
    fig = kept_figure(view, fp.scatter_points, coords, **points)
    marks = fp.highlight_traces(coords, points["labels"], selected=where(sel) if sel is not None else None,
                                neighbors=[where(r) for r in nb_idx], index=shown)
    if dims == "2D":
        chart(fig, key="pca_scatter", on_click=_clicked, extra=marks)
        st.caption("Click a point to select it (or pick it above).")
    else:
        chart(fig, key="pca_scatter3d", extra=marks)

    cc = st.columns([1.2, 1])
    if sel is not None:
        table = pd.DataFrame({"rank": np.arange(1, len(nb_idx) + 1), "label": ds.labels[nb_idx],
                              metric_names[metric]: np.round(nb_score, 4)})
        if "category" in meta_cols:
            table["category"] = ds.meta["category"].to_numpy()[nb_idx]
        cc[0].markdown(f"**Nearest neighbours of “{ds.labels[sel]}”** in the full {d}-dimensional space "
                       f"({metric_names[metric]}; {'higher' if metric != 'euclidean' else 'lower'} is closer). "
                       "They are ringed in the plot: neighbours that look far away in the picture show what the "
                       "projection hides.")
        # a static table: the interactive data grid's rendering held back the redraw of the chart above
        # (Neighbours k press → chart redrawn: about 190 → 165 ms here)
        cc[0].table(table, hide_index=True, height="content" if len(table) <= 12 else 460)
    # trustworthiness of this view
    try:
        score, used = trust(ds.key, center, tuple(comps), "euclidean", X, Z)
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
    c = st.columns(4)
    if n < 3:
        st.info("An analogy needs at least three rows (A, B and C).")
        return
    defaults = ("king", "man", "woman") if ds.key == "example" else tuple(str(v) for v in ds.labels[:3])
    a = point_picker(ds, "A (e.g. king)", K("pca_an_a"), defaults[0], container=c[0])
    b = point_picker(ds, "minus B (e.g. man)", K("pca_an_b"), defaults[1], container=c[1])
    cc = point_picker(ds, "plus C (e.g. woman)", K("pca_an_c"), defaults[2], container=c[2])
    topk = c[3].slider("Top k", 1, 20, 5, key="pca_an_k")
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
    left, right = st.columns([1, 2])
    # a static table, as for the neighbours: the interactive data grid's rendering holds back the chart
    left.table(pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "label": ds.labels[idx],
                             "cosine": np.round(score, 4)}), hide_index=True,
               height="content" if len(idx) <= 12 else 460)
    comps = [pcs.index(st.session_state.get("pca_x", "PC1")), pcs.index(st.session_state.get("pca_y", pcs[min(1, k - 1)]))]
    rows = [a, b, cc] + idx.tolist()
    pts = Z[np.asarray(rows)][:, comps]
    shown = lp.sample_indices(n, min(DISPLAY_CAP, 20000), seed=1)
    fig = fp.analogy_figure(Z[shown][:, comps], pts, [ds.labels[r] for r in rows],
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
                "made perpendicular to the first (Gram–Schmidt), so the two readings do not leak into each other.")
    ex = ds.key == "example"
    c = st.columns(2)
    c[0].markdown("**Axis 1 (x)**")
    a1 = pick_group(ds, "towards", K("pca_ax1_a"), ["man", "king", "he", "boy", "father"] if ex else [], c[0])
    b1 = pick_group(ds, "away from", K("pca_ax1_b"), ["woman", "queen", "she", "girl", "mother"] if ex else [], c[0])
    c[1].markdown("**Axis 2 (y)**")
    a2 = pick_group(ds, "towards", K("pca_ax2_a"), ["king", "queen", "prince", "princess", "emperor", "empress"] if ex else [], c[1])
    b2 = pick_group(ds, "away from", K("pca_ax2_b"), ["man", "woman", "boy", "girl", "husband", "wife"] if ex else [], c[1])
    if not (a1 and b1):
        st.info("Pick at least one anchor on each side of axis 1 (and of axis 2 for a second axis).")
        return
    try:
        res = lp.semantic_axes(X, (a1, b1), (a2, b2) if a2 and b2 else None)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    shown = lp.sample_indices(n, DISPLAY_CAP, seed=0)
    name1 = f"{', '.join(str(ds.labels[i]) for i in a1[:3])} ← → {', '.join(str(ds.labels[i]) for i in b1[:3])}"
    if res.coords.shape[1] == 1:
        xy = np.stack([res.coords[:, 0], Z[:, 0]], 1)
        titles = (f"axis 1: towards {ds.labels[a1[0]]}… (projection)", "PC1")
    else:
        xy = res.coords
        titles = (f"axis 1: towards {', '.join(str(ds.labels[i]) for i in a1[:3])}",
                  f"axis 2: towards {', '.join(str(ds.labels[i]) for i in a2[:3])}")
    color = "category" if "category" in meta_cols else None
    anchors = sorted(set(a1 + b1 + a2 + b2))
    shown = np.union1d(shown, anchors) if n > DISPLAY_CAP else shown
    where = {int(r): i for i, r in enumerate(shown)}
    fig = fp.scatter(xy[shown], labels=ds.labels[shown], color=None if color is None else ds.meta[color].to_numpy()[shown],
                     color_name=color or "", axis_titles=titles, title=f"Semantic axes ({name1})",
                     neighbors=[where[int(r)] for r in anchors], index=shown, height=600)
    fig.update_traces(name="anchors", selector=dict(name="nearest neighbours"))
    chart(fig, key="pca_axes_plot")
    if res.raw_cosine is not None:
        st.caption(f"Before Gram–Schmidt the two directions had cosine **{res.raw_cosine:.2f}** "
                   f"(angle {np.degrees(np.arccos(np.clip(res.raw_cosine, -1, 1))):.0f}°); the plotted axes are at "
                   "exactly 90°. Anchors are ringed." + (f" Showing {len(shown):,} of {n:,} points." if len(shown) < n else ""))


axes_section()


# ================================================================================ export
@st.fragment
def export_section():
    st.header("4. Export the coordinates")
    st.markdown(f"The coordinates of **all {n:,} rows** on the first {k} principal axes, with the labels and metadata, "
                "as CSV or Parquet (the file is built when you click). Charts export as PNG from their toolbar.")
    stem = Path(ds.name).stem.replace(" ", "_")

    def frame() -> pd.DataFrame:
        df = pd.DataFrame(np.asarray(Z, np.float32), columns=pcs)
        df.insert(0, "label", ds.labels)
        if ds.meta is not None:
            for col in ds.meta.columns:
                if str(col) not in ("label",):
                    df[str(col)] = ds.meta[col].to_numpy()
        return df

    def to_csv() -> bytes:
        return frame().to_csv(index=False).encode("utf-8")

    def to_parquet() -> bytes:
        buf = _io.BytesIO()
        frame().to_parquet(buf, index=False)
        return buf.getvalue()

    c = st.columns(3)
    c[0].download_button("Download CSV", to_csv, file_name=f"{stem}_pca_coordinates.csv", mime="text/csv",
                         key="pca_dl_csv", on_click="ignore", icon=":material/download:")
    c[1].download_button("Download Parquet", to_parquet, file_name=f"{stem}_pca_coordinates.parquet",
                         mime="application/octet-stream", key="pca_dl_parquet", on_click="ignore",
                         icon=":material/download:")
    c[2].caption("The page URL keeps the view (axes, colour, selected point, metric), so a link reproduces it for "
                 "the built-in example.")


export_section()
