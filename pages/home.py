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

# three cards a row on a wide window, fewer as it narrows: a page link is cut, not wrapped, when its card
# is narrower than its title ("Projections & linear maps" needs about 240 px)
cards = st.grid(3, min_column_width=260, key="home_cards")
for topic in TOPICS:
    with cards.cell().container(border=True, height="stretch"):
        st.page_link(topic.path, label=topic.title, icon=topic.icon)
        st.caption(topic.summary)

st.divider()
with st.container(horizontal=True, gap="medium", key="home_versions"):     # a row that wraps: values stay whole
    st.metric("Compute device", device_label(get_device()), width="content")
    st.metric("torch", torch.__version__, width="content")
    st.metric("streamlit", st.__version__, width="content")
    st.metric("plotly", plotly.__version__, width="content")
st.caption("Set `LA_DEVICE=cpu` (or `cuda`, `mps`) before `make run` to choose the device yourself.")
