"""Figures for the Eigenvectors page: the stretched plane, iterates, convergence, QΛQᵀ, spectra."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.common import COLORS, add_arrow, f32, style, unit_circle

EIGEN_COLORS = ("#D6336C", "#0CA678")    # eigenline 1, eigenline 2


SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _top_legend(fig: go.Figure, top: int = 125) -> go.Figure:
    """Title at the very top, legend in its own band between the title and the plot (no overlap)."""
    fig.update_layout(margin=dict(t=top), title=dict(y=0.985, yanchor="top"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, xanchor="left"))
    return fig


def _fmt(z) -> str:
    z = complex(z)
    if abs(z.imag) < 1e-12:
        return f"{z.real:.3g}"
    return f"{z.real:.3g} {'+' if z.imag >= 0 else '−'} {abs(z.imag):.3g}i"


def plane_bound(a) -> float:
    """Half-width of a square view that holds the unit circle, its image and a margin."""
    a = np.asarray(a, float)
    return float(max(1.3, 1.15 * np.linalg.norm(a, 2) if a.size else 1.3))


def _grid(a, bound: float, fig: go.Figure, lines: int = 9) -> None:
    """Fixed grey grid and its image under A (3Blue1Brown style), as two traces with NaN breaks."""
    ticks = np.linspace(-bound, bound, lines)
    s = np.linspace(-bound, bound, 2)
    pts = []
    for t in ticks:
        pts += [np.stack([np.full(2, t), s], 1), np.full((1, 2), np.nan),
                np.stack([s, np.full(2, t)], 1), np.full((1, 2), np.nan)]
    g = np.concatenate(pts)                                            # (m, 2)
    moved = g @ np.asarray(a, float).T                                 # (m, 2)
    fig.add_trace(go.Scatter(x=f32(g[:, 0]), y=f32(g[:, 1]), mode="lines", name="grid",
                             line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=f32(moved[:, 0]), y=f32(moved[:, 1]), mode="lines", name="grid after A",
                             line=dict(color=COLORS["grid_moved"], width=1), hoverinfo="skip",
                             opacity=0.35, visible="legendonly"))


def _eigenlines(fig: go.Figure, vals, vecs, bound: float, row=None, col=None) -> None:
    if np.iscomplexobj(vals):
        return
    for j in range(len(vals)):
        if j > 0 and abs(abs(float(np.dot(vecs[:, 0], vecs[:, j]))) - 1) < 1e-6:
            continue                                                   # defective: same line twice
        d = np.real(vecs[:, j]) * bound * 1.5
        fig.add_trace(go.Scatter(
            x=f32([-d[0], d[0]]), y=f32([-d[1], d[1]]), mode="lines", name=f"eigenline λ{str(j + 1).translate(SUB)} = {_fmt(vals[j])}",
            line=dict(color=EIGEN_COLORS[j % 2], width=2.5, dash="dash"),
            hovertemplate=f"eigenline: A v = {_fmt(vals[j])} v<extra></extra>"), row=row, col=col)
        tip = np.real(vecs[:, j]) * bound * 0.82
        fig.add_annotation(x=float(tip[0]), y=float(tip[1]), text=f"λ{str(j + 1).translate(SUB)} = {_fmt(vals[j])}", showarrow=False,
                           font=dict(color=EIGEN_COLORS[j % 2], size=14), bgcolor="rgba(255,255,255,0.8)",
                           row=row, col=col)


def plane_figure(a, circle, image, vals, vecs, x, ax, on_line: bool, height: int = 520) -> go.Figure:
    """Unit circle, its image ellipse, eigenlines with λ labels, a test vector x and Ax."""
    bound = plane_bound(a)
    fig = go.Figure()
    _grid(a, bound, fig)
    fig.add_trace(go.Scatter(x=f32(circle[:, 0]), y=f32(circle[:, 1]), mode="lines", name="unit circle",
                             line=dict(color="#868E96", width=2, dash="dot"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=f32(image[:, 0]), y=f32(image[:, 1]), mode="lines", name="image A·(circle)",
                             line=dict(color=COLORS["u"], width=3), hoverinfo="skip"))
    _eigenlines(fig, vals, vecs, bound)
    xcol = COLORS["highlight"] if on_line else COLORS["x"]
    add_arrow(fig, [0, 0], x, xcol, "x", width=4)
    add_arrow(fig, [0, 0], ax, COLORS["highlight"] if on_line else COLORS["e1"], "Ax", width=4)
    title = "x is on an eigenline: Ax = λx (only stretched)" if on_line else "x and Ax point different ways"
    style(fig, title, "first coordinate", "second coordinate", height=height, equal_axes=True)
    _top_legend(fig)
    fig.update_xaxes(range=[-bound, bound])
    fig.update_yaxes(range=[-bound, bound])
    return fig


def sweep_figure(a, vals, vecs, n_frames: int = 73, height: int = 480) -> go.Figure:
    """Client-side animation: x goes round the unit circle (Plotly slider), Ax follows."""
    a = np.asarray(a, float)
    bound = plane_bound(a)
    angles = np.linspace(0, 360, n_frames)
    xs = np.stack([np.cos(np.radians(angles)), np.sin(np.radians(angles))], 1)   # (F, 2)
    axs = xs @ a.T                                                                # (F, 2)
    circ = unit_circle(200)
    img = circ @ a.T
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=f32(circ[:, 0]), y=f32(circ[:, 1]), mode="lines", name="unit circle",
                             line=dict(color="#868E96", dash="dot"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=f32(img[:, 0]), y=f32(img[:, 1]), mode="lines", name="image ellipse",
                             line=dict(color=COLORS["u"], width=2), hoverinfo="skip"))
    _eigenlines(fig, vals, vecs, bound)
    n_static = len(fig.data)

    for name, pts, color in (("x", xs, COLORS["x"]), ("Ax", axs, COLORS["e1"])):
        fig.add_trace(go.Scatter(x=f32([0, pts[0, 0]]), y=f32([0, pts[0, 1]]), mode="lines+markers", name=name,
                                 line=dict(color=color, width=4),
                                 marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous")))
    # Frames carry only the moving coordinates; Plotly merges them into the styled traces above.
    fig.frames = [dict(data=[dict(type="scatter", x=f32([0, xs[i, 0]]), y=f32([0, xs[i, 1]])),
                             dict(type="scatter", x=f32([0, axs[i, 0]]), y=f32([0, axs[i, 1]]))],
                       traces=[n_static, n_static + 1], name=f"{angles[i]:.0f}") for i in range(n_frames)]
    steps = [dict(method="animate", label=f"{angles[i]:.0f}°",
                  args=[[f"{angles[i]:.0f}"], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                   transition=dict(duration=0))]) for i in range(n_frames)]
    style(fig, "Sweep x round the circle (in your browser, no rerun)", "first coordinate", "second coordinate",
          height=height, equal_axes=True)
    _top_legend(fig)
    fig.update_xaxes(range=[-bound, bound])
    fig.update_yaxes(range=[-bound, bound])
    fig.update_layout(
        sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="angle of x = "), pad=dict(t=60),
                     x=0.17, len=0.83)],
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=-0.26, xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=60, redraw=False), fromcurrent=True,
                                                         transition=dict(duration=0))])])],
        margin=dict(b=150, t=125))
    return fig


def iterates_figure(a, points, step: int, vals, vecs, normalized: bool, height: int = 480,
                    title: str | None = None) -> go.Figure:
    """The iterates x, Ax, …, A^step x as a path of arrows' tips; eigenlines when they are real."""
    pts = np.asarray(points, float)[: step + 1]
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    bound = float(max(1.3, 1.1 * np.abs(finite).max() if finite.size else 1.3))
    fig = go.Figure()
    circ = unit_circle(200)
    fig.add_trace(go.Scatter(x=f32(circ[:, 0]), y=f32(circ[:, 1]), mode="lines", name="unit circle",
                             line=dict(color="#868E96", dash="dot"), hoverinfo="skip"))
    _eigenlines(fig, vals, vecs, bound)
    fig.add_trace(go.Scatter(x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines+markers+text", name="Aᵏx",
                             line=dict(color=COLORS["u"], width=1.5), marker=dict(size=7, color=COLORS["u"]),
                             text=[f"{k}" if k < 12 or k == step else "" for k in range(len(pts))],
                             textposition="top center",
                             hovertemplate="k = %{text}: (%{x:.3g}, %{y:.3g})<extra></extra>"))
    add_arrow(fig, [0, 0], pts[-1], COLORS["highlight"], f"A{str(step).translate(SUP)}x", width=4)
    what = "Aᵏx / ‖Aᵏx‖" if normalized else "Aᵏx"
    style(fig, title or f"Iterates {what}, k = 0 … {step}", "first coordinate", "second coordinate",
          height=height, equal_axes=True)
    _top_legend(fig)
    fig.update_xaxes(range=[-bound, bound])
    fig.update_yaxes(range=[-bound, bound])
    return fig


