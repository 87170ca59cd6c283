"""Rotary position embeddings (RoPE): the rotation by position, its inverse, the scores it gives,
and the rotation a Llama-family model applies with its own frequencies.

RoPE turns pair i of a query or key by the angle ``m·θ_i`` at position m. Which two coordinates
form pair i is a convention (the *layout*):

- ``"interleaved"``: pair i is ``(x[2i], x[2i+1])`` (the RoFormer paper);
- ``"half"``: pair i is ``(x[i], x[i + d/2])``, transformers' ``rotate_half`` (Llama, Mistral, Qwen2).

All compute runs in torch on :func:`la_core.device.get_device`; NumPy arrays in and out.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_choice, as_finite_float, as_float_array, as_int
from la_core.device import get_device, to_numpy, to_tensor

__all__ = ["LAYOUTS", "RopeRotation", "ModelRope", "rope_frequencies", "pair_indices", "rope_rotate",
           "rope_unrotate", "rope_scores", "model_rope", "model_rope_rotate", "model_rope_unrotate"]

LAYOUTS = ("interleaved", "half")
# float64 everywhere; la_core.device.to_tensor falls back to float32 on mps (which has no float64)
_F64 = torch.float64


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
        θ_0 = 1 (fastest pair, whatever the base) down to base^(−(d−2)/d) (slowest pair).
    """
    d = as_int(d, "d", 2)
    if d % 2:
        raise ValueError(f"d must be an even integer ≥ 2 (RoPE rotates pairs of dimensions); got {d!r}.")
    b = _check_base(base)
    i = np.arange(d // 2, dtype=np.float64)
    return b ** (-2.0 * i / d)


def pair_indices(d: int, layout: str = "interleaved") -> tuple[np.ndarray, np.ndarray]:
    """The two coordinates of every rotation pair: pair i turns ``(x[first[i]], x[second[i]])``.

    Returns
    -------
    first, second : numpy.ndarray of int, shape (d // 2,) each
    """
    d = as_int(d, "d", 2)
    if d % 2:
        raise ValueError(f"d must be an even integer ≥ 2 (RoPE rotates pairs of dimensions); got {d!r}.")
    layout = as_choice(layout, "layout", LAYOUTS)
    i = np.arange(d // 2)
    return (2 * i, 2 * i + 1) if layout == "interleaved" else (i, i + d // 2)


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


def _thetas(d: int, base, frequencies) -> np.ndarray:
    if frequencies is None:
        return rope_frequencies(d, base)
    f = as_float_array(frequencies, "frequencies", ndim=1)
    if f.shape != (d // 2,):
        raise ValueError(f"frequencies must have shape ({d // 2},), one θ per pair of the d = {d} columns; "
                         f"got shape {f.shape}.")
    if np.any(f < 0):
        raise ValueError("frequencies must be ≥ 0 (radians per position).")
    return f


class RopeRotation(NamedTuple):
    """:func:`rope_rotate` with ``return_angles=True``; unpacks as ``rotated, angles``."""

    rotated: np.ndarray        # shape like x
    angles: np.ndarray         # (T, d // 2) radians


def rope_rotate(x, positions, base: float = 10000.0, return_angles: bool = False, layout: str = "interleaved",
                frequencies=None) -> np.ndarray | RopeRotation:
    """Rotary position embedding of the rows of ``x``.

    Pair i of row t (see ``layout``) is rotated by the angle ``positions[t] · θ_i`` with
    ``θ_i = base^(−2i/d)``. Position 0 is the identity, norms are preserved and
    ``rope(q, m) · rope(k, n)`` depends only on ``m − n``; negative positions rotate backwards.

    Parameters
    ----------
    x : array_like, shape (T, d) or (d,)
        Queries or keys, d even. A 1-D vector is treated as one row.
    positions : array_like of int, shape (T,) or scalar
        Integer position of each row (a scalar applies to every row).
    base : float, default 10000.0
        The RoPE base (> 1); ignored when ``frequencies`` is given.
    return_angles : bool, default False
        Also return the rotation angles (radians), shape (T, d // 2).
    layout : {"interleaved", "half"}, default "interleaved"
        Which coordinates form pair i: ``(2i, 2i+1)`` or ``(i, i + d/2)`` (transformers' Llama family).
    frequencies : array_like, shape (d // 2,), optional
        The θ_i to use instead of ``base^(−2i/d)`` (a model's own, possibly rescaled, frequencies).

    Returns
    -------
    numpy.ndarray, shape like ``x``
        The rotated rows; with ``return_angles``, a :class:`RopeRotation` ``(rotated, angles)``
        with the angles of shape (T, d // 2).

    Raises
    ------
    ValueError
        If ``x`` is not 1-D/2-D finite numbers, d is odd, positions are not integers of length T,
        base ≤ 1, or ``frequencies`` has the wrong shape.
    """
    arr = as_float_array(x, "x", ndim=(1, 2))
    one_row = arr.ndim == 1
    if one_row:
        arr = arr[None, :]
    T, d = arr.shape
    if d % 2:
        raise ValueError(f"x must have an even number of columns d (RoPE rotates pairs); got d = {d}.")
    first, second = pair_indices(d, layout)              # (d/2,) each
    theta = _thetas(d, base, frequencies)                # (d/2,)
    pos = _check_positions(positions, T)                 # (T,)
    device = get_device()
    xt = to_tensor(arr, _F64, device)                    # (T, d)
    ang = to_tensor(pos, _F64, device)[:, None] * to_tensor(theta, _F64, device)[None, :]  # (T, d/2)
    cos, sin = torch.cos(ang), torch.sin(ang)            # (T, d/2)
    i1, i2 = torch.as_tensor(first, device=device), torch.as_tensor(second, device=device)
    x1, x2 = xt[:, i1], xt[:, i2]                        # (T, d/2) each
    out = torch.empty_like(xt)                           # (T, d)
    out[:, i1] = x1 * cos - x2 * sin
    out[:, i2] = x1 * sin + x2 * cos
    res = to_numpy(out).astype(np.float64)
    if one_row:
        res = res[0]
    if return_angles:
        return RopeRotation(res, to_numpy(ang).astype(np.float64))
    return res


def rope_unrotate(x, positions, base: float = 10000.0, layout: str = "interleaved", frequencies=None) -> np.ndarray:
    """The inverse rotation ``R(−mθ) x``: a query or key as it was before RoPE turned it at position m.

    Same parameters as :func:`rope_rotate`; ``rope_unrotate(rope_rotate(x, m), m) == x``.
    """
    arr = as_float_array(x, "x", ndim=(1, 2))
    T = 1 if arr.ndim == 1 else arr.shape[0]
    pos = _check_positions(positions, T)                 # (T,)
    return rope_rotate(arr, -pos, base, layout=layout, frequencies=frequencies)


def rope_scores(q, k, n_positions: int, base: float = 10000.0, layout: str = "interleaved",
                frequencies=None) -> np.ndarray:
    """``S[m, n] = rope(q, m) · rope(k, n)`` for one query and one key at positions 0 … P−1.

    Parameters
    ----------
    q, k : array_like, shape (d,)
        One query and one key, d even.
    n_positions : int
        Number of positions P (1 … 4096).
    base, layout, frequencies
        As in :func:`rope_rotate`.

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
    kw = dict(layout=layout, frequencies=frequencies)
    qr = rope_rotate(np.tile(qa, (n_positions, 1)), pos, base, **kw)   # (P, d)
    kr = rope_rotate(np.tile(ka, (n_positions, 1)), pos, base, **kw)   # (P, d)
    device = get_device()
    return to_numpy(to_tensor(qr, _F64, device) @ to_tensor(kr, _F64, device).T).astype(np.float64)  # (P, P)


# ---------------------------------------------------------------------------------------------
# The rotation a Llama-family model applies (transformers' rotary embedding)
# ---------------------------------------------------------------------------------------------

class ModelRope(NamedTuple):
    """How a model rotates its queries and keys (see :func:`model_rope`)."""

    rope_type: str             # "default", or a rescaling such as "llama3", "yarn", "linear"
    base: float                # rope_theta
    frequencies: np.ndarray    # (d_head // 2,) θ_i in radians per position, as the model computes them
    scaling: float             # transformers multiplies cos and sin by it (1 except yarn / longrope)


def model_rope(config) -> ModelRope | None:
    """The rotary embedding of a transformers config: its base, frequencies and scaling.

    The frequencies are computed as transformers computes them (float32), through its own
    function for rescaled types (llama3, yarn, linear, dynamic, longrope).

    Parameters
    ----------
    config : transformers.PretrainedConfig
        Of a family LA Lens supports (``la_core.models.FAMILIES``).

    Returns
    -------
    ModelRope or None
        None for a model without rotary positions (BERT, GPT-2: learned position embeddings).

    Raises
    ------
    ValueError
        An unsupported config, an unknown ``rope_type``, or a rotation over only part of the head.
    """
    from la_core.models.spec import read_spec

    spec = read_spec(config)
    if spec.rope_theta is None:
        return None
    params = getattr(config, "rope_parameters", None)
    params = params if isinstance(params, dict) else {}
    rope_type = str(params.get("rope_type", params.get("type", "default")))
    d = spec.d_head
    if rope_type == "default":
        i = torch.arange(0, d, 2, dtype=torch.float32)                        # (d/2,)
        inv_freq, scaling = 1.0 / (spec.rope_theta ** (i / d)), 1.0
    else:
        from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

        if rope_type not in ROPE_INIT_FUNCTIONS:
            raise ValueError(f"rope_type {rope_type!r} is unknown to transformers; known: "
                             f"default, {', '.join(ROPE_INIT_FUNCTIONS)}.")
        inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type](config)           # (d/2,)
    freqs = inv_freq.double().cpu().numpy()
    if freqs.shape != (d // 2,):
        raise ValueError(f"The model rotates {2 * freqs.size} of the {d} dimensions of each head; only RoPE "
                         "over the whole head is supported here.")
    return ModelRope(rope_type, float(spec.rope_theta), freqs, float(scaling))


def _check_rope(rope) -> ModelRope:
    if not isinstance(rope, ModelRope):
        raise ValueError(f"rope must be a ModelRope from model_rope(config); got {type(rope).__name__}.")
    return rope


def model_rope_rotate(x, positions, rope: ModelRope) -> np.ndarray:
    """What the model does to a query or key at position m: ``scaling · R(m θ) x`` in the half layout.

    Equals transformers' ``apply_rotary_pos_emb`` with the model's rotary embedding.

    Parameters
    ----------
    x : array_like, shape (T, d_head) or (d_head,)
    positions : array_like of int, shape (T,) or scalar
    rope : ModelRope

    Returns
    -------
    numpy.ndarray, shape like ``x``
    """
    rope = _check_rope(rope)
    return rope.scaling * rope_rotate(x, positions, layout="half", frequencies=rope.frequencies)


def model_rope_unrotate(x, positions, rope: ModelRope) -> np.ndarray:
    """A query or key before the model's RoPE: ``R(−m θ) x / scaling`` (the inverse of
    :func:`model_rope_rotate`)."""
    rope = _check_rope(rope)
    if rope.scaling == 0:
        raise ValueError("The model's RoPE scaling is 0: its rotation cannot be undone.")
    return rope_unrotate(x, positions, layout="half", frequencies=rope.frequencies) / rope.scaling
