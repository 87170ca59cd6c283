"""PCA moments of embedding sets larger than one machine, on Dask.

PCA needs only three numbers per dataset: the row count ``n``, the column sums ``Σx`` (d,) and the
uncentred Gram matrix ``XᵀX`` (d, d). Each is a sum over rows, so every block of rows is reduced on the
worker that holds it, the (d, d) partial sums are added in a tree, and the client does one ``eigh``.

Precision. A block's Gram is taken around the block's own mean,
``G_b = (X_b - μ_b)ᵀ(X_b - μ_b) + n_b μ_b μ_bᵀ``: the first term (float32 ``syrk`` on the CPU, float64 on
CUDA) carries no cancellation, the second is exact in float64, so the float64 sum of blocks is the
uncentred Gram to float64 precision even when the mean is large compared with the spread, and
centring it later (``G - n μ μᵀ``) loses only float64 digits. Plain float32 ``X_bᵀX_b`` would lose
about ``|μ|²/σ²`` times float32's 6e-8: measured 2e-4 relative error on the explained variance ratios
for data whose mean is 33σ of its widest axis, against 5e-8 with the per-block centring
(``tests/test_pca_dask.py``). So the CPU keeps float32 products, which are faster than float64 ones
and, centred this way, cost nothing in accuracy.

Reading: :func:`read_shards` turns a folder or glob of ``.npy`` shards (memory-mapped on the worker)
and Parquet files with a vector column (one block per row group, read with pyarrow on the worker) into
a lazy ``dask.array.Array``; nothing is loaded on the client but file headers (and Parquet metadata
columns, which are small). The files are read by :mod:`la_core.io`'s readers (its ``.npy`` header
parser, its Parquet layout rule), so a file the PCA page opens, the batch command opens too.
"""
from __future__ import annotations

import glob as _glob
import os
import sys
from pathlib import Path

import numpy as np

from la_core.checks import as_float_array, as_int
from la_core.io.errors import EmbeddingFormatError
from la_core.io.npy import npy_from_path, read_npy_header
from la_core.io.parquet import ParquetLayout, label_frame, parquet_layout, vectors_from_table

__all__ = ["BLOCK_BYTES", "SHARD_EXTENSIONS", "finish_moments", "moments", "moments_delayed", "read_shards",
           "transform_blocks"]

# target bytes per dask block when splitting a large .npy shard: a worker holds a few blocks at once
# (queued, loading, reducing), so blocks stay small next to its memory limit
BLOCK_BYTES = 32 * 2**20
_SYRK_ROWS = 16384                # rows per float32 product inside one block (bounded temporaries)


# ------------------------------------------------------------------------------------------ moments
def _worker_has_cuda() -> bool:
    """CUDA usable in this process, without importing torch (seconds) on machines with no NVIDIA driver."""
    if os.environ.get("LA_DEVICE", "").strip().lower() == "cpu":
        return False
    if "torch" not in sys.modules and not os.path.exists("/proc/driver/nvidia/version"):
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:                                                  # pragma: no cover
        return False


def _block_moments(block) -> tuple[int, np.ndarray, np.ndarray]:
    """(n_b, Σx, XᵀX) of one block, in float64, computed where the block lives."""
    block = np.asarray(block)
    if block.ndim != 2:
        raise ValueError(f"every dask block must be 2-D (rows, features); got shape {block.shape}.")
    n, d = block.shape
    if n == 0:
        return 0, np.zeros(d), np.zeros((d, d))
    if block.dtype not in (np.float32, np.float64):
        block = block.astype(np.float64 if block.dtype.itemsize > 4 else np.float32)
    if _worker_has_cuda():
        import torch

        c = torch.as_tensor(np.ascontiguousarray(block)).to("cuda").to(torch.float64)  # (B, d)
        mu = c.mean(0)                                                   # (d,)
        cc = c - mu                                                      # (B, d)
        G = cc.T @ cc + n * torch.outer(mu, mu)                          # (d, d)
        return n, (mu * n).cpu().numpy(), G.cpu().numpy()
    mu = block.mean(0, dtype=np.float64)                                 # (d,) float64 block mean
    mu_low = mu.astype(block.dtype)
    G = np.zeros((d, d), dtype=np.float64)                               # (d, d)
    resid = np.zeros(d, dtype=np.float64)                                # (d,) Σ(x - μ_low) ≈ 0
    buf = np.empty((min(_SYRK_ROWS, n), d), dtype=block.dtype)           # (S, d) reused
    for i in range(0, n, _SYRK_ROWS):
        c = buf[: min(_SYRK_ROWS, n - i)]
        np.subtract(block[i:i + _SYRK_ROWS], mu_low, out=c)              # (S, d)
        G += c.T @ c                                                     # (d, d) syrk in block dtype
        resid += c.sum(0, dtype=np.float64)
    # exact re-centring on the float64 mean: Σ(x-m)(x-m)ᵀ with x-m = (x-m_low) - δ, δ = m - m_low
    delta = mu - mu_low.astype(np.float64)                               # (d,)
    G -= np.outer(resid, delta) + np.outer(delta, resid) - n * np.outer(delta, delta)
    G += n * np.outer(mu, mu)                                            # back to uncentred XᵀX
    return n, mu * n, G


