"""Search by meaning drawn on a PCA scatter: the query as a star at its projected position, its nearest
rows ringed. Trace dicts, added on top of a kept scatter (ui.chart.chart(extra=...))."""
from __future__ import annotations

import numpy as np

from figures.common import f32
from figures.pca import RING

QUERY = "#2b8a3e"     # the query star: green, apart from the orange of the selected point and its neighbours


def search_traces(rows_xy, labels, rows, query_xy, query: str, scores=None, marker_size: float = 6) -> list[dict]:
    """The nearest rows (rings, named "search results", ``customdata`` = their row numbers) and the query
    (a star named "query") as trace dicts.

    Parameters
    ----------
    rows_xy : array_like, shape (k, 2 or 3)
        The found rows' coordinates in the view.
    labels : sequence of str, length k
    rows : sequence of int, length k
        Their row numbers (customdata, as the scatter's points carry).
    query_xy : array_like, shape (2 or 3,)
        The query's coordinates: the PCA transform of its embedding, on the view's axes.
    scores : array_like, shape (k,), optional
        Cosine similarity of each row to the query (in the hover).
    """
    xy = f32(np.asarray(rows_xy, dtype=np.float64).reshape(len(rows), -1))
    q = f32(np.asarray(query_xy, dtype=np.float64).reshape(1, -1))
    if xy.shape[1] not in (2, 3) or q.shape[1] != (xy.shape[1] if len(rows) else q.shape[1]):
        raise ValueError(f"rows_xy (k, 2 or 3) and query_xy must have the same dimension; got {xy.shape}, {q.shape}.")
    three = q.shape[1] == 3
    kind = "scatter3d" if three else "scatter"

    def cols(a):
        return dict(x=a[:, 0], y=a[:, 1], **(dict(z=a[:, 2]) if three else {}))

    score = [] if scores is None else [f"{float(s):.3f}" for s in scores]
    hover = [f"{lab}<br>cosine to the query {s}" if score else str(lab)
             for lab, s in zip(labels, score or [""] * len(rows))]
    ring = dict(type=kind, mode="markers", name="search results", **cols(xy), text=[str(v) for v in labels],
                customdata=np.asarray(rows, dtype=np.int64), hovertext=hover,
                marker=dict(size=marker_size + 10, color="rgba(0,0,0,0)", symbol="circle-open" if three else "circle",
                            line=dict(color=QUERY, width=2.5)),
                hovertemplate="search result: %{hovertext}<extra></extra>")
    star = dict(type=kind, mode="markers+text", name="query", **cols(q), text=[query], textposition="top center",
                textfont=dict(size=13, color=QUERY, weight="bold"),
                marker=dict(size=marker_size + 14, symbol="diamond" if three else "star", color=QUERY,
                            line=dict(color="white", width=1)),
                hovertemplate="query: %{text}<extra></extra>")
    return [ring, star]


__all__ = ["QUERY", "search_traces", "RING"]
