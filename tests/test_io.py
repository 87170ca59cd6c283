"""Issues 8 and 9: la_core.io loads every format, refuses every bad file with a helpful message,
and never opens anything outside the data folder."""
from __future__ import annotations

import io
import os
import re

import numpy as np
import pandas as pd
import pytest

from la_core.io import (
    EmbeddingFormatError,
    Embeddings,
    list_data_files,
    list_tensors,
    load_embeddings,
    load_metadata,
    open_data_file,
)
from tests.bad_files import (
    MESSAGE_WORDS,
    META_MESSAGE_WORDS,
    bad_files,
    bad_metadata,
    good_files,
    metadata_vectors,
    odd_metadata,
)

GOOD = good_files()
BAD = bad_files()
BAD_META = bad_metadata()
ODD_META = odd_metadata()


def _assert_labels(got: pd.DataFrame | None, want: pd.DataFrame | None):
    if want is None:
        assert got is None
        return
    assert got is not None
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        assert [str(v) for v in got[c]] == [str(v) for v in want[c]], c


# ---------------------------------------------------------------- round trips ------------

@pytest.mark.parametrize("case", sorted(GOOD))
def test_round_trip_bytes(case):
    filename, raw, vectors, labels = GOOD[case]
    emb = load_embeddings(raw, filename)
    assert isinstance(emb, Embeddings)
    assert emb.vectors.dtype == np.float32 and emb.vectors.dtype.isnative
    assert emb.vectors.shape == vectors.shape
    np.testing.assert_allclose(emb.vectors, vectors, rtol=1e-6, atol=1e-7)
    _assert_labels(emb.labels, labels)
    assert emb.source.startswith(filename)


@pytest.mark.parametrize("case", sorted(GOOD))
def test_round_trip_path_and_filelike(case, tmp_path):
    filename, raw, vectors, labels = GOOD[case]
    path = tmp_path / filename
    path.write_bytes(raw)
    for emb in (load_embeddings(path), load_embeddings(str(path), filename),
                load_embeddings(io.BytesIO(raw), filename)):
        np.testing.assert_allclose(emb.vectors, vectors, rtol=1e-6, atol=1e-7)
        assert emb.vectors.dtype == np.float32
        _assert_labels(emb.labels, labels)


def test_file_like_with_name_attribute():
    filename, raw, vectors, _ = GOOD["npy_float32"]
    f = io.BytesIO(raw)
    f.name = filename  # like streamlit's UploadedFile
    f.read(3)  # position does not matter
    np.testing.assert_array_equal(load_embeddings(f).vectors, vectors)


def test_npy_path_is_memory_mapped_and_float32_bytes_not_copied(tmp_path):
    x = np.random.default_rng(1).standard_normal((50, 8)).astype(np.float32)
    path = tmp_path / "emb.npy"
    np.save(path, x)
    emb = load_embeddings(path)
    assert isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, x)
    # from bytes: a view of the uploaded buffer, not a copy
    buf = io.BytesIO()
    np.save(buf, x)
    raw = buf.getvalue()
    got = load_embeddings(raw, "emb.npy").vectors
    assert np.shares_memory(got, np.frombuffer(raw, dtype=np.uint8))
    assert not got.flags.writeable


def test_safetensors_path_is_memory_mapped(tmp_path):
    from safetensors.numpy import save_file

    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    save_file({"emb": x}, str(tmp_path / "m.safetensors"))
    emb = load_embeddings(tmp_path / "m.safetensors")
    assert isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, x)


def test_float64_is_converted_once_and_said():
    filename, raw, vectors, _ = GOOD["npy_float64"]
    emb = load_embeddings(raw, filename)
    assert emb.vectors.dtype == np.float32
    assert "float64 to float32" in emb.note


