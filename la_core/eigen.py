"""Eigenvalues and eigenvectors: ``A v = λ v``, iterates ``A^k v``, power iteration.

Public contract (NumPy in, NumPy out; compute in torch on :func:`la_core.device.get_device`):

- :func:`eigen` — eigenvalues sorted by ``|λ|`` descending and unit-norm eigenvectors as columns;
  ``torch.linalg.eigh`` when ``A`` is symmetric (real output), ``torch.linalg.eig`` otherwise (complex
  dtype only when some eigenvalue really is complex).
- :func:`is_defective` / :func:`eigvec_condition` — do the eigenvectors span (diagonalisable)?
- :func:`iterate` — ``v, Av, A²v, …`` (raw or normalised every step).
- :func:`unit_circle_image` — the unit circle and its image ellipse for a 2×2 matrix.
- :func:`power_iteration` — estimates of the dominant eigenvalue and the angle to the true top
  eigenvector at every step, with the predicted rate ``|λ₂/λ₁|`` and how the iterates behave
  (:data:`BEHAVIOURS`: shrinking like ratioᵏ, like 1/k for a defective matrix, flipping, …).

Random matrices of a few kinds and all their eigenvalues are in :mod:`la_core.random_matrices`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import (as_finite_float, as_float_array, as_int, as_positive_float, as_seed,
                            as_square_matrix)
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["EigResult", "UnitCircleImage", "PowerIteration", "ComplexRotation", "SymmetricFactors",
           "eigen", "is_symmetric", "eigvec_condition", "is_defective", "iterate", "unit_circle_image",
           "line_angle", "power_iteration", "complex_rotation", "symmetric_factors", "sample_cloud",
           "MAX_STEPS", "DEFECTIVE_COND", "BEHAVIOURS"]

MAX_STEPS = 10_000
DEFECTIVE_COND = 1e8          # cond(V) above this: the eigenvectors do not (numerically) span
# How power iteration behaves, decided by the top eigenvalues (see PowerIteration.behaviour).
BEHAVIOURS = ("geometric", "algebraic", "alternates", "fixed", "rotates", "vanishes")
_F64 = torch.float64


class EigResult(NamedTuple):
    """What :func:`eigen` returns; unpacks as ``eigenvalues, eigenvectors = eigen(A)``."""

    eigenvalues: np.ndarray    # (n,) float64, or complex128 when some eigenvalue is complex
    eigenvectors: np.ndarray   # (n, n) unit-norm columns, real when the eigenvalues are


class UnitCircleImage(NamedTuple):
    """What :func:`unit_circle_image` returns: points of the unit circle and their images."""

    circle: np.ndarray         # (n_points, 2)
    image: np.ndarray          # (n_points, 2) = circle @ Aᵀ, an ellipse (or a segment)


class ComplexRotation(NamedTuple):
    """The complex pair ``r e^{±iθ}`` of a 2×2 matrix (see :func:`complex_rotation`)."""

    modulus: float             # r = |λ|: the scale per step
    angle_deg: float           # θ in degrees, 0 … 180: the turn per step


class SymmetricFactors(NamedTuple):
    """``A = Q diag(λ) Qᵀ`` (see :func:`symmetric_factors`); unpacks as ``q, lam``."""

    eigenvectors: np.ndarray   # (n, n) Q: orthonormal columns, det Q = +1
    eigenvalues: np.ndarray    # (n,) real λ, sorted like :func:`eigen`


# ----------------------------------------------------------------------------- helpers
def _compute_device() -> torch.device:
    """la_core device, but ``cpu`` on MPS (no float64 and no ``linalg.eig`` there)."""
    dev = get_device()
    return torch.device("cpu") if dev.type == "mps" else dev


def _as_vectors(x, name: str, ndim: int | None = None) -> np.ndarray:
    """A finite real (float64) or complex (complex128) array: eigenvectors may be complex."""
    try:
        is_complex = np.iscomplexobj(x)
    except (TypeError, ValueError):          # ragged or odd input: as_float_array says what is wrong
        is_complex = False
    if is_complex:
        x = np.asarray(x)
        return as_float_array(x.real, name, ndim) + 1j * as_float_array(x.imag, name, ndim)
    return as_float_array(x, name, ndim)


def is_symmetric(a, tol: float = 1e-10) -> bool:
    """True when ``A`` equals its transpose up to ``tol`` relative to its largest entry."""
    arr = as_square_matrix(a, "A")
    tol = as_finite_float(tol, "tol")
    scale = max(1.0, float(np.abs(arr).max()))
    return bool(np.all(np.abs(arr - arr.T) <= tol * scale))


def _sort_order(vals: torch.Tensor) -> torch.Tensor:
    """Indices sorting by |λ| descending; ties broken by real part, then imaginary part, descending."""
    v = vals.to(torch.complex128) if not vals.is_complex() else vals
    keys = np.lexsort((-to_numpy(v.imag), -to_numpy(v.real), -np.round(to_numpy(v.abs()), 12)))
    return torch.as_tensor(keys, device=vals.device)


def _real_phase(vecs: torch.Tensor) -> torch.Tensor:
    """Rotate each complex column so its largest entry is real positive, then drop the imaginary part."""
    idx = vecs.abs().argmax(dim=0)                                     # (n,)
    pivot = vecs[idx, torch.arange(vecs.shape[1], device=vecs.device)]  # (n,)
    phase = pivot / pivot.abs().clamp_min(1e-300)                      # (n,)
    real = (vecs * phase.conj()[None, :]).real                         # (n, n)
    return real / torch.linalg.vector_norm(real, dim=0, keepdim=True).clamp_min(1e-300)


# ----------------------------------------------------------------------------- eigen
def eigen(a, symmetric: bool | None = None, real_tol: float = 1e-10) -> EigResult:
    """Eigen-decomposition ``A V = V diag(λ)`` sorted by ``|λ|`` descending.

    Parameters
    ----------
    a : array_like, shape (n, n)
        A real, finite square matrix.
    symmetric : bool, optional
        Force (True) or forbid (False) the symmetric solver; by default detected with
        :func:`is_symmetric`. Forcing True uses only the lower triangle.
    real_tol : float, default 1e-10
        Eigenvalues whose imaginary parts are all below ``real_tol * max(1, |λ|)`` are returned real.

    Returns
    -------
    EigResult
        Unpacks as ``eigenvalues, eigenvectors``.
    eigenvalues : numpy.ndarray, shape (n,)
        float64 when every eigenvalue is real, else complex128 (conjugate pairs adjacent).
    eigenvectors : numpy.ndarray, shape (n, n)
        Column ``j`` is a unit-norm eigenvector for ``eigenvalues[j]``; real when the eigenvalues are
        real. For a defective matrix some columns are (numerically) parallel: see :func:`is_defective`.

    Raises
    ------
    ValueError
        If ``a`` is not a finite numeric square matrix.
    """
    arr = as_square_matrix(a, "A")
    real_tol = as_finite_float(real_tol, "real_tol")
    if symmetric is None:
        symmetric = is_symmetric(arr)
    arr, c = _rescaled(arr)
    A = to_tensor(arr, _F64, _compute_device())                        # (n, n)
    if symmetric:
        vals, vecs = _solve(torch.linalg.eigh, A)                      # (n,), (n, n) real
        order = _sort_order(vals)
        return EigResult(to_numpy(vals[order]) * c, to_numpy(vecs[:, order]))
    vals, vecs = _solve(torch.linalg.eig, A)                           # (n,), (n, n) complex
    vals = vals * c
    order = _sort_order(vals)
    vals, vecs = vals[order], vecs[:, order]
    vecs = vecs / torch.linalg.vector_norm(vecs, dim=0, keepdim=True).clamp_min(1e-300)
    scale = torch.clamp(vals.abs(), min=1.0)
    if bool(torch.all(vals.imag.abs() <= real_tol * scale)):
        return EigResult(to_numpy(vals.real), to_numpy(_real_phase(vecs)))
    return EigResult(to_numpy(vals), to_numpy(vecs))


def _rescaled(arr: np.ndarray) -> tuple[np.ndarray, float]:
    """Divide by max|A| when entries are huge or tiny so LAPACK converges; eigenvalues scale back."""
    big = float(np.abs(arr).max()) if arr.size else 0.0
    if big > 1e150 or 0 < big < 1e-150:
        return arr / big, big
    return arr, 1.0


def _solve(fn, A: torch.Tensor):
    try:
        return fn(A)
    except torch.linalg.LinAlgError as exc:
        raise ValueError(f"the eigen-solver did not converge for this matrix ({exc}); "
                         "try a better-conditioned matrix.") from None


def eigvec_condition(vectors) -> float:
    """2-norm condition number of the eigenvector matrix ``V`` (``inf`` when singular).

    1 for an orthonormal basis (symmetric A); huge when eigenvectors are nearly parallel.
    """
    v = _as_vectors(vectors, "vectors", ndim=2)
    if v.shape[0] != v.shape[1]:
        raise ValueError(f"vectors must be a square (n, n) matrix of eigenvector columns; got shape {v.shape}.")
    dtype = torch.complex128 if np.iscomplexobj(v) else _F64
    s = torch.linalg.svdvals(to_tensor(v, dtype, _compute_device()))  # (n,)
    smin, smax = float(s[-1]), float(s[0])
    return float("inf") if smin <= smax * 1e-300 or smin == 0.0 else smax / smin


def is_defective(a, cond_limit: float = DEFECTIVE_COND) -> bool:
    """True when ``A``'s eigenvectors do not span ℝⁿ numerically (``cond(V) > cond_limit``).

    A defective matrix (e.g. a shear ``[[1, 1], [0, 1]]``) has a repeated eigenvalue with fewer
    independent eigenvectors than its multiplicity; the solver then returns parallel columns.
    """
    cond_limit = as_positive_float(cond_limit, "cond_limit")
    return eigvec_condition(eigen(a).eigenvectors) > cond_limit


# ----------------------------------------------------------------------------- iterates
def iterate(a, v, steps: int, normalize: bool = False) -> np.ndarray:
    """The iterates ``v, Av, A²v, …, A^steps v``.

    Parameters
    ----------
    a : array_like, shape (n, n)
    v : array_like, shape (n,)
        Start vector (non-zero when ``normalize``).
    steps : int
        Number of multiplications, 0 … 10000.
    normalize : bool, default False
        Divide every iterate by its norm (the power-iteration sequence); the start is normalised too.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, n)
        float64 rows; raw iterates may over/underflow for large ``steps``.
    """
    arr = as_square_matrix(a, "A")
    vec = as_float_array(v, "v", ndim=1)
    if vec.shape[0] != arr.shape[0]:
        raise ValueError(f"v must have length {arr.shape[0]} to match A {arr.shape}; got length {vec.shape[0]}.")
    steps = as_int(steps, "steps", 0, MAX_STEPS)
    if normalize and not np.any(vec):
        raise ValueError("v must be non-zero to normalise the iterates; got the zero vector.")
    dev = _compute_device()
    A, x = to_tensor(arr, _F64, dev), to_tensor(vec, _F64, dev)        # (n, n), (n,)
    if normalize:
        x = x / torch.linalg.vector_norm(x)
    out = torch.empty(steps + 1, arr.shape[0], dtype=torch.float64, device=A.device)  # (steps+1, n)
    out[0] = x
    for k in range(steps):
        x = A @ x                                                      # (n,)
        if normalize:
            nrm = torch.linalg.vector_norm(x)
            x = x / nrm if float(nrm) > 0 else x
        out[k + 1] = x
    return to_numpy(out)


def unit_circle_image(a, n_points: int = 200) -> UnitCircleImage:
    """Points of the unit circle and their images under a 2×2 matrix (an ellipse, or a segment).

    Returns
    -------
    UnitCircleImage
        Unpacks as ``circle, image``, both of shape (n_points, 2).
    """
    arr = as_square_matrix(a, "A")
    if arr.shape != (2, 2):
        raise ValueError(f"A must be 2×2 for the unit-circle picture; got shape {arr.shape}.")
    n_points = as_int(n_points, "n_points", 3, 100_000)
    dev = _compute_device()
    t = torch.linspace(0.0, 2.0 * np.pi, n_points, dtype=_F64, device=dev)   # (n_points,)
    circle = torch.stack([torch.cos(t), torch.sin(t)], dim=1)          # (n_points, 2)
    image = circle @ to_tensor(arr, _F64, dev).T                       # (n_points, 2)
    return UnitCircleImage(to_numpy(circle), to_numpy(image))


def line_angle(u, v) -> float:
    """Angle in radians (0 … π/2) between the lines spanned by ``u`` and ``v`` (accurate near 0)."""
    u, v = _as_vectors(u, "u").astype(np.complex128).ravel(), _as_vectors(v, "v").astype(np.complex128).ravel()
    if u.shape != v.shape:
        raise ValueError(f"line_angle needs two vectors of the same length; got {u.shape} and {v.shape}.")
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("line_angle is undefined for a zero vector (it spans no line).")
    u, v = u / nu, v / nv
    c = abs(np.vdot(v, u))
    s = np.linalg.norm(u - np.vdot(v, u) * v)
    return float(np.arctan2(s, c))


@dataclass
class PowerIteration:
    """Result of :func:`power_iteration` (one row per step, step 0 = the start vector)."""

    vectors: np.ndarray      # (steps+1, n) unit iterates
    estimates: np.ndarray    # (steps+1,) Rayleigh quotients vᵀAv
    angles: np.ndarray       # (steps+1,) radians between the iterate and the top eigenline
    top_value: complex       # λ₁ (largest |λ|)
    top_vector: np.ndarray   # (n,) its unit eigenvector
    ratio: float             # |λ₂| / |λ₁|: the angle shrinks by about this factor per step (1 when λ₁ = λ₂)
    converges: bool          # True when the iterates settle on one line: behaviour geometric or algebraic
    behaviour: str           # one of BEHAVIOURS:
    # "geometric"   |λ₂| < |λ₁|: the angle to the top eigenline shrinks like ratioᵏ
    # "algebraic"   λ₁ = λ₂ with a single eigenline (defective): the angle shrinks only like 1/k
    # "alternates"  |λ₂| = |λ₁|, λ₂ ≠ λ₁ (e.g. ±1, a reflection): the iterate flips between directions
    # "fixed"       λ₁ = λ₂ with independent eigenvectors (λI in 2D): every vector stays where it is
    # "rotates"     λ₁ complex: the iterate keeps turning
    # "vanishes"    λ₁ = 0 (nilpotent): Aᵏx reaches 0, no direction is left


def power_iteration(a, v0, steps: int) -> PowerIteration:
    """Power iteration ``v ← Av / ‖Av‖`` with the error measured against the true top eigenvector.

    Parameters
    ----------
    a : array_like, shape (n, n)
    v0 : array_like, shape (n,)
        Non-zero start vector.
    steps : int
        Number of iterations, 0 … 10000.

    Returns
    -------
    PowerIteration
        ``angles[k]`` shrinks like ``ratio**k`` when ``behaviour`` is "geometric" (exactly
        ``tan θ_k = tan θ_0 · ratio^k`` for a symmetric 2×2 matrix), like ``1/k`` when "algebraic";
        NaN where the iterate is zero or λ₁ is complex.
    """
    arr = as_square_matrix(a, "A")
    vecs = iterate(arr, v0, steps, normalize=True)                     # (steps+1, n)
    vals, evecs = eigen(arr)
    top_value = complex(vals[0]) if np.iscomplexobj(vals) else float(vals[0])
    top_vector = evecs[:, 0]
    behaviour = _behaviour(arr, vals, evecs)
    l1 = abs(vals[0])
    l2 = abs(vals[1]) if len(vals) > 1 else 0.0
    ratio = 1.0 if behaviour in ("algebraic", "fixed") or l1 == 0 else float(l2 / l1)
    av = vecs @ arr.T                                                  # (steps+1, n)
    estimates = np.einsum("ij,ij->i", vecs, av)                        # (steps+1,)
    angles = np.full(len(vecs), np.nan)
    if np.isreal(vals[0]):
        tv = np.real(top_vector)
        for k, x in enumerate(vecs):
            if np.any(x):                                              # a zero iterate spans no line
                angles[k] = line_angle(x, tv)
    return PowerIteration(vecs, estimates, angles, top_value, top_vector, ratio,
                          behaviour in ("geometric", "algebraic"), behaviour)


def _behaviour(arr: np.ndarray, vals: np.ndarray, vecs: np.ndarray) -> str:
    """Which of :data:`BEHAVIOURS` power iteration shows, from the two largest eigenvalues.

    A repeated eigenvalue of a defective matrix comes out of the solver split by about √eps, so
    "defective" is read from the eigenvectors (the top two parallel, as :func:`is_defective` reads
    all of them), not from the eigenvalues being equal.
    """
    size = float(np.linalg.norm(arr, 2))
    if abs(vals[0]) <= 1e-7 * size:                                    # also a √eps-split nilpotent
        return "vanishes"
    if not np.isreal(vals[0]):
        return "rotates"
    if len(vals) == 1:
        return "geometric"
    if line_angle(vecs[:, 0], vecs[:, 1]) < 2 / DEFECTIVE_COND:         # cond([v₁ v₂]) ≈ 2/angle
        return "algebraic"
    if abs(vals[1]) < abs(vals[0]) * (1 - 1e-9):
        return "geometric"
    return "fixed" if abs(vals[0] - vals[1]) <= 1e-9 * abs(vals[0]) else "alternates"


# ----------------------------------------------------------------------------- 2×2 and symmetric helpers
def complex_rotation(a) -> ComplexRotation:
    """For a 2×2 matrix with complex eigenvalues ``r e^{±iθ}``: ``(r, θ in degrees, 0 … 180)``.

    Returns
    -------
    ComplexRotation
        Unpacks as ``modulus, angle_deg``.
    """
    vals, _ = eigen(a)
    if not np.iscomplexobj(vals):
        raise ValueError("A has real eigenvalues; the rotation angle is defined only for a complex pair.")
    lam = vals[0]
    return ComplexRotation(float(abs(lam)), float(np.degrees(abs(np.angle(lam)))))


def symmetric_factors(a) -> SymmetricFactors:
    """``A = Q diag(λ) Qᵀ`` for symmetric ``A`` with ``det Q = +1`` (so Qᵀ is a pure rotation).

    Returns
    -------
    SymmetricFactors
        Unpacks as ``q, lam``: ``eigenvectors`` (n, n), orthonormal columns sorted like
        :func:`eigen`, and the real ``eigenvalues`` (n,).
    """
    arr = as_square_matrix(a, "A")
    if not is_symmetric(arr, tol=1e-8):
        raise ValueError("A must be symmetric (A = Aᵀ) for A = QΛQᵀ; got a non-symmetric matrix.")
    lam, q = eigen(arr, symmetric=True)
    if np.linalg.det(q) < 0:
        q = q.copy()
        q[:, -1] *= -1
    return SymmetricFactors(q, lam)


def sample_cloud(cov, n_points: int, seed: int = 0) -> np.ndarray:
    """``n_points`` samples of a zero-mean Gaussian with covariance ``cov`` (symmetric PSD), shape (n, d)."""
    c = as_square_matrix(cov, "cov")
    if not is_symmetric(c, tol=1e-8):
        raise ValueError("cov must be symmetric; got a non-symmetric matrix.")
    lam, q = eigen(c, symmetric=True)
    if lam.min() < -1e-9 * max(1.0, abs(lam).max()):
        raise ValueError(f"cov must be positive semi-definite; its smallest eigenvalue is {lam.min():.3g}.")
    n_points = as_int(n_points, "n_points", 1, 2_000_000)
    g = torch.Generator(device="cpu").manual_seed(as_seed(seed))
    z = torch.randn(n_points, c.shape[0], generator=g, dtype=_F64)            # (N, d)
    root = to_tensor(q * np.sqrt(np.clip(lam, 0, None))[None, :], _F64, torch.device("cpu"))  # (d, d) = Q Λ^½
    return to_numpy(z @ root.T)                                                # (N, d)
