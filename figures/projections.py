"""Figures for the Projections & linear maps page.

Figures redrawn on a slider press are built in one step from plain dicts (see ``figures.common.figure``).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, arrow, arrow3d, f32, figure, layout, legend_below, num


def _right_angle(foot: np.ndarray, along: np.ndarray, perp: np.ndarray, size: float) -> np.ndarray:
    """Corner polyline of a right-angle mark at ``foot`` between directions ``along`` and ``perp``."""
    a = along / (np.linalg.norm(along) or 1.0) * size
    p = perp / (np.linalg.norm(perp) or 1.0) * size
    return np.array([foot - a, foot - a + p, foot + p])


def _limits(points: np.ndarray, pad: float = 0.6) -> float:
    return float(np.abs(points).max() + pad) if points.size else 1.0


def _plane_layout(title: str, x_title: str, y_title: str, height: int, lim: float, bottom: int,
                  showgrid: bool = True) -> dict:
    """Common equal-axes layout with the legend below, a bottom margin and both axes on [-lim, lim]."""
    lay = layout(title, x_title, y_title, height=height, equal_axes=True)
    lay["margin"] = {**lay["margin"], "b": bottom}
    lay = legend_below(lay)
    for name in ("xaxis", "yaxis"):
        lay[name].update(range=[-lim, lim])
        if not showgrid:
            lay[name]["showgrid"] = False
    return lay


SLIDER_TOP = 150     # top margin for the title and, under it, the slider


def _slider(lay: dict, steps: list, prefix: str) -> dict:
    """``lay`` with a Plotly slider over animation ``steps`` (client-side scrubbing) between the title and
    the plot: below the plot it would run into the legend, which wraps onto more rows in a narrow chart."""
    lay["sliders"] = [dict(active=0, steps=steps, currentvalue=dict(prefix=prefix), y=1.0, yanchor="bottom",
                           pad=dict(t=0, b=25))]
    lay["margin"] = {**lay["margin"], "t": SLIDER_TOP}
    lay["title"] = {**lay["title"], "y": 1.0, "yanchor": "top", "pad": dict(t=12)}   # above the slider
    return legend_below(lay)                   # the plot area is shorter now


def _step(name: str, label: str) -> dict:
    return dict(method="animate", label=label,
                args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])


def _from_origin(v: np.ndarray, scale: float) -> np.ndarray:
    """The segment 0 → v, or NaN (nothing drawn) when v is zero: an animation frame carries only
    coordinates, so the arrowhead of its styled trace would otherwise sit on the origin, pointing anywhere."""
    if np.linalg.norm(v) <= 1e-12 * scale:
        return np.full((2, 2), np.nan)
    return np.stack([np.zeros(2), v])


def projection_coords(x: np.ndarray, u: np.ndarray, proj: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, y) arrays of the traces of :func:`projection_traces`, in the same order."""
    d = u / np.linalg.norm(u)
    reach = 1.5 * max(np.linalg.norm(x), np.linalg.norm(u), 1.0)
    resid = x - proj
    if np.linalg.norm(resid) > 1e-9 and np.linalg.norm(proj) > 1e-9:
        corner = _right_angle(proj, proj, resid, 0.12 * reach / 1.5)
    else:
        corner = np.full((3, 2), np.nan)
    segs = [np.stack([-reach * d, reach * d]), _from_origin(u, reach), _from_origin(x, reach),
            _from_origin(proj, reach), np.stack([proj, x]), corner]
    return [(f32(p[:, 0]), f32(p[:, 1])) for p in segs]


def _projection_dicts(x: np.ndarray, u: np.ndarray, proj: np.ndarray) -> list[dict]:
    """:func:`projection_traces` as trace dicts."""
    line, ua, xa, pa, res, corner = projection_coords(x, u, proj)
    return [dict(type="scatter", x=line[0], y=line[1], mode="lines", name="line through u",
                 line=dict(color="#ccc", width=1)),
            arrow([0, 0], u, COLORS["u"], "u"),
            arrow([0, 0], x, COLORS["x"], "x"),
            arrow([0, 0], proj, COLORS["proj"], "projection of x on u", width=4),
            dict(type="scatter", x=res[0], y=res[1], mode="lines", name="residual x − proj",
                 line=dict(color=COLORS["resid"], width=2, dash="dash")),
            dict(type="scatter", x=corner[0], y=corner[1], mode="lines", name="right angle",
                 line=dict(color=COLORS["resid"], width=1.5), showlegend=False, hoverinfo="skip")]


