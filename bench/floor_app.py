"""The reference for the browser benchmark: the smallest Streamlit page with one slider and one
small Plotly chart (50 points). Its latency is what Streamlit, the websocket and a Plotly redraw
cost on this machine before any LA Lens work."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

v = st.slider("value", 0, 100, 10)
x = np.linspace(0, 1, 50, dtype=np.float32)                            # (50,)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=(x * v).astype(np.float32))), width="stretch", key="floor")
