"""UI helpers shared by the pages (streamlit only; compute lives in la_core, plots in figures)."""
from __future__ import annotations

import streamlit as st

from la_core import models


@st.cache_resource(show_spinner="Loading all-MiniLM-L6-v2 (about 90 MB, offline)…")
def minilm() -> models.MiniLM:
    """The real model, loaded once per server process."""
    return models.load_minilm()


def chart(fig, key: str | None = None, **kwargs):
    """Render a Plotly figure full width with the PNG download button in the modebar."""
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
    return st.plotly_chart(fig, width="stretch", config=config, key=key, **kwargs)
