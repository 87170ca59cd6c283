"""Loading benchmarks: la_core.io.load_embeddings (with its checks: 2-D, finite, float32) vs the plain
library reader measured in the same run. Goal: a 100 MB .npy loads in ≤ 2 s."""
from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from bench.common import Row, best_time
from la_core.io import load_embeddings

DEVICE = "cpu (file parsing)"


def _npy_bytes(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, x)
    return buf.getvalue()


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    repeat = 3 if quick else 5
    rng = np.random.default_rng(0)
    n = 68_267 if not quick else 17_067           # × 384 float32 = 100 MB (25 MB quick)
    x = rng.standard_normal((n, 384), dtype=np.float32)
    mb = x.nbytes / 1e6
    size = f"{n:,}×384 float32 ({mb:.0f} MB)"
    raw = _npy_bytes(x)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "emb.npy")
        with open(path, "wb") as fh:
            fh.write(raw)

        def ours_bytes():
            return load_embeddings(raw, "emb.npy").vectors

        def ref_bytes():
            return np.load(io.BytesIO(raw), allow_pickle=False)

        rows.append(Row("load_embeddings .npy from bytes (upload; view + finite check)", size,
                        best_time(ours_bytes, repeat=repeat), "np.load(BytesIO)", best_time(ref_bytes, repeat=repeat),
                        DEVICE, "goal ≤ 2 s"))

        def ours_path():
            return load_embeddings(path).vectors  # memory-mapped; the finite check reads it all once

        def ref_path():
            return np.load(path, allow_pickle=False)

        rows.append(Row("load_embeddings .npy from a path (memory-mapped + finite check)", size,
                        best_time(ours_path, repeat=repeat), "np.load(path) (reads into RAM)",
                        best_time(ref_path, repeat=repeat), DEVICE, "goal ≤ 2 s; file in page cache"))

        x64 = x.astype(np.float64)
        raw64 = _npy_bytes(x64)
        del x64
        rows.append(Row("load_embeddings .npy float64 → float32", f"{n:,}×384 float64 ({len(raw64) / 1e6:.0f} MB)",
                        best_time(lambda: load_embeddings(raw64, "e.npy").vectors, repeat=repeat),
                        "np.load(BytesIO).astype(float32)",
                        best_time(lambda: np.load(io.BytesIO(raw64)).astype(np.float32), repeat=repeat), DEVICE))
        del raw64

        st_raw = st_save({"emb": x})
        rows.append(Row("load_embeddings .safetensors from bytes", size,
                        best_time(lambda: load_embeddings(st_raw, "e.safetensors").vectors, repeat=repeat),
                        "safetensors.numpy.load", best_time(lambda: st_load(st_raw)["emb"], repeat=repeat), DEVICE))
        del st_raw

        buf = io.BytesIO()
        fixed = pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), 384)
        pq.write_table(pa.table({"embedding": fixed, "id": np.arange(n)}), buf)
        pq_raw = buf.getvalue()
        rows.append(Row("load_embeddings .parquet (fixed-size list column + id)", size,
                        best_time(lambda: load_embeddings(pq_raw, "e.parquet").vectors, repeat=repeat),
                        "pyarrow read_table + to_numpy",
                        best_time(lambda: pq.read_table(pa.BufferReader(pq_raw)).column("embedding")
                                  .combine_chunks().flatten().to_numpy().reshape(n, 384), repeat=repeat), DEVICE))
        del pq_raw

        m = 5_000 if quick else 20_000
        words = [f"w{i}" for i in range(m)]
        frame = pd.DataFrame(x[:m].astype(np.float64))
        frame.insert(0, "word", words)
        csv_raw = frame.to_csv(index=False, header=False, sep="\t", float_format="%.6g").encode()
        rows.append(Row("load_embeddings .tsv (word + 384 numbers per line)",
                        f"{m:,}×384 ({len(csv_raw) / 1e6:.0f} MB text)",
                        best_time(lambda: load_embeddings(csv_raw, "e.tsv").vectors, repeat=max(2, repeat - 2)),
                        "pandas.read_csv(sep='\\t', header=None)",
                        best_time(lambda: pd.read_csv(io.BytesIO(csv_raw), sep="\t", header=None),
                                  repeat=max(2, repeat - 2)),
                        DEVICE))
        if not quick:  # issue 9: the data folder with a 1M × 384 float32 .npy (1.5 GB)
            from numpy.lib.format import open_memmap

            from la_core.io import open_data_file

            big = os.path.join(tmp, "big.npy")
            m = open_memmap(big, mode="w+", dtype=np.float32, shape=(1_000_000, 384))
            for i in range(0, 1_000_000, 100_000):
                m[i:i + 100_000] = rng.standard_normal((100_000, 384), dtype=np.float32)
            m.flush()
            del m
            rows.append(Row("open_data_file .npy (memory-mapped + finite check)", "1,000,000×384 float32 (1.5 GB)",
                            best_time(lambda: open_data_file(tmp, "big.npy").vectors, repeat=3),
                            "np.load(path) (reads into RAM)", best_time(lambda: np.load(big), repeat=2, warmup=0),
                            DEVICE, "file in page cache"))
    return rows
