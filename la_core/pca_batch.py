"""Batch PCA on a Dask cluster: ``python -m la_core.pca_batch INPUT... --components 3 --out coords.parquet``.

Fits :class:`la_core.pca.PCA` on ``.npy`` shards and Parquet files read lazily by
:func:`la_core.pca_dask.read_shards`, on an existing ``dask.distributed`` scheduler (``--scheduler
tcp://host:8786``) or a local cluster (default), then writes the coordinates PC1..PCk (float32) plus any
metadata columns to Parquet. The fit summary travels in the file's schema metadata under the key
``la_lens_pca`` (JSON), so :func:`read_coordinates` — and the PCA page — can show the scree and a sample
of a job of any size.

The command lives here only: :mod:`la_core.pca` does not import this module, so the two do not
depend on each other in a cycle.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from la_core.checks import as_int
from la_core.pca import PCA

__all__ = ["META_KEY", "BatchResult", "read_coordinates", "main"]

META_KEY = b"la_lens_pca"
MAX_STORED_COMPONENTS = 4096 * 16      # store components_ in the metadata when k*d is at most this


@dataclass
class BatchResult:
    """Coordinates written by a batch PCA job.

    Attributes
    ----------
    coords : pandas.DataFrame
        Columns ``PC1..PCk`` (float32) and the metadata columns of the input.
    meta : dict
        ``explained_variance_ratio``, ``explained_variance``, ``n_samples``, ``n_features``, ``center``,
        ``n_components`` and, when small enough, ``components`` (k × d) and ``mean`` (d).
    """

    coords: object
    meta: dict = field(default_factory=dict)

    @property
    def pc_columns(self) -> list[str]:
        return [c for c in self.coords.columns if isinstance(c, str) and c.startswith("PC") and c[2:].isdigit()]

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        return np.asarray(self.meta.get("explained_variance_ratio", []), dtype=np.float64)

    @property
    def components(self) -> np.ndarray | None:
        c = self.meta.get("components")
        return None if c is None else np.asarray(c, dtype=np.float64)


def read_coordinates(data_or_path) -> BatchResult | None:
    """Open a Parquet file written by a batch job; None for anything else.

    Parameters
    ----------
    data_or_path : str, path, bytes, file-like (e.g. a Streamlit upload)

    Returns
    -------
    BatchResult or None
        None when the data is not Parquet or has no ``la_lens_pca`` schema metadata, so it is safe to call
        on any upload.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = data_or_path
    if isinstance(src, (bytes, bytearray, memoryview)):
        src = pa.BufferReader(bytes(src))
    elif hasattr(src, "getvalue"):
        src = pa.BufferReader(src.getvalue())
    elif hasattr(src, "read") and not isinstance(src, (str, os.PathLike)):
        src = pa.BufferReader(src.read())
    try:
        pf = pq.ParquetFile(src)
        raw = (pf.schema_arrow.metadata or {}).get(META_KEY)
        if raw is None:
            return None
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            return None
        table = pf.read()
    except (pa.ArrowException, OSError, ValueError, TypeError):
        return None
    coords = table.replace_schema_metadata(None).to_pandas()
    return BatchResult(coords=coords, meta=meta)


def _meta(pca, center: bool) -> dict:
    k, d = pca.components_.shape
    meta = {
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "explained_variance": [float(v) for v in pca.explained_variance_],
        "singular_values": [float(v) for v in pca.singular_values_],
        "total_variance": float(pca.total_variance_),
        "n_samples": int(pca.n_samples_),
        "n_features": int(d),
        "n_components": int(k),
        "center": bool(center),
    }
    if k * d <= MAX_STORED_COMPONENTS:
        meta["components"] = pca.components_.astype(float).tolist()
        meta["mean"] = np.asarray(pca.mean_, float).tolist()
    return meta


