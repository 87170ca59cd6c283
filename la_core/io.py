"""Loading embedding matrices (and their labels) from user files, safely.

Accepted formats (chosen by the file name's extension):

- ``.npy``: one 2-D numeric array (never unpickled; a path is memory-mapped);
- ``.npz``: an archive of arrays; ``key`` picks one, else ``embeddings``/``vectors``/``X``,
  else the first array;
- ``.csv`` / ``.tsv`` / ``.txt``: numbers, one row per item; a header row is detected
  (TensorFlow Projector's ``vectors.tsv`` has none); non-numeric leading/trailing columns
  (e.g. ``word,v1,v2,...``) become labels;
- ``.parquet``: a list/array column of vectors, or else all numeric columns; the other
  columns become labels;
- ``.safetensors``: one 2-D tensor (``key``, else the only/first 2-D tensor).

Optional metadata (labels): a TensorFlow Projector ``metadata.tsv`` (one column: no header
row; several columns: a header row), a ``.csv`` with a header row, or a ``.parquet`` file,
with exactly one row per vector.

Everything that is not a finite 2-D numeric matrix with at least 2 rows and 2 columns raises
:class:`EmbeddingFormatError` (a ``ValueError``) whose message names the file, says what was
wrong and what is accepted. Nothing is ever unpickled or executed.

This module is pure: no streamlit, no plotting.
"""
from __future__ import annotations

import ast
import csv
import functools
import io
import json
import math
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "EMBEDDING_EXTENSIONS",
    "METADATA_EXTENSIONS",
    "Embeddings",
    "EmbeddingFormatError",
    "list_data_files",
    "list_tensors",
    "load_embeddings",
    "load_metadata",
    "open_data_file",
]

EMBEDDING_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".txt", ".parquet", ".safetensors")
METADATA_EXTENSIONS = (".tsv", ".csv", ".txt", ".parquet")
ACCEPTED = (
    "Accepted: a 2-D numeric matrix (one row per item, at least 2 rows and 2 columns, finite numbers) "
    "as .npy, .npz, .csv, .tsv, .txt, .parquet or .safetensors."
)
_PREFERRED_KEYS = ("embeddings", "embedding", "vectors", "vector", "X", "x", "emb")
_TEXT_SAMPLE_BYTES = 256 * 1024
_TEXT_SAMPLE_ROWS = 200
_NA_STRINGS = ("", "NA", "N/A", "n/a", "null", "NULL", "None", "none", "-")
_FINITE_CHUNK = 1 << 22  # elements checked per block, to keep the temporary mask small
_MAX_NPY_HEADER = 60_000  # bytes; np.load's own default limit is 10,000


_PICKLE_HINT = ("PyTorch/pickle files are never opened here because loading them can run code; "
                "save the matrix with numpy.save or safetensors instead.")
_EXTENSION_HINTS = {
    **{e: _PICKLE_HINT for e in (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".joblib")},
    **{e: "Export the matrix with numpy.save (.npy) instead."
       for e in (".h5", ".hdf5", ".mat", ".json", ".xlsx", ".xls")},
    **{e: "Decompress it first." for e in (".gz", ".zip", ".bz2", ".xz", ".zst")},
}


class EmbeddingFormatError(ValueError):
    """A file could not be read as an embedding matrix (or its metadata); the message says why."""


@dataclass
class Embeddings:
    """An embedding matrix with optional labels.

    Attributes
    ----------
    vectors : numpy.ndarray
        float32 array of shape ``(n, d)``. It may be read-only (memory-mapped from a path or a
        view of the uploaded bytes); copy it before modifying it in place.
    labels : pandas.DataFrame or None
        One row per vector (index ``0..n-1``), or None when the file had no labels.
    source : str
        The file name (and the array/tensor/column used, when the file held several).
    note : str
        Remarks for the user (e.g. "converted float64 to float32", "metadata decoded as cp1252").
    """

    vectors: np.ndarray
    labels: pd.DataFrame | None
    source: str
    note: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.vectors.shape)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Input plumbing
# --------------------------------------------------------------------------------------------

def _is_path(data) -> bool:
    return isinstance(data, (str, os.PathLike))


def _as_bytes(data, name: str) -> bytes | memoryview:
    """Bytes of an in-memory upload (bytes, bytearray, memoryview or a file-like object)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if hasattr(data, "getvalue"):  # io.BytesIO, streamlit UploadedFile (no copy for BytesIO(bytes))
        return data.getvalue()
    if hasattr(data, "read"):
        if hasattr(data, "seek"):
            try:
                data.seek(0)
            except (OSError, ValueError):
                pass
        out = data.read()
        if isinstance(out, str):
            out = out.encode("utf-8")
        return out
    raise EmbeddingFormatError(
        f"{name}: cannot read a {type(data).__name__}; pass the file's bytes, a file-like object or a path."
    )


def _ext(filename: str) -> str:
    return os.path.splitext(str(filename))[1].lower()


def _describe_magic(head: bytes) -> str:
    """What the first bytes of a file look like, to explain a wrong extension."""
    head = bytes(head[:16])
    known = [
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a zip archive (an .npz is one)"),
        (b"PAR1", "a Parquet file"),
        (b"\x93NUMPY", "a NumPy .npy file"),
        (b"\x1f\x8b", "a gzip-compressed file"),
        (b"\x80", "a Python pickle, which is never loaded"),
        (b"\x89HDF", "an HDF5 file (not supported)"),
    ]
    for magic, what in known:
        if head.startswith(magic):
            return what
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 0 < n < 100_000_000 and head[8:9] == b"{":
            return "a .safetensors file"
    if not head:
        return "empty"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "binary data of an unknown kind"


def _fail(name: str, what: str, hint: str = ACCEPTED) -> EmbeddingFormatError:
    return EmbeddingFormatError(f"{name}: {what} {hint}".strip())


def _friendly(fn):
    """Public entry points raise only EmbeddingFormatError: OS errors and anything unexpected from a
    parser are turned into a message (never a traceback in the app)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EmbeddingFormatError:
            raise
        except MemoryError:
            raise EmbeddingFormatError("The file is too large to load into memory; use a smaller file or a "
                                       "memory-mapped .npy in the data folder.") from None
        except OSError as exc:
            what = exc.strerror or str(exc) or type(exc).__name__
            where = f"{os.path.basename(str(exc.filename))}: " if exc.filename else ""
            raise EmbeddingFormatError(f"{where}cannot be read ({what}).") from None
        except Exception as exc:  # noqa: BLE001 - bad arguments or a parser's internal error
            detail = str(exc).splitlines()[0][:160] if str(exc) else ""
            raise EmbeddingFormatError(
                f"Could not read the input ({type(exc).__name__}: {detail}). {ACCEPTED}") from None

    return wrapper


