"""Geometry inside language models: vector norms, the concentration of distances in high
dimensions, and the shape rules of ``@`` and broadcasting (rotary position embeddings live in
:mod:`la_core.rope`).

All compute runs in torch on :func:`la_core.device.get_device`; NumPy arrays in and out.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from la_core.checks import as_choice, as_float_array, as_int, as_seed
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["Norms", "Concentration", "ShapeResult", "norms", "distance_concentration", "parse_shape", "shape_op",
           "matmul_shape", "broadcast_shape", "OPS", "MAX_SHAPE_DIMS", "MAX_SHAPE_SIZE", "REAL_OP_NUMEL"]

# float64 everywhere; la_core.device.to_tensor falls back to float32 on mps (which has no float64)
_F64 = torch.float64
MAX_SHAPE_DIMS = 8
MAX_SHAPE_SIZE = 1_000_000   # largest accepted length of one axis in the shape checker
REAL_OP_NUMEL = 4_000_000    # run the real CPU op only when inputs and output stay this small


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

_BRACKETS = {"(": ")", "[": "]"}
_SEPARATOR = re.compile(r"\s*[,×xX]\s*|\s+")
_HOW = ("type whole numbers separated by commas, spaces, × or x, e.g. '4, 768', '4 768' or '4 × 768'; "
        "'()' is a scalar")


def _not_a_shape(name: str, text: str, why: str) -> ValueError:
    return ValueError(f"{name} {text!r} is not a shape: {why}; {_HOW}.")


def _size(part: str, name: str, text: str) -> int:
    """One axis length, or a message that names what is wrong with it."""
    if part.isdigit():
        return int(part)
    if not part:
        raise _not_a_shape(name, text, "two separators in a row, or one at the start")
    if re.fullmatch(r"-\d+", part):
        raise _not_a_shape(name, text, f"{part} is negative (sizes are ≥ 0; −1 means 'infer' only in reshape)")
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", part):
        raise _not_a_shape(name, text, f"{part} is not a whole number written in digits")
    bad = next((c for c in part if not c.isdigit()), part)
    if bad.isalpha():
        raise _not_a_shape(name, text, f"{part!r} is not a number (give sizes, not names such as T or d)")
    raise _not_a_shape(name, text, f"{bad!r} is not a separator")


def parse_shape(text: str, name: str = "shape") -> tuple[int, ...]:
    """Parse a shape typed as text: ``"4, 768"``, ``"4 768"``, ``"4 × 768"``, ``"4x768"``,
    ``"(2, 12, 5, 32)"``, ``"[768]"``, ``"(768,)"``, ``"768"``, ``"()"`` (a scalar).

    Sizes are whole numbers separated by commas, spaces, ``×`` or ``x``; symbols are not accepted.

    Raises
    ------
    ValueError
        Saying what is wrong (an unknown separator, a negative or fractional size, a name instead
        of a number, an unclosed bracket), or more than 8 axes, or an axis longer than 1,000,000.
    """
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text like '4, 768'; got {type(text).__name__}.")
    s = text.strip()
    if not s:
        raise _not_a_shape(name, text, "it is empty")
    if s[0] in _BRACKETS:
        if s[-1] != _BRACKETS[s[0]]:
            raise _not_a_shape(name, text, f"the bracket {s[0]!r} is not closed with {_BRACKETS[s[0]]!r}")
        s = s[1:-1].strip()
        if not s:
            return ()
    parts = _SEPARATOR.split(s)
    if len(parts) > 1 and parts[-1] == "" and s.endswith(","):    # one trailing comma, as in (768,)
        parts = parts[:-1]
    shape = tuple(_size(p, name, text) for p in parts)
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
    hints: list[str] = field(default_factory=list)   # when not ok: changes of b (or a) that work


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
    meta_shape, meta_err = _meta_result(op, a_s, b_s)
    hints = [] if meta_err is None else _hints(op, a_s, b_s)
    small = math.prod(a_s) + math.prod(b_s) + (math.prod(meta_shape) if meta_shape else 0) <= REAL_OP_NUMEL
    if not small:
        return ShapeResult(op, a_s, b_s, meta_err is None, meta_shape, meta_err, ran_real=False, hints=hints)
    # contiguous zeros: some torch messages depend on strides, and users hold contiguous tensors
    a = torch.zeros(a_s, dtype=torch.float32)
    b = torch.zeros(b_s, dtype=_b_dtype(op))
    try:
        res = OPS[op](a, b)
        return ShapeResult(op, a_s, b_s, True, tuple(res.shape), None, ran_real=True)
    except (RuntimeError, ValueError, IndexError) as exc:
        return ShapeResult(op, a_s, b_s, False, None, str(exc), ran_real=True, hints=hints)


def _b_dtype(op: str) -> torch.dtype:
    return torch.bool if op == "masked_fill" else torch.float32


def _meta_result(op: str, a_s: tuple, b_s: tuple) -> tuple[tuple | None, str | None]:
    """(result shape, None) or (None, torch's message), from meta tensors (shapes only, no data)."""
    try:
        meta = OPS[op](torch.empty(a_s, device="meta"), torch.empty(b_s, device="meta", dtype=_b_dtype(op)))
        return tuple(meta.shape), None
    except (RuntimeError, ValueError, IndexError) as exc:
        return None, str(exc)


def _swap_last(shape: tuple) -> tuple:
    return shape[:-2] + (shape[-1], shape[-2])


def _hints(op: str, a_s: tuple, b_s: tuple) -> list[str]:
    """Changes that make a failing op work, each checked by torch: a transpose for ``@``; size-1
    axes added to b (``b[:, None]``) for broadcasting."""
    out = []
    if op == "@":
        for name, other, shape in (("b", a_s, b_s), ("a", b_s, a_s)):
            if len(shape) < 2:
                continue
            new = _swap_last(shape)
            res, _ = _meta_result(op, *((a_s, new) if name == "b" else (new, b_s)))
            if res is not None:
                expr = f"{name}.T" if len(shape) == 2 else f"{name}.transpose(-2, -1)"
                prod = f"a @ {expr}" if name == "b" else f"{expr} @ b"
                out.append(f"use {expr}: {new}; {prod} gives {res}")
        return out
    fits = []
    # b's last axis on a's last axis first (a padding mask over the keys: b[:, None, None])
    combos = itertools.combinations(range(len(a_s)), len(b_s)) if 0 < len(b_s) < len(a_s) else ()
    for keep in sorted(combos, key=lambda keep: keep[-1] != len(a_s) - 1):
        new = [1] * len(a_s)
        for j, axis in enumerate(keep):
            new[axis] = b_s[j]
        if _meta_result(op, a_s, tuple(new))[0] == a_s:
            index = [":" if axis in keep else "None" for axis in range(len(a_s))]
            while len(index) > 1 and index[-1] == ":":
                index.pop()
            fits.append(f"b[{', '.join(index)}]: {tuple(new)}")
    if fits:
        more = f"; if b's sizes belong to other axes of a: {' or '.join(fits[1:3])}" if len(fits) > 1 else ""
        out.append(f"add size-1 axes to b so its sizes line up with a's: use {fits[0]}{more}; the result is {a_s}")
    return out


def matmul_shape(a_shape, b_shape) -> ShapeResult:
    """``a @ b`` on zero tensors of these shapes: the result shape or torch's error message."""
    return shape_op("@", a_shape, b_shape)


def broadcast_shape(a_shape, b_shape) -> ShapeResult:
    """``a - b`` (elementwise, broadcasting) on zero tensors: the result shape or torch's error."""
    return shape_op("-", a_shape, b_shape)
