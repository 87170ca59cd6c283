"""Figures for the Geometry page: RoPE rotations, norm balls, distance concentration."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.common import COLORS, add_arrow, f32, heatmap, style, unit_circle

NORM_COLORS = {"l1": COLORS["e1"], "l2": COLORS["x"], "linf": COLORS["e2"]}
NORM_LABELS = {"l1": "L1 (|x|+|y|)", "l2": "L2 (√(x²+y²))", "linf": "L∞ (max |x|, |y|)"}


def _legend_below(fig: go.Figure, bottom: int = 120, y: float = -0.16) -> go.Figure:
    """Legend under the plot, so long titles and legends never overlap in a half-width column."""
    fig.update_layout(legend=dict(orientation="h", x=0.0, xanchor="left", y=y, yanchor="top"),
                      margin=dict(b=bottom))
    return fig


def _rot(v, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def rope_pair_figure(q, k, m: int, n: int, theta: float, height: int = 460) -> go.Figure:
    """One RoPE pair in its 2D plane: q at position 0 (dashed), q rotated by mθ, k rotated by nθ.

    The angle between the rotated q and k is (m − n)θ: only the offset matters.
    """
    q, k = np.asarray(q, float), np.asarray(k, float)
    r = max(np.linalg.norm(q), np.linalg.norm(k), 1e-9) * 1.25
    fig = go.Figure()
    circ = unit_circle(200) * np.linalg.norm(q)
    fig.add_trace(go.Scatter(x=f32(circ[:, 0]), y=f32(circ[:, 1]), mode="lines", name="|q| circle",
                             line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"))
    qm, kn = _rot(q, m * theta), _rot(k, n * theta)
    # the arc swept by q from position 0 to m (wrapped to at most a few turns for legibility)
    a = np.linspace(0.0, m * theta, max(2, min(2000, int(abs(m * theta) * 20) + 2)))
    base_angle = np.arctan2(q[1], q[0])
    rad = 0.35 * np.linalg.norm(q)
    fig.add_trace(go.Scatter(x=f32(rad * np.cos(base_angle + a)), y=f32(rad * np.sin(base_angle + a)), mode="lines",
                             name=f"mθ = {m * theta:.3g} rad", line=dict(color=COLORS["highlight"], width=2),
                             hoverinfo="skip"))
    add_arrow(fig, [0, 0], q, COLORS["grid_moved"], "q at position 0", dash="dash", width=2)
    add_arrow(fig, [0, 0], qm, COLORS["e1"], f"q at m = {m}")
    add_arrow(fig, [0, 0], kn, COLORS["e2"], f"k at n = {n}")
    style(fig, f"m − n = {m - n}: q·k = {float(qm @ kn):.3f}", "pair dim 2i", "pair dim 2i+1",
          height=height, equal_axes=True)
    _legend_below(fig)
    fig.update_xaxes(range=[-r, r])
    fig.update_yaxes(range=[-r, r])
    return fig


def rope_pair_animation(q, theta: float, positions, height: int = 460) -> go.Figure:
    """Client-side animation: q rotating by mθ as the position m runs through ``positions``."""
    q = np.asarray(q, float)
    positions = np.asarray(positions, int)
    r = max(np.linalg.norm(q), 1e-9) * 1.25
    circ = unit_circle(200) * np.linalg.norm(q)

    def tip(m):
        v = _rot(q, m * theta)
        return f32([0, v[0]]), f32([0, v[1]])

    x0, y0 = tip(positions[0])
    fig = go.Figure([
        go.Scatter(x=f32(circ[:, 0]), y=f32(circ[:, 1]), mode="lines", name="|q| circle",
                   line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"),
        go.Scatter(x=x0, y=y0, mode="lines+markers", name="q rotated by mθ",
                   line=dict(color=COLORS["e1"], width=3),
                   marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous", color=COLORS["e1"])),
    ])
    frames = []
    for m in positions:
        x, y = tip(m)
        frames.append(go.Frame(data=[go.Scatter(x=x, y=y)], traces=[1], name=str(int(m))))
    fig.frames = frames
    steps = [dict(method="animate", label=str(int(m)),
                  args=[[str(int(m))], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                            transition=dict(duration=0))]) for m in positions]
    fig.update_layout(
        sliders=[dict(steps=steps, currentvalue=dict(prefix="position m = "), x=0.2, len=0.8, y=-0.12,
                      yanchor="top", pad=dict(t=10))],
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0.0, y=-0.2,
                          xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=80, redraw=False), fromcurrent=True,
                                                         transition=dict(duration=0))]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
    )
    style(fig, "Play: q turning as m runs 0 … " + str(int(positions[-1])), None, "pair dim 2i+1",
          height=height + 40, equal_axes=True)
    fig.update_layout(showlegend=False, margin=dict(b=130))
    fig.update_xaxes(range=[-r, r])
    fig.update_yaxes(range=[-r, r])
    return fig


def rope_scores_figure(scores, height: int = 460) -> go.Figure:
    """Heatmap of q_m · k_n over query position m (rows) and key position n (columns)."""
    fig = heatmap(scores, "q_m · k_n", title="rope(q, m) · rope(k, n): constant along each diagonal m − n",
                  x_title="key position n", y_title="query position m", signed=True, height=height)
    return fig


def rope_offset_figure(scores, height: int = 360) -> go.Figure:
    """Every entry of the score matrix plotted against m − n: they fall on one curve."""
    s = np.asarray(scores, float)
    P = s.shape[0]
    m, n = np.meshgrid(np.arange(P), np.arange(P), indexing="ij")
    off = (m - n).ravel()
    trace = go.Scattergl if P * P > 3000 else go.Scatter
    fig = go.Figure(trace(x=f32(off), y=f32(s.ravel()), mode="markers", name="all (m, n) pairs",
                          marker=dict(size=4, color=COLORS["u"], opacity=0.5),
                          hovertemplate="m − n = %{x}<br>q_m·k_n = %{y:.4g}<extra></extra>"))
    style(fig, f"All {P * P:,} scores against the offset m − n: one curve", "offset m − n", "q_m · k_n",
          height=height)
    return fig


def rope_speeds_figure(theta, positions, height: int = 420) -> go.Figure:
    """cos(m θ_i) for every pair i over positions m, next to the wavelength 2π/θ_i of each pair."""
    theta = np.asarray(theta, float)
    positions = np.asarray(positions, float)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.2,
                        subplot_titles=("cos(m θ_i): fast pairs (top) spin, slow pairs barely move",
                                        "wavelength 2π/θ_i (positions per full turn)"))
    z = np.cos(theta[:, None] * positions[None, :])  # (d/2, P)
    fig.add_trace(go.Heatmap(z=f32(z), x=f32(positions), y=np.arange(theta.size), zmin=-1, zmax=1, zmid=0,
                             colorscale="RdBu_r", colorbar=dict(title=dict(text="cos(mθ_i)", side="right"), x=0.5, len=0.9),
                             hovertemplate="pair %{y}<br>m %{x}<br>cos %{z:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=np.arange(theta.size), y=f32(2 * np.pi / theta), mode="lines+markers",
                             name="wavelength", marker=dict(size=4, color=COLORS["e1"]),
                             line=dict(color=COLORS["e1"]),
                             hovertemplate="pair %{x}<br>%{y:.4g} positions<extra></extra>"), row=1, col=2)
    style(fig, None, None, None, height=height)
    fig.update_layout(showlegend=False)
    fig.update_xaxes(title_text="position m", row=1, col=1)
    fig.update_yaxes(title_text="pair index i", autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="pair index i", row=1, col=2)
    fig.update_yaxes(title_text="positions (log)", type="log", row=1, col=2)
    return fig


def norm_balls_figure(v, scaled: bool = True, height: int = 480) -> go.Figure:
    """The L1, L2 and L∞ balls in 2D with the vector ``v``.

    ``scaled=True`` draws each ball with radius ‖v‖_p, so all three pass through v;
    otherwise the unit balls are drawn.
    """
    v = np.asarray(v, float)
    t = np.linspace(0, 2 * np.pi, 361)
    shapes = {
        "l2": np.stack([np.cos(t), np.sin(t)], 1),
        "l1": np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], float),
        "linf": np.array([[1, 1], [-1, 1], [-1, -1], [1, -1], [1, 1]], float),
    }
    radii = {"l1": np.abs(v).sum(), "l2": np.linalg.norm(v), "linf": np.abs(v).max()}
    fig = go.Figure()
    lim = 1.0
    for name in ("l1", "l2", "linf"):
        r = radii[name] if scaled else 1.0
        pts = shapes[name] * r
        lim = max(lim, float(np.abs(pts).max()))
        label = f"{NORM_LABELS[name]} = {radii[name]:.3f}" if scaled else f"unit {NORM_LABELS[name].split()[0]} ball"
        fig.add_trace(go.Scatter(x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="lines", name=label,
                                 line=dict(color=NORM_COLORS[name], width=2), hoverinfo="skip"))
    add_arrow(fig, [0, 0], v, COLORS["highlight"], f"v = ({v[0]:.2f}, {v[1]:.2f})", width=3.5)
    lim = max(lim, float(np.abs(v).max())) * 1.15
    title = "Balls through v (radius = that norm of v)" if scaled else "Unit balls (v outside ⇔ that norm > 1)"
    style(fig, title, "x", "y", height=height, equal_axes=True)
    _legend_below(fig, bottom=110)
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    return fig


def concentration_hist_figure(distances, cosines, d: int, height: int = 400) -> go.Figure:
    """Histograms of pairwise distances (relative to their mean) and of cosine similarities."""
    dist = np.asarray(distances, float)
    cos = np.asarray(cosines, float)
    rel = dist / dist.mean() if dist.size and dist.mean() > 0 else dist
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"distance / mean distance (d = {d})",
                                        f"cosine similarity (d = {d})"))
    fig.add_trace(go.Histogram(x=f32(rel), nbinsx=60, name="distances", marker_color=COLORS["e2"],
                               hovertemplate="%{x}<br>%{y} pairs<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Histogram(x=f32(cos), nbinsx=60, name="cosines", marker_color=COLORS["e1"],
                               hovertemplate="%{x}<br>%{y} pairs<extra></extra>"), row=1, col=2)
    style(fig, None, None, None, height=height)
    fig.update_layout(showlegend=False, bargap=0.02)
    fig.update_xaxes(title_text="pairwise distance ÷ its mean", range=[0, max(2.5, float(rel.max()) * 1.02)],
                     row=1, col=1)
    fig.update_xaxes(title_text="cos(x_i, x_j)", range=[-1, 1], row=1, col=2)
    fig.update_yaxes(title_text="number of pairs", row=1, col=1)
    fig.update_yaxes(title_text="number of pairs", row=1, col=2)
    return fig


def contrast_figure(dims, contrast, cos_std, current: int | None = None, height: int = 380) -> go.Figure:
    """The contrast (max − min)/min of pairwise distances and the spread of cosines against d."""
    dims = np.asarray(dims, float)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=f32(dims), y=f32(contrast), mode="lines+markers", name="(max − min) / min distance",
                             line=dict(color=COLORS["e2"]),
                             hovertemplate="d = %{x}<br>contrast %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=f32(dims), y=f32(cos_std), mode="lines+markers", name="std of cosine similarity",
                             line=dict(color=COLORS["e1"]),
                             hovertemplate="d = %{x}<br>std %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=f32(dims), y=f32(1 / np.sqrt(dims)), mode="lines", name="1/√d",
                             line=dict(color=COLORS["resid"], dash="dot")))
    if current is not None:
        lo = float(min(np.min(contrast), np.min(cos_std), 1 / np.sqrt(dims.max())))
        hi = float(max(np.max(contrast), np.max(cos_std)))
        fig.add_trace(go.Scatter(x=f32([current, current]), y=f32([lo, hi]), mode="lines", name=f"current d = {current}",
                                 line=dict(color=COLORS["highlight"], width=2, dash="dash"), hoverinfo="skip"))
    style(fig, "Contrast shrinks as d grows: nearest and farthest become almost equally far",
          "dimension d (log)", "value (log)", height=height)
    _legend_below(fig, bottom=120, y=-0.3)
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig
