"""What the network must learn, in a learner's words: the lucky number, a hidden rule, a rule with noise, or a
rule one neuron cannot learn.

The four kinds are views of two settings, ``Config.rule`` and ``Config.noise``: ``kind_of`` reads the kind a
Config is, ``choose`` gives the settings of another kind (keeping a rule that fits it), and the example rules
are the ones the page offers. ``headline`` is the first screen's title and sentence, ``target_at`` the value the
layer should answer for one input (the rule at that input, or the lucky number) and ``best_at`` what the best
layer answers there (the least-squares fit of ``lucky5.theory``). Every number comes from ``lucky5.theory``;
plain text, no Markdown. This module knows nothing about a UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from . import theory
from .config import Config
from .narration import floor_text as floor_text  # re-exported: the captions say the floor in the same words
from .narration import number, weights_text
from .rules import parse_rule

LUCKY, HIDDEN, NOISY, NONLINEAR = "lucky", "hidden", "noisy", "nonlinear"
KINDS: dict[str, str] = {
    LUCKY: "The lucky number (the blog post)",
    HIDDEN: "A hidden rule",
    NOISY: "A rule with noise",
    NONLINEAR: "A rule one neuron cannot learn",
}
# The rules the page offers for each kind that has one (the first is the kind's default); any other can be typed.
EXAMPLES: dict[str, tuple[str, ...]] = {
    HIDDEN: ("5 + 3*x1 - 2*x7", "1 + 2*x3 + 2*x4", "2 + 4*x10"),
    NOISY: ("5 + 3*x1 - 2*x7", "1 + 2*x3 + 2*x4"),
    NONLINEAR: ("4 + 2*x1*x2", "5 + x3^2", "2 + 3*x1 - x2*x5"),
}
NOISE = 0.5  # σ of "a rule with noise": the worked example (5 + 3·x₁ − 2·x₇ with σ = 0.5)


def kind_of(config: Config) -> str:
    """The kind ``config`` is: no rule and no noise is the lucky number; noise on any target is a rule with
    noise; a rule with a product or a square is one one neuron cannot learn; any other rule is a hidden rule."""
    rule = config.target_rule
    if config.noise > 0:
        return NOISY
    if rule is None:
        return LUCKY
    return HIDDEN if rule.is_linear else NONLINEAR


def choose(config: Config, kind: str) -> Config:
    """``config`` made of ``kind`` (a key of ``KINDS``): its rule kept when it fits the kind (the lucky number with
    noise fits a rule with noise), else the kind's first example; noise ``NOISE`` for a rule with noise (or the
    noise already set), none otherwise.

    Raises:
        KeyError: ``kind`` is not one of ``KINDS``.
    """
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    if kind == LUCKY:
        return config.replace(rule="", noise=0.0)
    rule = config.target_rule
    if kind == NOISY:  # any rule can carry noise, and so can the lucky number once it has some
        fits = rule is not None or config.noise > 0
    else:
        fits = rule is not None and rule.is_linear == (kind == HIDDEN)
    text = config.rule if fits else EXAMPLES[kind][0]
    noise = (config.noise or NOISE) if kind == NOISY else 0.0
    return config.replace(rule=text, noise=noise)


def target_at(config: Config, x: Sequence[float] | torch.Tensor) -> float:
    """The target for input ``x`` (10,), noise aside: the rule's value there (float64), or the lucky number."""
    rule = config.target_rule
    if rule is None:
        return float(config.target)
    return float(rule.evaluate(torch.as_tensor(x, dtype=torch.float64).reshape(10)))


def best_at(config: Config, x: Sequence[float] | torch.Tensor) -> float:
    """What the layer at ``theory.optimum_for(config)`` answers for input ``x`` (10,): b* + Σ w*ᵢxᵢ (float64)."""
    best = theory.optimum_for(config)
    return float(best.weight @ torch.as_tensor(x, dtype=torch.float64).reshape(10) + best.bias)


@dataclass(frozen=True)
class Headline:
    """The first screen's ``title`` and its one ``sentence`` (Markdown: ** and `…` only; a rule is in a code span,
    so its * never reads as emphasis)."""

    title: str
    sentence: str


