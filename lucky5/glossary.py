"""What each term lucky5 shows means, in one plain line: one table for the page, the command line and the offline file.

A learner meets ‖w‖, Σw, "the valley" or "time constant" before anyone has said what they are. Each
``Term`` gives the name as the page writes it, the other spellings that count as the same term
(``aliases``), and its meaning in one line of plain words, for a reader who knows school algebra and
nothing about machine learning. The page shows a meaning where the term first appears (a tooltip or a
popover); ``lucky5.export`` lists the terms its offline file uses; ``python -m lucky5 --words`` prints
them. ``terms_in`` finds the terms a text uses, so every view explains exactly the words it shows.

Meanings are the page's own text (Markdown-free, no outside input). ``tests/test_glossary.py`` checks
that every term the page, the scenes and the charts use has a meaning here, each meaning one short line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One entry: ``name`` as shown (str), other spellings of it (``aliases``), and ``meaning`` (one line)."""

    name: str
    meaning: str
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _t(name: str, meaning: str, *aliases: str) -> Term:
    return Term(name, meaning, aliases)


# In the order a learner meets them: the model, training, the loss and its parts, the valley, the optimizers.
TERMS: tuple[Term, ...] = (
    _t(
        "nn.Linear(10, 1)",
        "PyTorch's smallest layer: ten weights and one bias, answering b + w₁x₁ + … + w₁₀x₁₀.",
        "neuron",
    ),
    _t("lucky number", "The number the layer must learn to answer, whatever its input: the target t.", "target", "t"),
    _t("x₁…x₁₀", "The ten inputs: fresh random numbers between 0 and 1 at every epoch, unrelated to the target.", "x"),
    _t(
        "U(0, 1)",
        "Uniform between 0 and 1: any number from 0 to 1 equally likely; x ~ U(0, 1)^10 draws ten of them.",
        "uniform",
    ),
    _t("weights", "The ten numbers w₁…w₁₀ the layer multiplies its inputs by.", "w", "w₁…w₁₀", "wᵢ"),
    _t("bias", "The number b the layer adds to every answer, whatever the input.", "b"),
    _t("prediction", "What the layer answers for an input: b + w₁x₁ + … + w₁₀x₁₀.", "ŷ"),
    _t(
        "optimum",
        "The best layer: w = 0 and b = the lucky number, which ignores the input (weight decay moves it a little); "
        "for a rule, its least-squares fit.",
        "best layer",
        "w = 0",
    ),
    _t("epoch", "One training step: the layer sees a fresh batch of random inputs and moves its numbers once."),
    _t("batch size", "How many random inputs one epoch averages its loss over (the blog post used 1).", "batch"),
    _t("seed", "The number that fixes every random draw of a run: the starting weights and every input."),
    _t(
        "checkpoint",
        "A file holding a trained layer's numbers (its weights and bias) to load again: numbers only, never code.",
    ),
    _t(
        ".safetensors",
        "The kind of file a checkpoint is here: a short list of names and shapes, then the raw numbers; "
        "opening one never runs code.",
        "safetensors",
    ),
    _t(
        "torchmetrics",
        "The PyTorch add-on library the blog post measured its errors with (MSE and MAE); lucky5 uses it the same way.",
    ),
    _t(
        "run fingerprint",
        "A 12-character code (0–9, a–f) computed from the trained weights and bias: same settings, same "
        "fingerprint, on any machine.",
        "fingerprint",
    ),
    _t("hex digits", "Base-16 digits, 0–9 and a–f: a short code to compare by eye, not a number to read.", "hex"),
    _t(
        "float32",
        "The 32-bit numbers PyTorch computes with: about 7 significant digits, none beyond about 3.4×10³⁸.",
        "F32",
    ),
    _t("loss", "How wrong one answer is: (prediction − lucky number)², averaged over the epoch's batch.", "MSE"),
    _t(
        "expected loss",
        "The loss averaged over every possible input: how wrong the layer is on average, not on one random input.",
        "E[L]",
    ),
    _t("MAE", "Mean absolute error: the average of |prediction − lucky number| over the test inputs."),
    _t(
        "running MSE",
        "The MSE over every test input so far, as the blog post's metric objects kept counting it.",
        "running MAE",
    ),
    _t(
        "θ",
        "All 11 numbers the layer learns, w and b together: θ = [w, b]. The b row has x = 1: b is multiplied by a "
        "constant 1.",
        "parameters",
    ),
    _t(
        "forward pass",
        "Computing the prediction from the input, model(x): each weight times its input, plus b.",
        "model(x)",
    ),
    _t(
        "gradient",
        "How much the loss changes when a number changes a little: ∂L/∂w for a weight w, ∂L/∂b for the bias.",
        "∂L/∂θ",
        ".grad",
        "∂L/∂w",
        "∂L/∂wᵢ",
        "∂L/∂b",
    ),
    _t(
        "chain rule",
        "How loss.backward() finds the gradient: how the loss changes with ŷ, times how ŷ changes with each number.",
        "loss.backward()",
    ),
    _t("Δθ", "How much one epoch changed each number: θ after the step minus θ before it."),
    _t(
        "learning rate",
        "How far each epoch moves the numbers against the gradient; too large and the steps overshoot and grow.",
        "lr",
    ),
    _t("optimizer", "The rule that turns a gradient into a change of the weights and bias: SGD, Adam, ..."),
    _t("SGD", "Stochastic gradient descent: each epoch steps against the gradient of that epoch's random batch."),
    _t(
        "Adam",
        "An optimizer that scales each number's step by the size of its recent gradients, so every number moves "
        "at about the same pace.",
        "AdamW",
        "RMSprop",
        "Adagrad",
    ),
    _t("‖w‖", "The size of the weights: √(w₁² + … + w₁₀²). It is 0 only when the layer ignores its input."),
    _t(
        "/12",
        "1/12 is how much a random input between 0 and 1 strays around its average 0.5 (its variance): so each "
        "weight w costs w²/12.",
        "‖w‖²/12",
    ),
    _t("Σw", "The sum of the ten weights, w₁ + … + w₁₀: an average input (every x = 0.5) adds 0.5·Σw to the answer."),
    _t(
        "average answer",
        "0.5·Σw + b: the layer's answer for an average input (every x = 0.5), what it says on average.",
        "0.5·Σw + b",
        "average prediction",
    ),
    _t(
        "fast error",
        "(0.5·Σw + b − t)²: how far the average answer is from the lucky number; training fixes it in tens of epochs.",
        "average miss",
    ),
    _t(
        "valley term",
        "(Σw)²/120: the loss left while the weights still add up to something; only the slow slide removes it.",
    ),
    _t(
        "/120",
        "Ten weights all equal to mean(w) cost 10·mean(w)²/12 by ‖w‖²/12; as mean(w) = Σw/10 that is (Σw)²/120.",
        "(Σw)²/120",
    ),
    _t(
        "mean(w)",
        "The average of the ten weights, Σw/10; w − mean(w) is how far each weight sits from that average.",
        "mean w",
        "mean(w − a)",
    ),
    _t(
        "disagreement",
        "‖w − mean(w)‖²/12: how differently the ten weights treat their inputs; 0 when they are all equal.",
        "weights' disagreement",
    ),
    _t(
        "valley",
        "Where the average answer is right but the weights are not yet 0: a long, thin ditch in the loss, "
        "which training follows slowly to the optimum.",
    ),
    _t(
        "u = Σw/√10",
        "The valley picture's across-axis: how far the weights have moved together (all ten at Σw/10 is a "
        "distance Σw/√10), so the picture's distances are true.",
        "u",
    ),
    _t(
        "contour lines ×10 apart",
        "Lines of equal expected loss, each ten times the next one toward the star: long thin ovals round it, "
        "mostly cut off by the picture.",
        "contour lines",
        "contours",
    ),
    _t(
        "eigenvalue",
        "How steeply the expected loss curves along one direction of the 11 numbers, which sets how fast "
        "training moves there; steep is fast.",
        "eigenvalues",
        "Hessian",
        "curvature",
    ),
    _t(
        "1/6",
        "The eigenvalue of the nine directions that change the weights but not Σw: twice 1/12, gentle, so the "
        "weights' disagreement fades slowly.",
        "eigenvalue 1/6",
    ),
    _t(
        "time constant",
        "How many epochs it takes to shrink what is left of the slide along the valley by a factor e ≈ 2.7.",
    ),
    _t(
        "stability limit",
        "The largest learning rate at which SGD still settles; above it the steps overshoot and grow without end.",
        "limit",
    ),
    _t(
        "diverged",
        "The numbers grew until 32-bit floats could not hold them (infinite or not a number): training stopped there.",
        "diverges",
        "blew up",
        "blow up",
    ),
    _t(
        "momentum",
        "μ, the setting Momentum: how much of its previous step the optimizer keeps on moving with (0.1 in the post).",
        "μ",
    ),
    _t(
        "dampening",
        "τ, the setting Dampening: SGD's buffer takes only (1 − τ) of each new gradient; 0 takes all of it.",
        "τ",
    ),
    _t(
        "momentum buffer",
        "buf, SGD's memory of past gradients: each epoch keeps μ × the old buffer, adds the new gradient, and "
        "steps along the sum.",
        "buf",
        "buffer",
    ),
    _t(
        "Adam's moments",
        "Adam's two running averages: of the gradient (m) and of its square (v); it steps by m/√v.",
        "m",
        "v",
        "m and v",
        "m before",
        "v before",
        "first moment",
        "second moment",
    ),
    _t(
        "betas",
        "Adam's β₁ and β₂: how much of its old averages m and v each epoch keeps (0.9 and 0.999 by default).",
        "β₁",
        "β₂",
    ),
    _t("weight decay", "A pull of every weight toward 0 at every epoch, added to the gradient."),
    _t(
        "noise",
        "A random amount added to each target, so one input never gives quite the same answer twice; σ is its "
        "typical size.",
        "σ",
    ),
    _t(
        "distance to optimum",
        "How far the layer's 11 numbers are in a straight line from the optimum's (w = 0, b = lucky number, or a "
        "rule's fit); 0: it is the best layer.",
        "distance to the optimum",
    ),
)

