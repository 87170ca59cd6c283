"""Figures for the Attention page: the four steps of scaled dot-product attention, entropy, the √d_k
study, mask galleries and the heads of a real model. Pure functions, arrays in, Plotly out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.common import COLORS, SEQUENTIAL, f32, heatmap, style

MASKED = "#8c8c8c"  # colour of masked (−∞ / weight 0 by construction) cells: no hue, unlike any scale


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


def _axes_for(T_q: int, T_k: int, labels_q=None, labels_k=None):
    x = token_labels(labels_k) if labels_k is not None else np.arange(T_k)
    y = token_labels(labels_q) if labels_q is not None else np.arange(T_q)
    return x, y


def _grey_cells(mask: np.ndarray, x, y) -> go.Heatmap:
    """A flat grey heatmap that covers exactly the masked cells (NaN elsewhere, no colour bar)."""
    return go.Heatmap(z=f32(np.where(mask, np.nan, 1.0)), x=x, y=y, colorscale=[[0, MASKED], [1, MASKED]],
                      showscale=False, hoverongaps=False, name="masked",
                      hovertemplate="query %{y} → key %{x}<br>masked (−∞ → weight 0)<extra></extra>")


def _mark_masked(fig: go.Figure, mask: np.ndarray, x, y, row=None, col=None) -> None:
    """Masked cells in flat grey plus a small × on each when there are few."""
    fig.add_trace(_grey_cells(mask, x, y), row=row, col=col)
    ii, jj = np.nonzero(~mask)
    if 0 < ii.size <= 1200:
        fig.add_trace(go.Scatter(
            x=[x[j] for j in jj] if not isinstance(x, np.ndarray) else f32(x[jj]),
            y=[y[i] for i in ii] if not isinstance(y, np.ndarray) else f32(y[ii]),
            mode="markers", marker=dict(symbol="x-thin", size=6, line=dict(width=1, color="#f1f3f5")),
            hoverinfo="skip", showlegend=False, name="masked"), row=row, col=col)


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
    z = np.array(z, dtype=np.float64)
    T_q, T_k = z.shape
    keep = np.ones_like(z, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), z.shape)
    z = np.where(keep & np.isfinite(z), z, np.nan)
    x, y = _axes_for(T_q, T_k, labels, labels)
    fig = heatmap(z, colorbar_title, title=title, x_labels=x, y_labels=y, x_title="key j",
                  y_title="query i", signed=signed, zmin=0.0 if signed is False else None, zmax=zmax,
                  height=height)
    # colour bar under the plot: in a quarter-width column a side bar would squeeze the heatmap
    fig.update_traces(hovertemplate=f"query %{{y}} → key %{{x}}<br>{value_name} %{{z:.5g}}<extra></extra>",
                      hoverongaps=False,
                      colorbar=dict(orientation="h", thickness=10, len=1.0, y=-0.22, yanchor="top",
                                    title=dict(text=colorbar_title, side="top"), tickfont=dict(size=11)))
    fig.update_layout(margin=dict(l=45, r=10, t=40, b=20), title=dict(font=dict(size=14)))
    # square cells; explicit ranges so the × markers do not pad the axes (grey must mean masked)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", range=[T_q - 0.5, -0.5],
                     autorange=False)
    fig.update_xaxes(constrain="domain", range=[-0.5, T_k - 0.5], autorange=False)
    if mask is not None and not keep.all():
        _mark_masked(fig, keep, x, y)
    if labels is not None:
        fig.update_xaxes(tickangle=-60, automargin=True)
        fig.update_yaxes(automargin=True)
    return fig


def steps_figures(scores, scaled, masked, weights, scale: float, d_k: int, mask=None, labels=None,
                  height: int = 340):
    """The four stages QKᵀ, ×scale, + mask, softmax — each with its own colour bar.

    Signed stages use a zero-centred diverging scale; the softmax uses a sequential 0…max scale.
    A generator: each figure is built when it is asked for, so a page can show the first stage
    while the others are still being built (each takes about 10 ms of Plotly).

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


