"""Figures for the Attention page: the four steps of scaled dot-product attention, entropy, the √d_k
study, mask galleries and the heads of a real model. Pure functions, arrays in, Plotly out.

Each figure is built in one step from plain dicts (``figures.common.figure``): Plotly then validates
once instead of on every ``add_trace`` / ``update_*`` call, and most of these are rebuilt on every press."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, SEQUENTIAL, f32, figure, heatmap_parts, layout, subplots

MASKED = "#8c8c8c"  # colour of masked (−∞ / weight 0 by construction) cells: no hue, unlike any scale

# annotation_position of add_hline -> (x along the line, xanchor, yanchor), as Plotly places it
_HPOS = {"top left": (0, "left", "bottom"), "top right": (1, "right", "bottom"), "bottom left": (0, "left", "top")}


def _hline(lay: dict, y: float, line: dict, text: str, position: str, x: str = "x", yref: str = "y") -> None:
    """Add to ``lay`` what ``fig.add_hline(y, line=line, annotation_text=text, annotation_position=position)``
    adds: a full-width line and its label (``x``, ``yref``: the cell's axes)."""
    px, xanchor, yanchor = _HPOS[position]
    lay.setdefault("shapes", []).append(dict(type="line", x0=0, x1=1, xref=f"{x} domain", y0=y, y1=y, yref=yref,
                                             line=line))
    lay.setdefault("annotations", []).append(dict(showarrow=False, text=text, x=px, xanchor=xanchor,
                                                  xref=f"{x} domain", y=y, yanchor=yanchor, yref=yref))


def token_labels(tokens) -> list[str]:
    """Axis labels for tokens that stay unique (Plotly merges equal category labels).

    A repeated token gets invisible zero-width spaces appended, so it still reads the same.
    """
    seen: dict[str, int] = {}
    out = []
    for t in tokens:
        n = seen.get(t, 0)
        seen[t] = n + 1
        out.append(str(t) + "\u200b" * n)
    return out


def label_every_token(ax: dict, labels, px: float) -> None:
    """Put every label on a categorical axis (Plotly skips some when they crowd), in a font that fits.

    ``px``: about how many pixels the axis spans. Below 6 px a label, Plotly's own thinning stays.
    """
    n = len(labels)
    if n == 0 or px / n < 6:
        return
    ax.update(tickmode="array", tickvals=list(labels), ticktext=list(labels),
              tickfont=dict(size=int(min(11, max(6, 0.85 * px / n)))))


def _axes_for(T_q: int, T_k: int, labels_q=None, labels_k=None):
    x = token_labels(labels_k) if labels_k is not None else np.arange(T_k)
    y = token_labels(labels_q) if labels_q is not None else np.arange(T_q)
    return x, y


def _grey_cells(mask: np.ndarray, x, y, **ref) -> dict:
    """A flat grey heatmap trace that covers exactly the masked cells (NaN elsewhere, no colour bar)."""
    return dict(type="heatmap", z=f32(np.where(mask, np.nan, 1.0)), x=x, y=y,  # (T_q, T_k)
                colorscale=[[0, MASKED], [1, MASKED]], showscale=False, hoverongaps=False, name="masked",
                hovertemplate="query %{y} → key %{x}<br>masked (−∞ → weight 0)<extra></extra>", **ref)


def _crosses(x, y, size: int, **extra) -> dict:
    """Small × markers at (x, y), no hover: drawn on masked cells."""
    return dict(type="scatter", x=x, y=y, mode="markers",
                marker=dict(symbol="x-thin", size=size, line=dict(width=1, color="#f1f3f5")),
                hoverinfo="skip", showlegend=False, **extra)


def step_heatmap(z, title: str, colorbar_title: str, mask=None, labels=None, signed: bool | None = None,
                 zmax: float | None = None, height: int = 340, value_name: str = "value") -> go.Figure:
    """One stage of attention as a heatmap (queries down, keys across).

    Parameters
    ----------
    z : array_like, shape (T_q, T_k)
        Values; −inf / NaN cells are drawn in grey (masked).
    mask : array_like of bool, optional
        True = may attend; False cells are greyed and crossed.
    labels : list of str, optional
        Token labels for both axes (self-attention).
    """
    z = np.array(z, dtype=np.float64)  # (T_q, T_k)
    T_q, T_k = z.shape
    keep = np.ones_like(z, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), z.shape)
    z = np.where(keep & np.isfinite(z), z, np.nan)  # (T_q, T_k)
    x, y = _axes_for(T_q, T_k, labels, labels)
    trace, lay = heatmap_parts(z, colorbar_title, title=title, x_labels=x, y_labels=y, x_title="key j",
                               y_title="query i", signed=signed, zmin=0.0 if signed is False else None,
                               zmax=zmax, height=height)
    # colour bar under the plot: in a quarter-width column a side bar would squeeze the heatmap
    trace.update(hovertemplate=f"query %{{y}} → key %{{x}}<br>{value_name} %{{z:.5g}}<extra></extra>",
                 hoverongaps=False,
                 colorbar=dict(orientation="h", thickness=10, len=1.0, y=-0.22, yanchor="top",
                               title=dict(text=colorbar_title, side="top"), tickfont=dict(size=11)))
    lay["margin"] = dict(l=45, r=10, t=40, b=20)
    lay["title"] = {**lay.get("title", {}), "font": dict(size=14)}
    # square cells; explicit ranges so the × markers do not pad the axes (grey must mean masked)
    lay["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain", range=[T_q - 0.5, -0.5],
                        autorange=False)
    lay["xaxis"].update(constrain="domain", range=[-0.5, T_k - 0.5], autorange=False)
    data = [trace]
    if mask is not None and not keep.all():   # masked cells in flat grey plus a small × on each when few
        data.append(_grey_cells(keep, x, y))
        ii, jj = np.nonzero(~keep)
        if 0 < ii.size <= 1200:
            data.append(_crosses([x[j] for j in jj] if not isinstance(x, np.ndarray) else f32(x[jj]),
                                 [y[i] for i in ii] if not isinstance(y, np.ndarray) else f32(y[ii]),
                                 size=6, name="masked"))
    if labels is not None:
        lay["xaxis"].update(tickangle=-60, automargin=True)
        lay["yaxis"].update(automargin=True)
        label_every_token(lay["xaxis"], x, height - 210)   # title, x labels and colour bar take the rest
        label_every_token(lay["yaxis"], y, height - 210)
    return figure(data, lay)


