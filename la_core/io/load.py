"""The page loader: one file (and optional labels) to an :class:`Embeddings`, whatever its format.

The extension picks the reader (:mod:`~la_core.io.npy`, :mod:`~la_core.io.text`,
:mod:`~la_core.io.parquet`, :mod:`~la_core.io.safetensors`); every reader's result then goes
through the same :func:`~la_core.io.finish.finish` check.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from la_core.io.errors import (ACCEPTED, EMBEDDING_EXTENSIONS, EXTENSION_HINTS, EmbeddingFormatError, as_bytes,
                               ext, fail, friendly, head, is_path)
from la_core.io.finish import Read, finish
from la_core.io.metadata import load_metadata
from la_core.io.npy import load_npy, load_npz, npz_shapes
from la_core.io.parquet import load_parquet
from la_core.io.safetensors import load_safetensors, tensor_shapes
from la_core.io.text import read_text_table

__all__ = ["Embeddings", "list_tensors", "load_embeddings"]

_TEXT = (".csv", ".tsv", ".txt")


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


@friendly
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
    name = os.path.basename(str(filename if filename is not None else (data if is_path(data) else "upload")))
    if not is_path(data):
        data = as_bytes(data, name)
    kind = ext(name) if filename is not None or is_path(data) else ""
    if kind not in (".npz", ".safetensors"):
        kind = ".npz" if head(data, 2) == b"PK" else ".safetensors"
    return npz_shapes(data, name) if kind == ".npz" else tensor_shapes(data, name)


def _read(data, name: str, kind: str, key: str | None) -> Read:
    """The reader of this extension."""
    if kind == ".npy":
        return load_npy(data, name)
    if kind == ".npz":
        return load_npz(data, name, key)
    if kind == ".safetensors":
        return load_safetensors(data, name, key)
    if kind == ".parquet":
        return load_parquet(data, name, key)
    return read_text_table(data, name, kind)


@friendly
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
        filename = os.fspath(data) if is_path(data) else getattr(data, "name", None)
    if filename is None:
        raise EmbeddingFormatError(f"No file name given, so the format is unknown. {ACCEPTED}")
    name = os.path.basename(str(filename)) or str(filename)
    kind = ext(name)
    if kind not in EMBEDDING_EXTENSIONS:
        hint = EXTENSION_HINTS.get(kind, "")
        raise fail(name, f"has an unsupported extension {kind or '(none)'!r}.{' ' + hint if hint else ''}")
    if is_path(data):
        data = os.fspath(data)
        if not os.path.isfile(data):
            raise fail(name, "does not exist or is not a regular file.", "")
    else:
        data = as_bytes(data, name)
    try:
        arr, labels, source, note = _read(data, name, kind, key)
    except EmbeddingFormatError:
        raise
    except MemoryError:
        raise fail(name, "is too large to load into memory.", "Use a smaller file or a memory-mapped .npy.") from None
    except OSError as exc:  # never echo the server's full path
        raise fail(name, f"cannot be read ({exc.strerror or type(exc).__name__}).", "") from None
    except Exception as exc:  # noqa: BLE001 - never let a parser's internal error reach the user raw
        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise fail(name, f"could not be read ({type(exc).__name__}: {detail}).") from None
    # text and Parquet hold numbers of any width: converting them to float32 is expected, not news
    vectors, note = finish(arr, source, [note] if note else [], say_conversion=kind not in (*_TEXT, ".parquet"))
    if metadata is not None:
        meta, mnote = load_metadata(metadata, metadata_filename, n_rows=vectors.shape[0])
        if labels is not None:
            extra = [c for c in labels.columns if c not in meta.columns]
            meta = pd.concat([labels[extra].reset_index(drop=True), meta], axis=1) if extra else meta
        labels = meta
        note = "; ".join(filter(None, [note, mnote]))
    return Embeddings(vectors=vectors, labels=labels, source=source, note=note)
