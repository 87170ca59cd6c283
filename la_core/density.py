"""Every row of a 2-D projection, counted: a histogram of the points in the visible range.

A scatter of a million points shows a sample; :func:`density_2d` counts *all* of them in a grid of
bins, on the server, so a heatmap under the sample shows where the rows really are. The counts
equal ``numpy.histogram2d(x, y, bins, range)`` exactly (same edges, points on the last edge in the
last bin, points outside the range not counted), transposed so that ``counts[iy, ix]`` is the
row / column order of a Plotly heatmap.

:func:`rebin` counts again for the range a zoomed chart shows (the page passes Plotly's
``relayout`` event), so the grid stays as fine as the view.

Kernels, picked per device by measurement (bench/bench_texts.py): on the CPU NumPy (its
element-wise passes and ``bincount`` are faster there than torch's on a few threads); on a GPU
torch, after one copy of the two columns.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_finite_float, as_int, as_matrix
from la_core.device import get_device

__all__ = ["Density", "density_2d", "rebin", "view_from_relayout", "MAX_BINS"]

MAX_BINS = 2000


class Density(NamedTuple):
    """Counts of rows per bin of a 2-D grid."""

    counts: np.ndarray    # (bins_y, bins_x) int64: counts[iy, ix], rows of the heatmap are y
    x_edges: np.ndarray   # (bins_x + 1,) float64
    y_edges: np.ndarray   # (bins_y + 1,) float64
    n_in_view: int        # rows inside the ranges (= counts.sum())
    n_total: int          # rows given

    @property
    def x_range(self) -> tuple[float, float]:
        return float(self.x_edges[0]), float(self.x_edges[-1])

    @property
    def y_range(self) -> tuple[float, float]:
        return float(self.y_edges[0]), float(self.y_edges[-1])

    @property
    def x_centers(self) -> np.ndarray:
        return (self.x_edges[:-1] + self.x_edges[1:]) / 2

    @property
    def y_centers(self) -> np.ndarray:
        return (self.y_edges[:-1] + self.y_edges[1:]) / 2


# ----------------------------------------------------------------------------- checks
def _as_xy(xy) -> np.ndarray:
    arr = as_matrix(xy, "xy")
    if arr.shape[1] != 2:
        raise ValueError(f"xy must have 2 columns (x, y); got shape {arr.shape}.")
    if not (np.isfinite(arr[:, 0]).all() and np.isfinite(arr[:, 1]).all()):
        raise ValueError("xy contains NaN or infinite values; only finite coordinates are accepted.")
    return arr


def _edges(r, col: np.ndarray, bins: int, name: str) -> np.ndarray:
    """numpy.histogram2d's edges over ``r`` = (lo, hi), lo < hi with a finite width; None = the data's range
    (widened by 0.5 when flat). Edges from the data's range are spaced in the data's dtype, as numpy does."""
    if r is None:
        lo, hi = col.min(), col.max()
        if lo == hi:                                   # as numpy.histogram2d does for one value
            lo, hi = lo - 0.5, hi + 0.5
    else:
        if isinstance(r, (str, bytes)) or not hasattr(r, "__len__") or len(r) != 2:
            raise ValueError(f"{name} must be (low, high) or None; got {r!r}.")
        lo, hi = as_finite_float(r[0], f"{name}[0]"), as_finite_float(r[1], f"{name}[1]")
    if not lo < hi or not math.isfinite(float(hi) - float(lo)):
        raise ValueError(f"{name} must be (low, high) with low < high and a finite width; got "
                         f"({float(lo)!r}, {float(hi)!r}).")
    return np.linspace(lo, hi, bins + 1).astype(np.float64)


def _bins(bins) -> tuple[int, int]:
    if isinstance(bins, (tuple, list)):
        if len(bins) != 2:
            raise ValueError(f"bins must be an integer or (bins_x, bins_y); got {bins!r}.")
        return (as_int(bins[0], "bins_x", min_value=1, max_value=MAX_BINS),
                as_int(bins[1], "bins_y", min_value=1, max_value=MAX_BINS))
    b = as_int(bins, "bins", min_value=1, max_value=MAX_BINS)
    return b, b


# ----------------------------------------------------------------------------- kernels
def _tight(edges: np.ndarray) -> bool:
    """Bins only a few float32 steps wide (edges may repeat, or even step back among subnormals): rounding
    could move the arithmetic bin by more than the one step it corrects, so the bins are found by binary
    search instead, as numpy does."""
    scale = np.float32(min(float(np.abs(edges).max()), float(np.finfo(np.float32).max)))
    step = float(np.spacing(scale))      # one float32 step there (also among subnormals, where it is fixed)
    return float(np.diff(edges).min()) <= 64 * step


def _index_numpy(v: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin of each value (numpy.histogram2d's rule: the last edge counts in the last bin) and whether it
    lies in [edges[0], edges[-1]]."""
    b = edges.size - 1
    lo, hi = edges[0], edges[-1]
    v = v.astype(np.float64, copy=False)
    if _tight(edges):                              # numpy.histogramdd's own steps, for any edges
        n = np.searchsorted(edges, v, side="right")
        n -= v == hi
        return np.clip(n - 1, 0, b - 1), (n >= 1) & (n <= b)
    with np.errstate(over="ignore", invalid="ignore"):
        f = np.floor((v - lo) / (hi - lo) * b)                               # (n,) within one of the bin
    i = np.clip(f, 0, b - 1).astype(np.int64)
    i -= v < edges[i]                                                        # rounding put it one too high
    i += (v >= edges[np.minimum(i + 1, b)]) & (i < b - 1)                    # … or one too low
    return i, (v >= lo) & (v <= hi)