def entropy_bars(per_row, max_nats: float, labels=None, height: int = 300) -> go.Figure:
    """Per-query entropy of the attention row, with the uniform maximum log T_k as a dashed line."""
    per_row = f32(per_row)
    y = token_labels(labels) if labels is not None else np.arange(per_row.size)
    fig = go.Figure(go.Bar(x=y, y=per_row, marker_color=COLORS["u"], name="row entropy",
                           hovertemplate="query %{x}<br>entropy %{y:.4f} nats<extra></extra>"))
    fig.add_hline(y=max_nats, line=dict(color=COLORS["resid"], dash="dash"),
                  annotation_text=f"uniform: log T_k = {max_nats:.3f}", annotation_position="top left")
    style(fig, "Entropy of each attention row", "query i", "entropy (nats)", height=height)
    fig.update_yaxes(range=[0, max_nats * 1.15 + 1e-9])
    if labels is not None:
        fig.update_xaxes(tickangle=-60, automargin=True)
    return fig


def entropy_vs_scale(multipliers, mean_entropy, current: float, max_nats: float, height: int = 300) -> go.Figure:
    """Mean row entropy as the scale runs from 0.01× to 100× of 1/√d_k; default and current marked."""
    m, e = f32(multipliers), f32(mean_entropy)
    fig = go.Figure(go.Scatter(x=m, y=e, mode="lines", line=dict(color=COLORS["u"], width=3),
                               name="mean row entropy",
                               hovertemplate="scale %{x:.3g}× of 1/√d_k<br>mean entropy %{y:.4f} nats<extra></extra>"))
    cur = float(np.interp(np.log10(current), np.log10(m), e))
    fig.add_trace(go.Scatter(x=f32([current]), y=f32([cur]), mode="markers", name="current scale",
                             marker=dict(size=13, color=COLORS["highlight"], line=dict(color="black", width=1)),
                             hovertemplate="current %{x:.3g}×<br>%{y:.4f} nats<extra></extra>"))
    fig.add_vline(x=1.0, line=dict(color=COLORS["resid"], dash="dot"),
                  annotation_text="default 1/√d_k", annotation_position="top right")
    fig.add_hline(y=max_nats, line=dict(color=COLORS["resid"], dash="dash"),
                  annotation_text="uniform", annotation_position="top left")
    fig.add_hline(y=0.0, line=dict(color=COLORS["resid"], width=1),
                  annotation_text="one-hot (argmax)", annotation_position="bottom left")
    style(fig, "Temperature: flat ← → saturated", "scale (× 1/√d_k, log)", "mean entropy (nats)", height=height)
    fig.update_xaxes(type="log")
    fig.update_yaxes(range=[-0.1, max_nats * 1.15 + 1e-9])
    return fig


