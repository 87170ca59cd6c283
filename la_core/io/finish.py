"""The last step of every reader: a finite 2-D float32 matrix with at least 2 rows and 2 columns.

:func:`finish` is shared by all formats, so every file is held to the same rules and every refusal
is worded the same way.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from la_core.io.errors import fail

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Read", "finish", "first_nonfinite"]


class Read(NamedTuple):
    """What a format's reader returns, before :func:`finish` checks the array."""

    array: np.ndarray          # (n, d) as stored: any numeric dtype, maybe memory-mapped
    labels: pd.DataFrame | None  # label columns found in the file itself (text, Parquet)
    source: str                # the file name, with the array/tensor/column used: "emb.npz [X]"
    note: str = ""             # remarks for the user (e.g. "decoded as cp1252")

# elements checked per block, to keep the temporary mask small
FINITE_CHUNK = 1 << 22


def first_nonfinite(arr: np.ndarray) -> tuple[int, int] | None:
    """Row/column of the first NaN or infinity, checked block by block (no full-size mask).

    float32/float64 matrices are first summed along their rows by one matrix–vector product with a
    vector of ones (BLAS, every core, no temporary mask): a NaN or an infinity makes its row's sum
    NaN or infinite, so all-finite sums prove the matrix finite, 3x faster than ``isfinite`` over
    every element. Only when a sum is not finite (a bad value, or finite values whose sum overflows)
    are the blocks searched for the first bad element.
    """
    if arr.dtype in (np.float32, np.float64) and arr.ndim == 2 and arr.size:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(arr @ np.ones(arr.shape[1], arr.dtype)).all():        # (n,) row sums
                return None
    rows = max(1, FINITE_CHUNK // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], rows):
        block = arr[start:start + rows]
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            return start + int(r), int(c)
    return None


def finish(arr, name: str, notes: list[str] | None = None, say_conversion: bool = True) -> tuple[np.ndarray, str]:
    """Check that ``arr`` is a finite 2-D numeric matrix (≥ 2×2) and return it as float32.

    float32 arrays in native byte order are returned as they are (no copy; memmaps stay
    memmaps); other numeric dtypes are converted once.
    """
    notes = list(notes or [])
    arr = np.asanyarray(arr)
    kind = arr.dtype.kind
    if kind == "O":
        raise fail(name, "holds Python objects, not numbers (it would need unpickling, which is never done).")
    if kind in "US":
        raise fail(name, f"holds text ({arr.dtype}), not numbers.")
    if kind == "V":
        raise fail(name, f"holds structured records ({arr.dtype}), not a plain numeric matrix.")
    if kind == "c":
        raise fail(name, "holds complex numbers; only real numbers are accepted.")
    if kind in "mM":
        raise fail(name, f"holds dates/times ({arr.dtype}), not numbers.")
    if kind not in "biuf":
        raise fail(name, f"has an unsupported dtype {arr.dtype}.")
    if arr.ndim != 2:
        if arr.ndim == 1:
            what = f"is a 1-D array of shape {arr.shape} (a single vector or a list of numbers), not a matrix."
        elif arr.ndim == 0:
            what = "is a single number, not a matrix."
        else:
            what = (
                f"is a {arr.ndim}-D array of shape {arr.shape}; reshape it to 2-D (items × dimensions), "
                "e.g. arr.reshape(-1, arr.shape[-1])."
            )
        raise fail(name, what)
    n, d = arr.shape
    if n < 2:
        raise fail(name, f"has {n} row{'s' if n != 1 else ''} (shape {arr.shape}); "
                   "at least 2 rows (items) are needed.")
    if d < 2:
        raise fail(name, f"has {d} column{'s' if d != 1 else ''} (shape {arr.shape}); "
                   "at least 2 columns (dimensions) are needed.")
    if kind == "f":
        bad = first_nonfinite(arr)
        if bad is not None:
            v = arr[bad]
            what = "NaN (missing)" if np.isnan(v) else "infinite"
            raise fail(
                name,
                f"contains {what} values (first at row {bad[0] + 1}, column {bad[1] + 1}); "
                "only finite numbers are accepted "
                "(check for empty cells, 'nan', 'inf' or numbers too large like 1e400).",
                "",
            )
    if arr.dtype == np.float32 and arr.dtype.isnative:
        return arr, "; ".join(notes)
    if arr.dtype != np.float32 and say_conversion:
        notes.append(f"converted {arr.dtype} to float32")
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(np.float32)
    if kind == "f" and arr.dtype.itemsize > 4:
        bad = first_nonfinite(out)
        if bad is not None:
            raise fail(
                name,
                f"has values too large for float32 (|x| > 3.4e38; first at row {bad[0] + 1}, column {bad[1] + 1}).",
                "Rescale the data.",
            )
    return out, "; ".join(notes)
