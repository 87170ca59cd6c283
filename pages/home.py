"""Home page: what LA Lens is, a card per topic page, the device and library versions."""
import plotly
import streamlit as st
import torch

from la_core.device import device_label, get_device
from page_registry import TOPICS

st.title("LA Lens")
st.markdown(
    "A language model is a long chain of matrix products. Every token is a point in a space of "
    "hundreds of dimensions, every layer moves those points with a matrix, and attention decides "
    "what to mix by comparing directions. **LA Lens** lets you drag the knobs of that linear "
    "algebra and watch it happen: change an angle, a rank or a temperature, upload your own "
    "embeddings, and look inside a real small model (all-MiniLM-L6-v2) running on your machine."
)

cols = st.columns(3)
for i, topic in enumerate(TOPICS):
    with cols[i % len(cols)].container(border=True):
        st.page_link(topic.path, label=topic.title, icon=topic.icon)
        st.caption(topic.summary)

st.divider()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Compute device", device_label(get_device()))
c2.metric("torch", torch.__version__)
c3.metric("streamlit", st.__version__)
c4.metric("plotly", plotly.__version__)
st.caption("Set `LA_DEVICE=cpu` (or `cuda`, `mps`) before `make run` to choose the device yourself.")