def scaling_figure(d_k, var_raw, var_scaled, max_raw, max_scaled, n_keys: int, height: int = 400) -> go.Figure:
    """Why √d_k: variance of q·k grows like d_k; unscaled softmax rows saturate toward one-hot."""
    d = f32(d_k)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "Variance of the score q·k", f"Mean largest softmax weight over {n_keys} keys"))
    raw_c, sc_c = COLORS["e1"], COLORS["e2"]
    fig.add_trace(go.Scatter(x=d, y=f32(var_raw), mode="lines+markers", name="q·k (unscaled)",
                             line=dict(color=raw_c, width=3), legendgroup="raw",
                             hovertemplate="d_k=%{x}<br>Var=%{y:.4g}<extra>unscaled</extra>"), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=f32(var_scaled), mode="lines+markers", name="q·k / √d_k",
                             line=dict(color=sc_c, width=3), legendgroup="scaled",
                             hovertemplate="d_k=%{x}<br>Var=%{y:.4g}<extra>scaled</extra>"), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=d, mode="lines", name="theory: Var = d_k",
                             line=dict(color=COLORS["resid"], dash="dot"), hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=f32(max_raw), mode="lines+markers", name="softmax(q·k)",
                             line=dict(color=raw_c, width=3), legendgroup="raw", showlegend=False,
                             hovertemplate="d_k=%{x}<br>max weight %{y:.3f}<extra>unscaled</extra>"), 1, 2)
    fig.add_trace(go.Scatter(x=d, y=f32(max_scaled), mode="lines+markers", name="softmax(q·k/√d_k)",
                             line=dict(color=sc_c, width=3), legendgroup="scaled", showlegend=False,
                             hovertemplate="d_k=%{x}<br>max weight %{y:.3f}<extra>scaled</extra>"), 1, 2)
    style(fig, None, None, None, height=height)
    fig.add_hline(y=1.0, line=dict(color=COLORS["resid"], dash="dash"), row=1, col=2,
                  annotation_text="one-hot (saturated)", annotation_position="top left")
    fig.add_hline(y=1.0 / n_keys, line=dict(color=COLORS["resid"], dash="dot"), row=1, col=2,
                  annotation_text="uniform 1/T_k", annotation_position="top right")
    fig.update_xaxes(type="log", title_text="d_k (log)")
    fig.update_yaxes(type="log", title_text="variance (log)", row=1, col=1)
    fig.update_yaxes(title_text="mean max weight", range=[0, 1.1], row=1, col=2)
    fig.update_layout(margin=dict(t=40, b=100),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="center", x=0.5))
    return fig


