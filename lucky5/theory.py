"""Closed-form facts about the lucky5 problem: what training *should* do, computed without training.

The setting is the blog post's: ``nn.Linear(10, 1)`` with mean squared error against a fixed
target t, and inputs x ~ U(0, 1)^10 drawn independently of t. Averaged over inputs, the loss
of a layer (w, b) is

    E[L](w, b) = (0.5·Σw + b − t)² + ‖w‖²/12
               = (mean prediction − t)² + (spread of the prediction over inputs)²,

so the best layer ignores its input (w = 0, b = t) and reaches loss 0. Its Hessian,
2·E[z zᵀ] with z = [x, 1], has one fast direction (λ ≈ 7.12, fixes the mean prediction), one
slow direction (λ ≈ 0.047, trades Σw against b) and nine at 1/6 (reshuffle w without changing
Σw). Those three numbers explain the whole training curve: a quick drop, then a long crawl.

This module gives those formulas, stability limits for the learning rate and time constants for
torch.optim.SGD with every option (momentum, dampening, Nesterov, weight decay, batch size), and
per-step views of a recorded ``History``. For a whole Config it says what holds and withholds what
does not, with the reason (``stability``, ``time_constant_for``, ``optimum_for``, ``why_not_five``):
other optimizers rescale their steps, and no SGD formula is claimed for them. It is not a trainer
(see ``engine``), it draws no random numbers, and it knows nothing about a UI. Everything is
float64: these are reference values, not training maths.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import torch

from .config import OPTIMIZER_NAMES, Config
from .engine import IN_FEATURES, History

FEATURES_AND_BIAS = IN_FEATURES + 1
INPUT_MEAN = 0.5  # E[x_i] for x_i ~ U(0, 1)
INPUT_VARIANCE = 1 / 12  # Var[x_i]
OTHER_EIGENVALUE = 2 * INPUT_VARIANCE  # the nine directions that keep Σw fixed: 1/6

_F64 = torch.float64


def _f64(value: torch.Tensor | float) -> torch.Tensor:
    return torch.as_tensor(value, dtype=_F64)


# --- the expected loss ------------------------------------------------------------------


def mean_error(weight: torch.Tensor, bias: torch.Tensor | float, target: float) -> torch.Tensor:
    """E_x[ŷ] − t = 0.5·Σw + b − t: how far the *average* prediction is from the target.

    This is the quantity the fast direction fixes within tens of steps. ``weight`` has shape
    (..., 10) and ``bias`` shape (...); the result has shape (...) and dtype float64.
    """
    return INPUT_MEAN * _f64(weight).sum(-1) + _f64(bias) - target


def prediction_spread(weight: torch.Tensor) -> torch.Tensor:
    """Standard deviation of ŷ over random inputs, ‖w‖/√12: how much the input still matters."""
    return _f64(weight).norm(dim=-1) * math.sqrt(INPUT_VARIANCE)


def expected_loss(weight: torch.Tensor, bias: torch.Tensor | float, target: float) -> torch.Tensor:
    """E_x[(x·w + b − t)²] = (0.5·Σw + b − t)² + ‖w‖²/12, exactly, for x ~ U(0, 1)^10.

    Vectorised: ``weight`` (..., 10) and ``bias`` (...) give a float64 tensor of shape (...),
    so a whole History's parameter rows are evaluated at once. The two terms are the squared
    bias and the variance of the prediction: ``mean_error² + prediction_spread²``.
    """
    # ‖w‖² as a sum of squares, not spread², so that autograd's derivative exists at w = 0 too.
    return mean_error(weight, bias, target).square() + _f64(weight).square().sum(-1) * INPUT_VARIANCE


def optimum(target: float) -> tuple[torch.Tensor, float]:
    """The unique minimiser of the expected loss: w = 0 (ignore the input), b = target."""
    return torch.zeros(IN_FEATURES, dtype=_F64), float(target)


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
    return torch.full((IN_FEATURES,), each, dtype=_F64), target * (2 * weight_decay + 1 / 3) / det


# --- curvature --------------------------------------------------------------------------


def input_second_moment() -> torch.Tensor:
    """E[z zᵀ] for z = [x, 1] (11×11, float64): 1/3 on the feature diagonal, 1/4 between
    features, 1/2 between a feature and the constant, 1 for the constant itself."""
    m = torch.full((FEATURES_AND_BIAS, FEATURES_AND_BIAS), INPUT_MEAN**2, dtype=_F64)
    m.diagonal()[:IN_FEATURES] = INPUT_VARIANCE + INPUT_MEAN**2
    m[IN_FEATURES, :] = INPUT_MEAN
    m[:, IN_FEATURES] = INPUT_MEAN
    m[IN_FEATURES, IN_FEATURES] = 1.0
    return m


def hessian() -> torch.Tensor:
    """Hessian of the expected loss in [w, b] (11×11, float64): 2·E[z zᵀ], the same everywhere
    because the loss is quadratic."""
    return 2 * input_second_moment()


# In the basis (ones/√10 in w, the bias) the Hessian's interesting block is 2·[[1/12 + 10/4, √10/2],
# [√10/2, 1]] = [[31/6, √10], [√10, 2]]: trace 43/6, determinant 1/3, eigenvalues (43 ± √1801)/12.
_BLOCK_DIAG_W, _BLOCK_OFF, _BLOCK_DIAG_B = 2 * (INPUT_VARIANCE + IN_FEATURES * INPUT_MEAN**2), math.sqrt(10), 2.0


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
    return torch.tensor([slow_eigenvalue(), *nine, fast_eigenvalue()], dtype=_F64)


def _mode_direction(eigenvalue: float) -> torch.Tensor:
    """Unit eigenvector in [w, b] of the 2×2 block's eigenvalue, bias component >= 0."""
    along_ones, along_bias = _BLOCK_OFF, eigenvalue - _BLOCK_DIAG_W  # (B − λI)v = 0, first row
    if along_bias < 0:
        along_ones, along_bias = -along_ones, -along_bias
    v = torch.full((FEATURES_AND_BIAS,), along_ones / math.sqrt(IN_FEATURES), dtype=_F64)
    v[IN_FEATURES] = along_bias
    return v / v.norm()


