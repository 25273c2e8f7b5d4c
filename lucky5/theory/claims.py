"""What the theory claims for one ``Config``, and what it withholds, in words the page and the CLI show.

For SGD every formula holds with every torch option (``sgd``, ``mean_square``): the stability verdict
and its limit, the time constants, the optimum weight decay moves to. Other optimizers rescale their
steps by running statistics of the gradient, so no SGD formula is claimed for them; momentum >= 1, a
stalled run (dampening 1) and a target whose square overflows float32 get a reason instead of a number.
Every function here takes a valid Config and never raises for one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch

from ..config import MAX_EPOCHS, OPTIMIZER_NAMES, Config
from ..data import Data
from .empirical import data_critical_lr, data_fit, data_time_constant
from .fit import gradient_noise, least_squares, ridge_fit
from .loss import optimum, regularized_optimum
from .mean_square import mean_square_time_constant, sgd_critical_lr, stationary_error
from .moments import F64, input_second_moment
from .sgd import fast_time_constant, other_time_constant, slow_time_constant, stalls

__all__ = [
    "DIVERGES",
    "FLOAT32_MAX",
    "NEAR_EDGE",
    "NEVER_SETTLES",
    "OVERFLOW_TARGET",
    "STABLE",
    "STOPS",
    "TIME_CONSTANT_MODES",
    "VERDICTS",
    "WITHHELD",
    "DataOutlook",
    "Jitter",
    "Optimum",
    "Stability",
    "data_collinear_note",
    "data_outlook",
    "divergence_hint",
    "optimum_for",
    "stability",
    "stationary_excess",
    "time_constant_for",
]

STABLE, NEAR_EDGE, DIVERGES = "stable", "near the edge", "expect divergence"
STOPS, NEVER_SETTLES, WITHHELD = "training stops", "never settles", "withheld"
VERDICTS = (STABLE, NEAR_EDGE, DIVERGES, STOPS, NEVER_SETTLES, WITHHELD)

FLOAT32_MAX = float(torch.finfo(torch.float32).max)
# The first epoch's squared error is about t²: it overflows float32 once |t| passes √FLOAT32_MAX.
OVERFLOW_TARGET = math.sqrt(FLOAT32_MAX)
_LARGE_TARGET = 1e15  # from here on an overshoot of the squared error can come near float32's limit
_STABLE_BELOW, _EDGE_BELOW = 0.5, 1.0  # lr / limit thresholds of the verdicts


def _target_size(c: Config, data: Data | None = None) -> float:
    """How large a target can be: |t| for the lucky number; for a rule |c| + Σ|coefficients| (inputs lie in
    [0, 1]), which its bounded coefficients keep far below float32's limits; on a data set its largest |y|."""
    if data is not None:
        return float(data.target.abs().max())
    rule = c.target_rule
    if rule is None:
        return abs(c.target)
    return abs(rule.constant) + sum(abs(t.coefficient) for t in rule.terms)


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
    if _target_size(c) > _LARGE_TARGET:
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


# A used column whose root mean square exceeds this is "large": standardising it is what raises the limit.
_LARGE_COLUMN = 3.0


def _data_hint(config: Config, data: Data, limit: float) -> str:
    """``divergence_hint`` for a run on ``data``: below the data's own limit (``data_critical_lr``), and, when some
    column is large (root mean square above ``_LARGE_COLUMN``), standardising as the fix: the limit falls like
    1/scale², so a smaller learning rate would make such a run crawl."""
    said = f"try a learning rate below ≈ {0.8 * limit:.2g} (80 % of your data's stability limit ≈ {limit:.3g})"
    size = data.features.to(F64).square().mean(0).sqrt()
    if data.width and float(size.max()) > _LARGE_COLUMN:
        said += (
            ", or better, switch on Standardise the features: your columns are large and unscaled (root mean "
            f"square up to {float(size.max()):.3g}), which is what makes the limit this small"
        )
    return said


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


