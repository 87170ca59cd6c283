"""Figures of tokens going through the layers: the shared-PCA picture with a layer slider, the per-layer
share and similarity lines, and the logit-lens table.

The layer slider swaps precomputed frames in the browser (no rerun): one frame per layer carries the
tokens' coordinates, hover text and title; the grey paths of every token across all layers and the
axis ranges stay fixed, so a movement on screen is a movement in the shared axes.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.common import CAMERA_3D, COLORS, SEQUENTIAL, f32, figure, layout, legend_at_bottom

LABEL_MAX = 60   # tokens drawn with their text up to this many (beyond: markers, text on hover)
PLAY_PX = 80     # room left of the layer slider for the play button


def _names(n: int, layer_names) -> list[str]:
    names = list(layer_names) if layer_names is not None else ["embeddings"] + [f"layer {i}" for i in range(1, n)]
    if len(names) != n:
        raise ValueError(f"layer_names has {len(names)} names for {n} layers.")
    return [str(s) for s in names]


def _paths(c: np.ndarray) -> np.ndarray:
    """Each token's positions over the layers, tokens separated by a NaN row: ((L+2)·T, k)."""
    n_l, t, k = c.shape
    per_token = np.concatenate([c.transpose(1, 0, 2), np.full((t, 1, k), np.nan)], axis=1)   # (T, L+2, k)
    return per_token.reshape(-1, k)


def _bounds(c: np.ndarray) -> list[list[float]]:
    lo, hi = c.reshape(-1, c.shape[-1]).min(0), c.reshape(-1, c.shape[-1]).max(0)
    pad = 0.08 * np.maximum(hi - lo, 1e-9)
    return [[float(a - p), float(b + p)] for a, b, p in zip(lo, hi, pad)]


def _xyz(pts: np.ndarray) -> dict:
    out = dict(x=f32(pts[:, 0]), y=f32(pts[:, 1]))
    if pts.shape[1] == 3:
        out["z"] = f32(pts[:, 2])
    return out


def _frame_title(title: str, name: str, share) -> str:
    extra = "" if share is None else f" · the axes show {100 * share:.1f}% of this layer's token spread"
    return f"{title}<br><sup>{name}{extra}</sup>"


