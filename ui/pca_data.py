"""Streamlit helpers of the PCA page: where the embeddings come from, label look-ups and row pickers.

- :class:`Dataset` and :func:`choose_data`: the data source widgets (built-in example, upload, data
  folder) and the loaders behind them, cached per file so reruns do not read it again; a coordinates
  Parquet written by the batch job (:mod:`la_core.pca_batch`) comes back as a ``BatchResult`` instead.
- :func:`fit_pca`, :func:`trust`, :func:`neighbours`, :func:`analogy_rows`: the la_core calls of the
  page, cached per dataset key.
- :func:`point_picker`, :func:`pick_group`: pick rows by label, for small and large data alike.
- :func:`query_param`, :func:`option_index`: the view state kept in the URL.
"""
from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from la_core import io as lio
from la_core.models import BUNDLED_NAME
from la_core.pca_batch import BatchResult, read_coordinates

__all__ = ["EXAMPLE", "SELECT_ALL_BELOW", "SRC_EXAMPLE", "SRC_TOKENS", "SRC_UPLOAD", "SRC_FOLDER", "SRC_TEXTS",
           "Dataset", "ModelRef", "DataChoice", "choose_data", "example_dataset", "point_names", "default_color",
           "query_param", "option_index", "find_row",
           "close_labels", "point_picker", "pick_group", "VIEW_PARAMS", "data_suffix", "forget_other_data"]

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_embeddings.parquet"
SELECT_ALL_BELOW = 5000  # below this many rows, pickers list every label; above, search first
SRC_EXAMPLE, SRC_UPLOAD, SRC_FOLDER = "Built-in example (MiniLM words & phrases)", "Upload files", "Data folder"
SRC_TOKENS = "Token embeddings of the chosen model"     # shown with the model's name
SRC_TEXTS = "Texts (embed with the chosen model)"


@dataclass
class Dataset:
    """Embeddings shown on the page."""

    key: str                 # cache key (content or upload id)
    name: str
    X: np.ndarray            # (n, d) float32, possibly memory-mapped
    meta: pd.DataFrame | None
    labels: np.ndarray       # (n,) str, hover text and picker names
    note: str = ""
    model: "ModelRef | None" = None   # the model that made the vectors, when LA Lens has it (search by meaning)
    row_names: bool = False  # the labels are only "row i" (no metadata): charts name points by row number


class ModelRef(NamedTuple):
    """A model LA Lens can open (ui.models.open_model(root, folder)); ``name`` is its display name."""

    root: str                # LA_LENS_MODELS_DIR for a folder, "" for the bundled model
    folder: str              # folder name under root, "" for the bundled model
    name: str


class DataChoice(NamedTuple):
    """What the data source widgets picked: embeddings, or a batch job's coordinates file."""

    dataset: Dataset | None
    batch: BatchResult | None


_NAME_COLUMNS = ("label", "word", "text", "name", "token", "title")
DISTINCT = 0.5           # a column names the points when more than this share of its values differ
MAX_COLOR_VALUES = 50    # the default colour: the first column with 2 to this many distinct values


def point_names(meta: pd.DataFrame | None, n: int) -> tuple[np.ndarray, str | None]:
    """Hover and picker names of the points, and the column they come from (None: row numbers).

    The most distinctive column names the points: among the columns whose values mostly differ (more
    than :data:`DISTINCT` of them), a text column before a numeric one, then a label-like name
    ("label", "word", ...), then the most distinct values. When no column is that distinctive (a
    Projector metadata.tsv of digit and parity: ten and two values), the names are "row i · digit 3",
    with the column of most distinct values, so that no two points share a name.
    """
    if meta is None or not len(meta.columns):
        return np.array([f"row {i}" for i in range(n)], dtype=object), None
    counts = {c: int(meta[c].nunique(dropna=True)) for c in meta.columns}
    distinct = [c for c in meta.columns if counts[c] > DISTINCT * n]

    def rank(item):
        pos, c = item
        text, named = not pd.api.types.is_numeric_dtype(meta[c]), str(c).lower() in _NAME_COLUMNS
        return (text, named, counts[c], -pos) if distinct else (counts[c], text, named, -pos)

    best = max(((i, c) for i, c in enumerate(meta.columns) if not distinct or c in distinct), key=rank)[1]
    values = meta[best].astype(str).to_numpy(dtype=object)
    if distinct:
        return values, best
    return np.array([f"row {i} · {best} {v}" for i, v in enumerate(values)], dtype=object), best


