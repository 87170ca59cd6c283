"""The loader's one error class, the words for what is accepted, and the input plumbing shared by
every reader (paths or in-memory uploads, first bytes, names).

Every reader raises :class:`EmbeddingFormatError` through :func:`fail`, so each message names the
file, says what was wrong and (by default) what is accepted; :func:`friendly` wraps the public entry
points so nothing else ever reaches the user.
"""
from __future__ import annotations

import functools
import os
import struct

__all__ = [
    "ACCEPTED", "EMBEDDING_EXTENSIONS", "EXTENSION_HINTS", "METADATA_EXTENSIONS", "PREFERRED_KEYS",
    "MAX_INFLATED", "EmbeddingFormatError", "as_bytes", "dedupe", "describe_magic", "ext", "fail",
    "friendly", "head", "is_path", "pick_key",
]

EMBEDDING_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".txt", ".parquet", ".safetensors")
METADATA_EXTENSIONS = (".tsv", ".csv", ".txt", ".parquet")
ACCEPTED = (
    "Accepted: a 2-D numeric matrix (one row per item, at least 2 rows and 2 columns, finite numbers) "
    "as .npy, .npz, .csv, .tsv, .txt, .parquet or .safetensors."
)
# array / tensor / column names taken as the vectors when a file holds several and none is chosen
PREFERRED_KEYS = ("embeddings", "embedding", "vectors", "vector", "X", "x", "emb")
# refuse compressed data that would inflate past 4 GiB in memory (zip bombs, all-zero Parquet columns);
# readers look it up on this module at call time, so a test can lower it
MAX_INFLATED = 4 << 30

_PICKLE_HINT = ("PyTorch/pickle files are never opened here because loading them can run code; "
                "save the matrix with numpy.save or safetensors instead.")
EXTENSION_HINTS = {
    **{e: _PICKLE_HINT for e in (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".joblib")},
    **{e: "Export the matrix with numpy.save (.npy) instead."
       for e in (".h5", ".hdf5", ".mat", ".json", ".xlsx", ".xls")},
    **{e: "Decompress it first." for e in (".gz", ".zip", ".bz2", ".xz", ".zst")},
}


class EmbeddingFormatError(ValueError):
    """A file could not be read as an embedding matrix (or its metadata); the message says why.

    Attributes
    ----------
    reason : str
        What was wrong, without the file name and the list of accepted formats (for callers, such as
        the batch reader, that word their own message around it).
    """

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = message if reason is None else reason


def fail(name: str, what: str, hint: str = ACCEPTED) -> EmbeddingFormatError:
    """The error for file ``name``: ``"<name>: <what> <hint>"``."""
    return EmbeddingFormatError(f"{name}: {what} {hint}".strip(), reason=what)


def friendly(fn):
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
# Input plumbing: a path, or the bytes of an upload
# --------------------------------------------------------------------------------------------

def is_path(data) -> bool:
    return isinstance(data, (str, os.PathLike))


def as_bytes(data, name: str) -> bytes | memoryview:
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


def ext(filename: str) -> str:
    """The lower-case extension, with its dot ('' when there is none)."""
    return os.path.splitext(str(filename))[1].lower()


def head(data, n: int = 16) -> bytes:
    """The first ``n`` bytes of a path or a buffer."""
    if is_path(data):
        with open(data, "rb") as fh:
            return fh.read(n)
    return bytes(data[:n])


def describe_magic(first: bytes) -> str:
    """What the first bytes of a file look like, to explain a wrong extension."""
    first = bytes(first[:16])
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
        if first.startswith(magic):
            return what
    if len(first) >= 9:
        (n,) = struct.unpack("<Q", first[:8])
        if 0 < n < 100_000_000 and first[8:9] == b"{":
            return "a .safetensors file"
    if not first:
        return "empty"
    try:
        first.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "binary data of an unknown kind"


def pick_key(keys: list[str], key: str | None, name: str, what: str) -> str:
    """``key`` when given (it must be one of ``keys``), else the first preferred name, else the first key."""
    if key is not None:
        if key not in keys:
            raise fail(name, f"has no {what} named {key!r}; it has: {', '.join(map(repr, keys)) or 'none'}.", "")
        return key
    for k in PREFERRED_KEYS:
        if k in keys:
            return k
    return keys[0]


def dedupe(names: list[str]) -> list[str]:
    """Column names made unique: a repeated ``n`` becomes ``n_1``, ``n_2``, ..."""
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
