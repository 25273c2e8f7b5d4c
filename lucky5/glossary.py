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
    _t(
        "Σ wᵢxᵢ + b",
        "What the neuron computes: each input times its weight, the ten products added up (Σ means add up), plus b.",
        "b + Σ wᵢxᵢ",
        "Σ wᵢ·xᵢ",
        "b + Σ wᵢ·xᵢ",
    ),
    _t(
        "lucky number",
        "The number the layer must learn to answer, whatever its input: the target t (for a hidden rule the target "
        "is the rule's value, which depends on the input).",
        "target",
        "t",
    ),
    _t(
        "x₁…x₁₀",
        "The ten inputs: fresh random numbers between 0 and 1 at every epoch; unrelated to a lucky number, "
        "while a hidden rule is computed from some of them.",
        "x",
    ),
    _t(
        "U(0, 1)",
        "Random and uniform between 0 and 1: every number from 0 to 1 equally likely; x ~ U(0, 1)^10 reads "
        '"x is drawn as ten such numbers".',
        "uniform",
        "x ~ U(0, 1)^10",
        "x ~ U(0,1)^10",
        "U(0,1)",
        "U(0, 1)^10",
        "U(0,1)^10",
    ),
    _t("weights", "The ten numbers w₁…w₁₀ the layer multiplies its inputs by.", "w", "w₁…w₁₀", "wᵢ"),
    _t("bias", "The number b the layer adds to every answer, whatever the input.", "b"),
    _t("prediction", "ŷ, the network's prediction: what the layer answers for an input, b + w₁x₁ + … + w₁₀x₁₀.", "ŷ"),
    _t(
        "prediction for your input",
        "The layer's answer for the ten numbers under Your input; it differs from the average answer while the "
        "weights are not 0.",
    ),
    _t(
        "optimum",
        "The best layer: w = 0 and b = the lucky number, which ignores the input (weight decay moves it a little); "
        "for a rule, its least-squares fit.",
        "best layer",
        "w = 0",
    ),
    _t(
        "epoch",
        "Here, as in the blog post, one step on one fresh batch of random inputs (the numbers move once); "
        "elsewhere an epoch is a pass over a whole data set.",
    ),
    _t(
        "batch size",
        "How many random inputs one epoch averages its loss over (the blog post used 1).",
        "batch",
        "batch_size",
    ),
    _t("seed", "The number that fixes every random draw of a run: the starting weights and every input."),
    _t(
        "torch.Generator",
        "PyTorch's source of random numbers: started from the seed, it gives the same draws every time, so a run "
        "repeats exactly.",
    ),
    _t(
        "initialisation",
        "The layer's starting weights and bias, drawn at random (from the seed) before the first epoch.",
        "initialization",
    ),
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
    _t(
        "loss",
        "How wrong one answer is: (prediction − target)², averaged over the epoch's batch; the target is the lucky "
        "number, or the rule's value.",
    ),
    _t(
        "MSE",
        "Mean squared error: the average of (prediction − target)² over some inputs, so big misses count most; "
        "PyTorch's nn.MSELoss.",
        "mean squared error",
        "nn.MSELoss",
    ),
    _t(
        "log scale",
        "An axis whose every gridline is 10 times the one below (10⁻⁶ = 0.000001, 10⁻² = 0.01, then 1), so tiny "
        "and large losses fit on one chart.",
        "10⁻⁶",
    ),
    _t(
        "expected loss",
        "The loss averaged over every possible input: how wrong the layer is on average, not on one random input.",
        "E[L]",
    ),
    _t("MAE", "Mean absolute error: the average of |prediction − target| over the test inputs."),
    _t(
        "running MSE",
        "The MSE of the test inputs so far; it estimates the expected loss from a few inputs, so it wobbles around it.",
        "running MAE",
    ),
    _t(
        "θ",
        "Theta, short for all 11 numbers the layer learns at once: the ten weights and the bias, θ = [w, b].",
        "parameters",
    ),
    _t(
        "forward pass",
        "Computing the prediction from the input, model(x): each weight times its input, plus b.",
        "model(x)",
    ),
    _t(
        "gradient",
        "How much the loss changes when a number changes a little: ∂L/∂w (∂: a small change of) for a weight w, "
        "∂L/∂b for the bias.",
        "∂L/∂θ",
        "∂L/∂w",
        "∂L/∂wᵢ",
        "∂L/∂b",
    ),
    _t(
        ".grad",
        "Where PyTorch keeps a number's gradient once loss.backward() has run: w.grad for the weights, b.grad for "
        "the bias.",
    ),
    _t(
        "loss.backward()",
        "The PyTorch call that computes the gradient of the loss for every weight and the bias and stores it in "
        "their .grad.",
    ),
    _t(
        "chain rule",
        "The rule for the slope of a function of a function: the outer slope times the inner one; here ∂L/∂ŷ "
        "times ∂ŷ/∂w.",
    ),
    _t(
        "optimizer.step()",
        "The PyTorch call that then moves every weight and the bias once, by the optimizer's rule, from the "
        "gradients in .grad.",
    ),
    _t("Δθ", "Delta theta, the change in θ: each of the 11 numbers after the epoch's step minus before it."),
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
        "1/12 is the variance of a random input between 0 and 1: the average of (x − 0.5)², how far it strays from "
        "0.5. So each weight w costs w²/12.",
        "‖w‖²/12",
    ),
    _t(
        "variance",
        "How much numbers stray around their average: the average of (number − average)². 0: they never move.",
    ),
    _t("Σw", "The sum of the ten weights, w₁ + … + w₁₀: an average input (every x = 0.5) adds 0.5·Σw to the answer."),
    _t(
        "average answer",
        "0.5·Σw + b: the answer for an average input (every x = 0.5), its answer averaged over all inputs.",
        "0.5·Σw + b",
        "average prediction",
    ),
    _t(
        "fast error",
        "The first part of the expected loss: the average answer's miss, squared; training removes it in "
        "tens of epochs.",
        "average miss",
    ),
    _t(
        "valley term",
        "The second part, (Σw)²/120: loss left while the weights' sum Σw is not 0; only the slow slide removes it.",
    ),
    _t(
        "/120",
        "120 = 10 × 12: ten equal weights, each Σw/10, cost 10 × (Σw/10)²/12 = (Σw)²/120 of loss.",
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
        "Third part of the expected loss: how much the ten weights (for a rule, their distances w − a from its "
        "best) differ from each other; 0 if all equal.",
        "weights' disagreement",
        "‖w − mean(w)‖²/12",
        "‖w − mean w‖²/12",
    ),
    _t(
        "valley",
        "A long, thin ditch in the loss where the average answer is right but the weights are not yet at their best "
        "(0, or a rule's): training follows it slowly.",
    ),
    _t(
        "u = Σw/√10",
        "Across the valley picture: the weights' sum Σw, divided by √10 ≈ 3.16 so that across and up use one scale.",
        "u",
        "Σw/√10",
    ),
    _t(
        "contour lines ×10 apart",
        "Lines of equal expected loss, like height lines on a map, cut off by the picture: one line out from the "
        "star, 10 times the loss.",
        "contour lines",
        "contours",
        "equal loss",
    ),
    _t(
        "eigenvalue",
        "How sharply the loss bends along one direction (one way of changing the 11 numbers); sharp: "
        "training moves fast.",
        "eigenvalues",
        "Hessian",
        "curvature",
    ),
    _t(
        "1/6",
        "The bend (eigenvalue) where the weights differ but their sum stays: 2 × 1/12, gentle, so the "
        "disagreement fades slowly.",
        "eigenvalue 1/6",
    ),
    _t(
        "time constant",
        "Epochs until only about a third (by e) is left of the slide along the valley: it shrinks by about two-thirds.",
    ),
    _t(
        "by e",
        "Divided by e ≈ 2.718, a constant of maths like π: about a third (37 %) of what there was is left.",
        "factor e",
    ),
    _t(
        "stability limit",
        "The largest learning rate that does not blow up: SGD still settles; above it the steps overshoot and "
        "grow without end.",
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
        "τ (tau), the setting Dampening: the share of each new gradient SGD's momentum memory ignores; 0 ignores none.",
        "τ",
    ),
    _t(
        "momentum buffer",
        "buf, SGD's memory of past gradients: each epoch it keeps μ × its old value, adds the new gradient, "
        "and steps by it.",
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
    _t(
        "weight decay",
        "λ (lambda), a pull of every weight toward 0 at each epoch: λ times the weight is added to its gradient, "
        "so big weights shrink most.",
        "λ",
    ),
    _t(
        "ε",
        "Epsilon, a tiny number (10⁻⁸ unless set) added to what Adam or RMSprop divides by, so it never divides by 0.",
        "eps",
    ),
    _t(
        "α",
        "Alpha, RMSprop's setting: how much of its old average of squared gradients v each epoch keeps.",
        "alpha",
    ),
    _t(
        "η",
        "Eta, Adagrad's learning-rate decay: its step size lr / (1 + (t − 1)·η) shrinks as the epochs go by.",
        "lr_t",
        "lr_decay",
    ),
    _t(
        "β₁ᵗ",
        "β₁ multiplied by itself t times, where t counts the optimizer's steps so far (there t is not the target).",
        "β₂ᵗ",
        "t − 1",
    ),
    _t("√", "The square root: √9 = 3, the number that, times itself, gives what stands under the sign."),
    _t(
        "←",
        "Becomes: the name on the left takes the value worked out on the right (an update, not an equation).",
    ),
    _t(
        "→",
        "Becomes or goes to: the value before the arrow turns into, or heads for, the one after it.",
    ),
    _t(
        "|ŷ − t|",
        "The prediction's miss without its sign: how far ŷ is from the target t, on whichever side.",
    ),
    _t(
        "Nesterov",
        "A variant of momentum: the gradient is taken where the momentum is about to carry the numbers, a look "
        "ahead that overshoots less.",
    ),
    _t(
        "noise",
        "A random amount added to each target, so one input never gives quite the same answer twice; σ is its "
        "typical size, σ² its square (the noise's variance).",
        "σ",
        "σ²",
    ),
    _t(
        "distance to optimum",
        "How far the layer's 11 numbers are in a straight line from the optimum's (w = 0, b = lucky number, or a "
        "rule's fit); 0: it is the best layer.",
        "distance to the optimum",
    ),
    _t(
        "least-squares fit",
        "For a rule: the layer with the smallest average squared miss over all inputs, the best one neuron can do "
        "when it cannot follow the rule.",
        "least-squares",
    ),
    _t(
        "|weight|",
        "A weight's size without its sign: |−0.3| = 0.3. In the drawing a thicker line is a weight further from 0.",
        "|w|",
        "|wᵢ|",
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


# What a reader cannot read without being told: a maths sign, an arrow, a Greek letter, a division by a number (/120)
# or a power (^10). Plain words are not searched for; every such sign on the page must sit inside a term's spelling.
_SYMBOL = re.compile(r"[ΣΔθτμσ∂‖√ŷ∇←→λεαβη]|/\d+|\^\d+")


def unexplained(text: str) -> list[str]:
    """The signs in ``text`` (``_SYMBOL``: Σ, ‖, √, θ, /120, ^10, ...) that no term's spelling covers there, each
    with a few characters around it: what a reader would meet with no meaning to look up ([] when every sign
    has one)."""
    covered = bytearray(len(text))
    for _term, pattern in _SEARCHED:
        for found in pattern.finditer(text):
            covered[found.start() : found.end()] = b"\x01" * (found.end() - found.start())
    return [text[max(0, m.start() - 15) : m.end() + 15] for m in _SYMBOL.finditer(text) if not covered[m.start()]]


def explained(texts: Iterable[str]) -> tuple[Term, ...]:
    """The terms ``texts`` use (``terms_in``), then those their meanings use, and so on, until nothing is new: a
    list in which no meaning leans on a word the list does not explain (the optimum's "least-squares fit")."""
    found = list(terms_in(texts))
    for term in found:  # grows while it is read; bounded by the glossary's size
        found += [t for t in terms_in([term.meaning]) if t not in found]
    return tuple(found)


def lines(terms: Iterable[Term]) -> list[str]:
    """``"name: meaning"`` per term: the words section of the command line and the offline file."""
    return [f"{t.name}: {t.meaning}" for t in terms]
