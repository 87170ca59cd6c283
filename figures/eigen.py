"""Figures for the Eigenvectors page: the stretched plane, iterates, convergence, QΛQᵀ, spectra.

Every figure is built in one step from plain dicts (:func:`figures.common.figure`): a slider press
rebuilds them, and adding traces one by one revalidates every property on each call.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import (COLORS, EQUAL_CONSTRAIN, arrow, f32, figure, layout, legend_below, num, subplots, tidy,
                            unit_circle)

EIGEN_COLORS = ("#D6336C", "#0CA678")    # eigenline 1, eigenline 2


SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _legend_below(lay: dict, bottom: int = 130) -> dict:
    """Legend in rows under the plot, titles short: at 900 px with the sidebar open a chart beside another
    is about 210 px wide, the legend wraps onto several rows there, and below the plot it only pushes the
    bottom margin, where above it ran into the title.

    Merges into the layout dict like ``update_layout`` would (other margin, legend keys kept).
    """
    lay["margin"] = {**lay.get("margin", {}), "b": bottom}
    return legend_below(lay)


def _square(lay: dict, bound: float) -> dict:
    """Both axes shown over [-bound, bound]."""
    lay["xaxis"]["range"] = [-bound, bound]
    lay["yaxis"]["range"] = [-bound, bound]
    return lay


def _fmt(z, scale: float | None = None) -> str:
    """A real or complex eigenvalue with 3 significant digits; parts below 1e-12 of ``scale`` (default
    ``|z|``; pass the largest ``|λ|`` so a round-off λ₂ of a singular matrix reads 0) are 0."""
    z = complex(z)
    scale = abs(z) if scale is None else scale
    re, im = tidy(z.real, scale), tidy(z.imag, scale)
    if im == 0:
        return num(re)
    return f"{num(re)} {'+' if im > 0 else '−'} {num(abs(im))}i"


def plane_bound(a) -> float:
    """Half-width of a square view that holds the unit circle, its image and a margin."""
    a = np.asarray(a, float)
    return float(max(1.3, 1.15 * np.linalg.norm(a, 2) if a.size else 1.3))


def _line(pts, name: str, **kw) -> dict:
    """A scatter trace through the rows of ``pts`` (shape (n, 2)) as lines."""
    return dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", name=name, **kw)


def _grid(a, bound: float, lines: int = 9) -> list[dict]:
    """Fixed grey grid and its image under A (3Blue1Brown style), as two traces with NaN breaks."""
    ticks = np.linspace(-bound, bound, lines)
    s = np.linspace(-bound, bound, 2)
    pts = []
    for t in ticks:
        pts += [np.stack([np.full(2, t), s], 1), np.full((1, 2), np.nan),
                np.stack([s, np.full(2, t)], 1), np.full((1, 2), np.nan)]
    g = np.concatenate(pts)                                            # (m, 2)
    moved = g @ np.asarray(a, float).T                                 # (m, 2)
    return [_line(g, "grid", line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip", showlegend=False),
            _line(moved, "grid after A", line=dict(color=COLORS["grid_moved"], width=1), hoverinfo="skip",
                  opacity=0.35, visible="legendonly")]


def _eigenlines(vals, vecs, bound: float) -> tuple[list[dict], list[dict]]:
    """Dashed eigenlines (trace dicts) and their λ labels (annotation dicts); none when λ is complex."""
    traces, notes = [], []
    if np.iscomplexobj(vals):
        return traces, notes
    for j in range(len(vals)):
        if j > 0 and abs(abs(float(np.dot(vecs[:, 0], vecs[:, j]))) - 1) < 1e-6:
            continue                                                   # defective: same line twice
        label = f"λ{str(j + 1).translate(SUB)} = {_fmt(vals[j], abs(vals[0]))}"
        d = np.real(vecs[:, j]) * bound * 1.5                          # (2,)
        traces.append(dict(type="scatter", x=f32([-d[0], d[0]]), y=f32([-d[1], d[1]]), mode="lines",
                           name=f"eigenline {label}", line=dict(color=EIGEN_COLORS[j % 2], width=2.5, dash="dash"),
                           hovertemplate=f"eigenline: A v = {_fmt(vals[j], abs(vals[0]))} v<extra></extra>"))
        tip = np.real(vecs[:, j]) * bound * 0.82                       # (2,)
        notes.append(dict(x=float(tip[0]), y=float(tip[1]), text=label, showarrow=False,
                          font=dict(color=EIGEN_COLORS[j % 2], size=14)))
    return traces, notes


def plane_figure(a, circle, image, vals, vecs, x, ax, on_line: bool, height: int = 520) -> go.Figure:
    """Unit circle, its image ellipse, eigenlines with λ labels, a test vector x and Ax."""
    bound = plane_bound(a)
    lines, notes = _eigenlines(vals, vecs, bound)
    xcol = COLORS["highlight"] if on_line else COLORS["x"]
    data = [*_grid(a, bound),
            _line(circle, "unit circle", line=dict(color="#868E96", width=2, dash="dot"), hoverinfo="skip"),
            _line(image, "image A·(circle)", line=dict(color=COLORS["u"], width=3), hoverinfo="skip"),
            *lines,
            arrow([0, 0], x, xcol, "x", width=4),
            arrow([0, 0], ax, COLORS["highlight"] if on_line else COLORS["e1"], "Ax", width=4)]
    title = "On an eigenline: Ax = λx" if on_line else "x and Ax point different ways"
    lay = _legend_below(layout(title, "first coordinate", "second coordinate", height=height, equal_axes=True))
    if notes:
        lay["annotations"] = notes
    return figure(data, _square(lay, bound))


def sweep_figure(a, vals, vecs, n_frames: int = 73, height: int = 480) -> go.Figure:
    """Client-side animation: x goes round the unit circle (Plotly slider), Ax follows."""
    a = np.asarray(a, float)
    bound = plane_bound(a)
    angles = np.linspace(0, 360, n_frames)
    xs = np.stack([np.cos(np.radians(angles)), np.sin(np.radians(angles))], 1)   # (F, 2)
    axs = xs @ a.T                                                                # (F, 2)
    circ = unit_circle(200)                                                       # (200, 2)
    img = circ @ a.T                                                              # (200, 2)
    lines, notes = _eigenlines(vals, vecs, bound)
    data = [_line(circ, "unit circle", line=dict(color="#868E96", dash="dot"), hoverinfo="skip"),
            _line(img, "image ellipse", line=dict(color=COLORS["u"], width=2), hoverinfo="skip"),
            *lines]
    n_static = len(data)
    for name, pts, color in (("x", xs, COLORS["x"]), ("Ax", axs, COLORS["e1"])):
        data.append(dict(type="scatter", x=f32([0, pts[0, 0]]), y=f32([0, pts[0, 1]]), mode="lines+markers",
                         name=name, line=dict(color=color, width=4),
                         marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous")))
    # Frames carry only the moving coordinates; Plotly merges them into the styled traces above.
    frames = [dict(data=[dict(type="scatter", x=f32([0, xs[i, 0]]), y=f32([0, xs[i, 1]])),
                         dict(type="scatter", x=f32([0, axs[i, 0]]), y=f32([0, axs[i, 1]]))],
                   traces=[n_static, n_static + 1], name=f"{angles[i]:.0f}") for i in range(n_frames)]
    steps = [dict(method="animate", label=f"{angles[i]:.0f}°",
                  args=[[f"{angles[i]:.0f}"], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                   transition=dict(duration=0))]) for i in range(n_frames)]
    lay = _legend_below(layout("Sweep x round the circle", "first coordinate", "second coordinate", height=height,
                               equal_axes=True))
    if notes:
        lay["annotations"] = notes
    # Slider and play button between the title and the plot (the legend has the space below): the value
    # on the left of the slider's top line, the button on the right of it, short enough to share 200 px.
    lay["sliders"] = [dict(active=0, steps=steps, currentvalue=dict(prefix="x at "), y=1.0, yanchor="bottom",
                           pad=dict(t=0, b=25))]
    lay["updatemenus"] = [dict(type="buttons", showactive=False, x=1.0, y=1.0, xanchor="right", yanchor="bottom",
                               pad=dict(b=72), buttons=[dict(label="▶ play", method="animate",
                                                             args=[None, dict(frame=dict(duration=60, redraw=False),
                                                                              fromcurrent=True,
                                                                              transition=dict(duration=0))])])]
    lay["margin"] = {**lay["margin"], "t": 175}
    lay["title"] = {**lay["title"], "y": 1.0, "yanchor": "top", "pad": dict(t=12)}
    return figure(data, _square(legend_below(lay), bound), frames=frames)


# Step labels at least this fraction of the plotted range apart: 13 px in a chart 210 px wide (one of two
# side by side at 900 px), about the size of a two-digit label.
LABEL_GAP = 0.12


def spread_labels(points, min_dist: float) -> list[str]:
    """Step numbers for the points of a path, left blank where they would pile up.

    The last point (the current step) is labelled first, then k = 0, 1, …, each only when it is at
    least ``min_dist`` (axis units) from every point labelled so far; non-finite points get none.
    """
    pts = np.asarray(points, float)                                    # (K, 2)
    labels = [""] * len(pts)
    kept = np.empty((0, 2))
    for k in [len(pts) - 1, *range(len(pts) - 1)] if len(pts) else []:
        p = pts[k]
        if np.all(np.isfinite(p)) and (not len(kept) or np.hypot(*(kept - p).T).min() >= min_dist):
            labels[k] = str(k)
            kept = np.vstack([kept, p])
    return labels


def iterates_figure(a, points, step: int, vals, vecs, normalized: bool, height: int = 480,
                    title: str | None = None) -> go.Figure:
    """The iterates x, Ax, …, A^step x as a path of arrows' tips; eigenlines when they are real.

    Step numbers label only points that are apart (:func:`spread_labels`, ``LABEL_GAP`` of the range).
    """
    pts = np.asarray(points, float)[: step + 1]                        # (k+1, 2)
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    bound = float(max(1.3, 1.1 * np.abs(finite).max() if finite.size else 1.3))
    lines, notes = _eigenlines(vals, vecs, bound)
    data = [_line(unit_circle(200), "unit circle", line=dict(color="#868E96", dash="dot"), hoverinfo="skip"),
            *lines,
            dict(type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines+markers+text", name="Aᵏx",
                 line=dict(color=COLORS["u"], width=1.5), marker=dict(size=7, color=COLORS["u"]),
                 text=spread_labels(pts, LABEL_GAP * 2 * bound), customdata=np.arange(len(pts)),
                 textposition="top center", hovertemplate="k = %{customdata}: (%{x:.3g}, %{y:.3g})<extra></extra>"),
            arrow([0, 0], pts[-1], COLORS["highlight"], f"A{str(step).translate(SUP)}x", width=4)]
    what = "Aᵏx/‖Aᵏx‖" if normalized else "Aᵏx"
    lay = _legend_below(layout(title or f"Iterates {what}, k = 0…{step}", "first coordinate", "second coordinate",
                             height=height, equal_axes=True))
    if notes:
        lay["annotations"] = notes
    return figure(data, _square(lay, bound))


def convergence_figure(angles_deg, ratio: float, step: int | None = None, height: int = 380,
                       defective: bool = False) -> go.Figure:
    """Angle to the top eigenvector vs step (log y) and the prediction θ₀·|λ₂/λ₁|ᵏ, or for a defective
    matrix (``defective``: one eigenline, |λ₂/λ₁| = 1) a 1/k curve through the last point."""
    ang = np.asarray(angles_deg, float)                                # (K,)
    k = np.arange(len(ang))                                            # (K,)
    shown = np.where(ang > 0, ang, np.nan)                             # (K,)
    data = [dict(type="scatter", x=f32(k), y=f32(shown), mode="lines+markers", name="measured angle",
                 line=dict(color=COLORS["u"], width=2), hovertemplate="step %{x}: %{y:.3g}°<extra></extra>")]
    if defective and len(ang) > 1 and ang[-1] > 0:
        pred = np.where(k > 0, ang[-1] * k[-1] / np.maximum(k, 1), np.nan)   # (K,)
        data.append(dict(type="scatter", x=f32(k), y=f32(pred), mode="lines", name="∝ 1/k (through the last step)",
                         line=dict(color=COLORS["highlight"], dash="dash", width=2)))
    elif 0 < ratio < 1 and np.isfinite(ang[0]):
        t0 = np.tan(np.radians(min(ang[0], 89.9)))
        pred = np.degrees(np.arctan(t0 * ratio ** k))                  # (K,)
        pred = np.where(pred > 1e-12, pred, np.nan)
        data.append(dict(type="scatter", x=f32(k), y=f32(pred), mode="lines", name=f"predicted ∝ {ratio:.3g}ᵏ",
                         line=dict(color=COLORS["highlight"], dash="dash", width=2)))
    lay = _legend_below(layout("Power iteration: error angle", "step k", "angle to λ₁'s line (degrees, log)",
                               height=height))
    if step is not None:                                               # what add_vline adds
        lay["shapes"] = [dict(type="line", x0=step, x1=step, xref="x", y0=0, y1=1, yref="y domain",
                              line=dict(color="#adb5bd", dash="dot"))]
    lay["yaxis"].update(type="log", exponentformat="power")
    return figure(data, lay)


def qlq_panels(q, lam, height: int = 360) -> go.Figure:
    """x → Qᵀx (rotate) → ΛQᵀx (stretch along the axes) → QΛQᵀx = Ax (rotate back)."""
    q, lam = np.asarray(q, float), np.asarray(lam, float)              # (2, 2), (2,)
    circ = unit_circle(120)                                            # (120, 2)
    stages = [np.eye(2), q.T, np.diag(lam) @ q.T, q @ np.diag(lam) @ q.T]
    titles = ["x", "Qᵀx: rotate", "ΛQᵀx: stretch", "Ax = QΛQᵀx"]     # ~100 px each at 900 px
    grid, refs = subplots(1, 4, subplot_titles=titles, horizontal_spacing=0.05)
    lay = layout(None, None, None, height=height, grid=grid)
    bound = float(max(1.3, 1.15 * np.abs(lam).max()))
    data = []
    for c, m in enumerate(stages, start=1):
        ref = refs[(1, c)]
        data.append(_line(circ @ m.T, None, showlegend=False, line=dict(color=COLORS["u"], width=2),
                          hoverinfo="skip", **ref))
        for j, name in enumerate(("q₁", "q₂")):
            data.append(arrow([0, 0], m @ q[:, j], EIGEN_COLORS[j], f"image of {name} (λ = {lam[j]:.3g})",
                              showlegend=(c == 1), **ref))
        xa, ya = "xaxis" + ref["xaxis"][1:], "yaxis" + ref["yaxis"][1:]
        lay[xa].update(range=[-bound, bound], title=dict(text="x₁"), constrain=EQUAL_CONSTRAIN)
        lay[ya].update(range=[-bound, bound], title=dict(text="x₂"), scaleanchor=ref["xaxis"], scaleratio=1,
                       constrain=EQUAL_CONSTRAIN)
    lay["margin"] = {**lay["margin"], "t": 70}
    lay["legend"] = {**lay["legend"], "y": 1.15}
    return figure(data, lay)


def cloud_figure(points, mean, lam, vecs, true_lam=None, true_vecs=None, height: int = 520) -> go.Figure:
    """A 2D point cloud with its covariance eigenvectors drawn as ±√λ·v (the principal axes)."""
    pts = np.asarray(points, float)                                    # (n, 2)
    data = [dict(type="scattergl" if len(pts) > 3000 else "scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]),
                 mode="markers", name=f"{len(pts)} samples", marker=dict(size=4, color="#868E96", opacity=0.45),
                 hovertemplate="(%{x:.3g}, %{y:.3g})<extra></extra>")]
    t = np.linspace(0, 2 * np.pi, 200)                                 # (200,)
    for k, dash in ((1, "solid"), (2, "dot")):
        ell = mean + (k * np.stack([np.cos(t), np.sin(t)], 1) * np.sqrt(np.clip(lam, 0, None))) @ vecs.T  # (200, 2)
        data.append(_line(ell, f"{k}σ ellipse", line=dict(color=COLORS["u"], dash=dash, width=1.5),
                          hoverinfo="skip"))
    for j in range(2):
        d = vecs[:, j] * np.sqrt(max(lam[j], 0))                       # (2,)
        data += [arrow(mean, mean + d, EIGEN_COLORS[j], f"PC{j + 1}: √λ{j + 1} v{j + 1} (λ = {lam[j]:.3g})",
                       width=4),
                 arrow(mean, mean - d, EIGEN_COLORS[j], "", width=4, showlegend=False)]
    if true_vecs is not None:
        for j in range(2):
            d = true_vecs[:, j] * np.sqrt(max(true_lam[j], 0))         # (2,)
            data.append(arrow([0, 0], d, "#868E96", "true axes" if j == 0 else "", dash="dot", width=2,
                              showlegend=(j == 0)))
    b = float(max(np.abs(pts).max() if len(pts) else 1.0, 1.0)) * 1.05
    lay = _legend_below(layout("Covariance eigenvectors = PCs", "feature 1", "feature 2",
                             height=height, equal_axes=True))
    return figure(data, _square(lay, b))


def spectrum_figure(vals, title: str, height: int = 560) -> go.Figure:
    """Eigenvalues in the complex plane with the unit circle."""
    v = np.asarray(vals, complex)                                      # (n,)
    data = [_line(unit_circle(400), "unit circle |λ| = 1", line=dict(color="#868E96", dash="dot"),
                  hoverinfo="skip"),
            dict(type="scattergl" if len(v) > 3000 else "scatter", x=f32(v.real), y=f32(v.imag), mode="markers",
                 name=f"{len(v)} eigenvalues",
                 marker=dict(size=6, color=f32(np.abs(v)), colorscale="Viridis", showscale=True,
                             colorbar=COLORBAR_ABOVE),
                 hovertemplate="λ = %{x:.3g} + %{y:.3g}i<extra></extra>")]
    b = float(max(1.15, 1.08 * np.abs(v).max() if len(v) else 1.15))
    lay = _legend_below(layout(title, "Re λ", "Im λ", height=height, equal_axes=True))
    lay["margin"] = {**lay["margin"], "t": 110}
    return figure(data, _square(legend_below(lay), b))


# A thin horizontal colour bar between the title and the plot: upright beside a chart 250 px wide (the
# spectrum at 900 px) it took half the width from the plot.
COLORBAR_ABOVE = dict(title=dict(text="|λ|", side="right"), orientation="h", x=0.0, xanchor="left", len=0.85,
                      lenmode="fraction", y=1.02, yanchor="bottom", thickness=10, ticklabelposition="outside top")
