"""A rule in the inputs: what the layer must learn when the target depends on x.

The blog post's target is a constant, the lucky number. A *rule* makes the target a function of the
ten inputs, written as a learner would type it: ``5 + 3*x1 - 2*x7``, ``4 + 2*x1*x2``, ``5 + x3^2``,
``-x1 + 0.5*x2*x2``. A rule is a polynomial of degree at most two in x1…x10: numbers (decimals and
e-notation), the inputs, ``+`` and ``−``, ``*``, squares (``^2`` or ``**2``), and products of at most two
inputs. ``parse_rule`` reads one with a parser of its own (never ``eval``): any text either becomes a
``Rule`` or raises ``RuleError``, whose message names the character where the rule went wrong and what
was expected there. The same term given twice is summed (``x1 + x1`` is ``2*x1``).

A ``Rule`` is a frozen value with one canonical text (``Rule.text``): parsing the canonical text gives the
same Rule back, and the URL, the checkpoint and the run's settings carry that text. ``evaluate`` computes
the targets of a batch of inputs in float32, in a fixed order of elementwise operations (the order of the
canonical text), so that a batch of one and a batch of thousands give the same bits for the same row:
the standalone script computes its targets the same way (``python_expression``). This module draws no
random numbers and knows nothing about training or a UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

IN_FEATURES = 10  # the layer's inputs, x1…x10 (lucky5.engine has the same number; it imports this module)
# The longest rule text accepted. Long enough for the longest canonical text (every one of the 66 terms
# with a 17-digit coefficient, ``MAX_CANONICAL_CHARS`` below), so that every Rule's text parses again.
MAX_RULE_CHARS = 2_500
# Coefficients (after summing equal terms) are at most this large: targets then stay far inside float32
# (at most 66 terms of 1e6 on inputs in [0, 1]), so a rule alone can never overflow the layer's loss.
MAX_COEFFICIENT = 1e6

# Characters a learner may copy from the page's own formulas, read as their ASCII spelling.
_ALIASES = {"−": "-", "·": "*", "×": "*", "²": "^2"}
_SPACES = " \t"
_END = "\n"  # what _Parser._peek returns at the end of the text; a line break in a rule is refused
# Why x1*x2*x3 is refused, said as it is: the page's rules stop at degree two by choice (``lucky5.theory.fit`` carries
# the 66 monomials of degree <= 2), not because of anything one neuron does; one neuron learns no product at all.
_TWO_INPUTS = (
    "at most two inputs multiplied in one term, as in x1*x2 or x3^2 "
    "(a rule here has squares and products of two inputs, no higher powers)"
)


class RuleError(ValueError):
    """A text that is not a rule. ``position`` is the 0-based index of the character where it went wrong
    (``None`` when the whole text is at fault); ``expected`` says what would have been allowed there.
    The message is one line: "at character N: expected …, found …" (N counted from 1)."""

    def __init__(self, position: int | None, expected: str, found: str = "") -> None:
        self.position = position
        self.expected = expected
        where = "" if position is None else f"at character {position + 1:,}: "
        super().__init__(f"{where}expected {expected}" + (f", found {found}" if found else ""))


@dataclass(frozen=True)
class Term:
    """One term of a rule: ``coefficient`` times input ``i`` (0-based), times input ``j`` if given (i <= j)."""

    coefficient: float
    i: int
    j: int | None = None

    @property
    def degree(self) -> int:
        return 1 if self.j is None else 2


@dataclass(frozen=True)
class Rule:
    """A target y = c + Σ aᵢ·xᵢ + Σ_{i<=j} qᵢⱼ·xᵢ·xⱼ, from ``parse_rule``.

    ``constant`` is c; ``terms`` are the non-zero linear and quadratic terms in canonical order (linear
    ones by input, then products by (i, j) with i <= j), each coefficient a finite float of size at most
    ``MAX_COEFFICIENT``. Construct Rules with ``parse_rule``; the fields are not re-validated here.
    """

    constant: float
    terms: tuple[Term, ...]

    @property
    def linear(self) -> torch.Tensor:
        """a: the linear coefficients, (10,) float64 (0 for an input without a linear term)."""
        out = torch.zeros(IN_FEATURES, dtype=torch.float64)
        for t in self.terms:
            if t.j is None:
                out[t.i] = t.coefficient
        return out

    @property
    def quadratic(self) -> torch.Tensor:
        """Q: the coefficients of xᵢ·xⱼ at [i, j], i <= j (upper-triangular), (10, 10) float64."""
        out = torch.zeros(IN_FEATURES, IN_FEATURES, dtype=torch.float64)
        for t in self.terms:
            if t.j is not None:
                out[t.i, t.j] = t.coefficient
        return out

    @property
    def is_linear(self) -> bool:
        """True when one neuron can represent the rule exactly (no product or square of inputs)."""
        return all(t.j is None for t in self.terms)

    @property
    def products_in_words(self) -> str:
        """The rule's products of inputs in plain words, what one neuron's weighted sum cannot compute:
        "x1 times x2", "x3 squared", "x1 times x2 and x3 squared" (at most three named, then "and more");
        "" for a linear rule."""
        said = [
            f"x{t.i + 1} squared" if t.i == t.j else f"x{t.i + 1} times x{t.j + 1}"
            for t in self.terms
            if t.j is not None
        ]
        if len(said) > 3:
            said = [*said[:3], "more"]
        return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1] if said else ""

    @property
    def beyond_one_neuron(self) -> str:
        """Why one neuron cannot compute this rule, one plain clause to start a sentence with: "one neuron is a
        weighted sum, so it cannot compute x1 times x2"; "" for a linear rule."""
        said = self.products_in_words
        return f"one neuron is a weighted sum, so it cannot compute {said}" if said else ""

    @property
    def text(self) -> str:
        """The canonical text: ``parse_rule(rule.text) == rule``; e.g. ``5 + 3*x1 - 2*x7``."""
        parts: list[str] = []
        if self.constant != 0 or not self.terms:
            parts.append(_number(self.constant))
        for t in self.terms:
            size = abs(t.coefficient)
            inputs = _inputs(t)
            body = inputs if size == 1 else f"{_number(size)}*{inputs}"
            if not parts:
                parts.append(body if t.coefficient > 0 else "-" + body)
            else:
                parts.append(("+ " if t.coefficient > 0 else "- ") + body)
        return " ".join(parts)

    def __str__(self) -> str:
        return self.text

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """The rule's targets for inputs ``x`` of shape (..., 10): shape (...), in x's dtype (float32 in training).

        Computed as the canonical text reads, one elementwise operation at a time: start from the
        constant (or from the first term when the constant is 0), then for each term in order add
        ``(xᵢ·coefficient)·xⱼ``. Elementwise float operations are correctly rounded, so each row's
        target has the same bits whatever the batch's shape (``python_expression`` does the same).
        """
        out: torch.Tensor | None = None
        if self.constant != 0 or not self.terms:
            out = torch.full(x.shape[:-1], self.constant, dtype=x.dtype)
        for t in self.terms:
            term = x[..., t.i] * t.coefficient
            if t.j is not None:
                term = term * x[..., t.j]
            out = term if out is None else out + term
        assert out is not None  # a rule with no terms has its constant
        return out

    def python_expression(self, x: str = "x") -> str:
        """The rule as a PyTorch expression on a (B, 10) tensor named ``x``, giving (B, 1) targets.

        It performs exactly ``evaluate``'s operations in the same order (Python evaluates ``a + b*c*d``
        as ``a + ((b*c)*d)``), so the standalone script's targets equal the engine's bit for bit.
        """
        parts: list[str] = []
        if self.constant != 0 or not self.terms:
            if not self.terms:
                return f"torch.full(({x}.shape[0], 1), {self.constant!r})"
            parts.append(repr(self.constant))
        for t in self.terms:
            column = f"{x}[:, {t.i}:{t.i + 1}]"
            factor = f" * {x}[:, {t.j}:{t.j + 1}]" if t.j is not None else ""
            size = abs(t.coefficient)
            # x·1 and x·(−1) are exact: writing them without the 1 computes the same bits
            body = f"{column}{factor}" if size == 1 else f"{size!r} * {column}{factor}"
            if not parts:
                parts.append(body if t.coefficient > 0 else "-" + body)
            else:
                parts.append(("+ " if t.coefficient > 0 else "- ") + body)
        return " ".join(parts)


