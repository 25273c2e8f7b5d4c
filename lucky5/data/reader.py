"""CSV files of data sets: reading untrusted bytes totally (a ``Data`` or a ``DataError``), and writing one.

The file lucky5 reads (``read_csv``):

- UTF-8 text, at most ``MAX_BYTES`` (1 MB, Streamlit's upload cap) and ``MAX_ROWS`` rows after the header;
- a header row of column names, then one row per example, cells separated by commas (a cell may be
  quoted with double quotes, as spreadsheets write names with spaces or commas);
- 2 to 11 columns: 1 to 10 features, then the target. The target is the column named ``y`` or ``target``
  (in any case) if there is one, else the last column;
- every cell of every row a plain decimal number (``3``, ``-0.25``, ``1.5e-3``), finite in float32.

**A UTF-8 byte order mark is accepted silently**: Excel's "CSV UTF-8" writes one, and a learner who saved
from Excel expects the file to load. It is not part of the first column's name and not of the digest.
A UTF-16 or UTF-32 file (their BOMs) is refused with what to do instead, as is a BOM anywhere else.

Everything else is refused with a ``DataError`` whose message names the reason and, where there is one,
the line (as an editor counts, the header is line 1) and the column: an empty or too large file, bytes that
are not UTF-8, a NUL character, mixed line endings (CRLF and LF in one file) or bare CR endings, no header
row (the first line holds numbers), a column without a name, duplicate names (compared case-insensitively),
too many or too few columns, two columns that could be the target, a row with the wrong number of cells,
an empty cell, a cell that is not a number, NaN or infinity, a number beyond float32, a blank line among
the rows, and a spreadsheet formula: a cell (a name too) that starts with =, +, - or @ and is not a
number, which a spreadsheet would run if the file were opened there again. Trailing blank lines are fine.
Messages quote at most ``_SHOWN`` characters of a cell; they are plain text, for the page to escape.
"""

from __future__ import annotations

import csv
import re

import torch

from .table import MAX_FEATURES, MAX_ROWS, Data, DataError, from_rule

__all__ = ["MAX_BYTES", "SAMPLE_RULE", "TARGET_NAMES", "read_csv", "sample_csv", "write_csv"]

MAX_BYTES = 1 << 20  # 1 MB as Streamlit counts an upload (server.maxUploadSize = 1)
MAX_NAME = 40  # characters of a column name
TARGET_NAMES = ("y", "target")
_SHOWN = 24
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Plain ASCII decimals only: Python's float() also takes '1_000', other scripts' digits, 'nan' and 'inf'.
_NUMBER = r"[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*"
_IS_NUMBER = re.compile(_NUMBER, re.ASCII)
_ENDING = re.compile(r"\r\n|\n")
_BARE_CR = re.compile(r"\r(?!\n)")
_FORMULA_START = "=+-@"
_NOT_FINITE = {"nan", "inf", "infinity"}


def read_csv(raw: bytes | bytearray | memoryview) -> Data:
    """The data set in a CSV file's bytes (see the module's notes for what is read and what is refused).

    Returns a ``Data``: features (N, F) and targets (N,) as float32, the column names, the digest.

    Raises:
        DataError: the bytes are not such a file; the message says why, naming the line and column.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise DataError(f"expected the file's bytes, not {type(raw).__name__}")
    data = bytes(raw)
    if not data:
        raise DataError("the file is empty")
    if len(data) > MAX_BYTES:
        raise DataError(f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} (1 MB) can be read")
    lines = _lines(_decode(data))
    if not lines:
        raise DataError("the file holds no rows, only blank lines")
    names = _header(lines[0])
    target = _target_column(names)
    values = _rows(lines[1:], names)
    order = [i for i in range(len(names)) if i != target] + [target]
    table = values[:, order]
    return Data.of(table[:, :-1], table[:, -1], tuple(names[i] for i in order[:-1]), names[target])


def _shown(cell: str) -> str:
    """A cell in a message: quoted, and cut to ``_SHOWN`` characters."""
    return repr(cell if len(cell) <= _SHOWN else cell[: _SHOWN - 3] + "...")


def _decode(data: bytes) -> str:
    """The file's text: strict UTF-8, a leading UTF-8 BOM dropped; NULs and other BOMs refused."""
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    elif data.startswith(_WIDE_BOMS):
        raise DataError(
            "the file is UTF-16 or UTF-32 text (its byte order mark says so); save it as CSV UTF-8 or plain CSV"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            f"the file is not UTF-8 text: byte {err.start + 1:,} (line {line:,}) is {data[err.start]:#04x}; "
            "save it as CSV UTF-8"
        ) from None
    for char, what in (("\x00", "a NUL character: this is not a text file"), ("\ufeff", "a byte order mark")):
        at = text.find(char)
        if at >= 0:
            raise DataError(f"line {text.count(chr(10), 0, at) + 1:,} holds {what}")
    return text