def convergence_figure(angles_deg, ratio: float, step: int | None = None, height: int = 380) -> go.Figure:
    """Angle to the top eigenvector vs step (log y) and the prediction θ₀·|λ₂/λ₁|ᵏ."""
    ang = np.asarray(angles_deg, float)
    k = np.arange(len(ang))
    shown = np.where(ang > 0, ang, np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=f32(k), y=f32(shown), mode="lines+markers", name="measured angle",
                             line=dict(color=COLORS["u"], width=2),
                             hovertemplate="step %{x}: %{y:.3g}°<extra></extra>"))
    if 0 < ratio < 1 and np.isfinite(ang[0]):
        t0 = np.tan(np.radians(min(ang[0], 89.9)))
        pred = np.degrees(np.arctan(t0 * ratio ** k))
        pred = np.where(pred > 1e-12, pred, np.nan)
        fig.add_trace(go.Scatter(x=f32(k), y=f32(pred), mode="lines", name=f"predicted ∝ {ratio:.3g}ᵏ",
                                 line=dict(color=COLORS["highlight"], dash="dash", width=2)))
    if step is not None:
        fig.add_vline(x=step, line=dict(color="#adb5bd", dash="dot"))
    style(fig, "Power iteration: angle to the top eigenvector", "step k", "angle (degrees, log scale)",
          height=height)
    _top_legend(fig, top=100)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def qlq_panels(q, lam, height: int = 360) -> go.Figure:
    """x → Qᵀx (rotate) → ΛQᵀx (stretch along the axes) → QΛQᵀx = Ax (rotate back)."""
    q, lam = np.asarray(q, float), np.asarray(lam, float)
    circ = unit_circle(120)
    stages = [np.eye(2), q.T, np.diag(lam) @ q.T, q @ np.diag(lam) @ q.T]
    titles = ["x (unit circle)", "Qᵀx: rotate", "ΛQᵀx: stretch", "QΛQᵀx = Ax: rotate back"]
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.05)
    style(fig, None, None, None, height=height)
    bound = float(max(1.3, 1.15 * np.abs(lam).max()))
    for c, m in enumerate(stages, start=1):
        pts = circ @ m.T
        fig.add_trace(go.Scatter(x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", showlegend=False,
                                 line=dict(color=COLORS["u"], width=2), hoverinfo="skip"), row=1, col=c)
        for j, name in enumerate(("q₁", "q₂")):
            tip = m @ q[:, j]
            add_arrow(fig, [0, 0], tip, EIGEN_COLORS[j], f"image of {name} (λ = {lam[j]:.3g})",
                      showlegend=(c == 1), row=1, col=c)
        fig.update_xaxes(range=[-bound, bound], title_text="x₁", row=1, col=c)
        fig.update_yaxes(range=[-bound, bound], title_text="x₂", row=1, col=c,
                         scaleanchor=f"x{'' if c == 1 else c}", scaleratio=1)
    fig.update_layout(margin=dict(t=70), legend=dict(y=1.15))
    return fig


