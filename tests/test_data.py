"""lucky5.data: the CSV reader is total (a Data or a DataError naming the reason), and Data keeps its numbers."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lucky5.data import MAX_BYTES, MAX_ROWS, Data, DataError, read_csv

GOOD = b"x1,x2,y\n0.5,1,3\n-2,1e-3,4.25\n"


def test_a_plain_file_reads_as_its_numbers_in_float32():
    data = read_csv(GOOD)
    assert data.feature_names == ("x1", "x2")
    assert data.target_name == "y"
    assert torch.equal(data.features, torch.tensor([[0.5, 1.0], [-2.0, 1e-3]], dtype=torch.float32))
    assert torch.equal(data.target, torch.tensor([3.0, 4.25]))
    assert (data.rows, data.width) == (2, 2)


def test_the_target_is_the_column_named_y_or_target_else_the_last():
    named = read_csv(b"Target,a,b\n1,2,3\n")
    assert (named.target_name, named.feature_names) == ("Target", ("a", "b"))
    assert named.target.tolist() == [1.0]
    assert named.features.tolist() == [[2.0, 3.0]]
    last = read_csv(b"a,b,c\n1,2,3\n")
    assert (last.target_name, last.feature_names) == ("c", ("a", "b"))


def test_the_digest_is_of_the_numbers_not_the_bytes():
    """Excel's BOM, CRLF, quoting, spelling of numbers and names do not change the digest; a number does."""
    same = [
        b"\xef\xbb\xbfx1,x2,y\r\n0.5,1,3\r\n-2,1e-3,4.25\r\n",
        b'"a","b","c"\n0.50,1.0,3\n-2.0,0.001,4.250\n\n\n',
        b"p,q,target\n 0.5 , 1 , 3 \n-2,1E-3,+4.25\n",
    ]
    digest = read_csv(GOOD).digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    for raw in same:
        assert read_csv(raw).digest == digest, raw
    assert read_csv(b"x1,x2,y\n0.5,1,3\n-2,1e-3,4.26\n").digest != digest
    assert read_csv(b"x1,y,x2\n0.5,1,3\n-2,1e-3,4.25\n").digest != digest  # another column is the target


def test_fewer_features_leave_the_other_inputs_at_zero_and_standardising_uses_the_data_s_own_moments():
    data = read_csv(b"a,b,y\n1,5,0\n3,5,0\n")
    inputs = data.inputs()
    assert inputs.shape == (2, 10) and inputs.dtype == torch.float32
    assert inputs[:, :2].tolist() == [[1, 5], [3, 5]] and not inputs[:, 2:].any()
    std = data.standardized()
    assert std.features.tolist() == [[-1.0, 0.0], [1.0, 0.0]]  # mean 2 and std 1; a constant column only centred
    assert torch.equal(std.target, data.target) and std.feature_names == data.feature_names
    assert std.digest != data.digest


# --- every bad kind is refused with its reason ------------------------------------------------------

