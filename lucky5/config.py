"""Every setting of a lucky5 run, in one frozen dataclass, and its URL round trip.

This module is the project's vocabulary: field names are the URL's query parameters
and, with dashes for underscores, the command-line flags. It validates in one place (``Config.__post_init__``)
and never trains, draws or imports a UI.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")

# Which Config fields each optimizer reads (besides lr); the page shows only these.
OPTIMIZER_FIELDS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum", "dampening", "nesterov", "weight_decay"),
    "adam": ("betas", "eps", "weight_decay", "amsgrad"),
    "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
    "rmsprop": ("alpha", "eps", "momentum", "centered", "weight_decay"),
    "adagrad": ("lr_decay", "eps", "weight_decay"),
}

MAX_EPOCHS = 100_000
MAX_LR = 10.0
MAX_BATCH = 1024
MAX_SEED = 2**32 - 1  # torch's CPU generator keeps 32 bits of a seed: 2**32 would repeat seed 0

# Inclusive bounds of the whole-number settings (the page gives its widgets the same ones).
LIMITS: dict[str, tuple[int, int]] = {"epochs": (1, MAX_EPOCHS), "batch_size": (1, MAX_BATCH), "seed": (0, MAX_SEED)}

@dataclass(frozen=True)
class Config:
    """One training run. Defaults are the blog post's script."""

    epochs: int = 200  # optimizer steps; each sees batch_size fresh random inputs
    optimizer: str = "sgd"  # one of OPTIMIZERS; the real torch.optim class is used
    lr: float = 0.01  # learning rate, > 0 and <= 10
    target: float = 5.0  # the lucky number the layer must learn to output
    batch_size: int = 1  # rows of torch.rand(batch_size, 10) per step
    seed: int = 0  # seeds this run's own torch.Generator (init and inputs)
    momentum: float = 0.1  # SGD and RMSprop momentum (the post used 0.1)
    dampening: float = 0.0  # SGD: damps the gradient added to the momentum buffer
    nesterov: bool = False  # SGD: Nesterov momentum (needs momentum > 0)
    weight_decay: float = 0.0  # every optimizer: L2 penalty (AdamW: decoupled)
    betas: tuple[float, float] = (0.9, 0.999)  # Adam/AdamW: moment decay rates
    eps: float = 1e-8  # Adam/AdamW/RMSprop/Adagrad: denominator guard
    amsgrad: bool = False  # Adam/AdamW: keep the running max of the 2nd moment
    alpha: float = 0.99  # RMSprop: smoothing of the squared gradient
    centered: bool = False  # RMSprop: normalise by the gradient's variance
    lr_decay: float = 0.0  # Adagrad: lr / (1 + (step - 1) * lr_decay)

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise ValueError(problem)

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated like any Config)."""
        return dataclasses.replace(self, **changes)


def _problems(c: Config) -> list[str]:
    """Every rule a Config must obey, as messages naming field, value and what is allowed."""
    out: list[str] = []

    def bad(name: str, allowed: str) -> None:
        shown = repr(getattr(c, name))
        shown = shown if len(shown) <= 40 else shown[:37] + "..."  # a URL can carry megabytes
        out.append(f"{name}={shown} is not allowed: {allowed}")

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
    if not is_num(c.target):
        bad("target", "any finite number")
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
    if (
        not isinstance(c.betas, tuple)
        or len(c.betas) != 2
        or not all(is_num(b) and 0 <= b < 1 for b in c.betas)
    ):
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


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Config))
DEFAULT = Config()


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(_format(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # shortest string that round-trips exactly
    return str(value)


def _parse(name: str, text: str) -> Any:
    """Parse one query value into the type of field ``name``; raises ValueError."""
    kind = type(getattr(DEFAULT, name))
    text = text.strip()
    if kind is str:
        return text.lower()  # validation names the allowed choices
    if len(text) > 40:
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


# Plain ASCII numbers only (the page checks typed inputs with NUMBER too): Python's int() and
# float() also take '1_000', Arabic-Indic digits and 'nan', which a link should not smuggle in.
_WHOLE = re.compile(r"[+-]?\d+", re.ASCII)
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def to_query(config: Config) -> dict[str, str]:
    """The query parameters of a run: only fields that differ from the defaults, plus the seed."""
    out = {}
    for name in FIELD_NAMES:
        value = getattr(config, name)
        if name == "seed" or value != getattr(DEFAULT, name):
            out[name] = _format(value)
    return out


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
            notices.append(f"Ignored {name}={str(raw)[:40]!r} ({err}); using {_format(getattr(DEFAULT, name))}.")
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
            notices.append(f"Ignored {name}: {err}; using {_format(getattr(config, name))}.")
    return config, notices
