"""Figures for the SVD page: matrix/image panels, spectrum, client-side rank scrubber, 2D geometry, LoRA."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, DIVERGING, EQUAL_CONSTRAIN, arrow, f32, figure, heatmap_parts, layout, style, subplots

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
    trace, lay = heatmap_parts(z, colorbar_title, title=title, signed=signed, zmin=zmin, zmax=zmax,
                               colorscale=(GREY if image and not signed else None), height=height,
                               x_title="column", y_title="row")
    trace["colorbar"] = dict(orientation="h", y=-0.18, yanchor="top", thickness=12,
                             title=dict(text=colorbar_title, side="top"))
    lay["margin"] = dict(l=45, r=10, t=45, b=95)
    if image:                                          # square pixels
        lay["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
        lay["xaxis"]["constrain"] = "domain"
    return figure([trace], lay)


def rgb_panel(img, title: str, height: int = 470) -> go.Figure:
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


def spectrum(S, rank: int, energy, marks: dict, log: bool = True, centred=None, marks_centred: bool = False
             ) -> go.Figure:
    """σ_i (log scale) with the cutoff at r, and cumulative energy with the 90/95/99 % ranks.

    ``centred``: the cumulative energy of the column-centred matrix, drawn beside ``energy``;
    ``marks_centred`` says that the marked ranks are read on that curve.
    """
    S, energy = np.asarray(S, float), np.asarray(energy, float)
    on = np.asarray(centred, float) if marks_centred else energy            # the curve the marks sit on
    k = S.shape[0]
    i = np.arange(1, k + 1)
    grid, ref = subplots(1, 2, horizontal_spacing=0.1, subplot_titles=(
        "Singular values σᵢ (log scale)", "Cumulative energy Σᵢ≤ᵣ σᵢ² / Σ σᵢ²"))
    kept = i <= rank
    pos = np.where(S > 0, S, np.nan)   # zeros cannot be drawn on a log axis
    data = [
        dict(type="scatter", x=f32(i[kept]), y=f32(pos[kept]), mode="lines+markers", name=f"kept (i ≤ {rank})",
             marker=dict(size=4, color=COLORS["e2"]), line=dict(color=COLORS["e2"]),
             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>", **ref[(1, 1)]),
        dict(type="scatter", x=f32(i[~kept]), y=f32(pos[~kept]), mode="lines+markers", name="dropped (i > r)",
             marker=dict(size=4, color=COLORS["resid"]), line=dict(color=COLORS["resid"], dash="dot"),
             hovertemplate="σ_%{x} = %{y:.4g}<extra></extra>", **ref[(1, 1)]),
        dict(type="scatter", x=f32(i), y=f32(energy), mode="lines", name="energy kept (A)",
             line=dict(color=COLORS["x"], width=2.5), hovertemplate="rank %{x}: %{y:.2%} of A's energy<extra></extra>",
             **ref[(1, 2)]),
    ]
    if centred is not None:
        data.append(dict(type="scatter", x=f32(i), y=f32(centred), mode="lines", name="energy kept (centred A)",
                         line=dict(color=COLORS["u"], width=2.5, dash="dash"), **ref[(1, 2)],
                         hovertemplate="rank %{x}: %{y:.2%} of the centred matrix's energy<extra></extra>"))
    which = " (centred)" if marks_centred else ""
    for j, (frac, r) in enumerate(marks.items()):
        data.append(dict(type="scatter", x=f32([r]), y=f32([on[r - 1]]), mode="markers",
                         marker=dict(size=10, color=COLORS["highlight"], symbol="diamond"),
                         text=[f"{frac:.0%}"], textfont=dict(size=11),
                         textposition=["bottom right", "middle right", "top left"][j % 3], showlegend=False,
                         hovertemplate=f"{frac:.0%} of the energy{which} needs rank {r}<extra></extra>", **ref[(1, 2)]))
    lay = layout(height=380, grid=grid)
    if marks:
        lay["annotations"].append(dict(
            x=0.98, y=0.04, xref="x2 domain", yref="y2 domain", xanchor="right", yanchor="bottom",
            showarrow=False, align="right",
            text="<br>".join(f"{f:.0%} of the energy{which}: rank {r}" for f, r in marks.items())))
    lay["shapes"] = [dict(type="line", x0=rank, x1=rank, y0=0, y1=1, xref=xr, yref=f"{yr} domain",
                          line=dict(color=COLORS["proj"], width=2, dash="dash"))
                     for xr, yr in (("x", "y"), ("x2", "y2"))]
    lay["annotations"].append(dict(x=rank, y=1.0, yref="y2 domain", xref="x2", text=f" r = {rank}",
                                   showarrow=False, xanchor="left", font=dict(color=COLORS["proj"])))
    lay["yaxis"].update(type="log" if log else "linear", title=dict(text="σᵢ"))
    lay["yaxis2"].update(title=dict(text="fraction of Σσ²"), range=[0, 1.05], tickformat=".0%")
    lay["xaxis"]["title"] = dict(text="index i")
    lay["xaxis2"]["title"] = dict(text="rank r")
    lay["margin"] = {**lay["margin"], "t": 70}
    lay["legend"] = {**lay["legend"], **dict(orientation="h", x=0.5, xanchor="center", y=-0.2, yanchor="top")}
    lay["margin"]["b"] = 90
    return figure(data, lay)


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


def scrubber(frames: np.ndarray, ranks, lo: float, hi: float, signed: bool, colour: bool,
             note: str, colorbar_title: str, image: bool, rel_errors=None, floor_rel: float = 0.0,
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
    note = f"{note}<br>frames at ranks {_runs(ranks)}"

    def title(j: int) -> dict:
        head = (f"<b>rank {ranks[j]}: ‖A − A_r‖_F / ‖A‖_F = {error_text(float(rel_errors[j]), floor_rel)}</b><br>"
                if rel_errors is not None else "")
        return dict(text=f"{head}<span style='font-size:12px'>{note}</span>", x=0.01, xanchor="left")

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
                      pad=dict(t=40), len=1.0, x=0.0)],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.02, xanchor="right", yanchor="top",
                          pad=dict(t=40, r=10),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=120, redraw=True), fromcurrent=True,
                                                         transition=dict(duration=0))])])],
    )
    style(fig, None, "column (preview pixels)", "row (preview pixels)", height=height)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False)
    if image or colour:
        _equal(fig)
    fig.update_layout(title=title(start), margin=dict(l=60, r=20, t=95, b=40))
    return fig


def geometry(U, S, Vh, stages, names) -> go.Figure:
    """The unit circle through Vᵀ, Σ and U, with singular vectors as arrows and ellipse axes."""
    grid, ref = subplots(1, 4, subplot_titles=names, horizontal_spacing=0.04)
    lim = float(max(1.15, 1.15 * np.abs(np.concatenate(stages)).max()))
    colours = (COLORS["e1"], COLORS["e2"])
    data = []
    for c, pts in enumerate(stages, start=1):                                       # pts: (n, 2)
        # the first quarter of the circle drawn thicker so the rotation/reflection can be followed
        data.append(dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", showlegend=False,
                         line=dict(color=COLORS["x"], width=2), hoverinfo="skip", **ref[(1, c)]))
        q = max(2, pts.shape[0] // 8)
        data.append(dict(type="scatter", x=f32(pts[:q, 0]), y=f32(pts[:q, 1]), mode="lines", showlegend=False,
                         line=dict(color=COLORS["highlight"], width=6), hoverinfo="skip", **ref[(1, c)]))
    v = Vh                      # rows v1, v2 (input directions)
    arrows = {
        1: [(v[0], "v₁"), (v[1], "v₂")],
        2: [(np.array([1.0, 0.0]), "Vᵀv₁ = e₁"), (np.array([0.0, 1.0]), "Vᵀv₂ = e₂")],
        3: [(np.array([S[0], 0.0]), "σ₁e₁"), (np.array([0.0, S[1]]), "σ₂e₂")],
        4: [(S[0] * U[:, 0], "σ₁u₁"), (S[1] * U[:, 1], "σ₂u₂")],
    }
    lay = layout(height=360, grid=grid)
    for c, items in arrows.items():
        for j, (end, name) in enumerate(items):
            data.append(arrow([0, 0], end, colours[j], name, showlegend=(c == 1 or c == 4), **ref[(1, c)]))
            lay["annotations"].append(dict(x=float(end[0]), y=float(end[1]), text=name, showarrow=False, xshift=14,
                                           yshift=10, font=dict(color=colours[j]), xref=ref[(1, c)]["xaxis"],
                                           yref=ref[(1, c)]["yaxis"]))
    for c in range(1, 5):
        x, y = ref[(1, c)]["xaxis"], ref[(1, c)]["yaxis"]
        lay[x.replace("x", "xaxis")].update(range=[-lim, lim], title=dict(text="x₁"), constrain=EQUAL_CONSTRAIN)
        lay[y.replace("y", "yaxis")].update(range=[-lim, lim], scaleanchor=x, scaleratio=1, constrain=EQUAL_CONSTRAIN)
    lay["yaxis"]["title"] = dict(text="x₂")
    lay["showlegend"] = False
    return figure(data, lay)


def lora(ranks, rel_errors, r: int, m: int, n: int, matrix_name: str) -> go.Figure:
    """Parameter counts r(m+n) vs mn, and the relative error of the best rank-r approximation."""
    ranks = np.asarray(ranks)
    grid, ref = subplots(1, 2, horizontal_spacing=0.12, subplot_titles=(
        f"Trainable numbers for a {m}×{n} update", f"Best rank-r error of {matrix_name}"))
    full, low = m * n, r * (m + n)
    rr = min(r, int(ranks.max()))
    data = [
        dict(type="bar", x=["full ΔW (mn)", f"LoRA B·A (r(m+n)), r={r}"], y=f32([full, low]),
             marker_color=[COLORS["resid"], COLORS["u"]], text=[f"{full:,}", f"{low:,}"],
             textposition="outside", showlegend=False, hovertemplate="%{x}: %{y:,}<extra></extra>", **ref[(1, 1)]),
        dict(type="scatter", x=f32(ranks), y=f32(rel_errors), mode="lines", name="‖W − W_r‖_F / ‖W‖_F",
             line=dict(color=COLORS["e2"], width=2.5), hovertemplate="rank %{x}: %{y:.1%}<extra></extra>",
             **ref[(1, 2)]),
        dict(type="scatter", x=f32([rr]), y=f32([rel_errors[rr - 1]]), mode="markers+text", showlegend=False,
             marker=dict(size=12, color=COLORS["proj"]), text=[f"r={rr}: {rel_errors[rr - 1]:.1%}"],
             textposition="top right", **ref[(1, 2)]),
    ]
    lay = layout(height=380, grid=grid)
    lay["showlegend"] = False
    lay["yaxis"].update(title=dict(text="numbers"), type="log")
    lay["yaxis2"].update(title=dict(text="relative Frobenius error"), tickformat=".0%", range=[0, 1.05])
    lay["xaxis2"]["title"] = dict(text="rank r")
    lay["margin"] = {**lay["margin"], "t": 70}
    return figure(data, lay)
