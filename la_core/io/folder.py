"""The server-side data folder (``LA_LENS_DATA_DIR``): listing its embedding files and opening one.

Containment rules: a name is relative, has no ``..`` component, and resolves (links followed)
inside the folder to a regular file; anything else is refused before a byte is read. Hidden files
and folders are not listed.
"""
from __future__ import annotations

import os

from la_core.checks import as_int
from la_core.paths import inside, resolve_in_root, served_root
from la_core.io.errors import EMBEDDING_EXTENSIONS, EmbeddingFormatError, ext, friendly
from la_core.io.load import Embeddings, load_embeddings

__all__ = ["list_data_files", "open_data_file"]


def _is_metadata_name(rel: str) -> bool:
    base = os.path.basename(rel).lower()
    return ext(base) in (".tsv", ".csv", ".txt") and "metadata" in base


@friendly
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
    limit = as_int(limit, "limit", min_value=1)
    root_real = served_root(root, "data folder", EmbeddingFormatError)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root_real, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith(".") or ext(fn) not in EMBEDDING_EXTENSIONS:
                continue
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root_real).replace(os.sep, "/")
            if _is_metadata_name(rel):
                continue
            real = os.path.realpath(full)
            if not inside(root_real, real) or not os.path.isfile(real):
                continue
            out.append(rel)
            if len(out) >= limit:
                return sorted(out)
    return sorted(out)


def _resolve_in_root(root, name: str) -> str:
    return resolve_in_root(root, name, "data folder", error=EmbeddingFormatError)


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


@friendly
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
