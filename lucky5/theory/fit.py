"""What one neuron can learn of a target that depends on the inputs: the fit of a rule, from the moments.

A rule (``lucky5.rules``) makes the target a polynomial f(x) of degree at most two in x ~ U(0, 1)^10, and
``Config.noise`` = σ adds ε ~ N(0, σ²) to every target. For any layer θ = [w, b] and z = [x, 1],

    E[L](θ) = E[(zᵀθ − f(x) − ε)²] = (θ − θ_ls)ᵀ M (θ − θ_ls) + U + σ²,       M = E[z zᵀ],

where θ_ls = M⁻¹·E[z f] is the least-squares fit and U = E[(f − zᵀθ_ls)²] is the part of the target one
neuron cannot fit (the residual's variance: its mean is 0, since the fit has a bias). The first term has
the blog post's form with the optimum moved from (0, t) to θ_ls = (a, c):

    (θ − θ_ls)ᵀ M (θ − θ_ls) = (0.5·Σ(w − a) + b − c)² + ‖w − a‖²/12,

so the Hessian 2M, its eigenvalues and directions, the stability limits and the time constants (which
depend only on M and the inputs' fourth moments) are the lucky number's, unchanged, for every rule and
noise; only the optimum and the floor U + σ² move. For a linear rule y = a·x + c the fit is (a, c) itself
and U = 0; the lucky number is the rule y = t. With weight decay wd (torch adds wd·θ to the gradient of
[w, b], the bias included) the average gradient (2M + wd·I)·θ − 2E[z f] vanishes at the ridge fit
θ* = (2M + wd·I)⁻¹·2E[z f] (``regularized_optimum`` is its case f = t).

Every expectation here is exact: a product of monomials in independent uniform features has the mean
Π 1/(kᵢ + 1) (E[x^k] = 1/(k + 1)), so a polynomial's moments are sums of such products. The 66 monomials
of degree <= 2 (1, xᵢ, xᵢxⱼ with i <= j) carry every rule; ``_gram`` and ``_fourth`` hold their second
and fourth moments once. Float64 throughout.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ..config import Config
from ..engine import FEATURES_AND_BIAS, IN_FEATURES
from ..rules import Rule, parse_rule
from .moments import F64, input_second_moment

__all__ = ["Fit", "gradient_noise", "least_squares", "ridge_fit", "rule_polynomial"]

# The monomials of degree <= 2 as exponent rows: 1, then x1..x10, then xᵢxⱼ (i <= j) in the order of
# lucky5.rules' canonical terms.
_PAIRS = [(i, j) for i in range(IN_FEATURES) for j in range(i, IN_FEATURES)]
_MONOMIALS = 1 + IN_FEATURES + len(_PAIRS)  # 66
_PAIR_INDEX = {pair: 1 + IN_FEATURES + n for n, pair in enumerate(_PAIRS)}
# z = [x, 1] as monomials: feature a is monomial 1 + a, the constant is monomial 0.
_Z = [1 + a for a in range(IN_FEATURES)] + [0]


@functools.lru_cache(maxsize=1)
def _exponents() -> torch.Tensor:
    """(66, 10) int64: how often each feature occurs in each monomial."""
    e = torch.zeros(_MONOMIALS, IN_FEATURES, dtype=torch.int64)
    for a in range(IN_FEATURES):
        e[1 + a, a] = 1
    for (i, j), n in _PAIR_INDEX.items():
        e[n, i] += 1
        e[n, j] += 1
    return e


def _mean_of_products(powers: torch.Tensor) -> torch.Tensor:
    """E[Π xₖ^powers[..., k]] = Π 1/(powers + 1) over the last dimension (independent U(0, 1) features)."""
    moment = 1 / torch.arange(1, int(powers.max()) + 2, dtype=F64)  # E[x^p] = 1/(p + 1), looked up
    return moment[powers].prod(-1)


@functools.lru_cache(maxsize=1)
def _gram() -> torch.Tensor:
    """G[m, n] = E[φ_m φ_n] over the 66 monomials: (66, 66) float64."""
    e = _exponents()
    return _mean_of_products(e[:, None, :] + e[None, :, :])


@functools.lru_cache(maxsize=1)
def _fourth() -> torch.Tensor:
    """F[a, b, m, n] = E[z_a z_b φ_m φ_n]: (11, 11, 66, 66) float64 (degree up to 6 in one feature)."""
    e = _exponents().to(torch.uint8)
    z = e[_Z]  # (11, 10)
    powers = z[:, None, None, None, :] + z[None, :, None, None, :] + (e[:, None, :] + e[None, :, :])[None, None]
    return _mean_of_products(powers.long())


def rule_polynomial(rule: Rule | None, target: float) -> torch.Tensor:
    """The target as coefficients of the 66 monomials (1, x1..x10, xᵢxⱼ for i <= j): (66,) float64.

    ``rule`` None is the lucky number: the constant ``target``.
    """
    rho = torch.zeros(_MONOMIALS, dtype=F64)
    if rule is None:
        rho[0] = target
        return rho
    rho[0] = rule.constant
    for t in rule.terms:
        rho[1 + t.i if t.j is None else _PAIR_INDEX[(t.i, t.j)]] = t.coefficient
    return rho


def _layer_polynomial(theta: torch.Tensor) -> torch.Tensor:
    """zᵀθ as coefficients of the monomials: wₐ on xₐ, b on 1. ``theta`` is [w, b], (11,)."""
    out = torch.zeros(_MONOMIALS, dtype=F64)
    out[_Z] = theta.to(F64)
    return out


@dataclass(frozen=True)
class Fit:
    """The best one neuron can do for a Config's targets, and what it cannot do.

    ``weight`` (10,) float64 and ``bias`` are the least-squares fit θ_ls (a linear rule's own
    coefficients and constant; (0, t) for the lucky number). ``unfit`` is U = E[(f − zᵀθ_ls)²], the
    variance of what one neuron cannot fit (0 for a linear rule); ``noise_variance`` is σ². Their sum
    ``floor`` is the smallest expected loss any layer reaches.
    """

    weight: torch.Tensor
    bias: float
    unfit: float
    noise_variance: float

    @property
    def floor(self) -> float:
        return self.unfit + self.noise_variance

    @property
    def mean_target(self) -> float:
        """E[f(x)] = c + 0.5·Σa: the average target (the fit's residual has mean 0, since it has a bias)."""
        return self.bias + 0.5 * float(self.weight.sum())


def least_squares(config: Config) -> Fit:
    """The least-squares fit of ``config``'s targets by one neuron (see ``Fit``); weight decay aside."""
    return _least_squares(config.rule, config.target, config.noise)


@functools.lru_cache(maxsize=64)
def _least_squares(rule_text: str, target: float, noise: float) -> Fit:
    rule = parse_rule(rule_text) if rule_text else None
    if rule is None:
        return Fit(torch.zeros(IN_FEATURES, dtype=F64), float(target), 0.0, noise * noise)
    if rule.is_linear:  # the rule is a layer: its own coefficients, exactly, and nothing left over
        return Fit(rule.linear, rule.constant, 0.0, noise * noise)
    rho = rule_polynomial(rule, target)
    g = _gram()
    theta = torch.linalg.solve(input_second_moment(), g[_Z] @ rho)
    residual = rho - _layer_polynomial(theta)
    unfit = float(residual @ g @ residual)
    return Fit(theta[:IN_FEATURES], float(theta[IN_FEATURES]), max(unfit, 0.0), noise * noise)


def ridge_fit(config: Config, weight_decay: float | None = None) -> tuple[torch.Tensor, float]:
    """θ* = (2M + wd·I)⁻¹·2E[z f]: where the average gradient with weight decay vanishes, (w (10,), b).

    ``weight_decay`` defaults to the Config's. wd = 0 is the least-squares fit. For the lucky number this
    is ``loss.regularized_optimum`` (each weight t·wd/det, b = t·(2wd + 1/3)/det), which callers keep using.
    """
    wd = config.weight_decay if weight_decay is None else weight_decay
    rho = rule_polynomial(config.target_rule, config.target)
    m = input_second_moment()
    theta = torch.linalg.solve(2 * m + wd * torch.eye(FEATURES_AND_BIAS, dtype=F64), 2 * (_gram()[_Z] @ rho))
    return theta[:IN_FEATURES], float(theta[IN_FEATURES])


def gradient_noise(config: Config, optimum: tuple[torch.Tensor, float]) -> torch.Tensor:
    """Covariance of one sample's gradient (plus weight decay) at the optimum θ*: (11, 11) float64.

    With r(x) = zᵀθ* − f(x) the residual, one sample's gradient at θ* plus wd·θ* is
    n = 2z(r − ε) + wd·θ*, whose mean is 0 at θ* (that is what θ* solves). Its covariance is

        E[n nᵀ] = 4·E[z zᵀ r²] + 4σ²·E[z zᵀ] − wd²·θ*θ*ᵀ

    (ε is independent of x with mean 0; E[2z r] = −wd·θ*). It is what keeps SGD from settling at θ*:
    zero exactly when θ* fits every sample (a linear rule or the lucky number, no noise, no weight decay).
    A batch of B samples averages B of them: covariance / B.
    """
    weight, bias = optimum
    theta = torch.cat([weight.to(F64), torch.tensor([bias], dtype=F64)])
    residual = _layer_polynomial(theta) - rule_polynomial(config.target_rule, config.target)
    spread = torch.einsum("abmn,m,n->ab", _fourth(), residual, residual)
    wd = config.weight_decay
    return 4 * spread + 4 * config.noise**2 * input_second_moment() - wd * wd * torch.outer(theta, theta)
