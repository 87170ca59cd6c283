"""The real model, cached for the server's life, for the pages that use it (attention, geometry)."""
from __future__ import annotations

import streamlit as st

from la_core import models

__all__ = ["minilm"]


@st.cache_resource(show_spinner="Loading all-MiniLM-L6-v2 (about 90 MB, offline)…")
def minilm() -> models.MiniLM:
    """The real model, loaded once per server process."""
    return models.load_minilm()          # its heap is frozen at the end of the run: ui.runtime.freeze_long_lived
