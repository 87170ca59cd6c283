"""Layer × kind heatmaps: one number per matrix of every layer (spectrum atlas, LoRA adapters)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import f32, figure, heatmap_parts

EMPTY_CELL = "rgba(128,128,128,0.45)"


def layer_kind_heatmap(z, kinds, title: str, colorbar_title: str, of=None, of_name: str = "min(m, n)",
                       zmin: float | None = 0.0, zmax: float | None = None, fmt: str = ".0f",
                       height: int | None = None) -> go.Figure:
    """A (n_layers, n_kinds) table as a heatmap: rows are layers 0…L−1, columns the kinds.

    Parameters
    ----------
    z : array_like, shape (n_layers, n_kinds)
        NaN where a layer has no matrix of that kind (drawn empty, hover says so).
    kinds : list of str
        Column labels.
    of : array_like, shape (n_layers, n_kinds), optional
        What each value is out of (the full rank), shown in the hover and the cell as ``z / of``.
    fmt : str
        Number format of the values written in the cells (a d3 format, e.g. ``".0f"``).
    """
    z = np.asarray(z, float)
    n_layers, n_kinds = z.shape
    layers = [f"layer {i}" for i in range(n_layers)]
    trace, lay = heatmap_parts(z, colorbar_title, title=title, x_labels=list(kinds), y_labels=layers,
                               x_title="matrix kind", y_title="layer", signed=False, zmin=zmin, zmax=zmax,
                               height=height or max(260, 120 + 34 * n_layers))
    of = np.full_like(z, np.nan) if of is None else np.asarray(of, float)
    trace["customdata"] = f32(of)
    trace["hovertemplate"] = (f"%{{y}}, %{{x}}<br>{colorbar_title}: %{{z:{fmt}}}"
                              f"<br>out of {of_name} = %{{customdata:.0f}}<extra></extra>")
    if n_layers * n_kinds <= 400:                 # the numbers themselves, while the cells are big enough
        trace["texttemplate"] = f"%{{z:{fmt}}}"
        trace["textfont"] = dict(size=11)
    trace["xgap"] = trace["ygap"] = 1
    lay["yaxis"]["type"] = lay["xaxis"]["type"] = "category"
    # empty cells (no such matrix) show as a mid grey, seen on the light and the dark theme alike (a light
    # grey framed every cell in white on the dark page)
    lay["plot_bgcolor"] = EMPTY_CELL
    return figure([trace], lay)
