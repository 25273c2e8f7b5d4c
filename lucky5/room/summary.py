"""The summary of one run (``Summary``): the wire format between a phone, a store and the wall.

A phone trains its run and sends a bounded ``Summary`` of it (``summarize``): a few numbers and a short loss
curve, at most ``MAX_SUMMARY_BYTES`` as JSON. Everything that arrives as JSON (a participant's upload, a value
read back from Redis) goes through ``Summary.from_json``, a total parser: a valid Summary or a ``RoomError``.

This module trains nothing: ``summarize`` reads a finished ``History``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, NoReturn

from ..config import MAX_EPOCHS, MAX_LR, MAX_SEED, OPTIMIZERS
from ..engine import History
from .codes import RoomError, refuse

MAX_SUMMARY_BYTES = 4096  # a Summary's JSON; to_json of any valid Summary fits (tests check the worst case)
MAX_CURVE_POINTS = 60

_SUMMARY_KEYS = frozenset(
    ("seed", "optimizer", "lr", "epochs", "final_loss", "b", "w_norm", "diverged_at", "curve_steps", "curve_losses")
)


@dataclass(frozen=True)
class Summary:
    """What the wall needs of one run: a few numbers and a short loss curve, at most 4 kB as JSON.

    Fields:
        seed, optimizer, lr, epochs: the run's settings (``epochs`` as configured, even if it diverged).
        final_loss: the last finite step's loss (mean squared error of its batch), None if no step
            finished. float.
        b: the trained bias; w_norm: ‖w‖₂ of the trained weights, computed in float64.
        diverged_at: the first step whose loss or update was not finite, None if the run finished.
        curve_steps, curve_losses: at most 60 points (step count, mean loss); see ``summarize``.

    The constructor validates everything (``from_json`` relies on it), so an invalid Summary
    cannot exist.

    Raises:
        RoomError: ``bad_summary``, naming the field and what is allowed.
    """

    seed: int
    optimizer: str
    lr: float
    epochs: int
    final_loss: float | None
    b: float
    w_norm: float
    diverged_at: int | None
    curve_steps: tuple[int, ...]
    curve_losses: tuple[float, ...]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "seed", _int(self.seed, "seed", 0, MAX_SEED))
        if self.optimizer not in OPTIMIZERS:  # also refuses non-strings: OPTIMIZERS holds str only
            _bad("optimizer", "one of " + ", ".join(OPTIMIZERS))
        set_(self, "lr", _float(self.lr, "lr"))
        if not 0 < self.lr <= MAX_LR:
            _bad("lr", f"above 0 and at most {MAX_LR:g}")
        set_(self, "epochs", _int(self.epochs, "epochs", 1, MAX_EPOCHS))
        if self.diverged_at is not None:
            set_(self, "diverged_at", _int(self.diverged_at, "diverged_at", 0, self.epochs - 1))
        steps = self.steps
        if self.final_loss is None:
            if steps:
                _bad("final_loss", "a number when any step finished")
        else:
            set_(self, "final_loss", _float(self.final_loss, "final_loss", nonnegative=True))
            if not steps:
                _bad("final_loss", "null when no step finished")
        set_(self, "b", _float(self.b, "b"))
        set_(self, "w_norm", _float(self.w_norm, "w_norm", nonnegative=True))
        xs, ys = self.curve_steps, self.curve_losses
        if not isinstance(xs, (tuple, list)) or not isinstance(ys, (tuple, list)):
            _bad("curve_steps", "two lists of numbers")
        if len(xs) > MAX_CURVE_POINTS or len(xs) != len(ys):
            _bad("curve_steps", f"at most {MAX_CURVE_POINTS} points, as many steps as losses")
        if not steps and xs:
            _bad("curve_steps", "empty when no step finished")
        xs = tuple(_int(x, "curve_steps", 1, steps) for x in xs)
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)) or (steps and (not xs or xs[-1] != steps)):
            _bad("curve_steps", f"increasing step counts ending at the run's {steps} finished steps")
        set_(self, "curve_steps", xs)
        set_(self, "curve_losses", tuple(_float(y, "curve_losses", nonnegative=True) for y in ys))

    @property
    def steps(self) -> int:
        """Steps that finished: ``diverged_at`` for a diverged run, else ``epochs``."""
        return self.epochs if self.diverged_at is None else self.diverged_at

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, at most ``MAX_SUMMARY_BYTES``; ``from_json`` reads it back equal."""
        data = {
            "seed": self.seed,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "epochs": self.epochs,
            "final_loss": self.final_loss,
            "b": self.b,
            "w_norm": self.w_norm,
            "diverged_at": self.diverged_at,
            "curve_steps": list(self.curve_steps),
            "curve_losses": list(self.curve_losses),
        }
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Summary:
        """Parse untrusted JSON (a participant's upload, a value read from Redis) into a Summary.

        Total: returns a valid Summary or raises RoomError (``bad_summary``, a ValueError) with
        a reason. Refuses more than ``MAX_SUMMARY_BYTES``, invalid UTF-8, NaN and infinities,
        numbers too long or too large, duplicate or unknown keys, and wrong types.
        """
        if isinstance(data, str):
            if len(data) > MAX_SUMMARY_BYTES:
                _bad_json(f"more than {MAX_SUMMARY_BYTES:,} characters")
            data = data.encode("utf-8", "surrogatepass")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            _bad_json("expected bytes or text")
        if len(data) > MAX_SUMMARY_BYTES:
            _bad_json(f"more than {MAX_SUMMARY_BYTES:,} bytes")
        try:
            obj = json.loads(
                bytes(data).decode("utf-8"),
                parse_constant=_refuse_constant,
                parse_int=_parse_int,
                parse_float=_parse_float,
                object_pairs_hook=_unique_keys,
            )
        except RoomError:
            raise
        except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            _bad_json(f"not valid JSON ({type(err).__name__})")
        if not isinstance(obj, dict):
            _bad_json("expected a JSON object")
        keys = set(obj)
        if keys != _SUMMARY_KEYS:
            missing, extra = sorted(_SUMMARY_KEYS - keys), sorted(keys - _SUMMARY_KEYS)
            shown = [k[:20] for k in extra[:3]]
            _bad_json(f"missing {missing}" if missing else f"unknown keys {shown}")
        if not isinstance(obj["curve_steps"], list) or not isinstance(obj["curve_losses"], list):
            _bad("curve_steps", "two lists of numbers")
        return cls(**{**obj, "curve_steps": tuple(obj["curve_steps"]), "curve_losses": tuple(obj["curve_losses"])})


