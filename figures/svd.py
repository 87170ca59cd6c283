"""Figures for the SVD page: matrix/image panels, spectrum, client-side rank scrubber, 2D geometry, LoRA."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

from figures.common import (COLORS, DIVERGING, arrow, colorbar_below, f32, figure, heatmap_parts, layout, legend_below,
                            style)

GREY = "gray"
# the scrubber's slider and play button this far under the plot area: clear of the x ticks and the axis title
# when the plot fills its height (a square matrix in a narrow chart)
SLIDER_GAP_PX = 64


def _equal(fig: go.Figure) -> go.Figure:
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_xaxes(constrain="domain")
    return fig


def matrix_panel(z, title: str, colorbar_title: str, zmin: float, zmax: float, signed: bool,
                 image: bool = False, height: int = 400) -> go.Figure:
    """One matrix (or grey image) as a heatmap on a fixed, shared colour range.

    ``signed`` gives a zero-centred diverging scale on ``[-zmax, zmax]``; otherwise grey (images)
    or the sequential scale on ``[zmin, zmax]``.
    """
    trace, lay = heatmap_parts(z, colorbar_title, title=title, signed=signed, zmin=zmin, zmax=zmax,
                               colorscale=(GREY if image and not signed else None), height=height,
                               x_title="column", y_title="row")
    lay["margin"] = dict(l=45, r=10, t=45, b=95)
    trace["colorbar"] = colorbar_below(lay, colorbar_title, thickness=12)
    if image:                                          # square pixels
        lay["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
        lay["xaxis"]["constrain"] = "domain"
    return figure([trace], lay)


def rgb_panel(img, title: str, height: int = 400) -> go.Figure:
    """An RGB image (h, w, 3) with values in 0–255 (clip before calling and say so)."""
    trace = dict(type="image", z=np.clip(np.asarray(img), 0, 255).astype(np.uint8),       # (h, w, 3)
                 hovertemplate="row %{y}, col %{x}<br>RGB %{z}<extra></extra>")
    lay = layout(title, "column", "row", height=height)
    lay["margin"] = dict(l=45, r=10, t=45, b=95)
    return figure([trace], lay)


def error_text(rel: float, floor_rel: float) -> str:
    """A relative error for display; below the float32 floor it is rounding, and says so."""
    if rel <= floor_rel:
        return f"{rel:.1e}, below float32 precision ({floor_rel:.1e}): exact up to rounding"
    return f"{rel:.2%}" if rel >= 1e-3 else f"{rel:.2e}"


def _rank_line(rank: int) -> dict:
    """The dashed vertical line at the cut r (what ``add_vline`` adds)."""
    return dict(type="line", x0=rank, x1=rank, y0=0, y1=1, xref="x", yref="y domain",
                line=dict(color=COLORS["proj"], width=2, dash="dash"))


def singular_values(S, rank: int, log: bool = True, height: int = 380) -> go.Figure:
    """σ_i (log scale), the kept ones (i ≤ r) and the dropped ones, with the cut at r."""
    S = np.asarray(S, float)
    i = np.arange(1, S.shape[0] + 1)
    kept = i <= rank
    pos = np.where(S > 0, S, np.nan)   # zeros cannot be drawn on a log axis
    data = [
        dict(type="scatter", x=f32(i[kept]), y=f32(pos[kept]), mode="lines+markers", name=f"kept (i ≤ {rank})",
             marker=dict(size=4, color=COLORS["e2"]), line=dict(color=COLORS["e2"]),
             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>"),
        dict(type="scatter", x=f32(i[~kept]), y=f32(pos[~kept]), mode="lines+markers", name="dropped (i > r)",
             marker=dict(size=4, color=COLORS["resid"]), line=dict(color=COLORS["resid"], dash="dot"),
             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>"),
    ]
    lay = layout("Singular values σᵢ" + (" (log scale)" if log else ""), "index i", "σᵢ", height=height)
    lay["shapes"] = [_rank_line(rank)]
    # the cut named at the top of its line: the σ curve is high only at the first indices
    lay["annotations"] = [dict(x=rank, y=1.0, xref="x", yref="y domain", yanchor="top", xanchor="left",
                               text=f" r = {rank}", showarrow=False, font=dict(color=COLORS["proj"]))]
    lay["yaxis"]["type"] = "log" if log else "linear"
    lay["margin"]["b"] = 100
    return figure(data, legend_below(lay))


def energy(energy, rank: int, marks: dict, centred=None, marks_centred: bool = False,
           height: int = 380) -> go.Figure:
    """Cumulative energy Σ_{i≤r} σᵢ² / Σ σᵢ² against the rank, the 90/95/99 % ranks as diamonds, the cut at r.

    ``centred``: the cumulative energy of the column-centred matrix, drawn beside ``energy``;
    ``marks_centred`` says that the marked ranks are read on that curve.
    """
    energy = np.asarray(energy, float)
    on = np.asarray(centred, float) if marks_centred else energy            # the curve the marks sit on
    i = np.arange(1, energy.shape[0] + 1)
    data = [dict(type="scatter", x=f32(i), y=f32(energy), mode="lines", name="energy kept (A)",
                 line=dict(color=COLORS["x"], width=2.5),
                 hovertemplate="rank %{x}: %{y:.2%} of A's energy<extra></extra>")]
    if centred is not None:
        data.append(dict(type="scatter", x=f32(i), y=f32(centred), mode="lines", name="energy kept (centred A)",
                         line=dict(color=COLORS["u"], width=2.5, dash="dash"),
                         hovertemplate="rank %{x}: %{y:.2%} of the centred matrix's energy<extra></extra>"))
    which = " (centred)" if marks_centred else ""
    if marks:
        data.append(dict(type="scatter", x=f32(list(marks.values())), y=f32([on[r - 1] for r in marks.values()]),
                         mode="markers", name="rank for " + " / ".join(f"{f:.0%}" for f in marks) + which,
                         marker=dict(size=10, color=COLORS["highlight"], symbol="diamond"),
                         customdata=[f"{f:.0%}" for f in marks],
                         hovertemplate=f"%{{customdata}} of the energy{which} needs rank %{{x}}<extra></extra>"))
    lay = layout("Cumulative energy, rank 1…r", "rank r", "fraction of Σσ²", height=height)
    lay["shapes"] = [_rank_line(rank)]
    # the cut named at the bottom of its line: the curves and the diamonds sit high
    lay["annotations"] = [dict(x=rank, y=0.0, xref="x", yref="y domain", yanchor="bottom", xanchor="left",
                               text=f" r = {rank}", showarrow=False, font=dict(color=COLORS["proj"]))]
    lay["yaxis"].update(range=[0, 1.05], tickformat=".0%")
    lay["margin"]["b"] = 120
    return figure(data, legend_below(lay))


def _png_uri(rgb: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _runs(ranks) -> str:
    """``1–64, 77, 92`` for the ranks 1…64, 77, 92: consecutive runs written as ranges."""
    parts, start = [], 0
    for j in range(1, len(ranks) + 1):
        if j == len(ranks) or ranks[j] != ranks[j - 1] + 1:
            a, b = ranks[start], ranks[j - 1]
            parts.append(str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}")
            start = j
    return ", ".join(parts)


def scrub_note(n_frames: int, shown: tuple[int, int], full: tuple[int, int], ranks, colour: bool) -> str:
    """What the scrubber's frames are: how many, at which size and ranks (for a caption under it)."""
    size = (f"{shown[0]}×{shown[1]} block means of {full[0]}×{full[1]}" if tuple(shown) != tuple(full)
            else f"full size {full[0]}×{full[1]}")
    return (f"{n_frames} precomputed frames, {size}" + ("" if colour else ", 256 colour levels")
            + f"; frames at ranks {_runs([int(r) for r in ranks])}.")