def token_paths(coords, tokens, layer_names=None, layer: int | None = None, layer_share=None,
                axis_titles=("PC1", "PC2", "PC3"), title: str = "Tokens through the layers (shared PCA axes)",
                height: int = 620) -> go.Figure:
    """The tokens of one text at each layer, in axes shared by all layers, with a layer slider.

    Parameters
    ----------
    coords : array_like, shape (n_layers + 1, T, k), k = 2 or 3
        Coordinates on the shared axes (``la_core.layers.layer_pca(...).coords``).
    tokens : sequence of str, length T
    layer_names : sequence of str, optional
        One per row of ``coords``; default ``"embeddings", "layer 1", …``.
    layer : int, optional
        Layer shown first (default the last).
    layer_share : array_like, shape (n_layers + 1,), optional
        Share of each layer's token spread the axes show (``LayerPCA.layer_share``), given in the
        title of each frame.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: every token's path across the layers (grey lines); trace 1: the tokens at the
        current layer, coloured by position. One frame per layer (named as the layer) updates trace 1
        and the title; the slider and the play button animate them in the browser.
    """
    c = np.asarray(coords, dtype=np.float64)
    if c.ndim != 3 or c.shape[2] not in (2, 3):
        raise ValueError(f"coords must have shape (n_layers + 1, T, 2 or 3); got {c.shape}.")
    n_l, t, k = c.shape
    tokens = [str(s) for s in tokens]
    if len(tokens) != t:
        raise ValueError(f"tokens has {len(tokens)} entries for {t} tokens in coords.")
    names = _names(n_l, layer_names)
    share = None if layer_share is None else np.asarray(layer_share, dtype=np.float64)
    start = n_l - 1 if layer is None else int(layer)
    if not 0 <= start < n_l:
        raise ValueError(f"layer must be in 0 … {n_l - 1}; got {layer!r}.")
    three = k == 3
    kind = "scatter3d" if three else "scatter"
    pos = np.arange(t)
    labelled = t <= LABEL_MAX
    coord_hover = "(%{x:.3g}, %{y:.3g}" + (", %{z:.3g})" if three else ")")
    paths = dict(type=kind, mode="lines", name="each token's path over the layers", **_xyz(_paths(c)),
                 line=dict(color="rgba(134,142,150,0.45)", width=1.5 if not three else 2.5), hoverinfo="skip")

    def tokens_at(i: int) -> dict:
        hover = f"%{{text}} (position %{{customdata}})<br>{names[i]}<br>{coord_hover}<extra></extra>"
        return dict(type=kind, **_xyz(c[i]), text=tokens, customdata=pos, hovertemplate=hover)

    current = dict(**tokens_at(start), mode="markers+text" if labelled else "markers", name="tokens",
                   textposition="top center", textfont=dict(size=11),
                   marker=dict(size=(6 if three else 9), color=pos, colorscale=SEQUENTIAL, cmin=0,
                               cmax=max(t - 1, 1), line=dict(color="white", width=0.5),
                               colorbar=dict(title=dict(text="token position", side="right"))))
    frames = [dict(name=names[i], data=[tokens_at(i)], traces=[1],
                   layout=dict(title=dict(text=_frame_title(title, names[i], None if share is None else share[i]))))
              for i in range(n_l)]
    steps = [dict(method="animate", label=names[i],
                  args=[[names[i]], dict(mode="immediate", frame=dict(duration=0, redraw=three),
                                         transition=dict(duration=0))]) for i in range(n_l)]
    ranges = _bounds(c)
    if three:
        lay = layout(None, height=height)
        lay["scene"] = {f"{a}axis": dict(title=dict(text=axis_titles[j]), range=ranges[j])
                        for j, a in enumerate("xyz")}
        lay["scene"]["aspectmode"] = "data"            # equal units: distances on screen are true
        lay["scene"]["camera"] = CAMERA_3D
    else:
        lay = layout(None, axis_titles[0], axis_titles[1], height=height, equal_axes=True)
        lay["xaxis"]["range"], lay["yaxis"]["range"] = ranges[0], ranges[1]
    lay["title"] = dict(text=_frame_title(title, names[start], None if share is None else share[start]),
                        x=0.01, xanchor="left")
    lay["margin"] = {**lay["margin"], "t": 70, "b": 130}
    lay["showlegend"] = False
    # one row under the plot: the play button at the left, the slider's rail starting PLAY_PX after it (a
    # share of the width, as before, put the rail under the button on a 440 px chart)
    lay["sliders"] = [dict(active=start, steps=steps, currentvalue=dict(prefix="showing: "), x=0.0, xanchor="left",
                           len=1.0, y=-0.06, yanchor="top", pad=dict(t=30, l=PLAY_PX))]
    lay["updatemenus"] = [dict(type="buttons", direction="left", showactive=False, x=0.0, y=-0.06, xanchor="left",
                               yanchor="top", pad=dict(t=40, l=0, r=0, b=0),
                               buttons=[dict(label="▶ play", method="animate",
                                             args=[None, dict(frame=dict(duration=500, redraw=three), fromcurrent=True,
                                                              transition=dict(duration=0))])])]
    return figure([paths, current], lay, frames=frames)