def cloud_figure(points, mean, lam, vecs, true_lam=None, true_vecs=None, height: int = 520) -> go.Figure:
    """A 2D point cloud with its covariance eigenvectors drawn as ±√λ·v (the principal axes)."""
    pts = np.asarray(points, float)
    Scatter = go.Scattergl if len(pts) > 3000 else go.Scatter
    fig = go.Figure(Scatter(x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="markers", name=f"{len(pts)} samples",
                            marker=dict(size=4, color="#868E96", opacity=0.45),
                            hovertemplate="(%{x:.3g}, %{y:.3g})<extra></extra>"))
    t = np.linspace(0, 2 * np.pi, 200)
    for k, dash in ((1, "solid"), (2, "dot")):
        ell = mean + (k * np.stack([np.cos(t), np.sin(t)], 1) * np.sqrt(np.clip(lam, 0, None))) @ vecs.T
        fig.add_trace(go.Scatter(x=f32(ell[:, 0]), y=f32(ell[:, 1]), mode="lines", name=f"{k}σ ellipse",
                                 line=dict(color=COLORS["u"], dash=dash, width=1.5), hoverinfo="skip"))
    for j in range(2):
        d = vecs[:, j] * np.sqrt(max(lam[j], 0))
        add_arrow(fig, mean, mean + d, EIGEN_COLORS[j], f"PC{j + 1}: √λ{j + 1} v{j + 1} (λ = {lam[j]:.3g})", width=4)
        add_arrow(fig, mean, mean - d, EIGEN_COLORS[j], "", width=4, showlegend=False)
    if true_vecs is not None:
        for j in range(2):
            d = true_vecs[:, j] * np.sqrt(max(true_lam[j], 0))
            add_arrow(fig, [0, 0], d, "#212529", "true axes" if j == 0 else "", dash="dot", width=2,
                      showlegend=(j == 0))
    b = float(max(np.abs(pts).max() if len(pts) else 1.0, 1.0)) * 1.05
    style(fig, "Sample covariance eigenvectors = principal components", "feature 1", "feature 2",
          height=height, equal_axes=True)
    _top_legend(fig)
    fig.update_xaxes(range=[-b, b])
    fig.update_yaxes(range=[-b, b])
    return fig


