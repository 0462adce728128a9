"""Delimited text files checked before pandas parses them: UTF-8, one field count per row, and
the physical line number of every row, so that any later error can name the file line.

- The delimiter comes from the suffix (`.csv` comma, `.tsv` tab), else from the first line (a tab,
  else a comma, else tab).
- Comma-separated files follow the CSV quoting rules (a field in double quotes may hold commas,
  doubled quotes and line breaks; an unclosed quote is an error); in tab-separated files quotes
  are ordinary characters, as MMRec/RecBole/Elliot write them.
- Blank lines (empty or only spaces/tabs that are not the delimiter) are skipped, as pandas skips
  them, but they still count for line numbers. Lines may end in LF, CRLF or a bare CR.
- Every row must have as many fields as the first one (the header): a row with extra or missing
  fields is an error naming its line.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import DataError, decode_utf8

_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}
_LINE_END = re.compile(r"\r\n?|\n")


def delimiter(path: Path, header: str) -> str:
    """The field separator of `path` (see the module docstring); `header` is its first line."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "," if suffix == ".csv" else "\t"
    return "\t" if "\t" in header or "," not in header else ","


def separator_name(sep: str) -> str:
    return _NAMES.get(sep, repr(sep))


def split_fields(line: str, sep: str) -> list[str]:
    """One line split into fields (CSV quoting for commas, plain split for tabs)."""
    return next(csv.reader([line], delimiter=sep)) if sep == "," else line.split(sep)


def _is_blank(text: str, sep: str) -> bool:
    """True for a line pandas skips: only spaces, tabs that are not the delimiter, and line ends."""
    return not text.strip("".join(c for c in " \t\r\n" if c not in sep))


def first_line(text: str, sep: str = "") -> str | None:
    """The first non-blank line of `text` (None if there is none)."""
    start = 0
    for end in _LINE_END.finditer(text):  # lazily: only the leading lines are looked at
        if not _is_blank(text[start:end.start()], sep):
            return text[start:end.start()]
        start = end.end()
    return None if _is_blank(text[start:], sep) else text[start:]


def read_header(path: Path, sep: str | None = None) -> list[str]:
    """The first non-blank line split into fields (reads no further; an empty file is an error)."""
    seen = b""
    with open(path, "rb") as f:
        for raw in f:  # leading blank lines are rare and short, so re-decoding `seen` is cheap
            seen += raw
            line = first_line(decode_utf8(seen, path), sep or "")
            if line is not None:
                return split_fields(line, sep or delimiter(path, line))
    raise DataError(f"{path}: file is empty")


@dataclass(frozen=True, eq=False)
class TextTable:
    """A delimited file read and checked (see the module docstring).

    `lines[k]` is the physical line of the k-th non-blank row (row 0: the header, when the file
    has one); `first` holds that row's fields.
    """

    path: Path
    data: bytes
    sep: str
    lines: np.ndarray
    first: list[str]

    @classmethod
    def open(cls, path: str | Path, sep: str | None = None) -> "TextTable":
        path = Path(path)
        data = path.read_bytes()
        text = decode_utf8(data, path)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        sep = sep or delimiter(path, first_line(text) or "")
        if sep == ",":
            lines, counts, first = _csv_rows(path, text)
        else:
            data = _unix_newlines(data)
            lines, counts, first = _plain_rows(data, sep)
        if not len(lines):
            raise DataError(f"{path}: file is empty")
        bad = np.flatnonzero(counts != counts[0])
        if bad.size:
            k = int(bad[0])
            raise DataError(f"{path} line {lines[k]}: {counts[k]} {separator_name(sep)}-separated fields, "
                            f"but line {lines[0]} has {counts[0]} ({', '.join(first)})")
        return cls(path, data, sep, lines, first)

    @property
    def width(self) -> int:
        return len(self.first)

    def frame(self, dtypes: dict[int, object], header: bool = True) -> pd.DataFrame:
        """Columns `dtypes` (position -> dtype) of every row after the header, named by position.

        Values are read as written: no NA inference (an empty field is the empty string).
        """
        opts = dict(sep=self.sep, header=0 if header else None, names=list(range(self.width)),
                    usecols=list(dtypes), dtype=dtypes, keep_default_na=False, na_values=[], engine="c",
                    quoting=csv.QUOTE_MINIMAL if self.sep == "," else csv.QUOTE_NONE)
        try:
            df = pd.read_csv(io.BytesIO(self.data), **opts)
        except pd.errors.ParserError as exc:
            raise DataError(f"{self.path}: malformed table ({str(exc).strip()})") from None
        expected = len(self.lines) - int(header)
        if len(df) != expected:  # the line map would be wrong: never guess
            raise DataError(f"{self.path}: parsed {len(df)} rows but found {expected} non-blank lines "
                            "(unbalanced quotes?)")
        return df

    def row_lines(self, header: bool = True) -> np.ndarray:
        """Physical line numbers of the data rows (aligned with `frame`)."""
        return self.lines[int(header):]


def _unix_newlines(data: bytes) -> bytes:
    """Bare CR line ends as LF (CRLF stays: pandas and the line scan both treat it as one end)."""
    if b"\r" not in data:
        return data
    arr = np.frombuffer(data, np.uint8).copy()
    cr = np.flatnonzero(arr == 13)
    bare = cr[(cr + 1 >= len(arr)) | (arr[np.minimum(cr + 1, len(arr) - 1)] != 10)]
    arr[bare] = 10
    return arr.tobytes()


def _plain_rows(data: bytes, sep: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Line numbers, field counts and first row of an unquoted file, vectorised over the bytes."""
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    if len(arr) and arr[-1] != 10:
        ends = np.append(ends, len(arr))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)[:len(ends)]
    stops = ends - ((ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13))  # without a trailing CR
    # separators before each line end; neither LF nor CR is a separator, so differences count per line
    before = np.searchsorted(np.flatnonzero(arr == ord(sep)), ends)
    counts = np.diff(before, prepend=0) + 1
    blank = stops == starts
    maybe = np.flatnonzero((counts == 1) & ~blank)  # a blank line holds no separator
    if maybe.size:  # blank = only whitespace bytes between start and stop
        spaces = np.flatnonzero(np.isin(arr, [c for c in b" \t" if c != ord(sep)]))
        n_spaces = np.searchsorted(spaces, stops[maybe]) - np.searchsorted(spaces, starts[maybe])
        blank[maybe] = n_spaces == stops[maybe] - starts[maybe]
    keep = ~blank
    first = data[starts[keep][0]:stops[keep][0]].decode().split(sep) if keep.any() else []
    return np.flatnonzero(keep) + 1, counts[keep], first


def _csv_rows(path: Path, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Line numbers, field counts and first row of a CSV file (quoted fields may span lines).

    Quotes make the row structure sequential, so the csv module walks it (about a million rows
    a second); strict mode turns an unclosed quote into an error instead of one long field.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[int] = []
    counts: list[int] = []
    first: Sequence[str] = []
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if len(row) > 1 or (row and not _is_blank(row[0], ",")):
                first = first or row
                lines.append(start)
                counts.append(len(row))
    except csv.Error as exc:  # `end` is the last line of the previous row
        raise DataError(f"{path} line {end + 1}: malformed CSV ({exc}); a field that opens with a double quote "
                        "must close with one, followed by a comma or the line end") from None
    return np.asarray(lines, np.int64), np.asarray(counts, np.int64), list(first)
