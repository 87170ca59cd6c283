"""The model picker and the opened models, cached for the server's life.

The sidebar's picker (drawn by app.py on every page) offers the bundled all-MiniLM-L6-v2 and every
model folder under ``LA_LENS_MODELS_DIR`` (the same containment rules as the data folder: no
``..``, no links out). The choice is kept in the URL (``?model=...``) so a link reopens it.
Pages ask :func:`current_model` for the chosen handle, or :func:`minilm` for the bundled one.
"""
from __future__ import annotations

import os

import streamlit as st

from la_core import models

__all__ = ["MODELS_DIR_ENV", "BUNDLED_LABEL", "model_folders", "open_model", "minilm", "model_picker",
           "current_model", "current_model_name"]

MODELS_DIR_ENV = "LA_LENS_MODELS_DIR"
BUNDLED_LABEL = f"{models.BUNDLED_NAME} (bundled)"
_KEY = "la_model"          # session state: the chosen folder name ("" = bundled)
_QUERY = "model"           # URL parameter


def _root() -> str:
    return os.environ.get(MODELS_DIR_ENV, "").strip()


def model_folders() -> tuple[list[str], str | None]:
    """Model folder names under ``LA_LENS_MODELS_DIR`` and a message when it cannot be listed."""
    root = _root()
    if not root:
        return [], None
    try:
        return models.list_model_folders(root), None
    except (OSError, ValueError) as exc:
        return [], f"Cannot list {MODELS_DIR_ENV}={root!r}: {exc}"


@st.cache_resource(max_entries=4, show_spinner="Opening the model (config, tokenizer, weight headers)…")
def open_model(root: str, name: str) -> models.Model:
    """The handle of model folder ``name`` under ``root`` (``name == ""``: the bundled MiniLM).

    Opening reads the config, the tokenizer and the safetensors headers only: weight views read
    single matrices from the memory-mapped files, and the torch module is built on the first
    attention or embedding call (its heap is frozen at the end of that run:
    ui.runtime.freeze_long_lived)."""
    if not name:
        return models.load_model()
    return models.load_model(models.resolve_model_folder(root, name))


def minilm() -> models.Model:
    """The bundled model's handle."""
    return open_model("", "")


def model_picker() -> None:
    """The sidebar's model choice (bundled MiniLM or a folder under LA_LENS_MODELS_DIR), kept in the URL."""
    folders, problem = model_folders()
    if problem:
        st.sidebar.warning(problem)
    options = ["", *folders]
    if _KEY not in st.session_state:
        wanted = st.query_params.get(_QUERY, "")
        st.session_state[_KEY] = wanted if wanted in options else ""
        if wanted and wanted not in options:
            st.sidebar.warning(f"Model {wanted!r} from the link is not in {MODELS_DIR_ENV}; "
                               f"showing {BUNDLED_LABEL}.")
    elif st.session_state[_KEY] not in options:
        st.session_state[_KEY] = ""
    st.sidebar.selectbox("Model", options, key=_KEY, format_func=lambda n: n or BUNDLED_LABEL,
                         help=f"The bundled model, or a Hugging Face folder (config.json, *.safetensors, "
                              f"tokenizer) under the folder named by {MODELS_DIR_ENV}. Supported: "
                              f"{', '.join(models.FAMILIES)}.")
    if st.session_state[_KEY]:
        st.query_params[_QUERY] = st.session_state[_KEY]
    elif _QUERY in st.query_params:
        del st.query_params[_QUERY]


def current_model_name() -> str:
    """The chosen folder name ("" for the bundled model)."""
    return st.session_state.get(_KEY, "") or ""


def current_model() -> models.Model:
    """The chosen model's handle; on a folder that cannot be opened, says why and gives the bundled one."""
    name = current_model_name()
    try:
        return open_model(_root() if name else "", name)
    except ValueError as exc:
        st.error(f"Model {name!r} cannot be opened: {exc} Showing {BUNDLED_LABEL} instead.")
        return minilm()
