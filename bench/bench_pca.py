"""PCA to 3 components: la_core.pca.PCA vs scikit-learn PCA(svd_solver="auto"), time and peak memory.

Peak memory is measured in a fresh subprocess per (method, size) as the growth of the resident set
(psutil RSS, sampled every 5 ms) over the process after the data was created, so both sides are
charged only for what the fit allocates on top of X.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import Row, best_time, device_name

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(10_000, 384), (100_000, 768), (1_000_000, 384), (300, 50_000)]   # the last: n < d (n×n Gram)
QUICK_SIZES = [(10_000, 384), (50_000, 256)]

_CHILD = r"""
import json, sys, threading, time
import numpy as np, psutil
n, d, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
X = np.empty((n, d), np.float32)
for i in range(0, n, 65536):
    X[i:i + 65536] = rng.standard_normal((min(65536, n - i), d), dtype=np.float32)
X *= np.linspace(3, 0.1, d, dtype=np.float32)
if method == "ours":
    from la_core.pca import PCA
    fit = lambda: PCA(3).fit(X)
else:
    from sklearn.decomposition import PCA
    fit = lambda: PCA(3, svd_solver="auto").fit(X)
proc = psutil.Process()
base = proc.memory_info().rss
peak = [base]
stop = False
def watch():
    while not stop:
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.005)
t = threading.Thread(target=watch); t.start()
fit()
stop = True; t.join()
print(json.dumps({"peak_mb": (peak[0] - base) / 2**20, "x_mb": X.nbytes / 2**20}))
"""


def _peak(n: int, d: int, method: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(d), method], cwd=ROOT, capture_output=True,
                         text=True, timeout=900, env={"PYTHONPATH": str(ROOT), **__import__("os").environ})
    if out.returncode != 0:
        return {"peak_mb": float("nan"), "x_mb": n * d * 4 / 2**20}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _data(n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = np.empty((n, d), np.float32)
    for i in range(0, n, 65536):
        X[i:i + 65536] = rng.standard_normal((min(65536, n - i), d), dtype=np.float32)
    X *= np.linspace(3, 0.1, d, dtype=np.float32)
    return X


def run(quick: bool = False) -> list[Row]:
    from sklearn.decomposition import PCA as SkPCA

    from la_core.pca import PCA

    rows = []
    for n, d in (QUICK_SIZES if quick else SIZES):
        X = _data(n, d)
        repeat = 9 if n * d < 2e7 else 3 if n * d < 1e8 else 2   # best-of: the 2-core machine is shared
        ours = best_time(lambda: PCA(3).fit(X), repeat=repeat)
        ref = best_time(lambda: SkPCA(3, svd_solver="auto").fit(X), repeat=repeat)
        a, b = PCA(3).fit(X), SkPCA(3, svd_solver="auto").fit(X)
        err = float(np.max(np.abs(a.explained_variance_ratio_ / b.explained_variance_ratio_ - 1)))
        exact = SkPCA(3, svd_solver="full").fit(X) if n * d <= 2e7 else None      # LAPACK SVD, exact
        err_full = (float(np.max(np.abs(a.explained_variance_ratio_ / exact.explained_variance_ratio_ - 1)))
                    if exact is not None else None)
        del X
        pm_ours, pm_ref = _peak(n, d, "ours"), _peak(n, d, "sklearn")
        note = (f"X = {pm_ours['x_mb']:.0f} MB; extra peak RSS ours {pm_ours['peak_mb']:.0f} MB vs "
                f"scikit-learn {pm_ref['peak_mb']:.0f} MB; scikit-learn chose the {b._fit_svd_solver} solver; "
                f"max rel. diff of explained variance ratio {err:.1e}"
                + (f" (vs its exact 'full' solver {err_full:.1e})" if err_full is not None else ""))
        rows.append(Row("PCA fit, 3 components (float32)", f"{n:,}×{d}", ours,
                        'sklearn PCA(svd_solver="auto")', ref, device_name(), note))
    return rows


if __name__ == "__main__":
    t0 = time.time()
    for r in run(quick="quick" in sys.argv):
        print(r, f"ratio {r.ratio:.2f}")
    print(f"{time.time() - t0:.0f} s")
