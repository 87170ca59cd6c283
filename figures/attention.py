"""Figures for the Attention page: the four steps of scaled dot-product attention, entropy, the √d_k
study, mask galleries and the heads of a real model. Pure functions, arrays in, Plotly out.

Each figure is built in one step from plain dicts (``figures.common.figure``): Plotly then validates
once instead of on every ``add_trace`` / ``update_*`` call, and most of these are rebuilt on every press."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import COLORS, colorbar_below, f32, figure, heatmap_parts, layout, legend_below

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
    trace.update(hovertemplate=f"query %{{y}} → key %{{x}}<br>{value_name} %{{z:.5g}}<extra></extra>",
                 hoverongaps=False)
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
    below = 56                                  # px under the plot for the x tick labels and the axis title
    if labels is not None:
        lay["xaxis"].update(tickangle=-60, automargin=True)
        lay["yaxis"].update(automargin=True)
        label_every_token(lay["xaxis"], x, height - 210)   # title, x labels and colour bar take the rest
        label_every_token(lay["yaxis"], y, height - 210)
        size = lay["xaxis"].get("tickfont", {}).get("size", 12)
        longest = max((len(str(t).rstrip("\u200b")) for t in x), default=1)
        below += int(0.6 * size * longest * 0.87)              # a label turned by 60° reaches this far down
    # colour bar under the plot, a fixed distance below the axis: a side bar would squeeze a narrow heatmap
    trace["colorbar"] = colorbar_below(lay, colorbar_title, below)
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
                          line=dict(color=COLORS["resid"], dash="dot"))]          # add_vline(x=1)
    # the names sit in free bands: "uniform" above its line at the left, "default" and "one-hot" just above
    # the zero line (the curve is high at the left and at 1×, and reaches zero only at the right)
    lay["annotations"] = [dict(showarrow=False, text="default 1/√d_k", x=0.0, xanchor="left", xref="x", y=0.0,
                               yanchor="bottom", yref="y", font=dict(size=11))]    # on a log axis x is log10(1×)
    _hline(lay, max_nats, dict(color=COLORS["resid"], dash="dash"), uniform_label, "top left")
    _hline(lay, 0.0, dict(color=COLORS["resid"], width=1), "one-hot (argmax)", "top left")
    lay["annotations"][-1]["font"] = dict(size=11)
    lay["xaxis"]["type"] = "log"
    lay["yaxis"]["range"] = [-0.1, max_nats * 1.25 + 1e-9]
    lay["margin"]["b"] = 110
    return figure(data, legend_below(lay))


def _study_line(x, y, name: str, color: str, hover: str, **extra) -> dict:
    return dict(type="scatter", x=f32(x), y=f32(y), mode="lines+markers", name=name, line=dict(color=color, width=3),
                hovertemplate=hover, **extra)


def variance_figure(d_k, var_raw, var_scaled, height: int = 400) -> go.Figure:
    """Why √d_k, 1: the variance of q·k grows like d_k; divided by √d_k it stays at 1."""
    data = [_study_line(d_k, var_raw, "q·k (unscaled)", COLORS["e1"], "d_k=%{x}<br>Var=%{y:.4g}<extra>unscaled</extra>"),
            _study_line(d_k, var_scaled, "q·k / √d_k", COLORS["e2"], "d_k=%{x}<br>Var=%{y:.4g}<extra>scaled</extra>"),
            dict(type="scatter", x=f32(d_k), y=f32(d_k), mode="lines", name="theory: Var = d_k",
                 line=dict(color=COLORS["resid"], dash="dot"), hoverinfo="skip")]
    lay = layout("Variance of the score q·k", "d_k (log)", "variance (log)", height=height)
    lay["xaxis"]["type"] = lay["yaxis"]["type"] = "log"
    lay["margin"]["b"] = 110
    return figure(data, legend_below(lay))


def max_weight_figure(d_k, max_raw, max_scaled, n_keys: int, height: int = 400) -> go.Figure:
    """Why √d_k, 2: without the scale the softmax rows saturate toward one-hot as d_k grows."""
    data = [_study_line(d_k, max_raw, "softmax(q·k)", COLORS["e1"],
                        "d_k=%{x}<br>max weight %{y:.3f}<extra>unscaled</extra>"),
            _study_line(d_k, max_scaled, "softmax(q·k/√d_k)", COLORS["e2"],
                        "d_k=%{x}<br>max weight %{y:.3f}<extra>scaled</extra>")]
    lay = layout(f"Largest softmax weight, {n_keys} keys", "d_k (log)", "mean largest weight", height=height)
    _hline(lay, 1.0, dict(color=COLORS["resid"], dash="dash"), "one-hot (saturated)", "bottom left")
    _hline(lay, 1.0 / n_keys, dict(color=COLORS["resid"], dash="dot"), "uniform 1/T_k", "top right")
    lay["xaxis"]["type"] = "log"
    lay["yaxis"]["range"] = [0, 1.1]
    lay["margin"]["b"] = 110
    return figure(data, legend_below(lay))


def mask_panels(panels: list[tuple[str, np.ndarray, np.ndarray]], labels=None, height: int = 340):
    """Softmax weights under several masks, one heatmap each (as :func:`step_heatmap`), masked cells grey,
    all on the same 0…max colour scale so they compare.

    Parameters
    ----------
    panels : list of (title, weights (T, T), mask (T, T) bool)

    Yields
    ------
    plotly.graph_objects.Figure
        One per panel, in order.
    """
    zmax = max(float(np.max(w)) for _, w, _ in panels)
    for title, w, mask in panels:
        yield step_heatmap(w, title, "weight, shared scale", mask=mask, labels=labels, signed=False, zmax=zmax,
                           height=height, value_name="weight")