def _counts_numpy(xy: np.ndarray, ex: np.ndarray, ey: np.ndarray) -> np.ndarray:
    ix, okx = _index_numpy(xy[:, 0], ex)
    iy, oky = _index_numpy(xy[:, 1], ey)
    ok = okx & oky
    flat = iy[ok] * (ex.size - 1) + ix[ok]                                   # (m,) row-major (y, x)
    return np.bincount(flat, minlength=(ey.size - 1) * (ex.size - 1)).reshape(ey.size - 1, ex.size - 1)


def _index_torch(v: torch.Tensor, edges: torch.Tensor):
    """:func:`_index_numpy` in torch (float64 on the tensor's device)."""
    b = edges.numel() - 1
    lo, hi = edges[0], edges[-1]
    v = v.to(torch.float64)
    if _tight(edges.cpu().numpy()):
        n = torch.bucketize(v, edges, right=True) - (v == hi).long()
        return (n - 1).clamp_(0, b - 1), (n >= 1) & (n <= b)
    f = torch.floor((v - lo) / (hi - lo) * b)                                # (n,)
    i = f.nan_to_num(0.0).clamp_(0, b - 1).long()
    i -= (v < edges[i]).long()
    i += ((v >= edges[(i + 1).clamp_(max=b)]) & (i < b - 1)).long()
    return i, (v >= lo) & (v <= hi)


def _counts_torch(xy: np.ndarray, ex: np.ndarray, ey: np.ndarray, device: torch.device) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(xy)).to(device)               # (n, 2)
    tex = torch.from_numpy(ex).to(device)                                    # (bx + 1,)
    tey = torch.from_numpy(ey).to(device)                                    # (by + 1,)
    ix, okx = _index_torch(t[:, 0], tex)
    iy, oky = _index_torch(t[:, 1], tey)
    ok = okx & oky
    bx, by = ex.size - 1, ey.size - 1
    counts = torch.bincount((iy * bx + ix)[ok], minlength=bx * by)           # (by·bx,)
    return counts.reshape(by, bx).cpu().numpy().astype(np.int64)