# --------------------------------------------------------------------------------------------
# Final validation: a finite 2-D float32 matrix
# --------------------------------------------------------------------------------------------

def _first_nonfinite(arr: np.ndarray) -> tuple[int, int] | None:
    """Row/column of the first NaN or infinity, checked block by block (no full-size mask)."""
    rows = max(1, _FINITE_CHUNK // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], rows):
        block = arr[start:start + rows]
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            return start + int(r), int(c)
    return None


def _finish(arr, name: str, notes: list[str] | None = None, say_conversion: bool = True) -> tuple[np.ndarray, str]:
    """Check that ``arr`` is a finite 2-D numeric matrix (≥ 2×2) and return it as float32.

    float32 arrays in native byte order are returned as they are (no copy; memmaps stay
    memmaps); other numeric dtypes are converted once.
    """
    notes = list(notes or [])
    arr = np.asanyarray(arr)
    kind = arr.dtype.kind
    if kind == "O":
        raise _fail(name, "holds Python objects, not numbers (it would need unpickling, which is never done).")
    if kind in "US":
        raise _fail(name, f"holds text ({arr.dtype}), not numbers.")
    if kind == "V":
        raise _fail(name, f"holds structured records ({arr.dtype}), not a plain numeric matrix.")
    if kind == "c":
        raise _fail(name, "holds complex numbers; only real numbers are accepted.")
    if kind in "mM":
        raise _fail(name, f"holds dates/times ({arr.dtype}), not numbers.")
    if kind not in "biuf":
        raise _fail(name, f"has an unsupported dtype {arr.dtype}.")
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
        raise _fail(name, what)
    n, d = arr.shape
    if n < 2:
        raise _fail(name, f"has {n} row{'s' if n != 1 else ''} (shape {arr.shape}); "
                    "at least 2 rows (items) are needed.")
    if d < 2:
        raise _fail(name, f"has {d} column{'s' if d != 1 else ''} (shape {arr.shape}); "
                    "at least 2 columns (dimensions) are needed.")
    if kind == "f":
        bad = _first_nonfinite(arr)
        if bad is not None:
            v = arr[bad]
            what = "NaN (missing)" if np.isnan(v) else "infinite"
            raise _fail(
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
        bad = _first_nonfinite(out)
        if bad is not None:
            raise _fail(
                name,
                f"has values too large for float32 (|x| > 3.4e38; first at row {bad[0] + 1}, column {bad[1] + 1}).",
                "Rescale the data.",
            )
    return out, "; ".join(notes)


# --------------------------------------------------------------------------------------------
# .npy / .npz
# --------------------------------------------------------------------------------------------

def _parse_npy_header(buf: bytes | memoryview, name: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """Parse an .npy header safely: (dtype, shape, fortran_order, data offset)."""
    head = bytes(buf[:10])
    if len(head) < 10 or not head.startswith(b"\x93NUMPY"):
        looks = _describe_magic(bytes(buf[:16]))
        if looks == "empty":
            raise _fail(name, "is empty.")
        raise _fail(name, f"is not a NumPy .npy file (it looks like {looks}).")
    major = head[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(buf) < 12:
            raise _fail(name, "is truncated (the .npy header is incomplete).")
        (hlen,) = struct.unpack("<I", bytes(buf[8:12]))
        start = 12
    else:
        raise _fail(name, f"uses an unknown .npy format version {major}.")
    if hlen > _MAX_NPY_HEADER:  # NumPy itself writes a few hundred bytes; refuse absurd ones
        raise _fail(name, f"is corrupt (its .npy header claims {hlen:,} bytes).")
    if start + hlen > len(buf):
        raise _fail(name, "is truncated or corrupt (the .npy header is incomplete).")
    try:
        text = bytes(buf[start:start + hlen]).decode("latin1" if major < 3 else "utf-8")
        header = ast.literal_eval(text)  # literals only: never executes code
        descr = header["descr"]
        shape = tuple(int(s) for s in header["shape"])
        fortran = bool(header["fortran_order"])
    except Exception:  # noqa: BLE001 - any malformed header is a format error
        raise _fail(name, "is corrupt (its .npy header cannot be read).") from None
    if any(s < 0 for s in shape):
        raise _fail(name, "is corrupt (negative size in its .npy header).")
    if any(s >= 1 << 48 for s in shape):
        raise _fail(name, f"is corrupt (impossible shape {shape} in its .npy header).")
    if isinstance(descr, str) and "O" in descr.replace("<", "").replace(">", "").replace("|", "")[:1]:
        raise _fail(name, "holds Python objects (a pickled array); pickles are never loaded for safety.")
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except Exception:  # noqa: BLE001
        raise _fail(name, f"has an unreadable dtype {descr!r} in its .npy header.") from None
    if dtype.hasobject:
        raise _fail(name, "holds Python objects (a pickled array); pickles are never loaded for safety.")
    return dtype, shape, fortran, start + hlen


def _npy_from_buffer(buf, name: str) -> np.ndarray:
    """Zero-copy view of an in-memory .npy (read-only)."""
    dtype, shape, fortran, offset = _parse_npy_header(buf, name)
    count = math.prod(shape)  # exact Python int: no overflow
    need = count * dtype.itemsize
    have = len(buf) - offset
    if have < need:
        raise _fail(name, f"is truncated: its header announces shape {shape} ({need:,} bytes) "
                    f"but only {have:,} bytes follow.", "")
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=offset)
    return arr.reshape(shape, order="F" if fortran else "C")


def _npy_from_path(path: str, name: str) -> np.ndarray:
    """Memory-mapped .npy (read-only); nothing is read until used."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(min(size, 1 << 16))
    dtype, shape, fortran, offset = _parse_npy_header(head, name)
    count = math.prod(shape)  # exact Python int: no overflow
    need = count * dtype.itemsize
    if size - offset < need:
        raise _fail(name, f"is truncated: its header announces shape {shape} ({need:,} bytes) "
                    f"but only {size - offset:,} bytes follow.", "")
    if need == 0:
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def _pick_key(keys: list[str], key: str | None, name: str, what: str) -> str:
    if key is not None:
        if key not in keys:
            raise _fail(name, f"has no {what} named {key!r}; it has: {', '.join(map(repr, keys)) or 'none'}.", "")
        return key
    for k in _PREFERRED_KEYS:
        if k in keys:
            return k
    return keys[0]


def _open_zip(data, name: str) -> zipfile.ZipFile:
    try:
        src = data if _is_path(data) else io.BytesIO(data)
        return zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        head = _head(data)
        looks = _describe_magic(head)
        if looks == "empty":
            raise _fail(name, "is empty.") from None
        if head.startswith(b"PK"):
            raise _fail(name, "is a truncated or corrupt .npz (zip) archive.") from None
        raise _fail(name, f"is not an .npz archive (it looks like {looks}).") from None


def _head(data, n: int = 16) -> bytes:
    if _is_path(data):
        with open(data, "rb") as fh:
            return fh.read(n)
    return bytes(data[:n])


def _npz_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    out = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        out[key] = info
    return out


_MAX_INFLATED = 4 << 30  # refuse compressed data that would inflate past 4 GiB in memory (zip bombs)


def _stored_member_offset(path: str, info: zipfile.ZipInfo) -> int | None:
    """File offset of an uncompressed (stored) zip member's data, so it can be memory-mapped."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _load_npz(data, name: str, key: str | None) -> tuple[np.ndarray, str]:
    with _open_zip(data, name) as zf:
        members = _npz_members(zf)
        if not members:
            raise _fail(name, "is an empty .npz archive (no arrays).")
        k = _pick_key(list(members), key, name, "array")
        info = members[k]
        label = f"{name} (array {k!r})"
        if _is_path(data):  # np.savez stores arrays uncompressed: memory-map them in place
            offset = _stored_member_offset(data, info)
            if offset is not None and offset + info.file_size <= os.path.getsize(data):
                with open(data, "rb") as fh:
                    fh.seek(offset)
                    head = fh.read(min(info.file_size, 1 << 16))
                dtype, shape, fortran, hoff = _parse_npy_header(head, label)
                count = math.prod(shape)  # exact Python int: no overflow
                if hoff + count * dtype.itemsize > info.file_size:
                    raise _fail(label, f"is truncated: its header announces shape {shape}.", "")
                if count and len(shape) == 2:
                    arr = np.memmap(data, dtype=dtype, mode="r", offset=offset + hoff, shape=shape,
                                    order="F" if fortran else "C")
                    return arr, k
        if info.file_size > _MAX_INFLATED:
            raise _fail(label, f"would take {info.file_size / 2**30:.1f} GiB once uncompressed; at most "
                        f"{_MAX_INFLATED >> 30} GiB is accepted.", "Save it as a plain .npy instead.")
        try:
            raw = zf.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, struct.error) as exc:
            raise _fail(name, f"is a truncated or corrupt .npz archive (array {k!r}: {exc}).") from None
    arr = _npy_from_buffer(raw, f"{name} (array {k!r})")
    return arr, k


# --------------------------------------------------------------------------------------------
# .safetensors
# --------------------------------------------------------------------------------------------

_ST_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": "bf16",
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


def _safetensors_header(data, name: str) -> tuple[dict, int, int]:
    """(header dict without __metadata__, data start offset, total size)."""
    if _is_path(data):
        size = os.path.getsize(data)
        with open(data, "rb") as fh:
            first = fh.read(8)
            hlen = struct.unpack("<Q", first)[0] if len(first) == 8 else -1
            raw = fh.read(hlen) if 0 <= hlen <= 100_000_000 else b""
    else:
        size = len(data)
        first = bytes(data[:8])
        hlen = struct.unpack("<Q", first)[0] if len(first) == 8 else -1
        raw = bytes(data[8:8 + hlen]) if 0 <= hlen <= 100_000_000 else b""
    if size == 0:
        raise _fail(name, "is empty.")
    if hlen < 0 or hlen > 100_000_000 or 8 + hlen > size or len(raw) != hlen:
        looks = _describe_magic(_head(data))
        raise _fail(name, f"is not a valid .safetensors file (truncated or corrupt header; it looks like {looks}).")
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise _fail(name, "is not a valid .safetensors file (its header is not JSON).") from None
    header.pop("__metadata__", None)
    return header, 8 + hlen, size


def _st_entry(info, tname: str, name: str) -> tuple[str, tuple[int, ...], int, int]:
    try:
        dt = str(info["dtype"])
        shape = tuple(int(s) for s in info["shape"])
        a, b = (int(v) for v in info["data_offsets"])
    except (KeyError, TypeError, ValueError):
        raise _fail(name, f"is corrupt (tensor {tname!r} has a malformed entry).") from None
    if any(s < 0 or s >= 1 << 48 for s in shape):
        raise _fail(name, f"is corrupt (tensor {tname!r} has an impossible shape {shape}).")
    return dt, shape, a, b


@_friendly
def list_tensors(data, filename: str | None = None) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the arrays in a ``.safetensors`` or ``.npz`` file.

    Parameters
    ----------
    data : bytes, file-like or path
        The file.
    filename : str, optional
        Its name (the extension picks the format); when omitted, a zip archive is read as
        ``.npz`` and anything else as ``.safetensors``.

    Returns
    -------
    dict
        ``{name: shape}`` in file order; a page can offer the 2-D ones as a choice.

    Raises
    ------
    EmbeddingFormatError
        If the file is not a readable ``.safetensors``/``.npz``.
    """
    name = os.path.basename(str(filename if filename is not None else (data if _is_path(data) else "upload")))
    if not _is_path(data):
        data = _as_bytes(data, name)
    ext = _ext(name) if filename is not None or _is_path(data) else ""
    if ext not in (".npz", ".safetensors"):
        ext = ".npz" if _head(data, 2) == b"PK" else ".safetensors"
    if ext == ".npz":
        out = {}
        with _open_zip(data, name) as zf:
            for k, info in _npz_members(zf).items():
                try:
                    with zf.open(info) as fh:
                        head = fh.read(1 << 16)
                    _, shape, _, _ = _parse_npy_header(head, f"{name} (array {k!r})")
                except EmbeddingFormatError:
                    shape = ()
                except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                    raise _fail(name, "is a truncated or corrupt .npz archive.") from None
                out[k] = shape
        return out
    header, _, _ = _safetensors_header(data, name)
    return {k: _st_entry(v, k, name)[1] for k, v in header.items()}


def _load_safetensors(data, name: str, key: str | None) -> tuple[np.ndarray, str]:
    header, start, size = _safetensors_header(data, name)
    if not header:
        raise _fail(name, "holds no tensors.")
    entries = {k: _st_entry(v, k, name) for k, v in header.items()}
    if key is None:
        two_d = [k for k, e in entries.items() if len(e[1]) == 2]
        if not two_d:
            shapes = ", ".join(f"{k} {list(e[1])}" for k, e in list(entries.items())[:8])
            raise _fail(name, f"holds no 2-D tensor (tensors: {shapes}).")
        k = next((p for p in _PREFERRED_KEYS if p in two_d), two_d[0])
    else:
        k = _pick_key(list(entries), key, name, "tensor")
    dt, shape, a, b = entries[k]
    if dt not in _ST_DTYPES:
        raise _fail(name, f"tensor {k!r} has dtype {dt}, which is not supported "
                    "(use F32, F16, BF16, F64 or integers).", "")
    np_dt = np.dtype(np.uint16) if _ST_DTYPES[dt] == "bf16" else np.dtype(_ST_DTYPES[dt])
    count = math.prod(shape)  # exact Python int: no overflow
    if b < a or a < 0 or start + b > size or b - a != count * np_dt.itemsize:
        raise _fail(name, f"is truncated or corrupt (tensor {k!r} does not fit in the file).")
    np_dt = np_dt.newbyteorder("<")
    if _is_path(data):
        arr = np.memmap(data, dtype=np_dt, mode="r", offset=start + a, shape=shape) if count else np.zeros(shape, np_dt)
    else:
        arr = np.frombuffer(data, dtype=np_dt, count=count, offset=start + a).reshape(shape)
    if dt == "BF16":  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr, k


# --------------------------------------------------------------------------------------------
# Text tables (.csv / .tsv / .txt)
# --------------------------------------------------------------------------------------------

def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _text_sample(data, name: str) -> tuple[str, bool]:
    """First bytes of a text file decoded (errors replaced); and whether the file is longer.

    The sample grows (up to 64 MB) until it holds a few complete lines, so very wide rows
    (tens of thousands of numbers per line) are still sniffed correctly.
    """
    limit = _TEXT_SAMPLE_BYTES
    while True:
        if _is_path(data):
            with open(data, "rb") as fh:
                raw = fh.read(limit + 1)
        else:
            raw = bytes(data[: limit + 1])
        more = len(raw) > limit
        raw = raw[:limit]
        if not more or raw.count(b"\n") >= 4 or limit >= (64 << 20):
            break
        limit *= 4
    if b"\x00" in raw:
        raise _fail(name, f"is not a text table (it looks like {_describe_magic(raw)}).")
    return raw.decode("utf-8", errors="replace").lstrip("\ufeff"), more


def _split_rows(text: str, sep: str | None, more: bool) -> list[list[str]]:
    lines = text.splitlines()
    if more and lines:
        lines = lines[:-1]  # the last line may be cut off
    lines = [ln for ln in lines if ln.strip()][: _TEXT_SAMPLE_ROWS + 1]
    if sep is None:
        return [ln.split() for ln in lines]
    return [[f.strip() for f in row] for row in csv.reader(lines, delimiter=sep)]


_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")


def _guess_sep(text: str, ext: str) -> tuple[str | None, str]:
    """(separator, decimal mark). ``None`` separator means runs of whitespace.

    A ``.tsv`` is tab-separated; a ``.csv`` is comma-separated unless its first line is
    semicolon-separated (the European spreadsheet export, often with decimal commas); a ``.txt``
    uses tab, semicolon or comma when its first line has one, else whitespace.
    """
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()][:6]
    first = lines[0] if lines else ""

    def decimal_commas(sep):
        fields = [f.strip() for ln in lines for f in (ln.split(sep) if sep else ln.split())]
        return any(_DECIMAL_COMMA.match(f) for f in fields)

    if ext == ".tsv":
        sep = "\t"
    elif ";" in first and ("\t" not in first or ext == ".csv"):
        sep = ";"
    elif ext == ".csv":
        sep = ","
    elif "\t" in first:
        sep = "\t"
    elif "," in first:
        # "1,5 2,5" is whitespace-separated with decimal commas; "1,2" is comma-separated
        sep = None if len(first.split()) >= 2 and decimal_commas(None) else ","
    else:
        sep = None
    decimal = "," if sep != "," and decimal_commas(sep) else "."
    return sep, decimal


def _read_table_text(data, name: str, ext: str):
    """Read a text table; returns (vectors float64 DataFrame values, labels DataFrame | None)."""
    text, more = _text_sample(data, name)
    if not text.strip():
        raise _fail(name, "is empty (no rows).")
    sep, decimal = _guess_sep(text, ext)
    if decimal == ",":
        def isnum(v: str) -> bool:
            return _is_number(v.replace(",", "."))
    else:
        isnum = _is_number
    rows = _split_rows(text, sep, more)
    if not rows:
        raise _fail(name, "has no complete line in its first 64 MB; is it really a text table?")
    notes = []
    skip = 0
    # word2vec text format: a first line "<count> <dim>" before "word v1 ... v_dim" lines
    if (len(rows) > 1 and len(rows[0]) == 2 and all(v.isdigit() for v in rows[0])
            and len(rows[1]) == int(rows[0][1]) + 1 and not isnum(rows[1][0])):
        skip = 1
        rows = rows[1:]
        notes.append(f"{name}: skipped the word2vec header line")
    ncols = len(rows[0])
    # header: the first row has a non-number where the following rows have numbers,
    # or it numbers the columns 0, 1, 2, ... (pandas' default column names)
    body = rows[1:]
    numeric_cols = [
        j for j in range(ncols)
        if body and sum(isnum(r[j]) for r in body if j < len(r)) > 0.5 * len(body)
    ]
    has_header = bool(body) and any(not isnum(rows[0][j]) for j in numeric_cols if j < len(rows[0]))
    if body and not has_header and len(numeric_cols) >= 2 and all(j < len(rows[0]) for j in numeric_cols):
        head_vals = [rows[0][j] for j in numeric_cols]
        k = len(head_vals)
        ints_only = all(r[j].lstrip("+-").isdigit() for r in body for j in numeric_cols if j < len(r))
        # a small hand-typed integer matrix may well start "0,1,2": only a header when the data are
        # not all integers or the row is long
        if head_vals == [str(i) for i in range(k)] and (k >= 8 or not ints_only):
            has_header = True
    if not body and not all(isnum(v) for v in rows[0]):
        has_header = True
    data_rows = body if has_header else rows
    if not data_rows:
        raise _fail(name, "has only a header row and no data; at least 2 rows of numbers are needed.", "")
    if not has_header:
        numeric_cols = [j for j in range(ncols)
                        if sum(isnum(r[j]) for r in data_rows if j < len(r)) > 0.5 * len(data_rows)]
    if not numeric_cols:
        ex = data_rows[0][0] if data_rows[0] else ""
        raise _fail(name, f"has no numeric columns (first value {ex[:40]!r}); expected rows of numbers, "
                    "optionally with a label column first or last.")
    header_names = rows[0] if has_header else None
    # empty columns, e.g. from a separator at the end of every line ("1\t2\t")
    num_set = set(numeric_cols)
    dropped = [j for j in range(ncols) if j not in num_set
               and all(j >= len(r) or not r[j].strip() for r in data_rows)
               and not (header_names and j < len(header_names) and header_names[j].strip())]
    if dropped:
        notes.append(f"{name}: ignored {len(dropped)} empty column(s)")
    # a pandas index written by DataFrame.to_csv(): unnamed first column holding 0, 1, 2, ...
    if has_header and 0 in numeric_cols and len(numeric_cols) > 2 and header_names[0].strip() in ("", "Unnamed: 0"):
        col0 = [r[0] for r in data_rows]
        start = col0[0] if col0 else ""
        if start in ("0", "1") and col0 == [str(int(start) + i) for i in range(len(col0))]:
            dropped.append(0)
            numeric_cols = numeric_cols[1:]
            notes.append(f"{name}: dropped the unnamed index column")
    first, last = numeric_cols[0], numeric_cols[-1]
    num_set = set(numeric_cols)
    middle_bad = [j for j in range(first, last + 1) if j not in num_set and j not in dropped]
    if middle_bad:
        j = middle_bad[0]
        ex = next((r[j] for r in data_rows if j < len(r) and not isnum(r[j])), "")
        raise _fail(name, f"column {j + 1} holds text ({ex[:40]!r}) between numeric columns; labels may only be "
                    "the first or last columns.", "")
    # odd values inside numeric columns of the sample: say where
    for i, r in enumerate(data_rows):
        if len(r) != ncols:
            line = i + 1 + int(has_header)
            raise _fail(name, f"has rows of different lengths: row 1 has {ncols} values but row {line} has {len(r)}; "
                        "every row needs the same number of columns.", "")
        for j in numeric_cols:
            if not isnum(r[j]):
                line = i + 1 + int(has_header)
                if r[j].strip() in _NA_STRINGS:
                    raise _fail(name, f"has an empty or missing value at row {line}, column {j + 1}; "
                                "only finite numbers are accepted.", "")
                raise _fail(name, f"has a value that is not a number at row {line}, column {j + 1}: {r[j][:40]!r}.", "")
    header_names = rows[0] if has_header else None
    na_list = [*_NA_STRINGS, "nan", "NaN", "NAN", "-nan", "-NaN"]
    # per-column dicts cost ~0.1 ms a column in pandas: name only the (few) label columns
    label_cols = [j for j in range(ncols) if j not in num_set and j not in dropped]
    dtypes = np.float64 if len(numeric_cols) == ncols else {j: str for j in range(ncols) if j not in num_set}
    na_values = na_list
    kwargs = dict(
        sep=r"\s+" if sep is None else sep, header=None, skiprows=skip + int(has_header), dtype=dtypes,
        keep_default_na=False, na_values=na_values, skip_blank_lines=True, engine="c", quotechar='"', decimal=decimal,
    )
    # thousands of columns plus labels: slicing such a frame is slow, so read numbers and labels apart
    split_read = bool(label_cols) and ncols > 2000
    first_kwargs = {**kwargs, "usecols": numeric_cols, "dtype": np.float64} if split_read else kwargs
    src = data if _is_path(data) else io.BytesIO(data)
    frame = None
    used_enc = "utf-8-sig"
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            if not _is_path(src):
                src.seek(0)
            frame = pd.read_csv(src, encoding=enc, **first_kwargs)
            used_enc = enc
            if enc != "utf-8-sig":
                notes.append(f"{name} is not UTF-8; decoded as {enc}")
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            msg = str(exc).split("\n")[0]
            raise _fail(name, f"could not be parsed as a table ({msg}); "
                        "every row needs the same number of columns.", "") from None
        except (ValueError, TypeError, OverflowError) as exc:
            msg = str(exc).split("\n")[0]
            raise _fail(name, f"has a value that is not a number ({msg}).", "") from None
        except pd.errors.EmptyDataError:
            raise _fail(name, "is empty (no rows).") from None
    if frame is None:  # pragma: no cover - latin-1 decodes any bytes
        raise _fail(name, "could not be decoded as text.")
    if frame.shape[1] != (len(numeric_cols) if split_read else ncols):
        raise _fail(name, f"has rows of different lengths (expected {ncols} columns, found {frame.shape[1]}).", "")
    if len(numeric_cols) == ncols or split_read:
        block = frame
    else:  # a contiguous slice: selecting thousands of columns by list is slow in pandas
        block = frame.iloc[:, numeric_cols[0]:numeric_cols[-1] + 1]
        inner = [c for c in block.columns if c not in num_set]
        block = block.drop(columns=inner) if inner else block
    try:
        vec = block.to_numpy(dtype=np.float64)
    except (ValueError, TypeError):  # text past the sniffed lines in a numeric column: say where
        for c in block.columns:
            if not pd.api.types.is_numeric_dtype(block[c]):
                bad = pd.to_numeric(block[c], errors="coerce").isna() & block[c].notna()
                if bad.any():
                    r = int(np.argmax(bad.to_numpy()))
                    raise _fail(name, f"has a value that is not a number at row {r + 1 + skip + int(has_header)}, "
                                f"column {int(c) + 1}: {str(block[c].iloc[r])[:40]!r}.", "") from None
        raise _fail(name, "has values that are not numbers.", "") from None
    if np.isnan(vec).any():
        r, c = np.argwhere(np.isnan(vec))[0]
        raise _fail(name, f"has an empty, missing or NaN value at row {int(r) + 1 + skip + int(has_header)}, "
                    f"column {numeric_cols[int(c)] + 1} (rows of different lengths?); "
                    "only finite numbers are accepted.", "")
    labels = None
    if label_cols:
        labels = None if split_read else frame[label_cols].copy()
        # a word such as "NA" or "null" read as missing: read the labels again, verbatim
        if labels is None or labels.isna().any().any():
            if not _is_path(src):
                src.seek(0)
            verbatim = pd.read_csv(src, encoding=used_enc, na_filter=False,
                                   **{**kwargs, "dtype": str, "na_values": None, "usecols": label_cols})
            labels = verbatim[label_cols].copy()
        names = []
        for j in label_cols:
            nm = header_names[j] if header_names and j < len(header_names) and header_names[j] else (
                "label" if len(label_cols) == 1 else f"label_{j + 1}")
            names.append(nm)
        labels.columns = _dedupe(names)
        labels = labels.reset_index(drop=True)
    return vec, labels, "; ".join(notes)


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = str(n)
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


# --------------------------------------------------------------------------------------------
# .parquet
# --------------------------------------------------------------------------------------------

def _read_parquet_table(data, name: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    head = _head(data, 4)
    if not head:
        raise _fail(name, "is empty.")
    try:
        src = data if _is_path(data) else pa.BufferReader(data)
        meta = pq.ParquetFile(src, memory_map=_is_path(data)).metadata
        nbytes = values = 0
        for g in range(meta.num_row_groups):  # decoded size, from the footer, before decoding anything
            rg = meta.row_group(g)
            for c in range(meta.num_columns):
                col = rg.column(c)
                values += col.num_values
                nbytes += col.num_values * (4 if col.physical_type in ("FLOAT", "INT32", "BOOLEAN") else 8)
        if nbytes > _MAX_INFLATED:
            raise _fail(name, f"holds {values:,} values (about {nbytes / 2**30:.1f} GiB in memory); at most "
                        f"{_MAX_INFLATED >> 30} GiB is accepted.",
                        "Save the vectors as a .npy in the data folder instead.")
        if _is_path(data):
            return pq.read_table(data, memory_map=True)
        return pq.read_table(pa.BufferReader(data))
    except EmbeddingFormatError:
        raise
    except (pa.ArrowException, OSError, ValueError, IndexError, TypeError, KeyError) as exc:
        looks = _describe_magic(_head(data))
        if head == b"PAR1":
            raise _fail(name, f"is a truncated or corrupt Parquet file ({str(exc).splitlines()[0][:120]}).") from None
        raise _fail(name, f"is not a Parquet file (it looks like {looks}).") from None


def _load_parquet(data, name: str, key: str | None):
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _read_parquet_table(data, name)
    schema = table.schema
    list_cols = [
        f.name for f in schema
        if (pa.types.is_list(f.type) or pa.types.is_large_list(f.type) or pa.types.is_fixed_size_list(f.type))
        and (pa.types.is_floating(f.type.value_type) or pa.types.is_integer(f.type.value_type))
    ]
    float_cols = [f.name for f in schema if pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)]
    int_cols = [f.name for f in schema if pa.types.is_integer(f.type) and not f.name.startswith("__index_level_")]
    # with 2+ float columns present, integer columns (ids, classes, counts) are metadata, not dimensions
    num_cols = float_cols if len(float_cols) >= 2 else [c for c in schema.names if c in float_cols or c in int_cols]
    if key is not None and key not in schema.names:
        raise _fail(name, f"has no column named {key!r}; it has: {', '.join(map(repr, schema.names))}.", "")
    if (key is not None and key in list_cols) or (key is None and list_cols):
        col_name = key if key is not None else _pick_key(list_cols, None, name, "column")
        col = table.column(col_name).combine_chunks()
        n = len(col)
        if col.null_count:
            raise _fail(name, f"column {col_name!r} has {col.null_count} empty (null) vectors.", "")
        if pa.types.is_fixed_size_list(col.type):
            d = col.type.list_size
            values = col.flatten()
        else:
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
            if n and (lengths != lengths[0]).any():
                i = int(np.argmax(lengths != lengths[0]))
                raise _fail(name, f"column {col_name!r} holds vectors of different lengths "
                            f"(row 1 has {int(lengths[0])} values, row {i + 1} has {int(lengths[i])}).", "")
            d = int(lengths[0]) if n else 0
            values = col.flatten()
        if values.null_count:
            raise _fail(name, f"column {col_name!r} has missing (null) numbers inside its vectors.", "")
        flat = values.to_numpy(zero_copy_only=False)
        arr = flat.reshape(n, d) if n and d else flat.reshape(n, d if n else 0)
        rest = [c for c in schema.names if c != col_name]
        source = col_name
    else:
        if key is not None:
            cols = [key]
        else:
            cols = num_cols
        if not cols:
            raise _fail(name, "has no list/array column of vectors and no numeric columns (columns: "
                        f"{', '.join(map(repr, schema.names[:12]))}).")
        for c in cols:
            if table.column(c).null_count:
                raise _fail(name, f"column {c!r} has {table.column(c).null_count} empty (null) values; "
                            "only finite numbers are accepted.", "")
        arr = np.column_stack([table.column(c).to_numpy() for c in cols]) if cols else np.empty((0, 0))
        if key is not None and arr.dtype.kind not in "biuf":
            raise _fail(name, f"column {key!r} is not numeric.", "")
        rest = [c for c in schema.names if c not in cols]
        source = f"{len(cols)} numeric column{'s' if len(cols) != 1 else ''}"
    labels = None
    if rest:
        labels = table.select(rest).to_pandas()
        if isinstance(labels.index, pd.RangeIndex):
            labels = labels.reset_index(drop=True)
        else:  # a pandas index saved with the frame (e.g. words): keep it as a column
            labels = labels.reset_index()
        labels.columns = _dedupe([str(c) for c in labels.columns])
        if labels.shape[1] == 0:
            labels = None
    return arr, labels, source


# --------------------------------------------------------------------------------------------
# Metadata (labels)
# --------------------------------------------------------------------------------------------

def _decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode text: UTF-8 (with or without BOM); else cp1252/latin-1 with a note saying so."""
    try:
        return bytes(raw).decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    for enc in ("cp1252", "latin-1"):
        try:
            return bytes(raw).decode(enc), f"{name} is not UTF-8; decoded as {enc} (check accented labels)"
        except UnicodeDecodeError:
            continue
    raise _fail(name, "is not UTF-8 text.", "")  # pragma: no cover


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn columns that are all numbers into numeric columns (for colour scales)."""
    for c in frame.columns:
        col = frame[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            nums = pd.to_numeric(col, errors="coerce")
            if len(col) and nums.notna().all():
                frame[c] = nums
    return frame


@_friendly
def load_metadata(metadata, metadata_filename: str | None, n_rows: int | None = None) -> tuple[pd.DataFrame, str]:
    """Read labels: Projector ``metadata.tsv`` (1 column: no header; several: header row), ``.csv``, ``.parquet``.

    Parameters
    ----------
    metadata : bytes, file-like or path
        The metadata file.
    metadata_filename : str or None
        Its name; the extension picks the parser (``.tsv`` when unknown).
    n_rows : int, optional
        Number of vectors; a different number of metadata rows raises.

    Returns
    -------
    (pandas.DataFrame, str)
        The labels (index ``0..n-1``) and a note for the user ('' if none).

    Raises
    ------
    EmbeddingFormatError
        Unreadable file, or a row count different from ``n_rows``.
    """
    name = os.path.basename(str(metadata_filename or (metadata if _is_path(metadata) else "metadata")))
    ext = _ext(name)
    note = ""
    if ext == ".parquet":
        table = _read_parquet_table(metadata if _is_path(metadata) else _as_bytes(metadata, name), name)
        frame = table.to_pandas().reset_index(drop=True)
        frame.columns = _dedupe([str(c) for c in frame.columns])
    else:
        if _is_path(metadata):
            with open(metadata, "rb") as fh:
                raw = fh.read()
        else:
            raw = _as_bytes(metadata, name)
        if b"\x00" in bytes(raw[:4096]):
            raise _fail(name, f"is not a text file of labels (it looks like {_describe_magic(bytes(raw[:16]))}).",
                        "Accepted metadata: a .tsv (TensorFlow Projector metadata.tsv), .csv or .parquet "
                        "with one row per vector.")
        text, note = _decode_text(raw, name)
        lines = text.splitlines()
        while lines and not lines[-1].strip():  # trailing blank lines only: inner ones are (empty) labels
            lines.pop()
        if not lines:
            raise _fail(name, "is empty (no labels).", "")
        sep = "," if ext == ".csv" else "\t"
        rows = list(csv.reader(lines, delimiter=sep)) if ext == ".csv" else [ln.split("\t") for ln in lines]
        ncols = max(len(r) for r in rows)
        if ncols == 1:
            values = [r[0] if r else "" for r in rows]
            col = "label"
            if n_rows is not None and len(values) == n_rows + 1:
                col, values = values[0], values[1:]
                note = "; ".join(filter(None, [note, f"{name}: the first line was taken as a header"]))
            frame = pd.DataFrame({col: values}, dtype=object)
        else:
            header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
            header += [f"column_{i + 1}" for i in range(len(header), ncols)]
            body = [r + [""] * (ncols - len(r)) for r in rows[1:]]
            frame = pd.DataFrame(body, columns=_dedupe(header), dtype=object)
        frame = _typed(frame)
    if n_rows is not None and len(frame) != n_rows:
        raise _fail(
            name,
            f"has {len(frame)} rows of labels but there are {n_rows} vectors; one label row per vector is needed "
            "(a single-column metadata.tsv has no header row; with several columns the first row is the header).",
            "",
        )
    return frame, note


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

@_friendly
def load_embeddings(data, filename: str | None = None, metadata=None, metadata_filename: str | None = None,
                    key: str | None = None) -> Embeddings:
    """Load an embedding matrix (and optional labels) from a user file.

    Parameters
    ----------
    data : bytes, file-like or path
        The file's contents (bytes, ``io.BytesIO``, a Streamlit ``UploadedFile``) or a path.
        A ``.npy``/``.safetensors`` path is memory-mapped (read lazily, no copy).
    filename : str, optional
        The file name; its extension picks the format (defaults to the path's name).
    metadata : bytes, file-like or path, optional
        Labels, one row per vector (Projector ``metadata.tsv``, ``.csv`` or ``.parquet``).
    metadata_filename : str, optional
        Name of the metadata file.
    key : str, optional
        Which array (``.npz``), tensor (``.safetensors``) or column (``.parquet``) to use.

    Returns
    -------
    Embeddings
        ``vectors`` float32 ``(n, d)``, ``labels`` DataFrame or None, ``source``, ``note``.

    Raises
    ------
    EmbeddingFormatError
        If the file is not a finite 2-D numeric matrix with at least 2 rows and 2 columns,
        its format is not recognised, or the metadata has a different number of rows.
    """
    if filename is None:
        if not _is_path(data):
            filename = getattr(data, "name", None)
        else:
            filename = os.fspath(data)
    if filename is None:
        raise EmbeddingFormatError(f"No file name given, so the format is unknown. {ACCEPTED}")
    name = os.path.basename(str(filename)) or str(filename)
    ext = _ext(name)
    if ext not in EMBEDDING_EXTENSIONS:
        hint = _EXTENSION_HINTS.get(ext, "")
        raise _fail(name, f"has an unsupported extension {ext or '(none)'!r}.{' ' + hint if hint else ''}")
    if _is_path(data):
        data = os.fspath(data)
        if not os.path.isfile(data):
            raise _fail(name, "does not exist or is not a regular file.", "")
    else:
        data = _as_bytes(data, name)
    labels = None
    notes: list[str] = []
    source = name
    try:
        if ext == ".npy":
            arr = _npy_from_path(data, name) if _is_path(data) else _npy_from_buffer(data, name)
        elif ext == ".npz":
            arr, k = _load_npz(data, name, key)
            source = f"{name} [{k}]"
        elif ext == ".safetensors":
            arr, k = _load_safetensors(data, name, key)
            source = f"{name} [{k}]"
        elif ext == ".parquet":
            arr, labels, col = _load_parquet(data, name, key)
            source = f"{name} [{col}]"
        else:
            arr, labels, note = _read_table_text(data, name, ext)
            if note:
                notes.append(note)
    except EmbeddingFormatError:
        raise
    except MemoryError:
        raise _fail(name, "is too large to load into memory.", "Use a smaller file or a memory-mapped .npy.") from None
    except OSError as exc:  # never echo the server's full path
        raise _fail(name, f"cannot be read ({exc.strerror or type(exc).__name__}).", "") from None
    except Exception as exc:  # noqa: BLE001 - never let a parser's internal error reach the user raw
        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise _fail(name, f"could not be read ({type(exc).__name__}: {detail}).") from None
    vectors, conv = _finish(arr, source, notes, say_conversion=ext not in (".csv", ".tsv", ".txt", ".parquet"))
    note = conv
    if metadata is not None:
        meta, mnote = load_metadata(metadata, metadata_filename, n_rows=vectors.shape[0])
        if labels is not None:
            extra = [c for c in labels.columns if c not in meta.columns]
            meta = pd.concat([labels[extra].reset_index(drop=True), meta], axis=1) if extra else meta
        labels = meta
        note = "; ".join(filter(None, [note, mnote]))
    return Embeddings(vectors=vectors, labels=labels, source=source, note=note)


# --------------------------------------------------------------------------------------------
# Server-side data folder (LA_LENS_DATA_DIR)
# --------------------------------------------------------------------------------------------

def _is_metadata_name(rel: str) -> bool:
    base = os.path.basename(rel).lower()
    return _ext(base) in (".tsv", ".csv", ".txt") and "metadata" in base


def _inside(root_real: str, path_real: str) -> bool:
    try:
        return os.path.commonpath([root_real, path_real]) == root_real
    except ValueError:  # different drives
        return False


@_friendly
def list_data_files(root, limit: int = 10_000) -> list[str]:
    """Embedding files under ``root`` (relative POSIX names, sorted).

    Hidden files and folders, metadata files (``*metadata*.tsv``) and links leading outside
    ``root`` are left out.

    Parameters
    ----------
    root : str or path
        The data folder (``LA_LENS_DATA_DIR``).
    limit : int, default 10000
        At most this many names are returned.

    Returns
    -------
    list of str
    """
    root_real = os.path.realpath(os.fspath(root))
    if not os.path.isdir(root_real):
        raise EmbeddingFormatError(f"Data folder {os.fspath(root)!r} does not exist or is not a folder.")
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root_real, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith(".") or _ext(fn) not in EMBEDDING_EXTENSIONS:
                continue
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root_real).replace(os.sep, "/")
            if _is_metadata_name(rel):
                continue
            real = os.path.realpath(full)
            if not _inside(root_real, real) or not os.path.isfile(real):
                continue
            out.append(rel)
            if len(out) >= limit:
                return sorted(out)
    return sorted(out)


def _resolve_in_root(root, name: str) -> str:
    root_real = os.path.realpath(os.fspath(root))
    name = str(name)
    if not name or "\x00" in name:
        raise EmbeddingFormatError("Empty or invalid file name; choose a file listed in the data folder.")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise EmbeddingFormatError(f"{name!r}: absolute paths are not allowed; choose a file inside the data folder.")
    parts = Path(name.replace("\\", "/")).parts
    if ".." in parts:
        raise EmbeddingFormatError(f"{name!r}: '..' is not allowed; choose a file inside the data folder.")
    real = os.path.realpath(os.path.join(root_real, name))
    if not _inside(root_real, real):
        raise EmbeddingFormatError(f"{name!r} points outside the data folder (a link?); it is not opened.")
    if not os.path.isfile(real):
        raise EmbeddingFormatError(f"{name!r} does not exist in the data folder or is not a regular file.")
    return real


def _metadata_beside(root, name: str) -> str | None:
    folder, base = os.path.split(name)
    stem = os.path.splitext(base)[0]
    cands = [f"{stem}_metadata.tsv", f"{stem}.metadata.tsv", f"{stem}-metadata.tsv"]
    if stem.lower() in ("vectors", "embeddings", "tensors"):
        cands.append("metadata.tsv")
    for c in cands:
        rel = f"{folder}/{c}" if folder else c
        try:
            return _resolve_in_root(root, rel)
        except EmbeddingFormatError:
            continue
    return None


@_friendly
def open_data_file(root, name: str, metadata_name: str | None = None, key: str | None = None) -> Embeddings:
    """Open ``name`` from the data folder ``root`` (never anything outside it).

    ``.npy`` and ``.safetensors`` are memory-mapped. Labels come from ``metadata_name`` or,
    if not given, from a sibling ``<stem>_metadata.tsv`` / ``<stem>.metadata.tsv`` (or
    ``metadata.tsv`` beside ``vectors.tsv``, the Projector naming) when one exists.

    Raises
    ------
    EmbeddingFormatError
        For an absolute path, a ``..`` component, a link leading outside ``root``, a missing
        file, or a file that does not load.
    """
    path = _resolve_in_root(root, name)
    meta = _resolve_in_root(root, metadata_name) if metadata_name else _metadata_beside(root, name)
    emb = load_embeddings(path, os.path.basename(str(name)), metadata=meta,
                          metadata_filename=os.path.basename(meta) if meta else None, key=key)
    base = os.path.basename(str(name))
    emb.source = emb.source.replace(base, str(name), 1)  # "sub/vectors.tsv", not just "vectors.tsv"
    return emb
