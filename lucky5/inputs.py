"""The numbers a viewer types or draws: lists of numbers, the ten inputs, and the seed rules.

One parser serves every list of numbers the page or the command line takes (the ten inputs, a
learning-rate race, a URL's ``x``), so they accept and refuse the same way. The seed rules say
which default input belongs to a seed and which seeds a spread of K runs uses, so that the page,
the CLI and the tests agree. Nothing here trains, draws or knows about a UI; draws come from a
private ``torch.Generator``, never the global one.
"""

from __future__ import annotations

import re

import torch

from .config import MAX_LR, MAX_SEED, NUMBER

IN_FEATURES = 10
INPUT_LIMIT = 1e6  # |x| beyond this says nothing useful about a layer trained on [0, 1]
MAX_RACE = 8  # learning rates in one race
# A number written with a comma between digits ('0,5', '-0,25', '1,000'): not inside another number
# ('1e-3,2' is two numbers), and, in COMMA_AT, found at every start, so '1,2,000' yields '1,2' and '2,000'.
COMMA = re.compile(r"(?<![\w.+-])[-+]?\d+,\d+")
COMMA_AT = re.compile(r"(?<![\w.+-])(?=([-+]?\d+,\d+))")


def parse_numbers(
    text: str,
    *,
    count: int | tuple[int, int],
    what: str = "numbers",
    low: float = -INPUT_LIMIT,
    high: float = INPUT_LIMIT,
    low_open: bool = False,
) -> tuple[float, ...]:
    """Numbers separated by commas, semicolons or spaces, each finite and in [low, high].

    ``count`` is the exact number wanted, or an inclusive (min, max) range; ``low_open`` makes the
    lower bound exclusive (a learning rate must be above 0). Plain ASCII numbers only: Python's
    ``float`` also takes '1_000', other scripts' digits and 'nan', which a link should not smuggle in.

    A comma always separates two numbers ('1,2,3' is three). Text where a comma between digits may be a
    decimal comma is refused rather than misread: spaces or semicolons separate the numbers yet a comma sits
    inside one ('0,5 0,3'), or, with no '.' anywhere, commas followed by spaces separate them yet a comma
    also sits between digits ('2,5, 3'). With a '.' number in the text ('0.1, 0.2,0.3') every comma separates.

    Returns:
        The numbers as a tuple of Python floats.
    Raises:
        ValueError: a sentence saying what is wrong, quoting at most 20 characters of the input.
    """
    text = str(text)
    noun = what[:-1] if what.endswith("s") else what  # "numbers" -> "Number 3 ..."
    for i, ch in enumerate(text):
        if not (ch.isascii() and (ch.isalnum() or ch in "+-.,; \t\n")):
            raise ValueError(
                f"Character {i + 1}, {ch!r}, is not allowed in {what}: "
                "use digits 0–9, '.', '-', 'e' and commas or spaces."
            )
    commas = [m.group(1) for m in COMMA_AT.finditer(text)]  # numbers with a comma inside, if one is meant
    inside = _comma_inside(text)
    if inside:  # '0,5 0,25': decimal commas, which would silently read as twice the numbers
        raise ValueError(f"Spaces separate these {what}, yet a comma sits inside {inside[:20]!r}.{_comma_hint(inside)}")
    if commas and "." not in text and re.search(r",\s", text):  # '2,5, 3, 4': is '2,5' one number or two?
        first = commas[0]
        raise ValueError(
            f"Commas separate these {what}, yet a comma also sits inside {first[:20]!r}.{_comma_hint(first)}"
        )
    hint = _comma_hint(commas[0]) if commas else ""
    parts = text.replace(",", " ").replace(";", " ").split()
    lo_n, hi_n = (count, count) if isinstance(count, int) else count
    if not lo_n <= len(parts) <= hi_n:
        wanted = f"exactly {lo_n}" if lo_n == hi_n else f"{lo_n} to {hi_n}"
        # '1,2,3' is plainly three numbers: no word on decimals. '1,000,2' or '0,001,0,01' may not be.
        long = [c for c in commas if len(c.rsplit(",", 1)[1]) == 3]
        thousands = _comma_hint(long[0]) if long else ""
        raise ValueError(f"Type {wanted} {what} separated by commas or spaces (found {len(parts)}).{thousands}")
    values = []
    for i, part in enumerate(parts, 1):
        if part.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise ValueError(f"{noun.capitalize()} {i} is {part[:20]!r}: only finite numbers are allowed.")
        if not NUMBER.fullmatch(part):
            raise ValueError(f"{noun.capitalize()} {i}, {part[:20]!r}, is not a number like 0.25 or 1e-3.")
        v = float(part)  # 1e999 becomes inf, which the range check below refuses
        if not (low < v if low_open else low <= v) or not v <= high:
            allowed = (
                f"above {_show(low)} and at most {_show(high)}" if low_open else f"from {_show(low)} to {_show(high)}"
            )
            raise ValueError(f"{noun.capitalize()} {i} ({part[:20]}) is out of range: use numbers {allowed}.{hint}")
        values.append(v)
    return tuple(values)


