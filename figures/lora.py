"""Figures for a LoRA adapter: the spectrum of one ΔW with its cut at r, and the angles to W."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, f32, figure, layout, subplots


def delta_spectrum(s, r: int, energy, marks: dict, module: str, base_s=None) -> go.Figure:
    """σ_i of ``ΔW = scale · B A`` (at most r of them are non-zero) and its cumulative energy.

    Parameters
    ----------
    s : array_like, shape (k,)
        Singular values of ΔW, descending; ``k = min(r, out, in)``.
    r : int
        The adapter's rank for this module: every σ_i with i > r is exactly 0 (dashed line).
    energy : array_like, shape (k,)
        Cumulative energy of ``s``.
    marks : dict
        ``{fraction: rank}`` marked on the energy curve.
    base_s : array_like, optional
        The leading singular values of the base weight W, for scale (same log axis).
    """
    s, energy = np.asarray(s, float), np.asarray(energy, float)
    i = np.arange(1, s.shape[0] + 1)
    grid, ref = subplots(1, 2, horizontal_spacing=0.12, subplot_titles=(
        f"Singular values of ΔW ({module})", "Cumulative energy Σᵢ≤ₖ σᵢ² / ‖ΔW‖²_F"))
    pos = np.where(s > 0, s, np.nan)
    data = [dict(type="scatter", x=f32(i), y=f32(pos), mode="lines+markers", name="σᵢ(ΔW)",
                 marker=dict(size=8, color=COLORS["e2"]), line=dict(color=COLORS["e2"]),
                 hovertemplate="σ_%{x}(ΔW) = %{y:.4g}<extra></extra>", **ref[(1, 1)])]
    if base_s is not None:
        b = np.asarray(base_s, float)
        j = np.arange(1, b.shape[0] + 1)
        data.append(dict(type="scatter", x=f32(j), y=f32(np.where(b > 0, b, np.nan)), mode="lines",
                         name="σᵢ(W), the base weight", line=dict(color=COLORS["resid"], dash="dot"),
                         hovertemplate="σ_%{x}(W) = %{y:.4g}<extra></extra>", **ref[(1, 1)]))
    data.append(dict(type="scatter", x=f32(i), y=f32(energy), mode="lines+markers", name="energy kept",
                     line=dict(color=COLORS["x"], width=2.5), marker=dict(size=6, color=COLORS["x"]),
                     hovertemplate="rank %{x}: %{y:.2%}<extra></extra>", **ref[(1, 2)]))
    for frac, k in marks.items():
        data.append(dict(type="scatter", x=f32([k]), y=f32([energy[k - 1]]), mode="markers", showlegend=False,
                         marker=dict(size=12, color=COLORS["highlight"], symbol="diamond"),
                         hovertemplate=f"{frac:.0%} of ‖ΔW‖²_F needs rank {k}<extra></extra>", **ref[(1, 2)]))
    lay = layout(height=380, grid=grid)
    lay["shapes"] = [dict(type="line", x0=r, x1=r, y0=0, y1=1, xref=xr, yref=f"{yr} domain",
                          line=dict(color=COLORS["proj"], width=2, dash="dash")) for xr, yr in (("x", "y"), ("x2", "y2"))]
    lay["annotations"].append(dict(x=r, y=0.98, xref="x", yref="y domain", xanchor="left", yanchor="top",
                                   showarrow=False, font=dict(color=COLORS["proj"]),
                                   text=f" r = {r}: σᵢ(ΔW) = 0 beyond"))
    lay["annotations"].append(dict(x=0.98, y=0.04, xref="x2 domain", yref="y2 domain", xanchor="right",
                                   yanchor="bottom", showarrow=False, align="right",
                                   text="<br>".join(f"{f:.0%} of ‖ΔW‖²_F: rank {k}" for f, k in marks.items())))
    top = max(r, int(s.shape[0]), 1) + 0.5
    lay["xaxis"].update(title=dict(text="index i"), range=[0.5, top if base_s is None else max(top, 2 * r + 0.5)])
    lay["xaxis2"].update(title=dict(text="rank k"), range=[0.5, top])
    lay["yaxis"].update(type="log", title=dict(text="σᵢ"))
    lay["yaxis2"].update(title=dict(text="fraction of ‖ΔW‖²_F"), range=[0, 1.05], tickformat=".0%")
    lay["margin"] = {**lay["margin"], "t": 70, "b": 90}
    lay["legend"] = {**lay["legend"], **dict(orientation="h", x=0.5, xanchor="center", y=-0.2, yanchor="top")}
    return figure(data, lay)


def angles(theta, module: str) -> go.Figure:
    """Principal angles (degrees) between the top-k left singular directions of ΔW and of W."""
    theta = np.asarray(theta, float)
    j = np.arange(1, theta.shape[0] + 1)
    data = [dict(type="bar", x=f32(j), y=f32(theta), marker_color=COLORS["u"], name="angle",
                 text=[f"{t:.0f}°" for t in theta], textposition="outside",
                 hovertemplate="angle %{x}: %{y:.1f}°<extra></extra>")]
    lay = layout(f"Principal angles: top-{theta.shape[0]} output directions of ΔW vs of W ({module})",
                 "angle index (ascending)", "degrees", height=340)
    lay["yaxis"].update(range=[0, 99], dtick=15)
    lay["xaxis"].update(tickmode="linear", tick0=1, dtick=1, range=[0.4, theta.shape[0] + 0.6])
    lay["shapes"] = [dict(type="line", x0=0, x1=1, xref="x domain", y0=90, y1=90, line=dict(color="#adb5bd", dash="dot"))]
    lay["showlegend"] = False
    return figure(data, lay)
