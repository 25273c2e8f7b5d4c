"""The expected loss of a layer (w, b) over fresh inputs, its three terms, and where it is smallest.

Averaged over inputs x ~ U(0, 1)^10, the mean squared error of ``nn.Linear(10, 1)`` against a fixed target t is

    E[L](w, b) = (0.5·Σw + b − t)² + ‖w‖²/12
               = (mean prediction − t)² + (spread of the prediction over inputs)²,

so the best layer ignores its input (w = 0, b = t) and reaches loss 0. Every function here is vectorised
over leading dimensions and computes in float64.
"""

from __future__ import annotations

import math

import torch

from ..engine import IN_FEATURES
from ..layer import norms
from .moments import F64, INPUT_MEAN, INPUT_VARIANCE, f64

__all__ = [
    "LOSS_TERM_NAMES",
    "expected_loss",
    "expected_loss_terms",
    "mean_error",
    "optimum",
    "prediction_spread",
    "regularized_optimum",
]


LOSS_TERM_NAMES = ("fast error", "valley", "disagreement")  # the terms of expected_loss_terms, in order


def mean_error(weight: torch.Tensor, bias: torch.Tensor | float, target: float) -> torch.Tensor:
    """E_x[ŷ] − t = 0.5·Σw + b − t: how far the *average* prediction is from the target.

    This is the quantity the fast direction fixes within tens of steps. ``weight`` has shape
    (..., 10) and ``bias`` shape (...); the result has shape (...) and dtype float64.
    """
    return INPUT_MEAN * f64(weight).sum(-1) + f64(bias) - target


def prediction_spread(weight: torch.Tensor) -> torch.Tensor:
    """Standard deviation of ŷ over random inputs, ‖w‖/√12: how much the input still matters."""
    return norms(weight) * math.sqrt(INPUT_VARIANCE)


def expected_loss(weight: torch.Tensor, bias: torch.Tensor | float, target: float) -> torch.Tensor:
    """E_x[(x·w + b − t)²] = (0.5·Σw + b − t)² + ‖w‖²/12, exactly, for x ~ U(0, 1)^10.

    Vectorised: ``weight`` (..., 10) and ``bias`` (...) give a float64 tensor of shape (...),
    so a whole History's parameter rows are evaluated at once. The two terms are the squared
    bias and the variance of the prediction: ``mean_error² + prediction_spread²``.
    """
    # ‖w‖² as a sum of squares, not spread², so that autograd's derivative exists at w = 0 too.
    return mean_error(weight, bias, target).square() + f64(weight).square().sum(-1) * INPUT_VARIANCE


def expected_loss_terms(weight: torch.Tensor, bias: torch.Tensor | float, target: float) -> torch.Tensor:
    """The expected loss split into three terms: ``weight`` (..., 10), ``bias`` (...) give (..., 3), float64.

    In order (``LOSS_TERM_NAMES``; t is the target):

    0. the fast error ``(0.5·Σw + b − t)²``: the average prediction's miss, fixed in tens of epochs;
    1. the valley term ``(Σw)²/120``: what the weights' common part still costs;
    2. the disagreement ``‖w − mean(w)‖²/12``: what the weights' differences cost.

    They add up to ``expected_loss`` (up to float64 rounding). Derivation: write
    w = mean(w)·1 + (w − mean(w)·1); the two parts are orthogonal (the second sums to 0), so
    ‖w‖² = 10·mean(w)² + ‖w − mean(w)‖² = (Σw)²/10 + ‖w − mean(w)‖². Put into the variance term
    ‖w‖²/12 of ``expected_loss`` this gives (Σw)²/120 + ‖w − mean(w)‖²/12. The disagreement lives
    in the nine Hessian directions of eigenvalue 1/6 (they keep Σw fixed); the fast error and the
    valley term share the (Σw, b) plane, where the fast and slow directions lie. Finite float32
    parameters give finite terms.
    """
    w = f64(weight)
    fast = mean_error(w, bias, target).square()
    valley = w.sum(-1).square() / (IN_FEATURES * 12)
    disagreement = (w - w.mean(-1, keepdim=True)).square().sum(-1) * INPUT_VARIANCE
    return torch.stack([fast, valley, disagreement], -1)


def optimum(target: float) -> tuple[torch.Tensor, float]:
    """The unique minimiser of the expected loss: w = 0 (ignore the input), b = target."""
    return torch.zeros(IN_FEATURES, dtype=F64), float(target)


def regularized_optimum(target: float, weight_decay: float) -> tuple[torch.Tensor, float]:
    """Where the average gradient vanishes when torch adds weight decay wd·θ to it: (w (10,) float64, b).

    torch's ``weight_decay`` adds wd·θ to the gradient of every parameter; lucky5 steps [w, b] as
    one parameter, so the bias is decayed too. The average gradient is then
    (2M + wd·I)·θ − 2t·E[z] with M = E[z zᵀ] and z = [x, 1], and it vanishes at
    θ* = (2M + wd·I)⁻¹·2t·E[z], the minimiser of E[L] + (wd/2)·‖θ‖². By symmetry every weight is
    equal; in the coordinates (u = Σw/√10, b) the system is [[31/6 + wd, √10], [√10, 2 + wd]]·(u, b)
    = t·(√10, 2), so with det = wd² + (43/6)·wd + 1/3

        each weight = t·wd/det,    b = t·(2·wd + 1/3)/det.

    wd = 0 gives (0, t). The layer no longer ignores its input, and E[L](θ*) > 0.
    Raises ValueError for a negative or non-finite ``weight_decay``.
    """
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay={weight_decay!r} is not allowed: a finite number >= 0")
    det = weight_decay * weight_decay + 43 / 6 * weight_decay + 1 / 3
    each = target * weight_decay / det
    return torch.full((IN_FEATURES,), each, dtype=F64), target * (2 * weight_decay + 1 / 3) / det
