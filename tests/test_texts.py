"""la_core.texts: reading texts to embed (pasted lines, .txt, .csv, .tsv, .parquet, .jsonl), the messages
for bad input, the cache key, and embed_texts against sentence-transformers' encode."""
from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from la_core import texts as lt

FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "label": ["animal", "animal", "food", "food"],
                      "text": ["a cat", "", "soup, hot", "a cat"], "score": [0.5, 1.5, 2.5, 3.5]})


def _bytes(kind: str, frame: pd.DataFrame = FRAME) -> bytes:
    if kind == ".csv":
        return frame.to_csv(index=False).encode()
    if kind == ".tsv":
        return frame.to_csv(index=False, sep="\t").encode()
    if kind == ".jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode()
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


def test_pasted_lines_drop_empty_ones_keep_and_count_duplicates():
    t = lt.read_texts("the cat\n\n   \n a dog \nthe cat\r\nsoup")
    assert t.texts == ["the cat", "a dog", "the cat", "soup"]          # white space around a line removed
    assert t.rows.tolist() == [0, 3, 4, 5] and t.column == "text" and t.text_columns == ["text"]
    assert (t.n_source, t.n_empty, t.n_duplicates, t.truncated) == (6, 2, 1, False)
    assert t.meta.shape == (4, 0) and len(t) == 4
    assert t.note == "2 empty texts dropped; 1 duplicate text kept (each repeats an earlier one)."


def test_a_clean_input_has_no_note():
    t = lt.read_texts("one\ntwo")
    assert t.note == "" and t.n_empty == t.n_duplicates == 0


@pytest.mark.parametrize("kind", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_tables_give_the_text_column_and_the_other_columns_as_metadata(kind):
    t = lt.read_texts(_bytes(kind), f"upload{kind}")
    assert t.column == "text"                                          # named "text": preferred to "label"
    assert t.texts == ["a cat", "soup, hot", "a cat"]
    assert t.rows.tolist() == [0, 2, 3]
    assert list(t.meta.columns) == ["id", "label", "score"]
    assert t.meta["id"].tolist() == [1, 3, 4] and t.meta["score"].tolist() == [0.5, 2.5, 3.5]
    assert t.meta["label"].tolist() == ["animal", "food", "food"]
    assert t.text_columns == ["label", "text"]
    assert (t.n_empty, t.n_duplicates) == (1, 1)
    assert "texts from column 'text'" in t.note and "1 empty text dropped" in t.note


@pytest.mark.parametrize("kind", [".csv", ".parquet", ".jsonl"])
def test_a_chosen_column_is_used(kind):
    t = lt.read_texts(_bytes(kind), f"f{kind}", column="label")
    assert t.texts == ["animal", "animal", "food", "food"] and t.n_duplicates == 2
    assert "text" in t.meta.columns and t.note.startswith("2 duplicate texts")


def test_without_a_text_named_column_the_first_text_column_is_taken():
    frame = FRAME.rename(columns={"text": "sentence_body"})
    t = lt.read_texts(_bytes(".csv", frame), "f.csv")
    assert t.column == "label" and lt.text_columns(_bytes(".csv", frame), "f.csv") == ["label", "sentence_body"]


def test_file_like_uploads_utf8_bom_and_txt_bytes():
    raw = "\ufeffword\ncafé\n".encode()
    t = lt.read_texts(io.BytesIO(raw), "words.txt")
    assert t.texts == ["word", "café"]
    assert lt.read_texts(bytearray(raw), "words.txt").texts == ["word", "café"]


def test_jsonl_lines_may_be_bare_strings_and_keep_unicode():
    raw = "\n".join([json.dumps("über"), json.dumps({"text": "日本語", "n": 1}), ""]).encode()
    t = lt.read_texts(raw, "t.jsonl")
    assert t.texts == ["über", "日本語"]


def test_text_like_values_stay_text():
    """na_filter off: the words NA, null, None are texts, not missing values."""
    raw = b"text\nNA\nnull\nNone\n"
    assert lt.read_texts(raw, "f.csv").texts == ["NA", "null", "None"]


def test_more_texts_than_the_limit_are_refused_or_truncated_with_a_flag_and_a_note():
    data = "\n".join(f"t{i}" for i in range(10))
    with pytest.raises(ValueError, match="has 10 texts; at most 4 are embedded at once"):
        lt.read_texts(data, max_rows=4)
    t = lt.read_texts(data, max_rows=4, truncate=True)
    assert t.texts == ["t0", "t1", "t2", "t3"] and t.truncated
    assert t.note == "Only the first 4 of 10 texts are used (the limit is 4)."
    assert not lt.read_texts(data, max_rows=10).truncated


def test_the_default_limit_is_100000():
    assert lt.MAX_ROWS == 100_000
    with pytest.raises(ValueError, match="100,001 texts; at most 100,000"):
        lt.read_texts("x\n" * 100_001)


NUMBERS = pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})
BAD = [
    ("", None, {}, "The pasted text is empty: there is no text to embed"),
    ("\n  \n\t\n", None, {}, r"The pasted text is empty \(only empty lines\)"),
    (b"", "f.csv", {}, "f.csv is empty"),
    (b"  \n\n", "f.txt", {}, "f.txt is empty"),
    ("caf\xe9".encode("latin-1"), "f.csv", {}, "f.csv is not UTF-8 text: decoding it as UTF-8 failed at byte 3"),
    ("caf\xe9".encode("cp1252"), "f.txt", {}, "Save the file as UTF-8"),
    (_bytes(".csv"), "f.csv", {"column": "id"}, "column 'id' holds int64 values, not text; pick a text column "
                                                r"\('label', 'text'\)"),
    (_bytes(".csv"), "f.csv", {"column": "nope"}, "has no column 'nope'; its columns are 'id', 'label'"),
    (_bytes(".jsonl", pd.DataFrame({"t": ["x", 3]})), "f.jsonl", {"column": "t"}, "holds int values, not text"),
    (_bytes(".csv", NUMBERS), "n.csv", {}, "n.csv has no text column"),
    (_bytes(".csv", pd.DataFrame({"t": ["", ""], "u": ["a", "b"]})), "e.csv", {"column": "t"},
     "column 't' has only empty texts"),
    (b"text\n", "h.csv", {}, "holds no rows"),
    (b"a,b\n1,2,3,4\n", "bad.csv", {}, "could not be read as a comma-separated table"),
    (b"a,b\n1,2\n3,4,5\n", "bad.csv", {}, r"comma-separated table \(Error tokenizing data"),
    (b"a\tb\nx\ty\tz\n", "bad.tsv", {}, "could not be read as a tab-separated table"),
    (b"not parquet at all", "f.parquet", {}, "f.parquet: is not a Parquet file"),
    (b"PAR1 then garbage", "f.parquet", {}, "truncated or corrupt Parquet"),
    (b"{oops\n", "f.jsonl", {}, "line 1 is not valid JSON"),
    (b"[1, 2]\n", "f.jsonl", {}, "line 1 is a JSON list, not an object"),
    (b"x", "f.xlsx", {}, r"\.xlsx files are not read as texts. Accepted:"),
    (b"x", "noext", {}, "no extension files are not read"),
    (3.5, "f.csv", {}, "must be pasted text \\(str\\) or a file's bytes; got float"),
    ("a", 12, {}, "filename must be a string"),
    ("a,b", "f.parquet", {}, "a Parquet file must be passed as bytes"),
    ("a", None, {"column": 3}, "column must be a column name"),
    ("a", None, {"max_rows": 0}, "max_rows must be at least 1"),
    ("a", None, {"max_rows": 2.0}, "max_rows must be an integer"),
    ("a", None, {"truncate": "yes"}, "truncate must be True or False"),
]