def steps_figures(scores, scaled, masked, weights, scale: float, d_k: int, mask=None, labels=None,
                  height: int = 340):
    """The four stages QKᵀ, ×scale, + mask, softmax — each with its own colour bar.

    Signed stages use a zero-centred diverging scale; the softmax uses a sequential 0…max scale.
    A generator: each figure is built when it is asked for, so a page can show the first stage
    while the others are still being built.

    Yields
    ------
    plotly.graph_objects.Figure
        QKᵀ, then the scaled scores, then the masked scores, then the softmax weights.
    """
    default = 1.0 / np.sqrt(d_k)
    mult = scale / default
    scale_txt = "÷ √d_k" if np.isclose(mult, 1.0) else f"× {scale:.3g} ({mult:.3g}× of 1/√d_k)"
    yield step_heatmap(scores, "1. QKᵀ", "q·k", labels=labels, signed=True, height=height, value_name="q·k")
    yield step_heatmap(scaled, f"2. {scale_txt}", "scaled score", labels=labels, signed=True, height=height,
                       value_name="scaled")
    yield step_heatmap(masked, "3. + mask (grey = −∞)", "score + mask", mask=mask, labels=labels, signed=True,
                       height=height, value_name="masked score")
    yield step_heatmap(weights, "4. softmax (rows sum to 1)", "weight", mask=mask, labels=labels, signed=False,
                       height=height, value_name="weight")


