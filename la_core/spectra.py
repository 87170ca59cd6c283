"""Singular value spectra of many matrices: one at a time, their summary numbers, and their precision.

The spectrum atlas of the SVD page needs only the singular values of every weight matrix of a
model, never the vectors: :func:`svdvals` runs ``torch.linalg.svdvals`` on one matrix at a time on
the la_core device, so a large model is scanned one matrix at a time. :func:`spectrum_stats` turns
a spectrum into the two numbers the atlas shows (the entropy effective rank and the rank that keeps
a fraction of the energy), and :func:`atlas_grid` lays them out as layer × kind tables.

:func:`rounding_floor` says below which error a float32 matrix is rebuilt "exactly": differences
there are rounding, not approximation.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_dtype, as_float_array, as_fraction, as_int, as_matrix
from la_core.device import get_device, to_numpy, to_tensor
from la_core.svd import effective_rank, rank_for_energy

__all__ = ["svdvals", "rounding_floor", "EPS32", "SpectrumStats", "spectrum_stats", "AtlasGrid", "atlas_grid"]

EPS32 = float(np.finfo(np.float32).eps)
RELATIVE_FLOOR = 1e-6          # a relative error below this is never shown as an approximation error


def svdvals(a, dtype: str = "float32") -> np.ndarray:
    """Singular values of one matrix, descending (``torch.linalg.svdvals`` on the la_core device).

    Parameters
    ----------
    a : array_like, shape (m, n)
        A finite real matrix (float32/float64 arrays are used without a copy on the CPU).
    dtype : {"float32", "float64"}, default "float32"
        Precision of the decomposition.

    Returns
    -------
    numpy.ndarray, shape (min(m, n),), float64
    """
    td = as_dtype(dtype)
    m = as_matrix(a, "a")
    big = float(np.abs(m).max())
    if not np.isfinite(big):
        raise ValueError("a contains NaN or infinite values; only finite numbers are accepted.")
    if big > 1e30 or 0 < big < 1e-30:                            # beyond float32: scale in NumPy first
        t = to_tensor(m / big, td, get_device())                 # (m, n)
    else:
        big = 1.0
        t = to_tensor(m, td, get_device())                       # (m, n), shared with m on the CPU: not modified
    return to_numpy(torch.linalg.svdvals(t)).astype(np.float64) * big    # (k,)


def rounding_floor(shape, S) -> float:
    """Frobenius error below which a float32 rebuild of the matrix is rounding, not approximation.

    ``max(√(m n) · ε₃₂ · σ₁, 10⁻⁶ · ‖A‖_F)``: the backward error of a float32 SVD and of the sum
    ``U_r diag(S_r) V_rᵀ`` grows like ``ε₃₂ ‖A‖₂`` per entry, so over the ``m n`` entries like
    ``√(m n) ε₃₂ σ₁``. Two errors both below it (say a measured 1.6e-05 and a predicted 6.0e-06)
    are the same zero.

    Parameters
    ----------
    shape : tuple of int
        ``(m, n)`` of the matrix (or ``(C, m, n)`` for C channels: all entries count).
    S : array_like, shape (k,)
        Its singular values (for channels, the combined ``√(Σ_c S_c²)``).

    Returns
    -------
    float
    """
    if not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3):
        raise ValueError(f"shape must be a tuple (m, n) or (C, m, n); got {shape!r}.")
    dims = [as_int(d, "shape entries", 1) for d in shape]
    s = _spectrum(S)
    entries = float(np.prod(dims))
    return max(np.sqrt(entries) * EPS32 * float(s.max()), RELATIVE_FLOOR * float(np.sqrt((s ** 2).sum())))


def _spectrum(S) -> np.ndarray:
    s = as_float_array(S, "S", ndim=1)
    if (s < 0).any():
        raise ValueError(f"S must hold singular values (all ≥ 0); got a negative entry {s.min():.3g}.")
    return s


class SpectrumStats(NamedTuple):
    """What the atlas shows of one spectrum."""

    effective_rank: float    # exp of the entropy of σ / Σσ (Roy & Vetterli)
    rank_energy: float       # smallest r with Σ_{i≤r} σ² ≥ fraction · Σ σ²
    k: int                   # min(m, n): the most either can be


def spectrum_stats(S, fraction: float = 0.9) -> SpectrumStats:
    """Effective rank and the rank that keeps ``fraction`` of the energy, of one spectrum.

    Parameters
    ----------
    S : array_like, shape (k,)
        Singular values (any order, all ≥ 0).
    fraction : float in (0, 1], default 0.9

    Returns
    -------
    SpectrumStats

    Raises
    ------
    ValueError
        A spectrum with a negative or non-finite entry, or all zeros (the zero matrix has neither).
    """
    fraction = as_fraction(fraction, "fraction")
    s = _spectrum(S)
    if not s.any():
        raise ValueError("S is all zeros: the zero matrix has no effective rank or energy.")
    return SpectrumStats(effective_rank(s), float(rank_for_energy(s, fraction)), s.shape[0])


class AtlasGrid(NamedTuple):
    """Layer × kind tables of spectrum numbers (NaN where a layer has no matrix of that kind)."""

    kinds: list                 # column names, in the order given
    effective_rank: np.ndarray  # (n_layers, n_kinds)
    rank_energy: np.ndarray     # (n_layers, n_kinds)
    full_rank: np.ndarray       # (n_layers, n_kinds) min(m, n)


def atlas_grid(spectra: dict, n_layers: int, kinds, fraction: float = 0.9) -> AtlasGrid:
    """Arrange ``{(layer, kind): singular values}`` as layer × kind tables.

    Parameters
    ----------
    spectra : dict
        ``(layer, kind) -> S`` for the matrices there are (a zero matrix's cells stay NaN).
    n_layers : int
        Rows of the tables (layers without any matrix stay NaN).
    kinds : sequence of str
        Columns, in display order; keys of ``spectra`` with other kinds are refused.
    fraction : float in (0, 1], default 0.9

    Returns
    -------
    AtlasGrid
    """
    if not isinstance(spectra, dict):
        raise ValueError(f"spectra must be a dict {{(layer, kind): singular values}}; got {type(spectra).__name__}.")
    n_layers = as_int(n_layers, "n_layers", 1)
    kinds = [str(k) for k in kinds]
    fraction = as_fraction(fraction, "fraction")
    shape = (n_layers, len(kinds))
    eff, rk, full = (np.full(shape, np.nan) for _ in range(3))
    for key, s in spectra.items():
        if not (isinstance(key, tuple) and len(key) == 2 and key[1] in kinds):
            raise ValueError(f"spectra keys must be (layer, kind) with kind in {kinds}; got {key!r}.")
        layer = as_int(key[0], "layer", 0, n_layers - 1)
        j = kinds.index(key[1])
        s = _spectrum(s)
        full[layer, j] = s.shape[0]
        if s.any():
            eff[layer, j], rk[layer, j], _ = spectrum_stats(s, fraction)
    return AtlasGrid(kinds, eff, rk, full)