def projection_traces(x: np.ndarray, u: np.ndarray, proj: np.ndarray) -> list[go.Scatter]:
    """Traces of the dot-product picture: u's line, u, x, the projection, the residual, right angle."""
    return [go.Scatter(t) for t in _projection_dicts(x, u, proj)]


def projection_figure(x: np.ndarray, u: np.ndarray, proj: np.ndarray, title: str | None = None) -> go.Figure:
    """x, u, the projection of x on u (solid) and the residual (dashed) with its right angle."""
    lim = _limits(np.stack([x, u, proj]))
    return figure(_projection_dicts(x, u, proj),
                  _plane_layout(title, "first coordinate", "second coordinate", 500, lim, bottom=110))


def projection_animation(xs: np.ndarray, u: np.ndarray, projs: np.ndarray, angles: np.ndarray,
                         cosines: np.ndarray) -> go.Figure:
    """Client-side scrubbing: one precomputed frame per angle of x (Plotly slider, no server run)."""
    frames, steps = [], []
    for a, x, p, c in zip(angles, xs, projs, cosines):
        name = f"{a:g}"
        # only the coordinates move; Plotly merges them into the styled traces of the first frame
        frames.append(dict(data=[dict(type="scatter", x=cx, y=cy) for cx, cy in projection_coords(x, u, p)],
                           name=name, layout=dict(title=dict(text=f"angle(x, u) = {a:g}°, cos = {num(c, '+.3f')}"))))
        steps.append(_step(name, f"{a:g}°"))
    lim = _limits(np.concatenate([xs, projs, u[None]]))
    lay = _plane_layout(f"angle(x, u) = {angles[0]:g}°, cos = {num(cosines[0], '+.3f')}", "first coordinate",
                        "second coordinate", 600, lim, bottom=110)
    lay = _slider(lay, steps, "angle of x from u: ")
    return figure(_projection_dicts(xs[0], u, projs[0]), lay, frames)