@pytest.mark.parametrize("data, filename, kw, message", BAD, ids=[m[:40] for *_, m in BAD])
def test_every_bad_input_says_what_was_wrong(data, filename, kw, message):
    with pytest.raises(ValueError, match=message):
        lt.read_texts(data, filename, **kw)


def test_messages_about_content_say_what_is_accepted():
    for data, name in (("", None), (b"\xff\xfe", "f.csv"), (_bytes(".csv", NUMBERS), "n.csv")):
        with pytest.raises(ValueError, match="Accepted: pasted text"):
            lt.read_texts(data, name)


def test_content_key_is_stable_and_depends_on_texts_order_boundaries_and_model():
    k = lt.content_key(["ab", "c"], "all-MiniLM-L6-v2")
    h = hashlib.sha256()
    for part in ("all-MiniLM-L6-v2", "ab", "c"):
        b = part.encode()
        h.update(len(b).to_bytes(8, "little") + b)
    assert k == h.hexdigest() and len(k) == 64
    assert k == lt.content_key(("ab", "c"), "all-MiniLM-L6-v2")
    others = {lt.content_key(["a", "bc"], "all-MiniLM-L6-v2"), lt.content_key(["c", "ab"], "all-MiniLM-L6-v2"),
              lt.content_key(["ab", "c"], "gpt2"), lt.content_key(["ab", "c", ""], "all-MiniLM-L6-v2")}
    assert k not in others and len(others) == 4
    with pytest.raises(ValueError, match="texts must be a list of strings"):
        lt.content_key("abc", "m")
    with pytest.raises(ValueError, match="model_name must be a non-empty string"):
        lt.content_key(["a"], "")


# ----------------------------------------------------------------------------- embedding
@pytest.fixture(scope="module")
def minilm():
    from la_core.models import load_model

    return load_model(device="cpu")


TEXTS = ["The cat sat on the mat.", "king", "A much longer sentence about linear algebra inside language models, "
         "with several clauses, commas and words.", "soup", "", "queen", "The cat sat on the mat."]


def test_embed_texts_equals_sentence_transformers_encode_in_input_order(minilm):
    from sentence_transformers import SentenceTransformer

    from la_core.models import bundled_path

    calls = []
    ours = lt.embed_texts(minilm, TEXTS, batch_size=2, progress=lambda *a: calls.append(a))
    ref = SentenceTransformer(bundled_path(), device="cpu").encode(TEXTS, batch_size=2)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    np.testing.assert_allclose(ours, minilm.embed(TEXTS), atol=1e-5)
    np.testing.assert_allclose(ours[0], ours[-1], atol=1e-6)          # same text, same vector (other batch)
    assert calls[0] == (0, 7, None)
    assert [c[0] for c in calls[1:]] == [2, 4, 6, 7] and all(c[1] == 7 for c in calls)
    assert all(isinstance(c[2], float) and c[2] >= 0 for c in calls[1:]) and calls[-1][2] == 0.0


def test_embed_texts_of_nothing_and_bad_arguments(minilm):
    assert lt.embed_texts(minilm, []).shape == (0, 384)
    with pytest.raises(ValueError, match="model must be a la_core.models.Model"):
        lt.embed_texts("MiniLM", ["a"])
    with pytest.raises(ValueError, match="texts must be a list of strings; item 1 is int"):
        lt.embed_texts(minilm, ["a", 3])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        lt.embed_texts(minilm, ["a"], batch_size=0)
    with pytest.raises(ValueError, match="progress must be a callable"):
        lt.embed_texts(minilm, ["a"], progress=5)
