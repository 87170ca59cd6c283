"""Figures for the Geometry page: RoPE rotations, norm balls, distance concentration.

Built in one step from plain dicts (see :func:`figures.common.figure`): every slider press rebuilds them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, arrow, f32, figure, heatmap, layout, legend_below, unit_circle

NORM_COLORS = {"l1": COLORS["e1"], "l2": COLORS["x"], "linf": COLORS["e2"]}
ANIM_BUTTONS_PX = 170   # room left of the animation slider for the play and pause buttons
NORM_LABELS = {"l1": "L1 (|x|+|y|)", "l2": "L2 (√(x²+y²))", "linf": "L∞ (max |x|, |y|)"}


def _legend_below(lay: dict, bottom: int = 120) -> dict:
    """Legend in rows under the plot, a fixed distance below the x-axis title (so long titles and legends
    never overlap, whatever the chart's width); ``bottom``: the room left for it."""
    lay["margin"] = {**lay["margin"], "b": bottom}
    return legend_below(lay)


def _rot(v, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _line(x, y, name: str, line: dict, **extra) -> dict:
    """A scatter trace drawn as a line (float32 coordinates)."""
    return dict(type="scatter", x=f32(x), y=f32(y), mode="lines", name=name, line=line, **extra)


def turns_text(angle: float) -> str:
    """An angle in radians as whole turns plus the rest: ``"10 rad = 1 turn + 3.717 rad"``."""
    turns, rest = divmod(float(angle), 2 * np.pi)
    if turns == 0:
        return f"{angle:.4g} rad"
    word = "turn" if turns == 1 else "turns"
    return f"{angle:.4g} rad = {int(turns):,} {word} + {rest:.3f} rad"


def rope_pair_figure(q, k, m: int, n: int, theta: float, height: int = 460,
                     axes=("pair dim 2i", "pair dim 2i+1")) -> go.Figure:
    """One RoPE pair in its 2D plane: q at position 0 (dashed), q rotated by mθ, k rotated by nθ.

    The angle between the rotated q and k is (m − n)θ: only the offset matters. The arc marks
    mθ modulo 2π (the arrow's direction); its legend entry gives the whole turns as well.
    """
    q, k = np.asarray(q, float), np.asarray(k, float)
    r = max(np.linalg.norm(q), np.linalg.norm(k), 1e-9) * 1.25
    circ = unit_circle(200) * np.linalg.norm(q)  # (200, 2)
    qm, kn = _rot(q, m * theta), _rot(k, n * theta)
    rest = float(np.mod(m * theta, 2 * np.pi))
    a = np.linspace(0.0, rest, max(2, int(rest * 20) + 2))  # (≤ 128,)
    base_angle = np.arctan2(q[1], q[0])
    rad = 0.35 * np.linalg.norm(q)
    data = [
        _line(circ[:, 0], circ[:, 1], "|q| circle", dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"),
        _line(rad * np.cos(base_angle + a), rad * np.sin(base_angle + a), f"mθ = {turns_text(m * theta)}",
              dict(color=COLORS["highlight"], width=2), hoverinfo="skip"),
        arrow([0, 0], q, COLORS["grid_moved"], "q at position 0", dash="dash", width=2),
        arrow([0, 0], qm, COLORS["e1"], f"q at m = {m}"),
        arrow([0, 0], kn, COLORS["e2"], f"k at n = {n}"),
    ]
    lay = _legend_below(layout(f"m − n = {m - n}: this pair's q·k = {float(qm @ kn):.3f}", *axes, height=height,
                               equal_axes=True))
    lay["xaxis"]["range"] = lay["yaxis"]["range"] = [-r, r]
    return figure(data, lay)


def rope_pair_animation(q, theta: float, positions, height: int = 460) -> go.Figure:
    """Client-side animation: q rotating by mθ as the position m runs through ``positions``."""
    q = np.asarray(q, float)
    positions = np.asarray(positions, int)
    r = max(np.linalg.norm(q), 1e-9) * 1.25
    circ = unit_circle(200) * np.linalg.norm(q)  # (200, 2)

    def tip(m):
        v = _rot(q, m * theta)
        return f32([0, v[0]]), f32([0, v[1]])

    x0, y0 = tip(positions[0])
    data = [
        _line(circ[:, 0], circ[:, 1], "|q| circle", dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"),
        dict(type="scatter", x=x0, y=y0, mode="lines+markers", name="q rotated by mθ",
             line=dict(color=COLORS["e1"], width=3),
             marker=dict(symbol=["circle", "arrow"], size=[1, 14], angleref="previous", color=COLORS["e1"])),
    ]
    frames = []
    for m in positions:
        x, y = tip(m)
        frames.append(dict(data=[dict(type="scatter", x=x, y=y)], traces=[1], name=str(int(m))))
    steps = [dict(method="animate", label=str(int(m)),
                  args=[[str(int(m))], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                            transition=dict(duration=0))]) for m in positions]
    lay = layout("Play: q turning as m runs 0 … " + str(int(positions[-1])), None, "pair dim 2i+1",
                 height=height + 40, equal_axes=True)
    # one row under the plot: the buttons at the left, the slider's rail starting after them
    # (pad.l), so the buttons never cover the start of the slider
    lay.update(
        sliders=[dict(steps=steps, currentvalue=dict(prefix="position m = "), x=0.0, xanchor="left", len=1.0,
                      y=-0.1, yanchor="top", pad=dict(t=10, l=ANIM_BUTTONS_PX))],
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0.0, xanchor="left", y=-0.1,
                          yanchor="top", pad=dict(t=38, r=0, l=0, b=0),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=80, redraw=False), fromcurrent=True,
                                                         transition=dict(duration=0))]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
        showlegend=False,
    )
    lay["margin"] = {**lay["margin"], "b": 130}
    lay["xaxis"]["range"] = lay["yaxis"]["range"] = [-r, r]
    return figure(data, lay, frames=frames)