def _comma_inside(text: str) -> str | None:
    """The first number written with a comma inside it ('0,5', '1,000') when spaces, not commas, separate
    the numbers ('0,5 0,25'); None when commas serve as separators anywhere ('1,2 3, 4')."""
    tokens = re.split(r"[\s;]+", text.strip())
    inside = [t for t in tokens if COMMA.fullmatch(t)]
    if len(tokens) > 1 and inside and all(COMMA.fullmatch(t) or "," not in t for t in tokens):
        return inside[0]
    return None


def _comma_hint(number: str) -> str:
    """What to write instead of ``number``, a number with a comma between digits (a COMMA match).

    Its part before the comma is 0 ('0,001', '-0,25'): a decimal comma. Exactly three digits after a
    comma with a non-zero part before it ('1,000', '12,500'): a decimal comma or a thousands separator,
    so the hint names both. Otherwise ('2,5'): a decimal comma.
    """
    whole, decimals = number.lstrip("+-").split(",", 1)
    if len(decimals) == 3 and whole.strip("0"):  # not int(whole): a 5,000-digit whole would raise
        return " A comma separates two numbers: write 0.5, not 0,5, and 1000, not 1,000."
    return " A comma separates two numbers: write 0.5, not 0,5."


def _show(v: float) -> str:
    """1000000.0 as '1,000,000'; other numbers in their short form."""
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def parse_input(text: str) -> tuple[float, ...]:
    """The ten inputs of the layer (any finite numbers within ±1,000,000); raises ValueError."""
    return parse_numbers(text, count=IN_FEATURES, what="numbers")


def parse_lrs(text: str) -> tuple[float, ...]:
    """1 to 8 learning rates for a race, each above 0 and at most MAX_LR; raises ValueError."""
    return parse_numbers(text, count=(1, MAX_RACE), what="learning rates", low=0.0, high=MAX_LR, low_open=True)


def format_numbers(values: tuple[float, ...]) -> str:
    """The numbers as the parsers read them back: '0.1, 0.25, 3' (shortest %g form)."""
    return ", ".join(f"{v:g}" for v in values)


def default_input(seed: int) -> tuple[float, ...]:
    """The 'your input' a run of ``seed`` shows until the viewer changes it: ten numbers in [0, 1).

    Drawn from a private generator seeded with seed + 1 (so it is not the run's first training
    input) and rounded to 3 decimals so that it reads well and survives a URL exactly.
    """
    g = torch.Generator().manual_seed((seed + 1) % (MAX_SEED + 1))
    return tuple(round(v, 3) for v in torch.rand(IN_FEATURES, generator=g).tolist())


def spread_seeds(seed: int, k: int) -> list[int]:
    """The K seeds of a seed spread starting at ``seed``: seed, seed + 1, ... (wrapping at MAX_SEED)."""
    return [(seed + i) % (MAX_SEED + 1) for i in range(k)]
