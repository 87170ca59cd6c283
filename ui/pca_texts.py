"""The PCA page's "Texts" source: pasted lines or an uploaded table, embedded with the chosen model.

:func:`choose_texts` draws the widgets (paste or upload, the text column), reads the texts with
:func:`la_core.texts.read_texts`, embeds them with :func:`la_core.texts.embed_texts` in batches under a
progress bar with the time left, and returns a :class:`ui.pca_data.Dataset` whose ``model`` names the
model that made the vectors (the page's search by meaning embeds queries with it). Embeddings are
cached by :func:`la_core.texts.content_key` (texts and model), so reruns and sliders never embed again.
Bad input shows the reader's message and keeps the last texts that embedded.
:func:`downloads` offers the vectors as the Projector's pair (.npy + metadata.tsv) and as Parquet.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import streamlit as st

from la_core import texts as lt
from ui.models import MODELS_DIR_ENV, current_model, current_model_name
from ui.pca_data import Dataset, ModelRef, point_names

__all__ = ["MAX_TEXTS", "DEFAULT_LINES", "choose_texts", "embed_cached", "texts_dataset", "downloads",
           "projector_tsv", "vectors_parquet"]

MAX_TEXTS = 20_000       # texts embedded at once on this page (the reader's own limit is larger)
LABEL_CHARS = 80         # hover and picker names: a text cut to this many characters
DEFAULT_LINES = "\n".join([
    "The cat sat on the mat.", "A kitten is sleeping on the rug.", "Dogs love to play fetch in the park.",
    "My puppy chased the ball across the grass.", "The stock market fell sharply today.",
    "Investors worry about rising interest rates.", "The central bank raised rates again.",
    "She baked a chocolate cake for the party.", "Fresh bread smells wonderful in the morning.",
    "He cooked pasta with tomato sauce.", "The team won the football match in extra time.",
    "The striker scored two goals in the final.", "Rain is expected over the weekend.",
    "A storm will bring strong winds tonight.", "It will be sunny and warm tomorrow."])
_LAST = "pca_texts_last_good"


# The rate is bench/RESULTS.md's (texts section, measured 2026-12-07); update both together.
EMBED_HELP = ("Texts are embedded by the model chosen in the sidebar, in batches of 128, longest first, with a "
              "progress bar and the time left. MiniLM embeds about 650 short texts (3–14 words) a second on a "
              "2-core CPU, a little faster than sentence-transformers' encode of the same texts, so 100,000 short "
              "texts take about 2½ minutes; a GPU is many times faster. The vectors are cached by content and "
              "model: sliders and reruns never embed again.")


@st.cache_data(max_entries=8, show_spinner=False)
def embed_cached(key: str, model_name: str, _model, _texts: list[str]) -> np.ndarray:
    """The embeddings of ``_texts`` by ``_model`` (n, d) float32, cached by ``key`` (content_key).

    The progress bar lives inside the cached call (Streamlit replays a cached call's elements, and
    refuses ones drawn into a block made outside it); it is emptied at the end, so a cache hit shows
    nothing."""
    total = len(_texts)
    bar = st.progress(0.0, text=f"Embedding {total:,} texts with {model_name}…")

    def update(done: int, total: int, left) -> None:
        eta = "" if left is None else f", about {left:.0f} s left" if left >= 1 else ", under a second left"
        bar.progress(min(1.0, done / max(total, 1)), text=f"Embedding with {model_name}: {done:,} of {total:,} "
                                                          f"texts{eta}")

    X = lt.embed_texts(_model, _texts, progress=update)
    bar.empty()
    return X


def texts_dataset(table: lt.TextTable, model, ref: ModelRef) -> Dataset:
    """Embed ``table``'s texts with ``model`` (cached by content) and build the page's data set."""
    key = lt.content_key(table.texts, model.name + "@" + model.path)
    X = embed_cached(key, model.name, model, table.texts)
    meta = pd.concat([pd.DataFrame({table.column: table.texts}), table.meta], axis=1)
    labels = np.array([t if len(t) <= LABEL_CHARS else t[:LABEL_CHARS - 1] + "…" for t in table.texts], dtype=object)
    if len(set(labels.tolist())) < len(labels):
        labels = point_names(meta, len(labels))[0] if table.meta.shape[1] else labels
    note = f"{model.name} sentence embeddings ({X.shape[1]} dims) of {len(table):,} texts from column {table.column!r}"
    return Dataset(f"texts:{key}", "texts", X, meta, labels, note, model=ref)


def _read(paste: bool):
    """The TextTable of the pasted lines or the uploaded file (ValueError on bad input), or None."""
    if paste:
        text = st.text_area("Texts, one per line", DEFAULT_LINES, height=180, key="pca_texts_paste",
                            help="Each non-empty line is one text; Ctrl+Enter (or leaving the box) embeds them.")
        return lt.read_texts(text, None, max_rows=MAX_TEXTS)
    up = st.file_uploader("Texts: .txt (one per line), .csv / .tsv (UTF-8, a header row), .parquet or .jsonl",
                          key="pca_texts_file", help="Any file is accepted here; the reader says what is wrong "
                          "with one it cannot read.")
    if up is None:
        st.info("Upload a file of texts; until then the last texts (or the built-in example) are shown.")
        return None
    data = up.getvalue()
    columns = lt.text_columns(data, up.name)
    column = None
    if len(columns) > 1:
        column = st.selectbox("Text column (the other columns become metadata: colour, hover)", columns,
                              key=f"pca_texts_column@{up.file_id}")
    return lt.read_texts(data, up.name, column=column, max_rows=MAX_TEXTS)


def choose_texts() -> Dataset | None:
    """The Texts source: its widgets, the reading and the embedding; None until something embedded."""
    model = current_model()
    folder = current_model_name()
    ref = ModelRef(os.environ.get(MODELS_DIR_ENV, "").strip() if folder else "", folder, model.name)
    how = st.radio("Texts from", ["Paste lines", "Upload a file"], horizontal=True, key="pca_texts_how",
                   help=EMBED_HELP)
    try:
        table = _read(how == "Paste lines")
        if table is None:
            return st.session_state.get(_LAST)
        if table.note:
            st.info(table.note)
        ds = texts_dataset(table, model, ref)
    except ValueError as exc:
        st.error(str(exc))
        last = st.session_state.get(_LAST)
        if last is not None:
            st.caption(f"Still showing the last texts that embedded ({len(last.labels):,} texts).")
        return last
    st.session_state[_LAST] = ds
    downloads(ds)
    return ds


# ================================================================================ downloads
def _cell(v) -> str:
    return " ".join(str(v).split())         # tabs and new lines would break the TSV's rows


def projector_tsv(meta: pd.DataFrame) -> bytes:
    """The TensorFlow Projector's metadata.tsv: one column without a header, several with one."""
    clean = meta.apply(lambda col: col.map(_cell))
    if clean.shape[1] == 1:
        return ("\n".join(clean.iloc[:, 0].tolist()) + "\n").encode("utf-8")
    return clean.to_csv(sep="\t", index=False, lineterminator="\n").encode("utf-8")


