"""The theory along a recorded run: one value per parameter row of a ``History``, (steps + 1, ...) float64.

Row i is the layer before step i (row 0 the initialisation, the last row the trained layer). Unlike
``history.losses``, the loss on each step's one random batch, these are the smooth quantities the noisy
run scatters around: the expected loss and its terms, the distance to the optimum, the position in the
valley and the split along the Hessian's directions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..engine import IN_FEATURES, History
from ..layer import distances, norms
from .claims import optimum_for
from .curvature import fast_direction, slow_direction
from .loss import expected_loss, expected_loss_terms, mean_error
from .moments import f64

__all__ = [
    "Modes",
    "bias_errors",
    "distances_to_optimum",
    "expected_losses",
    "loss_terms",
    "mean_errors",
    "modes",
    "valley_coordinates",
    "weight_norms",
]


def expected_losses(history: History) -> torch.Tensor:
    """Expected loss (over fresh inputs) at every recorded parameter row: shape (steps + 1,).

    Unlike ``history.losses``, which is the loss on each step's one random batch, this is the
    smooth curve the noisy one scatters around.
    """
    return expected_loss(history.weights, history.biases, history.config.target)


def mean_errors(history: History) -> torch.Tensor:
    """0.5·Σw + b − t per parameter row (steps + 1,): the fast quantity, near 0 after tens of steps."""
    return mean_error(history.weights, history.biases, history.config.target)


def weight_norms(history: History) -> torch.Tensor:
    """‖w‖ per parameter row (steps + 1,): grows at first, then decays to 0 along the slow valley."""
    return norms(history.weights)


def bias_errors(history: History) -> torch.Tensor:
    """|b − t| per parameter row (steps + 1,): the part the post saw as "close to 5 but not 5"."""
    return (f64(history.biases) - history.config.target).abs()


def distances_to_optimum(history: History) -> torch.Tensor:
    """‖[w, b] − [w*, b*]‖ per parameter row (steps + 1,), float64, to ``optimum_for(history.config)``.

    That is (0, t) unless weight decay moves the optimum (see ``optimum_for``).
    """
    return distances(history.weights, history.biases, optimum_for(history.config))


def loss_terms(history: History) -> torch.Tensor:
    """The expected loss of every recorded parameter row split into three terms: (steps + 1, 3), float64.

    Columns ``LOSS_TERM_NAMES`` (fast error, valley, disagreement), from ``expected_loss_terms``; each
    row sums to ``expected_losses(history)`` up to float64 rounding. The fast error and the valley term
    share the plane of ``valley_coordinates``. Computed in float64 from the float32 record, so finite
    parameters give finite terms.
    """
    return expected_loss_terms(history.weights, history.biases, history.config.target)


def valley_coordinates(history: History) -> torch.Tensor:
    """Each recorded row's position in the (u, b) plane: (steps + 1, 2), float64, u = Σw/√10.

    u is the coordinate of w along the unit vector 1/√10 (the weights' common part); b is the
    bias itself (not b − t). The Hessian's fast and slow directions both lie in this plane, so
    its contour lines (expected loss with the weights' disagreement left out) are the ellipses
    (u·√10/2 + b − t)² + u²/12 = const, centred on the optimum (u, b) = (0, t); the valley floor
    is their long axis, along ``slow_direction()``.
    """
    u = f64(history.weights).sum(-1) / math.sqrt(IN_FEATURES)
    return torch.stack([u, f64(history.biases)], -1)


@dataclass(frozen=True)
class Modes:
    """The error [w, b − t] of each parameter row split along the Hessian's eigendirections.

    ``expected loss = ½·(λ_fast·fast² + λ_slow·slow² + (1/6)·other²)``, each field (steps + 1,).
    """

    fast: torch.Tensor  # signed coordinate along fast_direction(): decays in tens of steps
    slow: torch.Tensor  # signed coordinate along slow_direction(): decays over thousands
    other: torch.Tensor  # length of the rest (w's spread around its mean; eigenvalue 1/6)


def modes(history: History) -> Modes:
    """Split every recorded row's distance to the optimum into fast, slow and other parts."""
    err = torch.cat([f64(history.weights), f64(history.biases).unsqueeze(-1) - history.config.target], -1)
    fast = err @ fast_direction()
    slow = err @ slow_direction()
    rest = err - fast.unsqueeze(-1) * fast_direction() - slow.unsqueeze(-1) * slow_direction()
    return Modes(fast=fast, slow=slow, other=rest.norm(dim=-1))
