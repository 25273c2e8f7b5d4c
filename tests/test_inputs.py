"""lucky5.inputs: one parser for every typed list of numbers, and the seed rules."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lucky5.config import MAX_LR, MAX_SEED
from lucky5.inputs import (
    INPUT_LIMIT,
    default_input,
    format_numbers,
    parse_input,
    parse_lrs,
    parse_numbers,
    spread_seeds,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1", (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)),
        ("1;2 3,\t4\n5, 6;7 8;9 1e-3", (1, 2, 3, 4, 5, 6, 7, 8, 9, 0.001)),
        # With a '.' number in the text, a comma between digits can only separate: '6,7.0' is 6 and 7.
        ("1;2 3,\t4\n5, 6,7.0;8 ,9,1e-3", (1, 2, 3, 4, 5, 6, 7, 8, 9, 0.001)),
        ("1e-3,2e-3, 3, 4, 5, 6, 7, 8, 9, 10", (0.001, 0.002, 3, 4, 5, 6, 7, 8, 9, 10)),  # '3,2' is no number
        ("-1e6, +1e6, .5, 5., 0, -0, 1E2, 2e+1, 3e-1, 7", (-1e6, 1e6, 0.5, 5, 0, 0, 100, 20, 0.3, 7)),
    ],
)
def test_ten_inputs_parse(text, expected):
    assert parse_input(text) == expected


@pytest.mark.parametrize(
    "text, says",
    [
        ("1 2 3", "exactly 10 numbers"),
        # 1,000 is a thousands separator or a decimal comma (1.0): the hint names both.
        ("1,000 2 3 4 5 6 7 8 9 10", r"inside '1,000'\. .*write 0\.5, not 0,5, and 1000, not 1,000\.$"),
        ("1,000,2", r"found 3\)\. A comma separates two numbers: write 0\.5, not 0,5, and 1000, not 1,000\.$"),
        ("12,500 2 3 4 5 6 7 8 9 10", "inside '12,500'.*and 1000, not 1,000"),
        # A 0 before the comma is always a decimal comma, even with three digits after it.
        ("0,001 0,01 0,05 0,2", r"inside '0,001'\. A comma separates two numbers: write 0\.5, not 0,5\.$"),
        ("-0,250 2 3 4 5 6 7 8 9 10", r"inside '-0,250'\. A comma separates two numbers: write 0\.5, not 0,5\.$"),
        ("0,001,0,01,0,05,0,2", r"found 8\)\. A comma separates two numbers: write 0\.5, not 0,5\.$"),
        # Commas with spaces after them separate, and a comma also sits between digits: no '.' says which
        # comma is a decimal one, so the text is refused rather than read as 2, 5, 3, ... or as 20 numbers.
        (
            "2,5, 3, 4, 5, 6, 7, 8, 9, 10",
            r"Commas separate these numbers, yet a comma also sits inside '2,5'\..*0,5\.$",
        ),
        ("0,5, 0,3, 0,2, 0,1, 0,9, 0,4, 0,6, 0,7, 0,8, 0,0", r"inside '0,5'\. .*write 0\.5, not 0,5\.$"),
        ("1, 2, 3, 4, 5, 6, 7, 8, 9,10", "inside '9,10'"),
        # Decimal commas with spaces between the numbers would read as twice the numbers: refused, not misread.
        ("0,5 0,3 0,2 0,1 0,9", "comma sits inside '0,5'.* write 0.5, not 0,5"),
        ("0,5 " + "0.5 " * 9, "comma sits inside '0,5'"),
        ("nan 2 3 4 5 6 7 8 9 10", "only finite"),
        ("1e999 2 3 4 5 6 7 8 9 10", "out of range"),
        ("2e6 2 3 4 5 6 7 8 9 10", "out of range"),
        ("1_000 2 3 4 5 6 7 8 9 10", "Character 2"),
        ("١ 2 3 4 5 6 7 8 9 10", "Character 1"),
        ("0x10 2 3 4 5 6 7 8 9 10", "not a number like"),
        ("**1** 2 3 4 5 6 7 8 9 10", "Character 1"),
    ],
)
def test_bad_inputs_are_refused_with_a_sentence(text, says):
    with pytest.raises(ValueError, match=says):
        parse_input(text)


def test_a_comma_between_digits_always_separates_numbers_and_the_refusals_say_so():
    assert parse_input(",".join(["0.5"] * 10)) == (0.5,) * 10  # the link's own form: commas, no spaces
    mixed = "0.1, 0.2,0.3, 0.4,0.5, 0.6, 0.7, 0.8, 0.9, 1"  # commas with and without spaces: still commas only
    assert parse_input(mixed) == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    with pytest.raises(ValueError) as three:
        parse_input("1,2,3")  # plainly three numbers: the count, and no word on decimals
    assert "found 3" in str(three.value) and "0,5" not in str(three.value)
    assert parse_lrs("0.01,0.1") == (0.01, 0.1)
    with pytest.raises(ValueError, match=r"Learning rate 1 \(0\) is out of range.* write 0.5, not 0,5"):
        parse_lrs("0,01")  # a decimal comma: 0 and 01, and 0 is no learning rate
    with pytest.raises(ValueError, match="comma sits inside '0,01'"):
        parse_lrs("0,01 0,1")
    with pytest.raises(ValueError, match=r"inside '0,001'\. A comma separates two numbers: write 0\.5, not 0,5\.$"):
        parse_lrs("0,001 0,01 0,05 0,2")  # a race typed with decimal commas: no word on thousands
    with pytest.raises(ValueError, match="inside '0,01'"):
        parse_lrs("0,01, 0,1")
    assert parse_lrs("1e-3,1e-2, 0.1") == (0.001, 0.01, 0.1)


def test_a_huge_number_with_a_comma_is_refused_with_a_sentence():
    text = "9" * 5_000 + ",000 1"  # the hint must not turn 5,000 digits into an int (Python refuses past 4,300)
    with pytest.raises(ValueError, match=r"inside '9{20}'\..*and 1000, not 1,000\.$"):
        parse_input(text)


def test_learning_rates_are_above_zero_and_at_most_the_limit():
    assert parse_lrs("0.001, 0.01 0.05;0.2") == (0.001, 0.01, 0.05, 0.2)
    assert parse_lrs(f"{MAX_LR:g}") == (MAX_LR,)
    for bad in ("0", "-0.1", f"{MAX_LR * 1.01:g}", "", "1 " * 9):
        with pytest.raises(ValueError):
            parse_lrs(bad)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_with_value_error(text):
    try:
        values = parse_numbers(text, count=(0, 30))
    except ValueError as err:
        assert str(err)
    else:
        assert all(math.isfinite(v) and abs(v) <= INPUT_LIMIT for v in values)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.floats(-INPUT_LIMIT, INPUT_LIMIT, allow_nan=False).map(lambda v: float(f"{v:g}")), min_size=10, max_size=10
    )
)
def test_formatted_numbers_read_back_exactly(values):
    assert parse_input(format_numbers(tuple(values))) == tuple(values)


def test_the_default_input_is_the_seeds_own_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    x = default_input(3)
    assert torch.equal(before, torch.get_rng_state())
    assert x == default_input(3) and x != default_input(4)
    assert len(x) == 10 and all(0 <= v < 1 for v in x)
    g = torch.Generator().manual_seed(4)  # the oracle: seed + 1, three decimals
    assert x == tuple(round(v, 3) for v in torch.rand(10, generator=g).tolist())
    assert parse_input(format_numbers(x)) == x  # it survives a URL exactly
    assert len(default_input(MAX_SEED)) == 10  # seed + 1 wraps instead of overflowing


def test_spread_seeds_count_up_and_wrap():
    assert spread_seeds(5, 3) == [5, 6, 7]
    assert spread_seeds(MAX_SEED, 2) == [MAX_SEED, 0]