def spectrum_figure(vals, title: str, height: int = 560) -> go.Figure:
    """Eigenvalues in the complex plane with the unit circle."""
    v = np.asarray(vals, complex)
    Scatter = go.Scattergl if len(v) > 3000 else go.Scatter
    circ = unit_circle(400)
    fig = go.Figure(go.Scatter(x=f32(circ[:, 0]), y=f32(circ[:, 1]), mode="lines", name="unit circle |λ| = 1",
                               line=dict(color="#868E96", dash="dot"), hoverinfo="skip"))
    fig.add_trace(Scatter(x=f32(v.real), y=f32(v.imag), mode="markers", name=f"{len(v)} eigenvalues",
                          marker=dict(size=6, color=f32(np.abs(v)), colorscale="Viridis", showscale=True,
                                      colorbar=dict(title=dict(text="|λ|", side="right"))),
                          hovertemplate="λ = %{x:.3g} + %{y:.3g}i<extra></extra>"))
    b = float(max(1.15, 1.08 * np.abs(v).max() if len(v) else 1.15))
    style(fig, title, "Re λ", "Im λ", height=height, equal_axes=True)
    _top_legend(fig, top=100)
    fig.update_xaxes(range=[-b, b])
    fig.update_yaxes(range=[-b, b])
    return fig
