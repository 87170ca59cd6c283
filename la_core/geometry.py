"""Geometry inside language models: rotary position embeddings (RoPE), vector norms, the
concentration of distances in high dimensions, and the shape rules of ``@`` and broadcasting.

All compute runs in torch on :func:`la_core.device.get_device`; NumPy arrays in and out.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_choice, as_finite_float, as_float_array, as_int, as_seed
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["RopeRotation", "Norms", "Concentration", "ShapeResult", "rope_frequencies", "rope_rotate",
           "rope_scores", "norms", "distance_concentration", "parse_shape", "shape_op", "matmul_shape",
           "broadcast_shape", "OPS", "MAX_SHAPE_DIMS", "MAX_SHAPE_SIZE", "REAL_OP_NUMEL"]

# float64 everywhere; la_core.device.to_tensor falls back to float32 on mps (which has no float64)
_F64 = torch.float64
MAX_SHAPE_DIMS = 8
MAX_SHAPE_SIZE = 1_000_000   # largest accepted length of one axis in the shape checker
REAL_OP_NUMEL = 4_000_000    # run the real CPU op only when inputs and output stay this small


def _check_base(base) -> float:
    b = as_finite_float(base, "base")
    if b <= 1.0:
        raise ValueError(f"base must be a finite number greater than 1; got {base!r}.")
    return b


def rope_frequencies(d: int, base: float = 10000.0) -> np.ndarray:
    """Angular frequencies θ_i = base^(−2i/d) of the d/2 rotation pairs (radians per position).

    Parameters
    ----------
    d : int
        Even head dimension.
    base : float, default 10000.0
        The RoPE base (> 1); a larger base gives longer wavelengths to the slow pairs.

    Returns
    -------
    numpy.ndarray, shape (d // 2,)
        θ_0 = 1 (fastest pair) down to base^(−(d−2)/d) (slowest pair).
    """
    d = as_int(d, "d", 2)
    if d % 2:
        raise ValueError(f"d must be an even integer ≥ 2 (RoPE rotates pairs of dimensions); got {d!r}.")
    b = _check_base(base)
    i = np.arange(d // 2, dtype=np.float64)
    return b ** (-2.0 * i / d)


def _check_positions(positions, T: int) -> np.ndarray:
    pos = np.asarray(positions)
    if pos.ndim == 0:
        pos = np.full(T, pos)
    if pos.dtype == bool or pos.dtype.kind not in "iuf":
        raise ValueError(f"positions must be integers; got dtype {pos.dtype}.")
    if pos.ndim != 1 or pos.shape[0] != T:
        raise ValueError(f"positions must have shape ({T},), one integer per row of x; got shape {pos.shape}.")
    posf = pos.astype(np.float64)
    if not np.all(np.isfinite(posf)):
        raise ValueError("positions contains NaN or infinite values; only integer positions are accepted.")
    if not np.all(posf == np.round(posf)):
        bad = posf[posf != np.round(posf)][0]
        raise ValueError(f"positions must be integers (token indices); got {bad!r}.")
    return posf


class RopeRotation(NamedTuple):
    """:func:`rope_rotate` with ``return_angles=True``; unpacks as ``rotated, angles``."""

    rotated: np.ndarray        # shape like x
    angles: np.ndarray         # (T, d // 2) radians


def rope_rotate(x, positions, base: float = 10000.0, return_angles: bool = False) -> np.ndarray | RopeRotation:
    """Rotary position embedding of the rows of ``x``.

    Row t is split into pairs (x[2i], x[2i+1]); pair i is rotated by the angle
    ``positions[t] * base^(−2i/d)``. Position 0 is the identity, norms are preserved and
    ``rope(q, m) · rope(k, n)`` depends only on ``m − n``.

    Parameters
    ----------
    x : array_like, shape (T, d) or (d,)
        Queries or keys, d even. A 1-D vector is treated as one row.
    positions : array_like of int, shape (T,) or scalar
        Integer position of each row (a scalar applies to every row).
    base : float, default 10000.0
        The RoPE base (> 1).
    return_angles : bool, default False
        Also return the rotation angles (radians), shape (T, d // 2).

    Returns
    -------
    numpy.ndarray, shape like ``x``
        The rotated rows; with ``return_angles``, a :class:`RopeRotation` ``(rotated, angles)``
        with the angles of shape (T, d // 2).

    Raises
    ------
    ValueError
        If ``x`` is not 1-D/2-D finite numbers, d is odd, positions are not integers of length T,
        or base ≤ 1.
    """
    arr = as_float_array(x, "x", ndim=(1, 2))
    one_row = arr.ndim == 1
    if one_row:
        arr = arr[None, :]
    T, d = arr.shape
    if d % 2:
        raise ValueError(f"x must have an even number of columns d (RoPE rotates pairs); got d = {d}.")
    theta = rope_frequencies(d, base)                    # (d/2,)
    pos = _check_positions(positions, T)                 # (T,)
    device = get_device()
    xt = to_tensor(arr, _F64, device)                     # (T, d)
    ang = to_tensor(pos, _F64, device)[:, None] * to_tensor(theta, _F64, device)[None, :]  # (T, d/2)
    cos, sin = torch.cos(ang), torch.sin(ang)             # (T, d/2)
    x_even, x_odd = xt[:, 0::2], xt[:, 1::2]              # (T, d/2) each
    out = torch.empty_like(xt)                            # (T, d)
    out[:, 0::2] = x_even * cos - x_odd * sin
    out[:, 1::2] = x_even * sin + x_odd * cos
    res = to_numpy(out).astype(np.float64)
    if one_row:
        res = res[0]
    if return_angles:
        return RopeRotation(res, to_numpy(ang).astype(np.float64))
    return res


def rope_scores(q, k, n_positions: int, base: float = 10000.0) -> np.ndarray:
    """``S[m, n] = rope(q, m) · rope(k, n)`` for one query and one key at positions 0 … P−1.

    Parameters
    ----------
    q, k : array_like, shape (d,)
        One query and one key, d even.
    n_positions : int
        Number of positions P (1 … 4096).
    base : float, default 10000.0

    Returns
    -------
    numpy.ndarray, shape (P, P)
        Constant along every diagonal (it depends only on m − n).
    """
    qa = as_float_array(q, "q", ndim=1)
    ka = as_float_array(k, "k", ndim=1)
    if qa.shape != ka.shape:
        raise ValueError(f"q and k must have the same shape (d,); got {qa.shape} and {ka.shape}.")
    n_positions = as_int(n_positions, "n_positions", 1, 4096)
    pos = np.arange(n_positions)
    qr = rope_rotate(np.tile(qa, (n_positions, 1)), pos, base)   # (P, d)
    kr = rope_rotate(np.tile(ka, (n_positions, 1)), pos, base)   # (P, d)
    device = get_device()
    return to_numpy(to_tensor(qr, _F64, device) @ to_tensor(kr, _F64, device).T).astype(np.float64)  # (P, P)


@dataclass
class Norms:
    """Result of :func:`norms`: floats for a vector, arrays of shape (T,) for the rows of a matrix."""

    l1: float | np.ndarray     # Σ|x_i|
    l2: float | np.ndarray     # √Σx_i²
    linf: float | np.ndarray   # max|x_i|
    fro: float                 # Frobenius norm of all entries (equals l2 for a vector)


def norms(x) -> Norms:
    """L1, L2 and L∞ norms of a vector or of every row of a matrix (and Frobenius for a matrix).

    Parameters
    ----------
    x : array_like, shape (d,) or (T, d)

    Returns
    -------
    Norms
        ``l1``, ``l2``, ``linf``: floats for a vector, arrays of shape (T,) for a matrix;
        ``fro``: the Frobenius norm (a float; for a vector it equals ``l2``).
    """
    arr = as_float_array(x, "x", ndim=(1, 2))
    t = to_tensor(arr, _F64, get_device())                      # (T, d) or (d,)
    a = t.abs()

    def out(v: torch.Tensor) -> float | np.ndarray:
        v = to_numpy(v).astype(np.float64)
        return float(v) if v.ndim == 0 else v

    return Norms(l1=out(a.sum(dim=-1)),                         # (T,) or ()
                 l2=out(torch.linalg.vector_norm(t, ord=2, dim=-1)),   # (T,) or ()
                 linf=out(a.amax(dim=-1)),                      # (T,) or ()
                 fro=out(torch.linalg.vector_norm(t)))          # ()


@dataclass
class Concentration:
    """Result of :func:`distance_concentration` (one entry per dimension)."""

    dims: np.ndarray          # (k,)
    contrast: np.ndarray      # (k,)  (max − min) / min of pairwise distances
    dist_mean: np.ndarray     # (k,)
    dist_std: np.ndarray      # (k,)
    cos_mean: np.ndarray      # (k,)
    cos_std: np.ndarray       # (k,)
    distances: list           # k arrays (P,), P = n(n−1)/2 pairwise distances
    cosines: list             # k arrays (P,), pairwise cosine similarities


def distance_concentration(dims, n_points: int = 200, seed: int = 0, distribution: str = "gaussian") -> Concentration:
    """How pairwise distances and cosine similarities of random vectors concentrate as d grows.

    For each d, draw ``n_points`` random vectors (standard normal, or uniform in [0, 1]^d), and
    measure all n(n−1)/2 pairwise Euclidean distances and cosine similarities.

    Parameters
    ----------
    dims : array_like of int
        Dimensions (each 1 … 65536).
    n_points : int, default 200
        Points per dimension (2 … 5000).
    seed : int, default 0
    distribution : {"gaussian", "uniform"}

    Returns
    -------
    Concentration
        ``contrast[j] = (max − min) / min`` of the distances in dimension ``dims[j]``; it shrinks
        toward 0 as d grows (every point is about as far from every other). ``cos_std`` shrinks
        like 1/√d for Gaussian vectors.
    """
    d_arr = np.atleast_1d(np.asarray(dims))
    if d_arr.ndim != 1 or d_arr.size == 0 or d_arr.dtype.kind not in "iu":
        raise ValueError(f"dims must be a non-empty list of integers; got {dims!r}.")
    if d_arr.min() < 1 or d_arr.max() > 65536:
        raise ValueError(f"every dimension must be in 1 … 65536; got {d_arr.min()} … {d_arr.max()}.")
    n_points = as_int(n_points, "n_points", 2, 5000)
    distribution = as_choice(distribution, "distribution", ("gaussian", "uniform"))
    device = get_device()
    gen = torch.Generator(device="cpu").manual_seed(as_seed(seed))
    iu = torch.triu_indices(n_points, n_points, offset=1, device=device)     # (2, P)
    out = {k: [] for k in ("contrast", "dist_mean", "dist_std", "cos_mean", "cos_std", "distances", "cosines")}
    for d in d_arr.tolist():
        if distribution == "gaussian":
            x = torch.randn(n_points, d, generator=gen, dtype=torch.float64)  # (n, d)
        else:
            x = torch.rand(n_points, d, generator=gen, dtype=torch.float64)   # (n, d)
        x = to_tensor(x, _F64, device)
        dist = torch.cdist(x, x)[iu[0], iu[1]]                               # (P,)
        xn = x / torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp_min(1e-300)  # (n, d)
        cos = (xn @ xn.T)[iu[0], iu[1]].clamp(-1.0, 1.0)                      # (P,)
        dmin = dist.min()
        out["contrast"].append(float(((dist.max() - dmin) / dmin.clamp_min(1e-300)).item()))
        out["dist_mean"].append(float(dist.mean().item()))
        out["dist_std"].append(float(dist.std().item()) if dist.numel() > 1 else 0.0)
        out["cos_mean"].append(float(cos.mean().item()))
        out["cos_std"].append(float(cos.std().item()) if cos.numel() > 1 else 0.0)
        out["distances"].append(to_numpy(dist).astype(np.float64))
        out["cosines"].append(to_numpy(cos).astype(np.float64))
    return Concentration(dims=d_arr.astype(np.int64), **{k: (v if k in ("distances", "cosines") else np.asarray(v))
                                                          for k, v in out.items()})


# ---------------------------------------------------------------------------------------------
# Shapes: what torch says about a @ b, a - b and masked_fill
# ---------------------------------------------------------------------------------------------

_SHAPE_RE = re.compile(r"^\s*[\(\[]?\s*((?:\d+\s*,\s*)*\d*)\s*,?\s*[\)\]]?\s*$")


def parse_shape(text: str, name: str = "shape") -> tuple[int, ...]:
    """Parse a shape typed as text: ``"4, 768"``, ``"(2, 12, 5, 32)"``, ``"[768]"``, ``"768"``,
    ``"()"`` (a scalar). Symbols are not accepted: give numbers.

    Raises
    ------
    ValueError
        If the text is not a comma-separated list of non-negative integers, has more than 8
        axes, or an axis longer than 1,000,000.
    """
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text like '4, 768'; got {type(text).__name__}.")
    s = text.strip()
    m = _SHAPE_RE.match(s)
    if not m or not s or (not any(c.isdigit() for c in s) and s not in ("()", "[]")):
        raise ValueError(f"{name} {text!r} is not a shape; type integers separated by commas, e.g. '4, 768' "
                         "or '(2, 12, 5, 32)'; '()' is a scalar.")
    parts = [p.strip() for p in m.group(1).split(",") if p.strip()]
    shape = tuple(int(p) for p in parts)
    if len(shape) > MAX_SHAPE_DIMS:
        raise ValueError(f"{name} has {len(shape)} axes; at most {MAX_SHAPE_DIMS} are accepted.")
    if any(n > MAX_SHAPE_SIZE for n in shape):
        raise ValueError(f"{name} {shape} has an axis longer than {MAX_SHAPE_SIZE:,}; use smaller sizes.")
    return _check_layout(shape, name)


def _check_layout(shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    """Refuse shapes whose strides overflow (torch raises RuntimeError even for empty tensors)."""
    if math.prod(max(n, 1) for n in shape) > 2**48:
        raise ValueError(f"{name} {shape} describes more than 2^48 elements; use smaller sizes.")
    return shape


@dataclass
class ShapeResult:
    """What torch says about an operation on tensors of given shapes."""

    op: str
    a_shape: tuple
    b_shape: tuple
    ok: bool
    shape: tuple | None       # result shape when ok
    error: str | None         # torch's own error message when not ok
    ran_real: bool            # True: the real CPU op ran; False: only meta tensors (too large)


OPS = {
    "@": lambda a, b: torch.matmul(a, b),
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "masked_fill": lambda a, b: a.masked_fill(b, float("-inf")),
}


def _as_shape(s, name: str) -> tuple[int, ...]:
    if isinstance(s, str):
        return parse_shape(s, name)
    try:
        items = tuple(s)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of integers or text like '4, 768'; got {s!r}.") from None
    if len(items) > MAX_SHAPE_DIMS:
        raise ValueError(f"{name} has {len(items)} axes; at most {MAX_SHAPE_DIMS} are accepted.")
    shape = tuple(as_int(n, f"axis {i} of {name}", 0, MAX_SHAPE_SIZE) for i, n in enumerate(items))
    return _check_layout(shape, name)


def shape_op(op: str, a_shape, b_shape) -> ShapeResult:
    """Run ``a @ b``, ``a + b``, ``a - b``, ``a * b`` or ``a.masked_fill(b, -inf)`` in torch on
    zero tensors of the given shapes and report the result shape or torch's error message.

    The real CPU op runs on contiguous zero tensors when inputs and output hold at most
    4 million numbers; otherwise torch's meta tensors (no data) give the shape, and their error
    texts can differ from the CPU ones.

    Parameters
    ----------
    op : {"@", "+", "-", "*", "masked_fill"}
        For ``masked_fill``, ``a`` is the scores and ``b`` the boolean mask.
    a_shape, b_shape : tuple of int or str
        Shapes, or text such as ``"4, 768"``.

    Returns
    -------
    ShapeResult

    Raises
    ------
    ValueError
        For an unknown op or a shape that cannot be parsed (never for a torch shape error:
        that is the answer, in ``ShapeResult.error``).
    """
    op = as_choice(op, "op", tuple(OPS))
    a_s, b_s = _as_shape(a_shape, "shape of a"), _as_shape(b_shape, "shape of b")
    b_dtype = torch.bool if op == "masked_fill" else torch.float32
    fn = OPS[op]
    try:
        meta = fn(torch.empty(a_s, device="meta"), torch.empty(b_s, device="meta", dtype=b_dtype))
        meta_shape, meta_err = tuple(meta.shape), None
    except (RuntimeError, ValueError, IndexError) as exc:
        meta_shape, meta_err = None, str(exc)
    small = math.prod(a_s) + math.prod(b_s) + (math.prod(meta_shape) if meta_shape else 0) <= REAL_OP_NUMEL
    if not small:
        return ShapeResult(op, a_s, b_s, meta_err is None, meta_shape, meta_err, ran_real=False)
    # contiguous zeros: some torch messages depend on strides, and users hold contiguous tensors
    a = torch.zeros(a_s, dtype=torch.float32)
    b = torch.zeros(b_s, dtype=b_dtype)
    try:
        res = fn(a, b)
        return ShapeResult(op, a_s, b_s, True, tuple(res.shape), None, ran_real=True)
    except (RuntimeError, ValueError, IndexError) as exc:
        return ShapeResult(op, a_s, b_s, False, None, str(exc), ran_real=True)


def matmul_shape(a_shape, b_shape) -> ShapeResult:
    """``a @ b`` on zero tensors of these shapes: the result shape or torch's error message."""
    return shape_op("@", a_shape, b_shape)


def broadcast_shape(a_shape, b_shape) -> ShapeResult:
    """``a - b`` (elementwise, broadcasting) on zero tensors: the result shape or torch's error."""
    return shape_op("-", a_shape, b_shape)