def fast_direction() -> torch.Tensor:
    """Unit vector in [w, b] along which the expected loss curves most (≈ the bias, plus a bit of Σw)."""
    return _mode_direction(fast_eigenvalue())


def slow_direction() -> torch.Tensor:
    """Unit vector in [w, b] along the flat valley floor: raise b, lower Σw, almost keeping 0.5·Σw + b."""
    return _mode_direction(slow_eigenvalue())


# --- learning-rate limits and speeds (torch.optim.SGD: momentum, dampening, Nesterov, weight decay) --
#
# torch.optim.SGD with momentum m > 0 keeps a momentum buffer: g = ∇loss + wd·θ, then buf = g on
# the first step and buf = m·buf + (1 − d)·g afterwards; the step is −lr·buf, or −lr·(g + m·buf)
# with Nesterov. (m = 0 keeps no buffer: dampening does nothing then.) Here θ = [w, b] is one
# parameter, so weight decay acts on the bias too. What each setting does to the maths:
#
# - Weight decay adds wd·I to every step's curvature: each Hessian eigenvalue λ becomes λ + wd,
#   and the optimum moves to θ* = (2M + wd·I)⁻¹·2t·E[z] (``regularized_optimum``).
# - Dampening d < 1 is a learning rate lr·(1 − d): with ṽ = buf/(1 − d) the recursion is
#   ṽ' = m·ṽ + g, θ' = θ − lr·(1 − d)·ṽ', heavy ball exactly; only the first step (buf = g,
#   not (1 − d)·g) differs, which changes where the run starts, not its rates or its limit.
# - Dampening d = 1 (with m > 0): after the first step no gradient enters the buffer, so
#   buf_k = m^k·g_0 and the run stops at θ_0 − lr·g_0/(1 − m), wherever that is.
# - Nesterov (m > 0, d = 0): with v the buffer, v' = m·v + g and e' = e − lr·(g + m·v'), so along a
#   Hessian direction e' = (1 − lr(1 + m)λ)·e − lr·m²·v. Characteristic polynomial
#   r² − (1 + m)(1 − a)·r + m(1 − a) with a = lr·λ; it reaches r = −1 at a = 2(1 + m)/(1 + 2m).


def _check_sgd(momentum: float, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
    """The same rules as torch.optim.SGD and Config; raises ValueError naming the setting."""
    if not math.isfinite(momentum) or momentum < 0:
        raise ValueError(f"momentum={momentum!r} is not allowed: a finite number >= 0")
    if not math.isfinite(dampening) or not 0 <= dampening <= 1:
        raise ValueError(f"dampening={dampening!r} is not allowed: a number from 0 to 1")
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay={weight_decay!r} is not allowed: a finite number >= 0")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov is only allowed with momentum > 0 and dampening = 0 (as torch.optim.SGD requires)")


def _check_momentum(momentum: float) -> None:
    _check_sgd(momentum)


def _lr_factor(momentum: float, dampening: float) -> float:
    """What dampening multiplies the learning rate by (see above): 1 − d with a buffer, 1 without."""
    return 1.0 - dampening if momentum > 0 else 1.0


def stalls(momentum: float, dampening: float) -> bool:
    """True when torch.optim.SGD stops learning after its first step: momentum > 0 and dampening 1."""
    return momentum > 0 and dampening >= 1


def critical_lr(
    momentum: float = 0.0, *, nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0
) -> float:
    """Learning rate above which gradient descent on the *expected* loss diverges (noise-free limit).

    Heavy ball: 2(1 + m)/λ_max (≈ 0.281 for m = 0, 0.309 for m = 0.1), from the fast direction's
    recursion e' = (1 + m − lr·λ)·e − m·e_prev. Nesterov: 2(1 + m)/((1 + 2m)·λ_max). Weight decay
    makes λ_max → λ_max + wd; dampening d divides the limit by 1 − d (see the notes above).

    This ignores that real SGD sees random inputs, whose curvature 2·z zᵀ fluctuates: runs blow up
    below it; ``sgd_critical_lr`` is the stochastic limit. Returns 0.0 for momentum >= 1 (no
    learning rate converges) and ``math.inf`` when the run stalls (momentum > 0, dampening 1:
    no learning rate makes it diverge). Raises ValueError for settings torch.optim.SGD refuses.
    """
    _check_sgd(momentum, dampening, weight_decay, nesterov)
    if momentum >= 1:
        return 0.0
    if stalls(momentum, dampening):
        return math.inf
    lam = fast_eigenvalue() + weight_decay
    limit = 2 * (1 + momentum) / ((1 + 2 * momentum) if nesterov else 1.0) / lam
    return limit / _lr_factor(momentum, dampening)


