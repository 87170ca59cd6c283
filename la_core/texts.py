"""Texts to embed: pasted lines or an uploaded table, read into one list of strings with metadata.

:func:`read_texts` takes what a page receives, pasted text (one text per line) or the bytes of an
uploaded ``.txt`` (one text per line), ``.csv`` / ``.tsv`` (a header row), ``.parquet`` or ``.jsonl``
(one JSON object per line) file, picks the text column and keeps the other columns as metadata.
Empty texts are dropped and counted; duplicates are kept and counted; more texts than ``max_rows``
are refused, or cut at ``max_rows`` with ``truncated=True`` and a note when the caller asks for it.
Every bad input raises ``ValueError`` saying what was wrong and what is accepted.

:func:`content_key` is a stable cache key for (texts, model); :func:`embed_texts` runs
``Model.embed`` on the texts sorted by length (less padding per batch, as sentence-transformers
does) and reports progress with an estimate of the time left.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from la_core.checks import as_int
from la_core.models.embedding import check_texts

__all__ = ["TextTable", "read_texts", "text_columns", "content_key", "embed_texts", "TEXT_EXTENSIONS",
           "MAX_ROWS"]

TEXT_EXTENSIONS = (".txt", ".csv", ".tsv", ".parquet", ".jsonl")
MAX_ROWS = 100_000
ACCEPTED = ("Accepted: pasted text (one text per line), or a .txt (one text per line), .csv / .tsv (UTF-8, "
            "a header row), .parquet or .jsonl (one JSON object per line) file with a text column.")
# a column with one of these names is the text column when none is given (else the first text column)
PREFERRED = ("text", "texts", "sentence", "sentences", "document", "content", "prompt")


@dataclass
class TextTable:
    """Texts read for embedding, with the other columns of their rows.

    Attributes
    ----------
    texts : list of str
        The non-empty texts, in source order (at most ``max_rows`` of them).
    meta : pandas.DataFrame
        The other columns, one row per text (index 0 … n − 1); no columns for pasted lines / .txt.
    column : str
        The column the texts come from (``"text"`` for lines).
    rows : numpy.ndarray, shape (n,), int64
        Row of each text in the source (0-based; the line number − 1 for lines, header excluded).
    text_columns : list of str
        Every column that holds text (candidates for ``column``).
    n_source : int
        Rows in the source (empty ones included).
    n_empty : int
        Rows dropped because their text is empty (or only white space, or missing).
    n_duplicates : int
        Texts equal to an earlier kept text (kept, not dropped).
    truncated : bool
        True when there were more than ``max_rows`` texts and only the first ``max_rows`` were kept.
    note : str
        What was done, for the user ('' when nothing needs saying).
    """

    texts: list[str]
    meta: pd.DataFrame
    column: str
    rows: np.ndarray
    text_columns: list[str] = field(default_factory=list)
    n_source: int = 0
    n_empty: int = 0
    n_duplicates: int = 0
    truncated: bool = False
    note: str = ""

    def __len__(self) -> int:
        return len(self.texts)


# ----------------------------------------------------------------------------- decoding and parsing
def _kind(filename) -> str:
    if filename is None:
        return ".txt"
    if not isinstance(filename, str):
        raise ValueError(f"filename must be a string such as 'texts.csv' or None; got {type(filename).__name__}.")
    kind = os.path.splitext(filename)[1].lower()
    if kind not in TEXT_EXTENSIONS:
        raise ValueError(f"{filename}: {kind or 'no extension'} files are not read as texts. {ACCEPTED}")
    return kind


def _raw(data, name: str) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "getvalue"):                      # io.BytesIO, streamlit's UploadedFile
        return _raw(data.getvalue(), name)
    raise ValueError(f"{name}: the input must be pasted text (str) or a file's bytes; got {type(data).__name__}. "
                     f"{ACCEPTED}")


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} is not UTF-8 text: decoding it as UTF-8 failed at byte {exc.start} "
                         f"({raw[exc.start:exc.start + 4]!r}). Save the file as UTF-8 (in a spreadsheet: "
                         f"'CSV UTF-8') and upload it again. {ACCEPTED}") from None


def _lines(text: str) -> pd.DataFrame:
    return pd.DataFrame({"text": [ln.strip() for ln in text.splitlines()]}, dtype=object)


def _delimited(text: str, sep: str, name: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():      # more fields than the header names: refuse, never shift columns
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, na_filter=False, skip_blank_lines=True,
                                quoting=csv.QUOTE_MINIMAL, index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name} could not be read as a {'tab' if sep == chr(9) else 'comma'}-separated table "
                         f"({detail}). {ACCEPTED}") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _jsonl(text: str, name: str) -> pd.DataFrame:
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{name}: line {i} is not valid JSON ({exc}). {ACCEPTED}") from None
        if isinstance(obj, str):
            obj = {"text": obj}
        if not isinstance(obj, dict):
            raise ValueError(f"{name}: line {i} is a JSON {type(obj).__name__}, not an object such as "
                             f'{{"text": "…"}}. {ACCEPTED}')
        rows.append(obj)
    frame = pd.DataFrame(rows)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _parquet(raw: bytes, name: str) -> pd.DataFrame:
    from la_core.io.errors import EmbeddingFormatError
    from la_core.io.parquet import read_parquet_table

    try:
        table = read_parquet_table(raw, name)
    except EmbeddingFormatError as exc:
        raise ValueError(f"{name}: {exc.reason} {ACCEPTED}") from None
    frame = table.to_pandas()
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)


def _all_strings(col: pd.Series) -> bool:
    """Every present value is a string (missing values allowed)."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    return all(isinstance(v, str) for v in col[col.notna()])


