"""Figures for the Projections & linear maps page."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, add_arrow, add_arrow3d, f32, style


def _right_angle(foot: np.ndarray, along: np.ndarray, perp: np.ndarray, size: float) -> np.ndarray:
    """Corner polyline of a right-angle mark at ``foot`` between directions ``along`` and ``perp``."""
    a = along / (np.linalg.norm(along) or 1.0) * size
    p = perp / (np.linalg.norm(perp) or 1.0) * size
    return np.array([foot - a, foot - a + p, foot + p])


LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.14, xanchor="left", x=0.0)


def _limits(points: np.ndarray, pad: float = 0.6) -> float:
    return float(np.abs(points).max() + pad) if points.size else 1.0


def projection_coords(x: np.ndarray, u: np.ndarray, proj: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, y) arrays of the traces of :func:`projection_traces`, in the same order."""
    d = u / np.linalg.norm(u)
    reach = 1.5 * max(np.linalg.norm(x), np.linalg.norm(u), 1.0)
    resid = x - proj
    if np.linalg.norm(resid) > 1e-9 and np.linalg.norm(proj) > 1e-9:
        corner = _right_angle(proj, proj, resid, 0.12 * reach / 1.5)
    else:
        corner = np.full((3, 2), np.nan)
    segs = [np.stack([-reach * d, reach * d]), np.stack([np.zeros(2), u]), np.stack([np.zeros(2), x]),
            np.stack([np.zeros(2), proj]), np.stack([proj, x]), corner]
    return [(f32(p[:, 0]), f32(p[:, 1])) for p in segs]


def projection_traces(x: np.ndarray, u: np.ndarray, proj: np.ndarray) -> list[go.Scatter]:
    """Traces of the dot-product picture: u's line, u, x, the projection, the residual, right angle."""
    line, ua, xa, pa, res, corner = projection_coords(x, u, proj)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=line[0], y=line[1], mode="lines", name="line through u",
                             line=dict(color="#ccc", width=1)))
    add_arrow(fig, [0, 0], u, COLORS["u"], "u")
    add_arrow(fig, [0, 0], x, COLORS["x"], "x")
    add_arrow(fig, [0, 0], proj, COLORS["proj"], "projection of x on u", width=4)
    fig.add_trace(go.Scatter(x=res[0], y=res[1], mode="lines",
                             name="residual x − proj", line=dict(color=COLORS["resid"], width=2, dash="dash")))
    fig.add_trace(go.Scatter(x=corner[0], y=corner[1], mode="lines", name="right angle",
                             line=dict(color=COLORS["resid"], width=1.5), showlegend=False, hoverinfo="skip"))
    return list(fig.data)


def projection_figure(x: np.ndarray, u: np.ndarray, proj: np.ndarray, title: str | None = None) -> go.Figure:
    """x, u, the projection of x on u (solid) and the residual (dashed) with its right angle."""
    fig = go.Figure(projection_traces(x, u, proj))
    lim = _limits(np.stack([x, u, proj]))
    style(fig, title, "first coordinate", "second coordinate", height=500, equal_axes=True)
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(b=110))
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    return fig


def projection_animation(xs: np.ndarray, u: np.ndarray, projs: np.ndarray, angles: np.ndarray,
                         cosines: np.ndarray) -> go.Figure:
    """Client-side scrubbing: one precomputed frame per angle of x (Plotly slider, no server run)."""
    first = projection_traces(xs[0], u, projs[0])
    fig = go.Figure(first)
    frames, steps = [], []
    for a, x, p, c in zip(angles, xs, projs, cosines):
        name = f"{a:g}"
        # only the coordinates move; Plotly merges them into the styled traces of the first frame
        frames.append(dict(data=[dict(type="scatter", x=cx, y=cy) for cx, cy in projection_coords(x, u, p)],
                           name=name, layout=dict(title=dict(text=f"angle(x, u) = {a:g}°, cos = {c:+.3f}"))))
        steps.append(dict(method="animate", label=f"{a:g}°",
                          args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                             transition=dict(duration=0))]))
    fig.frames = frames
    lim = _limits(np.concatenate([xs, projs, u[None]]))
    style(fig, f"angle(x, u) = {angles[0]:g}°, cos = {cosines[0]:+.3f}", "first coordinate", "second coordinate",
          height=500, equal_axes=True)
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    fig.update_layout(sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="angle of x from u: "),
                                    pad=dict(t=90))], margin=dict(b=170), legend=LEGEND_BELOW)
    return fig