def rope_scores_figure(scores, height: int = 460, title: str | None = None) -> go.Figure:
    """Heatmap of q_m · k_n over query position m (rows) and key position n (columns)."""
    fig = heatmap(scores, "q_m · k_n", title=title or "rope(q, m) · rope(k, n) at every (m, n)",
                  x_title="key position n", y_title="query position m", signed=True, height=height)
    return fig


def rope_offset_figure(scores, height: int = 360, mark: tuple | None = None, title: str | None = None) -> go.Figure:
    """Every entry of the score matrix plotted against m − n: they fall on one curve.

    ``mark = (offset, score, label)`` adds one highlighted point (e.g. the model's own q·k).
    """
    s = np.asarray(scores, float)  # (P, P)
    P = s.shape[0]
    m, n = np.meshgrid(np.arange(P), np.arange(P), indexing="ij")  # (P, P) each
    off = (m - n).ravel()  # (P*P,)
    data = [dict(type="scattergl" if P * P > 3000 else "scatter", x=f32(off), y=f32(s.ravel()), mode="markers",
                 name="all (m, n) pairs", marker=dict(size=4, color=COLORS["u"], opacity=0.5),
                 hovertemplate="m − n = %{x}<br>q_m·k_n = %{y:.4g}<extra></extra>")]
    if mark is not None:
        x, y, label = mark
        data.append(dict(type="scatter", x=[float(x)], y=[float(y)], mode="markers", name=label,
                         marker=dict(size=14, color=COLORS["highlight"], symbol="star",
                                     line=dict(width=1, color="black")),
                         hovertemplate=f"{label}<br>m − n = %{{x}}<br>q·k = %{{y:.4g}}<extra></extra>"))
    lay = layout(title or f"All {P * P:,} scores against m − n: one curve", "offset m − n",
                 "q_m · k_n", height=height)
    if mark is not None:
        lay = _legend_below(lay, bottom=130)
    return figure(data, lay)


def rope_speeds_figure(theta, positions, height: int = 420) -> go.Figure:
    """cos(m θ_i) for every pair i (rows, the fastest at the top) over positions m."""
    theta = np.asarray(theta, float)  # (d/2,)
    positions = np.asarray(positions, float)  # (P,)
    z = np.cos(theta[:, None] * positions[None, :])  # (d/2, P)
    data = [dict(type="heatmap", z=f32(z), x=f32(positions), y=np.arange(theta.size), zmin=-1, zmax=1, zmid=0,
                 colorscale="RdBu_r", colorbar=dict(title=dict(text="cos(mθ_i)", side="right"), thickness=14),
                 hovertemplate="pair %{y}<br>m %{x}<br>cos %{z:.3f}<extra></extra>")]
    lay = layout("cos(m θ_i): each pair turning", "position m", "pair i (0 = fastest)", height=height)
    lay["yaxis"]["autorange"] = "reversed"
    return figure(data, lay)


def rope_wavelength_figure(theta, height: int = 420) -> go.Figure:
    """The wavelength 2π/θ_i of every pair: how many positions one full turn takes (log scale)."""
    theta = np.asarray(theta, float)  # (d/2,)
    data = [dict(type="scatter", x=np.arange(theta.size), y=f32(2 * np.pi / theta), mode="lines+markers",
                 name="wavelength", marker=dict(size=4, color=COLORS["e1"]), line=dict(color=COLORS["e1"]),
                 hovertemplate="pair %{x}<br>%{y:.4g} positions<extra></extra>")]
    lay = layout("Wavelength 2π/θ_i of each pair", "pair i", "positions per full turn (log)", height=height)
    lay["showlegend"] = False
    lay["yaxis"]["type"] = "log"
    return figure(data, lay)