def default_color(ds: "Dataset") -> str:
    """The colour a data set starts with: its first column with 2 to :data:`MAX_COLOR_VALUES` distinct
    values, and values shared by several rows (a grouping, not a name: at most :data:`DISTINCT` of the
    rows distinct), else "(none)"."""
    meta, n = ds.meta, len(ds.labels)
    for c in ([] if meta is None else meta.columns):
        k = int(meta[c].nunique(dropna=True))
        if 2 <= k <= MAX_COLOR_VALUES and k <= DISTINCT * n:
            return str(c)
    return "(none)"


@st.cache_resource(show_spinner="Loading the built-in example…")
def example_dataset() -> Dataset:
    """The built-in MiniLM embeddings of words and short phrases."""
    df = pd.read_parquet(EXAMPLE)
    X = np.stack(df["vector"].to_numpy()).astype(np.float32)            # (n, 384)
    meta = df.drop(columns=["vector"]).reset_index(drop=True)
    return Dataset("example", "built-in example", X, meta, point_names(meta, len(X))[0],
                   "all-MiniLM-L6-v2 sentence embeddings (384 dims, unit length) of words and short phrases",
                   model=ModelRef("", "", BUNDLED_NAME))


def _from_embeddings(key: str, name: str, emb: lio.Embeddings) -> Dataset:
    meta = emb.labels
    if meta is not None:
        meta = meta.reset_index(drop=True)
    labels, column = point_names(meta, emb.vectors.shape[0])
    return Dataset(key, name, emb.vectors, meta, labels, emb.note, row_names=column is None)


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
    from ui import pca_texts, pca_tokens   # they build on this module's Dataset

    data_dir = os.environ.get("LA_LENS_DATA_DIR", "").strip()
    sources = [SRC_EXAMPLE, SRC_TEXTS, SRC_TOKENS, SRC_UPLOAD] + ([SRC_FOLDER] if data_dir else [])
    tokens = pca_tokens.source_label()
    source = st.radio("Data", sources, index=option_index(sources, query_param("data"), 0),
                      key="pca_source", horizontal=True, format_func=lambda s: tokens if s == SRC_TOKENS else s)
    choice = DataChoice(None, None)
    if source == SRC_TOKENS:
        choice = DataChoice(pca_tokens.choose_tokens(), None)
    elif source == SRC_TEXTS:
        choice = DataChoice(pca_texts.choose_texts(), None)
    elif source == SRC_UPLOAD:
        choice = _from_upload()
    elif source == SRC_FOLDER:
        choice = _from_folder(data_dir)
    if choice.dataset is None and choice.batch is None:
        return DataChoice(example_dataset(), None)
    return choice


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


@st.cache_resource(max_entries=4, show_spinner=False)
def _label_strings(key: str, _labels: np.ndarray) -> np.ndarray:
    """The labels as a fixed-width string array, made once per data set: comparing or searching it is
    a vectorised pass (under 15 ms for a million labels), where the object array costs a conversion
    each time (about 80 ms more)."""
    return np.asarray(_labels).astype(str)


@st.cache_data(max_entries=32, show_spinner=False)
def _rows_containing(key: str, text: str, _labels: np.ndarray) -> np.ndarray:
    """The first 500 rows whose label contains ``text``."""
    return np.flatnonzero(np.strings.find(_label_strings(key, _labels), text) >= 0)[:500]


def find_row(ds: Dataset, label: str) -> int | None:
    """The first row with this label, or None."""
    if label is None:
        return None
    hits = np.flatnonzero(_label_strings(ds.key, ds.labels) == str(label))
    return int(hits[0]) if hits.size else None