def mask_gallery(panels: list[tuple[str, np.ndarray, np.ndarray]], labels=None, height: int = 340) -> go.Figure:
    """Softmax weights under several masks side by side; masked cells grey with a shared 0…1 scale.

    Parameters
    ----------
    panels : list of (title, weights (T, T), mask (T, T) bool)
    """
    n = len(panels)
    fig = make_subplots(rows=1, cols=n, horizontal_spacing=0.03, subplot_titles=[p[0] for p in panels])
    zmax = max(float(np.max(w)) for _, w, _ in panels)
    for c, (title, w, mask) in enumerate(panels, start=1):
        keep = np.asarray(mask, bool)
        T = keep.shape[0]
        x, y = _axes_for(T, T, labels, labels)
        z = np.where(keep, np.asarray(w, float), np.nan)
        fig.add_trace(go.Heatmap(z=f32(z), x=x, y=y, coloraxis="coloraxis", hoverongaps=False,
                                 hovertemplate=f"{title}<br>query %{{y}} → key %{{x}}<br>weight %{{z:.5g}}<extra></extra>"),
                      1, c)
        ii, jj = np.nonzero(~keep)
        if ii.size:
            fig.add_trace(_grey_cells(keep, x, y), 1, c)
        if 0 < ii.size <= 1200:
            fig.add_trace(go.Scatter(
                x=[x[j] for j in jj] if labels is not None else f32(jj),
                y=[y[i] for i in ii] if labels is not None else f32(ii), mode="markers",
                marker=dict(symbol="x-thin", size=5, line=dict(width=1, color="#f1f3f5")),
                hoverinfo="skip", showlegend=False), 1, c)
    style(fig, None, None, None, height=height)
    fig.update_layout(margin=dict(t=40, l=40, r=10, b=40),
                      coloraxis=dict(colorscale=SEQUENTIAL, cmin=0.0, cmax=zmax,
                                     colorbar=dict(title=dict(text="weight (grey = masked)", side="right"),
                                                   thickness=12)))
    T = panels[0][2].shape[0]
    fig.update_yaxes(range=[T - 0.5, -0.5], autorange=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_xaxes(range=[-0.5, T - 0.5], autorange=False, showgrid=False, zeroline=False, constrain="domain")
    for c in range(1, n + 1):   # square cells in every panel; row labels only on the first
        sfx = "" if c == 1 else str(c)
        fig.update_layout({f"yaxis{sfx}": dict(scaleanchor=f"x{sfx}", scaleratio=1, showticklabels=c == 1)})
    if labels is not None:
        fig.update_xaxes(tickangle=-60)
    else:
        fig.update_xaxes(title_text="key j")
        fig.update_yaxes(title_text="query i", col=1)
    return fig


def attention_heatmap(w, tokens, title: str, colorbar_title: str = "attention weight",
                      zmax: float | None = None) -> go.Figure:
    """A real model's (T, T) attention with token axes; tall for long texts, hover shows the exact weight.

    Labels are categorical, so Plotly thins them when they would overlap and shows more on zoom.
    """
    w = np.asarray(w, dtype=np.float64)
    T = w.shape[0]
    height = int(min(950, max(480, 14 * T + 160)))
    labels = token_labels(tokens)
    fig = heatmap(w, colorbar_title, title=title, x_labels=labels, y_labels=labels, x_title="key (attended to)",
                  y_title="query (attending)", signed=False, zmin=0.0, zmax=zmax, height=height)
    fig.update_traces(hovertemplate="query %{y} → key %{x}<br>weight %{z:.6f}<extra></extra>")
    fig.update_xaxes(tickangle=-60, automargin=True, side="bottom")
    fig.update_yaxes(automargin=True)
    return fig


def _pool(w: np.ndarray, block: int) -> np.ndarray:
    """Average (..., T, T) over block×block tiles (the last tile may be smaller)."""
    T = w.shape[-1]
    n = -(-T // block)
    pad = n * block - T
    wp = np.pad(w, [(0, 0)] * (w.ndim - 2) + [(0, pad), (0, pad)], constant_values=np.nan)
    wp = wp.reshape(*w.shape[:-2], n, block, n, block)
    return np.nanmean(wp, axis=(-3, -1))


def heads_grid(attentions, tokens, max_cells: int = 48, zmax: float | None = None) -> tuple[go.Figure, str]:
    """Small multiples of every head: rows = layers, columns = heads, one shared 0…zmax colour bar.

    Long texts are averaged over token blocks so each tile has at most ``max_cells`` rows; the
    returned note says so ("" when every token is shown). ``zmax=None`` uses the largest value shown.

    Returns
    -------
    (plotly.graph_objects.Figure, str)
    """
    a = np.asarray(attentions, dtype=np.float64)
    L, H, T, _ = a.shape
    note = ""
    if T > max_cells:
        block = -(-T // max_cells)
        a = _pool(a, block)
        n = a.shape[-1]
        starts = np.arange(n) * block
        axis = [f"tokens {s}–{min(s + block, T) - 1}" for s in starts]
        note = (f"Each tile shows {n}×{n} blocks: the weights averaged over blocks of {block}×{block} tokens "
                f"(all {T} tokens are included; pick a head above to see every token).")
    else:
        axis = token_labels(tokens)
    fig = make_subplots(rows=L, cols=H, horizontal_spacing=0.006, vertical_spacing=0.012,
                        column_titles=[f"head {h}" for h in range(H)],
                        row_titles=[f"layer {i}" for i in range(L)])
    for li in range(L):
        for h in range(H):
            fig.add_trace(go.Heatmap(z=f32(a[li, h]), x=axis, y=axis, coloraxis="coloraxis",
                                     hovertemplate=(f"layer {li}, head {h}<br>query %{{y}} → key %{{x}}"
                                                    "<br>weight %{z:.5f}<extra></extra>")), li + 1, h + 1)
    zmax = float(np.nanmax(a)) if zmax is None else zmax
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, autorange="reversed")
    fig.update_layout(height=760, font=dict(size=11), margin=dict(l=20, r=60, t=40, b=20),
                      plot_bgcolor="white", paper_bgcolor="white",
                      coloraxis=dict(colorscale=SEQUENTIAL, cmin=0.0, cmax=zmax,
                                     colorbar=dict(title=dict(text="attention weight", side="right"),
                                                   thickness=12)))
    fig.update_annotations(font_size=11)
    return fig, note
