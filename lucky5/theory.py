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

This module gives those formulas, stability limits for the learning rate, and per-step views of a
recorded ``History``. It is not a trainer (see ``engine``), it draws no random numbers, and it
knows nothing about a UI. Everything is float64: these are reference values, not training maths.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

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


# --- learning-rate limits and speeds (SGD with heavy-ball momentum, as torch.optim.SGD) --


def critical_lr(momentum: float = 0.0) -> float:
    """Learning rate above which gradient descent on the *expected* loss diverges: 2(1 + m)/λ_max.

    With momentum m (torch.optim.SGD, no dampening or Nesterov) the fast direction evolves as
    e' = (1 + m − lr·λ)·e − m·e_prev, stable iff lr·λ < 2(1 + m) for 0 <= m < 1 (≈ 0.281 for
    m = 0, 0.309 for m = 0.1). This is the noise-free limit: real SGD sees one random input per
    step, whose curvature 2·z zᵀ fluctuates, and can blow up below it; use ``sgd_critical_lr``
    for the stochastic limit. Returns 0.0 for momentum >= 1, where no learning rate converges.
    """
    _check_momentum(momentum)
    if momentum >= 1:
        return 0.0
    return 2 * (1 + momentum) / fast_eigenvalue()


def _check_momentum(momentum: float) -> None:
    if not math.isfinite(momentum) or momentum < 0:
        raise ValueError(f"momentum={momentum!r} is not allowed: a finite number >= 0")


def time_constant(lr: float, momentum: float, eigenvalue: float) -> float:
    """Steps for the error along a Hessian direction to shrink by a factor e under heavy-ball GD.

    The error obeys e_{k+1} = (1 + m − lr·λ)·e_k − m·e_{k−1}; it decays like |r|^k where r is
    the larger-magnitude root of r² − (1 + m − lr·λ)·r + m = 0, so the time constant is
    −1/ln|r|. Returns ``math.inf`` when that direction does not shrink (|r| >= 1).
    """
    _check_momentum(momentum)
    c = 1 + momentum - lr * eigenvalue
    disc = c * c - 4 * momentum
    if disc >= 0:
        r = (abs(c) + math.sqrt(disc)) / 2
    else:  # complex pair: both roots have modulus √m and the error oscillates as it decays
        r = math.sqrt(momentum)
    return math.inf if r >= 1 else -1 / math.log(r)


def slow_time_constant(lr: float, momentum: float = 0.0) -> float:
    """Steps for the slow direction to shrink by e (≈ 1,920 at lr 0.01, momentum 0.1).

    For small lr this is about (1 − m)/(lr·λ_slow): momentum m speeds the crawl by 1/(1 − m).
    """
    return time_constant(lr, momentum, slow_eigenvalue())


def fast_time_constant(lr: float, momentum: float = 0.0) -> float:
    """Steps for the fast direction (mostly the mean prediction error) to shrink by e (≈ 12 at lr 0.01, m 0.1)."""
    return time_constant(lr, momentum, fast_eigenvalue())


# Stochastic SGD. The optimum fits every sample exactly (x·0 + t = t), so the error e = [w, b − t]
# obeys a linear recursion with a *random* matrix and no additive noise:
#     v' = m·v + H·e,   e' = e − lr·v'      with H = (2/B)·Σ_i z_i z_iᵀ over the batch.
# A run settles when the second moment S = E[s sᵀ] of s = (e, v) shrinks. One step maps
#     S ↦ E[A S Aᵀ] = Ā S Āᵀ + c cᵀ ⊗ (4/B)·(E[z zᵀ S_ee z zᵀ] − E[z zᵀ] S_ee E[z zᵀ]),
# with A = [[I − lr·H, −lr·m·I], [H, m·I]], Ā its mean, c = (−lr, 1) and S_ee the e–e block. The
# rate per step is that linear map's spectral radius. It needs the inputs' fourth moments,
# which for U(0, 1) are exact: E[x^k] = 1/(k + 1).


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


