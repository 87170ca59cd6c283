"""The PCA page's la_core calls, cached: the exact PCA of every row, the trustworthiness of a view, and
neighbour and analogy searches run once for the largest k their sliders offer."""
from __future__ import annotations

import numpy as np
import streamlit as st

from la_core import neighbors as ln
from la_core.pca import PCA

__all__ = ["MAX_PCS", "TRUST_ROWS", "NEIGHBOURS_MAX", "ANALOGY_MAX", "fit_pca", "trust", "neighbours", "analogy_rows"]

MAX_PCS = 30            # components computed and offered (scree shows them all)
TRUST_ROWS = 1500       # rows sampled for trustworthiness


@st.cache_resource(max_entries=6, show_spinner=False)
def fit_pca(key: str, center: bool, _X: np.ndarray) -> tuple[PCA, np.ndarray]:
    """Exact PCA of every row; returns the fitted model and the coordinates (n, k) float32 on the first k axes."""
    n, d = _X.shape
    model = PCA(min(MAX_PCS, n, d), center=center).fit(_X)
    return model, model.transform(_X)


@st.cache_data(max_entries=32, show_spinner="Scoring how faithful this view is (trustworthiness)…")
def trust(key: str, center: bool, comps: tuple, metric: str, _X, _Z) -> ln.Trustworthiness:
    """Trustworthiness of the view on components ``comps`` (a sample of :data:`TRUST_ROWS` rows)."""
    return ln.view_trustworthiness(_X, _Z[:, list(comps)], n_neighbors=10, max_rows=TRUST_ROWS, metric=metric)


# The largest k the Neighbours and Top k sliders offer. Each search is run once for that many rows and
# cached: the best k are the first k of the best 50 (ties go to the lower row in both), so moving a k
# slider never scans the rows again.
NEIGHBOURS_MAX, ANALOGY_MAX = 50, 20


@st.cache_data(max_entries=64, show_spinner=False)
def _neighbours_upto(key: str, row: int, metric: str, _X) -> ln.Neighbors:
    return ln.nearest_neighbors(_X, row, k=NEIGHBOURS_MAX, metric=metric)


def neighbours(key: str, row: int, k: int, metric: str, _X) -> ln.Neighbors:
    """The k (at most :data:`NEIGHBOURS_MAX`) nearest neighbours of a row in the full space."""
    idx, score = _neighbours_upto(key, row, metric, _X)
    return ln.Neighbors(idx[:k], score[:k])


@st.cache_data(max_entries=64, show_spinner=False)
def _analogy_upto(key: str, a: int, b: int, c: int, _X) -> ln.Neighbors:
    return ln.analogy(_X, positive=[a, c], negative=[b], k=ANALOGY_MAX)


def analogy_rows(key: str, a: int, b: int, c: int, k: int, _X) -> ln.Neighbors:
    """The k (at most :data:`ANALOGY_MAX`) rows closest to A − B + C."""
    idx, score = _analogy_upto(key, a, b, c, _X)
    return ln.Neighbors(idx[:k], score[:k])