def test_keys_choose_array_tensor_column():
    from safetensors.numpy import save
    from tests.bad_files import _npz, _parquet

    a = np.ones((3, 2), np.float32)
    b = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert load_embeddings(_npz(a=a, b=b), "x.npz", key="b").vectors.shape == (4, 2)
    assert load_embeddings(_npz(a=a, X=b), "x.npz").source == "x.npz [X]"
    st = save({"a": a, "b": b})
    assert load_embeddings(st, "m.safetensors", key="b").vectors.shape == (4, 2)
    assert list_tensors(st, "m.safetensors") == {"a": (3, 2), "b": (4, 2)}
    assert list_tensors(st) == {"a": (3, 2), "b": (4, 2)}
    assert list_tensors(_npz(a=a, b=b), "x.npz") == {"a": (3, 2), "b": (4, 2)}
    pq_raw = _parquet(pd.DataFrame({"u": list(a[:2]), "v": list(b[:2]), "w": ["p", "q"]}))
    emb = load_embeddings(pq_raw, "t.parquet", key="v")
    np.testing.assert_array_equal(emb.vectors, b[:2])
    assert list(emb.labels.columns) == ["u", "w"]
    with pytest.raises(EmbeddingFormatError, match=r"x\.npz.*no array named 'zz'.*'a', 'b'"):
        load_embeddings(_npz(a=a, b=b), "x.npz", key="zz")
    with pytest.raises(EmbeddingFormatError, match=r"m\.safetensors.*no tensor named 'zz'"):
        load_embeddings(st, "m.safetensors", key="zz")
    with pytest.raises(EmbeddingFormatError, match=r"t\.parquet.*no column named 'zz'"):
        load_embeddings(pq_raw, "t.parquet", key="zz")
    with pytest.raises(EmbeddingFormatError, match=r"m\.safetensors.*not a valid"):
        list_tensors(b"\x89PNG\r\n\x1a\n....", "m.safetensors")


def test_projector_pair_with_multi_column_metadata():
    vec_name, vec = metadata_vectors()
    meta = b"word\tkind\ncat\tanimal\ndog\tanimal\nemu\tbird\n"
    emb = load_embeddings(vec, vec_name, metadata=meta, metadata_filename="metadata.tsv")
    assert emb.vectors.shape == (3, 2)
    assert list(emb.labels.columns) == ["word", "kind"]
    assert list(emb.labels["kind"]) == ["animal", "animal", "bird"]


def test_csv_labels_and_metadata_combine():
    raw = b"w,a,b\nx,1,2\ny,3,4\n"
    emb = load_embeddings(raw, "v.csv", metadata=b"kind\tn\nP\t1\nQ\t2\n", metadata_filename="m.tsv")
    assert list(emb.labels.columns) == ["w", "kind", "n"]
    assert emb.labels["n"].dtype.kind in "iuf"  # numeric metadata becomes numeric (colour bars)


def test_header_detection():
    # Projector vectors.tsv: no header
    assert load_embeddings(b"1\t2\n3\t4\n", "vectors.tsv").vectors.shape == (2, 2)
    # a header of names
    emb = load_embeddings(b"d1,d2\n1,2\n3,4\n", "v.csv")
    assert emb.vectors.shape == (2, 2) and emb.labels is None
    # whitespace-separated .txt (GloVe) and semicolons
    assert load_embeddings(b"a 1 2\nb 3 4\n", "g.txt").labels["label"].tolist() == ["a", "b"]
    assert load_embeddings(b"1;2\n3;4\n", "s.txt").vectors.tolist() == [[1, 2], [3, 4]]


def test_parquet_numeric_columns_keep_other_columns_as_labels():
    from tests.bad_files import _parquet

    raw = _parquet(pd.DataFrame({"id": ["a", "b", "c"], "x": [1.0, 2, 3], "y": [4, 5, 6]}))
    emb = load_embeddings(raw, "t.parquet")
    np.testing.assert_array_equal(emb.vectors, [[1, 4], [2, 5], [3, 6]])
    assert emb.labels["id"].tolist() == ["a", "b", "c"]


# ---------------------------------------------------------------- bad files --------------

def test_every_bad_case_has_expected_words():
    assert set(BAD) == set(MESSAGE_WORDS)
    assert set(BAD_META) == set(META_MESSAGE_WORDS)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_raises_helpful_error(case):
    filename, raw = BAD[case]
    with pytest.raises(EmbeddingFormatError) as info:
        load_embeddings(raw, filename)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert re.search(MESSAGE_WORDS[case], msg, re.I | re.S), msg
    assert "Traceback" not in msg and len(msg) < 600


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_from_path_raises_too(case, tmp_path):
    filename, raw = BAD[case]
    (tmp_path / filename).write_bytes(raw)
    with pytest.raises(EmbeddingFormatError, match=re.escape(filename)):
        load_embeddings(tmp_path / filename)


@pytest.mark.parametrize("case", sorted(BAD_META))
def test_bad_metadata_raises(case):
    vec_name, vec = metadata_vectors()
    meta_name, meta = BAD_META[case]
    with pytest.raises(EmbeddingFormatError) as info:
        load_embeddings(vec, vec_name, metadata=meta, metadata_filename=meta_name)
    assert re.search(META_MESSAGE_WORDS[case], str(info.value), re.I | re.S), str(info.value)


