"""UI helpers shared by the pages (streamlit only; compute lives in la_core, plots in figures)."""
from __future__ import annotations

import plotly.graph_objects as go
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


def cached_figure(build, *args, **kwargs):
    """``build(*args, **kwargs)``, built once per distinct arguments and kept for the server's life.

    For figures with many precomputed animation frames (Plotly spends about 1 ms of Python per
    frame trace building them): a slider that does not change their inputs then reruns without
    rebuilding them. Arguments must be hashable by Streamlit (numbers, strings, arrays). The
    figure is shared between sessions, so callers must not modify it.

    A Plotly figure asked for a second time is replaced by a copy built from its own dict, whose
    arrays are already base64-encoded: ``st.plotly_chart`` encodes every array of every frame
    again on each rerun (about 40 ms for the 73-frame projection animation), the copy takes 7 ms.
    Making the copy costs about 0.1 s once, so a figure used only once (its inputs change with
    every press) is not copied.
    """
    name = f"{build.__code__.co_filename}:{build.__qualname__}"
    entry = _cached_figure(name, build, *args, **kwargs)
    entry["uses"] += 1
    if entry["uses"] == 2 and isinstance(entry["figure"], go.Figure):
        entry["figure"] = go.Figure(entry["figure"].to_dict())
    return entry["figure"]


@st.cache_resource(max_entries=64, show_spinner=False)
def _cached_figure(name: str, _build, *args, **kwargs) -> dict:
    return {"figure": _build(*args, **kwargs), "uses": 0}
