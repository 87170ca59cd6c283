"""Parquet files: which columns are the vectors, and reading them.

:func:`parquet_layout` is the one rule that decides, from the schema alone, which columns hold the
vectors and which are labels. Both the page loader (:func:`load_parquet`, the whole file) and the
batch reader (:mod:`la_core.pca_dask`, one row group at a time) call it and build the matrix with
:func:`vectors_from_table`, so a file one of them opens, the other opens too, with the same rows:

- a list / large list / fixed-size list column of numbers holds one vector per row; when there are
  several, ``key`` picks one, else ``embeddings``/``embedding``/``vectors``/... else the first;
- else the numeric columns are the dimensions: the float (and decimal) columns when there are at
  least two (integer columns beside them are ids, classes or counts, hence labels), else every
  integer and float column;
- every other column (text, lists of strings, ids...) is a label.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from la_core.io import errors
from la_core.io.errors import EmbeddingFormatError, dedupe, describe_magic, fail, head, is_path, pick_key
from la_core.io.finish import Read

__all__ = ["ParquetLayout", "label_frame", "load_parquet", "parquet_layout", "read_parquet_table",
           "vectors_from_table"]


class ParquetLayout(NamedTuple):
    """Which columns of a Parquet schema are the vectors and which are labels."""

    vectors: tuple[str, ...]  # one list column, or the numeric columns side by side
    labels: tuple[str, ...]   # every other column, in schema order
    is_list: bool             # True: ``vectors`` is one list column of vectors

    @property
    def source(self) -> str:
        """How the vectors were found, for the user: the list column, or "3 numeric columns"."""
        if self.is_list:
            return self.vectors[0]
        n = len(self.vectors)
        return f"{n} numeric column{'s' if n != 1 else ''}"


def _is_vector_list(typ) -> bool:
    import pyarrow as pa

    return ((pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ))
            and (pa.types.is_floating(typ.value_type) or pa.types.is_integer(typ.value_type)))


def _is_number(typ) -> bool:
    import pyarrow as pa

    return (pa.types.is_floating(typ) or pa.types.is_decimal(typ) or pa.types.is_integer(typ)
            or pa.types.is_boolean(typ))


def parquet_layout(schema, key: str | None, name: str) -> ParquetLayout:
    """Decide which columns of ``schema`` hold the vectors (see the module docstring for the rule).

    Parameters
    ----------
    schema : pyarrow.Schema
        The file's Arrow schema (``ParquetFile.schema_arrow`` or ``Table.schema``).
    key : str, optional
        The vector column: a list column, or one numeric column.
    name : str
        The file name used in error messages.

    Returns
    -------
    ParquetLayout

    Raises
    ------
    EmbeddingFormatError
        No column ``key``, ``key`` not numeric, or no list column of numbers and no numeric column.
    """
    import pyarrow as pa

    names = list(schema.names)
    if key is not None and key not in names:
        raise fail(name, f"has no column named {key!r}; it has: {', '.join(map(repr, names))}.", "")
    list_cols = [f.name for f in schema if _is_vector_list(f.type)]
    if (key is not None and key in list_cols) or (key is None and list_cols):
        vec = [key if key is not None else pick_key(list_cols, None, name, "column")]
    elif key is not None:
        if not _is_number(schema.field(key).type):
            raise fail(name, f"column {key!r} is not numeric.", "")
        vec = [key]
    else:
        floats = [f.name for f in schema if pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)]
        ints = [f.name for f in schema if pa.types.is_integer(f.type) and not f.name.startswith("__index_level_")]
        vec = floats if len(floats) >= 2 else [c for c in names if c in floats or c in ints]
        if not vec:
            raise fail(name, "has no list/array column of vectors and no numeric columns (columns: "
                       f"{', '.join(map(repr, names[:12]))}).")
    return ParquetLayout(tuple(vec), tuple(c for c in names if c not in vec), bool(list_cols) and vec[0] in list_cols)


def _column_numbers(table, c: str, name: str) -> np.ndarray:
    """One numeric column as a NumPy array (decimals as float64); nulls are refused."""
    import pyarrow as pa

    col = table.column(c)
    if col.null_count:
        raise fail(name, f"column {c!r} has {col.null_count} empty (null) values; "
                   "only finite numbers are accepted.", "")
    if pa.types.is_decimal(col.type):
        col = col.cast(pa.float64())
    return np.asarray(col.to_numpy())


def vectors_from_table(table, layout: ParquetLayout, name: str, first_row: int = 0) -> np.ndarray:
    """The ``(n, d)`` matrix of ``layout.vectors`` in ``table``, in the columns' own numeric dtype.

    Parameters
    ----------
    table : pyarrow.Table
        The whole file or one row group; it must hold the vector columns.
    layout : ParquetLayout
        From :func:`parquet_layout`.
    name : str
        The file name used in error messages.
    first_row : int, default 0
        Row number of the table's first row in the file (a row group's offset), for messages.

    Raises
    ------
    EmbeddingFormatError
        Null vectors or values, or list vectors of different lengths.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not layout.is_list:
        return np.column_stack([_column_numbers(table, c, name) for c in layout.vectors])
    c = layout.vectors[0]
    col = table.column(c).combine_chunks()
    n = len(col)
    if col.null_count:
        raise fail(name, f"column {c!r} has {col.null_count} empty (null) vectors.", "")
    if pa.types.is_fixed_size_list(col.type):
        d = col.type.list_size
    else:
        lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
        if n and (lengths != lengths[0]).any():
            i = int(np.argmax(lengths != lengths[0]))
            raise fail(name, f"column {c!r} holds vectors of different lengths (row {first_row + 1} has "
                       f"{int(lengths[0])} values, row {first_row + i + 1} has {int(lengths[i])}).", "")
        d = int(lengths[0]) if n else 0
    values = col.flatten()
    if values.null_count:
        raise fail(name, f"column {c!r} has missing (null) numbers inside its vectors.", "")
    flat = values.to_numpy(zero_copy_only=False)
    return flat.reshape(n, d) if n and d else flat.reshape(n, d if n else 0)


