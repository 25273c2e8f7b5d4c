"""The inputs' distribution, x ~ U(0, 1)^10, as the moments the theory needs, all in float64.

Every formula of ``lucky5.theory`` sees the inputs only through these moments of z = [x, 1] (the ten
features, then the constant 1 the bias multiplies): the mean and variance of one feature, E[z zᵀ] for the
expected loss and its Hessian, and E[z_a z_b z_c z_d] for the mean-square stability of stochastic SGD.
They are exact for independent uniform features, whose raw moments are E[x^k] = 1/(k + 1). A different
input distribution, or a target that depends on the inputs, starts here.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..engine import FEATURES_AND_BIAS, IN_FEATURES

__all__ = [
    "INPUT_MEAN",
    "Moments",
    "INPUT_VARIANCE",
    "input_fourth_moment",
    "input_second_moment",
]


INPUT_MEAN = 0.5  # E[x_i] for x_i ~ U(0, 1)
INPUT_VARIANCE = 1 / 12  # Var[x_i]

F64 = torch.float64


class Moments(NamedTuple):
    """Some inputs' moments as the mean-square theory reads them, float64: ``second`` E[z zᵀ] (d, d) and
    ``fourth`` E[z_a z_b z_c z_d] as a (d², d²) matrix, row (a, b), column (c, d)."""

    second: torch.Tensor
    fourth: torch.Tensor


def f64(value: torch.Tensor | float) -> torch.Tensor:
    """``value`` as a float64 tensor (no copy when it already is one): the theory's reference precision."""
    return torch.as_tensor(value, dtype=F64)


def input_second_moment() -> torch.Tensor:
    """E[z zᵀ] for z = [x, 1] (11×11, float64): 1/3 on the feature diagonal, 1/4 between
    features, 1/2 between a feature and the constant, 1 for the constant itself."""
    m = torch.full((FEATURES_AND_BIAS, FEATURES_AND_BIAS), INPUT_MEAN**2, dtype=F64)
    m.diagonal()[:IN_FEATURES] = INPUT_VARIANCE + INPUT_MEAN**2
    m[IN_FEATURES, :] = INPUT_MEAN
    m[:, IN_FEATURES] = INPUT_MEAN
    m[IN_FEATURES, IN_FEATURES] = 1.0
    return m


def input_fourth_moment() -> torch.Tensor:
    """E[z_a z_b z_c z_d] for z = [x, 1] (11⁴, float64): the product over features of E[x^count] = 1/(count + 1)."""
    one_hot = torch.zeros(FEATURES_AND_BIAS, IN_FEATURES, dtype=F64)
    one_hot[:IN_FEATURES].fill_diagonal_(1)  # the constant 1 contributes to no feature's power
    oh = [one_hot.reshape([-1 if i == j else 1 for i in range(4)] + [IN_FEATURES]) for j in range(4)]
    power = oh[0] + oh[1] + oh[2] + oh[3]  # (11, 11, 11, 11, 10): how often each feature occurs
    return (1 / (power + 1)).prod(-1)