def _lines(text: str) -> list[str]:
    """The lines of ``text``, split at its one kind of line ending (LF or CRLF), trailing blank lines dropped.

    Refuses bare CR endings and a file that mixes CRLF and LF, naming the first line that differs.
    """
    crlf = text.count("\r\n")
    bare_cr = _BARE_CR.search(text)
    if bare_cr is not None:
        raise DataError(
            f"line {text.count(chr(10), 0, bare_cr.start()) + 1:,} ends in a bare carriage return (CR, old Mac "
            "line endings); save with LF or CRLF"
        )
    lf = text.count("\n")
    first = "\r\n" if crlf else "\n" if lf else None  # a file of one line has no ending
    if crlf and lf != crlf:  # both kinds: name the first line whose ending differs from line 1's
        first = "\r\n" if text[text.find("\n") - 1] == "\r" else "\n"
        kinds = {"\n": "LF", "\r\n": "CRLF"}
        for number, match in enumerate(_ENDING.finditer(text), start=1):
            if match.group() != first:
                raise DataError(
                    f"mixed line endings: line 1 ends in {kinds[str(first)]}, line {number:,} in "
                    f"{kinds[match.group()]}; save the file with one kind"
                )
    lines = text.split(first) if first else [text]
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    if len(lines) - 1 > MAX_ROWS:
        raise DataError(f"the file has {len(lines) - 1:,} rows after the header; at most {MAX_ROWS:,} can be read")
    return lines


def _cells(line: str, number: int) -> list[str]:
    """The cells of one line, unquoted (double quotes, as spreadsheets write them)."""
    if '"' not in line:
        return line.split(",")
    try:
        return next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration) as err:
        raise DataError(f"line {number:,}: a quoted cell is not closed or not well formed ({err})") from None


def _header(line: str) -> list[str]:
    """The column names of the header line: named, printable, distinct, no formulas; 2 to 11 columns."""
    names = [c.strip(" \t") for c in _cells(line, 1)]
    if len(names) == 1:
        hint = next((f" (the columns seem separated by {s!r}: use commas)" for s in (";", "\t") if s in line), "")
        raise DataError(f"the header (line 1) has one column; it needs features, then the target{hint}")
    if len(names) > MAX_FEATURES + 1:
        raise DataError(
            f"too many columns: {len(names)}; at most {MAX_FEATURES} features and 1 target ({MAX_FEATURES + 1})"
        )
    if all(_IS_NUMBER.fullmatch(n) for n in names):
        raise DataError("no header row: line 1 holds numbers; add a line of column names, such as x1,x2,y")
    seen: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"column {col} has no name in the header (line 1)")
        if len(name) > MAX_NAME:
            raise DataError(f"column {col}'s name is {len(name):,} characters long; at most {MAX_NAME}")
        if not name.isprintable():
            raise DataError(f"column {col}'s name {_shown(name)} holds a control character")
        if _IS_NUMBER.fullmatch(name):
            raise DataError(f"column {col}'s name is the number {_shown(name)}: is the header row missing?")
        if name[0] in _FORMULA_START:
            raise DataError(f"column {col}'s name {_shown(name)} looks like a spreadsheet formula; rename it")
        key = name.casefold()
        if key in seen:
            raise DataError(f"duplicate column name {_shown(name)}: columns {seen[key]} and {col}")
        seen[key] = col
    return names


