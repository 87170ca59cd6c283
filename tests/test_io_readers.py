"""One reader per format: the page loader (``la_core.io.load_embeddings``) and the batch PCA reader
(``la_core.pca_dask.read_shards``) read every good ``.npy`` and ``.parquet`` fixture to the same
matrix and the same label columns, whether the Parquet file has one row group or several."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from la_core.io import load_embeddings
from la_core.pca_dask import read_shards
from tests.bad_files import good_files

GOOD = good_files()
SHARD_CASES = sorted(c for c, (filename, *_) in GOOD.items() if filename.endswith((".npy", ".parquet")))


def _batch(path):
    X, meta = read_shards(path)
    return X.compute(scheduler="sync"), meta


def _same_labels(page, meta):
    if page is None:
        assert meta is None
        return
    assert meta is not None and list(meta.columns) == list(page.columns)
    for c in page.columns:
        assert [str(v) for v in meta[c]] == [str(v) for v in page[c]], c


def test_the_two_files_the_batch_reader_used_to_refuse_are_in_the_catalogue():
    assert {"parquet_list_and_tags", "parquet_int_columns", "parquet_two_lists"} <= set(SHARD_CASES)
    assert sum(c.startswith("npy_") for c in SHARD_CASES) >= 5


@pytest.mark.parametrize("case", SHARD_CASES)
def test_page_loader_and_batch_reader_give_the_same_matrix(case, tmp_path):
    filename, raw, vectors, labels = GOOD[case]
    path = tmp_path / filename
    path.write_bytes(raw)
    page = load_embeddings(path)
    np.testing.assert_allclose(page.vectors, vectors, rtol=1e-6, atol=1e-7)  # the matrix that was written
    batch, meta = _batch(path)
    assert batch.shape == page.vectors.shape
    np.testing.assert_array_equal(batch.astype(np.float32), page.vectors)
    _same_labels(page.labels, meta)


@pytest.mark.parametrize("case", [c for c in SHARD_CASES if GOOD[c][0].endswith(".parquet")])
def test_parquet_in_several_row_groups(case, tmp_path):
    filename, raw, vectors, labels = GOOD[case]
    path = tmp_path / filename
    pq.write_table(pq.read_table(pa.BufferReader(raw)), path, row_group_size=4)
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    page = load_embeddings(path)
    X, meta = read_shards(path)
    assert X.chunks[0] == (4, 2)
    np.testing.assert_array_equal(X.compute(scheduler="sync").astype(np.float32), page.vectors)
    _same_labels(page.labels, meta)


@pytest.mark.parametrize("groups, page_words, batch_words", [
    # a ragged row in the second row group: the batch reader reads that group alone, and still counts
    # rows from the file's start
    ([[[1.0, 2.0]] * 4, [[1.0, 2.0], [1.0, 2.0, 3.0]]], "row 1 has 2 values, row 6 has 3",
     "row 5 has 2 values, row 6 has 3"),
    # two regular row groups of different widths
    ([[[1.0, 2.0]] * 3, [[1.0, 2.0, 3.0]] * 3], "row 1 has 2 values, row 4 has 3", "row 1 has 2 values, row 4 has 3"),
])
def test_vectors_of_different_lengths_are_located_by_file_row(groups, page_words, batch_words, tmp_path):
    path = tmp_path / "r.parquet"
    typ = pa.list_(pa.float32())
    with pq.ParquetWriter(path, pa.schema({"v": typ})) as w:
        for rows in groups:
            w.write_table(pa.table({"v": pa.array(rows, type=typ)}))
    with pytest.raises(ValueError, match=rf"'v' holds vectors of different lengths \({page_words}\)"):
        load_embeddings(path)
    with pytest.raises(ValueError, match=rf"'v' holds vectors of different lengths \({batch_words}\)"):
        _batch(path)


def test_batch_reader_uses_the_loaders_npy_checks(tmp_path):
    """Refusals come from the same header parser: a truncated file and an object array."""
    path = tmp_path / "cut.npy"
    raw = GOOD["npy_float32"][1]
    path.write_bytes(raw[:-7])
    with pytest.raises(ValueError, match=r"cut\.npy.*truncated"):
        load_embeddings(path)
    with pytest.raises(ValueError, match=r"not a readable \.npy.*truncated: its header announces shape \(6, 4\)"):
        read_shards(path)
    obj = np.empty((2, 2), dtype=object)
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    with pytest.raises(ValueError, match=r"not a readable \.npy.*Python objects"):
        read_shards(tmp_path / "obj.npy")


def test_decimal_columns_are_numbers_in_both_readers(tmp_path):
    from decimal import Decimal

    typ = pa.decimal128(6, 2)
    a = [Decimal("1.50"), Decimal("-2.25"), Decimal("3.00")]
    b = [Decimal("0.10"), Decimal("4.00"), Decimal("-0.75")]
    path = tmp_path / "dec.parquet"
    pq.write_table(pa.table({"a": pa.array(a, type=typ), "b": pa.array(b, type=typ)}), path)
    want = np.array([[1.5, 0.1], [-2.25, 4.0], [3.0, -0.75]], np.float32)
    np.testing.assert_array_equal(load_embeddings(path).vectors, want)
    np.testing.assert_array_equal(_batch(path)[0].astype(np.float32), want)
