"""The rule parser: what it reads, what it refuses (with the position), and that it is total.

Oracles: coefficients written out by hand for the brief's examples, a float64 evaluation of the
polynomial written in this file, and Hypothesis over arbitrary texts and over generated rule texts.
"""

from __future__ import annotations

import math
import re
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lucky5.rules import (
    MAX_CANONICAL_CHARS,
    MAX_COEFFICIENT,
    MAX_RULE_CHARS,
    Rule,
    RuleError,
    Term,
    parse_rule,
)


def coefficients(rule: Rule) -> dict[tuple[int, ...], float]:
    """{(): c, (i,): aᵢ, (i, j): qᵢⱼ} with 1-based inputs, as a reader writes them."""
    out = {(): rule.constant} if rule.constant else {}
    for t in rule.terms:
        out[(t.i + 1,) if t.j is None else (t.i + 1, t.j + 1)] = t.coefficient
    return out


# --- what it reads ---------------------------------------------------------------------------------

READ = [
    ("5 + 3*x1 - 2*x7", {(): 5.0, (1,): 3.0, (7,): -2.0}, "5 + 3*x1 - 2*x7"),
    ("4 + 2*x1*x2", {(): 4.0, (1, 2): 2.0}, "4 + 2*x1*x2"),
    ("5 + x3^2", {(): 5.0, (3, 3): 1.0}, "5 + x3^2"),
    ("-x1 + 0.5*x2*x2", {(1,): -1.0, (2, 2): 0.5}, "-x1 + 0.5*x2^2"),
    ("x1 + x1", {(1,): 2.0}, "2*x1"),  # the same term twice is summed
    ("x2*x1 + x1*x2", {(1, 2): 2.0}, "2*x1*x2"),  # in either order
    ("1e-3*x10 - 2.5E2", {(): -250.0, (10,): 0.001}, "-250 + 0.001*x10"),
    ("x1**2 + x2²", {(1, 1): 1.0, (2, 2): 1.0}, "x1^2 + x2^2"),  # Python's and the page's squares
    ("5 − 3·X4", {(): 5.0, (4,): -3.0}, "5 - 3*x4"),  # the page's own minus sign and dot
    ("2*3*x5*.5", {(5,): 3.0}, "3*x5"),  # numbers multiply into the coefficient
    ("5 - -x1", {(): 5.0, (1,): 1.0}, "5 + x1"),
    ("x1 - x1", {}, "0"),  # terms that cancel vanish
    ("-0", {}, "0"),
    ("\t7\t", {(): 7.0}, "7"),
    ("0.1 + 0.2", {(): 0.1 + 0.2}, "0.30000000000000004"),  # summed in float64, written exactly
]


@pytest.mark.parametrize("text, expected, canonical", READ, ids=[t for t, _, _ in READ])
def test_reads_numbers_inputs_products_and_squares(text, expected, canonical):
    rule = parse_rule(text)
    assert coefficients(rule) == expected
    assert rule.text == canonical == str(rule)
    assert parse_rule(canonical) == rule


def test_linear_and_quadratic_views():
    rule = parse_rule("1 + 2*x3 - x10 + 4*x2*x5 + x9^2")
    linear = torch.zeros(10, dtype=torch.float64)
    linear[2], linear[9] = 2.0, -1.0
    assert torch.equal(rule.linear, linear)
    quadratic = torch.zeros(10, 10, dtype=torch.float64)
    quadratic[1, 4], quadratic[8, 8] = 4.0, 1.0
    assert torch.equal(rule.quadratic, quadratic)
    assert not rule.is_linear and parse_rule("5 + 3*x1").is_linear and parse_rule("5").is_linear


# --- what it refuses -------------------------------------------------------------------------------

REFUSED = [
    ("__import__('os')", 1, "a number or an input x1 to x10", "'__import__'"),
    ("x11", 1, "an input x1 to x10", "'x11'"),
    ("5 + x0", 5, "an input x1 to x10", "'x0'"),
    ("x1**x2", 5, "the power 2", "'x2'"),
    ("x1^3", 4, "the power 2", "'3'"),
    ("1/x1", 2, "+, -, * or the end", "'/'"),
    ("exp(x1)", 1, "a number or an input", "'exp'"),
    ("x1*x2*x3", 7, "at most two inputs multiplied", "'x3'"),
    ("x1^2*x2", 6, "at most two inputs multiplied", "'x2'"),
    ("3x1", 2, "+, - or * between two factors", "'x1'"),
    ("5 +", 4, "a number or an input", "the end of the rule"),
    ("(x1)", 1, "a number or an input", "'('"),
    ("1e999 + x1", 1, "a finite number", "'1e999'"),
    ("nan", 1, "a number or an input", "'nan'"),
    ("inf*x1", 1, "a number or an input", "'inf'"),
    ("2e7*x1", 1, f"coefficients of at most {MAX_COEFFICIENT:,.0f}", "'2e7'"),
    ("1e300*1e300*0*x1", 1, "coefficients of at most", "'1e300'"),  # inf·0 is nan, not 0: refused
    ("1e", 3, "the digits of an exponent", "the end of the rule"),
    (".", 1, "a number such as 0.5", "'.'"),
    ("x1\n+ 1", 3, "+, -, * or the end", "'\\n'"),
]