def headline(config: Config) -> Headline:
    """What the first screen says the network must learn, and what the best it can do is, from theory."""
    rule = config.target_rule
    if rule is None and config.noise == 0:
        t = number(config.target, 4)
        return Headline(
            f"lucky5: a network learns the number {t}",
            "One `nn.Linear(10, 1)` must answer **the lucky number** from ten random numbers x₁…x₁₀ that carry no "
            f"information: the best it can learn is to ignore them (**w = 0, b = {t}**). Press **Play** and watch.",
        )
    fit = theory.least_squares(config)
    best = f"**{weights_text(fit.weight)}, b = {number(fit.bias)}**"
    target = f"`y = {rule.text}`" if rule is not None else f"the lucky number {number(config.target, 4)}"
    noise = f" plus noise of σ = {number(config.noise)}" if config.noise > 0 else ""
    if rule is None:
        title = f"lucky5: a network learns the number {number(config.target, 4)} through noise"
        told = (
            "One `nn.Linear(10, 1)` sees ten random numbers x₁…x₁₀ that carry no information, and as its answer "
            f"{target}{noise}. The best it can learn is still to ignore them: {best}."
        )
    elif rule.is_linear:
        title = "lucky5: a network figures out a hidden rule"
        told = (
            f"One `nn.Linear(10, 1)` sees ten random numbers x₁…x₁₀ and the answer of a hidden rule, {target}{noise}. "
            f"The rule is itself a layer, so the best it can learn is the rule: {best}."
        )
    else:
        title = "lucky5: a rule one neuron cannot learn"
        told = (
            f"One `nn.Linear(10, 1)` sees ten random numbers x₁…x₁₀ and the answer of the rule {target}{noise}. "
            f"{_capital(rule.beyond_one_neuron)}: the best it can learn is {best}, and a variance of "
            f"**{number(fit.unfit)}** stays that it cannot fit."
        )
    if config.noise > 0:
        told += f" The noise alone leaves σ² = {number(config.noise**2)} no layer can remove."
    return Headline(title, told + " Press **Play** and watch.")


@dataclass(frozen=True)
class WhyWords:
    """The words of the "Why not exactly …?" panel for one run (``theory.why_not_five``): its ``title``, the
    symbols its formulas use (``w``: "w", or "(w − a)" measured from the rule's weights a; ``t``: "t" or "c"),
    ``symbols``: the sentence that defines a and c, said before the formulas use them ("" for the lucky
    number), the ``best`` layer in words, and ``floor``: sentences on what one neuron cannot remove (the part of
    a rule it cannot fit, the noise) and what SGD's jitter adds; empty for the lucky number without noise.
    ``floor_total`` is that floor, U + σ² (0 without one)."""

    title: str
    w: str
    t: str
    symbols: str
    best: str
    floor: tuple[str, ...]
    floor_total: float


def why_words(why: theory.WhyNotFive) -> WhyWords:
    """``WhyWords`` from the panel's numbers (all from ``lucky5.theory``)."""
    weights = torch.tensor(why.optimum_weights, dtype=torch.float64)
    if not why.rule:
        title, w, t = f"Why not exactly {number(why.target, 4)}?", "w", "t"
        best = f"w = {number(why.optimum_weight)}, b = {number(why.optimum_bias)}"
        if float(weights.abs().max()) > 0:
            best = f"every w = {number(why.optimum_weight)}, b = {number(why.optimum_bias)}"
    else:
        title, w, t = "Why not exactly the rule?", "(w − a)", "c"
        best = f"{weights_text(weights)}, b = {number(why.optimum_bias)}"
    symbols = ""
    if why.rule:
        fit = "the rule's own" if why.unfit == 0 else "its least-squares fit, not the rule"
        symbols = (
            f"Here a = (a₁, …, a₁₀) and c are the weights and the bias of the best layer, {best} ({fit}): "
            "every term below is measured from it."
        )
    floor: list[str] = []
    if why.unfit > 0:
        floor.append(
            f"{_capital(parse_rule(why.rule).beyond_one_neuron)} in y = {why.rule}: even its best layer "
            f"({best}) leaves a variance of {number(why.unfit)} it cannot fit. Stacking more linear layers "
            "would not help (layers without a non-linearity between them still compute one weighted sum); a "
            "hidden layer with a non-linearity such as ReLU could learn the product."
        )
    if why.noise_floor > 0:
        floor.append(
            f"The noise on every target adds σ² = {number(why.noise_floor)} that no layer can remove: the "
            "inputs do not tell it."
        )
    if why.jitter is not None and why.jitter > 0:
        floor.append(
            f"And SGD never settles: each step is kicked by a sample the optimum does not fit, so the run "
            f"jitters around it, which costs about {number(why.jitter)} more on average (theory's stationary "
            "value at this learning rate; a smaller rate sits closer)."
        )
    said = floor_text(why.unfit, why.noise_floor)
    if said:
        floor.append(said[0].upper() + said[1:] + ".")
    return WhyWords(title, w, t, symbols, best, tuple(floor), why.unfit + why.noise_floor)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def floor_label(unfit: float, noise_variance: float) -> str:
    """``floor_text`` as a chart names it: "one neuron's floor, 0.278" (with a part one neuron cannot fit), "the
    noise floor σ², 0.25"; "" when there is no floor."""
    if unfit + noise_variance == 0:
        return ""
    name = "one neuron's floor" if unfit > 0 else "the noise floor σ²"
    return f"{name}, {number(unfit + noise_variance)}"