def _is_text(col: pd.Series) -> bool:
    """Strings (missing values and empty strings allowed), at least one of them not empty."""
    return _all_strings(col) and any(isinstance(v, str) and v.strip() for v in col)


def _frame(data, filename) -> tuple[pd.DataFrame, str]:
    """The source as a table of columns, and the name used in messages."""
    kind = _kind(filename)
    pasted = isinstance(data, str)
    if filename is not None:
        name = os.path.basename(filename)
    else:
        name = "The pasted text" if pasted else "The input"
    if pasted:
        if kind == ".parquet":
            raise ValueError(f"{name}: a Parquet file must be passed as bytes, not as text. {ACCEPTED}")
        text = data.lstrip("\ufeff")
    else:
        raw = _raw(data, name)
        if not raw.strip():
            raise ValueError(f"{name} is empty: there is no text to embed. {ACCEPTED}")
        if kind == ".parquet":
            return _parquet(raw, name), name
        text = _decode(raw, name)
    if not text.strip():
        raise ValueError(f"{name} is empty{' (only empty lines)' if text else ''}: there is no text to embed. "
                         f"{ACCEPTED}")
    if kind == ".txt":
        return _lines(text), name
    if kind == ".jsonl":
        return _jsonl(text, name), name
    return _delimited(text, "\t" if kind == ".tsv" else ",", name), name


def _candidates(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if _is_text(frame[c])]


def _pick(frame: pd.DataFrame, column, name: str) -> tuple[str, list[str]]:
    cands = _candidates(frame)
    listed = ", ".join(repr(c) for c in cands) or "none"
    if column is not None:
        if not isinstance(column, str):
            raise ValueError(f"column must be a column name (str) or None; got {type(column).__name__}.")
        if column not in frame.columns:
            raise ValueError(f"{name} has no column {column!r}; its columns are "
                             f"{', '.join(map(repr, frame.columns))} (text columns: {listed}).")
        if column not in cands:
            col = frame[column]
            if _all_strings(col):
                raise ValueError(f"{name}: column {column!r} has only empty texts; pick a text column ({listed}).")
            if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                what = f"holds {col.dtype} values"
            else:
                kinds = sorted({type(v).__name__ for v in col[col.notna()] if not isinstance(v, str)})
                what = f"holds {', '.join(kinds)} values"
            raise ValueError(f"{name}: column {column!r} {what}, not text; pick a text column ({listed}).")
        return column, cands
    if not cands:
        raise ValueError(f"{name} has no text column: its columns ({', '.join(map(repr, frame.columns))}) hold "
                         f"numbers or are empty. {ACCEPTED}")
    lower = {c.lower(): c for c in cands}
    chosen = next((lower[p] for p in PREFERRED if p in lower), cands[0])
    return chosen, cands


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------- public functions
def text_columns(data, filename: str | None = None) -> list[str]:
    """The columns of ``data`` that hold text (the candidates for :func:`read_texts`' ``column``).

    ``["text"]`` for pasted lines and ``.txt`` files. Raises ``ValueError`` as :func:`read_texts`.
    """
    frame, _ = _frame(data, filename)
    return _candidates(frame)


