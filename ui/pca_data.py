"""Streamlit helpers of the PCA page: where the embeddings come from, cached fits and searches, row pickers.

- :class:`Dataset` and :func:`choose_data`: the data source widgets (built-in example, upload, data
  folder) and the loaders behind them, cached per file so reruns do not read it again; a coordinates
  Parquet written by the batch job (:mod:`la_core.pca_batch`) comes back as a ``BatchResult`` instead.
- :func:`fit_pca`, :func:`trust`, :func:`neighbours`, :func:`analogy_rows`: the la_core calls of the
  page, cached per dataset key.
- :func:`point_picker`, :func:`pick_group`: pick rows by label, for small and large data alike.
- :func:`query_param`, :func:`option_index`: the view state kept in the URL.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from la_core import io as lio
from la_core import neighbors as ln
from la_core.pca import PCA
from la_core.pca_batch import BatchResult, read_coordinates

__all__ = ["EXAMPLE", "MAX_PCS", "SELECT_ALL_BELOW", "TRUST_ROWS", "SRC_EXAMPLE", "SRC_UPLOAD", "SRC_FOLDER",
           "Dataset", "DataChoice", "choose_data", "example_dataset", "fit_pca", "trust", "neighbours",
           "analogy_rows", "query_param", "option_index", "find_row", "point_picker", "pick_group"]

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_embeddings.parquet"
MAX_PCS = 30            # components computed and offered (scree shows them all)
SELECT_ALL_BELOW = 5000  # below this many rows, pickers list every label; above, search first
TRUST_ROWS = 1500       # rows sampled for trustworthiness
SRC_EXAMPLE, SRC_UPLOAD, SRC_FOLDER = "Built-in example (MiniLM words & phrases)", "Upload files", "Data folder"


@dataclass
class Dataset:
    """Embeddings shown on the page."""

    key: str                 # cache key (content or upload id)
    name: str
    X: np.ndarray            # (n, d) float32, possibly memory-mapped
    meta: pd.DataFrame | None
    labels: np.ndarray       # (n,) str, hover text and picker names
    note: str = ""


class DataChoice(NamedTuple):
    """What the data source widgets picked: embeddings, or a batch job's coordinates file."""

    dataset: Dataset | None
    batch: BatchResult | None


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
    """The built-in MiniLM embeddings of words and short phrases."""
    df = pd.read_parquet(EXAMPLE)
    X = np.stack(df["vector"].to_numpy()).astype(np.float32)            # (n, 384)
    meta = df.drop(columns=["vector"]).reset_index(drop=True)
    return Dataset("example", "built-in example", X, meta, _labels(meta, len(X)),
                   "all-MiniLM-L6-v2 sentence embeddings (384 dims, unit length) of words and short phrases")


def _from_embeddings(key: str, name: str, emb: lio.Embeddings) -> Dataset:
    meta = emb.labels
    if meta is not None:
        meta = meta.reset_index(drop=True)
    return Dataset(key, name, emb.vectors, meta, _labels(meta, emb.vectors.shape[0]), emb.note)


@st.cache_resource(max_entries=4, show_spinner="Reading the uploaded file…")
def _upload_dataset(key: str, name: str, _data: bytes, meta_name: str | None, _meta: bytes | None,
                    tensor: str | None) -> Dataset:
    """Load an upload (cached per upload id, so two sessions never share one)."""
    emb = lio.load_embeddings(_data, name, metadata=_meta, metadata_filename=meta_name, key=tensor)
    return _from_embeddings(key, name, emb)


@st.cache_resource(max_entries=2, show_spinner="Opening the file from the data folder (memory-mapped)…")
def _folder_dataset(root: str, name: str, mtime: float, tensor: str | None) -> Dataset:
    emb = lio.open_data_file(root, name, key=tensor)   # refuses anything outside root
    return _from_embeddings(f"folder:{name}:{mtime}", name, emb)


def _tensor_choice(data, name: str) -> str | None:
    """For .npz/.safetensors files holding several 2-D arrays, let the user pick one."""
    if not name.lower().endswith((".npz", ".safetensors")):
        return None
    shapes = {k: v for k, v in lio.list_tensors(data, name).items() if len(v) == 2}
    if len(shapes) <= 1:
        return None
    names = list(shapes)
    return st.selectbox("Array inside the file", names, key="pca_tensor",
                        format_func=lambda t: f"{t} {tuple(shapes[t])}")


def _from_upload() -> DataChoice:
    c1, c2 = st.columns(2)
    up = c1.file_uploader("Vectors: .npy, .npz, .csv/.tsv (Projector's vectors.tsv), .parquet or .safetensors",
                          key="pca_vectors", help="Any extension is accepted here; the loader checks the "
                          "contents and says what is wrong if it cannot read them.")
    meta_up = c2.file_uploader("Metadata (optional): .tsv/.csv, one row per vector (Projector's metadata.tsv)",
                               key="pca_metadata")
    if up is None:
        st.info("Upload a matrix of embeddings (one row per item, at least 2 × 2, finite numbers). Until then "
                "the built-in example is shown.")
        return DataChoice(None, None)
    data = up.getvalue()
    try:
        batch = read_coordinates(data) if up.name.lower().endswith(".parquet") else None
        if batch is not None:
            return DataChoice(None, batch)
        tensor = _tensor_choice(data, up.name)
        key = f"upload:{up.file_id}:{meta_up.file_id if meta_up else ''}:{tensor or ''}"
        ds = _upload_dataset(key, up.name, data, meta_up.name if meta_up else None,
                             meta_up.getvalue() if meta_up else None, tensor)
        st.session_state["pca_last_good"] = ds
        return DataChoice(ds, None)
    except ValueError as exc:
        st.error(f"Could not use {up.name!r}: {exc}")
        ds = st.session_state.get("pca_last_good")
        st.info(f"Still showing the last file that loaded: {ds.name}." if ds is not None
                else "Showing the built-in example meanwhile.")
        return DataChoice(ds, None)