def grid_traces(W: np.ndarray, lines: np.ndarray, moved: np.ndarray, square: np.ndarray,
                square_img: np.ndarray, det: float) -> list:
    """Fixed grid, moved grid, unit square and its image, e1/e2 images."""
    def flat(ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sep = np.full((ls.shape[0], 1, 2), np.nan)
        pts = np.concatenate([ls, sep], axis=1).reshape(-1, 2)
        return f32(pts[:, 0]), f32(pts[:, 1])

    fig = go.Figure()
    gx, gy = flat(lines)
    fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", name="grid before W",
                             line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"))
    mx, my = flat(moved)
    fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", name="grid after W",
                             line=dict(color=COLORS["grid_moved"], width=1.3), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=f32(square[:, 0]), y=f32(square[:, 1]), mode="lines", name="unit square",
                             fill="toself", fillcolor="rgba(120,120,120,0.12)", line=dict(color="#999", width=1)))
    flip = det < 0
    color = "rgba(224,49,49,0.25)" if flip else "rgba(245,159,0,0.30)"
    fig.add_trace(go.Scatter(x=f32(square_img[:, 0]), y=f32(square_img[:, 1]), mode="lines",
                             name=f"image of the square (area |det| = {abs(det):.3g})", fill="toself",
                             fillcolor=color, line=dict(color="#E03131" if flip else COLORS["highlight"], width=2)))
    add_arrow(fig, [0, 0], W[:, 0], COLORS["e1"], "W e₁ (first column)", width=4)
    add_arrow(fig, [0, 0], W[:, 1], COLORS["e2"], "W e₂ (second column)", width=4)
    return list(fig.data)


def grid_figure(W: np.ndarray, lines: np.ndarray, moved: np.ndarray, square: np.ndarray,
                square_img: np.ndarray, det: float, rank: int, lim: float = 4.0) -> go.Figure:
    """The plane before (grey) and after (blue) W, with the unit square's image and det/rank notes."""
    fig = go.Figure(grid_traces(W, lines, moved, square, square_img, det))
    style(fig, grid_title(det, rank), "x₁", "x₂", height=620, equal_axes=True)
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(b=120))
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    return fig


def grid_title(det: float, rank: int) -> str:
    if rank == 0:
        return "rank 0: everything collapses to the origin"
    if rank == 1:
        return "det = 0, rank 1: the whole plane collapses onto a line"
    note = " (negative: orientation flipped, the square is mirrored)" if det < 0 else ""
    return f"det = {det:.3g}{note}; area of the square's image = |det| = {abs(det):.3g}"


def grid_animation(Ws: list[np.ndarray], labels: list[str], frames_data: list[list], titles: list[str],
                   lim: float = 4.0) -> go.Figure:
    """Grid deformation with a client-side slider over precomputed frames (e.g. the angle)."""
    fig = go.Figure(frames_data[0])
    fig.frames = [go.Frame(data=d, name=lab, layout=dict(title=dict(text=t)))
                  for d, lab, t in zip(frames_data, labels, titles)]
    steps = [dict(method="animate", label=lab,
                  args=[[lab], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])
             for lab in labels]
    style(fig, titles[0], "x₁", "x₂", height=600, equal_axes=True)
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    fig.update_layout(sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="angle: "), pad=dict(t=90))],
                      margin=dict(b=170), legend=LEGEND_BELOW)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    return fig


