"""Embedding texts for the PCA page, and counting every row of a projection.

Texts per second of ``Model.embed`` (input order) and ``la_core.texts.embed_texts`` (longest first,
with progress) for MiniLM against sentence-transformers' ``encode`` of the same texts in the same
run; ``density_2d`` of 1,000,000 points against ``numpy.histogram2d`` with the same bins.
"""
from __future__ import annotations

import numpy as np

from bench.common import Row, best_time, best_times_interleaved, device_name
from la_core import models
from la_core.density import density_2d
from la_core.texts import embed_texts

INTRO = ("Short texts (3 to 14 words) embedded by MiniLM; the reference is SentenceTransformer.encode "
         "(its default batch of 32, texts sorted by length) on the same device, in the same run. density_2d "
         "counts every row in a 200×200 grid; the reference is numpy.histogram2d with the same range and bins.")

_WORDS = ("the cat dog river bank model layer vector matrix token light dark quick slow sat ran over under near "
          "far king queen apple soup warm cold bright language linear algebra space angle").split()


def texts(n: int, seed: int = 0) -> list[str]:
    """``n`` short texts of 3 to 14 words, the same ones every run."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, size=int(rng.integers(3, 15)))) for _ in range(n)]


def run(quick: bool = False) -> list[Row]:
    from sentence_transformers import SentenceTransformer

    dev = device_name()
    rows: list[Row] = []
    n = 500 if quick else 2000
    batch = texts(n)
    m = models.load_model()
    st = SentenceTransformer(models.bundled_path(), device=str(m.device))
    st.encode(batch[:64])                                    # first-use costs (module build, kernels)
    embed_texts(m, batch[:64])
    # each call embeds a whole batch, long enough to need no separate warm-up round
    ref, ours, sorted_s = best_times_interleaved(
        [lambda: st.encode(batch), lambda: m.embed(batch, batch_size=64),
         lambda: embed_texts(m, batch, progress=lambda *a: None)], repeat=3, warmup=0)
    rows.append(Row("Model.embed (MiniLM, batch 64, input order)", f"{n} short texts", ours,
                    "SentenceTransformer.encode", ref, dev,
                    f"{n / ours:,.0f} texts/s against {n / ref:,.0f}"))
    rows.append(Row("texts.embed_texts (as the PCA page: longest first, batch 128, progress with time left)", f"{n} short texts", sorted_s,
                    "SentenceTransformer.encode", ref, dev, f"{n / sorted_s:,.0f} texts/s"))

    rng = np.random.default_rng(1)
    for size in (100_000,) if quick else (100_000, 1_000_000):
        xy = rng.normal(size=(size, 2)).astype(np.float32)
        rng_x = (float(xy[:, 0].min()), float(xy[:, 0].max()))
        rng_y = (float(xy[:, 1].min()), float(xy[:, 1].max()))
        ours = best_time(lambda: density_2d(xy, rng_x, rng_y, bins=200), repeat=5)
        ref = best_time(lambda: np.histogram2d(xy[:, 0], xy[:, 1], bins=200, range=(rng_x, rng_y)), repeat=5)
        rows.append(Row("density.density_2d (every row, 200×200 bins)", f"{size:,} points", ours,
                        "numpy.histogram2d", ref, dev))
    return rows