@pytest.mark.parametrize("text, column, expected, found", REFUSED, ids=[t for t, *_ in REFUSED])
def test_refusals_name_the_position_and_what_was_expected(text, column, expected, found):
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    message = str(info.value)
    assert message.startswith(f"at character {column}: expected ")
    assert info.value.position == column - 1
    assert expected in message and message.endswith(f"found {found}")
    assert "\n" not in message  # one line, whatever the text held


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_an_empty_text_is_refused(text):
    with pytest.raises(RuleError, match="expected a rule such as 5 \\+ 3\\*x1 - 2\\*x7, found an empty text"):
        parse_rule(text)


@pytest.mark.parametrize("text", ["x1+" * 3_334, "1" * 10_000, "x" * 10_000])
def test_the_length_cap_comes_first(text):
    assert len(text) > MAX_RULE_CHARS
    start = time.perf_counter()
    with pytest.raises(RuleError, match=f"at most {MAX_RULE_CHARS:,} characters, found {len(text):,} characters"):
        parse_rule(text)
    assert time.perf_counter() - start < 0.1  # refused before any parsing (a generous bound for a shared machine)


def test_a_text_is_required():
    with pytest.raises(TypeError):
        parse_rule(5)  # type: ignore[arg-type]


def test_every_canonical_text_fits_under_the_cap():
    # The longest canonical text: every one of the 66 terms with a 17-digit coefficient.
    assert MAX_CANONICAL_CHARS <= MAX_RULE_CHARS
    worst = parse_rule(" ".join(f"- 1.2345678901234567e-300*x{i}*x{j}" for i in range(1, 11) for j in range(i, 11)))
    assert len(worst.text) <= MAX_CANONICAL_CHARS


# --- total, and the canonical text round-trips ------------------------------------------------------

ALPHABET = st.sampled_from(list("0123456789xX+-*^/.eE() \t²·−_,") + ["x1", "x10", "x11", "**", "^2", "1e", "nan"])