MALFORMED = {
    "empty": (b"", "empty"),
    "blank lines only": (b"\n\n\n", "no rows"),
    "header only": (b"x,y\n", "no rows of numbers"),
    "no header": (b"1,2\n3,4\n", "no header row"),
    "a name that is a number": (b"x,2\n1,2\n", "is the number"),
    "one column": (b"y\n1\n2\n", "one column"),
    "semicolons": (b"a;b;y\n1;2;3\n", "separated by ';'"),
    "too many columns": (b",".join(b"c%d" % i for i in range(12)) + b"\n" + b",".join([b"1"] * 12), "too many columns"),
    "too large": (b"x,y\n" + b"1,2\n" * (MAX_BYTES // 4 + 1), "at most 1,048,576"),
    "too many rows": (b"x,y\n" + b"1,2\n" * (MAX_ROWS + 1), "at most 100,000"),
    "not a number": (b"x,y\n1,2\n3,abc\n", "line 3, column 'y': 'abc' is not a number"),
    "empty cell": (b"x,y\n1,\n", "line 2, column 'y': the cell is empty"),
    "NaN": (b"x,y\nnan,2\n", "line 2, column 'x': 'nan' is not a finite number"),
    "infinity": (b"x,y\n1,-inf\n", "'-inf' is not a finite number"),
    "beyond float32": (b"x,y\n1,2\n1e39,2\n", "line 3, column 'x': 1e+39 is beyond float32"),
    "formula": (b"x,y\n1,=cmd|'/C calc'!A0\n", "looks like a spreadsheet formula"),
    "formula with @": (b"x,y\n@SUM(A1),2\n", "looks like a spreadsheet formula"),
    "formula in the header": (b"x,+y\n1,2\n", "looks like a spreadsheet formula"),
    "UTF-16 with its BOM": ("x,y\n1,2\n".encode("utf-16"), "UTF-16"),
    "a BOM inside": ("x,y\n1,2\n\ufeff3,4\n".encode(), "line 3 holds a byte order mark"),
    "mixed line endings": (b"x,y\r\n1,2\n3,4\n", "mixed line endings: line 1 ends in CRLF, line 2 in LF"),
    "bare CR": (b"x,y\r1,2\r", "bare carriage return"),
    "duplicate names": (b"x,y,X\n1,2,3\n", "duplicate column name 'X': columns 1 and 3"),
    "not UTF-8": (b"x,y\n1,\xe9\n", "not UTF-8 text: byte 7 (line 2)"),
    "NUL": (b"x,y\n1,2\x00\n", "NUL character"),
    "short row": (b"x,y\n1,2\n3\n", "line 3 has 1 cells; the header has 2 columns"),
    "blank line among rows": (b"x,y\n1,2\n\n3,4\n", "line 3 is blank"),
    "two targets": (b"y,target\n1,2\n", "two columns could be the target"),
    "unclosed quote": (b'x,y\n"1,2\n', "line 2: a quoted cell is not closed"),
    "no name": (b"x,,y\n1,2,3\n", "column 2 has no name"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_file_is_refused_with_its_reason(kind):
    raw, reason = MALFORMED[kind]
    with pytest.raises(DataError) as err:
        read_csv(raw)
    message = str(err.value)
    assert reason in message, message
    assert "\n" not in message and len(message) < 200


def test_at_least_25_kinds_of_malformed_file_are_tested():
    assert len(MALFORMED) >= 25


def test_a_file_at_the_limits_is_read():
    rows = b"x,y\n" + b"0.5,1\n" * MAX_ROWS
    assert len(rows) <= MAX_BYTES
    assert read_csv(rows).rows == MAX_ROWS
    assert read_csv(b",".join(b"c%d" % i for i in range(11)) + b"\n" + b",".join([b"1"] * 11)).width == 10


def test_data_of_refuses_what_cannot_train():
    with pytest.raises(DataError, match="not a finite"):
        Data.of(torch.tensor([[float("nan")]]), torch.tensor([1.0]))
    with pytest.raises(DataError, match="1 to 10 feature columns"):
        Data.of(torch.zeros(3, 11), torch.zeros(3))
    with pytest.raises(DataError, match="must be"):
        Data.of(torch.zeros(3, 2), torch.zeros(4))


# --- total: any bytes give a Data or a DataError -----------------------------------------------------

EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CELLS = st.sampled_from(
    ["1", "-2.5", "1e3", ".5", "+7", "nan", "inf", "=1+1", "@x", "-", "", " 3 ", '"4"', '"a,b"', "x1", "y", "1e39"]
)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    """Bytes near a CSV: a grid of chosen and random cells, joined by chosen separators and line endings."""
    width = draw(st.integers(1, 13))
    rows = draw(st.lists(st.lists(CELLS | st.text(max_size=4), min_size=width, max_size=width + 1), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", ""]), min_size=len(rows), max_size=len(rows)))
    text = "".join(sep.join(r) + e for r, e in zip(rows, ends, strict=True))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


NUMBERS = st.floats(allow_nan=False, allow_infinity=False, width=32)  # every finite float32


@st.composite
def valid_tables(draw: st.DrawFn) -> tuple[list[str], list[list[float]]]:
    """Column names and rows of numbers that make a valid file."""
    width = draw(st.integers(2, 11))
    rows = draw(st.lists(st.lists(NUMBERS, min_size=width, max_size=width), min_size=1, max_size=5))
    return [f"c{i}" for i in range(width)], rows


def as_csv(names: list[str], rows: list[list[float]]) -> str:
    return "\n".join([",".join(names)] + [",".join(map(repr, row)) for row in rows]) + "\n"


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid file with one character replaced, inserted or deleted: mostly refused, sometimes still valid."""
    text = as_csv(*draw(valid_tables()))
    at = draw(st.integers(0, len(text) - 1))
    piece = draw(CELLS | st.sampled_from(["\r", "\r\n", ",", '"', "\ufeff", "\x00", ";"]) | st.text(max_size=2))
    cut = draw(st.integers(0, 1))
    return (text[:at] + piece + text[at + cut :]).encode("utf-8", errors="replace")


@EXAMPLES
@given(valid_tables())
def test_a_valid_file_reads_as_its_numbers(table):
    names, rows = table
    data = read_csv(as_csv(names, rows).encode())
    expected = torch.tensor(rows, dtype=torch.float32)
    assert data.feature_names == tuple(names[:-1]) and data.target_name == names[-1]
    assert torch.equal(data.features, expected[:, :-1]) and torch.equal(data.target, expected[:, -1])


@EXAMPLES
@given(csv_like() | mutated() | st.binary(max_size=200))
def test_any_bytes_give_data_or_a_named_refusal(raw):
    try:
        data = read_csv(raw)
    except DataError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert 1 <= data.width <= 10 and data.rows >= 1
    assert bool(torch.isfinite(data.features).all()) and bool(torch.isfinite(data.target).all())
