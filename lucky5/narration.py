"""The lesson in plain words: one caption per animation frame, with this run's numbers and theory's.

What a learner watches, said as it happens: first the *average* answer 0.5·Σw + b gets right, within tens
of epochs (the Hessian's fast direction); then, slowly, the weights shrink toward zero while the bias
climbs to the lucky number (the slow valley, whose time constant ``lucky5.theory`` gives). Every number in
a caption is measured from the ``History`` or computed by ``lucky5.theory`` for its ``Config``; nothing is
typed in by hand, so a caption never contradicts the run it describes: the phases are read off the run
itself (when its average answer got right, whether its weights are shrinking yet, whether it diverged).

Also here: ``near``, the one rule for showing a number close to a reference with enough digits to tell
them apart (4.9999, not 5), used by captions and by the page's headline numbers.

Plain text, no Markdown; no UI, no training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from . import theory
from .engine import History

ABOUT_RIGHT = 0.05  # the average answer counts as right within 5 % of the lucky number (at least ±0.05)
ARRIVED = 0.01  # arrived: the distance to the optimum is below 1 % of the lucky number (at least 0.01)
SHRINKING = 0.98  # the weights count as shrinking once ‖w‖ is 2 % below the largest it has been so far
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float, digits: int = 3, *, zeros: bool = False) -> str:
    """``digits`` significant digits, a real minus sign, and ×10ⁿ instead of e-notation; non-finite spelled out.

    Trailing zeros are dropped (4.9, 100), unless ``zeros``: then exactly ``digits`` digits show (4.90, 100).
    """
    if not math.isfinite(value):
        return str(value)
    text = f"{value:#.{digits}g}".replace(".e", "e").rstrip(".") if zeros else f"{value:.{digits}g}"
    if "e" in text:
        mantissa, power = text.split("e")
        text = f"{mantissa}×10{str(int(power)).translate(_SUPERSCRIPT)}"
    return text.replace("-", "−")


def share_of(ratio: float, what: str) -> str:
    """``ratio`` as a share of ``what``: "92% of the limit", "450% of the limit", and from ten times on, where a
    percentage stops being readable, a plain whole number below a thousand ("about 22 times the limit") and a
    power of ten above ("about 9×10⁵ times the limit")."""
    if ratio < 10:
        return f"{ratio:.0%} of {what}"
    return f"about {round(ratio):,} times {what}" if ratio < 999.5 else f"about {number(ratio, 1)} times {what}"


def weights_text(weight: torch.Tensor, digits: int = 3) -> str:
    """Weights (10,) as "w₁ = 3, w₇ = −2": the non-zero ones only ("every wᵢ = 0" when all are)."""
    shown = [(i, float(v)) for i, v in enumerate(weight.tolist()) if abs(v) > 1e-12]
    if not shown:
        return "every wᵢ = 0"
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    return ", ".join(f"w{str(i + 1).translate(sub)} = {number(v, digits)}" for i, v in shown)


def floor_text(unfit: float, noise_variance: float, numbers: bool = True) -> str:
    """What the floor of the expected loss is made of, in words, plain text ("" when there is none); with
    ``numbers`` False, the words alone (a label beside the number).

    ``unfit`` is the part of a rule one neuron cannot fit (``theory.Fit.unfit``), ``noise_variance`` σ². Only
    the noise binds every model; the unfit part binds one ``nn.Linear(10, 1)`` (stacked linear layers are one
    weighted sum too), not a network with a non-linearity, so the words never say "no model" for it.
    """

    def value(v: float, before: str) -> str:
        return f"{before}{number(v)}" if numbers else ""

    noise = "the noise σ²" + value(noise_variance, " = ")
    if unfit > 0 and noise_variance > 0:
        return (
            f"one neuron's floor{value(unfit + noise_variance, ', ')}: the part of the rule it cannot fit"
            f"{value(unfit, ' (')}{')' if numbers else ''} plus {noise}, which no model removes"
        )
    if unfit > 0:
        return f"one neuron's floor{value(unfit, ', ')}: the part of the rule it cannot fit"
    if noise_variance > 0:
        return f"the floor no model goes below: {noise}"
    return ""


def near(value: float, reference: float, least: int = 3, most: int = 17) -> str:
    """``value`` with the fewest significant digits, at least ``least``, that tell it apart from ``reference``.

    4.99989 next to 5 reads "4.9999", never "5.00"; 1.6897 reads "1.69"; a prediction of 4.9999995 after
    20,000 epochs reads "4.9999995", not "5". Up to ``most`` digits (17 tell any two float64 apart), so only
    the reference itself reads as the reference. Non-finite values are spelled out ("inf", "nan").

    One rule for zeros: every digit counted is shown, trailing zeros too, so a value never shows fewer than
    ``least`` digits: 4.90001 reads "4.90" beside 4.91 and 4.89, and the reference itself "5.00".
    """
    if not math.isfinite(value):
        return str(value)
    for digits in range(least, most + 1):
        shown = f"{value:.{digits}g}"
        if float(shown) != reference or value == reference:
            break
    return number(value, digits, zeros=True)


@dataclass(frozen=True)
class Narration:
    """The captions of one run's frames and the facts they were read from.

    ``captions[i]`` describes ``epochs[i]``; ``about_right_at`` is the first epoch whose average answer is
    within ``ABOUT_RIGHT`` of the lucky number (None: never); ``time_constant`` the valley's time constant in
    epochs from ``theory.time_constant_for`` (None where theory withholds it).
    """

    epochs: tuple[int, ...]
    captions: tuple[str, ...]
    about_right_at: int | None
    time_constant: float | None


class _Facts:
    """The run's numbers the captions quote, as float64 tensors over every parameter row."""

    def __init__(self, history: History) -> None:
        c = history.config
        self.history = history
        self.rule = c.target_rule
        self.target = theory.least_squares(c).mean_target  # the average target: the lucky number, or E[f(x)]
        self.best = theory.optimum_for(c)
        self.answer = theory.mean_errors(history) + self.target  # 0.5·Σw + b: the layer's average answer
        self.norm = theory.weight_norms(history)
        self.peak = torch.cummax(self.norm, 0)  # the largest ‖w‖ so far, and where
        self.expected = theory.expected_losses(history)
        self.distance = theory.distances_to_optimum(history)
        scale = max(1.0, abs(self.target))
        self.about_right_at = _first_right(self.answer, self.target)
        self.arrived = ARRIVED * scale
        tau, _ = theory.time_constant_for(c, "slow")
        self.tau = tau if tau is not None and math.isfinite(tau) and history.diverged_at is None else None
        # Where SGD cannot settle (noise, a rule one neuron cannot fit), theory's stationary jitter says how close
        # it gets: the run has arrived once it is that close, though never within ``arrived``.
        fit = theory.least_squares(c)
        self.floor = fit.floor
        self.jitter, _ = theory.stationary_excess(c) if fit.floor > 0 else (None, None)

    def there(self, e: int) -> bool:
        """Whether the layer after epoch ``e`` is at the optimum: within ``arrived`` of it, or, where SGD jitters,
        within twice theory's stationary spread of it with its expected loss within three stationary excesses of
        the floor (typical of a run that has settled; the slide before it is far larger)."""
        distance = float(self.distance[e])
        if distance <= self.arrived:
            return True
        j = self.jitter
        if j is None or self.history.diverged_at is not None:
            return False
        excess = float(self.expected[e]) - self.floor
        return distance**2 <= 4 * j.spread and excess <= 3 * j.excess


