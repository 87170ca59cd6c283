"""Labels for the vectors: a TensorFlow Projector ``metadata.tsv`` (one column: no header row;
several columns: a header row), a ``.csv`` with a header row, or a ``.parquet`` file, with exactly
one row per vector."""
from __future__ import annotations

import csv
import os

import pandas as pd

from la_core.checks import as_int
from la_core.io.errors import as_bytes, dedupe, describe_magic, ext, fail, friendly, is_path
from la_core.io.parquet import read_parquet_table

__all__ = ["load_metadata"]


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
    raise fail(name, "is not UTF-8 text.", "")  # pragma: no cover


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn columns that are all numbers into numeric columns (for colour scales)."""
    for c in frame.columns:
        col = frame[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            nums = pd.to_numeric(col, errors="coerce")
            if len(col) and nums.notna().all():
                frame[c] = nums
    return frame


def _text_labels(metadata, name: str, kind: str, n_rows: int | None) -> tuple[pd.DataFrame, str]:
    """Labels from a .tsv/.csv/.txt: one column (a header line only when there is one line too many), or a header row."""
    if is_path(metadata):
        with open(metadata, "rb") as fh:
            raw = fh.read()
    else:
        raw = as_bytes(metadata, name)
    if b"\x00" in bytes(raw[:4096]):
        raise fail(name, f"is not a text file of labels (it looks like {describe_magic(bytes(raw[:16]))}).",
                   "Accepted metadata: a .tsv (TensorFlow Projector metadata.tsv), .csv or .parquet "
                   "with one row per vector.")
    text, note = _decode_text(raw, name)
    lines = text.splitlines()
    while lines and not lines[-1].strip():  # trailing blank lines only: inner ones are (empty) labels
        lines.pop()
    if not lines:
        raise fail(name, "is empty (no labels).", "")
    rows = list(csv.reader(lines, delimiter=",")) if kind == ".csv" else [ln.split("\t") for ln in lines]
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
        frame = pd.DataFrame(body, columns=dedupe(header), dtype=object)
    return _typed(frame), note


@friendly
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
    name = os.path.basename(str(metadata_filename or (metadata if is_path(metadata) else "metadata")))
    if n_rows is not None:
        n_rows = as_int(n_rows, "n_rows", min_value=0)
    kind = ext(name)
    if kind == ".parquet":
        table = read_parquet_table(metadata if is_path(metadata) else as_bytes(metadata, name), name)
        frame, note = table.to_pandas().reset_index(drop=True), ""
        frame.columns = dedupe([str(c) for c in frame.columns])
    else:
        frame, note = _text_labels(metadata, name, kind, n_rows)
    if n_rows is not None and len(frame) != n_rows:
        raise fail(
            name,
            f"has {len(frame)} rows of labels but there are {n_rows} vectors; one label row per vector is needed "
            "(a single-column metadata.tsv has no header row; with several columns the first row is the header).",
            "",
        )
    return frame, note
