"""``.safetensors`` files: one 2-D tensor, read from the JSON header and the raw bytes (no code runs).

A path is memory-mapped; bytes are viewed without a copy; bfloat16 is widened to float32.
"""
from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

from la_core.io.errors import PREFERRED_KEYS, describe_magic, fail, head, is_path, pick_key
from la_core.io.finish import Read

__all__ = ["load_safetensors", "tensor_shapes"]

# a header longer than this is not a real file's (they are a few kilobytes)
_MAX_HEADER = 100_000_000

_ST_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": "bf16",
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


def _safetensors_header(data, name: str) -> tuple[dict, int, int]:
    """(header dict without __metadata__, data start offset, total size)."""
    if is_path(data):
        size = os.path.getsize(data)
        with open(data, "rb") as fh:
            first = fh.read(8)
            hlen = struct.unpack("<Q", first)[0] if len(first) == 8 else -1
            raw = fh.read(hlen) if 0 <= hlen <= _MAX_HEADER else b""
    else:
        size = len(data)
        first = bytes(data[:8])
        hlen = struct.unpack("<Q", first)[0] if len(first) == 8 else -1
        raw = bytes(data[8:8 + hlen]) if 0 <= hlen <= _MAX_HEADER else b""
    if size == 0:
        raise fail(name, "is empty.")
    if hlen < 0 or hlen > _MAX_HEADER or 8 + hlen > size or len(raw) != hlen:
        looks = describe_magic(head(data))
        raise fail(name, f"is not a valid .safetensors file (truncated or corrupt header; it looks like {looks}).")
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise fail(name, "is not a valid .safetensors file (its header is not JSON).") from None
    header.pop("__metadata__", None)
    return header, 8 + hlen, size


def _st_entry(info, tname: str, name: str) -> tuple[str, tuple[int, ...], int, int]:
    try:
        dt = str(info["dtype"])
        shape = tuple(int(s) for s in info["shape"])
        a, b = (int(v) for v in info["data_offsets"])
    except (KeyError, TypeError, ValueError):
        raise fail(name, f"is corrupt (tensor {tname!r} has a malformed entry).") from None
    if any(s < 0 or s >= 1 << 48 for s in shape):
        raise fail(name, f"is corrupt (tensor {tname!r} has an impossible shape {shape}).")
    return dt, shape, a, b


def tensor_shapes(data, name: str) -> dict[str, tuple[int, ...]]:
    """``{tensor name: shape}`` in file order, from the header only."""
    header, _, _ = _safetensors_header(data, name)
    return {k: _st_entry(v, k, name)[1] for k, v in header.items()}


def load_safetensors(data, name: str, key: str | None) -> Read:
    """The tensor ``key`` (else a preferred name among the 2-D ones, else the first 2-D one) and its name."""
    header, start, size = _safetensors_header(data, name)
    if not header:
        raise fail(name, "holds no tensors.")
    entries = {k: _st_entry(v, k, name) for k, v in header.items()}
    if key is None:
        two_d = [k for k, e in entries.items() if len(e[1]) == 2]
        if not two_d:
            shapes = ", ".join(f"{k} {list(e[1])}" for k, e in list(entries.items())[:8])
            raise fail(name, f"holds no 2-D tensor (tensors: {shapes}).")
        k = next((p for p in PREFERRED_KEYS if p in two_d), two_d[0])
    else:
        k = pick_key(list(entries), key, name, "tensor")
    dt, shape, a, b = entries[k]
    if dt not in _ST_DTYPES:
        raise fail(name, f"tensor {k!r} has dtype {dt}, which is not supported "
                   "(use F32, F16, BF16, F64 or integers).", "")
    np_dt = np.dtype(np.uint16) if _ST_DTYPES[dt] == "bf16" else np.dtype(_ST_DTYPES[dt])
    count = math.prod(shape)  # exact Python int: no overflow
    if b < a or a < 0 or start + b > size or b - a != count * np_dt.itemsize:
        raise fail(name, f"is truncated or corrupt (tensor {k!r} does not fit in the file).")
    np_dt = np_dt.newbyteorder("<")
    if is_path(data):
        arr = np.memmap(data, dtype=np_dt, mode="r", offset=start + a, shape=shape) if count else np.zeros(shape, np_dt)
    else:
        arr = np.frombuffer(data, dtype=np_dt, count=count, offset=start + a).reshape(shape)
    if dt == "BF16":  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return Read(arr, None, f"{name} [{k}]")
