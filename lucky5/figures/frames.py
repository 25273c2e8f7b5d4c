"""The run at the animation's frames: which parameter rows become frames, the prediction for the
learner's input, the frames as a table (the animation's text alternative), and ``_Run``, what the
panels draw, computed once per figure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .. import theory
from ..engine import History
from .style import Palette
from .valley import _Valley

MAX_FRAMES = 300  # the animation's frames, whatever the epochs
Frame = Callable[[int], dict]  # parameter row s -> a frame's data for one moving trace


def frame_steps(steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Which parameter rows (0..steps) become frames: all of them, or evenly spaced ones."""
    if steps + 1 <= max_frames:
        return list(range(steps + 1))
    return sorted({round(i * steps / (max_frames - 1)) for i in range(max_frames)})


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

    def __init__(self, history: History, x: torch.Tensor, p: Palette, with_valley: bool) -> None:
        self.history, self.p = history, p
        self.frames_at = frame_steps(history.steps)
        self.expected = theory.expected_losses(history)
        self.terms = theory.loss_terms(history)
        self.preds = predictions_for(history, x)
        self.valley = _Valley(history) if with_valley else None

    def at_frames(self, values: torch.Tensor) -> dict[int, Any]:
        """Row s -> values[s] as a list (or float), for every frame's row s."""
        return dict(zip(self.frames_at, values[self.frames_at].tolist(), strict=True))