def scrubber(frames: np.ndarray, ranks, lo: float, hi: float, signed: bool, colour: bool,
             colorbar_title: str, image: bool, rel_errors=None, floor_rel: float = 0.0,
             height: int = 560, start_rank: int = 10) -> go.Figure:
    """A heatmap (or RGB image) with a client-side Plotly slider over precomputed rank frames.

    Parameters
    ----------
    frames : numpy.ndarray, (F, h, w) or (F, h, w, 3) for colour
        Reconstructions at each rank (already downsampled).
    ranks : list of int
    lo, hi : float
        Shared display range; grey frames are quantised to 256 levels of this range (uint8).
    rel_errors : array_like, shape (F,), optional
        ``‖A − A_r‖_F / ‖A‖_F`` of the full matrix at each rank: each frame's title shows it
        (:func:`error_text`, with ``floor_rel`` the relative float32 floor).
    """
    ranks = [int(r) for r in ranks]

    def title(j: int) -> dict:
        if rel_errors is None:
            return dict(text=f"rank {ranks[j]}", x=0.01, xanchor="left")
        err = error_text(float(rel_errors[j]), floor_rel)
        # below the float32 floor the error reads "…: exact up to rounding": on a line of its own
        text = f"<b>rank {ranks[j]}: ‖A − A_r‖_F / ‖A‖_F = {err.replace(', below', ',<br>below')}</b>"
        return dict(text=text, x=0.01, xanchor="left")

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
    fig.frames = [go.Frame(data=[d], name=str(r), layout=dict(title=title(j))) for j, (d, r) in enumerate(zip(datas, ranks))]
    steps = [dict(method="animate", label=str(r),
                  args=[[str(r)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                       transition=dict(duration=0))])
             for r in ranks]
    fig.update_layout(
        sliders=[dict(active=start, steps=steps, currentvalue=dict(prefix="rank r = ", font=dict(size=15)),
                      pad=dict(t=SLIDER_GAP_PX), len=1.0, x=0.0)],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.02, xanchor="right", yanchor="top",
                          pad=dict(t=SLIDER_GAP_PX, r=10),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=120, redraw=True), fromcurrent=True,
                                                         transition=dict(duration=0))])])],
    )
    style(fig, None, "column (preview pixels)", "row (preview pixels)", height=height)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False)
    if image or colour:
        _equal(fig)
    fig.update_layout(title=title(start), margin=dict(l=60, r=20, t=70, b=40))
    return fig


