"""This run's story in plain words: what happened, with its own numbers, told once for every view.

The page shows it beside the animation, the offline HTML file (``lucky5.export``) under its chart. Where
``lucky5.narration`` says what one frame shows, this is the whole run looked back on: what the layer had
to learn, where it ended, which part of the expected loss is left and when the average answer got right.
Every number is measured from the ``History`` or computed by ``lucky5.theory``; numbers close to the lucky
number get enough digits to tell them apart from it (``narration.near``). Plain text, no Markdown.
"""

from __future__ import annotations

import torch

from . import task, theory
from .config import Config
from .engine import History
from .narration import about_right_at, near, number, within


def title(config: Config) -> str:
    """The page's title for ``config``: what the network learns (``task.headline``: the lucky number as set,
    "the number 42", or the kind of rule; plain words, never the rule's own * signs)."""
    return task.headline(config).title


def story(history: History, x: torch.Tensor) -> list[str]:
    """The run's story as a few paragraphs (plain text); ``x`` is the input (10,) whose prediction it quotes."""
    c = history.config
    t = number(c.target, 4)
    inputs = "one fresh random input" if c.batch_size == 1 else f"{c.batch_size} fresh random inputs"
    told = (
        [
            f"One nn.Linear(10, 1) was trained for {history.steps:,} epochs to output {t}. Each epoch it saw "
            f"{inputs} x ~ U(0, 1)^10, which say nothing about {t}.",
            f"So the best layer ignores its input: w = 0 and b = {t}. Averaged over inputs, the loss of any "
            f"layer is (0.5·Σw + b − {t})² + ‖w‖²/12, and only that layer makes it 0.",
        ]
        if c.target_rule is None
        else _rule_story(c, inputs)
    )
    if c.noise > 0:
        told.append(
            f"Every target carried Gaussian noise of σ = {number(c.noise)}, so no layer's expected loss goes below "
            f"σ² = {number(c.noise**2)}, and SGD, kicked by the noise at every step, jitters around the optimum."
        )
    if history.diverged_at is not None:
        told.append(
            f"This run diverged at epoch {history.diverged_at:,}: its numbers grew past what float32 can hold and "
            "training stopped. The ✕ in the valley marks where its path left the view; a smaller learning "
            "rate keeps it inside."
        )
        return told
    all_terms = theory.loss_terms(history)
    terms = all_terms[-1].tolist()
    names = ("the fast error", "the valley term", "the disagreement")
    meaning = (
        "the average prediction is still off the target",
        "Σw still stands in for part of b: the run is in the valley, short of "
        + ("w = 0" if c.target_rule is None else "the optimum"),
        "the weights still differ from each other"
        if c.target_rule is None
        else "the weights' distances from the rule's best weights (w − a) still differ from each other",
    )
    top = max(range(3), key=lambda i: terms[i])
    layer = history.trained
    pred = float(layer.predict(x))
    fit = theory.least_squares(c)
    above = "above the floor " if fit.floor > 0 else ""
    told.append(
        f"After {history.steps:,} epochs b = {near(layer.bias, fit.bias, 4)} and the prediction for your input "
        f"is {near(pred, c.target, 4) if c.target_rule is None else number(pred)}. The expected loss left "
        f"{above}is {number(sum(terms))}: fast error "
        f"{number(terms[0])}, valley {number(terms[1])}, disagreement {number(terms[2])}. The largest is "
        f"{names[top]}: {meaning[top]}."
    )
    # Measured, not promised: the moment the captions call "about right" too (narration.about_right_at).
    k = about_right_at(history)
    if k is not None:
        expected = theory.expected_losses(history)
        told.append(
            f"Press Play and watch the valley: by epoch {k:,} the average prediction was within "
            f"{_within(c)} of {'the average target' if c.target_rule is not None else t}, nearly right (the run "
            "was near the dashed green line, where it is exactly right). From there to "
            f"epoch {history.steps:,} the expected loss went from {number(float(expected[k]))} to "
            f"{number(float(expected[-1]))}, along the long, thin valley toward the star at "
            + (f"(0, {t})." if c.target_rule is None else "the optimum.")
        )
    return told


RISE = 10.0  # the valley term counts as rising early when it is at least this many times its start


def _within(config: Config) -> str:
    """How close "about right" is for ``config``'s average target, as the captions write it."""
    return number(within(theory.least_squares(config).mean_target), 2)


def valley_rise(history: History) -> str | None:
    """Why the valley term first rises, in plain words with this run's numbers; None if it does not rise.

    At the start Σw is near 0, so the valley term (Σw)²/120 is tiny. Fixing the average answer
    0.5·Σw + b pushes b and, on average, every weight the same way (each input is 0.5 on average): Σw
    grows, and the valley term with it, until the average answer is about right (``about_right_at``);
    then the slow slide along the valley trades Σw back for b. The rise counts when the term has grown to
    at least ``RISE`` times its start by then; a diverged run has no such story (its numbers only grow).
    """
    if history.diverged_at is not None or history.config.target_rule is not None:
        return None  # a rule's valley is another story (its optimum is not w = 0)
    terms = theory.loss_terms(history)
    k = about_right_at(history)
    valley = terms[:, 1]
    if not k or float(valley[k]) < RISE * float(valley[0]):
        return None
    sums = history.weights.double().sum(-1)
    return (
        f"Why the valley term first rises: it starts tiny ({number(float(valley[0]))}; the ten random starting "
        f"weights nearly cancel, Σw = {number(float(sums[0]), 2)}). To fix the average answer 0.5·Σw + b fast, "
        "every epoch pushes b and, on average, each weight the same way (an input is 0.5 on average), so Σw "
        f"grows along with b: by epoch {k:,}, when the average answer is within {_within(history.config)} of "
        f"{number(history.config.target, 4)}, Σw = "
        f"{number(float(sums[k]), 2)} and the valley term is {number(float(valley[k]))}. From there the slow "
        "slide along the valley trades Σw back for b, jostled by each epoch's random input: by epoch "
        f"{history.steps:,} it is {number(float(valley[-1]))}."
    )


def _rule_story(config: Config, inputs: str) -> list[str]:
    """The story's opening for a rule: what the best layer is, from ``theory.least_squares``."""
    rule = config.target_rule
    assert rule is not None
    fit = theory.least_squares(config)
    opening = (
        f"One nn.Linear(10, 1) was trained on the rule y = {rule.text}. Each epoch it saw {inputs} "
        "x ~ U(0, 1)^10 and the rule's value at each of them."
    )
    if rule.is_linear:
        best = (
            "The rule is itself a layer, so the best layer is the rule: its coefficients as the weights and its "
            f"constant as the bias (b = {number(fit.bias)}). The network figures out the function from the data."
        )
    else:
        weights = ", ".join(number(w) for w in fit.weight.tolist())
        best = (
            f"{rule.beyond_one_neuron[:1].upper()}{rule.beyond_one_neuron[1:]}. The best it can do is the "
            f"least-squares fit, w = [{weights}] and b = {number(fit.bias)}, which leaves a variance of "
            f"{number(fit.unfit)} it cannot fit: the loss no amount of training removes, and the reason for more "
            "layers."
        )
    return [opening, best]