def entropy_bars(per_row, max_nats, labels=None, height: int = 300, width_px: float = 560) -> go.Figure:
    """Per-query entropy of the attention row and the most it can be: uniform over the keys it may see.

    ``max_nats``: one number (no mask: ``log T_k`` for every row, a dashed line) or one per row
    (``la_core.attention.max_entropy`` of the mask: a dashed step, ``log`` of the keys row i sees).
    """
    per_row = f32(per_row)  # (T_q,)
    ref = np.broadcast_to(np.asarray(max_nats, dtype=np.float64), per_row.shape)   # (T_q,)
    y = token_labels(labels) if labels is not None else np.arange(per_row.size)
    bar = dict(type="bar", x=y, y=per_row, marker=dict(color=COLORS["u"]), name="row entropy",
               hovertemplate="query %{x}<br>entropy %{y:.4f} nats<extra></extra>")
    lay = layout("Entropy of each attention row", "query i", "entropy (nats)", height=height)
    data = [bar]
    line = dict(color=COLORS["resid"], dash="dash")
    if np.ptp(ref) < 1e-12:
        _hline(lay, float(ref[0]), line, f"uniform: log T_k = {ref[0]:.3f}", "top left")
    else:   # a step per row; named in the free band above the bars (a legend would cover the title)
        data.append(dict(type="scatter", x=y, y=f32(ref), mode="lines", line={**line, "shape": "hvh"},
                         name="uniform over the keys row i may see", showlegend=False,
                         hovertemplate="query %{x}<br>most possible: %{y:.4f} nats<extra></extra>"))
        lay.setdefault("annotations", []).append(dict(
            showarrow=False, text="dashed: uniform over the keys row i may see, log n_i", x=0, xanchor="left",
            xref="x domain", y=1, yanchor="top", yref="y domain", font=dict(size=11)))
        bar["showlegend"] = False
    lay["yaxis"]["range"] = [0, float(ref.max()) * 1.15 + 1e-9]
    if labels is not None:
        lay["xaxis"].update(tickangle=-60, automargin=True)
        label_every_token(lay["xaxis"], y, width_px)
    return figure(data, lay)


def entropy_vs_scale(multipliers, mean_entropy, current: float, max_nats: float, height: int = 300,
                     uniform_label: str = "uniform") -> go.Figure:
    """Mean row entropy as the scale runs from 0.01× to 100× of 1/√d_k; default and current marked.

    ``max_nats``: the mean over rows of the most each row can reach under the mask (``log T_k``
    without one), the curve's limit at small scales."""
    m, e = f32(multipliers), f32(mean_entropy)  # (n,), (n,)
    cur = float(np.interp(np.log10(current), np.log10(m), e))
    data = [dict(type="scatter", x=m, y=e, mode="lines", line=dict(color=COLORS["u"], width=3),
                 name="mean row entropy",
                 hovertemplate="scale %{x:.3g}× of 1/√d_k<br>mean entropy %{y:.4f} nats<extra></extra>"),
            dict(type="scatter", x=f32([current]), y=f32([cur]), mode="markers", name="current scale",
                 marker=dict(size=13, color=COLORS["highlight"], line=dict(color="black", width=1)),
                 hovertemplate="current %{x:.3g}×<br>%{y:.4f} nats<extra></extra>")]
    lay = layout("Temperature: flat ← → saturated", "scale (× 1/√d_k, log)", "mean entropy (nats)",
                 height=height)
    lay["shapes"] = [dict(type="line", x0=1.0, x1=1.0, xref="x", y0=0, y1=1, yref="y domain",
                          line=dict(color=COLORS["resid"], dash="dot"))]          # add_vline(x=1, "top right")
    lay["annotations"] = [dict(showarrow=False, text="default 1/√d_k", x=1.0, xanchor="left", xref="x", y=1,
                               yanchor="top", yref="y domain")]
    _hline(lay, max_nats, dict(color=COLORS["resid"], dash="dash"), uniform_label, "top left")
    _hline(lay, 0.0, dict(color=COLORS["resid"], width=1), "one-hot (argmax)", "bottom left")
    lay["xaxis"]["type"] = "log"
    lay["yaxis"]["range"] = [-0.1, max_nats * 1.15 + 1e-9]
    return figure(data, lay)


