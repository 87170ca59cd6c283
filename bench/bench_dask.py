"""PCA on Dask: 5M × 384 float32 in .npy shards (≈ 7.7 GB) on a LocalCluster of 2 workers × 2 GB.

The shards are generated into a temporary folder (deleted after; skipped with a note when the disk is
short), read lazily with :func:`la_core.pca_dask.read_shards`, and fitted with ``PCA(3).fit(dask_array)``.
The peak resident memory of each worker process is sampled (psutil, every 20 ms) during the fit. The
reference is the in-memory ``la_core.pca.PCA`` on 1M rows of the same distribution, measured in the
same run and scaled ×5. Note: the freshly written shards usually sit in the OS page cache, so the
timing is compute-bound rather than disk-bound.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time

import numpy as np

from bench.common import Row, best_time, device_name

D = 384
SHARD_ROWS = 250_000


def _fill(X: np.ndarray, start: int, seed: int = 0) -> None:
    """Standard normal rows (+0.5) scaled by a decaying spectrum, written in place chunk by chunk."""
    scale = np.linspace(3, 0.1, X.shape[1], dtype=np.float32)
    scale[:3] = (8.0, 6.0, 4.5)                                          # clear gaps: identifiable axes
    for i in range(0, X.shape[0], 65536):
        rng = np.random.default_rng([seed, start + i])
        c = rng.standard_normal((min(65536, X.shape[0] - i), X.shape[1]), dtype=np.float32)
        c *= scale
        c += 0.5
        X[i:i + c.shape[0]] = c


def _write_shards(folder: str, n: int, shard_rows: int) -> list[str]:
    paths = []
    for k, start in enumerate(range(0, n, shard_rows)):
        rows = min(shard_rows, n - start)
        p = os.path.join(folder, f"part-{k:04d}.npy")
        mm = np.lib.format.open_memmap(p, mode="w+", dtype=np.float32, shape=(rows, D))
        _fill(mm, start)
        mm.flush()
        del mm
        paths.append(p)
    return paths


class _PeakRSS:
    """Samples the RSS of some processes in a thread; ``peaks`` in bytes per pid."""

    def __init__(self, pids):
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peaks = {pid: p.memory_info().rss for pid, p in self.procs.items()}
        self.start_rss = dict(self.peaks)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, p in self.procs.items():
                try:
                    self.peaks[pid] = max(self.peaks[pid], p.memory_info().rss)
                except Exception:                                        # noqa: BLE001 - process gone
                    pass
            time.sleep(0.02)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run(quick: bool = False) -> list[Row]:
    from dask.distributed import Client, LocalCluster

    from la_core.pca import PCA
    from la_core.pca_dask import read_shards

    n = 500_000 if quick else 5_000_000
    shard_rows = 100_000 if quick else SHARD_ROWS
    nbytes = n * D * 4
    size = f"{n // 1_000_000}M×{D} f32 .npy" if n >= 1_000_000 else f"{n // 1000}k×{D} f32 .npy"
    size += f" ({nbytes / 1e9:.1f} GB)"
    tmp_root = tempfile.gettempdir()
    free = shutil.disk_usage(tmp_root).free
    if free < nbytes * 1.2 + 2e9:
        return [Row("dask PCA fit (skipped)", size, float("nan"), "", None,
                    note=f"skipped: {free / 1e9:.1f} GB free in {tmp_root}, need {nbytes * 1.2 / 1e9 + 2:.1f} GB")]

    # reference: in-memory la_core PCA on 1M rows (quick: 100k), scaled to n
    n_ref = n // 5
    Xr = np.empty((n_ref, D), np.float32)
    _fill(Xr, 0)
    t_ref = best_time(lambda: PCA(3).fit(Xr), repeat=2, warmup=1)
    ref_components = PCA(3).fit(Xr).components_
    del Xr

    folder = tempfile.mkdtemp(prefix="la_lens_dask_bench_", dir=tmp_root)
    rows: list[Row] = []
    try:
        t0 = time.perf_counter()
        _write_shards(folder, n, shard_rows)
        t_write = time.perf_counter() - t0
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="2GB",
                          host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            X, _ = read_shards(folder)
            with _PeakRSS(pids) as mon:
                t0 = time.perf_counter()
                pca = PCA(3).fit(X)
                t_fit = time.perf_counter() - t0
            peaks = sorted(mon.peaks.values())
            base = sorted(mon.start_rss.values())
            with _PeakRSS(pids) as mon2:
                t0 = time.perf_counter()
                Z = pca.transform(X).compute()
                t_tr = time.perf_counter() - t0
            cos = np.abs(np.sum(pca.components_ * ref_components, axis=1)).min()
            peak_txt = " / ".join(f"{p / 2**20:.0f}" for p in peaks)
            base_txt = " / ".join(f"{b / 2**20:.0f}" for b in base)
            rows.append(Row(
                "dask PCA fit, 2 workers × 2 GB (read_shards + moments + eigh)", size, t_fit,
                f"in-memory la_core PCA {n_ref // 1000}k rows ×5", t_ref * 5, device_name(),
                note=(f"peak RSS per worker {peak_txt} MB (idle {base_txt} MB) for {nbytes / 2**20:.0f} MB of data; "
                      f"{X.numblocks[0]} blocks; {nbytes / t_fit / 1e9:.2f} GB/s; |cos| with in-memory axes ≥ {cos:.4f}; "
                      f"shards written in {t_write:.0f} s (page-cached)")))
            peaks2 = " / ".join(f"{p / 2**20:.0f}" for p in sorted(mon2.peaks.values()))
            rows.append(Row("dask transform to 3 PCs, gathered on the client", size, t_tr, "", None, device_name(),
                            note=f"peak RSS per worker {peaks2} MB; result {Z.nbytes / 2**20:.0f} MB"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


if __name__ == "__main__":
    import sys

    for r in run(quick="--quick" in sys.argv):
        print(r, flush=True)
