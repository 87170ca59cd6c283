"""Figures for the SVD page: matrix/image panels, spectrum, client-side rank scrubber, 2D geometry, LoRA."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.common import COLORS, DIVERGING, f32, heatmap, style

GREY = "gray"


def _equal(fig: go.Figure) -> go.Figure:
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_xaxes(constrain="domain")
    return fig


def matrix_panel(z, title: str, colorbar_title: str, zmin: float, zmax: float, signed: bool,
                 image: bool = False, height: int = 470) -> go.Figure:
    """One matrix (or grey image) as a heatmap on a fixed, shared colour range.

    ``signed`` gives a zero-centred diverging scale on ``[-zmax, zmax]``; otherwise grey (images)
    or the sequential scale on ``[zmin, zmax]``.
    """
    fig = heatmap(z, colorbar_title, title=title, signed=signed, zmin=zmin, zmax=zmax,
                  colorscale=(GREY if image and not signed else None), height=height,
                  x_title="column", y_title="row")
    fig.update_traces(colorbar=dict(orientation="h", y=-0.18, yanchor="top", thickness=12,
                                    title=dict(text=colorbar_title, side="top")))
    fig.update_layout(margin=dict(l=45, r=10, t=45, b=95))
    return _equal(fig) if image else fig


def rgb_panel(img, title: str, height: int = 470) -> go.Figure:
    """An RGB image (h, w, 3) with values in 0–255 (clip before calling and say so)."""
    fig = go.Figure(go.Image(z=np.clip(np.asarray(img), 0, 255).astype(np.uint8),
                             hovertemplate="row %{y}, col %{x}<br>RGB %{z}<extra></extra>"))
    style(fig, title, "column", "row", height=height)
    fig.update_layout(margin=dict(l=45, r=10, t=45, b=95))
    return fig


def spectrum(S, rank: int, energy, marks: dict, log: bool = True) -> go.Figure:
    """σ_i (log scale) with the cutoff at r, and cumulative energy with the 90/95/99 % ranks."""
    S, energy = np.asarray(S, float), np.asarray(energy, float)
    k = S.shape[0]
    i = np.arange(1, k + 1)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Singular values σᵢ (log scale)", "Cumulative energy Σᵢ≤ᵣ σᵢ² / Σ σᵢ²"))
    kept = i <= rank
    pos = np.where(S > 0, S, np.nan)   # zeros cannot be drawn on a log axis
    fig.add_trace(go.Scatter(x=f32(i[kept]), y=f32(pos[kept]), mode="lines+markers", name=f"kept (i ≤ {rank})",
                             marker=dict(size=4, color=COLORS["e2"]), line=dict(color=COLORS["e2"]),
                             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=f32(i[~kept]), y=f32(pos[~kept]), mode="lines+markers", name="dropped (i > r)",
                             marker=dict(size=4, color=COLORS["resid"]), line=dict(color=COLORS["resid"], dash="dot"),
                             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=f32(i), y=f32(energy), mode="lines", name="energy kept",
                             line=dict(color=COLORS["x"], width=2.5),
                             hovertemplate="rank %{x}: %{y:.2%}<extra></extra>"), row=1, col=2)
    for j, (frac, r) in enumerate(marks.items()):
        fig.add_trace(go.Scatter(x=f32([r]), y=f32([energy[r - 1]]), mode="markers",
                                 marker=dict(size=10, color=COLORS["highlight"], symbol="diamond"),
                                 text=[f"{frac:.0%}"], textfont=dict(size=11),
                                 textposition=["bottom right", "middle right", "top left"][j % 3], showlegend=False,
                                 hovertemplate=f"{frac:.0%} of the energy needs rank {r}<extra></extra>"),
                      row=1, col=2)
    if marks:
        fig.add_annotation(x=0.98, y=0.04, xref="x2 domain", yref="y2 domain", xanchor="right", yanchor="bottom",
                           showarrow=False, align="right", bgcolor="rgba(255,255,255,0.85)",
                           text="<br>".join(f"{f:.0%} of the energy: rank {r}" for f, r in marks.items()))
    fig.update_layout(shapes=[dict(type="line", x0=rank, x1=rank, y0=0, y1=1, xref=xr, yref=f"{yr} domain",
                                   line=dict(color=COLORS["proj"], width=2, dash="dash"))
                              for xr, yr in (("x", "y"), ("x2", "y2"))])
    fig.add_annotation(x=rank, y=1.0, yref="y2 domain", xref="x2", text=f" r = {rank}", showarrow=False,
                       xanchor="left", font=dict(color=COLORS["proj"]))
    style(fig, None, None, None, height=380)
    fig.update_yaxes(type="log" if log else "linear", title_text="σᵢ", row=1, col=1)
    fig.update_yaxes(title_text="fraction of Σσ²", range=[0, 1.05], tickformat=".0%", row=1, col=2)
    fig.update_xaxes(title_text="index i", row=1, col=1)
    fig.update_xaxes(title_text="rank r", row=1, col=2)
    fig.update_layout(margin=dict(t=70), legend=dict(orientation="v", x=0.28, xanchor="right", y=0.98,
                                                      yanchor="top", bgcolor="rgba(255,255,255,0.8)"))
    return fig


def _png_uri(rgb: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def scrubber(frames: np.ndarray, ranks, lo: float, hi: float, signed: bool, colour: bool,
             note: str, colorbar_title: str, image: bool, height: int = 560, start_rank: int = 10) -> go.Figure:
    """A heatmap (or RGB image) with a client-side Plotly slider over precomputed rank frames.

    Parameters
    ----------
    frames : numpy.ndarray, (F, h, w) or (F, h, w, 3) for colour
        Reconstructions at each rank (already downsampled).
    ranks : list of int
    lo, hi : float
        Shared display range; grey frames are quantised to 256 levels of this range (uint8).
    """
    ranks = [int(r) for r in ranks]
    if colour:
        datas = [go.Image(source=_png_uri(f)) for f in frames]
    else:
        codes = np.clip(np.rint((frames - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)  # (F, h, w)
        ticks = np.linspace(0, 255, 5)
        vals = lo + ticks / 255.0 * (hi - lo)
        if signed:
            cscale = DIVERGING
        else:
            cscale = GREY if image else "Viridis"
        datas = [go.Heatmap(z=c, zmin=0, zmax=255, colorscale=cscale, hoverinfo="skip",
                            colorbar=dict(title=dict(text=colorbar_title, side="right"), tickvals=f32(ticks),
                                          ticktext=[f"{v:.3g}" for v in vals]))
                 for c in codes]
    start = int(np.argmin(np.abs(np.asarray(ranks) - start_rank)))
    fig = go.Figure(datas[start])
    fig.frames = [go.Frame(data=[d], name=str(r)) for d, r in zip(datas, ranks)]
    steps = [dict(method="animate", label=str(r),
                  args=[[str(r)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                       transition=dict(duration=0))])
             for r in ranks]
    fig.update_layout(
        sliders=[dict(active=start, steps=steps, currentvalue=dict(prefix="rank r = ", font=dict(size=15)),
                      pad=dict(t=40), len=1.0, x=0.0)],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.02, xanchor="right", yanchor="top",
                          pad=dict(t=40, r=10),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=120, redraw=True), fromcurrent=True,
                                                         transition=dict(duration=0))])])],
    )
    style(fig, note, "column (preview pixels)", "row (preview pixels)", height=height)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False)
    if image or colour:
        _equal(fig)
    fig.update_layout(margin=dict(l=60, r=20, t=60, b=40))
    return fig


def geometry(U, S, Vh, stages, names) -> go.Figure:
    """The unit circle through Vᵀ, Σ and U, with singular vectors as arrows and ellipse axes."""
    fig = make_subplots(rows=1, cols=4, subplot_titles=names, horizontal_spacing=0.04)
    lim = float(max(1.15, 1.15 * np.abs(np.concatenate(stages)).max()))
    colours = (COLORS["e1"], COLORS["e2"])
    for c, pts in enumerate(stages, start=1):
        # the first quarter of the circle drawn thicker so the rotation/reflection can be followed
        fig.add_trace(go.Scatter(x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", showlegend=False,
                                 line=dict(color=COLORS["x"], width=2), hoverinfo="skip"), row=1, col=c)
        q = max(2, pts.shape[0] // 8)
        fig.add_trace(go.Scatter(x=f32(pts[:q, 0]), y=f32(pts[:q, 1]), mode="lines", showlegend=False,
                                 line=dict(color=COLORS["highlight"], width=6), hoverinfo="skip"), row=1, col=c)
    v = Vh                      # rows v1, v2 (input directions)
    arrows = {
        1: [(v[0], "v₁"), (v[1], "v₂")],
        2: [(np.array([1.0, 0.0]), "Vᵀv₁ = e₁"), (np.array([0.0, 1.0]), "Vᵀv₂ = e₂")],
        3: [(np.array([S[0], 0.0]), "σ₁e₁"), (np.array([0.0, S[1]]), "σ₂e₂")],
        4: [(S[0] * U[:, 0], "σ₁u₁"), (S[1] * U[:, 1], "σ₂u₂")],
    }
    from figures.common import add_arrow

    for c, items in arrows.items():
        for j, (end, name) in enumerate(items):
            add_arrow(fig, [0, 0], end, colours[j], name, showlegend=(c == 1 or c == 4), row=1, col=c)
            fig.add_annotation(x=float(end[0]), y=float(end[1]), text=name, showarrow=False, xshift=14,
                               yshift=10, font=dict(color=colours[j]), row=1, col=c)
    style(fig, None, None, None, height=360)
    for c in range(1, 5):
        fig.update_xaxes(range=[-lim, lim], row=1, col=c, title_text="x₁")
        fig.update_yaxes(range=[-lim, lim], row=1, col=c, scaleanchor=f"x{'' if c == 1 else c}", scaleratio=1)
    fig.update_yaxes(title_text="x₂", row=1, col=1)
    fig.update_layout(showlegend=False)
    return fig


def lora(ranks, rel_errors, r: int, m: int, n: int, matrix_name: str) -> go.Figure:
    """Parameter counts r(m+n) vs mn, and the relative error of the best rank-r approximation."""
    ranks = np.asarray(ranks)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        f"Trainable numbers for a {m}×{n} update", f"Best rank-r error of {matrix_name}"))
    full, low = m * n, r * (m + n)
    fig.add_trace(go.Bar(x=["full ΔW (mn)", f"LoRA B·A (r(m+n)), r={r}"], y=f32([full, low]),
                         marker_color=[COLORS["resid"], COLORS["u"]], text=[f"{full:,}", f"{low:,}"],
                         textposition="outside", showlegend=False,
                         hovertemplate="%{x}: %{y:,}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=f32(ranks), y=f32(rel_errors), mode="lines", name="‖W − W_r‖_F / ‖W‖_F",
                             line=dict(color=COLORS["e2"], width=2.5),
                             hovertemplate="rank %{x}: %{y:.1%}<extra></extra>"), row=1, col=2)
    rr = min(r, int(ranks.max()))
    fig.add_trace(go.Scatter(x=f32([rr]), y=f32([rel_errors[rr - 1]]), mode="markers+text", showlegend=False,
                             marker=dict(size=12, color=COLORS["proj"]), text=[f"r={rr}: {rel_errors[rr - 1]:.1%}"],
                             textposition="top right"), row=1, col=2)
    style(fig, None, None, None, height=380)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title_text="numbers", type="log", row=1, col=1)
    fig.update_yaxes(title_text="relative Frobenius error", tickformat=".0%", range=[0, 1.05], row=1, col=2)
    fig.update_xaxes(title_text="rank r", row=1, col=2)
    fig.update_layout(margin=dict(t=70))
    return fig
