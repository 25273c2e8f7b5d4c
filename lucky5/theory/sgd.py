"""Learning-rate limits and speeds of torch.optim.SGD on the expected loss, noise-free: every option.

torch.optim.SGD with momentum m > 0 keeps a momentum buffer: g = ∇loss + wd·θ, then buf = g on the first
step and buf = m·buf + (1 − d)·g afterwards; the step is −lr·buf, or −lr·(g + m·buf) with Nesterov.
(m = 0 keeps no buffer: dampening does nothing then.) Here θ = [w, b] is one parameter, so weight decay
acts on the bias too. What each setting does to the maths:

- Weight decay adds wd·I to every step's curvature: each Hessian eigenvalue λ becomes λ + wd,
  and the optimum moves to θ* = (2M + wd·I)⁻¹·2t·E[z] (``regularized_optimum``).
- Dampening d < 1 is a learning rate lr·(1 − d): with ṽ = buf/(1 − d) the recursion is
  ṽ' = m·ṽ + g, θ' = θ − lr·(1 − d)·ṽ', heavy ball exactly; only the first step (buf = g,
  not (1 − d)·g) differs, which changes where the run starts, not its rates or its limit.
- Dampening d = 1 (with m > 0): after the first step no gradient enters the buffer, so
  buf_k = m^k·g_0 and the run stops at θ_0 − lr·g_0/(1 − m), wherever that is.
- Nesterov (m > 0, d = 0): with v the buffer, v' = m·v + g and e' = e − lr·(g + m·v'), so along a
  Hessian direction e' = (1 − lr(1 + m)λ)·e − lr·m²·v. Characteristic polynomial
  r² − (1 + m)(1 − a)·r + m(1 − a) with a = lr·λ; it reaches r = −1 at a = 2(1 + m)/(1 + 2m).

These are the rates of the parameters' average over inputs; ``mean_square`` adds the inputs' randomness.
"""

from __future__ import annotations

import math

from .curvature import OTHER_EIGENVALUE, fast_eigenvalue, slow_eigenvalue

__all__ = [
    "critical_lr",
    "fast_time_constant",
    "other_time_constant",
    "slow_time_constant",
    "stalls",
    "time_constant",
]


def check_sgd(momentum: float, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
    """The same rules as torch.optim.SGD and Config; raises ValueError naming the setting."""
    if not math.isfinite(momentum) or momentum < 0:
        raise ValueError(f"momentum={momentum!r} is not allowed: a finite number >= 0")
    if not math.isfinite(dampening) or not 0 <= dampening <= 1:
        raise ValueError(f"dampening={dampening!r} is not allowed: a number from 0 to 1")
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay={weight_decay!r} is not allowed: a finite number >= 0")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov is only allowed with momentum > 0 and dampening = 0 (as torch.optim.SGD requires)")


def lr_factor(momentum: float, dampening: float) -> float:
    """What dampening multiplies the learning rate by (see the module's notes): 1 − d with a buffer, 1 without."""
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
    makes λ_max → λ_max + wd; dampening d divides the limit by 1 − d (see the module's notes).

    This ignores that real SGD sees random inputs, whose curvature 2·z zᵀ fluctuates: runs blow up
    below it; ``sgd_critical_lr`` is the stochastic limit. Returns 0.0 for momentum >= 1 (no
    learning rate converges) and ``math.inf`` when the run stalls (momentum > 0, dampening 1:
    no learning rate makes it diverge). Raises ValueError for settings torch.optim.SGD refuses.
    """
    check_sgd(momentum, dampening, weight_decay, nesterov)
    if momentum >= 1:
        return 0.0
    if stalls(momentum, dampening):
        return math.inf
    lam = fast_eigenvalue() + weight_decay
    limit = 2 * (1 + momentum) / ((1 + 2 * momentum) if nesterov else 1.0) / lam
    return limit / lr_factor(momentum, dampening)


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
    (see the module's notes), dampening d the learning rate lr·(1 − d). Weight decay is the caller's:
    pass λ + wd. Returns ``math.inf`` when that direction does not shrink (|r| >= 1, or a stall).
    """
    check_sgd(momentum, dampening, 0.0, nesterov)
    if stalls(momentum, dampening):
        return math.inf
    r = _largest_root(lr * lr_factor(momentum, dampening), momentum, eigenvalue, nesterov)
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