def norm_balls_figure(v, scaled: bool = True, height: int = 480) -> go.Figure:
    """The L1, L2 and L∞ balls in 2D with the vector ``v``.

    ``scaled=True`` draws each ball with radius ‖v‖_p, so all three pass through v;
    otherwise the unit balls are drawn.
    """
    v = np.asarray(v, float)  # (2,)
    t = np.linspace(0, 2 * np.pi, 361)
    shapes = {
        "l2": np.stack([np.cos(t), np.sin(t)], 1),  # (361, 2)
        "l1": np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], float),  # (5, 2)
        "linf": np.array([[1, 1], [-1, 1], [-1, -1], [1, -1], [1, 1]], float),  # (5, 2)
    }
    radii = {"l1": np.abs(v).sum(), "l2": np.linalg.norm(v), "linf": np.abs(v).max()}
    data = []
    lim = 1.0
    for name in ("l1", "l2", "linf"):
        r = radii[name] if scaled else 1.0
        pts = shapes[name] * r
        lim = max(lim, float(np.abs(pts).max()))
        label = f"{NORM_LABELS[name]} = {radii[name]:.3f}" if scaled else f"unit {NORM_LABELS[name].split()[0]} ball"
        data.append(_line(pts[:, 0], pts[:, 1], label, dict(color=NORM_COLORS[name], width=2), hoverinfo="skip"))
    data.append(arrow([0, 0], v, COLORS["highlight"], f"v = ({v[0]:.2f}, {v[1]:.2f})", width=3.5))
    lim = max(lim, float(np.abs(v).max())) * 1.15
    title = "Balls through v (radius = that norm of v)" if scaled else "Unit balls (v outside ⇔ that norm > 1)"
    lay = _legend_below(layout(title, "x", "y", height=height, equal_axes=True), bottom=150)
    lay["xaxis"]["range"] = lay["yaxis"]["range"] = [-lim, lim]
    return figure(data, lay)


def _histogram(x, name: str, color: str, title: str, x_title: str, x_range, height: int) -> go.Figure:
    data = [dict(type="histogram", x=f32(x), nbinsx=60, name=name, marker=dict(color=color),
                 hovertemplate="%{x}<br>%{y} pairs<extra></extra>")]
    lay = layout(title, x_title, "number of pairs", height=height)
    lay.update(showlegend=False, bargap=0.02)
    lay["xaxis"]["range"] = x_range
    return figure(data, lay)


def distance_hist_figure(distances, d: int, height: int = 400) -> go.Figure:
    """Histogram of the pairwise distances, each divided by their mean."""
    dist = np.asarray(distances, float)  # (pairs,)
    rel = dist / dist.mean() if dist.size and dist.mean() > 0 else dist
    return _histogram(rel, "distances", COLORS["e2"], f"Distance ÷ mean distance, d = {d}",
                      "pairwise distance ÷ its mean", [0, max(2.5, float(rel.max()) * 1.02)], height)


def cosine_hist_figure(cosines, d: int, height: int = 400) -> go.Figure:
    """Histogram of the pairwise cosine similarities."""
    return _histogram(np.asarray(cosines, float), "cosines", COLORS["e1"], f"Cosine similarity, d = {d}",
                      "cos(x_i, x_j)", [-1, 1], height)


def contrast_figure(dims, contrast, cos_std, current: int | None = None, height: int = 380) -> go.Figure:
    """The contrast (max − min)/min of pairwise distances and the spread of cosines against d."""
    dims = np.asarray(dims, float)  # (D,)
    data = [
        dict(type="scatter", x=f32(dims), y=f32(contrast), mode="lines+markers", name="(max − min) / min distance",
             line=dict(color=COLORS["e2"]), hovertemplate="d = %{x}<br>contrast %{y:.4g}<extra></extra>"),
        dict(type="scatter", x=f32(dims), y=f32(cos_std), mode="lines+markers", name="std of cosine similarity",
             line=dict(color=COLORS["e1"]), hovertemplate="d = %{x}<br>std %{y:.4g}<extra></extra>"),
        _line(dims, 1 / np.sqrt(dims), "1/√d", dict(color=COLORS["resid"], dash="dot")),
    ]
    if current is not None:
        lo = float(min(np.min(contrast), np.min(cos_std), 1 / np.sqrt(dims.max())))
        hi = float(max(np.max(contrast), np.max(cos_std)))
        data.append(_line([current, current], [lo, hi], f"current d = {current}",
                          dict(color=COLORS["highlight"], width=2, dash="dash"), hoverinfo="skip"))
    lay = _legend_below(layout("Contrast shrinks as d grows",
                               "dimension d (log)", "value (log)", height=height), bottom=150)
    lay["xaxis"]["type"] = "log"
    lay["yaxis"]["type"] = "log"
    return figure(data, lay)