def _grid_dicts(W: np.ndarray, lines: np.ndarray, moved: np.ndarray, square: np.ndarray,
                square_img: np.ndarray, det: float) -> list[dict]:
    """:func:`grid_traces` as trace dicts."""
    def flat(ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sep = np.full((ls.shape[0], 1, 2), np.nan)                 # (L, 1, 2)
        pts = np.concatenate([ls, sep], axis=1).reshape(-1, 2)     # (L * (P + 1), 2)
        return f32(pts[:, 0]), f32(pts[:, 1])

    gx, gy = flat(lines)
    mx, my = flat(moved)
    flip = det < 0
    color = "rgba(224,49,49,0.25)" if flip else "rgba(245,159,0,0.30)"
    return [dict(type="scatter", x=gx, y=gy, mode="lines", name="grid before W",
                 line=dict(color=COLORS["grid_fixed"], width=1), hoverinfo="skip"),
            dict(type="scatter", x=mx, y=my, mode="lines", name="grid after W",
                 line=dict(color=COLORS["grid_moved"], width=1.3), hoverinfo="skip"),
            dict(type="scatter", x=f32(square[:, 0]), y=f32(square[:, 1]), mode="lines", name="unit square",
                 fill="toself", fillcolor="rgba(120,120,120,0.12)", line=dict(color="#999", width=1)),
            dict(type="scatter", x=f32(square_img[:, 0]), y=f32(square_img[:, 1]), mode="lines",
                 name=f"image of the square (area |det| = {num(abs(det))})", fill="toself", fillcolor=color,
                 line=dict(color="#E03131" if flip else COLORS["highlight"], width=2)),
            arrow([0, 0], W[:, 0], COLORS["e1"], "W e₁ (first column)", width=4),
            arrow([0, 0], W[:, 1], COLORS["e2"], "W e₂ (second column)", width=4)]


def grid_traces(W: np.ndarray, lines: np.ndarray, moved: np.ndarray, square: np.ndarray,
                square_img: np.ndarray, det: float) -> list:
    """Fixed grid, moved grid, unit square and its image, e1/e2 images."""
    return [go.Scatter(t) for t in _grid_dicts(W, lines, moved, square, square_img, det)]


def grid_figure(W: np.ndarray, lines: np.ndarray, moved: np.ndarray, square: np.ndarray,
                square_img: np.ndarray, det: float, rank: int, lim: float = 4.0) -> go.Figure:
    """The plane before (grey) and after (blue) W, with the unit square's image and det/rank notes."""
    return figure(_grid_dicts(W, lines, moved, square, square_img, det),
                  _plane_layout(grid_title(det, rank), "x₁", "x₂", 620, lim, bottom=120, showgrid=False))


def grid_title(det: float, rank: int) -> str:
    """A title short enough for a chart 280 px wide (one column at a 900 px window with the sidebar)."""
    if rank == 0:
        return "rank 0: every point goes to 0"
    if rank == 1:
        return "rank 1: the plane falls onto a line"
    if det < 0:
        return f"det = {num(det)}: orientation flipped"
    return f"det = {num(det)}: areas × {num(det)}"


def grid_animation(Ws: list[np.ndarray], labels: list[str], frames_data: list[list], titles: list[str],
                   lim: float = 4.0) -> go.Figure:
    """Grid deformation with a client-side slider over precomputed frames (e.g. the angle)."""
    frames = [dict(data=d, name=lab, layout=dict(title=dict(text=t)))
              for d, lab, t in zip(frames_data, labels, titles)]
    lay = _plane_layout(titles[0], "x₁", "x₂", 720, lim, bottom=120, showgrid=False)
    lay = _slider(lay, [_step(lab, lab) for lab in labels], "angle: ")
    return figure(frames_data[0], lay, frames)


def column_mix_figure(W: np.ndarray, x: np.ndarray, contrib: np.ndarray, total: np.ndarray) -> go.Figure:
    """W's columns (faint), the scaled columns x_i·W[:, i] tip-to-tail, and Wx (bold)."""
    palette = [COLORS["e1"], COLORS["e2"], COLORS["u"], COLORS["proj"]]
    data = [arrow([0, 0], W[:, i], palette[i % 4], f"column {i + 1} of W", dash="dot", width=1.5)
            for i in range(W.shape[1])]
    start = np.zeros(2)
    for i, c in enumerate(contrib):
        data.append(arrow(start, start + c, palette[i % 4], f"x{i + 1} · column {i + 1} = ({num(c[0], '.2f')}, {num(c[1], '.2f')})"))
        start = start + c
    data.append(arrow([0, 0], total, COLORS["x"], f"Wx = ({num(total[0], '.2f')}, {num(total[1], '.2f')})", width=5))
    pts = np.concatenate([W.T, np.cumsum(contrib, 0), total[None], np.zeros((1, 2))])   # (points, 2)
    return figure(data, _plane_layout("Wx = Σ xᵢ · (column i of W), drawn tip to tail", "output coordinate 1",
                                      "output coordinate 2", 520, _limits(pts), bottom=120))


def subspace_figure(a: np.ndarray, b: np.ndarray, x: np.ndarray, proj: np.ndarray, q: np.ndarray) -> go.Figure:
    """3D: the plane (or line) spanned by a and b, x, its projection and the residual."""
    r = 1.3 * max(np.linalg.norm(x), np.linalg.norm(a), np.linalg.norm(b), 1.0)
    if q.shape[0] == 2:
        s, t = np.meshgrid(np.linspace(-r, r, 2), np.linspace(-r, r, 2))
        pts = s[..., None] * q[0] + t[..., None] * q[1]                   # (2, 2, 3)
        data = [dict(type="surface", x=f32(pts[..., 0]), y=f32(pts[..., 1]), z=f32(pts[..., 2]), opacity=0.35,
                     showscale=False, colorscale=[[0, "#74C0FC"], [1, "#74C0FC"]], name="span{a, b}",
                     hoverinfo="skip", showlegend=True)]
    else:
        line = np.stack([-r * q[0], r * q[0]])                             # (2, 3)
        data = [dict(type="scatter3d", x=f32(line[:, 0]), y=f32(line[:, 1]), z=f32(line[:, 2]), mode="lines",
                     name="span{a, b} (a line: a ∥ b)", line=dict(color="#74C0FC", width=8))]
    for vec, color, name in ((a, COLORS["e1"], "a"), (b, COLORS["e2"], "b"), (x, COLORS["x"], "x"),
                             (proj, COLORS["proj"], "projection of x")):
        data += arrow3d([0, 0, 0], vec, color, name)
    data.append(dict(type="scatter3d", x=f32([proj[0], x[0]]), y=f32([proj[1], x[1]]), z=f32([proj[2], x[2]]),
                     mode="lines", name="residual (⟂ plane)", line=dict(color=COLORS["resid"], width=5, dash="dash")))
    ax = [dict(title=dict(text=t), range=[-r, r]) for t in ("x₁", "x₂", "x₃")]
    return figure(data, dict(height=560, margin=dict(l=0, r=0, t=30, b=0), legend=dict(orientation="h"),
                             scene=dict(xaxis=ax[0], yaxis=ax[1], zaxis=ax[2], aspectmode="cube")))