def _add(a, b):
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _as_dask_matrix(X, name: str = "X"):
    import dask.array as da

    if not isinstance(X, da.Array):
        raise ValueError(f"{name} must be a dask.array.Array; got {type(X).__name__} "
                         "(pass NumPy arrays to la_core.pca.PCA directly).")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {X.ndim}-D with shape {X.shape}.")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold real numbers; got dtype {X.dtype}.")
    if not np.isnan(X.shape[1]) and X.shape[1] < 1:
        raise ValueError(f"{name} needs at least one column; got shape {X.shape}.")
    if len(X.chunks[1]) > 1:                                             # whole rows per block
        X = X.rechunk({1: -1})
    return X


def moments_delayed(X, split_every: int = 8):
    """The lazy ``(n, Σx, XᵀX)`` of a dask array: one task per row block, then a tree of additions.

    Parameters
    ----------
    X : dask.array.Array, shape (n, d)
    split_every : int, default 8
        Fan-in of the reduction tree (how many partial Grams one addition task takes), at least 2.

    Returns
    -------
    dask.delayed.Delayed
        Computes to the tuple returned by :func:`moments`.
    """
    from dask import delayed

    X = _as_dask_matrix(X)
    split_every = as_int(split_every, "split_every", min_value=2)
    parts = [delayed(_block_moments, pure=True)(b) for b in X.to_delayed().ravel()]
    if not parts:
        raise ValueError(f"X has no rows; got shape {X.shape}.")

    def _sum(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = _add(out, x)
        return out

    while len(parts) > 1:                                                # tree reduction
        parts = [delayed(_sum, pure=True)(*parts[i:i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def moments(X, split_every: int = 8) -> tuple[int, np.ndarray, np.ndarray]:
    """Row count, column sums and uncentred Gram matrix of a dask array, computed blockwise.

    Each row block is reduced on its worker (torch float64 on the worker's GPU when it has CUDA, else
    NumPy float32 products around the block mean, accumulated in float64), the partial sums are added
    in a tree, and only the (d,) and (d, d) results come back to the client. Uses the active
    ``dask.distributed.Client`` when there is one, else dask's default scheduler.

    Parameters
    ----------
    X : dask.array.Array, shape (n, d)
        Real-valued; chunks along columns are merged so every block holds whole rows.
    split_every : int, default 8
        Fan-in of the reduction tree.

    Returns
    -------
    n_samples : int
    col_sum : numpy.ndarray, shape (d,), float64
    gram : numpy.ndarray, shape (d, d), float64
        ``XᵀX`` (not centred).

    Raises
    ------
    ValueError
        If ``X`` is not a 2-D real dask array, has no rows, or contains NaN/inf.
    """
    n, s, G = moments_delayed(X, split_every).compute()
    return finish_moments(n, s, G)


def finish_moments(n, s, G) -> tuple[int, np.ndarray, np.ndarray]:
    """Check the reduced moments (finite, at least one row) and return them as plain types."""
    n = int(n)
    if n < 1:
        raise ValueError("X has no rows; PCA needs at least one.")
    s, G = np.asarray(s, np.float64), np.asarray(G, np.float64)
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(G))):
        raise ValueError("X contains NaN or infinite values (or values so large that their squares overflow); "
                         "only finite numbers are accepted.")
    return n, s, G


# ---------------------------------------------------------------------------------------- transform
def _project(block, W, offset):
    block = np.asarray(block)
    if block.dtype not in (np.float32, np.float64):
        block = block.astype(np.float32)
    return block @ W.astype(block.dtype) - offset.astype(block.dtype)   # (B, k)


def transform_blocks(X, mean, components):
    """Lazy blockwise ``(X - mean) @ componentsᵀ`` of a dask array.

    Parameters
    ----------
    X : dask.array.Array, shape (n, d)
    mean : array_like, shape (d,)
    components : array_like, shape (k, d)

    Returns
    -------
    dask.array.Array, shape (n, k)
        Same row chunks as ``X``; float32 for float32 input, float64 for float64.
    """
    X = _as_dask_matrix(X)
    comps = as_float_array(components, "components", ndim=2)            # (k, d)
    mean = as_float_array(mean, "mean", ndim=1)                          # (d,)
    if mean.shape != (comps.shape[1],):
        raise ValueError(f"components must be (k, d) and mean (d,); got {comps.shape} and {mean.shape}.")
    if not np.isnan(X.shape[1]) and X.shape[1] != comps.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the components have {comps.shape[1]}.")
    W = comps.T                                                          # (d, k)
    offset = mean @ W                                                    # (k,)
    out_dtype = np.float64 if X.dtype == np.float64 else np.float32
    return X.map_blocks(_project, W, offset, dtype=out_dtype, chunks=(X.chunks[0], (comps.shape[0],)))


# ------------------------------------------------------------------------------------------ reading
SHARD_EXTENSIONS = (".npy", ".parquet")


def _expand(paths_or_glob) -> list[str]:
    items = [paths_or_glob] if isinstance(paths_or_glob, (str, os.PathLike)) else list(paths_or_glob)
    if not items:
        raise ValueError("no input given; pass a folder, a glob such as 'shards/*.npy', or a list of files.")
    files: list[str] = []
    for item in items:
        p = os.fspath(item)
        if os.path.isdir(p):
            found = sorted(str(f) for f in Path(p).iterdir() if f.suffix.lower() in SHARD_EXTENSIONS and f.is_file())
            if not found:
                raise ValueError(f"folder {p!r} holds no .npy or .parquet files.")
            files += found
        elif any(ch in p for ch in "*?["):
            found = sorted(f for f in _glob.glob(p) if os.path.isfile(f))
            if not found:
                raise ValueError(f"glob {p!r} matches no files.")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise ValueError(f"{p!r} is neither a file, a folder nor a glob that matches files.")
    bad = [f for f in files if Path(f).suffix.lower() not in SHARD_EXTENSIONS]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a shard format; accepted: .npy (2-D numeric) and .parquet "
                         "(a list column of vectors, or numeric columns).")
    return files


def _npy_rows(path: str, start: int, stop: int) -> np.ndarray:
    mm = npy_from_path(path, path)                                       # (n, d) memory map
    out = np.array(mm[start:stop])                                       # copy just these rows
    del mm
    return out


def _npy_blocks(path: str, block_bytes: int):
    import dask.array as da
    from dask import delayed

    try:
        h = read_npy_header(path)                                        # the page loader's parser and checks
    except EmbeddingFormatError as exc:
        raise ValueError(f"{path!r} is not a readable .npy file ({exc.reason.rstrip('.')}).") from None
    shape, dtype = h.shape, h.dtype
    if len(shape) != 2 or not (np.issubdtype(dtype, np.number) or dtype == bool):
        raise ValueError(f"{path!r} must hold a 2-D numeric array (rows, features); got shape {shape}, dtype {dtype}.")
    if np.issubdtype(dtype, np.complexfloating):
        raise ValueError(f"{path!r} holds complex numbers; only real embeddings are accepted.")
    n, d = shape
    rows = n if h.fortran_order else max(1, block_bytes // max(1, d * dtype.itemsize))
    tag = _file_token(path)
    return d, dtype, [
        da.from_delayed(delayed(_npy_rows, name=f"npy-rows-{tag}-{i}-{rows}")(path, i, min(n, i + rows)),
                        shape=(min(n, i + rows) - i, d), dtype=dtype)
        for i in range(0, n, rows)
    ]


def _file_token(path: str) -> str:
    """Task-name token of a file's identity and version (path, size, mtime): rewritten files get new keys."""
    from dask.base import tokenize

    st = os.stat(path)
    return tokenize(os.path.abspath(path), st.st_size, st.st_mtime_ns)


def _parquet_layout(path: str, column: str | None):
    """The file and its layout, decided by the page loader's rule (:func:`la_core.io.parquet.parquet_layout`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path!r} is not a readable Parquet file ({exc}).") from None
    return pf, parquet_layout(pf.schema_arrow, column, path)


def _parquet_rows(path: str, group: int, layout: ParquetLayout, first_row: int = 0, d: int | None = None,
                  limit: int | None = None) -> np.ndarray:
    """The vectors of one row group (its first ``limit`` rows when given), float32 unless float64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = list(layout.vectors)
    if limit is None:
        table = pf.read_row_group(group, columns=cols)
    else:
        table = pa.Table.from_batches([next(pf.iter_batches(batch_size=limit, row_groups=[group], columns=cols))])
    arr = vectors_from_table(table, layout, path, first_row=first_row)   # (rows, d)
    if d is not None and arr.shape[1] != d:                              # the first row group said d
        raise ValueError(f"{path}: column {cols[0]!r} holds vectors of different lengths (row 1 has {d} values, "
                         f"row {first_row + 1} has {arr.shape[1]}).")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    return arr


def _parquet_blocks(path: str, column: str | None):
    import dask.array as da
    from dask import delayed

    pf, layout = _parquet_layout(path, column)
    meta_cols = list(layout.labels)
    md = pf.metadata
    if md.num_row_groups == 0 or md.num_rows == 0:
        return None, None, [], meta_cols
    first = _parquet_rows(path, 0, layout, limit=1)                     # one row: d and dtype
    d, dtype = first.shape[1], first.dtype
    blocks, tag, start = [], _file_token(path), 0
    for g in range(md.num_row_groups):
        n = md.row_group(g).num_rows
        if n:
            blocks.append(da.from_delayed(
                delayed(_parquet_rows, name=f"parquet-rows-{tag}-{g}")(path, g, layout, start, d),
                shape=(n, d), dtype=dtype))
        start += n
    return d, dtype, blocks, meta_cols


def read_shards(paths_or_glob, column: str | None = None, block_bytes: int = BLOCK_BYTES):
    """A lazy dask array over ``.npy`` shards and Parquet files, plus their metadata columns.

    Parameters
    ----------
    paths_or_glob : str, path or list of them
        A folder (every ``.npy`` and ``.parquet`` in it, sorted by name), a glob such as
        ``"shards/*.npy"``, a file, or a list of any of these. Shards are stacked in that order.
    column : str, optional
        The Parquet vector column (a list column, or one numeric column). By default the page
        loader's rule decides (:func:`la_core.io.parquet.parquet_layout`): the list column of
        numbers (``embeddings``/``embedding``/``vectors``/... when there are several, else the
        first), or else the numeric columns; every other column is metadata.
    block_bytes : int
        Large ``.npy`` shards are split into row blocks of about this many bytes (at least 1).

    Returns
    -------
    X : dask.array.Array, shape (n, d)
        One chunk per ``.npy`` row block or Parquet row group; each is read on the worker that
        needs it (``.npy`` through a memory map, Parquet with pyarrow), nothing on the client.
    metadata : pandas.DataFrame or None
        The non-vector Parquet columns, row-aligned with ``X`` (missing values for ``.npy`` rows);
        None when no file has any.

    Raises
    ------
    ValueError
        If nothing matches, a file is not a 2-D numeric shard, or the shards disagree on d.
    """
    import dask.array as da
    import pandas as pd

    block_bytes = as_int(block_bytes, "block_bytes", min_value=1)
    files = _expand(paths_or_glob)
    blocks, widths, metas, any_meta = [], set(), [], False
    for f in files:
        if f.lower().endswith(".npy"):
            d, _, bl = _npy_blocks(f, block_bytes)
            metas.append((f, None, sum(b.shape[0] for b in bl)))
        else:
            d, _, bl, meta_cols = _parquet_blocks(f, column)
            if meta_cols:
                any_meta = True
            metas.append((f, meta_cols, sum(b.shape[0] for b in bl)))
        if bl:
            widths.add((d, f))
            blocks += bl
    if not blocks:
        raise ValueError(f"the inputs ({len(files)} file(s)) hold no rows.")
    if len({w for w, _ in widths}) > 1:
        seen = sorted(widths)
        raise ValueError(f"shards disagree on the number of features: {seen[0][1]!r} has {seen[0][0]}, "
                         f"{seen[-1][1]!r} has {seen[-1][0]}; every shard needs the same d.")
    X = da.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float32)
    metadata = None
    if any_meta:
        import pyarrow.parquet as pq

        frames = []
        for f, cols, n in metas:
            if cols:
                frames.append(label_frame(pq.read_table(f, columns=cols)))  # as the page loader's labels
            elif n:
                frames.append(pd.DataFrame(index=pd.RangeIndex(n)))
        metadata = pd.concat(frames, ignore_index=True) if frames else None
    return X, metadata