def _largest_root(lr: float, momentum: float, eigenvalue: float, nesterov: bool) -> float:
    """|r| of the larger root of the error's characteristic polynomial r² − p·r + q along one direction."""
    a = lr * eigenvalue
    if nesterov:
        p, q = (1 + momentum) * (1 - a), momentum * (1 - a)
    else:
        p, q = 1 + momentum - a, momentum
    disc = p * p - 4 * q
    if disc >= 0:
        return (abs(p) + math.sqrt(disc)) / 2
    return math.sqrt(q)  # complex pair: both roots have modulus √q and the error oscillates as it decays


def time_constant(
    lr: float, momentum: float, eigenvalue: float, *, nesterov: bool = False, dampening: float = 0.0
) -> float:
    """Steps for the error along a Hessian direction (eigenvalue λ) to shrink by a factor e.

    Noise-free: this is exactly how fast the parameters' *average over inputs* decays, since each
    step's input is independent of the parameters it meets. Heavy ball: the error obeys
    e_{k+1} = (1 + m − lr·λ)·e_k − m·e_{k−1} and decays like |r|^k, r the larger-magnitude root of
    r² − (1 + m − lr·λ)·r + m = 0; the time constant is −1/ln|r|. Nesterov uses its own polynomial
    (see the notes above), dampening d the learning rate lr·(1 − d). Weight decay is the caller's:
    pass λ + wd. Returns ``math.inf`` when that direction does not shrink (|r| >= 1, or a stall).
    """
    _check_sgd(momentum, dampening, 0.0, nesterov)
    if stalls(momentum, dampening):
        return math.inf
    r = _largest_root(lr * _lr_factor(momentum, dampening), momentum, eigenvalue, nesterov)
    return math.inf if r >= 1 else -1 / math.log(r)


def slow_time_constant(
    lr: float, momentum: float = 0.0, *, nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0
) -> float:
    """Steps for the slow (valley) direction to shrink by e (≈ 1,920 at lr 0.01, momentum 0.1).

    For small lr this is about (1 − m)/(lr·(1 − d)·(λ_slow + wd)): momentum speeds the crawl by 1/(1 − m).
    """
    return time_constant(lr, momentum, slow_eigenvalue() + weight_decay, nesterov=nesterov, dampening=dampening)


def fast_time_constant(
    lr: float, momentum: float = 0.0, *, nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0
) -> float:
    """Steps for the fast direction (mostly the mean prediction error) to shrink by e (≈ 12 at lr 0.01, m 0.1)."""
    return time_constant(lr, momentum, fast_eigenvalue() + weight_decay, nesterov=nesterov, dampening=dampening)


def other_time_constant(
    lr: float, momentum: float = 0.0, *, nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0
) -> float:
    """Steps for the weights' disagreement (the nine directions of eigenvalue 1/6) to shrink by e."""
    return time_constant(lr, momentum, OTHER_EIGENVALUE + weight_decay, nesterov=nesterov, dampening=dampening)


# Stochastic SGD. Write e = θ − θ* and let v be the momentum buffer (divided by 1 − d, see above).
# Per sample, the gradient plus weight decay is 2·z zᵀ·e + wd·e + n(z) with
# n(z) = 2z(zᵀθ* − t) + wd·θ*, whose mean is 0. Without weight decay θ* = (0, t) fits every sample,
# so n = 0: no noise floor. The error then obeys a linear recursion with a *random* matrix
#     v' = m·v + H·e,   e' = e − lr·(k·H·e + j·v)      with H = (2/B)·Σ_i z_i z_iᵀ + wd·I,
# k = 1, j = m for heavy ball (e' = e − lr·v') and k = 1 + m, j = m² for Nesterov. The second
# moment S = E[s sᵀ] of s = (e, v) evolves by
#     S ↦ E[A S Aᵀ] = Ā S Āᵀ + c cᵀ ⊗ (4/B)·(E[z zᵀ S_ee z zᵀ] − E[z zᵀ] S_ee E[z zᵀ]),
# with A = [[I − lr·k·H, −lr·j·I], [H, m·I]], Ā its mean, c = (−lr·k, 1) and S_ee the e–e block
# (wd·I is not random, so it enters Ā only). The additive n(z) adds a constant to that map (and a
# term in E[s], which itself decays), so E[‖e‖²] stays bounded exactly when the map's spectral
# radius is below 1. It needs the inputs' fourth moments, which for U(0, 1) are exact:
# E[x^k] = 1/(k + 1).


@functools.lru_cache(maxsize=1)
def _input_fourth_moment() -> torch.Tensor:
    """E[z_a z_b z_c z_d] for z = [x, 1] (11⁴ float64): product over features of E[x^count]."""
    one_hot = torch.zeros(FEATURES_AND_BIAS, IN_FEATURES, dtype=_F64)
    one_hot[:IN_FEATURES].fill_diagonal_(1)  # the constant 1 contributes to no feature's power
    oh = [one_hot.reshape([-1 if i == j else 1 for i in range(4)] + [IN_FEATURES]) for j in range(4)]
    power = oh[0] + oh[1] + oh[2] + oh[3]  # (11, 11, 11, 11, 10): how often each feature occurs
    return (1 / (power + 1)).prod(-1)


@functools.lru_cache(maxsize=1)
def _fourth_moment_matrix() -> torch.Tensor:
    """E[z zᵀ S z zᵀ] = Σ_bc M4[a, b, c, d]·S[b, c] as one (121 × 121) matrix acting on vec(S)."""
    d = FEATURES_AND_BIAS
    return _input_fourth_moment().permute(0, 3, 1, 2).reshape(d * d, d * d).contiguous()