@pytest.mark.parametrize("case", sorted(ODD_META))
def test_odd_metadata_loads(case):
    vec_name, vec = metadata_vectors()
    meta_name, meta, want, note = ODD_META[case]
    emb = load_embeddings(vec, vec_name, metadata=meta, metadata_filename=meta_name)
    _assert_labels(emb.labels, want)
    assert re.search(note, emb.note, re.I), emb.note


def test_metadata_parquet_and_count_check():
    from tests.bad_files import _parquet

    meta = _parquet(pd.DataFrame({"w": ["a", "b", "c"]}))
    frame, _ = load_metadata(meta, "m.parquet", n_rows=3)
    assert frame["w"].tolist() == ["a", "b", "c"]
    with pytest.raises(EmbeddingFormatError, match=r"m\.parquet.*3 rows of labels.*4 vectors"):
        load_metadata(meta, "m.parquet", n_rows=4)


def test_non_numeric_python_input_rejected():
    with pytest.raises(EmbeddingFormatError, match="cannot read a int"):
        load_embeddings(12, "x.npy")
    with pytest.raises(EmbeddingFormatError, match="No file name"):
        load_embeddings(b"1,2\n3,4\n")
    with pytest.raises(EmbeddingFormatError, match="does not exist"):
        load_embeddings("/nonexistent/dir/x.npy")


def test_never_unpickles(monkeypatch):
    import pickle

    called = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: called.append(1))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: called.append(1))
    for case in ("object_npy", "object_npz", "pickle_as_npy"):
        filename, raw = BAD[case]
        with pytest.raises(EmbeddingFormatError):
            load_embeddings(raw, filename)
    assert not called


# ---------------------------------------------------------------- data folder ------------

@pytest.fixture()
def data_root(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(root / "a.npy", x)
    np.save(root / ".hidden" / "h.npy", x)
    np.save(outside / "secret.npy", x)
    (root / "sub" / "vectors.tsv").write_text("1\t2\n3\t4\n5\t6\n")
    (root / "sub" / "metadata.tsv").write_text("cat\ndog\nemu\n")
    (root / "notes.md").write_text("not data")
    os.symlink(outside / "secret.npy", root / "link_out.npy")
    os.symlink(outside, root / "dir_out")
    os.symlink(root / "a.npy", root / "link_in.npy")
    return root, outside, x


def test_list_data_files(data_root):
    root, _, _ = data_root
    assert list_data_files(root) == ["a.npy", "link_in.npy", "sub/vectors.tsv"]
    with pytest.raises(EmbeddingFormatError, match="does not exist"):
        list_data_files(root / "nope")


def test_open_data_file_memmaps_and_pairs_metadata(data_root):
    root, _, x = data_root
    emb = open_data_file(root, "a.npy")
    assert isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, x)
    emb = open_data_file(str(root), "sub/vectors.tsv")
    assert emb.labels["label"].tolist() == ["cat", "dog", "emu"]
    assert emb.source == "sub/vectors.tsv"
    assert open_data_file(root, "link_in.npy").vectors.shape == (4, 3)


@pytest.mark.parametrize("name, words", [
    ("../outside/secret.npy", r"'\.\.' is not allowed"),
    ("sub/../../outside/secret.npy", r"'\.\.' is not allowed"),
    ("link_out.npy", "outside the data folder"),
    ("dir_out/secret.npy", "outside the data folder"),
    ("missing.npy", "does not exist"),
    ("sub", "does not exist|not a regular file"),
    ("", "Empty or invalid"),
])
def test_open_data_file_refuses_escapes(data_root, name, words):
    root, _, _ = data_root
    with pytest.raises(EmbeddingFormatError, match=words):
        open_data_file(root, name)


def test_open_data_file_refuses_absolute_paths(data_root):
    root, outside, _ = data_root
    with pytest.raises(EmbeddingFormatError, match="absolute paths are not allowed"):
        open_data_file(root, str(outside / "secret.npy"))
    with pytest.raises(EmbeddingFormatError, match="absolute paths are not allowed"):
        open_data_file(root, str(root / "a.npy"))
    with pytest.raises(EmbeddingFormatError, match="outside the data folder"):
        open_data_file(root, "a.npy", metadata_name="link_out.npy")


def test_pandas_to_csv_outputs_load_as_written():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    df = pd.DataFrame(x)  # columns 0..3
    for kw in (dict(index=False), dict(index=True)):
        emb = load_embeddings(df.to_csv(**kw).encode(), "p.csv")
        np.testing.assert_allclose(emb.vectors, x, rtol=1e-6)
        assert emb.labels is None
    assert "index column" in load_embeddings(df.to_csv(index=True).encode(), "p.csv").note
    df.insert(0, "word", list("abcde"))
    emb = load_embeddings(df.to_csv(index=True).encode(), "p.csv")
    np.testing.assert_allclose(emb.vectors, x, rtol=1e-6)
    assert emb.labels["word"].tolist() == list("abcde")


