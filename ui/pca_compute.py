"""The PCA page's la_core calls, cached: the exact PCA of every row, the trustworthiness of a view, and
neighbour and analogy searches run once for the largest k their sliders offer."""
from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from la_core import neighbors as ln
from la_core.pca import PCA

__all__ = ["Coordinates", "MAX_PCS", "TRUST_ROWS", "NEIGHBOURS_MAX", "ANALOGY_MAX", "fit_pca", "trust", "neighbours", "analogy_rows"]

MAX_PCS = 30            # components computed and offered (scree shows them all)
TRUST_ROWS = 1500       # rows sampled for trustworthiness


class Coordinates:
    """Every row's coordinates on the PCA's axes, each axis projected the first time a view needs it.

    A view shows two or three of the k axes; projecting every row on all k of them first cost a million
    rows 0.3 s in the first view, two of them about a third of that (the pass over X is the same, the
    product k/2 times smaller). ``on(axes)`` returns the (n, len(axes)) float32 columns; the last few
    views asked for are kept, so the page's several uses of one view in a run share one array.
    """

    VIEWS = 4

    def __init__(self, model: PCA, X: np.ndarray):
        self._model, self._X = model, X
        self._cols: dict[int, np.ndarray] = {}
        self._views: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()              # sessions share the cached object
        self.shape = (X.shape[0], model.n_components_)

    def on(self, axes) -> np.ndarray:
        """Coordinates of every row on ``axes`` (component indices), shape (n, len(axes)), float32."""
        axes = tuple(int(a) for a in axes)
        with self._lock:
            if axes in self._views:
                return self._views[axes]
            missing = [a for a in dict.fromkeys(axes) if a not in self._cols]
            if missing:
                Y = self._model.transform(self._X, axes=missing)             # (n, len(missing))
                self._cols.update({a: np.ascontiguousarray(Y[:, j]) for j, a in enumerate(missing)})
            out = np.stack([self._cols[a] for a in axes], 1)                 # (n, len(axes))
            if len(axes) <= 3:                 # views are kept; an export's k columns are built when asked
                if len(self._views) >= self.VIEWS:
                    self._views.pop(next(iter(self._views)))
                self._views[axes] = out
            return out


@st.cache_resource(max_entries=6, show_spinner=False)
def fit_pca(key: str, center: bool, _X: np.ndarray) -> tuple[PCA, Coordinates]:
    """Exact PCA of every row; returns the fitted model and every row's :class:`Coordinates` on its axes."""
    n, d = _X.shape
    model = PCA(min(MAX_PCS, n, d), center=center).fit(_X)
    return model, Coordinates(model, _X)


@st.cache_data(max_entries=32, show_spinner="Scoring how faithful this view is (trustworthiness)…")
def trust(key: str, center: bool, comps: tuple, metric: str, _X, _Y) -> ln.Trustworthiness:
    """Trustworthiness of the view ``_Y`` (n, 2 or 3), every row on components ``comps`` (a sample of
    :data:`TRUST_ROWS` rows)."""
    return ln.view_trustworthiness(_X, _Y, n_neighbors=10, max_rows=TRUST_ROWS, metric=metric)


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
