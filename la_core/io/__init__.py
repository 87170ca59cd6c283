"""Loading embedding matrices (and their labels) from user files, safely.

Accepted formats (chosen by the file name's extension), one module each:

- ``.npy``: one 2-D numeric array (never unpickled; a path is memory-mapped);
- ``.npz``: an archive of arrays; ``key`` picks one, else ``embeddings``/``vectors``/``X``,
  else the first array (both in :mod:`la_core.io.npy`);
- ``.csv`` / ``.tsv`` / ``.txt``: numbers, one row per item; a header row is detected
  (TensorFlow Projector's ``vectors.tsv`` has none); non-numeric leading/trailing columns
  (e.g. ``word,v1,v2,...``) become labels (:mod:`la_core.io.text`);
- ``.parquet``: a list/array column of vectors, or else the numeric columns; the other
  columns become labels (:mod:`la_core.io.parquet`, whose rule the batch reader
  :func:`la_core.pca_dask.read_shards` shares);
- ``.safetensors``: one 2-D tensor (``key``, else the only/first 2-D tensor;
  :mod:`la_core.io.safetensors`).

Optional metadata (labels, :mod:`la_core.io.metadata`): a TensorFlow Projector ``metadata.tsv``
(one column: no header row; several columns: a header row), a ``.csv`` with a header row, or a
``.parquet`` file, with exactly one row per vector. The data folder (:mod:`la_core.io.folder`) is
listed and opened without ever leaving it.

Everything that is not a finite 2-D numeric matrix with at least 2 rows and 2 columns raises
:class:`EmbeddingFormatError` (a ``ValueError``) whose message names the file, says what was
wrong and what is accepted (:mod:`la_core.io.errors`, :mod:`la_core.io.finish`). Nothing is ever
unpickled or executed.

This package is pure: no streamlit, no plotting.
"""
from la_core.io.errors import ACCEPTED, EMBEDDING_EXTENSIONS, METADATA_EXTENSIONS, EmbeddingFormatError
from la_core.io.folder import list_data_files, open_data_file
from la_core.io.load import Embeddings, list_tensors, load_embeddings
from la_core.io.metadata import load_metadata

__all__ = [
    "ACCEPTED",
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
