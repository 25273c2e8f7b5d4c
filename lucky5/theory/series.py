"""The theory along a recorded run: one value per parameter row of a ``History``, (steps + 1, ...) float64.

Row i is the layer before step i (row 0 the initialisation, the last row the trained layer). Unlike
``history.losses``, the loss on each step's one random batch, these are the smooth quantities the noisy
run scatters around: the expected loss and its terms, the distance to the optimum, the position in the
valley and the split along the Hessian's directions.

With a rule or noise (``Config.rule``, ``Config.noise``) every quantity is measured from the fit of the
targets, θ_ls = (a, c) (``fit.least_squares``), in place of (0, t): the expected loss is the lucky number's
formula at (w − a, b) with target c, plus the floor U + σ² that no layer goes below (``fit``'s notes).
For the lucky number a = 0, c = t and the floor is 0, so nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..engine import IN_FEATURES, History
from ..layer import distances, norms
from .claims import optimum_for
from .curvature import fast_direction, slow_direction
from .fit import least_squares
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


def _from_fit(history: History) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """(w − a (steps + 1, 10), b (steps + 1,), c, floor): the record measured from the fit θ_ls = (a, c)."""
    fit = least_squares(history.config)
    return f64(history.weights) - fit.weight, f64(history.biases), fit.bias, fit.floor


def expected_losses(history: History) -> torch.Tensor:
    """Expected loss (over fresh inputs and noise) at every recorded parameter row: shape (steps + 1,).

    Unlike ``history.losses``, which is the loss on each step's one random batch, this is the
    smooth curve the noisy one scatters around: (0.5·Σ(w − a) + b − c)² + ‖w − a‖²/12 + U + σ².
    """
    w, b, c, floor = _from_fit(history)
    return expected_loss(w, b, c) + floor


def mean_errors(history: History) -> torch.Tensor:
    """0.5·Σ(w − a) + b − c per parameter row (steps + 1,): the fast quantity, near 0 after tens of steps.

    For the lucky number 0.5·Σw + b − t: how far the average prediction is from the target."""
    w, b, c, _ = _from_fit(history)
    return mean_error(w, b, c)


def weight_norms(history: History) -> torch.Tensor:
    """‖w‖ per parameter row (steps + 1,): grows at first, then decays to 0 along the slow valley."""
    return norms(history.weights)


def bias_errors(history: History) -> torch.Tensor:
    """|b − c| per parameter row (steps + 1,): the part the post saw as "close to 5 but not 5" (c = t there)."""
    return (f64(history.biases) - least_squares(history.config).bias).abs()


def distances_to_optimum(history: History) -> torch.Tensor:
    """‖[w, b] − [w*, b*]‖ per parameter row (steps + 1,), float64, to ``optimum_for(history.config)``.

    That is (0, t) unless weight decay moves the optimum (see ``optimum_for``).
    """
    return distances(history.weights, history.biases, optimum_for(history.config))


def loss_terms(history: History) -> torch.Tensor:
    """The expected loss of every recorded parameter row split into three terms: (steps + 1, 3), float64.

    Columns ``LOSS_TERM_NAMES`` (fast error, valley, disagreement), from ``expected_loss_terms`` at
    (w − a, b) with target c; each row sums to ``expected_losses(history)`` minus the floor U + σ²
    (``fit.least_squares(config).floor``, 0 for the lucky number) up to float64 rounding. The fast error
    and the valley term share the plane of ``valley_coordinates``. Computed in float64 from the float32
    record, so finite parameters give finite terms.
    """
    w, b, c, _ = _from_fit(history)
    return expected_loss_terms(w, b, c)


def valley_coordinates(history: History) -> torch.Tensor:
    """Each recorded row's position in the (u, b) plane: (steps + 1, 2), float64, u = Σw/√10.

    u is the coordinate of w along the unit vector 1/√10 (the weights' common part); b is the
    bias itself (not b − t). The Hessian's fast and slow directions both lie in this plane, so
    its contour lines (expected loss with the weights' disagreement left out) are the ellipses
    (u·√10/2 + b − t)² + u²/12 = const, centred on the optimum (u, b) = (0, t); the valley floor
    is their long axis, along ``slow_direction()``. (With a rule the centre is the fit's (Σa/√10, c),
    and the rest of w − a lies outside the plane.)
    """
    u = f64(history.weights).sum(-1) / math.sqrt(IN_FEATURES)
    return torch.stack([u, f64(history.biases)], -1)


@dataclass(frozen=True)
class Modes:
    """The error [w − a, b − c] of each parameter row ([w, b − t] for the lucky number) split along the
    Hessian's eigendirections.

    ``expected loss − floor = ½·(λ_fast·fast² + λ_slow·slow² + (1/6)·other²)``, each field (steps + 1,).
    """

    fast: torch.Tensor  # signed coordinate along fast_direction(): decays in tens of steps
    slow: torch.Tensor  # signed coordinate along slow_direction(): decays over thousands
    other: torch.Tensor  # length of the rest (w's spread around its mean; eigenvalue 1/6)


def modes(history: History) -> Modes:
    """Split every recorded row's distance to the optimum into fast, slow and other parts."""
    w, b, c, _ = _from_fit(history)
    err = torch.cat([w, b.unsqueeze(-1) - c], -1)
    fast = err @ fast_direction()
    slow = err @ slow_direction()
    rest = err - fast.unsqueeze(-1) * fast_direction() - slow.unsqueeze(-1) * slow_direction()
    return Modes(fast=fast, slow=slow, other=rest.norm(dim=-1))
