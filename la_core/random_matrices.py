"""Random n×n matrices of a few named kinds, and all their eigenvalues at once.

Public contract (NumPy in, NumPy out; compute in torch on :func:`la_core.device.get_device`):

- :func:`random_matrix` — a seeded random matrix of one of :data:`RANDOM_KINDS`, whose eigenvalues
  follow a known law (circular law, Wigner semicircle, unit circle, stochastic).
- :func:`spectrum` — every eigenvalue of a matrix, complex128, sorted by ``|λ|`` like
  :func:`la_core.eigen.eigen` (no eigenvectors: the page plots thousands of eigenvalues).
"""
from __future__ import annotations

import numpy as np
import torch

from la_core.checks import as_choice, as_int, as_seed, as_square_matrix
from la_core.device import to_numpy, to_tensor
from la_core.eigen import _compute_device, _rescaled, _solve, _sort_order, is_symmetric

__all__ = ["random_matrix", "spectrum", "MAX_N", "RANDOM_KINDS"]

MAX_N = 4096
RANDOM_KINDS = ("gaussian", "symmetric", "orthogonal", "stochastic")
_F64 = torch.float64


def random_matrix(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """A random ``n×n`` float64 matrix of a named kind.

    Parameters
    ----------
    kind : {"gaussian", "symmetric", "orthogonal", "stochastic"}
        ``gaussian``: i.i.d. N(0, 1/n) entries, whose eigenvalues fill the unit disc (circular law).
        ``symmetric``: (G + Gᵀ)/√(2n), real eigenvalues on [−2, 2] (Wigner semicircle).
        ``orthogonal``: Q of a Gaussian's QR (Haar), eigenvalues on the unit circle.
        ``stochastic``: row-wise softmax of N(0, 1) scores, like an attention matrix: λ = 1 with the
        all-ones eigenvector, every other |λ| ≤ 1.
    n : int
        Size, 1 … :data:`MAX_N`.
    seed : int, default 0
        Seed of the CPU generator (the same seed gives the same matrix on every device).

    Returns
    -------
    numpy.ndarray, shape (n, n), float64

    Raises
    ------
    ValueError
        An unknown kind, or ``n`` / ``seed`` that is not an integer in range.
    """
    kind = as_choice(kind, "kind", RANDOM_KINDS)
    n = as_int(n, "n", 1, MAX_N)
    g = torch.Generator(device="cpu").manual_seed(as_seed(seed))
    G = torch.randn(n, n, generator=g, dtype=_F64)                    # (n, n)
    if kind == "gaussian":
        M = G / np.sqrt(n)
    elif kind == "symmetric":
        M = (G + G.T) / np.sqrt(2 * n)
    elif kind == "orthogonal":
        Q, R = torch.linalg.qr(G)
        M = Q * torch.sign(torch.diagonal(R)).clamp_min(-1)[None, :]  # sign fix -> Haar
    else:
        M = torch.softmax(G, dim=1)
    return to_numpy(M)


def spectrum(a) -> np.ndarray:
    """All eigenvalues of ``A`` on the la_core device.

    Parameters
    ----------
    a : array_like, shape (n, n)
        A real, finite square matrix; ``eigvalsh`` is used when it is symmetric.

    Returns
    -------
    numpy.ndarray, shape (n,), complex128
        Sorted by ``|λ|`` descending (ties by real, then imaginary part), as :func:`la_core.eigen.eigen`.

    Raises
    ------
    ValueError
        If ``a`` is not a finite numeric square matrix, or the solver does not converge.
    """
    arr, c = _rescaled(as_square_matrix(a, "A"))
    A = to_tensor(arr, _F64, _compute_device())                        # (n, n)
    if is_symmetric(arr):
        vals = _solve(torch.linalg.eigvalsh, A).to(torch.complex128)  # (n,)
    else:
        vals = _solve(torch.linalg.eigvals, A)                         # (n,)
    return to_numpy(vals[_sort_order(vals)]) * c
