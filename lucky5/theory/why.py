"""The "Why not exactly 5?" numbers of one run: where its trained layer stands, and what more epochs would do.

One value, ``WhyNotFive``, gathers everything the page's explanation and the CLI print for a ``History``:
the loss now and at the optimum, split into its three terms, the distance left, and the outlook of each
term with the time constants of ``claims`` (or the reason they are withheld).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..engine import History
from ..layer import Layer
from .claims import Optimum, divergence_hint, optimum_for, time_constant_for
from .loss import LOSS_TERM_NAMES, expected_loss, expected_loss_terms, mean_error
from .moments import f64

__all__ = ["WhyNotFive", "why_not_five"]


def _terms(weight: torch.Tensor, bias: float, target: float) -> tuple[float, float, float]:
    fast, valley, disagreement = expected_loss_terms(weight, bias, target).tolist()
    return fast, valley, disagreement


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

    Works for every Config and for diverged runs (their last finite row); ‖w‖ and the distance are
    ``Layer.norm`` and ``Layer.distance_to`` of that row.
    """
    c = history.config
    layer = Layer.of(history)
    w, b = f64(layer.weight), layer.bias
    best = optimum_for(c)
    terms = _terms(w, b, c.target)
    optimum_terms = _terms(best.weight, best.bias, c.target)
    outlook, tau, why = _outlook(history, best)
    return WhyNotFive(
        target=c.target,
        mean_error=float(mean_error(w, b, c.target)),
        weight_norm=layer.norm,
        bias_error=abs(b - c.target),
        expected_loss=float(expected_loss(w, b, c.target)),
        optimum_weight=float(best.weight[0]),
        optimum_bias=best.bias,
        optimum_loss=float(expected_loss(best.weight, best.bias, c.target)),
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
    )