def test_small_integer_matrix_first_row_is_data():
    # a hand-typed matrix must not lose its first row to header detection
    assert load_embeddings(b"0,1,2\n3,4,5\n", "m.csv").vectors.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert load_embeddings(b"1,2\n3,4\n", "m.csv").vectors.tolist() == [[1, 2], [3, 4]]
    assert load_embeddings(b"1 2 3\n4 5 6\n", "m.txt").vectors.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_word2vec_text_format_and_wide_rows():
    emb = load_embeddings(b"2 3\nking 0.1 0.2 0.3\nqueen 0.4 0.5 0.6\n", "w2v.txt")
    assert emb.vectors.shape == (2, 3) and emb.labels["label"].tolist() == ["king", "queen"]
    assert "word2vec header" in emb.note
    wide = np.random.default_rng(0).standard_normal((3, 40_000))  # lines longer than the first sample
    text = "\n".join("\t".join(f"{v:.5f}" for v in row) for row in wide).encode()
    emb = load_embeddings(text, "wide.tsv")
    np.testing.assert_allclose(emb.vectors, wide, atol=1e-5)


def test_parquet_integer_ids_are_labels_and_saved_index_kept():
    from tests.bad_files import _parquet

    df = pd.DataFrame({"id": [7, 8, 9], "a": [1.0, 2, 3], "b": [4.0, 5, 6], "w": list("xyz")})
    emb = load_embeddings(_parquet(df), "t.parquet")
    np.testing.assert_array_equal(emb.vectors, [[1, 4], [2, 5], [3, 6]])
    assert list(emb.labels.columns) == ["id", "w"]
    buf = io.BytesIO()
    pd.DataFrame({"emb": [[1.0, 2.0], [3.0, 4.0]]}, index=pd.Index(["p", "q"], name="word")).to_parquet(buf)
    emb = load_embeddings(buf.getvalue(), "t.parquet")
    assert emb.labels["word"].tolist() == ["p", "q"]


def test_npz_from_path_memory_maps_stored_arrays(tmp_path):
    x = np.random.default_rng(2).standard_normal((40, 6)).astype(np.float32)
    np.savez(tmp_path / "a.npz", bias=np.ones(3), emb=x)
    emb = load_embeddings(tmp_path / "a.npz", key="emb")
    assert isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, x)
    np.savez_compressed(tmp_path / "b.npz", emb=x)
    np.testing.assert_array_equal(load_embeddings(tmp_path / "b.npz").vectors, x)


def test_npz_refuses_member_inflating_past_the_limit(monkeypatch):
    from la_core.io import errors

    monkeypatch.setattr(errors, "MAX_INFLATED", 100)
    from tests.bad_files import _npz

    with pytest.raises(EmbeddingFormatError, match=r"big\.npz.*uncompressed.*at most"):
        load_embeddings(_npz(emb=np.zeros((10, 10), np.float32)), "big.npz")


def test_metadata_inner_blank_lines_are_empty_labels():
    frame, _ = load_metadata(b"a\n\nc\n\n\n", "m.tsv", n_rows=3)
    assert frame["label"].tolist() == ["a", "", "c"]


@pytest.mark.parametrize("filename, raw, vectors, labels", [
    ("crlf.csv", b"1,2\r\n3,4\r\n", [[1, 2], [3, 4]], None),
    ("semicolon.csv", b"1;2\n3;4\n", [[1, 2], [3, 4]], None),
    ("excel_eu.csv", b"w;a;b\nx;1,5;2,5\ny;3,5;4,5\n", [[1.5, 2.5], [3.5, 4.5]], {"w": ["x", "y"]}),
    ("decimal_comma.txt", b"1,5 2,5\n3,5 4,5\n", [[1.5, 2.5], [3.5, 4.5]], None),
    ("trailing_tab.tsv", b"1\t2\t\n3\t4\t\n", [[1, 2], [3, 4]], None),
    ("quoted.csv", b'"hello, world",1,2\n"say ""hi""",3,4\n', [[1, 2], [3, 4]],
     {"label": ["hello, world", 'say "hi"']}),
    ("na_words.csv", b"NA,1,2\nnull,3,4\nnan,5,6\n", [[1, 2], [3, 4], [5, 6]], {"label": ["NA", "null", "nan"]}),
    ("latin1.csv", "caf\u00e9,1,2\nna\u00efve,3,4\n".encode("latin-1"), [[1, 2], [3, 4]],
     {"label": ["caf\u00e9", "na\u00efve"]}),
])
def test_text_dialects(filename, raw, vectors, labels):
    emb = load_embeddings(raw, filename)
    np.testing.assert_allclose(emb.vectors, vectors)
    _assert_labels(emb.labels, None if labels is None else pd.DataFrame(labels))