# ----------------------------------------------------------------------------- public functions
def density_2d(xy, x_range=None, y_range=None, bins=200, device=None) -> Density:
    """Count every row of ``xy`` in a grid of ``bins`` over ``x_range`` × ``y_range``.

    Parameters
    ----------
    xy : array_like, shape (n, 2)
        Finite coordinates (e.g. the first two principal components of every row).
    x_range, y_range : (float, float), optional
        The range counted along each axis; default the data's min and max (±0.5 when they are equal).
    bins : int or (int, int), default 200
        Bins per axis (or ``(bins_x, bins_y)``), 1 … 2000.
    device : str or torch.device, optional
        Default :func:`la_core.device.get_device`: NumPy on the CPU, torch elsewhere.

    Returns
    -------
    Density
        ``counts`` equals ``numpy.histogram2d(x, y, bins=(bins_x, bins_y), range=(x_range, y_range))[0].T``.
    """
    arr = _as_xy(xy)
    bx, by = _bins(bins)
    ex = _edges(x_range, arr[:, 0], bx, "x_range")                          # (bx + 1,)
    ey = _edges(y_range, arr[:, 1], by, "y_range")                          # (by + 1,)
    try:
        dev = get_device() if device is None else torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise ValueError(f"device must be a torch device or a name such as 'cpu' or 'cuda'; got {device!r} "
                         f"({exc}).") from None
    counts = _counts_numpy(arr, ex, ey) if dev.type == "cpu" else _counts_torch(arr, ex, ey, dev)
    return Density(counts=counts, x_edges=ex, y_edges=ey, n_in_view=int(counts.sum()), n_total=arr.shape[0])


def _event_range(event: dict, axis: str):
    """The range a relayout event gives ``axis`` ("xaxis"/"yaxis"): (lo, hi), "auto", or None (unchanged)."""
    if event.get(f"{axis}.autorange") is True:
        return "auto"
    pair = event.get(f"{axis}.range")
    if pair is None and f"{axis}.range[0]" in event and f"{axis}.range[1]" in event:
        pair = (event[f"{axis}.range[0]"], event[f"{axis}.range[1]"])
    if pair is None:
        return None
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise ValueError(f"{axis}.range in the relayout event must be two numbers; got {pair!r}.")
    lo, hi = as_finite_float(pair[0], f"{axis}.range[0]"), as_finite_float(pair[1], f"{axis}.range[1]")
    return (min(lo, hi), max(lo, hi))


def view_from_relayout(event, x_range, y_range):
    """The axis ranges after a Plotly ``relayout`` event.

    Parameters
    ----------
    event : dict
        Plotly's relayout data: ``{"xaxis.range[0]": a, "xaxis.range[1]": b, …}``,
        ``{"xaxis.range": [a, b]}`` or ``{"xaxis.autorange": True, …}``.
    x_range, y_range : (float, float) or None
        The ranges shown before the event (None: the data's range).

    Returns
    -------
    (x_range, y_range)
        Each ``(lo, hi)``, or None for an axis reset to the data's range (autorange); an axis the
        event does not mention keeps its range.
    """
    if not isinstance(event, dict):
        raise ValueError(f"event must be Plotly's relayout data (a dict); got {type(event).__name__}.")
    out = []
    for axis, before in (("xaxis", x_range), ("yaxis", y_range)):
        r = _event_range(event, axis)
        out.append(before if r is None else None if r == "auto" else r)
    return tuple(out)


def rebin(xy, density: Density, event) -> Density:
    """Count the rows again for the view a zoom or pan (Plotly ``relayout`` event) shows.

    Parameters
    ----------
    xy : array_like, shape (n, 2)
        The same rows as ``density`` counted.
    density : Density
        What is shown now; its numbers of bins are kept, and its range for an axis the event does
        not change.
    event : dict
        Plotly's relayout data (see :func:`view_from_relayout`); autorange resets an axis to the
        data's range.

    Returns
    -------
    Density
        ``density`` itself when the event changes neither range (e.g. a drag-mode change).
    """
    if not isinstance(density, Density):
        raise ValueError(f"density must be a Density from density_2d; got {type(density).__name__}.")
    new_x, new_y = view_from_relayout(event, density.x_range, density.y_range)
    if new_x == density.x_range and new_y == density.y_range:
        return density
    bins = (density.x_edges.size - 1, density.y_edges.size - 1)
    return density_2d(xy, new_x, new_y, bins=bins)