def assert_total(text: str) -> Rule | None:
    try:
        rule = parse_rule(text)
    except RuleError as err:
        assert str(err).startswith(("at character ", "expected "))
        assert err.position is None or 0 <= err.position <= len(text)
        return None
    assert parse_rule(rule.text) == rule
    assert rule.text == parse_rule(rule.text).text
    assert all(math.isfinite(t.coefficient) and 0 < abs(t.coefficient) <= MAX_COEFFICIENT for t in rule.terms)
    assert math.isfinite(rule.constant)
    return rule


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_rule_or_a_refusal(text):
    assert_total(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_any_rule_like_text_is_a_rule_or_a_refusal(text):
    assert_total(text)


def _number(draw: st.DrawFn) -> tuple[str, float]:
    value = draw(
        st.one_of(
            st.integers(0, 1000).map(float),
            st.floats(0, 1000, allow_nan=False),
            st.floats(1e-30, 1e-3),
        )
    )
    text = draw(st.sampled_from([repr(value), f"{value:.3e}", f"{value:g}"]))
    return text, float(text)


@st.composite
def rule_texts(draw: st.DrawFn) -> tuple[str, dict[tuple[int, ...], float]]:
    """A valid rule text with random spacing and spellings, and its coefficients summed in float64."""
    parts, expected = [], {}
    for n in range(draw(st.integers(1, 8))):
        sign = draw(st.sampled_from(["+", "-"]))
        text, value = _number(draw)
        inputs = sorted(draw(st.lists(st.integers(1, 10), max_size=2)))
        factors = [text] + [f"x{i}" for i in inputs]
        if len(inputs) == 2 and inputs[0] == inputs[1] and draw(st.booleans()):
            factors = [text, f"x{inputs[0]}^2"]
        order = draw(st.permutations(factors))
        space = draw(st.sampled_from(["", " ", "  "]))
        joiner = draw(st.sampled_from(["*", " * ", "·"]))
        lead = "" if n == 0 and sign == "+" else f"{space}{sign}{space}"
        parts.append(lead + joiner.join(order))
        key = tuple(inputs)
        expected[key] = expected.get(key, 0.0) + (value if sign == "+" else -value)
    return "".join(parts), expected


@settings(max_examples=300, deadline=None)
@given(rule_texts())
def test_generated_rules_read_back_their_coefficients(case):
    text, expected = case
    rule = assert_total(text)
    assert rule is not None, text
    want = {k: v for k, v in expected.items() if v != 0 and k != ()}
    got = {k: v for k, v in coefficients(rule).items() if k != ()}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert rule.constant == pytest.approx(expected.get((), 0.0), rel=1e-12, abs=1e-12)


# --- evaluation --------------------------------------------------------------------------------------


def float64_value(rule_coefficients: dict[tuple[int, ...], float], x: torch.Tensor) -> torch.Tensor:
    """Σ coefficient · Π x_i in float64: this file's own reading of a polynomial."""
    x = x.double()
    out = torch.zeros(x.shape[0], dtype=torch.float64)
    for inputs, value in rule_coefficients.items():
        term = torch.full_like(out, value)
        for i in inputs:
            term = term * x[:, i - 1]
        out += term
    return out


@pytest.mark.parametrize("text", [t for t, _, _ in READ] + ["1 + 2*x3 - x10 + 4*x2*x5 + x9^2"])
def test_evaluate_is_the_polynomial(text):
    rule = parse_rule(text)
    x = torch.rand(500, 10, generator=torch.Generator().manual_seed(3))
    got = rule.evaluate(x)
    assert got.shape == (500,) and got.dtype == torch.float32
    torch.testing.assert_close(got.double(), float64_value(coefficients(rule), x), rtol=1e-6, atol=1e-5)


def test_evaluate_gives_each_row_the_same_bits_in_any_batch_shape():
    rule = parse_rule("0.1 + 3.3*x1 - 2.7*x7 + 0.3*x2*x9 - 1.1*x4^2")
    x = torch.rand(4, 7, 3, 10, generator=torch.Generator().manual_seed(5))
    whole = rule.evaluate(x)
    assert whole.shape == (4, 7, 3)
    for index in [(0, 0, 0), (3, 6, 2), (2, 1, 1)]:
        one = rule.evaluate(x[index].reshape(1, 10))
        assert torch.equal(one.reshape(()), whole[index])


@pytest.mark.parametrize("text", ["5 + 3*x1 - 2*x7", "-x1 + 0.5*x2^2", "x3", "-2*x1*x4 + 0.30000000000000004", "7"])
def test_the_scripts_expression_computes_the_same_bits(text):
    rule = parse_rule(text)
    x = torch.rand(64, 10, generator=torch.Generator().manual_seed(1))
    # The expression is ours and is checked to hold only x, torch, numbers and operators before it is run.
    expression = rule.python_expression("x")
    assert set(expression) <= set("x[:, 0123456789]*+-.e torch.full(shape)")
    got = eval(expression, {"torch": torch, "__builtins__": {}}, {"x": x})  # noqa: S307 - our own expression
    assert got.shape == (64, 1)
    assert torch.equal(got.reshape(-1), rule.evaluate(x))


def test_terms_are_kept_in_canonical_order():
    rule = parse_rule("x2*x3 + x10 + x1^2 + x1")
    assert rule.terms == (Term(1.0, 0), Term(1.0, 9), Term(1.0, 0, 0), Term(1.0, 1, 2))
    assert rule.text == "x1 + x10 + x1^2 + x2*x3"


@pytest.mark.parametrize("text", ["x1*x2*x3", "x1^2*x2", "2*x3*x3*x3"])
def test_a_product_of_three_inputs_is_refused_in_words_true_to_the_lesson(text):
    """The lesson says one neuron learns no product at all, so the refusal must not blame one neuron (it once
    said "one neuron's rules are quadratic"); the examples it gives of what is allowed must parse."""
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    message = str(info.value)
    assert "neuron" not in message and "quadratic" not in message
    allowed = re.findall(r"x\d+\*x\d+|x\d+\^2", message.split(", found")[0])
    assert allowed, message
    assert all(not parse_rule(a).is_linear for a in allowed)


@pytest.mark.parametrize(
    "text, words",
    [
        ("4 + 2*x1*x2", "x1 times x2"),
        ("5 + x3^2", "x3 squared"),
        ("x2*x1 - x3*x3", "x1 times x2 and x3 squared"),
        ("x1*x2 + x3^2 + x4*x5 + x6*x7", "x1 times x2, x3 squared, x4 times x5 and more"),
        ("5 + 3*x1 - 2*x7", ""),
    ],
)
def test_what_one_neuron_cannot_compute_is_said_plainly(text, words):
    """Each product is named as what it is (a square is no product of two inputs), never "it multiplies inputs"."""
    rule = parse_rule(text)
    assert rule.products_in_words == words
    said = rule.beyond_one_neuron
    assert said == "" if not words else said.endswith(f"so it cannot compute {words}")
