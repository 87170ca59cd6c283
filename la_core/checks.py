"""Input validation shared by every la_core module: one vocabulary, one kind of message.

Every public function of la_core checks its arguments with these helpers, so each raises
``ValueError`` with a message that says what was wrong and what is accepted, in the same words
everywhere (``tests/test_fuzz.py`` feeds them bad input).

- :func:`as_int`: strict integers (``3.0`` and ``True`` are refused everywhere, not only in some
  functions), with optional bounds; :func:`as_seed` is the one rule for random seeds.
- :func:`as_finite_float`, :func:`as_positive_float`, :func:`as_fraction`: numbers.
- :func:`as_float_array`: a finite float64 array of a given number of dimensions (small inputs).
- :func:`as_square_matrix`: the same, square.
- :func:`as_matrix`: a 2-D float32/float64 matrix *without copying* when it already is one, for
  data that can be large (memory-mapped embeddings stay mapped); finiteness is checked by the
  caller where it can be done in chunks.
- :func:`as_choice` and :func:`as_dtype`: one of a fixed set of strings; dtypes are always given as
  the strings ``"float32"`` / ``"float64"``.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_int", "as_seed", "as_finite_float", "as_positive_float", "as_fraction", "as_float_array",
           "as_square_matrix", "as_matrix", "as_choice", "as_dtype", "DTYPES"]

# The one dtype table: public functions take the string, compute with the torch dtype.
DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_SEED = 2**63 - 1


def as_int(v, name: str, min_value: int | None = None, max_value: int | None = None) -> int:
    """A Python int within ``[min_value, max_value]``, or ``ValueError``.

    Strict: Python and NumPy integers only. Booleans and floats (even ``3.0``) are refused, so a
    caller that passes a float by mistake hears about it instead of getting a silent cast. With
    bounds, the message ends with the whole accepted range.
    """
    both = min_value is not None and max_value is not None
    if both:
        accepted = f" Accepted: integers in [{min_value}, {max_value}]."
    elif min_value is not None:
        accepted = f" Accepted: integers ≥ {min_value}."
    elif max_value is not None:
        accepted = f" Accepted: integers ≤ {max_value}."
    else:
        accepted = ""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer; got {v!r} ({type(v).__name__}).{accepted}")
    v = int(v)
    if min_value is not None and v < min_value:
        raise ValueError(f"{name} must be at least {min_value}; got {v}.{accepted if both else ''}")
    if max_value is not None and v > max_value:
        raise ValueError(f"{name} must be at most {max_value}; got {v}.{accepted if both else ''}")
    return v


def as_seed(v, name: str = "seed") -> int:
    """A random seed: an integer in ``[0, 2**63 - 1]`` (what ``torch.Generator.manual_seed`` and
    NumPy's generators both accept), or ``ValueError``."""
    return as_int(v, name, 0, MAX_SEED)


def as_finite_float(v, name: str) -> float:
    """A finite Python float, or ``ValueError``. Booleans and strings are refused."""
    if isinstance(v, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a number; got {v!r}.")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {v!r}.") from None
    if not np.isfinite(f):
        raise ValueError(f"{name} must be finite; got {v!r}.")
    return f


def as_positive_float(v, name: str) -> float:
    """A finite float greater than zero, or ``ValueError``."""
    f = _float_or_none(v)
    if f is None or f <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {v!r}.")
    return f


def as_fraction(v, name: str) -> float:
    """A float in (0, 1], or ``ValueError`` (e.g. the share of energy to keep)."""
    f = _float_or_none(v)
    if f is None or not 0 < f <= 1:
        raise ValueError(f"{name} must be a number in (0, 1]; got {v!r}.")
    return f


def _float_or_none(v) -> float | None:
    """``v`` as a finite float, or None when :func:`as_finite_float` would refuse it."""
    try:
        return as_finite_float(v, "")
    except ValueError:
        return None


def as_choice(v, name: str, choices) -> str:
    """One of ``choices`` (strings), or ``ValueError`` listing them."""
    if isinstance(choices, str) or not isinstance(choices, (tuple, list, frozenset, set, dict)):
        raise ValueError(f"choices for {name} must be a tuple of strings; got {choices!r}.")
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {v!r}.")
    return v


def as_dtype(v, name: str = "dtype") -> torch.dtype:
    """The torch dtype of ``"float32"`` or ``"float64"``, or ``ValueError``."""
    return DTYPES[as_choice(v, name, tuple(DTYPES))]


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
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if x is None:                                # np.asarray(None, float) would be a NaN scalar
        raise ValueError(f"{name} must be a numeric array; got None.")
    try:
        is_complex = np.iscomplexobj(x)          # may convert x, so ragged lists fail here
        arr = None if is_complex else np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(x).__name__} ({exc}).") from None
    if is_complex:
        raise ValueError(f"{name} must be real-valued; got a complex array.")
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


def as_matrix(X, name: str = "X", min_rows: int = 1) -> np.ndarray:
    """A 2-D float32/float64 NumPy view of ``X`` (n_samples, n_features), or ``ValueError``.

    No copy when ``X`` already is a float32/float64 array, so memory-mapped data stays mapped;
    other numeric dtypes are converted (to float64 for 8-byte types, float32 otherwise).
    Finiteness is *not* checked here: for large data the caller checks it chunk by chunk.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be a numeric matrix (n_samples, n_features); got dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued; got complex dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}.")
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least {min_rows} row(s) and 1 column; got shape {arr.shape}.")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64 if arr.dtype.itemsize > 4 else np.float32)
    return arr