def geometry_stage(stage: int, pts, U, S, Vh, name: str, lim: float, height: int = 300) -> go.Figure:
    """One step of the unit circle through Vᵀ, Σ and U (``stage`` 1…4: x, Vᵀx, ΣVᵀx, UΣVᵀx = Ax), with the
    two singular directions at that step as arrows, each named at its tip (v₁ → e₁ → σ₁e₁ → σ₁u₁ = Av₁ in
    orange, the same for v₂ in blue).

    ``lim``: the half-width of both axes (the same for the four stages, so they compare)."""
    pts = np.asarray(pts, float)                                                  # (n, 2)
    colours = (COLORS["e1"], COLORS["e2"])
    q = max(2, pts.shape[0] // 8)
    # the circle, its first eighth drawn thicker so the rotation or reflection can be followed
    data = [dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", showlegend=False,
                 line=dict(color=COLORS["x"], width=2), hoverinfo="skip"),
            dict(type="scatter", x=f32(pts[:q, 0]), y=f32(pts[:q, 1]), mode="lines", showlegend=False,
                 line=dict(color=COLORS["highlight"], width=6), hoverinfo="skip")]
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    arrows = {1: [(Vh[0], "v₁", "v₁"), (Vh[1], "v₂", "v₂")],
              2: [(e1, "e₁", "Vᵀv₁ = e₁"), (e2, "e₂", "Vᵀv₂ = e₂")],
              3: [(S[0] * e1, "σ₁e₁", "σ₁e₁"), (S[1] * e2, "σ₂e₂", "σ₂e₂")],
              4: [(S[0] * U[:, 0], "σ₁u₁", "σ₁u₁ = Av₁"), (S[1] * U[:, 1], "σ₂u₂", "σ₂u₂ = Av₂")]}[stage]
    lay = layout(name, None, None, height=height, equal_axes=True)
    lay["annotations"] = []
    for j, (end, short, full) in enumerate(arrows):
        data.append(arrow([0, 0], end, colours[j], full, showlegend=False))
        # the short name just past the tip, along the arrow: the two arrows are orthogonal, so are their names
        norm = float(np.hypot(*end)) or 1.0
        lay["annotations"].append(dict(x=float(end[0]), y=float(end[1]), text=short, showarrow=False,
                                       xshift=16 * float(end[0]) / norm, yshift=14 * float(end[1]) / norm,
                                       font=dict(color=colours[j])))
    for ax in ("xaxis", "yaxis"):
        lay[ax]["range"] = [-lim, lim]
    lay["showlegend"] = False
    lay["margin"].update(l=35, r=5, t=40, b=25)
    return figure(data, lay)


def lora_counts(m: int, n: int, r: int, height: int = 380) -> go.Figure:
    """The numbers a full update ΔW trains (mn) against LoRA's B·A (r(m + n)), on a log scale."""
    full, low = m * n, r * (m + n)
    data = [dict(type="bar", x=["full ΔW: mn", f"LoRA B·A: r(m+n), r = {r}"], y=f32([full, low]),
                 marker_color=[COLORS["resid"], COLORS["u"]], text=[f"{full:,}", f"{low:,}"],
                 textposition="outside", cliponaxis=False, showlegend=False,
                 hovertemplate="%{x}: %{y:,}<extra></extra>")]
    lay = layout(f"Trainable numbers, {m}×{n} update", None, "numbers (log)", height=height)
    lay["yaxis"]["type"] = "log"
    lay["showlegend"] = False
    return figure(data, lay)


def lora_error(ranks, rel_errors, r: int, matrix_name: str, height: int = 380) -> go.Figure:
    """The relative error of the best rank-r approximation of a weight W at every rank, r marked."""
    ranks = np.asarray(ranks)
    rr = min(r, int(ranks.max()))
    data = [dict(type="scatter", x=f32(ranks), y=f32(rel_errors), mode="lines", name="‖W − W_r‖_F / ‖W‖_F",
                 line=dict(color=COLORS["e2"], width=2.5), hovertemplate="rank %{x}: %{y:.1%}<extra></extra>"),
            dict(type="scatter", x=f32([rr]), y=f32([rel_errors[rr - 1]]), mode="markers+text", showlegend=False,
                 marker=dict(size=12, color=COLORS["proj"]), text=[f"r = {rr}: {rel_errors[rr - 1]:.1%}"],
                 textposition="top right", cliponaxis=False)]
    lay = layout(f"Best rank-r error of W ({matrix_name})", "rank r", "relative Frobenius error", height=height)
    lay["showlegend"] = False
    lay["yaxis"].update(tickformat=".0%", range=[0, 1.05])
    return figure(data, lay)
