"""A stack of channels factored once, and block-mean previews of every rank.

The SVD page shows one matrix, a grey image, or an image's R, G, B channels. Each channel gets one
thin SVD (:func:`la_core.svd.svd`) when the source is chosen; a rank slider then only rebuilds
(:meth:`FactoredChannels.reconstruct`, cost ``O(C·m·n·r)``), and the client-side scrubber's small
frames come from block means of the factors, exact because a block mean is linear:
``D_L A_r D_Rᵀ = (D_L U_r) diag(S_r) (D_R V_r)ᵀ``, cost ``O(C·(m'·k + k·n') + F·C·m'·n'·r)`` for
``F`` frames of ``m'×n'`` pixels, never a full-size ``A_r`` per frame.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from la_core.checks import as_float_array, as_int
from la_core.spectra import svdvals
from la_core.svd import reconstruct, reconstruct_many, svd, truncation_error

__all__ = ["FactoredChannels", "Previews", "factor_channels", "block_factors", "downsample", "block_mean_matrix"]


class Previews(NamedTuple):
    """Small block-mean previews of the rank-r approximations for a list of ranks."""

    frames: np.ndarray   # (F, h, w) for one channel, (F, h, w, C) for several; float32
    ranks: list          # F ranks, ascending
    factor: int          # block height: each preview pixel is the mean of factor × factor_cols entries
    factor_cols: int     # block width (equal to factor for square blocks)
    rel_errors: np.ndarray  # (F,) ‖A − A_r‖_F / ‖A‖_F of the full matrix at each rank (Eckart–Young)


@dataclass
class FactoredChannels:
    """A stack of channels (one matrix, a grey image, or R, G, B) with one thin SVD per channel.

    Built by :func:`factor_channels`; only arrays, numbers and strings, so it pickles.

    Attributes
    ----------
    A : numpy.ndarray, shape (C, m, n), float32
    U, S, Vh : numpy.ndarray, shapes (C, m, k), (C, k), (C, k, n), float32
        Thin SVD factors of each channel, ``k = min(m, n)``.
    s : numpy.ndarray, shape (k,), float64
        Combined spectrum ``√(Σ_c S_c²)``: its tail is the error over all channels together,
        ``‖A − A_r‖_F = √(Σ_{i>r} s_i²)``.
    s_centred : numpy.ndarray, shape (k,), float64
        The same for the column-centred channels ``A − 1 μᵀ`` (each column's mean removed). For a
        photo, σ₁ of ``A`` mostly carries the mean brightness, so the energy of ``A`` starts high;
        the centred energy says how much of the *variation* a rank keeps.
    lo, hi, signed : float, float, bool
        Display range: 0…255 for an image, zero-centred ``±max|A|`` (signed) for a matrix.
    image : bool
        Grey levels of an image in 0…255, rather than a matrix.
    t_svd : float
        Seconds the SVDs took.
    note : str
        A description of the source, for display.
    """

    A: np.ndarray
    U: np.ndarray
    S: np.ndarray
    Vh: np.ndarray
    s: np.ndarray
    lo: float
    hi: float
    signed: bool
    image: bool
    t_svd: float
    note: str = ""
    s_centred: np.ndarray | None = None

    @property
    def colour(self) -> bool:
        """Three channels: R, G, B."""
        return self.A.shape[0] == 3

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, m, n, k)``: channels, rows, columns and the rank of the full SVD."""
        C, m, n = self.A.shape
        return C, m, n, self.S.shape[1]

    def reconstruct(self, rank: int) -> np.ndarray:
        """The best rank-r approximation of every channel, shape (C, m, n) (see :func:`reconstruct`)."""
        return np.stack([reconstruct(u, s, vh, rank) for u, s, vh in zip(self.U, self.S, self.Vh)])

    def previews(self, max_side: int = 128, square: bool = True) -> Previews:
        """Block-mean previews (sides ≤ ``max_side``) of ranks 1…64 and log-spaced ranks up to k.

        Built from block means of the factors (a block mean is linear: ``D_L A_r D_Rᵀ =
        (D_L U_r) diag(S_r) (D_R V_r)ᵀ``), so they are exact without any full-size ``A_r``.
        ``square`` blocks keep an image's pixels square; ``square=False`` sizes rows and columns
        apart, so a tall matrix (an embedding table) keeps all its columns.
        """
        max_side = as_int(max_side, "max_side", 1)
        C, m, n, k = self.shape
        fr, fc = block_factors(m, n, max_side, square)
        ranks = list(range(1, min(64, k) + 1))
        if k > 64:
            ranks += sorted(set(int(x) for x in np.geomspace(64, k, 14)[1:]) | {k})
        DL, DR = block_mean_matrix(m, fr), block_mean_matrix(n, fc)               # (m', m), (n', n)
        frames = np.stack([reconstruct_many(DL @ self.U[c], self.S[c], self.Vh[c] @ DR.T, ranks)
                           for c in range(C)], axis=-1)                           # (F, m', n', C)
        rel = truncation_error(self.s, np.asarray(ranks), kind="relative")        # (F,)
        return Previews(frames[..., 0] if C == 1 else frames, ranks, fr, fc, rel)


def factor_channels(chans, image: bool, note: str = "") -> FactoredChannels:
    """One thin SVD (float32, :func:`svd`) per channel of ``chans``.

    Parameters
    ----------
    chans : array_like, shape (C, m, n)
        Finite channels: ``C = 1`` for a matrix or a grey image, 3 for R, G, B.
    image : bool
        An image (values in 0…255, shown on that range) rather than a matrix (zero-centred range).
    note : str, optional
        A description of the source, kept with the result.

    Raises
    ------
    ValueError
        If ``chans`` is not a finite 3-D numeric array within float32's range, or ``image`` is not
        a bool.
    """
    if not isinstance(image, (bool, np.bool_)):
        raise ValueError(f"image must be True or False; got {image!r}.")
    a = chans if isinstance(chans, np.ndarray) and chans.dtype == np.float32 and chans.ndim == 3 else None
    if a is None or not a.size or not np.isfinite(a).all():   # slow path: convert and explain what is wrong
        a = as_float_array(chans, "chans", ndim=3)
        if np.abs(a).max() > np.finfo(np.float32).max:
            raise ValueError("chans has entries beyond float32's range (about ±3.4e38); rescale it.")
        a = a.astype(np.float32)
    t0 = time.perf_counter()
    facs = [svd(c) for c in a]
    t_svd = time.perf_counter() - t0
    U = np.stack([f.U for f in facs])                                             # (C, m, k)
    S = np.stack([f.S for f in facs])                                             # (C, k)
    Vh = np.stack([f.Vh for f in facs])                                           # (C, k, n)
    s = np.sqrt((S.astype(np.float64) ** 2).sum(0))                              # (k,) exact for the total error
    centred = a - a.mean(axis=1, keepdims=True)                                   # (C, m, n) column means removed
    s_c = np.sqrt((np.stack([svdvals(c) for c in centred]) ** 2).sum(0))          # (k,)
    if image:
        lo, hi, signed = 0.0, 255.0, False
    else:
        hi = float(np.abs(a).max()) or 1.0
        lo, signed = -hi, True
    return FactoredChannels(A=a, U=U, S=S, Vh=Vh, s=s, lo=lo, hi=hi, signed=signed, image=bool(image),
                            t_svd=t_svd, note=str(note), s_centred=s_c)


def block_factors(m: int, n: int, max_side: int, square: bool = True) -> tuple[int, int]:
    """Block height and width that bring an ``m×n`` array within ``max_side`` on both sides.

    ``square``: one factor for both (an image keeps square pixels); otherwise each side its own,
    so a 30522×384 embedding table becomes 381×384 rather than 381×4.
    """
    m, n, max_side = as_int(m, "m", 1), as_int(n, "n", 1), as_int(max_side, "max_side", 1)
    fr, fc = int(np.ceil(m / max_side)), int(np.ceil(n / max_side))
    return (max(fr, fc),) * 2 if square else (fr, fc)


def downsample(img, max_side: int, square: bool = True) -> np.ndarray:
    """Block-mean downsample of a 2-D (h, w) or 3-D (h, w, c) array so that max(h, w) ≤ ``max_side``.

    The factors are the smallest integers that fit (one for both sides when ``square``, see
    :func:`block_factors`); trailing rows/columns that do not fill a block are dropped. Returns float32.
    """
    a = as_float_array(img, "img", ndim=(2, 3)).astype(np.float32)
    fr, fc = block_factors(a.shape[0], a.shape[1], max_side, square)
    if fr == fc == 1:
        return a
    h, w = a.shape[0] // fr, a.shape[1] // fc
    a = a[:h * fr, :w * fc]
    return a.reshape(h, fr, w, fc, *a.shape[2:]).mean(axis=(1, 3))


def block_mean_matrix(n: int, factor: int) -> np.ndarray:
    """``(n // factor, n)`` averaging matrix D so that ``D x`` is the block mean of ``x``.

    A block mean is linear, so ``D_L A_r D_Rᵀ = (D_L U_r) diag(S_r) (D_R V_r)ᵀ``: small previews of
    every rank come from the downsampled factors.
    """
    n, factor = as_int(n, "n", 1), as_int(factor, "factor", 1)
    m = n // factor
    d = np.zeros((m, n), np.float32)
    for i in range(m):
        d[i, i * factor:(i + 1) * factor] = 1.0 / factor
    return d