def read_texts(data, filename: str | None = None, column: str | None = None, max_rows: int = MAX_ROWS,
               truncate: bool = False) -> TextTable:
    """Read texts to embed from pasted lines or an uploaded file.

    Parameters
    ----------
    data : str or bytes
        Pasted text (one text per line; white space around each line is removed), or the bytes of a
        file (bytes, bytearray, memoryview or an object with ``getvalue()`` such as Streamlit's upload).
    filename : str, optional
        The file's name; its extension picks the reader: ``.txt`` (one text per line), ``.csv`` /
        ``.tsv`` (UTF-8 with a header row), ``.parquet``, ``.jsonl`` (one JSON object per line, or a
        JSON string taken as ``{"text": …}``). None: ``data`` is lines of text.
    column : str, optional
        The text column. Default: a column named ``text`` (or sentence, document, content, prompt),
        else the first column that holds text.
    max_rows : int, default 100,000
        Most texts accepted (after empty ones are dropped).
    truncate : bool, default False
        With more than ``max_rows`` texts: keep the first ``max_rows`` (``truncated=True``, said in the
        note) instead of refusing them.

    Returns
    -------
    TextTable

    Raises
    ------
    ValueError
        Empty input or only empty lines, bytes that are not UTF-8, an unreadable file, an extension
        that is not read, a column that does not exist or does not hold text, no text column, more
        than ``max_rows`` texts without ``truncate``.
    """
    max_rows = as_int(max_rows, "max_rows", min_value=1)
    if not isinstance(truncate, (bool, np.bool_)):
        raise ValueError(f"truncate must be True or False; got {truncate!r}.")
    frame, name = _frame(data, filename)
    if len(frame) == 0 or len(frame.columns) == 0:
        raise ValueError(f"{name} holds no rows (a header only?): there is no text to embed. {ACCEPTED}")
    col, cands = _pick(frame, column, name)
    values = frame[col]
    keep = np.array([isinstance(v, str) and bool(v.strip()) for v in values], dtype=bool)
    n_source, n_empty = len(frame), int((~keep).sum())
    rows = np.flatnonzero(keep).astype(np.int64)
    n_texts = rows.size
    notes = []
    if n_texts > max_rows:
        if not truncate:
            raise ValueError(f"{name} has {n_texts:,} texts; at most {max_rows:,} are embedded at once. Split the "
                             f"file, or choose to use only the first {max_rows:,}.")
        rows = rows[:max_rows]
        notes.append(f"only the first {max_rows:,} of {n_texts:,} texts are used (the limit is {max_rows:,})")
    texts = [str(v) for v in values.to_numpy()[rows]]
    n_dup = len(texts) - len(set(texts))
    meta = frame.drop(columns=[col]).iloc[rows].reset_index(drop=True)
    if n_empty:
        notes.append(f"{_plural(n_empty, 'empty text')} dropped")
    if n_dup:
        notes.append(f"{_plural(n_dup, 'duplicate text')} kept (each repeats an earlier one)")
    if len(cands) > 1 and column is None:
        notes.append(f"texts from column {col!r} (text columns: {', '.join(map(repr, cands))})")
    note = "; ".join(notes)
    return TextTable(texts=texts, meta=meta, column=col, rows=rows, text_columns=cands, n_source=n_source,
                     n_empty=n_empty, n_duplicates=n_dup, truncated=len(rows) < n_texts,
                     note=note[:1].upper() + note[1:] + "." if note else "")


def content_key(texts, model_name: str) -> str:
    """A stable hex key (SHA-256) of the texts, in order, and the model name: for caching embeddings.

    Equal lists give equal keys in every process; texts are length-prefixed, so ``["ab", "c"]`` and
    ``["a", "bc"]`` differ.
    """
    texts = check_texts(texts)
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(f"model_name must be a non-empty string; got {model_name!r}.")
    h = hashlib.sha256()
    for part in [model_name, *texts]:
        b = part.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def embed_texts(model, texts, batch_size: int = 128, progress=None) -> np.ndarray:
    """Embed texts with ``model.embed``, longest first, and report the time left.

    Texts are sorted by length (as sentence-transformers does) so that each batch pads to a similar
    length, then the vectors are put back in the input order.

    Parameters
    ----------
    model : la_core.models.Model
    texts : list of str
    batch_size : int, default 128
        Sorted by length, batches pad little, so larger ones cost less per text (bench/RESULTS.md).
    progress : callable, optional
        Called as ``progress(0, total, None)`` first, then ``progress(done, total, seconds_left)`` after
        every batch; ``seconds_left`` extrapolates the time taken so far by the work left, a batch's
        work being its size times the length of its longest text (what padding makes it cost).

    Returns
    -------
    numpy.ndarray, shape (len(texts), d_model), float32
        Row i is the embedding of ``texts[i]`` (as ``model.embed(texts)``).
    """
    if not callable(getattr(model, "embed", None)):
        raise ValueError(f"model must be a la_core.models.Model (load_model()); got {type(model).__name__}.")
    texts = check_texts(texts)
    batch_size = as_int(batch_size, "batch_size", min_value=1)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a callable progress(done, total, seconds_left); got {progress!r}.")
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    order = np.argsort(-lengths, kind="stable")                   # longest first
    ordered = [texts[i] for i in order]
    # work of each batch: its size times its longest text (what padding makes it cost)
    work = np.array([len(ordered[i:i + batch_size]) * max(1, lengths[order[i]])
                     for i in range(0, len(ordered), batch_size)], dtype=np.float64)
    done_work = np.cumsum(work)
    if progress is not None:
        progress(0, len(texts), None)
    t0 = time.perf_counter()

    def report(done: int, total: int) -> None:
        b = (done - 1) // batch_size
        spent = time.perf_counter() - t0
        left = spent * (done_work[-1] - done_work[b]) / done_work[b]
        progress(done, total, max(0.0, float(left)))

    vecs = model.embed(ordered, batch_size=batch_size, progress=report if progress is not None else None)
    out = np.empty_like(vecs)
    out[order] = vecs
    return out