def _target_column(names: list[str]) -> int:
    """The target's column: the one named y or target, else the last."""
    named = [i for i, n in enumerate(names) if n.casefold() in TARGET_NAMES]
    if len(named) > 1:
        shown = " and ".join(_shown(names[i]) for i in named)
        raise DataError(f"two columns could be the target ({shown}); rename one of them")
    return named[0] if named else len(names) - 1


def _rows(lines: list[str], names: list[str]) -> torch.Tensor:
    """The rows' numbers, (N, columns) float64, every cell checked; refusals name the line and the column."""
    if not lines:
        raise DataError("the file has a header but no rows of numbers")
    width = len(names)
    whole_line = re.compile(",".join([_NUMBER] * width), re.ASCII)
    if all(whole_line.fullmatch(line) for line in lines):  # the common case: plain numbers, read in one go
        flat = [float(c) for c in ",".join(lines).split(",")]
        values = torch.tensor(flat, dtype=torch.float64).reshape(len(lines), width)
    else:
        values = torch.tensor([_row(line, n, names) for n, line in enumerate(lines, start=2)], dtype=torch.float64)
    bad = ~torch.isfinite(values) | (values.abs() > _FLOAT32_MAX)
    if bool(bad.any()):
        row, col = (int(i) for i in bad.nonzero()[0])
        raise DataError(
            f"line {row + 2:,}, column {_shown(names[col])}: {float(values[row, col]):.4g} is "
            f"beyond float32's range (±{_FLOAT32_MAX:.3g})"
        )
    return values


def _row(line: str, number: int, names: list[str]) -> list[float]:
    """One row's numbers (quoted cells allowed), or a DataError naming the line, the column and the reason."""
    if not line.strip(" \t"):
        raise DataError(f"line {number:,} is blank, among the rows")
    cells = _cells(line, number)
    if len(cells) != len(names):
        raise DataError(f"line {number:,} has {len(cells)} cells; the header has {len(names)} columns")
    return [_number(c, number, names[col]) for col, c in enumerate(cells)]


def _number(cell: str, line: int, name: str) -> float:
    """One cell's number, or a DataError saying what the cell is instead."""
    where = f"line {line:,}, column {_shown(name)}"
    text = cell.strip(" \t")
    if _IS_NUMBER.fullmatch(text):
        return float(text)
    if not text:
        raise DataError(f"{where}: the cell is empty; every cell needs a number")
    if text.lstrip("+-").casefold() in _NOT_FINITE:
        raise DataError(f"{where}: {_shown(text)} is not a finite number (NaN and infinity cannot train)")
    if text[0] in _FORMULA_START:
        raise DataError(f"{where}: {_shown(text)} looks like a spreadsheet formula; only numbers are read")
    raise DataError(f"{where}: {_shown(text)} is not a number")


def write_csv(data: Data) -> bytes:
    """``data`` as a CSV file ``read_csv`` reads back to the same digest: UTF-8, LF endings, the feature
    columns, then the target; each number as the shortest text of its float64 value (exact for float32)."""
    names = [*data.feature_names, data.target_name]
    table = torch.cat([data.features, data.target.unsqueeze(1)], 1).to(torch.float64).tolist()
    lines = [",".join(_quoted(n) for n in names)] + [",".join(map(repr, row)) for row in table]
    return ("\n".join(lines) + "\n").encode()


def _quoted(name: str) -> str:
    """A column name as a CSV cell: in double quotes (doubled inside) when it holds a comma or a quote."""
    return '"' + name.replace('"', '""') + '"' if "," in name or '"' in name else name


SAMPLE_RULE = "2 + 4*x2 - x3"  # the sample's hidden rule: x1 does not matter, x2 and x3 do


def sample_csv() -> bytes:
    """A sample file to download and edit: 200 rows of x1, x2, x3 ~ U(0, 1) and y = 2 + 4·x2 − x3 plus
    noise of σ = 0.1 (``from_rule``, seed 0): the same bytes every time."""
    return write_csv(from_rule(SAMPLE_RULE, 200, seed=0, width=3, noise=0.1))