def column_mix_figure(W: np.ndarray, x: np.ndarray, contrib: np.ndarray, total: np.ndarray) -> go.Figure:
    """W's columns (faint), the scaled columns x_i·W[:, i] tip-to-tail, and Wx (bold)."""
    palette = [COLORS["e1"], COLORS["e2"], COLORS["u"], COLORS["proj"]]
    fig = go.Figure()
    for i in range(W.shape[1]):
        add_arrow(fig, [0, 0], W[:, i], palette[i % 4], f"column {i + 1} of W", dash="dot", width=1.5)
    start = np.zeros(2)
    for i, c in enumerate(contrib):
        add_arrow(fig, start, start + c, palette[i % 4], f"x{i + 1} · column {i + 1} = ({c[0]:.2f}, {c[1]:.2f})")
        start = start + c
    add_arrow(fig, [0, 0], total, COLORS["x"], f"Wx = ({total[0]:.2f}, {total[1]:.2f})", width=5)
    pts = np.concatenate([W.T, np.cumsum(contrib, 0), total[None], np.zeros((1, 2))])
    lim = _limits(pts)
    style(fig, "Wx = Σ xᵢ · (column i of W), drawn tip to tail", "output coordinate 1", "output coordinate 2",
          height=520, equal_axes=True)
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(b=120))
    fig.update_xaxes(range=[-lim, lim])
    fig.update_yaxes(range=[-lim, lim])
    return fig


def subspace_figure(a: np.ndarray, b: np.ndarray, x: np.ndarray, proj: np.ndarray, q: np.ndarray) -> go.Figure:
    """3D: the plane (or line) spanned by a and b, x, its projection and the residual."""
    fig = go.Figure()
    r = 1.3 * max(np.linalg.norm(x), np.linalg.norm(a), np.linalg.norm(b), 1.0)
    if q.shape[0] == 2:
        s, t = np.meshgrid(np.linspace(-r, r, 2), np.linspace(-r, r, 2))
        pts = s[..., None] * q[0] + t[..., None] * q[1]
        fig.add_trace(go.Surface(x=f32(pts[..., 0]), y=f32(pts[..., 1]), z=f32(pts[..., 2]), opacity=0.35,
                                 showscale=False, colorscale=[[0, "#74C0FC"], [1, "#74C0FC"]],
                                 name="span{a, b}", hoverinfo="skip", showlegend=True))
    else:
        line = np.stack([-r * q[0], r * q[0]])
        fig.add_trace(go.Scatter3d(x=f32(line[:, 0]), y=f32(line[:, 1]), z=f32(line[:, 2]), mode="lines",
                                   name="span{a, b} (a line: a ∥ b)", line=dict(color="#74C0FC", width=8)))
    add_arrow3d(fig, [0, 0, 0], a, COLORS["e1"], "a")
    add_arrow3d(fig, [0, 0, 0], b, COLORS["e2"], "b")
    add_arrow3d(fig, [0, 0, 0], x, COLORS["x"], "x")
    add_arrow3d(fig, [0, 0, 0], proj, COLORS["proj"], "projection of x")
    fig.add_trace(go.Scatter3d(x=f32([proj[0], x[0]]), y=f32([proj[1], x[1]]), z=f32([proj[2], x[2]]),
                               mode="lines", name="residual (⟂ plane)",
                               line=dict(color=COLORS["resid"], width=5, dash="dash")))
    fig.update_layout(height=560, margin=dict(l=0, r=0, t=30, b=0), legend=dict(orientation="h"),
                      scene=dict(xaxis_title="x₁", yaxis_title="x₂", zaxis_title="x₃", aspectmode="cube",
                                 xaxis=dict(range=[-r, r]), yaxis=dict(range=[-r, r]), zaxis=dict(range=[-r, r])))
    return fig
