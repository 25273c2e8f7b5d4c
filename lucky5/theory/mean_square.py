"""Stochastic SGD in mean square: how E[‖error‖²] grows or shrinks per step, and the exact stability limit.

Write e = θ − θ* and let v be the momentum buffer (divided by 1 − d, see ``sgd``). Per sample, the
gradient plus weight decay is 2·z zᵀ·e + wd·e + n(z) with n(z) = 2z(zᵀθ* − t) + wd·θ*, whose mean is 0.
Without weight decay θ* = (0, t) fits every sample, so n = 0: no noise floor. The error then obeys a
linear recursion with a *random* matrix

    v' = m·v + H·e,   e' = e − lr·(k·H·e + j·v)      with H = (2/B)·Σ_i z_i z_iᵀ + wd·I,

k = 1, j = m for heavy ball (e' = e − lr·v') and k = 1 + m, j = m² for Nesterov. The second moment
S = E[s sᵀ] of s = (e, v) evolves by

    S ↦ E[A S Aᵀ] = Ā S Āᵀ + c cᵀ ⊗ (4/B)·(E[z zᵀ S_ee z zᵀ] − E[z zᵀ] S_ee E[z zᵀ]),

with A = [[I − lr·k·H, −lr·j·I], [H, m·I]], Ā its mean, c = (−lr·k, 1) and S_ee the e–e block (wd·I is
not random, so it enters Ā only). The additive n(z) adds a constant to that map (and a term in E[s],
which itself decays), so E[‖e‖²] stays bounded exactly when the map's spectral radius is below 1. It
needs the inputs' fourth moments (``moments.input_fourth_moment``), exact for U(0, 1).

When θ* does not fit every sample (noise on the targets, a rule one neuron cannot fit, weight decay),
n(z) is the gradient's noise at the optimum, with covariance Σ_n (``fit.gradient_noise``). The error then
gets the kick c ⊗ n̄ each step (n̄ the batch's mean of n, covariance Σ_n/B, independent of s), and

    S' = E[A S Aᵀ] + c cᵀ ⊗ Σ_n/B                (the cross terms need E[s], which decays to 0),

whose fixed point S = T(S) + Q is where the mean-square error settles (``stationary_error``): one
linear system in the 22² entries of S. This is the standard second-moment (Lyapunov) analysis of a
linear recursion with random coefficients and additive noise, the method of the stability limit above.

The same two recursions, run for k steps from the start, say where runs with different seeds are after k
epochs (``spread_after``): E[s] by Ā, S by the second-moment map, both from the initialisation's mean and
variance (``INIT_VARIANCE``).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch

from ..engine import FEATURES_AND_BIAS, IN_FEATURES
from .moments import F64, Moments, input_fourth_moment, input_second_moment
from .sgd import check_sgd, critical_lr, lr_factor, stalls

__all__ = [
    "INIT_VARIANCE",
    "Spread",
    "mean_square_growth",
    "mean_square_time_constant",
    "moments_critical_lr",
    "sgd_critical_lr",
    "spread_after",
    "stationary_error",
]

# nn.Linear(10, 1)'s default initialisation (torch.nn.Linear.reset_parameters): kaiming_uniform_ with a = √5
# gives the weights the bound √3·√(2/(1 + 5))/√fan_in = 1/√10, and the bias is U(−1/√10, 1/√10) too; each
# parameter independent with mean 0 and variance bound²/3.
INIT_VARIANCE = 1 / (3 * IN_FEATURES)


@functools.lru_cache(maxsize=1)
def _fourth_moment_matrix() -> torch.Tensor:
    """E[z zᵀ S z zᵀ] = Σ_bc M4[a, b, c, d]·S[b, c] as one (121 × 121) matrix acting on vec(S)."""
    d = FEATURES_AND_BIAS
    return input_fourth_moment().permute(0, 3, 1, 2).reshape(d * d, d * d).contiguous()


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
                m = torch.zeros(2 * d, 2 * d, dtype=F64)
                m[p * d : (p + 1) * d, q * d : (q + 1) * d] = orbit.to(F64)
                basis.append(m / m.norm())
    return torch.stack(basis)


def _mean_map(lr: float, momentum: float, weight_decay: float, nesterov: bool, m2: torch.Tensor) -> torch.Tensor:
    """Ā, the mean of one step's matrix A acting on s = (e, v) (2d × 2d), for inputs with E[z zᵀ] = ``m2``."""
    d = m2.shape[0]
    eye = torch.eye(d, dtype=F64)
    h = 2 * m2 + weight_decay * eye  # the mean curvature of one step
    k, j = (1 + momentum, momentum * momentum) if nesterov else (1.0, momentum)
    return torch.cat([torch.cat([eye - lr * k * h, -lr * j * eye], 1), torch.cat([h, momentum * eye], 1)], 0)