def _inputs(t: Term) -> str:
    if t.j is None:
        return f"x{t.i + 1}"
    if t.i == t.j:
        return f"x{t.i + 1}^2"
    return f"x{t.i + 1}*x{t.j + 1}"


def _number(value: float) -> str:
    """The shortest text that reads back as exactly ``value``: ``3`` for 3.0, ``0.1``, ``1e-05``."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


# --- the parser -------------------------------------------------------------------------------------


def parse_rule(text: str) -> Rule:
    """The Rule a text describes; total over texts: a Rule, or ``RuleError`` saying where and why.

    Grammar (spaces and tabs anywhere between tokens)::

        rule   := term (("+" | "-") term)*
        term   := ["+" | "-"] factor ("*" factor)*      at most two inputs per term
        factor := (number | input) [("^" | "**") "2"]
        number := digits ["." digits] [("e" | "E") ["+" | "-"] digits]   (or "." digits …)
        input  := "x1" … "x10"                          (or "X1" … "X10")

    ``−``, ``·``, ``×`` and ``²`` are read as ``-``, ``*``, ``*`` and ``^2``. Equal terms are summed
    (``x2*x1`` is ``x1*x2``); terms that sum to 0 vanish. Refused, with the position: anything longer
    than ``MAX_RULE_CHARS`` (checked first), an empty text, names other than x1…x10 (``x11``, ``exp``),
    ``/``, parentheses, powers other than 2, products of three inputs, numbers that are not finite, and
    coefficients larger than ``MAX_COEFFICIENT``.

    Raises:
        RuleError: the text is not a rule (a ``ValueError``).
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a rule is text, not {type(text).__name__}")
    if len(text) > MAX_RULE_CHARS:
        raise RuleError(None, f"a rule of at most {MAX_RULE_CHARS:,} characters", f"{len(text):,} characters")
    return _Parser(text).rule()