@functools.lru_cache(maxsize=1)
def _symmetric_basis() -> torch.Tensor:
    """Orthonormal basis (20, 22, 22) of the 22×22 matrices unchanged by permuting the 10 features.

    The inputs' distribution is unchanged by such permutations, so the second-moment map keeps
    this subspace, and its spectral radius is reached there (the top eigenvector is positive
    semidefinite, and its average over permutations is one too). 20 dimensions instead of 484
    make the eigenvalue problem cheap: per 11×11 block, five orbits (feature diagonal,
    feature–feature, feature–constant, constant–feature, constant–constant), times 4 blocks.
    """
    d = FEATURES_AND_BIAS
    feat = torch.zeros(d, dtype=torch.bool)
    feat[:IN_FEATURES] = True
    const = ~feat
    eye = torch.eye(d, dtype=torch.bool)
    orbits = [
        eye & feat[:, None],
        ~eye & feat[:, None] & feat[None, :],
        feat[:, None] & const[None, :],
        const[:, None] & feat[None, :],
        const[:, None] & const[None, :],
    ]
    basis = []
    for p in range(2):
        for q in range(2):
            for orbit in orbits:
                m = torch.zeros(2 * d, 2 * d, dtype=_F64)
                m[p * d : (p + 1) * d, q * d : (q + 1) * d] = orbit.to(_F64)
                basis.append(m / m.norm())
    return torch.stack(basis)