def label_frame(table) -> pd.DataFrame | None:
    """The label columns of ``table`` as a DataFrame (index ``0..n-1``), or None when there are none.

    A pandas index saved with the frame (e.g. words) comes back as a column, not as the index.
    """
    if table.num_columns == 0:
        return None
    labels = table.to_pandas()
    if isinstance(labels.index, pd.RangeIndex):
        labels = labels.reset_index(drop=True)
    else:
        labels = labels.reset_index()
    labels.columns = dedupe([str(c) for c in labels.columns])
    return None if labels.shape[1] == 0 else labels


def read_parquet_table(data, name: str):
    """The whole file as a ``pyarrow.Table`` (memory-mapped from a path), after a size check on the footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = head(data, 4)
    if not first:
        raise fail(name, "is empty.")
    try:
        src = data if is_path(data) else pa.BufferReader(data)
        meta = pq.ParquetFile(src, memory_map=is_path(data)).metadata
        nbytes = values = 0
        for g in range(meta.num_row_groups):  # decoded size, from the footer, before decoding anything
            rg = meta.row_group(g)
            for c in range(meta.num_columns):
                col = rg.column(c)
                values += col.num_values
                nbytes += col.num_values * (4 if col.physical_type in ("FLOAT", "INT32", "BOOLEAN") else 8)
        limit = errors.MAX_INFLATED
        if nbytes > limit:
            raise fail(name, f"holds {values:,} values (about {nbytes / 2**30:.1f} GiB in memory); at most "
                       f"{limit >> 30} GiB is accepted.", "Save the vectors as a .npy in the data folder instead.")
        if is_path(data):
            return pq.read_table(data, memory_map=True)
        return pq.read_table(pa.BufferReader(data))
    except EmbeddingFormatError:
        raise
    except (pa.ArrowException, OSError, ValueError, IndexError, TypeError, KeyError) as exc:
        if first == b"PAR1":
            raise fail(name, f"is a truncated or corrupt Parquet file ({str(exc).splitlines()[0][:120]}).") from None
        raise fail(name, f"is not a Parquet file (it looks like {describe_magic(head(data))}).") from None


def load_parquet(data, name: str, key: str | None) -> Read:
    """The vectors and the label columns (or None) of a whole Parquet file."""
    table = read_parquet_table(data, name)
    layout = parquet_layout(table.schema, key, name)
    arr = vectors_from_table(table, layout, name)
    labels = label_frame(table.select(list(layout.labels))) if layout.labels else None
    return Read(arr, labels, f"{name} [{layout.source}]")
