"""The second reference for the browser benchmark: the smallest page built the way LA Lens pages are:
one slider and one 50-point chart inside ``st.fragment``, the chart drawn by LA Lens's chart component
(ui/chart.py, updated in place with Plotly.react). Its latency is what a fragment rerun and a
chart update cost on this machine; what a page takes beyond it is that page's own elements and charts.

The harness (bench/bench_browser.py) links bench/static to the app's static/ folder, where the chart
component's scripts are served from.
"""
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ui import runtime  # noqa: E402
from ui.chart import chart  # noqa: E402

runtime.setup()            # as app.py does: the chart component's assets served from static/


@st.fragment
def section():
    v = st.slider("value", 0, 100, 10)
    x = np.linspace(0, 1, 50, dtype=np.float32)                        # (50,)
    chart(go.Figure(go.Scatter(x=x, y=(x * v).astype(np.float32))), key="floor")


section()
