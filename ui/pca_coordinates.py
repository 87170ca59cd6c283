"""The PCA page's view of a coordinates file from the batch job (``python -m la_core.pca_batch``): the
job's scree plot and a sample of its points, with no fit on the page."""
from __future__ import annotations

import numpy as np
import streamlit as st

from figures import pca as fp
from la_core.neighbors import sample_indices
from la_core.pca_batch import BatchResult
from ui.chart import chart

__all__ = ["render_batch"]


def render_batch(res: BatchResult, display_cap: int, control_px: int) -> None:
    """A coordinates file written by the batch job: its scree and a seeded sample of at most ``display_cap``
    of its points (controls in a grid of columns at least ``control_px`` wide)."""
    meta, coords = res.meta, res.coords
    pcs = res.pc_columns
    st.success(f"This is a coordinates file from the batch PCA job: {meta.get('n_samples', len(coords)):,} rows × "
               f"{meta.get('n_features', '?')} features, {len(pcs)} components "
               f"({'centred' if meta.get('center', True) else 'uncentred'}). Showing its scree and points.")
    chart(fp.scree(meta["explained_variance_ratio"]), key="pca_batch_scree")
    if len(pcs) < 2:
        st.info("The file has a single component; nothing to scatter.")
        return
    idx = sample_indices(len(coords), display_cap, seed=0)
    st.caption(f"Showing {len(idx):,} of {len(coords):,} points (seeded uniform sample).")
    others = [c for c in coords.columns if c not in pcs]
    g = st.grid(3, min_column_width=control_px)
    x = g.selectbox("x axis", pcs, index=0, key="pca_batch_x")
    y = g.selectbox("y axis", pcs, index=1, key="pca_batch_y")
    col = g.selectbox("Colour by", ["(none)"] + others, key="pca_batch_color")
    sub = coords.iloc[idx]
    labels = sub[others[0]].astype(str).to_numpy() if others else None
    fig = fp.scatter(sub[[x, y]].to_numpy(np.float32), labels=labels,
                     color=None if col == "(none)" else sub[col].to_numpy(), color_name="" if col == "(none)" else col,
                     axis_titles=(x, y), index=idx, title=f"{x} vs {y}")
    chart(fig, key="pca_batch_scatter")
