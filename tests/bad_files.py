"""Issue 9: a catalogue of bad (and good) embedding files, built in memory.

Used by ``tests/test_io.py`` and by the page tests, which feed the same files through the real
Streamlit uploader and expect an ``st.error`` (never a traceback).

- :func:`bad_files` -> ``{case: (filename, bytes)}``: vector files that must raise
  ``EmbeddingFormatError``; :data:`MESSAGE_WORDS` gives, per case, a regex the message must match.
- :func:`bad_metadata` -> ``{case: (filename, bytes)}``: metadata that must be refused when paired
  with :func:`metadata_vectors` (3 vectors).
- :func:`odd_metadata` -> ``{case: (filename, bytes, expected_labels)}``: awkward metadata that must
  load (duplicate labels; non-UTF-8 text, decoded as cp1252 with a note).
- :func:`good_files` -> ``{case: (filename, bytes, vectors, labels)}``: one round trip per format.
"""
from __future__ import annotations

import io
import json
import pickle
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from safetensors.numpy import save as st_save

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _npy(arr, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _parquet(frame: pd.DataFrame | pa.Table) -> bytes:
    buf = io.BytesIO()
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, buf)
    return buf.getvalue()


def _safetensors_raw(header: dict, payload: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + payload


def _good_matrix(n: int = 4, d: int = 3) -> np.ndarray:
    return (np.arange(n * d, dtype=np.float32).reshape(n, d) - 5.5) / 4


def bad_files() -> dict[str, tuple[str, bytes]]:
    """Every bad vectors file of issue 9: ``{case: (filename, bytes)}``."""
    x = _good_matrix()
    nan = x.copy()
    nan[1, 2] = np.nan
    inf = x.copy()
    inf[2, 0] = np.inf
    good_npy = _npy(x)
    good_npz = _npz(embeddings=x)
    good_pq = _parquet(pd.DataFrame({"word": list("abcd"), "vec": list(x.astype(np.float64))}))
    good_st = st_save({"emb": x})
    obj = np.empty((2, 2), dtype=object)
    obj[:] = [[1, "a"], [None, 2.0]]
    return {
        # non-finite values
        "nan_npy": ("nan.npy", _npy(nan)),
        "inf_npy": ("inf.npy", _npy(inf)),
        "nan_csv": ("nan.csv", b"1,2,3\n4,nan,6\n7,8,9\n"),
        "empty_cell_csv": ("hole.csv", b"1,2,3\n4,,6\n7,8,9\n"),
        "inf_tsv": ("inf.tsv", b"1\t2\n3\tinf\n"),
        "overflow_csv": ("overflow.csv", b"1,2\n3,1e400\n5,6\n"),
        "overflow_float32_npy": ("big.npy", _npy(np.array([[1.0, 2.0], [1e300, 4.0]]))),
        "nan_parquet": ("nan.parquet", _parquet(pd.DataFrame({"a": [1.0, np.nan], "b": [1.0, 2.0]}))),
        "nan_safetensors": ("nan.safetensors", st_save({"emb": nan})),
        # no unpickling, no code
        "object_npy": ("object.npy", _npy(obj, allow_pickle=True)),
        "pickle_as_npy": ("pickle.npy", pickle.dumps([[1.0, 2.0], [3.0, 4.0]])),
        "object_npz": ("object.npz", _npz_obj(obj)),
        # wrong shapes
        "one_d_npy": ("vector.npy", _npy(np.arange(5, dtype=np.float32))),
        "three_d_npy": ("cube.npy", _npy(np.zeros((2, 3, 4), dtype=np.float32))),
        "zero_d_npy": ("scalar.npy", _npy(np.float32(1.0))),
        "one_row_npy": ("row.npy", _npy(np.ones((1, 5), dtype=np.float32))),
        "one_col_npy": ("col.npy", _npy(np.ones((5, 1), dtype=np.float32))),
        "zero_rows_npy": ("norows.npy", _npy(np.ones((0, 5), dtype=np.float32))),
        "one_row_csv": ("row.csv", b"1,2,3\n"),
        "one_col_csv": ("col.csv", b"1\n2\n3\n"),
        "one_d_safetensors": ("bias.safetensors", st_save({"bias": np.ones(4, dtype=np.float32)})),
        # not numbers
        "text_csv": ("words.csv", b"hello,world\nfoo,bar\nbaz,qux\n"),
        "text_middle_csv": ("middle.csv", b"1,a,3\n4,b,6\n7,c,9\n"),
        "bad_value_csv": ("typo.csv", b"1,2,3\n4,5x,6\n7,8,9\n"),
        "string_npy": ("strings.npy", _npy(np.array([["a", "b"], ["c", "d"]]))),
        "complex_npy": ("complex.npy", _npy(np.ones((2, 2), dtype=np.complex64))),
        "structured_npy": ("records.npy", _npy(np.zeros((2, 2), dtype=[("a", "<f4"), ("b", "<i4")]))),
        "datetime_npy": ("dates.npy", _npy(np.zeros((2, 2), dtype="datetime64[s]"))),
        "text_parquet": ("text.parquet", _parquet(pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}))),
        "ragged_parquet": ("ragged.parquet", _parquet(pd.DataFrame({"vec": [[1.0, 2.0], [3.0, 4.0, 5.0]]}))),
        # ragged rows
        "ragged_long_csv": ("ragged.csv", b"1,2,3\n4,5,6,7\n8,9,10\n"),
        "ragged_short_csv": ("short.csv", b"1,2,3\n4,5\n7,8,9\n"),
        # empty files
        "empty_npy": ("empty.npy", b""),
        "empty_npz": ("empty.npz", b""),
        "empty_csv": ("empty.csv", b""),
        "blank_tsv": ("blank.tsv", b"\n \n\n"),
        "empty_parquet": ("empty.parquet", b""),
        "empty_safetensors": ("empty.safetensors", b""),
        "header_only_csv": ("header.csv", b"a,b,c\n"),
        # truncated / corrupt
        "truncated_npy": ("cut.npy", good_npy[: len(good_npy) - 7]),
        "corrupt_header_npy": ("badhead.npy", b"\x93NUMPY\x01\x00\x20\x00{'descr': <f4, oops" + b" " * 20),
        "huge_shape_npy": ("liar.npy", _liar_npy()),
        "truncated_npz": ("cut.npz", good_npz[: len(good_npz) // 2]),
        "corrupt_npz": ("garbage.npz", b"PK\x03\x04" + bytes(range(256)) * 2),
        "truncated_parquet": ("cut.parquet", good_pq[: len(good_pq) // 2]),
        "corrupt_parquet": ("garbage.parquet", b"PAR1" + bytes(range(200)) + b"PAR1"),
        "truncated_safetensors": ("cut.safetensors", good_st[: len(good_st) - 5]),
        "corrupt_safetensors": ("garbage.safetensors", struct.pack("<Q", 12) + b"{not json!!}"),
        "liar_safetensors": ("liar.safetensors", _safetensors_raw(
            {"emb": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}}, b"\x00" * 16)),
        "f8_safetensors": ("fp8.safetensors", _safetensors_raw(
            {"emb": {"dtype": "F8_E4M3", "shape": [2, 2], "data_offsets": [0, 4]}}, b"\x00" * 4)),
        # wrong format for the extension
        "png_as_npy": ("image.npy", PNG),
        "png_as_csv": ("image.csv", PNG),
        "png_as_npz": ("image.npz", PNG),
        "png_as_parquet": ("image.parquet", PNG),
        "png_as_safetensors": ("image.safetensors", PNG),
        "npz_as_npy": ("mislabelled.npy", good_npz),
        "unknown_extension": ("weights.pkl", pickle.dumps([1, 2])),
        "no_extension": ("embeddings", good_npy),
        "pytorch_checkpoint": ("model.pt", b"PK\x03\x04" + pickle.dumps({"w": [1.0, 2.0]})),
    }


def _npz_obj(obj) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, embeddings=obj)  # savez pickles object arrays
    return buf.getvalue()


def _liar_npy() -> bytes:
    """An .npy whose header announces 10^12 floats but holds 16 bytes."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header = header + " " * (64 - 10 - len(header) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + b"\x00" * 16


#: regex (case-insensitive) that the error message of each bad case must match
MESSAGE_WORDS: dict[str, str] = {
    "nan_npy": r"nan\.npy.*NaN.*row 2, column 3",
    "inf_npy": r"inf\.npy.*infinite.*row 3, column 1",
    "nan_csv": r"nan\.csv.*(missing|NaN).*row 2, column 2",
    "empty_cell_csv": r"hole\.csv.*empty.*row 2, column 2",
    "inf_tsv": r"inf\.tsv.*infinite",
    "overflow_csv": r"overflow\.csv.*(infinite|too large).*1e400",
    "overflow_float32_npy": r"big\.npy.*too large for float32",
    "nan_parquet": r"nan\.parquet.*(null|NaN|missing)",
    "nan_safetensors": r"nan\.safetensors.*NaN",
    "object_npy": r"object\.npy.*Python objects.*pickle",
    "pickle_as_npy": r"pickle\.npy.*not a NumPy \.npy file.*pickle",
    "object_npz": r"object\.npz.*Python objects",
    "one_d_npy": r"vector\.npy.*1-D.*not a matrix",
    "three_d_npy": r"cube\.npy.*3-D.*reshape",
    "zero_d_npy": r"scalar\.npy.*single number",
    "one_row_npy": r"row\.npy.*1 row.*at least 2 rows",
    "one_col_npy": r"col\.npy.*1 column.*at least 2 columns",
    "zero_rows_npy": r"norows\.npy.*0 rows.*at least 2 rows",
    "one_row_csv": r"row\.csv.*1 row.*at least 2 rows",
    "one_col_csv": r"col\.csv.*1 column.*at least 2 columns",
    "one_d_safetensors": r"bias\.safetensors.*no 2-D tensor.*bias",
    "text_csv": r"words\.csv.*no numeric columns",
    "text_middle_csv": r"middle\.csv.*column 2.*text.*first or last",
    "bad_value_csv": r"typo\.csv.*not a number.*row 2, column 2.*5x",
    "string_npy": r"strings\.npy.*text",
    "complex_npy": r"complex\.npy.*complex",
    "structured_npy": r"records\.npy.*structured",
    "datetime_npy": r"dates\.npy.*dates",
    "text_parquet": r"text\.parquet.*no .*numeric columns",
    "ragged_parquet": r"ragged\.parquet.*different lengths.*row 2 has 3",
    "ragged_long_csv": r"ragged\.csv.*different lengths.*row 2 has 4",
    "ragged_short_csv": r"short\.csv.*different lengths.*row 2 has 2",
    "empty_npy": r"empty\.npy.*empty",
    "empty_npz": r"empty\.npz.*empty",
    "empty_csv": r"empty\.csv.*empty",
    "blank_tsv": r"blank\.tsv.*empty",
    "empty_parquet": r"empty\.parquet.*empty",
    "empty_safetensors": r"empty\.safetensors.*empty",
    "header_only_csv": r"header\.csv.*only a header",
    "truncated_npy": r"cut\.npy.*truncated",
    "corrupt_header_npy": r"badhead\.npy.*corrupt",
    "huge_shape_npy": r"liar\.npy.*truncated.*\(1000000, 1000000\)",
    "truncated_npz": r"cut\.npz.*(truncated|corrupt)",
    "corrupt_npz": r"garbage\.npz.*(truncated|corrupt)",
    "truncated_parquet": r"cut\.parquet.*(truncated|corrupt)",
    "corrupt_parquet": r"garbage\.parquet.*(truncated|corrupt)",
    "truncated_safetensors": r"cut\.safetensors.*(truncated|corrupt)",
    "corrupt_safetensors": r"garbage\.safetensors.*(not JSON|corrupt)",
    "liar_safetensors": r"liar\.safetensors.*(truncated|corrupt)",
    "f8_safetensors": r"fp8\.safetensors.*F8_E4M3.*not supported",
    "png_as_npy": r"image\.npy.*not a NumPy \.npy file.*PNG image",
    "png_as_csv": r"image\.csv.*not a text table.*PNG image",
    "png_as_npz": r"image\.npz.*not an \.npz.*PNG image",
    "png_as_parquet": r"image\.parquet.*not a Parquet file.*PNG image",
    "png_as_safetensors": r"image\.safetensors.*not a valid \.safetensors.*PNG image",
    "npz_as_npy": r"mislabelled\.npy.*not a NumPy \.npy file.*zip archive",
    "unknown_extension": r"weights\.pkl.*unsupported extension.*Accepted",
    "no_extension": r"embeddings.*unsupported extension.*Accepted",
    "pytorch_checkpoint": r"model\.pt.*unsupported extension.*never opened.*run code",
}


def metadata_vectors() -> tuple[str, bytes]:
    """A valid vectors file with 3 rows, to pair with the metadata cases."""
    return "vectors.tsv", b"0.1\t0.2\n0.3\t0.4\n0.5\t0.6\n"


def bad_metadata() -> dict[str, tuple[str, bytes]]:
    """Metadata that must be refused next to :func:`metadata_vectors` (3 vectors)."""
    return {
        "too_few_labels": ("metadata.tsv", b"cat\ndog\n"),
        "too_many_labels": ("metadata.tsv", b"cat\ndog\nemu\nfox\nyak\n"),
        "multi_column_no_header": ("metadata.tsv", b"cat\tanimal\ndog\tanimal\nemu\tbird\n"),
        "png_metadata": ("metadata.tsv", PNG),
        "empty_metadata": ("metadata.tsv", b""),
    }


META_MESSAGE_WORDS = {
    "too_few_labels": r"metadata\.tsv.*2 rows of labels.*3 vectors",
    "too_many_labels": r"metadata\.tsv.*5 rows of labels.*3 vectors",
    "multi_column_no_header": r"metadata\.tsv.*2 rows of labels.*3 vectors.*header",
    "png_metadata": r"metadata\.tsv.*not a text file.*PNG image",
    "empty_metadata": r"metadata\.tsv.*empty",
}


def odd_metadata() -> dict[str, tuple[str, bytes, pd.DataFrame, str]]:
    """Awkward metadata that must load: ``{case: (filename, bytes, labels, note regex)}``."""
    return {
        "duplicate_labels": ("metadata.tsv", b"cat\ncat\ndog\n", pd.DataFrame({"label": ["cat", "cat", "dog"]}), r"^$"),
        "non_utf8_metadata": ("metadata.tsv", "caf\u00e9\nna\u00efve\nd\u00e9j\u00e0\n".encode("cp1252"),
                              pd.DataFrame({"label": ["caf\u00e9", "na\u00efve", "d\u00e9j\u00e0"]}),
                              r"not UTF-8.*cp1252"),
        "header_single_column": ("metadata.tsv", b"word\ncat\ndog\nemu\n",
                                 pd.DataFrame({"word": ["cat", "dog", "emu"]}), r"first line.*header"),
        "projector_multi_column": ("metadata.tsv", b"word\tkind\tsize\ncat\tanimal\t3\ndog\tanimal\t5\nemu\tbird\t4\n",
                                   pd.DataFrame({"word": ["cat", "dog", "emu"], "kind": ["animal", "animal", "bird"],
                                                 "size": [3, 5, 4]}), r"^$"),
        "utf8_bom_csv": ("labels.csv", "\ufeffword,kind\ncat,a\ndog,a\n\u00e9mu,b\n".encode("utf-8"),
                         pd.DataFrame({"word": ["cat", "dog", "\u00e9mu"], "kind": ["a", "a", "b"]}), r"^$"),
        "na_words": ("metadata.tsv", b"NA\nnull\nnan\n", pd.DataFrame({"label": ["NA", "null", "nan"]}), r"^$"),
    }


def good_files() -> dict[str, tuple[str, bytes, np.ndarray, pd.DataFrame | None]]:
    """One round trip per format: ``{case: (filename, bytes, expected float32 vectors, expected labels)}``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    words = ["king", "queen", "man", "woman", "king", "na"]  # a duplicate and an NA-like word
    lab = pd.DataFrame({"word": words})
    txt = "\n".join("\t".join(repr(float(v)) for v in row) for row in x).encode()
    csv_word = ("word," + ",".join(f"v{i}" for i in range(4)) + "\n" + "\n".join(
        w + "," + ",".join(repr(float(v)) for v in row) for w, row in zip(words, x))).encode()
    csv_trailing = "\n".join(",".join(repr(float(v)) for v in row) + "," + w for w, row in zip(words, x)).encode()
    glove = "\n".join(w + " " + " ".join(repr(float(v)) for v in row) for w, row in zip(words, x)).encode()
    x64 = rng.standard_normal((5, 3))
    ints = rng.integers(-5, 5, (4, 3)).astype(np.int64)
    fixed = pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), 4)
    bf16_src = x.view(np.uint32) >> 16
    tags = [["royal"], ["royal", "f"], [], ["f"], ["royal"], ["x", "y", "z"]]
    int_x = rng.integers(-9, 9, (6, 4))
    bf16 = (bf16_src.astype(np.uint32) << 16).view(np.float32)
    return {
        "npy_float32": ("emb.npy", _npy(x), x, None),
        "npy_float64": ("emb64.npy", _npy(x64), x64.astype(np.float32), None),
        "npy_int": ("ints.npy", _npy(ints), ints.astype(np.float32), None),
        "npy_fortran": ("fortran.npy", _npy(np.asfortranarray(x)), x, None),
        "npy_big_endian": ("be.npy", _npy(x.astype(">f4")), x, None),
        "npy_float16": ("half.npy", _npy(x.astype(np.float16)), x.astype(np.float16).astype(np.float32), None),
        "npz_first": ("first.npz", _npz(a=x, b=x64), x, None),
        "npz_named": ("named.npz", _npz(a=x64, vectors=x), x, None),
        "tsv_projector": ("vectors.tsv", txt, x, None),
        "csv_header_labels": ("words.csv", csv_word, x, lab),
        "csv_trailing_labels": ("trail.csv", csv_trailing, x, pd.DataFrame({"label": words})),
        "txt_glove": ("glove.txt", glove, x, pd.DataFrame({"label": words})),
        "parquet_list": ("list.parquet", _parquet(pd.DataFrame({"word": words, "embedding": list(x)})), x, lab),
        "parquet_fixed_list": ("fixed.parquet", _parquet(pa.table({"vec": fixed, "word": words})), x, lab),
        "parquet_columns": ("cols.parquet", _parquet(pd.DataFrame(
            {"word": words, **{f"d{i}": x[:, i] for i in range(4)}})), x, lab),
        # a list column of vectors beside a list-of-strings column: the strings are labels
        "parquet_list_and_tags": ("tags.parquet", _parquet(pd.DataFrame({"embedding": list(x), "tags": tags})), x,
                                  pd.DataFrame({"tags": [np.array(t, dtype=object) for t in tags]})),
        # integer dimensions (no float column): the integer columns are the vectors
        "parquet_int_columns": ("intcols.parquet", _parquet(pd.DataFrame(
            {"word": words, **{f"d{i}": int_x[:, i] for i in range(4)}})), int_x.astype(np.float32), lab),
        # several list columns of numbers: the preferred name ("vectors") wins, the other is a label
        "parquet_two_lists": ("two.parquet", _parquet(pd.DataFrame({"first": list(2.0 * x[:, :3]), "vectors": list(x)})),
                              x, pd.DataFrame({"first": list(2.0 * x[:, :3])})),
        "safetensors_only": ("emb.safetensors", st_save({"weight": x}), x, None),
        "safetensors_first_2d": ("model.safetensors", st_save({"a_bias": np.ones(3, np.float32), "b_weight": x}),
                                 x, None),
        "safetensors_bf16": ("bf16.safetensors", _safetensors_raw(
            {"w": {"dtype": "BF16", "shape": [6, 4], "data_offsets": [0, 48]}},
            bf16_src.astype("<u2").tobytes()), bf16, None),
    }
