"""Every setting of a lucky5 run, in one frozen dataclass, and its URL round trip.

This module is the project's vocabulary: field names are the URL's query parameters
and, with dashes for underscores, the command-line flags. It validates in one place (``Config.__post_init__``)
and never trains, draws or imports a UI.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from .rules import MAX_COEFFICIENT, Rule, RuleError, parse_rule

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}

MAX_EPOCHS = 100_000
MAX_LR = 10.0
MAX_BATCH = 1024
MAX_TARGET = 3.4e38  # the largest finite float32 is about 3.40282e38: a target beyond it is inf to the layer
MAX_SEED = 2**32 - 1  # torch's CPU generator keeps 32 bits of a seed: 2**32 would repeat seed 0
MAX_NOISE = MAX_COEFFICIENT  # the noise's σ, bounded like a rule's coefficients: targets stay far inside float32


class SettingError(ValueError):
    """A value Config refuses; ``name`` is the field it concerns (the message names it too)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _setting(
    default: Any,
    label: str,
    help: str,
    *,
    widget: str = "number",
    step: float | None = None,
    format: str | None = None,
    bounds: tuple[float, float] | None = None,
    optimizers: tuple[str, ...] | None = None,
    parts: tuple[str, str] | None = None,
) -> Any:
    """A Config field with the metadata that every view of it reads (see ``Setting``)."""
    meta = dict(
        label=label,
        help=help,
        widget=widget,
        step=step,
        format=format,
        bounds=bounds,
        optimizers=optimizers,
        parts=parts,
    )
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class Config:
    """One training run. Defaults are the blog post's script.

    Each field's metadata (``label``, ``help``, ``widget``, ``step``, ``format``, ``bounds``,
    ``optimizers``) is the one description of that setting: the page's widgets, the URL's
    parameter names and the command line's flags and ``--help`` are all generated from it
    (``SETTINGS``). Numbers may be given as any ``numbers.Integral`` / ``numbers.Real``,
    numpy scalars and 0-d tensors included; they are stored as plain ``int`` / ``float``.

    Raises:
        SettingError: (a ValueError) naming the field, the value and what is allowed, for the first invalid
            value; its ``name`` is the field.
    """

    epochs: int = _setting(
        200,
        "Epochs",
        "Optimizer steps; each sees batch_size fresh random inputs.",
        step=100,
        bounds=(1, MAX_EPOCHS),
    )
    optimizer: str = _setting(
        "sgd",
        "Optimizer",
        "The torch.optim class that steps the layer.",
        widget="select",
    )
    lr: float = _setting(
        0.01,
        "Learning rate",
        f"Step size of the optimizer, above 0 and at most {MAX_LR:g}. − and + step along 0.01, 0.02, 0.05, 0.1, ….",
        widget="ladder",
        step=0.01,  # only while the box holds a value that is not above 0 (the ladder needs one)
        format="%g",
    )
    target: float = _setting(
        5.0,
        "Lucky number (the target)",
        "The number the layer must learn to output.",
        step=1.0,
        format="%g",
    )
    rule: str = _setting(
        "",
        "Rule (the target from the inputs)",
        "Empty: the lucky number. Or a rule in the inputs x1…x10 such as 5 + 3*x1 - 2*x7, 4 + 2*x1*x2 "
        "or 5 + x3^2: numbers, +, −, * and squares, at most two inputs multiplied.",
        widget="text",
    )
    noise: float = _setting(
        0.0,
        "Noise σ",
        "Random noise added to every target, of typical size σ: most draws within ±σ, a few up to ±3σ (0: none).",
        step=0.1,
        format="%g",
    )
    batch_size: int = _setting(
        1,
        "Batch size",
        "Rows of torch.rand(batch_size, 10) per step (the post used 1).",
        step=1,
        bounds=(1, MAX_BATCH),
    )
    seed: int = _setting(
        0,
        "Seed",
        "Seeds this run's own torch.Generator: the initialisation, then every input.",
        step=1,
        bounds=(0, MAX_SEED),
    )
    momentum: float = _setting(
        0.1,
        "Momentum",
        "Momentum factor μ of the momentum buffer (the post used 0.1).",
        step=0.01,
        format="%.4f",
        optimizers=("sgd", "rmsprop"),
    )
    dampening: float = _setting(
        0.0,
        "Dampening",
        "SGD: dampening τ; the buffer adds (1 − τ)·gradient.",
        step=0.01,
        format="%.4f",
        optimizers=("sgd",),
    )
    nesterov: bool = _setting(
        False,
        "Nesterov",
        "SGD: Nesterov momentum (needs momentum > 0 and dampening 0).",
        widget="checkbox",
        optimizers=("sgd",),
    )
    weight_decay: float = _setting(
        0.0,
        "Weight decay",
        "Pulls every weight toward 0 a little at each step (0: none): this number times w is added to the "
        "gradient; AdamW instead shrinks the weights directly, outside its step.",
        step=0.01,
        format="%.4f",
        optimizers=OPTIMIZERS,
    )
    betas: tuple[float, float] = _setting(
        (0.9, 0.999),
        "Betas",
        "Adam/AdamW: decay rates of the gradient's running average and of its square.",
        widget="pair",
        step=0.001,
        format="%.6f",
        optimizers=("adam", "adamw"),
        parts=("Beta 1 (the gradient's average)", "Beta 2 (its square's average)"),
    )
    eps: float = _setting(
        1e-8,
        "Epsilon",
        "Added to the denominator so that it is never 0.",
        format="%.1e",
        optimizers=("adam", "adamw", "rmsprop", "adagrad"),
    )
    amsgrad: bool = _setting(
        False,
        "AMSGrad",
        "Adam/AdamW: divide by the running maximum of the squared-gradient average.",
        widget="checkbox",
        optimizers=("adam", "adamw"),
    )
    alpha: float = _setting(
        0.99,
        "Alpha (smoothing)",
        "RMSprop: decay rate of the squared-gradient average.",
        step=0.01,
        format="%.4f",
        optimizers=("rmsprop",),
    )
    centered: bool = _setting(
        False,
        "Centered",
        "RMSprop: divide by the gradient's estimated variance instead of its square.",
        widget="checkbox",
        optimizers=("rmsprop",),
    )
    lr_decay: float = _setting(
        0.0,
        "Learning-rate decay",
        "Adagrad: lr / (1 + (step − 1)·lr_decay).",
        step=0.01,
        format="%.4f",
        optimizers=("adagrad",),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _coerce(getattr(self, f.name), type(f.default)))
        for name, problem in _problems(self):
            raise SettingError(name, problem)
        # One spelling per rule: equal rules make equal Configs, links and cache keys.
        object.__setattr__(self, "rule", _canonical_rule(self.rule))

    @property
    def target_rule(self) -> Rule | None:
        """The parsed ``rule`` (``lucky5.rules.Rule``), or None when the target is the lucky number."""
        return _parsed_rule(self.rule) if self.rule else None

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated like any Config)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Setting:
    """One Config field as its views see it: a row of the settings table (``SETTINGS``).

    ``widget`` is ``number``, ``select``, ``checkbox``, ``pair`` (two numbers), ``text`` or ``ladder`` (a number
    above 0 whose steps walk the 1-2-5 ladder: ``ladder``); ``bounds`` are the
    inclusive limits of a whole-number setting; ``optimizers`` are the optimizers that read it, or
    ``None`` for a setting every run reads (the run's own settings: epochs, lr, seed, ...); ``parts`` name
    the two numbers of a pair.
    """

    name: str
    label: str
    help: str
    widget: str
    step: float | None
    format: str | None
    bounds: tuple[float, float] | None
    optimizers: tuple[str, ...] | None
    parts: tuple[str, str] | None  # the labels of a pair's two numbers
    default: Any

    @property
    def flag(self) -> str:
        """The command-line flag: the name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def kind(self) -> type:
        """The stored Python type: int, float, str, bool or tuple."""
        return type(self.default)


def _coerce(value: Any, kind: type) -> Any:
    """Plain Python values from numpy scalars, 0-d tensors and other registered numbers.

    A value that is not a number of the right kind is returned unchanged, so ``_problems`` names it.
    """
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # numpy scalars and 0-d arrays/tensors
        value = value.item()
    if kind is bool:
        return value
    if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if kind is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int too large for a float: _problems says so
            return value
    if kind is tuple and isinstance(value, (tuple, list)):
        return tuple(_coerce(v, float) for v in value)
    return value


def _problems(c: Config) -> list[tuple[str, str]]:
    """Every rule a Config must obey: (field, message naming field, value and what is allowed) per broken rule."""
    out: list[tuple[str, str]] = []

    def bad(name: str, allowed: str) -> None:
        value = getattr(c, name)
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."  # a URL can carry megabytes
        kind = type(value).__name__
        expected = type(next(f.default for f in fields(c) if f.name == name)).__name__
        of_type = "" if kind == expected else f" (given as {kind})"
        out.append((name, f"{name}={shown} is not allowed: {allowed}{of_type}"))

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v: Any) -> bool:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        try:
            return math.isfinite(v)
        except OverflowError:  # an int too large for a float
            return False

    if not is_int(c.epochs) or not 1 <= c.epochs <= MAX_EPOCHS:
        bad("epochs", f"a whole number from 1 to {MAX_EPOCHS:,}")
    if c.optimizer not in OPTIMIZERS:
        bad("optimizer", "one of " + ", ".join(OPTIMIZERS))
    if not is_num(c.lr) or not 0 < c.lr <= MAX_LR:
        bad("lr", f"a finite number above 0 and at most {MAX_LR:g}")
    if not is_num(c.target) or not abs(c.target) <= MAX_TARGET:
        bad("target", f"a finite number from -{MAX_TARGET:g} to {MAX_TARGET:g} (float32's range: the layer's)")
    if not isinstance(c.rule, str):
        bad("rule", "a text such as 5 + 3*x1 - 2*x7, or empty for the lucky number")
    elif (why := _rule_problem(c.rule)) is not None:
        bad("rule", why)
    if not is_num(c.noise) or not 0 <= c.noise <= MAX_NOISE:
        bad("noise", f"a number from 0 to {MAX_NOISE:,.0f}")
    if not is_int(c.batch_size) or not 1 <= c.batch_size <= MAX_BATCH:
        bad("batch_size", f"a whole number from 1 to {MAX_BATCH:,}")
    if not is_int(c.seed) or not 0 <= c.seed <= MAX_SEED:
        bad("seed", f"a whole number from 0 to {MAX_SEED:,}")
    if not is_num(c.momentum) or c.momentum < 0:
        bad("momentum", "a finite number >= 0")
    if not is_num(c.dampening) or not 0 <= c.dampening <= 1:
        bad("dampening", "a number from 0 to 1")
    if not isinstance(c.nesterov, bool):
        bad("nesterov", "true or false")
    elif c.nesterov and c.optimizer == "sgd" and (c.momentum <= 0 or c.dampening != 0):
        bad("nesterov", "only with momentum > 0 and dampening = 0 (as torch.optim.SGD requires)")
    if not is_num(c.weight_decay) or c.weight_decay < 0:
        bad("weight_decay", "a finite number >= 0")
    if not isinstance(c.betas, tuple) or len(c.betas) != 2 or not all(is_num(b) and 0 <= b < 1 for b in c.betas):
        bad("betas", "two numbers, each >= 0 and < 1")
    if not is_num(c.eps) or not 0 < c.eps <= 1:
        bad("eps", "a number above 0 and at most 1")
    if not isinstance(c.amsgrad, bool):
        bad("amsgrad", "true or false")
    if not is_num(c.alpha) or not 0 <= c.alpha <= 1:
        bad("alpha", "a number from 0 to 1")
    if not isinstance(c.centered, bool):
        bad("centered", "true or false")
    if not is_num(c.lr_decay) or c.lr_decay < 0:
        bad("lr_decay", "a finite number >= 0")
    return out


@functools.lru_cache(maxsize=256)
def _parsed_rule(text: str) -> Rule:
    return parse_rule(text)


def _rule_problem(text: str) -> str | None:
    """Why ``text`` is not a rule (RuleError's message), or None; blank text is no rule, which is allowed."""
    if not text.strip(_BLANK):
        return None
    try:
        _parsed_rule(text)
    except RuleError as err:
        return str(err)
    return None


def _canonical_rule(text: str) -> str:
    """The canonical text of a valid rule ("" for none), as ``Rule.text`` writes it."""
    return _parsed_rule(text).text if text.strip(_BLANK) else ""


_BLANK = " \t"  # the spaces a rule may have around it (as between its tokens)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Config))
SETTINGS: tuple[Setting, ...] = tuple(Setting(name=f.name, default=f.default, **f.metadata) for f in fields(Config))
SETTING: dict[str, Setting] = {s.name: s for s in SETTINGS}
# Which settings each optimizer reads besides the run's own (epochs, lr, ...): the page shows only these.
OPTIMIZER_FIELDS: dict[str, tuple[str, ...]] = {
    o: tuple(s.name for s in SETTINGS if s.optimizers is not None and o in s.optimizers) for o in OPTIMIZERS
}
DEFAULT = Config()

LADDER = (1, 2, 5)  # each step about doubles or halves the value, and every value reads as one digit
_ROUNDING = 1e-9  # relative: how far from a ladder value float arithmetic (0.1 + 0.2) may land


def ladder(value: float) -> tuple[float, float]:
    """The values of the 1-2-5 ladder (…, 0.005, 0.01, 0.02, 0.05, 0.1, …) just below and just above ``value``.

    The values are the floats of their decimal text (``float("2e-2")``), so a step shows 0.02, not
    0.020000000000000004.

    Raises:
        ValueError: ``value`` is not a finite number above 0.
    """
    rungs = _rungs(value)
    below = max(r for r in rungs if r < value * (1 - _ROUNDING))
    above = min(r for r in rungs if r > value * (1 + _ROUNDING))
    return below, above


def _rungs(value: float) -> list[float]:
    """The ladder's values in the decades around ``value``; raises ValueError unless it is finite and above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"the 1-2-5 ladder needs a finite number above 0, not {value!r}")
    decade = math.floor(math.log10(value))
    return [float(f"{m}e{e}") for e in range(decade - 1, decade + 2) for m in LADDER]


def ladder_walk(old: float, new: float) -> float:
    """What a box on the ladder holds when the viewer changed it from ``old`` to ``new`` (``old`` above 0).

    The box steps by the gap up to the next ladder value (``ladder(old)[1] - old``), so + lands on it. That
    gap is at least ``old`` itself, so − lands at 0 or below, which no ladder setting allows: it is read as
    one step down the ladder. A value within float rounding of a ladder value becomes that value; any other
    typed value is kept as typed (a value at or below 0 too, for Config to refuse in words).
    """
    below, above = ladder(old)
    if new <= 0 and math.isclose(new, old - (above - old), rel_tol=_ROUNDING, abs_tol=_ROUNDING * old):
        return below
    if isinstance(new, (int, float)) and math.isfinite(new) and new > 0:
        nearest = min(_rungs(new), key=lambda r: abs(r - new))
        if math.isclose(nearest, new, rel_tol=_ROUNDING):
            return nearest
    return new


def format_setting(value: Any) -> str:
    """A setting's value as a link writes it: '1'/'0', 'a,b' for a pair, the shortest exact float."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(format_setting(v) for v in value)
    if isinstance(value, float):
        return _shortest(value)
    return str(value)


def _shortest(value: float) -> str:
    """The shortest text that reads back as exactly ``value``: Python's repr (shortest round-trip digits), without
    a whole number's ".0" and an exponent's "+" and leading zeros: 42, not 42.0; 1e-5, not 1e-05."""
    mantissa, _, exponent = repr(value).partition("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _parse(name: str, text: str) -> Any:
    """Parse one query value into the type of field ``name``; raises ValueError."""
    kind = type(getattr(DEFAULT, name))
    text = text.strip()
    if kind is str:
        return text.lower()  # validation names the allowed choices
    if len(text) > (81 if kind is tuple else 40):  # 40 characters a number: a float's repr needs at most 24
        raise ValueError(f"{len(text):,} characters is far too long for a setting")
    if kind is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected 1 or 0 (true or false)")
    if kind is int:
        if not _WHOLE.fullmatch(text):
            raise ValueError("expected a whole number such as 200")
        return int(text)
    if kind is float:
        if not NUMBER.fullmatch(text):
            raise ValueError("expected a number such as 0.01")
        return float(text)
    if kind is tuple:
        parts = [p for p in text.replace(" ", ",").split(",") if p]
        if len(parts) != 2 or not all(NUMBER.fullmatch(p) for p in parts):
            raise ValueError("expected two numbers separated by a comma, such as 0.9,0.999")
        return (float(parts[0]), float(parts[1]))
    return text.lower()


def _shown(value: Any) -> str:
    """A setting's value in a notice: as a link writes it; an empty rule is the lucky number."""
    return format_setting(value) if value != "" else "no rule (the lucky number)"


# Plain ASCII numbers only (the page checks typed inputs with NUMBER too): Python's int() and
# float() also take '1_000', Arabic-Indic digits and 'nan', which a link should not smuggle in.
_WHOLE = re.compile(r"[+-]?\d+", re.ASCII)
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def to_query(config: Config) -> dict[str, str]:
    """The query parameters of a run: only the fields that differ from the defaults (the blog post's).

    Short links make small QR codes: the blog post's own run is the empty query. Settings that the
    chosen optimizer does not read are still written when they differ, since they are part of the Config.
    """
    return {
        name: format_setting(getattr(config, name))
        for name in FIELD_NAMES
        if getattr(config, name) != getattr(DEFAULT, name)
    }


def from_query(params: Mapping[str, Any], extra: Iterable[str] = ()) -> tuple[Config, list[str]]:
    """A Config from query parameters, never raising.

    Names in ``extra`` belong to the caller (the page's own parameters) and are skipped.
    Other unknown names, and malformed or out-of-range values, are ignored with a notice
    that says what was wrong; the field keeps its default. Repeated values take the last.
    """
    extra = frozenset(extra)
    notices: list[str] = []
    values: dict[str, Any] = {}
    for name, raw in params.items():
        if isinstance(raw, (list, tuple)):
            if len(raw) > 1 and name in FIELD_NAMES:
                notices.append(f"{name} is given {len(raw)} times; using the last one.")
            raw = raw[-1] if raw else ""
        if name in extra:
            continue
        if name not in FIELD_NAMES:
            notices.append(f"Ignored unknown parameter {str(name)[:40]!r}.")
            continue
        try:
            values[name] = _parse(name, str(raw))
        except (ValueError, OverflowError) as err:
            notices.append(f"Ignored {name}={str(raw)[:40]!r} ({err}); using {_shown(getattr(DEFAULT, name))}.")
    try:
        return DEFAULT.replace(**values), notices
    except ValueError:
        pass
    # Some value breaks a rule: apply field by field, so one bad value keeps the good ones.
    config = DEFAULT
    for name, value in values.items():
        try:
            config = config.replace(**{name: value})
        except ValueError as err:
            notices.append(f"Ignored {name}: {err}; using {_shown(getattr(config, name))}.")
    return config, notices
