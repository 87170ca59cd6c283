"""Issue 9: fuzz the loader. Random bytes, and good files with bytes cut or flipped, under every
accepted extension: the result is either an ``Embeddings`` (finite float32 ``(n, d)``, n, d >= 2)
or an ``EmbeddingFormatError`` with a message naming the file, never another exception."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from la_core.io import (EMBEDDING_EXTENSIONS, EmbeddingFormatError, Embeddings, list_tensors, load_embeddings,
                        load_metadata)
from tests.bad_files import good_files

GOOD = good_files()
# IO_FUZZ_EXAMPLES=2000 for a longer hunt by hand; the suite keeps 50
SETTINGS = settings(max_examples=int(os.environ.get("IO_FUZZ_EXAMPLES", "50")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# prefixes that steer random bytes into each parser's deeper code
MAGICS = [b"", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"PK\x03\x04", b"PAR1",
          b"\x10\x00\x00\x00\x00\x00\x00\x00{", b"1,2\n", b"a\t1\t2\n", b"\xef\xbb\xbf"]


def _check(data: bytes, filename: str, **kw):
    try:
        emb = load_embeddings(data, filename, **kw)
    except EmbeddingFormatError as exc:
        assert str(exc).strip()
        return None
    assert isinstance(emb, Embeddings)
    v = emb.vectors
    assert v.dtype == np.float32 and v.ndim == 2 and v.shape[0] >= 2 and v.shape[1] >= 2
    assert np.isfinite(v).all()
    if emb.labels is not None:
        assert len(emb.labels) == v.shape[0]
    return emb


@SETTINGS
@given(ext=st.sampled_from(EMBEDDING_EXTENSIONS), magic=st.sampled_from(MAGICS), body=st.binary(max_size=600))
def test_random_bytes(ext, magic, body):
    _check(magic + body, "fuzz" + ext)


@SETTINGS
@given(case=st.sampled_from(sorted(GOOD)), data=st.data())
def test_mutated_good_files(case, data):
    filename, raw, _, _ = GOOD[case]
    raw = bytearray(raw)
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, max(0, len(raw) - 1)), st.integers(0, 255)), max_size=6))
    for pos, val in flips:
        if pos < len(raw):
            raw[pos] = val
    raw = bytes(raw[:cut]) if data.draw(st.booleans(), label="truncate") else bytes(raw)
    _check(raw, filename)


TOKENS = list("0123456789.-+eE,\t ;\n\"'abnNiIfF\u00e9") + ["nan", "inf", "1e400", "\n1,2,3", "\n4\t5"]
TEXT = st.lists(st.sampled_from(TOKENS), max_size=120).map("".join)


@SETTINGS
@given(text=TEXT, ext=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_random_text_tables(text, ext):
    _check(text.encode("utf-8"), "fuzz" + ext)


@SETTINGS
@given(meta=st.binary(max_size=300), ext=st.sampled_from([".tsv", ".csv", ".txt", ".parquet", ""]))
def test_random_metadata(meta, ext):
    try:
        frame, note = load_metadata(meta, "meta" + ext, n_rows=3)
    except EmbeddingFormatError as exc:
        assert str(exc).strip()
        return
    assert len(frame) == 3


@SETTINGS
@given(body=st.binary(max_size=400), magic=st.sampled_from(MAGICS), ext=st.sampled_from([".npz", ".safetensors", None]))
def test_list_tensors_random(body, magic, ext):
    try:
        out = list_tensors(magic + body, None if ext is None else "f" + ext)
    except EmbeddingFormatError:
        return
    assert isinstance(out, dict)


@pytest.mark.parametrize("case", sorted(GOOD))
def test_good_files_survive_the_checker(case):
    filename, raw, _, _ = GOOD[case]
    assert _check(raw, filename) is not None


AWKWARD = [None, 0, 1.5, float("nan"), "", "x", "a.npy", "/etc/passwd", "../x.npy", "/tmp", b"", b"abc",
           np.zeros((2, 2)), [1, 2], {"a": 1}, -1, True]


@SETTINGS
@given(fn=st.sampled_from(["load_embeddings", "list_tensors", "list_data_files", "open_data_file", "load_metadata"]),
       args=st.lists(st.sampled_from(AWKWARD), min_size=1, max_size=3))
def test_awkward_arguments_raise_only_embedding_format_error(fn, args):
    import la_core.io as lio

    try:
        getattr(lio, fn)(*args)
    except EmbeddingFormatError as exc:
        assert str(exc).strip()
    except TypeError as exc:  # only a wrong number of arguments may escape
        assert "argument" in str(exc)


def test_unreadable_file_gives_a_message(tmp_path, monkeypatch):
    from la_core.io import npy

    p = tmp_path / "locked.npy"
    np.save(p, np.ones((2, 2), np.float32))

    def denied(path, *a, **k):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(npy, "open", denied, raising=False)  # module globals shadow the builtin
    with pytest.raises(EmbeddingFormatError, match=r"locked\.npy: cannot be read \(Permission denied\)"):
        load_embeddings(p)


@SETTINGS
@given(data=st.data(), n=st.integers(2, 7), d=st.integers(2, 6), sep=st.sampled_from([",", "\t", " ", ";"]),
       header=st.booleans(), label=st.sampled_from([None, "first", "last"]), ints=st.booleans())
def test_text_round_trip_property(data, n, d, sep, header, label, ints):
    """Any finite matrix written as text (with or without header/labels) loads back exactly."""
    elem = st.integers(-50, 50).map(float) if ints else st.floats(-1e6, 1e6, allow_nan=False, width=32)
    x = np.array(data.draw(st.lists(st.lists(elem, min_size=d, max_size=d), min_size=n, max_size=n)), np.float32)
    words = [f"w{i}" for i in range(n)]
    lines = []
    if header:
        names = [f"d{j}" for j in range(d)]
        lines.append(sep.join((["word"] if label == "first" else []) + names + (["word"] if label == "last" else [])))
    for w, row in zip(words, x):
        nums = [str(int(v)) if ints else repr(float(v)) for v in row]
        lines.append(sep.join(([w] if label == "first" else []) + nums + ([w] if label == "last" else [])))
    ext = {",": ".csv", "\t": ".tsv", " ": ".txt", ";": ".csv"}[sep]
    emb = load_embeddings("\n".join(lines).encode(), "m" + ext)
    np.testing.assert_array_equal(emb.vectors, x)
    if label:
        assert emb.labels.iloc[:, 0].tolist() == words
    else:
        assert emb.labels is None