def about_right_at(history: History) -> int | None:
    """The first epoch at which the average answer 0.5·Σw + b is within ``within(config)`` of the lucky number
    (of the average target, with a rule), or None if it never is: the one moment every view calls "about
    right" (the captions, the story, why the valley term rises first)."""
    target = theory.least_squares(history.config).mean_target
    return _first_right(theory.mean_errors(history) + target, target)


def within(target: float) -> float:
    """How close the average answer must be to ``target`` to count as about right: ``ABOUT_RIGHT`` of it, at
    least ``ABOUT_RIGHT``."""
    return ABOUT_RIGHT * max(1.0, abs(target))


def _first_right(answer: torch.Tensor, target: float) -> int | None:
    right = ((answer - target).abs() <= within(target)).nonzero()
    return int(right[0]) if right.numel() else None


def narrate(history: History, epochs: Sequence[int]) -> Narration:
    """One caption for each of ``epochs`` (parameter rows 0..history.steps), in order.

    Raises ValueError for an epoch outside the run.
    """
    facts = _Facts(history)
    bad = [e for e in epochs if not 0 <= e <= history.steps]
    if bad:
        raise ValueError(f"epochs {bad[:3]} are outside this run's 0..{history.steps}")
    last = epochs[-1] if epochs else None
    captions = tuple(_caption(facts, e) + (_outlook(facts) if e == last else "") for e in epochs)
    return Narration(tuple(epochs), captions, facts.about_right_at, facts.tau)