def _progress(futures, client, label: str, quiet: bool) -> None:
    if quiet:
        client.gather(futures)
        return
    print(label, flush=True)
    from distributed import progress

    progress(futures)                                                     # console bar, waits
    print(flush=True)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m la_core.pca_batch",
        description="Exact PCA of embedding shards (.npy / .parquet) on a Dask cluster; writes PC coordinates "
                    "(+ metadata columns) to Parquet and prints the explained variance.")
    ap.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="folders, globs ('shards/*.npy') or files: .npy (2-D) or .parquet (a list column of vectors, or numeric columns)")
    ap.add_argument("--components", "-k", type=int, default=3, help="number of principal components (default 3)")
    ap.add_argument("--scheduler", default="local",
                    help="dask.distributed scheduler address (tcp://host:8786) or 'local' for a local cluster")
    ap.add_argument("--out", "-o", default="coords.parquet", help="output Parquet path (default coords.parquet)")
    ap.add_argument("--workers", type=int, default=None, help="local cluster: number of worker processes")
    ap.add_argument("--threads-per-worker", type=int, default=1, help="local cluster: threads per worker (default 1)")
    ap.add_argument("--memory-limit", default="auto", help="local cluster: memory per worker, e.g. 2GB")
    ap.add_argument("--column", default=None, help="Parquet vector column (default: the rule of la_core.io.parquet.parquet_layout, the same as the PCA page: a list column of numbers, preferring embeddings/embedding/vectors, else the numeric columns)")
    ap.add_argument("--no-center", action="store_true", help="uncentred PCA (directions of largest XᵀX)")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    return ap


def main(argv=None) -> int:
    """Command-line entry point; returns 0, or exits with status 2 (message on stderr) on bad input."""
    args = _parser().parse_args(argv)
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    from la_core.pca_dask import finish_moments, moments_delayed, read_shards, transform_blocks

    try:
        as_int(args.components, "--components", 1)
        X, metadata = read_shards(args.inputs, column=args.column)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    say(f"input: {X.shape[0]:,} rows × {X.shape[1]} features ({X.dtype}), {X.numblocks[0]} blocks, "
        f"{X.nbytes / 1e9:.2f} GB")
    cluster = None
    if args.scheduler == "local":
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker,
                               memory_limit=args.memory_limit, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(args.scheduler)
    try:
        say(f"scheduler: {client.scheduler.address} ({len(client.scheduler_info()['workers'])} workers)")
        t0 = time.perf_counter()
        fut = client.compute(moments_delayed(X))
        _progress([fut], client, "fitting (column sums and XᵀX per block, tree reduction):", args.quiet)
        try:
            n, s, G = finish_moments(*fut.result())
            pca = PCA(args.components, center=not args.no_center).fit_from_moments(n, s, G)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2)
        t_fit = time.perf_counter() - t0
        meta = _meta(pca, not args.no_center)
        say(f"fitted in {t_fit:.1f} s; explained variance ratio:")
        cum = 0.0
        for i, (r, v) in enumerate(zip(pca.explained_variance_ratio_, pca.explained_variance_), 1):
            cum += r
            say(f"  PC{i}: {r:8.4%}  (variance {v:.6g}, cumulative {cum:.4%})")

        Z = transform_blocks(X, pca.mean_ if not args.no_center else np.zeros_like(pca.mean_), pca.components_)
        blocks = Z.to_delayed().ravel()
        futures = client.compute(list(blocks))
        _progress(futures, client, "projecting:", args.quiet)
        names = [f"PC{i}" for i in range(1, pca.n_components_ + 1)]
        fields = [pa.field(nm, pa.float32()) for nm in names]
        meta_table = None
        if metadata is not None and len(metadata.columns):
            meta_table = pa.Table.from_pandas(metadata, preserve_index=False)
            fields += list(meta_table.schema)
        schema = pa.schema(fields, metadata={META_KEY: json.dumps(meta).encode()})
        out_dir = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        row = 0
        with pq.ParquetWriter(args.out, schema) as writer:
            for f in futures:
                z = np.asarray(f.result(), dtype=np.float32)              # (B, k)
                f.release()
                cols = [pa.array(z[:, j]) for j in range(z.shape[1])]
                if meta_table is not None:
                    cols += list(meta_table.slice(row, len(z)).columns)
                writer.write_table(pa.Table.from_arrays(cols, schema=schema))
                row += len(z)
        say(f"wrote {row:,} rows × {len(names)} PCs" + (f" + {meta_table.num_columns} metadata columns"
            if meta_table is not None else "") + f" to {args.out} ({time.perf_counter() - t0:.1f} s in all)")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
