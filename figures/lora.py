"""Figures for a LoRA adapter: the spectrum of one ΔW with its cut at r, and the angles to W."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, f32, figure, layout, legend_below


def delta_spectrum(s, r: int, module: str, base_s=None, height: int = 380) -> go.Figure:
    """σ_i of ``ΔW = scale · B A`` (at most r of them are non-zero), with the cut at r.

    Parameters
    ----------
    s : array_like, shape (k,)
        Singular values of ΔW, descending; ``k = min(r, out, in)``.
    r : int
        The adapter's rank for this module: every σ_i with i > r is exactly 0 (dashed line).
    module : str
        A short name of the module for the title, e.g. ``"q, layer 0"``.
    base_s : array_like, optional
        The leading singular values of the base weight W, for scale (same log axis).
    """
    s = np.asarray(s, float)
    i = np.arange(1, s.shape[0] + 1)
    pos = np.where(s > 0, s, np.nan)
    data = [dict(type="scatter", x=f32(i), y=f32(pos), mode="lines+markers", name="σᵢ(ΔW)",
                 marker=dict(size=8, color=COLORS["e2"]), line=dict(color=COLORS["e2"]),
                 hovertemplate="σ_%{x}(ΔW) = %{y:.4g}<extra></extra>")]
    if base_s is not None:
        b = np.asarray(base_s, float)
        j = np.arange(1, b.shape[0] + 1)
        data.append(dict(type="scatter", x=f32(j), y=f32(np.where(b > 0, b, np.nan)), mode="lines",
                         name="σᵢ(W), the base weight", line=dict(color=COLORS["resid"], dash="dot"),
                         hovertemplate="σ_%{x}(W) = %{y:.4g}<extra></extra>"))
    lay = layout(f"Singular values of ΔW ({module})", "index i", "σᵢ (log)", height=height)
    lay["shapes"] = [dict(type="line", x0=r, x1=r, y0=0, y1=1, xref="x", yref="y domain",
                          line=dict(color=COLORS["proj"], width=2, dash="dash"))]
    # named at the foot of the line (the σ curves are high at the first indices) and in the legend's words
    lay["annotations"] = [dict(x=r, y=0.0, xref="x", yref="y domain", xanchor="left", yanchor="bottom",
                               showarrow=False, font=dict(color=COLORS["proj"]), text=f" r = {r}: σᵢ(ΔW) = 0 beyond")]
    top = max(r, int(s.shape[0]), 1) + 0.5
    lay["xaxis"]["range"] = [0.5, top if base_s is None else max(top, 2 * r + 0.5)]
    lay["yaxis"]["type"] = "log"
    lay["margin"]["b"] = 110
    return figure(data, legend_below(lay))


def delta_energy(energy, r: int, marks: dict, height: int = 380) -> go.Figure:
    """The cumulative energy Σ_{i≤k} σᵢ² / ‖ΔW‖²_F against the rank k, with ``marks`` ({fraction: rank}) as
    diamonds and the adapter's rank r as a dashed line."""
    energy = np.asarray(energy, float)
    i = np.arange(1, energy.shape[0] + 1)
    data = [dict(type="scatter", x=f32(i), y=f32(energy), mode="lines+markers", name="energy kept",
                 line=dict(color=COLORS["x"], width=2.5), marker=dict(size=6, color=COLORS["x"]),
                 hovertemplate="rank %{x}: %{y:.2%}<extra></extra>")]
    if marks:
        data.append(dict(type="scatter", x=f32(list(marks.values())), y=f32([energy[k - 1] for k in marks.values()]),
                         mode="markers", name="rank for " + " / ".join(f"{f:.0%}" for f in marks),
                         marker=dict(size=12, color=COLORS["highlight"], symbol="diamond"),
                         customdata=[f"{f:.0%}" for f in marks],
                         hovertemplate="%{customdata} of ‖ΔW‖²_F needs rank %{x}<extra></extra>"))
    lay = layout("Energy of ΔW kept by rank k", "rank k", "fraction of ‖ΔW‖²_F", height=height)
    lay["shapes"] = [dict(type="line", x0=r, x1=r, y0=0, y1=1, xref="x", yref="y domain",
                          line=dict(color=COLORS["proj"], width=2, dash="dash"))]
    lay["xaxis"]["range"] = [0.5, max(r, int(energy.shape[0]), 1) + 0.5]
    lay["yaxis"].update(range=[0, 1.05], tickformat=".0%")
    lay["margin"]["b"] = 110
    return figure(data, legend_below(lay))


def angles(theta, module: str) -> go.Figure:
    """Principal angles (degrees) between the top-k left singular directions of ΔW and of W."""
    theta = np.asarray(theta, float)
    j = np.arange(1, theta.shape[0] + 1)
    data = [dict(type="bar", x=f32(j), y=f32(theta), marker_color=COLORS["u"], name="angle",
                 text=[f"{t:.0f}°" for t in theta], textposition="outside",
                 hovertemplate="angle %{x}: %{y:.1f}°<extra></extra>")]
    lay = layout(f"Principal angles, ΔW vs W ({module})",
                 f"angle index, ascending (top-{theta.shape[0]} output directions)", "degrees", height=340)
    lay["yaxis"].update(range=[0, 99], dtick=15)
    lay["xaxis"].update(tickmode="linear", tick0=1, dtick=1, range=[0.4, theta.shape[0] + 0.6])
    lay["shapes"] = [dict(type="line", x0=0, x1=1, xref="x domain", y0=90, y1=90, line=dict(color="#adb5bd", dash="dot"))]
    lay["showlegend"] = False
    return figure(data, lay)
