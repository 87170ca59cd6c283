"""Figures of a real model's attention: one head (exact, or block means for long texts, with a zoom
window), and the small multiples of every head. Pure functions, arrays in, Plotly out.

Masked cells (a decoder's causal triangle, a sliding window) are NaN gaps over a grey plot
background: they are drawn as masked, never as a weight of 0."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from figures.attention import MASKED, label_every_token, token_labels
from figures.common import SEQUENTIAL, f32, figure, heatmap_parts, subplots

__all__ = ["block_mean", "attention_heatmap", "heads_grid", "column_titles", "head_label", "mask_phrase",
           "shapes_table", "GRID_WIDTH"]

GRID_WIDTH = 850    # px the all-heads grid's tiles span on a 1440 px wide page (colour bar and margins left out)


def block_mean(w, block: int, mask=None) -> np.ndarray:
    """Average (..., T, T) weights over ``block``×``block`` tiles (the last tiles may be smaller).

    Masked weights count as the 0 they are; a tile whose every cell is masked is NaN (drawn as
    masked). ``mask``: bool, broadcastable to ``w``, True = may attend.
    """
    w = np.asarray(w)                                                     # (..., T, T)
    if w.dtype != np.float32:                 # a model's weights stay float32: (L, H, T, T) can be large
        w = w.astype(np.float64)
    T = w.shape[-1]
    n = -(-T // block)
    pad = [(0, 0)] * (w.ndim - 2) + [(0, n * block - T)] * 2
    if n * block == T:
        out = w.reshape(*w.shape[:-2], n, block, n, block).mean(axis=(-3, -1))          # (..., n, n)
    else:   # the last tiles are smaller: pad with NaN and average what is there
        tiles = np.pad(w, pad, constant_values=np.nan).reshape(*w.shape[:-2], n, block, n, block)
        out = np.nanmean(tiles, axis=(-3, -1))                                           # (..., n, n)
    if mask is not None:
        keep = np.pad(np.broadcast_to(np.asarray(mask, bool), w.shape), pad, constant_values=False)
        seen = keep.reshape(*w.shape[:-2], n, block, n, block).any(axis=(-3, -1))   # (..., n, n)
        out = np.where(seen, out, np.nan)
    return out


def _ranges(T: int, block: int) -> list[str]:
    return [f"{s}–{min(s + block, T) - 1}" for s in range(0, T, block)]


def attention_heatmap(w, tokens, title: str, colorbar_title: str = "attention weight", zmax: float | None = None,
                      mask=None, block: int = 1, first: int = 0, window: tuple[int, int] | None = None) -> go.Figure:
    """A real model's attention, queries down and keys across; hover shows the exact weight.

    Parameters
    ----------
    w : array_like, shape (T, T)
        Weights (exact; ``block > 1`` averages them over tiles here).
    tokens : list of str
        The T tokens (labels; ``first`` > 0 prefixes each with its index, for a zoom window).
    mask : array_like of bool, shape (T, T), optional
        True = may attend; masked cells are gaps over the grey background.
    block : int, default 1
        Tile size: each drawn cell is the mean of ``block``×``block`` weights.
    first : int, default 0
        Index of the first token shown (a zoom window of a longer text).
    window : (start, size), optional
        The zoom window: outlined on a block-averaged overview; with ``block == 1`` the labels carry
        token indices (the zoom itself).
    """
    w = np.asarray(w, dtype=np.float64)                                   # (T, T)
    T = w.shape[0]
    if block > 1:
        z = block_mean(w, block, mask)                                     # (n, n)
        labels = _ranges(T, block)
        hover = (f"queries %{{y}} → keys %{{x}}<br>mean of the {block}×{block} weights %{{z:.6f}}"
                 "<extra></extra>")
    else:
        z = w if mask is None else np.where(np.asarray(mask, bool), w, np.nan)
        labels = token_labels([f"{first + i}:{t}" for i, t in enumerate(tokens)] if first or window else tokens)
        hover = "query %{y} → key %{x}<br>weight %{z:.6f}<extra></extra>"
    n = z.shape[0]
    height = int(min(1300, max(480, 12 * n + 220)))
    trace, lay = heatmap_parts(z, colorbar_title, title=title, x_labels=labels, y_labels=labels,
                               x_title="key (attended to)", y_title="query (attending)", signed=False, zmin=0.0,
                               zmax=zmax, height=height)
    trace.update(hovertemplate=hover, hoverongaps=False)
    lay["plot_bgcolor"] = MASKED                      # NaN cells (masked) show the background
    lay["margin"] = {**lay["margin"], "pad": 0}       # the app template's 8 px pad would frame the cells in grey
    # explicit ranges: no padding around the cells, where the grey background would read as masked
    lay["xaxis"].update(tickangle=-60, automargin=True, side="bottom", range=[-0.5, n - 0.5], autorange=False,
                        ticklabelstandoff=4)
    lay["yaxis"].update(automargin=True, range=[n - 0.5, -0.5], autorange=False, ticklabelstandoff=4)
    if block == 1:     # every token labelled; block ranges are left to Plotly's thinning
        label_every_token(lay["xaxis"], labels, height - 260)
        label_every_token(lay["yaxis"], labels, height - 260)
    if window is not None and block > 1:
        lo, size = window
        a, b = lo / block - 0.5, (lo + size) / block - 0.5
        lay["shapes"] = [dict(type="rect", x0=a, x1=b, y0=a, y1=b, xref="x", yref="y",
                              line=dict(color="#F59F00", width=2))]
    return figure([trace], lay)


def heads_grid(attentions, tokens, zmax: float | None = None, mask=None, kv_of=None,
               cell_budget: int = 200_000, max_cells: int = 48) -> tuple[go.Figure, str]:
    """Small multiples of every head: rows = layers, columns = heads, one shared 0…zmax colour bar.

    Tiles are square (each y axis is anchored to its x axis and the height follows the grid's
    shape). Long texts are averaged over token blocks so each tile has at most ``max_cells`` rows
    and all tiles together about ``cell_budget`` cells; the returned note says so ("" when every
    token is shown).

    Parameters
    ----------
    attentions : array_like, shape (L, H, T, T)
    tokens : list of str
    zmax : float, optional
        Top of the colour scale; default the largest value shown.
    mask : array_like of bool, shape broadcastable to (L, T, T), optional
        Masked cells are gaps over the grey background.
    kv_of : array_like of int, shape (H,), optional
        Key/value head of every query head (grouped-query attention): named in the column titles.

    Returns
    -------
    (plotly.graph_objects.Figure, str)
    """
    a = np.asarray(attentions, dtype=np.float32)                          # (L, H, T, T)
    L, H, T, _ = a.shape
    keep = None if mask is None else np.broadcast_to(np.asarray(mask, bool), (L, T, T))[:, None]   # (L, 1, T, T)
    side = max(8, min(max_cells, int(math.sqrt(cell_budget / (L * H)))))
    note = ""
    if T > side:
        block = -(-T // side)
        a = block_mean(a, block, keep)                                     # (L, H, n, n)
        n = a.shape[-1]
        axis = _ranges(T, block)
        note = (f"Each tile shows {n}×{n} blocks: the mean of {block}×{block} weights (all {T} tokens are "
                "included; pick a head above to see every token).")
    else:
        if keep is not None:
            a = np.where(keep, a, np.nan)
        axis = token_labels(tokens)
    gqa = kv_of is not None and len(set(np.asarray(kv_of).tolist())) < H
    short = H > 12
    titles = column_titles(H, kv_of if gqa else None)
    lay, refs = subplots(L, H, horizontal_spacing=0.006, vertical_spacing=0.012 if L > 1 else 0.0,
                         column_titles=titles, row_titles=[f"layer {i}" for i in range(L)])
    data = [dict(type="heatmap", z=f32(a[li, h]), x=axis, y=axis, coloraxis="coloraxis", hoverongaps=False,
                 hovertemplate=(f"layer {li}, head {h}" + (f" (K/V head {int(kv_of[h])})" if gqa else "")
                                + "<br>query %{y} → key %{x}<br>weight %{z:.5f}<extra></extra>"),
                 **refs[(li + 1, h + 1)])
            for li in range(L) for h in range(H)]
    shown = a[np.isfinite(a)]
    zmax = (float(shown.max()) if shown.size else 1.0) if zmax is None else zmax
    n = a.shape[-1]
    for name in [k for k in lay if k.startswith(("xaxis", "yaxis"))]:
        lay[name].update(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain",
                         range=[-0.5, n - 0.5], autorange=False)
        if name.startswith("y"):   # square tiles: each y axis keeps its x axis's scale
            lay[name].update(range=[n - 0.5, -0.5], scaleanchor="x" + name[5:], scaleratio=1)
    title_px = 50 if gqa and not short else 36
    height = int(min(2600, max(260, GRID_WIDTH * L / H + title_px + 30)))
    lay.update(height=height, font=dict(size=11), margin=dict(l=20, r=60, t=title_px, b=20, pad=0), plot_bgcolor=MASKED,
               coloraxis=dict(colorscale=SEQUENTIAL, cmin=0.0, cmax=zmax,
                                                     colorbar=dict(title=dict(text="attention weight",
                                                                              side="right"), thickness=12)))
    for ann in lay.get("annotations", []):
        ann["font"] = {**ann.get("font", {}), "size": 9 if short else 11}
    return figure(data, lay), note


# The grid's tiles span about this many px in the narrowest main column (900 px window, sidebar open): the
# column titles are sized for it
NARROW_GRID_PX = 360


def column_titles(H: int, kv_of=None) -> list[str]:
    """Titles of the all-heads grid's columns: "h0", "h1", … (with "kv g" under each under grouped-query
    attention), short enough for a tile ``NARROW_GRID_PX / H`` wide. With many heads only every 2nd, 4th, …
    head is titled (the hover names every tile)."""
    if H <= 12:
        return [f"h{h}" + (f"<br>kv {int(kv_of[h])}" if kv_of is not None else "") for h in range(H)]
    width = 7 * len(str(H - 1)) + 4                      # px a number takes at the grid's small font
    step = next(s for s in (1, 2, 4, 8, 16, 32, 64) if NARROW_GRID_PX / H * s >= width or s == 64)
    return [f"{h}" if h % step == 0 else "" for h in range(H)]


def head_label(h: int, kv) -> str:
    """A query head; under grouped-query attention with the K/V head it shares and its group."""
    kv = np.asarray(kv)
    if len(set(kv.tolist())) == kv.size:
        return str(h)
    group = np.flatnonzero(kv == kv[h])
    return f"{h} · K/V head {kv[h]} (heads {group[0]}–{group[-1]})"


def mask_phrase(desc) -> str:
    """A mask named in words, from ``la_core.attention.describe_mask``'s (kind, size)."""
    kind, size = desc
    return {"none": "no mask", "causal": "the causal mask", "sliding window": f"a sliding window of {size}",
            "padding": f"padding after {size} tokens"}.get(kind, "a mask of its own")


