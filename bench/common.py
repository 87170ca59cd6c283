"""Timing helpers shared by the benchmark modules.

Each ``bench/bench_*.py`` module defines ``run(quick: bool = False) -> list[Row]``.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import torch

from la_core.device import get_device


@dataclass
class Row:
    """One line of bench/RESULTS.md."""

    operation: str
    size: str
    ours_s: float
    reference: str          # e.g. "numpy.linalg.svd"
    ref_s: float | None     # None when there is no reference (then ratio is blank)
    device: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if not self.ref_s else self.ours_s / self.ref_s


def sync() -> None:
    """Wait for queued GPU work so wall-clock timings are honest."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def best_time(fn, repeat: int = 5, warmup: int = 1) -> float:
    """Best wall-clock seconds of ``repeat`` calls after ``warmup`` calls (GPU-synchronised)."""
    for _ in range(warmup):
        fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def best_times_interleaved(fns, repeat: int = 5, warmup: int = 1) -> list[float]:
    """Best seconds of each function, the calls taken in turn (a, b, a, b, ...).

    On a shared machine whose speed drifts within seconds, timing one function after the other
    can put the two in different weather; taking turns puts both in the same.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def device_name() -> str:
    d = get_device()
    if d.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(d)})"
    return f"{d.type} ({torch.get_num_threads()} threads)"
