"""Search by meaning on the PCA page: a query embedded with the model that made the vectors, its nearest
rows (cosine, every row) listed and ringed, and the query drawn as a star where the PCA puts it.

Search is offered only when LA Lens has that model: the built-in example (MiniLM), texts embedded on
the page (the model used), uploads and data-folder files when the user says which model made them. It
is off for token embeddings (rows of the input table, not sentence embeddings) and when the model's
dimension differs from the vectors'.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from la_core import neighbors as ln
from ui.models import MODELS_DIR_ENV, current_model, current_model_name, open_model
from ui.pca_data import Dataset, ModelRef

__all__ = ["SearchHits", "search_model", "embed_query", "search_box"]


class SearchHits(NamedTuple):
    """The nearest rows to a query."""

    query: str
    rows: np.ndarray       # (k,) int64, closest first
    scores: np.ndarray     # (k,) cosine similarity to the query
    vector: np.ndarray     # (d,) the query's embedding
    model: str             # the model's name


def search_model(ds: Dataset, container=st):
    """(model, None) when the vectors' model is known and fits, else (None, why search is off)."""
    if ds.key.startswith("tokens:"):
        return None, ("Search by meaning is off for token embeddings: each row is one token's entry in the "
                      "model's input table, before any layer, while a query is embedded as a sentence (mean of "
                      "the last layer's states), a different space.")
    ref = ds.model
    if ref is None:
        import os

        model = current_model()
        folder = current_model_name()
        mine = container.checkbox(f"These vectors were made by {model.name}", key="pca_search_made_by",
                                  help="Tick it when the uploaded vectors are this model's sentence embeddings "
                                       "(the sidebar picks the model): queries are then embedded with it.")
        if not mine:
            return None, (f"Search by meaning needs the model that made the vectors: tick the box if it was "
                          f"{model.name}, or pick it in the sidebar.")
        ref = ModelRef(os.environ.get(MODELS_DIR_ENV, "").strip() if folder else "", folder, model.name)
    try:
        model = open_model(ref.root, ref.folder)
    except ValueError as exc:
        return None, f"Search by meaning is off: the model {ref.name!r} cannot be opened ({exc})."
    d = ds.X.shape[1]
    if model.d_model != d:
        return None, (f"Search by meaning is off: {model.name} makes {model.d_model}-dimensional embeddings, "
                      f"these vectors have {d} dimensions, so a query cannot be compared with them.")
    return model, None


@st.cache_data(max_entries=64, show_spinner="Embedding the query…")
def embed_query(model_key: str, query: str, _model) -> np.ndarray:
    """The query's embedding (d,) float32 by ``_model`` (cached per model and query)."""
    return _model.embed([query])[0]


def search_box(ds: Dataset, k: int, container=st) -> SearchHits | None:
    """The query box and, for a query, its k nearest rows by cosine similarity (None without a query)."""
    model, why = search_model(ds, container)
    if model is None:
        container.caption(why)
        return None
    query = container.text_input(f"Search by meaning (embedded with {model.name})", key="pca_search_query",
                                 placeholder="type a word or a sentence",
                                 help="The query is embedded with the same model as the vectors; its nearest "
                                      "rows (cosine similarity, every row) are ringed, and the query is drawn as "
                                      "a star where the PCA projects it.").strip()
    if not query:
        return None
    try:
        q = embed_query(f"{model.name}@{model.path}", query, model)
        found = ln.nearest_neighbors(ds.X, q, k=min(k, ds.X.shape[0]), metric="cosine")
    except ValueError as exc:
        container.error(f"Search failed: {exc}")
        return None
    return SearchHits(query, np.asarray(found.indices, dtype=np.int64), np.asarray(found.scores), q, model.name)