def scaling_figure(d_k, var_raw, var_scaled, max_raw, max_scaled, n_keys: int, height: int = 400) -> go.Figure:
    """Why √d_k: variance of q·k grows like d_k; unscaled softmax rows saturate toward one-hot."""
    d = f32(d_k)  # (n,)
    grid, refs = subplots(1, 2, horizontal_spacing=0.1, subplot_titles=(
        "Variance of the score q·k", f"Mean largest softmax weight over {n_keys} keys"))
    raw_c, sc_c = COLORS["e1"], COLORS["e2"]

    def line(y, name, color, group, hover, cell, **extra):
        return dict(type="scatter", x=d, y=f32(y), mode="lines+markers", name=name,
                    line=dict(color=color, width=3), legendgroup=group, hovertemplate=hover, **extra, **refs[cell])

    data = [line(var_raw, "q·k (unscaled)", raw_c, "raw", "d_k=%{x}<br>Var=%{y:.4g}<extra>unscaled</extra>",
                 (1, 1)),
            line(var_scaled, "q·k / √d_k", sc_c, "scaled", "d_k=%{x}<br>Var=%{y:.4g}<extra>scaled</extra>",
                 (1, 1)),
            dict(type="scatter", x=d, y=d, mode="lines", name="theory: Var = d_k",
                 line=dict(color=COLORS["resid"], dash="dot"), hoverinfo="skip", **refs[(1, 1)]),
            line(max_raw, "softmax(q·k)", raw_c, "raw",
                 "d_k=%{x}<br>max weight %{y:.3f}<extra>unscaled</extra>", (1, 2), showlegend=False),
            line(max_scaled, "softmax(q·k/√d_k)", sc_c, "scaled",
                 "d_k=%{x}<br>max weight %{y:.3f}<extra>scaled</extra>", (1, 2), showlegend=False)]
    lay = layout(None, None, None, height=height, grid=grid)
    _hline(lay, 1.0, dict(color=COLORS["resid"], dash="dash"), "one-hot (saturated)", "top left", "x2", "y2")
    _hline(lay, 1.0 / n_keys, dict(color=COLORS["resid"], dash="dot"), "uniform 1/T_k", "top right", "x2", "y2")
    for name in ("xaxis", "xaxis2"):
        lay[name].update(type="log", title=dict(text="d_k (log)"))
    lay["yaxis"].update(type="log", title=dict(text="variance (log)"))
    lay["yaxis2"].update(title=dict(text="mean max weight"), range=[0, 1.1])
    lay["margin"] = {**lay["margin"], "t": 40, "b": 100}
    lay["legend"] = dict(orientation="h", yanchor="top", y=-0.2, xanchor="center", x=0.5)
    return figure(data, lay)


def mask_gallery(panels: list[tuple[str, np.ndarray, np.ndarray]], labels=None, height: int = 340) -> go.Figure:
    """Softmax weights under several masks side by side; masked cells grey with a shared 0…1 scale.

    Parameters
    ----------
    panels : list of (title, weights (T, T), mask (T, T) bool)
    """
    n = len(panels)
    grid, refs = subplots(1, n, horizontal_spacing=0.03, subplot_titles=[p[0] for p in panels])
    zmax = max(float(np.max(w)) for _, w, _ in panels)
    data = []
    for c, (title, w, mask) in enumerate(panels, start=1):
        keep = np.asarray(mask, bool)  # (T, T)
        T = keep.shape[0]
        x, y = _axes_for(T, T, labels, labels)
        z = np.where(keep, np.asarray(w, float), np.nan)  # (T, T)
        data.append(dict(type="heatmap", z=f32(z), x=x, y=y, coloraxis="coloraxis", hoverongaps=False,
                         hovertemplate=f"{title}<br>query %{{y}} → key %{{x}}<br>weight %{{z:.5g}}<extra></extra>",
                         **refs[(1, c)]))
        ii, jj = np.nonzero(~keep)
        if ii.size:
            data.append(_grey_cells(keep, x, y, **refs[(1, c)]))
        if 0 < ii.size <= 1200:
            data.append(_crosses([x[j] for j in jj] if labels is not None else f32(jj),
                                 [y[i] for i in ii] if labels is not None else f32(ii), size=5, **refs[(1, c)]))
    lay = layout(None, None, None, height=height, grid=grid)
    lay["margin"] = dict(t=40, l=40, r=10, b=40)
    lay["coloraxis"] = dict(colorscale=SEQUENTIAL, cmin=0.0, cmax=zmax,
                            colorbar=dict(title=dict(text="weight (grey = masked)", side="right"), thickness=12))
    T = panels[0][2].shape[0]
    for c in range(1, n + 1):   # square cells in every panel; row labels only on the first
        sfx = "" if c == 1 else str(c)
        lay[f"yaxis{sfx}"].update(range=[T - 0.5, -0.5], autorange=False, showgrid=False, zeroline=False,
                                  constrain="domain", scaleanchor=f"x{sfx}", scaleratio=1, showticklabels=c == 1)
        lay[f"xaxis{sfx}"].update(range=[-0.5, T - 0.5], autorange=False, showgrid=False, zeroline=False,
                                  constrain="domain")
        if labels is not None:
            lay[f"xaxis{sfx}"]["tickangle"] = -60
            label_every_token(lay[f"xaxis{sfx}"], token_labels(labels), 170)   # a quarter of the page wide
            if c == 1:
                label_every_token(lay["yaxis"], token_labels(labels), 170)
        else:
            lay[f"xaxis{sfx}"]["title"] = dict(text="key j")
    if labels is None:
        lay["yaxis"]["title"] = dict(text="query i")
    return figure(data, lay)