def shapes_table(T: int, D: int, H: int, G: int, dk: int, rope: bool, causal: bool, bias: str,
                 column: str) -> pd.DataFrame:
    """Multi-head attention step by step with each array's shape, symbolic and for this text.

    ``T`` tokens, ``D`` = d_model, ``H`` query heads, ``G`` key/value heads, ``dk`` = d_head;
    ``bias``: which of "Q", "K", "V", "O" have a bias; ``column``: the title of the numbers column.
    """
    b = " + b_Q" if "Q" in bias else ""
    if G == H and H * dk == D:
        qkv = [("Q, K, V", f"X W_Qᵀ{b} (same for K, V); W_Q is (d_model, d_model)", "(T, d_model) each",
                f"({T}, {D}) each")]
    else:
        qkv = [("Q", f"X W_Qᵀ{b}; W_Q is (H·d_head, d_model)", "(T, H·d_head)", f"({T}, {H * dk})"),
               ("K, V", f"X W_Kᵀ{' + b_K' if 'K' in bias else ''}, X W_Vᵀ{' + b_V' if 'V' in bias else ''}; "
                "W_K, W_V are (H_kv·d_head, d_model)", "(T, H_kv·d_head) each",
                f"({T}, {G * dk}) each")]
    heads = f"({H}, {T}, {dk})"
    rows = [("hidden states X", "input of the layer", "(T, d_model)", f"({T}, {D})"), *qkv,
            ("split into heads", "reshape + transpose: H · d_head columns" + (" (K, V: H_kv heads)" if G < H else ""),
             "(H, T, d_head)", heads)]
    if rope:
        rows.append(("RoPE", "rotate each pair of q and k coordinates by an angle ∝ the position", "(H, T, d_head)",
                     heads))
    if G < H:
        rows.append(("repeat K, V", f"each K/V head serves {H // G} query heads (GQA)",
                     "(H_kv, T, d_head) → (H, T, d_head)", f"({G}, {T}, {dk}) → {heads}"))
    rows += [("scores", "Q Kᵀ / √d_head per head", "(H, T, T)", f"({H}, {T}, {T})"),
             ("weights", f"softmax over keys (+ {'causal mask' if causal else 'mask'})", "(H, T, T)",
              f"({H}, {T}, {T})"),
             ("per-head output", "weights · V", "(H, T, d_head)", heads),
             ("concatenate heads", "transpose + reshape", "(T, H·d_head)", f"({T}, {H * dk})"),
             ("attention output", "· W_Oᵀ" + (" + b_O" if "O" in bias else ""), "(T, d_model)", f"({T}, {D})")]
    return pd.DataFrame(rows, columns=["step", "operation", "shape", column]).set_index("step")
