"""The run at the animation's frames: which parameter rows become frames, the prediction for the
learner's input, the frames as a table (the animation's text alternative), and ``_Run``, what the
panels draw, computed once per figure."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from .. import theory
from ..engine import History
from .style import Palette
from .valley import _Valley

MAX_FRAMES = 300  # the animation's frames, whatever the epochs
Frame = Callable[[int], dict]  # parameter row s -> a frame's data for one moving trace


def frame_stride(steps: int, max_frames: int = MAX_FRAMES) -> int:
    """Epochs between two frames: the smallest of 1, 2, 5, 10, 20, 50, ... that keeps a run of ``steps``
    epochs within ``max_frames`` frames (its last epoch included). Round, so that a slider, a counter and a
    step button read 0, 100, 200, ..., never 1,204."""
    if max_frames < 3:
        raise ValueError(f"max_frames must be at least 3, not {max_frames!r}")
    for stride in _round_numbers():
        if steps // stride + 1 + (steps % stride > 0) <= max_frames:
            return stride
    raise AssertionError("unreachable: strides grow without bound")


def _round_numbers() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, 100, ..."""
    for power in itertools.count():
        for mantissa in (1, 2, 5):
            yield mantissa * 10**power


def frame_steps(steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Which parameter rows (0..steps) become frames: every ``frame_stride``-th epoch and the last one."""
    stride = frame_stride(steps, max_frames)
    at = list(range(0, steps + 1, stride))
    return at if at[-1] == steps else [*at, steps]


def slider_ticks(epochs: Sequence[int], most: int | None = None) -> list[tuple[int, int]]:
    """Round epochs to label a slider over the frames ``epochs`` (``frame_steps``'s): (frame index, epoch) pairs.

    Every tick is a frame at a multiple of one round step (1, 2, 5, 10, 20, ...), the smallest that gives at
    most ``most`` ticks from 0 (default: 5 labels of up to three digits, 3 longer ones, which fit a phone's
    slider): 0, 50, 100, 150, 200 or 0, 10,000, 20,000.
    """
    if not epochs:
        return []
    if most is None:
        most = 5 if epochs[-1] < 1000 else 3
    stride = epochs[1] - epochs[0] if len(epochs) > 1 else 1
    last = epochs[-1]
    step = next(n for n in _round_numbers() if n % stride == 0 and last // n + 1 <= most)
    return [(e // stride, e) for e in range(0, last + 1, step)]


def predictions_for(history: History, x: torch.Tensor) -> torch.Tensor:
    """The layer's prediction for input ``x`` (10,) with the parameters before every step: (steps + 1,), float64."""
    return history.weights.double() @ x.double() + history.biases.double()


def frames_table(history: History) -> list[dict]:
    """The animation as a table, one row per frame: its text alternative.

    Keys: ``epoch`` (the frame's parameter row s, 0..steps), ``loss`` (the loss of epoch s on its
    own random input, ``None`` at s = 0), ``expected loss`` and its three parts (``fast error``,
    ``valley``, ``disagreement``; see ``theory.loss_terms``), ``u = Σw/√10``, ``bias`` and
    ``w1``..``w10``. Floats are plain Python floats (float64 values of the float32 record).
    """
    expected = theory.expected_losses(history).tolist()
    terms = theory.loss_terms(history).tolist()
    uv = theory.valley_coordinates(history).tolist()
    losses, weights, biases = history.losses.tolist(), history.weights.tolist(), history.biases.tolist()
    rows = []
    for s in frame_steps(history.steps):
        row: dict = {"epoch": s, "loss": losses[s - 1] if s else None, "expected loss": expected[s]}
        row.update(zip(theory.LOSS_TERM_NAMES, terms[s], strict=True))
        row.update({"u = Σw/√10": uv[s][0], "bias": biases[s]})
        row.update({f"w{i + 1}": v for i, v in enumerate(weights[s])})
        rows.append(row)
    return rows


class _Run:
    """What the panels draw, computed once per figure: the run's curves in float64, and only the
    frames' rows as Python lists (``tolist`` of every row of a long run costs more than the figure)."""

    def __init__(self, history: History, x: torch.Tensor, p: Palette, with_valley: bool, forward: bool = False) -> None:
        self.history, self.p, self.x = history, p, x
        self.forward = forward  # time runs forward (a projector): nothing after the frame's epoch is drawn
        self.frames_at = frame_steps(history.steps)
        self.expected = theory.expected_losses(history)
        self.terms = theory.loss_terms(history)
        self.preds = predictions_for(history, x)
        self.valley = _Valley(history) if with_valley else None

    def at_frames(self, values: torch.Tensor) -> dict[int, Any]:
        """Row s -> values[s] as a list (or float), for every frame's row s."""
        return dict(zip(self.frames_at, values[self.frames_at].tolist(), strict=True))