def _second_moment_step(
    s: torch.Tensor,
    lr: float,
    momentum: float,
    batch_size: int,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> torch.Tensor:
    """Apply S ↦ E[A S Aᵀ] to a stack of 22×22 matrices (see the comment above); ``lr`` is after dampening."""
    d = FEATURES_AND_BIAS
    m2 = input_second_moment()
    eye = torch.eye(d, dtype=_F64)
    h = 2 * m2 + weight_decay * eye  # the mean curvature of one step
    k, j = (1 + momentum, momentum * momentum) if nesterov else (1.0, momentum)
    mean_a = torch.cat(
        [torch.cat([eye - lr * k * h, -lr * j * eye], 1), torch.cat([h, momentum * eye], 1)],
        0,
    )
    ee = s[:, :d, :d]
    # Per-sample covariance of z zᵀ acting on S_ee; a batch of B averages B of them: variance / B.
    # (Plain matrix products: einsum over the 4-index moment tensor was 100× slower here.)
    fourth = (ee.reshape(-1, d * d) @ _fourth_moment_matrix().T).reshape(ee.shape)
    noise = 4 / batch_size * (fourth - m2 @ ee @ m2)
    c = torch.tensor([-lr * k, 1.0], dtype=_F64)
    noise_blocks = torch.einsum("p,q,kac->kpaqc", c, c, noise).reshape(s.shape)
    return mean_a @ s @ mean_a.T + noise_blocks


@functools.lru_cache(maxsize=64)
def _growth_polynomial(
    batch_size: int, momentum: float, weight_decay: float = 0.0, nesterov: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The second-moment map on the symmetric subspace as R0 + lr·R1 + lr²·R2 (each 20×20).

    The map is a quadratic polynomial in lr (A is affine in lr), so three evaluations pin it down
    exactly; afterwards each learning rate costs one 20×20 eigenvalue problem.
    """
    basis = _symmetric_basis()

    def restricted(lr: float) -> torch.Tensor:
        # Entry (i, j) = <basis_i, map(basis_j)>: the map in the orthonormal basis.
        step = _second_moment_step(basis, lr, momentum, batch_size, weight_decay, nesterov)
        return basis.flatten(1) @ step.flatten(1).T

    at0, at1, at2 = restricted(0.0), restricted(1.0), restricted(2.0)
    return at0, (4 * at1 - at2 - 3 * at0) / 2, (at2 - 2 * at1 + at0) / 2


def _check_batch(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} is not allowed: a whole number >= 1")


def mean_square_growth(
    lr: float,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> float:
    """Factor by which E[‖error‖²] of stochastic SGD ultimately changes per step (< 1: it settles).

    Exact for inputs x ~ U(0, 1)^10 and torch.optim.SGD with any momentum, dampening, Nesterov,
    weight decay and batch size: the spectral radius of the second-moment map (see the notes
    above). With weight decay the error is measured from ``regularized_optimum`` and E[‖error‖²]
    settles at a noise floor instead of 0; this factor is how fast it gets there. A stalled run
    (momentum > 0, dampening 1) gives 1.0: its error stops changing.
    """
    _check_sgd(momentum, dampening, weight_decay, nesterov)
    _check_batch(batch_size)
    if stalls(momentum, dampening):
        return 1.0
    r0, r1, r2 = _growth_polynomial(batch_size, momentum, weight_decay, nesterov)
    lr = lr * _lr_factor(momentum, dampening)
    return float(torch.linalg.eigvals(r0 + lr * r1 + lr * lr * r2).abs().max())


def mean_square_time_constant(
    lr: float,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> float:
    """Steps for the root-mean-square error to shrink by e: −2/ln(``mean_square_growth``).

    Equal to ``slow_time_constant`` within a few per cent up to about half the stability limit;
    near the limit the inputs' randomness makes a run's error shrink more slowly than its average
    over inputs does. By Jensen's inequality (E[log‖e‖²] <= log E[‖e‖²]) a typical run's time
    constant is at most this one. ``math.inf`` when it does not shrink.
    """
    growth = mean_square_growth(
        lr, batch_size, momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening
    )
    return math.inf if growth >= 1 else -2 / math.log(growth)


@functools.lru_cache(maxsize=256)
def sgd_critical_lr(
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> float:
    """Largest learning rate at which stochastic SGD still settles (in mean square).

    It is where ``mean_square_growth`` reaches 1. Below it E[‖error‖²] shrinks geometrically (to
    the noise floor, with weight decay), so every run converges. Above it E[‖error‖²] grows;
    strictly that is a statement about averages, but real runs follow it: with lucky5.train at
    0.9× every run settled, and at 1.25× every run overflowed within 2,000 steps (batch 1–4,
    momentum 0–0.5; with momentum 0.9 the growth is slower). Always below ``critical_lr``
    (noise only hurts), approaching it as the batch grows. For the post's settings (B = 1,
    m = 0.1) it is ≈ 0.224 against 0.309 noise-free; for B = 1 and m = 0.9 it is ≈ 0.044.

    Exact for torch.optim.SGD with any momentum < 1, dampening, Nesterov and weight decay, and
    inputs U(0, 1)^10 (any target). Returns 0.0 for momentum >= 1, where no learning rate
    converges, and ``math.inf`` for a stalled run (momentum > 0, dampening 1).
    """
    upper = critical_lr(momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening)
    _check_batch(batch_size)
    if upper == 0.0 or math.isinf(upper):
        return upper

    def grows(lr: float) -> bool:
        return (
            mean_square_growth(
                lr, batch_size, momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening
            )
            > 1
        )

    # The growth tends to 1 from below as lr → 0, so look for the *first* crossing on a
    # geometric grid (robust even if the curve is not monotone), then bisect it.
    grid = [upper * 10 ** (-6 + 6 * i / 60) for i in range(61)]
    lo = 0.0
    for lr in grid:
        if grows(lr):
            hi = lr
            break
        lo = lr
    else:
        return upper  # noise too small to measure: the noise-free limit applies
    for _ in range(60):
        mid = (lo + hi) / 2
        if grows(mid):
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-10 * hi:
            break
    return lo


# --- views of a recorded run ------------------------------------------------------------


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
    return _f64(history.weights).norm(dim=-1)


def bias_errors(history: History) -> torch.Tensor:
    """|b − t| per parameter row (steps + 1,): the part the post saw as "close to 5 but not 5"."""
    return (_f64(history.biases) - history.config.target).abs()


def distances_to_optimum(history: History) -> torch.Tensor:
    """‖[w, b] − [w*, b*]‖ per parameter row (steps + 1,), float64, to ``optimum_for(history.config)``.

    That is (0, t) unless weight decay moves the optimum (see ``optimum_for``).
    """
    best = optimum_for(history.config)
    w = _f64(history.weights) - best.weight
    return torch.sqrt(w.square().sum(-1) + (_f64(history.biases) - best.bias).square())


def loss_terms(history: History) -> torch.Tensor:
    """The expected loss of every recorded parameter row split into three terms: (steps + 1, 3), float64.

    Columns, in order (t is the target):

    0. the fast error ``(0.5·Σw + b − t)²``: the average prediction's miss, fixed in tens of epochs;
    1. the valley term ``(Σw)²/120``: what the weights' common part still costs;
    2. the disagreement ``‖w − mean(w)‖²/12``: what the weights' differences cost.

    Each row sums to ``expected_losses(history)`` (up to float64 rounding). Derivation: write
    w = mean(w)·1 + (w − mean(w)·1); the two parts are orthogonal (the second sums to 0), so
    ‖w‖² = 10·mean(w)² + ‖w − mean(w)‖² = (Σw)²/10 + ‖w − mean(w)‖². Put into the variance term
    ‖w‖²/12 of ``expected_loss`` this gives (Σw)²/120 + ‖w − mean(w)‖²/12. The disagreement lives
    in the nine Hessian directions of eigenvalue 1/6 (they keep Σw fixed); the fast error and the
    valley term share the plane of ``valley_coordinates``, where the fast and slow directions lie.
    Everything is computed in float64 from the float32 record, so finite parameters give finite terms.
    """
    w = _f64(history.weights)
    total = w.sum(-1)
    fast = mean_error(w, history.biases, history.config.target).square()
    valley = total.square() / (IN_FEATURES * 12)
    disagreement = (w - w.mean(-1, keepdim=True)).square().sum(-1) * INPUT_VARIANCE
    return torch.stack([fast, valley, disagreement], -1)


LOSS_TERM_NAMES = ("fast error", "valley", "disagreement")  # the columns of loss_terms, in order


def valley_coordinates(history: History) -> torch.Tensor:
    """Each recorded row's position in the (u, b) plane: (steps + 1, 2), float64, u = Σw/√10.

    u is the coordinate of w along the unit vector 1/√10 (the weights' common part); b is the
    bias itself (not b − t). The Hessian's fast and slow directions both lie in this plane, so
    its contour lines (expected loss with the weights' disagreement left out) are the ellipses
    (u·√10/2 + b − t)² + u²/12 = const, centred on the optimum (u, b) = (0, t); the valley floor
    is their long axis, along ``slow_direction()``.
    """
    u = _f64(history.weights).sum(-1) / math.sqrt(IN_FEATURES)
    return torch.stack([u, _f64(history.biases)], -1)


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
    err = torch.cat([_f64(history.weights), _f64(history.biases).unsqueeze(-1) - history.config.target], -1)
    fast = err @ fast_direction()
    slow = err @ slow_direction()
    rest = err - fast.unsqueeze(-1) * fast_direction() - slow.unsqueeze(-1) * slow_direction()
    return Modes(fast=fast, slow=slow, other=rest.norm(dim=-1))


# --- honest theory for a Config: what holds for these settings, and what is withheld ---------

STABLE, NEAR_EDGE, DIVERGES = "stable", "near the edge", "expect divergence"
STOPS, NEVER_SETTLES, WITHHELD = "training stops", "never settles", "withheld"
VERDICTS = (STABLE, NEAR_EDGE, DIVERGES, STOPS, NEVER_SETTLES, WITHHELD)

FLOAT32_MAX = float(torch.finfo(torch.float32).max)
# Measured with lucky5.train: |t| = 1e19 trains normally, 2e19 overflows on epoch 0, where the
# first squared error, ≈ t², passes float32's largest number (|t| ≈ 1.8e19).
OVERFLOW_TARGET = math.sqrt(FLOAT32_MAX)
_LARGE_TARGET = 1e15  # from here on an overshoot of the squared error can come near float32's limit
_STABLE_BELOW, _EDGE_BELOW = 0.5, 1.0  # lr / limit thresholds of the verdicts


def _sgd_kwargs(c: Config) -> dict[str, Any]:
    return dict(nesterov=c.nesterov, weight_decay=c.weight_decay, dampening=c.dampening)


def _rescales(c: Config) -> str:
    name = OPTIMIZER_NAMES.get(c.optimizer, c.optimizer)
    return f"{name} rescales each step by running statistics of the gradient, so SGD's formulas do not apply"


def _stall_epochs(momentum: float) -> float:
    """Epochs after which a stalled run's step is below a millionth of its first: ln(1e-6)/ln(m)."""
    return math.log(1e-6) / math.log(momentum)


def _stall_reason(c: Config) -> str:
    return (
        f"training stops: with dampening 1, after the first step no gradient enters the momentum buffer, so each "
        f"step is {c.momentum:g} times the last and after ≈ {_stall_epochs(c.momentum):.0f} epochs the layer "
        "no longer moves"
    )


def _momentum_reason(c: Config) -> str:
    return f"momentum {c.momentum:g} is 1 or more: the momentum buffer never forgets and the steps never shrink"


def divergence_hint(config: Config) -> str:
    """What to try when a run of ``config`` diverges: one clause, no Markdown, ready for a sentence.

    Checked in order: a target whose squared error overflows float32, momentum >= 1, then for
    SGD a learning rate below 0.8× the exact limit ``sgd_critical_lr`` of these settings (batch
    size, momentum, dampening, Nesterov, weight decay); other optimizers get "a smaller lr".
    """
    c = config
    if abs(c.target) > _LARGE_TARGET:
        return f"the lucky number {c.target:g} is so large that its squared error overflows float32; try a smaller one"
    if c.optimizer in ("sgd", "rmsprop") and c.momentum >= 1:
        return f"momentum {c.momentum:g} is 1 or more, so the steps never shrink; use a momentum below 1"
    if c.optimizer == "sgd" and stalls(c.momentum, c.dampening):
        return "with dampening 1 no gradient after the first reaches the momentum buffer; use a dampening below 1"
    if c.optimizer == "sgd":
        limit = sgd_critical_lr(c.batch_size, c.momentum, **_sgd_kwargs(c))
        return f"try a learning rate below ≈ {0.8 * limit:.2g} (80 % of the stability limit ≈ {limit:.3g})"
    heavy = c.optimizer in ("sgd", "rmsprop") and c.momentum >= 0.5
    return f"try a smaller learning rate than {c.lr:g}" + (f" or less momentum than {c.momentum:g}" if heavy else "")


@dataclass(frozen=True)
class Stability:
    """Whether the learning rate of a Config is safe, before training.

    ``limit`` is the largest learning rate at which E[‖error‖²] still shrinks (``sgd_critical_lr``,
    exact for SGD with every torch option), ``ratio`` is lr / limit; both are None when no limit
    applies (other optimizers, momentum >= 1, a stall, an overflowing target). ``verdict`` is one of
    ``VERDICTS``: "stable" (ratio < 0.5), "near the edge" (< 1), "expect divergence",
    "training stops" (SGD, momentum > 0, dampening 1), "never settles" (the steps never shrink
    but need not overflow) or "withheld" (no claim). ``hint`` is ``divergence_hint``; ``note``
    says why the limit is withheld, or qualifies it.
    """

    limit: float | None
    ratio: float | None
    verdict: str
    hint: str
    note: str | None


def stability(config: Config) -> Stability:
    """The stability gauge of ``config`` (see ``Stability``); never raises for a valid Config."""
    c = config
    hint = divergence_hint(c)

    def out(verdict: str, note: str | None, limit: float | None = None) -> Stability:
        ratio = c.lr / limit if limit is not None else None
        return Stability(limit=limit, ratio=ratio, verdict=verdict, hint=hint, note=note)

    if abs(c.target) >= OVERFLOW_TARGET:
        return out(
            DIVERGES,
            f"the lucky number {c.target:g} squared exceeds float32's largest number "
            f"(≈ {FLOAT32_MAX:.3g}), so the very first epoch's loss overflows",
        )
    large = (
        (
            f"the lucky number {c.target:g} is large: its squared error is near float32's largest number, "
            "so an overshoot can overflow even below the limit"
        )
        if abs(c.target) > _LARGE_TARGET
        else None
    )
    if c.optimizer != "sgd":
        if c.optimizer == "rmsprop" and c.momentum >= 1:
            return out(NEVER_SETTLES, _momentum_reason(c))
        return out(WITHHELD, _rescales(c) + ": no stability limit is claimed")
    if c.momentum >= 1:
        if c.momentum == 1 and c.dampening == 1:
            return out(
                NEVER_SETTLES,
                "momentum 1 with dampening 1 repeats the first step forever: the layer "
                "drifts in a straight line and never settles",
            )
        return out(DIVERGES, _momentum_reason(c) + ", and the inputs' randomness makes the error grow")
    if stalls(c.momentum, c.dampening):
        return out(STOPS, _stall_reason(c) + "; it cannot diverge, but it does not learn either")
    limit = sgd_critical_lr(c.batch_size, c.momentum, **_sgd_kwargs(c))
    ratio = c.lr / limit
    verdict = STABLE if ratio < _STABLE_BELOW else NEAR_EDGE if ratio < _EDGE_BELOW else DIVERGES
    notes = []
    if c.momentum == 0 and c.dampening > 0:
        notes.append("dampening does nothing without momentum (torch keeps no momentum buffer)")
    elif c.dampening > 0:
        notes.append(
            f"dampening {c.dampening:g} acts as a learning rate lr·(1 − {c.dampening:g}) after the first step, "
            "which uses the whole gradient"
        )
    if ratio >= _EDGE_BELOW and c.momentum >= 0.9:
        notes.append("with momentum this heavy the error grows slowly: it may take thousands of epochs to overflow")
    if large:
        notes.append(large)
    return out(verdict, "; ".join(notes) or None, limit)


TIME_CONSTANT_MODES = ("fast", "slow", "other")


def time_constant_for(config: Config, mode: str = "slow") -> tuple[float | None, str | None]:
    """Time constant in epochs of one Hessian direction under ``config``, or None with the reason.

    ``mode``: "slow" (the valley, eigenvalue λ_slow + wd), "fast" (the mean prediction,
    λ_fast + wd) or "other" (the weights' disagreement, 1/6 + wd). The number is exact for the
    parameters' average over inputs (``slow_time_constant`` and its siblings, with momentum,
    dampening, Nesterov and weight decay). The second item is None, the reason the number is
    withheld (another optimizer, momentum >= 1, a stall, lr at or past the stability limit, an
    overflowing target), or a caveat that qualifies it (near the limit a single run is slower;
    with weight decay the run approaches ``optimum_for(config)``, not (0, t)).

    Raises ValueError for an unknown ``mode``.
    """
    if mode not in TIME_CONSTANT_MODES:
        raise ValueError(f"mode={mode!r} is not allowed: one of {', '.join(TIME_CONSTANT_MODES)}")
    c = config
    if c.optimizer != "sgd":
        return None, _rescales(c) + ": no fixed time constant"
    gauge = stability(c)
    if abs(c.target) >= OVERFLOW_TARGET:
        return None, "the run overflows float32 on its first epoch"
    if c.momentum >= 1:
        return None, _momentum_reason(c) + ", so nothing decays"
    if stalls(c.momentum, c.dampening):
        return None, _stall_reason(c)
    assert gauge.limit is not None and gauge.ratio is not None
    if gauge.ratio >= _EDGE_BELOW:
        return None, f"lr {c.lr:g} is at or above the stability limit ≈ {gauge.limit:.3g}: runs diverge"
    fn = {"fast": fast_time_constant, "slow": slow_time_constant, "other": other_time_constant}[mode]
    tau = fn(c.lr, c.momentum, **_sgd_kwargs(c))
    notes = []
    if mode == "slow":
        rms = mean_square_time_constant(c.lr, c.batch_size, c.momentum, **_sgd_kwargs(c))
        if rms > 1.1 * tau:
            notes.append(
                "that is the average over inputs; this close to the stability limit their randomness slows a "
                f"single run down, though not beyond ≈ {rms:,.0f} epochs (the mean-square time constant, an "
                "upper bound for a typical run)"
            )
    if c.weight_decay > 0:
        notes.append(
            "with weight decay the run approaches the optimum of these settings, not (0, t), and then jitters around it"
        )
    return tau, "; ".join(notes) or None


@dataclass(frozen=True)
class Optimum:
    """Where a Config's training is headed: every weight ``weight`` (float64 (10,)), the bias ``bias``.

    ``note`` says why it is not (0, t), or why (0, t) is only a reference; None for (0, t) itself.
    """

    weight: torch.Tensor
    bias: float
    note: str | None


def optimum_for(config: Config) -> Optimum:
    """The optimum the run of ``config`` heads for: (0, t), or ``regularized_optimum`` with weight decay.

    SGD, Adam, RMSprop and Adagrad add weight decay to the gradient, so their stationary point is
    θ* of ``regularized_optimum``. AdamW decays the weights outside its rescaled step, so where it
    settles depends on the gradient's running size: then (0, t) is returned as the reference, with
    a note saying so.
    """
    c = config
    w0, b0 = optimum(c.target)
    if c.weight_decay == 0:
        return Optimum(w0, b0, None)
    if c.optimizer == "adamw":
        return Optimum(
            w0,
            b0,
            "AdamW's decoupled weight decay pulls toward a point that depends on the gradient's "
            f"running size; distances are to (0, {c.target:g}), the expected loss's own minimum",
        )
    w, b = regularized_optimum(c.target, c.weight_decay)
    note = (
        f"weight decay {c.weight_decay:g} pulls every parameter, the bias too, toward 0: the optimum moves "
        f"from (0, {c.target:g}) to every weight {float(w[0]):.4g}, b = {b:.4g}"
    )
    if c.optimizer != "sgd":
        note += " (where the average gradient with weight decay vanishes)"
    return Optimum(w, b, note)


def _terms(weight: torch.Tensor, bias: float, target: float) -> tuple[float, float, float]:
    w = _f64(weight)
    total = float(w.sum())
    disagreement = float((w - w.mean()).square().sum()) * INPUT_VARIANCE
    return (INPUT_MEAN * total + bias - target) ** 2, total * total / (IN_FEATURES * 12), disagreement


@dataclass(frozen=True)
class WhyNotFive:
    """Every number of the "Why not exactly 5?" explanation for one run, all computed in float64.

    Values describe the last recorded row (the trained layer, or the last finite one of a
    diverged run); they are finite whenever that row is, which it always is. Epoch counts are
    optimizer steps. ``terms``/``optimum_terms`` follow ``LOSS_TERM_NAMES``.
    """

    target: float
    mean_error: float  # 0.5·Σw + b − t: the average prediction's miss (the fast direction)
    weight_norm: float  # ‖w‖
    bias_error: float  # |b − t|
    expected_loss: float  # E[L] now
    optimum_weight: float  # every weight at optimum_for(config) (0 without weight decay)
    optimum_bias: float  # the bias there (t without weight decay)
    optimum_loss: float  # E[L] at that optimum (0 without weight decay)
    optimum_note: str | None  # optimum_for(config).note
    distance_to_optimum: float  # ‖[w, b] − [w*, b*]‖
    terms: tuple[float, float, float]  # loss_terms at the last row; they add up to expected_loss
    optimum_terms: tuple[float, float, float]  # the same terms at the optimum
    dominant: str  # the name of the largest term
    outlook: tuple[str, str, str]  # what more epochs do to each term (plain text, one clause each)
    time_constant: float | None  # the valley's time constant in epochs, or None (see the note)
    epochs_per_time_constant: float | None  # epochs run / time_constant
    time_constant_note: str | None  # why withheld, or what qualifies the number
    epochs_run: int  # history.steps
    diverged_at: int | None  # history.diverged_at


def _outlook(history: History, best: Optimum) -> tuple[tuple[str, str, str], float | None, str | None]:
    """What more epochs do to each loss term, and the valley time constant (or why it is withheld)."""
    c, run = history.config, history.steps
    tau, why = time_constant_for(c, "slow")
    if history.diverged_at is not None:
        tau, why = None, f"the run diverged at epoch {history.diverged_at:,}; " + divergence_hint(c)
    if tau is None or math.isinf(tau):
        reason = why or "the valley does not shrink at these settings"
        unknown = f"not predicted: {reason}"
        return (unknown, unknown, unknown), None, reason
    tau_fast, _ = time_constant_for(c, "fast")
    tau_other, _ = time_constant_for(c, "other")
    assert tau_fast is not None and tau_other is not None
    decayed = c.weight_decay > 0  # then each term heads for its value at θ*, and SGD jitters around it there
    floor = " toward its value at the optimum, then jitters around it" if decayed else ""
    along = (
        f"moves with the valley (time constant ≈ {tau:,.0f} epochs){floor}"
        if decayed
        else f"shrinks with the valley term (by e every ≈ {tau / 2:,.0f} epochs)"
    )
    if run >= 5 * tau_fast:
        fast = (
            "already settled; the random inputs keep feeding what is left as the layer slides along the valley, "
            f"so it {along}"
        )
    else:
        fast = (
            f"still settling: its distance to its value at the optimum shrinks by e every ≈ {tau_fast:,.0f} epochs"
            if decayed
            else f"still settling: shrinks by e every ≈ {tau_fast / 2:,.0f} epochs"
        )
    valley = (
        (f"shrinks by e every ≈ {tau / 2:,.0f} epochs (half the valley's time constant, as the term is a square)")
        if not decayed
        else (
            f"moves toward its value at the optimum ({_terms(best.weight, best.bias, c.target)[1]:.3g}), "
            f"its distance shrinking by e every ≈ {tau:,.0f} epochs, then jitters around it"
        )
    )
    if run >= 5 * tau_other:
        other = f"past its own time constant: the random inputs keep feeding it from the valley, so it now {along}"
    else:
        other = (
            f"shrinks by e every ≈ {tau_other / 2:,.0f} epochs (eigenvalue 1/6{' + weight decay' * decayed}) "
            "until the random inputs "
            "keep it as small as the valley allows; then it shrinks with the valley term"
        )
    return (fast, valley, other), tau, why


def why_not_five(history: History) -> WhyNotFive:
    """The "Why not exactly 5?" numbers for ``history`` (see ``WhyNotFive``), all in float64.

    Works for every Config and for diverged runs (their last finite row). The norms are taken in
    float64: a float32 norm of finite weights near 1e19 overflows to inf.
    """
    c = history.config
    w, b = _f64(history.weights[-1]), float(history.biases[-1])
    best = optimum_for(c)
    terms = _terms(w, b, c.target)
    optimum_terms = _terms(best.weight, best.bias, c.target)
    outlook, tau, why = _outlook(history, best)
    return WhyNotFive(
        target=c.target,
        mean_error=float(mean_error(w, b, c.target)),
        weight_norm=float(w.square().sum().sqrt()),
        bias_error=abs(b - c.target),
        expected_loss=float(expected_loss(w, b, c.target)),
        optimum_weight=float(best.weight[0]),
        optimum_bias=best.bias,
        optimum_loss=float(expected_loss(best.weight, best.bias, c.target)),
        optimum_note=best.note,
        distance_to_optimum=float(((w - best.weight).square().sum() + (b - best.bias) ** 2).sqrt()),
        terms=terms,
        optimum_terms=optimum_terms,
        dominant=LOSS_TERM_NAMES[max(range(3), key=lambda i: terms[i])],
        outlook=outlook,
        time_constant=tau,
        epochs_per_time_constant=history.steps / tau if tau else None,
        time_constant_note=why,
        epochs_run=history.steps,
        diverged_at=history.diverged_at,
    )
