"""The "Why not exactly 5?" numbers of one run: where its trained layer stands, and what more epochs would do.

One value, ``WhyNotFive``, gathers everything the page's explanation and the CLI print for a ``History``:
the loss now and at the optimum, split into its three terms, the distance left, and the outlook of each
term with the time constants of ``claims`` (or the reason they are withheld). With a rule or noise the
terms are measured from the fit of the targets (``fit.least_squares``), and the loss no layer can beat
(the part one neuron cannot fit, the noise) and what SGD's jitter costs (``claims.stationary_excess``)
are given too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..engine import History
from ..layer import Layer
from .claims import Optimum, divergence_hint, optimum_for, stationary_excess, time_constant_for
from .fit import Fit, least_squares
from .loss import LOSS_TERM_NAMES, expected_loss, expected_loss_terms, mean_error
from .moments import f64

__all__ = ["WhyNotFive", "why_not_five"]


def _terms(weight: torch.Tensor, bias: float, fit: Fit) -> tuple[float, float, float]:
    """The three terms of the expected loss at (w, b), measured from the fit (a, c)."""
    fast, valley, disagreement = expected_loss_terms(f64(weight) - fit.weight, bias, fit.bias).tolist()
    return fast, valley, disagreement


def _loss(weight: torch.Tensor, bias: float, fit: Fit) -> float:
    """E[L] at (w, b): the lucky number's formula at (w − a, b) with target c, plus the floor U + σ²."""
    return float(expected_loss(f64(weight) - fit.weight, bias, fit.bias)) + fit.floor


@dataclass(frozen=True)
class WhyNotFive:
    """Every number of the "Why not exactly 5?" explanation for one run, all computed in float64.

    Values describe the last recorded row (the trained layer, or the last finite one of a
    diverged run); they are finite whenever that row is, which it always is. Epoch counts are
    optimizer steps. ``terms``/``optimum_terms`` follow ``LOSS_TERM_NAMES``.

    With a rule, t is the bias c of the rule's fit (its constant for a linear rule; ``fit.least_squares``)
    and "the average prediction's miss" is measured from the fit: 0.5·Σ(w − a) + b − c.
    """

    target: float  # t: the lucky number, or the bias c of the rule's fit
    mean_error: float  # 0.5·Σ(w − a) + b − c: the average prediction's miss (the fast direction); a = 0, c = t
    weight_norm: float  # ‖w‖
    weight_error: float  # ‖w − a‖: the weights' distance to the fit's (‖w‖ for the lucky number, where a = 0)
    bias_error: float  # |b − c|
    expected_loss: float  # E[L] now (the floor included)
    optimum_weight: float  # the first weight at optimum_for(config) (every weight, for the lucky number)
    optimum_bias: float  # the bias there (t without weight decay)
    optimum_loss: float  # E[L] at that optimum (the floor; more with weight decay)
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
    rule: str  # the rule's canonical text, "" for the lucky number
    optimum_weights: tuple[float, ...]  # all ten weights at optimum_for(config)
    unfit: float  # U: the variance of the target one neuron cannot fit (0 for the lucky number, a linear rule)
    noise_floor: float  # σ²: the noise on the targets; terms add up to expected_loss − unfit − noise_floor
    jitter: float | None  # what SGD's stationary jitter adds to optimum_loss (claims.stationary_excess), or None


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
    fit = least_squares(c)
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
        (
            f"shrinks by e every ≈ {tau / 2:,.0f} epochs: the distance still to slide shrinks by e every "
            f"≈ {tau:,.0f} (the valley's time constant), and this term is that distance squared, so it shrinks "
            "twice as fast"
        )
        if not decayed
        else (
            f"moves toward its value at the optimum ({_terms(best.weight, best.bias, fit)[1]:.3g}), "
            f"its distance shrinking by e every ≈ {tau:,.0f} epochs, then jitters around it"
        )
    )
    if run >= 5 * tau_other:
        other = f"past its own time constant: the random inputs keep feeding it from the valley, so it now {along}"
    else:
        other = (
            f"shrinks by e every ≈ {tau_other / 2:,.0f} epochs (the loss curves gently where the weights differ: "
            f"eigenvalue 1/6{' + weight decay' * decayed}) "
            "until the random inputs "
            "keep it as small as the valley allows; then it shrinks with the valley term"
        )
    return (fast, valley, other), tau, why


def why_not_five(history: History) -> WhyNotFive:
    """The "Why not exactly 5?" numbers for ``history`` (see ``WhyNotFive``), all in float64.

    Works for every Config and for diverged runs (their last finite row); ‖w‖ and the distance are
    ``Layer.norm`` and ``Layer.distance_to`` of that row.
    """
    c = history.config
    layer = Layer.of(history)
    w, b = f64(layer.weight), layer.bias
    best = optimum_for(c)
    fit = least_squares(c)
    terms = _terms(w, b, fit)
    optimum_terms = _terms(best.weight, best.bias, fit)
    outlook, tau, why = _outlook(history, best)
    jitter, _ = stationary_excess(c) if fit.floor > 0 or c.weight_decay > 0 else (None, None)
    return WhyNotFive(
        target=fit.bias if c.target_rule is not None else c.target,
        mean_error=float(mean_error(w - fit.weight, b, fit.bias)),
        weight_norm=layer.norm,
        weight_error=float(torch.linalg.vector_norm(w - fit.weight)),
        bias_error=abs(b - fit.bias),
        expected_loss=_loss(w, b, fit),
        optimum_weight=float(best.weight[0]),
        optimum_bias=best.bias,
        optimum_loss=_loss(best.weight, best.bias, fit),
        optimum_note=best.note,
        distance_to_optimum=layer.distance_to(best),
        terms=terms,
        optimum_terms=optimum_terms,
        dominant=LOSS_TERM_NAMES[max(range(3), key=lambda i: terms[i])],
        outlook=outlook,
        time_constant=tau,
        epochs_per_time_constant=history.steps / tau if tau else None,
        time_constant_note=why,
        epochs_run=history.steps,
        diverged_at=history.diverged_at,
        rule=c.rule,
        optimum_weights=tuple(best.weight.tolist()),
        unfit=fit.unfit,
        noise_floor=fit.noise_variance,
        jitter=jitter.excess - jitter.optimum_excess if jitter is not None else None,
    )