def close_labels(ds: Dataset, word: str, k: int = 5) -> list[str]:
    """Up to ``k`` labels like ``word``: those containing it (any case), shortest first, else near spellings."""
    labels = _label_strings(ds.key, ds.labels)
    hits = np.flatnonzero(np.strings.find(np.strings.lower(labels), word.lower()) >= 0)
    if hits.size:
        return [str(v) for v in sorted(set(labels[hits].tolist()), key=lambda v: (len(v), v))[:k]]
    return difflib.get_close_matches(word, list(dict.fromkeys(labels[:50_000].tolist())), n=k, cutoff=0.7)


def point_picker(ds: Dataset, label: str, key: str, default_label: str | None = None, container=st) -> int | None:
    """Pick a row by label: a selectbox of every label for small data, search-then-select above.

    ``default_label`` (e.g. from the URL) is used only when this data has a point of that name."""
    n = len(ds.labels)
    default = find_row(ds, default_label) if default_label else None
    if n <= SELECT_ALL_BELOW:
        options = list(range(n))
    else:
        q = container.text_input(f"{label}: search labels", value=default_label if default is not None else "",
                                 key=f"{key}_search", placeholder="type part of a label")
        hits = _rows_containing(ds.key, q, ds.labels) if q else np.arange(min(n, 200))
        options = hits[:500].tolist()
        if not options:
            container.warning(f"No label contains {q!r}.")
            return None
    idx = options.index(default) if default in options else 0
    if key in st.session_state and st.session_state[key] in options:
        idx = options.index(st.session_state[key])       # set by a plot click: keep it, no clash with index
    return container.selectbox(label, options, index=idx, key=key, format_func=lambda i: str(ds.labels[i]))


def pick_group(ds: Dataset, label: str, key: str, defaults: list[str], container=st) -> list[int]:
    """Anchor rows, typed as labels separated by commas; each must match a label exactly.

    A typed word adds its own row and nothing else (a list that filters as you type would add every
    fuzzy match on Enter); a word that names no row adds nothing and gets a message with the labels
    closest to it. A label that itself holds commas is matched when it is the whole text."""
    text = container.text_input(f"{label} (labels, comma-separated)", ", ".join(defaults), key=key,
                                help="Type labels exactly as they are shown (case included), separated by "
                                     "commas; Enter applies them.")
    whole = find_row(ds, text.strip()) if "," in text else None
    words = [text.strip()] if whole is not None else [w.strip() for w in text.split(",") if w.strip()]
    out = []
    for word in words:
        i = find_row(ds, word)
        if i is None:
            near = close_labels(ds, word)
            container.warning(f"No label is exactly {word!r}, so nothing was added for it."
                              + (f" Labels like it: {', '.join(near)}." if near else ""))
        elif i not in out:
            out.append(i)
    return out


# ================================================================================ a new data set starts afresh
VIEW_PARAMS = ("point", "color", "x", "y", "z", "dims")   # URL entries that describe one data set's view


def data_suffix(ds: Dataset) -> str:
    """Suffix of the keys of widgets whose options are this data's labels or columns: with a fixed key the
    browser can keep showing the previous file's option text when only the options change."""
    return "" if ds.key == "example" else "@" + hashlib.md5(ds.key.encode()).hexdigest()[:8]


def forget_other_data(ds: Dataset) -> bool:
    """When the data set differs from the one shown last in this session, drop the old view: the selected
    point, colour, axes and 2D/3D choice, from the URL and from the widgets. A shared link's view holds
    on the first run. Returns whether anything was dropped."""
    last = st.session_state.get("pca_shown_data")
    st.session_state["pca_shown_data"] = ds.key
    if last is None or last == ds.key:
        return False
    for name in VIEW_PARAMS:
        if name in st.query_params:
            del st.query_params[name]
    suffix = data_suffix(ds)
    for key in ("pca_x", "pca_y", "pca_z", "pca_dims", f"pca_point{suffix}", f"pca_point{suffix}_search",
                f"pca_color{suffix}"):
        st.session_state.pop(key, None)
    return True