def stability(config: Config, data: Data | None = None) -> Stability:
    """The stability gauge of ``config`` (see ``Stability``), on the rows of ``data`` if given (the limit is then
    ``empirical.data_critical_lr``, from the data's own moments); never raises for a valid Config."""
    c = config
    hint = divergence_hint(c)
    size = _target_size(c, data)
    target = f"the lucky number {c.target:g}" if data is None else f"your data's largest target {size:g}"

    def out(verdict: str, note: str | None, limit: float | None = None) -> Stability:
        ratio = c.lr / limit if limit is not None else None
        return Stability(limit=limit, ratio=ratio, verdict=verdict, hint=hint, note=note)

    if size >= OVERFLOW_TARGET:
        return out(
            DIVERGES,
            f"{target} squared exceeds float32's largest number "
            f"(≈ {FLOAT32_MAX:.3g}), so the very first epoch's loss overflows",
        )
    large = (
        (
            f"{target} is large: its squared error is near float32's largest number, "
            "so an overshoot can overflow even below the limit"
        )
        if size > _LARGE_TARGET
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
    if data is None:
        limit = sgd_critical_lr(c.batch_size, c.momentum, **_sgd_kwargs(c))
    else:
        limit = data_critical_lr(data, c.batch_size, c.momentum, **_sgd_kwargs(c))
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
    gauge = out(verdict, "; ".join(notes) or None, limit)
    return gauge if data is None else replace(gauge, hint=_data_hint(c, data, limit))


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
    if _target_size(c) >= OVERFLOW_TARGET:
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
    a note saying so. With a rule (``Config.rule``) the same holds around the rule's own fit
    (``fit.least_squares``: a linear rule's coefficients and constant, a nonlinear rule's least-squares
    fit) and its ridge fit with weight decay (``fit.ridge_fit``); noise does not move the optimum.
    """
    c = config
    if c.target_rule is not None:
        return _rule_optimum(c)
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


def _rule_optimum(c: Config) -> Optimum:
    """``optimum_for`` of a Config with a rule: the rule's fit, moved by weight decay (not AdamW's)."""
    rule = c.target_rule
    assert rule is not None
    best = least_squares(c)
    if rule.is_linear:
        note = f"the rule {rule.text} is a layer: its own weights and bias are the optimum"
    else:
        note = (
            f"{rule.beyond_one_neuron} in y = {rule.text}: the best it can do is the "
            f"least-squares fit, which leaves a variance of {best.unfit:.4g} it cannot fit"
        )
    if c.weight_decay == 0:
        return Optimum(best.weight, best.bias, note)
    if c.optimizer == "adamw":
        return Optimum(
            best.weight,
            best.bias,
            note + "; AdamW's decoupled weight decay pulls toward a point that depends on the gradient's running "
            "size, so distances are to that fit",
        )
    w, b = ridge_fit(c)
    return Optimum(w, b, note + f"; weight decay {c.weight_decay:g} pulls every parameter, the bias too, toward 0")


@dataclass(frozen=True)
class Jitter:
    """Where SGD's expected loss settles when the optimum θ* does not fit every sample, in mean square.

    ``excess`` is E[E[L](θ)] − floor over the stationary spread of θ (floor = U + σ², ``fit.Fit``): what
    the jitter costs, plus ``optimum_excess``, E[L](θ*) − floor, which weight decay's own optimum costs
    (0 without weight decay). ``spread`` is E[‖θ − θ*‖²]. All 0 when θ* fits every sample.
    """

    excess: float
    spread: float
    optimum_excess: float


def stationary_excess(config: Config) -> tuple[Jitter | None, str | None]:
    """SGD's stationary excess loss for ``config`` (see ``Jitter``), or None with the reason.

    From ``mean_square.stationary_error`` driven by the gradient's noise at the optimum
    (``fit.gradient_noise``): noise on the targets, the part of a rule one neuron cannot fit, and weight
    decay all keep one-sample SGD from settling; the spread grows with the learning rate. Exact for
    torch.optim.SGD (every option) in the limit of many epochs, for the average over runs. Withheld for
    other optimizers, and where the run does not settle (momentum >= 1, a stall, lr at or past the
    stability limit, an overflowing target).
    """
    c = config
    if c.optimizer != "sgd":
        return None, _rescales(c) + ": no stationary spread is claimed"
    gauge = stability(c)
    if gauge.limit is None or gauge.ratio is None or gauge.ratio >= _EDGE_BELOW:
        return None, f"runs with these settings do not settle ({gauge.verdict})"
    best = optimum_for(c)
    noise = gradient_noise(c, (best.weight, best.bias))
    s = stationary_error(c.lr, noise, c.batch_size, c.momentum, **_sgd_kwargs(c))
    if s is None:  # the gauge said it settles; the two use the same map, so this is rounding at the edge
        return None, f"runs with these settings do not settle (lr {c.lr:g} is at the stability limit)"
    m = input_second_moment()
    fit = least_squares(c)
    d = torch.cat([best.weight - fit.weight, torch.tensor([best.bias - fit.bias], dtype=F64)])
    optimum_excess = float(d @ m @ d)
    return Jitter(float((m * s).sum()) + optimum_excess, float(s.trace()), optimum_excess), None


# A run on data is "at the floor" within 10 % of the floor, or 0.1 % of the targets' variance (the loss of the best
# constant, b = mean of y) when the floor is 0 or tiny: past that, more epochs change nothing a learner would see.
_FLOOR_SHARE, _VARIANCE_SHARE = 0.1, 1e-3
# After this many slow time constants the mean's error along the slowest direction is e⁻⁵ of its start (its loss
# e⁻¹⁰): a run still well above the floor then is held there by SGD's jitter, which more epochs do not remove.
_SETTLED_TIME_CONSTANTS = 5.0


@dataclass(frozen=True)
class DataOutlook:
    """Whether a run on a data set ended well above where it is headed, and what more epochs would do.

    ``excess`` is the run's mean squared error over the rows minus ``floor`` (the error at the fit it heads for:
    ``data_fit`` with the run's weight decay, plus σ²); ``above`` is whether it exceeds ``tolerance``. ``tau`` is
    ``data_time_constant`` in epochs (None when theory claims none: another optimizer, momentum >= 1, a stall, an
    lr past the noise-free limit). ``epochs``: the total epochs theory suggests to come within the tolerance
    (None without ``tau``, or when the run has had ``_SETTLED_TIME_CONSTANTS`` of them: then ``jitter`` is True,
    the rest is SGD's jitter at this lr, and more epochs do not help).
    """

    excess: float
    floor: float
    tolerance: float
    above: bool
    tau: float | None
    epochs: int | None
    jitter: bool


def data_outlook(config: Config, data: Data, loss: float, epochs: int) -> DataOutlook:
    """The outlook of a run of ``config`` on ``data`` that ended at mean squared error ``loss`` after ``epochs``.

    The suggestion follows the noise-free mean along the slowest direction (``data_time_constant``): the loss
    above the floor shrinks like e^(−2t/τ) there, so from ``excess`` to ``tolerance`` takes (τ/2)·ln(excess /
    tolerance) more epochs, an upper bound for an error that also lies along faster directions. Rounded up to
    two significant digits, at most ``MAX_EPOCHS``. Never raises for a valid Config.
    """
    c = config
    fit = data_fit(data, weight_decay=c.weight_decay, noise=c.noise)
    variance = float(data.target.to(F64).var(correction=0)) if data.rows else 0.0
    tolerance = _FLOOR_SHARE * fit.floor + _VARIANCE_SHARE * variance
    excess = max(loss - fit.floor, 0.0)
    above = math.isfinite(loss) and excess > tolerance
    tau = None
    if c.optimizer == "sgd" and c.momentum < 1 and not stalls(c.momentum, c.dampening):
        found = data_time_constant(data, c.lr, c.momentum, **_sgd_kwargs(c))
        tau = found if math.isfinite(found) else None
    jitter = above and tau is not None and epochs >= _SETTLED_TIME_CONSTANTS * tau
    suggested = None
    if above and tau is not None and not jitter and tolerance > 0:
        more = tau / 2 * math.log(excess / tolerance)
        suggested = min(_round_up(epochs + more), MAX_EPOCHS)
    return DataOutlook(excess, fit.floor, tolerance, above, tau, suggested, jitter)


def _round_up(n: float) -> int:
    """``n`` rounded up to two significant digits: 2,678 -> 2,700."""
    step = 10 ** max(0, int(math.floor(math.log10(max(n, 1)))) - 1)
    return int(math.ceil(n / step) * step)


def data_collinear_note(names: list[str] | tuple[str, ...]) -> str:
    """What constant or collinear columns (``empirical.data_collinear``'s ``names``, quoted as the caller shows
    outside text) mean for the fit: one sentence, no Markdown, the same on the page and in the CLI."""
    return (
        f"Some columns are constant or a combination of others ({', '.join(names)}): many layers fit equally well, "
        "and SGD ends at the smallest such fit plus the part of its start those columns never move."
    )
