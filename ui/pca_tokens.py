"""The chosen model's token-embedding matrix as a data set of the PCA page.

Every row of the input embedding (vocabulary × d_model) is one token of the tokenizer: the page shows
the geometry the model starts from before any layer has run. The matrix is read from the model's
safetensors file only when this data set is chosen (``Model.weight``), and kept per model.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

from la_core import models as lm
from ui.models import current_model, current_model_name
from ui.pca_data import Dataset, point_names

__all__ = ["MAX_VALUES", "TOKEN_KINDS", "source_label", "token_kinds", "token_dataset", "choose_tokens"]

MAX_VALUES = 160_000_000   # vocabulary × d_model read at most (float32: 640 MB); larger matrices are refused
TOKEN_KINDS = ("special", "number", "punctuation", "non-ASCII", "word start", "word piece")
_SPECIAL = re.compile(r"\[[A-Za-z]+\d*\]|<\|[^|]*\|>|<[A-Za-z/][^<>\s]*>")


def source_label() -> str:
    """The data radio's text for this source: the sidebar model's name."""
    return f"Token embeddings of {current_model_name() or lm.BUNDLED_NAME}"


def token_kinds(tokens, special=()) -> np.ndarray:
    """A coarse kind of each token string, one of :data:`TOKEN_KINDS`: special tokens, numbers,
    punctuation, non-ASCII text, and word starts versus pieces inside a word (WordPiece marks the
    latter with ``##``; byte-level BPE and SentencePiece mark word starts with ``Ġ`` / ``▁``)."""
    special = set(special)
    wordpiece = any(t.startswith("##") for t in tokens)
    out = []
    for t in tokens:
        core = t[2:] if wordpiece and t.startswith("##") else t.lstrip("Ġ▁")
        start = not t.startswith("##") if wordpiece else t[:1] in ("Ġ", "▁")
        if t in special or _SPECIAL.fullmatch(t):
            out.append("special")
        elif core.isdigit():
            out.append("number")
        elif core and not any(ch.isalnum() for ch in core):
            out.append("punctuation")
        elif not core.isascii():
            out.append("non-ASCII")
        else:
            out.append("word start" if start else "word piece")
    return np.asarray(out, dtype=object)


def _token_labels(tokenizer, n: int) -> list[str]:
    """The tokenizer's string for each row id; rows past its vocabulary (padded tables) and repeats get
    their id, so every label names one row."""
    raw = tokenizer.convert_ids_to_tokens(list(range(min(n, len(tokenizer)))))
    labels = [t if isinstance(t, str) and t != "" else f"<id {i}>" for i, t in enumerate(raw)]
    labels += [f"<id {i}>" for i in range(len(labels), n)]
    seen: set[str] = set()
    for i, t in enumerate(labels):
        if t in seen:
            labels[i] = f"{t} (id {i})"
        seen.add(labels[i])
    return labels


@st.cache_resource(max_entries=2, show_spinner="Reading the token-embedding matrix from the model's weights…")
def token_dataset(path: str, _model) -> Dataset:
    """The token-embedding matrix of the model at ``path`` as a :class:`Dataset` (cached per model)."""
    name = _model.token_embedding_name()
    W = _model.weight(name)                                             # (vocab, d_model) float32
    if W.ndim != 2 or W.shape[1] != _model.d_model:
        raise ValueError(f"{_model.name}: {name} has shape {W.shape}, not (vocabulary, {_model.d_model}).")
    n = W.shape[0]
    labels = _token_labels(_model.tokenizer, n)
    meta = pd.DataFrame({"token": labels, "id": np.arange(n),
                         "kind": token_kinds(labels, _model.tokenizer.all_special_tokens)})
    note = (f"the rows of {name}: one vector per token of {_model.name}'s vocabulary, before any layer "
            "(labels from its tokenizer)")
    return Dataset(f"tokens:{path}", f"Token embeddings of {_model.name}", np.ascontiguousarray(W, np.float32),
                   meta, point_names(meta, n)[0], note)


def choose_tokens() -> Dataset | None:
    """The sidebar model's token embeddings, or None (with a message) when they cannot be shown."""
    model = current_model()
    try:
        rows, cols = model.weight_shape(model.token_embedding_name())
        if rows * cols > MAX_VALUES:          # checked before reading: the file's header gives the table's size
            raise ValueError(f"its token-embedding matrix is {rows:,} × {cols:,}, more than this page reads "
                             f"({MAX_VALUES:,} numbers).")
        return token_dataset(model.path, model)
    except ValueError as exc:
        st.error(f"The token embeddings of {model.name} cannot be shown: {exc} Showing the built-in example.")
        return None
