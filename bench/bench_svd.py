"""SVD benchmarks: la_core.svd.svd vs numpy.linalg.svd, and the rank-r rebuild the page does per slider move."""
from __future__ import annotations

import numpy as np

from bench.common import Row, best_time, device_name
from la_core import svd as ls


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    dev = device_name()
    rng = np.random.default_rng(0)
    sizes = (256, 1024) if quick else (256, 1024, 2048)
    for n in sizes:
        A = rng.standard_normal((n, n)).astype(np.float32)
        repeat = 2 if n >= 2048 else (3 if n >= 1024 else 7)
        # both return NumPy factors from a NumPy float32 matrix: transfers are part of ours
        ours = best_time(lambda: ls.svd(A), repeat=repeat)
        ref = best_time(lambda: np.linalg.svd(A, full_matrices=False), repeat=repeat)
        rows.append(Row("svd (thin, float32, U S Vh as NumPy)", f"{n}×{n}", ours, "numpy.linalg.svd float32",
                        ref, dev, "goal ratio ≤ 1.0"))
        if n <= 1024:
            A64 = A.astype(np.float64)
            rows.append(Row("svd (thin, float32, U S Vh as NumPy)", f"{n}×{n}", ours,
                            "numpy.linalg.svd float64 (numpy's default dtype)",
                            best_time(lambda: np.linalg.svd(A64, full_matrices=False), repeat=repeat), dev))
    n = 1024
    A = rng.standard_normal((n, n)).astype(np.float32)
    U, S, Vh = ls.svd(A)
    for r in (16, 128):
        ours = best_time(lambda: ls.reconstruct(U, S, Vh, r), repeat=25)
        ref = best_time(lambda: (U[:, :r] * S[:r]) @ Vh[:r], repeat=25)
        rows.append(Row("reconstruct A_r (rank-r rebuild from cached factors)", f"{n}×{n}, r={r}", ours,
                        "NumPy (U[:, :r]·S[:r]) @ Vh[:r]", ref, dev, "goal ≤ 20 ms"))
    return rows