def _second_moment_step(s: torch.Tensor, lr: float, momentum: float, batch_size: int) -> torch.Tensor:
    """Apply S ↦ E[A S Aᵀ] to a stack of 22×22 matrices (see the comment above)."""
    d = FEATURES_AND_BIAS
    m2 = input_second_moment()
    h = 2 * m2  # the mean curvature of one step
    eye = torch.eye(d, dtype=_F64)
    mean_a = torch.cat(
        [torch.cat([eye - lr * h, -lr * momentum * eye], 1), torch.cat([h, momentum * eye], 1)],
        0,
    )
    ee = s[:, :d, :d]
    # Per-sample covariance of z zᵀ acting on S_ee; a batch of B averages B of them: variance / B.
    # (Plain matrix products: einsum over the 4-index moment tensor was 100× slower here.)
    fourth = (ee.reshape(-1, d * d) @ _fourth_moment_matrix().T).reshape(ee.shape)
    noise = 4 / batch_size * (fourth - m2 @ ee @ m2)
    c = torch.tensor([-lr, 1.0], dtype=_F64)
    noise_blocks = torch.einsum("p,q,kac->kpaqc", c, c, noise).reshape(s.shape)
    return mean_a @ s @ mean_a.T + noise_blocks


@functools.lru_cache(maxsize=64)
def _growth_polynomial(batch_size: int, momentum: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The second-moment map on the symmetric subspace as R0 + lr·R1 + lr²·R2 (each 20×20).

    The map is a quadratic polynomial in lr (A is affine in lr), so three evaluations pin it down
    exactly; afterwards each learning rate costs one 20×20 eigenvalue problem.
    """
    basis = _symmetric_basis()

    def restricted(lr: float) -> torch.Tensor:
        # Entry (i, j) = <basis_i, map(basis_j)>: the map in the orthonormal basis.
        return basis.flatten(1) @ _second_moment_step(basis, lr, momentum, batch_size).flatten(1).T

    at0, at1, at2 = restricted(0.0), restricted(1.0), restricted(2.0)
    return at0, (4 * at1 - at2 - 3 * at0) / 2, (at2 - 2 * at1 + at0) / 2


def mean_square_growth(lr: float, batch_size: int = 1, momentum: float = 0.0) -> float:
    """Factor by which E[‖error‖²] of stochastic SGD ultimately changes per step (< 1: it settles).

    Exact for inputs x ~ U(0, 1)^10 and torch.optim.SGD with heavy-ball momentum (no dampening,
    Nesterov or weight decay), any batch size; it is the spectral radius of the second-moment map.
    """
    _check_momentum(momentum)
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} is not allowed: a whole number >= 1")
    r0, r1, r2 = _growth_polynomial(batch_size, momentum)
    return float(torch.linalg.eigvals(r0 + lr * r1 + lr * lr * r2).abs().max())


@functools.lru_cache(maxsize=256)
def sgd_critical_lr(batch_size: int = 1, momentum: float = 0.0) -> float:
    """Largest learning rate at which stochastic SGD (batch B, momentum m) still settles.

    It is where ``mean_square_growth`` reaches 1. Below it E[‖error‖²] shrinks geometrically, so
    every run converges. Above it E[‖error‖²] grows; strictly that is a statement about averages,
    but real runs follow it: with lucky5.train at 0.9× every run settled, and at 1.25× every run
    overflowed within 2,000 steps (batch 1–4, momentum 0–0.5; with momentum 0.9 the growth is
    slower). Always below ``critical_lr(m)`` (noise only hurts), approaching it as B grows. For
    the post's settings (B = 1, m = 0.1) it is ≈ 0.224 against 0.309 noise-free; for B = 1 and
    m = 0.9 it is ≈ 0.044, a twelfth of the noise-free limit.

    Assumes torch.optim.SGD without dampening, Nesterov or weight decay, and inputs U(0, 1)^10
    (any target). Returns 0.0 for momentum >= 1, where no learning rate converges.
    """
    upper = critical_lr(momentum)
    if upper == 0.0:
        return 0.0
    # The growth tends to 1 from below as lr → 0, so look for the *first* crossing on a
    # geometric grid (robust even if the curve is not monotone), then bisect it.
    grid = [upper * 10 ** (-6 + 6 * i / 60) for i in range(61)]
    lo = 0.0
    for lr in grid:
        if mean_square_growth(lr, batch_size, momentum) > 1:
            hi = lr
            break
        lo = lr
    else:
        return upper  # noise too small to measure: the noise-free limit applies
    for _ in range(60):
        mid = (lo + hi) / 2
        if mean_square_growth(mid, batch_size, momentum) > 1:
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
    """‖[w, b] − [0, t]‖ per parameter row (steps + 1,)."""
    return torch.sqrt(weight_norms(history).square() + bias_errors(history).square())


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
