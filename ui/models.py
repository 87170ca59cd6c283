"""The real model, cached for the server's life, for the pages that use it (attention, SVD, geometry)."""
from __future__ import annotations

import streamlit as st

from la_core import models

__all__ = ["minilm"]


@st.cache_resource(show_spinner="Opening all-MiniLM-L6-v2 (offline)…")
def minilm() -> models.Model:
    """The bundled model's handle, opened once per server process.

    Opening reads the config, the tokenizer and the safetensors headers only: weight views read
    single matrices from the memory-mapped file, and the torch module is built on the first
    attention or embedding call (its heap is frozen at the end of that run:
    ui.runtime.freeze_long_lived)."""
    return models.load_model()
