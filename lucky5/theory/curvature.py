"""The expected loss's curvature: its Hessian, eigenvalues and the directions that set training's pace.

The Hessian, 2·E[z zᵀ] with z = [x, 1], is the same everywhere because the loss is quadratic. It has one
fast direction (λ ≈ 7.12, fixes the mean prediction), one slow direction (λ ≈ 0.047, trades Σw against b)
and nine at 1/6 (reshuffle w without changing Σw). Those three numbers explain the whole training curve:
a quick drop, then a long crawl. Vectors are in [w, b] coordinates (11,), float64.
"""

from __future__ import annotations

import math

import torch

from ..engine import FEATURES_AND_BIAS, IN_FEATURES
from .moments import F64, INPUT_MEAN, INPUT_VARIANCE, input_second_moment

__all__ = [
    "OTHER_EIGENVALUE",
    "eigenvalues",
    "fast_direction",
    "fast_eigenvalue",
    "hessian",
    "slow_direction",
    "slow_eigenvalue",
]


OTHER_EIGENVALUE = 2 * INPUT_VARIANCE  # the nine directions that keep Σw fixed: 1/6

# In the basis (ones/√10 in w, the bias) the Hessian's interesting block is 2·[[1/12 + 10/4, √10/2],
# [√10/2, 1]] = [[31/6, √10], [√10, 2]]: trace 43/6, determinant 1/3, eigenvalues (43 ± √1801)/12.
_BLOCK_DIAG_W, _BLOCK_OFF = 2 * (INPUT_VARIANCE + IN_FEATURES * INPUT_MEAN**2), math.sqrt(10)


def hessian() -> torch.Tensor:
    """Hessian of the expected loss in [w, b] (11×11, float64): 2·E[z zᵀ], the same everywhere
    because the loss is quadratic."""
    return 2 * input_second_moment()


def fast_eigenvalue() -> float:
    """The largest Hessian eigenvalue, (43 + √1801)/12 ≈ 7.12: it sets the largest stable lr."""
    return (43 + math.sqrt(1801)) / 12


def slow_eigenvalue() -> float:
    """The smallest Hessian eigenvalue, (43 − √1801)/12 ≈ 0.0468: it sets how long training takes.

    Computed as determinant / fast eigenvalue, which avoids subtracting two nearly equal numbers.
    """
    return (1 / 3) / fast_eigenvalue()


def eigenvalues() -> torch.Tensor:
    """All eleven Hessian eigenvalues in ascending order: slow, nine times 1/6, fast."""
    nine = [OTHER_EIGENVALUE] * (IN_FEATURES - 1)
    return torch.tensor([slow_eigenvalue(), *nine, fast_eigenvalue()], dtype=F64)


def _mode_direction(eigenvalue: float) -> torch.Tensor:
    """Unit eigenvector in [w, b] of the 2×2 block's eigenvalue, bias component >= 0."""
    along_ones, along_bias = _BLOCK_OFF, eigenvalue - _BLOCK_DIAG_W  # (B − λI)v = 0, first row
    if along_bias < 0:
        along_ones, along_bias = -along_ones, -along_bias
    v = torch.full((FEATURES_AND_BIAS,), along_ones / math.sqrt(IN_FEATURES), dtype=F64)
    v[IN_FEATURES] = along_bias
    return v / v.norm()


def fast_direction() -> torch.Tensor:
    """Unit vector in [w, b] along which the expected loss curves most (≈ the bias, plus a bit of Σw)."""
    return _mode_direction(fast_eigenvalue())


def slow_direction() -> torch.Tensor:
    """Unit vector in [w, b] along the flat valley floor: raise b, lower Σw, almost keeping 0.5·Σw + b."""
    return _mode_direction(slow_eigenvalue())