def vectors_parquet(X: np.ndarray, meta: pd.DataFrame) -> bytes:
    """Parquet: a ``vector`` column of fixed-size float32 lists, then the metadata columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, d = X.shape
    vec = pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(X, np.float32).ravel()), d)
    table = pa.Table.from_pandas(meta.reset_index(drop=True), preserve_index=False)
    table = table.append_column("vector", vec)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _npy(X: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(X, np.float32), allow_pickle=False)
    return buf.getvalue()


def downloads(ds: Dataset) -> None:
    """Download buttons of the embeddings: .npy + metadata.tsv (the Projector's pair) and Parquet."""
    c = st.columns(3)
    c[0].download_button("Vectors (.npy)", lambda: _npy(ds.X), file_name="texts_vectors.npy", key="pca_texts_npy",
                         mime="application/octet-stream", on_click="ignore", icon=":material/download:")
    c[1].download_button("Metadata (.tsv)", lambda: projector_tsv(ds.meta), file_name="texts_metadata.tsv",
                         key="pca_texts_tsv", mime="text/tab-separated-values", on_click="ignore",
                         icon=":material/download:")
    c[2].download_button("Vectors + metadata (.parquet)", lambda: vectors_parquet(ds.X, ds.meta),
                         file_name="texts_embeddings.parquet", key="pca_texts_parquet",
                         mime="application/octet-stream", on_click="ignore", icon=":material/download:")
    st.caption("The .npy and metadata.tsv pair loads into the TensorFlow Embedding Projector (projector.tensorflow.org)"
               " and into this page's upload; the Parquet file holds the vectors as a list column with the metadata.")
