"""PCA on Dask: moments, fit and transform against NumPy / scikit-learn on a 2-process LocalCluster,
lazy shard reading (memory measured), the batch command line end to end, and read_coordinates."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SKPCA

from la_core.pca import PCA
from la_core.pca_batch import META_KEY, main, read_coordinates
from la_core.pca_dask import moments, moments_delayed, read_shards, transform_blocks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, memory_limit="1GB") as cluster, Client(cluster) as c:
        yield c


def _data(n=6000, d=24, mean=0.0, seed=0):
    rng = np.random.default_rng(seed)
    scale = np.linspace(3, 0.2, d)
    scale[:3] = (9, 6, 4)
    return (rng.standard_normal((n, d)) * scale + mean).astype(np.float32)


def _same_axes(a, b, atol):
    """Rows equal up to sign."""
    signs = np.sign(np.sum(a * b, axis=1))
    np.testing.assert_allclose(a * signs[:, None], b, atol=atol)


# ------------------------------------------------------------------------------ moments and fit
def test_moments_equal_numpy_float64(client):
    X = _data(5000, 16, mean=2.0)
    n, s, G = moments(da.from_array(X, chunks=(700, 16)))
    X64 = X.astype(np.float64)
    assert n == 5000
    np.testing.assert_allclose(s, X64.sum(0), rtol=1e-10, atol=1e-8)
    # float32 products around each block's mean: float32-level error relative to the scale of XᵀX
    np.testing.assert_allclose(G, X64.T @ X64, atol=1e-6 * np.abs(G).max())


@pytest.mark.parametrize("mean", [0.0, 300.0])
def test_fit_on_cluster_equals_sklearn(client, mean):
    # mean 300 (33σ of the widest axis): a plain float32 XᵀX per block would miss 1e-5 on the ratios
    X = _data(8000, 24, mean=mean)
    Xd = da.from_array(X, chunks=(1100, 24))
    ours = PCA(3).fit(Xd)
    ref = SKPCA(3, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-5)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-5)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-6, atol=1e-6)
    _same_axes(ours.components_, ref.components_, atol=1e-5)
    assert ours.n_samples_ == 8000 and ours.n_features_in_ == 24


def test_plain_float32_gram_would_fail_the_tolerance():
    """The check above can fail: uncentred float32 block Grams lose digits at mean 300 (2e-4 measured)."""
    X = _data(8000, 24, mean=300.0)
    ref = SKPCA(3, svd_solver="full").fit(X.astype(np.float64))
    G32 = np.zeros((24, 24))
    for i in range(0, 8000, 1100):
        G32 += (X[i:i + 1100].T @ X[i:i + 1100]).astype(np.float64)
    naive = PCA(3).fit_from_moments(8000, X.sum(0, dtype=np.float64), G32)
    err = np.max(np.abs(naive.explained_variance_ratio_ / ref.explained_variance_ratio_ - 1))
    assert err > 1e-5
    n, s, G = moments_delayed(da.from_array(X, chunks=(1100, 24))).compute(scheduler="sync")
    ours = PCA(3).fit_from_moments(n, s, G)
    assert np.max(np.abs(ours.explained_variance_ratio_ / ref.explained_variance_ratio_ - 1)) < 1e-6


def test_uncentred_fit_matches_numpy_svd(client):
    X = _data(3000, 12, mean=1.5)
    ours = PCA(2, center=False).fit(da.from_array(X, chunks=(500, 12)))
    _, S, Vt = np.linalg.svd(X.astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(ours.singular_values_, S[:2], rtol=1e-6)
    _same_axes(ours.components_, Vt[:2], atol=1e-6)


def test_column_chunks_are_merged_and_transform_is_lazy(client):
    X = _data(4000, 20, mean=1.0)
    Xd = da.from_array(X, chunks=(900, 7))                            # blocks split along features too
    ours = PCA(3).fit(Xd)
    Z = ours.transform(Xd)
    assert isinstance(Z, da.Array) and Z.shape == (4000, 3) and Z.dtype == np.float32
    assert Z.chunks[0] == Xd.chunks[0]
    ref = SKPCA(3, svd_solver="full").fit(X.astype(np.float64))
    Zr = ref.transform(X.astype(np.float64))
    signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))
    np.testing.assert_allclose(Z.compute() * signs, Zr, atol=2e-4 * np.abs(Zr).max())
    two = ours.transform(Xd, axes=[2, 0])                             # some axes only: those columns
    assert isinstance(two, da.Array) and two.shape == (4000, 2)
    np.testing.assert_allclose(two.compute() * signs[[2, 0]], Zr[:, [2, 0]], atol=2e-4 * np.abs(Zr).max())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), d=st.integers(1, 6), rows=st.integers(1, 25), seed=st.integers(0, 10_000),
       shift=st.floats(-1e3, 1e3), f64=st.booleans())
def test_moments_any_chunking(n, d, rows, seed, shift, f64):
    X = np.random.default_rng(seed).standard_normal((n, d)) + shift
    X = X if f64 else X.astype(np.float32)
    cnt, s, G = moments_delayed(da.from_array(X, chunks=(rows, d)), split_every=2).compute(scheduler="sync")
    X64 = X.astype(np.float64)
    assert cnt == n
    tol = 1e-12 if f64 else 1e-6
    np.testing.assert_allclose(s, X64.sum(0), rtol=tol, atol=tol * (1 + abs(shift)) * n)
    scale = np.abs(X64.T @ X64).max()
    np.testing.assert_allclose(G, X64.T @ X64, atol=tol * scale)


def test_transform_blocks_matches_numpy():
    X = _data(1000, 8)
    rng = np.random.default_rng(3)
    C = np.linalg.qr(rng.standard_normal((8, 2)))[0].T                 # (2, 8)
    mu = X.mean(0, dtype=np.float64)
    Z = transform_blocks(da.from_array(X, chunks=(300, 8)), mu, C).compute(scheduler="sync")
    np.testing.assert_allclose(Z, (X - mu) @ C.T, atol=1e-4)


def test_bad_inputs_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="dask.array.Array"):
        moments(np.ones((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        moments(da.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="real numbers"):
        moments(da.from_array(np.array([["a"], ["b"]])))
    bad = da.from_array(np.array([[1.0, np.nan], [2.0, 3.0]]), chunks=(1, 2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        dask.config.set(scheduler="sync")
        try:
            moments(bad)
        finally:
            dask.config.set(scheduler=None)
    with pytest.raises(ValueError, match="features"):
        transform_blocks(da.ones((4, 3)), np.zeros(2), np.ones((1, 2)))
    with pytest.raises(ValueError, match="matches no files"):
        read_shards(str(tmp_path / "*.npy"))
    with pytest.raises(ValueError, match="no .npy or .parquet"):
        read_shards(tmp_path)
    np.save(tmp_path / "a.npy", np.ones((4, 3), np.float32))
    np.save(tmp_path / "b.npy", np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match="disagree on the number of features"):
        read_shards(tmp_path)
    np.save(tmp_path / "c.npy", np.ones(4, np.float32))
    with pytest.raises(ValueError, match="2-D numeric"):
        read_shards(tmp_path / "c.npy")
    (tmp_path / "d.npy").write_bytes(b"not an npy file at all")
    with pytest.raises(ValueError, match="not a readable .npy"):
        read_shards(tmp_path / "d.npy")
    (tmp_path / "e.txt").write_text("1 2 3")
    with pytest.raises(ValueError, match="not a shard format"):
        read_shards(tmp_path / "e.txt")
    with pytest.raises(ValueError, match="neither a file"):
        read_shards(tmp_path / "missing.npy")


# ------------------------------------------------------------------------------------ reading
def _write_parquet(path, X, labels=None, row_group_size=None, fixed=False):
    typ = pa.list_(pa.float32(), X.shape[1]) if fixed else pa.list_(pa.float32())
    cols = {"embedding": pa.array(list(X), type=typ)}
    if labels is not None:
        cols = {"label": labels, **cols}
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)


def test_read_shards_npy_and_parquet(tmp_path):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((700, 6)).astype(np.float32)
    B = rng.standard_normal((300, 6)).astype(np.float32)
    np.save(tmp_path / "a.npy", A)
    _write_parquet(tmp_path / "b.parquet", B, labels=[f"w{i}" for i in range(300)], row_group_size=128)
    X, meta = read_shards(tmp_path, block_bytes=250 * 6 * 4)
    assert X.shape == (1000, 6) and X.dtype == np.float32
    assert X.chunks[0] == (250, 250, 200, 128, 128, 44)               # npy row blocks, parquet row groups
    np.testing.assert_array_equal(X.compute(scheduler="sync"), np.vstack([A, B]))
    assert list(meta.columns) == ["label"] and len(meta) == 1000
    assert meta["label"].iloc[:700].isna().all() and meta["label"].iloc[700] == "w0"
    # glob, fixed-size lists, numeric-column parquet
    _write_parquet(tmp_path / "c.parquet", B, fixed=True)
    X2, meta2 = read_shards(str(tmp_path / "c.par*"))
    assert meta2 is None
    np.testing.assert_array_equal(X2.compute(scheduler="sync"), B)
    pq.write_table(pa.table({"id": np.arange(300), "x": B[:, 0].astype(np.float64), "y": B[:, 1].astype(np.float64)}),
                   tmp_path / "cols.parquet")
    X3, meta3 = read_shards([tmp_path / "cols.parquet"])
    np.testing.assert_allclose(X3.compute(scheduler="sync"), B[:, :2])
    assert list(meta3.columns) == ["id"]


def test_parquet_ragged_vectors_are_refused(tmp_path):
    pq.write_table(pa.table({"v": pa.array([[1.0, 2.0], [1.0]], type=pa.list_(pa.float32()))}), tmp_path / "r.parquet")
    with pytest.raises(ValueError, match="different lengths"):
        X, _ = read_shards(tmp_path / "r.parquet")
        X.compute(scheduler="sync")


def _rss_sampler(pids):
    import psutil

    procs = [psutil.Process(p) for p in pids]
    base = [p.memory_info().rss for p in procs]
    peak = list(base)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            for i, p in enumerate(procs):
                peak[i] = max(peak[i], p.memory_info().rss)
            time.sleep(0.005)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return base, peak, stop, t


@pytest.mark.slow
def test_shards_are_read_lazily_with_bounded_memory(client, tmp_path):
    """40 MB of shards: the client allocates almost nothing, each worker holds a few 1 MB blocks at a time."""
    d, n_shard = 128, 16_384                                         # 8 MB per shard, 5 shards
    rng = np.random.default_rng(1)
    for k in range(5):
        P = rng.standard_normal((n_shard, d)).astype(np.float32) + k
        np.save(tmp_path / f"part-{k}.npy", P)
    data_bytes = 5 * n_shard * d * 4
    del P
    pids = list(client.run(os.getpid).values())
    base, peak, stop, t = _rss_sampler(pids)
    tracemalloc.start()
    try:
        X, meta = read_shards(tmp_path, block_bytes=2**20)
        assert meta is None and X.shape == (5 * n_shard, d) and X.numblocks[0] == 40
        ours = PCA(3).fit(X)
        _, client_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stop.set()
        t.join()
    assert ours.n_samples_ == 5 * n_shard
    np.testing.assert_allclose(ours.mean_, 2.0, atol=0.05)           # shards k = 0..4 are shifted by k
    assert client_peak < data_bytes / 20, f"client allocated {client_peak / 2**20:.1f} MB for {data_bytes / 2**20:.0f} MB"
    growth = [p - b for p, b in zip(peak, base)]
    assert max(growth) < data_bytes / 2, f"worker RSS grew by {[g / 2**20 for g in growth]} MB"


# --------------------------------------------------------------------------- command line
def _shards(folder: Path, n=1200, d=10, seed=2):
    folder.mkdir(parents=True, exist_ok=True)
    X = _data(n, d, mean=0.5, seed=seed)
    np.save(folder / "p0.npy", X[: n // 2])
    np.save(folder / "p1.npy", X[n // 2:])
    return X


def test_cli_on_existing_scheduler_and_read_coordinates(client, tmp_path, capsys):
    X = _data(900, 10, seed=5)
    (tmp_path / "in").mkdir()
    _write_parquet(tmp_path / "in" / "a.parquet", X, labels=[f"item {i}" for i in range(900)], row_group_size=200)
    out = tmp_path / "out" / "coords.parquet"
    main([str(tmp_path / "in"), "--components", "2", "--scheduler", client.scheduler.address, "--out", str(out),
          "--quiet"])
    res = read_coordinates(out)
    assert res is not None and res.pc_columns == ["PC1", "PC2"]
    assert list(res.coords.columns) == ["PC1", "PC2", "label"] and res.coords["label"].iloc[5] == "item 5"
    assert res.coords["PC1"].dtype == np.float32 and len(res.coords) == 900
    ref = SKPCA(2, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(res.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-5)
    assert res.meta["n_samples"] == 900 and res.meta["n_features"] == 10 and res.meta["center"] is True
    signs = np.sign(np.sum(res.components * ref.components_, axis=1))
    np.testing.assert_allclose(res.coords[["PC1", "PC2"]].to_numpy() * signs, ref.transform(X.astype(np.float64)),
                               atol=1e-3)
    # bytes and file-like (Streamlit uploads) work too; anything else is None
    assert read_coordinates(out.read_bytes()).meta == res.meta
    assert read_coordinates(io.BytesIO(out.read_bytes())) is not None
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0]}), plain)
    assert read_coordinates(plain) is None
    assert read_coordinates(b"not parquet") is None
    assert read_coordinates(b"") is None


def test_cli_bad_input_exits_with_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "nothing*.npy"), "--out", str(tmp_path / "o.parquet")])
    assert exc.value.code == 2
    assert "matches no files" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--components", "0"])


@pytest.mark.slow
def test_cli_end_to_end_local_cluster(tmp_path):
    X = _shards(tmp_path / "shards")
    out = tmp_path / "coords.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "la_core.pca_batch", str(tmp_path / "shards" / "*.npy"), "--components", "3",
         "--scheduler", "local", "--workers", "1", "--memory-limit", "1GB", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "PC1:" in proc.stdout and "wrote 1,200 rows" in proc.stdout
    assert "% Completed" in proc.stdout                                  # the progress bar was shown
    res = read_coordinates(out)
    ref = SKPCA(3, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(res.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-5)
    assert res.coords.shape == (1200, 3)
    meta = pq.ParquetFile(out).schema_arrow.metadata
    assert META_KEY in meta