def layer_stats(layer_share, mean_cos, layer_names=None, height: int = 360) -> go.Figure:
    """Per layer: the share of its token spread the shared axes show, and the mean cosine between tokens.

    Parameters
    ----------
    layer_share : array_like, shape (n_layers + 1,)
        In [0, 1] (``LayerPCA.layer_share``); drawn in percent on the left axis.
    mean_cos : array_like, shape (n_layers + 1,)
        In [-1, 1] (``la_core.layers.mean_cosine``); drawn on the right axis.
    """
    share = np.asarray(layer_share, dtype=np.float64)
    cos = np.asarray(mean_cos, dtype=np.float64)
    if share.ndim != 1 or cos.shape != share.shape:
        raise ValueError(f"layer_share and mean_cos must be 1-D of the same length; got {share.shape}, {cos.shape}.")
    names = _names(share.size, layer_names)
    data = [dict(type="scatter", x=names, y=f32(100 * share), mode="lines+markers", name="variance shown by the axes",
                 line=dict(color=COLORS["e2"], width=2),
                 hovertemplate="%{x}: the axes show %{y:.1f}% of the tokens' spread<extra></extra>"),
            dict(type="scatter", x=names, y=f32(cos), mode="lines+markers", name="mean cosine between tokens",
                 yaxis="y2", line=dict(color=COLORS["e1"], width=2, dash="dot"),
                 hovertemplate="%{x}: mean cosine %{y:.3f}<extra></extra>")]
    # a short title and the legend under the plot: whole in a 440 px wide chart (900 px window)
    lay = layout("Per layer: variance shown, mean cosine", "layer", "variance shown by the axes (%)", height=height)
    lay["xaxis"]["type"] = "category"
    lay["yaxis"]["range"] = [0, 100]
    lay["yaxis"]["title"]["font"] = dict(color=COLORS["e2"])
    low = -1.0 if cos.size and float(cos.min()) < 0 else 0.0
    lay["yaxis2"] = dict(title=dict(text="mean cosine between tokens", font=dict(color=COLORS["e1"])),
                         overlaying="y", side="right", range=[low, 1.0], showgrid=False, zeroline=False)
    lay["margin"] = {**lay["margin"], "r": 70}
    return figure(data, legend_at_bottom(lay))


def logit_lens_figure(top_tokens, top_probs, tokens, layer_names=None, show_text: bool | None = None,
                      height: int | None = None) -> go.Figure:
    """The logit lens as a table: layers up, positions across, the top next token in each cell.

    Parameters
    ----------
    top_tokens : array_like of str, shape (n_layers + 1, T, top)
        Most probable next tokens per layer and position, best first (``LogitLens.top_tokens``).
    top_probs : array_like, shape (n_layers + 1, T, top)
        Their probabilities; the colour is the top token's.
    tokens : sequence of str, length T
        The input tokens: the column of position t reads what the model predicts after ``tokens[t]``.
    layer_names : sequence of str, optional
    show_text : bool, optional
        Write the top token in each cell; default when there are at most 40 positions.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap: z = probability of the top token (0 … 1, colour bar labelled), text = the top
        token, hover = the whole top list with probabilities. The first layer is at the bottom.
    """
    probs = np.asarray(top_probs, dtype=np.float64)
    words = np.asarray(top_tokens, dtype=object)
    if probs.ndim != 3 or words.shape != probs.shape:
        raise ValueError(f"top_tokens and top_probs must have the same shape (n_layers + 1, T, top); got "
                         f"{words.shape} and {probs.shape}.")
    n_l, t, top = probs.shape
    tokens = [str(s) for s in tokens]
    if len(tokens) != t:
        raise ValueError(f"tokens has {len(tokens)} entries for {t} positions.")
    names = _names(n_l, layer_names)
    columns = [f"{i}: {tok}" for i, tok in enumerate(tokens)]          # unique even when tokens repeat
    hover = np.empty((n_l, t), dtype=object)
    for i in range(n_l):
        for j in range(t):
            hover[i, j] = "<br>".join(f"{r + 1}. {words[i, j, r]!s}  {probs[i, j, r]:.3f}" for r in range(top))
    show = t <= 40 if show_text is None else bool(show_text)
    trace = dict(type="heatmap", z=f32(probs[..., 0]), x=columns, y=names, zmin=0.0, zmax=1.0,
                 colorscale=SEQUENTIAL, customdata=hover,
                 colorbar=dict(title=dict(text="probability of the top next token", side="right")),
                 hovertemplate="after %{x} · %{y}<br>%{customdata}<extra></extra>")
    if show:
        trace.update(text=words[..., 0].astype(str), texttemplate="%{text}", textfont=dict(size=10))
    lay = layout("Logit lens: the next token each layer would predict", "position: input token", "layer",
                 height=height or max(320, 28 * n_l + 170))
    lay["xaxis"].update(showgrid=False, zeroline=False, type="category", tickangle=-45)
    lay["yaxis"].update(showgrid=False, zeroline=False, type="category")
    return figure([trace], lay)