def _caption(f: _Facts, e: int) -> str:
    t = number(f.target, 4)
    answer, loss = number(float(f.answer[e])), number(float(f.expected[e]))
    diverged = f.history.diverged_at
    if diverged is not None and e > 0 and f.expected[e] > f.expected[0]:
        return (
            f"The steps overshoot: the expected loss has grown from {number(float(f.expected[0]))} to {loss}. "
            f"At epoch {diverged:,} the numbers stop being finite; {theory.divergence_hint(f.history.config)}."
        )
    if e == 0:
        return (
            f"A random start: on average the layer answers 0.5·Σw + b = {answer}, and "
            f"{'the lucky number' if f.rule is None else 'the average target'} is {t}. "
            f"Expected loss {loss}."
        )
    if f.about_right_at is None or e < f.about_right_at:
        return (
            f"The fast part: the average answer 0.5·Σw + b is {answer} and closing in on {t}; "
            f"the expected loss is down to {loss}."
        )
    if f.there(e):
        return _arrived(f, e)
    return _sliding(f, e)


def _arrived(f: _Facts, e: int) -> str:
    b, best_b = float(f.history.biases[e]), f.best.bias
    spread = float(theory.prediction_spread(f.history.weights[e]))
    weights = _weights_at(f).replace(" = ", " ≈ ")
    return (
        f"There: {weights} (‖w‖ = {number(float(f.norm[e]), 2)}) and b = {near(b, best_b)}. The layer has "
        + (
            f"learned that the input does not matter: an input moves its answer by only ±{number(spread, 2)}. "
            if f.rule is None
            else "found the rule. "
            if f.rule.is_linear
            else "found the best one neuron can do, short of the rule. "
        )
        + f"Expected loss {number(float(f.expected[e]), 2)}"
        + (
            "."
            if f.jitter is None or float(f.distance[e]) <= f.arrived
            else f": the floor one neuron cannot go below, {number(f.floor)}, plus SGD's jitter "
            f"(≈ {number(f.jitter.excess)} at this learning rate; a smaller rate sits closer)."
        )
    )


def _sliding(f: _Facts, e: int) -> str:
    assert f.about_right_at is not None
    b, best_b = float(f.history.biases[e]), f.best.bias
    norm, peak, at = float(f.norm[e]), float(f.peak.values[e]), int(f.peak.indices[e])
    # The answer now, then since when it has been right: one sentence never reads 4.79 as "right" for 5.
    head = (
        f"The average answer is now {near(float(f.answer[e]), f.target)} "
        f"(within {number(within(f.target), 2)} of {number(f.target, 4)} since epoch {f.about_right_at:,})."
    )
    if norm < SHRINKING * peak:
        toward = "climbs" if b < best_b else "falls"
        verb = "shrink" if float(f.best.weight.abs().max()) == 0 else "move"
        slow = (
            f" Now the slow part: the weights first grew to ‖w‖ = {number(peak)} by epoch {at:,} while b caught "
            f"up too slowly; since then they {verb} toward {_weights_at(f)} (‖w‖ = {number(norm)} now) and b "
            f"{toward} toward {number(best_b, 4)} (b = {near(b, best_b)})."
        )
    else:
        slow = (
            f" But the answer still depends on the input: ‖w‖ = {number(norm)}, b = {near(b, best_b)}; "
            f"the best is {_weights_at(f)}, b = {number(best_b, 4)}."
        )
    # A factor e: what is left shrinks to 1/e ≈ 37 %, by about two-thirds, in one time constant.
    tau = (
        f" Theory: every ≈ {f.tau:,.0f} epochs only about a third of what is left of that slide remains."
        if f.tau
        else ""
    )
    return head + slow + tau


def _weights_at(f: _Facts) -> str:
    """Where the weights head: "w = 0", or with weight decay "every w = 0.472"."""
    w = float(f.best.weight[0])
    if f.rule is not None:
        return weights_text(f.best.weight)
    return "w = 0" if float(f.best.weight.abs().max()) == 0 else f"every w = {number(w)}"


def _outlook(f: _Facts) -> str:
    """The last frame's second thought: how far the run got, and what more epochs would do."""
    h = f.history
    if h.diverged_at is not None or f.there(h.steps):
        return ""
    if f.tau is None:
        return f" After {h.steps:,} epochs it is not there yet."
    return (
        f" After {h.steps:,} epochs, {h.steps / f.tau:.2g} time constants, it is not there yet: "
        "20,000 epochs get there."
        if h.steps < 20_000
        else f" After {h.steps:,} epochs, {h.steps / f.tau:.2g} time constants, it is not there yet."
    )