def _second_moment_step(
    s: torch.Tensor,
    lr: float,
    momentum: float,
    batch_size: int,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    moments: Moments | None = None,
) -> torch.Tensor:
    """Apply S ↦ E[A S Aᵀ] to a stack of 2d×2d matrices (see the module's notes); ``lr`` is after dampening.

    ``moments`` are the inputs' (E[z zᵀ] (d, d) and E[z_a z_b z_c z_d] as a (d², d²) matrix); by default
    those of U(0, 1)^10, d = 11.
    """
    m2, m4 = moments if moments is not None else (input_second_moment(), _fourth_moment_matrix())
    d = m2.shape[0]
    k = 1 + momentum if nesterov else 1.0
    mean_a = _mean_map(lr, momentum, weight_decay, nesterov, m2)
    ee = s[:, :d, :d]
    # Per-sample covariance of z zᵀ acting on S_ee; a batch of B averages B of them: variance / B.
    # (Plain matrix products: einsum over the 4-index moment tensor is far slower.)
    fourth = (ee.reshape(-1, d * d) @ m4.T).reshape(ee.shape)
    noise = 4 / batch_size * (fourth - m2 @ ee @ m2)
    c = torch.tensor([-lr * k, 1.0], dtype=F64)
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
    weight decay and batch size: the spectral radius of the second-moment map (see the module's
    notes). With weight decay the error is measured from ``regularized_optimum`` and E[‖error‖²]
    settles at a noise floor instead of 0; this factor is how fast it gets there. A stalled run
    (momentum > 0, dampening 1) gives 1.0: its error stops changing.
    """
    check_sgd(momentum, dampening, weight_decay, nesterov)
    _check_batch(batch_size)
    if stalls(momentum, dampening):
        return 1.0
    r0, r1, r2 = _growth_polynomial(batch_size, momentum, weight_decay, nesterov)
    lr = lr * lr_factor(momentum, dampening)
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
    strictly that is a statement about averages, but real runs follow it (``tests/test_theory.py``
    trains runs just below and just above it; with heavy momentum the growth is slow). Always below ``critical_lr``
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


def _map_matrix(
    lr: float, momentum: float, batch_size: int, weight_decay: float, nesterov: bool, moments: Moments | None = None
) -> torch.Tensor:
    """The second-moment map S ↦ E[A S Aᵀ] on all 2d×2d matrices (d = 11 by default), as one matrix on vec(S)."""
    n = 2 * (moments[0].shape[0] if moments is not None else FEATURES_AND_BIAS)
    units = torch.eye(n * n, dtype=F64).reshape(n * n, n, n)
    step = _second_moment_step(units, lr, momentum, batch_size, weight_decay, nesterov, moments)
    return step.reshape(n * n, n * n).T


def stationary_error(
    lr: float,
    gradient_noise: torch.Tensor,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> torch.Tensor | None:
    """E[e eᵀ] where stochastic SGD settles, e = θ − θ*: (11, 11) float64, or None if it does not settle.

    ``gradient_noise`` is Σ_n (11, 11), the covariance of one sample's gradient at θ* (``fit.gradient_noise``).
    Solves S = T(S) + c cᵀ ⊗ Σ_n/B for the second moment S of (e, v) (see the module's notes) and returns
    its e–e block. Exact in the limit of many steps for torch.optim.SGD with any momentum, dampening,
    Nesterov, weight decay and batch size on inputs U(0, 1)^10. None when ``mean_square_growth`` is 1 or
    more (the error does not settle: the run diverges, or stalls with dampening 1).
    """
    check_sgd(momentum, dampening, weight_decay, nesterov)
    _check_batch(batch_size)
    growth = mean_square_growth(
        lr, batch_size, momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening
    )
    if growth >= 1:
        return None
    lr = lr * lr_factor(momentum, dampening)
    d = FEATURES_AND_BIAS
    k = 1 + momentum if nesterov else 1.0
    c = torch.tensor([-lr * k, 1.0], dtype=F64)
    kick = torch.einsum("p,q,ac->paqc", c, c, gradient_noise.to(F64) / batch_size).reshape(2 * d, 2 * d)
    t = _map_matrix(lr, momentum, batch_size, weight_decay, nesterov)
    s = torch.linalg.solve(torch.eye(t.shape[0], dtype=F64) - t, kick.reshape(-1)).reshape(2 * d, 2 * d)
    ee = s[:d, :d]
    return (ee + ee.T) / 2  # symmetric in exact arithmetic; rounding is averaged out


def _settles(
    lr: float, moments: Moments, batch_size: int, momentum: float, weight_decay: float, nesterov: bool
) -> bool:
    """Whether the second-moment map T with these ``moments`` has spectral radius below 1 (``lr`` after dampening).

    T maps positive semidefinite matrices to positive semidefinite ones, so its spectral radius ρ is an
    eigenvalue with a semidefinite eigenvector Y of the adjoint (Krein–Rutman). Solve (I − T)·S = I: if
    ρ < 1, S = Σ Tᵏ(I) is positive definite; if ρ > 1, ⟨Y, I⟩ = (1 − ρ)⟨Y, S⟩ makes ⟨Y, S⟩ < 0, so S is
    not. One linear solve instead of an eigenvalue problem of the whole map.
    """
    t = _map_matrix(lr, momentum, batch_size, weight_decay, nesterov, moments)
    n = int(math.isqrt(t.shape[0]))
    eye = torch.eye(n, dtype=F64)
    try:
        s = torch.linalg.solve(torch.eye(n * n, dtype=F64) - t, eye.reshape(-1)).reshape(n, n)
    except RuntimeError:  # singular: ρ is 1 here, on the edge
        return False
    return bool(torch.linalg.eigvalsh((s + s.T) / 2).min() > 0)


def moments_critical_lr(
    moments: Moments,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
    tolerance: float = 1e-6,
) -> float:
    """Largest learning rate at which stochastic SGD settles in mean square, for inputs with these ``moments``.

    ``moments`` are (E[z zᵀ] (d, d), E[z_a z_b z_c z_d] as a (d², d²) matrix) of any input distribution
    with E[z zᵀ] positive definite, e.g. a data set's rows drawn with replacement
    (``lucky5.theory.empirical``). The same map as ``sgd_critical_lr``, without its symmetry: bisection
    to a relative ``tolerance`` between 0 and the noise-free limit 2(1 + m)/λ_max (Nesterov:
    2(1 + m)/((1 + 2m)·λ_max)), λ_max = 2·max eig E[z zᵀ] + wd, each step one ``_settles``.
    Returns 0.0 for momentum >= 1 and ``math.inf`` for a stalled run (momentum > 0, dampening 1).
    """
    check_sgd(momentum, dampening, weight_decay, nesterov)
    _check_batch(batch_size)
    if momentum >= 1:
        return 0.0
    if stalls(momentum, dampening):
        return math.inf
    lam = 2 * float(torch.linalg.eigvalsh(moments[0]).max()) + weight_decay
    hi = 2 * (1 + momentum) / ((1 + 2 * momentum) if nesterov else 1.0) / lam
    lo = 0.0
    while hi - lo > tolerance * hi:
        mid = (lo + hi) / 2
        if _settles(mid, moments, batch_size, momentum, weight_decay, nesterov):
            lo = mid
        else:
            hi = mid
    return lo / lr_factor(momentum, dampening)


class Spread(NamedTuple):
    """Where runs that differ only in their seed are after some epochs: float64 ``mean`` E[θ] (11,) and
    ``covariance`` Cov[θ] (11, 11) of θ = [w, b], over the seeds' initialisations and inputs."""

    mean: torch.Tensor
    covariance: torch.Tensor

    @property
    def bias_mean(self) -> float:
        """E[b], the bias averaged over seeds."""
        return float(self.mean[IN_FEATURES])

    @property
    def bias_std(self) -> float:
        """The bias's standard deviation over seeds (its spread), >= 0."""
        return math.sqrt(max(float(self.covariance[IN_FEATURES, IN_FEATURES]), 0.0))


def spread_after(
    epochs: int,
    lr: float,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    target: float = 5.0,
) -> Spread:
    """The mean and covariance over seeds of the layer after ``epochs`` steps of torch.optim.SGD: exact.

    A seed draws the start from nn.Linear's initialisation (every parameter independent, mean 0,
    variance ``INIT_VARIANCE``) and then fresh inputs U(0, 1)^10, each independent of the parameters it
    meets. So s = (e, v) (e = θ − θ*, θ* = (0, t); v the momentum buffer, 0 before the first step, which
    makes torch's first step buf = g the recursion's) has E[s_k] = Āᵏ·E[s_0] and E[s_k s_kᵀ] = Tᵏ(S_0),
    T the second-moment map (see the module's notes). S_0 is unchanged by permuting the features, so Tᵏ
    acts on the 20 dimensions of ``_growth_polynomial``. Exact for the lucky number ``target`` (no rule,
    no noise) with no weight decay and no dampening (both move the recursion off these two maps).
    Above ``sgd_critical_lr`` the covariance grows without bound; it may then be inf or nan.

    Raises:
        ValueError: a negative ``epochs``, a bad batch size, or settings torch.optim.SGD refuses.
    """
    check_sgd(momentum, 0.0, 0.0, nesterov)
    _check_batch(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs={epochs!r} is not allowed: a whole number >= 0")
    d = FEATURES_AND_BIAS
    mean0 = torch.zeros(2 * d, dtype=F64)
    mean0[IN_FEATURES] = -target  # E[θ_0] = 0, so E[e_0] = −θ*
    s0 = torch.zeros(2 * d, 2 * d, dtype=F64)
    s0[:d, :d] = INIT_VARIANCE * torch.eye(d, dtype=F64) + torch.outer(mean0[:d], mean0[:d])
    mean = torch.linalg.matrix_power(_mean_map(lr, momentum, 0.0, nesterov, input_second_moment()), epochs) @ mean0
    basis = _symmetric_basis().flatten(1)
    r0, r1, r2 = _growth_polynomial(batch_size, momentum, 0.0, nesterov)
    coords = torch.linalg.matrix_power(r0 + lr * r1 + lr * lr * r2, epochs) @ (basis @ s0.flatten())
    second = (basis.T @ coords).reshape(2 * d, 2 * d)[:d, :d]
    e = mean[:d]
    covariance = (second + second.T) / 2 - torch.outer(e, e)
    theta = e.clone()
    theta[IN_FEATURES] += target
    return Spread(mean=theta, covariance=covariance)
