"""Input validation shared by la_core modules: every public function raises ``ValueError``
with a message that says what was wrong and what is accepted."""
from __future__ import annotations

import numpy as np


def as_float_array(x, name: str, ndim: int | tuple[int, ...] | None = None, min_size: int = 1) -> np.ndarray:
    """Convert ``x`` to a finite float64 NumPy array, checking its number of dimensions.

    Parameters
    ----------
    x : array_like
        The input.
    name : str
        Name used in error messages (e.g. ``"basis"``).
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    min_size : int, default 1
        Smallest accepted length of every axis.

    Returns
    -------
    numpy.ndarray
        float64 array.

    Raises
    ------
    ValueError
        If ``x`` is not numeric, has the wrong number of dimensions, an empty axis, or a NaN/inf.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(x).__name__} ({exc}).") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got shape {arr.shape}.")
    if any(s < min_size for s in arr.shape):
        raise ValueError(f"{name} must have at least {min_size} entries along every axis; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; only finite numbers are accepted.")
    return arr


def as_square_matrix(a, name: str = "A") -> np.ndarray:
    """Finite float64 square matrix or ``ValueError``."""
    arr = as_float_array(a, name, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square (n, n); got shape {arr.shape}.")
    return arr


def as_int(v, name: str, min_value: int | None = None, max_value: int | None = None) -> int:
    """An integer (not a bool, not a float with a fraction) within bounds, or ``ValueError``."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
            v = int(v)
        else:
            raise ValueError(f"{name} must be an integer; got {v!r}.")
    v = int(v)
    if min_value is not None and v < min_value:
        raise ValueError(f"{name} must be at least {min_value}; got {v}.")
    if max_value is not None and v > max_value:
        raise ValueError(f"{name} must be at most {max_value}; got {v}.")
    return v


def as_finite_float(v, name: str) -> float:
    """A finite Python float, or ``ValueError``."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {v!r}.") from None
    if not np.isfinite(f):
        raise ValueError(f"{name} must be finite; got {v!r}.")
    return f
