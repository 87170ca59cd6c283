"""Text tables (``.csv`` / ``.tsv`` / ``.txt``): one row of numbers per item, optional labels.

Reading is three steps:

1. :func:`sniff_table` looks at the first lines only: the separator and decimal mark, a word2vec
   ``"<count> <dim>"`` line, a header row (TensorFlow Projector's ``vectors.tsv`` has none), which
   columns hold numbers and which hold labels (only the first or last columns may), and refuses a
   bad sample with the row and column of the problem;
2. :func:`parse_numbers` reads the whole file with pandas' C parser and returns the numbers as a
   float64 matrix, locating a bad value found past the sample;
3. :func:`read_labels` returns the label columns, verbatim (a word such as ``NA`` stays a word).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from la_core.io.errors import dedupe, describe_magic, fail, is_path
from la_core.io.finish import Read

__all__ = ["Parsed", "Sniffed", "parse_numbers", "read_labels", "read_text_table", "sniff_table"]

_TEXT_SAMPLE_BYTES = 256 * 1024
_TEXT_SAMPLE_ROWS = 200
_NA_STRINGS = ("", "NA", "N/A", "n/a", "null", "NULL", "None", "none", "-")
_NA_NUMBERS = [*_NA_STRINGS, "nan", "NaN", "NAN", "-nan", "-NaN"]
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
# with thousands of columns plus labels, slicing the parsed frame is slow: numbers and labels are read apart
_SPLIT_READ_COLUMNS = 2000


@dataclass
class Sniffed:
    """What the first lines of a text table say about the whole file.

    Attributes
    ----------
    sep : str or None
        The separator (None: runs of whitespace).
    decimal : str
        The decimal mark, ``"."`` or ``","``.
    skip : int
        Lines before the header or data (1 after a word2vec ``"<count> <dim>"`` line).
    header : list of str or None
        The header row's fields, or None when the first row is data.
    ncols : int
        Fields per row.
    numeric : list of int
        The columns of numbers (the vectors), in order.
    labels : list of int
        The text columns (before or after the numbers).
    dropped : list of int
        Empty columns and a pandas index column, left out of both.
    notes : list of str
        Remarks for the user.
    """

    sep: str | None
    decimal: str
    skip: int
    header: list[str] | None
    ncols: int
    numeric: list[int]
    labels: list[int]
    dropped: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        """Line number (1-based) of the first data row, for messages."""
        return 1 + self.skip + int(self.header is not None)

    @property
    def split_read(self) -> bool:
        return bool(self.labels) and self.ncols > _SPLIT_READ_COLUMNS


class Parsed(NamedTuple):
    """The whole table, parsed."""

    vectors: np.ndarray  # (n, d) float64
    frame: pd.DataFrame  # the numeric columns only when ``Sniffed.split_read``, else every column
    encoding: str        # the one that decoded the file


def read_text_table(data, name: str, ext: str) -> Read:
    """Read a text table: the numbers as float64 ``(n, d)``, the label columns (or None), a note."""
    sn = sniff_table(data, name, ext)
    parsed = parse_numbers(data, name, sn)
    return Read(parsed.vectors, read_labels(data, sn, parsed), name, "; ".join(sn.notes))


# --------------------------------------------------------------------------------------------
# 1. sniff: separator, header, numeric and label columns, from the first lines
# --------------------------------------------------------------------------------------------

def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _text_sample(data, name: str) -> tuple[str, bool]:
    """First bytes of a text file decoded (errors replaced); and whether the file is longer.

    The sample grows (up to 64 MB) until it holds a few complete lines, so very wide rows
    (tens of thousands of numbers per line) are still sniffed correctly.
    """
    limit = _TEXT_SAMPLE_BYTES
    while True:
        if is_path(data):
            with open(data, "rb") as fh:
                raw = fh.read(limit + 1)
        else:
            raw = bytes(data[: limit + 1])
        more = len(raw) > limit
        raw = raw[:limit]
        if not more or raw.count(b"\n") >= 4 or limit >= (64 << 20):
            break
        limit *= 4
    if b"\x00" in raw:
        raise fail(name, f"is not a text table (it looks like {describe_magic(raw)}).")
    return raw.decode("utf-8", errors="replace").lstrip("\ufeff"), more


def _split_rows(text: str, sep: str | None, more: bool) -> list[list[str]]:
    lines = text.splitlines()
    if more and lines:
        lines = lines[:-1]  # the last line may be cut off
    lines = [ln for ln in lines if ln.strip()][: _TEXT_SAMPLE_ROWS + 1]
    if sep is None:
        return [ln.split() for ln in lines]
    return [[f.strip() for f in row] for row in csv.reader(lines, delimiter=sep)]


def _guess_sep(text: str, ext: str) -> tuple[str | None, str]:
    """(separator, decimal mark). ``None`` separator means runs of whitespace.

    A ``.tsv`` is tab-separated; a ``.csv`` is comma-separated unless its first line is
    semicolon-separated (the European spreadsheet export, often with decimal commas); a ``.txt``
    uses tab, semicolon or comma when its first line has one, else whitespace.
    """
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()][:6]
    first = lines[0] if lines else ""

    def decimal_commas(sep):
        fields = [f.strip() for ln in lines for f in (ln.split(sep) if sep else ln.split())]
        return any(_DECIMAL_COMMA.match(f) for f in fields)

    if ext == ".tsv":
        sep = "\t"
    elif ";" in first and ("\t" not in first or ext == ".csv"):
        sep = ";"
    elif ext == ".csv":
        sep = ","
    elif "\t" in first:
        sep = "\t"
    elif "," in first:
        # "1,5 2,5" is whitespace-separated with decimal commas; "1,2" is comma-separated
        sep = None if len(first.split()) >= 2 and decimal_commas(None) else ","
    else:
        sep = None
    decimal = "," if sep != "," and decimal_commas(sep) else "."
    return sep, decimal


def _number_test(decimal: str):
    """``isnum(field)`` for this decimal mark."""
    if decimal == ",":
        return lambda v: _is_number(v.replace(",", "."))
    return _is_number


def _is_word2vec_header(rows: list[list[str]], isnum) -> bool:
    """A first line ``"<count> <dim>"`` before ``"word v1 ... v_dim"`` lines (word2vec's text format)."""
    return (len(rows) > 1 and len(rows[0]) == 2 and all(v.isdigit() for v in rows[0])
            and len(rows[1]) == int(rows[0][1]) + 1 and not isnum(rows[1][0]))


def _mostly_numeric(rows: list[list[str]], ncols: int, isnum) -> list[int]:
    """Columns where more than half of ``rows`` hold numbers."""
    return [j for j in range(ncols)
            if rows and sum(isnum(r[j]) for r in rows if j < len(r)) > 0.5 * len(rows)]


def _has_header(rows: list[list[str]], isnum) -> bool:
    """Whether the first row names the columns.

    It does when it has a non-number where the following rows have numbers, or numbers the columns
    0, 1, 2, ... (pandas' default column names), or, alone, is not all numbers.
    """
    body = rows[1:]
    if not body:
        return not all(isnum(v) for v in rows[0])
    numeric = _mostly_numeric(body, len(rows[0]), isnum)
    if any(not isnum(rows[0][j]) for j in numeric if j < len(rows[0])):
        return True
    if len(numeric) >= 2 and all(j < len(rows[0]) for j in numeric):
        head_vals = [rows[0][j] for j in numeric]
        ints_only = all(r[j].lstrip("+-").isdigit() for r in body for j in numeric if j < len(r))
        # a small hand-typed integer matrix may well start "0,1,2": only a header when the data are
        # not all integers or the row is long
        return head_vals == [str(i) for i in range(len(head_vals))] and (len(head_vals) >= 8 or not ints_only)
    return False


def _empty_columns(data_rows, ncols: int, numeric: list[int], header: list[str] | None) -> list[int]:
    """Unnamed columns with nothing in them, e.g. from a separator at the end of every line ("1\\t2\\t")."""
    num_set = set(numeric)
    return [j for j in range(ncols) if j not in num_set
            and all(j >= len(r) or not r[j].strip() for r in data_rows)
            and not (header and j < len(header) and header[j].strip())]


def _is_pandas_index(data_rows, numeric: list[int], header: list[str] | None) -> bool:
    """An unnamed first column holding 0, 1, 2, ... (or 1, 2, ...): the index DataFrame.to_csv() writes."""
    if not (header and 0 in numeric and len(numeric) > 2 and header[0].strip() in ("", "Unnamed: 0")):
        return False
    col0 = [r[0] for r in data_rows]
    start = col0[0] if col0 else ""
    return start in ("0", "1") and col0 == [str(int(start) + i) for i in range(len(col0))]


def _check_sample(name: str, sn: Sniffed, data_rows, isnum) -> None:
    """Refuse text between numeric columns, rows of different lengths and non-numbers, saying where."""
    num_set = set(sn.numeric)
    middle = [j for j in range(sn.numeric[0], sn.numeric[-1] + 1) if j not in num_set and j not in sn.dropped]
    if middle:
        j = middle[0]
        ex = next((r[j] for r in data_rows if j < len(r) and not isnum(r[j])), "")
        raise fail(name, f"column {j + 1} holds text ({ex[:40]!r}) between numeric columns; labels may only be "
                   "the first or last columns.", "")
    for i, r in enumerate(data_rows):
        line = i + 1 + int(sn.header is not None)
        if len(r) != sn.ncols:
            raise fail(name, f"has rows of different lengths: row 1 has {sn.ncols} values but row {line} has "
                       f"{len(r)}; every row needs the same number of columns.", "")
        for j in sn.numeric:
            if not isnum(r[j]):
                if r[j].strip() in _NA_STRINGS:
                    raise fail(name, f"has an empty or missing value at row {line}, column {j + 1}; "
                               "only finite numbers are accepted.", "")
                raise fail(name, f"has a value that is not a number at row {line}, column {j + 1}: {r[j][:40]!r}.", "")


def sniff_table(data, name: str, ext: str) -> Sniffed:
    """Decide the table's layout from its first lines (at most a few hundred) and check them.

    Raises
    ------
    EmbeddingFormatError
        An empty or binary file, a header with no data, no numeric column, text between numeric
        columns, rows of different lengths, or a value that is not a number in the sample.
    """
    text, more = _text_sample(data, name)
    if not text.strip():
        raise fail(name, "is empty (no rows).")
    sep, decimal = _guess_sep(text, ext)
    isnum = _number_test(decimal)
    rows = _split_rows(text, sep, more)
    if not rows:
        raise fail(name, "has no complete line in its first 64 MB; is it really a text table?")
    notes, skip = [], 0
    if _is_word2vec_header(rows, isnum):
        skip, rows = 1, rows[1:]
        notes.append(f"{name}: skipped the word2vec header line")
    ncols = len(rows[0])
    header = rows[0] if _has_header(rows, isnum) else None
    data_rows = rows[1:] if header is not None else rows
    if not data_rows:
        raise fail(name, "has only a header row and no data; at least 2 rows of numbers are needed.", "")
    numeric = _mostly_numeric(data_rows, ncols, isnum)
    if not numeric:
        ex = data_rows[0][0] if data_rows[0] else ""
        raise fail(name, f"has no numeric columns (first value {ex[:40]!r}); expected rows of numbers, "
                   "optionally with a label column first or last.")
    dropped = _empty_columns(data_rows, ncols, numeric, header)
    if dropped:
        notes.append(f"{name}: ignored {len(dropped)} empty column(s)")
    if _is_pandas_index(data_rows, numeric, header):
        dropped.append(0)
        numeric = numeric[1:]
        notes.append(f"{name}: dropped the unnamed index column")
    num_set = set(numeric)
    labels = [j for j in range(ncols) if j not in num_set and j not in dropped]
    sn = Sniffed(sep, decimal, skip, header, ncols, numeric, labels, dropped, notes)
    _check_sample(name, sn, data_rows, isnum)
    return sn


# --------------------------------------------------------------------------------------------
# 2. parse: the numbers of the whole file
# --------------------------------------------------------------------------------------------

def _csv_options(sn: Sniffed) -> dict:
    """pandas.read_csv arguments for the whole table (numbers as float64, the other columns as text)."""
    num_set = set(sn.numeric)
    # naming only the (few) label columns in a dtype dict keeps pandas fast on wide tables
    dtypes = np.float64 if len(sn.numeric) == sn.ncols else {j: str for j in range(sn.ncols) if j not in num_set}
    return dict(
        sep=r"\s+" if sn.sep is None else sn.sep, header=None, skiprows=sn.skip + int(sn.header is not None),
        dtype=dtypes, keep_default_na=False, na_values=_NA_NUMBERS, skip_blank_lines=True, engine="c",
        quotechar='"', decimal=sn.decimal,
    )


def _source(data):
    """A path, or a fresh reader over the bytes (sharing them, not copying), for pandas."""
    return data if is_path(data) else io.BytesIO(data)


def _read_csv(data, name: str, options: dict, notes: list[str]) -> tuple[pd.DataFrame, str]:
    """pandas.read_csv in UTF-8, else cp1252, else latin-1 (noted); parser errors become messages."""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            frame = pd.read_csv(_source(data), encoding=enc, **options)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            msg = str(exc).split("\n")[0]
            raise fail(name, f"could not be parsed as a table ({msg}); "
                       "every row needs the same number of columns.", "") from None
        except (ValueError, TypeError, OverflowError) as exc:
            msg = str(exc).split("\n")[0]
            raise fail(name, f"has a value that is not a number ({msg}).", "") from None
        except pd.errors.EmptyDataError:
            raise fail(name, "is empty (no rows).") from None
        if enc != "utf-8-sig":
            notes.append(f"{name} is not UTF-8; decoded as {enc}")
        return frame, enc
    raise fail(name, "could not be decoded as text.")  # pragma: no cover - latin-1 decodes any bytes


def _numeric_block(frame: pd.DataFrame, sn: Sniffed) -> pd.DataFrame:
    """The numeric columns of the parsed frame."""
    if len(sn.numeric) == sn.ncols or sn.split_read:
        return frame
    # a contiguous slice: selecting thousands of columns by list is slow in pandas
    block = frame.iloc[:, sn.numeric[0]:sn.numeric[-1] + 1]
    num_set = set(sn.numeric)
    inner = [c for c in block.columns if c not in num_set]
    return block.drop(columns=inner) if inner else block


def _to_matrix(block: pd.DataFrame, name: str, sn: Sniffed) -> np.ndarray:
    """float64 matrix of the numeric block; a non-number or hole past the sniffed lines is located."""
    try:
        vec = block.to_numpy(dtype=np.float64)
    except (ValueError, TypeError):  # text past the sniffed lines in a numeric column: say where
        for c in block.columns:
            if not pd.api.types.is_numeric_dtype(block[c]):
                bad = pd.to_numeric(block[c], errors="coerce").isna() & block[c].notna()
                if bad.any():
                    r = int(np.argmax(bad.to_numpy()))
                    raise fail(name, f"has a value that is not a number at row {r + sn.first_line}, "
                               f"column {int(c) + 1}: {str(block[c].iloc[r])[:40]!r}.", "") from None
        raise fail(name, "has values that are not numbers.", "") from None
    if np.isnan(vec).any():
        r, c = np.argwhere(np.isnan(vec))[0]
        raise fail(name, f"has an empty, missing or NaN value at row {int(r) + sn.first_line}, "
                   f"column {sn.numeric[int(c)] + 1} (rows of different lengths?); "
                   "only finite numbers are accepted.", "")
    return vec


def parse_numbers(data, name: str, sn: Sniffed) -> Parsed:
    """Read the whole table as ``sn`` describes it; a value that is not a number is located."""
    options = _csv_options(sn)
    if sn.split_read:
        options = {**options, "usecols": sn.numeric, "dtype": np.float64}
    frame, encoding = _read_csv(data, name, options, sn.notes)
    if frame.shape[1] != (len(sn.numeric) if sn.split_read else sn.ncols):
        raise fail(name, f"has rows of different lengths (expected {sn.ncols} columns, found {frame.shape[1]}).", "")
    return Parsed(_to_matrix(_numeric_block(frame, sn), name, sn), frame, encoding)


# --------------------------------------------------------------------------------------------
# 3. labels: the text columns, verbatim
# --------------------------------------------------------------------------------------------

def read_labels(data, sn: Sniffed, parsed: Parsed) -> pd.DataFrame | None:
    """The label columns (named from the header, else ``label`` / ``label_<column>``), or None."""
    if not sn.labels:
        return None
    labels = None if sn.split_read else parsed.frame[sn.labels].copy()
    # a word such as "NA" or "null" read as missing: read the labels again, verbatim
    if labels is None or labels.isna().any().any():
        options = {**_csv_options(sn), "dtype": str, "na_values": None, "usecols": sn.labels}
        verbatim = pd.read_csv(_source(data), encoding=parsed.encoding, na_filter=False, **options)
        labels = verbatim[sn.labels].copy()
    header = sn.header
    names = [header[j] if header and j < len(header) and header[j] else
             ("label" if len(sn.labels) == 1 else f"label_{j + 1}") for j in sn.labels]
    labels.columns = dedupe(names)
    return labels.reset_index(drop=True)