def test_bad_value_after_the_sniffed_lines_is_located():
    text = "\n".join(f"w{i},{i},{i + 1}" for i in range(400)) + "\nbad,5x,3\n"
    with pytest.raises(EmbeddingFormatError, match=r"late\.csv.*not a number at row 401, column 2: '5x'"):
        load_embeddings(text.encode(), "late.csv")


def test_wide_rows_with_labels():
    wide = np.random.default_rng(0).standard_normal((3, 3000))
    text = "\n".join(f"w{i}\t" + "\t".join(f"{v:.5f}" for v in row) for i, row in enumerate(wide)).encode()
    emb = load_embeddings(text, "wide.tsv")
    np.testing.assert_allclose(emb.vectors, wide, atol=1e-5)
    assert emb.labels["label"].tolist() == ["w0", "w1", "w2"]


def test_parquet_refuses_data_inflating_past_the_limit(monkeypatch):
    from la_core.io import errors

    monkeypatch.setattr(errors, "MAX_INFLATED", 1000)
    raw = GOOD["parquet_columns"][1]
    load_embeddings(raw, "ok.parquet")  # 6 rows × 5 columns: under the limit
    big = bad_files_parquet_zeros()
    with pytest.raises(EmbeddingFormatError, match=r"zeros\.parquet.*values.*GiB.*at most"):
        load_embeddings(big, "zeros.parquet")


def bad_files_parquet_zeros() -> bytes:
    from tests.bad_files import _parquet

    return _parquet(pd.DataFrame({"a": np.zeros(200), "b": np.zeros(200)}))  # compresses to almost nothing


def test_npy_header_size_is_bounded():
    import struct

    with pytest.raises(EmbeddingFormatError, match=r"h\.npy.*corrupt.*1,000,000,000 bytes"):
        load_embeddings(b"\x93NUMPY\x02\x00" + struct.pack("<I", 10**9) + b"{", "h.npy")


@pytest.mark.parametrize("sep", [",", "\t", " "])
def test_integer_rows_are_never_mistaken_for_headers(sep):
    # "0,1" then "1,2": neither a word2vec "count dim" line nor a header
    x = np.array([[i, i + 1] for i in range(300)], dtype=np.float32)
    text = "\n".join(sep.join(str(int(v)) for v in row) for row in x).encode()
    ext = {",": ".csv", "\t": ".tsv", " ": ".txt"}[sep]
    np.testing.assert_array_equal(load_embeddings(text, "ints" + ext).vectors, x)


@pytest.mark.parametrize("shape, words", [
    ((2**40, 4), r"truncated.*announces shape"),
    ((4, 2**61), r"corrupt.*impossible shape"),
    ((0, 2**63), r"corrupt.*impossible shape"),
    ((2**64, 2), r"corrupt.*impossible shape"),
])
def test_npy_headers_with_absurd_shapes(shape, words, tmp_path):
    import struct

    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (shape,)
    h = h + " " * (118 - len(h)) + "\n"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + b"\x00" * 64
    with pytest.raises(EmbeddingFormatError, match=r"x\.npy.*" + words):
        load_embeddings(raw, "x.npy")
    (tmp_path / "x.npy").write_bytes(raw)
    with pytest.raises(EmbeddingFormatError, match=r"x\.npy.*" + words):
        load_embeddings(tmp_path / "x.npy")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_first_nonfinite_finds_the_first_bad_value_or_none(dtype):
    from la_core.io.finish import first_nonfinite

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 7)).astype(dtype)
    assert first_nonfinite(X) is None
    for r, c, v in [(0, 0, np.nan), (2999, 6, np.inf), (1234, 3, -np.inf)]:
        Y = X.copy()
        Y[r, c] = v
        Y[r + 1 if r < 2999 else 0, 2] = np.nan                     # a later (or earlier) one too
        assert first_nonfinite(Y) == ((0, 2) if r == 2999 else (r, c))
    Y = X.copy()
    Y[7, 1], Y[7, 5] = np.inf, -np.inf                              # a row whose sum is NaN
    assert first_nonfinite(Y) == (7, 1)
    big = np.finfo(dtype).max
    Y = np.full((5, 4), big, dtype)                                 # finite, but every row sum overflows
    assert first_nonfinite(Y) is None
    assert first_nonfinite(np.asfortranarray(X[::-1])) is None       # any layout