def _from_folder(data_dir: str) -> DataChoice:
    try:
        files = lio.list_data_files(data_dir)
    except (ValueError, OSError) as exc:
        files = []
        st.error(f"Cannot list LA_LENS_DATA_DIR={data_dir!r}: {exc}")
    if not files:
        st.info(f"No embedding files found in the data folder `{data_dir}`.")
        return DataChoice(None, None)
    name = st.selectbox("File in the data folder (opened memory-mapped on the server)", files,
                        key="pca_folder_file")
    try:
        path = os.path.join(data_dir, name)   # name comes from list_data_files: inside the folder
        tensor = _tensor_choice(path, name)
        batch = read_coordinates(path) if str(name).lower().endswith(".parquet") else None
        if batch is not None:
            return DataChoice(None, batch)
        ds = _folder_dataset(data_dir, name, os.path.getmtime(path), tensor)
        st.session_state["pca_last_good"] = ds
        return DataChoice(ds, None)
    except (ValueError, OSError) as exc:
        st.error(f"Could not open {name!r}: {exc}")
        return DataChoice(st.session_state.get("pca_last_good"), None)


def choose_data() -> DataChoice:
    """The data source radio and its widgets; the built-in example until something else loads.

    Returns
    -------
    DataChoice
        ``dataset`` (a :class:`Dataset`) or, for a batch job's coordinates file, ``batch``; exactly one
        of them is set.
    """
    data_dir = os.environ.get("LA_LENS_DATA_DIR", "").strip()
    sources = [SRC_EXAMPLE, SRC_UPLOAD] + ([SRC_FOLDER] if data_dir else [])
    source = st.radio("Data", sources, index=option_index(sources, query_param("data"), 0),
                      key="pca_source", horizontal=True)
    choice = DataChoice(None, None)
    if source == SRC_UPLOAD:
        choice = _from_upload()
    elif source == SRC_FOLDER:
        choice = _from_folder(data_dir)
    if choice.dataset is None and choice.batch is None:
        return DataChoice(example_dataset(), None)
    return choice


# ================================================================================ cached la_core calls
@st.cache_resource(max_entries=6, show_spinner=False)
def fit_pca(key: str, center: bool, _X: np.ndarray) -> tuple[PCA, np.ndarray]:
    """Exact PCA of every row; returns the fitted model and the coordinates (n, k) float32 on the first k axes."""
    n, d = _X.shape
    model = PCA(min(MAX_PCS, n, d), center=center).fit(_X)
    return model, model.transform(_X)


@st.cache_data(max_entries=32, show_spinner="Scoring how faithful this view is (trustworthiness)…")
def trust(key: str, center: bool, comps: tuple, metric: str, _X, _Z) -> ln.Trustworthiness:
    """Trustworthiness of the view on components ``comps`` (a sample of :data:`TRUST_ROWS` rows)."""
    return ln.view_trustworthiness(_X, _Z[:, list(comps)], n_neighbors=10, max_rows=TRUST_ROWS, metric=metric)


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours(key: str, row: int, k: int, metric: str, _X) -> ln.Neighbors:
    """The k nearest neighbours of a row in the full space."""
    return ln.nearest_neighbors(_X, row, k=k, metric=metric)


@st.cache_data(max_entries=64, show_spinner=False)
def analogy_rows(key: str, a: int, b: int, c: int, k: int, _X) -> ln.Neighbors:
    """The k rows closest to A − B + C."""
    return ln.analogy(_X, positive=[a, c], negative=[b], k=k)


# ================================================================================ view state and pickers
def query_param(name: str, default=None):
    """A view-state value from the URL (st.query_params), or default."""
    v = st.query_params.get(name)
    return default if v in (None, "") else v


def option_index(options: list, value, default: int = 0) -> int:
    """Position of ``value`` in ``options`` (for a widget's index), or default."""
    try:
        return options.index(value)
    except ValueError:
        return default


def find_row(ds: Dataset, label: str) -> int | None:
    """The first row with this label, or None."""
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
    default = find_row(ds, default_label) if default_label else None
    idx = options.index(default) if default in options else 0
    if key in st.session_state and st.session_state[key] in options:
        idx = options.index(st.session_state[key])       # set by a plot click: keep it, no clash with index
    return container.selectbox(label, options, index=idx, key=key, format_func=lambda i: str(ds.labels[i]))


def pick_group(ds: Dataset, label: str, key: str, defaults: list[str], container=st) -> list[int]:
    """Several anchor rows: a multiselect for small data, comma-separated labels above."""
    n = len(ds.labels)
    if n <= SELECT_ALL_BELOW:
        dflt = [i for i in (find_row(ds, d) for d in defaults) if i is not None]
        return container.multiselect(label, list(range(n)), default=dflt, key=key,
                                     format_func=lambda i: str(ds.labels[i]))
    text = container.text_input(f"{label} (comma-separated labels)", ", ".join(defaults), key=key)
    out, missing = [], []
    for word in (w.strip() for w in text.split(",")):
        if word:
            i = find_row(ds, word)
            (out if i is not None else missing).append(i if i is not None else word)
    if missing:
        container.warning(f"Not found: {', '.join(missing)}")
    return out