def _bad(name: str, allowed: str) -> NoReturn:
    raise RoomError("bad_summary", f"Not a run summary: {name} must be {allowed}.")


def _bad_json(why: str) -> NoReturn:
    raise RoomError("bad_summary", f"Not a run summary: {why}.")


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        _bad(name, f"a whole number from {low:,} to {high:,}")
    return int(value)


def _float(value: Any, name: str, nonnegative: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        _bad(name, "a number")
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out) or (nonnegative and out < 0):
        _bad(name, "a finite number" + (" >= 0" if nonnegative else ""))
    return out


def _refuse_constant(name: str) -> NoReturn:
    _bad_json(f"{name} is not a finite number")


def _parse_int(text: str) -> int:
    if len(text) > 20:  # also keeps int() away from CPython's 4,300-digit limit
        _bad_json("a whole number with more than 20 digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 40:
        _bad_json("a number written with more than 40 characters")
    return float(text)  # may be inf (1e999): Summary's validation refuses it


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        _bad_json("a key is repeated")
    return out


def curve_edges(steps: int) -> list[int]:
    """Bin edges 0 = e₀ < e₁ < … < e_k = steps of the loss curve, k ≤ ``MAX_CURVE_POINTS``.

    Up to 60 steps every step is its own bin. Beyond, there are exactly 60 bins with edges
    eᵢ = i + round((steps − 59)^(i/60) − 1), i = 0..60: strictly increasing (i grows by one, the
    rounded term never falls), from 0 to ``steps``, and nearly log-spaced for long runs: fine where
    the loss falls fast, coarse in the long crawl.
    """
    p = MAX_CURVE_POINTS
    if steps <= p:
        return list(range(steps + 1))
    return [i + round((steps - p + 1) ** (i / p) - 1) for i in range(p + 1)]


def summarize(history: History) -> Summary:
    """A bounded ``Summary`` of one run.

    The curve has one point per bin of ``curve_edges(steps)``: x is the bin's end (steps done,
    from 1), y the mean of the per-step losses in the bin (float64). Averaging, not sampling,
    keeps one lucky or unlucky batch from standing for a thousand steps. A diverged run keeps
    its last finite values: History holds nothing non-finite, and its curve ends at ``diverged_at``.
    """
    c = history.config
    losses = history.losses.double()
    steps = history.steps
    edges = curve_edges(steps)
    xs = tuple(edges[1:])
    ys = tuple(float(losses[a:b].mean()) for a, b in zip(edges, edges[1:], strict=False))
    layer = history.trained
    return Summary(
        seed=c.seed,
        optimizer=c.optimizer,
        lr=c.lr,
        epochs=c.epochs,
        final_loss=float(losses[-1]) if steps else None,
        b=layer.bias,
        w_norm=layer.norm,
        diverged_at=history.diverged_at,
        curve_steps=xs,
        curve_losses=ys,
    )


def check_summary(summary: object) -> Summary:
    """``summary`` if it is a Summary; else RoomError ``bad_summary``."""
    if not isinstance(summary, Summary):
        refuse("bad_summary", "Not a run summary: expected a Summary (see summarize and Summary.from_json).")
    return summary
