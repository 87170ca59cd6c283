"""NumPy files: ``.npy`` (one array) and ``.npz`` (an archive of them), never unpickled.

:func:`parse_npy_header` is the one ``.npy`` header parser of the project: the page loader and the
batch reader (:mod:`la_core.pca_dask`) both use it, so a file one accepts the other accepts too. It
reads the header as Python literals only (``ast.literal_eval``), bounds its size and the shape, and
refuses object arrays before any data is touched. A path is memory-mapped (nothing is read until
used); bytes are viewed without a copy.
"""
from __future__ import annotations

import ast
import io
import math
import os
import struct
import zipfile
from typing import NamedTuple

import numpy as np

from la_core.io import errors
from la_core.io.errors import EmbeddingFormatError, describe_magic, fail, head, is_path, pick_key
from la_core.io.finish import Read

__all__ = ["NpyHeader", "load_npy", "load_npz", "npy_from_buffer", "npy_from_path", "npz_shapes", "parse_npy_header",
           "read_npy_header"]

# bytes; NumPy writes a few hundred, and np.load's own default limit is 10,000
_MAX_NPY_HEADER = 60_000
# enough for the largest accepted header plus its preamble
_HEAD_BYTES = 1 << 16


class NpyHeader(NamedTuple):
    """What an ``.npy`` header announces."""

    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    offset: int  # where the data start, in bytes from the start of the .npy

    @property
    def nbytes(self) -> int:
        """Bytes of data the header announces (exact Python int: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def order(self) -> str:
        return "F" if self.fortran_order else "C"


def parse_npy_header(buf: bytes | memoryview, name: str) -> NpyHeader:
    """Parse an .npy header safely (literals only, bounded size, no object dtypes).

    Parameters
    ----------
    buf : bytes or memoryview
        The start of the file (the whole header must be in it).
    name : str
        The file name used in error messages.

    Returns
    -------
    NpyHeader
        ``(dtype, shape, fortran_order, offset)``.

    Raises
    ------
    EmbeddingFormatError
        Not an .npy, an unknown version, a corrupt or oversized header, or an object dtype.
    """
    first = bytes(buf[:10])
    if len(first) < 10 or not first.startswith(b"\x93NUMPY"):
        looks = describe_magic(bytes(buf[:16]))
        if looks == "empty":
            raise fail(name, "is empty.")
        raise fail(name, f"is not a NumPy .npy file (it looks like {looks}).")
    major = first[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", first[8:10])
        start = 10
    elif major in (2, 3):
        if len(buf) < 12:
            raise fail(name, "is truncated (the .npy header is incomplete).")
        (hlen,) = struct.unpack("<I", bytes(buf[8:12]))
        start = 12
    else:
        raise fail(name, f"uses an unknown .npy format version {major}.")
    if hlen > _MAX_NPY_HEADER:  # refuse absurd headers before reading them
        raise fail(name, f"is corrupt (its .npy header claims {hlen:,} bytes).")
    if start + hlen > len(buf):
        raise fail(name, "is truncated or corrupt (the .npy header is incomplete).")
    try:
        text = bytes(buf[start:start + hlen]).decode("latin1" if major < 3 else "utf-8")
        header = ast.literal_eval(text)  # literals only: never executes code
        descr = header["descr"]
        shape = tuple(int(s) for s in header["shape"])
        fortran = bool(header["fortran_order"])
    except Exception:  # noqa: BLE001 - any malformed header is a format error
        raise fail(name, "is corrupt (its .npy header cannot be read).") from None
    if any(s < 0 for s in shape):
        raise fail(name, "is corrupt (negative size in its .npy header).")
    if any(s >= 1 << 48 for s in shape):
        raise fail(name, f"is corrupt (impossible shape {shape} in its .npy header).")
    if isinstance(descr, str) and "O" in descr.replace("<", "").replace(">", "").replace("|", "")[:1]:
        raise fail(name, "holds Python objects (a pickled array); pickles are never loaded for safety.")
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except Exception:  # noqa: BLE001
        raise fail(name, f"has an unreadable dtype {descr!r} in its .npy header.") from None
    if dtype.hasobject:
        raise fail(name, "holds Python objects (a pickled array); pickles are never loaded for safety.")
    return NpyHeader(dtype, shape, fortran, start + hlen)


def _check_fits(h: NpyHeader, have: int, name: str) -> None:
    """Refuse a header that announces more data than the ``have`` bytes that follow it."""
    if have < h.nbytes:
        raise fail(name, f"is truncated: its header announces shape {h.shape} ({h.nbytes:,} bytes) "
                   f"but only {have:,} bytes follow.", "")


def read_npy_header(path, name: str | None = None) -> NpyHeader:
    """The header of the ``.npy`` at ``path``, checked against the file's size (nothing else is read).

    Parameters
    ----------
    path : str or path
        The file.
    name : str, optional
        The name used in error messages (default: the path).

    Raises
    ------
    EmbeddingFormatError
        As :func:`parse_npy_header`, or when the file is shorter than its header announces.
    """
    path = os.fspath(path)
    name = path if name is None else name
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        first = fh.read(min(size, _HEAD_BYTES))
    h = parse_npy_header(first, name)
    _check_fits(h, size - h.offset, name)
    return h


def npy_from_buffer(buf, name: str) -> np.ndarray:
    """Zero-copy view of an in-memory .npy (read-only)."""
    h = parse_npy_header(buf, name)
    _check_fits(h, len(buf) - h.offset, name)
    arr = np.frombuffer(buf, dtype=h.dtype, count=math.prod(h.shape), offset=h.offset)
    return arr.reshape(h.shape, order=h.order)


def npy_from_path(path, name: str) -> np.ndarray:
    """Memory-mapped .npy (read-only); nothing is read until used."""
    h = read_npy_header(path, name)
    if h.nbytes == 0:
        return np.zeros(h.shape, dtype=h.dtype)
    return np.memmap(path, dtype=h.dtype, mode="r", offset=h.offset, shape=h.shape, order=h.order)


# --------------------------------------------------------------------------------------------
# .npz
# --------------------------------------------------------------------------------------------

def _open_zip(data, name: str) -> zipfile.ZipFile:
    try:
        src = data if is_path(data) else io.BytesIO(data)
        return zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        first = head(data)
        looks = describe_magic(first)
        if looks == "empty":
            raise fail(name, "is empty.") from None
        if first.startswith(b"PK"):
            raise fail(name, "is a truncated or corrupt .npz (zip) archive.") from None
        raise fail(name, f"is not an .npz archive (it looks like {looks}).") from None


def _npz_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    out = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        out[key] = info
    return out


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


def _mapped_member(path: str, info: zipfile.ZipInfo, label: str) -> np.ndarray | None:
    """A stored (uncompressed) 2-D member memory-mapped in place, or None when it cannot be."""
    offset = _stored_member_offset(path, info)
    if offset is None or offset + info.file_size > os.path.getsize(path):
        return None
    with open(path, "rb") as fh:
        fh.seek(offset)
        first = fh.read(min(info.file_size, _HEAD_BYTES))
    h = parse_npy_header(first, label)
    _check_fits(h, info.file_size - h.offset, label)
    if math.prod(h.shape) == 0 or len(h.shape) != 2:
        return None
    return np.memmap(path, dtype=h.dtype, mode="r", offset=offset + h.offset, shape=h.shape, order=h.order)


def load_npy(data, name: str) -> Read:
    """An .npy: memory-mapped from a path, viewed (no copy) from bytes."""
    return Read(npy_from_path(data, name) if is_path(data) else npy_from_buffer(data, name), None, name)


def load_npz(data, name: str, key: str | None) -> Read:
    """The array ``key`` of an .npz (else ``embeddings``/``vectors``/``X``..., else the first)."""
    with _open_zip(data, name) as zf:
        members = _npz_members(zf)
        if not members:
            raise fail(name, "is an empty .npz archive (no arrays).")
        k = pick_key(list(members), key, name, "array")
        info = members[k]
        label = f"{name} (array {k!r})"
        if is_path(data):  # np.savez stores arrays uncompressed: memory-map them in place
            arr = _mapped_member(data, info, label)
            if arr is not None:
                return Read(arr, None, f"{name} [{k}]")
        limit = errors.MAX_INFLATED
        if info.file_size > limit:
            raise fail(label, f"would take {info.file_size / 2**30:.1f} GiB once uncompressed; at most "
                       f"{limit >> 30} GiB is accepted.", "Save it as a plain .npy instead.")
        try:
            raw = zf.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, struct.error) as exc:
            raise fail(name, f"is a truncated or corrupt .npz archive (array {k!r}: {exc}).") from None
    return Read(npy_from_buffer(raw, label), None, f"{name} [{k}]")


def npz_shapes(data, name: str) -> dict[str, tuple[int, ...]]:
    """``{array name: shape}`` of an .npz, reading only the headers (``()`` for an unreadable member)."""
    out = {}
    with _open_zip(data, name) as zf:
        for k, info in _npz_members(zf).items():
            try:
                with zf.open(info) as fh:
                    first = fh.read(_HEAD_BYTES)
                shape = parse_npy_header(first, f"{name} (array {k!r})").shape
            except EmbeddingFormatError:
                shape = ()
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                raise fail(name, "is a truncated or corrupt .npz archive.") from None
            out[k] = shape
    return out