class _Parser:
    """A recursive-descent reader over one text; ``pos`` is the index of the next character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- characters --

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACES:
            self.pos += 1

    def _peek(self) -> str:
        """The next token's first character (aliases read as ASCII), or "\n" at the end (never typed: not a space)."""
        self._skip()
        if self.pos >= len(self.text):
            return _END
        char = self.text[self.pos]
        char = _ALIASES.get(char, char)[0]
        return " " if char == _END else char  # a typed line break is just an unexpected character

    def _found(self) -> str:
        """What stands at ``pos``, for a message: a word, a number or one character, quoted; or "the end"."""
        if self.pos >= len(self.text):
            return "the end of the rule"
        end = self.pos
        while end < len(self.text) and end - self.pos < 20 and (self.text[end].isalnum() or self.text[end] in "._"):
            end += 1
        shown = self.text[self.pos : max(end, self.pos + 1)]
        return repr(shown)  # repr: quotes, and control characters escaped

    def _fail(self, expected: str, position: int | None = None) -> RuleError:
        if position is not None:
            self.pos = position
        return RuleError(self.pos, expected, self._found())

    # -- grammar --

    def rule(self) -> Rule:
        self._skip()
        if self.pos >= len(self.text):
            raise RuleError(None, "a rule such as 5 + 3*x1 - 2*x7", "an empty text")
        constant = 0.0
        sums: dict[tuple[int, int | None], float] = {}
        sign = 1.0
        while True:
            start = self.pos
            coefficient, key = self._term()
            coefficient *= sign
            if key is None:
                constant += coefficient
                total = constant
            else:
                total = sums[key] = sums.get(key, 0.0) + coefficient
            if not abs(total) <= MAX_COEFFICIENT:  # also catches inf and nan
                raise self._fail(f"coefficients of at most {MAX_COEFFICIENT:,.0f} in size", start)
            op = self._peek()
            if op == _END:
                break
            if op not in "+-":
                raise self._fail(self._after_term(op))
            sign = 1.0 if op == "+" else -1.0
            self.pos += 1
        terms = tuple(Term(c, i, j) for (i, j), c in sorted(sums.items(), key=_order) if c != 0)
        return Rule(constant=constant if constant != 0 else 0.0, terms=terms)  # -0 is 0

    def _after_term(self, op: str) -> str:
        if op == "*":
            return _TWO_INPUTS
        if op in "xX0123456789.":
            return "+, - or * between two factors (write 3*x1, not 3x1)"
        return "+, -, * or the end of the rule"

    def _term(self) -> tuple[float, tuple[int, int | None] | None]:
        """(coefficient, (i, j) or (i, None) or None for the constant) of one signed product."""
        coefficient = 1.0
        op = self._peek()
        if op in "+-":
            coefficient = -1.0 if op == "-" else 1.0
            self.pos += 1
        inputs: list[int] = []
        while True:
            start = self._position()
            value, index = self._factor()
            if index is None:
                coefficient *= value
            else:
                inputs += [index] * int(value)  # value is the power, 1 or 2
                if len(inputs) > 2:
                    raise self._fail(_TWO_INPUTS, start)
            if self._peek() != "*":
                break
            self.pos += 1
        if not inputs:
            return coefficient, None
        inputs.sort()
        return coefficient, (inputs[0], inputs[1] if len(inputs) == 2 else None)

    def _position(self) -> int:
        self._skip()
        return self.pos

    def _factor(self) -> tuple[float, int | None]:
        """(number, None) or (power, input index) of one factor with its optional square."""
        char = self._peek()
        if char in "xX":
            index = self._input()
            power = 2.0 if self._square() else 1.0
            return power, index
        if char.isdigit() and char.isascii() or char == ".":
            value = self._number()
            return (value * value if self._square() else value), None
        if char == "*":
            raise self._fail("a number or an input x1 to x10 (write a square as x1^2)")
        raise self._fail("a number or an input x1 to x10")

    def _square(self) -> bool:
        """Read ``^2``, ``**2`` or ``²`` if it follows; refuse any other power."""
        self._skip()
        if self.text.startswith("²", self.pos):
            self.pos += 1
            return True
        if self.text.startswith("**", self.pos):
            self.pos += 2
        elif self.text.startswith("^", self.pos):
            self.pos += 1
        else:
            return False
        self._skip()
        if self.text.startswith("2", self.pos) and not self._digit_at(self.pos + 1):
            self.pos += 1
            return True
        raise self._fail("the power 2 (only squares: x1^2)")

    def _digit_at(self, i: int) -> bool:
        return i < len(self.text) and self.text[i] in "0123456789."

    def _input(self) -> int:
        start = self.pos
        self.pos += 1  # the x
        end = self.pos
        while end < len(self.text) and self.text[end] in "0123456789":
            end += 1
        digits = self.text[self.pos : end]
        if end < len(self.text) and self.text[end].isascii() and (self.text[end].isalnum() or self.text[end] == "_"):
            raise self._fail("an input x1 to x10", start)
        if digits not in _INPUT_NUMBERS:
            raise self._fail("an input x1 to x10", start)
        self.pos = end
        return int(digits) - 1

    def _number(self) -> float:
        start = self.pos
        digits = "0123456789"
        i = start
        while i < len(self.text) and self.text[i] in digits:
            i += 1
        if i < len(self.text) and self.text[i] == ".":
            i += 1
            while i < len(self.text) and self.text[i] in digits:
                i += 1
        if self.text[start:i] == ".":
            raise self._fail("a number such as 0.5", start)
        if i < len(self.text) and self.text[i] in "eE":
            j = i + 1
            if j < len(self.text) and self.text[j] in "+-":
                j += 1
            k = j
            while k < len(self.text) and self.text[k] in digits:
                k += 1
            if k == j:
                raise self._fail("the digits of an exponent, as in 1e-3", j)
            i = k
        value = float(self.text[start:i])  # only ASCII digits, '.', 'e' and a sign reach float()
        if not math.isfinite(value):
            raise self._fail("a finite number", start)
        self.pos = i
        return value


_INPUT_NUMBERS = {str(n): n for n in range(1, IN_FEATURES + 1)}


def _order(item: tuple[tuple[int, int | None], float]) -> tuple[int, int, int]:
    """Canonical order: linear terms by input, then products by (i, j)."""
    (i, j), _ = item
    return (0, i, 0) if j is None else (1, i, j)


# The longest canonical text: 66 terms, each with the longest shortest-repr of a coefficient.
MAX_CANONICAL_CHARS = len(
    Rule(
        -1.2345678901234567e-300,
        tuple(Term(-1.2345678901234567e-300, i) for i in range(IN_FEATURES))
        + tuple(Term(-1.2345678901234567e-300, i, j) for i in range(IN_FEATURES) for j in range(i, IN_FEATURES)),
    ).text
)