TERM: dict[str, Term] = {t.name: t for t in TERMS}


def meaning(name: str) -> str:
    """The one-line meaning of the term ``name`` (or one of its aliases).

    Raises:
        KeyError: naming ``name``, if no term is spelled that way.
    """
    for term in TERMS:
        if name in term.spellings:
            return term.meaning
    raise KeyError(f"no glossary term is spelled {name!r}")


def _pattern(spelling: str) -> re.Pattern[str]:
    """A spelling as a whole word: no letter or digit glued to an ASCII end of it ("w = 0" is not in "w = 0.3"),
    a plural allowed after a word ("epochs"); case-insensitive for plain words longer than three letters."""
    word = spelling[-1].isascii() and spelling[-1].isalpha()
    left = r"(?<![^\W_])" if spelling[0].isascii() and spelling[0].isalnum() else ""
    right = r"(?:e?s)?(?![^\W_])" if word else r"(?!\.?\d)(?![^\W_])" if spelling[-1].isalnum() else ""
    flags = re.IGNORECASE if len(spelling) > 3 and spelling.isascii() else 0
    return re.compile(left + re.escape(spelling) + right, flags)


# One-letter names (b, w, t, m, v, x, u) are too common in running text to be searched for: they count only
# where the page names them itself, not in terms_in.
_SEARCHED = tuple(
    (term, _pattern(s)) for term in TERMS for s in term.spellings if not (len(s) == 1 and s.isascii() and s.isalpha())
)


def terms_in(texts: Iterable[str]) -> tuple[Term, ...]:
    """The terms that ``texts`` use (by name or alias, as whole words), in the order they first appear."""
    return _terms_in(tuple(texts))


# The page asks again on every rerun with the same texts (a run's frame captions among them): remembered.
@functools.lru_cache(maxsize=256)
def _terms_in(texts: tuple[str, ...]) -> tuple[Term, ...]:
    first: dict[str, tuple[int, int]] = {}
    for i, text in enumerate(texts):
        for term, pattern in _SEARCHED:
            found = pattern.search(text)
            if found and (term.name not in first or (i, found.start()) < first[term.name]):
                first[term.name] = (i, found.start())
    return tuple(TERM[name] for name in sorted(first, key=first.__getitem__))


def lines(terms: Iterable[Term]) -> list[str]:
    """``"name: meaning"`` per term: the words section of the command line and the offline file."""
    return [f"{t.name}: {t.meaning}" for t in terms]
